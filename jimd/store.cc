// The SQLite store: opening, schema migrations, pragmas, the prepared statements,
// transactions and the WAL (store.hh). The queries are in store_accounts.cc and
// store_messages.cc.
#include "store.hh"

#include "store_sql.hh"
#include "wal_vfs.hh"

#include <ctime>
#include <string>
#include <sys/stat.h>

namespace jimd {

namespace {

// Schema versions, applied in order; PRAGMA user_version says how many are in.
const char *const kMigrations[] = {
    // 1: accounts, logins, contacts, rooms, members, the message log and its side tables.
    // The message log has no secondary index that every insert must update: `pending`
    // gets a row only for a direct message whose recipient was offline, and
    // `by_recipient` is filled in bulk by the master, behind the log, up to meta.indexed,
    // with one row per recipient per step so that indexing costs little per message.
    "CREATE TABLE users ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  info TEXT NOT NULL DEFAULT '',"
    "  pwhash TEXT NOT NULL DEFAULT '',"
    "  role TEXT NOT NULL DEFAULT 'user',"
    "  banned INTEGER NOT NULL DEFAULT 0,"
    "  created INTEGER NOT NULL,"
    "  pubkey TEXT);"
    "CREATE TABLE logins ("
    "  id INTEGER PRIMARY KEY,"
    "  user_id INTEGER NOT NULL REFERENCES users(id),"
    "  time INTEGER NOT NULL,"
    "  ip TEXT NOT NULL);"
    "CREATE INDEX logins_user ON logins(user_id, time);"
    "CREATE TABLE contacts ("
    "  owner INTEGER NOT NULL REFERENCES users(id),"
    "  contact INTEGER NOT NULL REFERENCES users(id),"
    "  PRIMARY KEY (owner, contact)) WITHOUT ROWID;"
    "CREATE INDEX contacts_contact ON contacts(contact);"
    "CREATE TABLE rooms ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  owner INTEGER REFERENCES users(id),"
    "  created INTEGER NOT NULL);"
    "CREATE TABLE members ("
    "  room INTEGER NOT NULL REFERENCES rooms(id),"
    "  user INTEGER NOT NULL REFERENCES users(id),"
    "  since_seq INTEGER NOT NULL,"
    "  PRIMARY KEY (room, user)) WITHOUT ROWID;"
    "CREATE INDEX members_user ON members(user);"
    "CREATE TABLE messages ("
    "  seq INTEGER PRIMARY KEY," // never deleted, so max+1 is never reused
    "  time INTEGER NOT NULL,"
    "  sender TEXT NOT NULL,"
    "  recipient TEXT NOT NULL,"
    "  encoding TEXT NOT NULL DEFAULT '',"
    "  body TEXT NOT NULL,"
    "  client_id TEXT);"
    "CREATE UNIQUE INDEX messages_dedup ON messages(sender, client_id)"
    "  WHERE client_id IS NOT NULL;"
    "CREATE TABLE pending ("
    "  user TEXT NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  PRIMARY KEY (user, seq)) WITHOUT ROWID;"
    "CREATE TABLE by_recipient ("  // one row per recipient per indexing step:
    "  recipient TEXT NOT NULL,"   // the seqs of that step's messages to it, as
    "  last_seq INTEGER NOT NULL," // little-endian 64-bit integers, ascending
    "  seqs BLOB NOT NULL,"
    "  PRIMARY KEY (recipient, last_seq)) WITHOUT ROWID;"
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT INTO meta VALUES ('indexed', 0);",
    // 2: rooms a user created lately are counted for the creation limit.
    "CREATE INDEX rooms_owner ON rooms(owner, created);",
    // 3: an account is in the general chat from its creation: sync brings what came after.
    "ALTER TABLE users ADD COLUMN general_since INTEGER NOT NULL DEFAULT 0;",
    // 4: events counted against rate limits on every worker (failed log-ins, registrations).
    ("CREATE TABLE events (key TEXT NOT NULL, time INTEGER NOT NULL);"
     "CREATE INDEX events_key ON events(key, time);"),
    // 5: the log stores a commit's messages together, one row per commit (batch_format.hh:
    // their seqs are first_seq..last_seq), so a commit costs a few B-tree writes however
    // many messages it holds. `ids` de-duplicates resends by (sender, client id): a row
    // only for a message that has an id. convert_messages() then moves the old rows into
    // batches and replaces the table by a view of the same name and columns.
    ("CREATE TABLE batches ("
     "  last_seq INTEGER PRIMARY KEY," // never deleted, so max+1 is never reused
     "  first_seq INTEGER NOT NULL,"
     "  data TEXT NOT NULL);"
     "CREATE TABLE ids ("
     "  sender TEXT NOT NULL,"
     "  client_id TEXT NOT NULL,"
     "  seq INTEGER NOT NULL,"
     "  PRIMARY KEY (sender, client_id)) WITHOUT ROWID;"
     "INSERT INTO ids SELECT sender, client_id, seq FROM messages WHERE client_id IS NOT NULL;"),
    // 6: the messages each account sent, for admin_users: counted by the master's indexing
    // behind the log (no work per message), and here for what it indexed before.
    ("ALTER TABLE users ADD COLUMN messages_sent INTEGER NOT NULL DEFAULT 0;"
     "UPDATE users SET messages_sent = s.n FROM (SELECT sender, count(*) AS n FROM messages "
     "WHERE seq <= (SELECT value FROM meta WHERE key = 'indexed') GROUP BY sender) AS s "
     "WHERE s.sender = users.name;"),
    // 7: a commit's ids go into one `batch_ids` row (recent_ids.hh) instead of a row of `ids`
    // each (a page written per sender per commit); the upkeep folds them into `ids` in bulk
    // as it indexes, and deletes the rows it folded. `ids` holds every id up to `indexed`.
    "CREATE TABLE batch_ids (last_seq INTEGER PRIMARY KEY, ids BLOB NOT NULL);",
    // 8: a commit's message heads (heads_row.hh: seq, sender, recipient, id) go into one
    // `batch_heads` row beside its batch, instead of its ids into `batch_ids`, so that the
    // upkeep's indexing reads those and never the texts. convert_heads() then writes the
    // heads of the batches not indexed yet, and batch_ids goes.
    "CREATE TABLE batch_heads (last_seq INTEGER PRIMARY KEY, heads BLOB NOT NULL);",
};
constexpr int kSchemaVersion = sizeof kMigrations / sizeof kMigrations[0];
constexpr int kBatchesVersion = 5;
constexpr int kHeadsVersion = 8;
// After migration 5 has moved the rows: the log as a view with the old table's columns, for
// people with the sqlite3 shell and for tests (jimd itself reads the rows: store_messages.cc).
const char kMessagesView[] =
    "DROP INDEX messages_dedup;"
    "DROP TABLE messages;"
    "CREATE VIEW messages(seq, time, sender, recipient, encoding, body, client_id) AS SELECT "
    "json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]'), json_extract(j.value, '$[2]'), "
    "json_extract(j.value, '$[3]'), json_extract(j.value, '$[4]'), json_extract(j.value, '$[5]'), "
    "json_extract(j.value, '$[6]') FROM batches b, json_each(b.data) j;";

int64_t now_us()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t{ts.tv_sec} * 1000000 + ts.tv_nsec / 1000;
}

} // namespace

using namespace sql;

int Store::on_busy(void *arg, int attempt)
{
    auto *self = static_cast<Store *>(arg);
    if (attempt == 0)
        self->busy_since_us_ = now_us();
    if (now_us() - self->busy_since_us_ > int64_t{self->busy_ms_} * 1000)
        return 0; // give up: SQLITE_BUSY
    timespec nap = {0, attempt < 20 ? 20000 : 200000};
    nanosleep(&nap, nullptr);
    return 1;
}

int Store::on_wal_commit(void *arg, sqlite3 *, const char *, int frames)
{
    static_cast<Store *>(arg)->wal_frames_ = frames;
    return SQLITE_OK;
}

Store::~Store()
{
    for (sqlite3_stmt *st : stmts_)
        sqlite3_finalize(st);
    if (db_)
        sqlite3_close(db_);
}

bool Store::fail(const char *what)
{
    error_ = std::string(what) + ": " + (db_ ? sqlite3_errmsg(db_) : "no database");
    return false;
}

bool Store::exec(const char *sql)
{
    char *err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
        error_ = err ? err : sqlite3_errmsg(db_);
        sqlite3_free(err);
        return false;
    }
    return true;
}

sqlite3_stmt *Store::prepare(const char *sql)
{
    sqlite3_stmt *st = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, nullptr) != SQLITE_OK) {
        fail(sql);
        return nullptr;
    }
    stmts_.push_back(st);
    return st;
}

int Store::pragma_int(const char *name, int fallback)
{
    sqlite3_stmt *st = nullptr;
    std::string sql = std::string("PRAGMA ") + name;
    int value = fallback;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        value = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return value;
}

bool Store::has_tables()
{
    sqlite3_stmt *st = nullptr;
    bool any = false;
    if (sqlite3_prepare_v2(db_, "SELECT 1 FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'", -1,
                           &st, nullptr) == SQLITE_OK)
        any = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return any;
}

bool Store::migrate()
{
    if (!exec("BEGIN IMMEDIATE"))
        return false;
    int version = pragma_int("user_version", 0);
    if (version > kSchemaVersion) {
        exec("ROLLBACK");
        error_ = "database schema version " + std::to_string(version) +
                 " is newer than this jimd (" + std::to_string(kSchemaVersion) + ")";
        return false;
    }
    // Version 0 with tables: another program's database, which jimd must not add to.
    if (version == 0 && has_tables()) {
        exec("ROLLBACK");
        error_ = "a SQLite database of another program (it has tables, and no jim schema "
                 "version): jimd adds nothing to it";
        return false;
    }
    for (int v = version; v < kSchemaVersion; v++) {
        if (!exec(kMigrations[v]) ||
            (v + 1 == kBatchesVersion && !(convert_messages() && exec(kMessagesView))) ||
            (v + 1 == kHeadsVersion && !(convert_heads() && exec("DROP TABLE batch_ids;")))) {
            std::string why = error_;
            exec("ROLLBACK");
            error_ = "schema migration " + std::to_string(v + 1) + ": " + why;
            return false;
        }
    }
    std::string set = "PRAGMA user_version = " + std::to_string(kSchemaVersion);
    return exec(set.c_str()) && exec("COMMIT");
}

bool Store::open(const std::string &path, bool sync_full, int busy_ms, std::string *why)
{
    // Once per process, before SQLite initialises: no memory statistics, which jimd never
    // reads and which cost a mutex around every allocation SQLite makes. (If something else
    // initialised SQLite first, this is refused, and nothing else changes.)
    static const int no_memstatus = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    (void)no_memstatus;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    // One write() per WAL frame rather than two (wal_vfs.hh).
    if (sqlite3_open_v2(path.c_str(), &db_, flags, wal_vfs_name()) != SQLITE_OK) {
        *why = path + ": " + (db_ ? sqlite3_errmsg(db_) : "cannot open");
        return false;
    }
    // Waiting for the write lock in short naps: SQLite's own handler sleeps 1, 2, 5, 10 ms
    // and more, far longer than the other writers hold the lock.
    busy_ms_ = busy_ms;
    sqlite3_busy_handler(db_, &Store::on_busy, this);
    sqlite3_extended_result_codes(db_, 1);
    // WAL: readers never block the writer. NORMAL loses nothing on a process crash
    // (the durability jimd promises by default); FULL also survives power loss. The page
    // size counts only for a database not yet created (and must come before WAL).
    bool ok = exec(("PRAGMA page_size = " + std::to_string(kNewPageSize)).c_str()) &&
              exec("PRAGMA journal_mode = WAL") &&
              exec(sync_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL") &&
              exec("PRAGMA foreign_keys = ON") &&
              exec(("PRAGMA journal_size_limit = " + std::to_string(kWalLimit)).c_str()) &&
              exec("PRAGMA wal_autocheckpoint = 0") && migrate();
    if (!ok) {
        *why = path + ": " + error_;
        return false;
    }
    // A WAL frame is a page and a 24-byte header.
    wal_limit_frames_ = static_cast<int>(kWalLimit / (pragma_int("page_size", 4096) + 24)) + 1;
    // Replaces SQLite's own checkpointing hook (off above): the owner decides when.
    sqlite3_wal_hook(db_, &Store::on_wal_commit, this);
    // The file grows 8 MiB at a time, so syncing it after a checkpoint seldom has to
    // record a new size as well.
    int chunk = 8 << 20;
    sqlite3_file_control(db_, "main", SQLITE_FCNTL_CHUNK_SIZE, &chunk);
    if (!prepare_all()) {
        *why = path + ": " + error_;
        return false;
    }
    return true;
}

// Every statement, prepared once in open(). No RETURNING in the inserts: SQLite runs it
// through an ephemeral table, which costs more than the insert itself.
const Store::Statement Store::kStatements[] = {
    {&Store::st_create_user_,
     "INSERT INTO users(name, pwhash, info, created, general_since) "
     "VALUES(?1,?2,?3,?4,(SELECT coalesce(max(last_seq), 0) FROM batches)) "
     "ON CONFLICT(name) DO NOTHING"},
    {&Store::st_get_user_, "SELECT id, name, pwhash, role, banned, general_since FROM users "
                           "WHERE name=?1"},
    {&Store::st_user_count_, "SELECT count(*) FROM users"},
    {&Store::st_events_, "SELECT count(*), min(time) FROM events WHERE key = ?1 AND time > ?2"},
    {&Store::st_add_event_, "INSERT INTO events(key, time) VALUES(?1, ?2)"},
    {&Store::st_forgive_, "DELETE FROM events WHERE rowid = (SELECT rowid FROM events WHERE key = "
                          "?1 ORDER BY time DESC, rowid DESC LIMIT 1)"},
    {&Store::st_prune_events_, "DELETE FROM events WHERE time <= ?1"},
    {&Store::st_login_, "INSERT INTO logins(user_id, time, ip) VALUES(?1, ?2, ?3)"},
    {&Store::st_users_prefix_, "SELECT name FROM users WHERE name >= ?1 AND name > ?2 AND "
                               "substr(name, 1, length(?1)) = ?1 ORDER BY name LIMIT ?3"},
    {&Store::st_contacts_, "SELECT u.name FROM contacts c JOIN users u ON u.id = c.contact "
                           "WHERE c.owner = ?1 ORDER BY u.name"},
    {&Store::st_add_contact_, "INSERT OR IGNORE INTO contacts(owner, contact) "
                              "SELECT ?1, id FROM users WHERE name = ?2"},
    {&Store::st_del_contact_, "DELETE FROM contacts WHERE owner = ?1 AND contact = "
                              "(SELECT id FROM users WHERE name = ?2)"},
    {&Store::st_room_get_, "SELECT id FROM rooms WHERE name = ?1"},
    {&Store::st_room_create_, "INSERT INTO rooms(name, owner, created) VALUES(?1, ?2, ?3)"},
    {&Store::st_join_, "INSERT OR IGNORE INTO members(room, user, since_seq) VALUES(?1, ?2, "
                       "(SELECT coalesce(max(last_seq), 0) FROM batches))"},
    {&Store::st_leave_, "DELETE FROM members WHERE user = ?2 AND room = "
                        "(SELECT id FROM rooms WHERE name = ?1)"},
    {&Store::st_user_rooms_, "SELECT r.name FROM members m JOIN rooms r ON r.id = m.room "
                             "WHERE m.user = ?1 ORDER BY r.name"},
    {&Store::st_rooms_, "SELECT r.name, (SELECT count(*) FROM members m WHERE m.room = r.id) "
                        "FROM rooms r WHERE r.name >= ?1 AND r.name > ?2 AND "
                        "substr(r.name, 1, length(?1)) = ?1 ORDER BY r.name LIMIT ?3"},
    {&Store::st_member_, "SELECT 1 FROM members WHERE room = ?1 AND user = ?2"},
    {&Store::st_memberships_, "SELECT count(*) FROM members WHERE user = ?1"},
    {&Store::st_created_since_, "SELECT count(*) FROM rooms WHERE owner = ?1 AND created > ?2"},
    {&Store::st_begin_, "BEGIN IMMEDIATE"},
    {&Store::st_commit_, "COMMIT"},
    {&Store::st_rollback_, "ROLLBACK"},
    {&Store::st_last_seq_, "SELECT coalesce(max(last_seq), 0) FROM batches"},
    {&Store::st_add_id_, "INSERT INTO ids(sender, client_id, seq) VALUES(?1, ?2, ?3) "
                         "ON CONFLICT DO NOTHING"},
    {&Store::st_add_heads_, "INSERT INTO batch_heads(last_seq, heads) VALUES(?1, ?2)"},
    {&Store::st_heads_, "SELECT last_seq, heads FROM batch_heads WHERE last_seq > ?1 "
                        "ORDER BY last_seq"},
    {&Store::st_drop_heads_, "DELETE FROM batch_heads WHERE last_seq <= ?1"},
    // A batch's text only where it has no heads row (SQLite reads a column only when the
    // CASE asks for it, and so steps into no overflow page of a long text).
    {&Store::st_index_rows_, "SELECT b.last_seq, h.heads, CASE WHEN h.heads IS NULL THEN b.data "
                             "END FROM batches b LEFT JOIN batch_heads h ON h.last_seq = "
                             "b.last_seq WHERE b.last_seq > ?1 ORDER BY b.last_seq"},
    {&Store::st_dup_, "SELECT seq FROM ids WHERE sender = ?1 AND client_id = ?2"},
    {&Store::st_add_batch_, "INSERT INTO batches(last_seq, first_seq, data) VALUES(?1, ?2, ?3)"},
    {&Store::st_batches_, "SELECT first_seq, data FROM batches WHERE last_seq >= ?1 "
                          "ORDER BY last_seq"},
    {&Store::st_batch_at_, "SELECT first_seq, last_seq, data FROM batches WHERE last_seq >= ?1 "
                           "ORDER BY last_seq LIMIT 1"},
    {&Store::st_add_pending_, "INSERT OR IGNORE INTO pending(user, seq) VALUES(?1, ?2)"},
    {&Store::st_clear_pending_, "DELETE FROM pending WHERE user = ?1 AND seq = ?2"},
    {&Store::st_pending_seqs_, "SELECT seq FROM pending WHERE user = ?1 AND seq > ?2 "
                               "ORDER BY seq LIMIT ?3"},
    {&Store::st_room_sinces_, "SELECT r.name, mb.since_seq FROM members mb JOIN rooms r ON "
                              "r.id = mb.room WHERE mb.user = ?1"},
    {&Store::st_chunks_, "SELECT last_seq, seqs FROM by_recipient WHERE recipient IN (?1, ?2) "
                         "ORDER BY last_seq DESC"},
    {&Store::st_indexed_, "SELECT value FROM meta WHERE key = 'indexed'"},
    {&Store::st_add_chunk_, "INSERT OR REPLACE INTO by_recipient(recipient, last_seq, seqs) "
                            "VALUES(?1, ?2, ?3)"},
    {&Store::st_set_indexed_, "UPDATE meta SET value = ?1 WHERE key = 'indexed'"},
};

// Prepares every statement once, for the life of the connection.
bool Store::prepare_all()
{
    for (const Statement &s : kStatements)
        if (!(this->*s.st = prepare(s.sql)))
            return false;
    return true;
}

bool Store::begin()
{
    Reset r{st_begin_};
    return sqlite3_step(st_begin_) == SQLITE_DONE || fail("begin");
}

bool Store::commit()
{
    Reset r{st_commit_};
    if (sqlite3_step(st_commit_) == SQLITE_DONE) {
        recent_own_ = false;
        if (pending_next_ > 0) { // this commit's version, taken before any other read
            next_seq_ = sqlite3_file_control(db_, "main", SQLITE_FCNTL_DATA_VERSION,
                                             &seq_version_) == SQLITE_OK
                            ? pending_next_
                            : 0;
            pending_next_ = 0;
        }
        return true;
    }
    fail("commit");
    rollback();
    return false;
}

void Store::rollback()
{
    cached_last_ = -1;             // the row read may have been this transaction's own
    next_seq_ = pending_next_ = 0; // read again at the next batch
    if (recent_own_)               // it holds this transaction's ids: read in again at the next use
        recent_.clear();
    recent_own_ = false;
    Reset r{st_rollback_};
    if (!sqlite3_get_autocommit(db_))
        sqlite3_step(st_rollback_);
}

bool Store::checkpoint(Checkpoint mode, int *wal_frames, int *copied)
{
    int how = mode == Checkpoint::Passive   ? SQLITE_CHECKPOINT_PASSIVE
              : mode == Checkpoint::Restart ? SQLITE_CHECKPOINT_RESTART
                                            : SQLITE_CHECKPOINT_TRUNCATE;
    int log = -1, done = -1;
    int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, how, &log, &done);
    if (wal_frames)
        *wal_frames = log;
    if (copied)
        *copied = done;
    if (rc != SQLITE_OK && rc != SQLITE_BUSY)
        return fail("checkpoint");
    return true;
}

int64_t Store::wal_bytes() const
{
    return wal_file_bytes(sqlite3_db_filename(db_, "main"));
}

int64_t Store::wal_file_bytes(const std::string &path)
{
    struct stat st;
    return stat((path + "-wal").c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
}

// Through SQLite's own handles: opening and closing the file here would drop the
// process's POSIX locks on it (SQLite's "How To Corrupt", section 2.2).
bool Store::sync_files()
{
    for (int op : {SQLITE_FCNTL_FILE_POINTER, SQLITE_FCNTL_JOURNAL_POINTER}) {
        sqlite3_file *f = nullptr;
        if (sqlite3_file_control(db_, "main", op, &f) != SQLITE_OK || !f || !f->pMethods)
            continue; // no WAL file open (yet): nothing to sync
        if (f->pMethods->xSync(f, SQLITE_SYNC_NORMAL) != SQLITE_OK) {
            error_ = "sync failed";
            return false;
        }
    }
    return true;
}

} // namespace jimd

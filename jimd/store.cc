// The SQLite store: schema migrations, pragmas, and every query jimd runs.
#include "store.hh"

#include <algorithm>
#include <cstring>
#include <ctime>
#include <functional>
#include <map>
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
};
constexpr int kSchemaVersion = sizeof kMigrations / sizeof kMigrations[0];

void bind_text(sqlite3_stmt *st, int i, const std::string &s)
{
    sqlite3_bind_text(st, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
}

std::string column_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? std::string(reinterpret_cast<const char *>(t),
                           static_cast<size_t>(sqlite3_column_bytes(st, i)))
             : std::string();
}

// Resets a statement when the scope ends, whatever path leaves it.
struct Reset {
    sqlite3_stmt *st;
    ~Reset()
    {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
};

// Reads rows of (seq, time, sender, recipient, encoding, body, client_id).
bool read_messages(sqlite3_stmt *st, std::vector<StoredMessage> *out)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        StoredMessage m;
        m.seq = sqlite3_column_int64(st, 0);
        m.time = sqlite3_column_int64(st, 1);
        m.from = column_text(st, 2);
        m.to = column_text(st, 3);
        m.encoding = column_text(st, 4);
        m.text = column_text(st, 5);
        m.client_id = column_text(st, 6);
        out->push_back(std::move(m));
    }
    return rc == SQLITE_DONE;
}

int64_t now_us()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t{ts.tv_sec} * 1000000 + ts.tv_nsec / 1000;
}

const char kMessageColumns[] = "seq, time, sender, recipient, encoding, body, client_id";

} // namespace

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
    for (int v = version; v < kSchemaVersion; v++) {
        if (!exec(kMigrations[v])) {
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
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
        *why = path + ": " + (db_ ? sqlite3_errmsg(db_) : "cannot open");
        return false;
    }
    // Waiting for the write lock in short naps: SQLite's own handler sleeps 1, 2, 5, 10 ms
    // and more, far longer than the other writers hold the lock.
    busy_ms_ = busy_ms;
    sqlite3_busy_handler(db_, &Store::on_busy, this);
    sqlite3_extended_result_codes(db_, 1);
    // WAL: readers never block the writer. NORMAL loses nothing on a process crash
    // (the durability jimd promises by default); FULL also survives power loss.
    bool ok = exec("PRAGMA journal_mode = WAL") &&
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

    // No RETURNING: SQLite runs it through an ephemeral table, which costs more than the
    // insert itself; the rowid and the change count say the same.
    std::string insert = "INSERT INTO messages(time, sender, recipient, encoding, body, "
                         "client_id) VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING";
    // Runs of messages without client ids go many to a statement (see insert_messages): no
    // conflict is possible, so their seqs are consecutive.
    std::string insert_rows[kInsertSizes];
    for (size_t k = 0; k < kInsertSizes; k++) {
        insert_rows[k] = "INSERT INTO messages(time, sender, recipient, encoding, body) VALUES";
        for (size_t i = 0; i < (kInsertRowsMax >> k); i++)
            insert_rows[k] += i ? ",(?,?,?,?,?)" : "(?,?,?,?,?)";
    }
    std::string pending = std::string("SELECT ") + kMessageColumns +
                          " FROM messages WHERE seq IN (SELECT seq FROM pending WHERE user = ?1 "
                          "AND seq > ?2) ORDER BY seq LIMIT ?3";
    std::string sync = std::string("SELECT ") + kMessageColumns +
                       " FROM messages m WHERE seq > ?1 AND (recipient = ?2 OR sender = ?2 OR "
                       "recipient IN (SELECT r.name FROM members mb JOIN rooms r ON r.id = "
                       "mb.room WHERE mb.user = ?3 AND m.seq > mb.since_seq) OR "
                       "(recipient = ?5 AND seq > ?6)) "
                       "ORDER BY seq LIMIT ?4";
    std::string by_seq = std::string("SELECT ") + kMessageColumns + " FROM messages WHERE seq = ?1";
    std::string tail = std::string("SELECT ") + kMessageColumns +
                       " FROM messages WHERE seq > (SELECT value FROM meta WHERE key = "
                       "'indexed') AND seq < ?3 AND recipient IN (?1, ?2) ORDER BY seq DESC";
    struct {
        sqlite3_stmt **st;
        const char *sql;
    } all[] = {
        {&st_create_user_, "INSERT INTO users(name, pwhash, info, created, general_since) "
                           "VALUES(?1,?2,?3,?4,(SELECT coalesce(max(seq), 0) FROM messages)) "
                           "ON CONFLICT(name) DO NOTHING"},
        {&st_get_user_, "SELECT id, name, pwhash, role, banned, general_since FROM users "
                        "WHERE name=?1"},
        {&st_user_count_, "SELECT count(*) FROM users"},
        {&st_events_, "SELECT count(*), min(time) FROM events WHERE key = ?1 AND time > ?2"},
        {&st_add_event_, "INSERT INTO events(key, time) VALUES(?1, ?2)"},
        {&st_forgive_, "DELETE FROM events WHERE rowid = (SELECT rowid FROM events WHERE key = "
                       "?1 ORDER BY time DESC, rowid DESC LIMIT 1)"},
        {&st_prune_events_, "DELETE FROM events WHERE time <= ?1"},
        {&st_login_, "INSERT INTO logins(user_id, time, ip) VALUES(?1, ?2, ?3)"},
        {&st_users_prefix_, "SELECT name FROM users WHERE name >= ?1 AND name > ?2 AND "
                            "substr(name, 1, length(?1)) = ?1 ORDER BY name LIMIT ?3"},
        {&st_contacts_, "SELECT u.name FROM contacts c JOIN users u ON u.id = c.contact "
                        "WHERE c.owner = ?1 ORDER BY u.name"},
        {&st_add_contact_, "INSERT OR IGNORE INTO contacts(owner, contact) "
                           "SELECT ?1, id FROM users WHERE name = ?2"},
        {&st_del_contact_, "DELETE FROM contacts WHERE owner = ?1 AND contact = "
                           "(SELECT id FROM users WHERE name = ?2)"},
        {&st_watchers_, "SELECT o.name FROM contacts c JOIN users o ON o.id = c.owner "
                        "JOIN users u ON u.id = c.contact WHERE u.name = ?1"},
        {&st_room_get_, "SELECT id FROM rooms WHERE name = ?1"},
        {&st_room_create_, "INSERT INTO rooms(name, owner, created) VALUES(?1, ?2, ?3)"},
        {&st_join_, "INSERT OR IGNORE INTO members(room, user, since_seq) VALUES(?1, ?2, "
                    "(SELECT coalesce(max(seq), 0) FROM messages))"},
        {&st_leave_, "DELETE FROM members WHERE user = ?2 AND room = "
                     "(SELECT id FROM rooms WHERE name = ?1)"},
        {&st_user_rooms_, "SELECT r.name FROM members m JOIN rooms r ON r.id = m.room "
                          "WHERE m.user = ?1 ORDER BY r.name"},
        {&st_rooms_, "SELECT r.name, (SELECT count(*) FROM members m WHERE m.room = r.id) "
                     "FROM rooms r WHERE r.name >= ?1 AND r.name > ?2 AND "
                     "substr(r.name, 1, length(?1)) = ?1 ORDER BY r.name LIMIT ?3"},
        {&st_member_, "SELECT 1 FROM members WHERE room = ?1 AND user = ?2"},
        {&st_memberships_, "SELECT count(*) FROM members WHERE user = ?1"},
        {&st_created_since_, "SELECT count(*) FROM rooms WHERE owner = ?1 AND created > ?2"},
        {&st_begin_, "BEGIN IMMEDIATE"},
        {&st_commit_, "COMMIT"},
        {&st_rollback_, "ROLLBACK"},
        {&st_insert_, insert.c_str()},
        {&st_dup_, "SELECT seq FROM messages WHERE sender = ?1 AND client_id = ?2"},
        {&st_add_pending_, "INSERT OR IGNORE INTO pending(user, seq) VALUES(?1, ?2)"},
        {&st_clear_pending_, "DELETE FROM pending WHERE user = ?1 AND seq <= ?2"},
        {&st_add_pending_of_, "INSERT OR IGNORE INTO pending(user, seq) "
                              "SELECT recipient, seq FROM messages WHERE seq = ?1"},
        {&st_pending_, pending.c_str()},
        {&st_sync_, sync.c_str()},
        {&st_by_seq_, by_seq.c_str()},
        {&st_tail_, tail.c_str()},
        {&st_chunks_, "SELECT last_seq, seqs FROM by_recipient WHERE recipient IN (?1, ?2) "
                      "ORDER BY last_seq DESC"},
        {&st_indexed_, "SELECT value FROM meta WHERE key = 'indexed'"},
        {&st_to_index_, "SELECT seq, recipient FROM messages WHERE seq > ?1 ORDER BY seq "
                        "LIMIT ?2"},
        {&st_add_chunk_, "INSERT OR REPLACE INTO by_recipient(recipient, last_seq, seqs) "
                         "VALUES(?1, ?2, ?3)"},
        {&st_set_indexed_, "UPDATE meta SET value = ?1 WHERE key = 'indexed'"},
        {&st_max_seq_, "SELECT coalesce(max(seq), 0) FROM messages"},
    };
    for (auto &s : all) {
        *s.st = prepare(s.sql);
        if (!*s.st) {
            *why = path + ": " + error_;
            return false;
        }
    }
    for (size_t k = 0; k < kInsertSizes; k++)
        if (!(st_insert_rows_[k] = prepare(insert_rows[k].c_str()))) {
            *why = path + ": " + error_;
            return false;
        }
    return true;
}

Result Store::create_user(const std::string &name, const std::string &pwhash,
                          const std::string &info, int64_t now)
{
    Reset r{st_create_user_};
    bind_text(st_create_user_, 1, name);
    bind_text(st_create_user_, 2, pwhash);
    bind_text(st_create_user_, 3, info);
    sqlite3_bind_int64(st_create_user_, 4, now);
    if (sqlite3_step(st_create_user_) != SQLITE_DONE)
        return fail("create user"), Result::Error;
    return sqlite3_changes(db_) ? Result::Ok : Result::Exists;
}

Result Store::get_user(const std::string &name, Account *out)
{
    Reset r{st_get_user_};
    bind_text(st_get_user_, 1, name);
    int rc = sqlite3_step(st_get_user_);
    if (rc == SQLITE_DONE)
        return Result::NotFound;
    if (rc != SQLITE_ROW)
        return fail("get user"), Result::Error;
    out->id = sqlite3_column_int64(st_get_user_, 0);
    out->name = column_text(st_get_user_, 1);
    out->pwhash = column_text(st_get_user_, 2);
    out->role = column_text(st_get_user_, 3);
    out->banned = sqlite3_column_int(st_get_user_, 4) != 0;
    out->general_since = sqlite3_column_int64(st_get_user_, 5);
    return Result::Ok;
}

bool Store::record_login(int64_t user_id, int64_t now, const std::string &ip)
{
    Reset r{st_login_};
    sqlite3_bind_int64(st_login_, 1, user_id);
    sqlite3_bind_int64(st_login_, 2, now);
    bind_text(st_login_, 3, ip);
    return sqlite3_step(st_login_) == SQLITE_DONE || fail("record login");
}

bool Store::users_with_prefix(const std::string &prefix, const std::string &after, int limit,
                              std::vector<std::string> *out)
{
    Reset r{st_users_prefix_};
    bind_text(st_users_prefix_, 1, prefix);
    bind_text(st_users_prefix_, 2, after);
    sqlite3_bind_int(st_users_prefix_, 3, limit);
    int rc;
    while ((rc = sqlite3_step(st_users_prefix_)) == SQLITE_ROW)
        out->push_back(column_text(st_users_prefix_, 0));
    return rc == SQLITE_DONE || fail("list users");
}

bool Store::contacts(int64_t owner, std::vector<std::string> *out)
{
    Reset r{st_contacts_};
    sqlite3_bind_int64(st_contacts_, 1, owner);
    int rc;
    while ((rc = sqlite3_step(st_contacts_)) == SQLITE_ROW)
        out->push_back(column_text(st_contacts_, 0));
    return rc == SQLITE_DONE || fail("contacts");
}

Result Store::add_contact(int64_t owner, const std::string &contact)
{
    Account a;
    Result found = get_user(contact, &a);
    if (found != Result::Ok)
        return found;
    Reset r{st_add_contact_};
    sqlite3_bind_int64(st_add_contact_, 1, owner);
    bind_text(st_add_contact_, 2, contact);
    if (sqlite3_step(st_add_contact_) != SQLITE_DONE)
        return fail("add contact"), Result::Error;
    return sqlite3_changes(db_) ? Result::Ok : Result::Exists;
}

Result Store::del_contact(int64_t owner, const std::string &contact)
{
    Reset r{st_del_contact_};
    sqlite3_bind_int64(st_del_contact_, 1, owner);
    bind_text(st_del_contact_, 2, contact);
    if (sqlite3_step(st_del_contact_) != SQLITE_DONE)
        return fail("del contact"), Result::Error;
    return sqlite3_changes(db_) ? Result::Ok : Result::NotFound;
}

bool Store::watchers(const std::string &name, std::vector<std::string> *out)
{
    Reset r{st_watchers_};
    bind_text(st_watchers_, 1, name);
    int rc;
    while ((rc = sqlite3_step(st_watchers_)) == SQLITE_ROW)
        out->push_back(column_text(st_watchers_, 0));
    return rc == SQLITE_DONE || fail("watchers");
}

namespace {

// The single integer a statement returns, or -1.
int64_t one_int(sqlite3_stmt *st)
{
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return v;
}

} // namespace

Result Store::join(const std::string &room, int64_t user_id, int64_t now, int max_rooms,
                   int max_created_per_hour)
{
    if (!begin())
        return Result::Error;
    int64_t room_id = 0;
    {
        Reset r{st_room_get_};
        bind_text(st_room_get_, 1, room);
        int rc = sqlite3_step(st_room_get_);
        if (rc == SQLITE_ROW)
            room_id = sqlite3_column_int64(st_room_get_, 0);
        else if (rc != SQLITE_DONE)
            return rollback(), fail("join"), Result::Error;
    }
    if (room_id) {
        sqlite3_bind_int64(st_member_, 1, room_id);
        sqlite3_bind_int64(st_member_, 2, user_id);
        if (one_int(st_member_) == 1)
            return rollback(), Result::Exists;
    }
    sqlite3_bind_int64(st_memberships_, 1, user_id);
    int64_t rooms = one_int(st_memberships_);
    if (rooms < 0)
        return rollback(), fail("join"), Result::Error;
    if (rooms >= max_rooms)
        return rollback(), Result::TooMany;
    if (!room_id) {
        sqlite3_bind_int64(st_created_since_, 1, user_id);
        sqlite3_bind_int64(st_created_since_, 2, now - 3600);
        int64_t created = one_int(st_created_since_);
        if (created < 0)
            return rollback(), fail("join"), Result::Error;
        if (created >= max_created_per_hour)
            return rollback(), Result::TooOften;
        Reset r{st_room_create_};
        bind_text(st_room_create_, 1, room);
        sqlite3_bind_int64(st_room_create_, 2, user_id);
        sqlite3_bind_int64(st_room_create_, 3, now);
        if (sqlite3_step(st_room_create_) != SQLITE_DONE)
            return rollback(), fail("create room"), Result::Error;
        room_id = sqlite3_last_insert_rowid(db_);
    }
    Reset r{st_join_};
    sqlite3_bind_int64(st_join_, 1, room_id);
    sqlite3_bind_int64(st_join_, 2, user_id);
    if (sqlite3_step(st_join_) != SQLITE_DONE)
        return rollback(), fail("join"), Result::Error;
    bool added = sqlite3_changes(db_) > 0;
    if (!commit())
        return Result::Error;
    return added ? Result::Ok : Result::Exists;
}

Result Store::leave(const std::string &room, int64_t user_id)
{
    Reset r{st_leave_};
    bind_text(st_leave_, 1, room);
    sqlite3_bind_int64(st_leave_, 2, user_id);
    if (sqlite3_step(st_leave_) != SQLITE_DONE)
        return fail("leave"), Result::Error;
    return sqlite3_changes(db_) ? Result::Ok : Result::NotFound;
}

bool Store::user_rooms(int64_t user_id, std::vector<std::string> *out)
{
    Reset r{st_user_rooms_};
    sqlite3_bind_int64(st_user_rooms_, 1, user_id);
    int rc;
    while ((rc = sqlite3_step(st_user_rooms_)) == SQLITE_ROW)
        out->push_back(column_text(st_user_rooms_, 0));
    return rc == SQLITE_DONE || fail("user rooms");
}

bool Store::room_exists(const std::string &room)
{
    Reset r{st_room_get_};
    bind_text(st_room_get_, 1, room);
    return sqlite3_step(st_room_get_) == SQLITE_ROW;
}

bool Store::rooms(const std::string &prefix, const std::string &after, int limit,
                  std::vector<std::pair<std::string, int64_t>> *out)
{
    Reset r{st_rooms_};
    bind_text(st_rooms_, 1, prefix);
    bind_text(st_rooms_, 2, after);
    sqlite3_bind_int(st_rooms_, 3, limit);
    int rc;
    while ((rc = sqlite3_step(st_rooms_)) == SQLITE_ROW)
        out->emplace_back(column_text(st_rooms_, 0), sqlite3_column_int64(st_rooms_, 1));
    return rc == SQLITE_DONE || fail("rooms");
}

bool Store::begin()
{
    Reset r{st_begin_};
    return sqlite3_step(st_begin_) == SQLITE_DONE || fail("begin");
}

bool Store::commit()
{
    Reset r{st_commit_};
    if (sqlite3_step(st_commit_) == SQLITE_DONE)
        return true;
    fail("commit");
    rollback();
    return false;
}

void Store::rollback()
{
    Reset r{st_rollback_};
    if (!sqlite3_get_autocommit(db_))
        sqlite3_step(st_rollback_);
}

bool Store::insert_message(StoredMessage *m, bool *dup)
{
    *dup = false;
    {
        Reset r{st_insert_};
        sqlite3_bind_int64(st_insert_, 1, m->time);
        // The strings outlive the statement's step: no copies (SQLITE_STATIC).
        sqlite3_bind_text(st_insert_, 2, m->from.data(), static_cast<int>(m->from.size()),
                          SQLITE_STATIC);
        sqlite3_bind_text(st_insert_, 3, m->to.data(), static_cast<int>(m->to.size()),
                          SQLITE_STATIC);
        sqlite3_bind_text(st_insert_, 4, m->encoding.data(), static_cast<int>(m->encoding.size()),
                          SQLITE_STATIC);
        sqlite3_bind_text(st_insert_, 5, m->text.data(), static_cast<int>(m->text.size()),
                          SQLITE_STATIC);
        if (m->client_id.empty())
            sqlite3_bind_null(st_insert_, 6);
        else
            bind_text(st_insert_, 6, m->client_id);
        if (sqlite3_step(st_insert_) != SQLITE_DONE)
            return fail("insert message");
        if (sqlite3_changes(db_) == 1) {
            m->seq = sqlite3_last_insert_rowid(db_);
            return true;
        }
    }
    // Nothing inserted: (sender, client_id) was stored before.
    *dup = true;
    Reset r{st_dup_};
    bind_text(st_dup_, 1, m->from);
    bind_text(st_dup_, 2, m->client_id);
    if (sqlite3_step(st_dup_) != SQLITE_ROW)
        return fail("find duplicate");
    m->seq = sqlite3_column_int64(st_dup_, 0);
    return true;
}

// Binds and runs one multi-row insert of `rows` messages; sets their seqs.
bool Store::insert_rows(sqlite3_stmt *st, StoredMessage *const *msgs, size_t rows)
{
    Reset r{st};
    for (size_t k = 0; k < rows; k++) {
        const StoredMessage &m = *msgs[k];
        int at = static_cast<int>(k) * 5;
        sqlite3_bind_int64(st, at + 1, m.time);
        sqlite3_bind_text(st, at + 2, m.from.data(), static_cast<int>(m.from.size()),
                          SQLITE_STATIC);
        sqlite3_bind_text(st, at + 3, m.to.data(), static_cast<int>(m.to.size()), SQLITE_STATIC);
        sqlite3_bind_text(st, at + 4, m.encoding.data(), static_cast<int>(m.encoding.size()),
                          SQLITE_STATIC);
        sqlite3_bind_text(st, at + 5, m.text.data(), static_cast<int>(m.text.size()),
                          SQLITE_STATIC);
    }
    if (sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(db_) != static_cast<int>(rows))
        return fail("insert messages");
    int64_t last = sqlite3_last_insert_rowid(db_);
    for (size_t k = 0; k < rows; k++)
        msgs[k]->seq = last - static_cast<int64_t>(rows - 1 - k);
    return true;
}

// A statement costs about as much as a few rows, so a run goes in as few statements as
// the sizes allow: as many of the largest as fit, then at most one of each smaller size
// (the binary digits of what is left).
bool Store::insert_messages(StoredMessage *const *msgs, size_t n)
{
    size_t i = 0;
    for (size_t k = 0; k < kInsertSizes; k++) {
        size_t rows = kInsertRowsMax >> k;
        for (; n - i >= rows; i += rows)
            if (!insert_rows(st_insert_rows_[k], msgs + i, rows))
                return false;
    }
    return true;
}

bool Store::add_pending(const std::string &user, int64_t seq)
{
    Reset r{st_add_pending_};
    bind_text(st_add_pending_, 1, user);
    sqlite3_bind_int64(st_add_pending_, 2, seq);
    return sqlite3_step(st_add_pending_) == SQLITE_DONE || fail("add pending");
}

bool Store::clear_pending(const std::string &user, int64_t upto)
{
    Reset r{st_clear_pending_};
    bind_text(st_clear_pending_, 1, user);
    sqlite3_bind_int64(st_clear_pending_, 2, upto);
    return sqlite3_step(st_clear_pending_) == SQLITE_DONE || fail("clear pending");
}

bool Store::add_pending_of(int64_t seq)
{
    Reset r{st_add_pending_of_};
    sqlite3_bind_int64(st_add_pending_of_, 1, seq);
    return sqlite3_step(st_add_pending_of_) == SQLITE_DONE || fail("add pending");
}

bool Store::pending(const std::string &user, int64_t after, int limit,
                    std::vector<StoredMessage> *out)
{
    Reset r{st_pending_};
    bind_text(st_pending_, 1, user);
    sqlite3_bind_int64(st_pending_, 2, after);
    sqlite3_bind_int(st_pending_, 3, limit);
    return read_messages(st_pending_, out) || fail("pending");
}

bool Store::sync(const std::string &name, int64_t user_id, int64_t since,
                 const std::string &general, int64_t general_since, int limit,
                 std::vector<StoredMessage> *out)
{
    Reset r{st_sync_};
    sqlite3_bind_int64(st_sync_, 1, since);
    bind_text(st_sync_, 2, name);
    sqlite3_bind_int64(st_sync_, 3, user_id);
    sqlite3_bind_int(st_sync_, 4, limit);
    if (general.empty())
        sqlite3_bind_null(st_sync_, 5); // matches no recipient
    else
        bind_text(st_sync_, 5, general);
    sqlite3_bind_int64(st_sync_, 6, general_since);
    return read_messages(st_sync_, out) || fail("sync");
}

Result Store::count_event(const std::vector<Limit> &limits, int64_t now, int64_t *retry_after)
{
    if (!begin())
        return Result::Error;
    for (const Limit &l : limits) {
        Reset r{st_events_};
        bind_text(st_events_, 1, l.key);
        sqlite3_bind_int64(st_events_, 2, now - l.window);
        if (sqlite3_step(st_events_) != SQLITE_ROW)
            return fail("count events"), rollback(), Result::Error;
        if (sqlite3_column_int64(st_events_, 0) >= l.max) {
            *retry_after =
                std::max<int64_t>(1, sqlite3_column_int64(st_events_, 1) + l.window - now);
            rollback();
            return Result::TooOften;
        }
    }
    for (const Limit &l : limits) {
        Reset r{st_add_event_};
        bind_text(st_add_event_, 1, l.key);
        sqlite3_bind_int64(st_add_event_, 2, now);
        if (sqlite3_step(st_add_event_) != SQLITE_DONE)
            return fail("count event"), rollback(), Result::Error;
    }
    return commit() ? Result::Ok : Result::Error;
}

bool Store::forgive_event(const std::vector<std::string> &keys)
{
    if (!begin())
        return false;
    for (const std::string &key : keys) {
        Reset r{st_forgive_};
        bind_text(st_forgive_, 1, key);
        if (sqlite3_step(st_forgive_) != SQLITE_DONE)
            return fail("forgive event"), rollback(), false;
    }
    return commit();
}

bool Store::prune_events(int64_t now)
{
    Reset r{st_prune_events_};
    sqlite3_bind_int64(st_prune_events_, 1, now - 86400);
    return sqlite3_step(st_prune_events_) == SQLITE_DONE || fail("prune events");
}

int64_t Store::user_count()
{
    Reset r{st_user_count_};
    return sqlite3_step(st_user_count_) == SQLITE_ROW ? sqlite3_column_int64(st_user_count_, 0)
                                                      : -1;
}

namespace {

// Whether m belongs to the history of `with` as seen by `me`.
bool in_history(const StoredMessage &m, const std::string &me, const std::string &with)
{
    if (with[0] == '#')
        return m.to == with;
    return (m.to == with && m.from == me) || (m.to == me && m.from == with);
}

} // namespace

bool Store::history(const std::string &me, const std::string &with, int64_t before, int limit,
                    std::vector<StoredMessage> *out)
{
    const std::string &other = with[0] == '#' ? with : me;
    // The recent tail that the index does not cover yet, newest first.
    {
        Reset r{st_tail_};
        bind_text(st_tail_, 1, with);
        bind_text(st_tail_, 2, other);
        sqlite3_bind_int64(st_tail_, 3, before);
        std::vector<StoredMessage> rows;
        if (!read_messages(st_tail_, &rows))
            return fail("history");
        for (StoredMessage &m : rows) {
            if (static_cast<int>(out->size()) >= limit)
                return true;
            if (in_history(m, me, with))
                out->push_back(std::move(m));
        }
    }
    // Then the indexed chunks, newest first. A candidate seq is final once it is above
    // the next chunk's last seq: no older chunk can hold it.
    std::vector<int64_t> candidates;
    auto take = [&](int64_t above) {
        std::sort(candidates.begin(), candidates.end(), std::greater<>());
        size_t used = 0;
        for (; used < candidates.size() && candidates[used] > above; used++) {
            if (static_cast<int>(out->size()) >= limit)
                break;
            Reset r{st_by_seq_};
            sqlite3_bind_int64(st_by_seq_, 1, candidates[used]);
            std::vector<StoredMessage> one;
            if (!read_messages(st_by_seq_, &one))
                return false;
            if (!one.empty() && in_history(one[0], me, with))
                out->push_back(std::move(one[0]));
        }
        candidates.erase(candidates.begin(), candidates.begin() + static_cast<long>(used));
        return true;
    };
    Reset r{st_chunks_};
    bind_text(st_chunks_, 1, with);
    bind_text(st_chunks_, 2, other);
    int rc;
    while ((rc = sqlite3_step(st_chunks_)) == SQLITE_ROW) {
        int64_t last = sqlite3_column_int64(st_chunks_, 0);
        if (!take(last))
            return fail("history");
        if (static_cast<int>(out->size()) >= limit)
            return true;
        const auto *blob = static_cast<const unsigned char *>(sqlite3_column_blob(st_chunks_, 1));
        int bytes = sqlite3_column_bytes(st_chunks_, 1);
        for (int i = 0; i + 8 <= bytes; i += 8) {
            int64_t seq;
            std::memcpy(&seq, blob + i, 8);
            if (seq < before)
                candidates.push_back(seq);
        }
    }
    if (rc != SQLITE_DONE || !take(-1))
        return fail("history");
    return true;
}

bool Store::index_step(int max_rows, int *indexed_rows)
{
    *indexed_rows = 0;
    int64_t from = 0;
    {
        Reset r{st_indexed_};
        if (sqlite3_step(st_indexed_) != SQLITE_ROW)
            return fail("index");
        from = sqlite3_column_int64(st_indexed_, 0);
    }
    // Rows up to a committed seq never change, so they are read before the write lock.
    std::map<std::string, std::string> chunks; // recipient -> packed seqs
    int64_t top = from;
    {
        Reset r{st_to_index_};
        sqlite3_bind_int64(st_to_index_, 1, from);
        sqlite3_bind_int(st_to_index_, 2, max_rows);
        int rc;
        while ((rc = sqlite3_step(st_to_index_)) == SQLITE_ROW) {
            top = sqlite3_column_int64(st_to_index_, 0);
            std::string &chunk = chunks[column_text(st_to_index_, 1)];
            chunk.append(reinterpret_cast<const char *>(&top), 8);
            ++*indexed_rows;
        }
        if (rc != SQLITE_DONE)
            return fail("index");
    }
    if (top == from)
        return true;
    if (!begin())
        return false;
    for (const auto &[recipient, seqs] : chunks) {
        Reset r{st_add_chunk_};
        bind_text(st_add_chunk_, 1, recipient);
        int64_t last;
        std::memcpy(&last, seqs.data() + seqs.size() - 8, 8);
        sqlite3_bind_int64(st_add_chunk_, 2, last);
        sqlite3_bind_blob(st_add_chunk_, 3, seqs.data(), static_cast<int>(seqs.size()),
                          SQLITE_STATIC);
        if (sqlite3_step(st_add_chunk_) != SQLITE_DONE)
            return rollback(), fail("index");
    }
    Reset r{st_set_indexed_};
    sqlite3_bind_int64(st_set_indexed_, 1, top);
    if (sqlite3_step(st_set_indexed_) != SQLITE_DONE)
        return rollback(), fail("index");
    return commit();
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

bool Store::integrity_ok()
{
    sqlite3_stmt *st = nullptr;
    bool ok = sqlite3_prepare_v2(db_, "PRAGMA integrity_check", -1, &st, nullptr) == SQLITE_OK &&
              sqlite3_step(st) == SQLITE_ROW && column_text(st, 0) == "ok";
    sqlite3_finalize(st);
    return ok;
}

} // namespace jimd

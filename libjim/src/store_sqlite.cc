// The SQLite client store: one file, store.sqlite, in WAL mode. Messages are keyed by
// their server seq (a second save of one changes nothing); the encoded JSON line is
// kept whole so a message comes back exactly as it arrived.
#include "client_store.hh"

#include <sqlite3.h>

#include <cerrno>
#include <cstring>

namespace jim {

namespace {

const char kSchema[] = "CREATE TABLE IF NOT EXISTS messages ("
                       "  seq INTEGER PRIMARY KEY,"
                       "  sender TEXT NOT NULL,"
                       "  recipient TEXT NOT NULL,"
                       "  time INTEGER NOT NULL,"
                       "  json TEXT NOT NULL);"
                       "CREATE INDEX IF NOT EXISTS messages_recipient ON messages(recipient, seq);"
                       "CREATE INDEX IF NOT EXISTS messages_sender ON messages(sender, seq);"
                       "CREATE TABLE IF NOT EXISTS contacts (name TEXT PRIMARY KEY) WITHOUT ROWID;"
                       // Outgoing messages not answered yet, in the order they were queued.
                       "CREATE TABLE IF NOT EXISTS outgoing ("
                       "  n INTEGER PRIMARY KEY AUTOINCREMENT,"
                       "  id TEXT NOT NULL UNIQUE,"
                       "  json TEXT NOT NULL);";

class SqliteStore final : public ClientStore {
  public:
    ~SqliteStore() override
    {
        for (sqlite3_stmt *st :
             {insert_, history_, contacts_, add_, del_, out_add_, out_del_, out_list_})
            sqlite3_finalize(st);
        sqlite3_close(db_);
    }

    bool open(const std::string &path)
    {
        if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                            nullptr) != SQLITE_OK)
            return false;
        sqlite3_busy_timeout(db_, 2000);
        return exec("PRAGMA journal_mode = WAL") && exec("PRAGMA synchronous = NORMAL") &&
               exec(kSchema) &&
               prepare("INSERT OR IGNORE INTO messages (seq, sender, recipient, time, json) "
                       "VALUES (?1, ?2, ?3, ?4, ?5)",
                       &insert_) &&
               prepare("SELECT json FROM (SELECT seq, json FROM messages WHERE "
                       "(recipient = ?1 OR (sender = ?1 AND substr(recipient, 1, 1) <> '#')) "
                       "AND seq < ?2 ORDER BY seq DESC LIMIT ?3) ORDER BY seq",
                       &history_) &&
               prepare("SELECT name FROM contacts ORDER BY name", &contacts_) &&
               prepare("INSERT OR IGNORE INTO contacts (name) VALUES (?1)", &add_) &&
               prepare("DELETE FROM contacts WHERE name = ?1", &del_) &&
               prepare("INSERT OR IGNORE INTO outgoing (id, json) VALUES (?1, ?2)", &out_add_) &&
               prepare("DELETE FROM outgoing WHERE id = ?1", &out_del_) &&
               prepare("SELECT json FROM outgoing ORDER BY n", &out_list_) && load_last_seq();
    }

    int64_t last_seq() const override { return last_seq_; }
    // Why open() failed.
    std::string error() const
    {
        return db_ && sqlite3_errcode(db_) != SQLITE_OK ? sqlite3_errmsg(db_)
                                                        : std::strerror(errno ? errno : EIO);
    }

    int save(const jim_msg &m) override
    {
        StoredLine line;
        if (!stored_line(m, scratch_, &line))
            return JIM_EINVAL;
        int64_t seq = line.seq;
        int64_t time = 0;
        jim_msg_get_int(&m, JIM_FIELD_TIME, &time);
        const char *from = jim_msg_get_str(&m, JIM_FIELD_FROM);
        const char *to = jim_msg_get_str(&m, JIM_FIELD_TO);
        sqlite3_bind_int64(insert_, 1, seq);
        sqlite3_bind_text(insert_, 2, from ? from : "", -1, SQLITE_STATIC);
        sqlite3_bind_text(insert_, 3, to ? to : "", -1, SQLITE_STATIC);
        sqlite3_bind_int64(insert_, 4, time);
        sqlite3_bind_text(insert_, 5, line.json.data(), static_cast<int>(line.json.size()),
                          SQLITE_STATIC);
        int rc = sqlite3_step(insert_);
        sqlite3_reset(insert_);
        sqlite3_clear_bindings(insert_);
        if (rc != SQLITE_DONE)
            return JIM_EIO;
        if (sqlite3_changes(db_) == 0)
            return 1;
        if (seq > last_seq_)
            last_seq_ = seq;
        return JIM_OK;
    }

    void begin() override
    {
        if (depth_++ == 0)
            exec("BEGIN");
    }
    void commit() override
    {
        if (depth_ > 0 && --depth_ == 0)
            exec("COMMIT");
    }

    int history(const std::string &with, int64_t before, int limit, jim_list &out) override
    {
        sqlite3_bind_text(history_, 1, with.c_str(), -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(history_, 2, before > 0 ? before : INT64_MAX);
        sqlite3_bind_int(history_, 3, limit > 0 ? limit : 50);
        int rc;
        while ((rc = sqlite3_step(history_)) == SQLITE_ROW) {
            const char *json = reinterpret_cast<const char *>(sqlite3_column_text(history_, 0));
            jim_msg &m = out.add_new();
            if (jim_msg_decode(&m, json, static_cast<size_t>(sqlite3_column_bytes(history_, 0)),
                               nullptr) != JIM_OK)
                out.items.pop_back(); // not ours to fail on: skip a damaged row
        }
        sqlite3_reset(history_);
        return rc == SQLITE_DONE ? JIM_OK : JIM_EIO;
    }

    int contacts(std::vector<std::string> &out) override
    {
        int rc;
        while ((rc = sqlite3_step(contacts_)) == SQLITE_ROW)
            out.emplace_back(reinterpret_cast<const char *>(sqlite3_column_text(contacts_, 0)));
        sqlite3_reset(contacts_);
        return rc == SQLITE_DONE ? JIM_OK : JIM_EIO;
    }

    int set_contacts(const std::vector<std::string> &names) override
    {
        bool ok = exec("SAVEPOINT contacts") && exec("DELETE FROM contacts");
        for (const std::string &n : names)
            ok = ok && add_contact(n) == JIM_OK;
        ok = exec(ok ? "RELEASE contacts" : "ROLLBACK TO contacts") && ok;
        if (!ok)
            exec("RELEASE contacts");
        return ok ? JIM_OK : JIM_EIO;
    }

    int add_contact(const std::string &name) override { return one(add_, name); }
    int del_contact(const std::string &name) override { return one(del_, name); }

    int add_outgoing(const std::string &id, std::string_view json) override
    {
        sqlite3_bind_text(out_add_, 1, id.c_str(), -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(out_add_, 2, json.data(), static_cast<int>(json.size()),
                          SQLITE_TRANSIENT);
        int rc = sqlite3_step(out_add_);
        sqlite3_reset(out_add_);
        return rc == SQLITE_DONE ? JIM_OK : JIM_EIO;
    }
    int drop_outgoing(const std::string &id) override { return one(out_del_, id); }
    int outgoing(std::vector<std::string> &out) override
    {
        int rc;
        while ((rc = sqlite3_step(out_list_)) == SQLITE_ROW)
            out.emplace_back(reinterpret_cast<const char *>(sqlite3_column_text(out_list_, 0)),
                             static_cast<size_t>(sqlite3_column_bytes(out_list_, 0)));
        sqlite3_reset(out_list_);
        return rc == SQLITE_DONE ? JIM_OK : JIM_EIO;
    }

  private:
    bool exec(const char *sql)
    {
        return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) == SQLITE_OK;
    }
    bool prepare(const char *sql, sqlite3_stmt **st)
    {
        return sqlite3_prepare_v2(db_, sql, -1, st, nullptr) == SQLITE_OK;
    }
    int one(sqlite3_stmt *st, const std::string &name)
    {
        sqlite3_bind_text(st, 1, name.c_str(), -1, SQLITE_TRANSIENT);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? JIM_OK : JIM_EIO;
    }
    bool load_last_seq()
    {
        sqlite3_stmt *st = nullptr;
        bool ok = prepare("SELECT COALESCE(MAX(seq), 0) FROM messages", &st) &&
                  sqlite3_step(st) == SQLITE_ROW;
        if (ok)
            last_seq_ = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return ok;
    }

    sqlite3 *db_ = nullptr;
    sqlite3_stmt *insert_ = nullptr, *history_ = nullptr, *contacts_ = nullptr, *add_ = nullptr,
                 *del_ = nullptr, *out_add_ = nullptr, *out_del_ = nullptr, *out_list_ = nullptr;
    int64_t last_seq_ = 0;
    int depth_ = 0;
    jim_msg scratch_; // encodes the message being saved
};

} // namespace

std::unique_ptr<ClientStore> open_sqlite_store(const std::string &dir, std::string *why)
{
    if (!make_dirs(dir)) {
        *why = "cannot create " + dir + ": " + std::strerror(errno);
        return nullptr;
    }
    auto s = std::make_unique<SqliteStore>();
    std::string path = dir + "/store.sqlite";
    errno = 0;
    if (!s->open(path)) {
        *why = path + ": " + s->error();
        return nullptr;
    }
    return s;
}

} // namespace jim

// The store's queries for the administration (store.hh): roles, bans, passwords set by an
// administrator, the account list with its statistics, and the count of messages sent that
// the indexing keeps. These are rare: each statement is prepared when it runs.
#include "store.hh"

#include "store_sql.hh"

namespace jimd {

using namespace sql;

namespace {

// Finalizes a statement prepared for one use.
struct Finalize {
    void operator()(sqlite3_stmt *st) const { sqlite3_finalize(st); }
};
using OneShot = std::unique_ptr<sqlite3_stmt, Finalize>;

OneShot prepare_once(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) != SQLITE_OK)
        return nullptr;
    return OneShot(st);
}

} // namespace

Result Store::update_user(const char *sql, const std::string &name, const std::string &value)
{
    OneShot st = prepare_once(db_, sql);
    if (!st)
        return fail("prepare"), Result::Error;
    bind_text(st.get(), 1, name);
    bind_text(st.get(), 2, value);
    if (sqlite3_step(st.get()) != SQLITE_DONE)
        return fail("update account"), Result::Error;
    return sqlite3_changes(db_) ? Result::Ok : Result::NotFound;
}

Result Store::set_banned(const std::string &name, bool banned)
{
    return update_user("UPDATE users SET banned = CAST(?2 AS INTEGER) WHERE name = ?1", name,
                       banned ? "1" : "0");
}

Result Store::set_role(const std::string &name, const std::string &role)
{
    return update_user("UPDATE users SET role = ?2 WHERE name = ?1", name, role);
}

Result Store::set_password(const std::string &name, const std::string &pwhash)
{
    return update_user("UPDATE users SET pwhash = ?2 WHERE name = ?1", name, pwhash);
}

bool Store::user_stats(const std::string &prefix, const std::string &after, int limit,
                       std::vector<UserStat> *out)
{
    // The last log-in and the count come from the logins index (user_id, time).
    OneShot st = prepare_once(
        db_, "SELECT u.name, u.created, u.role, u.banned, u.messages_sent, "
             "(SELECT count(*) FROM logins l WHERE l.user_id = u.id), "
             "l.time, l.ip FROM users u LEFT JOIN logins l ON l.id = (SELECT id FROM logins "
             "WHERE user_id = u.id ORDER BY time DESC, id DESC LIMIT 1) "
             "WHERE u.name >= ?1 AND u.name > ?2 AND substr(u.name, 1, length(?1)) = ?1 "
             "ORDER BY u.name LIMIT ?3");
    if (!st)
        return fail("prepare");
    bind_text(st.get(), 1, prefix);
    bind_text(st.get(), 2, after);
    sqlite3_bind_int(st.get(), 3, limit);
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
        UserStat u;
        u.name = column_text(st.get(), 0);
        u.created = sqlite3_column_int64(st.get(), 1);
        u.role = column_text(st.get(), 2);
        u.banned = sqlite3_column_int(st.get(), 3) != 0;
        u.messages_sent = sqlite3_column_int64(st.get(), 4);
        u.logins = sqlite3_column_int64(st.get(), 5);
        u.last_login = sqlite3_column_int64(st.get(), 6);
        u.last_ip = column_text(st.get(), 7);
        out->push_back(std::move(u));
    }
    return rc == SQLITE_DONE || fail("list accounts");
}

bool Store::count_sent(const NameMap<int64_t> &senders)
{
    if (senders.empty())
        return true;
    OneShot st =
        prepare_once(db_, "UPDATE users SET messages_sent = messages_sent + ?2 WHERE name = ?1");
    if (!st)
        return fail("prepare");
    for (const auto &[name, n] : senders) {
        bind_text(st.get(), 1, name);
        sqlite3_bind_int64(st.get(), 2, n);
        if (sqlite3_step(st.get()) != SQLITE_DONE)
            return fail("count messages sent");
        sqlite3_reset(st.get());
    }
    return true;
}

} // namespace jimd

// The admin family (doc/protocol.md §8): the account list and its statistics, the server's
// counters, kicks and bans, runtime settings, and accounts made, given a password or a role
// by an administrator. dispatch lets only admin accounts' sessions and the control socket in.
#include "handlers.hh"

#include "clock.hh"
#include "password.hh"

#include <memory>

namespace jimd {

namespace {

#define HLOG(level, ...) JIM_LOG(cx.log, level, cx.tag, __VA_ARGS__)

// A password being hashed on the password thread for an account to create (create) or
// to change.
struct Hashing {
    std::string name, role, request_id, hash;
    bool create = false;
};

const char *str_or(const char *s, const char *fallback)
{
    return s ? s : fallback;
}

bool valid_role(const char *role)
{
    return std::string_view(role) == "user" || std::string_view(role) == "admin";
}

// Who did it, for the log: the account, or the control socket.
std::string actor(const Session &s)
{
    return s.control ? std::string("the control socket") : "admin " + s.user;
}

// On the loop, once the password was hashed: the account made or changed.
void hashed(Context &cx, uint64_t session_id, const Hashing &job)
{
    Session *sp = cx.sessions.find(session_id);
    if (!sp || sp->conn.closing())
        return;
    Session &s = *sp;
    s.conn.release(Connection::kHoldPassword);
    const char *id = job.request_id.c_str();
    if (job.hash.empty()) {
        cx.out.reply(s, id, JIM_RESP_SERVER_ERROR, "cannot hash the password");
        return;
    }
    Result r = job.create ? cx.journal.create_user(job.name, job.hash, "", wall_seconds())
                          : cx.journal.set_password(job.name, job.hash);
    if (r == Result::Ok && job.create && job.role != "user")
        r = cx.journal.set_role(job.name, job.role);
    if (r == Result::Ok) {
        HLOG(JIM_LOG_INFO, "%s %s account %s", actor(s).c_str(),
             job.create ? "created" : "set the password of", job.name.c_str());
        cx.out.reply(s, id, job.create ? JIM_RESP_CREATED : JIM_RESP_OK);
    } else if (r == Result::Exists) {
        cx.out.reply(s, id, JIM_RESP_CONFLICT, "account exists");
    } else if (r == Result::NotFound) {
        cx.out.reply(s, id, JIM_RESP_NOT_FOUND, "no such user");
    } else {
        cx.out.reply(s, id, JIM_RESP_SERVER_ERROR, "database error");
    }
}

// Hashes password on the password thread, then makes or changes the account.
void hash_then_store(Context &cx, Session &s, std::shared_ptr<Hashing> job,
                     const std::string &password)
{
    uint64_t n = static_cast<uint64_t>(cx.settings.num(S_SCRYPT_N));
    uint64_t id = s.id;
    s.conn.hold(Connection::kHoldPassword);
    cx.passwords.submit([job, password, n] { password_hash(password, n, &job->hash); },
                        [&cx, id, job] { hashed(cx, id, *job); });
}

// The account named in user_id: true, or answered 404 (or 500) and false.
bool account_exists(Context &cx, Session &s, const Request &rq, const std::string &name)
{
    Account a;
    Result r = cx.journal.get_user(name, &a);
    if (r == Result::Ok)
        return true;
    cx.out.reply(s, rq.id, r == Result::NotFound ? JIM_RESP_NOT_FOUND : JIM_RESP_SERVER_ERROR,
                 r == Result::NotFound ? "no such user" : "database error");
    return false;
}

// The text a kicked session reads: why, and the reason if one was given.
std::string kick_text(const char *why, const char *reason)
{
    std::string t = why;
    if (reason && *reason)
        t += std::string(": ") + reason;
    return t;
}

enum class Sanction { Kick, Ban, Unban };

// Kicks, bans (and kicks) or unbans the account in user_id.
void sanction(Context &cx, Session &s, const Request &rq, Sanction what)
{
    std::string name = jim_msg_get_str(rq.msg, JIM_FIELD_USER_ID);
    const char *reason = jim_msg_get_str(rq.msg, JIM_FIELD_REASON);
    Account a;
    Result r = what == Sanction::Kick ? cx.journal.get_user(name, &a)
                                      : cx.journal.set_banned(name, what == Sanction::Ban);
    if (r != Result::Ok) {
        cx.out.reply(s, rq.id, r == Result::NotFound ? JIM_RESP_NOT_FOUND : JIM_RESP_SERVER_ERROR,
                     r == Result::NotFound ? "no such user" : "database error");
        return;
    }
    const char *done = what == Sanction::Kick  ? "kicked"
                       : what == Sanction::Ban ? "banned"
                                               : "unbanned";
    HLOG(JIM_LOG_INFO, "%s %s %s%s%s", actor(s).c_str(), done, name.c_str(), reason ? ": " : "",
         str_or(reason, ""));
    cx.out.reply(s, rq.id, JIM_RESP_OK);
    if (what != Sanction::Unban)
        cx.server.kick(name, kick_text(what == Sanction::Ban ? "banned by an administrator"
                                                             : "kicked by an administrator",
                                       reason));
}

// One user_stat entry.
void send_user_stat(Context &cx, Session &s, const UserStat &u)
{
    jim_msg *m = cx.out.object(JIM_ACTION_USER_STAT);
    jim_msg_set_str(m, JIM_FIELD_USER_ID, u.name.c_str());
    jim_msg_set_int(m, JIM_FIELD_CREATED, u.created);
    jim_msg_set_int(m, JIM_FIELD_LAST_LOGIN, u.last_login);
    jim_msg_set_str(m, JIM_FIELD_LAST_IP, u.last_ip.c_str());
    jim_msg_set_int(m, JIM_FIELD_LOGINS, u.logins);
    jim_msg_set_int(m, JIM_FIELD_MESSAGES_SENT, u.messages_sent);
    jim_msg_set_bool(m, JIM_FIELD_ONLINE, cx.router.online_anywhere(u.name));
    jim_msg_set_str(m, JIM_FIELD_ROLE, u.role.c_str());
    jim_msg_set_bool(m, JIM_FIELD_BANNED, u.banned);
    cx.out.send(s, m);
}

} // namespace

void h_admin_users(Context &cx, Session &s, const Request &rq)
{
    std::vector<UserStat> users;
    if (!cx.journal.user_stats(str_or(jim_msg_get_str(rq.msg, JIM_FIELD_QUERY), ""),
                               str_or(jim_msg_get_str(rq.msg, JIM_FIELD_AFTER), ""),
                               static_cast<int>(kMaxListed), &users)) {
        HLOG(JIM_LOG_ERROR, "admin_users: %s", cx.journal.error().c_str());
        cx.out.reply(s, rq.id, JIM_RESP_SERVER_ERROR, "database error");
        return;
    }
    jim_msg *r = cx.out.response(rq.id, JIM_RESP_ACCEPTED);
    jim_msg_set_int(r, JIM_FIELD_QUANTITY, static_cast<int64_t>(users.size()));
    cx.out.send(s, r);
    for (const UserStat &u : users)
        send_user_stat(cx, s, u);
}

void h_admin_stats(Context &cx, Session &s, const Request &rq)
{
    int64_t uptime = 0, db = 0, wal = 0;
    int workers = 0;
    CounterTotals t = cx.server.totals(&uptime, &workers);
    cx.journal.sizes(&db, &wal);
    jim_msg *r = cx.out.response(rq.id, JIM_RESP_OK);
    jim_msg_set_int(r, JIM_FIELD_UPTIME, uptime);
    jim_msg_set_int(r, JIM_FIELD_WORKERS, workers);
    jim_msg_set_int(r, JIM_FIELD_CONNECTIONS, t.connections);
    jim_msg_set_int(r, JIM_FIELD_SESSIONS, t.sessions);
    jim_msg_set_int(r, JIM_FIELD_MESSAGES_IN_PER_SEC, static_cast<int64_t>(t.in_per_sec));
    jim_msg_set_int(r, JIM_FIELD_MESSAGES_OUT_PER_SEC, static_cast<int64_t>(t.out_per_sec));
    jim_msg_set_int(r, JIM_FIELD_MESSAGES_PER_SEC, static_cast<int64_t>(t.in_per_sec));
    jim_msg_set_int(r, JIM_FIELD_LOGINS, static_cast<int64_t>(t.logins));
    jim_msg_set_int(r, JIM_FIELD_ERRORS, static_cast<int64_t>(t.errors));
    jim_msg_set_int(r, JIM_FIELD_DB_BYTES, db);
    jim_msg_set_int(r, JIM_FIELD_WAL_BYTES, wal);
    jim_msg_set_int(r, JIM_FIELD_DELIVERIES, static_cast<int64_t>(t.deliveries));
    jim_msg_set_int(r, JIM_FIELD_OFFLINE_STORES, static_cast<int64_t>(t.offline_stores));
    jim_msg_set_int(r, JIM_FIELD_LOGIN_FAILURES, static_cast<int64_t>(t.login_failures));
    cx.out.send(s, r);
}

void h_admin_kick(Context &cx, Session &s, const Request &rq)
{
    sanction(cx, s, rq, Sanction::Kick);
}

void h_admin_ban(Context &cx, Session &s, const Request &rq)
{
    sanction(cx, s, rq, Sanction::Ban);
}

void h_admin_unban(Context &cx, Session &s, const Request &rq)
{
    sanction(cx, s, rq, Sanction::Unban);
}

void h_admin_set(Context &cx, Session &s, const Request &rq)
{
    std::string name = jim_msg_get_str(rq.msg, JIM_FIELD_SETTING);
    std::string value = jim_msg_get_str(rq.msg, JIM_FIELD_VALUE);
    std::string why;
    if (!cx.server.set_setting(name, value, &why)) {
        cx.out.reply(s, rq.id, JIM_RESP_BAD_REQUEST, why.c_str());
        return;
    }
    HLOG(JIM_LOG_INFO, "%s set %s to '%s'", actor(s).c_str(), name.c_str(), value.c_str());
    cx.out.reply(s, rq.id, JIM_RESP_OK);
}

void h_admin_add_user(Context &cx, Session &s, const Request &rq)
{
    auto job = std::make_shared<Hashing>();
    job->create = true;
    job->name = jim_msg_get_str(rq.msg, JIM_FIELD_ACCOUNT_NAME);
    job->role = str_or(jim_msg_get_str(rq.msg, JIM_FIELD_ROLE), "user");
    job->request_id = str_or(rq.id, "");
    if (!valid_role(job->role.c_str())) {
        cx.out.reply(s, rq.id, JIM_RESP_BAD_REQUEST, "field 'role': must be user or admin");
        return;
    }
    if (cx.journal.user_exists(job->name)) {
        cx.out.reply(s, rq.id, JIM_RESP_CONFLICT, "account exists");
        return;
    }
    hash_then_store(cx, s, job, jim_msg_get_str(rq.msg, JIM_FIELD_PASSWORD));
}

void h_admin_password(Context &cx, Session &s, const Request &rq)
{
    auto job = std::make_shared<Hashing>();
    job->name = jim_msg_get_str(rq.msg, JIM_FIELD_USER_ID);
    job->request_id = str_or(rq.id, "");
    if (account_exists(cx, s, rq, job->name))
        hash_then_store(cx, s, job, jim_msg_get_str(rq.msg, JIM_FIELD_NEW_PASSWORD));
}

void h_admin_role(Context &cx, Session &s, const Request &rq)
{
    std::string name = jim_msg_get_str(rq.msg, JIM_FIELD_USER_ID);
    const char *role = jim_msg_get_str(rq.msg, JIM_FIELD_ROLE);
    if (!valid_role(role)) {
        cx.out.reply(s, rq.id, JIM_RESP_BAD_REQUEST, "field 'role': must be user or admin");
        return;
    }
    Result r = cx.journal.set_role(name, role);
    if (r == Result::Ok) {
        HLOG(JIM_LOG_INFO, "%s made %s %s", actor(s).c_str(), name.c_str(),
             std::string_view(role) == "admin" ? "an admin" : "a user");
        cx.out.reply(s, rq.id, JIM_RESP_OK);
    } else {
        cx.out.reply(s, rq.id, r == Result::NotFound ? JIM_RESP_NOT_FOUND : JIM_RESP_SERVER_ERROR,
                     r == Result::NotFound ? "no such user" : "database error");
    }
}

} // namespace jimd

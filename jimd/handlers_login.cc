// The login family: presence, authenticate, register, quit, the answer to a probe, a user's
// change of password; logging a session in, and handing it what was kept for it while offline.
#include "handlers.hh"

#include "clock.hh"
#include "password.hh"
#include "stream.hh"

#include <memory>

namespace jimd {

namespace {

#define HLOG(level, ...) JIM_LOG(cx.log, level, cx.tag, __VA_ARGS__)

// The second look at the pending rows comes this long after login; the seqs pushed in the
// login window are remembered this long after it.
constexpr int kRecheckMs = 500, kForgetMs = 5000;
// A look asked for by another worker while this session's stream runs comes this much later.
constexpr int kLookAgainMs = 100;

// An authenticate whose password is being checked on the password thread.
struct LoginCheck {
    std::string name, ip, request_id;
    Account account;
    unsigned features = 0;
    bool known = false, ok = false;
};

// A set_password whose old password is being checked, and new one hashed, on the password
// thread.
struct PasswordChange {
    std::string name, ip, request_id, hash;
    bool ok = false; // the old password was right
};

// A register whose password is being hashed on the password thread.
struct Registration {
    std::string name, info, request_id, hash;
};

const char *str_or(const char *s, const char *fallback)
{
    return s ? s : fallback;
}

bool too_many_sessions(Context &cx, const std::string &name)
{
    return static_cast<long>(cx.router.sessions_of(name)) >= cx.settings.num(S_MAX_SESSIONS);
}

void recheck_offline(Context &cx, Session &s);

// A message committed by another worker before it heard that this user is online was kept
// as pending and not sent here: look again once the news has spread.
void schedule_recheck(Context &cx, Session &s)
{
    cx.sessions.later(s.id, kRecheckMs, [&cx](Session &again) { recheck_offline(cx, again); });
}

// At login: every direct message kept for the user while offline, oldest first, as the
// client reads them (a long absence may have left a million).
void offline_delivery(Context &cx, Session &s)
{
    s.start_tracking();
    Stream::start(cx, s, Stream::Kind::Pending, 0, nullptr, false);
    schedule_recheck(cx, s);
}

// The second look, half a second after login.
void recheck_offline(Context &cx, Session &s)
{
    if (s.conn.closing() || !s.logged_in)
        return;
    if (s.stream) { // the first look (or a sync) is still being read: look later
        schedule_recheck(cx, s);
        return;
    }
    // The rows of messages handed since login are cleared first, so the query finds only
    // what never reached this session.
    cx.journal.commit_now();
    if (s.stream) // started by a request the commit let go on: look after it
        schedule_recheck(cx, s);
    else if (!s.conn.closing())
        Stream::start(cx, s, Stream::Kind::Pending, 0, nullptr, true);
}

void log_in(Context &cx, Session &s, const Account &a, unsigned features, const char *id)
{
    s.logged_in = true;
    s.user = a.name;
    s.user_id = a.id;
    s.ndjson = (features & JIM_FEATURE_NDJSON) != 0;
    if (s.ndjson)
        s.conn.set_pacing(0);
    std::vector<std::string> rooms, contacts;
    cx.journal.user_rooms(a.id, &rooms); // the general chat is not among them: see Session
    cx.journal.contacts(a.id, &contacts);
    s.general_since = a.general_since;
    s.rooms.assign(rooms.begin(), rooms.end());
    s.contacts.assign(contacts.begin(), contacts.end());
    cx.router.add_session(s); // the other workers hear of it before the answer
    WorkerCounters::add(cx.counters.sessions, 1);
    WorkerCounters::add(cx.counters.logins);
    cx.journal.record_login(a.id, wall_seconds(), s.ip);
    HLOG(JIM_LOG_INFO, "%s logged in from %s%s", a.name.c_str(), s.ip.c_str(),
         s.ndjson ? " (ndjson)" : "");
    cx.out.reply(s, id, JIM_RESP_OK);
    offline_delivery(cx, s);
}

// Counts a log-in attempt against the limits on failed log-ins, per account
// (login_failures_max) and, much more loosely, per address (login_failures_max_ip: many
// users may share one), over login_failures_window, on every worker at once (the journal
// counts them). A right password takes it back (authenticated). False with *retry_after
// when a limit is reached.
bool login_attempt(Context &cx, Session &s, const std::string &account, int64_t *retry_after)
{
    LoginLimits limits = {cx.settings.num(S_LOGIN_FAILURES_WINDOW),
                          cx.settings.num(S_LOGIN_FAILURES_MAX),
                          cx.settings.num(S_LOGIN_FAILURES_MAX_IP)};
    Result r = cx.journal.count_login_attempt(account, s.ip, limits, wall_seconds(), retry_after);
    static LogLimit limit(10'000'000); // a full disk fails every attempt: a line per 10 s
    uint64_t skipped = 0;
    if (r == Result::Error && limit.allow(&skipped))
        HLOG(JIM_LOG_ERROR,
             "counting a log-in attempt failed (%llu more times since the last such line): %s",
             static_cast<unsigned long long>(skipped), cx.journal.error().c_str());
    return r != Result::TooOften; // a database error does not lock everyone out
}

// A ban that came while the password was being checked: its kick found no session to close.
bool banned_meanwhile(Context &cx, const std::string &name)
{
    Account now;
    return cx.journal.get_user(name, &now) == Result::Ok && now.banned;
}

// On the loop, once the password of an authenticate was checked.
void authenticated(Context &cx, uint64_t session_id, const LoginCheck &c)
{
    if (c.ok && !cx.journal.forgive_login_attempt(c.name, c.ip)) // the session may be gone
        HLOG(JIM_LOG_ERROR, "taking back a log-in attempt failed: %s", cx.journal.error().c_str());
    if (!c.ok) // counted even when the client did not wait for the answer
        WorkerCounters::add(cx.counters.login_failures);
    Session *sp = cx.sessions.find(session_id);
    if (!sp || sp->conn.closing())
        return;
    Session &s = *sp;
    s.conn.release(Connection::kHoldPassword); // the requests that came meanwhile go on
    const char *id = c.request_id.c_str();
    if (!c.ok) {
        HLOG(JIM_LOG_WARNING, "failed login for '%s' from %s", c.name.c_str(), s.ip.c_str());
        cx.out.reply(s, id, JIM_RESP_BAD_LOGIN);
    } else if (c.account.banned || banned_meanwhile(cx, c.name)) {
        WorkerCounters::add(cx.counters.login_failures);
        cx.out.reply(s, id, JIM_RESP_FORBIDDEN, "account banned");
    } else if (too_many_sessions(cx, c.name)) {
        WorkerCounters::add(cx.counters.login_failures);
        cx.out.reply(s, id, JIM_RESP_CONFLICT, "already logged in");
    } else {
        log_in(cx, s, c.account, c.features, id);
    }
}

// On the loop, once the old password of a set_password was checked (and the new one hashed).
void password_changed(Context &cx, uint64_t session_id, const PasswordChange &c)
{
    if (c.ok && !cx.journal.forgive_login_attempt(c.name, c.ip))
        HLOG(JIM_LOG_ERROR, "taking back a log-in attempt failed: %s", cx.journal.error().c_str());
    Session *sp = cx.sessions.find(session_id);
    if (!sp || sp->conn.closing())
        return;
    Session &s = *sp;
    s.conn.release(Connection::kHoldPassword);
    const char *id = c.request_id.c_str();
    if (!c.ok) {
        HLOG(JIM_LOG_WARNING, "%s gave a wrong old password from %s", c.name.c_str(), s.ip.c_str());
        cx.out.reply(s, id, JIM_RESP_BAD_LOGIN, "wrong password");
    } else if (c.hash.empty()) {
        cx.out.reply(s, id, JIM_RESP_SERVER_ERROR, "cannot hash the password");
    } else if (cx.journal.set_password(c.name, c.hash) != Result::Ok) {
        cx.out.reply(s, id, JIM_RESP_SERVER_ERROR, "database error");
    } else {
        HLOG(JIM_LOG_INFO, "%s changed their password", c.name.c_str());
        cx.out.reply(s, id, JIM_RESP_OK);
    }
}

// On the loop, once the password of a register was hashed.
void registered(Context &cx, uint64_t session_id, const Registration &r)
{
    Session *sp = cx.sessions.find(session_id);
    if (!sp || sp->conn.closing())
        return;
    Session &s = *sp;
    s.conn.release(Connection::kHoldPassword);
    const char *id = r.request_id.c_str();
    if (r.hash.empty()) {
        cx.out.reply(s, id, JIM_RESP_SERVER_ERROR, "cannot hash the password");
        return;
    }
    Result res = cx.journal.create_user(r.name, r.hash, r.info, wall_seconds());
    if (res == Result::Ok) {
        HLOG(JIM_LOG_INFO, "account %s registered from %s", r.name.c_str(), s.ip.c_str());
        cx.out.reply(s, id, JIM_RESP_CREATED);
    } else if (res == Result::Exists) {
        cx.out.reply(s, id, JIM_RESP_CONFLICT, "account exists");
    } else {
        cx.out.reply(s, id, JIM_RESP_SERVER_ERROR, "database error");
    }
}

} // namespace

void h_presence(Context &cx, Session &s, const Request &rq)
{
    if (s.logged_in) {
        s.probed_at_us = 0;
        cx.out.reply(s, rq.id, JIM_RESP_OK); // a status update, or the answer to a probe
        return;
    }
    if (cx.settings.str(S_AUTH) != "none") {
        cx.out.reply(s, rq.id, JIM_RESP_UNAUTHORIZED, "log in first: authenticate");
        return;
    }
    // auth none: presence logs the connection in, creating the account if new.
    std::string name = jim_msg_get_str(rq.msg, JIM_FIELD_ACCOUNT_NAME);
    unsigned features = jim_msg_features(rq.msg);
    Account a;
    Result r = cx.journal.get_user(name, &a);
    if (r == Result::NotFound) {
        cx.journal.create_user(name, "", "", wall_seconds());
        r = cx.journal.get_user(name, &a);
    }
    if (r != Result::Ok) {
        WorkerCounters::add(cx.counters.login_failures);
        cx.out.reply(s, rq.id, JIM_RESP_SERVER_ERROR, "database error");
    } else if (a.banned) {
        WorkerCounters::add(cx.counters.login_failures);
        cx.out.reply(s, rq.id, JIM_RESP_FORBIDDEN, "account banned");
    } else if (too_many_sessions(cx, name)) {
        WorkerCounters::add(cx.counters.login_failures);
        cx.out.reply(s, rq.id, JIM_RESP_CONFLICT, "already logged in");
    } else {
        // Logged in by presence without ndjson: a course client, which reads messages in
        // the course's form even if it never sends one (a reader started with -r).
        if (!(features & JIM_FEATURE_NDJSON) && s.dialect == JIM_DIALECT_JIM)
            s.dialect = JIM_DIALECT_REFERENCE;
        log_in(cx, s, a, features, rq.id);
    }
}

void h_authenticate(Context &cx, Session &s, const Request &rq)
{
    if (s.logged_in) {
        cx.out.reply(s, rq.id, JIM_RESP_CONFLICT, "this session is logged in already");
        return;
    }
    auto check = std::make_shared<LoginCheck>();
    check->name = jim_msg_get_str(rq.msg, JIM_FIELD_ACCOUNT_NAME);
    std::string password = jim_msg_get_str(rq.msg, JIM_FIELD_PASSWORD);
    int64_t retry = 0;
    if (!login_attempt(cx, s, check->name, &retry)) {
        HLOG(JIM_LOG_WARNING, "log-in for '%s' from %s refused: too many failures",
             check->name.c_str(), s.ip.c_str());
        WorkerCounters::add(cx.counters.login_failures);
        cx.out.reply_retry(s, rq.id, JIM_RESP_TOO_MANY, "too many failed logins: try again later",
                           retry);
        return;
    }
    Result found = cx.journal.get_user(check->name, &check->account);
    if (found == Result::Error) {
        WorkerCounters::add(cx.counters.login_failures);
        cx.out.reply(s, rq.id, JIM_RESP_SERVER_ERROR, "database error");
        return;
    }
    check->known = found == Result::Ok;
    check->ip = s.ip;
    check->features = jim_msg_features(rq.msg);
    check->request_id = str_or(rq.id, "");
    // An unknown account is checked against a dummy hash of the same cost: same time,
    // same answer.
    std::string stored = check->known
                             ? check->account.pwhash
                             : password_dummy(static_cast<uint64_t>(cx.settings.num(S_SCRYPT_N)));
    uint64_t id = s.id;
    s.conn.hold(Connection::kHoldPassword);
    cx.passwords.submit([check, password,
                         stored] { check->ok = password_verify(password, stored) && check->known; },
                        [&cx, id, check] { authenticated(cx, id, *check); });
}

void h_register(Context &cx, Session &s, const Request &rq)
{
    if (cx.settings.str(S_REGISTRATION) != "open") {
        cx.out.reply(s, rq.id, JIM_RESP_FORBIDDEN, "registration is closed");
        return;
    }
    auto job = std::make_shared<Registration>();
    job->name = jim_msg_get_str(rq.msg, JIM_FIELD_ACCOUNT_NAME);
    job->info = str_or(jim_msg_get_str(rq.msg, JIM_FIELD_INFO), "");
    job->request_id = str_or(rq.id, "");
    std::string password = jim_msg_get_str(rq.msg, JIM_FIELD_PASSWORD);
    if (cx.journal.user_exists(job->name)) {
        cx.out.reply(s, rq.id, JIM_RESP_CONFLICT, "account exists");
        return;
    }
    // Registrations from one address are limited (each costs a password hash), on every
    // worker, counted by the journal like failed log-ins.
    int64_t retry = 0;
    if (cx.journal.count_registration(s.ip, cx.settings.num(S_REGISTER_WINDOW),
                                      cx.settings.num(S_REGISTER_MAX_IP), wall_seconds(),
                                      &retry) == Result::TooOften) {
        HLOG(JIM_LOG_WARNING, "registration from %s refused: too many", s.ip.c_str());
        cx.out.reply_retry(s, rq.id, JIM_RESP_TOO_MANY,
                           "too many accounts registered from this address", retry);
        return;
    }
    uint64_t n = static_cast<uint64_t>(cx.settings.num(S_SCRYPT_N));
    uint64_t id = s.id;
    s.conn.hold(Connection::kHoldPassword);
    cx.passwords.submit([job, password, n] { password_hash(password, n, &job->hash); },
                        [&cx, id, job] { registered(cx, id, *job); });
}

// The old password is checked like a log-in's (a wrong one counts as a failed log-in), then
// the new one hashed, both on the password thread.
void h_set_password(Context &cx, Session &s, const Request &rq)
{
    int64_t retry = 0;
    if (!login_attempt(cx, s, s.user, &retry)) {
        cx.out.reply_retry(s, rq.id, JIM_RESP_TOO_MANY, "too many failed logins: try again later",
                           retry);
        return;
    }
    Account a;
    if (cx.journal.get_user(s.user, &a) != Result::Ok) {
        cx.out.reply(s, rq.id, JIM_RESP_SERVER_ERROR, "database error");
        return;
    }
    auto c = std::make_shared<PasswordChange>();
    c->name = s.user;
    c->ip = s.ip;
    c->request_id = str_or(rq.id, "");
    std::string old_pw = jim_msg_get_str(rq.msg, JIM_FIELD_OLD_PASSWORD);
    std::string new_pw = jim_msg_get_str(rq.msg, JIM_FIELD_NEW_PASSWORD);
    uint64_t n = static_cast<uint64_t>(cx.settings.num(S_SCRYPT_N));
    uint64_t id = s.id;
    s.conn.hold(Connection::kHoldPassword);
    cx.passwords.submit(
        [c, old_pw, new_pw, stored = a.pwhash, n] {
            c->ok = password_verify(old_pw, stored);
            if (c->ok)
                password_hash(new_pw, n, &c->hash);
        },
        [&cx, id, c] { password_changed(cx, id, *c); });
}

void h_quit(Context &cx, Session &s, const Request &rq)
{
    cx.out.reply(s, rq.id, JIM_RESP_OK);
    cx.sessions.close(s);
}

void h_probe_answer(Context &, Session &s, const Request &)
{
    s.probed_at_us = 0;
}

void h_not_yet(Context &cx, Session &s, const Request &rq)
{
    cx.out.reply(s, rq.id, JIM_RESP_BAD_REQUEST, "action not supported by this server");
}

// What the queries found may still be on its way from another worker: after the second
// look the session keeps remembering for a while, then forgets.
void offline_delivery_done(Context &cx, Session &s, bool recheck)
{
    if (!recheck)
        return;
    s.rechecked = true;
    if (!s.handed_any()) { // nothing pushed from the database that could also come live
        s.stop_tracking();
        return;
    }
    cx.sessions.later(s.id, kForgetMs, [](Session &again) { again.stop_tracking(); });
}

// A look outside the login window: tracking may be over, so what it pushes must not have
// come live here; the router asks only for messages this worker did not write to a
// session (Deliver.also). While a look or a sync is being read, it waits its turn.
void look_again(Context &cx, Session &s, std::shared_ptr<const std::vector<int64_t>> only)
{
    if (s.conn.closing() || !s.logged_in || only->empty())
        return;
    if (s.stream) { // running, or started by a request a commit let go on
        cx.sessions.later(s.id, kLookAgainMs, [&cx, only](Session &again) {
            if (!again.stream)
                cx.journal.commit_now(); // the rows this session was handed are cleared first
            look_again(cx, again, only);
        });
        return;
    }
    int64_t before_first = only->front() - 1; // not in the call: `only` is moved there
    Stream::start(cx, s, Stream::Kind::Pending, before_first, nullptr, false, std::move(only));
}

} // namespace jimd

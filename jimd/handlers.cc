// The protocol's actions: one table, each entry saying whether it needs a logged-in session.
#include "worker.hh"

#include "clock.hh"

#include <algorithm>

namespace jimd {

#define WLOG(level, ...) JIM_LOG(log_, level, worker_tag(setup_.index), __VA_ARGS__)

const Worker::Handler Worker::kHandlers[] = {
    {JIM_ACTION_PRESENCE, false, &Worker::h_presence},
    {JIM_ACTION_AUTHENTICATE, false, &Worker::h_authenticate},
    {JIM_ACTION_REGISTER, false, &Worker::h_register},
    {JIM_ACTION_QUIT, false, &Worker::h_quit},
    {JIM_ACTION_MSG, true, &Worker::h_msg},
    {JIM_ACTION_JOIN, true, &Worker::h_join},
    {JIM_ACTION_LEAVE, true, &Worker::h_leave},
    {JIM_ACTION_GET_CONTACTS, true, &Worker::h_get_contacts},
    {JIM_ACTION_ADD_CONTACT, true, &Worker::h_add_contact},
    {JIM_ACTION_DEL_CONTACT, true, &Worker::h_del_contact},
    {JIM_ACTION_GET_ROOMS, true, &Worker::h_get_rooms},
    {JIM_ACTION_GET_USERS, true, &Worker::h_get_users},
    {JIM_ACTION_SYNC, true, &Worker::h_sync},
    {JIM_ACTION_HISTORY, true, &Worker::h_history},
    {JIM_ACTION_PROBE, true, &Worker::h_probe_answer},
    // Server-to-client objects and later extensions: known actions, not served here yet.
    {JIM_ACTION_CONTACT_LIST, true, &Worker::h_not_yet},
    {JIM_ACTION_ROOM_LIST, true, &Worker::h_not_yet},
    {JIM_ACTION_USER_LIST, true, &Worker::h_not_yet},
    {JIM_ACTION_PUT_KEY, true, &Worker::h_not_yet},
    {JIM_ACTION_GET_KEY, true, &Worker::h_not_yet},
    {JIM_ACTION_ADMIN_USERS, true, &Worker::h_not_yet},
    {JIM_ACTION_USER_STAT, true, &Worker::h_not_yet},
    {JIM_ACTION_ADMIN_STATS, true, &Worker::h_not_yet},
    {JIM_ACTION_ADMIN_KICK, true, &Worker::h_not_yet},
    {JIM_ACTION_ADMIN_BAN, true, &Worker::h_not_yet},
    {JIM_ACTION_ADMIN_SET, true, &Worker::h_not_yet},
};

const Worker::Handler *Worker::find_handler(jim_action a)
{
    for (const Handler &h : kHandlers)
        if (h.action == a)
            return &h;
    return nullptr;
}

// Counts a log-in attempt against the limits on failed log-ins, per account
// (login_failures_max) and, much more loosely, per address (login_failures_max_ip: many
// users may share one), over login_failures_window, on every worker at once (the count
// lives in the database). The attempt counts from the moment its password check starts,
// so that attempts made in parallel cannot pass the limit while their hashes run; a right
// password takes it back (login_forgiven). False with *retry_after when a limit is reached.
bool Worker::login_attempt(Session &s, const std::string &account, int64_t *retry_after)
{
    LoginLimits limits = {settings_.num(S_LOGIN_FAILURES_WINDOW),
                          settings_.num(S_LOGIN_FAILURES_MAX),
                          settings_.num(S_LOGIN_FAILURES_MAX_IP)};
    Result r = journal_->count_login_attempt(account, s.ip, limits, wall_seconds(), retry_after);
    if (r == Result::Error)
        WLOG(JIM_LOG_ERROR, "counting a log-in attempt failed: %s", journal_->error().c_str());
    return r != Result::TooOften; // a database error does not lock everyone out
}

void Worker::login_forgiven(const std::string &ip, const std::string &account)
{
    if (!journal_->forgive_login_attempt(account, ip))
        WLOG(JIM_LOG_ERROR, "taking back a log-in attempt failed: %s", journal_->error().c_str());
}

void Worker::log_in(Session &s, const Account &a, unsigned features)
{
    s.logged_in = true;
    s.user = a.name;
    s.user_id = a.id;
    s.admin = a.role == "admin";
    s.ndjson = (features & JIM_FEATURE_NDJSON) != 0;
    std::vector<std::string> rooms, contacts;
    journal_->user_rooms(a.id, &rooms);
    journal_->contacts(a.id, &contacts);
    if (!general().empty())
        rooms.push_back(general()); // everyone is in the general chat, without joining
    s.general_since = a.general_since;
    s.rooms = {rooms.begin(), rooms.end()};
    s.contacts = {contacts.begin(), contacts.end()};
    for (const std::string &r : rooms)
        by_room_[r].push_back(&s);
    bool was_online = online_anywhere(a.name);
    by_user_[a.name].push_back(&s);
    // Sent before the 200: once the user has the answer, every worker that reads a
    // message for them finds the news in its mesh socket (catch_up_with_peers).
    announce_sessions(a.name);
    mesh_->flush_now();
    journal_->record_login(a.id, wall_seconds(), s.ip);
    WLOG(JIM_LOG_INFO, "%s logged in from %s%s", a.name.c_str(), s.ip.c_str(),
         s.ndjson ? " (ndjson)" : "");
    reply(s, 200);
    if (!was_online)
        became_online(a.name);
    offline_delivery(s);
}

void Worker::h_presence(Session &s, jim_msg *m)
{
    if (s.logged_in) {
        s.probed = false;
        reply(s, 200); // a status update, or the answer to a probe
        return;
    }
    if (settings_.str(S_AUTH) != "none") {
        reply(s, 401, "log in first: authenticate");
        return;
    }
    // auth none: presence logs the connection in, creating the account if new.
    std::string name = jim_msg_get_str(m, JIM_FIELD_ACCOUNT_NAME);
    unsigned features = jim_msg_features(m);
    Account a;
    Result r = journal_->get_user(name, &a);
    if (r == Result::NotFound) {
        journal_->create_user(name, "", "", wall_seconds());
        r = journal_->get_user(name, &a);
    }
    if (r != Result::Ok) {
        reply(s, 500, "database error");
        return;
    }
    if (a.banned) {
        reply(s, 403, "account banned");
        return;
    }
    if (static_cast<long>(sessions_of(name)) >= settings_.num(S_MAX_SESSIONS)) {
        reply(s, 409, "already logged in");
        return;
    }
    // Logged in by presence without ndjson: a course client, which reads messages in the
    // course's form even if it never sends one (a reader started with -r).
    if (!(features & JIM_FEATURE_NDJSON) && s.dialect == JIM_DIALECT_JIM)
        s.dialect = JIM_DIALECT_REFERENCE;
    log_in(s, a, features);
}

void Worker::h_authenticate(Session &s, jim_msg *m)
{
    if (s.logged_in) {
        reply(s, 409, "this session is logged in already");
        return;
    }
    std::string name = jim_msg_get_str(m, JIM_FIELD_ACCOUNT_NAME);
    std::string password = jim_msg_get_str(m, JIM_FIELD_PASSWORD);
    int64_t retry = 0;
    if (!login_attempt(s, name, &retry)) {
        WLOG(JIM_LOG_WARNING, "log-in for '%s' from %s refused: too many failures", name.c_str(),
             s.ip.c_str());
        jim_msg *r = response(429, "too many failed logins: try again later");
        jim_msg_set_int(r, JIM_FIELD_RETRY_AFTER, retry);
        emit(s, r);
        return;
    }
    auto check = std::make_shared<LoginCheck>();
    Result found = journal_->get_user(name, &check->account);
    if (found == Result::Error) {
        reply(s, 500, "database error");
        return;
    }
    check->known = found == Result::Ok;
    check->name = name;
    check->ip = s.ip;
    check->features = jim_msg_features(m);
    const char *rid = jim_msg_get_str(m, JIM_FIELD_ID);
    check->request_id = rid ? rid : "";
    // An unknown account is checked against a dummy hash of the same cost: same time,
    // same answer.
    std::string stored = check->known
                             ? check->account.pwhash
                             : password_dummy(static_cast<uint64_t>(settings_.num(S_SCRYPT_N)));
    uint64_t id = s.id;
    s.paused = true;
    hasher_->submit([check, password,
                     stored] { check->ok = password_verify(password, stored) && check->known; },
                    [this, id, check] { authenticated(id, *check); });
}

// On the loop, once the password of an authenticate was checked.
void Worker::authenticated(uint64_t session_id, const LoginCheck &c)
{
    if (c.ok)
        login_forgiven(c.ip, c.name); // whether or not the session is still there
    Session *sp = find(session_id);
    if (!sp || sp->closing)
        return;
    Session &s = *sp;
    s.paused = false;
    jim_msg_reset(in_); // replies below must not echo another request's id
    if (!c.request_id.empty())
        jim_msg_set_str(in_, JIM_FIELD_ID, c.request_id.c_str());
    if (!c.ok) {
        WLOG(JIM_LOG_WARNING, "failed login for '%s' from %s", c.name.c_str(), s.ip.c_str());
        reply(s, 402);
    } else if (c.account.banned) {
        reply(s, 403, "account banned");
    } else {
        if (static_cast<long>(sessions_of(c.name)) >= settings_.num(S_MAX_SESSIONS))
            reply(s, 409, "already logged in");
        else
            log_in(s, c.account, c.features);
    }
    process_input(s); // requests that arrived meanwhile
}

void Worker::h_register(Session &s, jim_msg *m)
{
    if (settings_.str(S_REGISTRATION) != "open") {
        reply(s, 403, "registration is closed");
        return;
    }
    std::string name = jim_msg_get_str(m, JIM_FIELD_ACCOUNT_NAME);
    std::string password = jim_msg_get_str(m, JIM_FIELD_PASSWORD);
    const char *info_c = jim_msg_get_str(m, JIM_FIELD_INFO);
    std::string info = info_c ? info_c : "";
    if (journal_->user_exists(name)) {
        reply(s, 409, "account exists");
        return;
    }
    // Registrations from one address are limited (each costs a password hash), on every
    // worker, counted in the database like failed log-ins.
    int64_t retry = 0;
    if (journal_->count_registration(s.ip, settings_.num(S_REGISTER_WINDOW),
                                     settings_.num(S_REGISTER_MAX_IP), wall_seconds(),
                                     &retry) == Result::TooOften) {
        WLOG(JIM_LOG_WARNING, "registration from %s refused: too many", s.ip.c_str());
        jim_msg *r = response(429, "too many accounts registered from this address");
        jim_msg_set_int(r, JIM_FIELD_RETRY_AFTER, retry);
        emit(s, r);
        return;
    }
    auto job = std::make_shared<Registration>();
    job->name = name;
    job->info = info;
    const char *rid = jim_msg_get_str(m, JIM_FIELD_ID);
    job->request_id = rid ? rid : "";
    uint64_t n = static_cast<uint64_t>(settings_.num(S_SCRYPT_N));
    uint64_t id = s.id;
    s.paused = true;
    hasher_->submit([job, password, n] { password_hash(password, n, &job->hash); },
                    [this, id, job] { registered(id, *job); });
}

// On the loop, once the password of a register was hashed.
void Worker::registered(uint64_t session_id, const Registration &r)
{
    Session *sp = find(session_id);
    if (!sp || sp->closing)
        return;
    Session &s = *sp;
    s.paused = false;
    jim_msg_reset(in_);
    if (!r.request_id.empty())
        jim_msg_set_str(in_, JIM_FIELD_ID, r.request_id.c_str());
    if (r.hash.empty()) {
        reply(s, 500, "cannot hash the password");
    } else {
        Result res = journal_->create_user(r.name, r.hash, r.info, wall_seconds());
        if (res == Result::Ok) {
            WLOG(JIM_LOG_INFO, "account %s registered from %s", r.name.c_str(), s.ip.c_str());
            reply(s, 201);
        } else {
            reply(s, res == Result::Exists ? 409 : 500,
                  res == Result::Exists ? "account exists" : "database error");
        }
    }
    process_input(s);
}

void Worker::h_quit(Session &s, jim_msg *)
{
    reply(s, 200);
    close_session(s);
}

void Worker::h_probe_answer(Session &s, jim_msg *)
{
    s.probed = false;
}

void Worker::h_not_yet(Session &s, jim_msg *)
{
    reply(s, 400, "action not supported by this server");
}

void Worker::h_msg(Session &s, jim_msg *m)
{
    // Token bucket: msg_rate per second, msg_burst at once.
    long rate = settings_.num(S_MSG_RATE);
    if (rate > 0) {
        int64_t now = mono_us();
        double burst = static_cast<double>(settings_.num(S_MSG_BURST));
        s.tokens = std::min(burst, s.tokens + static_cast<double>(now - s.tokens_at_us) *
                                                  static_cast<double>(rate) / 1e6);
        s.tokens_at_us = now;
        if (s.tokens < 1) {
            jim_msg *r = response(429, "too many messages");
            jim_msg_set_int(r, JIM_FIELD_RETRY_AFTER, 1);
            emit(s, r);
            return;
        }
        s.tokens -= 1;
    }
    std::string &to = name_; // reused: no allocation for a long name
    if (const char *t = jim_msg_get_str(m, JIM_FIELD_TO)) {
        to.assign(t);
    } else if (!general().empty()) {
        to.assign(general()); // no `to`: the general chat (the course's broadcast chat)
    } else {
        reply(s, 400, "missing field 'to'");
        return;
    }
    bool room = to[0] == '#';
    if (room) {
        if (!s.rooms.count(to)) {
            bool exists = journal_->room_exists(to);
            reply(s, exists ? 403 : 404, exists ? "not a member of this room" : "no such room");
            return;
        }
    } else if (!journal_->user_exists(to)) {
        reply(s, 404, "no such user");
        return;
    }
    // The batch entry is reused: every field is set, and the strings keep their capacity.
    // Whether the recipient is online is decided when the batch is committed.
    Entry &p = journal_->append();
    p.origin = s.id;
    p.room = room;
    p.keep_offline = settings_.str(S_OFFLINE_STORAGE) != "off";
    p.msg.to = to;
    p.msg.from = s.user;
    p.msg.time = wall_seconds();
    size_t text_len = 0;
    const char *text = "";
    jim_msg_get_strn(m, JIM_FIELD_MESSAGE, &text, &text_len);
    p.msg.text.assign(text, text_len);
    const char *enc = jim_msg_get_str(m, JIM_FIELD_ENCODING);
    p.msg.encoding = enc ? enc : "";
    const char *cid = jim_msg_get_str(m, JIM_FIELD_ID);
    p.msg.client_id = cid ? cid : "";
    s.in_batch++;
}

void Worker::h_join(Session &s, jim_msg *m)
{
    std::string room = jim_msg_get_str(m, JIM_FIELD_ROOM);
    if (room == general()) {
        reply(s, 200, "everyone is in the general chat");
        return;
    }
    Result r = journal_->join(room, s.user_id, wall_seconds(),
                              static_cast<int>(settings_.num(S_MAX_ROOMS_PER_USER)),
                              static_cast<int>(settings_.num(S_ROOM_CREATIONS_PER_HOUR)));
    if (r == Result::Error) {
        reply(s, 500, "database error");
        return;
    }
    if (r == Result::TooMany) {
        reply(s, 400,
              "limit exceeded: you are a member of max_rooms_per_user rooms; leave one first");
        return;
    }
    if (r == Result::TooOften) {
        jim_msg *resp = response(429, "too many rooms created in the last hour");
        jim_msg_set_int(resp, JIM_FIELD_RETRY_AFTER, 3600);
        emit(s, resp);
        return;
    }
    // A user's membership lives in each of their sessions on this worker.
    for (Session *other : by_user_[s.user]) {
        if (other->rooms.insert(room).second)
            by_room_[room].push_back(other);
    }
    reply(s, 200);
}

void Worker::h_leave(Session &s, jim_msg *m)
{
    std::string room = jim_msg_get_str(m, JIM_FIELD_ROOM);
    if (room == general()) {
        reply(s, 403, "everyone is in the general chat: it cannot be left");
        return;
    }
    Result r = journal_->leave(room, s.user_id);
    if (r == Result::Error) {
        reply(s, 500, "database error");
        return;
    }
    if (r == Result::NotFound) {
        reply(s, 404, "not a member of this room");
        return;
    }
    for (Session *other : by_user_[s.user]) {
        if (other->rooms.erase(room))
            std::erase(by_room_[room], other);
    }
    if (by_room_[room].empty())
        by_room_.erase(room);
    reply(s, 200);
}

// A list reply: 202 with the quantity, then one `action` entry per name with its status.
void Worker::send_name_list(Session &s, jim_action action, const std::vector<std::string> &names)
{
    if (s.dialect == JIM_DIALECT_DB) {
        send_data_list(s, names);
        return;
    }
    jim_msg *r = response(202);
    jim_msg_set_int(r, JIM_FIELD_QUANTITY, static_cast<int64_t>(names.size()));
    emit(s, r);
    for (const std::string &n : names) {
        jim_msg_init_action(out_, action);
        jim_msg_set_str(out_, JIM_FIELD_USER_ID, n.c_str());
        jim_msg_set_str(out_, JIM_FIELD_STATUS, online_anywhere(n) ? "online" : "offline");
        emit(s, out_);
    }
}

// The database course's list reply: one object, {"response":202,"data_list":[...]}. Its
// clients read a reply with one recv(1024), so the list holds the names, in order, that
// fit in 1,024 bytes with the rest of the object (about 40 names of 20 characters).
void Worker::send_data_list(Session &s, const std::vector<std::string> &names)
{
    jim_msg *r = response(202);
    jim_msg_set_dialect(r, s.dialect);
    std::vector<const char *> items;
    for (const std::string &n : names)
        items.push_back(n.c_str());
    const char *json = nullptr;
    size_t len = 0;
    auto encode = [&](size_t n) {
        jim_msg_set_list(r, JIM_FIELD_DATA_LIST, items.data(), n);
        return jim_msg_encode(r, &json, &len) == JIM_OK;
    };
    size_t lo = 0, hi = items.size(); // the most names that fit are in [lo, hi]
    while (lo < hi) {
        size_t mid = (lo + hi + 1) / 2;
        if (encode(mid) && len <= kCourseReadBytes)
            lo = mid;
        else
            hi = mid - 1;
    }
    if (encode(lo))
        s.send(std::string_view(json, len));
}

void Worker::h_get_contacts(Session &s, jim_msg *)
{
    std::vector<std::string> names;
    if (!journal_->contacts(s.user_id, &names)) {
        reply(s, 500, "database error");
        return;
    }
    send_name_list(s, JIM_ACTION_CONTACT_LIST, names);
}

void Worker::h_add_contact(Session &s, jim_msg *m)
{
    std::string name = jim_msg_get_str(m, JIM_FIELD_USER_ID);
    Result r = journal_->add_contact(s.user_id, name);
    if (r == Result::NotFound) {
        reply(s, 404, "no such user");
        return;
    }
    if (r == Result::Error) {
        reply(s, 500, "database error");
        return;
    }
    for (Session *other : by_user_[s.user])
        other->contacts.insert(name);
    reply(s, 200);
}

void Worker::h_del_contact(Session &s, jim_msg *m)
{
    std::string name = jim_msg_get_str(m, JIM_FIELD_USER_ID);
    Result r = journal_->del_contact(s.user_id, name);
    if (r == Result::NotFound) {
        reply(s, 404, "not in your contacts");
        return;
    }
    if (r == Result::Error) {
        reply(s, 500, "database error");
        return;
    }
    for (Session *other : by_user_[s.user])
        other->contacts.erase(name);
    reply(s, 200);
}

// Rooms in name order: those starting with `query`, after `after` (the last name of the
// previous page), at most `limit` (default and most: 500).
void Worker::h_get_rooms(Session &s, jim_msg *m)
{
    const char *q = jim_msg_get_str(m, JIM_FIELD_QUERY);
    const char *after = jim_msg_get_str(m, JIM_FIELD_AFTER);
    int64_t limit = kMaxListed;
    jim_msg_get_int(m, JIM_FIELD_LIMIT, &limit);
    std::vector<std::pair<std::string, int64_t>> rooms;
    if (!journal_->rooms(q ? q : "", after ? after : "",
                         static_cast<int>(std::clamp<int64_t>(limit, 1, kMaxListed)), &rooms)) {
        reply(s, 500, "database error");
        return;
    }
    add_general_chat(q ? q : "", after ? after : "", static_cast<size_t>(limit), &rooms);
    jim_msg *r = response(202);
    jim_msg_set_int(r, JIM_FIELD_QUANTITY, static_cast<int64_t>(rooms.size()));
    emit(s, r);
    for (const auto &[name, members] : rooms) {
        jim_msg_init_action(out_, JIM_ACTION_ROOM_LIST);
        jim_msg_set_str(out_, JIM_FIELD_ROOM, name.c_str());
        jim_msg_set_int(out_, JIM_FIELD_MEMBERS, members);
        emit(s, out_);
    }
}

// The general chat has no row among the rooms: it goes into a page of get_rooms where its
// name falls, with every account as a member.
void Worker::add_general_chat(const std::string &prefix, const std::string &after, size_t limit,
                              std::vector<std::pair<std::string, int64_t>> *rooms)
{
    const std::string &g = general();
    if (g.empty() || !g.starts_with(prefix) || g <= after)
        return;
    auto at =
        std::lower_bound(rooms->begin(), rooms->end(), g,
                         [](const auto &row, const std::string &name) { return row.first < name; });
    if (at == rooms->end() && rooms->size() >= limit)
        return; // beyond this page
    rooms->insert(at, {g, std::max<int64_t>(journal_->user_count(), 0)});
    if (rooms->size() > limit)
        rooms->pop_back();
}

void Worker::h_get_users(Session &s, jim_msg *m)
{
    const char *q = jim_msg_get_str(m, JIM_FIELD_QUERY);
    const char *after = jim_msg_get_str(m, JIM_FIELD_AFTER);
    std::vector<std::string> names;
    if (!journal_->users_with_prefix(q ? q : "", after ? after : "", 100, &names)) {
        reply(s, 500, "database error");
        return;
    }
    send_name_list(s, JIM_ACTION_USER_LIST, names);
}

// The messages since a seq, produced a page at a time as the client reads (pump), then
// the 200 with the last seq sent.
void Worker::h_sync(Session &s, jim_msg *m)
{
    int64_t since = 0;
    jim_msg_get_int(m, JIM_FIELD_SINCE, &since);
    const char *id = jim_msg_get_str(m, JIM_FIELD_ID);
    start_stream(s, Stream::Kind::Sync, since, id ? id : "", false);
}

void Worker::h_history(Session &s, jim_msg *m)
{
    std::string with = jim_msg_get_str(m, JIM_FIELD_WITH);
    int64_t before = INT64_MAX, limit = 50;
    jim_msg_get_int(m, JIM_FIELD_BEFORE, &before);
    jim_msg_get_int(m, JIM_FIELD_LIMIT, &limit);
    if (with[0] == '#') {
        if (!s.rooms.count(with)) {
            bool exists = journal_->room_exists(with);
            reply(s, exists ? 403 : 404, exists ? "not a member of this room" : "no such room");
            return;
        }
    } else if (!journal_->user_exists(with)) {
        reply(s, 404, "no such user");
        return;
    }
    std::vector<StoredMessage> rows;
    if (!journal_->read_history(s.user, with, before, static_cast<int>(limit), &rows)) {
        reply(s, 500, "database error");
        return;
    }
    jim_msg *r = response(202);
    jim_msg_set_int(r, JIM_FIELD_QUANTITY, static_cast<int64_t>(rows.size()));
    emit(s, r);
    for (const StoredMessage &sm : rows)
        push_stored(s, sm);
}

} // namespace jimd

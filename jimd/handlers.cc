// The table of actions and the dispatch that applies it (handlers.hh).
#include "handlers.hh"

namespace jimd {

namespace {

// One entry of the action table.
struct Handler {
    jim_action action;
    bool needs_login; // the @login_required of the course: checked before the call
    HandlerFn fn;
    bool admin = false; // an admin account's session, or the control socket
};

const Handler kHandlers[] = {
    {JIM_ACTION_PRESENCE, false, h_presence},
    {JIM_ACTION_AUTHENTICATE, false, h_authenticate},
    {JIM_ACTION_REGISTER, false, h_register},
    {JIM_ACTION_QUIT, false, h_quit},
    {JIM_ACTION_MSG, true, h_msg},
    {JIM_ACTION_JOIN, true, h_join},
    {JIM_ACTION_LEAVE, true, h_leave},
    {JIM_ACTION_GET_CONTACTS, true, h_get_contacts},
    {JIM_ACTION_ADD_CONTACT, true, h_add_contact},
    {JIM_ACTION_DEL_CONTACT, true, h_del_contact},
    {JIM_ACTION_GET_ROOMS, true, h_get_rooms},
    {JIM_ACTION_GET_USERS, true, h_get_users},
    {JIM_ACTION_SYNC, true, h_sync},
    {JIM_ACTION_HISTORY, true, h_history},
    {JIM_ACTION_PROBE, true, h_probe_answer},
    {JIM_ACTION_PUT_KEY, true, h_put_key},
    {JIM_ACTION_GET_KEY, true, h_get_key},
    {JIM_ACTION_SET_PASSWORD, true, h_set_password},
    {JIM_ACTION_ADMIN_USERS, true, h_admin_users, true},
    {JIM_ACTION_ADMIN_STATS, true, h_admin_stats, true},
    {JIM_ACTION_ADMIN_KICK, true, h_admin_kick, true},
    {JIM_ACTION_ADMIN_BAN, true, h_admin_ban, true},
    {JIM_ACTION_ADMIN_UNBAN, true, h_admin_unban, true},
    {JIM_ACTION_ADMIN_SET, true, h_admin_set, true},
    {JIM_ACTION_ADMIN_ADD_USER, true, h_admin_add_user, true},
    {JIM_ACTION_ADMIN_PASSWORD, true, h_admin_password, true},
    {JIM_ACTION_ADMIN_ROLE, true, h_admin_role, true},
    // Server-to-client objects and later extensions: known actions, not served here yet.
    {JIM_ACTION_CONTACT_LIST, true, h_not_yet},
    {JIM_ACTION_ROOM_LIST, true, h_not_yet},
    {JIM_ACTION_USER_LIST, true, h_not_yet},
    {JIM_ACTION_USER_STAT, true, h_not_yet},
};

const Handler *find_handler(jim_action a)
{
    for (const Handler &h : kHandlers)
        if (h.action == a)
            return &h;
    return nullptr;
}

// Whether the session's account has the admin role now (read at each request, so that a
// changed role counts at once; admin requests are rare).
bool is_admin(Context &cx, const Session &s)
{
    Account a;
    return s.logged_in && cx.journal.get_user(s.user, &a) == Result::Ok && a.role == "admin";
}

// Who may run h: 0, or the code that refuses the session. The control socket serves the
// admin actions and quit only, without a login.
int refusal(Context &cx, const Session &s, const Handler &h)
{
    if (s.control)
        return h.admin || h.action == JIM_ACTION_QUIT ? 0 : JIM_RESP_FORBIDDEN;
    if (h.needs_login && !s.logged_in)
        return JIM_RESP_UNAUTHORIZED;
    if (h.admin && !is_admin(cx, s))
        return JIM_RESP_FORBIDDEN;
    return 0;
}

// Runs the handler of m's action, with the login check.
void run(Context &cx, Session &s, jim_msg *m)
{
    jim_action a = jim_msg_action(m);
    Request rq = {m, jim_msg_get_str(m, JIM_FIELD_ID)};
    JIM_LOG(cx.log, JIM_LOG_DEBUG, cx.tag, "session %llu%s%s: %s",
            static_cast<unsigned long long>(s.id), s.logged_in ? " " : "", s.user.c_str(),
            jim_action_name(a));
    const Handler *h = find_handler(a);
    if (!h)
        cx.out.reply(s, rq.id, JIM_RESP_BAD_REQUEST, "unknown action");
    else if (int code = refusal(cx, s, *h); code == JIM_RESP_FORBIDDEN)
        cx.out.reply(s, rq.id, code,
                     s.control ? "the control socket serves admin actions only" : "admins only");
    else if (code)
        cx.out.reply(s, rq.id, code);
    else
        h->fn(cx, s, rq);
}

} // namespace

void dispatch(Context &cx, Session &s, jim_msg *m)
{
    if (jim_msg_response(m) != 0)
        return; // a client's response, e.g. to a probe: nothing to answer
    // A session speaks the course's dialect it was last seen using; the database course's
    // (lists as data_list) includes the reference one's (messages with mess_text).
    if (jim_msg_dialect(m) > s.dialect)
        s.dialect = jim_msg_dialect(m);
    // Answers go out in request order: a request after messages of this session that are
    // not committed yet waits for their commit (and with it the requests after it).
    if (s.in_batch > 0 && jim_msg_action(m) != JIM_ACTION_MSG) {
        jim_msg *copy = s.waiting.get();
        if (!copy && jim_msg_new(&copy) == JIM_OK)
            s.waiting.reset(copy);
        if (copy && jim_msg_copy(copy, m) == JIM_OK) {
            s.conn.hold(Connection::kHoldCommit);
            return;
        }
        cx.journal.commit_now(); // out of memory: commit at once instead
    }
    run(cx, s, m);
}

void dispatch_waiting(Context &cx, Session &s)
{
    if (!s.conn.held(Connection::kHoldCommit))
        return;
    std::unique_ptr<jim_msg, MsgFree> m = std::move(s.waiting);
    if (!s.conn.closing())
        run(cx, s, m.get());
    s.conn.release(Connection::kHoldCommit);
}

} // namespace jimd

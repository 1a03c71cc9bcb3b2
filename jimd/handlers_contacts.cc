// The contacts family: get_contacts, add_contact, del_contact, and get_users, with the two
// forms a list goes out in.
#include "handlers.hh"

namespace jimd {

namespace {

constexpr size_t kCourseReadBytes = 1024; // what a course client reads at once

// The database course's list reply: one object, {"response":202,"data_list":[...]}. Its
// clients read a reply with one recv(1024), so the list holds the names, in order, that
// fit in 1,024 bytes with the rest of the object (about 40 names of 20 characters).
void send_data_list(Context &cx, Session &s, const char *id, const std::vector<std::string> &names)
{
    jim_msg *r = cx.out.response(id, JIM_RESP_ACCEPTED);
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
        s.conn.send(std::string_view(json, len));
}

// A list reply: 202 with the quantity, then one `action` entry per name with its status.
void send_name_list(Context &cx, Session &s, const char *id, jim_action action,
                    const std::vector<std::string> &names)
{
    if (s.dialect == JIM_DIALECT_DB) {
        send_data_list(cx, s, id, names);
        return;
    }
    jim_msg *r = cx.out.response(id, JIM_RESP_ACCEPTED);
    jim_msg_set_int(r, JIM_FIELD_QUANTITY, static_cast<int64_t>(names.size()));
    cx.out.send(s, r);
    for (const std::string &n : names) {
        jim_msg *m = cx.out.object(action);
        jim_msg_set_str(m, JIM_FIELD_USER_ID, n.c_str());
        jim_msg_set_str(m, JIM_FIELD_STATUS, cx.router.online_anywhere(n) ? "online" : "offline");
        cx.out.send(s, m);
    }
}

} // namespace

void h_get_contacts(Context &cx, Session &s, const Request &rq)
{
    std::vector<std::string> names;
    if (!cx.journal.contacts(s.user_id, &names)) {
        cx.out.reply(s, rq.id, JIM_RESP_SERVER_ERROR, "database error");
        return;
    }
    send_name_list(cx, s, rq.id, JIM_ACTION_CONTACT_LIST, names);
}

void h_add_contact(Context &cx, Session &s, const Request &rq)
{
    std::string name = jim_msg_get_str(rq.msg, JIM_FIELD_USER_ID);
    Result r = cx.journal.add_contact(s.user_id, name);
    if (r == Result::NotFound) {
        cx.out.reply(s, rq.id, JIM_RESP_NOT_FOUND, "no such user");
    } else if (r == Result::Error) {
        cx.out.reply(s, rq.id, JIM_RESP_SERVER_ERROR, "database error");
    } else {
        for (Session *other : cx.router.local_sessions(s.user)) // the list lives in each
            other->contacts.insert(name);
        cx.out.reply(s, rq.id, JIM_RESP_OK);
    }
}

void h_del_contact(Context &cx, Session &s, const Request &rq)
{
    std::string name = jim_msg_get_str(rq.msg, JIM_FIELD_USER_ID);
    Result r = cx.journal.del_contact(s.user_id, name);
    if (r == Result::NotFound) {
        cx.out.reply(s, rq.id, JIM_RESP_NOT_FOUND, "not in your contacts");
    } else if (r == Result::Error) {
        cx.out.reply(s, rq.id, JIM_RESP_SERVER_ERROR, "database error");
    } else {
        for (Session *other : cx.router.local_sessions(s.user))
            other->contacts.erase(name);
        cx.out.reply(s, rq.id, JIM_RESP_OK);
    }
}

void h_get_users(Context &cx, Session &s, const Request &rq)
{
    const char *q = jim_msg_get_str(rq.msg, JIM_FIELD_QUERY);
    const char *after = jim_msg_get_str(rq.msg, JIM_FIELD_AFTER);
    std::vector<std::string> names;
    if (!cx.journal.users_with_prefix(q ? q : "", after ? after : "", 100, &names)) {
        cx.out.reply(s, rq.id, JIM_RESP_SERVER_ERROR, "database error");
        return;
    }
    send_name_list(cx, s, rq.id, JIM_ACTION_USER_LIST, names);
}

} // namespace jimd

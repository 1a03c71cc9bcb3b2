// The rooms family: join, leave, get_rooms — the general chat among them, though it has no
// row in the journal: every account is in it.
#include "handlers.hh"

#include "clock.hh"

#include <algorithm>

namespace jimd {

namespace {

// The general chat goes into a page of get_rooms where its name falls, with every account
// as a member.
void add_general_chat(Context &cx, const std::string &prefix, const std::string &after,
                      size_t limit, std::vector<std::pair<std::string, int64_t>> *rooms)
{
    const std::string &g = cx.settings.str(S_GENERAL_CHAT);
    if (g.empty() || !g.starts_with(prefix) || g <= after)
        return;
    auto at =
        std::lower_bound(rooms->begin(), rooms->end(), g,
                         [](const auto &row, const std::string &name) { return row.first < name; });
    if (at == rooms->end() && rooms->size() >= limit)
        return; // beyond this page
    rooms->insert(at, {g, std::max<int64_t>(cx.journal.user_count(), 0)});
    if (rooms->size() > limit)
        rooms->pop_back();
}

} // namespace

void h_join(Context &cx, Session &s, const Request &rq)
{
    std::string room = jim_msg_get_str(rq.msg, JIM_FIELD_ROOM);
    if (room == cx.settings.str(S_GENERAL_CHAT)) {
        cx.out.reply(s, rq.id, JIM_RESP_OK, "everyone is in the general chat");
        return;
    }
    Result r = cx.journal.join(room, s.user_id, wall_seconds(),
                               static_cast<int>(cx.settings.num(S_MAX_ROOMS_PER_USER)),
                               static_cast<int>(cx.settings.num(S_ROOM_CREATIONS_PER_HOUR)));
    if (r == Result::Error) {
        cx.out.reply(s, rq.id, JIM_RESP_SERVER_ERROR, "database error");
    } else if (r == Result::TooMany) {
        cx.out.reply(s, rq.id, JIM_RESP_BAD_REQUEST,
                     "limit exceeded: you are a member of max_rooms_per_user rooms; leave one "
                     "first");
    } else if (r == Result::TooOften) {
        cx.out.reply_retry(s, rq.id, JIM_RESP_TOO_MANY, "too many rooms created in the last hour",
                           3600);
    } else {
        cx.router.join_room(s.user, room); // every session of the user here
        cx.out.reply(s, rq.id, JIM_RESP_OK);
    }
}

void h_leave(Context &cx, Session &s, const Request &rq)
{
    std::string room = jim_msg_get_str(rq.msg, JIM_FIELD_ROOM);
    if (room == cx.settings.str(S_GENERAL_CHAT)) {
        cx.out.reply(s, rq.id, JIM_RESP_FORBIDDEN,
                     "everyone is in the general chat: it cannot be left");
        return;
    }
    Result r = cx.journal.leave(room, s.user_id);
    if (r == Result::Error) {
        cx.out.reply(s, rq.id, JIM_RESP_SERVER_ERROR, "database error");
    } else if (r == Result::NotFound) {
        cx.out.reply(s, rq.id, JIM_RESP_NOT_FOUND, "not a member of this room");
    } else {
        cx.router.leave_room(s.user, room);
        cx.out.reply(s, rq.id, JIM_RESP_OK);
    }
}

// Rooms in name order: those starting with `query`, after `after` (the last name of the
// previous page), at most `limit` (default and most: kMaxListed).
void h_get_rooms(Context &cx, Session &s, const Request &rq)
{
    const char *q = jim_msg_get_str(rq.msg, JIM_FIELD_QUERY);
    const char *after = jim_msg_get_str(rq.msg, JIM_FIELD_AFTER);
    int64_t limit = kMaxListed;
    jim_msg_get_int(rq.msg, JIM_FIELD_LIMIT, &limit);
    std::vector<std::pair<std::string, int64_t>> rooms;
    if (!cx.journal.rooms(q ? q : "", after ? after : "",
                          static_cast<int>(std::clamp<int64_t>(limit, 1, kMaxListed)), &rooms)) {
        cx.out.reply(s, rq.id, JIM_RESP_SERVER_ERROR, "database error");
        return;
    }
    add_general_chat(cx, q ? q : "", after ? after : "", static_cast<size_t>(limit), &rooms);
    jim_msg *r = cx.out.response(rq.id, JIM_RESP_ACCEPTED);
    jim_msg_set_int(r, JIM_FIELD_QUANTITY, static_cast<int64_t>(rooms.size()));
    cx.out.send(s, r);
    for (const auto &[name, members] : rooms) {
        jim_msg *m = cx.out.object(JIM_ACTION_ROOM_LIST);
        jim_msg_set_str(m, JIM_FIELD_ROOM, name.c_str());
        jim_msg_set_int(m, JIM_FIELD_MEMBERS, members);
        cx.out.send(s, m);
    }
}

} // namespace jimd

// The messages family: msg (accepted into the journal's batch, answered once committed),
// sync and history.
#include "handlers.hh"

#include "clock.hh"
#include "stream.hh"

#include <algorithm>
#include <string_view>

namespace jimd {

namespace {

// Token bucket: msg_rate per second, msg_burst at once. False when the session has none.
bool take_token(Context &cx, Session &s)
{
    long rate = cx.settings.num(S_MSG_RATE);
    if (rate <= 0)
        return true;
    int64_t now = mono_us();
    double burst = static_cast<double>(cx.settings.num(S_MSG_BURST));
    s.tokens = std::min(burst, s.tokens + static_cast<double>(now - s.tokens_at_us) *
                                              static_cast<double>(rate) / 1e6);
    s.tokens_at_us = now;
    if (s.tokens < 1)
        return false;
    s.tokens -= 1;
    return true;
}

// Whether s may write to (or read the history of) the room or user `to`: else answered
// 403 or 404.
bool may_address(Context &cx, Session &s, const Request &rq, std::string_view to)
{
    if (to.empty()) {
        cx.out.reply(s, rq.id, JIM_RESP_BAD_REQUEST, "no user or room named");
        return false;
    }
    if (to[0] == '#') {
        if (s.rooms.count(to) || to == cx.settings.str(S_GENERAL_CHAT))
            return true; // everyone is in the general chat, without joining
        bool exists = cx.journal.room_exists(std::string(to));
        cx.out.reply(s, rq.id, exists ? JIM_RESP_FORBIDDEN : JIM_RESP_NOT_FOUND,
                     exists ? "not a member of this room" : "no such room");
        return false;
    }
    // Online somewhere: the account exists (accounts are never deleted), no look-up needed.
    if (cx.router.online_anywhere(to) || cx.journal.user_exists(to))
        return true;
    cx.out.reply(s, rq.id, JIM_RESP_NOT_FOUND, "no such user");
    return false;
}

// Sets s to v, keeping its capacity: a batch entry's strings are reused, and an append to
// a cleared string that fits is cheaper than assign's general replace.
void put(std::string &s, std::string_view v)
{
    s.clear();
    s.append(v);
}

} // namespace

void h_msg(Context &cx, Session &s, const Request &rq)
{
    if (!take_token(cx, s)) {
        cx.out.reply_retry(s, rq.id, JIM_RESP_TOO_MANY, "too many messages", 1);
        return;
    }
    // No `to`: the general chat (the course's broadcast chat).
    const char *to = jim_msg_get_str(rq.msg, JIM_FIELD_TO);
    std::string_view name = to ? std::string_view(to) : cx.settings.str(S_GENERAL_CHAT);
    if (name.empty()) {
        cx.out.reply(s, rq.id, JIM_RESP_BAD_REQUEST, "missing field 'to'");
        return;
    }
    if (!may_address(cx, s, rq, name))
        return;
    // The batch entry is reused: every field is set, and the strings keep their capacity.
    // Whether the recipient is online is decided when the batch is committed.
    WorkerCounters::add(cx.counters.messages_in);
    Entry &e = cx.journal.append();
    put(e.msg.to, name);
    e.origin = s.id;
    e.room = name[0] == '#';
    e.keep_offline = cx.settings.str(S_OFFLINE_STORAGE) != "off";
    put(e.msg.from, s.user);
    e.msg.time = wall_seconds();
    size_t text_len = 0;
    const char *text = "";
    jim_msg_get_strn(rq.msg, JIM_FIELD_MESSAGE, &text, &text_len);
    put(e.msg.text, std::string_view(text, text_len));
    const char *enc = jim_msg_get_str(rq.msg, JIM_FIELD_ENCODING);
    put(e.msg.encoding, enc ? enc : "");
    put(e.msg.client_id, rq.id ? rq.id : "");
    s.in_batch++;
}

void message_committed(Context &cx, Entry &e, Session *s)
{
    const char *id = e.msg.client_id.c_str();
    if (e.outcome == Entry::Outcome::Failed) {
        if (s)
            cx.out.reply(*s, id, JIM_RESP_SERVER_ERROR, "message not stored: database error");
        return;
    }
    if (e.outcome == Entry::Outcome::Offline) {
        if (s)
            cx.out.reply(*s, id, JIM_RESP_GONE, "user offline");
        return;
    }
    bool handed = e.room;
    if (e.outcome == Entry::Outcome::Stored) {
        const std::string &line = cx.out.push_line(e.msg);
        if (e.room) {
            cx.router.deliver_room(e.msg.to, line, e.origin);
        } else if (e.live) {
            handed = cx.router.deliver(e.msg.to, line, e.msg.seq);
            if (!handed) // left meanwhile, or its worker's link is down: keep it
                cx.router.keep_pending(e.msg.to, e.msg.seq);
        }
    } else {
        handed = e.room || cx.router.online_anywhere(e.msg.to); // a resend: the first result
    }
    if (!handed && e.outcome == Entry::Outcome::Stored) // kept for the recipient's login
        WorkerCounters::add(cx.counters.offline_stores);
    if (!s)
        return;
    cx.out.ack(*s, id, handed ? JIM_RESP_OK : JIM_RESP_ACCEPTED,
               handed ? "delivered" : "stored for delivery", e.msg.seq);
}

// The messages since a seq, produced a page at a time as the client reads (Stream), then
// the 200 with the last seq sent.
void h_sync(Context &cx, Session &s, const Request &rq)
{
    int64_t since = 0;
    jim_msg_get_int(rq.msg, JIM_FIELD_SINCE, &since);
    Stream::start(cx, s, Stream::Kind::Sync, since, rq.id, false);
}

void h_history(Context &cx, Session &s, const Request &rq)
{
    std::string with = jim_msg_get_str(rq.msg, JIM_FIELD_WITH);
    int64_t before = INT64_MAX, limit = 50;
    jim_msg_get_int(rq.msg, JIM_FIELD_BEFORE, &before);
    jim_msg_get_int(rq.msg, JIM_FIELD_LIMIT, &limit);
    if (!may_address(cx, s, rq, with))
        return;
    std::vector<StoredMessage> rows;
    if (!cx.journal.read_history(s.user, with, before, static_cast<int>(limit), &rows)) {
        cx.out.reply(s, rq.id, JIM_RESP_SERVER_ERROR, "database error");
        return;
    }
    jim_msg *r = cx.out.response(rq.id, JIM_RESP_ACCEPTED);
    jim_msg_set_int(r, JIM_FIELD_QUANTITY, static_cast<int64_t>(rows.size()));
    cx.out.send(s, r);
    for (const StoredMessage &m : rows)
        cx.out.push(s, m);
}

} // namespace jimd

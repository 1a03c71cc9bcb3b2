// The keys family (end-to-end encryption, protocol.md §7): put_key keeps the sender's
// public key, get_key hands out another account's. The server only ever holds public keys;
// the codec has checked that `key` is the base64 of 32 bytes and `user_id` a name.
#include "handlers.hh"

namespace jimd {

void h_put_key(Context &cx, Session &s, const Request &rq)
{
    const char *key = jim_msg_get_str(rq.msg, JIM_FIELD_KEY);
    if (!cx.journal.put_key(s.user_id, key ? key : "")) {
        JIM_LOG(cx.log, JIM_LOG_ERROR, cx.tag, "put_key for %s failed: %s", s.user.c_str(),
                cx.journal.error().c_str());
        cx.out.reply(s, rq.id, JIM_RESP_SERVER_ERROR);
        return;
    }
    JIM_LOG(cx.log, JIM_LOG_DEBUG, cx.tag, "%s published a key", s.user.c_str());
    cx.out.reply(s, rq.id, JIM_RESP_OK);
}

void h_get_key(Context &cx, Session &s, const Request &rq)
{
    const char *name = jim_msg_get_str(rq.msg, JIM_FIELD_USER_ID);
    std::string key;
    switch (cx.journal.get_key(name ? name : "", &key)) {
    case Result::Ok: {
        jim_msg *r = cx.out.response(rq.id, JIM_RESP_OK);
        jim_msg_set_str(r, JIM_FIELD_KEY, key.c_str());
        cx.out.send(s, r);
        break;
    }
    case Result::NotFound: cx.out.reply(s, rq.id, JIM_RESP_NOT_FOUND, "no key published"); break;
    default:
        JIM_LOG(cx.log, JIM_LOG_ERROR, cx.tag, "get_key failed: %s", cx.journal.error().c_str());
        cx.out.reply(s, rq.id, JIM_RESP_SERVER_ERROR);
    }
}

} // namespace jimd

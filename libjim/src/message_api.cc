// The C API of the message model (jim/message.h) over jim::Message.
#include "guard.hh"
#include "limits.hh"
#include "message.hh"
#include "utf8.hh"

#include <cstring>
#include <ctime>
#include <new>

using jim::kFields;

namespace {

bool field_ok(const jim_field &f)
{
    int v = jim::raw(f);
    return v >= 0 && v < JIM_FIELD_COUNT;
}

bool action_ok(const jim_action &a)
{
    int v = jim::raw(a);
    return v > JIM_ACTION_NONE && v < JIM_ACTION_COUNT;
}

bool field_is(jim_field f, jim_field_type t)
{
    return field_ok(f) && kFields[f].type == t;
}

int set_strn(jim_msg *m, jim_field f, const char *s, size_t len)
{
    if (!m || !s || !field_is(f, JIM_TYPE_STRING))
        return JIM_EINVAL;
    std::string_view v(s, len);
    // U+0000 is carried in message text only (doc/protocol.md §2): anywhere else it would
    // cut a name, id or password short where it is used as a C string.
    if (f != JIM_FIELD_MESSAGE && v.find('\0') != std::string_view::npos)
        return JIM_EINVAL;
    if (!jim::utf8_valid(v))
        return JIM_EUTF8;
    return jim::api_guard([&] {
        m->impl.set_str(f, v);
        return JIM_OK;
    });
}

} // namespace

extern "C" {

JIM_EXTERN(const char *) jim_action_name(jim_action action)
{
    if (!action_ok(action))
        return nullptr;
    return jim::kActions[action].name;
}

JIM_EXTERN(jim_action) jim_action_from_name(const char *name)
{
    if (!name)
        return JIM_ACTION_NONE;
    return jim::action_lookup(name, nullptr);
}

JIM_EXTERN(const char *) jim_field_name(jim_field field)
{
    return field_ok(field) ? kFields[field].key : nullptr;
}

JIM_EXTERN(jim_field_type) jim_field_type_of(jim_field field)
{
    return field_ok(field) ? kFields[field].type : static_cast<jim_field_type>(0);
}

JIM_EXTERN(const char *) jim_response_text(int code)
{
    return jim::response_text(code);
}

JIM_EXTERN(int) jim_response_known(int code)
{
    return jim::response_text(code) != nullptr;
}

JIM_EXTERN(int) jim_msg_new(jim_msg **out)
{
    if (!out)
        return JIM_EINVAL;
    *out = new (std::nothrow) jim_msg;
    return *out ? JIM_OK : JIM_ENOMEM;
}

JIM_EXTERN(void) jim_msg_free(jim_msg *msg)
{
    delete msg;
}

JIM_EXTERN(void) jim_msg_reset(jim_msg *msg)
{
    if (msg)
        msg->impl.reset();
}

JIM_EXTERN(int) jim_msg_copy(jim_msg *dst, const jim_msg *src)
{
    if (!dst || !src)
        return JIM_EINVAL;
    if (dst == src)
        return JIM_OK;
    return jim::api_guard([&] {
        dst->impl = src->impl;
        return static_cast<int>(JIM_OK);
    });
}

JIM_EXTERN(int) jim_msg_init_action(jim_msg *msg, jim_action action)
{
    if (!msg || !action_ok(action))
        return JIM_EINVAL;
    msg->impl.reset();
    msg->impl.set_action(action);
    msg->impl.set_int(JIM_FIELD_TIME, static_cast<int64_t>(time(nullptr)));
    return JIM_OK;
}

JIM_EXTERN(int) jim_msg_init_response(jim_msg *msg, int code, const char *text)
{
    if (!msg || code < 100 || code > 599)
        return JIM_EINVAL;
    if (!text)
        text = jim::response_text(code);
    if (!text)
        text = code < 400 ? "notice" : "error";
    if (!jim::utf8_valid(text))
        return JIM_EINVAL;
    msg->impl.reset();
    msg->impl.set_response(code);
    msg->impl.set_int(JIM_FIELD_TIME, static_cast<int64_t>(time(nullptr)));
    return set_strn(msg, code < 400 ? JIM_FIELD_ALERT : JIM_FIELD_ERROR, text, strlen(text));
}

JIM_EXTERN(jim_action) jim_msg_action(const jim_msg *msg)
{
    return msg ? msg->impl.action() : JIM_ACTION_NONE;
}

JIM_EXTERN(int) jim_msg_response(const jim_msg *msg)
{
    return msg ? msg->impl.response() : 0;
}

JIM_EXTERN(int) jim_msg_set_str(jim_msg *msg, jim_field field, const char *value)
{
    if (!value)
        return JIM_EINVAL;
    return set_strn(msg, field, value, strlen(value));
}

JIM_EXTERN(int) jim_msg_set_strn(jim_msg *msg, jim_field field, const char *value, size_t len)
{
    return set_strn(msg, field, value, len);
}

JIM_EXTERN(int)
jim_msg_set_list(jim_msg *msg, jim_field field, const char *const *items, size_t count)
{
    if (!msg || (!items && count) || !field_is(field, JIM_TYPE_LIST))
        return JIM_EINVAL;
    return jim::api_guard([&] {
        std::string joined;
        for (size_t i = 0; i < count; i++) {
            if (!items[i])
                return JIM_EINVAL;
            std::string_view item(items[i]);
            if (!jim::utf8_valid(item))
                return JIM_EUTF8;
            joined.append(item);
            joined.push_back('\0');
        }
        msg->impl.set_list(field, joined, count);
        return JIM_OK;
    });
}

JIM_EXTERN(size_t) jim_msg_list_len(const jim_msg *msg, jim_field field)
{
    return msg && field_is(field, JIM_TYPE_LIST) ? msg->impl.list_len(field) : 0;
}

JIM_EXTERN(int)
jim_msg_get_list_item(const jim_msg *msg, jim_field field, size_t index, const char **item)
{
    if (!msg || !item || !field_is(field, JIM_TYPE_LIST))
        return JIM_EINVAL;
    if (index >= msg->impl.list_len(field))
        return JIM_ENOTFOUND;
    *item = msg->impl.list_item(field, index).data();
    return JIM_OK;
}

JIM_EXTERN(int) jim_msg_set_int(jim_msg *msg, jim_field field, int64_t value)
{
    if (!msg || !field_is(field, JIM_TYPE_INT))
        return JIM_EINVAL;
    msg->impl.set_int(field, value);
    return JIM_OK;
}

JIM_EXTERN(int) jim_msg_set_bool(jim_msg *msg, jim_field field, int value)
{
    if (!msg || !field_is(field, JIM_TYPE_BOOL))
        return JIM_EINVAL;
    msg->impl.set_int(field, value ? 1 : 0);
    return JIM_OK;
}

JIM_EXTERN(int) jim_msg_unset(jim_msg *msg, jim_field field)
{
    if (!msg || !field_ok(field))
        return JIM_EINVAL;
    msg->impl.unset(field);
    return JIM_OK;
}

JIM_EXTERN(int) jim_msg_has(const jim_msg *msg, jim_field field)
{
    return msg && field_ok(field) && msg->impl.has(field);
}

JIM_EXTERN(const char *) jim_msg_get_str(const jim_msg *msg, jim_field field)
{
    if (!msg || !field_is(field, JIM_TYPE_STRING) || !msg->impl.has(field))
        return nullptr;
    return msg->impl.c_str(field);
}

JIM_EXTERN(int)
jim_msg_get_strn(const jim_msg *msg, jim_field field, const char **value, size_t *len)
{
    if (!msg || !value || !len || !field_is(field, JIM_TYPE_STRING))
        return JIM_EINVAL;
    if (!msg->impl.has(field))
        return JIM_ENOTFOUND;
    *value = msg->impl.c_str(field);
    *len = msg->impl.str(field).size();
    return JIM_OK;
}

JIM_EXTERN(int) jim_msg_get_int(const jim_msg *msg, jim_field field, int64_t *value)
{
    if (!msg || !value || !field_is(field, JIM_TYPE_INT))
        return JIM_EINVAL;
    if (!msg->impl.has(field))
        return JIM_ENOTFOUND;
    *value = msg->impl.num(field);
    return JIM_OK;
}

JIM_EXTERN(int) jim_msg_get_bool(const jim_msg *msg, jim_field field, int *value)
{
    if (!msg || !value || !field_is(field, JIM_TYPE_BOOL))
        return JIM_EINVAL;
    if (!msg->impl.has(field))
        return JIM_ENOTFOUND;
    *value = msg->impl.num(field) != 0;
    return JIM_OK;
}

JIM_EXTERN(void) jim_msg_set_features(jim_msg *msg, unsigned features)
{
    if (msg)
        msg->impl.set_features(features & JIM_FEATURE_NDJSON);
}

JIM_EXTERN(unsigned) jim_msg_features(const jim_msg *msg)
{
    return msg ? msg->impl.features() : 0;
}

JIM_EXTERN(void) jim_msg_set_dialect(jim_msg *msg, jim_dialect dialect)
{
    int d = jim::raw(dialect);
    if (msg && (d == JIM_DIALECT_JIM || d == JIM_DIALECT_REFERENCE || d == JIM_DIALECT_DB))
        msg->impl.set_dialect(static_cast<jim_dialect>(d));
}

JIM_EXTERN(jim_dialect) jim_msg_dialect(const jim_msg *msg)
{
    return msg ? msg->impl.dialect() : JIM_DIALECT_JIM;
}

JIM_EXTERN(int) jim_msg_validate(jim_msg *msg, const jim_limits *limits)
{
    if (!msg)
        return JIM_EINVAL;
    return jim::api_guard([&] { return msg->impl.validate(jim::limits_or_default(limits)); });
}

JIM_EXTERN(int) jim_msg_encode(jim_msg *msg, const char **json, size_t *len)
{
    if (!msg || !json || !len)
        return JIM_EINVAL;
    return jim::api_guard([&] {
        std::string_view out;
        int rc = msg->impl.encode(&out);
        if (rc == JIM_OK) {
            *json = out.data();
            *len = out.size();
        }
        return rc;
    });
}

JIM_EXTERN(int) jim_msg_decode(jim_msg *msg, const char *json, size_t len, const jim_limits *limits)
{
    if (!msg || (!json && len))
        return JIM_EINVAL;
    return jim::api_guard([&] {
        return msg->impl.decode(std::string_view(json ? json : "", len),
                                jim::limits_or_default(limits), false);
    });
}

JIM_EXTERN(const char *) jim_msg_errmsg(const jim_msg *msg)
{
    return msg ? msg->impl.error().c_str() : "";
}

JIM_EXTERN(int) jim_msg_make_presence(jim_msg *msg, const char *account, const char *status)
{
    int rc = jim_msg_init_action(msg, JIM_ACTION_PRESENCE);
    if (rc == JIM_OK)
        rc = jim_msg_set_str(msg, JIM_FIELD_TYPE, "status");
    if (rc == JIM_OK)
        rc = jim_msg_set_str(msg, JIM_FIELD_ACCOUNT_NAME, account);
    if (rc == JIM_OK && status)
        rc = jim_msg_set_str(msg, JIM_FIELD_USER_STATUS, status);
    return rc;
}

JIM_EXTERN(int) jim_msg_make_authenticate(jim_msg *msg, const char *account, const char *password)
{
    int rc = jim_msg_init_action(msg, JIM_ACTION_AUTHENTICATE);
    if (rc == JIM_OK)
        rc = jim_msg_set_str(msg, JIM_FIELD_ACCOUNT_NAME, account);
    if (rc == JIM_OK)
        rc = jim_msg_set_str(msg, JIM_FIELD_PASSWORD, password);
    return rc;
}

JIM_EXTERN(int)
jim_msg_make_register(jim_msg *msg, const char *account, const char *password, const char *info)
{
    int rc = jim_msg_init_action(msg, JIM_ACTION_REGISTER);
    if (rc == JIM_OK)
        rc = jim_msg_set_str(msg, JIM_FIELD_ACCOUNT_NAME, account);
    if (rc == JIM_OK)
        rc = jim_msg_set_str(msg, JIM_FIELD_PASSWORD, password);
    if (rc == JIM_OK && info)
        rc = jim_msg_set_str(msg, JIM_FIELD_INFO, info);
    return rc;
}

JIM_EXTERN(int) jim_msg_make_text(jim_msg *msg, const char *to, const char *text)
{
    int rc = jim_msg_init_action(msg, JIM_ACTION_MSG);
    if (rc == JIM_OK && to) // no `to`: the general chat
        rc = jim_msg_set_str(msg, JIM_FIELD_TO, to);
    if (rc == JIM_OK)
        rc = jim_msg_set_str(msg, JIM_FIELD_MESSAGE, text);
    return rc;
}

JIM_EXTERN(int) jim_msg_make_named(jim_msg *msg, jim_action action, const char *name)
{
    jim_field f;
    switch (jim::raw(action)) {
    case JIM_ACTION_JOIN:
    case JIM_ACTION_LEAVE: f = JIM_FIELD_ROOM; break;
    case JIM_ACTION_ADD_CONTACT:
    case JIM_ACTION_DEL_CONTACT:
    case JIM_ACTION_GET_KEY:
    case JIM_ACTION_ADMIN_KICK:
    case JIM_ACTION_ADMIN_BAN: f = JIM_FIELD_USER_ID; break;
    case JIM_ACTION_HISTORY: f = JIM_FIELD_WITH; break;
    default: return JIM_EINVAL;
    }
    int rc = jim_msg_init_action(msg, action);
    if (rc == JIM_OK)
        rc = jim_msg_set_str(msg, f, name);
    return rc;
}

} // extern "C"

/**
 * @file jim/message.h
 * @brief The JIM message model: build, read, validate, encode and decode one protocol object.
 *
 * A ::jim_msg holds one JIM object: a request or push (it has an action) or a
 * response (it has a response code). Fields are addressed by ::jim_field and
 * typed (string, integer or boolean); fields of the nested `user` object
 * (account_name, password, info, status, features) are ordinary fields here.
 *
 * Reuse one ::jim_msg for many objects: jim_msg_reset() keeps its memory, so
 * decoding or encoding a stream allocates nothing once the buffers are warm.
 * A ::jim_msg is not thread-safe; use one per thread.
 */
#ifndef JIM_MESSAGE_H
#define JIM_MESSAGE_H

#include "common.h"
#include "limits.h"

JIM_BEGIN_DECL

/** The actions of the protocol (doc/protocol.md). Values are part of the ABI. */
typedef enum jim_action {
    JIM_ACTION_NONE = 0,            /**< No action: the object is a response, or empty. */
    JIM_ACTION_PRESENCE = 1,        /**< `presence`: status, or login with auth none. */
    JIM_ACTION_AUTHENTICATE = 2,    /**< `authenticate`: log in with a password. */
    JIM_ACTION_REGISTER = 3,        /**< `register` (ext): create an account. */
    JIM_ACTION_MSG = 4,             /**< `msg`: a message (course alias `message`). */
    JIM_ACTION_JOIN = 5,            /**< `join`: enter a room. */
    JIM_ACTION_LEAVE = 6,           /**< `leave`: leave a room. */
    JIM_ACTION_QUIT = 7,            /**< `quit` (course alias `exit`). */
    JIM_ACTION_PROBE = 8,           /**< `probe`: server asks for presence. */
    JIM_ACTION_GET_CONTACTS = 9,    /**< `get_contacts`. */
    JIM_ACTION_CONTACT_LIST = 10,   /**< `contact_list`: one entry of a contact list reply. */
    JIM_ACTION_ADD_CONTACT = 11,    /**< `add_contact`. */
    JIM_ACTION_DEL_CONTACT = 12,    /**< `del_contact`. */
    JIM_ACTION_SYNC = 13,           /**< `sync` (ext): messages since a seq. */
    JIM_ACTION_HISTORY = 14,        /**< `history` (ext): older messages of a chat. */
    JIM_ACTION_GET_ROOMS = 15,      /**< `get_rooms` (ext). */
    JIM_ACTION_ROOM_LIST = 16,      /**< `room_list` (ext): one entry of a get_rooms reply. */
    JIM_ACTION_GET_USERS = 17,      /**< `get_users` (ext). */
    JIM_ACTION_USER_LIST = 18,      /**< `user_list` (ext): one entry of a get_users reply. */
    JIM_ACTION_PUT_KEY = 19,        /**< `put_key` (ext): publish an E2E public key. */
    JIM_ACTION_GET_KEY = 20,        /**< `get_key` (ext): fetch a user's public key. */
    JIM_ACTION_ADMIN_USERS = 21,    /**< `admin_users` (ext). */
    JIM_ACTION_USER_STAT = 22,      /**< `user_stat` (ext): one entry of an admin_users reply. */
    JIM_ACTION_ADMIN_STATS = 23,    /**< `admin_stats` (ext). */
    JIM_ACTION_ADMIN_KICK = 24,     /**< `admin_kick` (ext). */
    JIM_ACTION_ADMIN_BAN = 25,      /**< `admin_ban` (ext). */
    JIM_ACTION_ADMIN_SET = 26,      /**< `admin_set` (ext): change a runtime setting. */
    JIM_ACTION_ADMIN_UNBAN = 27,    /**< `admin_unban` (ext): lift a ban. */
    JIM_ACTION_SET_PASSWORD = 28,   /**< `set_password` (ext): change one's own password. */
    JIM_ACTION_ADMIN_ADD_USER = 29, /**< `admin_add_user` (ext): create an account. */
    JIM_ACTION_ADMIN_PASSWORD = 30, /**< `admin_password` (ext): set an account's password. */
    JIM_ACTION_ADMIN_ROLE = 31,     /**< `admin_role` (ext): make an account admin or user. */
    JIM_ACTION_COUNT = 32           /**< Number of actions; not an action. */
} jim_action;

/** The fields of JIM objects. Values are part of the ABI. */
typedef enum jim_field {
    JIM_FIELD_TIME = 0,              /**< `time`: integer UNIX seconds. */
    JIM_FIELD_ID = 1,                /**< `id` (ext): client-chosen request id, string. */
    JIM_FIELD_TYPE = 2,              /**< `type`: presence type, string ("status"). */
    JIM_FIELD_TO = 3,                /**< `to`: recipient user or "#room", string. */
    JIM_FIELD_FROM = 4,              /**< `from`: sender, string. */
    JIM_FIELD_ENCODING = 5,          /**< `encoding`: text encoding of `message`, string. */
    JIM_FIELD_MESSAGE = 6,           /**< `message` (course: `mess_text`): the text, string. */
    JIM_FIELD_SEQ = 7,               /**< `seq` (ext): position in the server's log, integer. */
    JIM_FIELD_ROOM = 8,              /**< `room`: "#name", string. */
    JIM_FIELD_USER_ID = 9,           /**< `user_id`: an account name, string. */
    JIM_FIELD_STATUS = 10,           /**< `status` of a list entry: "online"/"offline". */
    JIM_FIELD_SINCE = 11,            /**< `since` (ext): sync from this seq, integer. */
    JIM_FIELD_WITH = 12,             /**< `with` (ext): history partner or room, string. */
    JIM_FIELD_BEFORE = 13,           /**< `before` (ext): history before this seq, integer. */
    JIM_FIELD_LIMIT = 14,            /**< `limit` (ext): history size, integer. */
    JIM_FIELD_QUANTITY = 15,         /**< `quantity`: entries that follow a 202, integer. */
    JIM_FIELD_MEMBERS = 16,          /**< `members` (ext): room size, integer. */
    JIM_FIELD_QUERY = 17,            /**< `query` (ext): get_users name prefix, string. */
    JIM_FIELD_KEY = 18,              /**< `key` (ext): base64 X25519 public key, string. */
    JIM_FIELD_ALERT = 19,            /**< `alert`: text of a 1xx/2xx response. */
    JIM_FIELD_ERROR = 20,            /**< `error`: text of a 4xx/5xx response. */
    JIM_FIELD_RETRY_AFTER = 21,      /**< `retry_after` (ext): seconds, integer. */
    JIM_FIELD_ACCOUNT_NAME = 22,     /**< `user.account_name`, string. */
    JIM_FIELD_PASSWORD = 23,         /**< `user.password`, string. */
    JIM_FIELD_INFO = 24,             /**< `user.info`: free text about the account. */
    JIM_FIELD_USER_STATUS = 25,      /**< `user.status`: presence status text. */
    JIM_FIELD_CREATED = 26,          /**< `created` (ext, admin): UNIX seconds. */
    JIM_FIELD_LAST_LOGIN = 27,       /**< `last_login` (ext, admin): UNIX seconds. */
    JIM_FIELD_LAST_IP = 28,          /**< `last_ip` (ext, admin): string. */
    JIM_FIELD_LOGINS = 29,           /**< `logins` (ext, admin): integer. */
    JIM_FIELD_MESSAGES_SENT = 30,    /**< `messages_sent` (ext, admin): integer. */
    JIM_FIELD_ONLINE = 31,           /**< `online` (ext, admin): boolean. */
    JIM_FIELD_UPTIME = 32,           /**< `uptime` (ext, admin): seconds. */
    JIM_FIELD_WORKERS = 33,          /**< `workers` (ext, admin): integer. */
    JIM_FIELD_CONNECTIONS = 34,      /**< `connections` (ext, admin): integer. */
    JIM_FIELD_MESSAGES_PER_SEC = 35, /**< `messages_per_sec` (ext, admin): integer. */
    JIM_FIELD_DB_BYTES = 36,         /**< `db_bytes` (ext, admin): database size. */
    JIM_FIELD_SETTING = 37,          /**< `setting` (ext, admin_set): setting name. */
    JIM_FIELD_VALUE = 38,            /**< `value` (ext, admin_set): new value as text. */
    JIM_FIELD_REASON = 39,           /**< `reason` (ext, admin_kick/admin_ban): free text. */
    JIM_FIELD_AFTER = 40,     /**< `after` (ext, get_rooms/get_users): page after this name. */
    JIM_FIELD_DATA_LIST = 41, /**< `data_list` (database course): a list reply in one object. */
    /** `e2e` (client side, never sent): set by libjim on a received direct message that
     *  came encrypted (doc/protocol.md §7): true once decrypted and authenticated, false when
     *  it could not be (see jim_msg_e2e_state()). libjim drops it from what a server sends. */
    JIM_FIELD_E2E = 42,
    /** `e2e_error` (client side, never sent): why an encrypted message could not be read. */
    JIM_FIELD_E2E_ERROR = 43,
    JIM_FIELD_ROLE = 44,         /**< `role` (ext, admin): "user" or "admin". */
    JIM_FIELD_BANNED = 45,       /**< `banned` (ext, admin): boolean. */
    JIM_FIELD_OLD_PASSWORD = 46, /**< `old_password` (ext, set_password): string. */
    JIM_FIELD_NEW_PASSWORD = 47, /**< `new_password` (ext, set_password, admin_password). */
    JIM_FIELD_SESSIONS = 48,     /**< `sessions` (ext, admin_stats): logged-in sessions. */
    /** `messages_in_per_sec` (ext, admin_stats): messages received, over the last minute. */
    JIM_FIELD_MESSAGES_IN_PER_SEC = 49,
    /** `messages_out_per_sec` (ext, admin_stats): messages pushed, over the last minute. */
    JIM_FIELD_MESSAGES_OUT_PER_SEC = 50,
    JIM_FIELD_ERRORS = 51,    /**< `errors` (ext, admin_stats): error responses sent. */
    JIM_FIELD_WAL_BYTES = 52, /**< `wal_bytes` (ext, admin_stats): the WAL's size. */
    /** `deliveries` (ext, admin_stats): messages written to recipients' sessions. */
    JIM_FIELD_DELIVERIES = 53,
    /** `offline_stores` (ext, admin_stats): direct messages kept for offline recipients. */
    JIM_FIELD_OFFLINE_STORES = 54,
    JIM_FIELD_LOGIN_FAILURES = 55, /**< `login_failures` (ext, admin_stats): refused logins. */
    JIM_FIELD_COUNT = 56           /**< Number of fields; not a field. */
} jim_field;

/** The type of a field's value. */
typedef enum jim_field_type {
    JIM_TYPE_STRING = 1, /**< A UTF-8 string. */
    JIM_TYPE_INT = 2,    /**< A 64-bit signed integer. */
    JIM_TYPE_BOOL = 3,   /**< A boolean. */
    JIM_TYPE_LIST = 4 /**< A list of UTF-8 strings: jim_msg_set_list(), jim_msg_get_list_item(). */
} jim_field_type;

/** The JSON dialects a message can be written in (doc/protocol.md §9). */
typedef enum jim_dialect {
    JIM_DIALECT_JIM = 0, /**< jim's own: `msg` with `message`. */
    /** The course's reference client: `message` with `mess_text`, the sender as both
     *  `from` and `sender`. */
    JIM_DIALECT_REFERENCE = 1,
    /** The database course's client (lesson 4): `user` as a string, `add` / `remove`, lists
     *  as one object with `data_list`; messages as in #JIM_DIALECT_REFERENCE. */
    JIM_DIALECT_DB = 2
} jim_dialect;

/** The `encoding` of an end-to-end encrypted direct message (doc/protocol.md §7): its
 *  `message` is the base64 envelope, not text. */
#define JIM_E2E_ENCODING "x25519-chacha20poly1305"

/** Feature flag: the session reads a stream of objects (`"features":["ndjson"]`). */
#define JIM_FEATURE_NDJSON 0x1u

/** The response codes of the protocol. */
typedef enum jim_response_code {
    JIM_RESP_BASIC = 100,        /**< Basic notification. */
    JIM_RESP_IMPORTANT = 101,    /**< Important notification. */
    JIM_RESP_OK = 200,           /**< OK. */
    JIM_RESP_CREATED = 201,      /**< Created. */
    JIM_RESP_ACCEPTED = 202,     /**< Accepted (stored, or header of a list). */
    JIM_RESP_BAD_REQUEST = 400,  /**< Bad request. */
    JIM_RESP_UNAUTHORIZED = 401, /**< Log in first. */
    JIM_RESP_BAD_LOGIN = 402,    /**< Wrong account name or password. */
    JIM_RESP_FORBIDDEN = 403,    /**< Forbidden. */
    JIM_RESP_NOT_FOUND = 404,    /**< No such user or room. */
    JIM_RESP_CONFLICT = 409,     /**< Conflict. */
    JIM_RESP_GONE = 410,         /**< User offline and offline storage is off. */
    JIM_RESP_TOO_MANY = 429,     /**< Too many requests (ext). */
    JIM_RESP_SERVER_ERROR = 500  /**< Server error. */
} jim_response_code;

/** One JIM object. Made by jim_msg_new(), freed by jim_msg_free(). */
typedef struct jim_msg jim_msg;

/** The wire name of an action ("msg", "get_contacts", ...); NULL if out of range. */
JIM_EXTERN(const char *) jim_action_name(jim_action action);

/**
 * Looks up an action by its wire name, accepting the course aliases
 * (`message`, `exit`, `probe` spelled with a Cyrillic `о`).
 * @return the action, or #JIM_ACTION_NONE for an unknown name or NULL.
 */
JIM_EXTERN(jim_action) jim_action_from_name(const char *name);

/** The JSON key of a field ("account_name" for #JIM_FIELD_ACCOUNT_NAME); NULL if out of range. */
JIM_EXTERN(const char *) jim_field_name(jim_field field);

/** The value type of a field, or 0 if out of range. */
JIM_EXTERN(jim_field_type) jim_field_type_of(jim_field field);

/** The standard text of a response code ("OK", "not found", ...); NULL for an unknown code. */
JIM_EXTERN(const char *) jim_response_text(int code);

/** Nonzero when @p code is a known protocol response code (see ::jim_response_code). */
JIM_EXTERN(int) jim_response_known(int code);

/**
 * Makes an empty message.
 * @param[out] out receives the handle; NULL on failure.
 * @return #JIM_OK, #JIM_EINVAL or #JIM_ENOMEM.
 */
JIM_EXTERN(int) jim_msg_new(jim_msg **out);

/** Frees a message. NULL is accepted and ignored. */
JIM_EXTERN(void) jim_msg_free(jim_msg *msg);

/** Empties a message (no action, no response, no fields), keeping its memory for reuse. */
JIM_EXTERN(void) jim_msg_reset(jim_msg *msg);

/**
 * Makes @p dst a copy of @p src (action or response, every field, features and dialect),
 * e.g. to keep a message a callback lent, or to encode one that is `const`.
 * @return #JIM_OK, #JIM_EINVAL (NULL) or #JIM_ENOMEM.
 */
JIM_EXTERN(int) jim_msg_copy(jim_msg *dst, const jim_msg *src);

/**
 * Empties @p msg and makes it a request or push of @p action, with `time` set to now.
 * @return #JIM_OK or #JIM_EINVAL (NULL msg, #JIM_ACTION_NONE or out-of-range action).
 */
JIM_EXTERN(int) jim_msg_init_action(jim_msg *msg, jim_action action);

/**
 * Empties @p msg and makes it a response with @p code and `time` set to now.
 * The text goes to `alert` for codes below 400 and to `error` from 400 up.
 * @param msg the message to fill.
 * @param code the response code, 100 to 599.
 * @param text the alert or error text, or NULL for jim_response_text(code).
 * @return #JIM_OK or #JIM_EINVAL (NULL msg, code outside 100..599, invalid UTF-8 text).
 */
JIM_EXTERN(int) jim_msg_init_response(jim_msg *msg, int code, const char *text);

/** The action of @p msg, or #JIM_ACTION_NONE for a response, an empty message or NULL. */
JIM_EXTERN(jim_action) jim_msg_action(const jim_msg *msg);

/** The response code of @p msg, or 0 when it is not a response. */
JIM_EXTERN(int) jim_msg_response(const jim_msg *msg);

/**
 * Sets a string field to a NUL-terminated UTF-8 string (copied).
 * @return #JIM_OK, #JIM_EINVAL (NULL argument or not a string field) or #JIM_EUTF8.
 */
JIM_EXTERN(int) jim_msg_set_str(jim_msg *msg, jim_field field, const char *value);

/**
 * Sets a string field to @p len bytes of UTF-8 (copied). Only message text
 * (#JIM_FIELD_MESSAGE) may contain a NUL byte: the protocol carries U+0000 there
 * and refuses it everywhere else.
 * @return #JIM_OK, #JIM_EINVAL (also a NUL in another field) or #JIM_EUTF8.
 */
JIM_EXTERN(int) jim_msg_set_strn(jim_msg *msg, jim_field field, const char *value, size_t len);

/** Sets an integer field. @return #JIM_OK or #JIM_EINVAL (not an integer field). */
JIM_EXTERN(int) jim_msg_set_int(jim_msg *msg, jim_field field, int64_t value);

/** Sets a boolean field (nonzero is true). @return #JIM_OK or #JIM_EINVAL. */
JIM_EXTERN(int) jim_msg_set_bool(jim_msg *msg, jim_field field, int value);

/** Removes a field. @return #JIM_OK (also when it was absent) or #JIM_EINVAL. */
JIM_EXTERN(int) jim_msg_unset(jim_msg *msg, jim_field field);

/**
 * Sets a list field (#JIM_FIELD_DATA_LIST) to @p count NUL-terminated UTF-8 strings
 * (copied).
 * @return #JIM_OK, #JIM_EINVAL (NULL argument, or not a list field) or #JIM_EUTF8.
 */
JIM_EXTERN(int)
jim_msg_set_list(jim_msg *msg, jim_field field, const char *const *items, size_t count);

/** The number of strings in a list field; 0 when absent or not a list field. */
JIM_EXTERN(size_t) jim_msg_list_len(const jim_msg *msg, jim_field field);

/**
 * String @p index of a list field, NUL-terminated, owned by @p msg (same lifetime as
 * jim_msg_get_str()).
 * @return #JIM_OK, #JIM_ENOTFOUND (absent, or @p index past the end) or #JIM_EINVAL.
 */
JIM_EXTERN(int)
jim_msg_get_list_item(const jim_msg *msg, jim_field field, size_t index, const char **item);

/** Nonzero when @p msg has @p field. */
JIM_EXTERN(int) jim_msg_has(const jim_msg *msg, jim_field field);

/**
 * A string field's value, NUL-terminated, owned by @p msg and valid until
 * the message is next changed; NULL when absent or not a string field.
 * Message text may hold NUL bytes (U+0000): read it with jim_msg_get_strn().
 */
JIM_EXTERN(const char *) jim_msg_get_str(const jim_msg *msg, jim_field field);

/**
 * A string field's value and its length in bytes (same lifetime as jim_msg_get_str()).
 * @return #JIM_OK, #JIM_ENOTFOUND (absent) or #JIM_EINVAL.
 */
JIM_EXTERN(int)
jim_msg_get_strn(const jim_msg *msg, jim_field field, const char **value, size_t *len);

/**
 * An integer field's value.
 * @return #JIM_OK, #JIM_ENOTFOUND (absent; *value untouched) or #JIM_EINVAL.
 */
JIM_EXTERN(int) jim_msg_get_int(const jim_msg *msg, jim_field field, int64_t *value);

/**
 * A boolean field's value (0 or 1).
 * @return #JIM_OK, #JIM_ENOTFOUND (absent) or #JIM_EINVAL.
 */
JIM_EXTERN(int) jim_msg_get_bool(const jim_msg *msg, jim_field field, int *value);

/** Sets the features announced in `user.features` (a mask of JIM_FEATURE_* flags). */
JIM_EXTERN(void) jim_msg_set_features(jim_msg *msg, unsigned features);

/** The features announced in `user.features` (unknown feature names are ignored). */
JIM_EXTERN(unsigned) jim_msg_features(const jim_msg *msg);

/** Chooses the dialect jim_msg_encode() writes (default #JIM_DIALECT_JIM). */
JIM_EXTERN(void) jim_msg_set_dialect(jim_msg *msg, jim_dialect dialect);

/** The dialect of @p msg: for a decoded message, the one its sender used. */
JIM_EXTERN(jim_dialect) jim_msg_dialect(const jim_msg *msg);

/**
 * Checks a message against the protocol: required fields for its action,
 * name syntax, lengths and ranges under @p limits (NULL for the defaults),
 * and no NUL byte in any string field but message text.
 * On failure jim_msg_errmsg() gives the 400 reason ("missing field 'to'").
 * @return #JIM_OK, #JIM_EFIELD, #JIM_ERANGE, #JIM_EACTION (no action and no response)
 *         or #JIM_EINVAL (NULL msg).
 */
JIM_EXTERN(int) jim_msg_validate(jim_msg *msg, const jim_limits *limits);

/**
 * Encodes @p msg as one line of ASCII-safe JSON (non-ASCII as `\\uXXXX`),
 * ending in a newline. `time` is written as now when the message has none.
 * @param msg the message; it owns the encoded text.
 * @param[out] json receives the text, owned by @p msg, valid until it is next changed.
 * @param[out] len receives its length in bytes, the newline included.
 * @return #JIM_OK, #JIM_EINVAL (NULL argument, or neither action nor response) or #JIM_ENOMEM.
 */
JIM_EXTERN(int) jim_msg_encode(jim_msg *msg, const char **json, size_t *len);

/**
 * Decodes one JSON object into @p msg (replacing its contents) and validates
 * it as jim_msg_validate() does. Whitespace may surround the object; anything
 * else after it is a #JIM_ESYNTAX. A `\\u` escape of a lone UTF-16 surrogate
 * is a #JIM_EUTF8, and `\\u0000` is kept in message text only (#JIM_ERANGE in
 * any other field). Unknown fields are ignored; `time` may have
 * any JSON type (numbers, numeric strings and nanoseconds are understood).
 * On failure jim_msg_errmsg() gives the reason to send back in a 400.
 * @param msg the message to fill.
 * @param json the object's bytes (need not be NUL-terminated).
 * @param len their length.
 * @param limits NULL for the defaults.
 * @return #JIM_OK, #JIM_ESYNTAX, #JIM_EUTF8, #JIM_EDEPTH, #JIM_ETOOBIG,
 *         #JIM_EFIELD, #JIM_EACTION, #JIM_ERANGE or #JIM_EINVAL.
 */
JIM_EXTERN(int)
jim_msg_decode(jim_msg *msg, const char *json, size_t len, const jim_limits *limits);

/** Why the last jim_msg_validate() or jim_msg_decode() failed; "" after success. Never NULL. */
JIM_EXTERN(const char *) jim_msg_errmsg(const jim_msg *msg);

/** Builds `presence` for @p account with status text @p status (NULL: none). */
JIM_EXTERN(int) jim_msg_make_presence(jim_msg *msg, const char *account, const char *status);

/** Builds `authenticate` for @p account with @p password. */
JIM_EXTERN(int) jim_msg_make_authenticate(jim_msg *msg, const char *account, const char *password);

/** Builds `register` for @p account with @p password and @p info (NULL: none). */
JIM_EXTERN(int)
jim_msg_make_register(jim_msg *msg, const char *account, const char *password, const char *info);

/** Builds `msg` with @p text to a user or "#room" @p to; NULL @p to: the server's general chat. */
JIM_EXTERN(int) jim_msg_make_text(jim_msg *msg, const char *to, const char *text);

/**
 * Builds an action whose one argument is a room or user name: `join`/`leave`
 * (room), `add_contact`/`del_contact`/`get_key`/`admin_kick`/`admin_ban` (user_id),
 * `history` (with).
 * @return #JIM_OK or #JIM_EINVAL for any other action.
 */
JIM_EXTERN(int) jim_msg_make_named(jim_msg *msg, jim_action action, const char *name);

JIM_END_DECL

#endif /* JIM_MESSAGE_H */

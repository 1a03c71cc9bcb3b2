/* test_message.c — the message model: build, read and validate every protocol object. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <jim/jim.h>

/* What the protocol (doc/protocol.md) requires of each action, written out independently. */
static const struct {
    jim_action action;
    const char *name;
    jim_field required[3];
} spec[] = {
    {JIM_ACTION_PRESENCE, "presence", {JIM_FIELD_ACCOUNT_NAME, -1, -1}},
    {JIM_ACTION_AUTHENTICATE, "authenticate", {JIM_FIELD_ACCOUNT_NAME, JIM_FIELD_PASSWORD, -1}},
    {JIM_ACTION_REGISTER, "register", {JIM_FIELD_ACCOUNT_NAME, JIM_FIELD_PASSWORD, -1}},
    {JIM_ACTION_MSG, "msg", {JIM_FIELD_MESSAGE, -1, -1}},
    {JIM_ACTION_JOIN, "join", {JIM_FIELD_ROOM, -1, -1}},
    {JIM_ACTION_LEAVE, "leave", {JIM_FIELD_ROOM, -1, -1}},
    {JIM_ACTION_QUIT, "quit", {-1, -1, -1}},
    {JIM_ACTION_PROBE, "probe", {-1, -1, -1}},
    {JIM_ACTION_GET_CONTACTS, "get_contacts", {-1, -1, -1}},
    {JIM_ACTION_CONTACT_LIST, "contact_list", {JIM_FIELD_USER_ID, -1, -1}},
    {JIM_ACTION_ADD_CONTACT, "add_contact", {JIM_FIELD_USER_ID, -1, -1}},
    {JIM_ACTION_DEL_CONTACT, "del_contact", {JIM_FIELD_USER_ID, -1, -1}},
    {JIM_ACTION_SYNC, "sync", {JIM_FIELD_SINCE, -1, -1}},
    {JIM_ACTION_HISTORY, "history", {JIM_FIELD_WITH, -1, -1}},
    {JIM_ACTION_GET_ROOMS, "get_rooms", {-1, -1, -1}},
    {JIM_ACTION_ROOM_LIST, "room_list", {JIM_FIELD_ROOM, -1, -1}},
    {JIM_ACTION_GET_USERS, "get_users", {-1, -1, -1}},
    {JIM_ACTION_USER_LIST, "user_list", {JIM_FIELD_USER_ID, -1, -1}},
    {JIM_ACTION_PUT_KEY, "put_key", {JIM_FIELD_KEY, -1, -1}},
    {JIM_ACTION_GET_KEY, "get_key", {JIM_FIELD_USER_ID, -1, -1}},
    {JIM_ACTION_ADMIN_USERS, "admin_users", {-1, -1, -1}},
    {JIM_ACTION_USER_STAT, "user_stat", {JIM_FIELD_USER_ID, -1, -1}},
    {JIM_ACTION_ADMIN_STATS, "admin_stats", {-1, -1, -1}},
    {JIM_ACTION_ADMIN_KICK, "admin_kick", {JIM_FIELD_USER_ID, -1, -1}},
    {JIM_ACTION_ADMIN_BAN, "admin_ban", {JIM_FIELD_USER_ID, -1, -1}},
    {JIM_ACTION_ADMIN_SET, "admin_set", {JIM_FIELD_SETTING, JIM_FIELD_VALUE, -1}},
    {JIM_ACTION_ADMIN_UNBAN, "admin_unban", {JIM_FIELD_USER_ID, -1, -1}},
    {JIM_ACTION_SET_PASSWORD, "set_password", {JIM_FIELD_OLD_PASSWORD, JIM_FIELD_NEW_PASSWORD, -1}},
    {JIM_ACTION_ADMIN_ADD_USER, "admin_add_user", {JIM_FIELD_ACCOUNT_NAME, JIM_FIELD_PASSWORD, -1}},
    {JIM_ACTION_ADMIN_PASSWORD, "admin_password", {JIM_FIELD_USER_ID, JIM_FIELD_NEW_PASSWORD, -1}},
    {JIM_ACTION_ADMIN_ROLE, "admin_role", {JIM_FIELD_USER_ID, JIM_FIELD_ROLE, -1}},
};
#define NSPEC (sizeof spec / sizeof spec[0])

/* Gives field f a valid sample value. */
static void fill(jim_msg *m, jim_field f)
{
    switch (f) {
    case JIM_FIELD_TO: assert_int_equal(jim_msg_set_str(m, f, "bob"), JIM_OK); break;
    case JIM_FIELD_MESSAGE: assert_int_equal(jim_msg_set_str(m, f, "hi"), JIM_OK); break;
    case JIM_FIELD_ROOM:
    case JIM_FIELD_WITH: assert_int_equal(jim_msg_set_str(m, f, "#lobby"), JIM_OK); break;
    case JIM_FIELD_USER_ID:
    case JIM_FIELD_ACCOUNT_NAME: assert_int_equal(jim_msg_set_str(m, f, "alice"), JIM_OK); break;
    case JIM_FIELD_PASSWORD:
    case JIM_FIELD_OLD_PASSWORD:
    case JIM_FIELD_NEW_PASSWORD:
        assert_int_equal(jim_msg_set_str(m, f, "correct horse"), JIM_OK);
        break;
    case JIM_FIELD_SINCE: assert_int_equal(jim_msg_set_int(m, f, 0), JIM_OK); break;
    case JIM_FIELD_KEY:
        assert_int_equal(jim_msg_set_str(m, f, "q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80="),
                         JIM_OK);
        break;
    case JIM_FIELD_SETTING: assert_int_equal(jim_msg_set_str(m, f, "registration"), JIM_OK); break;
    case JIM_FIELD_VALUE: assert_int_equal(jim_msg_set_str(m, f, "closed"), JIM_OK); break;
    case JIM_FIELD_ROLE: assert_int_equal(jim_msg_set_str(m, f, "admin"), JIM_OK); break;
    default: fail_msg("no sample for field %d", f);
    }
}

static void action_names__every_action__round_trip(void **state)
{
    (void)state;
    assert_int_equal(NSPEC, JIM_ACTION_COUNT - 1);
    for (size_t i = 0; i < NSPEC; i++) {
        assert_string_equal(jim_action_name(spec[i].action), spec[i].name);
        assert_int_equal(jim_action_from_name(spec[i].name), spec[i].action);
    }
    assert_null(jim_action_name(JIM_ACTION_NONE));
    assert_null(jim_action_name(JIM_ACTION_COUNT));
}

static void action_from_name__course_aliases__mapped(void **state)
{
    (void)state;
    assert_int_equal(jim_action_from_name("message"), JIM_ACTION_MSG);
    assert_int_equal(jim_action_from_name("exit"), JIM_ACTION_QUIT);
    assert_int_equal(jim_action_from_name("pr\xd0\xbe"
                                          "be"),
                     JIM_ACTION_PROBE);
    assert_int_equal(jim_action_from_name("Msg"), JIM_ACTION_NONE);
    assert_int_equal(jim_action_from_name(""), JIM_ACTION_NONE);
    assert_int_equal(jim_action_from_name(NULL), JIM_ACTION_NONE);
}

static void field_table__every_field__named_and_typed(void **state)
{
    (void)state;
    for (int i = 0; i < JIM_FIELD_COUNT; i++) {
        assert_non_null(jim_field_name((jim_field)i));
        jim_field_type t = jim_field_type_of((jim_field)i);
        assert_true(t == JIM_TYPE_STRING || t == JIM_TYPE_INT || t == JIM_TYPE_BOOL ||
                    t == JIM_TYPE_LIST);
    }
    assert_string_equal(jim_field_name(JIM_FIELD_ACCOUNT_NAME), "account_name");
    assert_int_equal(jim_field_type_of(JIM_FIELD_SEQ), JIM_TYPE_INT);
    assert_int_equal(jim_field_type_of(JIM_FIELD_ONLINE), JIM_TYPE_BOOL);
    assert_null(jim_field_name(JIM_FIELD_COUNT));
    assert_int_equal(jim_field_type_of(JIM_FIELD_COUNT), 0);
}

static void init_action__sets_action_and_time(void **state)
{
    (void)state;
    jim_msg *m = NULL;
    int64_t t = 0;
    assert_int_equal(jim_msg_new(&m), JIM_OK);
    assert_int_equal(jim_msg_action(m), JIM_ACTION_NONE);
    assert_int_equal(jim_msg_init_action(m, JIM_ACTION_JOIN), JIM_OK);
    assert_int_equal(jim_msg_action(m), JIM_ACTION_JOIN);
    assert_int_equal(jim_msg_response(m), 0);
    assert_int_equal(jim_msg_get_int(m, JIM_FIELD_TIME, &t), JIM_OK);
    assert_true(t > 1700000000);
    assert_int_equal(jim_msg_init_action(m, JIM_ACTION_NONE), JIM_EINVAL);
    assert_int_equal(jim_msg_init_action(m, JIM_ACTION_COUNT), JIM_EINVAL);
    assert_int_equal(jim_msg_init_action(NULL, JIM_ACTION_JOIN), JIM_EINVAL);
    jim_msg_free(m);
}

static void init_response__every_code__text_in_alert_or_error(void **state)
{
    (void)state;
    static const int codes[] = {100, 101, 200, 201, 202, 400, 401,
                                402, 403, 404, 409, 410, 429, 500};
    jim_msg *m = NULL;
    assert_int_equal(jim_msg_new(&m), JIM_OK);
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        int c = codes[i];
        assert_true(jim_response_known(c));
        assert_int_equal(jim_msg_init_response(m, c, NULL), JIM_OK);
        assert_int_equal(jim_msg_response(m), c);
        assert_int_equal(jim_msg_action(m), JIM_ACTION_NONE);
        jim_field has = c < 400 ? JIM_FIELD_ALERT : JIM_FIELD_ERROR;
        jim_field hasnt = c < 400 ? JIM_FIELD_ERROR : JIM_FIELD_ALERT;
        assert_string_equal(jim_msg_get_str(m, has), jim_response_text(c));
        assert_false(jim_msg_has(m, hasnt));
        assert_true(jim_msg_has(m, JIM_FIELD_TIME));
        assert_int_equal(jim_msg_validate(m, NULL), JIM_OK);
    }
    assert_int_equal(jim_msg_init_response(m, 404, "no such user: bob"), JIM_OK);
    assert_string_equal(jim_msg_get_str(m, JIM_FIELD_ERROR), "no such user: bob");
    assert_int_equal(jim_msg_init_response(m, 99, NULL), JIM_EINVAL);
    assert_int_equal(jim_msg_init_response(m, 600, NULL), JIM_EINVAL);
    assert_int_equal(jim_msg_init_response(m, 200, "bad \xff"), JIM_EINVAL);
    assert_int_equal(jim_msg_init_response(m, 299, NULL), JIM_OK); /* unknown but valid */
    assert_false(jim_response_known(299));
    assert_null(jim_response_text(299));
    jim_msg_free(m);
}

static void set_get__each_type__stored_and_copied(void **state)
{
    (void)state;
    jim_msg *m = NULL;
    char buf[16];
    const char *s;
    size_t len;
    int64_t i;
    int b;
    assert_int_equal(jim_msg_new(&m), JIM_OK);
    assert_int_equal(jim_msg_init_action(m, JIM_ACTION_MSG), JIM_OK);
    strcpy(buf, "bob");
    assert_int_equal(jim_msg_set_str(m, JIM_FIELD_TO, buf), JIM_OK);
    strcpy(buf, "XXX"); /* the message holds its own copy */
    assert_string_equal(jim_msg_get_str(m, JIM_FIELD_TO), "bob");
    assert_int_equal(jim_msg_set_strn(m, JIM_FIELD_MESSAGE, "hello world", 5), JIM_OK);
    assert_int_equal(jim_msg_get_strn(m, JIM_FIELD_MESSAGE, &s, &len), JIM_OK);
    assert_int_equal(len, 5);
    assert_string_equal(s, "hello");
    assert_int_equal(jim_msg_set_int(m, JIM_FIELD_SEQ, 9007199254740993LL), JIM_OK);
    assert_int_equal(jim_msg_get_int(m, JIM_FIELD_SEQ, &i), JIM_OK);
    assert_int_equal(i, 9007199254740993LL);
    assert_int_equal(jim_msg_set_bool(m, JIM_FIELD_ONLINE, 7), JIM_OK);
    assert_int_equal(jim_msg_get_bool(m, JIM_FIELD_ONLINE, &b), JIM_OK);
    assert_int_equal(b, 1);
    /* Setting twice keeps the last value. */
    assert_int_equal(jim_msg_set_str(m, JIM_FIELD_TO, "carol"), JIM_OK);
    assert_string_equal(jim_msg_get_str(m, JIM_FIELD_TO), "carol");
    jim_msg_free(m);
}

static void set_get__wrong_type_or_bad_args__einval(void **state)
{
    (void)state;
    jim_msg *m = NULL;
    int64_t i = 42;
    int b;
    const char *s;
    size_t len;
    assert_int_equal(jim_msg_new(&m), JIM_OK);
    assert_int_equal(jim_msg_set_str(m, JIM_FIELD_TIME, "now"), JIM_EINVAL);
    assert_int_equal(jim_msg_set_int(m, JIM_FIELD_TO, 1), JIM_EINVAL);
    assert_int_equal(jim_msg_set_bool(m, JIM_FIELD_TO, 1), JIM_EINVAL);
    assert_int_equal(jim_msg_set_str(m, JIM_FIELD_COUNT, "x"), JIM_EINVAL);
    assert_int_equal(jim_msg_set_str(m, JIM_FIELD_TO, NULL), JIM_EINVAL);
    assert_int_equal(jim_msg_set_str(NULL, JIM_FIELD_TO, "x"), JIM_EINVAL);
    assert_int_equal(jim_msg_set_strn(m, JIM_FIELD_TO, "a\0b", 3), JIM_EINVAL);
    assert_int_equal(jim_msg_get_int(m, JIM_FIELD_TO, &i), JIM_EINVAL);
    assert_int_equal(jim_msg_get_bool(m, JIM_FIELD_SEQ, &b), JIM_EINVAL);
    assert_int_equal(jim_msg_get_strn(m, JIM_FIELD_SEQ, &s, &len), JIM_EINVAL);
    assert_null(jim_msg_get_str(m, JIM_FIELD_SEQ));
    assert_int_equal(jim_msg_unset(m, JIM_FIELD_COUNT), JIM_EINVAL);
    assert_false(jim_msg_has(NULL, JIM_FIELD_TO));
    assert_int_equal(jim_msg_new(NULL), JIM_EINVAL);
    jim_msg_free(NULL);
    jim_msg_reset(NULL);
    jim_msg_free(m);
}

static void set_str__invalid_utf8__eutf8(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "\xff", "a\xc3", "\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82"};
    jim_msg *m = NULL;
    assert_int_equal(jim_msg_new(&m), JIM_OK);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(jim_msg_set_str(m, JIM_FIELD_MESSAGE, bad[i]), JIM_EUTF8);
    assert_false(jim_msg_has(m, JIM_FIELD_MESSAGE));
    assert_int_equal(jim_msg_set_str(m, JIM_FIELD_MESSAGE, "h\xc3\xa9llo \xf0\x9f\x98\x80"),
                     JIM_OK);
    jim_msg_free(m);
}

/* U+0000 is carried in message text, the one field whose bytes jim passes through; every
 * other string field refuses it (they are names, ids, passwords, C strings to their users). */
static void set_strn__nul__only_in_message_text(void **state)
{
    (void)state;
    jim_msg *m = NULL;
    const char *v;
    size_t len;
    const char *json;
    assert_int_equal(jim_msg_new(&m), JIM_OK);
    assert_int_equal(jim_msg_make_text(m, "bob", "x"), JIM_OK);
    assert_int_equal(jim_msg_set_strn(m, JIM_FIELD_MESSAGE, "a\0b\0", 4), JIM_OK);
    assert_int_equal(jim_msg_get_strn(m, JIM_FIELD_MESSAGE, &v, &len), JIM_OK);
    assert_int_equal(len, 4);
    assert_memory_equal(v, "a\0b\0", 5); /* and still NUL-terminated */
    assert_int_equal(jim_msg_validate(m, NULL), JIM_OK);
    assert_int_equal(jim_msg_set_int(m, JIM_FIELD_TIME, 1), JIM_OK);
    assert_int_equal(jim_msg_encode(m, &json, &len), JIM_OK);
    assert_string_equal(json, "{\"action\":\"msg\",\"time\":1,\"to\":\"bob\",\"message\":"
                              "\"a\\u0000b\\u0000\"}\n");
    for (int f = 0; f < JIM_FIELD_COUNT; f++) {
        if (jim_field_type_of((jim_field)f) != JIM_TYPE_STRING || f == JIM_FIELD_MESSAGE)
            continue;
        if (jim_msg_set_strn(m, (jim_field)f, "k\0one", 5) != JIM_EINVAL)
            fail_msg("field '%s' took a NUL", jim_field_name((jim_field)f));
    }
    jim_msg_free(m);
}

static void get__absent__enotfound_and_unset_removes(void **state)
{
    (void)state;
    jim_msg *m = NULL;
    int64_t i = 42;
    int b = 3;
    const char *s;
    size_t len;
    assert_int_equal(jim_msg_new(&m), JIM_OK);
    assert_int_equal(jim_msg_get_int(m, JIM_FIELD_SEQ, &i), JIM_ENOTFOUND);
    assert_int_equal(i, 42);
    assert_int_equal(jim_msg_get_bool(m, JIM_FIELD_ONLINE, &b), JIM_ENOTFOUND);
    assert_int_equal(jim_msg_get_strn(m, JIM_FIELD_TO, &s, &len), JIM_ENOTFOUND);
    assert_null(jim_msg_get_str(m, JIM_FIELD_TO));
    assert_int_equal(jim_msg_set_str(m, JIM_FIELD_TO, "bob"), JIM_OK);
    assert_true(jim_msg_has(m, JIM_FIELD_TO));
    assert_int_equal(jim_msg_unset(m, JIM_FIELD_TO), JIM_OK);
    assert_false(jim_msg_has(m, JIM_FIELD_TO));
    jim_msg_reset(m);
    assert_false(jim_msg_has(m, JIM_FIELD_TIME));
    jim_msg_free(m);
}

static void features_and_dialect__set_and_read(void **state)
{
    (void)state;
    jim_msg *m = NULL;
    assert_int_equal(jim_msg_new(&m), JIM_OK);
    assert_int_equal(jim_msg_features(m), 0);
    jim_msg_set_features(m, JIM_FEATURE_NDJSON | 0x80u); /* unknown bits dropped */
    assert_int_equal(jim_msg_features(m), JIM_FEATURE_NDJSON);
    assert_int_equal(jim_msg_dialect(m), JIM_DIALECT_JIM);
    jim_msg_set_dialect(m, JIM_DIALECT_REFERENCE);
    assert_int_equal(jim_msg_dialect(m), JIM_DIALECT_REFERENCE);
    jim_msg_set_dialect(m, (jim_dialect)7);
    assert_int_equal(jim_msg_dialect(m), JIM_DIALECT_REFERENCE);
    /* The database course's dialect can be chosen too (found by tests/fuzz/fuzz_decode). */
    jim_msg_set_dialect(m, JIM_DIALECT_DB);
    assert_int_equal(jim_msg_dialect(m), JIM_DIALECT_DB);
    jim_msg_reset(m);
    assert_int_equal(jim_msg_dialect(m), JIM_DIALECT_JIM);
    assert_int_equal(jim_msg_features(m), 0);
    jim_msg_free(m);
}

static void validate__every_action__required_fields_enforced(void **state)
{
    (void)state;
    jim_msg *m = NULL;
    assert_int_equal(jim_msg_new(&m), JIM_OK);
    for (size_t i = 0; i < NSPEC; i++) {
        /* Missing each required field in turn: 400 naming that field. */
        for (int miss = 0; miss < 3 && (int)spec[i].required[miss] >= 0; miss++) {
            assert_int_equal(jim_msg_init_action(m, spec[i].action), JIM_OK);
            for (int k = 0; k < 3 && (int)spec[i].required[k] >= 0; k++)
                if (k != miss)
                    fill(m, spec[i].required[k]);
            assert_int_equal(jim_msg_validate(m, NULL), JIM_EFIELD);
            assert_non_null(strstr(jim_msg_errmsg(m), "missing field"));
            assert_non_null(strstr(jim_msg_errmsg(m), jim_field_name(spec[i].required[miss])));
        }
        /* All present: valid. */
        assert_int_equal(jim_msg_init_action(m, spec[i].action), JIM_OK);
        for (int k = 0; k < 3 && (int)spec[i].required[k] >= 0; k++)
            fill(m, spec[i].required[k]);
        assert_int_equal(jim_msg_validate(m, NULL), JIM_OK);
        assert_string_equal(jim_msg_errmsg(m), "");
    }
    jim_msg_reset(m);
    assert_int_equal(jim_msg_validate(m, NULL), JIM_EFIELD); /* no action */
    assert_int_equal(jim_msg_validate(NULL, NULL), JIM_EINVAL);
    jim_msg_free(m);
}

/* Validates a join with room r and a msg to r. */
static int check_name(jim_field f, const char *value)
{
    jim_msg *m = NULL;
    assert_int_equal(jim_msg_new(&m), JIM_OK);
    assert_int_equal(jim_msg_init_action(m, JIM_ACTION_MSG), JIM_OK);
    fill(m, JIM_FIELD_TO);
    fill(m, JIM_FIELD_MESSAGE);
    assert_int_equal(jim_msg_set_str(m, f, value), JIM_OK);
    int rc = jim_msg_validate(m, NULL);
    jim_msg_free(m);
    return rc;
}

static void validate__names__charset_and_length(void **state)
{
    (void)state;
    assert_int_equal(check_name(JIM_FIELD_TO, "bob"), JIM_OK);
    assert_int_equal(check_name(JIM_FIELD_TO, "Bob_the-2nd.x"), JIM_OK);
    assert_int_equal(check_name(JIM_FIELD_TO, "#room"), JIM_OK);
    assert_int_equal(check_name(JIM_FIELD_TO, "abcdefghijklmnopqrstuvwxy"), JIM_OK); /* 25 */
    assert_int_equal(check_name(JIM_FIELD_TO, "abcdefghijklmnopqrstuvwxyz"), JIM_ERANGE);
    assert_int_equal(check_name(JIM_FIELD_TO, "#bcdefghijklmnopqrstuvwxy"), JIM_OK); /* # counts */
    assert_int_equal(check_name(JIM_FIELD_TO, "#bcdefghijklmnopqrstuvwxyz"), JIM_ERANGE);
    assert_int_equal(check_name(JIM_FIELD_TO, ""), JIM_ERANGE);
    assert_int_equal(check_name(JIM_FIELD_TO, "#"), JIM_ERANGE);
    assert_int_equal(check_name(JIM_FIELD_TO, "bo b"), JIM_ERANGE);
    assert_int_equal(check_name(JIM_FIELD_TO, "b\xc3\xb6"), JIM_ERANGE);
    assert_int_equal(check_name(JIM_FIELD_FROM, "#room"), JIM_ERANGE); /* from is a user */
    assert_int_equal(check_name(JIM_FIELD_ROOM, "lobby"), JIM_ERANGE); /* room needs # */
    assert_int_equal(check_name(JIM_FIELD_ROOM, "#lob#by"), JIM_ERANGE);
    assert_int_equal(check_name(JIM_FIELD_USER_ID, "a/b"), JIM_ERANGE);
    assert_int_equal(check_name(JIM_FIELD_QUERY, ""), JIM_OK);
    assert_int_equal(check_name(JIM_FIELD_QUERY, "al"), JIM_OK);
    assert_int_equal(check_name(JIM_FIELD_QUERY, "a l"), JIM_ERANGE);
    assert_int_equal(check_name(JIM_FIELD_KEY, "not base64!"), JIM_ERANGE);
}

/* An encrypted msg (doc/protocol.md §7, §10): its message is a base64 envelope whose size
 * bounds the plaintext, and it goes to one user. */
static int check_encrypted(const char *to, size_t envelope_bytes, const char *tweak)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char b64[4 * 700 + 1];
    size_t n = (envelope_bytes + 2) / 3 * 4, i;
    for (i = 0; i < n && i < sizeof b64 - 1; i++)
        b64[i] = alphabet[i % 64];
    b64[i] = '\0';
    /* Padded: the last character's unused bits are zero ('A'), as strict base64 wants. */
    if (envelope_bytes % 3 == 1) {
        b64[n - 3] = 'A';
        b64[n - 2] = b64[n - 1] = '=';
    } else if (envelope_bytes % 3 == 2) {
        b64[n - 2] = 'A';
        b64[n - 1] = '=';
    }
    if (tweak)
        memcpy(b64, tweak, strlen(tweak));
    jim_msg *m = NULL;
    assert_int_equal(jim_msg_new(&m), JIM_OK);
    assert_int_equal(jim_msg_make_text(m, to, b64), JIM_OK);
    assert_int_equal(jim_msg_set_str(m, JIM_FIELD_ENCODING, JIM_E2E_ENCODING), JIM_OK);
    int rc = jim_msg_validate(m, NULL);
    jim_msg_free(m);
    return rc;
}

static void validate__encrypted_message__envelope_and_plaintext_bound(void **state)
{
    (void)state;
    assert_int_equal(check_encrypted("bob", 48, NULL), JIM_OK); /* an empty text */
    assert_int_equal(check_encrypted("bob", 49, NULL), JIM_OK);
    assert_int_equal(check_encrypted("bob", 50, NULL), JIM_OK);
    assert_int_equal(check_encrypted("bob", 47, NULL), JIM_ERANGE);
    /* 500 characters of at most 4 bytes: 2048 bytes of envelope, far over 500 characters
       of base64 text. */
    assert_int_equal(check_encrypted("bob", 48 + 4 * 500, NULL), JIM_OK);
    assert_int_equal(check_encrypted("bob", 48 + 4 * 500 + 1, NULL), JIM_ERANGE);
    assert_int_equal(check_encrypted("bob", 60, "!"), JIM_ERANGE);    /* not base64 */
    assert_int_equal(check_encrypted("bob", 60, "AB=C"), JIM_ERANGE); /* '=' inside */
    assert_int_equal(check_encrypted("#room", 60, NULL), JIM_ERANGE);
    assert_int_equal(check_encrypted(NULL, 60, NULL), JIM_ERANGE); /* the general chat */
    jim_msg *m = NULL;
    assert_int_equal(jim_msg_new(&m), JIM_OK);
    assert_int_equal(jim_msg_make_text(m, "#room", "x"), JIM_OK);
    assert_int_equal(jim_msg_set_str(m, JIM_FIELD_ENCODING, JIM_E2E_ENCODING), JIM_OK);
    assert_int_equal(jim_msg_validate(m, NULL), JIM_ERANGE);
    assert_non_null(strstr(jim_msg_errmsg(m), "an encrypted message goes to one user"));
    /* Plain text under another encoding is counted as text, as before. */
    assert_int_equal(jim_msg_set_str(m, JIM_FIELD_ENCODING, "utf-8"), JIM_OK);
    assert_int_equal(jim_msg_validate(m, NULL), JIM_OK);
    /* A key is exactly 32 bytes of base64. */
    assert_int_equal(jim_msg_init_action(m, JIM_ACTION_PUT_KEY), JIM_OK);
    assert_int_equal(
        jim_msg_set_str(m, JIM_FIELD_KEY, "B6N8vBQgk8i3VdwbEOhstCY3StFqqFPtC9/AsrhtHHw="), JIM_OK);
    assert_int_equal(jim_msg_validate(m, NULL), JIM_OK);
    assert_int_equal(jim_msg_set_str(m, JIM_FIELD_KEY, "AAAA"), JIM_OK);
    assert_int_equal(jim_msg_validate(m, NULL), JIM_ERANGE);
    assert_non_null(strstr(jim_msg_errmsg(m), "X25519 public key"));
    jim_msg_free(m);
}

static void validate__message_length__counts_code_points(void **state)
{
    (void)state;
    char text[4 * 501 + 1];
    jim_msg *m = NULL;
    assert_int_equal(jim_msg_new(&m), JIM_OK);
    /* 500 four-byte characters: 2000 bytes, but 500 characters. */
    text[0] = '\0';
    for (int i = 0; i < 500; i++)
        strcat(text, "\xf0\x9f\x98\x80");
    assert_int_equal(jim_msg_make_text(m, "bob", text), JIM_OK);
    assert_int_equal(jim_msg_validate(m, NULL), JIM_OK);
    strcat(text, "!");
    assert_int_equal(jim_msg_make_text(m, "bob", text), JIM_OK);
    assert_int_equal(jim_msg_validate(m, NULL), JIM_ERANGE);
    assert_non_null(strstr(jim_msg_errmsg(m), "field 'message'"));
    assert_non_null(strstr(jim_msg_errmsg(m), "500"));
    /* Mixed widths: 150 x "e\xcc\x81" (3 bytes, 2 code points), 75 x "\xe2\x82\xac" and
       125 x 'a' = 500 code points in 800 bytes, in no alignment to 8-byte words. */
    text[0] = '\0';
    for (int i = 0; i < 150; i++)
        strcat(text, "e\xcc\x81");
    for (int i = 0; i < 100; i++)
        strcat(text, i % 2 ? "\xe2\x82\xac" : "a");
    for (int i = 0; i < 50; i++)
        strcat(text, i % 2 ? "a" : "\xe2\x82\xac");
    for (int i = 0; i < 50; i++)
        strcat(text, "a");
    assert_int_equal(jim_msg_make_text(m, "bob", text), JIM_OK);
    assert_int_equal(jim_msg_validate(m, NULL), JIM_OK);
    strcat(text, "\xc3\xa9");
    assert_int_equal(jim_msg_make_text(m, "bob", text), JIM_OK);
    assert_int_equal(jim_msg_validate(m, NULL), JIM_ERANGE);
    /* One byte a character: 500 pass (not counted at all), 501 do not. */
    memset(text, 'a', 500);
    text[500] = '\0';
    assert_int_equal(jim_msg_make_text(m, "bob", text), JIM_OK);
    assert_int_equal(jim_msg_validate(m, NULL), JIM_OK);
    strcat(text, "a");
    assert_int_equal(jim_msg_make_text(m, "bob", text), JIM_OK);
    assert_int_equal(jim_msg_validate(m, NULL), JIM_ERANGE);
    jim_msg_free(m);
}

static void validate__configured_limits__applied(void **state)
{
    (void)state;
    jim_limits *lim = NULL;
    jim_msg *m = NULL;
    assert_int_equal(jim_limits_new(&lim), JIM_OK);
    assert_int_equal(jim_msg_new(&m), JIM_OK);
    assert_int_equal(jim_limits_set(lim, JIM_LIMIT_MESSAGE_CHARS, 5), JIM_OK);
    assert_int_equal(jim_limits_set(lim, JIM_LIMIT_NAME_CHARS, 4), JIM_OK);
    assert_int_equal(jim_msg_make_text(m, "bob", "hello"), JIM_OK);
    assert_int_equal(jim_msg_validate(m, lim), JIM_OK);
    assert_int_equal(jim_msg_make_text(m, "bob", "hello!"), JIM_OK);
    assert_int_equal(jim_msg_validate(m, lim), JIM_ERANGE);
    assert_int_equal(jim_msg_make_text(m, "alice", "hi"), JIM_OK);
    assert_int_equal(jim_msg_validate(m, lim), JIM_ERANGE);
    assert_int_equal(jim_msg_validate(m, NULL), JIM_OK);
    jim_msg_free(m);
    jim_limits_free(lim);
}

static void validate__register_password__too_short(void **state)
{
    (void)state;
    jim_msg *m = NULL;
    assert_int_equal(jim_msg_new(&m), JIM_OK);
    assert_int_equal(jim_msg_make_register(m, "alice", "short", NULL), JIM_OK);
    assert_int_equal(jim_msg_validate(m, NULL), JIM_ERANGE);
    assert_non_null(strstr(jim_msg_errmsg(m), "too short"));
    assert_int_equal(jim_msg_make_register(m, "alice", "long enough", "about me"), JIM_OK);
    assert_int_equal(jim_msg_validate(m, NULL), JIM_OK);
    /* A short password is fine to log in with: the server decides. */
    assert_int_equal(jim_msg_make_authenticate(m, "alice", "short"), JIM_OK);
    assert_int_equal(jim_msg_validate(m, NULL), JIM_OK);
    assert_int_equal(jim_msg_make_authenticate(m, "alice", ""), JIM_OK);
    assert_int_equal(jim_msg_validate(m, NULL), JIM_ERANGE);
    jim_msg_free(m);
}

static void validate__numbers__ranges(void **state)
{
    (void)state;
    jim_msg *m = NULL;
    assert_int_equal(jim_msg_new(&m), JIM_OK);
    assert_int_equal(jim_msg_make_named(m, JIM_ACTION_HISTORY, "bob"), JIM_OK);
    assert_int_equal(jim_msg_set_int(m, JIM_FIELD_LIMIT, 500), JIM_OK);
    assert_int_equal(jim_msg_validate(m, NULL), JIM_OK);
    assert_int_equal(jim_msg_set_int(m, JIM_FIELD_LIMIT, 501), JIM_OK);
    assert_int_equal(jim_msg_validate(m, NULL), JIM_ERANGE);
    assert_int_equal(jim_msg_set_int(m, JIM_FIELD_LIMIT, 0), JIM_OK);
    assert_int_equal(jim_msg_validate(m, NULL), JIM_ERANGE);
    assert_int_equal(jim_msg_set_int(m, JIM_FIELD_LIMIT, 10), JIM_OK);
    assert_int_equal(jim_msg_set_int(m, JIM_FIELD_BEFORE, -1), JIM_OK);
    assert_int_equal(jim_msg_validate(m, NULL), JIM_ERANGE);
    assert_non_null(strstr(jim_msg_errmsg(m), "'before'"));
    jim_msg_free(m);
}

static void make__builders__produce_valid_objects(void **state)
{
    (void)state;
    jim_msg *m = NULL;
    assert_int_equal(jim_msg_new(&m), JIM_OK);
    assert_int_equal(jim_msg_make_presence(m, "alice", "here"), JIM_OK);
    assert_int_equal(jim_msg_action(m), JIM_ACTION_PRESENCE);
    assert_string_equal(jim_msg_get_str(m, JIM_FIELD_TYPE), "status");
    assert_string_equal(jim_msg_get_str(m, JIM_FIELD_USER_STATUS), "here");
    assert_int_equal(jim_msg_validate(m, NULL), JIM_OK);
    assert_int_equal(jim_msg_make_text(m, "#room", "hi"), JIM_OK);
    assert_int_equal(jim_msg_validate(m, NULL), JIM_OK);
    static const jim_action named[] = {
        JIM_ACTION_JOIN,    JIM_ACTION_LEAVE,      JIM_ACTION_ADD_CONTACT, JIM_ACTION_DEL_CONTACT,
        JIM_ACTION_GET_KEY, JIM_ACTION_ADMIN_KICK, JIM_ACTION_ADMIN_BAN,   JIM_ACTION_HISTORY};
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        const char *name = named[i] <= JIM_ACTION_LEAVE ? "#room" : "bob";
        assert_int_equal(jim_msg_make_named(m, named[i], name), JIM_OK);
        assert_int_equal(jim_msg_action(m), named[i]);
        assert_int_equal(jim_msg_validate(m, NULL), JIM_OK);
    }
    assert_int_equal(jim_msg_make_named(m, JIM_ACTION_QUIT, "x"), JIM_EINVAL);
    assert_int_equal(jim_msg_make_text(m, "bob", NULL), JIM_EINVAL);
    jim_msg_free(m);
}

/* A copy holds everything of the original and outlives it. */
static void copy__every_part__independent_of_the_original(void **state)
{
    (void)state;
    jim_msg *a = NULL, *b = NULL;
    assert_int_equal(jim_msg_new(&a), JIM_OK);
    assert_int_equal(jim_msg_new(&b), JIM_OK);
    assert_int_equal(jim_msg_make_presence(a, "alice", "away"), JIM_OK);
    jim_msg_set_features(a, JIM_FEATURE_NDJSON);
    jim_msg_set_dialect(a, JIM_DIALECT_REFERENCE);
    assert_int_equal(jim_msg_set_bool(a, JIM_FIELD_ONLINE, 1), JIM_OK);
    assert_int_equal(jim_msg_copy(b, a), JIM_OK);
    jim_msg_reset(a);
    assert_int_equal(jim_msg_action(b), JIM_ACTION_PRESENCE);
    assert_string_equal(jim_msg_get_str(b, JIM_FIELD_ACCOUNT_NAME), "alice");
    assert_string_equal(jim_msg_get_str(b, JIM_FIELD_USER_STATUS), "away");
    assert_int_equal(jim_msg_features(b), JIM_FEATURE_NDJSON);
    assert_int_equal(jim_msg_dialect(b), JIM_DIALECT_REFERENCE);
    int on = 0;
    assert_int_equal(jim_msg_get_bool(b, JIM_FIELD_ONLINE, &on), JIM_OK);
    assert_int_equal(on, 1);
    assert_int_equal(jim_msg_copy(b, NULL), JIM_EINVAL);
    assert_int_equal(jim_msg_copy(b, b), JIM_OK);
    jim_msg_free(a);
    jim_msg_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(action_names__every_action__round_trip),
        cmocka_unit_test(action_from_name__course_aliases__mapped),
        cmocka_unit_test(field_table__every_field__named_and_typed),
        cmocka_unit_test(init_action__sets_action_and_time),
        cmocka_unit_test(init_response__every_code__text_in_alert_or_error),
        cmocka_unit_test(set_get__each_type__stored_and_copied),
        cmocka_unit_test(set_get__wrong_type_or_bad_args__einval),
        cmocka_unit_test(set_str__invalid_utf8__eutf8),
        cmocka_unit_test(set_strn__nul__only_in_message_text),
        cmocka_unit_test(get__absent__enotfound_and_unset_removes),
        cmocka_unit_test(features_and_dialect__set_and_read),
        cmocka_unit_test(validate__every_action__required_fields_enforced),
        cmocka_unit_test(validate__names__charset_and_length),
        cmocka_unit_test(validate__message_length__counts_code_points),
        cmocka_unit_test(validate__encrypted_message__envelope_and_plaintext_bound),
        cmocka_unit_test(validate__configured_limits__applied),
        cmocka_unit_test(validate__register_password__too_short),
        cmocka_unit_test(validate__numbers__ranges),
        cmocka_unit_test(make__builders__produce_valid_objects),
        cmocka_unit_test(copy__every_part__independent_of_the_original),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

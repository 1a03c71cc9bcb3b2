/*
 * test_jimd_dialects.c — the course's client dialects against a real jimd, replayed byte
 * for byte as their reference clients send them (raw objects with no delimiter, float
 * `time`, one object read per recv(1024)), and the general chat they talk in, across
 * four workers, with jim's own ndjson clients in it at the same time.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "jimd_harness.h"

#define T 10000 /* ms to wait for an answer */

/* One recv(1024), as a course client does it; the bytes as a string ("" on timeout). */
static const char *recv1024(tclient *c, int timeout_ms)
{
    static char buf[1025];
    struct pollfd pfd = {c->fd, POLLIN, 0};
    buf[0] = '\0';
    if (poll(&pfd, 1, timeout_ms) <= 0)
        return buf;
    ssize_t n = recv(c->fd, buf, 1024, 0);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

/* The bytes of one read must be exactly one JSON object (and a newline). */
static void assert_one_object(const char *bytes)
{
    jim_msg *m = NULL;
    assert_int_equal(jim_msg_new(&m), JIM_OK);
    if (jim_msg_decode(m, bytes, strlen(bytes), NULL) != JIM_OK)
        fail_msg("not one JSON object: %s (%s)", bytes, jim_msg_errmsg(m));
    jim_msg_free(m);
}

static tclient *raw(int port, const char *bytes)
{
    tclient *c = tc_connect(port);
    assert_non_null(c);
    if (bytes)
        assert_int_equal(tc_send_raw(c, bytes, strlen(bytes)), 0);
    return c;
}

static void send_raw(tclient *c, const char *bytes)
{
    assert_int_equal(tc_send_raw(c, bytes, strlen(bytes)), 0);
}

/* The database course, lesson 4: get_users, add, get_contacts with `user` as a string,
 * remove, exit. Each reply is one object that fits one recv(1024). */
static void db_course__exact_bytes__data_list_replies(void **state)
{
    (void)state;
    jimd_proc p;
    assert_int_equal(jimd_start(&p, 1, "auth none"), 0);
    for (const char *const *n = (const char *const[]){"ann", "bob", "dave", NULL}; *n; n++) {
        tclient *o = tc_online(p.port, *n);
        assert_non_null(o);
        tc_close(o);
    }
    tclient *c = raw(p.port, "{\"action\": \"presence\", \"time\": 1700000000.123456, \"type\": "
                             "\"status\", \"user\": {\"account_name\": \"me\", \"status\": "
                             "\"Yep, I am here!\"}}");
    const char *r = recv1024(c, T);
    assert_one_object(r);
    assert_non_null(strstr(r, "\"response\":200"));

    send_raw(c, "{\"action\": \"get_users\", \"time\": 1700000001.5, \"account_name\": \"me\"}");
    r = recv1024(c, T);
    assert_one_object(r);
    assert_non_null(strstr(r, "\"response\":202"));
    assert_non_null(strstr(r, "\"data_list\":[\"ann\",\"bob\",\"dave\",\"me\"]"));

    send_raw(c, "{\"action\": \"add\", \"time\": 1700000002.5, \"user\": \"me\", "
                "\"account_name\": \"dave\"}");
    r = recv1024(c, T);
    assert_one_object(r);
    assert_non_null(strstr(r, "\"response\":200"));
    send_raw(c, "{\"action\": \"add\", \"time\": 1700000002.5, \"user\": \"me\", "
                "\"account_name\": \"nobody\"}");
    r = recv1024(c, T);
    assert_non_null(strstr(r, "\"response\":404"));

    send_raw(c, "{\"action\": \"get_contacts\", \"time\": 1700000003.5, \"user\": \"me\"}");
    r = recv1024(c, T);
    assert_one_object(r);
    assert_non_null(strstr(r, "\"response\":202"));
    assert_non_null(strstr(r, "\"data_list\":[\"dave\"]"));

    send_raw(c, "{\"action\": \"remove\", \"time\": 1700000004.5, \"user\": \"me\", "
                "\"account_name\": \"dave\"}");
    r = recv1024(c, T);
    assert_non_null(strstr(r, "\"response\":200"));
    send_raw(c, "{\"action\": \"get_contacts\", \"time\": 1700000005.5, \"user\": \"me\"}");
    r = recv1024(c, T);
    assert_non_null(strstr(r, "\"data_list\":[]"));

    send_raw(c, "{\"action\": \"exit\", \"time\": 1700000006.5, \"account_name\": \"me\"}");
    r = recv1024(c, T);
    assert_non_null(strstr(r, "\"response\":200"));
    assert_true(tc_eof(c, T));
    tc_close(c);
    assert_int_equal(jimd_stop(&p), 0);
    jimd_cleanup(&p);
}

/* With more accounts than fit, the list holds the first names in order, and the reply
 * still fits one recv(1024). */
static void db_course__many_users__list_fits_one_read(void **state)
{
    (void)state;
    jimd_proc p;
    assert_int_equal(jimd_start(&p, 1, "auth none"), 0);
    char bytes[256];
    for (int i = 0; i < 120; i++) {
        snprintf(bytes, sizeof bytes,
                 "{\"action\":\"presence\",\"user\":{\"account_name\":\"user_number_%03d\"}}", i);
        tclient *o = raw(p.port, bytes);
        assert_non_null(strstr(recv1024(o, T), "\"response\":200"));
        tc_close(o);
    }
    tclient *c = raw(p.port, "{\"action\":\"presence\",\"user\":{\"account_name\":\"me\"}}");
    recv1024(c, T);
    send_raw(c, "{\"action\": \"get_users\", \"time\": 1.5, \"account_name\": \"me\"}");
    const char *r = recv1024(c, T);
    assert_one_object(r);
    assert_true(strlen(r) <= 1024);
    assert_non_null(strstr(r, "\"data_list\":[\"me\",\"user_number_000\",\"user_number_001\""));
    tc_close(c);
    assert_int_equal(jimd_stop(&p), 0);
    jimd_cleanup(&p);
}

/* The client-server course, lesson 7: everyone logs in as Guest and writes `message`
 * without `to`; everyone else reads it with both `sender` and `from`. The 2017 template
 * puts account_name beside `user`. */
static void lesson7__guests_broadcast__sender_and_from(void **state)
{
    (void)state;
    jimd_proc p;
    assert_int_equal(jimd_start(&p, 2, "auth none"), 0);
    enum { N = 3 };
    tclient *g[N];
    for (int i = 0; i < N; i++) {
        g[i] = raw(p.port, "{\"action\": \"presence\", \"time\": 1700000000.5, \"type\": "
                           "\"status\", \"user\": {\"account_name\": \"Guest\", \"status\": "
                           "\"Yep, I am here!\"}}");
        assert_non_null(strstr(recv1024(g[i], T), "\"response\":200"));
    }
    tclient *t = raw(p.port, "{\"action\": \"presence\", \"time\": 1700000000.5, \"type\": "
                             "\"status\", \"account_name\": \"templ\", \"user\": {\"status\": "
                             "\"here\"}}");
    assert_non_null(strstr(recv1024(t, T), "\"response\":200"));
    send_raw(g[0], "{\"action\": \"message\", \"time\": 1700000001.25, \"account_name\": "
                   "\"Guest\", \"mess_text\": \"hello everyone\"}");
    assert_non_null(strstr(recv1024(g[0], T), "\"response\":200"));
    for (int i = 1; i < N; i++) {
        const char *r = recv1024(g[i], T);
        assert_one_object(r);
        assert_non_null(strstr(r, "\"action\":\"message\""));
        assert_non_null(strstr(r, "\"sender\":\"Guest\""));
        assert_non_null(strstr(r, "\"from\":\"Guest\""));
        assert_non_null(strstr(r, "\"mess_text\":\"hello everyone\""));
    }
    /* The 2017 template's client, and the Guests that only read: logged in with presence
     * and no ndjson, they are course clients and read the course's form. */
    const char *r = recv1024(t, T);
    assert_non_null(strstr(r, "\"action\":\"message\""));
    assert_non_null(strstr(r, "\"sender\":\"Guest\""));
    for (int i = 0; i < N; i++)
        tc_close(g[i]);
    tc_close(t);
    assert_int_equal(jimd_stop(&p), 0);
    jimd_cleanup(&p);
}

/* The general chat over four workers: course clients and ndjson clients in it at once,
 * each message reaching every other session exactly once; it is listed, cannot be left,
 * and a user who was away catches up with sync and reads its history. */
static void general_chat__four_workers__everyone_once(void **state)
{
    (void)state;
    jimd_proc p;
    assert_int_equal(jimd_start(&p, 4, "auth none"), 0);
    enum { J = 6, C = 4, ALL = J + C };
    tclient *s[ALL];
    char name[32];
    for (int i = 0; i < J; i++) {
        snprintf(name, sizeof name, "nd%d", i);
        s[i] = tc_online(p.port, name);
        assert_non_null(s[i]);
    }
    for (int i = J; i < ALL; i++) {
        char bytes[128];
        snprintf(bytes, sizeof bytes,
                 "{\"action\":\"presence\",\"time\":1.5,\"user\":{\"account_name\":\"co%d\"}}", i);
        s[i] = raw(p.port, bytes);
        assert_non_null(strstr(recv1024(s[i], T), "\"response\":200"));
    }
    /* Each sends one: an ndjson client with and without `to`, a course client without. */
    for (int i = 0; i < ALL; i++) {
        if (i < J)
            tc_send(s[i],
                    i % 2 ? "{\"action\":\"msg\",\"to\":\"#general\",\"message\":\"m%d\"}"
                          : "{\"action\":\"msg\",\"message\":\"m%d\"}",
                    i);
        else {
            char bytes[128];
            snprintf(bytes, sizeof bytes,
                     "{\"action\":\"message\",\"time\":2.5,\"mess_text\":\"m%d\"}", i);
            send_raw(s[i], bytes);
        }
    }
    /* Every session: ALL - 1 messages from the others (and its own 200). */
    for (int i = 0; i < ALL; i++) {
        int got[ALL] = {0}, total = 0, answered = 0;
        for (int k = 0; k < 4 * ALL && (total < ALL - 1 || !answered); k++) {
            jim_msg *m = tc_recv(s[i], 3000);
            if (!m)
                break;
            answered |= jim_msg_response(m) == 200;
            const char *text = NULL;
            size_t len = 0;
            if (jim_msg_action(m) == JIM_ACTION_MSG &&
                jim_msg_get_strn(m, JIM_FIELD_MESSAGE, &text, &len) == JIM_OK) {
                int from = atoi(text + 1);
                assert_true(from >= 0 && from < ALL && from != i);
                got[from]++;
                total++;
            }
        }
        for (int k = 0; k < ALL; k++)
            assert_int_equal(got[k], k == i ? 0 : 1);
        assert_null(tc_next_msg(s[i], 300)); /* and nothing twice */
    }
    /* Listed with every account as a member; cannot be left. */
    tc_send(s[0], "{\"action\":\"get_rooms\"}");
    assert_int_equal(tc_response(s[0], T), 202);
    jim_msg *m = tc_recv(s[0], T);
    assert_string_equal(jim_msg_get_str(m, JIM_FIELD_ROOM), "#general");
    int64_t members = 0;
    jim_msg_get_int(m, JIM_FIELD_MEMBERS, &members);
    assert_int_equal(members, ALL);
    tc_send(s[0], "{\"action\":\"leave\",\"room\":\"#general\"}");
    assert_int_equal(tc_response(s[0], T), 403);
    /* nd1 goes away; two messages later it syncs them and reads them in history. */
    tc_close(s[1]);
    tc_send(s[0], "{\"action\":\"msg\",\"message\":\"while away 1\"}");
    assert_int_equal(tc_response(s[0], T), 200);
    tc_send(s[2], "{\"action\":\"msg\",\"message\":\"while away 2\"}");
    assert_int_equal(tc_response(s[2], T), 200);
    int64_t last = 0;
    jim_msg_get_int(s[2]->msg, JIM_FIELD_SEQ, &last);
    s[1] = tc_online(p.port, "nd1");
    assert_non_null(s[1]);
    tc_send(s[1], "{\"action\":\"sync\",\"since\":%lld}", (long long)(last - 1));
    m = tc_next_msg(s[1], T);
    assert_non_null(m);
    assert_string_equal(jim_msg_get_str(m, JIM_FIELD_MESSAGE), "while away 2");
    assert_int_equal(tc_response(s[1], T), 200); /* the end of the sync */
    tc_send(s[1], "{\"action\":\"history\",\"with\":\"#general\",\"limit\":2}");
    assert_int_equal(tc_response(s[1], T), 202);
    m = tc_recv(s[1], T);
    assert_string_equal(jim_msg_get_str(m, JIM_FIELD_MESSAGE), "while away 2");
    m = tc_recv(s[1], T);
    assert_string_equal(jim_msg_get_str(m, JIM_FIELD_MESSAGE), "while away 1");
    for (int i = 0; i < ALL; i++)
        tc_close(s[i]);
    assert_int_equal(jimd_stop(&p), 0);
    jimd_cleanup(&p);
}

/* A new account's sync does not bring the general chat's past; with the general chat
 * turned off, a message without `to` is a 400 again. */
static void general_chat__new_account_and_off(void **state)
{
    (void)state;
    jimd_proc p;
    assert_int_equal(jimd_start(&p, 1, NULL), 0);
    tclient *a = tc_online(p.port, "early");
    assert_non_null(a);
    tc_send(a, "{\"action\":\"msg\",\"message\":\"before you came\"}");
    assert_int_equal(tc_response(a, T), 200);
    tclient *b = tc_online(p.port, "late");
    assert_non_null(b);
    tc_send(b, "{\"action\":\"sync\",\"since\":0}");
    assert_int_equal(tc_response(b, T), 200); /* nothing came before the 200 */
    tc_close(a);
    tc_close(b);
    assert_int_equal(jimd_stop(&p), 0);
    jimd_cleanup(&p);

    assert_int_equal(jimd_start(&p, 1, "general_chat \"\""), 0);
    a = tc_online(p.port, "early");
    assert_non_null(a);
    tc_send(a, "{\"action\":\"msg\",\"message\":\"to nobody\"}");
    assert_int_equal(tc_response(a, T), 400);
    assert_non_null(strstr(jim_msg_get_str(a->msg, JIM_FIELD_ERROR), "missing field 'to'"));
    tc_close(a);
    assert_int_equal(jimd_stop(&p), 0);
    jimd_cleanup(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(db_course__exact_bytes__data_list_replies),
        cmocka_unit_test(db_course__many_users__list_fits_one_read),
        cmocka_unit_test(lesson7__guests_broadcast__sender_and_from),
        cmocka_unit_test(general_chat__four_workers__everyone_once),
        cmocka_unit_test(general_chat__new_account_and_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

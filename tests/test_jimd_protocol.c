/*
 * test_jimd_protocol.c — every action and error code of the protocol against a real
 * jimd (one worker) on an ephemeral loopback port with a temporary database.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "jimd_harness.h"

#define T 5000 /* ms to wait for an answer */

static tclient *login(const char *name)
{
    tclient *c = tc_online(jimd_group.port, name);
    assert_non_null(c);
    return c;
}

static const char *str(jim_msg *m, jim_field f)
{
    const char *s = jim_msg_get_str(m, f);
    return s ? s : "";
}

/* A client as the course's were: it registers and logs in without announcing ndjson
   (a float time in the log-in), so it is paced, one object a write. */
static tclient *legacy_online(int port, const char *name)
{
    tclient *c = tc_connect(port);
    assert_non_null(c);
    tc_send(c,
            "{\"action\":\"register\",\"time\":1,\"user\":{\"account_name\":\"%s\","
            "\"password\":\"password1\"}}",
            name);
    assert_int_equal(tc_response(c, T), 201);
    char auth[160];
    snprintf(auth, sizeof auth,
             "{\"action\":\"authenticate\",\"time\":1.5,\"user\":{\"account_name\":"
             "\"%s\",\"password\":\"password1\"}}",
             name);
    tc_send_raw(c, auth, strlen(auth));
    assert_int_equal(tc_response(c, T), 200);
    return c;
}

static void register__new_duplicate_and_bad__codes(void **state)
{
    (void)state;
    tclient *c = tc_connect(jimd_group.port);
    assert_non_null(c);
    tc_send(c, "{\"action\":\"register\",\"time\":1,\"user\":{\"account_name\":\"reg1\","
               "\"password\":\"password1\",\"info\":\"hello\"}}");
    assert_int_equal(tc_response(c, T), 201);
    tc_send(c, "{\"action\":\"register\",\"time\":1,\"user\":{\"account_name\":\"reg1\","
               "\"password\":\"password1\"}}");
    assert_int_equal(tc_response(c, T), 409);
    tc_send(c, "{\"action\":\"register\",\"time\":1,\"user\":{\"account_name\":\"reg2\","
               "\"password\":\"short\"}}");
    assert_int_equal(tc_response(c, T), 400);
    assert_non_null(strstr(str(c->msg, JIM_FIELD_ERROR), "too short"));
    tc_send(c, "{\"action\":\"register\",\"time\":1,\"user\":{\"account_name\":\"bad name\","
               "\"password\":\"password1\"}}");
    assert_int_equal(tc_response(c, T), 400);
    /* register does not log in */
    tc_send(c, "{\"action\":\"get_contacts\",\"time\":1}");
    assert_int_equal(tc_response(c, T), 401);
    tc_close(c);
}

static void authenticate__right_and_twice__200_409(void **state)
{
    (void)state;
    tclient *c = tc_connect(jimd_group.port);
    assert_non_null(c);
    assert_int_equal(tc_login(c, "auth1", "password1"), 200);
    tc_send(c, "{\"action\":\"authenticate\",\"time\":1,\"user\":{\"account_name\":\"auth1\","
               "\"password\":\"password1\"}}");
    assert_int_equal(tc_response(c, T), 409); /* already logged in */
    tc_close(c);

    tclient *d = tc_connect(jimd_group.port);
    assert_non_null(d);
    /* Another device of the same account (max_sessions is 8 by default). */
    tc_send(d, "{\"action\":\"authenticate\",\"time\":1,\"user\":{\"account_name\":\"auth1\","
               "\"password\":\"password1\"}}");
    assert_int_equal(tc_response(d, T), 200);
    tc_close(d);

    /* The log never contains a password. */
    assert_int_equal(jimd_log_count(&jimd_group, "password1"), 0);
    assert_int_equal(jimd_log_count(&jimd_group, "wrong-one"), 0);
}

static void authenticate__repeated_failures__429_with_retry_after(void **state)
{
    (void)state;
    jimd_proc p; /* its own server: failures from 127.0.0.1 would block the other tests */
    assert_int_equal(jimd_start(&p, 1, "login_failures_max 3"), 0);
    tclient *setup = tc_connect(p.port);
    assert_non_null(setup);
    assert_int_equal(tc_login(setup, "auth1", "password1"), 200);
    tc_close(setup);
    tclient *e = tc_connect(p.port);
    assert_non_null(e);
    for (int i = 0; i < 3; i++) {
        tc_send(e, "{\"action\":\"authenticate\",\"time\":1,\"user\":{\"account_name\":"
                   "\"auth1\",\"password\":\"wrong-one\"}}");
        assert_int_equal(tc_response(e, T), 402);
    }
    tc_send(e, "{\"action\":\"authenticate\",\"time\":1,\"user\":{\"account_name\":\"auth1\","
               "\"password\":\"password1\"}}");
    assert_int_equal(tc_response(e, T), 429);
    int64_t retry = 0;
    assert_int_equal(jim_msg_get_int(e->msg, JIM_FIELD_RETRY_AFTER, &retry), JIM_OK);
    assert_true(retry >= 1 && retry <= 60);
    /* An unknown account is a 402 too, never a hint that it does not exist. */
    tc_send(e, "{\"action\":\"authenticate\",\"time\":1,\"user\":{\"account_name\":\"nobody1\","
               "\"password\":\"password1\"}}");
    int rc = tc_response(e, T);
    assert_true(rc == 402 || rc == 429);
    tc_close(e);
    assert_int_equal(jimd_log_count(&p, "wrong-one"), 0);
    assert_int_equal(jimd_stop(&p), 0);
    jimd_cleanup(&p);
}

static void before_login__401_and_presence_rules(void **state)
{
    (void)state;
    tclient *c = tc_connect(jimd_group.port);
    assert_non_null(c);
    static const char *const need_login[] = {
        "{\"action\":\"msg\",\"to\":\"x\",\"message\":\"hi\"}",
        "{\"action\":\"join\",\"room\":\"#a\"}",
        "{\"action\":\"get_contacts\"}",
        "{\"action\":\"sync\",\"since\":0}",
        "{\"action\":\"get_rooms\"}",
        "{\"action\":\"history\",\"with\":\"x\"}",
        "{\"action\":\"presence\",\"user\":{\"account_name\":\"x\"}}"};
    for (size_t i = 0; i < sizeof need_login / sizeof need_login[0]; i++) {
        tc_send(c, "%s", need_login[i]);
        assert_int_equal(tc_response(c, T), 401);
    }
    tc_send(c, "{\"action\":\"fly\"}");
    assert_int_equal(tc_response(c, T), 400);
    assert_string_equal(str(c->msg, JIM_FIELD_ERROR), "unknown action");
    tc_send(c, "{\"action\":\"quit\"}");
    assert_int_equal(tc_response(c, T), 200);
    assert_true(tc_eof(c, T));
    tc_close(c);
}

static void bad_input__400_and_connection_goes_on(void **state)
{
    (void)state;
    tclient *c = login("bad1");
    static const char *const bad[] = {
        "{\"action\":\"msg\",\"to\":5,\"message\":\"x\"}\n",
        "{\"action\":\"msg\",\"to\":\"bob\"}\n",
        "{not json}\n",
        "[1,2,3]\n",
        "{\"action\":\"msg\",\"to\":\"bob\",\"message\":\"\xff\"}\n",
        "{\"message\":\"unterminated\n",
        "{\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}\n",
        "garbage line\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(tc_send_raw(c, bad[i], strlen(bad[i])), 0);
        assert_int_equal(tc_response(c, T), 400);
        assert_true(strlen(str(c->msg, JIM_FIELD_ERROR)) > 0);
    }
    /* Still alive: a good request works. */
    tc_send(c, "{\"action\":\"get_rooms\",\"time\":1}");
    assert_int_equal(tc_response(c, T), 202);
    tc_close(c);
}

static void oversize__400_then_closed(void **state)
{
    (void)state;
    tclient *c = login("big1");
    size_t n = 70000;
    char *big = malloc(n);
    assert_non_null(big);
    memset(big, 'x', n);
    memcpy(big, "{\"action\":\"msg\",\"to\":\"big1\",\"message\":\"", 38);
    assert_int_equal(tc_send_raw(c, big, n), 0);
    free(big);
    assert_int_equal(tc_response(c, T), 400);
    assert_true(tc_eof(c, T));
    tc_close(c);
}

static void too_many_bad_in_a_row__closed(void **state)
{
    (void)state;
    tclient *c = tc_connect(jimd_group.port);
    assert_non_null(c);
    for (int i = 0; i < 16; i++)
        tc_send_raw(c, "{\"action\":5}\n", 13);
    for (int i = 0; i < 16; i++)
        assert_int_equal(tc_response(c, T), 400);
    assert_true(tc_eof(c, T));
    tc_close(c);
}

/* The same, each bad object in a read of its own, answered before the next is sent: the
 * count lasts between reads (a connection's empty framer goes back to the worker's spares
 * only if it never saw a bad object). */
static void too_many_bad_one_per_read__closed(void **state)
{
    (void)state;
    tclient *c = tc_connect(jimd_group.port);
    assert_non_null(c);
    for (int i = 0; i < 16; i++) {
        assert_int_equal(tc_send_raw(c, "{\"action\":5}\n", 13), 0);
        assert_int_equal(tc_response(c, T), 400);
    }
    assert_true(tc_eof(c, T));
    tc_close(c);
}

static void msg_direct__offline_202_online_200_and_pushed(void **state)
{
    (void)state;
    tclient *a = login("dm_alice");
    tclient *b = tc_connect(jimd_group.port);
    assert_non_null(b);
    tc_send(b, "{\"action\":\"register\",\"time\":1,\"user\":{\"account_name\":\"dm_bob\","
               "\"password\":\"password1\"}}");
    assert_int_equal(tc_response(b, T), 201);

    tc_send(a, "{\"action\":\"msg\",\"to\":\"nobody_here\",\"message\":\"x\"}");
    assert_int_equal(tc_response(a, T), 404);
    /* bob offline: stored, 202, with a seq. */
    tc_send(a, "{\"action\":\"msg\",\"time\":1,\"to\":\"dm_bob\",\"from\":\"mallory\","
               "\"message\":\"while you were out\",\"id\":\"r1\"}");
    assert_int_equal(tc_response(a, T), 202);
    int64_t seq1 = 0;
    assert_int_equal(jim_msg_get_int(a->msg, JIM_FIELD_SEQ, &seq1), JIM_OK);
    assert_string_equal(str(a->msg, JIM_FIELD_ID), "r1");

    /* bob logs in: the stored message arrives, with the true sender. */
    tc_send(b, "{\"action\":\"authenticate\",\"time\":1,\"user\":{\"account_name\":\"dm_bob\","
               "\"password\":\"password1\",\"features\":[\"ndjson\"]}}");
    assert_int_equal(tc_response(b, T), 200);
    jim_msg *m = tc_next_msg(b, T);
    assert_non_null(m);
    assert_string_equal(str(m, JIM_FIELD_FROM), "dm_alice");
    assert_string_equal(str(m, JIM_FIELD_MESSAGE), "while you were out");
    int64_t got = 0;
    jim_msg_get_int(m, JIM_FIELD_SEQ, &got);
    assert_int_equal(got, seq1);

    /* bob online: 200, pushed at once; non-ASCII survives. */
    tc_send(a, "{\"action\":\"msg\",\"to\":\"dm_bob\",\"message\":\"caf\\u00e9\"}");
    assert_int_equal(tc_response(a, T), 200);
    m = tc_next_msg(b, T);
    assert_non_null(m);
    assert_string_equal(str(m, JIM_FIELD_MESSAGE), "caf\xc3\xa9");

    /* The same id again: the first result, not delivered twice. */
    tc_send(a, "{\"action\":\"msg\",\"to\":\"dm_bob\",\"message\":\"while you were out\","
               "\"id\":\"r1\"}");
    assert_int_equal(tc_response(a, T), 200);
    int64_t seq_again = 0;
    jim_msg_get_int(a->msg, JIM_FIELD_SEQ, &seq_again);
    assert_int_equal(seq_again, seq1);
    assert_null(tc_next_msg(b, 300));
    tc_close(a);
    tc_close(b);
}

static void msg_burst__seqs_and_delivery_follow_send_order(void **state)
{
    (void)state;
    enum { N = 200 };
    tclient *a = login("ord_a");
    tclient *b = login("ord_b");
    /* Pipelined messages, two with an id: the runs of plain ones between them (90, 96
     * and 12 long) are stored many rows to a statement, 64 at most, then in halves. */
    for (int i = 0; i < N; i++) {
        if (i % 97 == 90)
            tc_send(a, "{\"action\":\"msg\",\"to\":\"ord_b\",\"message\":\"%d\",\"id\":\"o%d\"}", i,
                    i);
        else
            tc_send(a, "{\"action\":\"msg\",\"to\":\"ord_b\",\"message\":\"%d\"}", i);
    }
    int64_t seqs[N];
    int64_t prev = 0;
    for (int i = 0; i < N; i++) {
        assert_int_equal(tc_response(a, T), 200);
        int64_t s = 0;
        jim_msg_get_int(a->msg, JIM_FIELD_SEQ, &s);
        assert_true(s > prev);
        if (i % 97 == 90)
            assert_non_null(strstr(str(a->msg, JIM_FIELD_ID), "o"));
        seqs[i] = prev = s;
    }
    /* Each push carries the seq its sender was answered with. */
    for (int i = 0; i < N; i++) {
        jim_msg *m = tc_next_msg(b, T);
        assert_non_null(m);
        assert_int_equal(atoi(str(m, JIM_FIELD_MESSAGE)), i);
        int64_t s = 0;
        jim_msg_get_int(m, JIM_FIELD_SEQ, &s);
        assert_int_equal(s, seqs[i]);
    }
    tc_close(a);
    tc_close(b);
}

static void rooms__join_send_leave__codes_and_fanout(void **state)
{
    (void)state;
    tclient *a = login("rm_a"), *b = login("rm_b"), *c = login("rm_c");
    tc_send(a, "{\"action\":\"msg\",\"to\":\"#nowhere\",\"message\":\"x\"}");
    assert_int_equal(tc_response(a, T), 404);
    tc_send(a, "{\"action\":\"join\",\"room\":\"#rm\"}");
    assert_int_equal(tc_response(a, T), 200);
    tc_send(b, "{\"action\":\"join\",\"room\":\"#rm\"}");
    assert_int_equal(tc_response(b, T), 200);
    tc_send(c, "{\"action\":\"msg\",\"to\":\"#rm\",\"message\":\"x\"}");
    assert_int_equal(tc_response(c, T), 403); /* not a member */
    tc_send(a, "{\"action\":\"msg\",\"to\":\"#rm\",\"message\":\"hello room\"}");
    assert_int_equal(tc_response(a, T), 200);
    jim_msg *m = tc_next_msg(b, T);
    assert_non_null(m);
    assert_string_equal(str(m, JIM_FIELD_TO), "#rm");
    assert_string_equal(str(m, JIM_FIELD_FROM), "rm_a");
    assert_null(tc_next_msg(a, 300)); /* not echoed to the sender */
    assert_null(tc_next_msg(c, 100)); /* not to non-members */
    tc_send(a, "{\"action\":\"get_rooms\"}");
    assert_int_equal(tc_response(a, T), 202);
    int64_t q = 0;
    jim_msg_get_int(a->msg, JIM_FIELD_QUANTITY, &q);
    assert_true(q >= 1);
    int found = 0;
    for (int64_t i = 0; i < q; i++) {
        m = tc_recv(a, T);
        assert_non_null(m);
        assert_int_equal(jim_msg_action(m), JIM_ACTION_ROOM_LIST);
        if (strcmp(str(m, JIM_FIELD_ROOM), "#rm") == 0) {
            int64_t members = 0;
            jim_msg_get_int(m, JIM_FIELD_MEMBERS, &members);
            assert_int_equal(members, 2);
            found = 1;
        }
    }
    assert_true(found);
    tc_send(b, "{\"action\":\"leave\",\"room\":\"#rm\"}");
    assert_int_equal(tc_response(b, T), 200);
    tc_send(b, "{\"action\":\"leave\",\"room\":\"#rm\"}");
    assert_int_equal(tc_response(b, T), 404);
    tc_send(a, "{\"action\":\"msg\",\"to\":\"#rm\",\"message\":\"after leave\"}");
    assert_int_equal(tc_response(a, T), 200);
    assert_null(tc_next_msg(b, 300));
    tc_close(a);
    tc_close(b);
    tc_close(c);
}

/* Reads a room member's next 2n objects: n answers (a sender's own, if own is set) and
   the lines of the senders it is not, each sender's in the order sent; every seq larger
   than the one before. */
static void read_room_burst(tclient *c, int n, char own, int with_seq)
{
    int next[2] = {0, 0}, answers = 0, lines = 0;
    int64_t prev = 0;
    for (int k = 0; k < 2 * n; k++) {
        jim_msg *m = tc_recv(c, T);
        if (!m)
            fail_msg("member %c: %d answers and %d lines, then nothing", own ? own : '-', answers,
                     lines);
        int64_t seq = 0;
        jim_msg_get_int(m, JIM_FIELD_SEQ, &seq);
        if (jim_msg_response(m)) {
            assert_true(own);
            assert_int_equal(jim_msg_response(m), 200);
            answers++;
        } else {
            assert_int_equal(jim_msg_action(m), JIM_ACTION_MSG);
            const char *text = str(m, JIM_FIELD_MESSAGE);
            assert_true(text[0] == 'a' || text[0] == 'b');
            assert_int_not_equal(text[0], own); /* never its own line back */
            int who = text[0] - 'a';
            assert_int_equal(atoi(text + 1), next[who]);
            next[who]++;
            lines++;
        }
        if (with_seq) {
            assert_true(seq > prev);
            prev = seq;
        }
    }
    assert_int_equal(answers, own ? n : 0);
    assert_int_equal(lines, own ? n : 2 * n);
}

/* Two members send pipelined room messages, so that one commit holds many of them (a run,
   written member by member): a member that sends none reads every line once in seq order;
   a sender reads the other's lines and its own answers interleaved in seq order, its own
   lines never; a member that did not announce ndjson reads every line once, in order, one
   object a write, legacy_pacing_ms (20) apart. */
static void room_burst__each_member_reads_in_seq_order(void **state)
{
    (void)state;
    enum { N = 40 };
    tclient *a = login("rb_a"), *b = login("rb_b"), *c = login("rb_c");
    tclient *d = legacy_online(jimd_group.port, "rb_d");
    const char *join = "{\"action\":\"join\",\"time\":1,\"room\":\"#rb\"}";
    tc_send_raw(d, join, strlen(join));
    assert_int_equal(tc_response(d, T), 200);
    tclient *members[] = {a, b, c};
    for (int i = 0; i < 3; i++) {
        tc_send(members[i], "{\"action\":\"join\",\"room\":\"#rb\"}");
        assert_int_equal(tc_response(members[i], T), 200);
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < N; i++) {
        tc_send(a, "{\"action\":\"msg\",\"to\":\"#rb\",\"message\":\"a%d\"}", i);
        tc_send(b, "{\"action\":\"msg\",\"to\":\"#rb\",\"message\":\"b%d\"}", i);
    }
    read_room_burst(a, N, 'a', 1);
    read_room_burst(b, N, 'b', 1);
    read_room_burst(c, N, 0, 1);
    read_room_burst(d, N, 0, 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    assert_true(ms >= (2 * N - 1) * 20 * 3 / 4); /* paced: not the whole run in one write */
    assert_null(tc_next_msg(a, 200));
    assert_null(tc_next_msg(c, 100));
    tc_close(a);
    tc_close(b);
    tc_close(c);
    tc_close(d);
}

static void contacts__add_list_del_and_presence_push(void **state)
{
    (void)state;
    tclient *a = login("ct_a");
    tclient *b = login("ct_b");
    tc_send(a, "{\"action\":\"add_contact\",\"user_id\":\"ct_nobody\"}");
    assert_int_equal(tc_response(a, T), 404);
    tc_send(a, "{\"action\":\"add_contact\",\"user_id\":\"ct_b\"}");
    assert_int_equal(tc_response(a, T), 200);
    tc_send(a, "{\"action\":\"get_contacts\",\"time\":1}");
    assert_int_equal(tc_response(a, T), 202);
    int64_t q = 0;
    jim_msg_get_int(a->msg, JIM_FIELD_QUANTITY, &q);
    assert_int_equal(q, 1);
    jim_msg *m = tc_recv(a, T);
    assert_non_null(m);
    assert_int_equal(jim_msg_action(m), JIM_ACTION_CONTACT_LIST);
    assert_string_equal(str(m, JIM_FIELD_USER_ID), "ct_b");
    assert_string_equal(str(m, JIM_FIELD_STATUS), "online");
    /* b leaves: a (ndjson) hears of it. */
    tc_send(b, "{\"action\":\"quit\"}");
    tc_close(b);
    int pushed = 0;
    for (int i = 0; i < 5 && !pushed; i++) {
        m = tc_recv(a, T);
        if (m && jim_msg_action(m) == JIM_ACTION_PRESENCE &&
            strcmp(str(m, JIM_FIELD_ACCOUNT_NAME), "ct_b") == 0)
            pushed = strcmp(str(m, JIM_FIELD_USER_STATUS), "offline") == 0;
    }
    assert_true(pushed);
    b = login("ct_b");
    pushed = 0;
    for (int i = 0; i < 5 && !pushed; i++) {
        m = tc_recv(a, T);
        if (m && jim_msg_action(m) == JIM_ACTION_PRESENCE)
            pushed = strcmp(str(m, JIM_FIELD_USER_STATUS), "online") == 0;
    }
    assert_true(pushed);
    tc_send(a, "{\"action\":\"del_contact\",\"user_id\":\"ct_b\"}");
    assert_int_equal(tc_response(a, T), 200);
    tc_send(a, "{\"action\":\"del_contact\",\"user_id\":\"ct_b\"}");
    assert_int_equal(tc_response(a, T), 404);
    tc_close(a);
    tc_close(b);
}

static void users_sync_history__lists_and_seq(void **state)
{
    (void)state;
    tclient *a = login("sh_a");
    tclient *b = login("sh_b");
    int64_t seqs[3];
    for (int i = 0; i < 3; i++) {
        tc_send(a, "{\"action\":\"msg\",\"to\":\"sh_b\",\"message\":\"m%d\"}", i);
        assert_int_equal(tc_response(a, T), 200);
        jim_msg_get_int(a->msg, JIM_FIELD_SEQ, &seqs[i]);
    }
    assert_true(seqs[0] < seqs[1] && seqs[1] < seqs[2]);
    tc_send(a, "{\"action\":\"get_users\",\"query\":\"sh_\"}");
    assert_int_equal(tc_response(a, T), 202);
    int64_t q = 0;
    jim_msg_get_int(a->msg, JIM_FIELD_QUANTITY, &q);
    assert_int_equal(q, 2);
    assert_string_equal(str(tc_recv(a, T), JIM_FIELD_USER_ID), "sh_a");
    assert_string_equal(str(tc_recv(a, T), JIM_FIELD_USER_ID), "sh_b");

    /* sync from just before the first: all three, oldest first, then 200 with the last seq. */
    tc_send(b, "{\"action\":\"sync\",\"since\":%lld}", (long long)seqs[0] - 1);
    for (int i = 0; i < 3; i++) {
        jim_msg *m = tc_next_msg(b, T);
        assert_non_null(m);
        int64_t s = 0;
        jim_msg_get_int(m, JIM_FIELD_SEQ, &s);
        if (s < seqs[0]) { /* the live pushes may still be queued first */
            i--;
            continue;
        }
        assert_int_equal(s, seqs[i]);
    }
    assert_int_equal(tc_response(b, T), 200);
    int64_t last = 0;
    jim_msg_get_int(b->msg, JIM_FIELD_SEQ, &last);
    assert_int_equal(last, seqs[2]);
    tc_send(b, "{\"action\":\"sync\",\"since\":%lld}", (long long)last);
    assert_int_equal(tc_response(b, T), 200);
    jim_msg_get_int(b->msg, JIM_FIELD_SEQ, &last);
    assert_int_equal(last, seqs[2]);

    /* history: newest first, limited, before. */
    tc_send(b, "{\"action\":\"history\",\"with\":\"sh_a\",\"limit\":2}");
    assert_int_equal(tc_response(b, T), 202);
    jim_msg_get_int(b->msg, JIM_FIELD_QUANTITY, &q);
    assert_int_equal(q, 2);
    assert_string_equal(str(tc_next_msg(b, T), JIM_FIELD_MESSAGE), "m2");
    assert_string_equal(str(tc_next_msg(b, T), JIM_FIELD_MESSAGE), "m1");
    tc_send(b, "{\"action\":\"history\",\"with\":\"sh_a\",\"before\":%lld}", (long long)seqs[1]);
    assert_int_equal(tc_response(b, T), 202);
    jim_msg_get_int(b->msg, JIM_FIELD_QUANTITY, &q);
    assert_int_equal(q, 1);
    assert_string_equal(str(tc_next_msg(b, T), JIM_FIELD_MESSAGE), "m0");
    tc_send(b, "{\"action\":\"history\",\"with\":\"#not_a_room\"}");
    assert_int_equal(tc_response(b, T), 404);
    tc_close(a);
    tc_close(b);
}

static void history__indexed_part_and_recent_tail__one_answer(void **state)
{
    (void)state;
    tclient *a = login("hx_a");
    tclient *b = login("hx_b");
    tclient *c = login("hx_c");
    /* Old messages, indexed by the master within a second or two, then recent ones. */
    for (int i = 0; i < 5; i++) {
        tc_send(a, "{\"action\":\"msg\",\"to\":\"hx_b\",\"message\":\"h%d\"}", i);
        assert_int_equal(tc_response(a, T), 200);
        tc_send(c, "{\"action\":\"msg\",\"to\":\"hx_b\",\"message\":\"noise%d\"}", i);
        assert_int_equal(tc_response(c, T), 200);
    }
    usleep(2500000);
    for (int i = 5; i < 8; i++) {
        tc_send(b, "{\"action\":\"msg\",\"to\":\"hx_a\",\"message\":\"h%d\"}", i);
        assert_int_equal(tc_response(b, T), 200);
    }
    tc_send(a, "{\"action\":\"history\",\"with\":\"hx_b\",\"limit\":6}");
    assert_int_equal(tc_response(a, T), 202);
    int64_t q = 0;
    jim_msg_get_int(a->msg, JIM_FIELD_QUANTITY, &q);
    assert_int_equal(q, 6);
    int64_t prev = INT64_MAX;
    for (int i = 7; i >= 2; i--) {
        jim_msg *m = tc_next_msg(a, T);
        assert_non_null(m);
        char want[8];
        snprintf(want, sizeof want, "h%d", i);
        assert_string_equal(str(m, JIM_FIELD_MESSAGE), want); /* newest first, no noise */
        int64_t s = 0;
        jim_msg_get_int(m, JIM_FIELD_SEQ, &s);
        assert_true(s < prev);
        prev = s;
    }
    /* before: only what is older, from the indexed part. */
    tc_send(a, "{\"action\":\"history\",\"with\":\"hx_b\",\"before\":%lld}", (long long)prev);
    assert_int_equal(tc_response(a, T), 202);
    jim_msg_get_int(a->msg, JIM_FIELD_QUANTITY, &q);
    assert_int_equal(q, 2);
    assert_string_equal(str(tc_next_msg(a, T), JIM_FIELD_MESSAGE), "h1");
    assert_string_equal(str(tc_next_msg(a, T), JIM_FIELD_MESSAGE), "h0");
    tc_close(a);
    tc_close(b);
    tc_close(c);
}

static void course_client__reference_dialect_and_pacing(void **state)
{
    (void)state;
    jimd_proc p; /* its own server, with a pacing long enough to measure */
    assert_int_equal(jimd_start(&p, 1, "legacy_pacing_ms 300"), 0);
    tclient *a = tc_connect(p.port);
    assert_non_null(a);
    assert_int_equal(tc_login(a, "cc_a", "password1"), 200);
    /* A minimal client: no ndjson, no newlines, the course's "message" dialect. */
    tclient *old = legacy_online(p.port, "cc_old");
    const char *msg = "{\"action\":\"message\",\"time\":\"1700000000\",\"to\":\"cc_a\","
                      "\"from\":\"cc_old\",\"mess_text\":\"old style\"}";
    tc_send_raw(old, msg, strlen(msg));
    assert_int_equal(tc_response(old, T), 200);
    jim_msg *m = tc_next_msg(a, T);
    assert_non_null(m);
    assert_string_equal(str(m, JIM_FIELD_MESSAGE), "old style");
    /* It receives in its own dialect, one object at a time, paced. */
    tc_send(a, "{\"action\":\"msg\",\"to\":\"cc_old\",\"message\":\"one\"}");
    tc_send(a, "{\"action\":\"msg\",\"to\":\"cc_old\",\"message\":\"two\"}");
    assert_int_equal(tc_response(a, T), 200);
    assert_int_equal(tc_response(a, T), 200);
    struct timespec t0, t1;
    m = tc_next_msg(old, T);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_non_null(m);
    assert_int_equal(jim_msg_dialect(m), JIM_DIALECT_REFERENCE);
    assert_string_equal(str(m, JIM_FIELD_MESSAGE), "one");
    assert_int_equal(jim_framer_buffered(old->framer), 0); /* "two" came in its own write */
    m = tc_next_msg(old, T);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_non_null(m);
    assert_string_equal(str(m, JIM_FIELD_MESSAGE), "two");
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    assert_true(ms >= 150); /* legacy_pacing_ms 300 */
    tc_close(old);
    tc_close(a);
    assert_int_equal(jimd_stop(&p), 0);
    jimd_cleanup(&p);
}

static void probe__silent_ndjson_session_probed_then_closed(void **state)
{
    (void)state;
    jimd_proc p;
    assert_int_equal(jimd_start(&p, 1, "probe_interval 1\nprobe_timeout 1"), 0);
    tclient *a = tc_connect(p.port);
    assert_non_null(a);
    assert_int_equal(tc_login(a, "pr_a", "password1"), 200);
    jim_msg *m = NULL;
    for (int i = 0; i < 5; i++) {
        m = tc_recv(a, 3000);
        if (!m || jim_msg_action(m) == JIM_ACTION_PROBE)
            break;
    }
    assert_non_null(m);
    assert_int_equal(jim_msg_action(m), JIM_ACTION_PROBE);
    /* Answering keeps it open; silence closes it. */
    tc_send(a, "{\"action\":\"presence\",\"time\":1,\"user\":{\"account_name\":\"pr_a\"}}");
    assert_int_equal(tc_response(a, T), 200);
    assert_true(tc_eof(a, 8000));
    tc_close(a);
    assert_int_equal(jimd_stop(&p), 0);
    jimd_cleanup(&p);
}

static void slow_reader__dropped_when_its_output_passes_the_limit(void **state)
{
    (void)state;
    jimd_proc p;
    /* No probe: under valgrind the rounds take longer than probe_interval, and the silent
     * sleeper would be closed for its silence before its output reaches the limit. */
    assert_int_equal(jimd_start(&p, 1, "msg_rate 0\nprobe_interval 3600"), 0);
    tclient *sender, *sleeper;
    assert_int_equal(tc_online_pair(p.port, "sr_sender", &sender, "sr_sleeper", &sleeper), 0);
    /* 40 x 1000 messages of 500 characters (~22 MB) to a client that never reads. */
    const char *text = tc_long_text();
    int closed = 0;
    for (int round = 0; round < 40 && !closed; round++) {
        for (int i = 0; i < 1000; i++)
            tc_send(sender, "{\"action\":\"msg\",\"to\":\"sr_sleeper\",\"message\":\"%s\"}", text);
        for (int i = 0; i < 1000; i++) {
            int code = tc_response(sender, T);
            assert_true(code == 200 || code == 202);
        }
        closed = jimd_log_count(&p, "does not read its messages") > 0;
    }
    for (int i = 0; i < 30 && !closed; i++) {
        usleep(100000);
        closed = jimd_log_count(&p, "does not read its messages") > 0;
    }
    assert_true(closed);
    assert_true(tc_eof(sleeper, T));
    /* The sender was not disturbed, and the messages are stored for sync. */
    tc_send(sender, "{\"action\":\"get_rooms\"}");
    assert_int_equal(tc_response(sender, T), 202);
    tc_close(sender);
    tc_close(sleeper);
    assert_int_equal(jimd_stop(&p), 0);
    jimd_cleanup(&p);
}

/* A reply past the high-water mark (a contact list of ~350 KB, one object per contact)
 * stops the reading until the client has read it; then the connection is read again,
 * though no input was held meanwhile (its empty framer went back to the worker's spares). */
static void big_reply__read_down__next_requests_answered(void **state)
{
    (void)state;
    jimd_proc p;
    assert_int_equal(jimd_start(&p, 1, "auth none\nmsg_rate 0\nprobe_interval 3600"), 0);
    enum { N = 3500 };
    for (int i = 0; i < N; i++) { /* the accounts: auth none makes them at presence */
        tclient *c = tc_connect(p.port);
        assert_non_null(c);
        tc_send(c, "{\"action\":\"presence\",\"user\":{\"account_name\":\"br_%05d\"}}", i);
        assert_int_equal(tc_response(c, T), 200);
        tc_close(c);
    }
    tclient *owner = tc_connect(p.port);
    assert_non_null(owner);
    tc_send(owner, "{\"action\":\"presence\",\"user\":{\"account_name\":\"br_owner\","
                   "\"features\":[\"ndjson\"]}}"); /* a stream: no pacing */
    assert_int_equal(tc_response(owner, T), 200);
    for (int i = 0; i < N; i++)
        tc_send(owner, "{\"action\":\"add_contact\",\"user_id\":\"br_%05d\"}", i);
    for (int i = 0; i < N; i++)
        assert_int_equal(tc_response(owner, T), 200);
    for (int round = 0; round < 3; round++) { /* each reply is past kHighWater */
        tc_send(owner, "{\"action\":\"get_contacts\"}");
        assert_int_equal(tc_response(owner, T), 202);
        for (int i = 0; i < N; i++) {
            jim_msg *m = tc_recv(owner, T);
            assert_non_null(m);
            assert_int_equal(jim_msg_action(m), JIM_ACTION_CONTACT_LIST);
        }
    }
    tc_close(owner);
    assert_int_equal(jimd_stop(&p), 0);
    jimd_cleanup(&p);
}

static void config__auth_none_closed_registration_and_rate(void **state)
{
    (void)state;
    jimd_proc p;
    assert_int_equal(jimd_start(&p, 1,
                                "auth none\nregistration closed\nmsg_rate 1\nmsg_burst 2\n"
                                "offline_storage off"),
                     0);
    tclient *c = tc_connect(p.port);
    assert_non_null(c);
    tc_send(c, "{\"action\":\"register\",\"time\":1,\"user\":{\"account_name\":\"x1\","
               "\"password\":\"password1\"}}");
    assert_int_equal(tc_response(c, T), 403);
    /* presence logs in as a new account */
    tc_send(c, "{\"action\":\"presence\",\"time\":1,\"type\":\"status\",\"user\":{"
               "\"account_name\":\"guest\",\"status\":\"here\"}}");
    assert_int_equal(tc_response(c, T), 200);
    tclient *d = tc_connect(p.port);
    assert_non_null(d);
    tc_send(d, "{\"action\":\"presence\",\"user\":{\"account_name\":\"guest2\"}}");
    assert_int_equal(tc_response(d, T), 200);
    tc_send(d, "{\"action\":\"quit\"}");
    assert_int_equal(tc_response(d, T), 200);
    tc_close(d);
    /* guest2 exists but is offline, and offline storage is off: 410. */
    tc_send(c, "{\"action\":\"msg\",\"to\":\"guest2\",\"message\":\"x\"}");
    assert_int_equal(tc_response(c, T), 410);
    /* burst 2 at 1/s: the next ones are refused with retry_after. */
    tc_send(c, "{\"action\":\"msg\",\"to\":\"guest2\",\"message\":\"x\"}");
    int rc = tc_response(c, T);
    assert_true(rc == 410 || rc == 429);
    tc_send(c, "{\"action\":\"msg\",\"to\":\"guest2\",\"message\":\"x\"}");
    assert_int_equal(tc_response(c, T), 429);
    tc_close(c);
    assert_int_equal(jimd_stop(&p), 0);
    jimd_cleanup(&p);
}

/* A msg and a list request sent together: the msg's group commit runs before the list is
 * answered, and each answer still echoes its own request's id. */
static void ids__pipelined_msg_then_list__each_answer_echoes_its_own_id(void **state)
{
    (void)state;
    tclient *a = login("ids_a");
    tc_send(a, "{\"action\":\"join\",\"room\":\"#ids\"}");
    assert_int_equal(tc_response(a, T), 200);
    const char both[] = "{\"action\":\"msg\",\"id\":\"m1\",\"to\":\"#ids\",\"message\":\"x\"}\n"
                        "{\"action\":\"get_rooms\",\"id\":\"r1\"}\n";
    assert_int_equal(tc_send_raw(a, both, sizeof both - 1), 0);
    assert_int_equal(tc_response(a, T), 200);
    assert_string_equal(str(a->msg, JIM_FIELD_ID), "m1");
    assert_int_equal(tc_response(a, T), 202);
    assert_string_equal(str(a->msg, JIM_FIELD_ID), "r1");
    tc_close(a);
}

/* The message text m carries is exactly the n bytes want. */
static void assert_text(jim_msg *m, const char *want, size_t n)
{
    const char *v = NULL;
    size_t len = 0;
    assert_non_null(m);
    assert_int_equal(jim_msg_get_strn(m, JIM_FIELD_MESSAGE, &v, &len), JIM_OK);
    assert_int_equal(len, n);
    assert_memory_equal(v, want, n);
}

/* U+0000 is carried exactly in message text, to an ndjson and a reference-dialect recipient
 * and from the reference dialect's mess_text; in an id or a password it is a 400 (the id was
 * cut at the NUL, so a second message was taken as a resend; "a" and seven NULs registered a
 * password that "a" then matched). */
static void nul_escape__delivered_in_text_refused_in_id_and_password(void **state)
{
    (void)state;
    tclient *a = login("nul_a"), *b = login("nul_b");
    tclient *old = tc_connect(jimd_group.port); /* a course client: no ndjson, "message" */
    assert_non_null(old);
    tc_send(old, "{\"action\":\"register\",\"time\":1,\"user\":{\"account_name\":\"nul_old\","
                 "\"password\":\"password1\"}}");
    assert_int_equal(tc_response(old, T), 201);
    tc_send(old, "{\"action\":\"authenticate\",\"time\":1,\"user\":{\"account_name\":"
                 "\"nul_old\",\"password\":\"password1\"}}");
    assert_int_equal(tc_response(old, T), 200);
    tc_send(old, "{\"action\":\"message\",\"time\":1,\"to\":\"nul_a\",\"from\":\"nul_old\","
                 "\"mess_text\":\"old\\u0000style\"}");
    assert_int_equal(tc_response(old, T), 200);
    assert_text(tc_next_msg(a, T), "old\0style", 9);

    /* To an ndjson recipient and to the reference-dialect one: the NUL arrives, as \u0000. */
    tc_send(a, "{\"action\":\"msg\",\"to\":\"nul_b\",\"message\":\"a\\u0000b\\u0000\"}");
    assert_int_equal(tc_response(a, T), 200);
    assert_text(tc_next_msg(b, T), "a\0b\0", 4);
    tc_send(a, "{\"action\":\"msg\",\"to\":\"nul_old\",\"message\":\"\\u0000x\"}");
    assert_int_equal(tc_response(a, T), 200);
    jim_msg *m = tc_next_msg(old, T);
    assert_non_null(m);
    assert_int_equal(jim_msg_dialect(m), JIM_DIALECT_REFERENCE);
    assert_text(m, "\0x", 2);
    /* And history gives it back as it was stored. */
    tc_send(b, "{\"action\":\"history\",\"with\":\"nul_a\",\"limit\":1}");
    assert_int_equal(tc_response(b, T), 202);
    assert_text(tc_next_msg(b, T), "a\0b\0", 4);

    /* Two ids that differ after a NUL: both refused, neither delivered. */
    tc_send(a, "{\"action\":\"msg\",\"to\":\"nul_b\",\"message\":\"1\",\"id\":\"k\\u0000one\"}");
    assert_int_equal(tc_response(a, T), 400);
    assert_non_null(strstr(str(a->msg, JIM_FIELD_ERROR), "field 'id'"));
    tc_send(a, "{\"action\":\"msg\",\"to\":\"nul_b\",\"message\":\"2\",\"id\":\"k\\u0000two\"}");
    assert_int_equal(tc_response(a, T), 400);
    assert_null(tc_next_msg(b, 300));

    /* A password with NULs is refused at register, so "a" cannot log in with it later. */
    tclient *c = tc_connect(jimd_group.port);
    assert_non_null(c);
    tc_send(c, "{\"action\":\"register\",\"time\":1,\"user\":{\"account_name\":\"nul_pw\","
               "\"password\":\"a\\u0000\\u0000\\u0000\\u0000\\u0000\\u0000\\u0000\"}}");
    assert_int_equal(tc_response(c, T), 400);
    assert_non_null(strstr(str(c->msg, JIM_FIELD_ERROR), "user.password"));
    tc_send(c, "{\"action\":\"register\",\"time\":1,\"user\":{\"account_name\":\"nul_pw\","
               "\"password\":\"\\u0000\\u0000\\u0000\\u0000\\u0000\\u0000\\u0000\\u0000\"}}");
    assert_int_equal(tc_response(c, T), 400);
    tc_send(c, "{\"action\":\"authenticate\",\"time\":1,\"user\":{\"account_name\":\"nul_pw\","
               "\"password\":\"a\"}}");
    assert_int_equal(tc_response(c, T), 402);
    /* A lone surrogate is a 400 too, and the connection goes on. */
    tc_send(a, "{\"action\":\"msg\",\"to\":\"nul_b\",\"message\":\"\\udc00\"}");
    assert_int_equal(tc_response(a, T), 400);
    assert_non_null(strstr(str(a->msg, JIM_FIELD_ERROR), "surrogate"));
    assert_null(tc_next_msg(b, 300));
    tc_send(a, "{\"action\":\"get_rooms\"}");
    assert_int_equal(tc_response(a, T), 202);
    tc_close(a);
    tc_close(b);
    tc_close(c);
    tc_close(old);
}

/* A truncated object followed by a line that starts a new one is answered 400 at once,
 * and the requests after it are served (they were swallowed until 64 KB had passed). */
static void truncated_object__400_and_the_next_lines_served(void **state)
{
    (void)state;
    tclient *c = login("trunc1");
    const char in[] = "{\"action\":\"quit\"\n"
                      "{\"action\":\"get_rooms\",\"id\":\"after\"}\n"
                      "{\n  \"action\": \"get_users\",\n  \"id\": \"pretty\"\n}\n";
    assert_int_equal(tc_send_raw(c, in, sizeof in - 1), 0);
    assert_int_equal(tc_response(c, T), 400);
    assert_non_null(strstr(str(c->msg, JIM_FIELD_ERROR), "not closed"));
    assert_int_equal(tc_response(c, T), 202);
    assert_string_equal(str(c->msg, JIM_FIELD_ID), "after");
    assert_int_equal(tc_response(c, T), 202);
    assert_string_equal(str(c->msg, JIM_FIELD_ID), "pretty");
    tc_close(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(register__new_duplicate_and_bad__codes),
        cmocka_unit_test(authenticate__right_and_twice__200_409),
        cmocka_unit_test(authenticate__repeated_failures__429_with_retry_after),
        cmocka_unit_test(before_login__401_and_presence_rules),
        cmocka_unit_test(bad_input__400_and_connection_goes_on),
        cmocka_unit_test(oversize__400_then_closed),
        cmocka_unit_test(too_many_bad_in_a_row__closed),
        cmocka_unit_test(too_many_bad_one_per_read__closed),
        cmocka_unit_test(msg_direct__offline_202_online_200_and_pushed),
        cmocka_unit_test(msg_burst__seqs_and_delivery_follow_send_order),
        cmocka_unit_test(rooms__join_send_leave__codes_and_fanout),
        cmocka_unit_test(room_burst__each_member_reads_in_seq_order),
        cmocka_unit_test(contacts__add_list_del_and_presence_push),
        cmocka_unit_test(users_sync_history__lists_and_seq),
        cmocka_unit_test(history__indexed_part_and_recent_tail__one_answer),
        cmocka_unit_test(course_client__reference_dialect_and_pacing),
        cmocka_unit_test(probe__silent_ndjson_session_probed_then_closed),
        cmocka_unit_test(slow_reader__dropped_when_its_output_passes_the_limit),
        cmocka_unit_test(big_reply__read_down__next_requests_answered),
        cmocka_unit_test(config__auth_none_closed_registration_and_rate),
        cmocka_unit_test(ids__pipelined_msg_then_list__each_answer_echoes_its_own_id),
        cmocka_unit_test(nul_escape__delivered_in_text_refused_in_id_and_password),
        cmocka_unit_test(truncated_object__400_and_the_next_lines_served),
    };
    return cmocka_run_group_tests(tests, jimd_group_start, jimd_group_stop);
}

/*
 * test_jimd_workers.c — 4 workers, 40 clients: every client reaches every other across
 * workers, a room message reaches each member exactly once, a user is reachable live from
 * every worker once their login is answered, presence crosses workers, a user with sessions
 * on two workers is online until the last one leaves, a resend is found by whichever worker
 * takes it, before and after the upkeep folds the ids into `ids`; a hand-over kept by a
 * worker after the user logged in elsewhere reaches them there at once, each message once.
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
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "jimd_harness.h"

#define N 40
#define WORKERS 4
#define T 10000

static jimd_proc server;
static tclient *cl[N];

static int setup(void **state)
{
    (void)state;
    if (jimd_start(&server, WORKERS, NULL) != 0)
        return -1;
    for (int i = 0; i < N; i++) {
        char name[16];
        snprintf(name, sizeof name, "w%02d", i);
        cl[i] = tc_connect(server.port);
        if (!cl[i] || tc_login(cl[i], name, "password1") != 200)
            return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < N; i++)
        tc_close(cl[i]);
    int rc = jimd_stop(&server);
    jimd_cleanup(&server);
    return rc == 0 ? 0 : -1;
}

static void clients__spread_over_workers(void **state)
{
    (void)state;
    int used[WORKERS] = {0};
    for (int i = 0; i < N; i++) {
        char name[16];
        snprintf(name, sizeof name, "w%02d", i);
        int w = jimd_user_worker(&server, name);
        assert_true(w >= 0 && w < WORKERS);
        used[w]++;
    }
    int workers_used = 0;
    for (int w = 0; w < WORKERS; w++)
        workers_used += used[w] > 0;
    assert_true(workers_used >= 2);
}

static void direct__everyone_to_everyone__exactly_once(void **state)
{
    (void)state;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            if (i != j)
                tc_send(cl[i], "{\"action\":\"msg\",\"to\":\"w%02d\",\"message\":\"%d>%d\"}", j, i,
                        j);
    for (int i = 0; i < N; i++) {
        int got_from[N] = {0}, responses = 0, msgs = 0;
        while (responses < N - 1 || msgs < N - 1) {
            jim_msg *m = tc_recv(cl[i], T);
            if (!m)
                fail_msg("client %d: %d responses, %d messages", i, responses, msgs);
            if (jim_msg_response(m)) {
                assert_int_equal(jim_msg_response(m), 200); /* everyone is online */
                responses++;
            } else if (jim_msg_action(m) == JIM_ACTION_MSG) {
                int from = -1, to = -1;
                assert_int_equal(sscanf(jim_msg_get_str(m, JIM_FIELD_MESSAGE), "%d>%d", &from, &to),
                                 2);
                assert_int_equal(to, i);
                char want[16];
                snprintf(want, sizeof want, "w%02d", from);
                assert_string_equal(jim_msg_get_str(m, JIM_FIELD_FROM), want);
                got_from[from]++;
                msgs++;
            }
        }
        for (int j = 0; j < N; j++)
            assert_int_equal(got_from[j], j == i ? 0 : 1);
    }
    /* Nothing more arrives: no duplicates. */
    for (int i = 0; i < N; i++)
        assert_null(tc_next_msg(cl[i], i == 0 ? 300 : 5));
}

static void room__message_reaches_each_member_once(void **state)
{
    (void)state;
    for (int i = 0; i < N; i++) {
        tc_send(cl[i], "{\"action\":\"join\",\"room\":\"#all\"}");
        assert_int_equal(tc_response(cl[i], T), 200);
    }
    static const int senders[] = {0, 17, 39};
    for (int k = 0; k < 3; k++)
        tc_send(cl[senders[k]], "{\"action\":\"msg\",\"to\":\"#all\",\"message\":\"from %d\"}",
                senders[k]);
    for (int i = 0; i < N; i++) {
        int seen[3] = {0};
        int sender = i == 0 || i == 17 || i == 39;
        int expect = 3 - sender, responses = 0;
        for (int n = 0; n < expect || responses < sender;) {
            jim_msg *m = tc_recv(cl[i], T);
            if (!m)
                fail_msg("client %d got %d of %d room messages", i, n, expect);
            if (jim_msg_response(m)) {
                assert_int_equal(jim_msg_response(m), 200);
                responses++;
                continue;
            }
            if (jim_msg_action(m) != JIM_ACTION_MSG)
                continue;
            n++;
            assert_string_equal(jim_msg_get_str(m, JIM_FIELD_TO), "#all");
            int from = atoi(jim_msg_get_str(m, JIM_FIELD_MESSAGE) + 5);
            for (int k = 0; k < 3; k++)
                if (senders[k] == from)
                    seen[k]++;
            assert_int_not_equal(from, i);
        }
        for (int k = 0; k < 3; k++)
            assert_int_equal(seen[k], senders[k] == i ? 0 : 1);
    }
    for (int i = 0; i < N; i++)
        assert_null(tc_next_msg(cl[i], i == 0 ? 300 : 5));
}

/* Three members on any workers send pipelined messages to a room of all 40: the lines a
   worker reads in one go from its peers, or handles in one commit, reach its members as a
   run. Each member reads every other sender's lines once, in the order sent, never its
   own, and a sender its answers in order. */
static void room_burst__across_workers__each_line_once_in_order(void **state)
{
    (void)state;
    enum { PER = 30, SENDERS = 3 };
    for (int i = 0; i < N; i++) {
        tc_send(cl[i], "{\"action\":\"join\",\"room\":\"#burst\"}");
        assert_int_equal(tc_response(cl[i], T), 200);
    }
    for (int k = 0; k < PER; k++)
        for (int s = 0; s < SENDERS; s++)
            tc_send(cl[s], "{\"action\":\"msg\",\"to\":\"#burst\",\"message\":\"%d %d\"}", s, k);
    for (int i = 0; i < N; i++) {
        int next[SENDERS] = {0}, answers = 0, lines = 0;
        int sender = i < SENDERS;
        int64_t last_answer = 0;
        while (lines < PER * (SENDERS - sender) || answers < PER * sender) {
            jim_msg *m = tc_recv(cl[i], T);
            if (!m)
                fail_msg("client %d: %d lines and %d answers, then nothing", i, lines, answers);
            if (jim_msg_response(m)) {
                assert_true(sender);
                assert_int_equal(jim_msg_response(m), 200);
                int64_t seq = 0;
                jim_msg_get_int(m, JIM_FIELD_SEQ, &seq);
                assert_true(seq > last_answer);
                last_answer = seq;
                answers++;
                continue;
            }
            if (jim_msg_action(m) != JIM_ACTION_MSG)
                continue;
            int from = -1, k = -1;
            assert_int_equal(sscanf(jim_msg_get_str(m, JIM_FIELD_MESSAGE), "%d %d", &from, &k), 2);
            assert_true(from >= 0 && from < SENDERS);
            assert_int_not_equal(from, i);
            assert_int_equal(k, next[from]);
            next[from]++;
            lines++;
        }
    }
    for (int i = 0; i < N; i++)
        assert_null(tc_next_msg(cl[i], i == 0 ? 300 : 5));
}

/* Once a login is answered, a message sent to that user from any worker is delivered
   live (200), not stored for later (202): the worker that logged the user in has put the
   news on the mesh before answering, and the sender's worker reads it before deciding. */
static void login__answered_then_messaged_from_any_worker__delivered_live(void **state)
{
    (void)state;
    enum { ROUNDS = 40, STEP = 5 };
    for (int r = 0; r < ROUNDS; r++) {
        char name[16];
        snprintf(name, sizeof name, "late%02d", r);
        tclient *late = tc_connect(server.port);
        assert_non_null(late);
        assert_int_equal(tc_login(late, name, "password1"), 200);
        for (int i = 0; i < N; i += STEP)
            tc_send(cl[i], "{\"action\":\"msg\",\"to\":\"%s\",\"message\":\"%d\"}", name, i);
        for (int i = 0; i < N; i += STEP)
            if (tc_response(cl[i], T) != 200)
                fail_msg("round %d: the message from w%02d to %s was not delivered live", r, i,
                         name);
        for (int i = 0; i < N; i += STEP)
            assert_non_null(tc_next_msg(late, T));
        tc_close(late);
    }
}

/* Messages stream to a user from three workers while that user logs in: each reaches
   the new session exactly once, whether it was stored before the login, handed live
   after it, or found again by the check half a second after the login. */
static void login_while_messages_stream__each_arrives_once(void **state)
{
    (void)state;
    enum { SENDERS = 3, EACH = 150, ALL = SENDERS * EACH };
    tclient *rx = tc_connect(server.port);
    assert_non_null(rx);
    assert_int_equal(tc_login(rx, "rx", "password1"), 200);
    tc_close(rx); /* offline now: the first messages are stored */
    usleep(100000);

    const int from[SENDERS] = {1, 2, 3};
    for (int half = 0; half < 2; half++) {
        for (int k = 0; k < EACH / 2; k++)
            for (int j = 0; j < SENDERS; j++)
                tc_send(cl[from[j]], "{\"action\":\"msg\",\"to\":\"rx\",\"message\":\"%d\"}",
                        k + half * (EACH / 2));
        if (half == 0) { /* log in while the first half is still being stored */
            rx = tc_connect(server.port);
            assert_non_null(rx);
            assert_int_equal(tc_login(rx, "rx", "password1"), 200);
        }
    }
    for (int j = 0; j < SENDERS; j++)
        for (int k = 0; k < EACH; k++) {
            int code = tc_response(cl[from[j]], T);
            assert_true(code == 200 || code == 202);
        }

    static int64_t seen[ALL];
    int got = 0;
    while (got < ALL) {
        jim_msg *m = tc_next_msg(rx, T);
        if (!m)
            fail_msg("rx got %d of %d messages", got, ALL);
        int64_t seq = 0;
        assert_int_equal(jim_msg_get_int(m, JIM_FIELD_SEQ, &seq), JIM_OK);
        for (int i = 0; i < got; i++)
            if (seen[i] == seq)
                fail_msg("seq %lld arrived twice", (long long)seq);
        seen[got++] = seq;
    }
    /* Past the second look at the pending messages: still nothing twice. */
    assert_null(tc_next_msg(rx, 1500));
    tc_close(rx);
}

static void presence__crosses_workers(void **state)
{
    (void)state;
    /* Pick a watcher and a contact on different workers. */
    int a = 0, b = -1;
    char an[16], bn[16];
    snprintf(an, sizeof an, "w%02d", a);
    for (int i = 1; i < N && b < 0; i++) {
        snprintf(bn, sizeof bn, "w%02d", i);
        if (jimd_user_worker(&server, bn) != jimd_user_worker(&server, an))
            b = i;
    }
    assert_true(b > 0);
    tc_send(cl[a], "{\"action\":\"add_contact\",\"user_id\":\"%s\"}", bn);
    assert_int_equal(tc_response(cl[a], T), 200);
    tc_send(cl[b], "{\"action\":\"quit\"}");
    tc_close(cl[b]);
    int offline = 0;
    for (int n = 0; n < 10 && !offline; n++) {
        jim_msg *m = tc_recv(cl[a], T);
        assert_non_null(m);
        if (jim_msg_action(m) == JIM_ACTION_PRESENCE &&
            strcmp(jim_msg_get_str(m, JIM_FIELD_ACCOUNT_NAME), bn) == 0)
            offline = strcmp(jim_msg_get_str(m, JIM_FIELD_USER_STATUS), "offline") == 0;
    }
    assert_true(offline);
    cl[b] = tc_connect(server.port);
    assert_non_null(cl[b]);
    assert_int_equal(tc_login(cl[b], bn, "password1"), 200);
    int online = 0;
    for (int n = 0; n < 10 && !online; n++) {
        jim_msg *m = tc_recv(cl[a], T);
        assert_non_null(m);
        if (jim_msg_action(m) == JIM_ACTION_PRESENCE)
            online = strcmp(jim_msg_get_str(m, JIM_FIELD_USER_STATUS), "online") == 0;
    }
    assert_true(online);
}

/* An integer the database at path answers for sql, read as another process would; -1 on
 * error. */
static long long db_count_at(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    long long n = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* The same on the shared server's database. */
static long long db_count(const char *sql)
{
    return db_count_at(server.db, sql);
}

/* Sends msg `id` from c to rs_b; returns the seq answered (200). */
static int64_t send_id(tclient *c, const char *id)
{
    tc_send(c, "{\"action\":\"msg\",\"to\":\"rs_b\",\"message\":\"%s\",\"id\":\"%s\"}", id, id);
    assert_int_equal(tc_response(c, T), 200);
    int64_t seq = 0;
    assert_int_equal(jim_msg_get_int(c->msg, JIM_FIELD_SEQ, &seq), JIM_OK);
    return seq;
}

static void resend__found_by_any_worker_before_and_after_the_fold(void **state)
{
    (void)state;
    /* Two sessions of one sender on different workers. */
    tclient *a1 = tc_online(server.port, "rs_a"), *a2 = NULL;
    assert_non_null(a1);
    int w1 = jimd_user_worker(&server, "rs_a");
    for (int i = 0; i < 24 && !a2; i++) {
        tclient *c = tc_online(server.port, "rs_a");
        assert_non_null(c);
        if (jimd_user_worker(&server, "rs_a") != w1)
            a2 = c;
        else
            tc_close(c);
    }
    assert_non_null(a2);
    tclient *b = tc_online(server.port, "rs_b");
    assert_non_null(b);
    int64_t k1 = send_id(a1, "k1");
    assert_int_equal(send_id(a2, "k1"), k1); /* the other worker finds it */
    int64_t k2 = send_id(a2, "k2");
    assert_true(k2 > k1);
    assert_int_equal(send_id(a1, "k2"), k2);
    /* The upkeep (every checkpoint_interval, 1 s) folds them into `ids`. */
    for (int i = 0; i < 100 * jimd_slowdown() &&
                    db_count("SELECT count(*) FROM ids WHERE sender = 'rs_a'") != 2;
         i++)
        usleep(100000);
    assert_int_equal(db_count("SELECT count(*) FROM ids WHERE sender = 'rs_a'"), 2);
    assert_int_equal(db_count("SELECT count(*) FROM batch_heads"), 0);
    assert_int_equal(send_id(a1, "k1"), k1);
    assert_int_equal(send_id(a2, "k2"), k2);
    assert_int_equal(send_id(a2, "k1"), k1);
    int64_t k3 = send_id(a1, "k3");
    assert_true(k3 > k2);
    /* rs_b got each message once. */
    for (int n = 0; n < 3; n++) {
        jim_msg *m = tc_next_msg(b, T);
        assert_non_null(m);
        assert_string_equal(jim_msg_get_str(m, JIM_FIELD_MESSAGE), n == 0   ? "k1"
                                                                   : n == 1 ? "k2"
                                                                            : "k3");
    }
    assert_null(tc_next_msg(b, 300));
    tc_close(a1);
    tc_close(a2);
    tc_close(b);
}

/* A new session of name on worker `want` (or, want < 0, on another worker than `not`). */
static tclient *online_on(const char *name, int want, int not )
{
    for (int i = 0; i < 64; i++) { /* a busy machine may favour one worker for a while */
        tclient *c = tc_online(server.port, name);
        assert_non_null(c);
        int w = jimd_user_worker(&server, name);
        if (want >= 0 ? w == want : w != not )
            return c;
        tc_close(c);
        usleep(10000);
    }
    fail_msg("no session of %s landed where wanted", name);
    return NULL;
}

/* Sends a message to tw_b from a; its response code. */
static int send_tw(tclient *a, const char *text)
{
    tc_send(a, "{\"action\":\"msg\",\"to\":\"tw_b\",\"message\":\"%s\"}", text);
    return tc_response(a, T);
}

/* Ends c's session and waits for the answer: its worker has let the session go, so no
 * message sent after this can be handed to it. */
static void quit(tclient *c)
{
    tc_send(c, "{\"action\":\"quit\"}");
    assert_int_equal(tc_response(c, T), 200);
    tc_close(c);
}

/* A user with sessions on two workers stays online for a sender beside the one that leaves
 * first, and is offline (messages stored for later, none lost) once both have left. */
static void user_on_two_workers__online_until_the_last_session_leaves(void **state)
{
    (void)state;
    tclient *b1 = tc_online(server.port, "tw_b");
    assert_non_null(b1);
    int w1 = jimd_user_worker(&server, "tw_b");
    tclient *b2 = online_on("tw_b", -1, w1);
    tclient *a = online_on("tw_a", w1, -1); /* the sender beside b1 */
    assert_int_equal(send_tw(a, "m1"), 200);
    assert_string_equal(jim_msg_get_str(tc_next_msg(b1, T), JIM_FIELD_MESSAGE), "m1");
    assert_string_equal(jim_msg_get_str(tc_next_msg(b2, T), JIM_FIELD_MESSAGE), "m1");
    /* b1 leaves: tw_b has no session beside a any more, but one elsewhere. */
    quit(b1);
    usleep(100000);
    assert_int_equal(send_tw(a, "m2"), 200);
    jim_msg *m = tc_next_msg(b2, T);
    assert_non_null(m);
    assert_string_equal(jim_msg_get_str(m, JIM_FIELD_MESSAGE), "m2");
    /* b2 leaves too: once a's worker has heard, messages are stored (202). */
    quit(b2);
    int sent = 0, code = 0;
    char text[16];
    for (int i = 0; i < 50 * jimd_slowdown() && code != 202; i++) {
        snprintf(text, sizeof text, "o%d", sent++);
        code = send_tw(a, text);
        assert_true(code == 200 || code == 202);
        if (code != 202)
            usleep(20000);
    }
    assert_int_equal(code, 202);
    /* Back online: every message sent after b2 left arrives once. (Not necessarily in
     * order: one handed over to b2's worker just after b2 left is kept there as pending,
     * and may be found by the login's second query, after younger ones.) */
    tclient *b3 = tc_online(server.port, "tw_b");
    assert_non_null(b3);
    int *got = calloc((size_t)sent, sizeof *got);
    assert_non_null(got);
    for (int i = 0; i < sent; i++) {
        m = tc_next_msg(b3, T);
        assert_non_null(m);
        int n = -1;
        assert_int_equal(sscanf(jim_msg_get_str(m, JIM_FIELD_MESSAGE), "o%d", &n), 1);
        assert_true(n >= 0 && n < sent);
        got[n]++;
    }
    for (int i = 0; i < sent; i++)
        assert_int_equal(got[i], 1);
    free(got);
    assert_null(tc_next_msg(b3, 300));
    tc_close(b3);
    tc_close(a);
}

/* A session of name on a worker of p other than not1 and not2, or NULL after 64 tries. A
 * login not answered within 300 ms (its worker holds still) is given up. */
static tclient *online_beside(jimd_proc *p, const char *name, int not1, int not2)
{
    for (int i = 0; i < 64; i++) {
        tclient *c = tc_connect(p->port);
        assert_non_null(c);
        tc_send(c,
                "{\"action\":\"authenticate\",\"user\":{\"account_name\":\"%s\","
                "\"password\":\"password1\",\"features\":[\"ndjson\"]}}",
                name);
        if (tc_response(c, 300) == 200) {
            int w = jimd_user_worker(p, name);
            if (w != not1 && w != not2)
                return c;
            quit(c);
        } else {
            tc_close(c);
        }
        usleep(10000);
    }
    return NULL;
}

enum { LOOK_BURST = 5, LOOK_HOLD_MS = 4000 };

/* Each of the burst's messages arrives at c once, and nothing else. */
static void each_of_the_burst_once(tclient *c)
{
    int seen[LOOK_BURST] = {0};
    for (int i = 0; i < LOOK_BURST; i++) {
        jim_msg *m = tc_next_msg(c, T);
        assert_non_null(m);
        int n = -1;
        assert_int_equal(sscanf(jim_msg_get_str(m, JIM_FIELD_MESSAGE), "look %d", &n), 1);
        assert_true(n >= 0 && n < LOOK_BURST);
        seen[n]++;
    }
    for (int i = 0; i < LOOK_BURST; i++)
        assert_int_equal(seen[i], 1);
    assert_null(tc_next_msg(c, 300));
}

/* A hand-over kept by a worker after the user had logged in elsewhere, later than that
 * login's second look: the worker that kept it tells the user's new worker to look, and
 * the messages arrive there at once, at each of the user's two sessions there, each once,
 * not at the next login. Staged with JIMD_TEST_COMMIT: the sender's worker S holds still
 * for 4 s after committing a burst to lo_b, before routing it; meanwhile lo_b leaves
 * worker K and logs in twice on the third worker W. S then still believes lo_b is on K
 * and hands the burst there; K keeps it as pending. */
static void handover_kept_after_login_elsewhere__pushed_there_at_once(void **state)
{
    (void)state;
    jimd_proc p;
    char hold[32];
    snprintf(hold, sizeof hold, "%d:%d:after", LOOK_BURST, LOOK_HOLD_MS);
    setenv("JIMD_TEST_COMMIT", hold, 1);
    int started = jimd_start(&p, 3, "msg_rate 0");
    unsetenv("JIMD_TEST_COMMIT");
    assert_int_equal(started, 0);
    tclient *b1 = tc_online(p.port, "lo_b");
    assert_non_null(b1);
    int k = jimd_user_worker(&p, "lo_b");
    tclient *a = NULL;
    for (int i = 0; i < 64 && !a; i++) { /* the sender, on another worker than K */
        a = tc_online(p.port, "lo_a");
        assert_non_null(a);
        if (jimd_user_worker(&p, "lo_a") == k) {
            quit(a);
            a = NULL;
        }
    }
    assert_non_null(a);
    int s = jimd_user_worker(&p, "lo_a");

    for (int i = 0; i < LOOK_BURST; i++)
        tc_send(a, "{\"action\":\"msg\",\"to\":\"lo_b\",\"message\":\"look %d\"}", i);
    for (int i = 0; i < 200 * jimd_slowdown() && !jimd_log_count(&p, "holding a commit of "); i++)
        usleep(10000); /* until S has committed the burst and holds still */
    assert_int_equal(jimd_log_count(&p, "holding a commit of "), 1);
    quit(b1);
    tclient *b2 = online_beside(&p, "lo_b", s, k), *b2b = online_beside(&p, "lo_b", s, k);
    assert_non_null(b2);
    assert_non_null(b2b);
    usleep(800000); /* past the logins' second looks, S still holding */
    assert_null(tc_next_msg(b2, 0));
    assert_null(tc_next_msg(b2b, 0));

    for (int i = 0; i < LOOK_BURST; i++)
        assert_int_equal(tc_response(a, T), 200); /* handed over to K */
    each_of_the_burst_once(b2);
    each_of_the_burst_once(b2b);
    /* The rows pushed are cleared (with W's next commit), and the next login gets nothing. */
    long long left = -1;
    for (int i = 0; i < 100 * jimd_slowdown() && left != 0; i++) {
        left = db_count_at(p.db, "SELECT count(*) FROM pending");
        if (left != 0)
            usleep(50000);
    }
    assert_int_equal(left, 0);
    quit(b2);
    quit(b2b);
    tclient *b3 = tc_online(p.port, "lo_b");
    assert_non_null(b3);
    assert_null(tc_next_msg(b3, 1500));
    tc_close(b3);
    tc_close(a);
    assert_int_equal(jimd_log_count(&p, "killed by signal"), 0); /* no worker died on the way */
    assert_int_equal(jimd_stop(&p), 0);
    jimd_cleanup(&p);
}

static void limits__per_ip_and_login_failures__hold_across_workers(void **state)
{
    (void)state;
    jimd_proc p;
    assert_int_equal(jimd_start(&p, 2, "max_connections_per_ip 6\nlogin_failures_max 3"), 0);
    tclient *setup = tc_connect(p.port);
    assert_non_null(setup);
    assert_int_equal(tc_login(setup, "lim", "password1"), 200);

    /* Failed logins spread over connections, and so over workers, add up. */
    for (int i = 0; i < 3; i++) {
        tclient *c = tc_connect(p.port);
        assert_non_null(c);
        tc_send(c,
                "{\"action\":\"authenticate\",\"user\":{\"account_name\":\"lim\","
                "\"password\":\"nope-%d\"}}",
                i);
        assert_int_equal(tc_response(c, T), 402);
        tc_close(c);
        usleep(50000);
    }
    usleep(200000);
    for (int i = 0; i < 4; i++) { /* whichever worker takes it */
        tclient *c = tc_connect(p.port);
        assert_non_null(c);
        tc_send(c, "{\"action\":\"authenticate\",\"user\":{\"account_name\":\"lim\","
                   "\"password\":\"password1\"}}");
        assert_int_equal(tc_response(c, T), 429);
        tc_close(c);
    }

    /* Connections from one address are counted over all workers: with `setup` open,
       five more fit; the seventh is refused. */
    usleep(200000);
    tclient *c[6];
    for (int i = 0; i < 5; i++) {
        c[i] = tc_connect(p.port);
        assert_non_null(c[i]);
        usleep(50000); /* let the count reach the other worker */
    }
    c[5] = tc_connect(p.port);
    assert_non_null(c[5]); /* the kernel accepts; jimd closes it at once */
    assert_true(tc_eof(c[5], T));
    for (int i = 0; i < 5; i++) {
        tc_send(c[i], "{\"action\":\"get_rooms\"}");
        assert_int_equal(tc_response(c[i], T), 401); /* alive */
    }
    for (int i = 0; i < 6; i++)
        tc_close(c[i]);
    tc_close(setup);
    assert_int_equal(jimd_stop(&p), 0);
    jimd_cleanup(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(clients__spread_over_workers),
        cmocka_unit_test(direct__everyone_to_everyone__exactly_once),
        cmocka_unit_test(room__message_reaches_each_member_once),
        cmocka_unit_test(room_burst__across_workers__each_line_once_in_order),
        cmocka_unit_test(login__answered_then_messaged_from_any_worker__delivered_live),
        cmocka_unit_test(login_while_messages_stream__each_arrives_once),
        cmocka_unit_test(presence__crosses_workers),
        cmocka_unit_test(resend__found_by_any_worker_before_and_after_the_fold),
        cmocka_unit_test(user_on_two_workers__online_until_the_last_session_leaves),
        cmocka_unit_test(handover_kept_after_login_elsewhere__pushed_there_at_once),
        cmocka_unit_test(limits__per_ip_and_login_failures__hold_across_workers),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

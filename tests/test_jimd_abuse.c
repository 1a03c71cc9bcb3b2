/*
 * test_jimd_abuse.c — what one client (or one address) can make a real jimd spend: input
 * held while a password is hashed, registrations per address, running out of
 * descriptors, huge and pipelined replies, room limits, connections that never log in.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "jimd_harness.h"

#define T 10000 /* ms to wait for an answer */

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Writes as much of len bytes of 'x' as the socket takes within ms; how much it took. */
static size_t push_bytes(tclient *c, size_t len, int ms)
{
    static char chunk[65536];
    memset(chunk, 'x', sizeof chunk);
    int flags = fcntl(c->fd, F_GETFL);
    fcntl(c->fd, F_SETFL, flags | O_NONBLOCK);
    size_t sent = 0;
    for (long end = now_ms() + ms; sent < len && now_ms() < end;) {
        size_t n = len - sent < sizeof chunk ? len - sent : sizeof chunk;
        ssize_t w = send(c->fd, chunk, n, MSG_NOSIGNAL);
        if (w > 0) {
            sent += (size_t)w;
            continue;
        }
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            break;
        struct pollfd pfd = {c->fd, POLLOUT, 0};
        poll(&pfd, 1, 50);
    }
    fcntl(c->fd, F_SETFL, flags);
    return sent;
}

/* While its password is hashed a session is not read: what it sends meanwhile waits in
 * the kernel, and the object that turns out too long closes it — the server never holds
 * it. Before, the worker read 200 MB into that session's buffer. */
static void paused_session__not_read__memory_bounded(void **state)
{
    (void)state;
    jimd_proc p;
    assert_int_equal(jimd_start(&p, 1, "scrypt_n 16384"), 0);
    pid_t worker = jimd_worker_pid(&p, 0);
    assert_true(worker > 0);
    enum { BUSY = 40 }; /* about two seconds of hashing ahead of the big one */
    tclient *busy[BUSY];
    for (int i = 0; i < BUSY; i++) { /* the hashing thread has a queue to work through */
        busy[i] = tc_connect(p.port);
        assert_non_null(busy[i]);
        tc_send(busy[i],
                "{\"action\":\"register\",\"user\":{\"account_name\":\"busy%d\","
                "\"password\":\"password1\"}}",
                i);
    }
    long rss0 = proc_rss_kb(worker);
    tclient *c = tc_connect(p.port);
    assert_non_null(c);
    const char head[] = "{\"action\":\"register\",\"user\":{\"account_name\":\"big\","
                        "\"password\":\"password1\"}}\n{\"a\":\"";
    assert_int_equal(tc_send_raw(c, head, sizeof head - 1), 0);
    size_t sent = push_bytes(c, 128u << 20, 3000);
    long rss1 = proc_rss_kb(worker);
    /* The kernel's buffers take a few megabytes at most; the worker grows by little
     * (scrypt's own 16 MiB while a hash runs). */
    assert_true(sent < (16u << 20));
#ifndef JIM_TEST_ASAN
    if (jimd_slowdown() == 1) /* under valgrind RSS is valgrind's */
        assert_true(rss1 - rss0 < 40 * 1024);
#else
    (void)rss0, (void)rss1;
#endif
    assert_int_equal(tc_response(c, 60000), 201); /* the register itself is answered */
    assert_true(tc_eof(c, 60000));                /* then the oversize object closes it */
    for (int i = 0; i < BUSY; i++)
        tc_close(busy[i]);
    tc_close(c);
    assert_int_equal(jimd_stop(&p), 0);
    jimd_cleanup(&p);
}

/* Registrations are limited per address: the next one gets 429 with retry_after. */
static void register__per_address_limit__429(void **state)
{
    (void)state;
    jimd_proc p;
    assert_int_equal(jimd_start(&p, 2, "register_max_ip 3"), 0);
    tclient *c = tc_connect(p.port);
    assert_non_null(c);
    for (int i = 0; i < 4; i++) {
        tc_send(c,
                "{\"action\":\"register\",\"user\":{\"account_name\":\"reg%d\","
                "\"password\":\"password1\"}}",
                i);
        int rc = tc_response(c, T);
        assert_int_equal(rc, i < 3 ? 201 : 429);
    }
    int64_t retry = 0;
    assert_int_equal(jim_msg_get_int(c->msg, JIM_FIELD_RETRY_AFTER, &retry), JIM_OK);
    assert_true(retry >= 1 && retry <= 600);
    tc_close(c);
    assert_int_equal(jimd_stop(&p), 0);
    jimd_cleanup(&p);
}

/* Out of descriptors, a worker stops accepting for a moment instead of spinning on a
 * listening socket that stays readable, logs it once per interval, and serves again
 * once descriptors are free. Before, it burnt a core and wrote a gigabyte of log. */
static void out_of_descriptors__no_spin__recovers(void **state)
{
    (void)state;
    jimd_proc p;
    setenv("JIMD_TEST_NOFILE", "64", 1);
    int started = jimd_start(&p, 1, "log_level info");
    unsetenv("JIMD_TEST_NOFILE");
    assert_int_equal(started, 0);
    pid_t worker = jimd_worker_pid(&p, 0);
    enum { N = 100 };
    tclient *c[N];
    for (int i = 0; i < N; i++)
        c[i] = tc_connect(p.port); /* the kernel completes them all: accept() cannot */
    double cpu0 = proc_cpu_seconds(worker);
    sleep(3);
    double cpu = proc_cpu_seconds(worker) - cpu0;
    assert_true(cpu < 0.5);
    assert_true(jimd_log_count(&p, "accept() failed") <= 2);
    for (int i = 0; i < N; i++)
        tc_close(c[i]);
    tclient *d = NULL;
    for (long end = now_ms() + 10000; !d && now_ms() < end; usleep(100000))
        d = tc_online(p.port, "after");
    assert_non_null(d);
    tc_close(d);
    assert_int_equal(jimd_stop(&p), 0);
    jimd_cleanup(&p);
}

/* Fills a's history with n messages to b. */
static void fill_history(int port, const char *a, const char *b, int n)
{
    tclient *r = tc_online(port, b); /* the recipient exists */
    assert_non_null(r);
    tc_close(r);
    tclient *c = tc_online(port, a);
    assert_non_null(c);
    for (int i = 0; i < n; i++)
        tc_send(c, "{\"action\":\"msg\",\"to\":\"%s\",\"message\":\"%s\"}", b, "history line");
    for (int i = 0; i < n; i++) {
        int rc = tc_response(c, T);
        assert_true(rc == 200 || rc == 202);
    }
    tc_close(c);
}

/* The time a message takes from one client to another, in ms. */
static long one_message_ms(tclient *from, tclient *to, const char *to_name)
{
    long t0 = now_ms();
    tc_send(from, "{\"action\":\"msg\",\"to\":\"%s\",\"message\":\"ping\"}", to_name);
    assert_non_null(tc_next_msg(to, T));
    return now_ms() - t0;
}

/* A client that pipelines a hundred `sync since 0` and does not read gets its reply as it
 * reads: the worker holds little for it and serves everyone else meanwhile; when it
 * reads, every message of every sync arrives. Before, the worker queued all of it at
 * once and stalled the others for a second. */
static void pipelined_syncs__produced_as_read__others_not_stalled(void **state)
{
    (void)state;
    jimd_proc p;
    assert_int_equal(jimd_start(&p, 1, "msg_rate 0"), 0);
    enum { HISTORY = 1500, SYNCS = 100 };
    fill_history(p.port, "hoarder", "someone", HISTORY);
    pid_t worker = jimd_worker_pid(&p, 0);
    tclient *x = NULL, *y = NULL;
    assert_int_equal(tc_online_pair(p.port, "pair_x", &x, "pair_y", &y), 0);
    tclient *h = tc_online(p.port, "hoarder");
    assert_non_null(h);
    long rss0 = proc_rss_kb(worker);
    char line[64];
    for (int i = 0; i < SYNCS; i++) {
        int n =
            snprintf(line, sizeof line, "{\"action\":\"sync\",\"since\":0,\"id\":\"s%d\"}\n", i);
        tc_send_raw(h, line, (size_t)n);
    }
    long worst = 0;
    for (int i = 0; i < 5; i++) {
        long ms = one_message_ms(x, y, "pair_y");
        worst = ms > worst ? ms : worst;
    }
    long rss1 = proc_rss_kb(worker);
    if (jimd_slowdown() == 1) { /* under valgrind, time and RSS are valgrind's */
        assert_true(worst < 300);
#ifndef JIM_TEST_ASAN /* nor is RSS a measure under ASan (its quarantine) */
        assert_true(rss1 - rss0 < 24 * 1024);
#else
        (void)rss0, (void)rss1;
#endif
    }
    /* Now the hoarder reads: every message of every sync, then each sync's 200. */
    long msgs = 0, done = 0;
    for (jim_msg *m; done < SYNCS && (m = tc_recv(h, 30000));) {
        if (jim_msg_action(m) == JIM_ACTION_MSG)
            msgs++;
        else if (jim_msg_response(m) == 200)
            done++;
    }
    assert_int_equal(done, SYNCS);
    assert_int_equal(msgs, (long)HISTORY * SYNCS);
    tc_close(h);
    tc_close(x);
    tc_close(y);
    assert_int_equal(jimd_stop(&p), 0);
    jimd_cleanup(&p);
}

/* A course client (no ndjson: its objects are paced) that asks for much and reads
 * nothing: its paced queue counts against the same bound. */
static void paced_session__queue_counted__bounded(void **state)
{
    (void)state;
    jimd_proc p;
    assert_int_equal(jimd_start(&p, 1, "msg_rate 0"), 0);
    fill_history(p.port, "slow", "someone", 1000);
    pid_t worker = jimd_worker_pid(&p, 0);
    tclient *c = tc_connect(p.port);
    assert_non_null(c);
    tc_send(c, "{\"action\":\"authenticate\",\"user\":{\"account_name\":\"slow\","
               "\"password\":\"password1\"}}");
    assert_int_equal(tc_response(c, T), 200);
    long rss0 = proc_rss_kb(worker);
    for (int i = 0; i < 40; i++)
        tc_send(c, "{\"action\":\"sync\",\"since\":0}");
    sleep(2);
    long rss1 = proc_rss_kb(worker);
    /* 40 × 1000 paced objects would be about 8 MB of strings; the bound is 256 KiB. */
#ifndef JIM_TEST_ASAN /* under ASan its quarantine keeps what was freed */
    assert_true(rss1 - rss0 < 4 * 1024);
#else
    (void)rss0, (void)rss1;
#endif
    tc_close(c);
    assert_int_equal(jimd_stop(&p), 0);
    jimd_cleanup(&p);
}

/* Rooms: members of at most max_rooms_per_user, creations per hour limited, and
 * get_rooms finds rooms by prefix, a page at a time. */
static void rooms__limits_and_paging(void **state)
{
    (void)state;
    jimd_proc p;
    assert_int_equal(jimd_start(&p, 1, "max_rooms_per_user 3\nroom_creations_per_hour 4"), 0);
    tclient *a = tc_online(p.port, "roomer");
    assert_non_null(a);
    for (int i = 0; i < 3; i++) {
        tc_send(a, "{\"action\":\"join\",\"room\":\"#r%d\"}", i);
        assert_int_equal(tc_response(a, T), 200);
    }
    tc_send(a, "{\"action\":\"join\",\"room\":\"#r3\"}");
    assert_int_equal(tc_response(a, T), 400); /* a member of 3 already */
    tc_send(a, "{\"action\":\"leave\",\"room\":\"#r0\"}");
    assert_int_equal(tc_response(a, T), 200);
    tc_send(a, "{\"action\":\"join\",\"room\":\"#r3\"}");
    assert_int_equal(tc_response(a, T), 200); /* the fourth room created this hour */
    tc_send(a, "{\"action\":\"leave\",\"room\":\"#r1\"}");
    assert_int_equal(tc_response(a, T), 200);
    tc_send(a, "{\"action\":\"join\",\"room\":\"#r4\"}");
    assert_int_equal(tc_response(a, T), 429); /* a fifth creation within the hour */
    tc_send(a, "{\"action\":\"join\",\"room\":\"#r0\"}");
    assert_int_equal(tc_response(a, T), 200); /* joining an existing room is no creation */
    /* #r0..#r3 exist: a prefix, and pages of two. */
    tc_send(a, "{\"action\":\"get_rooms\",\"query\":\"#r\",\"limit\":2}");
    assert_int_equal(tc_response(a, T), 202);
    jim_msg *m = tc_recv(a, T);
    assert_string_equal(jim_msg_get_str(m, JIM_FIELD_ROOM), "#r0");
    m = tc_recv(a, T);
    assert_string_equal(jim_msg_get_str(m, JIM_FIELD_ROOM), "#r1");
    tc_send(a, "{\"action\":\"get_rooms\",\"query\":\"#r\",\"after\":\"#r1\",\"limit\":2}");
    assert_int_equal(tc_response(a, T), 202);
    int64_t q = 0;
    assert_int_equal(jim_msg_get_int(a->msg, JIM_FIELD_QUANTITY, &q), JIM_OK);
    assert_int_equal(q, 2);
    m = tc_recv(a, T);
    assert_string_equal(jim_msg_get_str(m, JIM_FIELD_ROOM), "#r2");
    m = tc_recv(a, T);
    assert_string_equal(jim_msg_get_str(m, JIM_FIELD_ROOM), "#r3");
    tc_send(a, "{\"action\":\"get_rooms\",\"query\":\"#zz\"}");
    assert_int_equal(tc_response(a, T), 202);
    assert_int_equal(jim_msg_get_int(a->msg, JIM_FIELD_QUANTITY, &q), JIM_OK);
    assert_int_equal(q, 0);
    tc_close(a);
    assert_int_equal(jimd_stop(&p), 0);
    jimd_cleanup(&p);
}

/* A connection that does not log in within login_timeout is closed; a logged-in one
 * that says nothing stays. */
static void login_timeout__idle_unauthenticated_closed(void **state)
{
    (void)state;
    jimd_proc p;
    assert_int_equal(jimd_start(&p, 1, "login_timeout 1"), 0);
    tclient *idle = tc_connect(p.port);
    assert_non_null(idle);
    tclient *in = tc_online(p.port, "stayer");
    assert_non_null(in);
    assert_int_equal(tc_response(idle, 5000), 401);
    assert_true(tc_eof(idle, 5000));
    tc_send(in, "{\"action\":\"get_contacts\"}");
    assert_int_equal(tc_response(in, T), 202);
    tc_close(idle);
    tc_close(in);
    assert_int_equal(jimd_stop(&p), 0);
    jimd_cleanup(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(paused_session__not_read__memory_bounded),
        cmocka_unit_test(register__per_address_limit__429),
        cmocka_unit_test(out_of_descriptors__no_spin__recovers),
        cmocka_unit_test(pipelined_syncs__produced_as_read__others_not_stalled),
        cmocka_unit_test(paced_session__queue_counted__bounded),
        cmocka_unit_test(rooms__limits_and_paging),
        cmocka_unit_test(login_timeout__idle_unauthenticated_closed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

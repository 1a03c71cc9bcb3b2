/*
 * test_jimd_logins.c — logging in against a real jimd: several devices per account, the
 * failed-log-in limits per account and per address (also when the attempts come in
 * parallel), and an unknown account taking as long to refuse as a known one.
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

#define T 10000 /* ms to wait for an answer */

static void send_auth(tclient *c, const char *name, const char *password)
{
    tc_send(c,
            "{\"action\":\"authenticate\",\"time\":1,\"user\":{\"account_name\":\"%s\","
            "\"password\":\"%s\",\"features\":[\"ndjson\"]}}",
            name, password);
}

static long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000L + ts.tv_nsec / 1000L;
}

/* The default lets one account log in from several devices (a reader and a writer,
 * a phone and a desktop): each session gets the account's messages. */
static void max_sessions__default__eight_devices_each_receive(void **state)
{
    (void)state;
    jimd_proc p;
    assert_int_equal(jimd_start(&p, 2, NULL), 0);
    tclient *dev[9];
    for (int i = 0; i < 8; i++) {
        dev[i] = tc_online(p.port, "multi");
        assert_non_null(dev[i]);
    }
    dev[8] = tc_connect(p.port);
    assert_non_null(dev[8]);
    send_auth(dev[8], "multi", "password1");
    assert_int_equal(tc_response(dev[8], T), 409); /* the ninth is one too many */
    tclient *s = tc_online(p.port, "sender");
    assert_non_null(s);
    tc_send(s, "{\"action\":\"msg\",\"to\":\"multi\",\"message\":\"to every device\"}");
    assert_int_equal(tc_response(s, T), 200);
    for (int i = 0; i < 8; i++) {
        jim_msg *m = tc_next_msg(dev[i], T);
        assert_non_null(m);
        assert_string_equal(jim_msg_get_str(m, JIM_FIELD_MESSAGE), "to every device");
    }
    for (int i = 0; i < 9; i++)
        tc_close(dev[i]);
    tc_close(s);
    assert_int_equal(jimd_stop(&p), 0);
    jimd_cleanup(&p);
}

/* Five wrong passwords lock that account (429 with retry_after), not the other users
 * behind the same address; the address has a limit of its own, far higher. */
static void failures__per_account_and_per_address__429_with_retry_after(void **state)
{
    (void)state;
    jimd_proc p;
    assert_int_equal(jimd_start(&p, 2, "login_failures_max_ip 12"), 0);
    tclient *setup = tc_online(p.port, "victim");
    assert_non_null(setup);
    tc_close(setup);
    tclient *c = tc_connect(p.port);
    assert_non_null(c);
    for (int i = 0; i < 5; i++) {
        send_auth(c, "victim", "wrong-password");
        assert_int_equal(tc_response(c, T), 402);
    }
    send_auth(c, "victim", "password1");
    assert_int_equal(tc_response(c, T), 429);
    int64_t retry = 0;
    assert_int_equal(jim_msg_get_int(c->msg, JIM_FIELD_RETRY_AFTER, &retry), JIM_OK);
    assert_true(retry >= 1 && retry <= 60);
    tc_close(c);
    /* Another user on the same address logs in at once, on either worker. */
    for (int i = 0; i < 4; i++) {
        tclient *o = tc_online(p.port, "neighbour");
        assert_non_null(o);
        tc_close(o);
    }
    /* Wrong passwords for many accounts from one address: 12 in all, then 429. */
    tclient *d = tc_connect(p.port);
    assert_non_null(d);
    char name[32];
    for (int i = 0; i < 7; i++) {
        snprintf(name, sizeof name, "guess%d", i);
        send_auth(d, name, "wrong-password");
        assert_int_equal(tc_response(d, T), 402);
    }
    send_auth(d, "neighbour", "password1");
    assert_int_equal(tc_response(d, T), 429);
    tc_close(d);
    assert_int_equal(jimd_stop(&p), 0);
    jimd_cleanup(&p);
}

/* Thirty attempts at one account sent at the same moment on thirty connections: the
 * attempts whose hashes are still running count, so at most login_failures_max of them
 * are checked at all and the rest get 429 — the right password among them cannot win
 * by being one of thirty. */
static void failures__thirty_in_parallel__at_most_five_checked(void **state)
{
    (void)state;
    jimd_proc p;
    assert_int_equal(jimd_start(&p, 2, "scrypt_n 16384"), 0);
    tclient *setup = tc_online(p.port, "target");
    assert_non_null(setup);
    tc_close(setup);
    enum { N = 30 };
    tclient *c[N];
    for (int i = 0; i < N; i++) {
        c[i] = tc_connect(p.port);
        assert_non_null(c[i]);
    }
    for (int i = 0; i < N; i++)
        send_auth(c[i], "target", i == N - 1 ? "password1" : "wrong-password");
    int checked = 0, refused = 0;
    for (int i = 0; i < N; i++) {
        int rc = tc_response(c[i], 30000);
        if (rc == 402 || rc == 200)
            checked++;
        else if (rc == 429)
            refused++;
        tc_close(c[i]);
    }
    /* The count lives in the database: exact, whichever worker each attempt reaches. */
    assert_true(checked >= 1 && checked <= 5);
    assert_int_equal(checked + refused, N);
    assert_int_equal(jimd_stop(&p), 0);
    jimd_cleanup(&p);
}

/* An unknown account is checked against a hash of the same cost: the answer takes about
 * as long as for a known account with a wrong password. */
static void unknown_account__takes_as_long_as_a_known_one(void **state)
{
    (void)state;
    jimd_proc p;
    assert_int_equal(jimd_start(&p, 1, "scrypt_n 32768\nlogin_failures_max 100"), 0);
    tclient *setup = tc_online(p.port, "known");
    assert_non_null(setup);
    tc_close(setup);
    tclient *c = tc_connect(p.port);
    assert_non_null(c);
    long known = 0, unknown = 0;
    for (int round = 0; round < 3; round++) {
        long t0 = now_us();
        send_auth(c, "known", "wrong-password");
        assert_int_equal(tc_response(c, T), 402);
        long t1 = now_us();
        send_auth(c, "unknown_one", "wrong-password");
        assert_int_equal(tc_response(c, T), 402);
        long t2 = now_us();
        known += t1 - t0;
        unknown += t2 - t1;
    }
    /* scrypt at N = 32768 takes tens of milliseconds; skipping it takes a few dozen µs. */
    assert_true(unknown * 2 > known);
    tc_close(c);
    assert_int_equal(jimd_stop(&p), 0);
    jimd_cleanup(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(max_sessions__default__eight_devices_each_receive),
        cmocka_unit_test(failures__per_account_and_per_address__429_with_retry_after),
        cmocka_unit_test(failures__thirty_in_parallel__at_most_five_checked),
        cmocka_unit_test(unknown_account__takes_as_long_as_a_known_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

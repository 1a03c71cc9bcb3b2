/*
 * test_tls.c — libjim's client over TLS: the handshake against `openssl s_server` with
 * certificates from contrib/jim-certs.sh (a good one by name and by address; an unknown CA,
 * a name mismatch and an expired certificate each refused with JIM_ETLS and the reason in
 * words; the insecure mode connecting and warning on every connect), then whole JIM sessions
 * over TLS against tests/fakejim in the three ways a client runs (blocking, the program's
 * own loop, its own thread), with many messages in flight and a reconnect.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE
#include <poll.h>
#include <pthread.h>
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

#include <jim/jim.h>

#include "tls_harness.h"

static char certs[64], other_ca[64]; /* the suite's CA and server certificates; another CA */
static char ca_file[128], cert[128], key[128];

static int group_setup(void **state)
{
    (void)state;
    char args[512];
    if (temp_dir(certs, sizeof certs) != 0 || temp_dir(other_ca, sizeof other_ca) != 0)
        return -1;
    snprintf(ca_file, sizeof ca_file, "%s/ca.pem", certs);
    snprintf(cert, sizeof cert, "%s/server.pem", certs);
    snprintf(key, sizeof key, "%s/server.key", certs);
    snprintf(args, sizeof args, "'%s'", certs);
    if (make_certs(args) != 0)
        return -1;
    snprintf(args, sizeof args, "--out other '%s' other.example", certs);
    if (make_certs(args) != 0)
        return -1;
    snprintf(args, sizeof args, "--expired --out expired '%s'", certs);
    if (make_certs(args) != 0)
        return -1;
    snprintf(args, sizeof args, "'%s'", other_ca); /* a CA of its own */
    return make_certs(args);
}

static int group_teardown(void **state)
{
    (void)state;
    remove_dir(certs);
    remove_dir(other_ca);
    return 0;
}

/* What a client saw. */
typedef struct seen {
    pthread_mutex_t mu;
    int messages, errors, online;
    char last_text[600];
} seen;

static void on_message(void *ud, const jim_msg *m, int outgoing)
{
    (void)outgoing;
    seen *s = ud;
    pthread_mutex_lock(&s->mu);
    s->messages++;
    const char *t = jim_msg_get_str(m, JIM_FIELD_MESSAGE);
    snprintf(s->last_text, sizeof s->last_text, "%s", t ? t : "");
    pthread_mutex_unlock(&s->mu);
}

static void on_error(void *ud, int code, const char *text)
{
    (void)code;
    (void)text;
    seen *s = ud;
    pthread_mutex_lock(&s->mu);
    s->errors++;
    pthread_mutex_unlock(&s->mu);
}

static void on_state(void *ud, jim_client_state st)
{
    seen *s = ud;
    pthread_mutex_lock(&s->mu);
    s->online += st == JIM_CLIENT_ONLINE;
    pthread_mutex_unlock(&s->mu);
}

static const jim_client_callbacks callbacks = {on_message, NULL, on_error, on_state};

static int count(seen *s, int *field)
{
    pthread_mutex_lock(&s->mu);
    int v = *field;
    pthread_mutex_unlock(&s->mu);
    return v;
}

static seen *seen_new(void)
{
    seen *s = calloc(1, sizeof *s);
    assert_non_null(s);
    pthread_mutex_init(&s->mu, NULL);
    return s;
}

/* A client with TLS (mode, ca) and a short timeout. */
static jim_client *tls_client(jim_tls_mode mode, const char *ca, seen *s)
{
    jim_client *c = NULL;
    assert_int_equal(jim_client_new(&c, s ? &callbacks : NULL, s), JIM_OK);
    jim_client_set_timeout(c, 5000);
    assert_int_equal(jim_client_set_tls(c, mode, ca), JIM_OK);
    return c;
}

/* Connects a verifying client to s_server serving cert_path; returns connect's code, and the
 * reason in why. */
static int try_handshake(const char *cert_path, const char *key_path, const char *host,
                         const char *ca, char *why, size_t why_size)
{
    test_server s;
    assert_int_equal(sserver_start(&s, cert_path, key_path), 0);
    jim_client *c = tls_client(JIM_TLS_VERIFY, ca, NULL);
    int rc = jim_client_connect(c, host, s.port);
    snprintf(why, why_size, "%s", jim_client_last_error(c));
    if (rc == JIM_OK) {
        /* Something goes through the tunnel: s_server prints what it receives. */
        jim_msg *q = NULL;
        jim_msg_new(&q);
        jim_msg_init_action(q, JIM_ACTION_GET_USERS);
        assert_int_equal(jim_client_request_async(c, q, NULL, NULL), JIM_OK);
        jim_msg_free(q);
        for (int i = 0; i < 100 && file_count(s.out, "\"action\":\"get_users\"") == 0; i++)
            jim_client_run(c, 20);
        assert_int_equal(file_count(s.out, "\"action\":\"get_users\""), 1);
        const char *v = jim_client_tls_version(c);
        assert_non_null(v);
        assert_true(strncmp(v, "TLSv1.2", 7) == 0 || strncmp(v, "TLSv1.3", 7) == 0);
    } else {
        assert_int_equal(jim_client_get_state(c), JIM_CLIENT_DISCONNECTED);
        assert_null(jim_client_tls_version(c));
    }
    jim_client_free(c);
    server_stop(&s);
    return rc;
}

static void handshake__good_certificate__by_name_and_by_address(void **state)
{
    (void)state;
    char why[512];
    assert_int_equal(try_handshake(cert, key, "localhost", ca_file, why, sizeof why), JIM_OK);
    assert_int_equal(try_handshake(cert, key, "127.0.0.1", ca_file, why, sizeof why), JIM_OK);
}

static void handshake__unknown_ca__etls_says_unknown_ca(void **state)
{
    (void)state;
    char why[512], other[160];
    snprintf(other, sizeof other, "%s/ca.pem", other_ca);
    assert_int_equal(try_handshake(cert, key, "localhost", other, why, sizeof why), JIM_ETLS);
    assert_non_null(strstr(why, "unknown CA"));
    /* The system's store does not know a private CA either. */
    assert_int_equal(try_handshake(cert, key, "localhost", NULL, why, sizeof why), JIM_ETLS);
    assert_non_null(strstr(why, "unknown CA"));
}

static void handshake__name_mismatch__etls_says_name_mismatch(void **state)
{
    (void)state;
    char why[512], c2[160], k2[160];
    snprintf(c2, sizeof c2, "%s/other.pem", certs);
    snprintf(k2, sizeof k2, "%s/other.key", certs);
    assert_int_equal(try_handshake(c2, k2, "localhost", ca_file, why, sizeof why), JIM_ETLS);
    assert_non_null(strstr(why, "name mismatch"));
    assert_non_null(strstr(why, "localhost"));
    assert_int_equal(try_handshake(c2, k2, "127.0.0.1", ca_file, why, sizeof why), JIM_ETLS);
    assert_non_null(strstr(why, "name mismatch"));
}

static void handshake__expired__etls_says_expired(void **state)
{
    (void)state;
    char why[512], c2[160], k2[160];
    snprintf(c2, sizeof c2, "%s/expired.pem", certs);
    snprintf(k2, sizeof k2, "%s/expired.key", certs);
    assert_int_equal(try_handshake(c2, k2, "localhost", ca_file, why, sizeof why), JIM_ETLS);
    assert_non_null(strstr(why, "expired"));
}

static void insecure__any_certificate__connects_and_warns_every_time(void **state)
{
    (void)state;
    char dir[64], logfile[128], c2[160], k2[160];
    assert_int_equal(temp_dir(dir, sizeof dir), 0);
    snprintf(logfile, sizeof logfile, "%s/client.log", dir);
    snprintf(c2, sizeof c2, "%s/other.pem", certs);
    snprintf(k2, sizeof k2, "%s/other.key", certs);
    jim_log *log = NULL;
    assert_int_equal(jim_log_open(&log, "test", logfile, JIM_LOG_WARNING, 0), JIM_OK);
    for (int round = 1; round <= 2; round++) {
        test_server s;
        assert_int_equal(sserver_start(&s, c2, k2), 0); /* not for localhost, no known CA */
        jim_client *c = tls_client(JIM_TLS_INSECURE, NULL, NULL);
        jim_client_set_log(c, log);
        assert_int_equal(jim_client_connect(c, "localhost", s.port), JIM_OK);
        assert_non_null(jim_client_tls_version(c));
        jim_client_free(c);
        server_stop(&s);
        assert_int_equal(file_count(logfile, "WITHOUT checking its certificate"), round);
    }
    assert_int_equal(file_count(logfile, "WARNING"), 2);
    jim_log_close(log);
    remove_dir(dir);
}

static void set_tls__bad_arguments__refused_with_reason(void **state)
{
    (void)state;
    jim_client *c = NULL;
    assert_int_equal(jim_client_new(&c, NULL, NULL), JIM_OK);
    assert_int_equal(jim_client_set_tls(c, JIM_TLS_VERIFY, "/nonexistent/ca.pem"), JIM_ETLS);
    assert_non_null(strstr(jim_client_last_error(c), "/nonexistent/ca.pem"));
    assert_int_equal(jim_client_set_tls(c, (jim_tls_mode)7, NULL), JIM_EINVAL);
    assert_int_equal(jim_client_set_tls(NULL, JIM_TLS_OFF, NULL), JIM_EINVAL);
    assert_null(jim_client_tls_version(c));
    jim_client_free(c);
}

static void handshake__plain_server__etls_says_so(void **state)
{
    (void)state;
    test_server s;
    assert_int_equal(fakejim_start(&s, 0, NULL), 0); /* plain JIM only */
    jim_client *c = tls_client(JIM_TLS_VERIFY, ca_file, NULL);
    jim_client_set_timeout(c, 3000);
    assert_int_equal(jim_client_connect(c, "127.0.0.1", s.port), JIM_ETLS);
    const char *why = jim_client_last_error(c);
    assert_true(strstr(why, "does not speak TLS") || strstr(why, "does it serve TLS") ||
                strstr(why, "did not finish the handshake"));
    jim_client_free(c);
    server_stop(&s);
}

/* ---- whole sessions over TLS against fakejim -------------------------------------- */

static void start_tls_fakejim(test_server *s, int port)
{
    const char *args[] = {"--tls", cert, key, NULL};
    assert_int_equal(fakejim_start(s, port, args), 0);
}

static jim_client *tls_online(int port, const char *name, seen *s)
{
    jim_client *c = tls_client(JIM_TLS_VERIFY, ca_file, s);
    assert_int_equal(jim_client_connect(c, "localhost", port), JIM_OK);
    assert_int_equal(jim_client_login(c, name, "password1"), JIM_OK);
    assert_non_null(jim_client_tls_version(c));
    return c;
}

static void run_until(jim_client *c, seen *s, int *field, int want)
{
    for (int i = 0; i < 1000 && count(s, field) < want; i++)
        jim_client_run(c, 10);
    assert_int_equal(count(s, field), want);
}

static void session__blocking__send_and_receive(void **state)
{
    (void)state;
    test_server srv;
    start_tls_fakejim(&srv, 0);
    seen *a = seen_new(), *b = seen_new();
    jim_client *alice = tls_online(srv.port, "alice", a), *bob = tls_online(srv.port, "bob", b);
    int64_t seq = 0;
    int delivered = 0;
    assert_int_equal(jim_client_send(alice, &seq, &delivered, "bob", "over TLS"), JIM_OK);
    assert_true(seq > 0);
    run_until(bob, b, &b->messages, 1);
    assert_string_equal(b->last_text, "over TLS");
    assert_int_equal(jim_client_quit(alice), JIM_OK);
    assert_int_equal(count(a, &a->errors) + count(b, &b->errors), 0);
    jim_client_free(alice);
    jim_client_free(bob);
    server_stop(&srv);
    free(a);
    free(b);
}

/* Drives c in a poll() loop of the test's own until *field reaches want (10 s at most). */
static void own_loop_until(jim_client *c, seen *s, int *field, int want)
{
    for (int i = 0; i < 2000 && count(s, field) < want; i++) {
        struct pollfd p = {jim_client_fd(c), POLLIN, 0};
        if (jim_client_wants_write(c))
            p.events |= POLLOUT;
        int t = jim_client_next_timeout(c);
        int n = poll(&p, p.fd >= 0 ? 1 : 0, t < 0 || t > 5 ? 5 : t);
        if (n > 0 && (p.revents & POLLOUT))
            jim_client_on_writable(c);
        if (n > 0 && (p.revents & (POLLIN | POLLERR | POLLHUP)))
            jim_client_on_readable(c);
        if (jim_client_next_timeout(c) == 0)
            jim_client_on_timeout(c);
    }
    assert_int_equal(count(s, field), want);
}

static void on_sent(void *ud, int status, const jim_msg *resp, const jim_list *entries)
{
    (void)resp;
    (void)entries;
    if (status == JIM_OK)
        (*(int *)ud)++;
}

static void session__own_loop_and_thread__many_messages_in_flight(void **state)
{
    (void)state;
    test_server srv;
    start_tls_fakejim(&srv, 0);
    seen *a = seen_new(), *b = seen_new();
    jim_client *alice = tls_online(srv.port, "alice", a), *bob = tls_online(srv.port, "bob", b);
    assert_int_equal(jim_client_start_thread(bob), JIM_OK); /* bob: the client's thread */
    /* alice: 600 messages of 500 characters queued at once, written by the test's own loop:
     * far more than a socket buffer, so TLS writes stop half-way and go on. */
    char text[501];
    memset(text, 'x', 500);
    text[500] = '\0';
    static int acked;
    acked = 0;
    for (int i = 0; i < 600; i++) {
        text[0] = (char)('a' + i % 26);
        assert_int_equal(jim_client_send_async(alice, "bob", text, on_sent, &acked), JIM_OK);
    }
    for (int i = 0; i < 3000 && acked < 600; i++) {
        struct pollfd p = {jim_client_fd(alice), POLLIN, 0};
        if (jim_client_wants_write(alice))
            p.events |= POLLOUT;
        if (poll(&p, 1, 10) > 0) {
            if (p.revents & POLLOUT)
                jim_client_on_writable(alice);
            if (p.revents & (POLLIN | POLLERR | POLLHUP))
                jim_client_on_readable(alice);
        }
        if (jim_client_next_timeout(alice) == 0)
            jim_client_on_timeout(alice);
    }
    assert_int_equal(acked, 600);
    for (int i = 0; i < 1000 && count(b, &b->messages) < 600; i++)
        usleep(10000);
    assert_int_equal(count(b, &b->messages), 600);
    /* And back: bob (thread) writes, alice (own loop) reads. */
    assert_int_equal(jim_client_send(bob, NULL, NULL, "alice", "from the thread"), JIM_OK);
    own_loop_until(alice, a, &a->messages, 1);
    assert_string_equal(a->last_text, "from the thread");
    jim_client_stop_thread(bob);
    assert_int_equal(count(a, &a->errors) + count(b, &b->errors), 0);
    jim_client_free(alice);
    jim_client_free(bob);
    server_stop(&srv);
    free(a);
    free(b);
}

static void session__reconnect__tls_again(void **state)
{
    (void)state;
    test_server srv;
    start_tls_fakejim(&srv, 0);
    int port = srv.port;
    seen *a = seen_new();
    jim_client *alice = tls_online(port, "alice", a);
    jim_client_set_reconnect(alice, 1, 500);
    server_stop(&srv);
    for (int i = 0; i < 200 && jim_client_get_state(alice) == JIM_CLIENT_ONLINE; i++)
        jim_client_run(alice, 10);
    assert_int_not_equal(jim_client_get_state(alice), JIM_CLIENT_ONLINE);
    start_tls_fakejim(&srv, port); /* the same port: it speaks TLS only */
    run_until(alice, a, &a->online, 2);
    assert_int_equal(jim_client_get_state(alice), JIM_CLIENT_ONLINE);
    assert_non_null(jim_client_tls_version(alice));
    assert_int_equal(jim_client_send(alice, NULL, NULL, "alice", "after the reconnect"), JIM_OK);
    jim_client_free(alice);
    server_stop(&srv);
    free(a);
}

static void session__reconnect_to_a_refused_certificate__told_once_and_retried(void **state)
{
    (void)state;
    test_server srv;
    start_tls_fakejim(&srv, 0);
    int port = srv.port;
    seen *a = seen_new();
    jim_client *alice = tls_online(port, "alice", a);
    jim_client_set_reconnect(alice, 1, 300);
    server_stop(&srv);
    char c2[160], k2[160];
    snprintf(c2, sizeof c2, "%s/other.pem", certs);
    snprintf(k2, sizeof k2, "%s/other.key", certs);
    const char *args[] = {"--tls", c2, k2, NULL}; /* the same port, not for localhost */
    assert_int_equal(fakejim_start(&srv, port, args), 0);
    for (int i = 0; i < 150; i++) /* 1.5 s: several attempts */
        jim_client_run(alice, 10);
    assert_int_equal(count(a, &a->errors), 1); /* told once, not at every attempt */
    assert_int_equal(jim_client_get_state(alice), JIM_CLIENT_CONNECTING);
    assert_non_null(strstr(jim_client_last_error(alice), "name mismatch"));
    assert_int_equal(count(a, &a->online), 1);
    server_stop(&srv);
    start_tls_fakejim(&srv, port); /* the right certificate again */
    run_until(alice, a, &a->online, 2);
    assert_non_null(jim_client_tls_version(alice));
    jim_client_free(alice);
    server_stop(&srv);
    free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(handshake__good_certificate__by_name_and_by_address),
        cmocka_unit_test(handshake__unknown_ca__etls_says_unknown_ca),
        cmocka_unit_test(handshake__name_mismatch__etls_says_name_mismatch),
        cmocka_unit_test(handshake__expired__etls_says_expired),
        cmocka_unit_test(insecure__any_certificate__connects_and_warns_every_time),
        cmocka_unit_test(set_tls__bad_arguments__refused_with_reason),
        cmocka_unit_test(handshake__plain_server__etls_says_so),
        cmocka_unit_test(session__blocking__send_and_receive),
        cmocka_unit_test(session__own_loop_and_thread__many_messages_in_flight),
        cmocka_unit_test(session__reconnect__tls_again),
        cmocka_unit_test(session__reconnect_to_a_refused_certificate__told_once_and_retried),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

/*
 * test_jimd_tls.c — libjim over TLS against the real jimd (doc/protocol.md §1): a whole
 * session checked against a private CA from contrib/jim-certs.sh, plain JIM on the same
 * port beside it, a refused certificate (unknown CA, name mismatch, expired), and a
 * reconnect across a jimd restart that is TLS again; with `tls required` a plain client gets
 * one 403 and is closed; SIGHUP serves a new certificate to new connections while the
 * sessions already open go on, and a bad new one keeps the old.
 *
 * Against a jimd without the tls_cert setting this program prints a TAP plan that skips it
 * all, with the reason.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE
#include <setjmp.h>
#include <signal.h>
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
#include "tls_harness.h"

static char certs[64], other_ca[64];
static char ca_file[128];
static jimd_proc server;

/* jimd's TLS lines for certificate base (server, other, old) in certs. */
static void tls_config(char *buf, size_t size, const char *base)
{
    snprintf(buf, size, "tls_cert %s/%s.pem\ntls_key %s/%s.key\ntls optional\n", certs, base, certs,
             base);
}

static int group_setup(void **state)
{
    (void)state;
    char args[256], conf[512];
    if (temp_dir(certs, sizeof certs) != 0 || temp_dir(other_ca, sizeof other_ca) != 0)
        return -1;
    snprintf(ca_file, sizeof ca_file, "%s/ca.pem", certs);
    snprintf(args, sizeof args, "'%s'", certs);
    if (make_certs(args) != 0)
        return -1;
    snprintf(args, sizeof args, "--out other '%s' other.example", certs);
    if (make_certs(args) != 0)
        return -1;
    snprintf(args, sizeof args, "--expired --out old '%s'", certs);
    if (make_certs(args) != 0)
        return -1;
    snprintf(args, sizeof args, "'%s'", other_ca);
    if (make_certs(args) != 0)
        return -1;
    tls_config(conf, sizeof conf, "server");
    return jimd_start(&server, 1, conf);
}

static int group_teardown(void **state)
{
    (void)state;
    jimd_stop(&server);
    jimd_cleanup(&server);
    remove_dir(certs);
    remove_dir(other_ca);
    return 0;
}

static int messages;

static void on_message(void *ud, const jim_msg *m, int outgoing)
{
    (void)ud;
    (void)m;
    (void)outgoing;
    messages++;
}

static const jim_client_callbacks callbacks = {on_message, NULL, NULL, NULL};

/* A client of jimd (TLS when mode is not JIM_TLS_OFF), connected to host. */
static jim_client *client_for(jim_tls_mode mode, const char *ca, const char *host, int port,
                              int *rc)
{
    jim_client *c = NULL;
    assert_int_equal(jim_client_new(&c, &callbacks, NULL), JIM_OK);
    jim_client_set_timeout(c, 5000);
    assert_int_equal(jim_client_set_tls(c, mode, ca), JIM_OK);
    *rc = jim_client_connect(c, host, port);
    return c;
}

static void login(jim_client *c, const char *name)
{
    int rc = jim_client_register(c, name, "password1", NULL);
    assert_true(rc == JIM_OK || jim_client_last_code(c) == 409);
    assert_int_equal(jim_client_login(c, name, "password1"), JIM_OK);
}

static void session__libjim_over_tls__send_and_receive(void **state)
{
    (void)state;
    int rc;
    jim_client *alice = client_for(JIM_TLS_VERIFY, ca_file, "localhost", server.port, &rc);
    assert_int_equal(rc, JIM_OK);
    assert_non_null(jim_client_tls_version(alice));
    jim_client *bob = client_for(JIM_TLS_VERIFY, ca_file, "127.0.0.1", server.port, &rc);
    assert_int_equal(rc, JIM_OK);
    login(alice, "t_alice");
    login(bob, "t_bob");
    messages = 0;
    int64_t seq = 0;
    assert_int_equal(jim_client_send(alice, &seq, NULL, "t_bob", "hello over TLS"), JIM_OK);
    assert_true(seq > 0);
    for (int i = 0; i < 500 && messages < 1; i++)
        jim_client_run(bob, 10);
    assert_int_equal(messages, 1);
    assert_int_equal(jim_client_quit(alice), JIM_OK);
    jim_client_free(alice);
    jim_client_free(bob);
}

static void same_port__plain_client__served_beside_tls(void **state)
{
    (void)state;
    int rc;
    jim_client *c = client_for(JIM_TLS_OFF, NULL, "127.0.0.1", server.port, &rc);
    assert_int_equal(rc, JIM_OK);
    login(c, "t_plain");
    assert_null(jim_client_tls_version(c));
    jim_client_free(c);
}

static void refused__unknown_ca__etls(void **state)
{
    (void)state;
    char other[160];
    int rc;
    snprintf(other, sizeof other, "%s/ca.pem", other_ca);
    jim_client *c = client_for(JIM_TLS_VERIFY, other, "localhost", server.port, &rc);
    assert_int_equal(rc, JIM_ETLS);
    assert_non_null(strstr(jim_client_last_error(c), "unknown CA"));
    jim_client_free(c);
}

/* Starts a second jimd with certificate base; 0 when jimd refused to start with it. */
static int other_jimd(jimd_proc *p, const char *base)
{
    char conf[512];
    tls_config(conf, sizeof conf, base);
    if (jimd_start(p, 1, conf) != 0) {
        jimd_cleanup(p);
        return 0;
    }
    return 1;
}

static void refused__name_mismatch_and_expired__etls(void **state)
{
    (void)state;
    jimd_proc p;
    int rc;
    assert_true(other_jimd(&p, "other"));
    jim_client *c = client_for(JIM_TLS_VERIFY, ca_file, "localhost", p.port, &rc);
    assert_int_equal(rc, JIM_ETLS);
    assert_non_null(strstr(jim_client_last_error(c), "name mismatch"));
    jim_client_free(c);
    jimd_cleanup(&p);
    if (!other_jimd(&p, "old")) {
        printf("# jimd refuses to start with an expired certificate itself\n");
        return;
    }
    c = client_for(JIM_TLS_VERIFY, ca_file, "localhost", p.port, &rc);
    assert_int_equal(rc, JIM_ETLS);
    assert_non_null(strstr(jim_client_last_error(c), "expired"));
    jim_client_free(c);
    jimd_cleanup(&p);
}

static int online_count;

static void on_state(void *ud, jim_client_state st)
{
    (void)ud;
    online_count += st == JIM_CLIENT_ONLINE;
}

static void reconnect__jimd_restart__tls_again(void **state)
{
    (void)state;
    jim_client_callbacks cb = {NULL, NULL, NULL, on_state};
    jim_client *c = NULL;
    assert_int_equal(jim_client_new(&c, &cb, NULL), JIM_OK);
    jim_client_set_timeout(c, 5000);
    jim_client_set_reconnect(c, 1, 500);
    assert_int_equal(jim_client_set_tls(c, JIM_TLS_VERIFY, ca_file), JIM_OK);
    assert_int_equal(jim_client_connect(c, "localhost", server.port), JIM_OK);
    online_count = 0;
    login(c, "t_again");
    assert_int_equal(jimd_stop(&server), 0);
    assert_int_equal(jimd_restart(&server), 0);
    for (int i = 0; i < 1000 && online_count < 2; i++)
        jim_client_run(c, 10);
    assert_int_equal(online_count, 2);
    assert_non_null(jim_client_tls_version(c));
    assert_int_equal(jim_client_send(c, NULL, NULL, "t_again", "still TLS"), JIM_OK);
    jim_client_free(c);
}

static void required__plain_client__one_403_then_closed(void **state)
{
    (void)state;
    jimd_proc p;
    char conf[512];
    int rc;
    snprintf(conf, sizeof conf, "tls_cert %s/server.pem\ntls_key %s/server.key\ntls required\n",
             certs, certs);
    assert_int_equal(jimd_start(&p, 1, conf), 0);
    tclient *plain = tc_connect(p.port);
    assert_non_null(plain);
    tc_send(plain, "{\"action\":\"presence\",\"time\":1}");
    assert_int_equal(tc_response(plain, 5000), 403);
    assert_non_null(strstr(jim_msg_get_str(plain->msg, JIM_FIELD_ERROR), "TLS required"));
    assert_true(tc_eof(plain, 5000));
    tc_close(plain);
    jim_client *c = client_for(JIM_TLS_VERIFY, ca_file, "localhost", p.port, &rc);
    assert_int_equal(rc, JIM_OK);
    login(c, "t_required");
    jim_client_free(c);
    jimd_cleanup(&p);
}

/* Points p's config at certificate cert and key (full paths), sends SIGHUP and waits until
 * the log has `want` lines containing needle. */
static void reload_with(jimd_proc *p, const char *cert, const char *key, const char *needle,
                        int want)
{
    FILE *f = fopen(p->conf, "w");
    assert_non_null(f);
    fprintf(f,
            "log_file %s\nlog_level debug\nscrypt_n 1024\nregister_max_ip 100000\n"
            "tls_cert %s\ntls_key %s\n",
            p->log, cert, key);
    fclose(f);
    assert_int_equal(kill(p->pid, SIGHUP), 0);
    struct timespec nap = {0, 20 * 1000 * 1000};
    for (int i = 0; i < 500 * jimd_slowdown() && jimd_log_count(p, needle) < want; i++)
        nanosleep(&nap, NULL);
    assert_true(jimd_log_count(p, needle) >= want);
}

static void reload__sighup__new_certificate_for_new_connections_old_sessions_go_on(void **state)
{
    (void)state;
    jimd_proc p;
    char conf[512], cert[160], key[160], other_file[160];
    int rc;
    tls_config(conf, sizeof conf, "server");
    assert_int_equal(jimd_start(&p, 2, conf), 0);
    jim_client *alice = client_for(JIM_TLS_VERIFY, ca_file, "localhost", p.port, &rc);
    assert_int_equal(rc, JIM_OK);
    jim_client *bob = client_for(JIM_TLS_VERIFY, ca_file, "localhost", p.port, &rc);
    assert_int_equal(rc, JIM_OK);
    login(alice, "r_alice");
    login(bob, "r_bob");

    /* A certificate from another CA, for the same names: a new connection that trusts
     * only the first CA is refused, one that trusts the other is served. */
    snprintf(cert, sizeof cert, "%s/server.pem", other_ca);
    snprintf(key, sizeof key, "%s/server.key", other_ca);
    snprintf(other_file, sizeof other_file, "%s/ca.pem", other_ca);
    reload_with(&p, cert, key, "TLS certificate loaded", 2);
    jim_client *late = client_for(JIM_TLS_VERIFY, ca_file, "localhost", p.port, &rc);
    assert_int_equal(rc, JIM_ETLS);
    assert_non_null(strstr(jim_client_last_error(late), "unknown CA"));
    jim_client_free(late);
    late = client_for(JIM_TLS_VERIFY, other_file, "localhost", p.port, &rc);
    assert_int_equal(rc, JIM_OK);
    login(late, "r_carol");
    jim_client_free(late);

    /* The sessions from before talk on, over the old certificate's connections. */
    messages = 0;
    assert_int_equal(jim_client_send(alice, NULL, NULL, "r_bob", "after the reload"), JIM_OK);
    for (int i = 0; i < 500 && messages < 1; i++)
        jim_client_run(bob, 10);
    assert_int_equal(messages, 1);

    /* A key that does not match: the certificate before stays, and the log says why. */
    snprintf(key, sizeof key, "%s/server.key", certs);
    reload_with(&p, cert, key, "TLS not reloaded", 1);
    assert_true(jimd_log_count(&p, "does not match the certificate") >= 1);
    late = client_for(JIM_TLS_VERIFY, other_file, "localhost", p.port, &rc);
    assert_int_equal(rc, JIM_OK);
    jim_client_free(late);
    jim_client_free(alice);
    jim_client_free(bob);
    jimd_cleanup(&p);
}

int main(void)
{
    if (!jimd_has_setting("tls_cert")) {
        printf("1..0 # SKIP jimd has no tls_cert setting yet: these TLS sessions with jimd run "
               "once it serves TLS (doc/protocol.md section 1)\n");
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(session__libjim_over_tls__send_and_receive),
        cmocka_unit_test(same_port__plain_client__served_beside_tls),
        cmocka_unit_test(refused__unknown_ca__etls),
        cmocka_unit_test(refused__name_mismatch_and_expired__etls),
        cmocka_unit_test(reconnect__jimd_restart__tls_again),
        cmocka_unit_test(required__plain_client__one_403_then_closed),
        cmocka_unit_test(reload__sighup__new_certificate_for_new_connections_old_sessions_go_on),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

/*
 * test_outbox.c — libjim's outgoing queue against a real jimd that stops and comes back:
 * a message sent while the server is down is kept as pending (in the store too) and sent
 * once when it is back — by the same client after a reconnect, or by the next client with
 * the same store — and only a refusal marks it failed. Also what a client tells after
 * the server refused it: the login refused when reconnecting, a 429's retry_after, and a
 * store attached only once the login succeeded.
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
#include <unistd.h>

#include <cmocka.h>

#include "jimd_harness.h"

/* What the callbacks saw. */
typedef struct seen {
    int messages;                           /* on_message */
    int pending, stored, delivered, failed; /* outgoing states reported */
    int last_code;                          /* of the last answer to an outgoing message */
    int64_t last_seq;                       /* its seq */
    char last_id[JIM_OUTGOING_ID_SIZE];     /* its id */
    char last_text[128];                    /* its text */
} seen;

static void on_message(void *ud, const jim_msg *m, int outgoing)
{
    (void)m;
    (void)outgoing;
    ((seen *)ud)->messages++;
}

static void on_outgoing(void *ud, const jim_msg *m, jim_outgoing_state st, const jim_msg *resp)
{
    seen *s = ud;
    s->pending += st == JIM_OUTGOING_PENDING;
    s->stored += st == JIM_OUTGOING_STORED;
    s->delivered += st == JIM_OUTGOING_DELIVERED;
    s->failed += st == JIM_OUTGOING_FAILED;
    s->last_code = resp ? jim_msg_response(resp) : 0;
    s->last_seq = 0;
    jim_msg_get_int(m, JIM_FIELD_SEQ, &s->last_seq);
    const char *id = jim_msg_get_str(m, JIM_FIELD_ID), *t = jim_msg_get_str(m, JIM_FIELD_MESSAGE);
    snprintf(s->last_id, sizeof s->last_id, "%s", id ? id : "");
    snprintf(s->last_text, sizeof s->last_text, "%s", t ? t : "");
}

static const jim_client_callbacks callbacks = {on_message, NULL, NULL, NULL};

/* A client of jimd p with store st (may be NULL), logged in as name (registered first). */
static jim_client *online(jimd_proc *p, const char *name, jim_store *st, seen *s)
{
    jim_client *c = NULL;
    assert_int_equal(jim_client_new(&c, &callbacks, s), JIM_OK);
    jim_client_set_outgoing_callback(c, on_outgoing, s);
    jim_client_set_timeout(c, 5000 * jimd_slowdown());
    jim_client_set_reconnect(c, 1, 500);
    /* Sent in the clear: these tests find the texts in jimd's database (on_server). */
    assert_int_equal(jim_client_set_e2e(c, NULL, 0), JIM_OK);
    if (st)
        assert_int_equal(jim_client_set_store(c, st), JIM_OK);
    assert_int_equal(jim_client_connect(c, "127.0.0.1", p->port), JIM_OK);
    int rc = jim_client_register(c, name, "password1", NULL);
    assert_true(rc == JIM_OK || (rc == JIM_ESERVER && jim_client_last_code(c) == 409));
    assert_int_equal(jim_client_login(c, name, "password1"), JIM_OK);
    return c;
}

/* Runs c's loop until *flag reaches want or ms pass. */
static void run_until(jim_client *c, const int *flag, int want, int ms)
{
    for (int i = 0; i < ms / 20 && *flag < want; i++)
        jim_client_run(c, 20);
}

/* Runs c's loop until it notices the server is gone. */
static void until_offline(jim_client *c)
{
    for (int i = 0; i < 250 && jim_client_get_state(c) == JIM_CLIENT_ONLINE; i++)
        jim_client_run(c, 20);
    assert_int_not_equal(jim_client_get_state(c), JIM_CLIENT_ONLINE);
}

/* How many of `with`'s conversation with `name` (from the server) carry text. */
static int on_server(jimd_proc *p, const char *name, const char *with, const char *text)
{
    seen s = {0};
    jim_client *c = online(p, name, NULL, &s);
    jim_list *h = NULL;
    assert_int_equal(jim_client_history(c, &h, with, 0, 100), JIM_OK);
    int n = 0;
    for (size_t i = 0; i < jim_list_count(h); i++)
        n += strcmp(jim_msg_get_str(jim_list_get(h, i), JIM_FIELD_MESSAGE), text) == 0;
    jim_list_free(h);
    jim_client_quit(c);
    jim_client_free(c);
    return n;
}

typedef struct reply {
    int done, status, code;
} reply;

static void on_reply(void *ud, int status, const jim_msg *resp, const jim_list *entries)
{
    (void)entries;
    reply *r = ud;
    r->done++;
    r->status = status;
    r->code = resp ? jim_msg_response(resp) : 0;
}

static char tmpdir[64];

static int make_tmpdir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/jim-outbox-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/*
 * The server stops; a message sent meanwhile (async and blocking) waits as pending, past
 * the client's timeout, and goes out when the server is back: stored once, answered once.
 */
static void send__server_down__pending_until_it_is_back_then_sent_once(void **state)
{
    (void)state;
    jimd_proc p;
    assert_int_equal(jimd_start(&p, 1, "max_sessions 8"), 0);
    seen b = {0}, a = {0};
    jim_client *bob = online(&p, "o_bob", NULL, &b);
    jim_client_quit(bob);
    jim_client_free(bob);
    jim_client *c = online(&p, "o_alice", NULL, &a);
    jim_client_set_timeout(c, 1000);
    assert_int_equal(jimd_stop(&p), 0);
    until_offline(c);

    reply r = {0, 0, 0};
    assert_int_equal(jim_client_send_async(c, "o_bob", "typed while down", on_reply, &r), JIM_OK);
    assert_int_equal(a.pending, 1);
    char id[JIM_OUTGOING_ID_SIZE];
    snprintf(id, sizeof id, "%s", a.last_id);
    jim_outgoing_state st = JIM_OUTGOING_FAILED;
    assert_int_equal(jim_client_outgoing_state(c, &st, id), JIM_OK);
    assert_int_equal(st, JIM_OUTGOING_PENDING);
    /* A blocking send gives up waiting after the timeout; its message stays pending. */
    assert_int_equal(jim_client_send(c, NULL, NULL, "o_bob", "also while down"), JIM_ETIMEDOUT);
    assert_int_equal(jim_client_last_code(c), 0);
    jim_list *l = NULL;
    assert_int_equal(jim_client_outgoing(c, &l), JIM_OK);
    assert_int_equal(jim_list_count(l), 2);
    assert_string_equal(jim_msg_get_str(jim_list_get(l, 0), JIM_FIELD_ID), id);
    jim_list_free(l);
    for (int i = 0; i < 150; i++) /* 3 s: three times the client's timeout */
        jim_client_run(c, 20);
    assert_int_equal(r.done, 0);
    assert_int_equal(a.failed, 0);

    assert_int_equal(jimd_restart(&p), 0);
    run_until(c, &a.stored, 2, 20000);
    assert_int_equal(r.done, 1);
    assert_int_equal(r.status, JIM_OK);
    assert_int_equal(r.code, 202);
    assert_int_equal(a.stored, 2);
    assert_int_equal(jim_client_outgoing_state(c, &st, id), JIM_OK);
    assert_int_equal(st, JIM_OUTGOING_STORED);
    assert_int_equal(jim_client_outgoing(c, &l), JIM_OK);
    assert_int_equal(jim_list_count(l), 0);
    jim_list_free(l);
    assert_int_equal(on_server(&p, "o_bob", "o_alice", "typed while down"), 1);
    assert_int_equal(on_server(&p, "o_bob", "o_alice", "also while down"), 1);
    jim_client_free(c);
    jimd_cleanup(&p);
}

/*
 * A message still pending when its client ends is kept in the store and sent at the next
 * login of a client with that store. Sent again with its id (its answer lost, as in a
 * crash), the server stores it once and answers with the first seq.
 */
static void kept_in_store__sent_at_the_next_login__stored_once(jim_store_kind kind,
                                                               const char *name)
{
    jimd_proc p;
    assert_int_equal(jimd_start(&p, 1, "max_sessions 8"), 0);
    char dir[128], snap[140], cmd[600];
    snprintf(dir, sizeof dir, "%s/%s", tmpdir, name);
    snprintf(snap, sizeof snap, "%s.snap", dir);
    seen s = {0};
    jim_client *bob = online(&p, "o_bob", NULL, &s);
    jim_client_quit(bob);
    jim_client_free(bob);

    jim_store *st = NULL;
    assert_int_equal(jim_store_open(&st, NULL, 0, kind, dir), JIM_OK);
    jim_client *c = online(&p, name, st, &s);
    assert_int_equal(jimd_stop(&p), 0);
    until_offline(c);
    char id[JIM_OUTGOING_ID_SIZE];
    assert_int_equal(jim_client_post(c, id, sizeof id, "o_bob", "from the last run"), JIM_OK);
    assert_true(strlen(id) > 0);
    jim_client_free(c); /* the program ends with the message unsent */
    jim_store_close(st);
    snprintf(cmd, sizeof cmd, "cp -a '%s' '%s'", dir, snap);
    assert_int_equal(system(cmd), 0);

    assert_int_equal(jim_store_open(&st, NULL, 0, kind, dir), JIM_OK);
    jim_list *l = NULL;
    assert_int_equal(jim_store_outgoing(st, &l), JIM_OK);
    assert_int_equal(jim_list_count(l), 1);
    assert_string_equal(jim_msg_get_str(jim_list_get(l, 0), JIM_FIELD_ID), id);
    jim_list_free(l);
    assert_int_equal(jimd_restart(&p), 0);
    memset(&s, 0, sizeof s);
    c = online(&p, name, st, &s);
    assert_int_equal(s.pending, 1); /* told at login: queued from the store */
    run_until(c, &s.stored, 1, 10000);
    assert_int_equal(s.stored, 1);
    assert_string_equal(s.last_id, id);
    int64_t seq = s.last_seq;
    assert_true(seq > 0);
    jim_outgoing_state os = JIM_OUTGOING_PENDING;
    assert_int_equal(jim_client_outgoing_state(c, &os, id), JIM_OK);
    assert_int_equal(os, JIM_OUTGOING_STORED);
    assert_int_equal(jim_store_outgoing(st, &l), JIM_OK);
    assert_int_equal(jim_list_count(l), 0);
    jim_list_free(l);
    assert_int_equal(jim_store_history(st, &l, "o_bob", 0, 10), JIM_OK);
    assert_int_equal(jim_list_count(l), 1);
    int64_t saved = 0;
    jim_msg_get_int(jim_list_get(l, 0), JIM_FIELD_SEQ, &saved);
    assert_int_equal(saved, seq);
    jim_list_free(l);
    jim_client_quit(c);
    jim_client_free(c);
    jim_store_close(st);

    /* The store as it was before the answer: the message goes again, with its id. */
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mv '%s' '%s'", dir, snap, dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(jim_store_open(&st, NULL, 0, kind, dir), JIM_OK);
    memset(&s, 0, sizeof s);
    c = online(&p, name, st, &s);
    run_until(c, &s.stored, 1, 10000);
    assert_int_equal(s.stored + s.delivered, 1);
    assert_int_equal(s.last_seq, seq);
    jim_client_quit(c);
    jim_client_free(c);
    jim_store_close(st);
    assert_int_equal(on_server(&p, "o_bob", name, "from the last run"), 1);
    jimd_cleanup(&p);
}

static void store_sqlite__pending_kept__sent_at_the_next_login_once(void **state)
{
    (void)state;
    kept_in_store__sent_at_the_next_login__stored_once(JIM_STORE_SQLITE, "o_sq");
}

static void store_files__pending_kept__sent_at_the_next_login_once(void **state)
{
    (void)state;
    kept_in_store__sent_at_the_next_login__stored_once(JIM_STORE_FILES, "o_fl");
}

/* A refusal (4xx) fails the message, visibly, and the store forgets it. A message that is
 * not valid is refused before it is queued, with the reason and no stale code. */
static void refused__failed_with_the_reason__not_sent_again(void **state)
{
    (void)state;
    jimd_proc p;
    assert_int_equal(jimd_start(&p, 1, NULL), 0);
    char dir[128];
    snprintf(dir, sizeof dir, "%s/o_refused", tmpdir);
    jim_store *st = NULL;
    assert_int_equal(jim_store_open(&st, NULL, 0, JIM_STORE_SQLITE, dir), JIM_OK);
    seen s = {0};
    jim_client *c = online(&p, "o_refused", st, &s);
    char id[JIM_OUTGOING_ID_SIZE];
    assert_int_equal(jim_client_post(c, id, sizeof id, "o_nobody", "to nobody"), JIM_OK);
    run_until(c, &s.failed, 1, 5000);
    assert_int_equal(s.failed, 1);
    assert_int_equal(s.last_code, 404);
    assert_string_equal(s.last_text, "to nobody");
    jim_outgoing_state os = JIM_OUTGOING_PENDING;
    assert_int_equal(jim_client_outgoing_state(c, &os, id), JIM_OK);
    assert_int_equal(os, JIM_OUTGOING_FAILED);
    jim_list *l = NULL;
    assert_int_equal(jim_store_outgoing(st, &l), JIM_OK);
    assert_int_equal(jim_list_count(l), 0);
    jim_list_free(l);
    assert_int_equal(jim_client_outgoing_state(c, &os, "no-such-id"), JIM_ENOTFOUND);

    jim_list *rooms = NULL;
    assert_int_equal(jim_client_get_rooms(c, &rooms), JIM_OK); /* a 202 answer */
    jim_list_free(rooms);
    assert_int_not_equal(jim_client_post(c, id, sizeof id, "bad name", "x"), JIM_OK);
    assert_string_equal(id, "");
    assert_int_equal(jim_client_last_code(c), 0);
    assert_non_null(strstr(jim_client_last_error(c), "'to'"));
    assert_int_not_equal(jim_client_join(c, "ops"), JIM_OK);
    assert_int_equal(jim_client_last_code(c), 0);
    assert_null(jim_client_last_response(c));
    assert_non_null(strstr(jim_client_last_error(c), "'room'"));
    jim_client_free(c);
    jim_store_close(st);
    jimd_cleanup(&p);
}

/* A store attached once the login succeeded catches up (sync from its last seq) and
 * queues its pending messages; what was shown already is saved but not shown again. */
static void store_attached_after_login__catches_up_shows_nothing_twice(void **state)
{
    (void)state;
    jimd_proc p;
    assert_int_equal(jimd_start(&p, 1, NULL), 0);
    seen a = {0}, b = {0};
    jim_client *alice = online(&p, "o_ann", NULL, &a);
    jim_client *bob = online(&p, "o_ben", NULL, &b);
    int64_t seq = 0;
    assert_int_equal(jim_client_send(alice, &seq, NULL, "o_ben", "before the store"), JIM_OK);
    run_until(bob, &b.messages, 1, 5000);
    assert_int_equal(b.messages, 1);

    char dir[128];
    snprintf(dir, sizeof dir, "%s/o_ben", tmpdir);
    jim_store *st = NULL;
    assert_int_equal(jim_store_open(&st, NULL, 0, JIM_STORE_SQLITE, dir), JIM_OK);
    assert_int_equal(jim_client_set_store(bob, st), JIM_OK);
    for (int i = 0; i < 50 && jim_store_last_seq(st) < seq; i++)
        jim_client_run(bob, 20);
    assert_int_equal(jim_store_last_seq(st), seq);
    jim_client_run(bob, 100);
    assert_int_equal(b.messages, 1);
    jim_list *h = NULL;
    assert_int_equal(jim_store_history(st, &h, "o_ann", 0, 10), JIM_OK);
    assert_int_equal(jim_list_count(h), 1);
    jim_list_free(h);
    jim_client_free(bob);
    jim_client_free(alice);
    jim_store_close(st);
    jimd_cleanup(&p);
}

/* A login refused when reconnecting (the server came back without the account) ends the
 * client, and jim_client_last_code() says why. */
static void relogin_refused__client_ends_with_the_code(void **state)
{
    (void)state;
    jimd_proc p;
    assert_int_equal(jimd_start(&p, 1, NULL), 0);
    seen s = {0};
    jim_client *c = online(&p, "o_gone", NULL, &s);
    assert_int_equal(jimd_stop(&p), 0);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -f '%s' '%s-wal' '%s-shm'", p.db, p.db, p.db);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(jimd_restart(&p), 0);
    int rc = JIM_OK;
    for (int i = 0; i < 500 && rc == JIM_OK; i++)
        rc = jim_client_run(c, 20);
    assert_int_equal(rc, JIM_ECLOSED);
    assert_int_equal(jim_client_last_code(c), 402);
    jim_client_free(c);
    jimd_cleanup(&p);
}

/* Logins refused too often: 429, and the answer says how long to wait. */
static void login__too_many_failures__429_with_retry_after(void **state)
{
    (void)state;
    jimd_proc p;
    assert_int_equal(jimd_start(&p, 1, "login_failures_max 2"), 0);
    jim_client *c = NULL;
    assert_int_equal(jim_client_new(&c, NULL, NULL), JIM_OK);
    assert_int_equal(jim_client_connect(c, "127.0.0.1", p.port), JIM_OK);
    assert_int_equal(jim_client_register(c, "o_locked", "password1", NULL), JIM_OK);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(jim_client_login(c, "o_locked", "wrong-one"), JIM_ESERVER);
        assert_int_equal(jim_client_last_code(c), 402);
    }
    assert_int_equal(jim_client_login(c, "o_locked", "password1"), JIM_ESERVER);
    assert_int_equal(jim_client_last_code(c), 429);
    const jim_msg *r = jim_client_last_response(c);
    assert_non_null(r);
    int64_t after = 0;
    assert_int_equal(jim_msg_get_int(r, JIM_FIELD_RETRY_AFTER, &after), JIM_OK);
    assert_true(after > 0 && after <= 60);
    jim_client_free(c);
    jimd_cleanup(&p);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(send__server_down__pending_until_it_is_back_then_sent_once),
        cmocka_unit_test(store_sqlite__pending_kept__sent_at_the_next_login_once),
        cmocka_unit_test(store_files__pending_kept__sent_at_the_next_login_once),
        cmocka_unit_test(refused__failed_with_the_reason__not_sent_again),
        cmocka_unit_test(store_attached_after_login__catches_up_shows_nothing_twice),
        cmocka_unit_test(relogin_refused__client_ends_with_the_code),
        cmocka_unit_test(login__too_many_failures__429_with_retry_after),
    };
    return cmocka_run_group_tests_name("outbox", tests, make_tmpdir, remove_tmpdir);
}

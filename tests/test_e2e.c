/*
 * test_e2e.c — libjim's end-to-end encryption of direct messages (doc/protocol.md §7)
 * between real clients through tests/fakejim, which serves put_key and get_key as §7 says
 * (or, with --no-keys, answers them 400 as today's jimd does): keys published and pinned on
 * first use, messages encrypted on the wire and decrypted on arrival, a changed key refused
 * until trusted, a damaged envelope delivered marked as such, a server without keys.
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
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <jim/jim.h>

#include "tls_harness.h"

/* What a client saw. */
typedef struct seen {
    pthread_mutex_t mu;
    int messages, decrypted, failed, plain, errors, outgoing_e2e, outgoing_failed;
    int events[8];
    char last_text[600], last_error[300], last_event[400];
    pthread_t event_thread; /* where the last event was told */
} seen;

static void on_message(void *ud, const jim_msg *m, int outgoing)
{
    (void)outgoing;
    seen *s = ud;
    pthread_mutex_lock(&s->mu);
    s->messages++;
    jim_e2e_state st = jim_msg_e2e_state(m);
    s->decrypted += st == JIM_E2E_DECRYPTED;
    s->failed += st == JIM_E2E_FAILED;
    s->plain += st == JIM_E2E_PLAIN;
    const char *t = jim_msg_get_str(m, JIM_FIELD_MESSAGE);
    const char *e = jim_msg_get_str(m, JIM_FIELD_E2E_ERROR);
    snprintf(s->last_text, sizeof s->last_text, "%s", t ? t : "");
    snprintf(s->last_error, sizeof s->last_error, "%s", e ? e : "");
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

static void on_e2e(void *ud, jim_e2e_event ev, const char *peer, const char *text)
{
    (void)peer;
    seen *s = ud;
    pthread_mutex_lock(&s->mu);
    if ((int)ev >= 0 && (int)ev < 8)
        s->events[ev]++;
    s->event_thread = pthread_self();
    snprintf(s->last_event, sizeof s->last_event, "%s", text);
    pthread_mutex_unlock(&s->mu);
}

static void on_outgoing(void *ud, const jim_msg *m, jim_outgoing_state st, const jim_msg *resp)
{
    seen *s = ud;
    pthread_mutex_lock(&s->mu);
    if (st != JIM_OUTGOING_PENDING && jim_msg_e2e_state(m) == JIM_E2E_DECRYPTED)
        s->outgoing_e2e++;
    if (st == JIM_OUTGOING_FAILED) {
        s->outgoing_failed++;
        const char *e = resp ? jim_msg_get_str(resp, JIM_FIELD_ERROR) : NULL;
        snprintf(s->last_error, sizeof s->last_error, "%d %s", resp ? jim_msg_response(resp) : 0,
                 e ? e : "");
    }
    pthread_mutex_unlock(&s->mu);
}

static const jim_client_callbacks callbacks = {on_message, NULL, on_error, NULL};

static int count(seen *s, int *field)
{
    pthread_mutex_lock(&s->mu);
    int v = *field;
    pthread_mutex_unlock(&s->mu);
    return v;
}

static char base[64]; /* key directories live under it */

static int group_setup(void **state)
{
    (void)state;
    return temp_dir(base, sizeof base);
}

static int group_teardown(void **state)
{
    (void)state;
    remove_dir(base);
    return 0;
}

/* A client logged in as name on port, its keys in base/keydir (NULL: memory only). */
static jim_client *online(int port, const char *name, const char *keydir, seen *s)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    jim_client *c = NULL;
    assert_int_equal(jim_client_new(&c, &callbacks, s), JIM_OK);
    jim_client_set_timeout(c, 5000);
    jim_client_set_e2e_callback(c, on_e2e, s);
    jim_client_set_outgoing_callback(c, on_outgoing, s);
    if (keydir) {
        char dir[160];
        snprintf(dir, sizeof dir, "%s/%s", base, keydir);
        assert_int_equal(jim_client_set_key_dir(c, dir), JIM_OK);
    }
    assert_int_equal(jim_client_connect(c, "127.0.0.1", port), JIM_OK);
    assert_int_equal(jim_client_login(c, name, "password1"), JIM_OK);
    return c;
}

static void run_until(jim_client *c, seen *s, int *field, int want)
{
    for (int i = 0; i < 500 && count(s, field) < want; i++)
        jim_client_run(c, 10);
    assert_int_equal(count(s, field), want);
}

/* Lets a client handle what is in flight (its put_key answer, ...). */
static void settle(jim_client *c)
{
    jim_client_run(c, 100);
}

static void encrypted__both_published__unreadable_on_the_wire_read_on_arrival(void **state)
{
    (void)state;
    char wire[160];
    snprintf(wire, sizeof wire, "%s/wire1", base);
    const char *args[] = {"--capture", wire, NULL};
    test_server srv;
    assert_int_equal(fakejim_start(&srv, 0, args), 0);
    seen a, b;
    jim_client *bob = online(srv.port, "bob", "bob1", &b);
    settle(bob);
    jim_client *alice = online(srv.port, "alice", "alice1", &a);
    assert_int_equal(count(&a, &a.events[JIM_E2E_NEW_KEY]), 1);
    int64_t seq = 0;
    assert_int_equal(jim_client_send(alice, &seq, NULL, "bob", "the secret plan, take 1"), JIM_OK);
    assert_true(seq > 0);
    /* bob did not know alice's key: the message waits for it, then is shown decrypted. */
    run_until(bob, &b, &b.messages, 1);
    assert_int_equal(count(&b, &b.decrypted), 1);
    assert_string_equal(b.last_text, "the secret plan, take 1");
    assert_int_equal(count(&a, &a.outgoing_e2e), 1);
    /* The server saw ciphertext only. */
    assert_int_equal(file_count(wire, "the secret plan"), 0);
    assert_true(file_count(wire, JIM_E2E_ENCODING) >= 2); /* in and out */
    assert_true(file_count(wire, "\"action\":\"put_key\"") >= 2);
    /* Both pinned each other on first use, and the fingerprints agree. */
    jim_peer_key pk;
    char fp_bob[JIM_FINGERPRINT_SIZE], fp_alice[JIM_FINGERPRINT_SIZE];
    assert_int_equal(jim_client_fingerprint(bob, fp_bob, sizeof fp_bob), JIM_OK);
    assert_int_equal(jim_client_fingerprint(alice, fp_alice, sizeof fp_alice), JIM_OK);
    assert_int_equal(strlen(fp_bob), 39);
    assert_int_equal(jim_client_peer_key(alice, &pk, "bob", 0), JIM_OK);
    assert_int_equal(pk.state, JIM_KEY_TRUSTED);
    assert_int_equal(pk.e2e_on, 1);
    assert_string_equal(pk.pinned, fp_bob);
    assert_string_equal(pk.published, fp_bob);
    assert_int_equal(jim_client_peer_key(bob, &pk, "alice", 0), JIM_OK);
    assert_string_equal(pk.pinned, fp_alice);
    assert_int_equal(count(&a, &a.events[JIM_E2E_PINNED]), 1);
    /* The private key is the owner's alone, and the pin is on disk. */
    char path[200];
    struct stat st;
    snprintf(path, sizeof path, "%s/alice1/e2e_key", base);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    snprintf(path, sizeof path, "%s/alice1/e2e_pins", base);
    assert_int_equal(file_count(path, "bob "), 1);
    /* And back, now that both keys are known. */
    assert_int_equal(jim_client_send(bob, NULL, NULL, "alice", "ack \xc3\xa9"), JIM_OK);
    run_until(alice, &a, &a.messages, 1);
    assert_int_equal(count(&a, &a.decrypted), 1);
    assert_string_equal(a.last_text, "ack \xc3\xa9");
    assert_int_equal(count(&a, &a.errors) + count(&b, &b.errors), 0);
    jim_client_free(alice);
    jim_client_free(bob);
    server_stop(&srv);
}

static void encrypted__own_loop_and_thread__decrypted_in_both(void **state)
{
    (void)state;
    test_server srv;
    assert_int_equal(fakejim_start(&srv, 0, NULL), 0);
    seen a, b;
    jim_client *bob = online(srv.port, "bob", "bob2", &b);
    settle(bob); /* its key published before alice asks for it */
    jim_client *alice = online(srv.port, "alice", "alice2", &a);
    settle(alice);
    assert_int_equal(jim_client_start_thread(bob), JIM_OK);
    /* A blocking send from this thread asks for alice's key: what that tells (pinned) is
     * told on bob's own thread, like every callback in thread mode. */
    assert_int_equal(jim_client_send(bob, NULL, NULL, "alice", "first, from the thread"), JIM_OK);
    assert_int_equal(count(&b, &b.events[JIM_E2E_PINNED]), 1);
    pthread_mutex_lock(&b.mu);
    assert_false(pthread_equal(b.event_thread, pthread_self()));
    pthread_mutex_unlock(&b.mu);
    run_until(alice, &a, &a.decrypted, 1);
    assert_int_equal(jim_client_send_async(alice, "bob", "to the thread", NULL, NULL), JIM_OK);
    for (int i = 0; i < 1000 && count(&b, &b.messages) < 1; i++) {
        struct pollfd p = {jim_client_fd(alice), POLLIN, 0};
        if (jim_client_wants_write(alice))
            p.events |= POLLOUT;
        if (poll(&p, 1, 5) > 0) {
            if (p.revents & POLLOUT)
                jim_client_on_writable(alice);
            if (p.revents & (POLLIN | POLLERR | POLLHUP))
                jim_client_on_readable(alice);
        }
        if (jim_client_next_timeout(alice) == 0)
            jim_client_on_timeout(alice);
    }
    if (count(&b, &b.decrypted) != 1)
        fail_msg("bob saw %d messages, %d decrypted; last error: %s", count(&b, &b.messages),
                 count(&b, &b.decrypted), b.last_error);
    assert_string_equal(b.last_text, "to the thread");
    assert_int_equal(jim_client_send(bob, NULL, NULL, "alice", "from the thread"), JIM_OK);
    run_until(alice, &a, &a.messages, 2);
    assert_int_equal(count(&a, &a.decrypted), 2);
    jim_client_stop_thread(bob);
    jim_client_free(alice);
    jim_client_free(bob);
    server_stop(&srv);
}

static void key_changed__refused_until_trusted(void **state)
{
    (void)state;
    test_server srv;
    assert_int_equal(fakejim_start(&srv, 0, NULL), 0);
    seen a, b, b2;
    jim_client *bob = online(srv.port, "bob", "bob3", &b);
    settle(bob);
    jim_client *alice = online(srv.port, "alice", "alice3", &a);
    assert_int_equal(jim_client_send(alice, NULL, NULL, "bob", "first"), JIM_OK);
    run_until(bob, &b, &b.decrypted, 1);
    jim_client_free(alice);
    jim_client_free(bob);
    /* bob comes back with another key (a new device, or a server that lies). */
    jim_client *bob2 = online(srv.port, "bob", "bob3-new", &b2);
    settle(bob2);
    alice = online(srv.port, "alice", "alice3", &a); /* the same pins on disk */
    int64_t seq = 0;
    assert_int_equal(jim_client_send(alice, &seq, NULL, "bob", "second"), JIM_EKEYCHANGED);
    assert_non_null(strstr(jim_client_last_error(alice), "changed"));
    assert_int_equal(count(&a, &a.events[JIM_E2E_KEY_CHANGED]), 1);
    char id[JIM_OUTGOING_ID_SIZE];
    assert_int_equal(jim_client_post(alice, id, sizeof id, "bob", "third"), JIM_EKEYCHANGED);
    jim_list *pending = NULL;
    assert_int_equal(jim_client_outgoing(alice, &pending), JIM_OK);
    assert_int_equal(jim_list_count(pending), 0); /* nothing queued, nothing sent */
    jim_list_free(pending);
    jim_peer_key pk;
    assert_int_equal(jim_client_peer_key(alice, &pk, "bob", 0), JIM_OK);
    assert_int_equal(pk.state, JIM_KEY_CHANGED);
    assert_string_not_equal(pk.pinned, pk.published);
    char fp_new[JIM_FINGERPRINT_SIZE];
    assert_int_equal(jim_client_fingerprint(bob2, fp_new, sizeof fp_new), JIM_OK);
    assert_string_equal(pk.published, fp_new);
    jim_client_run(bob2, 200);
    assert_int_equal(count(&b2, &b2.messages), 0);
    /* Trusted after checking the fingerprint: sent, and read. */
    assert_int_equal(jim_client_trust_key(alice, "bob"), JIM_OK);
    assert_int_equal(jim_client_peer_key(alice, &pk, "bob", 0), JIM_OK);
    assert_int_equal(pk.state, JIM_KEY_TRUSTED);
    assert_string_equal(pk.pinned, fp_new);
    assert_int_equal(jim_client_send(alice, NULL, NULL, "bob", "fourth"), JIM_OK);
    run_until(bob2, &b2, &b2.decrypted, 1);
    assert_string_equal(b2.last_text, "fourth");
    assert_int_equal(jim_client_trust_key(alice, "nobody"), JIM_ENOTFOUND);
    jim_client_free(alice);
    /* Queued before the key is known (the program's own loop): refused once it is. */
    jim_client *bob3 = online(srv.port, "bob", "bob3-newer", &b);
    settle(bob3);
    alice = online(srv.port, "alice", "alice3", &a);
    assert_int_equal(jim_client_post(alice, id, sizeof id, "bob", "fifth"), JIM_OK);
    run_until(alice, &a, &a.outgoing_failed, 1);
    assert_non_null(strstr(a.last_error, "403 the end-to-end key of bob changed"));
    jim_outgoing_state ost;
    assert_int_equal(jim_client_outgoing_state(alice, &ost, id), JIM_OK);
    assert_int_equal(ost, JIM_OUTGOING_FAILED);
    jim_client_run(bob3, 200);
    assert_int_equal(count(&b, &b.messages), 0);
    jim_client_free(alice);
    jim_client_free(bob2);
    jim_client_free(bob3);
    server_stop(&srv);
}

static void damaged_envelope__delivered_marked_never_dropped(void **state)
{
    (void)state;
    const char *args[] = {"--tamper", NULL};
    test_server srv;
    assert_int_equal(fakejim_start(&srv, 0, args), 0);
    seen a, b;
    jim_client *bob = online(srv.port, "bob", "bob4", &b);
    settle(bob);
    jim_client *alice = online(srv.port, "alice", "alice4", &a);
    assert_int_equal(jim_client_send(alice, NULL, NULL, "bob", "changed on the way"), JIM_OK);
    assert_int_equal(jim_client_send(alice, NULL, NULL, "bob", "and again"), JIM_OK);
    run_until(bob, &b, &b.messages, 2);
    assert_int_equal(count(&b, &b.failed), 2);
    assert_int_equal(count(&b, &b.decrypted), 0);
    assert_null(strstr(b.last_text, "again"));
    assert_non_null(strstr(b.last_error, "cannot be decrypted"));
    jim_client_free(alice);
    jim_client_free(bob);
    server_stop(&srv);
}

static void own_other_session__marked_as_not_readable_here(void **state)
{
    (void)state;
    test_server srv;
    assert_int_equal(fakejim_start(&srv, 0, NULL), 0);
    seen a1, a2, b;
    jim_client *bob = online(srv.port, "bob", "bob5", &b);
    settle(bob);
    jim_client *alice1 = online(srv.port, "alice", "alice5", &a1);
    jim_client *alice2 = online(srv.port, "alice", "alice5", &a2);
    assert_int_equal(jim_client_send(alice1, NULL, NULL, "bob", "from session one"), JIM_OK);
    run_until(alice2, &a2, &a2.messages, 1);
    assert_int_equal(count(&a2, &a2.failed), 1);
    assert_non_null(strstr(a2.last_error, "another session"));
    run_until(bob, &b, &b.decrypted, 1);
    jim_client_free(alice1);
    jim_client_free(alice2);
    jim_client_free(bob);
    server_stop(&srv);
}

static void server_without_keys__plain_with_one_notice(void **state)
{
    (void)state;
    char wire[160];
    snprintf(wire, sizeof wire, "%s/wire6", base);
    const char *args[] = {"--no-keys", "--capture", wire, NULL};
    test_server srv;
    assert_int_equal(fakejim_start(&srv, 0, args), 0);
    seen a, b;
    jim_client *bob = online(srv.port, "bob", "bob6", &b);
    jim_client *alice = online(srv.port, "alice", "alice6", &a);
    settle(alice);
    assert_int_equal(count(&a, &a.events[JIM_E2E_UNAVAILABLE]), 1);
    assert_non_null(strstr(a.last_event, "not available"));
    assert_int_equal(jim_client_send(alice, NULL, NULL, "bob", "plain as before"), JIM_OK);
    run_until(bob, &b, &b.messages, 1);
    assert_int_equal(count(&b, &b.plain), 1);
    assert_string_equal(b.last_text, "plain as before");
    assert_int_equal(file_count(wire, "plain as before"), 2);
    jim_peer_key pk;
    assert_int_equal(jim_client_peer_key(alice, &pk, "bob", 1), JIM_OK);
    assert_int_equal(pk.state, JIM_KEY_UNAVAILABLE);
    assert_int_equal(count(&a, &a.errors) + count(&b, &b.errors), 0);
    /* A reconnect logs in and offers the key again, but says nothing new. */
    int port = srv.port;
    jim_client_set_reconnect(alice, 1, 300);
    server_stop(&srv);
    const char *again[] = {"--no-keys", NULL};
    assert_int_equal(fakejim_start(&srv, port, again), 0);
    for (int i = 0; i < 300 && jim_client_get_state(alice) == JIM_CLIENT_ONLINE; i++)
        jim_client_run(alice, 10); /* until it notices */
    for (int i = 0; i < 500 && jim_client_get_state(alice) != JIM_CLIENT_ONLINE; i++)
        jim_client_run(alice, 10);
    assert_int_equal(jim_client_get_state(alice), JIM_CLIENT_ONLINE);
    settle(alice); /* the put_key answer */
    assert_int_equal(count(&a, &a.events[JIM_E2E_UNAVAILABLE]), 1);
    assert_int_equal(jim_client_send(alice, NULL, NULL, "alice", "still plain"), JIM_OK);
    jim_client_free(alice);
    jim_client_free(bob);
    server_stop(&srv);
}

static void peer_without_key_or_e2e_off__plain(void **state)
{
    (void)state;
    char wire[160];
    snprintf(wire, sizeof wire, "%s/wire7", base);
    const char *args[] = {"--capture", wire, NULL};
    test_server srv;
    assert_int_equal(fakejim_start(&srv, 0, args), 0);
    seen a, b;
    jim_client *bob = online(srv.port, "bob", "bob7", &b);
    settle(bob);
    jim_client *alice = online(srv.port, "alice", NULL, &a); /* memory only: told */
    assert_int_equal(count(&a, &a.events[JIM_E2E_MEMORY_KEY]), 1);
    /* Off for this conversation: plain, both ways of sending. */
    assert_int_equal(jim_client_set_e2e(alice, "bob", 0), JIM_OK);
    jim_peer_key pk;
    assert_int_equal(jim_client_peer_key(alice, &pk, "bob", 0), JIM_OK);
    assert_int_equal(pk.e2e_on, 0);
    assert_int_equal(jim_client_send(alice, NULL, NULL, "bob", "said in the clear"), JIM_OK);
    run_until(bob, &b, &b.plain, 1);
    assert_int_equal(file_count(wire, "said in the clear"), 2);
    assert_int_equal(jim_client_set_e2e(alice, "bob", 1), JIM_OK);
    assert_int_equal(jim_client_send(alice, NULL, NULL, "bob", "said in secret"), JIM_OK);
    run_until(bob, &b, &b.decrypted, 1);
    assert_int_equal(file_count(wire, "said in secret"), 0);
    /* A message the program encoded itself goes as it is, not sealed again. */
    const char *own = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAx";
    jim_msg *req = NULL;
    assert_int_equal(jim_msg_new(&req), JIM_OK);
    assert_int_equal(jim_msg_make_text(req, "bob", own), JIM_OK);
    assert_int_equal(jim_msg_set_str(req, JIM_FIELD_ENCODING, JIM_E2E_ENCODING), JIM_OK);
    assert_int_equal(jim_client_request_async(alice, req, NULL, NULL), JIM_OK);
    jim_msg_free(req);
    run_until(bob, &b, &b.failed, 1); /* it is no envelope of alice's: marked, not dropped */
    assert_int_equal(file_count(wire, own), 2);
    /* carol has no key (her client published none): plain. */
    assert_int_equal(jim_client_quit(bob), JIM_OK);
    jim_client *carol = NULL;
    assert_int_equal(jim_client_new(&carol, NULL, NULL), JIM_OK);
    assert_int_equal(jim_client_connect(carol, "127.0.0.1", srv.port), JIM_OK);
    assert_int_equal(jim_client_register(carol, "carol", "password1", NULL), JIM_OK);
    jim_client_free(carol);
    assert_int_equal(jim_client_send(alice, NULL, NULL, "carol", "no key, no secret"), JIM_OK);
    assert_int_equal(jim_client_peer_key(alice, &pk, "carol", 0), JIM_OK);
    assert_int_equal(pk.state, JIM_KEY_NONE);
    assert_int_equal(file_count(wire, "no key, no secret"), 1);
    jim_client_free(alice);
    jim_client_free(bob);
    server_stop(&srv);
}

static void store__decrypted_text_kept_with_its_mark(void **state)
{
    (void)state;
    test_server srv;
    assert_int_equal(fakejim_start(&srv, 0, NULL), 0);
    seen a, b;
    char dir[160];
    snprintf(dir, sizeof dir, "%s/bob8-store", base);
    jim_store *store = NULL;
    char why[200];
    assert_int_equal(jim_store_open(&store, why, sizeof why, JIM_STORE_SQLITE, dir), JIM_OK);
    memset(&b, 0, sizeof b);
    pthread_mutex_init(&b.mu, NULL);
    jim_client *bob = NULL;
    assert_int_equal(jim_client_new(&bob, &callbacks, &b), JIM_OK);
    jim_client_set_store(bob, store); /* keys in the store's directory */
    assert_int_equal(jim_client_connect(bob, "127.0.0.1", srv.port), JIM_OK);
    assert_int_equal(jim_client_login(bob, "bob", "password1"), JIM_OK);
    settle(bob);
    char path[200];
    snprintf(path, sizeof path, "%s/e2e_key", dir);
    assert_int_equal(access(path, F_OK), 0);
    jim_client *alice = online(srv.port, "alice", "alice8", &a);
    assert_int_equal(jim_client_send(alice, NULL, NULL, "bob", "kept decrypted"), JIM_OK);
    run_until(bob, &b, &b.decrypted, 1);
    jim_list *h = NULL;
    assert_int_equal(jim_store_history(store, &h, "alice", 0, 10), JIM_OK);
    assert_int_equal(jim_list_count(h), 1);
    assert_string_equal(jim_msg_get_str(jim_list_get(h, 0), JIM_FIELD_MESSAGE), "kept decrypted");
    assert_int_equal(jim_msg_e2e_state(jim_list_get(h, 0)), JIM_E2E_DECRYPTED);
    jim_list_free(h);
    jim_client_free(alice);
    jim_client_free(bob);
    jim_store_close(store);
    server_stop(&srv);
}

static void api__bad_arguments__einval(void **state)
{
    (void)state;
    jim_client *c = NULL;
    char fp[JIM_FINGERPRINT_SIZE];
    jim_peer_key pk;
    assert_int_equal(jim_client_new(&c, NULL, NULL), JIM_OK);
    assert_int_equal(jim_client_fingerprint(c, fp, sizeof fp), JIM_ESTATE); /* no login yet */
    assert_int_equal(jim_client_fingerprint(c, NULL, 0), JIM_EINVAL);
    assert_int_equal(jim_client_peer_key(c, &pk, "bob", 1), JIM_ESTATE);
    assert_int_equal(jim_client_peer_key(c, NULL, "bob", 0), JIM_EINVAL);
    assert_int_equal(jim_client_peer_key(c, &pk, "", 0), JIM_EINVAL);
    assert_int_equal(jim_client_trust_key(c, NULL), JIM_EINVAL);
    assert_int_equal(jim_client_set_e2e(NULL, NULL, 1), JIM_EINVAL);
    assert_int_equal(jim_client_set_key_dir(NULL, "/tmp"), JIM_EINVAL);
    assert_int_equal(jim_msg_e2e_state(NULL), JIM_E2E_PLAIN);
    jim_client_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encrypted__both_published__unreadable_on_the_wire_read_on_arrival),
        cmocka_unit_test(encrypted__own_loop_and_thread__decrypted_in_both),
        cmocka_unit_test(key_changed__refused_until_trusted),
        cmocka_unit_test(damaged_envelope__delivered_marked_never_dropped),
        cmocka_unit_test(own_other_session__marked_as_not_readable_here),
        cmocka_unit_test(server_without_keys__plain_with_one_notice),
        cmocka_unit_test(peer_without_key_or_e2e_off__plain),
        cmocka_unit_test(store__decrypted_text_kept_with_its_mark),
        cmocka_unit_test(api__bad_arguments__einval),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

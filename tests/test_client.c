/*
 * test_client.c — libjim's client API against a real jimd on an ephemeral loopback port:
 * blocking calls, the program's own poll loop, the client's own thread, both client
 * stores, and a reconnect in the middle of a stream that must lose and duplicate nothing.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "jimd_harness.h"

/* What a test client saw, filled by the callbacks. */
typedef struct seen {
    pthread_mutex_t mu;
    int messages, outgoing, presences, errors, states;
    char last_text[512], last_from[64], last_presence[96];
    int per_index[1000]; /* counts of "m<index>" texts */
    pthread_t thread;
} seen;

static void on_message(void *ud, const jim_msg *m, int outgoing)
{
    seen *s = ud;
    pthread_mutex_lock(&s->mu);
    s->messages++;
    s->outgoing += outgoing;
    const char *t = jim_msg_get_str(m, JIM_FIELD_MESSAGE);
    const char *f = jim_msg_get_str(m, JIM_FIELD_FROM);
    snprintf(s->last_text, sizeof s->last_text, "%s", t ? t : "");
    snprintf(s->last_from, sizeof s->last_from, "%s", f ? f : "");
    int i;
    if (t && sscanf(t, "m%d", &i) == 1 && i >= 0 && i < 1000)
        s->per_index[i]++;
    s->thread = pthread_self();
    pthread_mutex_unlock(&s->mu);
}

static void on_presence(void *ud, const char *user, const char *status)
{
    seen *s = ud;
    pthread_mutex_lock(&s->mu);
    s->presences++;
    snprintf(s->last_presence, sizeof s->last_presence, "%s %s", user, status);
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
    (void)st;
    seen *s = ud;
    pthread_mutex_lock(&s->mu);
    s->states++;
    pthread_mutex_unlock(&s->mu);
}

static const jim_client_callbacks callbacks = {on_message, on_presence, on_error, on_state};

static seen *seen_new(void)
{
    seen *s = calloc(1, sizeof *s);
    assert_non_null(s);
    pthread_mutex_init(&s->mu, NULL);
    return s;
}

static int count(seen *s, int *field)
{
    pthread_mutex_lock(&s->mu);
    int v = *field;
    pthread_mutex_unlock(&s->mu);
    return v;
}

/* A client connected to host:port and logged in as name (registered first). */
static jim_client *online_at(const char *host, int port, const char *name, seen *s)
{
    jim_client *c = NULL;
    assert_int_equal(jim_client_new(&c, &callbacks, s), JIM_OK);
    jim_client_set_timeout(c, 5000 * jimd_slowdown());
    assert_int_equal(jim_client_connect(c, host, port), JIM_OK);
    assert_int_equal(jim_client_get_state(c), JIM_CLIENT_CONNECTED);
    int rc = jim_client_register(c, name, "password1", "test");
    assert_true(rc == JIM_OK || (rc == JIM_ESERVER && jim_client_last_code(c) == 409));
    assert_int_equal(jim_client_login(c, name, "password1"), JIM_OK);
    assert_int_equal(jim_client_get_state(c), JIM_CLIENT_ONLINE);
    assert_string_equal(jim_client_account(c), name);
    return c;
}

/* The same on the suite's jimd. */
static jim_client *online(const char *name, seen *s)
{
    return online_at("127.0.0.1", jimd_group.port, name, s);
}

/* Runs c's loop until *field reaches want (or 5 s pass). */
static void run_until(jim_client *c, seen *s, int *field, int want)
{
    for (int i = 0; i < 500 && count(s, field) < want; i++)
        jim_client_run(c, 10);
    assert_int_equal(count(s, field), want);
}

static void blocking__send_and_receive__delivered_once(void **state)
{
    (void)state;
    seen *a = seen_new(), *b = seen_new();
    jim_client *alice = online("c_alice", a), *bob = online("c_bob", b);
    int64_t seq = 0;
    int delivered = -1;
    assert_int_equal(jim_client_send(alice, &seq, &delivered, "c_bob", "hello bob \xc3\xa9"),
                     JIM_OK);
    assert_true(seq > 0);
    assert_int_equal(delivered, 1);
    run_until(bob, b, &b->messages, 1);
    assert_string_equal(b->last_text, "hello bob \xc3\xa9");
    assert_string_equal(b->last_from, "c_alice");
    assert_int_equal(b->outgoing, 0);
    assert_int_equal(jim_client_last_seq(bob), seq);
    /* A sync from before it brings it again, but it is not shown twice. */
    int64_t last = 0;
    assert_int_equal(jim_client_sync(bob, &last, seq - 1), JIM_OK);
    assert_int_equal(last, seq);
    assert_int_equal(count(b, &b->messages), 1);
    assert_int_equal(jim_client_quit(alice), JIM_OK);
    assert_int_equal(jim_client_get_state(alice), JIM_CLIENT_DISCONNECTED);
    jim_client_free(alice);
    jim_client_free(bob);
    free(a);
    free(b);
}

static void blocking__server_errors__eserver_with_code(void **state)
{
    (void)state;
    seen *s = seen_new();
    jim_client *c = NULL;
    assert_int_equal(jim_client_new(&c, &callbacks, s), JIM_OK);
    /* Nothing works before connecting. */
    assert_int_equal(jim_client_send(c, NULL, NULL, "x", "y"), JIM_ESTATE);
    assert_int_equal(jim_client_login(c, "x", "y"), JIM_ESTATE);
    assert_int_equal(jim_client_connect(c, NULL, 1), JIM_EINVAL);
    assert_int_equal(jim_client_connect(c, "127.0.0.1", 0), JIM_EINVAL);
    assert_int_equal(jim_client_connect(c, "127.0.0.1", jimd_group.port), JIM_OK);
    assert_int_equal(jim_client_connect(c, "127.0.0.1", jimd_group.port), JIM_ESTATE);
    assert_int_equal(jim_client_register(c, "c_err", "password1", NULL), JIM_OK);
    assert_int_equal(jim_client_login(c, "c_err", "wrong-password"), JIM_ESERVER);
    assert_int_equal(jim_client_last_code(c), 402);
    assert_true(strlen(jim_client_last_error(c)) > 0);
    assert_int_equal(jim_client_login(c, "c_err", "password1"), JIM_OK);
    assert_int_equal(jim_client_send(c, NULL, NULL, "c_nobody", "hi"), JIM_ESERVER);
    assert_int_equal(jim_client_last_code(c), 404);
    assert_int_equal(jim_client_leave(c, "#c_not_joined"), JIM_ESERVER);
    assert_int_equal(jim_client_last_code(c), 404);
    /* Bad names never reach the server. */
    assert_int_not_equal(jim_client_join(c, "no spaces allowed"), JIM_OK);
    assert_int_equal(jim_client_send(c, NULL, NULL, "bad name", "x"), JIM_EINVAL);
    assert_int_equal(jim_client_send(c, NULL, NULL, "c_err", NULL), JIM_EINVAL);
    /* No `to`: the general chat, where c is alone (200: stored and fanned out). */
    int delivered = -1;
    assert_int_equal(jim_client_send(c, NULL, &delivered, NULL, "to everyone"), JIM_OK);
    assert_int_equal(delivered, 1);
    jim_client_free(c);

    /* A port nobody listens on (this one was just closed). */
    jim_client *d = NULL;
    assert_int_equal(jim_client_new(&d, NULL, NULL), JIM_OK);
    jimd_proc gone;
    assert_int_equal(jimd_start(&gone, 1, NULL), 0);
    int port = gone.port;
    jimd_stop(&gone);
    jimd_cleanup(&gone);
    assert_int_equal(jim_client_connect(d, "127.0.0.1", port), JIM_ECONNECT);
    assert_int_equal(jim_client_connect(d, "no-such-host.invalid", port), JIM_ECONNECT);
    assert_int_equal(jim_client_get_state(d), JIM_CLIENT_DISCONNECTED);
    jim_client_free(d);
    free(s);
}

static void blocking__rooms_contacts_users_history(void **state)
{
    (void)state;
    seen *a = seen_new(), *b = seen_new();
    jim_client *alice = online("c_ann", a), *bob = online("c_ben", b);
    assert_int_equal(jim_client_join(alice, "#c_room"), JIM_OK);
    assert_int_equal(jim_client_join(bob, "#c_room"), JIM_OK);
    assert_int_equal(jim_client_send(alice, NULL, NULL, "#c_room", "to the room"), JIM_OK);
    run_until(bob, b, &b->messages, 1);
    assert_string_equal(b->last_text, "to the room");

    jim_list *rooms = NULL;
    assert_int_equal(jim_client_get_rooms(alice, &rooms), JIM_OK);
    int found = 0;
    for (size_t i = 0; i < jim_list_count(rooms); i++) {
        const jim_msg *r = jim_list_get(rooms, i);
        if (strcmp(jim_msg_get_str(r, JIM_FIELD_ROOM), "#c_room") == 0) {
            int64_t members = 0;
            jim_msg_get_int(r, JIM_FIELD_MEMBERS, &members);
            assert_int_equal(members, 2);
            found = 1;
        }
    }
    assert_true(found);
    jim_list_free(rooms);

    assert_int_equal(jim_client_add_contact(alice, "c_ben"), JIM_OK);
    jim_list *contacts = NULL;
    assert_int_equal(jim_client_get_contacts(alice, &contacts), JIM_OK);
    assert_int_equal(jim_list_count(contacts), 1);
    assert_string_equal(jim_msg_get_str(jim_list_get(contacts, 0), JIM_FIELD_USER_ID), "c_ben");
    assert_string_equal(jim_msg_get_str(jim_list_get(contacts, 0), JIM_FIELD_STATUS), "online");
    jim_list_free(contacts);

    /* A contact going away and coming back: presence pushes, also in the local list. */
    assert_int_equal(jim_client_quit(bob), JIM_OK);
    run_until(alice, a, &a->presences, 1);
    assert_string_equal(a->last_presence, "c_ben offline");
    assert_int_equal(jim_client_contact_list(alice, &contacts), JIM_OK);
    assert_int_equal(jim_list_count(contacts), 1);
    assert_string_equal(jim_msg_get_str(jim_list_get(contacts, 0), JIM_FIELD_STATUS), "offline");
    jim_list_free(contacts);
    assert_int_equal(jim_client_connect(bob, "127.0.0.1", jimd_group.port), JIM_OK);
    assert_int_equal(jim_client_login(bob, "c_ben", "password1"), JIM_OK);
    run_until(alice, a, &a->presences, 2);
    assert_string_equal(a->last_presence, "c_ben online");

    assert_int_equal(jim_client_del_contact(alice, "c_ben"), JIM_OK);
    assert_int_equal(jim_client_get_contacts(alice, &contacts), JIM_OK);
    assert_int_equal(jim_list_count(contacts), 0);
    jim_list_free(contacts);
    assert_int_equal(jim_client_del_contact(alice, "c_ben"), JIM_ESERVER);

    jim_list *users = NULL;
    assert_int_equal(jim_client_get_users(alice, &users, "c_be"), JIM_OK);
    assert_int_equal(jim_list_count(users), 1);
    assert_string_equal(jim_msg_get_str(jim_list_get(users, 0), JIM_FIELD_USER_ID), "c_ben");
    jim_list_free(users);

    /* The server's history as text: sent in the clear, since what is sealed for c_ben only
     * c_ben can read (protocol.md §7), and jimd keeps keys. */
    assert_int_equal(jim_client_set_e2e(alice, "c_ben", 0), JIM_OK);
    for (int i = 0; i < 3; i++) {
        char text[16];
        snprintf(text, sizeof text, "h%d", i);
        assert_int_equal(jim_client_send(alice, NULL, NULL, "c_ben", text), JIM_OK);
    }
    jim_list *history = NULL;
    assert_int_equal(jim_client_history(alice, &history, "c_ben", 0, 2), JIM_OK);
    assert_int_equal(jim_list_count(history), 2);
    assert_string_equal(jim_msg_get_str(jim_list_get(history, 0), JIM_FIELD_MESSAGE), "h2");
    assert_string_equal(jim_msg_get_str(jim_list_get(history, 1), JIM_FIELD_MESSAGE), "h1");
    jim_list_free(history);
    jim_client_free(alice);
    jim_client_free(bob);
    free(a);
    free(b);
}

/* The external-loop mode: the test's own poll() drives the client. */
typedef struct reply {
    int done, status, code, entries;
} reply;

static void on_reply(void *ud, int status, const jim_msg *resp, const jim_list *entries)
{
    reply *r = ud;
    r->done = 1;
    r->status = status;
    r->code = resp ? jim_msg_response(resp) : 0;
    r->entries = (int)jim_list_count(entries);
}

static void drive(jim_client *c, int *flag, int want)
{
    for (int i = 0; i < 500 && *flag < want; i++) {
        struct pollfd p = {jim_client_fd(c), POLLIN, 0};
        if (jim_client_wants_write(c))
            p.events |= POLLOUT;
        int t = jim_client_next_timeout(c);
        if (t < 0 || t > 10)
            t = 10;
        if (poll(&p, 1, t) > 0) {
            if (p.revents & POLLOUT)
                jim_client_on_writable(c);
            if (p.revents & (POLLIN | POLLHUP | POLLERR))
                jim_client_on_readable(c);
        }
        if (jim_client_next_timeout(c) == 0)
            jim_client_on_timeout(c);
    }
}

static void external_loop__async_send_and_receive(void **state)
{
    (void)state;
    seen *a = seen_new(), *b = seen_new();
    jim_client *alice = online("c_eve", a), *bob = online("c_eli", b);
    assert_true(jim_client_fd(alice) >= 0);
    reply r = {0, 0, 0, 0};
    assert_int_equal(jim_client_send_async(alice, "c_eli", "async hello", on_reply, &r), JIM_OK);
    drive(alice, &r.done, 1);
    assert_int_equal(r.status, JIM_OK);
    assert_int_equal(r.code, 200);
    drive(bob, &b->messages, 1);
    assert_string_equal(b->last_text, "async hello");

    /* Any request, with its error. */
    jim_msg *req = NULL;
    assert_int_equal(jim_msg_new(&req), JIM_OK);
    assert_int_equal(jim_msg_make_named(req, JIM_ACTION_ADD_CONTACT, "c_nobody"), JIM_OK);
    reply e = {0, 0, 0, 0};
    assert_int_equal(jim_client_request_async(alice, req, on_reply, &e), JIM_OK);
    drive(alice, &e.done, 1);
    assert_int_equal(e.status, JIM_ESERVER);
    assert_int_equal(e.code, 404);
    /* A contact added by an asynchronous request is in the local list too. */
    assert_int_equal(jim_msg_make_named(req, JIM_ACTION_ADD_CONTACT, "c_eli"), JIM_OK);
    reply ac = {0, 0, 0, 0};
    assert_int_equal(jim_client_request_async(alice, req, on_reply, &ac), JIM_OK);
    drive(alice, &ac.done, 1);
    assert_int_equal(ac.status, JIM_OK);
    jim_list *mine = NULL;
    assert_int_equal(jim_client_contact_list(alice, &mine), JIM_OK);
    assert_int_equal(jim_list_count(mine), 1);
    assert_string_equal(jim_msg_get_str(jim_list_get(mine, 0), JIM_FIELD_USER_ID), "c_eli");
    jim_list_free(mine);
    /* A join and a list, pipelined: both answered, the list with its entries. */
    assert_int_equal(jim_msg_make_named(req, JIM_ACTION_JOIN, "#c_loop"), JIM_OK);
    reply j = {0, 0, 0, 0}, l = {0, 0, 0, 0};
    assert_int_equal(jim_client_request_async(alice, req, on_reply, &j), JIM_OK);
    assert_int_equal(jim_msg_init_action(req, JIM_ACTION_GET_ROOMS), JIM_OK);
    assert_int_equal(jim_client_request_async(alice, req, on_reply, &l), JIM_OK);
    drive(alice, &l.done, 1);
    assert_int_equal(j.done, 1);
    assert_int_equal(j.status, JIM_OK);
    assert_int_equal(l.status, JIM_OK);
    assert_int_equal(l.code, 202);
    assert_true(l.entries >= 1);
    /* A request that is not valid never leaves. */
    assert_int_equal(jim_msg_init_action(req, JIM_ACTION_MSG), JIM_OK);
    assert_int_equal(jim_client_request_async(alice, req, on_reply, &l), JIM_EINVAL);
    jim_msg_free(req);
    jim_client_free(alice);
    jim_client_free(bob);
    free(a);
    free(b);
}

/* How many descriptors this process has open. */
static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

/* A client whose thread ran leaves no descriptor behind when it is freed (its wake-up
 * pipe used to stay open: two descriptors per client). */
static void thread_mode__freed_client_leaves_no_descriptor(void **state)
{
    (void)state;
    seen *s = seen_new();
    int before = open_fds();
    for (int i = 0; i < 3; i++) {
        jim_client *c = NULL;
        assert_int_equal(jim_client_new(&c, &callbacks, s), JIM_OK);
        assert_int_equal(jim_client_start_thread(c), JIM_OK);
        jim_client_free(c);
    }
    assert_int_equal(open_fds(), before);
    free(s);
}

static void thread_mode__callbacks_on_the_client_thread(void **state)
{
    (void)state;
    seen *a = seen_new(), *b = seen_new();
    jim_client *alice = online("c_tom", a), *bob = online("c_tim", b);
    assert_int_equal(jim_client_start_thread(bob), JIM_OK);
    assert_int_equal(jim_client_start_thread(bob), JIM_ESTATE);
    assert_int_equal(jim_client_run(bob, 0), JIM_ESTATE);
    for (int i = 0; i < 20; i++) {
        char text[16];
        snprintf(text, sizeof text, "m%d", i);
        assert_int_equal(jim_client_send(alice, NULL, NULL, "c_tim", text), JIM_OK);
    }
    for (int i = 0; i < 500 && count(b, &b->messages) < 20; i++)
        usleep(10000);
    assert_int_equal(count(b, &b->messages), 20);
    pthread_mutex_lock(&b->mu);
    assert_false(pthread_equal(b->thread, pthread_self()));
    pthread_mutex_unlock(&b->mu);
    /* Blocking calls from another thread while the client thread runs. */
    assert_int_equal(jim_client_send(bob, NULL, NULL, "c_tom", "back"), JIM_OK);
    assert_int_equal(jim_client_join(bob, "#c_thread"), JIM_OK);
    assert_int_equal(jim_client_add_contact(bob, "c_tom"), JIM_OK);
    jim_list *l = NULL;
    assert_int_equal(jim_client_get_contacts(bob, &l), JIM_OK);
    assert_int_equal(jim_list_count(l), 1);
    jim_list_free(l);
    assert_int_equal(jim_client_history(bob, &l, "c_tom", 0, 5), JIM_OK);
    assert_int_equal(jim_list_count(l), 5);
    jim_list_free(l);
    int64_t last = 0;
    assert_int_equal(jim_client_sync(bob, &last, 0), JIM_OK);
    assert_true(last > 0);
    assert_int_equal(count(b, &b->messages), 20); /* the sync showed nothing twice */
    jim_client_stop_thread(bob);
    run_until(alice, a, &a->messages, 1);
    assert_string_equal(a->last_text, "back");
    jim_client_free(alice);
    jim_client_free(bob);
    free(a);
    free(b);
}

static char tmpdir[64];

static int make_tmpdir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/jim-client-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Messages saved before they are shown, kept across a reopen, history from disk. */
static void store_roundtrip(jim_store_kind kind, const char *sender, const char *reader)
{
    char dir[160];
    snprintf(dir, sizeof dir, "%s/%s/store", tmpdir, reader);
    jim_store *st = NULL;
    assert_int_equal(jim_store_open(&st, NULL, 0, kind, dir), JIM_OK);
    assert_int_equal(jim_store_last_seq(st), 0);
    seen *a = seen_new(), *b = seen_new();
    jim_client *alice = online(sender, a);
    jim_client *bob = NULL;
    assert_int_equal(jim_client_new(&bob, &callbacks, b), JIM_OK);
    assert_int_equal(jim_client_set_store(bob, st), JIM_OK);
    assert_int_equal(jim_client_connect(bob, "127.0.0.1", jimd_group.port), JIM_OK);
    assert_int_equal(jim_client_register(bob, reader, "password1", NULL), JIM_OK);
    assert_int_equal(jim_client_login(bob, reader, "password1"), JIM_OK);
    int64_t last = 0;
    for (int i = 0; i < 5; i++) {
        char text[16];
        snprintf(text, sizeof text, "m%d", i);
        assert_int_equal(jim_client_send(alice, &last, NULL, reader, text), JIM_OK);
    }
    run_until(bob, b, &b->messages, 5);
    assert_int_equal(jim_store_last_seq(st), last);
    assert_int_equal(jim_client_send(bob, NULL, NULL, sender, "reply"), JIM_OK);
    assert_int_equal(jim_client_add_contact(bob, sender), JIM_OK);
    int64_t mine = jim_store_last_seq(st);
    assert_true(mine > last);
    jim_client_free(bob);
    jim_store_close(st);

    /* Reopened: the same last seq, the conversation in order, the contact. */
    assert_int_equal(jim_store_open(&st, NULL, 0, kind, dir), JIM_OK);
    assert_int_equal(jim_store_last_seq(st), mine);
    jim_list *h = NULL;
    assert_int_equal(jim_store_history(st, &h, sender, 0, 10), JIM_OK);
    assert_int_equal(jim_list_count(h), 6);
    assert_string_equal(jim_msg_get_str(jim_list_get(h, 0), JIM_FIELD_MESSAGE), "m0");
    assert_string_equal(jim_msg_get_str(jim_list_get(h, 5), JIM_FIELD_MESSAGE), "reply");
    jim_list_free(h);
    assert_int_equal(jim_store_history(st, &h, sender, last, 2), JIM_OK);
    assert_int_equal(jim_list_count(h), 2);
    assert_string_equal(jim_msg_get_str(jim_list_get(h, 1), JIM_FIELD_MESSAGE), "m3");
    jim_list_free(h);
    jim_list *c = NULL;
    assert_int_equal(jim_store_contacts(st, &c), JIM_OK);
    assert_int_equal(jim_list_count(c), 1);
    assert_string_equal(jim_msg_get_str(jim_list_get(c, 0), JIM_FIELD_USER_ID), sender);
    jim_list_free(c);

    /* A saved seq is not saved twice; a message missed while away arrives at login. */
    jim_msg *m = NULL;
    assert_int_equal(jim_msg_new(&m), JIM_OK);
    jim_msg_make_text(m, reader, "dup");
    jim_msg_set_str(m, JIM_FIELD_FROM, sender);
    jim_msg_set_int(m, JIM_FIELD_SEQ, last);
    int added = -1;
    assert_int_equal(jim_store_save_message(st, &added, m), JIM_OK);
    assert_int_equal(added, 0); /* there already */
    jim_msg_unset(m, JIM_FIELD_SEQ);
    assert_int_equal(jim_store_save_message(st, NULL, m), JIM_EINVAL);
    jim_msg_free(m);
    assert_int_equal(jim_client_send(alice, &last, NULL, reader, "while away"), JIM_OK);
    memset(b, 0, sizeof *b);
    pthread_mutex_init(&b->mu, NULL);
    assert_int_equal(jim_client_new(&bob, &callbacks, b), JIM_OK);
    jim_client_set_store(bob, st);
    assert_int_equal(jim_client_connect(bob, "127.0.0.1", jimd_group.port), JIM_OK);
    assert_int_equal(jim_client_login(bob, reader, "password1"), JIM_OK);
    jim_client_run(bob, 100);
    assert_int_equal(count(b, &b->messages), 1); /* only the new one, once */
    assert_string_equal(b->last_text, "while away");
    assert_int_equal(jim_store_last_seq(st), last);
    jim_client_free(bob);
    jim_store_close(st);
    jim_client_free(alice);
    free(a);
    free(b);
}

static void store_sqlite__saved_kept_and_deduplicated(void **state)
{
    (void)state;
    store_roundtrip(JIM_STORE_SQLITE, "c_sq_a", "c_sq_b");
}

static void store_files__saved_kept_and_deduplicated(void **state)
{
    (void)state;
    store_roundtrip(JIM_STORE_FILES, "c_fl_a", "c_fl_b");
    /* A torn last line (a crash in the middle of a write) is cut off at open. */
    char path[200];
    snprintf(path, sizeof path, "%s/c_fl_b/store/messages.jsonl", tmpdir);
    FILE *f = fopen(path, "a");
    assert_non_null(f);
    fputs("{\"action\":\"msg\",\"seq\":99999,\"fr", f);
    fclose(f);
    char dir[160];
    snprintf(dir, sizeof dir, "%s/c_fl_b/store", tmpdir);
    jim_store *st = NULL;
    assert_int_equal(jim_store_open(&st, NULL, 0, JIM_STORE_FILES, dir), JIM_OK);
    assert_true(jim_store_last_seq(st) < 99999);
    jim_store_close(st);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    f = fopen(path, "r");
    assert_non_null(f);
    fseek(f, -1, SEEK_END);
    assert_int_equal(fgetc(f), '\n');
    fclose(f);
}

static void store__bad_arguments_and_default_dir(void **state)
{
    (void)state;
    jim_store *st = NULL;
    assert_int_equal(jim_store_open(&st, NULL, 0, JIM_STORE_SQLITE, NULL), JIM_EINVAL);
    assert_int_equal(jim_store_open(&st, NULL, 0, (jim_store_kind)7, "/tmp/x"), JIM_EINVAL);
    char why[128] = "unchanged";
    assert_int_equal(jim_store_open(&st, why, sizeof why, JIM_STORE_FILES, "/proc/no/such/dir"),
                     JIM_EIO);
    assert_null(st);
    /* The reason is in words, not in errno. */
    assert_non_null(strstr(why, "cannot create /proc/no/such/dir: "));
    char buf[256];
    setenv("XDG_DATA_HOME", "/data/home", 1);
    assert_int_equal(jim_store_default_dir(buf, sizeof buf, "bob", "example.org", 7777), JIM_OK);
    assert_string_equal(buf, "/data/home/jim/bob@example.org_7777");
    unsetenv("XDG_DATA_HOME");
    setenv("HOME", "/home/u", 1);
    assert_int_equal(jim_store_default_dir(buf, sizeof buf, "bob", "::1", 7), JIM_OK);
    assert_string_equal(buf, "/home/u/.local/share/jim/bob@::1_7");
    assert_int_equal(jim_store_default_dir(buf, 8, "bob", "::1", 7), JIM_ERANGE);
    assert_int_equal(jim_store_default_dir(buf, sizeof buf, "../x", "h", 7), JIM_EINVAL);
}

/*
 * 300 messages from a sender to a reader with a store; after 100 the worker serving
 * both is killed. Both reconnect by themselves: the sender re-sends what was not
 * acknowledged (the server de-duplicates by id), the reader catches up with sync.
 * Every message arrives exactly once, and the store holds each once.
 */
static void reconnect__mid_stream__nothing_lost_or_duplicated(void **state)
{
    (void)state;
    enum { N = 300 };
    char dir[160];
    snprintf(dir, sizeof dir, "%s/reconnect/store", tmpdir);
    jim_store *st = NULL;
    assert_int_equal(jim_store_open(&st, NULL, 0, JIM_STORE_SQLITE, dir), JIM_OK);
    seen *a = seen_new(), *b = seen_new();
    jim_client *sender = online("c_rs", a);
    jim_client_set_timeout(sender, 20000);
    jim_client *reader = NULL;
    assert_int_equal(jim_client_new(&reader, &callbacks, b), JIM_OK);
    jim_client_set_store(reader, st);
    jim_client_set_reconnect(reader, 1, 500);
    jim_client_set_reconnect(sender, 1, 500);
    assert_int_equal(jim_client_connect(reader, "127.0.0.1", jimd_group.port), JIM_OK);
    assert_int_equal(jim_client_register(reader, "c_rr", "password1", NULL), JIM_OK);
    assert_int_equal(jim_client_login(reader, "c_rr", "password1"), JIM_OK);
    assert_int_equal(jim_client_start_thread(reader), JIM_OK);
    for (int i = 0; i < N; i++) {
        if (i == 100) {
            pid_t w = jimd_worker_pid(&jimd_group, 0);
            assert_true(w > 0);
            assert_int_equal(kill(w, SIGKILL), 0);
        }
        char text[16];
        snprintf(text, sizeof text, "m%d", i);
        assert_int_equal(jim_client_send(sender, NULL, NULL, "c_rr", text), JIM_OK);
    }
    for (int i = 0; i < 1000 && count(b, &b->messages) < N; i++)
        usleep(10000);
    jim_client_stop_thread(reader);
    assert_int_equal(b->messages, N);
    for (int i = 0; i < N; i++)
        assert_int_equal(b->per_index[i], 1);
    jim_list *h = NULL;
    assert_int_equal(jim_store_history(st, &h, "c_rs", 0, 500), JIM_OK);
    assert_int_equal(jim_list_count(h), N);
    jim_list_free(h);
    assert_true(count(b, &b->states) >= 3); /* connecting, connected, online again */
    jim_client_free(reader);
    jim_client_free(sender);
    jim_store_close(st);
    free(a);
    free(b);
}

/* jimd probes idle stream sessions and closes those that stay silent: the client answers
 * by itself, in every mode, so it stays online without reconnecting. */
static void probes__answered_by_the_client__session_stays(void **state)
{
    (void)state;
    jimd_proc p;
    assert_int_equal(jimd_start(&p, 1, "probe_interval 1\nprobe_timeout 1"), 0);
    seen *s = seen_new();
    jim_client *c = online_at("127.0.0.1", p.port, "c_probed", s);
    jim_client_set_reconnect(c, 0, 0);
    int states = count(s, &s->states);
    for (int i = 0; i < 35; i++) /* 3.5 s: several probe rounds */
        assert_int_equal(jim_client_run(c, 100), JIM_OK);
    assert_int_equal(jim_client_get_state(c), JIM_CLIENT_ONLINE);
    assert_int_equal(count(s, &s->states), states);
    assert_int_equal(jim_client_send(c, NULL, NULL, "c_probed", "still here"), JIM_OK);
    jim_client_free(c);
    free(s);
    jimd_stop(&p);
    jimd_cleanup(&p);
}

/* A host name is resolved (getaddrinfo, IPv4 and IPv6); where it has several addresses and
 * jimd listens on 127.0.0.1 only, the client goes on to the next when one refuses. */
static void connect__host_name__resolved_and_tried(void **state)
{
    (void)state;
    jim_client *c = NULL;
    assert_int_equal(jim_client_new(&c, NULL, NULL), JIM_OK);
    assert_int_equal(jim_client_connect(c, "localhost", jimd_group.port), JIM_OK);
    assert_int_equal(jim_client_register(c, "c_local", "password1", NULL), JIM_OK);
    jim_client_free(c);
}

/* An IPv6 literal: a jimd listening on ::1 only. */
static void connect__ipv6_literal__works(void **state)
{
    (void)state;
    jimd_proc p6;
    if (jimd_start_at(&p6, "::1", 1, NULL) != 0) {
        jimd_cleanup(&p6);
        skip(); /* no IPv6 loopback on this machine */
    }
    seen *s = seen_new();
    jim_client *c = online_at("::1", p6.port, "c_six", s);
    assert_int_equal(jim_client_send(c, NULL, NULL, "c_six", "over IPv6"), JIM_OK);
    run_until(c, s, &s->messages, 1);
    jim_client_free(c);
    free(s);
    jimd_stop(&p6);
    jimd_cleanup(&p6);
}

/* The server's rate limit answers 429 with retry_after: the client sends the message
 * again then (same id), so a fast writer is slowed down and loses nothing. */
static void rate_limited__sent_again_after_retry_after(void **state)
{
    (void)state;
    jimd_proc p;
    assert_int_equal(jimd_start(&p, 1, "msg_rate 20\nmsg_burst 5"), 0);
    seen *s = seen_new();
    jim_client *c = online_at("127.0.0.1", p.port, "c_fast", s);
    for (int i = 0; i < 12; i++) {
        char text[16];
        snprintf(text, sizeof text, "m%d", i);
        assert_int_equal(jim_client_send(c, NULL, NULL, "c_fast", text), JIM_OK);
    }
    run_until(c, s, &s->messages, 12);
    for (int i = 0; i < 12; i++)
        assert_int_equal(s->per_index[i], 1);
    jim_client_free(c);
    free(s);
    jimd_stop(&p);
    jimd_cleanup(&p);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(blocking__send_and_receive__delivered_once),
        cmocka_unit_test(blocking__server_errors__eserver_with_code),
        cmocka_unit_test(blocking__rooms_contacts_users_history),
        cmocka_unit_test(external_loop__async_send_and_receive),
        cmocka_unit_test(thread_mode__callbacks_on_the_client_thread),
        cmocka_unit_test(thread_mode__freed_client_leaves_no_descriptor),
        cmocka_unit_test_setup_teardown(store_sqlite__saved_kept_and_deduplicated, make_tmpdir,
                                        NULL),
        cmocka_unit_test_setup_teardown(store_files__saved_kept_and_deduplicated, NULL, NULL),
        cmocka_unit_test(store__bad_arguments_and_default_dir),
        cmocka_unit_test(probes__answered_by_the_client__session_stays),
        cmocka_unit_test(connect__host_name__resolved_and_tried),
        cmocka_unit_test(connect__ipv6_literal__works),
        cmocka_unit_test(rate_limited__sent_again_after_retry_after),
        cmocka_unit_test_setup_teardown(reconnect__mid_stream__nothing_lost_or_duplicated, NULL,
                                        remove_tmpdir),
    };
    return cmocka_run_group_tests_name("client", tests, jimd_group_start, jimd_group_stop);
}

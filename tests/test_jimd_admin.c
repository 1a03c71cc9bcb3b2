/*
 * test_jimd_admin.c — administration against a real jimd (doc/protocol.md §8): every admin
 * action as an admin, as a user (403) and over the control socket; the control socket
 * refused to another uid; a ban closing the account's sessions on every worker; a setting
 * changed at run time on every worker; a user changing their own password (§3).
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "jimd_harness.h"

#define T 10000 /* ms to wait for an answer */

/* A client on jimd's control socket (the database's path ending in .ctl). */
static tclient *ctl_connect(const jimd_proc *p)
{
    tclient *c = calloc(1, sizeof *c);
    struct sockaddr_un a;
    if (!c)
        return NULL;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    snprintf(a.sun_path, sizeof a.sun_path, "%s/jimd.ctl", p->dir);
    c->fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        jim_framer_new(&c->framer, NULL) != JIM_OK || jim_msg_new(&c->msg) != JIM_OK) {
        tc_close(c);
        return NULL;
    }
    return c;
}

/* Sends a request and returns the code of its response. */
static int ask(tclient *c, const char *json)
{
    tc_send_raw(c, json, strlen(json));
    tc_send_raw(c, "\n", 1);
    return tc_response(c, T);
}

/* Makes an account over the control socket; its role given. */
static void add_user(tclient *ctl, const char *name, const char *role)
{
    char req[256];
    snprintf(req, sizeof req,
             "{\"action\":\"admin_add_user\",\"user\":{\"account_name\":\"%s\","
             "\"password\":\"password1\"},\"role\":\"%s\"}",
             name, role);
    assert_int_equal(ask(ctl, req), 201);
}

static int login(tclient *c, const char *name, const char *password)
{
    tc_send(c,
            "{\"action\":\"authenticate\",\"user\":{\"account_name\":\"%s\",\"password\":\"%s\","
            "\"features\":[\"ndjson\"]}}",
            name, password);
    return tc_response(c, T);
}

/* A session of name logged in with password1 (the account exists). */
static tclient *session_of(const jimd_proc *p, const char *name)
{
    tclient *c = tc_connect(p->port);
    assert_non_null(c);
    assert_int_equal(login(c, name, "password1"), 200);
    return c;
}

/* The admin actions, each as it would succeed for an admin (the accounts exist). */
static const struct {
    const char *request;
    int ok;
} kActions[] = {
    {"{\"action\":\"admin_users\",\"query\":\"t\"}", 202},
    {"{\"action\":\"admin_stats\"}", 200},
    {"{\"action\":\"admin_kick\",\"user_id\":\"target\",\"reason\":\"test\"}", 200},
    {"{\"action\":\"admin_ban\",\"user_id\":\"target\"}", 200},
    {"{\"action\":\"admin_unban\",\"user_id\":\"target\"}", 200},
    {"{\"action\":\"admin_set\",\"setting\":\"msg_rate\",\"value\":\"300\"}", 200},
    {"{\"action\":\"admin_password\",\"user_id\":\"target\",\"new_password\":\"password1\"}", 200},
    {"{\"action\":\"admin_role\",\"user_id\":\"target\",\"role\":\"user\"}", 200},
};
#define NACTIONS (sizeof kActions / sizeof kActions[0])

/* Runs every admin action on c; each answered `want` (0: as it succeeds). */
static void every_action(tclient *c, int want, int round)
{
    for (size_t i = 0; i < NACTIONS; i++) {
        int got = ask(c, kActions[i].request);
        if (got != (want ? want : kActions[i].ok))
            fail_msg("%s: %d, not %d", kActions[i].request, got, want ? want : kActions[i].ok);
    }
    tc_send(c,
            "{\"action\":\"admin_add_user\",\"user\":{\"account_name\":\"made%d\","
            "\"password\":\"password1\"}}",
            round);
    assert_int_equal(tc_response(c, T), want ? want : 201);
}

static void admin_actions__as_user_admin_and_control__403_or_done(void **state)
{
    (void)state;
    jimd_proc p;
    assert_int_equal(jimd_start(&p, 1, NULL), 0);
    tclient *ctl = ctl_connect(&p);
    assert_non_null(ctl);
    add_user(ctl, "boss", "admin");
    add_user(ctl, "plain", "user");
    add_user(ctl, "target", "user");
    tclient *user = session_of(&p, "plain");
    every_action(user, 403, 0); /* a user: forbidden, each one */
    tclient *admin = session_of(&p, "boss");
    every_action(admin, 0, 1);
    every_action(ctl, 0, 2); /* the control socket: no login */
    /* Only admin actions (and quit) on the control socket; a user's need a session. */
    assert_int_equal(ask(ctl, "{\"action\":\"msg\",\"to\":\"boss\",\"message\":\"hi\"}"), 403);
    assert_int_equal(ask(ctl, "{\"action\":\"get_contacts\"}"), 403);
    /* A changed role counts at the next request. */
    assert_int_equal(ask(ctl, "{\"action\":\"admin_role\",\"user_id\":\"plain\",\"role\":"
                              "\"admin\"}"),
                     200);
    assert_int_equal(ask(user, "{\"action\":\"admin_stats\"}"), 200);
    assert_int_equal(ask(ctl, "{\"action\":\"admin_role\",\"user_id\":\"boss\",\"role\":\"user\"}"),
                     200);
    assert_int_equal(ask(admin, "{\"action\":\"admin_stats\"}"), 403);
    /* Bad arguments. */
    assert_int_equal(ask(ctl, "{\"action\":\"admin_role\",\"user_id\":\"plain\",\"role\":\"god\"}"),
                     400);
    assert_int_equal(ask(ctl, "{\"action\":\"admin_kick\",\"user_id\":\"nobody\"}"), 404);
    assert_int_equal(ask(ctl, "{\"action\":\"admin_ban\",\"user_id\":\"nobody\"}"), 404);
    assert_int_equal(ask(ctl, "{\"action\":\"admin_set\",\"setting\":\"port\",\"value\":\"1\"}"),
                     400);
    assert_int_equal(ask(ctl, "{\"action\":\"admin_set\",\"setting\":\"nope\",\"value\":\"1\"}"),
                     400);
    assert_int_equal(ask(ctl, "{\"action\":\"admin_set\",\"setting\":\"msg_rate\",\"value\":"
                              "\"fast\"}"),
                     400);
    assert_int_equal(ask(ctl, "{\"action\":\"admin_add_user\",\"user\":{\"account_name\":"
                              "\"target\",\"password\":\"password1\"}}"),
                     409);
    assert_int_equal(ask(ctl, "{\"action\":\"admin_add_user\",\"user\":{\"account_name\":"
                              "\"short\",\"password\":\"pw\"}}"),
                     400);
    tc_close(user);
    tc_close(admin);
    tc_close(ctl);
    jimd_cleanup(&p);
}

/* admin_users lists accounts with their statistics; admin_stats counts the server. */
static void admin_users_and_stats__after_traffic__counted(void **state)
{
    (void)state;
    jimd_proc p;
    assert_int_equal(jimd_start(&p, 2, NULL), 0);
    tclient *ctl = ctl_connect(&p);
    assert_non_null(ctl);
    add_user(ctl, "ann", "user");
    add_user(ctl, "ben", "admin");
    tclient *a = session_of(&p, "ann"), *b = session_of(&p, "ben");
    for (int i = 0; i < 3; i++) {
        tc_send(a, "{\"action\":\"msg\",\"to\":\"ben\",\"message\":\"m%d\"}", i);
        assert_int_equal(tc_response(a, T), 200);
        assert_non_null(tc_next_msg(b, T));
    }
    /* messages_sent is counted by the master's indexing, a second or so behind. */
    int64_t sent = 0, logins = 0, last_login = 0;
    int online = 0, banned = 1;
    const char *role = NULL, *ip = NULL;
    for (int tries = 0; tries < 50 && sent < 3; tries++) {
        usleep(200000);
        tc_send(ctl, "{\"action\":\"admin_users\",\"query\":\"a\"}");
        assert_int_equal(tc_response(ctl, T), 202);
        int64_t quantity = 0;
        assert_int_equal(jim_msg_get_int(ctl->msg, JIM_FIELD_QUANTITY, &quantity), JIM_OK);
        assert_int_equal(quantity, 1);
        jim_msg *m = tc_recv(ctl, T);
        assert_non_null(m);
        assert_int_equal(jim_msg_action(m), JIM_ACTION_USER_STAT);
        assert_string_equal(jim_msg_get_str(m, JIM_FIELD_USER_ID), "ann");
        jim_msg_get_int(m, JIM_FIELD_MESSAGES_SENT, &sent);
        jim_msg_get_int(m, JIM_FIELD_LOGINS, &logins);
        jim_msg_get_int(m, JIM_FIELD_LAST_LOGIN, &last_login);
        jim_msg_get_bool(m, JIM_FIELD_ONLINE, &online);
        jim_msg_get_bool(m, JIM_FIELD_BANNED, &banned);
        role = jim_msg_get_str(m, JIM_FIELD_ROLE);
        ip = jim_msg_get_str(m, JIM_FIELD_LAST_IP);
        assert_non_null(role);
        assert_non_null(ip);
        assert_string_equal(role, "user");
        assert_string_equal(ip, "127.0.0.1");
    }
    assert_int_equal(sent, 3);
    assert_int_equal(logins, 1);
    assert_true(last_login > 0);
    assert_true(online);
    assert_false(banned);
    /* Stats over both workers: two sessions, three connections (the control one too). */
    tc_send(b, "{\"action\":\"admin_stats\"}");
    assert_int_equal(tc_response(b, T), 200);
    int64_t v = -1;
    assert_int_equal(jim_msg_get_int(b->msg, JIM_FIELD_WORKERS, &v), JIM_OK);
    assert_int_equal(v, 2);
    assert_int_equal(jim_msg_get_int(b->msg, JIM_FIELD_SESSIONS, &v), JIM_OK);
    assert_int_equal(v, 2);
    assert_int_equal(jim_msg_get_int(b->msg, JIM_FIELD_CONNECTIONS, &v), JIM_OK);
    assert_int_equal(v, 3);
    assert_int_equal(jim_msg_get_int(b->msg, JIM_FIELD_LOGINS, &v), JIM_OK);
    assert_int_equal(v, 2);
    assert_int_equal(jim_msg_get_int(b->msg, JIM_FIELD_DB_BYTES, &v), JIM_OK);
    assert_true(v > 0);
    assert_int_equal(jim_msg_get_int(b->msg, JIM_FIELD_WAL_BYTES, &v), JIM_OK);
    assert_int_equal(jim_msg_get_int(b->msg, JIM_FIELD_UPTIME, &v), JIM_OK);
    for (jim_field f = JIM_FIELD_MESSAGES_IN_PER_SEC; f <= JIM_FIELD_ERRORS; f++)
        assert_true(jim_msg_has(b->msg, f));
    assert_true(jim_msg_has(b->msg, JIM_FIELD_MESSAGES_PER_SEC));
    tc_close(a);
    tc_close(b);
    tc_close(ctl);
    jimd_cleanup(&p);
}

/* A connection from a uid that is neither root nor jimd's gets one 403 and is closed.
 * The socket's mode (0600) keeps other users out already; SO_PEERCRED is the check that
 * holds even if that mode is changed. The child keeps root's file-system uid (setfsuid)
 * to pass the mode, with nobody's effective uid, which is what SO_PEERCRED reports. */
static void control_socket__another_uid__403_and_closed(void **state)
{
    (void)state;
    if (geteuid() != 0) {
        print_message("# needs root to connect as another uid\n");
        skip();
        return;
    }
    jimd_proc p;
    assert_int_equal(jimd_start(&p, 1, NULL), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGPIPE, SIG_IGN);
        if (setegid(65534) != 0 || seteuid(65534) != 0)
            _exit(10);
        setfsuid(0);
        tclient *c = ctl_connect(&p);
        if (!c)
            _exit(11);
        jim_msg *m = tc_recv(c, T);
        int refused = m && jim_msg_response(m) == 403;
        tc_send(c, "{\"action\":\"admin_stats\"}");
        int ok = refused && tc_eof(c, T);
        tc_close(c); /* the child leaves nothing open (make valgrind checks) */
        _exit(ok ? 0 : 12);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(jimd_log_count(&p, "control connection from uid 65534 refused"), 1);
    /* Root still may. */
    tclient *ctl = ctl_connect(&p);
    assert_non_null(ctl);
    assert_int_equal(ask(ctl, "{\"action\":\"admin_stats\"}"), 200);
    tc_close(ctl);
    jimd_cleanup(&p);
}

/* Logs in sessions of name until both workers have one: at most max kept (max_sessions is
 * 8), one landing where there are enough already closed again, 40 tries. How many are in
 * out, negative when the kernel never picked the other worker. */
static int spread(jimd_proc *p, const char *name, tclient **out, int max)
{
    int n = 0, seen[2] = {0, 0};
    for (int tries = 0; tries < 40 && !(seen[0] && seen[1]); tries++) {
        tclient *c = session_of(p, name);
        int w = jimd_user_worker(p, name);
        if (w < 0 || w > 1 || (seen[w] && n >= max - 1)) {
            tc_close(c);
            usleep(50000); /* its log-out reaches the other worker's count */
            continue;
        }
        seen[w] = 1;
        out[n++] = c;
    }
    return seen[0] && seen[1] ? n : -n;
}

static void admin_ban__sessions_on_both_workers__all_closed(void **state)
{
    (void)state;
    jimd_proc p;
    assert_int_equal(jimd_start(&p, 2, NULL), 0);
    tclient *ctl = ctl_connect(&p);
    assert_non_null(ctl);
    add_user(ctl, "victim", "user");
    add_user(ctl, "mod", "admin");
    tclient *v[8];
    int n = spread(&p, "victim", v, 6);
    if (n < 0) {
        for (int i = 0; i < -n; i++)
            tc_close(v[i]);
        jimd_cleanup(&p);
        print_message("# every connection landed on one worker\n");
        skip();
        return;
    }
    tclient *mod = session_of(&p, "mod");
    assert_int_equal(ask(mod, "{\"action\":\"admin_ban\",\"user_id\":\"victim\",\"reason\":"
                              "\"spam\"}"),
                     200);
    for (int i = 0; i < n; i++) {
        assert_int_equal(tc_response(v[i], T), 403);
        assert_non_null(strstr(jim_msg_get_str(v[i]->msg, JIM_FIELD_ERROR),
                               "banned by an administrator: spam"));
        assert_true(tc_eof(v[i], T));
        tc_close(v[i]);
    }
    /* Banned: no log-in on any worker; unbanned: back. */
    for (int i = 0; i < 4; i++) {
        tclient *c = tc_connect(p.port);
        assert_non_null(c);
        assert_int_equal(login(c, "victim", "password1"), 403);
        tc_close(c);
    }
    assert_int_equal(ask(ctl, "{\"action\":\"admin_unban\",\"user_id\":\"victim\"}"), 200);
    tc_close(session_of(&p, "victim"));
    /* A kick closes the sessions, and the account may come back at once. */
    tclient *again = session_of(&p, "victim");
    assert_int_equal(ask(ctl, "{\"action\":\"admin_kick\",\"user_id\":\"victim\"}"), 200);
    assert_int_equal(tc_response(again, T), 403);
    assert_true(tc_eof(again, T));
    tc_close(again);
    tc_close(session_of(&p, "victim"));
    tc_close(mod);
    tc_close(ctl);
    jimd_cleanup(&p);
}

/* admin_set holds on every worker: registration closed is refused wherever a client lands. */
static void admin_set__registration_closed__on_every_worker(void **state)
{
    (void)state;
    jimd_proc p;
    assert_int_equal(jimd_start(&p, 2, NULL), 0);
    tclient *ctl = ctl_connect(&p);
    assert_non_null(ctl);
    assert_int_equal(ask(ctl, "{\"action\":\"admin_set\",\"setting\":\"registration\","
                              "\"value\":\"closed\"}"),
                     200);
    usleep(200000); /* through the master to the other worker */
    for (int i = 0; i < 8; i++) {
        tclient *c = tc_connect(p.port);
        assert_non_null(c);
        tc_send(c,
                "{\"action\":\"register\",\"user\":{\"account_name\":\"late%d\","
                "\"password\":\"password1\"}}",
                i);
        assert_int_equal(tc_response(c, T), 403);
        tc_close(c);
    }
    /* Accounts can still be made by an administrator. */
    add_user(ctl, "invited", "user");
    tc_close(session_of(&p, "invited"));
    tc_close(ctl);
    jimd_cleanup(&p);
}

static void set_password__old_wrong_then_right__only_new_works(void **state)
{
    (void)state;
    jimd_proc p;
    assert_int_equal(jimd_start(&p, 1, NULL), 0);
    tclient *c = tc_online(p.port, "changer");
    assert_non_null(c);
    assert_int_equal(ask(c, "{\"action\":\"set_password\",\"old_password\":\"wrong-one\","
                            "\"new_password\":\"password2\"}"),
                     402);
    assert_int_equal(ask(c, "{\"action\":\"set_password\",\"old_password\":\"password1\","
                            "\"new_password\":\"short\"}"),
                     400);
    assert_int_equal(ask(c, "{\"action\":\"set_password\",\"old_password\":\"password1\","
                            "\"new_password\":\"password2\"}"),
                     200);
    assert_int_equal(ask(c, "{\"action\":\"get_contacts\"}"), 202); /* still logged in */
    tclient *d = tc_connect(p.port);
    assert_non_null(d);
    assert_int_equal(login(d, "changer", "password1"), 402);
    assert_int_equal(login(d, "changer", "password2"), 200);
    tc_close(d);
    /* Not logged in: 401. */
    tclient *e = tc_connect(p.port);
    assert_non_null(e);
    assert_int_equal(ask(e, "{\"action\":\"set_password\",\"old_password\":\"password2\","
                            "\"new_password\":\"password3\"}"),
                     401);
    tc_close(e);
    tc_close(c);
    jimd_cleanup(&p);
}

/* A control socket that answers belongs to another jimd: a second one set to the same path
 * refuses to start; a socket left by a jimd killed with SIGKILL is replaced at restart. */
static void control_socket__live_kept_stale_replaced(void **state)
{
    (void)state;
    jimd_proc a, b;
    char conf[200];
    assert_int_equal(jimd_start(&a, 1, NULL), 0);
    snprintf(conf, sizeof conf, "control_socket %s/jimd.ctl", a.dir);
    assert_int_not_equal(jimd_start(&b, 1, conf), 0);
    assert_int_equal(jimd_log_count(&b, "jimd.ctl is in use by another jimd"), 1);
    jimd_cleanup(&b);
    tclient *ctl = ctl_connect(&a);
    assert_non_null(ctl);
    assert_int_equal(ask(ctl, "{\"action\":\"admin_stats\"}"), 200);
    tc_close(ctl);
    assert_int_equal(jimd_kill9(&a), 0); /* the socket stays behind */
    int restarted = -1;
    for (int i = 0; i < 40 && restarted != 0; i++) { /* until the workers left the database */
        usleep(250000);
        restarted = jimd_restart(&a);
    }
    assert_int_equal(restarted, 0);
    ctl = ctl_connect(&a);
    assert_non_null(ctl);
    assert_int_equal(ask(ctl, "{\"action\":\"admin_stats\"}"), 200);
    tc_close(ctl);
    jimd_cleanup(&a);
}

/* A limit set at run time holds for a connection made afterwards, even when a framer made
 * before the change (held by a connection in the middle of an object) went back to the
 * worker's spares after it. */
static void admin_set__message_chars__holds_for_a_new_connection(void **state)
{
    (void)state;
    jimd_proc p;
    assert_int_equal(jimd_start(&p, 1, NULL), 0);
    tclient *ctl = ctl_connect(&p);
    assert_non_null(ctl);
    tclient *a = tc_online(p.port, "alice");
    tclient *b = tc_online(p.port, "bob");
    assert_non_null(a);
    assert_non_null(b);
    const char *head = "{\"action\":\"msg\",\"to\":\"bob\",";
    tc_send_raw(a, head, strlen(head)); /* alice's framer holds part of an object */
    usleep(100000);
    assert_int_equal(ask(ctl, "{\"action\":\"admin_set\",\"setting\":\"max_message_chars\","
                              "\"value\":\"10\"}"),
                     200);
    usleep(200000);
    const char *tail = "\"message\":\"hi\"}\n";
    tc_send_raw(a, tail, strlen(tail));
    assert_int_equal(tc_response(a, T), 200); /* its framer goes back to the spares */
    tclient *c = tc_online(p.port, "carol");
    assert_non_null(c);
    assert_int_equal(ask(c, "{\"action\":\"msg\",\"to\":\"bob\",\"message\":"
                            "\"twenty characters...\"}"),
                     400);
    tc_close(c);
    tc_close(b);
    tc_close(a);
    tc_close(ctl);
    jimd_cleanup(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(admin_actions__as_user_admin_and_control__403_or_done),
        cmocka_unit_test(admin_users_and_stats__after_traffic__counted),
        cmocka_unit_test(control_socket__another_uid__403_and_closed),
        cmocka_unit_test(control_socket__live_kept_stale_replaced),
        cmocka_unit_test(admin_ban__sessions_on_both_workers__all_closed),
        cmocka_unit_test(admin_set__registration_closed__on_every_worker),
        cmocka_unit_test(set_password__old_wrong_then_right__only_new_works),
        cmocka_unit_test(admin_set__message_chars__holds_for_a_new_connection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

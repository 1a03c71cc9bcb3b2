/*
 * jimd_harness.h — starts a real jimd (the one just built) on an ephemeral loopback
 * port with a temporary database, and talks to it with blocking test clients made of
 * a socket, libjim's framer and its codec.
 */
#ifndef JIMD_HARNESS_H
#define JIMD_HARNESS_H

#include <jim/jim.h>

#include <sys/types.h>

typedef struct jimd_proc {
    pid_t pid;
    int port;
    int workers;
    char dir[96];
    char log[160];
    char db[160];
    char conf[160];
    char address[48]; /* the loopback address it listens on */
} jimd_proc;

/* How many times longer jimd may take than normally: 10 under JIMD_WRAPPER (the command
 * jimd is started through, e.g. valgrind), else 1. */
int jimd_slowdown(void);
/* Starts jimd with `workers` workers and extra config lines (may be NULL); 0 on success. */
int jimd_start(jimd_proc *p, int workers, const char *extra_config);
/* The same on another loopback address (e.g. "::1"). */
int jimd_start_at(jimd_proc *p, const char *address, int workers, const char *extra_config);
/* Makes the directory and config of jimd_start without starting it: the caller may change
 * p->db, then starts it with jimd_restart (on a port of its choosing). */
int jimd_prepare(jimd_proc *p, int workers, const char *extra_config);
/* Starts jimd again on the same directory, database and port. */
int jimd_restart(jimd_proc *p);
/* Sends SIGTERM and waits; returns the exit status, or -1. */
int jimd_stop(jimd_proc *p);
/* Kills the master with SIGKILL (its workers are left to notice) and reaps it; 0 on success. */
int jimd_kill9(jimd_proc *p);
/* Stops jimd if running and removes its directory. */
void jimd_cleanup(jimd_proc *p);
/* The one-worker jimd a whole test group shares, started and stopped by cmocka's
 * group setup and teardown: cmocka_run_group_tests(tests, jimd_group_start,
 * jimd_group_stop). */
extern jimd_proc jimd_group;
int jimd_group_start(void **state);
int jimd_group_stop(void **state);
/* Kills every server still running (also done at exit). */
void jimd_kill_leftovers(void);
/* The pid of worker `index` as the log last reported it, or -1. */
pid_t jimd_worker_pid(jimd_proc *p, int index);
/* The worker the user's latest login landed on (from the log), or -1. */
int jimd_user_worker(jimd_proc *p, const char *user);
/* Counts log lines containing `needle`. */
int jimd_log_count(jimd_proc *p, const char *needle);

typedef struct tclient {
    int fd;
    jim_framer *framer;
    jim_msg *msg;
    char last_error[256];
} tclient;

/* Connects to 127.0.0.1:port; NULL on failure. */
tclient *tc_connect(int port);
void tc_close(tclient *c);
/* Sends raw bytes. */
int tc_send_raw(tclient *c, const char *data, size_t len);
/* Sends a printf-formatted JSON object followed by a newline. */
int tc_send(tclient *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* The tc_ waits below are stretched by jimd_slowdown() (under valgrind).
 * The next object, decoded into c->msg; NULL on timeout, EOF or a bad object. */
jim_msg *tc_recv(tclient *c, int timeout_ms);
/* The next response (pushes before it are skipped); its code, or -1 on timeout/EOF. */
int tc_response(tclient *c, int timeout_ms);
/* The next msg push (responses and presence pushes are skipped); NULL on timeout. */
jim_msg *tc_next_msg(tclient *c, int timeout_ms);
/* True when the server closed the connection within timeout_ms. */
int tc_eof(tclient *c, int timeout_ms);
/* register (ignoring 409) and authenticate with ndjson; 200 on success. */
int tc_login(tclient *c, const char *name, const char *password);
/* A new client logged in as name with "password1"; NULL if either step fails. */
tclient *tc_online(int port, const char *name);
/* Two such clients, a and b; 0 when both are online. */
int tc_online_pair(int port, const char *a, tclient **ca, const char *b, tclient **cb);
/* Set when built with AddressSanitizer: its shadow memory and quarantine make a
 * process's RSS no measure of what it holds. */
#if defined(__SANITIZE_ADDRESS__)
#define JIM_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define JIM_TEST_ASAN 1
#endif
#endif

/* The resident memory of a process in KiB, or -1. */
long proc_rss_kb(pid_t pid);
/* The CPU time a process has used, user and system, in seconds; -1 if unknown. */
double proc_cpu_seconds(pid_t pid);
/* A 500-character message body, for tests that need the WAL or a socket to fill fast. */
const char *tc_long_text(void);

#endif

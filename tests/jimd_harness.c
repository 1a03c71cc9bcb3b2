/* jimd_harness.c — a real jimd for end-to-end tests, and blocking clients for it. */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE
#include "jimd_harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Reads the port and counts ready workers from the log. */
static int scan_log(jimd_proc *p, int *ready)
{
    FILE *f = fopen(p->log, "r");
    char line[1024];
    *ready = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f)) {
        const char *at = strstr(line, " port ");
        if (strstr(line, "listening on") && at)
            p->port = atoi(at + 6);
        if (strstr(line, " ready (pid "))
            (*ready)++;
    }
    fclose(f);
    return p->port;
}

/* Every server running, so none outlives a test that failed half-way (cmocka
 * leaves a failed test by longjmp, past its own cleanup). */
static pid_t running[64];

static void kill_leftovers(void)
{
    for (size_t i = 0; i < sizeof running / sizeof running[0]; i++)
        if (running[i] > 0) {
            kill(running[i], SIGKILL);
            waitpid(running[i], NULL, 0);
            running[i] = 0;
        }
}

static void remember(pid_t pid, pid_t old)
{
    static int registered;
    if (!registered) {
        atexit(kill_leftovers);
        registered = 1;
    }
    for (size_t i = 0; i < sizeof running / sizeof running[0]; i++)
        if (running[i] == old) {
            running[i] = pid;
            return;
        }
}

void jimd_kill_leftovers(void)
{
    kill_leftovers();
}

static int launch(jimd_proc *p, int port)
{
    const char *top = getenv("top_builddir");
    char bin[512], portarg[16], workers[16];
    snprintf(bin, sizeof bin, "%s/jimd/jimd", top ? top : ".");
    snprintf(portarg, sizeof portarg, "%d", port);
    snprintf(workers, sizeof workers, "%d", p->workers);
    int before = 0;
    scan_log(p, &before);
    p->port = 0;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        /* Not the test's stdout: a pipe reading it must not wait for jimd. */
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
            if (null > 1)
                close(null); /* jimd inherits no descriptor it does not know of */
        }
        /* A test of running out of descriptors sets a low limit for the server only. */
        const char *nofile = getenv("JIMD_TEST_NOFILE");
        if (nofile) {
            struct rlimit rl = {(rlim_t)atol(nofile), (rlim_t)atol(nofile)};
            setrlimit(RLIMIT_NOFILE, &rl);
        }
        /* JIMD_WRAPPER (e.g. "valgrind --trace-children=yes ...") runs jimd under a tool. */
        char *argv[64], wrap[1024];
        int argc = 0;
        snprintf(wrap, sizeof wrap, "%s", getenv("JIMD_WRAPPER") ? getenv("JIMD_WRAPPER") : "");
        for (char *w = strtok(wrap, " "); w && argc < 48; w = strtok(NULL, " "))
            argv[argc++] = w;
        const char *args[] = {bin,     "-a", p->address, "-p", portarg, "-w",
                              workers, "-D", p->db,      "-c", p->conf};
        for (size_t i = 0; i < sizeof args / sizeof args[0]; i++)
            argv[argc++] = (char *)args[i];
        argv[argc] = NULL;
        execvp(argv[0], argv);
        _exit(127);
    }
    p->pid = pid;
    remember(pid, 0);
    /* Ready when the log names the port and every worker of this start says so. */
    for (long deadline = now_ms() + 20000 * jimd_slowdown(); now_ms() < deadline;) {
        int ready = 0;
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            remember(0, pid);
            p->pid = 0;
            return -1;
        }
        if (scan_log(p, &ready) && ready - before >= p->workers)
            return 0;
        usleep(20000);
    }
    return -1;
}

int jimd_slowdown(void)
{
    const char *w = getenv("JIMD_WRAPPER");
    return w && *w ? 10 : 1;
}

jimd_proc jimd_group;

int jimd_group_start(void **state)
{
    (void)state;
    return jimd_start(&jimd_group, 1, NULL);
}

int jimd_group_stop(void **state)
{
    (void)state;
    int rc = jimd_stop(&jimd_group);
    jimd_cleanup(&jimd_group);
    return rc == 0 ? 0 : -1;
}

int jimd_start(jimd_proc *p, int workers, const char *extra_config)
{
    return jimd_start_at(p, "127.0.0.1", workers, extra_config);
}

int jimd_start_at(jimd_proc *p, const char *address, int workers, const char *extra_config)
{
    if (jimd_prepare(p, workers, extra_config) != 0)
        return -1;
    snprintf(p->address, sizeof p->address, "%s", address);
    return launch(p, 0);
}

int jimd_prepare(jimd_proc *p, int workers, const char *extra_config)
{
    memset(p, 0, sizeof *p);
    snprintf(p->address, sizeof p->address, "127.0.0.1");
    p->workers = workers;
    strcpy(p->dir, "/tmp/jim-test-XXXXXX");
    if (!mkdtemp(p->dir))
        return -1;
    snprintf(p->log, sizeof p->log, "%s/jimd.log", p->dir);
    snprintf(p->db, sizeof p->db, "%s/jimd.db", p->dir);
    snprintf(p->conf, sizeof p->conf, "%s/jimd.conf", p->dir);
    FILE *f = fopen(p->conf, "w");
    if (!f)
        return -1;
    /* A cheap scrypt keeps the suite fast; the cost is a setting like any other. Every
     * test client comes from 127.0.0.1, which registers more accounts than one address
     * may by default (tests of that limit set it themselves, later lines win). Under
     * valgrind a costly hash takes longer than the default login_timeout itself. */
    fprintf(f, "log_file %s\nlog_level debug\nscrypt_n 1024\nregister_max_ip 100000\n%s%s\n",
            p->log, jimd_slowdown() > 1 ? "login_timeout 600\n" : "",
            extra_config ? extra_config : "");
    fclose(f);
    return 0;
}

int jimd_restart(jimd_proc *p)
{
    return launch(p, p->port);
}

int jimd_stop(jimd_proc *p)
{
    int status = -1;
    if (p->pid <= 0)
        return -1;
    kill(p->pid, SIGTERM);
    for (long deadline = now_ms() + 30000 * jimd_slowdown(); now_ms() < deadline; usleep(10000)) {
        if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
            remember(0, p->pid);
            p->pid = 0;
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        }
    }
    kill(p->pid, SIGKILL);
    waitpid(p->pid, &status, 0);
    remember(0, p->pid);
    p->pid = 0;
    return -1;
}

int jimd_kill9(jimd_proc *p)
{
    if (p->pid <= 0)
        return -1;
    kill(p->pid, SIGKILL);
    waitpid(p->pid, NULL, 0);
    remember(0, p->pid);
    p->pid = 0;
    return 0;
}

void jimd_cleanup(jimd_proc *p)
{
    char cmd[256];
    if (p->pid > 0)
        jimd_stop(p);
    if (p->dir[0] && !getenv("JIM_KEEP_TEST_DIR")) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", p->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "cannot remove %s\n", p->dir);
    }
}

/* The number after `marker` on the last log line that contains `needle`, or -1. */
static int last_number(jimd_proc *p, const char *needle, const char *marker)
{
    FILE *f = fopen(p->log, "r");
    char line[1024];
    int n = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        const char *at = strstr(line, marker);
        if (strstr(line, needle) && at)
            n = atoi(at + strlen(marker));
    }
    fclose(f);
    return n;
}

pid_t jimd_worker_pid(jimd_proc *p, int index)
{
    char want[64];
    snprintf(want, sizeof want, "worker %d started (pid ", index);
    return (pid_t)last_number(p, want, want);
}

int jimd_user_worker(jimd_proc *p, const char *user)
{
    char want[96];
    snprintf(want, sizeof want, " %s logged in from ", user);
    return last_number(p, want, " worker[");
}

int jimd_log_count(jimd_proc *p, const char *needle)
{
    FILE *f = fopen(p->log, "r");
    char line[2048];
    int n = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

tclient *tc_connect(int port)
{
    tclient *c = calloc(1, sizeof *c);
    struct sockaddr_in a;
    int one = 1;
    if (!c)
        return NULL;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        jim_framer_new(&c->framer, NULL) != JIM_OK || jim_msg_new(&c->msg) != JIM_OK) {
        tc_close(c);
        return NULL;
    }
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return c;
}

void tc_close(tclient *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    jim_framer_free(c->framer);
    jim_msg_free(c->msg);
    free(c);
}

int tc_send_raw(tclient *c, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

int tc_send(tclient *c, const char *fmt, ...)
{
    char buf[70000];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof buf - 1)
        return -1;
    buf[n++] = '\n';
    return tc_send_raw(c, buf, (size_t)n);
}

/* The deadline timeout_ms from now, stretched as jimd is slowed (valgrind runs it 10 times
 * slower: a wait is a bound on a failure, not a measure). */
static long deadline_in(int timeout_ms)
{
    return now_ms() + (long)timeout_ms * jimd_slowdown();
}

/* The next object from c, read until deadline (now_ms() time). */
static jim_msg *recv_until(tclient *c, long deadline)
{
    for (;;) {
        int rc = jim_framer_next_msg(c->framer, c->msg);
        if (rc == JIM_OK)
            return c->msg;
        if (rc != JIM_EAGAIN) {
            snprintf(c->last_error, sizeof c->last_error, "%s", jim_framer_errmsg(c->framer));
            return NULL;
        }
        long left = deadline - now_ms();
        if (left <= 0)
            return NULL;
        struct pollfd pfd = {c->fd, POLLIN, 0};
        if (poll(&pfd, 1, (int)left) <= 0)
            return NULL;
        char buf[65536];
        ssize_t n = recv(c->fd, buf, sizeof buf, 0);
        if (n <= 0)
            return NULL;
        jim_framer_feed(c->framer, buf, (size_t)n);
    }
}

jim_msg *tc_recv(tclient *c, int timeout_ms)
{
    return recv_until(c, deadline_in(timeout_ms));
}

int tc_response(tclient *c, int timeout_ms)
{
    long deadline = deadline_in(timeout_ms);
    for (;;) {
        jim_msg *m = recv_until(c, deadline);
        if (!m)
            return -1;
        if (jim_msg_response(m))
            return jim_msg_response(m);
    }
}

jim_msg *tc_next_msg(tclient *c, int timeout_ms)
{
    long deadline = deadline_in(timeout_ms);
    for (;;) {
        jim_msg *m = recv_until(c, deadline);
        if (!m || jim_msg_action(m) == JIM_ACTION_MSG)
            return m;
    }
}

int tc_eof(tclient *c, int timeout_ms)
{
    long deadline = deadline_in(timeout_ms);
    char buf[4096];
    for (;;) {
        long left = deadline - now_ms();
        if (left <= 0)
            return 0;
        struct pollfd pfd = {c->fd, POLLIN, 0};
        if (poll(&pfd, 1, (int)left) <= 0)
            return 0;
        ssize_t n = recv(c->fd, buf, sizeof buf, 0);
        if (n == 0 || (n < 0 && errno == ECONNRESET))
            return 1;
        if (n < 0)
            return 0;
    }
}

int tc_login(tclient *c, const char *name, const char *password)
{
    tc_send(c,
            "{\"action\":\"register\",\"time\":1,\"user\":{\"account_name\":\"%s\","
            "\"password\":\"%s\"}}",
            name, password);
    int rc = tc_response(c, 10000);
    if (rc != 201 && rc != 409)
        return rc;
    tc_send(c,
            "{\"action\":\"authenticate\",\"time\":1,\"user\":{\"account_name\":\"%s\","
            "\"password\":\"%s\",\"features\":[\"ndjson\"]}}",
            name, password);
    return tc_response(c, 10000);
}

tclient *tc_online(int port, const char *name)
{
    tclient *c = tc_connect(port);
    if (c && tc_login(c, name, "password1") != 200) {
        tc_close(c);
        c = NULL;
    }
    return c;
}

int tc_online_pair(int port, const char *a, tclient **ca, const char *b, tclient **cb)
{
    *ca = tc_online(port, a);
    *cb = tc_online(port, b);
    return *ca && *cb ? 0 : -1;
}

long proc_rss_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = atol(line + 6);
    fclose(f);
    return kb;
}

double proc_cpu_seconds(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    unsigned long utime = 0, stime = 0;
    if (!p ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
        return -1;
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

const char *tc_long_text(void)
{
    static char text[501];
    if (!text[0])
        memset(text, 'x', 500);
    return text;
}

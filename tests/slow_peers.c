/* slow_peers.c — peers that try to tie jimd up: a flood of connections from one address
 * (limited per address over every worker), and senders that trickle one byte at a time
 * (slowloris), before and after logging in. Prints TAP; a "# TODO" line is a known gap of
 * jimd, to be enabled once it is closed. (A client that stops reading is in
 * test_jimd_protocol: slow_reader__dropped_when_its_output_passes_the_limit.) */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE
#include "jimd_harness.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int n, failures;

static void tap(int ok, const char *todo, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void tap(int ok, const char *todo, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%s %d - ", ok ? "ok" : "not ok", ++n);
    vprintf(fmt, ap);
    va_end(ap);
    printf("%s%s\n", todo ? " # TODO " : "", todo ? todo : "");
    fflush(stdout);
    if (!ok && !todo)
        failures++;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sends text one byte every `gap_ms` until the server closes the connection or `limit_s`
 * seconds pass; returns the seconds it took to be closed, or -1. */
static double trickle(tclient *c, const char *text, int gap_ms, double limit_s)
{
    double t0 = now_s();
    for (size_t i = 0; now_s() - t0 < limit_s; i = (i + 1) % strlen(text)) {
        if (tc_send_raw(c, text + i, 1) != 0 || tc_eof(c, gap_ms))
            return now_s() - t0;
    }
    return -1;
}

#define FLOOD 300
#define PER_IP 40

static void flood(void)
{
    jimd_proc p;
    if (jimd_start(&p, 2, "max_connections_per_ip 40\nlog_level info") != 0) {
        tap(0, NULL, "jimd -w 2 starts");
        return;
    }
    static tclient *c[FLOOD];
    double t0 = now_s();
    for (int i = 0; i < FLOOD; i++)
        c[i] = tc_connect(p.port);
    double took = now_s() - t0;
    usleep(500000); /* the refused ones are closed by now */
    int open = 0, alive = 0;
    for (int i = 0; i < FLOOD; i++)
        if (c[i] && !tc_eof(c[i], 5))
            open++;
    tap(open >= PER_IP - 2 && open <= PER_IP, NULL,
        "%d connections from one address at once (%.2f s), -w 2, max_connections_per_ip %d: "
        "%d kept, the rest closed",
        FLOOD, took, PER_IP, open);
    /* The workers count in one shared table (doc/design.md): the limit is exact. */
    tap(open == PER_IP, NULL, "the limit holds exactly over both workers (%d kept, limit %d)", open,
        PER_IP);
    for (int i = 0; i < FLOOD; i++)
        if (c[i] && tc_send(c[i], "{\"action\":\"get_rooms\"}") == 0 &&
            tc_response(c[i], 2000) == 401)
            alive++;
    tap(alive == open, NULL, "every connection kept is served (%d answered of %d kept)", alive,
        open);
    int lines = jimd_log_count(&p, "too many connections from 127.0.0.1");
    tap(lines <= 10, NULL,
        "the refusals are logged once per interval, "
        "not once each (%d lines for %d refused)",
        lines, FLOOD - open);
    /* A worker killed while it holds some of them: its share is given back, so once the
     * rest are closed the address gets the whole limit again. */
    pid_t w0 = jimd_worker_pid(&p, 0);
    if (w0 > 0)
        kill(w0, SIGKILL);
    for (int i = 0; i < FLOOD; i++)
        tc_close(c[i]);
    usleep(300000);
    for (int tries = 0; tries < 50 && jimd_worker_pid(&p, 0) == w0; tries++)
        usleep(100000); /* the master respawns it */
    int again = 0;
    for (int i = 0; i < FLOOD; i++)
        c[i] = tc_connect(p.port);
    usleep(500000);
    for (int i = 0; i < FLOOD; i++) {
        if (c[i] && !tc_eof(c[i], 5))
            again++;
        tc_close(c[i]);
    }
    tap(w0 > 0 && again == PER_IP, NULL,
        "after a worker holding some was killed: %d of the limit %d kept again", again, PER_IP);
    usleep(300000);
    tclient *after = NULL;
    for (int tries = 0; tries < 20 && !after; tries++) {
        after = tc_online(p.port, "flood_after");
        if (!after)
            usleep(100000);
    }
    tap(after != NULL, NULL, "once they are closed, the address connects and logs in again");
    tc_close(after);
    tap(jimd_stop(&p) == 0, NULL, "jimd stops cleanly after the flood");
    jimd_cleanup(&p);
}

static void slowloris(void)
{
    jimd_proc p;
    if (jimd_start(&p, 1, "login_timeout 1\nlog_level info") != 0) {
        tap(0, NULL, "jimd starts");
        return;
    }
    const char *login = "{\"action\":\"authenticate\",\"user\":{\"account_name\":\"slow\","
                        "\"password\":\"password1\"}}\n";
    tclient *before = tc_connect(p.port);
    double t = before ? trickle(before, login, 300, 5) : -1;
    tap(t > 0.5 && t < 4, NULL,
        "a byte every 0.3 s before logging in: closed after login_timeout 1 (in %.1f s)", t);
    tc_close(before);

    tclient *in = tc_online(p.port, "slow");
    double t2 =
        in ? trickle(in, "{\"action\":\"get_contacts\",\"pad\":\"xxxxxxxxxxxxxxxxxxxxx\"}\n", 300,
                     4)
           : -1;
    tap(t2 > 0.5 && t2 < 4, NULL,
        "a byte every 0.3 s after logging in: closed once one object takes more than the "
        "limit (login_timeout 1; in %.1f s)",
        t2);
    tc_close(in);

    jimd_stop(&p);
    jimd_cleanup(&p);
}

int main(void)
{
    printf("1..9\n");
    flood();
    slowloris();
    return failures ? 1 : 0;
}

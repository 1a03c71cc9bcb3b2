/* crowd.c — ten thousand logged-in idle connections held for a minute while messages flow
 * among a hundred others (50 pairs), on jimd -w 2. Records the servers' memory per idle
 * connection, the pairs' latency (p50, p99, max), and that no connection was dropped: every
 * idle one still answers at the end (they answer probes, as a client does). Not part of
 * make check: make longcheck runs it. Prints TAP. -n IDLE (10000), -t SECONDS (60). */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE
#include "jimd_harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int tests, failures;

static void tap(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tap(int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%s %d - ", ok ? "ok" : "not ok", ++tests);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    failures += !ok;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct conn {
    int fd;
    jim_framer *framer;
    int logged_in, dropped, answered; /* answered: the last check's 202 came */
    int peer;                         /* pairs: the partner's index; -1 for idle ones */
    char name[24];
} conn;

static conn *conns;
static int nconns, ep;
static jim_msg *msg;
static long probes, sent, delivered;
static double *lat;
static size_t nlat, caplat;

static int connect_one(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static void send_line(conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void send_line(conn *c, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
    va_end(ap);
    buf[n++] = '\n';
    if (send(c->fd, buf, (size_t)n, MSG_NOSIGNAL) != n) /* small lines: the buffer takes them */
        c->dropped = 1;
}

static void on_object(conn *c)
{
    int code = jim_msg_response(msg);
    if (code == 200 && !c->logged_in) {
        c->logged_in = 1;
        return;
    }
    if (code == 202)
        c->answered = 1;
    if (jim_msg_action(msg) == JIM_ACTION_PROBE) {
        probes++;
        send_line(c,
                  "{\"action\":\"presence\",\"user\":{\"account_name\":\"%s\",\"status\":"
                  "\"online\",\"features\":[\"ndjson\"]}}",
                  c->name);
    }
    if (jim_msg_action(msg) == JIM_ACTION_MSG) {
        const char *t = jim_msg_get_str(msg, JIM_FIELD_MESSAGE);
        double at = t ? atof(t) : 0;
        if (at > 0) {
            if (nlat == caplat) {
                caplat = caplat ? 2 * caplat : 65536;
                lat = realloc(lat, caplat * sizeof *lat);
            }
            lat[nlat++] = (now_s() - at) * 1000;
            delivered++;
        }
    }
}

static void on_readable(conn *c)
{
    char buf[65536];
    for (;;) {
        ssize_t n = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) {
            jim_framer_feed(c->framer, buf, (size_t)n);
            while (jim_framer_next_msg(c->framer, msg) == JIM_OK)
                on_object(c);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n < 0 && errno == EINTR)
            continue;
        if (!c->dropped) {
            c->dropped = 1;
            epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        }
        return;
    }
}

/* Handles what arrives for up to `seconds`; every `every` seconds each pair's sender sends. */
static void run(double seconds, double every)
{
    struct epoll_event ev[512];
    double end = now_s() + seconds, next = now_s();
    while (now_s() < end) {
        if (every > 0 && now_s() >= next) {
            for (int i = 0; i < nconns; i++)
                if (conns[i].peer > i && conns[i].logged_in && !conns[i].dropped) {
                    send_line(&conns[i], "{\"action\":\"msg\",\"to\":\"%s\",\"message\":\"%.6f\"}",
                              conns[conns[i].peer].name, now_s());
                    sent++;
                }
            next += every;
        }
        int n = epoll_wait(ep, ev, 512, 5);
        for (int i = 0; i < n; i++)
            on_readable(&conns[ev[i].data.u32]);
    }
}

static long servers_rss_kb(jimd_proc *p)
{
    long kb = proc_rss_kb(p->pid);
    for (int i = 0; i < p->workers; i++)
        kb += proc_rss_kb(jimd_worker_pid(p, i));
    return kb;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int idle = 10000, pairs = 50;
    double seconds = 60;
    for (int c; (c = getopt(argc, argv, "n:t:")) != -1;) {
        if (c == 'n')
            idle = atoi(optarg);
        else if (c == 't')
            seconds = atof(optarg);
    }
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    if ((long)rl.rlim_cur < idle + 2 * pairs + 100) {
        printf("1..0 # SKIP %d connections need more descriptors than %ld\n", idle + 2 * pairs,
               (long)rl.rlim_cur);
        return 0;
    }
    printf("1..5\n");
    jimd_proc p;
    char config[256];
    snprintf(config, sizeof config,
             "auth none\nmax_connections_per_ip %d\nmsg_rate 0\nlog_level info\n"
             "probe_interval 20",
             idle + 2 * pairs + 100);
    if (jimd_start(&p, 2, config) != 0) {
        printf("Bail out! jimd did not start\n");
        return 1;
    }
    sleep(1);
    long rss0 = servers_rss_kb(&p);
    nconns = idle + 2 * pairs;
    conns = calloc((size_t)nconns, sizeof *conns);
    jim_msg_new(&msg);
    ep = epoll_create1(EPOLL_CLOEXEC);
    double t0 = now_s();
    int made = 0;
    for (int i = 0; i < nconns; i++) {
        conn *c = &conns[i];
        c->peer = -1;
        if (i >= idle) /* pairs: idle+2k sends to idle+2k+1 */
            c->peer = ((i - idle) % 2 == 0) ? i + 1 : i - 1;
        snprintf(c->name, sizeof c->name, i < idle ? "idle%d" : "active%d", i);
        c->fd = connect_one(p.port);
        if (c->fd < 0) {
            c->dropped = 1;
            continue;
        }
        made++;
        jim_framer_new(&c->framer, NULL);
        struct epoll_event e = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &e);
        send_line(c,
                  "{\"action\":\"presence\",\"user\":{\"account_name\":\"%s\",\"status\":"
                  "\"online\",\"features\":[\"ndjson\"]}}",
                  c->name);
        if (i % 500 == 499)
            run(0.05, 0); /* take the answers as they come */
    }
    int in = 0;
    for (double w0 = now_s(); now_s() - w0 < 60 && in < made; run(0.2, 0)) {
        in = 0;
        for (int i = 0; i < nconns; i++)
            in += conns[i].logged_in;
    }
    tap(in == nconns, "%d of %d connections logged in (%d idle, %d pairs) in %.1f s", in, nconns,
        idle, pairs, now_s() - t0);
    run(2, 0);
    long rss1 = servers_rss_kb(&p);
    double per_conn = (double)(rss1 - rss0) * 1024 / nconns;
    tap(per_conn < 16384,
        "jimd's memory (master and workers): %ld KiB before, %ld KiB with them: "
        "%.0f bytes per logged-in connection",
        rss0, rss1, per_conn);

    run(seconds, 0.05); /* each pair's sender: 20 messages a second */
    run(1, 0);
    double p50 = 0, p99 = 0, max = 0;
    if (nlat) {
        qsort(lat, nlat, sizeof *lat, cmp_double);
        p50 = lat[nlat / 2];
        p99 = lat[nlat * 99 / 100];
        max = lat[nlat - 1];
    }
    tap(delivered == sent && sent > 0,
        "for %.0f s the pairs sent %ld messages, %ld delivered: p50 %.2f ms, p99 %.2f ms, max "
        "%.1f ms; %ld probes answered",
        seconds, sent, delivered, p50, p99, max, probes);
    long rss2 = servers_rss_kb(&p);
    int dropped = 0;
    for (int i = 0; i < nconns; i++)
        dropped += conns[i].dropped;
    tap(dropped == 0, "no connection dropped in %.0f s (%d dropped); memory after: %ld KiB",
        seconds, dropped, rss2);
    /* Every idle one is still logged in: it is answered. */
    for (int i = 0; i < idle; i++)
        if (!conns[i].dropped)
            send_line(&conns[i], "{\"action\":\"get_contacts\"}");
    int answered = 0;
    for (double w0 = now_s(); now_s() - w0 < 30 && answered < idle; run(0.2, 0)) {
        answered = 0;
        for (int i = 0; i < idle; i++)
            answered += conns[i].answered;
    }
    tap(answered == idle, "every idle connection still answers: %d of %d", answered, idle);
    for (int i = 0; i < nconns; i++) {
        if (conns[i].fd >= 0)
            close(conns[i].fd);
        jim_framer_free(conns[i].framer);
    }
    free(conns);
    free(lat);
    jim_msg_free(msg);
    jimd_stop(&p);
    jimd_cleanup(&p);
    return failures ? 1 : 0;
}

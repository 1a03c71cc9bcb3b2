/* catchup.c — catching up after a long absence: a user with N direct messages waiting is
 * handed them all at its login (offline delivery), then asks `sync since 0` over them all.
 * Each time every message must arrive, in order, without the worker holding them all (its
 * resident memory is sampled throughout), without the session being cut (the reader even
 * stops reading for two seconds half-way), and without stalling the worker for another
 * pair on it, whose messages' latency is measured meanwhile (p50, p99, max).
 * Prints TAP. -n N (default 50,000; make longcheck: 1,000,000). */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE
#include "load_harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Under ASan the worker's RSS is no measure of what it holds (its quarantine keeps what
 * was freed): the memory bounds are reported, not checked. */
#ifdef JIM_TEST_ASAN
#define RSS_CHECKED 0
#else
#define RSS_CHECKED 1
#endif

/* Sends n messages from c to `to`, numbered from 0, pipelined a thousand at a time;
 * returns how many were acknowledged. */
static long fill(tclient *c, const char *to, long n)
{
    static char line[512], batch[1000 * 300];
    long acked = 0;
    for (long at = 0; at < n;) {
        size_t len = 0;
        long k = 0;
        for (; k < 1000 && at + k < n; k++) {
            int w = snprintf(line, sizeof line,
                             "{\"action\":\"msg\",\"to\":\"%s\",\"message\":\"%ld %.180s\"}\n", to,
                             at + k, tc_long_text());
            memcpy(batch + len, line, (size_t)w);
            len += (size_t)w;
        }
        if (tc_send_raw(c, batch, len) != 0)
            return acked;
        for (long i = 0; i < k; i++) {
            int code = tc_response(c, 60000);
            if (code < 0)
                return acked;
            acked += code == 200 || code == 202;
        }
        at += k;
    }
    return acked;
}

/* The next object on c without waiting: 1 (in *m), 0 when none has come yet, -1 when the
 * connection has ended. */
static int next_nb(tclient *c, jim_msg **m)
{
    for (;;) {
        int rc = jim_framer_next_msg(c->framer, c->msg);
        if (rc == JIM_OK) {
            *m = c->msg;
            return 1;
        }
        if (rc != JIM_EAGAIN) {
            if (!jim_framer_can_continue(c->framer))
                return -1;
            continue; /* a bad object: skipped */
        }
        char buf[65536];
        ssize_t k = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (k > 0) {
            jim_framer_feed(c->framer, buf, (size_t)k);
            continue;
        }
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return 0;
        return -1;
    }
}

/* The other pair: p sends a message every 5 ms while the catch-up runs; q receives them.
 * For each message: when it was sent, and its latency in ms once it arrived (-1 before). */
typedef struct pair {
    tclient *p, *q;
    double next_send;
    int sending;
    long sent, got;
    double *sent_at, *lat;
    size_t cap;
} pair;

static void pair_turn(pair *x)
{
    double now = lh_now();
    if (x->sending && now >= x->next_send) {
        if ((size_t)x->sent == x->cap) {
            x->cap = x->cap ? 2 * x->cap : 4096;
            x->sent_at = realloc(x->sent_at, x->cap * sizeof *x->sent_at);
            x->lat = realloc(x->lat, x->cap * sizeof *x->lat);
        }
        x->sent_at[x->sent] = now;
        x->lat[x->sent] = -1;
        tc_send(x->p, "{\"action\":\"msg\",\"to\":\"pair_q\",\"message\":\"%ld\"}", x->sent++);
        x->next_send = now + 0.005;
    }
    jim_msg *m;
    while (next_nb(x->p, &m) > 0) { /* answers to p: read and dropped */
    }
    while (next_nb(x->q, &m) > 0) {
        if (jim_msg_action(m) != JIM_ACTION_MSG)
            continue;
        const char *t = jim_msg_get_str(m, JIM_FIELD_MESSAGE);
        long i = t ? atol(t) : -1;
        if (i < 0 || i >= x->sent || x->lat[i] >= 0)
            continue;
        x->lat[i] = (lh_now() - x->sent_at[i]) * 1000;
        x->got++;
    }
}

/* Stops sending and waits (at most 60 s) for what was sent to arrive. */
static void pair_settle(pair *x)
{
    x->sending = 0;
    for (double t0 = lh_now(); x->got < x->sent && lh_now() - t0 < 60;) {
        pair_turn(x);
        struct pollfd pfd[2] = {{x->p->fd, POLLIN, 0}, {x->q->fd, POLLIN, 0}};
        poll(pfd, 2, 5);
    }
    x->sending = 1;
}

/* p50, p99 and max of the latencies of the messages sent from number `from` on; *lost
 * counts those that never arrived. */
static void percentiles(pair *x, long from, double *p50, double *p99, double *max, long *lost)
{
    long n = x->sent - from;
    *p50 = *p99 = *max = 0;
    *lost = 0;
    if (n <= 0)
        return;
    double *v = malloc((size_t)n * sizeof *v);
    long k = 0;
    for (long i = from; i < x->sent; i++) {
        if (x->lat[i] < 0)
            ++*lost;
        else
            v[k++] = x->lat[i];
    }
    lh_percentiles(v, (size_t)k, p50, p99, max);
    free(v);
}

typedef struct reading {
    long count, out_of_order, bad;
    long last_number;
    int64_t last_seq;
    int cut; /* the connection ended */
    long rss_peak;
} reading;

/* Reads the msg objects that come on c until the answer with id `until`, keeping the pair
 * going and sampling the worker's memory; pauses two seconds after `pause_at` messages. */
static int read_all(tclient *c, const char *until, pair *x, pid_t worker, long pause_at, reading *r)
{
    double next_sample = 0;
    int paused = 0;
    memset(r, 0, sizeof *r);
    r->last_number = -1;
    for (double last_progress = lh_now(); lh_now() - last_progress < 60;) {
        pair_turn(x);
        if (lh_now() >= next_sample) {
            long rss = proc_rss_kb(worker);
            r->rss_peak = rss > r->rss_peak ? rss : r->rss_peak;
            next_sample = lh_now() + 0.05;
        }
        if (!paused && r->count >= pause_at) { /* a reader that stops for a while */
            paused = 1;
            for (double t0 = lh_now(); lh_now() - t0 < 2;) {
                pair_turn(x);
                usleep(1000);
            }
        }
        jim_msg *m = NULL;
        int got = next_nb(c, &m);
        if (got < 0) {
            r->cut = 1;
            return 0;
        }
        if (got == 0) {
            struct pollfd pfd[3] = {
                {c->fd, POLLIN, 0}, {x->p->fd, POLLIN, 0}, {x->q->fd, POLLIN, 0}};
            poll(pfd, 3, 1);
            continue;
        }
        last_progress = lh_now();
        const char *id = jim_msg_get_str(m, JIM_FIELD_ID);
        if (jim_msg_response(m))
            if (id && strcmp(id, until) == 0)
                return jim_msg_response(m) == 200;
        if (jim_msg_action(m) != JIM_ACTION_MSG)
            continue;
        int64_t seq = 0;
        const char *t = jim_msg_get_str(m, JIM_FIELD_MESSAGE);
        jim_msg_get_int(m, JIM_FIELD_SEQ, &seq);
        long number = t ? atol(t) : -1;
        if (!t || seq <= 0)
            r->bad++;
        else if (seq <= r->last_seq || number != r->last_number + 1)
            r->out_of_order++;
        r->last_seq = seq;
        r->last_number = number;
        r->count++;
    }
    return 0;
}

int main(int argc, char **argv)
{
    long n = 50000;
    for (int c; (c = getopt(argc, argv, "n:")) != -1;)
        if (c == 'n')
            n = atol(optarg);
    printf("1..6\n");
    jimd_proc p;
    lh_start_jimd(&p, 1, "msg_rate 0\nlog_level info");
    pid_t worker = jimd_worker_pid(&p, 0);
    tclient *away = tc_online(p.port, "away");
    tc_close(away); /* gone: what comes now waits for the next login */
    tclient *sender = tc_online(p.port, "sender");
    double t0 = lh_now();
    long acked = fill(sender, "away", n);
    printf("# %ld messages stored for 'away' in %.1f s\n", acked, lh_now() - t0);
    tc_close(sender);

    pair x = {0};
    x.sending = 1;
    if (tc_online_pair(p.port, "pair_p", &x.p, "pair_q", &x.q) != 0) {
        printf("Bail out! the pair could not log in\n");
        return 1;
    }
    /* A quiet moment first: the pair's latency and the worker's memory as they are. */
    for (double q0 = lh_now(); lh_now() - q0 < 1;) {
        pair_turn(&x);
        usleep(1000);
    }
    pair_settle(&x);
    double p50, p99, max;
    long lost;
    percentiles(&x, 0, &p50, &p99, &max, &lost);
    long rss0 = proc_rss_kb(worker);
    printf("# before: the pair's p50 %.2f ms, p99 %.2f ms; the worker's RSS %ld KiB\n", p50, p99,
           rss0);
    /* Each message is about 260 bytes on the wire; the worker may hold a small part. */
    long payload_kb = n * 260 / 1024;
    long bound_kb = payload_kb / 4 > 16 * 1024 ? payload_kb / 4 : 16 * 1024;

    /* 1. Offline delivery at login. The other pair is held to a p99 under 200 ms, 300 ms
     * past 100,000 messages (twice that under ASan; two cores shared with the rest of the
     * suite): a worker whose loop the catch-up keeps for itself made it 215-370 ms at
     * 50,000 messages and 0.5-1.6 s at 1,000,000; one that takes turns, 25-110 ms and
     * 60-155 ms (on a machine loaded 8-11). */
    double p99_bound = (n > 100000 ? 300.0 : 200.0) * jimd_slowdown() * (RSS_CHECKED ? 1 : 2);
    away = tc_connect(p.port);
    long from = x.sent;
    t0 = lh_now();
    reading r = {0};
    int ok = away && tc_login(away, "away", "password1") == 200;
    tc_send(away, "{\"action\":\"sync\",\"id\":\"mark\",\"since\":9000000000000000000}");
    ok = ok && read_all(away, "mark", &x, worker, n / 2, &r);
    double took = lh_now() - t0;
    pair_settle(&x);
    percentiles(&x, from, &p50, &p99, &max, &lost);
    lh_tap(ok && !r.cut && r.count == acked && r.out_of_order == 0 && r.bad == 0,
           "offline delivery: %ld of %ld handed at login, in order, not cut (a 2 s pause "
           "half-way), in %.1f s",
           r.count, acked, took);
    lh_tap(!RSS_CHECKED || r.rss_peak - rss0 < bound_kb,
           "offline delivery: the worker grew by %ld KiB at most, holding not the %ld KiB "
           "handed (bound %ld KiB%s)",
           r.rss_peak - rss0, payload_kb, bound_kb, RSS_CHECKED ? "" : "; not checked under ASan");
    lh_tap(x.sent - from > 0 && lost == 0 && p99 < p99_bound,
           "offline delivery: the other pair on the same worker meanwhile: p50 %.2f ms, p99 %.2f "
           "ms, max %.1f ms (%ld messages, %ld lost)",
           p50, p99, max, x.sent - from, lost);

    /* 2. sync since 0 over all of them. */
    from = x.sent;
    t0 = lh_now();
    rss0 = proc_rss_kb(worker);
    tc_send(away, "{\"action\":\"sync\",\"id\":\"all\",\"since\":0}");
    ok = read_all(away, "all", &x, worker, n / 2, &r);
    took = lh_now() - t0;
    pair_settle(&x);
    percentiles(&x, from, &p50, &p99, &max, &lost);
    lh_tap(ok && !r.cut && r.count == acked && r.out_of_order == 0 && r.bad == 0,
           "sync since 0: %ld of %ld, in order, not cut (a 2 s pause half-way), in %.1f s", r.count,
           acked, took);
    lh_tap(!RSS_CHECKED || r.rss_peak - rss0 < bound_kb,
           "sync since 0: the worker grew by %ld KiB at most (bound %ld KiB%s)", r.rss_peak - rss0,
           bound_kb, RSS_CHECKED ? "" : "; not checked under ASan");
    lh_tap(x.sent - from > 0 && lost == 0 && p99 < p99_bound,
           "sync since 0: the other pair on the same worker meanwhile: p50 %.2f ms, p99 %.2f ms, "
           "max %.1f ms (%ld messages, %ld lost)",
           p50, p99, max, x.sent - from, lost);
    tc_close(away);
    tc_close(x.p);
    tc_close(x.q);
    free(x.lat);
    free(x.sent_at);
    jimd_stop(&p);
    jimd_cleanup(&p);
    return lh_failures() ? 1 : 0;
}

/* load_harness.c — the parts tests/catchup and tests/crowd share (see load_harness.h). */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE
#include "load_harness.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

static int tests, failures;

void lh_tap(int ok, const char *fmt, ...)
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

int lh_failures(void)
{
    return failures;
}

double lh_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

void lh_percentiles(double *v, size_t n, double *p50, double *p99, double *max)
{
    *p50 = *p99 = *max = 0;
    if (n == 0)
        return;
    qsort(v, n, sizeof *v, cmp_double);
    *p50 = v[n / 2];
    *p99 = v[n * 99 / 100];
    *max = v[n - 1];
}

int lh_need_descriptors(long need)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl); /* jimd, started after, inherits it */
    }
    if (rl.rlim_cur != RLIM_INFINITY && (long)rl.rlim_cur < need) {
        printf("1..0 # SKIP %ld descriptors needed, the limit is %ld\n", need, (long)rl.rlim_cur);
        fflush(stdout);
        return -1;
    }
    return 0;
}

long lh_servers_rss_kb(jimd_proc *p)
{
    long kb = proc_rss_kb(p->pid);
    for (int i = 0; i < p->workers; i++)
        kb += proc_rss_kb(jimd_worker_pid(p, i));
    return kb;
}

void lh_start_jimd(jimd_proc *p, int workers, const char *extra_config)
{
    if (jimd_start(p, workers, extra_config) != 0) {
        printf("Bail out! jimd did not start\n");
        exit(1);
    }
}

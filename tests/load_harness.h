/*
 * load_harness.h — what the load programs (tests/catchup, tests/crowd) share besides
 * jimd_harness.h: TAP lines and their count, a monotonic clock, percentiles, the descriptor
 * limit raised for thousands of connections, jimd's memory, and jimd started or bailed out.
 */
#ifndef LOAD_HARNESS_H
#define LOAD_HARNESS_H

#include "jimd_harness.h"

#include <stddef.h>

/* Prints one TAP line "ok N - ..." or "not ok N - ..." and counts a failure. */
void lh_tap(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* How many lh_tap() lines failed so far. */
int lh_failures(void);
/* Seconds on the monotonic clock. */
double lh_now(void);
/* Sorts v (n latencies) and gives its median, 99th percentile and maximum (0 when n is 0). */
void lh_percentiles(double *v, size_t n, double *p50, double *p99, double *max);
/* Raises the soft descriptor limit to the hard one; 0 when at least `need` are then
 * allowed, else prints a TAP plan that skips everything (with the reason) and returns -1. */
int lh_need_descriptors(long need);
/* The resident memory of jimd's master and every worker together, in KiB. */
long lh_servers_rss_kb(jimd_proc *p);
/* Starts jimd as jimd_start() does; on failure prints "Bail out!" and exits with 1. */
void lh_start_jimd(jimd_proc *p, int workers, const char *extra_config);

#endif

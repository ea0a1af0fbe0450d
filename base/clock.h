/* SPDX-License-Identifier: MIT */
/*
 * clock: the time of a clock (CLOCK_MONOTONIC for intervals and deadlines,
 * CLOCK_REALTIME for wall time and pthread_cond_timedwait) as one number, so
 * no module keeps its own timespec arithmetic.  clock_gettime cannot fail for
 * these clocks; for a clock id it rejects, the functions return 0.
 */
#ifndef SCORCH_BASE_CLOCK_H
#define SCORCH_BASE_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Nanoseconds on clk. */
uint64_t clock_ns(clockid_t clk);
/* A timespec (a clock's reading, a file's st_mtim) as nanoseconds. */
uint64_t clock_ts_ns(struct timespec ts);
/* Seconds on clk, with the nanoseconds as a fraction. */
double clock_s(clockid_t clk);
/* The time secs (>= 0) from now on clk, for pthread_cond_timedwait (which
 * takes CLOCK_REALTIME unless the condition variable says otherwise) and
 * clock_nanosleep(TIMER_ABSTIME). */
struct timespec clock_after(clockid_t clk, double secs);

#endif

/* SPDX-License-Identifier: MIT */
/* Tests for base/clock.h. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <math.h>
#include <time.h>

#include "base/clock.h"

static void test_clock_monotonic(void **state)
{
	(void)state;
	uint64_t a = clock_ns(CLOCK_MONOTONIC);
	double s = clock_s(CLOCK_MONOTONIC);
	struct timespec nap = { 0, 2000000 };
	nanosleep(&nap, NULL);
	uint64_t b = clock_ns(CLOCK_MONOTONIC);
	double t = clock_s(CLOCK_MONOTONIC);
	assert_true(a > 0);
	assert_true(b >= a + 2000000);
	assert_true(t - s >= 0.002);
	/* The two agree (to well within a second). */
	assert_true(fabs((double)b / 1e9 - t) < 1.0);
}

static void test_clock_realtime(void **state)
{
	(void)state;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	/* Seconds since 1970, matching clock_gettime. */
	assert_true(fabs(clock_s(CLOCK_REALTIME) - (double)ts.tv_sec) < 5.0);
	assert_true(clock_ns(CLOCK_REALTIME) / 1000000000u - (uint64_t)ts.tv_sec < 5);
}

static void test_clock_after(void **state)
{
	(void)state;
	double now = clock_s(CLOCK_REALTIME);
	struct timespec ts = clock_after(CLOCK_REALTIME, 1.5);
	double at = (double)ts.tv_sec + ts.tv_nsec / 1e9;
	assert_true(ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000);
	assert_true(at - now >= 1.49 && at - now < 2.5);
	ts = clock_after(CLOCK_MONOTONIC, 0);
	assert_true(ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000);
	assert_true(fabs((double)ts.tv_sec + ts.tv_nsec / 1e9 - clock_s(CLOCK_MONOTONIC)) < 1.0);
}

/* A file's st_mtim as the symbolizer and the unwinder key files by it:
 * seconds past 2^32 too. */
static void test_clock_ts_ns(void **state)
{
	(void)state;
	assert_int_equal(clock_ts_ns((struct timespec){ 0, 0 }), 0);
	assert_int_equal(clock_ts_ns((struct timespec){ 1, 999999999 }), 1999999999ull);
	assert_int_equal(clock_ts_ns((struct timespec){ 5000000000, 7 }), 5000000000000000007ull);
}

static void test_clock_bad_id(void **state)
{
	(void)state;
	assert_true(clock_ns((clockid_t)-12345) == 0);
	assert_true(clock_s((clockid_t)-12345) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_clock_monotonic),
	    cmocka_unit_test(test_clock_realtime),
	    cmocka_unit_test(test_clock_after),
	    cmocka_unit_test(test_clock_ts_ns),
	    cmocka_unit_test(test_clock_bad_id),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

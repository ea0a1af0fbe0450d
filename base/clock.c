/* SPDX-License-Identifier: MIT */
#include "clock.h"

uint64_t clock_ts_ns(struct timespec ts)
{
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;
	if (clock_gettime(clk, &ts))
		return 0;
	return clock_ts_ns(ts);
}

double clock_s(clockid_t clk)
{
	struct timespec ts;
	if (clock_gettime(clk, &ts))
		return 0;
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct timespec clock_after(clockid_t clk, double secs)
{
	struct timespec ts = { 0 };
	if (clock_gettime(clk, &ts))
		return ts;
	double abs_s = (double)ts.tv_sec + ts.tv_nsec / 1e9 + secs;
	ts.tv_sec = (time_t)abs_s;
	ts.tv_nsec = (long)((abs_s - (double)ts.tv_sec) * 1e9);
	return ts;
}

/* SPDX-License-Identifier: MIT */
/*
 * A workload whose names come only from its debug file
 * (tests/integration/debuginfod.sh): the build strips it and keeps its
 * debug file apart.  dbgd_hot runs dbgd_mix, inlined into it, for SECONDS
 * of CPU time.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile uint64_t dbgd_sink;

static inline __attribute__((always_inline)) uint64_t dbgd_mix(uint64_t x)
{
	x ^= x >> 31;
	x *= 0x7fb5d329728ea185ull;
	return x ^ (x >> 27);
}

__attribute__((noinline)) uint64_t dbgd_hot(uint64_t n)
{
	uint64_t s = 0;
	for (uint64_t i = 0; i < n; i++)
		s += dbgd_mix(i + s);
	return s;
}

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1.0, t0 = cpu_now();
	while (cpu_now() - t0 < secs)
		dbgd_sink += dbgd_hot(100000);
	printf("dbgd_work: %llu\n", (unsigned long long)dbgd_sink);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* shortlived MS: burns MS milliseconds of CPU in shortlived_spin and exits;
 * the short-lived process of record_shortlived.sh.  Linked statically, so
 * that nearly all of its time is in shortlived_spin: a dynamic loader's
 * startup took 40 % of a 5 ms process here, and how much depends on the
 * machine. */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

volatile uint64_t shortlived_sink;

static double cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

__attribute__((noinline)) void shortlived_spin(double ms)
{
	double end = cpu_ms() + ms;
	while (cpu_ms() < end)
		for (int i = 0; i < 100000; i++) /* ~0.1 ms between reads of the clock, a syscall */
			shortlived_sink += (uint64_t)i * 2654435761u;
}

int main(int argc, char **argv)
{
	shortlived_spin(argc > 1 ? atof(argv[1]) : 5);
	return 0;
}

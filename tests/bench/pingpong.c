/* SPDX-License-Identifier: MIT */
/*
 * Workload for tests/bench/offcpu_cost.sh: two threads pass a byte back and
 * forth over two pipes for SECONDS of wall time, two context switches a
 * round trip; prints "round_trips_per_second".  Built by the script with
 * `cc -O2 -pthread`; not part of scorch.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int ab[2], ba[2];

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *pong(void *arg)
{
	char c;
	(void)arg;
	while (read(ab[0], &c, 1) == 1 && c != 'q')
		if (write(ba[1], &c, 1) != 1)
			break;
	return NULL;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 2.0;
	pthread_t t;
	char c = 'x';
	if (pipe(ab) || pipe(ba) || pthread_create(&t, NULL, pong, NULL))
		return 1;
	unsigned long n = 0;
	double t0 = now(), t1;
	do {
		for (int i = 0; i < 256; i++)
			if (write(ab[1], &c, 1) != 1 || read(ba[0], &c, 1) != 1)
				return 1;
		n += 256;
	} while ((t1 = now()) - t0 < secs);
	c = 'q';
	if (write(ab[1], &c, 1) != 1)
		return 1;
	pthread_join(t, NULL);
	printf("%.0f\n", (double)n / (t1 - t0));
	return 0;
}

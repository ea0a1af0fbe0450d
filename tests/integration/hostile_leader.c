/* SPDX-License-Identifier: MIT */
/*
 * A process whose main thread calls pthread_exit while another thread works
 * on for SECONDS: the leader is a zombie, /proc/PID/maps reads empty, yet
 * the process lives.  hostile_leader SECONDS
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

volatile uint64_t hostile_leader_sink;

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

__attribute__((noinline)) void survivor_spin(double secs)
{
	double end = now() + secs;
	while (now() < end)
		for (int i = 0; i < 100000; i++)
			hostile_leader_sink += (uint64_t)i;
}

static void *survivor(void *arg)
{
	survivor_spin(*(double *)arg);
	return NULL;
}

int main(int argc, char **argv)
{
	static double secs;
	pthread_t t;
	secs = argc > 1 ? atof(argv[1]) : 2;
	if (pthread_create(&t, NULL, survivor, &secs))
		return 1;
	pthread_exit(NULL);
}

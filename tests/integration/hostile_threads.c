/* SPDX-License-Identifier: MIT */
/*
 * Many threads, for hostile_threads.sh:
 *
 *   hostile_threads NTHREADS SECONDS
 *
 * starts NTHREADS threads (64 KiB stacks), each alternating a short burst of
 * CPU in thread_spin (a few microseconds) with a 200 ms sleep, while the main
 * thread spins in main_spin.  Prints "started N" once every thread runs;
 * all stop SECONDS after that.  Fails (exit 1) if fewer than NTHREADS could
 * be created.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static atomic_int running, stop;
volatile uint64_t threads_sink;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) void thread_spin(void)
{
	uint64_t x = threads_sink;
	for (int i = 0; i < 2000; i++)
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
	threads_sink = x;
}

__attribute__((noinline)) void main_spin(void)
{
	uint64_t x = threads_sink;
	for (int i = 0; i < 200000; i++)
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
	threads_sink = x;
}

static void *thread_main(void *arg)
{
	(void)arg;
	struct timespec nap = {0, 200 * 1000 * 1000};
	atomic_fetch_add(&running, 1);
	while (!atomic_load(&stop)) {
		thread_spin();
		nanosleep(&nap, NULL);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 10000;
	double secs = argc > 2 ? atof(argv[2]) : 3;
	pthread_t *t = calloc((size_t)n, sizeof(*t));
	pthread_attr_t attr;
	if (!t || pthread_attr_init(&attr) || pthread_attr_setstacksize(&attr, 64 << 10))
		return 1;
	for (int i = 0; i < n; i++) {
		int err = pthread_create(&t[i], &attr, thread_main, NULL);
		if (err) {
			fprintf(stderr, "hostile_threads: thread %d of %d: %s\n", i + 1, n, strerror(err));
			return 1;
		}
	}
	while (atomic_load(&running) < n)
		main_spin();
	printf("started %d\n", n);
	fflush(stdout);
	for (double end = now() + secs; now() < end;)
		main_spin();
	atomic_store(&stop, 1);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	free(t);
	return 0;
}

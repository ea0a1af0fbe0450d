/* SPDX-License-Identifier: MIT */
/*
 * Stacks a DWARF unwinder must get whole, for tests/integration/
 * record_unwind.sh.  Built like most distribution code, -O2 without frame
 * pointers; nothing inlined and no tail calls, so every function below is a
 * frame.  Each case spins for its share of the time:
 *
 *   qsort   cases_cmp, a comparator libc's qsort calls back:
 *           main;case_qsort;qsort...;cases_cmp
 *   thread  a pthread start routine: clone3;start_thread;cases_thread
 *   signal  a hot loop inside a SIGPROF handler: main;case_signal;
 *           cases_interrupted;<signal trampoline>;cases_handler
 *   plt     calls to libc's toupper through the PLT, many samples inside
 *           the PLT stub itself: main;case_plt;cases_plt_loop;<plt>
 *
 *   unwind_cases SECONDS [CASE...]     (every case when none is named)
 */
#include <ctype.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#define NOINLINE __attribute__((noinline))

static volatile uint64_t sink;
static double seconds;

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

NOINLINE static uint64_t spin(uint64_t x, int n)
{
	for (int i = 0; i < n; i++)
		x = x * 6364136223846793005u + 1442695040888963407u;
	return x;
}

/* --- qsort: the time is in the comparator, called from libc. */
NOINLINE int cases_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	sink += spin(x ^ y, 200);
	return x < y ? -1 : x > y;
}

NOINLINE static void case_qsort(void)
{
	enum { N = 4096 };
	static uint32_t v[N];
	double end = cpu_now() + seconds;
	uint32_t seed = 1;
	while (cpu_now() < end) {
		for (int i = 0; i < N; i++)
			v[i] = seed = seed * 1103515245u + 12345u;
		qsort(v, N, sizeof(v[0]), cases_cmp);
	}
}

/* --- thread: the time is in the start routine. */
NOINLINE void *cases_thread(void *arg)
{
	double end = cpu_now() + *(double *)arg;
	while (cpu_now() < end)
		sink += spin(sink, 10000);
	return NULL;
}

NOINLINE static void case_thread(void)
{
	pthread_t t;
	double s = seconds;
	if (pthread_create(&t, NULL, cases_thread, &s) == 0)
		pthread_join(t, NULL);
}

/* --- signal: SIGPROF every 10 ms of CPU; the handler spins ~5 ms of it. */
NOINLINE void cases_handler(int sig)
{
	(void)sig;
	double end = cpu_now() + 0.005;
	while (cpu_now() < end)
		sink += spin(sink, 10000);
}

NOINLINE void cases_interrupted(double end)
{
	while (cpu_now() < end)
		sink += spin(sink, 10000);
}

NOINLINE static void case_signal(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = cases_handler;
	sigaction(SIGPROF, &sa, NULL);
	struct itimerval it = { { 0, 10000 }, { 0, 10000 } };
	setitimer(ITIMER_PROF, &it, NULL);
	cases_interrupted(cpu_now() + seconds);
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_PROF, &off, NULL);
	signal(SIGPROF, SIG_DFL);
}

/* --- plt: a cheap libc function called through the PLT in a tight loop. */
NOINLINE void cases_plt_loop(double end)
{
	int c = 'a';
	while (cpu_now() < end)
		for (int i = 0; i < 100000; i++)
			c = toupper(c ^ (i & 31)); /* through the PLT: -fno-builtin */
	sink += (uint64_t)c;
}

NOINLINE static void case_plt(void)
{
	cases_plt_loop(cpu_now() + seconds);
}

static const struct {
	const char *name;
	void (*run)(void);
} cases[] = {
	{ "qsort", case_qsort },
	{ "thread", case_thread },
	{ "signal", case_signal },
	{ "plt", case_plt },
};

int main(int argc, char **argv)
{
	if (argc < 2 || (seconds = atof(argv[1])) <= 0) {
		fprintf(stderr, "usage: unwind_cases SECONDS [qsort|thread|signal|plt]...\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int wanted = argc == 2;
		for (int k = 2; k < argc; k++)
			wanted |= !strcmp(argv[k], cases[i].name);
		if (wanted)
			cases[i].run();
	}
	return 0;
}

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
 *   signal  a hot loop inside a SIGPROF handler, half the case's time:
 *           main;case_signal;cases_interrupted;<signal trampoline>;
 *           cases_handler
 *   plt     a call to libc's toupper that spins inside its PLT stub for
 *           the case's time, so that nearly every sample has its pc in the
 *           stub: main;case_plt;cases_plt_loop;<plt>
 *
 *   unwind_cases SECONDS [CASE...]     (every case when none is named)
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <unistd.h>
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

/* --- signal: SIGPROF every 10 ms of CPU; the handler spins until the CPU
 * time spent in it has caught up with the time spent outside it, so it has
 * half of the case's time however late the signal comes (on a loaded
 * machine a CPU timer's signal waits for a tick while the process runs).
 * After its half outside, the interrupted function waits for one more
 * signal, whose handler catches up. */
static double sig_start;
static volatile double sig_handled; /* CPU seconds in the handler */
static volatile sig_atomic_t sig_calls;

NOINLINE void cases_handler(int sig)
{
	(void)sig;
	double now = cpu_now(), end = now + (now - sig_start - sig_handled) - sig_handled;
	while (cpu_now() < end)
		sink += spin(sink, 10000);
	sig_handled += cpu_now() - now;
	sig_calls++;
}

NOINLINE void cases_interrupted(double outside)
{
	while (cpu_now() - sig_start - sig_handled < outside)
		sink += spin(sink, 10000);
	sig_atomic_t calls = sig_calls;
	while (sig_calls == calls)
		sink += spin(sink, 10000);
}

NOINLINE static void case_signal(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = cases_handler;
	sigaction(SIGPROF, &sa, NULL);
	struct itimerval it = { { 0, 10000 }, { 0, 10000 } };
	sig_start = cpu_now();
	setitimer(ITIMER_PROF, &it, NULL);
	cases_interrupted(seconds / 2);
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_PROF, &off, NULL);
	signal(SIGPROF, SIG_DFL);
}

/* --- plt: samples inside a PLT stub, wherever the timer lands.  A stub is
 * one jump through a GOT slot, a few cycles of a call: how many samples
 * fall on it depends on the CPU.  So the slot of toupper's stub is pointed
 * at the stub's own jump: the call spins there, every sample of it in the
 * stub, until SIGPROF (after the case's CPU time) puts the slot back and
 * the call goes on to toupper. */
struct plt_stub {
	void *target; /* what the slot holds once bound: toupper */
	void *volatile *slot;
	void *stub;
};

static struct plt_stub plt;

static void plt_release(int sig)
{
	(void)sig;
	*plt.slot = plt.target;
}

/* In the executable (dl_iterate_phdr's first object), the "jmp *disp(%rip)"
 * (ff 25 disp32) whose slot, inside one of its writable segments, holds
 * plt.target. */
static int plt_find(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	(void)arg;
	uintptr_t rw_lo = 0, rw_hi = 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W)) {
			rw_lo = info->dlpi_addr + ph->p_vaddr;
			rw_hi = rw_lo + ph->p_memsz;
		}
	}
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		const unsigned char *p = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
		for (size_t k = 0; ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && k + 6 <= ph->p_memsz; k++) {
			int32_t disp;
			if (p[k] != 0xff || p[k + 1] != 0x25)
				continue;
			memcpy(&disp, p + k + 2, sizeof(disp));
			uintptr_t slot = (uintptr_t)(p + k + 6) + (uintptr_t)(intptr_t)disp;
			if (slot >= rw_lo && slot + sizeof(void *) <= rw_hi && *(void **)slot == plt.target) {
				plt.slot = (void **)slot;
				plt.stub = (void *)(p + k);
				return 1;
			}
		}
	}
	return 1;
}

NOINLINE void cases_plt_loop(double s)
{
	int c = (toupper)('a'); /* through the PLT (the parentheses: not ctype.h's macro): binds the slot */
	plt.target = dlsym(RTLD_DEFAULT, "toupper");
	dl_iterate_phdr(plt_find, NULL);
	long page = sysconf(_SC_PAGESIZE);
	if (!plt.slot || mprotect((void *)((uintptr_t)plt.slot & ~(uintptr_t)(page - 1)), (size_t)page,
				  PROT_READ | PROT_WRITE)) {
		fprintf(stderr, "unwind_cases: no writable PLT slot of toupper found\n");
		exit(1);
	}
	signal(SIGPROF, plt_release);
	struct itimerval it = { { 0, 0 }, { (time_t)s, (suseconds_t)((s - (time_t)s) * 1e6) } };
	*plt.slot = plt.stub;
	setitimer(ITIMER_PROF, &it, NULL);
	c = (toupper)(c); /* spins in the stub until SIGPROF */
	signal(SIGPROF, SIG_DFL);
	sink += (uint64_t)c;
}

NOINLINE static void case_plt(void)
{
	cases_plt_loop(seconds);
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

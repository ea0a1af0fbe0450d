/* SPDX-License-Identifier: MIT */
/*
 * A workload of known wall-clock shape (record --wall, --off-cpu): each
 * 40 ms round its main thread computes for 10 ms of wall time
 * (offcpu_compute; preempted or not, that time is spent in it), sleeps
 * 20 ms in nanosleep (offcpu_sleep) and waits
 * 10 ms on a pipe that a child fills (offcpu_wait_pipe): 25 % running, 50 %
 * sleeping, 25 % blocked reading.  The child is named offcpu_child.
 * On a loaded machine a sleep or a read returns late (the thread waits for
 * a CPU), so the shares are those designed only on an idle one: the wall
 * time each phase took is measured and printed at the end,
 *
 *   offcpu: ROUNDS rounds; wall seconds: compute C sleep S pipe P
 *
 *   offcpu [SECONDS]     (default 2)
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long offcpu_sink;

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts))
		;
}

__attribute__((noinline)) void offcpu_compute(double secs)
{
	double t0 = mono();
	while (mono() - t0 < secs)
		for (int i = 0; i < 1000; i++)
			offcpu_sink += (unsigned long)i * 2654435761u;
}

__attribute__((noinline)) void offcpu_sleep(long ms)
{
	sleep_ms(ms);
}

/* Asks the child for a byte, which it writes 10 ms later. */
__attribute__((noinline)) void offcpu_wait_pipe(int req, int resp)
{
	char c = 1;
	if (write(req, &c, 1) != 1 || read(resp, &c, 1) != 1)
		exit(1);
}

static void child(int req, int resp)
{
	char c;
	prctl(PR_SET_NAME, "offcpu_child");
	while (read(req, &c, 1) == 1) {
		sleep_ms(10);
		if (write(resp, &c, 1) != 1)
			break;
	}
	_exit(0);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 2.0;
	int req[2], resp[2];
	if (pipe(req) || pipe(resp))
		return 1;
	pid_t pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		close(req[1]);
		close(resp[0]);
		child(req[0], resp[1]);
	}
	close(req[0]);
	close(resp[1]);
	long rounds = (long)(secs / 0.040 + 0.5);
	double spent[3] = { 0, 0, 0 }, t = mono(), t1;
	for (long r = 0; r < rounds; r++) {
		offcpu_compute(0.010);
		spent[0] += (t1 = mono()) - t;
		offcpu_sleep(20);
		spent[1] += (t = mono()) - t1;
		offcpu_wait_pipe(req[1], resp[0]);
		spent[2] += (t1 = mono()) - t;
		t = t1;
	}
	close(req[1]);
	waitpid(pid, NULL, 0);
	printf("offcpu: %ld rounds; wall seconds: compute %.6f sleep %.6f pipe %.6f\n", rounds, spent[0], spent[1],
	       spent[2]);
	return 0;
}

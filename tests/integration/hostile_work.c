/* SPDX-License-Identifier: MIT */
/*
 * The workload of the hostile_* tests: main calls WORK_FN (a name chosen at
 * build time, see CMakeLists.txt) until SECONDS of wall time have passed.
 * Builds that differ only in WORK_FN have the same code at the same
 * addresses (the name is only in .symtab), so a profiler that symbolizes one
 * with the other's file names the wrong function instead of none.
 *
 *   hostile_work SECONDS [--cpu | --replace-self TARGET]
 *       --cpu: SECONDS of CPU time, not of wall time (two runs then take
 *       the same share of a cpu-clock profile, however busy the machine);
 *       --replace-self: once running, delete our own file (argv[0]) and put
 *       a symlink to TARGET in its place, as a hostile container process can.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef WORK_FN
#define WORK_FN hostile_work_spin
#endif

volatile uint64_t hostile_sink;

static clockid_t clock_id = CLOCK_MONOTONIC;

static double now(void)
{
	struct timespec ts;
	clock_gettime(clock_id, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) void WORK_FN(void)
{
	uint64_t x = hostile_sink;
	for (int i = 0; i < 200000; i++)
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
	hostile_sink = x;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 3;
	if (argc > 2 && !strcmp(argv[2], "--cpu"))
		clock_id = CLOCK_PROCESS_CPUTIME_ID;
	if (argc > 3 && !strcmp(argv[2], "--replace-self")) {
		if (unlink(argv[0]) || symlink(argv[3], argv[0])) {
			perror(argv[0]);
			return 1;
		}
	}
	/* The clock read between every 8 calls: with --cpu it is a system call,
	 * slow on a busy machine, and would be a share of the samples. */
	for (double end = now() + secs; now() < end;)
		for (int i = 0; i < 8; i++)
			WORK_FN();
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * Workload for tests/bench/syscall_cost.sh: system calls in a tight loop,
 * for SECONDS of wall time, then one line on stdout:
 *     calls ns_per_call
 *   syscall_loop getppid SECONDS
 *   syscall_loop pread SECONDS FILE     4 KiB at offset 0 of a cached file
 * Built by the script with `cc -O2`; not part of scorch.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 3 || (strcmp(argv[1], "getppid") && strcmp(argv[1], "pread")) ||
	    (!strcmp(argv[1], "pread") && argc < 4)) {
		fprintf(stderr, "usage: syscall_loop getppid|pread SECONDS [FILE]\n");
		return 2;
	}
	double secs = atof(argv[2]);
	int fd = -1;
	static char buf[4096];
	if (!strcmp(argv[1], "pread") && (fd = open(argv[3], O_RDONLY)) < 0) {
		perror(argv[3]);
		return 1;
	}
	unsigned long calls = 0;
	double t0 = now(), t = t0;
	while (t - t0 < secs) {
		for (int i = 0; i < 1000; i++) {
			if (fd >= 0) {
				if (pread(fd, buf, sizeof(buf), 0) < 0)
					return 1;
			} else {
				getppid();
			}
		}
		calls += 1000;
		t = now();
	}
	printf("%lu %.1f\n", calls, (t - t0) * 1e9 / (double)calls);
	return 0;
}

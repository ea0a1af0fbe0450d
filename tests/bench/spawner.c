/* SPDX-License-Identifier: MIT */
/*
 * spawner SHAPE RATE OUT: agent_soak.sh's load.  Starts RATE short-lived
 * processes a second, paced (the i-th is due at i/RATE s), alternately
 * `SHAPE 0.005` and /bin/true, output to /dev/null; up to 16 run at once,
 * so one slow start does not hold up the next (a shell or Python loop that
 * waits for each child reached ~150 a second on a 2-vCPU pvm guest).  Once
 * a second writes how many it started to OUT.  Runs until killed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define IN_FLIGHT_MAX 16

extern char **environ;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_until(double t)
{
	struct timespec ts = { .tv_sec = (time_t)t, .tv_nsec = (long)((t - (double)(time_t)t) * 1e9) };
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static void report(const char *out, unsigned long n)
{
	FILE *f = fopen(out, "we");
	if (f) {
		fprintf(f, "%lu\n", n);
		fclose(f);
	}
}

int main(int argc, char **argv)
{
	if (argc != 4 || atoi(argv[2]) <= 0) {
		fprintf(stderr, "usage: spawner SHAPE RATE OUT\n");
		return 2;
	}
	char *shape_argv[] = { argv[1], "0.005", NULL }, *true_argv[] = { "/bin/true", NULL };
	double period = 1.0 / atoi(argv[2]), t0 = now_s(), reported = t0;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	unsigned long n = 0;
	int running = 0;
	for (;;) {
		while (running > 0 && waitpid(-1, NULL, running >= IN_FLIGHT_MAX ? 0 : WNOHANG) > 0)
			running--;
		if (running >= IN_FLIGHT_MAX)
			continue;
		sleep_until(t0 + (double)n * period);
		char **av = n % 2 ? true_argv : shape_argv;
		pid_t pid;
		if (posix_spawn(&pid, av[0], &fa, NULL, av, environ) == 0) {
			running++;
			n++;
		} else {
			usleep(1000); /* out of processes for now */
		}
		if (now_s() - reported >= 1.0) {
			report(argv[3], n);
			reported = now_s();
		}
	}
}

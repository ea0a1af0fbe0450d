/* SPDX-License-Identifier: MIT */
/*
 * Measuring helper for tests/bench/run (the record benchmark).  Not part of
 * scorch; built by the bench script with `cc -O2 [-static]`.
 *
 *   record_helper run [-o OUT] [-p PIDFILE] [-g] [-r NFDS:READYFILE] -- CMD...
 *       Forks CMD (SIGINT and SIGTERM back to their defaults), waits for it
 *       and writes one line to OUT (stdout without -o):
 *           wall_s cpu_s user_s sys_s maxrss_kb exit_status
 *       cpu is CMD's user+sys including its waited-for children, plus this
 *       helper's own (so a nested helper is not charged to whoever runs it).
 *       -p writes CMD's pid to PIDFILE once it exists.
 *       -g (gate): CMD stops itself (SIGSTOP) before exec; the pidfile is
 *       written when it is stopped and the caller releases it with SIGCONT.
 *       wall time then counts from the release.
 *       -r: poll /proc/PID/fd every 2 ms until CMD holds NFDS perf_event
 *       file descriptors (a profiler that has opened one event per CPU),
 *       then write the milliseconds since the fork to READYFILE.
 *
 *   record_helper launch OUT -- CMD...
 *       Puts CLOCK_MONOTONIC (ns) in BENCH_T0 and OUT in BENCH_OUT, then
 *       execs CMD (no fork: the time is taken just before the exec).
 *
 *   record_helper mark -- CMD...
 *       First thing in main: reads CLOCK_MONOTONIC and appends the
 *       milliseconds since BENCH_T0 to BENCH_OUT, then execs CMD.  Run as
 *       the profiled command of `launch ... -- PROFILER -- mark -- WORK`, it
 *       measures the profiler's launch-to-workload-start time.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

static int usage(void)
{
	fprintf(stderr, "usage: record_helper run [-o OUT] [-p PIDFILE] [-g] [-r NFDS:FILE] -- CMD...\n"
			"       record_helper launch OUT -- CMD...\n"
			"       record_helper mark -- CMD...\n");
	return 2;
}

static int write_file(const char *path, const char *text)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fputs(text, f);
	if (fclose(f) != 0)
		return -errno;
	return rename(tmp, path) ? -errno : 0;
}

/* Number of perf_event fds that PID holds; -1 when it is gone. */
static int count_perf_fds(pid_t pid)
{
	char dir[64], link[384], target[128];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		ssize_t len;

		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", dir, de->d_name);
		len = readlink(link, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		if (strstr(target, "perf_event"))
			n++;
	}
	closedir(d);
	return n;
}

static void exec_or_die(char **argv)
{
	execvp(argv[0], argv);
	fprintf(stderr, "record_helper: %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static int cmd_run(int argc, char **argv)
{
	const char *out = NULL, *pidfile = NULL, *readyfile = NULL;
	int gate = 0, ready_fds = 0, status = 0, opt;
	struct rusage ru, self;
	int64_t t0, t1;
	char line[256];
	pid_t pid;

	while ((opt = getopt(argc, argv, "+o:p:gr:")) != -1) {
		switch (opt) {
		case 'o': out = optarg; break;
		case 'p': pidfile = optarg; break;
		case 'g': gate = 1; break;
		case 'r': {
			char *colon = strchr(optarg, ':');
			if (!colon)
				return usage();
			ready_fds = atoi(optarg);
			readyfile = colon + 1;
			break;
		}
		default: return usage();
		}
	}
	if (optind >= argc)
		return usage();

	t0 = mono_ns();
	pid = fork();
	if (pid < 0) {
		perror("record_helper: fork");
		return 1;
	}
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		if (gate)
			raise(SIGSTOP);
		exec_or_die(argv + optind);
	}
	if (gate) {
		if (waitpid(pid, &status, WUNTRACED) < 0 || !WIFSTOPPED(status)) {
			fprintf(stderr, "record_helper: child did not stop\n");
			return 1;
		}
	}
	if (pidfile) {
		snprintf(line, sizeof(line), "%d\n", (int)pid);
		write_file(pidfile, line);
	}
	if (gate) {
		siginfo_t si;

		/* Wait for the release without reaping the child. */
		memset(&si, 0, sizeof(si));
		waitid(P_PID, pid, &si, WCONTINUED | WEXITED | WNOWAIT);
		t0 = mono_ns();
	}
	if (readyfile) {
		int n;

		while ((n = count_perf_fds(pid)) >= 0 && n < ready_fds &&
		       mono_ns() - t0 < 60 * 1000000000LL)
			usleep(2000);
		if (n >= ready_fds) {
			snprintf(line, sizeof(line), "%.1f\n", (mono_ns() - t0) / 1e6);
			write_file(readyfile, line);
		}
	}
	for (;;) {
		if (wait4(pid, &status, 0, &ru) == pid)
			break;
		if (errno != EINTR) {
			perror("record_helper: wait4");
			return 1;
		}
	}
	t1 = mono_ns();
	getrusage(RUSAGE_SELF, &self);
	double user = tv_s(ru.ru_utime) + tv_s(self.ru_utime);
	double sys = tv_s(ru.ru_stime) + tv_s(self.ru_stime);
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);

	snprintf(line, sizeof(line), "%.6f %.6f %.6f %.6f %ld %d\n", (t1 - t0) / 1e9,
		 user + sys, user, sys, ru.ru_maxrss, code);
	if (out)
		write_file(out, line);
	else
		fputs(line, stdout);
	return code;
}

static int cmd_launch(int argc, char **argv)
{
	char t0[32];

	if (argc < 4 || strcmp(argv[2], "--") != 0)
		return usage();
	setenv("BENCH_OUT", argv[1], 1);
	snprintf(t0, sizeof(t0), "%" PRId64, mono_ns());
	setenv("BENCH_T0", t0, 1);
	exec_or_die(argv + 3);
	return 127;
}

static int cmd_mark(int64_t now, int argc, char **argv)
{
	const char *t0 = getenv("BENCH_T0"), *out = getenv("BENCH_OUT");

	if (argc < 3 || strcmp(argv[1], "--") != 0)
		return usage();
	if (t0 && out) {
		FILE *f = fopen(out, "a");

		if (f) {
			fprintf(f, "%.3f\n", (now - strtoll(t0, NULL, 10)) / 1e6);
			fclose(f);
		}
	}
	exec_or_die(argv + 2);
	return 127;
}

int main(int argc, char **argv)
{
	int64_t now = mono_ns(); /* first: mark's timestamp */

	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "mark"))
		return cmd_mark(now, argc - 1, argv + 1);
	if (!strcmp(argv[1], "launch"))
		return cmd_launch(argc - 1, argv + 1);
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	return usage();
}

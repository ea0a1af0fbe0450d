/* SPDX-License-Identifier: MIT */
/*
 * Two processes with one pid, for hostile_pidreuse.sh:
 *
 *   hostile_pidreuse FIRST SECOND SECONDS
 *
 * runs FIRST SECONDS (passing --cpu: hostile_work's CPU seconds), waits for
 * it, then makes the next process take the pid FIRST had (writing pid - 1 to /proc/sys/kernel/ns_last_pid
 * just before each fork, again while another process wins the race) and runs SECOND SECONDS in it.  Prints
 * "pid P reused"; exit 3 when the pid could not be taken again.  Needs root (CAP_CHECKPOINT_RESTORE).
 *
 *   hostile_pidreuse --pid PID PROG SECONDS
 *
 * runs PROG SECONDS with pid PID (which must be free), the same way.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t run(const char *prog, const char *secs)
{
	pid_t pid = fork();
	if (!pid) {
		execl(prog, prog, secs, "--cpu", (char *)NULL);
		_exit(127);
	}
	return pid;
}

static int wait_ok(pid_t pid)
{
	int status;
	return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && !WEXITSTATUS(status);
}

int main(int argc, char **argv)
{
	pid_t first;
	if (argc == 5 && !strcmp(argv[1], "--pid")) {
		first = atoi(argv[2]);
		argv += 1; /* argv[2] PROG, argv[3] SECONDS, as below */
	} else if (argc == 4) {
		first = run(argv[1], argv[3]);
		if (!wait_ok(first)) {
			fprintf(stderr, "hostile_pidreuse: %s failed\n", argv[1]);
			return 1;
		}
	} else {
		fprintf(stderr, "usage: hostile_pidreuse FIRST SECOND SECONDS | --pid PID PROG SECONDS\n");
		return 2;
	}
	int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY);
	if (fd < 0) {
		perror("ns_last_pid");
		return 1;
	}
	char last[32];
	int len = snprintf(last, sizeof(last), "%d", (int)first - 1);
	for (int tries = 0; tries < 1000; tries++) {
		if (pwrite(fd, last, (size_t)len, 0) != len) {
			perror("ns_last_pid");
			return 1;
		}
		pid_t pid = fork();
		if (!pid) {
			if (getpid() != first)
				_exit(0);
			execl(argv[2], argv[2], argv[3], "--cpu", (char *)NULL);
			_exit(127);
		}
		if (pid != first) {
			wait_ok(pid);
			continue;
		}
		printf("pid %d reused after %d tries\n", (int)first, tries + 1);
		fflush(stdout);
		if (!wait_ok(pid)) {
			fprintf(stderr, "hostile_pidreuse: %s failed\n", argv[2]);
			return 1;
		}
		return 0;
	}
	fprintf(stderr, "hostile_pidreuse: pid %d not reused in 1000 tries\n", (int)first);
	return 3;
}

/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "workload.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "symbolize/elfsym.h"
#include "symbolize/python.h"

static int executable(const char *path)
{
	struct stat st;
	if (stat(path, &st))
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EACCES;
	return access(path, X_OK) ? -errno : 0;
}

int workload_find(const char *cmd)
{
	return workload_resolve(cmd, NULL, 0);
}

static void needs_libpython(void *ctx, const char *name)
{
	*(bool *)ctx |= pyframes_interpreter_name(name);
}

bool workload_runs_python(const char *path)
{
	if (pyframes_interpreter_name(path))
		return true;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	char head[256];
	ssize_t n = pread(fd, head, sizeof(head) - 1, 0);
	bool py = false;
	if (n > 2 && head[0] == '#' && head[1] == '!') {
		head[n] = 0;
		head[strcspn(head, "\n")] = 0;
		py = strstr(head, "python") != NULL;
	} else {
		elfsym_needed(fd, needs_libpython, &py);
	}
	close(fd);
	return py;
}

int workload_resolve(const char *cmd, char *found, size_t found_len)
{
	if (strchr(cmd, '/')) {
		int err = executable(cmd);
		if (!err && found && snprintf(found, found_len, "%s", cmd) >= (int)found_len)
			return -ENAMETOOLONG;
		return err;
	}
	const char *path = getenv("PATH");
	int err = -ENOENT;
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (const char *p = path; *p;) {
		const char *colon = strchr(p, ':');
		size_t len = colon ? (size_t)(colon - p) : strlen(p);
		char full[PATH_MAX];
		if (snprintf(full, sizeof(full), "%.*s/%s", (int)len, len ? p : ".", cmd) < (int)sizeof(full)) {
			int e = executable(full);
			if (!e && found && snprintf(found, found_len, "%s", full) >= (int)found_len)
				return -ENAMETOOLONG;
			if (!e)
				return 0;
			if (e == -EACCES)
				err = e;
		}
		p = colon ? colon + 1 : p + len;
	}
	return err;
}

int workload_fork(struct workload *w, char *const argv[])
{
	int go[2], errp[2];

	memset(w, 0, sizeof(*w));
	w->go_fd = w->err_fd = -1;
	if (pipe2(go, O_CLOEXEC))
		return -errno;
	if (pipe2(errp, O_CLOEXEC)) {
		int err = -errno;
		close(go[0]);
		close(go[1]);
		return err;
	}
	pid_t pid = fork();
	if (pid < 0) {
		int err = -errno;
		close(go[0]);
		close(go[1]);
		close(errp[0]);
		close(errp[1]);
		return err;
	}
	if (pid == 0) {
		char c;
		close(go[1]);
		close(errp[0]);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		if (read(go[0], &c, 1) != 1)
			_exit(127);
		/* The command gets none of the capabilities scorch was given as
		 * ambient ones (CAP_BPF, CAP_PERFMON...); as root it keeps root's. */
		prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
		execvp(argv[0], argv);
		int e = errno;
		if (write(errp[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(go[0]);
	close(errp[1]);
	w->pid = pid;
	w->go_fd = go[1];
	w->err_fd = errp[0];
	return 0;
}

int workload_go(struct workload *w)
{
	int e = 0;
	char c = 1;
	ssize_t r;

	if (write(w->go_fd, &c, 1) != 1)
		return -errno;
	close(w->go_fd);
	w->go_fd = -1;
	do
		r = read(w->err_fd, &e, sizeof(e));
	while (r < 0 && errno == EINTR);
	close(w->err_fd);
	w->err_fd = -1;
	return r == (ssize_t)sizeof(e) ? -e : 0;
}

bool workload_reap(struct workload *w, bool wait)
{
	if (w->exited || w->pid <= 0)
		return w->exited;
	for (;;) {
		pid_t r = waitpid(w->pid, &w->status, wait ? 0 : WNOHANG);
		if (r == w->pid) {
			w->exited = true;
			return true;
		}
		if (r < 0 && errno == EINTR && wait)
			continue;
		return false;
	}
}

int workload_exit_code(const struct workload *w)
{
	if (WIFEXITED(w->status))
		return WEXITSTATUS(w->status);
	if (WIFSIGNALED(w->status))
		return 128 + WTERMSIG(w->status);
	return 1;
}

void workload_abort(struct workload *w)
{
	if (w->pid > 0 && !w->exited) {
		kill(w->pid, SIGKILL);
		workload_reap(w, true);
	}
	if (w->go_fd >= 0)
		close(w->go_fd);
	if (w->err_fd >= 0)
		close(w->err_fd);
	w->go_fd = w->err_fd = -1;
}

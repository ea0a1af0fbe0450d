/* SPDX-License-Identifier: MIT */
/*
 * workload: the command `record -- CMD` profiles.  It is forked stopped (it
 * waits on a pipe), so the profiler can attach before it runs; go() lets it
 * exec, and an exec failure is reported back through a close-on-exec pipe.
 */
#ifndef SCORCH_PROFILER_WORKLOAD_H
#define SCORCH_PROFILER_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct workload {
	pid_t pid;
	int go_fd;   /* write end: one byte lets the child exec */
	int err_fd;  /* read end: errno from a failed exec, EOF on success */
	bool exited;
	int status;  /* wait status once exited */
};

/* Finds argv[0] on PATH like execvp would: 0, or -ENOENT / -EACCES. */
int workload_find(const char *cmd);
/* The same, and the file found into path (len bytes); -ENAMETOOLONG when it does not fit. */
int workload_resolve(const char *cmd, char *path, size_t len);
/* Whether the program at path runs CPython: it is python* (or needs
 * libpython*, an embedding program), or a script whose #! line names
 * python (directly or through env).  A guess from names, the Python
 * tracker's own (pyframes_interpreter_name): a miss only costs its first
 * Python frames. */
bool workload_runs_python(const char *path);
/* Forks the child, waiting. 0 or -errno. */
int workload_fork(struct workload *w, char *const argv[]);
/* Lets the child exec. 0, or -errno from a failed exec. */
int workload_go(struct workload *w);
/* Reaps the child if it has exited (blocking when wait is true). True once exited. */
bool workload_reap(struct workload *w, bool wait);
/* The exit status to pass on: the child's code, or 128 + signal. */
int workload_exit_code(const struct workload *w);
/* Kills a child that never ran and reaps it. */
void workload_abort(struct workload *w);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * A container without a container runtime, for hostile_root.sh:
 *
 *   hostile_enter ROOT PROG [ARGS...]
 *
 * runs PROG (a path inside ROOT, statically linked) in new mount and pid
 * namespaces with ROOT as its root, the way runtimes do it: ROOT bind-mounted
 * on itself, pivot_root(2) into it, the old root detached.  PROG is pid 1 of
 * its namespace, and /proc/PID/maps shows its files by their paths inside
 * ROOT.  Exits with PROG's status.  Needs root.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

__attribute__((noreturn)) static void die(const char *what)
{
	perror(what);
	_exit(125);
}

static void enter(const char *root)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		die("make / private");
	if (mount(root, root, NULL, MS_BIND | MS_REC, NULL))
		die(root);
	if (chdir(root))
		die(root);
	mkdir(".old", 0700);
	if (syscall(SYS_pivot_root, ".", ".old"))
		die("pivot_root");
	if (chdir("/") || umount2("/.old", MNT_DETACH) || rmdir("/.old"))
		die("detach the old root");
}

int main(int argc, char **argv)
{
	int status;
	if (argc < 3) {
		fprintf(stderr, "usage: hostile_enter ROOT PROG [ARGS...]\n");
		return 2;
	}
	if (unshare(CLONE_NEWNS | CLONE_NEWPID))
		die("unshare");
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		enter(argv[1]);
		execv(argv[2], argv + 2);
		die(argv[2]);
	}
	if (waitpid(pid, &status, 0) < 0)
		die("waitpid");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

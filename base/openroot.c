/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "openroot.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Symlinks one walk follows at most (the kernel's limit too). */
#define MAX_LINKS 40
/* Directories below the root one walk may hold open. */
#define MAX_DEPTH 256
/* openat2 retries after EAGAIN (a rename or mount raced a ".." step). */
#define MAX_RETRIES 8

static bool bad_flags(int flags)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
}

/* openat2 with RESOLVE_IN_ROOT: the fd, or -errno (-ENOSYS when missing). */
static int open_resolved(int rootfd, const char *path, int flags)
{
	struct open_how how = {
	    .flags = (uint64_t)(unsigned)(flags | O_CLOEXEC),
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	for (int i = 0; i < MAX_RETRIES; i++) {
		long fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
		if (fd >= 0)
			return (int)fd;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
	}
	return -EAGAIN;
}

/* Replaces *rest with target followed by what is left of it after p
 * (p points into *rest, at a '/' or its end); *p is set to the start. */
static int splice_link(char **rest, char **p, const char *target)
{
	char *n;
	if (asprintf(&n, "%s%s", target, *p) < 0)
		return -ENOMEM;
	free(*rest);
	*rest = n;
	*p = n;
	return 0;
}

/* The target of the symlink open (O_PATH | O_NOFOLLOW) on fd, in buf. */
static int read_link(int fd, char *buf, size_t len)
{
	ssize_t n = readlinkat(fd, "", buf, len);
	if (n < 0)
		return -errno;
	if ((size_t)n >= len)
		return -ENAMETOOLONG;
	if (!n)
		return -ENOENT;
	buf[n] = '\0';
	return 0;
}

/*
 * Without openat2: one component at a time, each opened O_PATH | O_NOFOLLOW
 * in the directory before it (never through ".." or a name with a slash),
 * symlinks read and spliced into the rest of the path, an absolute one
 * restarting from the root; ".." pops the stack of directories walked, and
 * stays at the root when it is empty.
 */
static int open_walk(int rootfd, const char *path, int flags)
{
	int dirs[MAX_DEPTH];
	size_t depth = 0;
	int links = 0, err = 0, fd = -1;
	char target[PATH_MAX], name[NAME_MAX + 1];
	char *rest = strdup(path), *p = rest;

	if (!rest)
		return -ENOMEM;
	for (;;) {
		int cur = depth ? dirs[depth - 1] : rootfd;
		while (*p == '/')
			p++;
		if (!*p) { /* the directory reached is the answer */
			fd = openat(cur, ".", flags | O_CLOEXEC);
			err = fd < 0 ? -errno : 0;
			break;
		}
		char *end = strchrnul(p, '/');
		size_t n = (size_t)(end - p);
		bool last = !*end;
		if (n > NAME_MAX) {
			err = -ENAMETOOLONG;
			break;
		}
		memcpy(name, p, n);
		name[n] = '\0';
		p = end;
		if (!strcmp(name, "."))
			continue;
		if (!strcmp(name, "..")) {
			if (depth)
				close(dirs[--depth]);
			continue;
		}
		int pfd = openat(cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		struct stat st;
		if (pfd < 0 || fstat(pfd, &st)) {
			err = -errno;
			if (pfd >= 0)
				close(pfd);
			break;
		}
		if (S_ISLNK(st.st_mode)) {
			if ((last && (flags & O_NOFOLLOW)) || ++links > MAX_LINKS)
				err = -ELOOP;
			else
				err = read_link(pfd, target, sizeof(target));
			close(pfd);
			if (!err)
				err = splice_link(&rest, &p, target);
			if (err)
				break;
			if (target[0] == '/')
				while (depth)
					close(dirs[--depth]);
			continue;
		}
		if (last) {
			/* O_NOFOLLOW: a symlink swapped in since the check fails. */
			close(pfd);
			fd = openat(cur, name, flags | O_NOFOLLOW | O_CLOEXEC);
			err = fd < 0 ? -errno : 0;
			break;
		}
		if (!S_ISDIR(st.st_mode) || depth == MAX_DEPTH) {
			err = S_ISDIR(st.st_mode) ? -ENAMETOOLONG : -ENOTDIR;
			close(pfd);
			break;
		}
		dirs[depth++] = pfd;
	}
	while (depth)
		close(dirs[--depth]);
	free(rest);
	return err ? err : fd;
}

int openat_in_root(int rootfd, const char *path, int flags)
{
	if (bad_flags(flags))
		return -EINVAL;
	if (!*path)
		return -ENOENT;
	int fd = open_resolved(rootfd, path, flags);
	if (fd == -ENOSYS)
		fd = open_walk(rootfd, path, flags);
	return fd;
}

int open_file_in_root(const char *root, const char *path)
{
	struct stat st;
	int fd = open_in_root(root, path, O_RDONLY | O_NONBLOCK);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || fcntl(fd, F_SETFL, 0)) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

int open_in_root(const char *root, const char *path, int flags)
{
	if (bad_flags(flags))
		return -EINVAL;
	if (!root || !*root) {
		int fd = open(path, flags | O_CLOEXEC);
		return fd < 0 ? -errno : fd;
	}
	int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return -errno;
	int fd = openat_in_root(rootfd, path, flags);
	close(rootfd);
	return fd;
}

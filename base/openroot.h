/* SPDX-License-Identifier: MIT */
/*
 * openroot: opening another process's files as that process would see them,
 * confined to its root directory.
 *
 * A process's files are reached through /proc/PID/root/PATH.  The walk
 * enters the process's root through that magic link, but an absolute
 * symlink met on the way (or ".." at the top) is resolved against the
 * caller's root: a container whose /usr/lib/x.so is a symlink to /etc/shadow
 * would have us open the host's /etc/shadow.  These functions resolve PATH
 * as if the root directory were "/": absolute symlinks and ".." never leave
 * it.  They use openat2(2) with RESOLVE_IN_ROOT (Linux 5.6+) and, where that
 * is missing (ENOSYS: older kernels, seccomp filters), walk the path one
 * component at a time with O_PATH | O_NOFOLLOW, resolving each symlink
 * themselves within the root.  Magic links (/proc/PID/fd/N inside the root)
 * are not followed.
 */
#ifndef SCORCH_BASE_OPENROOT_H
#define SCORCH_BASE_OPENROOT_H

/*
 * Opens path (absolute or relative: both start at the root) under the
 * directory open on rootfd, treating that directory as "/".  flags are
 * open(2)'s for an existing file (O_CREAT and O_TMPFILE are refused with
 * -EINVAL); O_NOFOLLOW refuses a symlink as the last component (-ELOOP);
 * O_CLOEXEC is always added.  A new fd, or -errno.
 */
int openat_in_root(int rootfd, const char *path, int flags);

/*
 * The same with the root given as a path (e.g. "/proc/1234/root", followed
 * as a magic link to that process's root).  NULL or "" is our own root:
 * path is then opened with plain open(2), nothing to confine.  A new fd, or
 * -errno (-ENOENT also when the root is gone: the process exited).
 */
int open_in_root(const char *root, const char *path, int flags);

/*
 * open_in_root for reading a regular file: opened without blocking (a FIFO
 * planted where a file is expected must not hang the profiler), then
 * refused unless it is a regular file (-EINVAL).  A new blocking fd, or
 * -errno.
 */
int open_file_in_root(const char *root, const char *path);

#endif

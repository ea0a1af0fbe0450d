/* SPDX-License-Identifier: MIT */
/*
 * readfile: reading an open file whole (procfs files have no size to trust),
 * shared by the parsers of /proc/PID/maps, /proc/kallsyms and perf maps.
 */
#ifndef SCORCH_BASE_READFILE_H
#define SCORCH_BASE_READFILE_H

#include <stddef.h>

/*
 * Reads fd to its end, or to max bytes at most (what follows is ignored),
 * into a new buffer with a NUL after the last byte; *buf (free it) and *len
 * are set on success.  Retries EINTR.  0 or -errno (fd is left open).
 */
int read_fd_all(int fd, size_t max, char **buf, size_t *len);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * fdlimit: the profiler holds a descriptor for each mapped file of every
 * process it tracks until the file is loaded, so a machine with more than
 * ~1,000 distinct files would exhaust the default soft limit of 1024 and
 * leave libraries unnamed.  The soft limit is lifted to the hard one, after
 * a command the profiler starts is forked: it keeps the limits it was given
 * (select() cannot take descriptors above 1023, why the soft default is low).
 */
#ifndef SCORCH_BASE_FDLIMIT_H
#define SCORCH_BASE_FDLIMIT_H

#include <sys/resource.h>

/* Raises RLIMIT_NOFILE's soft limit to its hard limit; *saved (may be NULL)
 * gets the limits as they were.  0 or -errno. */
int fdlimit_raise(struct rlimit *saved);

#endif

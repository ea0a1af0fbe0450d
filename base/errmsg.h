/* SPDX-License-Identifier: MIT */
/*
 * errmsg: filling a caller's message buffer on the way out of a failing
 * function, for modules that cannot print (only profiler/ prints) but know
 * best what went wrong:
 *
 *	return errmsg_set(msg, msglen, -EINVAL, "%s:%d: unknown key '%s'", name, line, key);
 */
#ifndef SCORCH_BASE_ERRMSG_H
#define SCORCH_BASE_ERRMSG_H

#include <stddef.h>

/* Writes the printf-style message into msg[0..len) (truncated, always
 * NUL-terminated when len > 0; nothing is written when msg is NULL or len is
 * 0) and returns err. */
int errmsg_set(char *msg, size_t len, int err, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif

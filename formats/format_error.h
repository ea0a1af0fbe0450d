/* SPDX-License-Identifier: MIT */
/*
 * format_error: what a reader or writer says went wrong, for one line of
 * stderr.  Every reader and writer fills one; the dispatcher (format.h)
 * passes it through.
 */
#ifndef SCORCH_FORMATS_FORMAT_ERROR_H
#define SCORCH_FORMATS_FORMAT_ERROR_H

struct format_error {
	char msg[256];
};

/* Sets e->msg (printf-style) and returns err; e may be NULL. */
int format_fail(struct format_error *e, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif

/* SPDX-License-Identifier: MIT */
/*
 * strpool: interned strings with stable addresses for the symbolizer.  Every
 * string a frame carries (names, source files) lives here, so frames stay
 * valid when the debug info they came from is evicted.  Strings are never
 * freed before the pool; memory grows with distinct strings only (chunks
 * start at 1 KiB, so a pool per file costs little).
 */
#ifndef SCORCH_SYMBOLIZE_STRPOOL_H
#define SCORCH_SYMBOLIZE_STRPOOL_H

#include <stddef.h>

#include "base/hashtab.h"

struct strpool {
	struct idxtab tab;
	const char **strs; /* by index */
	size_t n, cap;
	char *chunk;       /* current arena chunk; older chunks are chained through their first bytes */
	size_t used, size;
	size_t bytes;      /* all chunk bytes allocated */
};

void strpool_init(struct strpool *p);
void strpool_release(struct strpool *p);
/* The pooled copy of s[0..len) (NUL added), or NULL on allocation failure.
 * Owned by the pool. */
const char *strpool_intern(struct strpool *p, const char *s, size_t len);
/* strpool_intern of a NUL-terminated string; NULL for NULL. */
const char *strpool_cstr(struct strpool *p, const char *s);

#endif

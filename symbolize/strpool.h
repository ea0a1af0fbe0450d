/* SPDX-License-Identifier: MIT */
/*
 * strpool: interned strings with stable addresses for the symbolizer.  Every
 * string a frame carries (names, source files) lives here, so frames stay
 * valid when the debug info they came from is evicted.  Strings are never
 * freed before the pool; memory grows with distinct strings only.  The
 * symbolizer's face of base/intern.h (which keeps the ids and the arena):
 * callers here want the pooled pointer, not an id.
 */
#ifndef SCORCH_SYMBOLIZE_STRPOOL_H
#define SCORCH_SYMBOLIZE_STRPOOL_H

#include <stddef.h>

#include "base/intern.h"

struct strpool {
	struct intern in;
};

void strpool_init(struct strpool *p);
void strpool_release(struct strpool *p);
/* The pooled copy of s[0..len) (NUL added), or NULL on allocation failure.
 * Owned by the pool. */
const char *strpool_intern(struct strpool *p, const char *s, size_t len);
/* strpool_intern of a NUL-terminated string; NULL for NULL. */
const char *strpool_cstr(struct strpool *p, const char *s);

#endif

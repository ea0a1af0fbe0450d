/* SPDX-License-Identifier: MIT */
/*
 * intern: a string table over idxtab.  Each distinct byte string gets a dense
 * id (0, 1, 2 ... in the order first seen) and one NUL-terminated copy whose
 * address stays valid until intern_release: copies live in an arena of
 * chunks (1 KiB doubling to 64 KiB, so a table per file costs little; a
 * longer string gets a chunk of its own), nothing is freed before the table.
 * The id is what a caller indexes its own per-string data by (the profile's
 * string table, the symbolizer's frame strings).
 *
 * Embedded by value: intern_init / intern_release.  Fields are private.
 */
#ifndef SCORCH_BASE_INTERN_H
#define SCORCH_BASE_INTERN_H

#include <stddef.h>
#include <stdint.h>

#include "hashtab.h"

struct intern_rec {
	const char *s; /* NUL-terminated copy in the arena */
	uint32_t len;
};

struct intern {
	struct idxtab idx;
	struct intern_rec *recs; /* by id */
	size_t n, cap;
	char *chunk; /* current arena chunk; older ones chained through their first bytes */
	size_t used, size;
};

void intern_init(struct intern *t);
/* Frees every copy; the table is empty (and initialised) afterwards. */
void intern_release(struct intern *t);
/* The id of s[0..len) (s may hold NUL bytes; NULL when len is 0), added if
 * new.  >= 0, or -ENOMEM, or -E2BIG (len >= 2^32 - 1, or 2^31 strings). */
int64_t intern_add(struct intern *t, const char *s, size_t len);

/* The copy of string id (< intern_count), NUL-terminated, owned by t. */
static inline const char *intern_str(const struct intern *t, uint32_t id)
{
	return t->recs[id].s;
}

/* The length of string id (< intern_count), without the NUL. */
static inline size_t intern_len(const struct intern *t, uint32_t id)
{
	return t->recs[id].len;
}

/* How many distinct strings t holds (ids are 0 .. count - 1). */
static inline size_t intern_count(const struct intern *t)
{
	return t->n;
}

#endif

/* SPDX-License-Identifier: MIT */
/*
 * hashtab: two small open-addressing hash tables shared by every module.
 *
 * - struct idxtab maps a 64-bit hash to a dense index (0..n-1) that the caller
 *   owns elsewhere (an array of strings, frames, stacks).  Equality of hashes is
 *   not trusted: lookups call back into the caller to compare contents.  This is
 *   what interning is built on.
 * - struct u64map maps a 64-bit key to a 64-bit value (pid -> pointer, ...).
 *
 * Both use linear probing, grow by doubling at 50% load and never shrink; both
 * are embedded by value (X_init / X_release) and their fields are private.
 * Functions returning int give 0 or -ENOMEM (-E2BIG past 2^31 entries).
 * Hash values are stable within one process, not across versions: never store
 * them in files.
 */
#ifndef SCORCH_BASE_HASHTAB_H
#define SCORCH_BASE_HASHTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A fast, well-mixed 64-bit hash of a byte string (not cryptographic).
 * data may be NULL when len is 0. */
uint64_t hash_bytes(const void *data, size_t len, uint64_t seed);
/* Finalizer for an integer key: a bijection with good avalanche. */
uint64_t hash_u64(uint64_t x);

/* Returns true when the caller's item at idx equals the probe in ctx. */
typedef bool (*idxtab_eq_fn)(const void *ctx, uint32_t idx);

struct idxtab_slot {
	uint32_t hash; /* low 32 bits of the item's hash (enough to rehash) */
	uint32_t idx1; /* item index + 1, 0 when empty */
};

struct idxtab {
	struct idxtab_slot *slots;
	size_t cap; /* power of two, or 0 */
	size_t len;
};

void idxtab_init(struct idxtab *t);
void idxtab_release(struct idxtab *t);
/* Index of the item with this hash for which eq() holds, or -ENOENT. */
int64_t idxtab_find(const struct idxtab *t, uint64_t hash, idxtab_eq_fn eq, const void *ctx);
/* Records that item idx (< 2^31) has this hash.  The caller has checked it is
 * absent.  0, -ENOMEM or -E2BIG. */
int idxtab_insert(struct idxtab *t, uint64_t hash, uint32_t idx);
/* Makes room for n items in all without growing again.  0 or -ENOMEM. */
int idxtab_reserve(struct idxtab *t, size_t n);

struct u64map {
	uint64_t *keys;
	uint64_t *vals;
	uint8_t *used;
	size_t cap;
	size_t len;
};

void u64map_init(struct u64map *m);
void u64map_release(struct u64map *m);
/* Pointer to the value stored under key, or NULL. Valid until the next put or del. */
uint64_t *u64map_get(const struct u64map *m, uint64_t key);
/* Inserts or overwrites. 0 or -ENOMEM (the map is unchanged then). */
int u64map_put(struct u64map *m, uint64_t key, uint64_t val);
/* Removes key if present; returns true if it was.  Deleting moves other
 * entries: do not delete while iterating. */
bool u64map_del(struct u64map *m, uint64_t key);
/* Iteration in slot order: for (size_t i = 0; u64map_next(m, &i, &k, &v);) ...
 * val may be NULL. */
bool u64map_next(const struct u64map *m, size_t *pos, uint64_t *key, uint64_t *val);
static inline size_t u64map_len(const struct u64map *m)
{
	return m->len;
}

#endif

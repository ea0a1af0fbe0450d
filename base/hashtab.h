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
 * Both grow by doubling at 50% load and never shrink; both are embedded by
 * value (X_init / X_release).  Functions returning int give 0 or -ENOMEM.
 */
#ifndef SCORCH_BASE_HASHTAB_H
#define SCORCH_BASE_HASHTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A fast, well-mixed 64-bit hash of a byte string (not cryptographic). */
uint64_t hash_bytes(const void *data, size_t len, uint64_t seed);
/* Finalizer for an integer key: a bijection with good avalanche. */
uint64_t hash_u64(uint64_t x);

/* Returns true when the caller's item at idx equals the probe in ctx. */
typedef bool (*idxtab_eq_fn)(const void *ctx, uint32_t idx);

struct idxtab {
	uint64_t *hashes;  /* per slot: the item's hash */
	uint32_t *slots;   /* per slot: item index + 1, 0 when empty */
	size_t cap;        /* power of two, or 0 */
	size_t len;
};

void idxtab_init(struct idxtab *t);
void idxtab_release(struct idxtab *t);
/* Index of the item with this hash for which eq() holds, or -1 (-ENOENT). */
int64_t idxtab_find(const struct idxtab *t, uint64_t hash, idxtab_eq_fn eq, const void *ctx);
/* Records that item idx has this hash.  The caller has checked it is absent. */
int idxtab_insert(struct idxtab *t, uint64_t hash, uint32_t idx);

struct u64map {
	uint64_t *keys;
	uint64_t *vals;
	uint8_t *used;
	size_t cap;
	size_t len;
};

void u64map_init(struct u64map *m);
void u64map_release(struct u64map *m);
/* Pointer to the value stored under key, or NULL. Valid until the next insert. */
uint64_t *u64map_get(const struct u64map *m, uint64_t key);
/* Inserts or overwrites. */
int u64map_put(struct u64map *m, uint64_t key, uint64_t val);
/* Removes key if present; returns true if it was. */
bool u64map_del(struct u64map *m, uint64_t key);
/* Iteration: for (size_t i = 0; u64map_next(m, &i, &k, &v);) ... */
bool u64map_next(const struct u64map *m, size_t *pos, uint64_t *key, uint64_t *val);

#endif

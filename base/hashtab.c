/* SPDX-License-Identifier: MIT */
#include "hashtab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define K0 0x9e3779b97f4a7c15ULL
#define K1 0xa0761d6478bd642fULL
#define K2 0xe7037ed1a0b428dbULL

/* Largest number of items an idxtab holds (indexes are stored + 1 in 32 bits). */
#define IDXTAB_MAX_LEN (1ULL << 31)

uint64_t hash_u64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* 64x64 -> 128-bit multiply, folded: the whole product influences the result. */
static inline uint64_t mix(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;
	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t load64(const unsigned char *p)
{
	uint64_t w;
	memcpy(&w, p, 8);
	return w;
}

static inline uint64_t load32(const unsigned char *p)
{
	uint32_t w;
	memcpy(&w, p, 4);
	return w;
}

uint64_t hash_bytes(const void *data, size_t len, uint64_t seed)
{
	const unsigned char *p = data;
	uint64_t h = mix(seed ^ K0, len ^ K1);
	uint64_t a = 0, b = 0;

	for (; len > 16; len -= 16, p += 16)
		h = mix(load64(p) ^ K1, load64(p + 8) ^ h) ^ h;
	/* The last 1..16 bytes, read as two possibly overlapping words. */
	if (len >= 8) {
		a = load64(p);
		b = load64(p + len - 8);
	} else if (len >= 4) {
		a = load32(p);
		b = load32(p + len - 4);
	} else if (len) {
		a = (uint64_t)p[0] << 16 | (uint64_t)p[len / 2] << 8 | p[len - 1];
	}
	return mix(a ^ K2 ^ h, b ^ K1 ^ len);
}

void idxtab_init(struct idxtab *t)
{
	memset(t, 0, sizeof(*t));
}

void idxtab_release(struct idxtab *t)
{
	free(t->slots);
	idxtab_init(t);
}

int64_t idxtab_find(const struct idxtab *t, uint64_t hash, idxtab_eq_fn eq, const void *ctx)
{
	if (!t->cap)
		return -ENOENT;
	size_t mask = t->cap - 1;
	uint32_t h = (uint32_t)hash;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		const struct idxtab_slot *s = &t->slots[i];
		if (!s->idx1)
			return -ENOENT;
		if (s->hash == h && eq(ctx, s->idx1 - 1))
			return s->idx1 - 1;
	}
}

static void idxtab_place(struct idxtab_slot *slots, size_t cap, struct idxtab_slot s)
{
	size_t mask = cap - 1;
	size_t i = s.hash & mask;
	while (slots[i].idx1)
		i = (i + 1) & mask;
	slots[i] = s;
}

/* Rehashes into a table of ncap slots (a power of two above 2 * len). */
static int idxtab_rehash(struct idxtab *t, size_t ncap)
{
	struct idxtab_slot *ns = calloc(ncap, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].idx1)
			idxtab_place(ns, ncap, t->slots[i]);
	free(t->slots);
	t->slots = ns;
	t->cap = ncap;
	return 0;
}

int idxtab_reserve(struct idxtab *t, size_t n)
{
	if (n > IDXTAB_MAX_LEN)
		return -E2BIG;
	size_t ncap = t->cap ? t->cap : 64;
	while (n * 2 > ncap)
		ncap *= 2;
	return ncap == t->cap ? 0 : idxtab_rehash(t, ncap);
}

int idxtab_insert(struct idxtab *t, uint64_t hash, uint32_t idx)
{
	if (idx >= IDXTAB_MAX_LEN || t->len >= IDXTAB_MAX_LEN)
		return -E2BIG;
	if ((t->len + 1) * 2 > t->cap) {
		int err = idxtab_rehash(t, t->cap ? t->cap * 2 : 64);
		if (err)
			return err;
	}
	idxtab_place(t->slots, t->cap, (struct idxtab_slot){(uint32_t)hash, idx + 1});
	t->len++;
	return 0;
}

void u64map_init(struct u64map *m)
{
	memset(m, 0, sizeof(*m));
}

void u64map_release(struct u64map *m)
{
	free(m->keys);
	free(m->vals);
	free(m->used);
	u64map_init(m);
}

static size_t u64map_home(const struct u64map *m, uint64_t key)
{
	return hash_u64(key) & (m->cap - 1);
}

/* The slot holding key, or the empty slot where it would go. Needs cap > 0. */
static size_t u64map_slot(const struct u64map *m, uint64_t key)
{
	size_t mask = m->cap - 1;
	size_t i = u64map_home(m, key);
	while (m->used[i] && m->keys[i] != key)
		i = (i + 1) & mask;
	return i;
}

uint64_t *u64map_get(const struct u64map *m, uint64_t key)
{
	if (!m->cap)
		return NULL;
	size_t i = u64map_slot(m, key);
	return m->used[i] ? &m->vals[i] : NULL;
}

static int u64map_grow(struct u64map *m)
{
	struct u64map n;
	u64map_init(&n);
	n.cap = m->cap ? m->cap * 2 : 64;
	n.keys = malloc(n.cap * sizeof(*n.keys));
	n.vals = malloc(n.cap * sizeof(*n.vals));
	n.used = calloc(n.cap, 1);
	if (!n.keys || !n.vals || !n.used) {
		u64map_release(&n);
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->used[i])
			continue;
		size_t j = u64map_slot(&n, m->keys[i]);
		n.used[j] = 1;
		n.keys[j] = m->keys[i];
		n.vals[j] = m->vals[i];
		n.len++;
	}
	u64map_release(m);
	*m = n;
	return 0;
}

int u64map_put(struct u64map *m, uint64_t key, uint64_t val)
{
	uint64_t *v = u64map_get(m, key);
	if (v) {
		*v = val;
		return 0;
	}
	if ((m->len + 1) * 2 > m->cap) {
		int err = u64map_grow(m);
		if (err)
			return err;
	}
	size_t i = u64map_slot(m, key);
	m->used[i] = 1;
	m->keys[i] = key;
	m->vals[i] = val;
	m->len++;
	return 0;
}

/* True if home lies cyclically in (lo, hi]. */
static bool cyclic_between(size_t lo, size_t home, size_t hi)
{
	return lo <= hi ? lo < home && home <= hi : lo < home || home <= hi;
}

bool u64map_del(struct u64map *m, uint64_t key)
{
	if (!m->cap)
		return false;
	size_t mask = m->cap - 1;
	size_t hole = u64map_slot(m, key);
	if (!m->used[hole])
		return false;
	m->used[hole] = 0;
	m->len--;
	/* Backward-shift deletion keeps probe chains intact without tombstones:
	 * an entry after the hole moves into it unless its home slot lies
	 * cyclically in (hole, j], where a lookup would never pass the hole. */
	for (size_t j = (hole + 1) & mask; m->used[j]; j = (j + 1) & mask) {
		if (cyclic_between(hole, u64map_home(m, m->keys[j]), j))
			continue;
		m->keys[hole] = m->keys[j];
		m->vals[hole] = m->vals[j];
		m->used[hole] = 1;
		m->used[j] = 0;
		hole = j;
	}
	return true;
}

bool u64map_next(const struct u64map *m, size_t *pos, uint64_t *key, uint64_t *val)
{
	for (size_t i = *pos; i < m->cap; i++) {
		if (m->used[i]) {
			*key = m->keys[i];
			if (val)
				*val = m->vals[i];
			*pos = i + 1;
			return true;
		}
	}
	*pos = m->cap;
	return false;
}

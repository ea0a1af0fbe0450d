/* SPDX-License-Identifier: MIT */
#include "hashtab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static inline uint64_t rotl64(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

uint64_t hash_u64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

uint64_t hash_bytes(const void *data, size_t len, uint64_t seed)
{
	const unsigned char *p = data;
	uint64_t h = seed ^ (len * 0x9e3779b97f4a7c15ULL);

	while (len >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		h = rotl64(h ^ (w * 0x87c37b91114253d5ULL), 31) * 0x4cf5ad432745937fULL;
		p += 8;
		len -= 8;
	}
	uint64_t tail = 0;
	memcpy(&tail, p, len);
	h ^= tail * 0x87c37b91114253d5ULL;
	return hash_u64(h);
}

void idxtab_init(struct idxtab *t)
{
	memset(t, 0, sizeof(*t));
}

void idxtab_release(struct idxtab *t)
{
	free(t->hashes);
	free(t->slots);
	idxtab_init(t);
}

int64_t idxtab_find(const struct idxtab *t, uint64_t hash, idxtab_eq_fn eq, const void *ctx)
{
	if (!t->cap)
		return -ENOENT;
	size_t mask = t->cap - 1;
	for (size_t i = hash & mask;; i = (i + 1) & mask) {
		uint32_t s = t->slots[i];
		if (!s)
			return -ENOENT;
		if (t->hashes[i] == hash && eq(ctx, s - 1))
			return s - 1;
	}
}

static void idxtab_place(uint64_t *hashes, uint32_t *slots, size_t cap, uint64_t hash, uint32_t slot)
{
	size_t mask = cap - 1;
	size_t i = hash & mask;
	while (slots[i])
		i = (i + 1) & mask;
	slots[i] = slot;
	hashes[i] = hash;
}

int idxtab_insert(struct idxtab *t, uint64_t hash, uint32_t idx)
{
	if ((t->len + 1) * 2 > t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 64;
		uint64_t *nh = malloc(ncap * sizeof(*nh));
		uint32_t *ns = calloc(ncap, sizeof(*ns));
		if (!nh || !ns) {
			free(nh);
			free(ns);
			return -ENOMEM;
		}
		for (size_t i = 0; i < t->cap; i++)
			if (t->slots[i])
				idxtab_place(nh, ns, ncap, t->hashes[i], t->slots[i]);
		free(t->hashes);
		free(t->slots);
		t->hashes = nh;
		t->slots = ns;
		t->cap = ncap;
	}
	idxtab_place(t->hashes, t->slots, t->cap, hash, idx + 1);
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

static size_t u64map_slot(const struct u64map *m, uint64_t key)
{
	size_t mask = m->cap - 1;
	size_t i = hash_u64(key) & mask;
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
	n.cap = m->cap ? m->cap * 2 : 64;
	n.len = 0;
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
	if ((m->len + 1) * 2 > m->cap) {
		int err = u64map_grow(m);
		if (err)
			return err;
	}
	size_t i = u64map_slot(m, key);
	if (!m->used[i]) {
		m->used[i] = 1;
		m->keys[i] = key;
		m->len++;
	}
	m->vals[i] = val;
	return 0;
}

bool u64map_del(struct u64map *m, uint64_t key)
{
	if (!m->cap)
		return false;
	size_t mask = m->cap - 1;
	size_t i = u64map_slot(m, key);
	if (!m->used[i])
		return false;
	m->used[i] = 0;
	m->len--;
	/* Backward-shift deletion keeps probe chains intact without tombstones. */
	for (size_t j = (i + 1) & mask; m->used[j]; j = (j + 1) & mask) {
		size_t home = hash_u64(m->keys[j]) & mask;
		/* Move j back to i if its home is not cyclically in (i, j]. */
		if ((j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j))) {
			m->keys[i] = m->keys[j];
			m->vals[i] = m->vals[j];
			m->used[i] = 1;
			m->used[j] = 0;
			i = j;
		}
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

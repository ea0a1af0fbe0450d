/* SPDX-License-Identifier: MIT */
/* Tests for base/hashtab.h: hashing, idxtab interning, u64map. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/hashtab.h"

/* ---- hash ---------------------------------------------------------------- */

static void test_hash_bytes(void **state)
{
	(void)state;
	char buf[64];
	memset(buf, 'a', sizeof(buf));
	/* Deterministic, seed- and length-sensitive, every byte matters. */
	assert_int_equal(hash_bytes("abc", 3, 1), hash_bytes("abc", 3, 1));
	assert_int_not_equal(hash_bytes("abc", 3, 1), hash_bytes("abc", 3, 2));
	assert_int_not_equal(hash_bytes("abc", 3, 1), hash_bytes("abd", 3, 1));
	assert_int_not_equal(hash_bytes("", 0, 1), hash_bytes("\0", 1, 1));
	assert_int_not_equal(hash_bytes(NULL, 0, 1), hash_bytes(NULL, 0, 2));
	for (size_t len = 1; len <= sizeof(buf); len++) {
		uint64_t h = hash_bytes(buf, len, 7);
		assert_int_not_equal(h, hash_bytes(buf, len - 1, 7));
		for (size_t i = 0; i < len; i++) {
			buf[i] ^= 1;
			assert_int_not_equal(h, hash_bytes(buf, len, 7));
			buf[i] ^= 1;
		}
	}
}

static void test_hash_spread(void **state)
{
	(void)state;
	/* Similar keys land in all buckets of a small table. */
	enum { B = 64, N = 64 * 200 };
	unsigned bucket[B] = {0}, ubucket[B] = {0};
	char key[32];
	for (int i = 0; i < N; i++) {
		int n = snprintf(key, sizeof(key), "func_%d", i);
		bucket[hash_bytes(key, (size_t)n, 0) % B]++;
		ubucket[hash_u64((uint64_t)i) % B]++;
	}
	for (int b = 0; b < B; b++) {
		assert_in_range(bucket[b], 100, 300);
		assert_in_range(ubucket[b], 100, 300);
	}
}

/* ---- idxtab -------------------------------------------------------------- */

struct strs {
	char **s;
	size_t n;
};

struct probe {
	const struct strs *st;
	const char *key;
};

static bool str_eq(const void *ctx, uint32_t idx)
{
	const struct probe *q = ctx;
	return !strcmp(q->st->s[idx], q->key);
}

static int64_t intern(struct idxtab *t, struct strs *st, const char *key, uint64_t hash)
{
	struct probe q = {st, key};
	int64_t id = idxtab_find(t, hash, str_eq, &q);
	if (id >= 0)
		return id;
	st->s[st->n] = strdup(key);
	assert_int_equal(idxtab_insert(t, hash, (uint32_t)st->n), 0);
	return (int64_t)st->n++;
}

static void test_idxtab_growth(void **state)
{
	(void)state;
	enum { N = 50000 };
	struct idxtab t;
	struct strs st = {calloc(N, sizeof(char *)), 0};
	char key[32];
	struct probe q = {&st, "missing"};

	idxtab_init(&t);
	assert_int_equal(idxtab_find(&t, 1, str_eq, &q), -ENOENT);
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		assert_int_equal(intern(&t, &st, key, hash_bytes(key, strlen(key), 0)), i);
		assert_true(t.len * 2 <= t.cap);
	}
	/* Every id survives every doubling; duplicates do not add. */
	for (int i = N - 1; i >= 0; i--) {
		snprintf(key, sizeof(key), "k%d", i);
		assert_int_equal(intern(&t, &st, key, hash_bytes(key, strlen(key), 0)), i);
	}
	assert_int_equal(st.n, N);
	assert_int_equal(t.len, N);
	assert_int_equal(idxtab_find(&t, hash_bytes("missing", 7, 0), str_eq, &q), -ENOENT);
	for (size_t i = 0; i < st.n; i++)
		free(st.s[i]);
	free(st.s);
	idxtab_release(&t);
	assert_null(t.slots);
	idxtab_release(&t); /* twice is fine */
}

static void test_idxtab_collisions(void **state)
{
	(void)state;
	/* All items share one hash: eq() alone tells them apart. */
	struct idxtab t;
	struct strs st = {calloc(301, sizeof(char *)), 0};
	char key[16];

	idxtab_init(&t);
	for (int i = 0; i < 300; i++) {
		snprintf(key, sizeof(key), "c%d", i);
		assert_int_equal(intern(&t, &st, key, 42), i);
	}
	for (int i = 0; i < 300; i++) {
		snprintf(key, sizeof(key), "c%d", i);
		assert_int_equal(intern(&t, &st, key, 42), i);
	}
	/* Hashes differing only above bit 32 still work (slots keep 32 bits). */
	assert_int_equal(intern(&t, &st, "hi", 42 | (1ULL << 40)), 300);
	assert_int_equal(intern(&t, &st, "hi", 42 | (1ULL << 40)), 300);
	for (size_t i = 0; i < st.n; i++)
		free(st.s[i]);
	free(st.s);
	idxtab_release(&t);
}

static void test_idxtab_reserve(void **state)
{
	(void)state;
	struct idxtab t;
	struct strs st = {calloc(1000, sizeof(char *)), 0};
	char key[16];

	idxtab_init(&t);
	assert_int_equal(idxtab_reserve(&t, 1000), 0);
	size_t cap = t.cap;
	assert_true(cap >= 2000);
	for (int i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "r%d", i);
		intern(&t, &st, key, hash_bytes(key, strlen(key), 3));
	}
	assert_int_equal(t.cap, cap); /* no growth after reserving */
	assert_int_equal(idxtab_reserve(&t, 10), 0);
	assert_int_equal(t.cap, cap); /* never shrinks */
	assert_int_equal(idxtab_insert(&t, 1, UINT32_MAX), -E2BIG);
	for (size_t i = 0; i < st.n; i++)
		free(st.s[i]);
	free(st.s);
	idxtab_release(&t);
}

/* ---- u64map -------------------------------------------------------------- */

static void test_u64map_basic(void **state)
{
	(void)state;
	struct u64map m;
	uint64_t k, v;
	size_t pos = 0;

	u64map_init(&m);
	assert_null(u64map_get(&m, 0));
	assert_false(u64map_del(&m, 0));
	assert_false(u64map_next(&m, &pos, &k, &v));
	assert_int_equal(u64map_put(&m, 0, 10), 0); /* key 0 is an ordinary key */
	assert_int_equal(u64map_put(&m, UINT64_MAX, 20), 0);
	assert_int_equal(u64map_put(&m, 0, 11), 0); /* overwrite */
	assert_int_equal(u64map_len(&m), 2);
	assert_int_equal(*u64map_get(&m, 0), 11);
	assert_int_equal(*u64map_get(&m, UINT64_MAX), 20);
	*u64map_get(&m, UINT64_MAX) = 21;
	assert_int_equal(*u64map_get(&m, UINT64_MAX), 21);
	assert_true(u64map_del(&m, 0));
	assert_false(u64map_del(&m, 0));
	assert_null(u64map_get(&m, 0));
	assert_int_equal(u64map_len(&m), 1);
	u64map_release(&m);
	u64map_release(&m);
}

/* Keys that collide into a handful of home slots exercise backward shift
 * across clusters and the wrap-around at the end of the table. */
static uint64_t random_key(unsigned *seed, int mode)
{
	uint64_t r = (uint64_t)rand_r(seed) << 31 | (uint64_t)rand_r(seed);
	return mode ? r % 200 : r;
}

static void check_against(const struct u64map *m, const uint64_t *ref, const bool *in, size_t nkeys,
			  const uint64_t *keys)
{
	size_t n = 0;
	for (size_t i = 0; i < nkeys; i++) {
		const uint64_t *v = u64map_get(m, keys[i]);
		if (in[i]) {
			assert_non_null(v);
			assert_int_equal(*v, ref[i]);
			n++;
		} else {
			assert_null(v);
		}
	}
	assert_int_equal(u64map_len(m), n);
	/* Iteration sees each live key exactly once. */
	size_t seen = 0, pos = 0;
	uint64_t k, val;
	while (u64map_next(m, &pos, &k, &val)) {
		size_t i = 0;
		while (keys[i] != k)
			i++;
		assert_true(in[i]);
		assert_int_equal(val, ref[i]);
		seen++;
	}
	assert_int_equal(seen, n);
}

static void test_u64map_random_ops(void **state)
{
	(void)state;
	enum { NKEYS = 400, OPS = 60000 };
	for (int mode = 0; mode < 2; mode++) {
		unsigned seed = 12345u + (unsigned)mode;
		uint64_t keys[NKEYS], ref[NKEYS] = {0};
		bool in[NKEYS] = {false};
		struct u64map m;
		size_t nk = 0;

		/* Distinct keys (mode 1: small values, heavy clustering). */
		while (nk < NKEYS) {
			uint64_t k =
			    mode ? nk * 0x100000000ULL + (uint64_t)(rand_r(&seed) % 7) : random_key(&seed, 0);
			bool dup = false;
			for (size_t i = 0; i < nk; i++)
				dup |= keys[i] == k;
			if (!dup)
				keys[nk++] = k;
		}
		u64map_init(&m);
		for (int op = 0; op < OPS; op++) {
			size_t i = (size_t)rand_r(&seed) % NKEYS;
			int what = rand_r(&seed) % 3;
			if (what < 2) {
				uint64_t v = random_key(&seed, 0);
				assert_int_equal(u64map_put(&m, keys[i], v), 0);
				ref[i] = v;
				in[i] = true;
			} else {
				assert_int_equal(u64map_del(&m, keys[i]), in[i]);
				in[i] = false;
			}
			if (op % 997 == 0)
				check_against(&m, ref, in, NKEYS, keys);
		}
		check_against(&m, ref, in, NKEYS, keys);
		/* Delete everything: the map must end empty and still work. */
		for (size_t i = 0; i < NKEYS; i++) {
			assert_int_equal(u64map_del(&m, keys[i]), in[i]);
			in[i] = false;
			if (i % 50 == 0)
				check_against(&m, ref, in, NKEYS, keys);
		}
		assert_int_equal(u64map_len(&m), 0);
		assert_int_equal(u64map_put(&m, 7, 8), 0);
		assert_int_equal(*u64map_get(&m, 7), 8);
		u64map_release(&m);
	}
}

static void test_u64map_wraparound(void **state)
{
	(void)state;
	/* Find keys whose home is the last slot of a 64-slot table, fill past
	 * the end, then delete from the middle of the wrapped cluster. */
	struct u64map m;
	uint64_t keys[8];
	size_t n = 0;
	for (uint64_t k = 1; n < 8; k++)
		if ((hash_u64(k) & 63) >= 62)
			keys[n++] = k;
	u64map_init(&m);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(u64map_put(&m, keys[i], i), 0);
	assert_int_equal(m.cap, 64);
	for (size_t d = 0; d < n; d += 2) {
		assert_true(u64map_del(&m, keys[d]));
		for (size_t i = 0; i < n; i++) {
			bool gone = i % 2 == 0 && i <= d;
			if (gone)
				assert_null(u64map_get(&m, keys[i]));
			else
				assert_int_equal(*u64map_get(&m, keys[i]), i);
		}
	}
	u64map_release(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hash_bytes),	      cmocka_unit_test(test_hash_spread),
	    cmocka_unit_test(test_idxtab_growth),     cmocka_unit_test(test_idxtab_collisions),
	    cmocka_unit_test(test_idxtab_reserve),    cmocka_unit_test(test_u64map_basic),
	    cmocka_unit_test(test_u64map_random_ops), cmocka_unit_test(test_u64map_wraparound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
#include "intern.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"

#define CHUNK_MIN 1024
#define CHUNK_MAX (64 * 1024)
enum { LINK = sizeof(char *) }; /* a chunk's first bytes: the previous chunk */

struct probe {
	const struct intern *t;
	const char *s;
	size_t len;
};

void intern_init(struct intern *t)
{
	memset(t, 0, sizeof(*t));
	idxtab_init(&t->idx);
}

/* Frees a chain of chunks, newest first. */
static void free_chain(char *c)
{
	while (c) {
		char *prev;
		memcpy(&prev, c, sizeof(prev));
		free(c);
		c = prev;
	}
}

void intern_release(struct intern *t)
{
	free_chain(t->chunk);
	idxtab_release(&t->idx);
	free(t->recs);
	intern_init(t);
}

static bool eq(const void *ctx, uint32_t idx)
{
	const struct probe *q = ctx;
	const struct intern_rec *r = &q->t->recs[idx];
	return r->len == q->len && (!q->len || !memcmp(r->s, q->s, q->len));
}

/* Room for need bytes in the arena; NULL when out of memory. */
static char *arena(struct intern *t, size_t need)
{
	if (t->chunk && t->size - t->used >= need) {
		char *r = t->chunk + t->used;
		t->used += need;
		return r;
	}
	size_t size = t->size ? t->size * 2 : CHUNK_MIN;
	if (size > CHUNK_MAX)
		size = CHUNK_MAX;
	if (need > size - LINK) {
		/* A long string gets a chunk of its own, chained behind the
		 * current one so that one keeps being filled. */
		char *c = malloc(LINK + need);
		if (!c)
			return NULL;
		if (t->chunk) {
			memcpy(c, t->chunk, LINK);
			memcpy(t->chunk, &c, LINK);
		} else {
			memset(c, 0, LINK);
			t->chunk = c;
			t->used = t->size = LINK + need;
		}
		return c + LINK;
	}
	char *c = malloc(size);
	if (!c)
		return NULL;
	memcpy(c, &t->chunk, LINK);
	t->chunk = c;
	t->used = LINK + need;
	t->size = size;
	return c + LINK;
}

int64_t intern_add(struct intern *t, const char *s, size_t len)
{
	struct probe q = { t, s, len };
	uint64_t h = hash_bytes(s, len, 0x5eed);
	int64_t id = idxtab_find(&t->idx, h, eq, &q);
	if (id >= 0)
		return id;
	if (len >= UINT32_MAX || t->n >= INT32_MAX)
		return -E2BIG;
	if (array_grow(&t->recs, &t->cap, t->n + 1, sizeof(*t->recs)))
		return -ENOMEM;
	char *copy = arena(t, len + 1);
	if (!copy)
		return -ENOMEM;
	if (len)
		memcpy(copy, s, len);
	copy[len] = '\0';
	int err = idxtab_insert(&t->idx, h, (uint32_t)t->n);
	if (err)
		return err;
	t->recs[t->n] = (struct intern_rec){ copy, (uint32_t)len };
	return (int64_t)t->n++;
}

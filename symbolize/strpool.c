/* SPDX-License-Identifier: MIT */
#include "strpool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"

/* Chunks start small and double up to CHUNK_MAX: a pool per file must not
 * cost a large chunk for a file with three names. */
#define CHUNK_MIN 1024
#define CHUNK_MAX (256 * 1024)

struct probe {
	const struct strpool *p;
	const char *s;
	size_t len;
};

void strpool_init(struct strpool *p)
{
	memset(p, 0, sizeof(*p));
	idxtab_init(&p->tab);
}

void strpool_release(struct strpool *p)
{
	char *c = p->chunk;
	while (c) {
		char *prev;
		memcpy(&prev, c, sizeof(prev));
		free(c);
		c = prev;
	}
	idxtab_release(&p->tab);
	free(p->strs);
	strpool_init(p);
}

static bool eq(const void *ctx, uint32_t idx)
{
	const struct probe *q = ctx;
	const char *s = q->p->strs[idx];
	return !memcmp(s, q->s, q->len) && !s[q->len];
}

/* Room for need bytes in the arena; a new chunk when the current is full. */
static char *arena(struct strpool *p, size_t need)
{
	if (!p->chunk || p->used + need > p->size) {
		size_t size = p->size ? p->size * 2 : CHUNK_MIN;
		if (size > CHUNK_MAX)
			size = CHUNK_MAX;
		if (size < need + sizeof(char *))
			size = need + sizeof(char *);
		char *c = malloc(size);
		if (!c)
			return NULL;
		memcpy(c, &p->chunk, sizeof(p->chunk)); /* chain the previous chunk */
		p->chunk = c;
		p->used = sizeof(char *);
		p->size = size;
		p->bytes += size;
	}
	char *r = p->chunk + p->used;
	p->used += need;
	return r;
}

const char *strpool_intern(struct strpool *p, const char *s, size_t len)
{
	struct probe q = { p, s, len };
	uint64_t h = hash_bytes(s, len, 0x5eed);
	int64_t i = idxtab_find(&p->tab, h, eq, &q);
	if (i >= 0)
		return p->strs[i];
	if (array_grow(&p->strs, &p->cap, p->n + 1, sizeof(*p->strs)))
		return NULL;
	char *copy = arena(p, len + 1);
	if (!copy)
		return NULL;
	memcpy(copy, s, len);
	copy[len] = '\0';
	if (idxtab_insert(&p->tab, h, (uint32_t)p->n))
		return NULL;
	p->strs[p->n++] = copy;
	return copy;
}

const char *strpool_cstr(struct strpool *p, const char *s)
{
	return s ? strpool_intern(p, s, strlen(s)) : NULL;
}

/* SPDX-License-Identifier: MIT */
#include "stackstore.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "base/hashtab.h"

/* The frames of stack i are ips[recs[i].off .. recs[i].off + recs[i].nr). */
struct stored_stack {
	size_t off;
	uint32_t nr, flags;
};

struct stackstore {
	struct u64map ids; /* stack id -> index into recs */
	uint64_t *ips;
	size_t nips, cap_ips;
	struct stored_stack *recs;
	size_t n, cap;
	size_t max_bytes;
};

int stackstore_new(size_t max_bytes, struct stackstore **out)
{
	struct stackstore *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	u64map_init(&s->ids);
	s->max_bytes = max_bytes;
	*out = s;
	return 0;
}

void stackstore_free(struct stackstore *s)
{
	if (!s)
		return;
	u64map_release(&s->ids);
	free(s->ips);
	free(s->recs);
	free(s);
}

bool stackstore_has(const struct stackstore *s, uint64_t id)
{
	return u64map_get(&s->ids, id) != NULL;
}

/* An entry's cost: its frames, its record, and about two index slots (a
 * u64map slot is 17 bytes, at most half of them used). */
static size_t entry_bytes(uint32_t nr)
{
	return nr * sizeof(uint64_t) + sizeof(struct stored_stack) + 2 * 17;
}

int stackstore_add(struct stackstore *s, uint64_t id, const struct stack_trace *st)
{
	uint32_t nr = st->nr > SCORCH_MAX_DEPTH ? SCORCH_MAX_DEPTH : st->nr;
	int err;

	if (u64map_get(&s->ids, id))
		return 0;
	if (s->max_bytes && stackstore_bytes(s) + entry_bytes(nr) > s->max_bytes)
		return -ENOSPC;
	if ((err = array_grow(&s->recs, &s->cap, s->n + 1, sizeof(*s->recs))) ||
	    (err = array_grow(&s->ips, &s->cap_ips, s->nips + nr, sizeof(*s->ips))))
		return err;
	if ((err = u64map_put(&s->ids, id, s->n)))
		return err;
	memcpy(s->ips + s->nips, st->ips, nr * sizeof(*st->ips));
	s->recs[s->n++] = (struct stored_stack){ s->nips, nr, st->flags };
	s->nips += nr;
	return 0;
}

const uint64_t *stackstore_get(const struct stackstore *s, uint64_t id, uint32_t *nr, uint32_t *flags)
{
	const uint64_t *idx = u64map_get(&s->ids, id);
	if (!idx)
		return NULL;
	const struct stored_stack *r = &s->recs[*idx];
	*nr = r->nr;
	*flags = r->flags;
	return s->ips + r->off;
}

size_t stackstore_count(const struct stackstore *s)
{
	return s->n;
}

size_t stackstore_bytes(const struct stackstore *s)
{
	return s->nips * sizeof(uint64_t) + s->n * (sizeof(struct stored_stack) + 2 * 17);
}

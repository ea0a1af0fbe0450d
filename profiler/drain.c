/* SPDX-License-Identifier: MIT */
#include "drain.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "base/hashtab.h"

/* Merged counts of one kind: entries, indexed by a hash of their key. */
struct tally {
	struct idxtab index;
	struct capture_entry *e;
	size_t n, cap;
};

struct drain {
	struct tally tallies[DRAIN_KINDS];
	struct stackstore *stacks;
	struct drain_stats st;
};

int drain_new(size_t max_stack_bytes, struct drain **out)
{
	struct drain *d = calloc(1, sizeof(*d));
	int err;

	if (!d)
		return -ENOMEM;
	for (int k = 0; k < DRAIN_KINDS; k++)
		idxtab_init(&d->tallies[k].index);
	if ((err = stackstore_new(max_stack_bytes, &d->stacks))) {
		drain_free(d);
		return err;
	}
	*out = d;
	return 0;
}

static void tally_release(struct tally *t)
{
	idxtab_release(&t->index);
	free(t->e);
	memset(t, 0, sizeof(*t));
	idxtab_init(&t->index);
}

void drain_free(struct drain *d)
{
	if (!d)
		return;
	for (int k = 0; k < DRAIN_KINDS; k++)
		tally_release(&d->tallies[k]);
	stackstore_free(d->stacks);
	free(d);
}

struct key_probe {
	const struct tally *t;
	const struct sample_key *key;
};

static bool key_eq(const void *ctx, uint32_t idx)
{
	const struct key_probe *p = ctx;
	return !memcmp(&p->t->e[idx].key, p->key, sizeof(*p->key));
}

/* Adds count to key's entry, made if new. */
static int tally_add(struct tally *t, const struct sample_key *key, uint64_t count)
{
	struct key_probe probe = { t, key };
	uint64_t h = hash_bytes(key, sizeof(*key), 0);
	int64_t i = idxtab_find(&t->index, h, key_eq, &probe);
	int err;

	if (i >= 0) {
		t->e[i].count += count;
		return 0;
	}
	if ((err = array_grow(&t->e, &t->cap, t->n + 1, sizeof(*t->e))) ||
	    (err = idxtab_insert(&t->index, h, (uint32_t)t->n)))
		return err;
	t->e[t->n].key = *key;
	t->e[t->n++].count = count;
	return 0;
}

/* Keeps stack *id (read with read if new); a stack that cannot be kept
 * makes *id STACK_DROPPED, said in *dropped or *missing.  0 or -ENOMEM. */
static int keep_stack(struct drain *d, __u64 *id, drain_read_fn read, void *ctx, bool *dropped, bool *missing)
{
	struct stack_trace st;
	int err;

	if (*id < STACK_ID_MIN || stackstore_has(d->stacks, *id))
		return 0;
	if (read(ctx, *id, &st)) {
		*missing = true;
		*id = STACK_DROPPED;
		return 0;
	}
	err = stackstore_add(d->stacks, *id, &st);
	if (err == -ENOSPC) {
		*dropped = true;
		*id = STACK_DROPPED;
		return 0;
	}
	return err;
}

int drain_add(struct drain *d, enum drain_kind kind, const struct capture_entry *e, size_t n, drain_read_fn read,
	      void *ctx)
{
	int err = 0;

	for (size_t i = 0; i < n && !err; i++) {
		struct sample_key key = e[i].key;
		bool dropped = false, missing = false;
		if ((err = keep_stack(d, &key.kstack, read, ctx, &dropped, &missing)) ||
		    (err = keep_stack(d, &key.ustack, read, ctx, &dropped, &missing)) ||
		    (err = keep_stack(d, &key.pystack, read, ctx, &dropped, &missing)))
			break;
		d->st.dropped[kind] += dropped ? e[i].count : 0;
		d->st.missing[kind] += missing && !dropped ? e[i].count : 0;
		err = tally_add(&d->tallies[kind], &key, e[i].count);
	}
	d->st.entries += n;
	return err;
}

static int read_capture_stack(void *ctx, uint64_t id, struct stack_trace *out)
{
	return capture_read_stack(ctx, id, out);
}

int drain_window(struct drain *d, struct capture *c, bool offcpu)
{
	struct capture_entry *e = NULL;
	struct capture_window_info wi;
	size_t n = 0;
	int err = capture_read_counts(c, &e, &n);

	if (!err)
		err = drain_add(d, DRAIN_SAMPLES, e, n, read_capture_stack, c);
	free(e);
	e = NULL;
	if (!err && offcpu && !(err = capture_read_offcpu(c, &e, &n)))
		err = drain_add(d, DRAIN_OFFCPU, e, n, read_capture_stack, c);
	free(e);
	if (!err)
		err = capture_window_clear(c, &wi);
	if (!err)
		d->st.drains++;
	return err;
}

void drain_take(struct drain *d, enum drain_kind kind, struct capture_entry **out, size_t *n)
{
	struct tally *t = &d->tallies[kind];
	*out = t->e;
	*n = t->n;
	t->e = NULL; /* handed over, not freed */
	tally_release(t);
}

const struct stackstore *drain_stacks(const struct drain *d)
{
	return d->stacks;
}

void drain_stats(const struct drain *d, struct drain_stats *out)
{
	*out = d->st;
	out->stacks = stackstore_count(d->stacks);
	out->stack_bytes = stackstore_bytes(d->stacks);
}

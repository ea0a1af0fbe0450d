/* SPDX-License-Identifier: MIT */
/*
 * Tests for profiler/drain.h: counts merged across drains, each stack read
 * and kept once, stacks that cannot be kept said.  drain.c is compiled in
 * with the test's own capture (what drain_window calls in capture.h): one
 * window of counts, time off the CPU and stacks, which a test fills before
 * each drain and capture_window_clear empties.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "profiler/drain.h"

/* ---- the capture: the closed window ---- */

struct capture {
	struct capture_entry counts[16], offcpu[16];
	size_t ncounts, noffcpu;
	uint64_t ids[32];
	size_t nids;
	size_t reads, clears;
};

static int copy_out(const struct capture_entry *e, size_t n, struct capture_entry **out, size_t *nout)
{
	*out = malloc(n * sizeof(**out) + 1);
	if (!*out)
		return -ENOMEM;
	memcpy(*out, e, n * sizeof(**out));
	*nout = n;
	return 0;
}

int capture_read_counts(const struct capture *c, struct capture_entry **out, size_t *n)
{
	return copy_out(c->counts, c->ncounts, out, n);
}

int capture_read_offcpu(const struct capture *c, struct capture_entry **out, size_t *n)
{
	return copy_out(c->offcpu, c->noffcpu, out, n);
}

/* Stack id's frames: 3 of them, derived from the id. */
static struct stack_trace frames_of(uint64_t id)
{
	struct stack_trace st = { .nr = 3 };
	for (uint32_t i = 0; i < 3; i++)
		st.ips[i] = id * 10 + i;
	return st;
}

int capture_read_stack(const struct capture *c, uint64_t id, struct stack_trace *out)
{
	struct capture *w = (struct capture *)c; /* counts reads: the test's own bookkeeping */
	w->reads++;
	for (size_t i = 0; i < c->nids; i++)
		if (c->ids[i] == id) {
			*out = frames_of(id);
			return 0;
		}
	return -ENOENT;
}

int capture_window_clear(struct capture *c, struct capture_window_info *info)
{
	memset(info, 0, sizeof(*info));
	info->entries = c->ncounts;
	c->ncounts = c->noffcpu = c->nids = 0;
	c->clears++;
	return 0;
}

static struct sample_key key(uint32_t pid, uint64_t kstack, uint64_t ustack)
{
	struct sample_key k;
	memset(&k, 0, sizeof(k));
	k.pid = pid;
	k.gen = 1;
	k.kstack = kstack;
	k.ustack = ustack;
	memcpy(k.comm, "work", 5);
	return k;
}

static void count(struct capture *c, uint32_t pid, uint64_t kstack, uint64_t ustack, uint64_t n)
{
	c->counts[c->ncounts++] = (struct capture_entry){ key(pid, kstack, ustack), n };
}

static void has_stacks(struct capture *c, size_t n, ...)
{
	va_list ap;
	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		c->ids[c->nids++] = va_arg(ap, uint64_t);
	va_end(ap);
}

/* ---- each test's drain, on a capture of its own ---- */

struct fixture {
	struct capture c;
	struct drain *d;
	struct drain_stats st;
	struct capture_entry *e; /* what take() took */
	size_t n;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f || drain_new(0, &f->d)) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	free(f->e);
	drain_free(f->d);
	free(f);
	return 0;
}

/* Drains the capture's window into f->d; then f->st is the drain's figures. */
static void drain(struct fixture *f, bool offcpu)
{
	assert_int_equal(drain_window(f->d, &f->c, offcpu), 0);
	drain_stats(f->d, &f->st);
}

/* Takes the merged counts of kind into f->e, f->n. */
static void take(struct fixture *f, enum drain_kind kind)
{
	free(f->e);
	drain_take(f->d, kind, &f->e, &f->n);
}

/* The count of (pid, kstack, ustack) in what was taken, or 0. */
static uint64_t count_of(const struct fixture *f, uint32_t pid, uint64_t kstack, uint64_t ustack)
{
	struct sample_key k = key(pid, kstack, ustack);
	for (size_t i = 0; i < f->n; i++)
		if (!memcmp(&f->e[i].key, &k, sizeof(k)))
			return f->e[i].count;
	return 0;
}

/* Two drains: the same key's counts add up, each stack is read once (a
 * stack already kept is not read again from a later window), and the
 * window is emptied each time. */
static void test_merge(void **state)
{
	struct fixture *f = *state;
	struct capture *c = &f->c;
	count(c, 10, 100, 200, 3);
	count(c, 10, 100, 201, 1);
	count(c, 11, STACK_NONE, 202, 4);
	has_stacks(c, 4, (uint64_t)100, (uint64_t)200, (uint64_t)201, (uint64_t)202);
	drain(f, false);
	assert_int_equal(c->reads, 4);
	assert_int_equal(c->clears, 1);

	count(c, 10, 100, 200, 2);
	count(c, 12, 100, 203, 7);
	has_stacks(c, 3, (uint64_t)100, (uint64_t)200, (uint64_t)203);
	drain(f, false);
	assert_int_equal(c->reads, 5); /* only 203 was new */
	assert_int_equal(f->st.drains, 2);
	assert_int_equal(f->st.entries, 5);
	assert_int_equal(f->st.stacks, 5);
	assert_int_equal(f->st.dropped[DRAIN_SAMPLES] + f->st.missing[DRAIN_SAMPLES], 0);

	take(f, DRAIN_SAMPLES);
	assert_int_equal(f->n, 4);
	assert_int_equal(count_of(f, 10, 100, 200), 5);
	assert_int_equal(count_of(f, 10, 100, 201), 1);
	assert_int_equal(count_of(f, 11, STACK_NONE, 202), 4);
	assert_int_equal(count_of(f, 12, 100, 203), 7);

	/* Every stack named is there, with its frames. */
	uint32_t nr, flags;
	const uint64_t *ips = stackstore_get(drain_stacks(f->d), 203, &nr, &flags);
	assert_non_null(ips);
	assert_int_equal(nr, 3);
	assert_int_equal(ips[2], 2032);

	/* Taken: nothing of that kind left. */
	take(f, DRAIN_SAMPLES);
	assert_int_equal(f->n, 0);
	drain_free(NULL);
}

/* A count whose stack the window does not hold keeps its count under
 * STACK_DROPPED (merged with others alike) and is said; ids that are not
 * stacks (STACK_NONE, STACK_LOST) are kept as they are, never read. */
static void test_missing(void **state)
{
	struct fixture *f = *state;
	count(&f->c, 10, STACK_NONE, 300, 2);
	count(&f->c, 10, STACK_NONE, 301, 5);
	count(&f->c, 10, STACK_LOST, STACK_NONE, 1);
	drain(f, false);
	assert_int_equal(f->c.reads, 2);
	assert_int_equal(f->st.missing[DRAIN_SAMPLES], 7);
	assert_int_equal(f->st.dropped[DRAIN_SAMPLES], 0);
	take(f, DRAIN_SAMPLES);
	assert_int_equal(f->n, 2);
	assert_int_equal(count_of(f, 10, STACK_NONE, STACK_DROPPED), 7);
	assert_int_equal(count_of(f, 10, STACK_LOST, STACK_NONE), 1);
}

/* Past the store's bound new stacks are not kept: their counts stay, under
 * STACK_DROPPED, and are said; stacks kept before still serve. */
static void test_bound(void **state)
{
	struct fixture *f = *state;
	drain_free(f->d);
	f->d = NULL;
	assert_int_equal(drain_new(200, &f->d), 0); /* room for two 3-frame stacks (~74 bytes each) */
	count(&f->c, 10, STACK_NONE, 400, 1);
	count(&f->c, 10, STACK_NONE, 401, 1);
	has_stacks(&f->c, 2, (uint64_t)400, (uint64_t)401);
	drain(f, false);
	count(&f->c, 10, STACK_NONE, 400, 3);
	count(&f->c, 10, STACK_NONE, 402, 6);
	has_stacks(&f->c, 2, (uint64_t)400, (uint64_t)402);
	drain(f, false);
	assert_int_equal(f->st.stacks, 2);
	assert_int_equal(f->st.dropped[DRAIN_SAMPLES], 6);
	assert_int_equal(f->st.missing[DRAIN_SAMPLES], 0);
	take(f, DRAIN_SAMPLES);
	assert_int_equal(count_of(f, 10, STACK_NONE, 400), 4);
	assert_int_equal(count_of(f, 10, STACK_NONE, STACK_DROPPED), 6);
	uint64_t total = 0;
	for (size_t i = 0; i < f->n; i++)
		total += f->e[i].count;
	assert_int_equal(total, 11); /* nothing uncounted */
}

/* Time off the CPU is drained with offcpu only, apart from the samples;
 * the stacks are shared. */
static void test_offcpu(void **state)
{
	struct fixture *f = *state;
	struct capture *c = &f->c;
	count(c, 10, STACK_NONE, 500, 1);
	c->offcpu[c->noffcpu++] = (struct capture_entry){ key(10, 501, 500), 1000000 };
	has_stacks(c, 2, (uint64_t)500, (uint64_t)501);
	drain(f, true);
	c->offcpu[c->noffcpu++] = (struct capture_entry){ key(10, 501, 500), 500 };
	drain(f, true);
	c->offcpu[c->noffcpu++] = (struct capture_entry){ key(10, 501, 500), 7 };
	drain(f, false); /* not asked for: left out */
	assert_int_equal(c->reads, 2);
	take(f, DRAIN_OFFCPU);
	assert_int_equal(f->n, 1);
	assert_int_equal(count_of(f, 10, 501, 500), 1000500);
	take(f, DRAIN_SAMPLES);
	assert_int_equal(f->n, 1);
	assert_int_equal(count_of(f, 10, STACK_NONE, 500), 1);
}

/* Many keys: the index finds each again (no key merged with another). */
static void test_many(void **state)
{
	struct fixture *f = *state;
	for (uint32_t round = 0; round < 3; round++)
		for (uint32_t pid = 1; pid <= 5000; pid += 16) {
			for (uint32_t j = 0; j < 16; j++)
				count(&f->c, pid + j, STACK_NONE, STACK_NONE, pid + j);
			drain(f, false);
		}
	take(f, DRAIN_SAMPLES);
	assert_int_equal(f->n, 5008);
	for (size_t i = 0; i < f->n; i++)
		assert_int_equal(f->e[i].count, 3 * (uint64_t)f->e[i].key.pid);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_merge, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bound, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_offcpu, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_many, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

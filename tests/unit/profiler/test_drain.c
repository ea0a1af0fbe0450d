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

/* The count of (pid, kstack, ustack) in e[0..n), or 0. */
static uint64_t count_of(const struct capture_entry *e, size_t n, uint32_t pid, uint64_t kstack, uint64_t ustack)
{
	struct sample_key k = key(pid, kstack, ustack);
	for (size_t i = 0; i < n; i++)
		if (!memcmp(&e[i].key, &k, sizeof(k)))
			return e[i].count;
	return 0;
}

/* Two drains: the same key's counts add up, each stack is read once (a
 * stack already kept is not read again from a later window), and the
 * window is emptied each time. */
static void test_merge(void **state)
{
	(void)state;
	struct capture c = { 0 };
	struct drain *d = NULL;
	struct drain_stats st;
	struct capture_entry *e = NULL;
	size_t n = 0;
	assert_int_equal(drain_new(0, &d), 0);

	count(&c, 10, 100, 200, 3);
	count(&c, 10, 100, 201, 1);
	count(&c, 11, STACK_NONE, 202, 4);
	has_stacks(&c, 4, (uint64_t)100, (uint64_t)200, (uint64_t)201, (uint64_t)202);
	assert_int_equal(drain_window(d, &c, false), 0);
	assert_int_equal(c.reads, 4);
	assert_int_equal(c.clears, 1);

	count(&c, 10, 100, 200, 2);
	count(&c, 12, 100, 203, 7);
	has_stacks(&c, 3, (uint64_t)100, (uint64_t)200, (uint64_t)203);
	assert_int_equal(drain_window(d, &c, false), 0);
	assert_int_equal(c.reads, 5); /* only 203 was new */

	drain_stats(d, &st);
	assert_int_equal(st.drains, 2);
	assert_int_equal(st.entries, 5);
	assert_int_equal(st.stacks, 5);
	assert_int_equal(st.dropped[DRAIN_SAMPLES] + st.missing[DRAIN_SAMPLES], 0);

	drain_take(d, DRAIN_SAMPLES, &e, &n);
	assert_int_equal(n, 4);
	assert_int_equal(count_of(e, n, 10, 100, 200), 5);
	assert_int_equal(count_of(e, n, 10, 100, 201), 1);
	assert_int_equal(count_of(e, n, 11, STACK_NONE, 202), 4);
	assert_int_equal(count_of(e, n, 12, 100, 203), 7);
	free(e);

	/* Every stack named is there, with its frames. */
	uint32_t nr, flags;
	const uint64_t *ips = stackstore_get(drain_stacks(d), 203, &nr, &flags);
	assert_non_null(ips);
	assert_int_equal(nr, 3);
	assert_int_equal(ips[2], 2032);

	/* Taken: nothing of that kind left. */
	drain_take(d, DRAIN_SAMPLES, &e, &n);
	assert_int_equal(n, 0);
	free(e);
	drain_free(d);
	drain_free(NULL);
}

/* A count whose stack the window does not hold keeps its count under
 * STACK_DROPPED (merged with others alike) and is said; ids that are not
 * stacks (STACK_NONE, STACK_LOST) are kept as they are, never read. */
static void test_missing(void **state)
{
	(void)state;
	struct capture c = { 0 };
	struct drain *d = NULL;
	struct drain_stats st;
	struct capture_entry *e = NULL;
	size_t n = 0;
	assert_int_equal(drain_new(0, &d), 0);
	count(&c, 10, STACK_NONE, 300, 2);
	count(&c, 10, STACK_NONE, 301, 5);
	count(&c, 10, STACK_LOST, STACK_NONE, 1);
	assert_int_equal(drain_window(d, &c, false), 0);
	assert_int_equal(c.reads, 2);
	drain_stats(d, &st);
	assert_int_equal(st.missing[DRAIN_SAMPLES], 7);
	assert_int_equal(st.dropped[DRAIN_SAMPLES], 0);
	drain_take(d, DRAIN_SAMPLES, &e, &n);
	assert_int_equal(n, 2);
	assert_int_equal(count_of(e, n, 10, STACK_NONE, STACK_DROPPED), 7);
	assert_int_equal(count_of(e, n, 10, STACK_LOST, STACK_NONE), 1);
	free(e);
	drain_free(d);
}

/* Past the store's bound new stacks are not kept: their counts stay, under
 * STACK_DROPPED, and are said; stacks kept before still serve. */
static void test_bound(void **state)
{
	(void)state;
	struct capture c = { 0 };
	struct drain *d = NULL;
	struct drain_stats st;
	struct capture_entry *e = NULL;
	size_t n = 0;
	assert_int_equal(drain_new(200, &d), 0); /* room for two 3-frame stacks (~74 bytes each) */
	count(&c, 10, STACK_NONE, 400, 1);
	count(&c, 10, STACK_NONE, 401, 1);
	has_stacks(&c, 2, (uint64_t)400, (uint64_t)401);
	assert_int_equal(drain_window(d, &c, false), 0);
	count(&c, 10, STACK_NONE, 400, 3);
	count(&c, 10, STACK_NONE, 402, 6);
	has_stacks(&c, 2, (uint64_t)400, (uint64_t)402);
	assert_int_equal(drain_window(d, &c, false), 0);
	drain_stats(d, &st);
	assert_int_equal(st.stacks, 2);
	assert_int_equal(st.dropped[DRAIN_SAMPLES], 6);
	assert_int_equal(st.missing[DRAIN_SAMPLES], 0);
	drain_take(d, DRAIN_SAMPLES, &e, &n);
	assert_int_equal(count_of(e, n, 10, STACK_NONE, 400), 4);
	assert_int_equal(count_of(e, n, 10, STACK_NONE, STACK_DROPPED), 6);
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += e[i].count;
	assert_int_equal(total, 11); /* nothing uncounted */
	free(e);
	drain_free(d);
}

/* Time off the CPU is drained with offcpu only, apart from the samples;
 * the stacks are shared. */
static void test_offcpu(void **state)
{
	(void)state;
	struct capture c = { 0 };
	struct drain *d = NULL;
	struct capture_entry *e = NULL;
	size_t n = 0;
	assert_int_equal(drain_new(0, &d), 0);
	count(&c, 10, STACK_NONE, 500, 1);
	c.offcpu[c.noffcpu++] = (struct capture_entry){ key(10, 501, 500), 1000000 };
	has_stacks(&c, 2, (uint64_t)500, (uint64_t)501);
	assert_int_equal(drain_window(d, &c, true), 0);
	c.offcpu[c.noffcpu++] = (struct capture_entry){ key(10, 501, 500), 500 };
	assert_int_equal(drain_window(d, &c, true), 0);
	c.offcpu[c.noffcpu++] = (struct capture_entry){ key(10, 501, 500), 7 };
	assert_int_equal(drain_window(d, &c, false), 0); /* not asked for: left out */
	assert_int_equal(c.reads, 2);
	drain_take(d, DRAIN_OFFCPU, &e, &n);
	assert_int_equal(n, 1);
	assert_int_equal(count_of(e, n, 10, 501, 500), 1000500);
	free(e);
	drain_take(d, DRAIN_SAMPLES, &e, &n);
	assert_int_equal(n, 1);
	assert_int_equal(count_of(e, n, 10, STACK_NONE, 500), 1);
	free(e);
	drain_free(d);
}

/* Many keys: the index finds each again (no key merged with another). */
static void test_many(void **state)
{
	(void)state;
	struct capture c = { 0 };
	struct drain *d = NULL;
	struct capture_entry *e = NULL;
	size_t n = 0;
	assert_int_equal(drain_new(0, &d), 0);
	for (uint32_t round = 0; round < 3; round++)
		for (uint32_t pid = 1; pid <= 5000; pid += 16) {
			c.ncounts = 0;
			c.nids = 0;
			for (uint32_t j = 0; j < 16; j++)
				count(&c, pid + j, STACK_NONE, STACK_NONE, pid + j);
			assert_int_equal(drain_window(d, &c, false), 0);
		}
	drain_take(d, DRAIN_SAMPLES, &e, &n);
	assert_int_equal(n, 5008);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(e[i].count, 3 * (uint64_t)e[i].key.pid);
	free(e);
	drain_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_merge),
	    cmocka_unit_test(test_missing),
	    cmocka_unit_test(test_bound),
	    cmocka_unit_test(test_offcpu),
	    cmocka_unit_test(test_many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/* Tests for profiler/stackstore.h: stacks by id, once each, up to a bound. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "profiler/stackstore.h"

static struct stack_trace trace(uint32_t nr, uint32_t flags, uint64_t base)
{
	struct stack_trace st;
	memset(&st, 0xa5, sizeof(st)); /* frames past nr are not the stack's */
	st.nr = nr;
	st.flags = flags;
	for (uint32_t i = 0; i < nr; i++)
		st.ips[i] = base + i;
	return st;
}

/* What is added comes back, frames and flags; the same id twice is one stack. */
static void test_round_trip(void **state)
{
	(void)state;
	struct stackstore *s = NULL;
	uint32_t nr = 0, flags = 0;
	assert_int_equal(stackstore_new(0, &s), 0);
	assert_null(stackstore_get(s, 16, &nr, &flags));
	assert_false(stackstore_has(s, 16));
	for (uint64_t id = 16; id < 16 + 1000; id++) {
		struct stack_trace st = trace((uint32_t)(id % 127) + 1, id % 2 ? STACK_F_TRUNCATED : 0, id << 20);
		assert_int_equal(stackstore_add(s, id, &st), 0);
	}
	struct stack_trace other = trace(3, 0, 99);
	assert_int_equal(stackstore_add(s, 17, &other), 0); /* present: kept as it was */
	assert_int_equal(stackstore_count(s), 1000);
	for (uint64_t id = 16; id < 16 + 1000; id++) {
		const uint64_t *ips = stackstore_get(s, id, &nr, &flags);
		assert_non_null(ips);
		assert_true(stackstore_has(s, id));
		assert_int_equal(nr, id % 127 + 1);
		assert_int_equal(flags, id % 2 ? STACK_F_TRUNCATED : 0);
		for (uint32_t i = 0; i < nr; i++)
			assert_int_equal(ips[i], (id << 20) + i);
	}
	stackstore_free(s);
	stackstore_free(NULL);
}

/* More than SCORCH_MAX_DEPTH frames claimed: the depth limit's worth kept. */
static void test_depth_clamped(void **state)
{
	(void)state;
	struct stackstore *s = NULL;
	struct stack_trace st = trace(SCORCH_MAX_DEPTH, 0, 1000);
	uint32_t nr = 0, flags = 0;
	st.nr = 5000;
	assert_int_equal(stackstore_new(0, &s), 0);
	assert_int_equal(stackstore_add(s, 20, &st), 0);
	assert_non_null(stackstore_get(s, 20, &nr, &flags));
	assert_int_equal(nr, SCORCH_MAX_DEPTH);
	stackstore_free(s);
}

/* Past the bound nothing more is stored (-ENOSPC), what was stays, and
 * the bytes counted never exceed it. */
static void test_bound(void **state)
{
	(void)state;
	struct stackstore *s = NULL;
	const size_t bound = 64 * 1024;
	size_t stored = 0;
	uint32_t nr, flags;
	int err = 0;
	assert_int_equal(stackstore_new(bound, &s), 0);
	for (uint64_t id = 16; !err; id++) {
		struct stack_trace st = trace(40, 0, id * 64);
		err = stackstore_add(s, id, &st);
		stored += !err;
		assert_true(stackstore_bytes(s) <= bound);
	}
	assert_int_equal(err, -ENOSPC);
	assert_int_equal(stackstore_count(s), stored);
	assert_true(stored > 100 && stored < 200); /* 40 frames: ~370 bytes a stack */
	assert_false(stackstore_has(s, 16 + stored));
	assert_non_null(stackstore_get(s, 16, &nr, &flags));
	struct stack_trace again = trace(40, 0, 16 * 64);
	assert_int_equal(stackstore_add(s, 16, &again), 0); /* present: no room needed */
	stackstore_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_depth_clamped),
	    cmocka_unit_test(test_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/* rowspace: first-fit ranges of the unwinder's row array. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "profiler/rowspace.h"

static void test_first_fit(void **state)
{
	(void)state;
	struct rowspace rs;
	rowspace_init(&rs, 100);
	assert_int_equal(rowspace_alloc(&rs, 30), 0);
	assert_int_equal(rowspace_alloc(&rs, 30), 30);
	assert_int_equal(rowspace_alloc(&rs, 30), 60);
	assert_int_equal(rs.used, 90);
	/* 10 left at the end: 11 does not fit, 10 does. */
	assert_int_equal(rowspace_alloc(&rs, 11), -ENOSPC);
	/* A hole in the middle is used by what fits it, the lowest first. */
	assert_int_equal(rowspace_free(&rs, 30), 0);
	assert_int_equal(rowspace_alloc(&rs, 31), -ENOSPC);
	assert_int_equal(rowspace_alloc(&rs, 20), 30);
	assert_int_equal(rowspace_alloc(&rs, 10), 50);
	assert_int_equal(rowspace_alloc(&rs, 10), 90);
	assert_int_equal(rs.used, 100);
	assert_int_equal(rowspace_alloc(&rs, 1), -ENOSPC);
	/* Freeing what does not start a range changes nothing. */
	assert_int_equal(rowspace_free(&rs, 31), -ENOENT);
	assert_int_equal(rs.used, 100);
	rowspace_release(&rs);
}

static void test_edges(void **state)
{
	(void)state;
	struct rowspace rs;
	rowspace_init(&rs, 16);
	assert_int_equal(rowspace_alloc(&rs, 0), -EINVAL);
	assert_int_equal(rowspace_alloc(&rs, 17), -ENOSPC);
	assert_int_equal(rowspace_alloc(&rs, 16), 0);
	assert_int_equal(rowspace_free(&rs, 0), 0);
	assert_int_equal(rs.used, 0);
	assert_int_equal(rowspace_free(&rs, 0), -ENOENT);
	/* Adjacent frees leave one gap as large as both. */
	assert_int_equal(rowspace_alloc(&rs, 4), 0);
	assert_int_equal(rowspace_alloc(&rs, 4), 4);
	assert_int_equal(rowspace_alloc(&rs, 4), 8);
	assert_int_equal(rowspace_free(&rs, 0), 0);
	assert_int_equal(rowspace_free(&rs, 4), 0);
	assert_int_equal(rowspace_alloc(&rs, 8), 0);
	rowspace_release(&rs);
	/* An array of 2^32 - 1 rows: no overflow at its end. */
	rowspace_init(&rs, UINT32_MAX);
	assert_int_equal(rowspace_alloc(&rs, UINT32_MAX - 1), 0);
	assert_int_equal(rowspace_alloc(&rs, 1), UINT32_MAX - 1);
	assert_int_equal(rowspace_alloc(&rs, 1), -ENOSPC);
	rowspace_release(&rs);
}

/* Random churn against a bitmap model: ranges never overlap, never pass
 * the end, and an allocation fails only when no gap is large enough. */
static void test_model(void **state)
{
	(void)state;
	enum { CAP = 512, ROUNDS = 20000 };
	unsigned char used[CAP] = {0};
	uint32_t firsts[CAP], lens[CAP];
	size_t live = 0;
	struct rowspace rs;
	rowspace_init(&rs, CAP);
	srand(7);
	for (int r = 0; r < ROUNDS; r++) {
		if (live && rand() % 2) {
			size_t k = (size_t)rand() % live;
			assert_int_equal(rowspace_free(&rs, firsts[k]), 0);
			for (uint32_t j = 0; j < lens[k]; j++)
				used[firsts[k] + j] = 0;
			firsts[k] = firsts[--live];
			lens[k] = lens[live];
			continue;
		}
		uint32_t n = 1 + (uint32_t)rand() % 64;
		int64_t at = rowspace_alloc(&rs, n);
		/* The model's lowest gap of n. */
		int64_t want = -ENOSPC;
		for (uint32_t i = 0, run = 0; i < CAP; i++) {
			run = used[i] ? 0 : run + 1;
			if (run == n) {
				want = i + 1 - n;
				break;
			}
		}
		assert_int_equal(at, want);
		if (at < 0)
			continue;
		for (uint32_t j = 0; j < n; j++)
			used[at + j] = 1;
		firsts[live] = (uint32_t)at;
		lens[live++] = n;
	}
	rowspace_release(&rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_first_fit),
	    cmocka_unit_test(test_edges),
	    cmocka_unit_test(test_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/* Tests for base/array.h. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/array.h"

static void test_array_grow(void **state)
{
	(void)state;
	uint32_t *a = NULL;
	size_t cap = 0;
	/* Nothing needed: nothing allocated. */
	assert_int_equal(array_grow(&a, &cap, 0, sizeof(*a)), 0);
	assert_null(a);
	assert_int_equal(cap, 0);
	/* From empty: 16, then doubling, always at least need. */
	assert_int_equal(array_grow(&a, &cap, 1, sizeof(*a)), 0);
	assert_int_equal(cap, 16);
	for (uint32_t i = 0; i < 1000; i++) {
		assert_int_equal(array_grow(&a, &cap, i + 1, sizeof(*a)), 0);
		assert_true(cap >= i + 1);
		assert_int_equal(cap & (cap - 1), 0);
		a[i] = i;
	}
	assert_int_equal(cap, 1024);
	for (uint32_t i = 0; i < 1000; i++)
		assert_int_equal(a[i], i);
	/* A jump doubles until it fits; contents kept. */
	assert_int_equal(array_grow(&a, &cap, 5000, sizeof(*a)), 0);
	assert_int_equal(cap, 8192);
	assert_int_equal(a[999], 999);
	free(a);
}

static void test_array_bytes(void **state)
{
	(void)state;
	char *b = NULL;
	size_t cap = 100; /* a caller's own first size is doubled from */
	b = malloc(cap);
	assert_non_null(b);
	assert_int_equal(array_grow(&b, &cap, 101, 1), 0);
	assert_int_equal(cap, 200);
	free(b);
}

static void test_array_overflow(void **state)
{
	(void)state;
	uint64_t *a = NULL;
	size_t cap = 0;
	assert_int_equal(array_grow(&a, &cap, SIZE_MAX, sizeof(*a)), -EOVERFLOW);
	assert_int_equal(array_grow(&a, &cap, SIZE_MAX / 4, sizeof(*a)), -EOVERFLOW);
	assert_null(a);
	assert_int_equal(cap, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_array_grow),
	    cmocka_unit_test(test_array_bytes),
	    cmocka_unit_test(test_array_overflow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

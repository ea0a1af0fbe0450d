/* SPDX-License-Identifier: MIT */
/* Tests for base/intern.h: ids, stable copies, long strings. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/intern.h"

static void test_intern_ids(void **state)
{
	(void)state;
	struct intern t;
	intern_init(&t);
	assert_int_equal(intern_count(&t), 0);
	assert_int_equal(intern_add(&t, "", 0), 0);
	assert_int_equal(intern_add(&t, NULL, 0), 0); /* the empty string either way */
	assert_int_equal(intern_add(&t, "main", 4), 1);
	assert_int_equal(intern_add(&t, "mainx", 4), 1); /* only len bytes count */
	assert_int_equal(intern_add(&t, "mai", 3), 2);
	assert_int_equal(intern_add(&t, "a\0b", 3), 3); /* NUL bytes are content */
	assert_int_equal(intern_add(&t, "a\0c", 3), 4);
	assert_int_equal(intern_count(&t), 5);
	assert_string_equal(intern_str(&t, 0), "");
	assert_string_equal(intern_str(&t, 1), "main");
	assert_int_equal(intern_len(&t, 1), 4);
	assert_int_equal(intern_len(&t, 3), 3);
	assert_memory_equal(intern_str(&t, 4), "a\0c", 4);
	intern_release(&t);
	assert_int_equal(intern_count(&t), 0);
	/* Usable again after release. */
	assert_int_equal(intern_add(&t, "x", 1), 0);
	intern_release(&t);
}

static void test_intern_stable(void **state)
{
	(void)state;
	enum { N = 20000 };
	struct intern t;
	const char **seen = malloc(N * sizeof(*seen));
	char buf[32];
	assert_non_null(seen);
	intern_init(&t);
	for (int i = 0; i < N; i++) {
		int n = snprintf(buf, sizeof(buf), "sym_%d", i);
		assert_int_equal(intern_add(&t, buf, (size_t)n), i);
		seen[i] = intern_str(&t, (uint32_t)i);
	}
	/* Addresses and contents survive every later growth. */
	for (int i = 0; i < N; i++) {
		int n = snprintf(buf, sizeof(buf), "sym_%d", i);
		assert_ptr_equal(intern_str(&t, (uint32_t)i), seen[i]);
		assert_string_equal(seen[i], buf);
		assert_int_equal(intern_add(&t, buf, (size_t)n), i);
	}
	assert_int_equal(intern_count(&t), N);
	intern_release(&t);
	free(seen);
}

static void test_intern_long(void **state)
{
	(void)state;
	struct intern t;
	size_t big = 300 * 1024;
	char *s = malloc(big);
	assert_non_null(s);
	memset(s, 'q', big);
	intern_init(&t);
	/* A long string first, then short ones, a long one between, more short ones:
	 * each long one gets a chunk of its own and the short ones keep filling. */
	assert_int_equal(intern_add(&t, s, big), 0);
	assert_int_equal(intern_add(&t, "a", 1), 1);
	s[0] = 'r';
	assert_int_equal(intern_add(&t, s, big), 2);
	assert_int_equal(intern_add(&t, "b", 1), 3);
	const char *a = intern_str(&t, 1), *b = intern_str(&t, 3);
	assert_true(b == a + 2); /* same chunk, right after "a\0" */
	assert_int_equal(intern_len(&t, 0), big);
	assert_int_equal(intern_str(&t, 0)[0], 'q');
	assert_int_equal(intern_str(&t, 2)[0], 'r');
	assert_int_equal(intern_str(&t, 2)[big], '\0');
	assert_int_equal(intern_add(&t, s, big), 2);
	intern_release(&t);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_intern_ids),
	    cmocka_unit_test(test_intern_stable),
	    cmocka_unit_test(test_intern_long),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

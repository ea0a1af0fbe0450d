/* SPDX-License-Identifier: MIT */
/* Tests for base/parse.h: whole-string checked number parsing. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <math.h>

#include "base/parse.h"

static void test_u64(void **state)
{
	(void)state;
	uint64_t v = 7;
	assert_int_equal(parse_u64("0", 0, UINT64_MAX, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(parse_u64("18446744073709551615", 0, UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	/* strtoull's leading white space and '+' stay accepted. */
	assert_int_equal(parse_u64("  \t42", 0, UINT64_MAX, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(parse_u64("+9", 0, UINT64_MAX, &v), 0);
	assert_int_equal(v, 9);
	/* Not a number, or bytes after it: -EINVAL and *out unchanged. */
	v = 7;
	const char *bad[] = { "", " ", "+", "-", "abc", "12abc", "12 ", "1.5", "0x10", "+-1", "--1", "1,2" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse_u64(bad[i], 0, UINT64_MAX, &v), -EINVAL);
	/* A negative number never wraps, with or without leading blanks. */
	assert_int_equal(parse_u64("-1", 0, UINT64_MAX, &v), -EINVAL);
	assert_int_equal(parse_u64(" -5", 0, UINT64_MAX, &v), -EINVAL);
	assert_int_equal(parse_u64("-0", 0, UINT64_MAX, &v), -EINVAL);
	assert_int_equal(v, 7);
	/* Overflow and the caller's range. */
	assert_int_equal(parse_u64("18446744073709551616", 0, UINT64_MAX, &v), -ERANGE);
	assert_int_equal(parse_u64("99999999999999999999999", 0, UINT64_MAX, &v), -ERANGE);
	assert_int_equal(parse_u64("0", 1, 10, &v), -ERANGE);
	assert_int_equal(parse_u64("11", 1, 10, &v), -ERANGE);
	assert_int_equal(v, 7);
	assert_int_equal(parse_u64("10", 1, 10, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(parse_u64("1", 1, 10, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(parse_u64("007", 0, 10, &v), 0); /* decimal, not octal */
	assert_int_equal(v, 7);
}

static void test_i64(void **state)
{
	(void)state;
	int64_t v = 7;
	assert_int_equal(parse_i64("-9223372036854775808", INT64_MIN, INT64_MAX, &v), 0);
	assert_true(v == INT64_MIN);
	assert_int_equal(parse_i64("9223372036854775807", INT64_MIN, INT64_MAX, &v), 0);
	assert_true(v == INT64_MAX);
	assert_int_equal(parse_i64(" -3", INT64_MIN, INT64_MAX, &v), 0);
	assert_int_equal(v, -3);
	assert_int_equal(parse_i64("+3", INT64_MIN, INT64_MAX, &v), 0);
	assert_int_equal(v, 3);
	v = 7;
	const char *bad[] = { "", "-", "+", "x", "3x", "3 ", "--3", "-+3", "1e3" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse_i64(bad[i], INT64_MIN, INT64_MAX, &v), -EINVAL);
	assert_int_equal(parse_i64("9223372036854775808", INT64_MIN, INT64_MAX, &v), -ERANGE);
	assert_int_equal(parse_i64("-9223372036854775809", INT64_MIN, INT64_MAX, &v), -ERANGE);
	assert_int_equal(parse_i64("-1", 0, 5, &v), -ERANGE);
	assert_int_equal(parse_i64("6", 0, 5, &v), -ERANGE);
	assert_int_equal(v, 7);
}

static void test_double(void **state)
{
	(void)state;
	double v = 7;
	assert_int_equal(parse_double("1.5", 0, 10, &v), 0);
	assert_true(v == 1.5);
	assert_int_equal(parse_double(" 1e3", 0, 1e6, &v), 0);
	assert_true(v == 1000);
	assert_int_equal(parse_double("-0.25", -1, 1, &v), 0);
	assert_true(v == -0.25);
	assert_int_equal(parse_double("0x1p4", 0, 100, &v), 0);
	assert_true(v == 16);
	/* Bounds are inclusive. */
	assert_int_equal(parse_double("0", 0, 100, &v), 0);
	assert_int_equal(parse_double("100", 0, 100, &v), 0);
	v = 7;
	const char *bad[] = { "", " ", "x", "1.5s", "1.5 ", "1..5", "--1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse_double(bad[i], -1e9, 1e9, &v), -EINVAL);
	assert_int_equal(parse_double("100.01", 0, 100, &v), -ERANGE);
	assert_int_equal(parse_double("-1e-9", 0, 100, &v), -ERANGE);
	/* NaN is never in range; infinity and overflow only in an infinite one. */
	assert_int_equal(parse_double("nan", -INFINITY, INFINITY, &v), -ERANGE);
	assert_int_equal(parse_double("inf", 0, 1e308, &v), -ERANGE);
	assert_int_equal(parse_double("1e999", 0, 1e308, &v), -ERANGE);
	assert_true(v == 7);
	assert_int_equal(parse_double("inf", 0, INFINITY, &v), 0);
	assert_true(isinf(v));
	/* Underflow is what strtod returns, not an error. */
	assert_int_equal(parse_double("1e-400", 0, 1, &v), 0);
	assert_true(v >= 0 && v < 1e-300);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_u64),
	    cmocka_unit_test(test_i64),
	    cmocka_unit_test(test_double),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/* Tests for base/errmsg.h. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/errmsg.h"

static void test_errmsg(void **state)
{
	(void)state;
	char msg[16];
	assert_int_equal(errmsg_set(msg, sizeof(msg), -EINVAL, "key %s: bad %d", "x", 3), -EINVAL);
	assert_string_equal(msg, "key x: bad 3");
	/* Truncated and terminated. */
	assert_int_equal(errmsg_set(msg, sizeof(msg), -E2BIG, "%s", "0123456789abcdefghij"), -E2BIG);
	assert_string_equal(msg, "0123456789abcde");
	/* Success codes pass through too. */
	assert_int_equal(errmsg_set(msg, sizeof(msg), 0, "fine"), 0);
	assert_string_equal(msg, "fine");
	/* No buffer, or no room: nothing written, err returned. */
	assert_int_equal(errmsg_set(NULL, 16, -ENOENT, "x"), -ENOENT);
	msg[0] = 'q';
	assert_int_equal(errmsg_set(msg, 0, -ENOENT, "x"), -ENOENT);
	assert_int_equal(msg[0], 'q');
	assert_int_equal(errmsg_set(msg, 1, -ENOENT, "x"), -ENOENT);
	assert_int_equal(msg[0], '\0');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_errmsg),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

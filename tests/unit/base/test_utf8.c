/* SPDX-License-Identifier: MIT */
/* Tests for base/utf8.h: the cases Go's utf8.ValidString decides. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/utf8.h"

static bool valid(const char *s)
{
	return utf8_valid(s, strlen(s));
}

static void test_valid(void **state)
{
	(void)state;
	assert_true(valid(""));
	assert_true(valid("main;std::vector<int>::push_back"));
	assert_true(valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\xa5")); /* é € 🔥 */
	assert_true(valid("\xed\x9f\xbf"));	/* U+D7FF, just below the surrogates */
	assert_true(valid("\xf4\x8f\xbf\xbf")); /* U+10FFFF */
	assert_false(valid("\xff"));
	assert_false(valid("\x80"));		/* a lone continuation byte */
	assert_false(valid("\xc3"));		/* cut short */
	assert_false(valid("\xe2\x82"));	/* cut short */
	assert_false(valid("\xc0\xaf"));	/* overlong '/' */
	assert_false(valid("\xe0\x80\xaf"));	/* overlong '/' */
	assert_false(valid("\xed\xa0\x80"));	/* U+D800, a surrogate half */
	assert_false(valid("\xf4\x90\x80\x80")); /* past U+10FFFF */
	assert_false(valid("\xf5\x80\x80\x80"));
	assert_false(valid("ok\xc3("));		/* a lead byte without its continuation */
	/* Length-bounded: a NUL inside is a character like any other. */
	assert_true(utf8_valid("a\0b", 3));
	assert_false(utf8_valid("a\xc3\xa9", 2));
}

static void test_repaired(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "plain", "plain" },
		{ "caf\xc3\xa9", "caf\xc3\xa9" },
		{ "\xff", "\xef\xbf\xbd" },
		/* One replacement for a run of bad bytes, as Go's ToValidUTF8. */
		{ "a\xff\xfe\x80z", "a\xef\xbf\xbdz" },
		{ "memfd:\xc0\xafx", "memfd:\xef\xbf\xbdx" },
		{ "\xed\xa0\x80!", "\xef\xbf\xbd!" },
		{ "end\xe2\x82", "end\xef\xbf\xbd" },
		{ "\xc3\xa9\xff\xc3\xa9", "\xc3\xa9\xef\xbf\xbd\xc3\xa9" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *r = utf8_repaired(cases[i].in);
		assert_non_null(r);
		assert_string_equal(r, cases[i].out);
		assert_true(valid(r));
		free(r);
	}
}

static void test_cut(void **state)
{
	(void)state;
	const char *s = "ab\xc3\xa9z"; /* a b é z: 5 bytes */
	assert_int_equal(utf8_cut(s, 5, 10), 5);
	assert_int_equal(utf8_cut(s, 5, 5), 5);
	assert_int_equal(utf8_cut(s, 5, 4), 4); /* after é */
	assert_int_equal(utf8_cut(s, 5, 3), 2); /* not inside é */
	assert_int_equal(utf8_cut(s, 5, 2), 2);
	assert_int_equal(utf8_cut(s, 5, 0), 0);
	const char *fire = "\xf0\x9f\x94\xa5\xf0\x9f\x94\xa5";
	for (size_t max = 0; max < 8; max++)
		assert_int_equal(utf8_cut(fire, 8, max), max < 4 ? 0 : 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_repaired),
		cmocka_unit_test(test_cut),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

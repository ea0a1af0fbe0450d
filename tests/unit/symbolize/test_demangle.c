/* SPDX-License-Identifier: MIT */
/* Demangling C++ (Itanium) and Rust (legacy and v0) names, and leaving
 * everything else alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "symbolize/demangle.h"

static void test_names(void **state)
{
	(void)state;
	struct strpool pool;
	struct demangler d;
	static const char *cases[][2] = {
		{ "_ZN3foo3barEv", "foo::bar()" },
		{ "_ZNSt6vectorIiSaIiEE9push_backERKi", "std::vector<int, std::allocator<int> >::push_back(int const&)" },
		{ "_ZN3foo3barIiEEvT_", "void foo::bar<int>(int)" },
		{ "_ZN3foo3barEv.cold", "foo::bar() [clone .cold]" },
		{ "_ZN3foo3barEv@plt", "foo::bar()@plt" },
		{ "_Znot_valid@plt", "_Znot_valid@plt" },
		{ "_ZN4core3fmt5write17h1234567890abcdefE", "core::fmt::write" },
		{ "_RNvCs1234_7mycrate3foo", "mycrate::foo" },
		{ "_RINvNtCs1234_4core3ptr13drop_in_placeINtNtCs1234_5alloc3vec3VecmEEB4_",
		  "core::ptr::drop_in_place::<alloc::vec::Vec<u32>>" },
		{ "main", "main" },
		{ "_Znot_valid", "_Znot_valid" },
		{ "_R", "_R" },
	};
	strpool_init(&pool);
	demangler_init(&d, &pool);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *in = strpool_cstr(&pool, cases[i][0]);
		const char *out = demangler_get(&d, in);
		assert_string_equal(out, cases[i][1]);
		assert_ptr_equal(demangler_get(&d, in), out); /* cached */
		if (!strcmp(cases[i][0], cases[i][1]))
			assert_ptr_equal(out, in);
	}
	d.off = true;
	assert_string_equal(demangler_get(&d, strpool_cstr(&pool, "_ZN3foo3barEv")), "_ZN3foo3barEv");
	demangler_release(&d);
	strpool_release(&pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "formats/folded.h"

struct profile *profile_from(const char *folded)
{
	struct profile *p = profile_new();
	struct format_error e = {""};
	FILE *in = fmemopen((void *)folded, strlen(folded), "r");
	assert_non_null(p);
	assert_non_null(in);
	assert_int_equal(folded_read(in, "test", p, &e), 0);
	fclose(in);
	return p;
}

uint32_t test_str(struct profile *p, const char *s)
{
	int64_t id = profile_intern_cstr(p, s);
	assert_true(id >= 0);
	return (uint32_t)id;
}

uint32_t test_frame(struct profile *p, const char *name, uint32_t kind)
{
	struct frame f = {.name = test_str(p, name), .kind = kind};
	int64_t id = profile_frame(p, &f);
	assert_true(id >= 0);
	return (uint32_t)id;
}

/* SPDX-License-Identifier: MIT */
/* Tests for agent/push.h: the ingest query string (no network). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "agent/push.h"

static void test_query(void **state)
{
	(void)state;
	char out[512];
	struct build_label l[] = { { "host", "web-1" }, { "env", "prod eu" } };
	int n = agent_push_query("api", l, 2, 1700000000, 1700000010, 19, out, sizeof(out));
	assert_int_equal(n, (int)strlen(out));
	assert_string_equal(out, "name=api%7Bhost%3Dweb-1%2Cenv%3Dprod%20eu%7D&from=1700000000&until=1700000010"
				 "&format=pprof&sampleRate=19&spyName=scorch");
	/* No labels; label syntax in a service or value cannot break the name. */
	assert_true(agent_push_query("a{b}=c,d", NULL, 0, 1, 2, 99, out, sizeof(out)) > 0);
	assert_string_equal(out, "name=a_b__c_d%7B%7D&from=1&until=2&format=pprof&sampleRate=99&spyName=scorch");
	/* Paths and non-ASCII are percent-encoded. */
	struct build_label e[] = { { "exe", "/usr/bin/\xc3\xa9t&x" } };
	assert_true(agent_push_query("s", e, 1, 1, 2, 19, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, "exe%3D%2Fusr%2Fbin%2F%C3%A9t%26x%7D"));
	assert_int_equal(agent_push_query("api", l, 2, 1, 2, 19, out, 40), -ENAMETOOLONG);
}

static void test_new(void **state)
{
	(void)state;
	struct agent_push *p = NULL;
	char *h[] = { "X-Scope-OrgID: t1" };
	assert_int_equal(agent_push_new("http://127.0.0.1:1/", h, 1, &p), 0);
	agent_push_free(p);
	agent_push_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_new),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

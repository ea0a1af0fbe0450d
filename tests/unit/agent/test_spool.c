/* SPDX-License-Identifier: MIT */
/* Tests for agent/spool.h: order, bounds, restart, memory fallback, backoff. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/spool.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/scorch-spool-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Checks the oldest entry; its id. */
static uint64_t expect_head_n(struct agent_spool *sp, const char *query, const char *body, size_t blen)
{
	char *q = NULL;
	void *d = NULL;
	size_t len = 0;
	uint64_t id = 0;
	assert_int_equal(agent_spool_peek(sp, &q, &d, &len, &id), 0);
	assert_string_equal(q, query);
	assert_int_equal(len, blen);
	assert_memory_equal(d, body, len);
	free(q);
	free(d);
	return id;
}

/* Checks the oldest entry and pops it. */
static void expect_pop(struct agent_spool *sp, const char *query, const char *body)
{
	assert_true(agent_spool_pop(sp, expect_head_n(sp, query, body, strlen(body))));
}

static void test_order_and_restart(void **state)
{
	(void)state;
	struct agent_spool *sp = NULL;
	struct agent_spool_stats st;
	int derr;
	char sub[128];
	snprintf(sub, sizeof(sub), "%s/spool", dir);
	assert_int_equal(agent_spool_open(sub, 1 << 20, 1 << 20, &sp, &derr), 0);
	assert_int_equal(derr, 0);
	char *q = NULL;
	void *d = NULL;
	size_t len;
	uint64_t id;
	assert_int_equal(agent_spool_peek(sp, &q, &d, &len, &id), -ENOENT);
	assert_int_equal(agent_spool_add(sp, 100, "name=a&from=100", "one\n\0x", 6), 0);
	assert_int_equal(agent_spool_add(sp, 100, "name=b&from=100", "two", 3), 0);
	assert_int_equal(agent_spool_add(sp, 102, "name=a&from=102", "three", 5), 0);
	agent_spool_stats(sp, &st);
	assert_int_equal(st.entries, 3);
	assert_int_equal(st.in_memory, 0);
	id = expect_head_n(sp, "name=a&from=100", "one\n\0x", 6); /* binary bodies survive */
	assert_true(agent_spool_pop(sp, id));
	assert_false(agent_spool_pop(sp, id)); /* popped once */
	agent_spool_free(sp);

	/* A restart finds the rest, in order, and keeps numbering after them. */
	assert_int_equal(agent_spool_open(sub, 1 << 20, 1 << 20, &sp, &derr), 0);
	agent_spool_stats(sp, &st);
	assert_int_equal(st.entries, 2);
	assert_int_equal(agent_spool_add(sp, 104, "name=a&from=104", "four", 4), 0);
	expect_pop(sp, "name=b&from=100", "two");
	expect_pop(sp, "name=a&from=102", "three");
	expect_pop(sp, "name=a&from=104", "four");
	agent_spool_stats(sp, &st);
	assert_int_equal(st.entries, 0);
	assert_int_equal(st.bytes, 0);
	agent_spool_free(sp);
}

static void test_bound(void **state)
{
	(void)state;
	struct agent_spool *sp = NULL;
	struct agent_spool_stats st;
	int derr;
	char sub[128], body[100];
	memset(body, 'x', sizeof(body));
	snprintf(sub, sizeof(sub), "%s/bounded", dir);
	/* Each entry is 100 bytes of body plus its header: three fit in 400. */
	assert_int_equal(agent_spool_open(sub, 400, 1 << 20, &sp, &derr), 0);
	for (uint64_t i = 0; i < 10; i++) {
		char q[32];
		snprintf(q, sizeof(q), "from=%02u", (unsigned)i);
		assert_int_equal(agent_spool_add(sp, 1000 + i, q, body, sizeof(body)), 0);
		agent_spool_stats(sp, &st);
		assert_true(st.bytes <= 400);
	}
	agent_spool_stats(sp, &st);
	assert_int_equal(st.entries, 3);
	assert_int_equal(st.dropped, 7);
	char *q = NULL;
	void *d = NULL;
	size_t len;
	uint64_t id;
	assert_int_equal(agent_spool_peek(sp, &q, &d, &len, &id), 0);
	assert_string_equal(q, "from=07"); /* the oldest went first */
	free(q);
	free(d);
	/* Dropped while it was being sent (the push thread's peek, then the
	 * agent's add): popping it leaves the next one alone. */
	assert_int_equal(agent_spool_add(sp, 1010, "from=10", body, sizeof(body)), 0);
	assert_false(agent_spool_pop(sp, id));
	agent_spool_stats(sp, &st);
	assert_int_equal(st.entries, 3);
	assert_int_equal(agent_spool_peek(sp, &q, &d, &len, &id), 0);
	assert_string_equal(q, "from=08");
	free(q);
	free(d);
	/* Bigger than the whole spool: refused, nothing dropped for it. */
	char big[500] = { 0 };
	assert_int_equal(agent_spool_add(sp, 2000, "big", big, sizeof(big)), -ENOSPC);
	agent_spool_stats(sp, &st);
	assert_int_equal(st.entries, 3);
	agent_spool_free(sp);
}

/* An unwritable directory: entries are kept in memory up to mem_max. */
static void test_memory_fallback(void **state)
{
	(void)state;
	struct agent_spool *sp = NULL;
	struct agent_spool_stats st;
	int derr;
	char sub[128];
	snprintf(sub, sizeof(sub), "%s/no/such/dir", dir);
	assert_int_equal(agent_spool_open(sub, 1 << 20, 64, &sp, &derr), 0);
	assert_int_equal(derr, -ENOENT);
	assert_int_equal(agent_spool_add(sp, 1, "q1", "abc", 3), 0);
	assert_int_equal(agent_spool_add(sp, 2, "q2", "def", 3), 0);
	agent_spool_stats(sp, &st);
	assert_int_equal(st.entries, 2);
	assert_int_equal(st.in_memory, 2);
	assert_int_equal(st.write_errors, 2);
	char fill[64] = { 0 };
	assert_int_equal(agent_spool_add(sp, 3, "q3", fill, sizeof(fill)), -ENOSPC); /* past mem_max */
	expect_pop(sp, "q1", "abc");
	expect_pop(sp, "q2", "def");
	agent_spool_free(sp);
}

static void test_backoff(void **state)
{
	(void)state;
	assert_int_equal(agent_backoff_ms(0, 1000, 60000), 0);
	assert_int_equal(agent_backoff_ms(1, 1000, 60000), 1000);
	assert_int_equal(agent_backoff_ms(2, 1000, 60000), 2000);
	assert_int_equal(agent_backoff_ms(6, 1000, 60000), 32000);
	assert_int_equal(agent_backoff_ms(7, 1000, 60000), 60000);
	assert_int_equal(agent_backoff_ms(4000000000u, 1000, 60000), 60000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_restart),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_memory_fallback),
		cmocka_unit_test(test_backoff),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

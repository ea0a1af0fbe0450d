/* SPDX-License-Identifier: MIT */
/* Tests for agent/output.h: window names, retention, status file. */
#include <errno.h>
#include <fcntl.h>
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

#include "agent/output.h"

static void test_names(void **state)
{
	(void)state;
	char name[64];
	agent_window_name(1795558192, 0, false, name, sizeof(name));
	assert_string_equal(name, "2026-11-24T22-09-52Z.pb.gz");
	assert_int_equal(agent_window_time(name), 1795558192);
	agent_window_name(1795558192, 4242, false, name, sizeof(name));
	assert_string_equal(name, "2026-11-24T22-09-52Z-4242.pb.gz");
	assert_int_equal(agent_window_time(name), 1795558192);
	assert_int_equal(agent_window_time("status.json"), -1);
	assert_int_equal(agent_window_time("2026-11-24T22-09-52Z.folded"), -1);
	assert_int_equal(agent_window_time("2026-11-24T22-09-52Z-x.pb.gz"), -1);
	assert_int_equal(agent_window_time("notes-2026-11-24T22-09-52Z.pb.gz"), -1);
	/* Time off the CPU: files of their own, pruned like the others. */
	agent_window_name(1795558192, 0, true, name, sizeof(name));
	assert_string_equal(name, "2026-11-24T22-09-52Z.offcpu.pb.gz");
	assert_int_equal(agent_window_time(name), 1795558192);
	agent_window_name(1795558192, 4242, true, name, sizeof(name));
	assert_string_equal(name, "2026-11-24T22-09-52Z-4242.offcpu.pb.gz");
	assert_int_equal(agent_window_time(name), 1795558192);
	assert_int_equal(agent_window_time("2026-11-24T22-09-52Z.x.pb.gz"), -1);
	assert_int_equal(agent_window_time("2026-11-24T22-09-52Z-42.x.pb.gz"), -1);
	assert_int_equal(agent_window_time("2026-11-24T22-09-52Z-.offcpu.pb.gz"), -1);
}

static void touch(const char *dir, time_t t, size_t size)
{
	char name[64], path[256];
	agent_window_name(t, 0, false, name, sizeof(name));
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	for (size_t i = 0; i < size; i++)
		fputc('x', f);
	fclose(f);
}

static size_t count(const char *dir)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "ls '%s' | grep -c 'Z.pb.gz$'", dir);
	FILE *p = popen(cmd, "r");
	int n = 0;
	assert_int_equal(fscanf(p, "%d", &n), 1);
	pclose(p);
	return (size_t)n;
}

/* Writes st as DIR/status.json and reads it back into buf. */
static void status_text(const char *dir, const struct agent_status *st, char *buf, size_t cap)
{
	char path[300];
	assert_int_equal(agent_status_write(dir, st), 0);
	snprintf(path, sizeof(path), "%s/status.json", dir);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, cap - 1, f);
	fclose(f);
	buf[n] = '\0';
}

static void test_prune(void **state)
{
	(void)state;
	char dir[] = "/tmp/scorch-out-XXXXXX", other[300];
	assert_non_null(mkdtemp(dir));
	time_t now = 1800000000;
	for (int i = 0; i < 10; i++)
		touch(dir, now - 3600 * (10 - i), 100); /* 10 h ago .. 1 h ago */
	snprintf(other, sizeof(other), "%s/keep.txt", dir);
	fclose(fopen(other, "w"));
	size_t deleted;
	uint64_t kept;
	assert_int_equal(agent_output_prune(dir, 0, 0, now, &deleted, &kept), 0);
	assert_int_equal(deleted, 0);
	assert_int_equal(kept, 1000);
	/* Older than 5 h 30 min: the five oldest. */
	assert_int_equal(agent_output_prune(dir, 5 * 3600 + 1800, 0, now, &deleted, &kept), 0);
	assert_int_equal(deleted, 5);
	assert_int_equal(count(dir), 5);
	/* At most 250 bytes: two files of 100 stay, the newest. */
	assert_int_equal(agent_output_prune(dir, 0, 250, now, &deleted, &kept), 0);
	assert_int_equal(deleted, 3);
	assert_int_equal(kept, 200);
	assert_int_equal(count(dir), 2);
	assert_int_equal(access(other, F_OK), 0); /* not a window file: untouched */

	struct agent_status st = { .time = now, .windows = 3, .map_fill = 0.25, .rss_kib = 1234 };
	char buf[2048];
	status_text(dir, &st, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"windows\": 3,"));
	assert_non_null(strstr(buf, "\"rss_kib\": 1234,"));
	assert_non_null(strstr(buf, "\"map_fill\": 0.2500,"));
	assert_non_null(strstr(buf, "\"disk_bytes\": 0,"));
	assert_non_null(strstr(buf, "\"push_series_folded\": 0\n}\n"));
	assert_null(strstr(buf, "offcpu"));
	assert_null(strstr(buf, "push_last_refusal"));
	/* A refusal's text is the server's: escaped, and made valid UTF-8. */
	st.push_refused = 1;
	st.push_refusal_time = 1700000000;
	snprintf(st.push_refusal, sizeof(st.push_refusal), "api off_cpu 1700000000: HTTP 400: \"bad\"\n\\ \xff");
	status_text(dir, &st, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"push_refused\": 1,"));
	assert_non_null(strstr(buf, "\"push_last_refusal\": \"api off_cpu 1700000000: HTTP 400: \\\"bad\\\"\\u000a\\\\ \xef\xbf\xbd\"\n}\n"));
	/* With --off-cpu, its figures too. */
	st.offcpu = true;
	st.offcpu_us_window = 750000;
	st.offcpu_unknown_total = 2;
	status_text(dir, &st, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"offcpu_us_window\": 750000,"));
	assert_non_null(strstr(buf, "\"offcpu_unknown_total\": 2,"));
	assert_non_null(strstr(buf, "\"offcpu_map_fill\": 0.0000\n}\n"));
	assert_int_equal(agent_status_write("/nonexistent/dir", &st), -ENOENT);
	assert_true(agent_self_rss_kib() > 0);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(agent_output_prune("/nonexistent/dir", 0, 1, now, &deleted, &kept), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_prune),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/* Tests for agent/config.h: durations, sizes, options, config files. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/config.h"

static void test_durations(void **state)
{
	(void)state;
	uint64_t ms = 0;
	assert_int_equal(agent_parse_duration_ms("10s", &ms), 0);
	assert_int_equal(ms, 10000);
	assert_int_equal(agent_parse_duration_ms("10", &ms), 0);
	assert_int_equal(ms, 10000);
	assert_int_equal(agent_parse_duration_ms("500ms", &ms), 0);
	assert_int_equal(ms, 500);
	assert_int_equal(agent_parse_duration_ms("24h", &ms), 0);
	assert_int_equal(ms, 86400000);
	assert_int_equal(agent_parse_duration_ms("7d", &ms), 0);
	assert_int_equal(ms, 7 * 86400000ull);
	assert_int_equal(agent_parse_duration_ms("1.5m", &ms), 0);
	assert_int_equal(ms, 90000);
	assert_int_equal(agent_parse_duration_ms("", &ms), -EINVAL);
	assert_int_equal(agent_parse_duration_ms("-1s", &ms), -EINVAL);
	assert_int_equal(agent_parse_duration_ms("10 parsecs", &ms), -EINVAL);
	assert_int_equal(agent_parse_duration_ms(NULL, &ms), -EINVAL);
}

static void test_sizes(void **state)
{
	(void)state;
	uint64_t b = 0;
	assert_int_equal(agent_parse_size("1G", &b), 0);
	assert_int_equal(b, 1ull << 30);
	assert_int_equal(agent_parse_size("512MiB", &b), 0);
	assert_int_equal(b, 512ull << 20);
	assert_int_equal(agent_parse_size("4096", &b), 0);
	assert_int_equal(b, 4096);
	assert_int_equal(agent_parse_size("2t", &b), 0);
	assert_int_equal(b, 2ull << 40);
	assert_int_equal(agent_parse_size("1X", &b), -EINVAL);
	assert_int_equal(agent_parse_size("99999999999999999999999G", &b), -EINVAL);
}

static void test_args(void **state)
{
	(void)state;
	struct agent_opts o;
	char msg[256];
	char *argv[] = { "agent", "--interval", "2s", "--output-dir=/tmp/x", "--label", "env=prod", "--label",
			 "service=api", "--label", "env=staging", "--push", "http://127.0.0.1:4040", "--push-header",
			 "X-Scope-OrgID: t1", "--per-process", "-F", "49", "--max-disk", "1G", NULL };
	assert_int_equal(agent_opts_load(&o, 19, argv, msg, sizeof(msg)), 0);
	assert_int_equal(o.interval_ms, 2000);
	assert_string_equal(o.output_dir, "/tmp/x");
	assert_int_equal(o.frequency, 49);
	assert_true(o.per_process);
	assert_int_equal(o.max_disk, 1ull << 30);
	assert_int_equal(o.nlabels, 2); /* env given twice: the last wins */
	assert_string_equal(agent_opts_label(&o, "env"), "staging");
	assert_string_equal(agent_opts_label(&o, "service_name"), "api"); /* service= is service_name */
	assert_int_equal(o.nheaders, 1);
	assert_string_equal(o.headers[0], "X-Scope-OrgID: t1");
	assert_string_equal(o.push_url, "http://127.0.0.1:4040");
	assert_true(o.unwind_cfi); /* auto by default */
	agent_opts_release(&o);
	char *fp[] = { "agent", "--unwind", "fp", NULL };
	assert_int_equal(agent_opts_load(&o, 3, fp, msg, sizeof(msg)), 0);
	assert_false(o.unwind_cfi);
	assert_false(o.offcpu);
	assert_int_equal(o.offcpu_min_us, 1); /* as record's */
	agent_opts_release(&o);
	char *off[] = { "agent", "--off-cpu", "--off-cpu-min-us", "50", NULL };
	assert_int_equal(agent_opts_load(&o, 4, off, msg, sizeof(msg)), 0);
	assert_true(o.offcpu);
	assert_int_equal(o.offcpu_min_us, 50);
	agent_opts_release(&o);
	char *neg[] = { "agent", "--off-cpu-min-us", "-3", NULL };
	assert_int_equal(agent_opts_load(&o, 3, neg, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "off-cpu-min-us"));
	agent_opts_release(&o);

	char *help[] = { "agent", "--help", NULL };
	assert_int_equal(agent_opts_load(&o, 2, help, msg, sizeof(msg)), 1);
	agent_opts_release(&o);
	char *bad[][4] = {
		{ "agent", "--interval", "forever", NULL }, { "agent", "--label", "novalue", NULL },
		{ "agent", "--label", "a=b,c", NULL },     { "agent", "--push", "ftp://x", NULL },
		{ "agent", "--push-header", "NoColon", NULL }, { "agent", "--bogus", "1", NULL },
		{ "agent", "--interval", NULL, NULL },      { "agent", "stray", NULL, NULL },
		{ "agent", "--unwind", "lbr", NULL },	    { "agent", "--label", "__name__=x", NULL },
		{ "agent", "--label", "a=\xff", NULL },    { "agent", "--push-max-age", "0", NULL },
		{ "agent", "--push-max-age", "soon", NULL }, { "agent", "--push-series-max", "-1", NULL },
		{ "agent", "--push-series-max", "lots", NULL },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int argc = bad[i][2] ? 3 : 2;
		msg[0] = '\0';
		assert_true(agent_opts_load(&o, argc, bad[i], msg, sizeof(msg)) < 0);
		assert_true(msg[0] != '\0');
		agent_opts_release(&o);
	}
}

/* The push's own options, and what keeps a series within Pyroscope's
 * limits: 30 label names, 2,048 bytes a value. */
static void test_push_opts(void **state)
{
	(void)state;
	struct agent_opts o;
	char msg[256], kv[3000];
	agent_opts_init(&o);
	assert_int_equal(o.push_max_age_s, 55 * 60);
	assert_int_equal(o.push_series_max, 16);
	assert_int_equal(agent_opts_set(&o, "push-max-age", "20s", msg, sizeof(msg)), 0);
	assert_int_equal(o.push_max_age_s, 20);
	assert_int_equal(agent_opts_set(&o, "push-series-max", "0", msg, sizeof(msg)), 0);
	assert_int_equal(o.push_series_max, 0);
	assert_int_equal(o.push_max_samples, 16000);
	assert_int_equal(agent_opts_set(&o, "push-max-samples", "50", msg, sizeof(msg)), 0);
	assert_int_equal(o.push_max_samples, 50);
	assert_int_equal(agent_opts_set(&o, "push-max-samples", "0", msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "push-max-samples"));
	for (int i = 0; i < AGENT_LABELS_MAX; i++) {
		snprintf(kv, sizeof(kv), "k%d=v", i);
		assert_int_equal(agent_opts_set(&o, "label", kv, msg, sizeof(msg)), 0);
	}
	assert_int_equal(agent_opts_set(&o, "label", "k0=again", msg, sizeof(msg)), 0); /* a change, not one more */
	assert_int_equal(agent_opts_set(&o, "label", "one_too_many=v", msg, sizeof(msg)), -E2BIG);
	assert_non_null(strstr(msg, "one_too_many"));
	agent_opts_release(&o);
	agent_opts_init(&o);
	memset(kv, 'x', sizeof(kv));
	memcpy(kv, "k=", 2);
	kv[2 + 2048] = '\0';
	assert_int_equal(agent_opts_set(&o, "label", kv, msg, sizeof(msg)), 0);
	kv[2 + 2048] = 'x';
	kv[2 + 2049] = '\0';
	assert_int_equal(agent_opts_set(&o, "label", kv, msg, sizeof(msg)), -EINVAL);
	agent_opts_release(&o);
}

static void test_config_text(void **state)
{
	(void)state;
	struct agent_opts o;
	char msg[256];
	agent_opts_init(&o);
	const char *text = "# agent\n\ninterval = 30s\n  label = dc=eu1  \npush-header = Authorization: Bearer x\n"
			   "per-process = false\nretention = 24h\noff-cpu = yes\n";
	assert_int_equal(agent_opts_parse_text(&o, text, "cfg", msg, sizeof(msg)), 0);
	assert_int_equal(o.interval_ms, 30000);
	assert_string_equal(agent_opts_label(&o, "dc"), "eu1");
	assert_string_equal(o.headers[0], "Authorization: Bearer x");
	assert_false(o.per_process);
	assert_int_equal(o.retention_s, 86400);
	assert_true(o.offcpu);
	/* Errors name the file and line. */
	assert_int_equal(agent_opts_parse_text(&o, "interval = 1s\n\nnonsense\n", "cfg", msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "cfg:3"));
	assert_true(agent_opts_parse_text(&o, "colour = red\n", "cfg", msg, sizeof(msg)) < 0);
	assert_non_null(strstr(msg, "cfg:1"));
	assert_true(agent_opts_parse_text(&o, "config = /etc/other\n", "cfg", msg, sizeof(msg)) < 0);
	agent_opts_release(&o);
}

/* The file comes before the command line: the command line wins. */
static void test_config_file_order(void **state)
{
	(void)state;
	char path[] = "/tmp/scorch-agent-cfg-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *text = "interval = 30s\nlabel = env=file\nfrequency = 99\n";
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	struct agent_opts o;
	char msg[256];
	char *argv[] = { "agent", "--interval", "5s", "--config", path, NULL };
	assert_int_equal(agent_opts_load(&o, 5, argv, msg, sizeof(msg)), 0);
	assert_int_equal(o.interval_ms, 5000);
	assert_int_equal(o.frequency, 99);
	assert_string_equal(agent_opts_label(&o, "env"), "file");
	agent_opts_release(&o);
	unlink(path);
	char *missing[] = { "agent", "--config", path, NULL };
	assert_true(agent_opts_load(&o, 3, missing, msg, sizeof(msg)) < 0);
	agent_opts_release(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),   cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_args),        cmocka_unit_test(test_config_text),
		cmocka_unit_test(test_config_file_order), cmocka_unit_test(test_push_opts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

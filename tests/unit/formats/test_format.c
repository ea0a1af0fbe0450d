/* SPDX-License-Identifier: MIT */
/* Tests for formats/format.h: choosing formats, whole-file read and write. */
#define _GNU_SOURCE
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

#include "formats/format.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/scorch-format-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static char *in_dir(const char *name)
{
	char *p;
	assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
	return p;
}

static void put(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
}

static char *get(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	buf[fread(buf, 1, sizeof(buf) - 1, f)] = '\0';
	fclose(f);
	return buf;
}

static size_t entries(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
	FILE *f = popen(cmd, "r");
	size_t n = 0;
	assert_int_equal(fscanf(f, "%zu", &n), 1);
	pclose(f);
	return n;
}

static void test_from_name(void **state)
{
	(void)state;
	assert_int_equal(format_from_name("folded"), FORMAT_FOLDED);
	assert_int_equal(format_from_name("collapsed"), FORMAT_FOLDED);
	assert_int_equal(format_from_name("txt"), FORMAT_FOLDED);
	assert_int_equal(format_from_name("svg"), FORMAT_SVG);
	assert_int_equal(format_from_name("SVG"), FORMAT_SVG);
	assert_int_equal(format_from_name("pprof"), FORMAT_PPROF);
	assert_int_equal(format_from_name("pb"), FORMAT_PPROF);
	assert_int_equal(format_from_name(""), FORMAT_UNKNOWN);
	assert_int_equal(format_from_name("png"), FORMAT_UNKNOWN);
	assert_int_equal(format_from_name("folded "), FORMAT_UNKNOWN);
	assert_string_equal(format_name(FORMAT_FOLDED), "folded");
	assert_string_equal(format_name(FORMAT_SVG), "svg");
	assert_string_equal(format_name(FORMAT_PPROF), "pprof");
	assert_string_equal(format_name(FORMAT_UNKNOWN), "unknown");
}

static void test_from_path(void **state)
{
	(void)state;
	assert_int_equal(format_from_path("out.folded"), FORMAT_FOLDED);
	assert_int_equal(format_from_path("/a/b/out.collapsed"), FORMAT_FOLDED);
	assert_int_equal(format_from_path("stacks.txt"), FORMAT_FOLDED);
	assert_int_equal(format_from_path("flame.svg"), FORMAT_SVG);
	assert_int_equal(format_from_path("FLAME.SVG"), FORMAT_SVG);
	assert_int_equal(format_from_path("cpu.pb.gz"), FORMAT_PPROF);
	assert_int_equal(format_from_path("cpu.pb"), FORMAT_PPROF);
	assert_int_equal(format_from_path("cpu.pprof"), FORMAT_PPROF);
	assert_int_equal(format_from_path("./x.svg"), FORMAT_SVG);
	assert_int_equal(format_from_path("noext"), FORMAT_UNKNOWN);
	assert_int_equal(format_from_path("dir.svg/noext"), FORMAT_UNKNOWN);
	assert_int_equal(format_from_path("out."), FORMAT_UNKNOWN);
	assert_int_equal(format_from_path("out.gz"), FORMAT_UNKNOWN);
	assert_int_equal(format_from_path("out.svg.bak"), FORMAT_UNKNOWN);
	assert_int_equal(format_from_path(""), FORMAT_UNKNOWN);
}

static void test_sniff(void **state)
{
	(void)state;
	static const unsigned char gz[] = {0x1f, 0x8b, 0x08, 0x00};
	static const unsigned char pb[] = {0x0a, 0x04, 0x08, 0x01, 0x10, 0x02};
	assert_int_equal(format_sniff(gz, sizeof(gz)), FORMAT_PPROF);
	assert_int_equal(format_sniff(pb, sizeof(pb)), FORMAT_PPROF);
	assert_int_equal(format_sniff("main;a 1\n", 9), FORMAT_FOLDED);
	assert_int_equal(format_sniff("main;a 1\r\n\tb 2\n", 15), FORMAT_FOLDED);
	assert_int_equal(format_sniff("", 0), FORMAT_FOLDED);
	assert_int_equal(format_sniff("\xc3\xa9t\xc3\xa9 1\n", 8), FORMAT_FOLDED); /* UTF-8 */
	assert_int_equal(format_sniff("<?xml version=\"1.0\"?>", 21), FORMAT_SVG);
	assert_int_equal(format_sniff("<svg xmlns", 10), FORMAT_SVG);
	assert_int_equal(format_sniff("<!DOCTYPE svg", 13), FORMAT_SVG);
	assert_int_equal(format_sniff("\x1f", 1), FORMAT_PPROF);
	assert_int_equal(format_sniff("a\0b", 3), FORMAT_PPROF);
}

static void test_read_write_paths(void **state)
{
	(void)state;
	char *in = in_dir("in.folded"), *out = in_dir("out.folded");
	struct profile *p = profile_new();
	struct format_error e = {""};
	put(in, "main;b 2\nmain;a 1\n", 18);
	assert_int_equal(profile_read_path(in, p, &e), 0);
	assert_int_equal(profile_read_path(in, p, &e), 0); /* merged: counts add */
	assert_int_equal(profile_total(p), 6);
	assert_int_equal(profile_write_path(p, out, FORMAT_FOLDED, NULL, &e), 0);
	assert_string_equal(get(out), "main;a 2\nmain;b 4\n");
	assert_int_equal(entries(), 2);
	/* A failed write leaves the old file and no temporary. */
	assert_true(profile_write_path(p, out, FORMAT_UNKNOWN, NULL, &e) < 0);
	assert_string_equal(get(out), "main;a 2\nmain;b 4\n");
	assert_int_equal(entries(), 2);
	/* Writing to a device writes in place and keeps the device. */
	struct stat st;
	assert_int_equal(profile_write_path(p, "/dev/null", FORMAT_FOLDED, NULL, &e), 0);
	assert_int_equal(stat("/dev/null", &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	/* A folded file bigger than the sniffed prefix is read whole. */
	char *big = in_dir("big.folded");
	FILE *f = fopen(big, "w");
	for (int i = 0; i < 20000; i++)
		fprintf(f, "main;f%d 1\n", i % 100);
	fclose(f);
	struct profile *q = profile_new();
	assert_int_equal(profile_read_path(big, q, &e), 0);
	assert_int_equal(profile_total(q), 20000);
	assert_int_equal(profile_nsamples(q), 100);
	profile_free(q);
	free(big);
	profile_free(p);
	free(in);
	free(out);
}

static void test_read_errors(void **state)
{
	(void)state;
	struct profile *p = profile_new();
	struct format_error e = {""};
	char *missing = in_dir("missing.folded");
	assert_int_equal(profile_read_path(missing, p, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "missing.folded: cannot open: No such file or directory"));
	assert_int_equal(profile_read_path(dir, p, &e), -EISDIR);
	assert_non_null(strstr(e.msg, ": cannot read: Is a directory"));
	char *bad = in_dir("bad.folded");
	put(bad, "main;a 1\nmain;b\n", 16);
	assert_int_equal(profile_read_path(bad, p, &e), -EINVAL);
	char want[128];
	snprintf(want, sizeof(want), "%s:2: no sample count after the stack", bad);
	assert_string_equal(e.msg, want);
	char *svg = in_dir("x.svg");
	put(svg, "<svg></svg>", 11);
	assert_int_equal(profile_read_path(svg, p, &e), -ENOTSUP);
	assert_non_null(strstr(e.msg, "cannot be read back"));
	/* Writing into a missing directory or onto a directory fails cleanly. */
	char *nodir = in_dir("no/such/out.folded");
	assert_int_equal(profile_write_path(p, nodir, FORMAT_FOLDED, NULL, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "cannot create"));
	assert_int_equal(profile_write_path(p, dir, FORMAT_FOLDED, NULL, &e), -EISDIR);
	free(nodir);
	free(svg);
	free(bad);
	free(missing);
	profile_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_from_name),
	    cmocka_unit_test(test_from_path),
	    cmocka_unit_test(test_sniff),
	    cmocka_unit_test_setup_teardown(test_read_write_paths, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

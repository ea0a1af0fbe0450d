/* SPDX-License-Identifier: MIT */
/*
 * Tests for profiler/record_opts.h: `scorch record`'s command line.  Parsing
 * needs nothing of the system; the checks read /proc, PATH and the cgroup2
 * mount, and ask capture_online_cpus (capture.h) for the online CPUs, which
 * this file defines: CPUs 0, 1 and 3, so a hole can be asked for.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include <cmocka.h>

#include "profiler/capture.h"
#include "profiler/record_opts.h"
#include "profiler/workload.h"

int capture_online_cpus(int **cpus, size_t *n)
{
	static const int online[] = { 0, 1, 3 };
	*cpus = malloc(sizeof(online));
	if (!*cpus)
		return -ENOMEM;
	memcpy(*cpus, online, sizeof(online));
	*n = 3;
	return 0;
}

/* An argv for record: "record", the arguments, NULL.  It lives as long as
 * the block that names it (the options point into it). */
#define ARGV(...) ((char *[]){ "record", __VA_ARGS__, NULL })

/* What one fd received while it was redirected to a temporary file. */
struct redirect {
	int fd, saved;
	FILE *tmp;
};

static void redirect_begin(struct redirect *r, int fd)
{
	fflush(NULL);
	r->fd = fd;
	r->tmp = tmpfile();
	assert_non_null(r->tmp);
	r->saved = dup(fd);
	assert_true(r->saved >= 0);
	assert_true(dup2(fileno(r->tmp), fd) >= 0);
}

static void redirect_end(struct redirect *r, char *out, size_t len)
{
	fflush(NULL);
	assert_true(dup2(r->saved, r->fd) >= 0);
	close(r->saved);
	rewind(r->tmp);
	size_t n = fread(out, 1, len - 1, r->tmp);
	out[n] = '\0';
	fclose(r->tmp);
}

static int argc_of(char **argv)
{
	int n = 0;
	while (argv[n])
		n++;
	return n;
}

/* record_opts_parse with its stderr in err. */
static int parse(char **argv, struct record_opts *o, char *err, size_t errlen)
{
	struct redirect r;
	redirect_begin(&r, 2);
	int rc = record_opts_parse(argc_of(argv), argv, o);
	redirect_end(&r, err, errlen);
	return rc;
}

/* record_opts_check with its stderr in err. */
static int check(struct record_opts *o, char *err, size_t errlen)
{
	struct redirect r;
	redirect_begin(&r, 2);
	int rc = record_opts_check(o);
	redirect_end(&r, err, errlen);
	return rc;
}

static size_t lines(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* err is exactly one error line that contains want. */
static void assert_one_line(const char *err, const char *want)
{
	if (lines(err) != 1 || strncmp(err, "scorch: error: ", 15) || !strstr(err, want))
		fail_msg("want one error line naming '%s', got: %s", want, err);
}

/* Parsing argv fails with -EINVAL and one line on stderr naming want. */
static void bad(char **argv, const char *want)
{
	struct record_opts o;
	char err[4096];
	int rc = parse(argv, &o, err, sizeof(err));
	if (rc != -EINVAL)
		fail_msg("%s ...: want -EINVAL, got %d (%s)", argv[1], rc, err);
	assert_one_line(err, want);
	record_opts_release(&o);
}

/* Parsing argv succeeds silently. */
static void good(char **argv, struct record_opts *o)
{
	char err[4096];
	int rc = parse(argv, o, err, sizeof(err));
	if (rc != 0 || err[0])
		fail_msg("%s ...: want 0 and no message, got %d: %s", argv[1], rc, err);
}

static void test_defaults(void **state)
{
	(void)state;
	struct record_opts o;
	good(ARGV("-v"), &o);
	assert_int_equal(o.frequency, 99);
	assert_int_equal(o.period, 0);
	assert_true(o.duration == 0);
	assert_null(o.output);
	assert_int_equal(o.format, FORMAT_FOLDED);
	assert_int_equal(o.npids + o.ntids + o.ncpus + o.ncgroups, 0);
	assert_null(o.pids);
	assert_null(o.command);
	assert_false(o.user_only || o.kernel_only || o.include_idle || o.per_pid || o.per_thread);
	assert_false(o.no_inline || o.names_only || o.no_demangle || o.no_debuginfod || o.no_python);
	assert_false(o.write.lines);
	assert_int_equal(o.stack_entries, 0);
	assert_int_equal(o.count_entries, 0);
	assert_int_equal(o.unwind, RECORD_UNWIND_AUTO);
	assert_int_equal(o.unwind_rows, 0);
	assert_int_equal(o.time, RECORD_TIME_CPU);
	assert_int_equal(o.offcpu_min_us, 1);
	assert_true(o.debuginfod_deadline == 30);
	assert_null(o.debug_root);
	assert_null(o.debuginfod_urls);
	assert_true(o.verbose);
	record_opts_release(&o);
	/* Release leaves nothing behind, and may be called again. */
	assert_null(o.pids);
	assert_int_equal(o.frequency, 0);
	record_opts_release(&o);
}

static void test_values(void **state)
{
	(void)state;
	struct record_opts o;
	char **argv = ARGV("-F", "999", "-d", "2.5", "-o", "out.svg", "-p", "1,22,333", "-C", "0,3", "--cgroup",
			   "a/b", "--cgroup", "/c", "-U", "--include-idle", "--per-pid", "--per-thread", "--lines",
			   "--no-inline", "--symbols", "names", "--no-demangle", "--no-python", "--debug-dir", "/dbg",
			   "--debuginfod", "http://a,http://b", "--no-debuginfod", "--debuginfod-deadline", "0.5",
			   "--stack-entries", "64", "--count-entries", "67108864", "--unwind", "fp", "--unwind-rows",
			   "134217728", "--off-cpu-min-us", "0", "--title", "T", "--width", "1200");
	good(argv, &o);
	assert_int_equal(o.frequency, 999);
	assert_true(o.duration == 2.5);
	assert_string_equal(o.output, "out.svg");
	assert_int_equal(o.format, FORMAT_SVG);
	assert_int_equal(o.npids, 3);
	assert_int_equal(o.pids[0], 1);
	assert_int_equal(o.pids[1], 22);
	assert_int_equal(o.pids[2], 333);
	assert_int_equal(o.ncpus, 2);
	assert_int_equal(o.cpus[0], 0);
	assert_int_equal(o.cpus[1], 3);
	assert_int_equal(o.ncgroups, 2);
	assert_string_equal(o.cgroups[0], "a/b");
	assert_string_equal(o.cgroups[1], "/c");
	assert_true(o.user_only && !o.kernel_only);
	assert_true(o.include_idle && o.per_pid && o.per_thread);
	assert_true(o.write.lines && o.no_inline && o.names_only && o.no_demangle && o.no_python);
	assert_string_equal(o.debug_root, "/dbg");
	assert_string_equal(o.debuginfod_urls, "http://a,http://b");
	assert_true(o.no_debuginfod);
	assert_true(o.debuginfod_deadline == 0.5);
	assert_int_equal(o.stack_entries, 64);
	assert_int_equal(o.count_entries, 1u << 26);
	assert_int_equal(o.unwind, RECORD_UNWIND_FP);
	assert_int_equal(o.unwind_rows, 1u << 27);
	assert_int_equal(o.offcpu_min_us, 0);
	assert_string_equal(o.write.svg.title, "T");
	assert_int_equal(o.write.svg.width, 1200);
	assert_null(o.command);
	record_opts_release(&o);

	/* Long options with '=', -c instead of -F, -K, -L. */
	good(ARGV("--period=100000", "--output=-", "--tid=7", "-K", "--unwind=dwarf", "--off-cpu-min-us", "60000000"),
	     &o);
	assert_int_equal(o.period, 100000);
	assert_int_equal(o.frequency, 0); /* no default frequency beside a period */
	assert_string_equal(o.output, "-");
	assert_int_equal(o.format, FORMAT_FOLDED); /* stdout */
	assert_int_equal(o.ntids, 1);
	assert_int_equal(o.tids[0], 7);
	assert_true(o.kernel_only);
	assert_int_equal(o.unwind, RECORD_UNWIND_DWARF);
	assert_int_equal(o.offcpu_min_us, 60000000);
	record_opts_release(&o);
}

static void test_formats(void **state)
{
	(void)state;
	struct record_opts o;
	good(ARGV("-o", "x.pb.gz"), &o);
	assert_int_equal(o.format, FORMAT_PPROF);
	record_opts_release(&o);
	good(ARGV("-o", "X.FOLDED"), &o);
	assert_int_equal(o.format, FORMAT_FOLDED);
	record_opts_release(&o);
	/* --format wins over the extension, and needs no -o. */
	good(ARGV("-o", "x.folded", "--format", "pprof"), &o);
	assert_int_equal(o.format, FORMAT_PPROF);
	record_opts_release(&o);
	good(ARGV("--format", "svg"), &o);
	assert_int_equal(o.format, FORMAT_SVG);
	assert_null(o.output);
	record_opts_release(&o);
	/* An unknown extension is fine with --format. */
	good(ARGV("-o", "x.unknown", "--format", "folded"), &o);
	assert_int_equal(o.format, FORMAT_FOLDED);
	record_opts_release(&o);
}

static void test_time_modes(void **state)
{
	(void)state;
	struct record_opts o;
	good(ARGV("--off-cpu"), &o);
	assert_int_equal(o.time, RECORD_TIME_OFFCPU);
	record_opts_release(&o);
	good(ARGV("--wall"), &o);
	assert_int_equal(o.time, RECORD_TIME_WALL);
	record_opts_release(&o);
	/* --wall holds off-CPU time too: in either order it is --wall. */
	good(ARGV("--wall", "--off-cpu"), &o);
	assert_int_equal(o.time, RECORD_TIME_WALL);
	record_opts_release(&o);
	good(ARGV("--off-cpu", "--wall"), &o);
	assert_int_equal(o.time, RECORD_TIME_WALL);
	record_opts_release(&o);
	good(ARGV("--symbols", "full", "--unwind", "auto"), &o);
	assert_false(o.names_only);
	assert_int_equal(o.unwind, RECORD_UNWIND_AUTO);
	record_opts_release(&o);
}

static void test_command(void **state)
{
	(void)state;
	struct record_opts o;
	/* After --, everything is the command's, options included. */
	char **a = ARGV("-F", "49", "--", "prog", "-F", "1", "--wall");
	good(a, &o);
	assert_int_equal(o.frequency, 49);
	assert_int_equal(o.time, RECORD_TIME_CPU);
	assert_ptr_equal(o.command, &a[4]);
	assert_string_equal(o.command[0], "prog");
	assert_string_equal(o.command[3], "--wall");
	assert_null(o.command[4]);
	record_opts_release(&o);
	/* Without --, the first word that is not an option starts it. */
	char **b = ARGV("-d", "1", "sleep", "-K", "3");
	good(b, &o);
	assert_false(o.kernel_only);
	assert_ptr_equal(o.command, &b[3]);
	assert_string_equal(o.command[1], "-K");
	record_opts_release(&o);
	/* A bare -- with nothing after it: no command. */
	good(ARGV("-d", "1", "--"), &o);
	assert_null(o.command);
	record_opts_release(&o);
}

static void test_help(void **state)
{
	(void)state;
	struct record_opts o;
	struct redirect r;
	char out[16384], err[4096];
	redirect_begin(&r, 1);
	int rc = parse(ARGV("-F", "1", "--help"), &o, err, sizeof(err));
	redirect_end(&r, out, sizeof(out));
	assert_int_equal(rc, 1);
	assert_string_equal(err, "");
	assert_non_null(strstr(out, "usage: scorch record"));
	assert_non_null(strstr(out, "--unwind-rows"));
	assert_non_null(strstr(out, "--minwidth")); /* the flame graph options too */
	record_opts_release(&o);
}

/* Each bad value: -EINVAL, one line that names the option and the value. */
static void test_bad_values(void **state)
{
	(void)state;
	bad(ARGV("-F", "0"), "-F 0: the frequency must be a positive number of Hz");
	bad(ARGV("-F", "abc"), "-F abc:");
	bad(ARGV("-F", "-5"), "-F -5:");
	bad(ARGV("-F", ""), "-F :");
	bad(ARGV("-F", "18446744073709551616"), "-F 18446744073709551616:");
	bad(ARGV("-c", "0"), "-c 0: the period must be a positive number of events");
	bad(ARGV("-d", "0"), "-d 0: the duration must be a positive number of seconds");
	bad(ARGV("-d", "-1"), "-d -1:");
	bad(ARGV("-d", "1s"), "-d 1s:");
	bad(ARGV("-d", "nan"), "-d nan:");
	bad(ARGV("-d", "inf"), "-d inf:");
	bad(ARGV("-p", "1,x"), "-p 1,x: 'x' is not a number");
	bad(ARGV("-p", "2147483648"), "-p 2147483648: '2147483648' is not a number");
	bad(ARGV("-p", "-1"), "-p -1: '-1' is not a number");
	bad(ARGV("-p", ""), "-p '': no numbers given");
	bad(ARGV("-L", ","), "-L ',': no numbers given");
	bad(ARGV("-C", ",,"), "-C ',,': no numbers given");
	bad(ARGV("-L", "1;2"), "-L 1;2: '1;2' is not a number");
	bad(ARGV("-C", "0,one"), "-C 0,one: 'one' is not a number");
	bad(ARGV("--symbols", "all"), "--symbols all: unknown mode (full or names)");
	bad(ARGV("--unwind", "lbr"), "--unwind lbr: unknown mode (fp, dwarf or auto)");
	bad(ARGV("--unwind-rows", "1023"), "--unwind-rows 1023: not a capacity between 1024 and 134217728");
	bad(ARGV("--unwind-rows", "134217729"), "--unwind-rows 134217729:");
	bad(ARGV("--stack-entries", "63"), "--stack-entries 63: not a capacity between 64 and 67108864");
	bad(ARGV("--stack-entries", "67108865"), "--stack-entries 67108865:");
	bad(ARGV("--count-entries", "many"), "--count-entries many: not a capacity between 64 and 67108864");
	bad(ARGV("--off-cpu-min-us", "60000001"), "--off-cpu-min-us 60000001: not a number of microseconds");
	bad(ARGV("--off-cpu-min-us", "1.5"), "--off-cpu-min-us 1.5:");
	bad(ARGV("--debuginfod-deadline", "-1"), "--debuginfod-deadline -1: not a number of seconds");
	bad(ARGV("--debuginfod-deadline", "soon"), "--debuginfod-deadline soon:");
	bad(ARGV("--debuginfod", ""), "--debuginfod '': no server URL");
	bad(ARGV("--debuginfod", ", ,"), "--debuginfod ', ,': no server URL");
	bad(ARGV("--format", "json"), "--format json: unknown format (folded, svg or pprof)");
	bad(ARGV("-o", "x.json"), "-o x.json: cannot tell the format from the extension");
	bad(ARGV("--width", "99"), "--width 99: not a width in pixels");
	bad(ARGV("--minwidth", "-1"), "--minwidth -1:");
	bad(ARGV("--palette", "blue"), "--palette blue: unknown palette");
}

/* Options that exclude each other: -EINVAL and one line naming both. */
static void test_conflicts(void **state)
{
	(void)state;
	bad(ARGV("-F", "99", "-c", "1000"), "-F and -c exclude each other");
	bad(ARGV("-U", "-K"), "-U and -K exclude each other");
	bad(ARGV("-p", "1", "--", "prog"), "a command and -p/-L exclude each other");
	bad(ARGV("-L", "1", "prog"), "a command and -p/-L exclude each other");
}

/* What getopt refuses (an unknown option, a missing value): -EINVAL, getopt's
 * line naming the option first, then the usage. */
static void test_getopt_errors(void **state)
{
	(void)state;
	static const char *const want[][2] = { { "--bogus", "--bogus" }, { "-F", "'F'" }, { "-Z", "'Z'" } };
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct record_opts o;
		char err[16384];
		char **argv = ARGV((char *)want[i][0]);
		assert_int_equal(parse(argv, &o, err, sizeof(err)), -EINVAL);
		char *nl = strchr(err, '\n');
		assert_non_null(nl);
		*nl = '\0';
		if (!strstr(err, want[i][1]))
			fail_msg("%s: first line does not name it: %s", want[i][0], err);
		assert_non_null(strstr(nl + 1, "usage: scorch record"));
		record_opts_release(&o);
	}
}

/* argv parses, and record_opts_check returns want_rc with one line naming
 * want (none with 0). */
static void checked(char **argv, int want_rc, const char *want)
{
	struct record_opts o;
	char err[4096];
	good(argv, &o);
	int rc = check(&o, err, sizeof(err));
	if (rc != want_rc)
		fail_msg("%s ...: check returned %d, want %d: %s", argv[1], rc, want_rc, err);
	if (want)
		assert_one_line(err, want);
	else
		assert_string_equal(err, "");
	record_opts_release(&o);
}

static void test_check(void **state)
{
	(void)state;
	char self[16], tid[16];
	snprintf(self, sizeof(self), "%d", (int)getpid());
	snprintf(tid, sizeof(tid), "%d", (int)gettid());

	checked(ARGV("-p", self, "-C", "0,1,3"), 0, NULL);
	checked(ARGV("-L", tid), 0, NULL);
	/* The command is looked up on PATH; a path is taken as it is. */
	checked(ARGV("--", "sh", "-c", "true"), 0, NULL);
	checked(ARGV("-p", self, "-p", "2147483647"), -ESRCH, "-p 2147483647: no such process");
	checked(ARGV("-L", "2147483646"), -ESRCH, "-L 2147483646: no such process");
	checked(ARGV("-C", "0,2"), -EINVAL, "-C 2: no such online CPU");
	checked(ARGV("--", "/no/such/command"), -ENOENT, "/no/such/command: command not found");
	checked(ARGV("no-such-command-on-path-Zq"), -ENOENT, "no-such-command-on-path-Zq: command not found");
	checked(ARGV("--", "/"), -EACCES, "/: Permission denied");
	/* A directory that is not a cgroup, and a cgroup path that is not there. */
	checked(ARGV("--cgroup", "/proc"), -ENOTDIR, "--cgroup /proc: not a cgroup v2 directory");
	checked(ARGV("--cgroup", "no/such/cgroup-Zq"), -ENOENT,
		"--cgroup no/such/cgroup-Zq: not a cgroup v2 directory: No such file or directory");
}

/* The sample rate against the kernel's limit, and a cgroup found: both need
 * what the machine has, and are skipped where it lacks it. */
static void test_check_system(void **state)
{
	(void)state;
	struct record_opts o;
	char err[4096], over[32];
	unsigned long long max = 0;
	FILE *f = fopen("/proc/sys/kernel/perf_event_max_sample_rate", "re");
	struct statfs sfs;
	bool cgroup2 = !statfs("/sys/fs/cgroup", &sfs) && sfs.f_type == CGROUP2_SUPER_MAGIC;

	if (f) {
		if (fscanf(f, "%llu", &max) != 1)
			max = 0;
		fclose(f);
	}
	if (!max && !cgroup2)
		skip();
	if (max) {
		char want[128];
		snprintf(over, sizeof(over), "%llu", max + 1);
		snprintf(want, sizeof(want), "-F %s: above the kernel's limit of %llu Hz", over, max);
		checked(ARGV("-F", over), -EINVAL, want);
		snprintf(over, sizeof(over), "%llu", max);
		checked(ARGV("-F", over), 0, NULL);
	}
	if (cgroup2) {
		good(ARGV("--cgroup", "/sys/fs/cgroup"), &o);
		assert_int_equal(check(&o, err, sizeof(err)), 0);
		assert_int_equal(o.ncgroups, 1);
		assert_non_null(o.cgroup_ids);
		assert_true(o.cgroup_ids[0] > 0);
		record_opts_release(&o);
	}
}

/* A script at a temporary path whose first line is line: whether
 * workload_runs_python takes it for CPython. */
static bool script_runs_python(const char *line)
{
	char path[] = "/tmp/scorch-test-script-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, line, strlen(line)), (ssize_t)strlen(line));
	close(fd);
	bool py = workload_runs_python(path);
	unlink(path);
	return py;
}

/* Which commands get the Python walkers loaded from their start: by the
 * program's name, a script's #! line (through env too), or libpython. */
static void test_runs_python(void **state)
{
	(void)state;
	assert_true(workload_runs_python("/usr/bin/python3.11")); /* by its name: not opened */
	assert_true(workload_runs_python("python3"));
	assert_true(script_runs_python("#!/usr/bin/env python3\nprint(1)\n"));
	assert_true(script_runs_python("#! /usr/local/bin/python3.12 -u\n"));
	assert_false(script_runs_python("#!/bin/sh\necho python\n")); /* the first line only */
	assert_false(script_runs_python("print(1)\n"));
	assert_false(workload_runs_python("/proc/self/exe")); /* ELF, no libpython */
	assert_false(workload_runs_python("/nonexistent/scorch-test"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),    cmocka_unit_test(test_values),
		cmocka_unit_test(test_formats),     cmocka_unit_test(test_time_modes),
		cmocka_unit_test(test_command),     cmocka_unit_test(test_help),
		cmocka_unit_test(test_bad_values),  cmocka_unit_test(test_conflicts),
		cmocka_unit_test(test_getopt_errors), cmocka_unit_test(test_check),
		cmocka_unit_test(test_check_system), cmocka_unit_test(test_runs_python),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

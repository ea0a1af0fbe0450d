/* SPDX-License-Identifier: MIT */
/* Tests for formats/folded.h: reading, writing, round trips, errors. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "formats/folded.h"

/* Reads text (as file "t.folded") into p; returns folded_read's result. */
static int read_str(struct profile *p, const char *text, size_t len, struct format_error *e)
{
	FILE *in = len ? fmemopen((void *)text, len, "r") : fopen("/dev/null", "r");
	assert_non_null(in);
	int err = folded_read(in, "t.folded", p, e);
	fclose(in);
	return err;
}

/* Writes p as folded into a new string (caller frees). */
static char *write_str(const struct profile *p, bool lines)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	assert_non_null(out);
	assert_int_equal(folded_write(p, lines, out), 0);
	fclose(out);
	return buf;
}

static char *roundtrip(const char *text)
{
	struct profile *p = profile_new();
	struct format_error e = {""};
	assert_int_equal(read_str(p, text, strlen(text), &e), 0);
	char *out = write_str(p, false);
	profile_free(p);
	return out;
}

static void test_roundtrip_identity(void **state)
{
	(void)state;
	/* Sorted input (LC_ALL=C sort) with every annotation, spaces, templates,
	 * lambdas. */
	const char *text =
	    "[unknown];x 1\n"
	    "main;foo bar (anon namespace);baz 7\n"
	    "main;read;entry_SYSCALL_64_[k];do_syscall_64_[k];ksys_read_[k] 12\n"
	    "main;std::vector<int>::operator[];inlined_helper_[i] 4\n"
	    "main;std::vector<std::pair<int, int>, std::allocator<std::pair<int, int> > >::push_back 3\n"
	    "main;x 4611686018427387904\n"
	    "main;{lambda(int)#1}::operator() const;jitted_fn_[j] 2\n"
	    "python3;_PyEval_EvalFrameDefault;<module> 5\n";
	char *out = roundtrip(text);
	assert_string_equal(out, text);
	free(out);
}

static void test_kinds(void **state)
{
	(void)state;
	struct profile *p = profile_new();
	struct format_error e = {""};
	const char *text = "a;k_[k];i_[i];j_[j];_[k];x_[z] 1\n";
	assert_int_equal(read_str(p, text, strlen(text), &e), 0);
	struct sample s;
	profile_sample_get(p, 0, &s);
	assert_int_equal(s.nframes, 6);
	static const char *names[] = {"a", "k", "i", "j", "_[k]", "x_[z]"};
	static const uint32_t kinds[] = {FRAME_USER, FRAME_KERNEL, FRAME_INLINED,
					 FRAME_JIT,  FRAME_USER,   FRAME_USER};
	for (int i = 0; i < 6; i++) {
		const struct frame *f = profile_frame_get(p, s.frames[i]);
		assert_string_equal(profile_str(p, f->name), names[i]);
		assert_int_equal(f->kind, kinds[i]);
	}
	/* "k" as kernel and "k" as user are different frames with one name. */
	const char *more = "k 1\n";
	assert_int_equal(read_str(p, more, strlen(more), &e), 0);
	profile_sample_get(p, 1, &s);
	assert_int_not_equal(s.frames[0], 0);
	assert_int_equal(profile_frame_get(p, s.frames[0])->kind, FRAME_USER);
	assert_string_equal(folded_kind_suffix(FRAME_KERNEL), "_[k]");
	assert_string_equal(folded_kind_suffix(FRAME_USER), "");
	profile_free(p);
}

static void test_concatenated_runs(void **state)
{
	(void)state;
	/* Unsorted, repeated stacks (two runs appended) add up; output sorted. */
	char *out = roundtrip("main;b 2\nmain;a 1\n# run 2\nmain;a 10\nmain;b 20\nmain;a;c 5\n");
	assert_string_equal(out, "main;a 11\nmain;a;c 5\nmain;b 22\n");
	free(out);
	/* Two reads into the same profile add up as well. */
	struct profile *p = profile_new();
	struct format_error e = {""};
	assert_int_equal(read_str(p, "x;y 3\n", 6, &e), 0);
	assert_int_equal(read_str(p, "x;y 4\nx 1", 9, &e), 0);
	assert_int_equal(profile_total(p), 8);
	assert_int_equal(profile_nsamples(p), 2);
	out = write_str(p, false);
	assert_string_equal(out, "x 1\nx;y 7\n");
	free(out);
	profile_free(p);
}

static void test_line_forms(void **state)
{
	(void)state;
	/* CRLF, tabs and extra blanks before the count, blank and comment
	 * lines, whitespace-only lines, empty frames, count 0, no final '\n'. */
	char *out = roundtrip("\r\n# comment\r\nmain;a 1\r\n   \n\nmain;;a\t\t2\r\nmain;b   0\nmain;c  4");
	assert_string_equal(out, "main;a 3\nmain;c 4\n");
	free(out);
	out = roundtrip("");
	assert_string_equal(out, "");
	free(out);
	out = roundtrip("\n\n# only comments\n");
	assert_string_equal(out, "");
	free(out);
}

static void test_huge_counts(void **state)
{
	(void)state;
	struct profile *p = profile_new();
	struct format_error e = {""};
	const char *max = "a 9223372036854775807\n";
	assert_int_equal(read_str(p, max, strlen(max), &e), 0);
	assert_int_equal(profile_total(p), INT64_MAX);
	char *out = write_str(p, false);
	assert_string_equal(out, max);
	free(out);
	/* One more sample overflows the total: reported with its line. */
	const char *more = "b 1\nb 1\n";
	assert_int_equal(read_str(p, more, strlen(more), &e), -EOVERFLOW);
	assert_string_equal(e.msg, "t.folded:1: sample counts add up past 2^63");
	profile_free(p);
	p = profile_new();
	const char *big = "a 9223372036854775808\n";
	assert_int_equal(read_str(p, big, strlen(big), &e), -EINVAL);
	assert_string_equal(e.msg, "t.folded:1: sample count is too large");
	profile_free(p);
}

static void expect_error(const char *text, size_t len, const char *msg)
{
	struct profile *p = profile_new();
	struct format_error e = {""};
	assert_int_equal(read_str(p, text, len, &e), -EINVAL);
	assert_string_equal(e.msg, msg);
	profile_free(p);
}

static void test_malformed(void **state)
{
	(void)state;
	expect_error("a 1\nmain;foo\n", 12, "t.folded:2: no sample count after the stack");
	expect_error("a 1\n\n# c\nmain;foo bar\n", 22,
		     "t.folded:4: sample count is not a non-negative integer");
	expect_error("a -1\n", 5, "t.folded:1: sample count is not a non-negative integer");
	expect_error("a 1.5\n", 6, "t.folded:1: sample count is not a non-negative integer");
	expect_error("a 1x\n", 5, "t.folded:1: sample count is not a non-negative integer");
	expect_error("x 1\r\n 5\r\n", 9, "t.folded:2: empty stack");
	expect_error(";; 5\n", 5, "t.folded:1: empty stack");
	expect_error("a 1\nb\0c 2\n", 10, "t.folded:2: NUL byte in a folded file");
	/* The line number is right past the 1 MiB read chunk. */
	size_t n = 300000, len = 0;
	char *big = malloc(n * 8 + 32);
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(big + len, "a;b%zu 1\n", i % 10);
	len += (size_t)sprintf(big + len, "oops\n");
	char msg[64];
	snprintf(msg, sizeof(msg), "t.folded:%zu: no sample count after the stack", n + 1);
	expect_error(big, len, msg);
	free(big);
}

static void test_long_lines(void **state)
{
	(void)state;
	/* A stack of 50000 frames (a line of ~600 KB, then one of 3 MB) crosses
	 * read chunks. */
	for (size_t depth = 50000; depth <= 250000; depth += 200000) {
		size_t len = 0;
		char *text = malloc(depth * 12 + 64);
		for (size_t i = 0; i < depth; i++)
			len += (size_t)sprintf(text + len, "%sf%zu", i ? ";" : "", i % 1000);
		len += (size_t)sprintf(text + len, " 3\nshort 1\n");
		char *out = roundtrip(text);
		assert_int_equal(strlen(out), len);
		assert_memory_equal(out, text, len);
		struct profile *p = profile_new();
		struct format_error e = {""};
		assert_int_equal(read_str(p, text, len, &e), 0);
		struct sample s;
		profile_sample_get(p, 0, &s);
		assert_int_equal(s.nframes, depth);
		assert_int_equal(profile_nframes(p), 1001);
		profile_free(p);
		free(out);
		free(text);
	}
}

static void test_shared_prefixes(void **state)
{
	(void)state;
	/* Neighbouring lines share leading bytes but not always whole frames:
	 * the prefix reuse must only take over complete frames. */
	const char *text = "ab;cd 1\nab;cde 2\nab;c;d 3\nabc;d 4\na;;b 5\na;;bc 6\na_[k];b 7\na;b 8\n";
	struct profile *p = profile_new();
	struct format_error e = {""};
	assert_int_equal(read_str(p, text, strlen(text), &e), 0);
	static const char *want[][3] = {{"ab", "cd"}, {"ab", "cde"}, {"ab", "c", "d"}, {"abc", "d"},
					{"a", "b"},   {"a", "bc"},   {"a", "b"},       {"a", "b"}};
	static const uint32_t nwant[] = {2, 2, 3, 2, 2, 2, 2, 2};
	for (size_t i = 0; i < profile_nsamples(p); i++) {
		struct sample s;
		profile_sample_get(p, i, &s);
		assert_int_equal(s.nframes, nwant[i]);
		for (uint32_t j = 0; j < s.nframes; j++)
			assert_string_equal(profile_str(p, profile_frame_get(p, s.frames[j])->name),
					    want[i][j]);
	}
	/* "a;;b" and "a;b" are one stack; "a_[k];b" is another. */
	assert_int_equal(profile_nsamples(p), 7);
	profile_free(p);
}

static void test_write_model(void **state)
{
	(void)state;
	/* Frames that display the same merge; names are sanitized; root labels
	 * come first; --lines adds file:line; empty stacks show [unknown]. */
	struct profile *p = profile_new();
	uint32_t comm = (uint32_t)profile_intern_cstr(p, "comm"),
		 pid = (uint32_t)profile_intern_cstr(p, "pid");
	uint32_t file = (uint32_t)profile_intern_cstr(p, "src/a.c");
	struct frame f1 = {
	    .name = (uint32_t)profile_intern_cstr(p, "f"), .file = file, .line = 10, .address = 1};
	struct frame f2 = f1;
	f2.address = 2; /* another address, same display */
	f2.line = 11;
	struct frame g = {.name = (uint32_t)profile_intern_cstr(p, "a;b\nc"), .kind = FRAME_KERNEL};
	struct frame m = {.name = (uint32_t)profile_intern_cstr(p, "main"), .file = file};
	uint32_t i1 = (uint32_t)profile_frame(p, &f1), i2 = (uint32_t)profile_frame(p, &f2);
	uint32_t ig = (uint32_t)profile_frame(p, &g), im = (uint32_t)profile_frame(p, &m);
	struct label la[] = {{comm, (uint32_t)profile_intern_cstr(p, "app"), 0}, {pid, 0, 42}};
	struct label lb[] = {{comm, (uint32_t)profile_intern_cstr(p, "app"), 0}, {pid, 0, 43}};
	uint32_t sa = (uint32_t)profile_labelset(p, la, 2), sb = (uint32_t)profile_labelset(p, lb, 2);
	uint32_t s1[] = {im, i1}, s2[] = {im, i2}, s3[] = {im, ig};
	assert_int_equal(profile_add(p, s1, 2, sa, 1), 0);
	assert_int_equal(profile_add(p, s2, 2, sb, 2), 0);
	assert_int_equal(profile_add(p, s3, 2, sa, 4), 0);
	assert_int_equal(profile_add(p, NULL, 0, 0, 8), 0);

	char *out = write_str(p, false);
	assert_string_equal(out, "[unknown] 8\nmain;a:b c_[k] 4\nmain;f 3\n");
	free(out);
	out = write_str(p, true);
	assert_string_equal(out, "[unknown] 8\nmain src/a.c;a:b c_[k] 4\nmain src/a.c;f src/a.c:10 1\n"
				 "main src/a.c;f src/a.c:11 2\n");
	free(out);
	struct profile_meta *meta = profile_meta(p);
	meta->root_labels[0] = comm;
	meta->root_labels[1] = pid;
	meta->nroot_labels = 2;
	out = write_str(p, false);
	assert_string_equal(out, "[unknown] 8\napp;42;main;a:b c_[k] 4\napp;42;main;f 1\napp;43;main;f 2\n");
	free(out);
	meta->nroot_labels = 1; /* pid not shown: the two f stacks merge */
	out = write_str(p, false);
	assert_string_equal(out, "[unknown] 8\napp;main;a:b c_[k] 4\napp;main;f 3\n");
	free(out);

	/* The stack view agrees. */
	struct stack_view v;
	struct sample s;
	stack_view_init(&v);
	profile_sample_get(p, 2, &s);
	assert_int_equal(stack_view_fill(&v, p, &s), 0);
	assert_int_equal(v.n, 3);
	assert_string_equal(v.frames[0].name, "app");
	assert_int_equal(v.frames[0].frame_id, -1);
	assert_string_equal(v.frames[2].name, "a;b\nc");
	assert_int_equal(v.frames[2].kind, FRAME_KERNEL);
	assert_int_equal(v.frames[2].frame_id, ig);
	stack_view_release(&v);
	stack_view_release(&v);
	profile_free(p);
}

static void test_sort_order(void **state)
{
	(void)state;
	/* Byte order of the stack text (as LC_ALL=C sort), the end of the stack
	 * first: "a" < "a b" < "a0" < "a;b" < "ab". */
	char *out = roundtrip("ab 1\na0 2\na;b 3\na b 4\na 5\na;b;c 6\na;bc 7\na;b c 8\n");
	assert_string_equal(out, "a 5\na b 4\na0 2\na;b 3\na;b c 8\na;b;c 6\na;bc 7\nab 1\n");
	free(out);
}

static void test_write_error(void **state)
{
	(void)state;
	struct profile *p = profile_new();
	struct format_error e = {""};
	/* Output bigger than the writer's buffer, so the error shows in the call
	 * (smaller output fails at the caller's fflush). */
	size_t n = 3 << 20;
	char *big = malloc(n + 8);
	memset(big, 'x', n);
	strcpy(big + n, " 1\n");
	assert_int_equal(read_str(p, big, n + 3, &e), 0);
	free(big);
	FILE *full = fopen("/dev/full", "w");
	if (full) {
		assert_true(folded_write(p, false, full) < 0);
		fclose(full);
	}
	profile_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip_identity), cmocka_unit_test(test_kinds),
	    cmocka_unit_test(test_concatenated_runs),  cmocka_unit_test(test_line_forms),
	    cmocka_unit_test(test_huge_counts),	       cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_long_lines),	       cmocka_unit_test(test_shared_prefixes),
	    cmocka_unit_test(test_write_model),	       cmocka_unit_test(test_sort_order),
	    cmocka_unit_test(test_write_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/* Tests for formats/profile.h: interning, label sets, samples, merge, meta. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

#include "formats/profile.h"

static int setup(void **state)
{
	*state = profile_new();
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	profile_free(*state);
	return 0;
}

static void test_strings(void **state)
{
	struct profile *p = *state;
	assert_int_equal(profile_nstrs(p), 1);
	assert_string_equal(profile_str(p, 0), "");
	assert_int_equal(test_str(p, ""), 0);
	uint32_t a = test_str(p, "main");
	const char *ptr = profile_str(p, a);
	assert_int_equal(test_str(p, "main"), a);
	assert_int_equal(profile_intern(p, "mainly", 4), a); /* by length, not NUL */
	assert_int_not_equal(test_str(p, "Main"), a);
	/* Binary-safe: embedded NUL makes a different string. */
	int64_t nul = profile_intern(p, "ma\0in", 5);
	assert_true(nul > 0 && nul != a);
	/* Pointers stay valid while many more strings are added. */
	char buf[32];
	for (int i = 0; i < 20000; i++) {
		snprintf(buf, sizeof(buf), "fn%d", i);
		uint32_t id = test_str(p, buf);
		assert_int_equal(id, profile_nstrs(p) - 1); /* dense, in order */
	}
	for (int i = 0; i < 20000; i += 997) {
		snprintf(buf, sizeof(buf), "fn%d", i);
		assert_string_equal(profile_str(p, test_str(p, buf)), buf);
	}
	assert_ptr_equal(profile_str(p, a), ptr);
	assert_string_equal(ptr, "main");
	/* Long strings (bigger than an arena chunk). */
	static char big[200000];
	memset(big, 'x', sizeof(big) - 1);
	uint32_t b = test_str(p, big);
	assert_int_equal(strlen(profile_str(p, b)), sizeof(big) - 1);
	assert_int_equal(test_str(p, big), b);
	assert_string_equal(profile_str(p, 0xffffff), ""); /* invalid id */
}

static void test_frames(void **state)
{
	struct profile *p = *state;
	uint32_t f1 = test_frame(p, "main", FRAME_USER);
	assert_int_equal(test_frame(p, "main", FRAME_USER), f1);
	uint32_t k = test_frame(p, "main", FRAME_KERNEL);
	assert_int_not_equal(k, f1);
	const struct frame *fr = profile_frame_get(p, k);
	assert_string_equal(profile_str(p, fr->name), "main");
	assert_int_equal(fr->kind, FRAME_KERNEL);
	/* The fast path interns the same frames. */
	assert_int_equal(profile_frame_named(p, "main", 4, FRAME_USER), f1);
	assert_int_equal(profile_frame_named(p, "main_[k]", 4, FRAME_KERNEL), k);
	int64_t j = profile_frame_named(p, "jitted", 6, FRAME_JIT);
	assert_true(j >= 0);
	assert_int_equal(test_frame(p, "jitted", FRAME_JIT), j);
	assert_int_equal(profile_frame_named(p, "", 0, FRAME_USER), -EINVAL);
	assert_int_equal(profile_frame_named(p, "x", 1, 9), -EINVAL);
	/* All fields take part. */
	struct frame a = {.name = test_str(p, "f"), .file = test_str(p, "a.c"), .line = 3, .address = 0x1000};
	struct frame b = a;
	b.line = 4;
	int64_t ia = profile_frame(p, &a), ib = profile_frame(p, &b);
	assert_true(ia >= 0 && ib >= 0 && ia != ib);
	assert_int_equal(profile_frame(p, &a), ia);
	/* system_name equal to name is the same frame as system_name 0. */
	struct frame c = a;
	c.system_name = c.name;
	assert_int_equal(profile_frame(p, &c), ia);
	/* Invalid frames. */
	struct frame bad = {0};
	assert_int_equal(profile_frame(p, &bad), -EINVAL);
	bad.name = 999999;
	assert_int_equal(profile_frame(p, &bad), -EINVAL);
	bad = a;
	bad.mapping = 5;
	assert_int_equal(profile_frame(p, &bad), -EINVAL);
	bad = a;
	bad.kind = 7;
	assert_int_equal(profile_frame(p, &bad), -EINVAL);
	assert_null(profile_frame_get(p, (uint32_t)profile_nframes(p)));
}

static void test_mappings(void **state)
{
	struct profile *p = *state;
	assert_int_equal(profile_nmappings(p), 0);
	assert_null(profile_mapping_get(p, 0));
	struct mapping m = {.start = 0x400000,
			    .limit = 0x500000,
			    .file = test_str(p, "/bin/app"),
			    .build_id = test_str(p, "abcd"),
			    .flags = MAPPING_HAS_FUNCTIONS,
			    .pad = 77};
	int64_t id = profile_mapping(p, &m);
	assert_int_equal(id, 1);
	m.pad = 0; /* pad is ignored */
	assert_int_equal(profile_mapping(p, &m), 1);
	m.offset = 0x1000;
	assert_int_equal(profile_mapping(p, &m), 2);
	assert_int_equal(profile_nmappings(p), 2);
	const struct mapping *g = profile_mapping_get(p, 1);
	assert_int_equal(g->start, 0x400000);
	assert_int_equal(g->pad, 0);
	assert_string_equal(profile_str(p, g->file), "/bin/app");
	m.file = 123456;
	assert_int_equal(profile_mapping(p, &m), -EINVAL);
	struct frame f = {.name = test_str(p, "f"), .mapping = 2};
	int64_t fid = profile_frame(p, &f);
	assert_true(fid >= 0);
	assert_int_equal(profile_frame_get(p, (uint32_t)fid)->mapping, 2);
}

static void test_labelsets(void **state)
{
	struct profile *p = *state;
	uint32_t pid = test_str(p, "pid"), comm = test_str(p, "comm"), tid = test_str(p, "tid");
	struct label l1[] = {{pid, 0, 42}, {comm, test_str(p, "app"), 0}, {tid, 0, 43}};
	struct label l2[] = {{tid, 0, 43}, {pid, 0, 42}, {comm, test_str(p, "app"), 99}};
	int64_t a = profile_labelset(p, l1, 3);
	assert_true(a > 0);
	assert_int_equal(profile_labelset(p, l2, 3), a); /* order and num of strings ignored */
	assert_int_equal(profile_labelset(p, NULL, 0), 0);
	struct label l3[] = {{pid, 0, 7}};
	int64_t b = profile_labelset(p, l3, 1);
	assert_true(b > 0 && b != a);
	size_t n;
	const struct label *got = profile_labelset_get(p, (uint32_t)a, &n);
	assert_int_equal(n, 3);
	for (size_t i = 1; i < n; i++)
		assert_true(got[i - 1].key < got[i].key);
	assert_int_equal(profile_label_find(p, (uint32_t)a, pid)->num, 42);
	assert_string_equal(profile_str(p, profile_label_find(p, (uint32_t)a, comm)->str), "app");
	assert_null(profile_label_find(p, (uint32_t)b, comm));
	assert_null(profile_labelset_get(p, 0, &n));
	assert_int_equal(n, 0);
	assert_null(profile_labelset_get(p, 12345, &n));
	assert_int_equal(n, 0);
	/* Invalid sets. */
	struct label dup[] = {{pid, 0, 1}, {pid, 0, 2}};
	assert_int_equal(profile_labelset(p, dup, 2), -EINVAL);
	struct label nokey[] = {{0, 0, 1}};
	assert_int_equal(profile_labelset(p, nokey, 1), -EINVAL);
	struct label badstr[] = {{pid, 99999, 0}};
	assert_int_equal(profile_labelset(p, badstr, 1), -EINVAL);
	struct label many[PROFILE_MAX_LABELS + 1];
	memset(many, 0, sizeof(many));
	assert_int_equal(profile_labelset(p, many, PROFILE_MAX_LABELS + 1), -E2BIG);
}

static void test_add_and_totals(void **state)
{
	struct profile *p = *state;
	uint32_t m = test_frame(p, "main", FRAME_USER), a = test_frame(p, "a", FRAME_USER), b = test_frame(p, "b", FRAME_USER);
	uint32_t s1[] = {m, a}, s2[] = {m, a, b}, s3[] = {m, b};
	struct label l = {test_str(p, "pid"), 0, 1};
	uint32_t set = (uint32_t)profile_labelset(p, &l, 1);
	struct sample s;

	assert_int_equal(profile_nsamples(p), 0);
	assert_int_equal(profile_add(p, s1, 2, 0, 5), 0);
	assert_int_equal(profile_add(p, s2, 3, 0, 1), 0);
	assert_int_equal(profile_add(p, s1, 2, 0, 7), 0);   /* same stack: merged */
	assert_int_equal(profile_add(p, s1, 2, set, 2), 0); /* other labels: new */
	assert_int_equal(profile_add(p, s3, 2, 0, 3), 0);
	assert_int_equal(profile_add(p, NULL, 0, 0, 4), 0); /* empty stack */
	assert_int_equal(profile_nsamples(p), 5);
	assert_int_equal(profile_total(p), 5 + 1 + 7 + 2 + 3 + 4);
	profile_sample_get(p, 0, &s);
	assert_int_equal(s.nframes, 2);
	assert_int_equal(s.count, 12);
	assert_int_equal(s.labels, 0);
	assert_memory_equal(s.frames, s1, sizeof(s1));
	profile_sample_get(p, 2, &s);
	assert_int_equal(s.labels, set);
	assert_int_equal(s.count, 2);
	profile_sample_get(p, 4, &s);
	assert_int_equal(s.nframes, 0);
	assert_null(s.frames);
	/* Errors leave the profile unchanged. */
	int64_t total = profile_total(p);
	uint32_t bad[] = {m, 9999};
	assert_int_equal(profile_add(p, bad, 2, 0, 1), -EINVAL);
	assert_int_equal(profile_add(p, s1, 2, 0, 0), -EINVAL);
	assert_int_equal(profile_add(p, s1, 2, 0, -3), -EINVAL);
	assert_int_equal(profile_add(p, s1, 2, 777, 1), -EINVAL);
	assert_int_equal(profile_add(p, s1, 2, 0, INT64_MAX), -EOVERFLOW);
	assert_int_equal(profile_total(p), total);
	assert_int_equal(profile_nsamples(p), 5);
	profile_sample_get(p, 0, &s);
	assert_int_equal(s.count, 12);
	/* Reserving keeps everything and is idempotent. */
	assert_int_equal(profile_reserve(p, 1000, 10000), 0);
	assert_int_equal(profile_nsamples(p), 5);
	assert_int_equal(profile_add(p, s1, 2, 0, 1), 0);
	assert_int_equal(profile_nsamples(p), 5);
}

static void test_many_samples(void **state)
{
	struct profile *p = *state;
	uint32_t f[64];
	char name[16];
	for (int i = 0; i < 64; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		f[i] = test_frame(p, name, FRAME_USER);
	}
	/* 20000 distinct stacks, each added twice. */
	for (int round = 0; round < 2; round++) {
		for (uint32_t i = 0; i < 20000; i++) {
			uint32_t st[3] = {f[i % 64], f[(i / 64) % 64], f[i / 4096]};
			assert_int_equal(profile_add(p, st, 3, 0, 1 + (i % 3)), 0);
		}
	}
	assert_int_equal(profile_nsamples(p), 20000);
	int64_t sum = 0;
	for (size_t i = 0; i < profile_nsamples(p); i++) {
		struct sample s;
		profile_sample_get(p, i, &s);
		assert_int_equal(s.count, 2 * (1 + (int64_t)(i % 3))); /* insertion order kept */
		assert_int_equal(s.frames[0], f[i % 64]);
		sum += s.count;
	}
	assert_int_equal(sum, profile_total(p));
}

static void test_meta(void **state)
{
	struct profile *p = *state;
	struct profile_meta *m = profile_meta(p);
	assert_int_equal(m->period_ns, 0);
	assert_int_equal(m->nroot_labels, 0);
	m->period_ns = 10101010;
	m->frequency = 99;
	assert_int_equal(profile_meta_const(p)->period_ns, 10101010);
	assert_ptr_equal(profile_meta_const(p), m);
}

static void test_merge(void **state)
{
	struct profile *dst = *state, *src = profile_new();
	assert_non_null(src);
	/* dst has strings src lacks, so every id must be remapped. */
	test_str(dst, "zzz");
	test_str(dst, "yyy");
	uint32_t dm = test_frame(dst, "main", FRAME_USER), da = test_frame(dst, "a", FRAME_USER);
	uint32_t ds[] = {dm, da};
	assert_int_equal(profile_add(dst, ds, 2, 0, 10), 0);
	profile_meta(dst)->period_ns = 5;

	struct mapping mp = {.start = 1, .limit = 2, .file = test_str(src, "/lib/x.so"), .build_id = test_str(src, "beef")};
	int64_t mid = profile_mapping(src, &mp);
	struct mapping unused = {.start = 7, .limit = 8, .file = test_str(src, "/lib/unused.so")};
	assert_true(profile_mapping(src, &unused) > 0);
	struct frame kf = {.name = test_str(src, "k"),
			   .kind = FRAME_KERNEL,
			   .mapping = (uint32_t)mid,
			   .file = test_str(src, "k.c"),
			   .line = 9,
			   .address = 0xabc};
	uint32_t sm = test_frame(src, "main", FRAME_USER), sa = test_frame(src, "a", FRAME_USER);
	uint32_t sk = (uint32_t)profile_frame(src, &kf);
	uint32_t ss1[] = {sm, sa}, ss2[] = {sm, sk};
	struct label lb[] = {{test_str(src, "comm"), test_str(src, "app"), 0}, {test_str(src, "pid"), 0, 77}};
	uint32_t set = (uint32_t)profile_labelset(src, lb, 2);
	assert_int_equal(profile_add(src, ss1, 2, 0, 4), 0);
	assert_int_equal(profile_add(src, ss2, 2, set, 6), 0);
	struct profile_meta *sm_ = profile_meta(src);
	sm_->period_ns = 99; /* dst keeps its own */
	sm_->duration_ns = 1000;
	sm_->root_labels[0] = test_str(src, "comm");
	sm_->nroot_labels = 1;
	sm_->comments[0] = test_str(src, "recorded by test");
	sm_->ncomments = 1;

	assert_int_equal(profile_merge(dst, src), 0);
	assert_int_equal(profile_total(dst), 20);
	assert_int_equal(profile_nsamples(dst), 2);
	assert_int_equal(profile_nmappings(dst), 2);
	struct sample s;
	profile_sample_get(dst, 0, &s);
	assert_int_equal(s.count, 14); /* main;a merged across profiles */
	profile_sample_get(dst, 1, &s);
	assert_int_equal(s.count, 6);
	const struct frame *k = profile_frame_get(dst, s.frames[1]);
	assert_string_equal(profile_str(dst, k->name), "k");
	assert_string_equal(profile_str(dst, k->file), "k.c");
	assert_int_equal(k->line, 9);
	assert_int_equal(k->kind, FRAME_KERNEL);
	assert_int_equal(k->address, 0xabc);
	const struct mapping *m = profile_mapping_get(dst, k->mapping);
	assert_string_equal(profile_str(dst, m->file), "/lib/x.so");
	assert_string_equal(profile_str(dst, m->build_id), "beef");
	const struct label *l = profile_label_find(dst, s.labels, test_str(dst, "comm"));
	assert_non_null(l);
	assert_string_equal(profile_str(dst, l->str), "app");
	assert_int_equal(profile_label_find(dst, s.labels, test_str(dst, "pid"))->num, 77);
	const struct profile_meta *dm_ = profile_meta_const(dst);
	assert_int_equal(dm_->period_ns, 5);
	assert_int_equal(dm_->duration_ns, 1000);
	assert_int_equal(dm_->nroot_labels, 1);
	assert_string_equal(profile_str(dst, dm_->root_labels[0]), "comm");
	assert_int_equal(dm_->ncomments, 1);
	assert_string_equal(profile_str(dst, dm_->comments[0]), "recorded by test");

	/* Merging again doubles counts but adds nothing new (comments once). */
	size_t nframes = profile_nframes(dst), nstrs = profile_nstrs(dst);
	assert_int_equal(profile_merge(dst, src), 0);
	assert_int_equal(profile_total(dst), 30);
	assert_int_equal(profile_nframes(dst), nframes);
	assert_int_equal(profile_nstrs(dst), nstrs);
	assert_int_equal(profile_meta_const(dst)->ncomments, 1);
	assert_int_equal(profile_merge(dst, dst), -EINVAL);
	/* Merging into an empty profile copies it. */
	struct profile *empty = profile_new();
	assert_int_equal(profile_merge(empty, src), 0);
	assert_int_equal(profile_total(empty), 10);
	assert_int_equal(profile_nsamples(empty), 2);
	profile_free(empty);
	profile_free(src);
	profile_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_strings, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_frames, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mappings, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_labelsets, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_add_and_totals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_many_samples, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_meta, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_merge, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

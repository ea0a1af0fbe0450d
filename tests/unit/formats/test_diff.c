/* SPDX-License-Identifier: MIT */
/*
 * test_diff: the diff model (formats/diff.h) and its statistics
 * (formats/diff_stats.h) on synthetic profiles with known deltas.  Expected
 * values were computed by hand from the formulas in diff_stats.h (tails of
 * the t distribution by numerical integration of its density).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

#include "formats/diff.h"
#include "formats/diff_stats.h"
#include "formats/folded.h"

#define near(a, b, tol) assert_true(fabs((double)(a) - (double)(b)) <= (tol))

/* Adds a folded run to a side. */
static void add(struct diff *d, enum diff_side side, const char *folded)
{
	struct profile *p = profile_from(folded);
	assert_int_equal(diff_add(d, side, p), 0);
	profile_free(p);
}

static const struct diff_func *find(const struct diff *d, const char *name)
{
	for (size_t i = 0; i < diff_nfuncs(d); i++)
		if (!strcmp(diff_func_get(d, i)->name, name))
			return diff_func_get(d, i);
	fail_msg("no function %s", name);
	return NULL;
}

static void test_tails(void **state)
{
	(void)state;
	near(stats_normal_sf(1.96), 0.0249978951482204, 1e-12);
	near(stats_normal_sf(0), 0.5, 1e-15);
	near(stats_t_sf(2, 5), 0.0509697394149292, 1e-10);
	near(stats_t_sf(1, 1), 0.25, 1e-12);		       /* Cauchy */
	near(stats_t_sf(3.5, 2.7), 0.0232628024609707, 1e-10); /* fractional df */
	near(stats_t_sf(-2, 5), 1 - 0.0509697394149292, 1e-10);
	near(stats_t_sf(1.96, INFINITY), stats_normal_sf(1.96), 1e-15);
}

static void test_holm(void **state)
{
	(void)state;
	double p[4] = {0.01, 0.04, 0.03, 0.005}, adj[4];
	/* Sorted: .005*4 = .02, .01*3 = .03, .03*2 = .06, .04*1 -> max .06. */
	assert_int_equal(stats_holm(p, 4, adj), 0);
	near(adj[0], 0.03, 1e-15);
	near(adj[1], 0.06, 1e-15);
	near(adj[2], 0.06, 1e-15);
	near(adj[3], 0.02, 1e-15);
	assert_int_equal(stats_holm(p, 4, p), 0); /* in place */
	near(p[1], 0.06, 1e-15);
	assert_int_equal(stats_holm(NULL, 0, NULL), 0);
}

/* One run a side: 60 of 100 against 50 of 100. */
static void test_two_proportion(void **state)
{
	(void)state;
	int64_t xb = 60, xn = 50;
	double e = 100;
	struct stats_side s[2] = {{&xb, &e, 1}, {&xn, &e, 1}};
	struct stats_model plain = {false, 1, INFINITY}, prior = {false, 2, 4};
	struct stats_test t;

	/* The classic pooled z-test: p = .55, z = -.1 / sqrt(.2475 * 2 / 100). */
	stats_two_sample(s, &plain, &t);
	near(t.share[0], 0.6, 1e-15);
	near(t.delta, -0.1, 1e-15);
	near(t.z, -1.42133810903740, 1e-12);
	assert_true(isinf(t.df));
	near(t.p, 0.155218489684684, 1e-12);
	/* With the prior dispersion 2 worth 4 df per side: Var doubles, df 8. */
	stats_two_sample(s, &prior, &t);
	near(t.dispersion[0], 2, 1e-15);
	near(t.z, -1.00503781525921, 1e-12);
	near(t.df, 8, 1e-12);
	near(t.p, 0.344305991613139, 1e-9);
}

/* Two runs a side, no prior: the measured dispersion alone, floored at 1. */
static void test_dispersion(void **state)
{
	(void)state;
	int64_t xb[2] = {30, 40}, xn[2] = {50, 54};
	double e[2] = {100, 100};
	struct stats_side s[2] = {{xb, e, 2}, {xn, e, 2}};
	struct stats_model m = {false, 1, 0};
	struct stats_test t;

	stats_two_sample(s, &m, &t);
	/* base: p .35, chi2 (25 + 25) / 100 / .2275 = 2.1978; new 0.32 -> 1. */
	near(t.dispersion[0], 2.19780219780220, 1e-12);
	near(t.dispersion[1], 1, 1e-15);
	near(t.z, 2.71187250862577, 1e-10);
	near(t.df, 1.75391976139682, 1e-10);
	near(t.p, 0.130118811372278, 1e-8);
}

/* A function at 0 % or 100 % cannot change: se 0, p 1, never significant. */
static void test_degenerate(void **state)
{
	(void)state;
	int64_t x = 100;
	double e = 100;
	struct stats_side s[2] = {{&x, &e, 1}, {&x, &e, 1}};
	struct stats_model m = {false, 2, 4};
	struct stats_test t;
	stats_two_sample(s, &m, &t);
	near(t.se, 0, 0);
	near(t.p, 1, 0);
	near(t.z, 0, 0);
}

/* Shares and deltas: a 60 -> 50, b 40 -> 50; main is everywhere (untested). */
static void test_shares(void **state)
{
	(void)state;
	struct diff *d;
	assert_int_equal(diff_new(NULL, &d), 0);
	add(d, DIFF_BASE, "main;a 60\nmain;b 40\n");
	add(d, DIFF_NEW, "main;a 50\nmain;b 50\n");
	assert_int_equal(diff_compute(d), 0);

	const struct diff_func *a = find(d, "a"), *b = find(d, "b"), *m = find(d, "main");
	assert_int_equal(a->m[DIFF_INCL].count[0], 60);
	assert_int_equal(a->m[DIFF_INCL].count[1], 50);
	near(a->m[DIFF_INCL].share[0], 60, 1e-12);
	near(a->m[DIFF_INCL].delta, -10, 1e-12);
	near(b->m[DIFF_SELF].delta, 10, 1e-12);
	near(a->m[DIFF_INCL].z, -1.00503781525921, 1e-12); /* the prior's test above */
	near(m->m[DIFF_INCL].share[1], 100, 1e-12);
	assert_int_equal(m->m[DIFF_SELF].count[0], 0);
	assert_false(m->m[DIFF_INCL].tested);
	assert_true(isnan(m->m[DIFF_INCL].p_adj));
	/* Two tested (a and b): Holm doubles the smaller p. */
	assert_int_equal(diff_summary_get(d)->tested[DIFF_INCL], 2);
	near(b->m[DIFF_INCL].p_adj, 2 * b->m[DIFF_INCL].p < 1 ? 2 * b->m[DIFF_INCL].p : 1, 1e-12);
	assert_false(b->regression); /* +10 points, but p_adj ~ 0.69 */
	assert_int_equal(diff_summary_get(d)->regressions, 0);
	near(diff_sample_share(d, DIFF_NEW), 0.01, 1e-15);
	diff_free(d);
}

/* Inclusive counts a sample once however deep the function recurses. */
static void test_recursion(void **state)
{
	(void)state;
	struct diff *d;
	assert_int_equal(diff_new(NULL, &d), 0);
	add(d, DIFF_BASE, "main;f;f;f 10\nmain;g;f 5\nmain;g 5\n");
	add(d, DIFF_NEW, "main;f 20\n");
	assert_int_equal(diff_compute(d), 0);
	const struct diff_func *f = find(d, "f"), *g = find(d, "g");
	assert_int_equal(f->m[DIFF_INCL].count[0], 15);
	assert_int_equal(f->m[DIFF_SELF].count[0], 15);
	assert_int_equal(g->m[DIFF_INCL].count[0], 10);
	assert_int_equal(g->m[DIFF_SELF].count[0], 5);
	near(f->m[DIFF_INCL].share[0], 75, 1e-12);
	near(f->m[DIFF_INCL].delta, 25, 1e-12);
	assert_int_equal(g->m[DIFF_INCL].count[1], 0);
	diff_free(d);
}

/* Kinds are part of the name: a kernel "f" is not the user "f". */
static void test_kinds(void **state)
{
	(void)state;
	struct diff *d;
	assert_int_equal(diff_new(NULL, &d), 0);
	add(d, DIFF_BASE, "main;f 10\nmain;f_[k] 30\n");
	add(d, DIFF_NEW, "main;f 10\n");
	assert_int_equal(diff_compute(d), 0);
	assert_int_equal(find(d, "f_[k]")->m[DIFF_SELF].count[0], 30);
	assert_int_equal(find(d, "f")->m[DIFF_SELF].count[0], 10);
	diff_free(d);
}

/* Three runs a side: a real 10-point growth is a regression, the same runs
 * against themselves are not, and a function too small to grow by fail_on
 * points is not tested. */
static void test_verdict(void **state)
{
	(void)state;
	static const char *base[3] = {"main;hot 3000\nmain;cold 7000\nmain;tiny 9\n",
				      "main;hot 3050\nmain;cold 6950\nmain;tiny 11\n",
				      "main;hot 2950\nmain;cold 7050\nmain;tiny 10\n"};
	static const char *grown[3] = {"main;hot 4000\nmain;cold 6000\nmain;tiny 10\n",
				       "main;hot 4020\nmain;cold 5980\nmain;tiny 10\n",
				       "main;hot 3980\nmain;cold 6020\nmain;tiny 10\n"};
	for (int aa = 0; aa < 2; aa++) {
		struct diff *d;
		assert_int_equal(diff_new(NULL, &d), 0);
		for (int i = 0; i < 3; i++) {
			add(d, DIFF_BASE, base[i]);
			add(d, DIFF_NEW, aa ? base[(i + 1) % 3] : grown[i]);
		}
		assert_int_equal(diff_compute(d), 0);
		const struct diff_func *hot = find(d, "hot"), *tiny = find(d, "tiny");
		assert_false(tiny->m[DIFF_INCL].tested); /* 0.1 % pooled < 2 / 2 points */
		assert_int_equal(hot->regression, !aa);
		assert_int_equal(diff_summary_get(d)->regressions, aa ? 0 : 1);
		if (!aa) {
			near(hot->m[DIFF_INCL].delta, 10, 0.05); /* tiny adds ~0.1 % */
			assert_true(hot->m[DIFF_INCL].dispersion[0] >= 1);
			assert_true(hot->m[DIFF_INCL].p_adj < 1e-6);
		}
		diff_free(d);
	}
}

/* --min-samples and --fail-on: a significant growth below the threshold is
 * not a regression. */
static void test_thresholds(void **state)
{
	(void)state;
	struct diff_opts o;
	struct diff *d;
	diff_opts_init(&o);
	o.fail_on = 20;
	assert_int_equal(diff_new(&o, &d), 0);
	add(d, DIFF_BASE, "main;hot 30000\nmain;cold 70000\n");
	add(d, DIFF_NEW, "main;hot 40000\nmain;cold 60000\n");
	assert_int_equal(diff_compute(d), 0);
	assert_true(find(d, "hot")->m[DIFF_INCL].significant);
	assert_false(find(d, "hot")->regression);
	diff_free(d);

	diff_opts_init(&o);
	o.min_samples = 1000000;
	assert_int_equal(diff_new(&o, &d), 0);
	add(d, DIFF_BASE, "main;hot 30000\nmain;cold 70000\n");
	add(d, DIFF_NEW, "main;hot 40000\nmain;cold 60000\n");
	assert_int_equal(diff_compute(d), 0);
	assert_false(find(d, "hot")->m[DIFF_INCL].tested);
	assert_int_equal(diff_summary_get(d)->regressions, 0);
	diff_free(d);
}

/* By time: shares are samples * period / duration (CPUs), counts are Poisson. */
static void test_time(void **state)
{
	(void)state;
	struct diff_opts o;
	struct diff *d;
	struct profile *p = profile_from("main;a 50\nmain;b 50\n");

	diff_opts_init(&o);
	o.norm = DIFF_NORM_TIME;
	assert_int_equal(diff_new(&o, &d), 0);
	assert_int_equal(diff_add(d, DIFF_BASE, p), -ENODATA); /* no period or duration */
	profile_meta(p)->period_ns = 10000000;		       /* 100 Hz */
	profile_meta(p)->duration_ns = 2000000000;	       /* 2 s: 200 periods */
	assert_int_equal(diff_add(d, DIFF_BASE, p), 0);
	profile_meta(p)->duration_ns = 1000000000; /* the same samples in 1 s */
	assert_int_equal(diff_add(d, DIFF_NEW, p), 0);
	assert_int_equal(diff_compute(d), 0);
	const struct diff_stat *a = &find(d, "a")->m[DIFF_SELF];
	near(a->share[0], 25, 1e-12); /* 50 / 200 of a CPU */
	near(a->share[1], 50, 1e-12);
	/* Poisson: pooled rate 100 / 300, Var = 2 (1/3) / 200 + 2 (1/3) / 100. */
	near(a->z, 0.25 / sqrt(2.0 / 3 / 200 + 2.0 / 3 / 100), 1e-12);
	near(diff_sample_share(d, DIFF_BASE), 1.0 / 200, 1e-15);
	diff_free(d);
	profile_free(p);
}

static void test_errors(void **state)
{
	(void)state;
	struct diff *d;
	struct profile *empty = profile_new();
	assert_int_equal(diff_new(NULL, &d), 0);
	assert_int_equal(diff_compute(d), -ENODATA); /* no runs */
	assert_int_equal(diff_add(d, 7, empty), -EINVAL);
	add(d, DIFF_BASE, "main 1\n");
	assert_int_equal(diff_add(d, DIFF_NEW, empty), 0);
	assert_int_equal(diff_compute(d), -ENODATA); /* new has no samples */
	diff_free(d);
	diff_free(NULL);
	profile_free(empty);
}

/* The reports name the regression; JSON has no NaN. */
static void test_report(void **state)
{
	(void)state;
	struct diff *d;
	char *buf = NULL;
	size_t len = 0;
	assert_int_equal(diff_new(NULL, &d), 0);
	for (int i = 0; i < 2; i++) {
		add(d, DIFF_BASE, "main;hot 3000\nmain;cold 7000\n");
		add(d, DIFF_NEW, "main;hot 4000\nmain;cold 6000\n");
	}
	assert_int_equal(diff_compute(d), 0);
	for (int f = DIFF_REPORT_TEXT; f <= DIFF_REPORT_JSON; f++) {
		FILE *out = open_memstream(&buf, &len);
		assert_int_equal(diff_write_report(d, f, 10, out), 0);
		fclose(out);
		assert_non_null(strstr(buf, "hot"));
		assert_non_null(
		    strstr(buf, f == DIFF_REPORT_JSON ? "\"verdict\":\"regression\"" : "REGRESSION"));
		if (f == DIFF_REPORT_JSON)
			assert_null(strstr(buf, "nan"));
		if (f == DIFF_REPORT_MARKDOWN)
			assert_non_null(strstr(buf, "| `hot` |"));
		free(buf);
		buf = NULL;
	}
	diff_free(d);
}

/* Profiles of time (microseconds) are compared in milliseconds, and every
 * report says so where it prints counts; samples cannot join them. */
static void test_report_time(void **state)
{
	(void)state;
	struct diff *d;
	char *buf = NULL;
	size_t len = 0;
	struct profile *base = profile_from("main;sleep 3000000\nmain;read 7000000\n");
	struct profile *new = profile_from("main;sleep 4000000\nmain;read 6000000\n");
	struct profile *samples = profile_from("main;sleep 10\n");
	profile_meta(base)->unit = PROFILE_UNIT_OFFCPU_US;
	profile_meta(new)->unit = PROFILE_UNIT_OFFCPU_US;
	assert_int_equal(diff_new(NULL, &d), 0);
	assert_string_equal(diff_summary_get(d)->unit, "samples");
	assert_int_equal(diff_add(d, DIFF_BASE, base), 0);
	assert_int_equal(diff_add(d, DIFF_NEW, new), 0);
	assert_int_equal(diff_add(d, DIFF_NEW, samples), -EDOM);
	assert_int_equal(diff_compute(d), 0);
	assert_string_equal(diff_summary_get(d)->unit, "ms");
	assert_int_equal(diff_summary_get(d)->samples[DIFF_BASE], 10000); /* 10 s */
	static const char *const want[] = {"10000 ms; new: 1 run, 10000 ms", "| base (ms) |", "\"unit\":\"ms\""};
	for (int f = DIFF_REPORT_TEXT; f <= DIFF_REPORT_JSON; f++) {
		FILE *out = open_memstream(&buf, &len);
		assert_int_equal(diff_write_report(d, f, 10, out), 0);
		fclose(out);
		assert_non_null(strstr(buf, want[f - DIFF_REPORT_TEXT]));
		if (f == DIFF_REPORT_TEXT) {
			assert_non_null(strstr(buf, "largest changes (base and new in ms)"));
			assert_null(strstr(buf, "samples"));
		}
		free(buf);
		buf = NULL;
	}
	diff_free(d);
	profile_free(base);
	profile_free(new);
	profile_free(samples);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tails),	   cmocka_unit_test(test_holm),
	    cmocka_unit_test(test_two_proportion), cmocka_unit_test(test_dispersion),
	    cmocka_unit_test(test_degenerate),	   cmocka_unit_test(test_shares),
	    cmocka_unit_test(test_recursion),	   cmocka_unit_test(test_kinds),
	    cmocka_unit_test(test_verdict),	   cmocka_unit_test(test_thresholds),
	    cmocka_unit_test(test_time),	   cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_report),	   cmocka_unit_test(test_report_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

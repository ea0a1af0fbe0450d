/* SPDX-License-Identifier: MIT */
/*
 * diff: compares profiles of a BASE and a NEW build, function by function,
 * and decides whether NEW regressed.  It knows nothing of the command line.
 *
 * A function is a frame's display name with its kind suffix ("foo",
 * "foo_[k]"), the same in every input format.  Root labels (comm, pid) are
 * not functions.  Per function and side the diff counts
 *  - self samples: samples whose leaf frame is the function;
 *  - inclusive samples: samples with the function anywhere on the stack,
 *    counted once per sample however deep it recurses;
 * and turns them into shares: of all samples (DIFF_NORM_SAMPLES), or of
 * time, samples * period / duration, i.e. CPUs busy in the function
 * (DIFF_NORM_TIME, which needs both on every input).  Each side may hold
 * several runs (one profile each): shares are pooled over them, and their
 * spread feeds the significance test (diff_stats.h has the model and why).
 *
 * Functions whose pooled share is 0 or 100 % (main) cannot change and are
 * not tested either.
 *
 * Tests are corrected for the number of functions tested (Holm).  A function
 * is tested when it has at least min_samples samples over both sides and a
 * pooled share big enough for NEW to be fail_on points above BASE: a
 * function whose pooled share is below fail_on * E_new / (E_base + E_new)
 * cannot have grown that much.  Filtering on the pooled share, which does not
 * depend on which side the samples came from, leaves the test valid
 * ("independent filtering") and spends the correction only on functions that
 * could fail the gate.
 *
 * Verdict: a regression is a tested function whose inclusive share grew by
 * more than fail_on points and whose Holm-adjusted p-value is below alpha.
 */
#ifndef SCORCH_FORMATS_DIFF_H
#define SCORCH_FORMATS_DIFF_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "formats/profile.h"

struct diff;

enum diff_side { DIFF_BASE = 0, DIFF_NEW = 1 };
enum diff_norm { DIFF_NORM_SAMPLES = 0, DIFF_NORM_TIME = 1 };
enum diff_measure { DIFF_SELF = 0, DIFF_INCL = 1 };
enum diff_report { DIFF_REPORT_TEXT = 0, DIFF_REPORT_MARKDOWN, DIFF_REPORT_JSON };

struct diff_opts {
	enum diff_norm norm;
	int64_t min_samples;  /* default 10: fewer over both sides is not tested */
	double fail_on;	      /* points of inclusive share (default 2) */
	double alpha;	      /* family-wise error rate of the gate (default 0.01) */
	double dispersion;    /* prior run-to-run dispersion phi0 (default 2), diff_stats.h */
	double dispersion_df; /* its weight in degrees of freedom (default 4) */
};

/* One measure (self or inclusive) of one function. */
struct diff_stat {
	int64_t count[2];     /* samples, pooled over the side's runs */
	double share[2];      /* percent (of samples, or of one CPU's time) */
	double delta;	      /* share[NEW] - share[BASE], points */
	double z, df, p;      /* test statistic, degrees of freedom, two-sided p */
	double p_adj;	      /* Holm-adjusted p; NAN when not tested */
	double dispersion[2]; /* run-to-run spread over sampling noise, 1 = none */
	bool tested;
	bool significant; /* tested and p_adj < alpha */
};

struct diff_func {
	const char *name;      /* display name with kind suffix; owned by the diff */
	struct diff_stat m[2]; /* indexed by enum diff_measure */
	bool regression;
};

struct diff_summary {
	size_t runs[2];
	int64_t samples[2];  /* in unit */
	const char *unit;    /* what counts count: "samples", or "ms" for profiles of time (off-CPU, wall) */
	double exposure[2]; /* samples, or sampling periods of time */
	size_t tested[2];   /* functions tested, per measure */
	size_t regressions;
};

void diff_opts_init(struct diff_opts *o);

/* A new, empty diff with a copy of o (NULL: defaults).  0 or -ENOMEM. */
int diff_new(const struct diff_opts *o, struct diff **out);
void diff_free(struct diff *d);

/* Adds one run to a side.  0 or -errno: -EINVAL for a bad side, -ENODATA when
 * time normalisation is asked and p has no period or duration, -EDOM when p
 * counts time and the runs already added count samples or the reverse, -ENOMEM. */
int diff_add(struct diff *d, enum diff_side side, const struct profile *p);
/* Computes shares, tests and the verdict; call after the last diff_add.
 * 0 or -errno: -ENODATA when a side has no run or no samples, -ENOMEM. */
int diff_compute(struct diff *d);

size_t diff_nfuncs(const struct diff *d);
/* Function i (0 <= i < diff_nfuncs), valid until diff_free. */
const struct diff_func *diff_func_get(const struct diff *d, size_t i);
const struct diff_summary *diff_summary_get(const struct diff *d);
const struct diff_opts *diff_opts_get(const struct diff *d);
/* Share (0..1 of samples, or CPUs) one sample of a side's pooled profile stands for. */
double diff_sample_share(const struct diff *d, enum diff_side side);

/* Function indexes by decreasing |delta| of measure m (ties by name) into a
 * new array of diff_nfuncs entries, owned by the caller (free).  0 or -ENOMEM. */
int diff_rank(const struct diff *d, enum diff_measure m, uint32_t **out);

/* Writes the report (top functions by change of self and inclusive share,
 * the verdict) in a format; top limits each table (0: all).  0, -ENOMEM, or
 * -EIO when out has its error flag set afterwards. */
int diff_write_report(const struct diff *d, enum diff_report f, size_t top, FILE *out);

#endif

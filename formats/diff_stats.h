/* SPDX-License-Identifier: MIT */
/*
 * diff_stats: the statistics behind `scorch diff`, on plain numbers (no
 * profiles), so that they can be checked against values computed by hand.
 *
 * The question asked of each function is whether its share of the profile
 * (a proportion of samples, or a rate per unit of time) differs between two
 * sides, BASE and NEW, each made of one or more runs.
 *
 * Model.  Run r of a side has exposure E_r (its total samples, or its
 * duration in sampling periods) and x_r samples of the function.  The side's
 * share is the pooled p_S = sum x_r / sum E_r.  Under "no change" both sides
 * share p = (X_A + X_B) / (E_A + E_B), and sampling alone gives
 *   Var(p_S) = v(p) / E_S,   v(p) = p (1 - p) (samples: binomial)
 *                            v(p) = p         (time: Poisson counts)
 * which is the two-proportion (or two-rate) z-test.
 *
 * Samples are not independent draws, though, and runs differ by more than
 * that: a periodic workload sampled by a periodic timer aliases (a run whose
 * period locks onto the timer's sees few phases of the loop), and bursts (a
 * page-fault storm, a GC pause) put many consecutive samples on one function.
 * On samples/shape, runs at 99 Hz for 5 s had a 30 % function's share spread
 * 1 to 4 times the binomial variance; at 999 Hz one run in four was 4.7
 * binomial standard deviations off.  So the binomial variance is scaled by a
 * dispersion phi per side.  With m_S >= 2 runs it is measured by Pearson's
 * statistic over the runs,
 *   phi^_S = sum_r (x_r - E_r p_S)^2 / (E_r v(p_S)) / (m_S - 1),
 * (1 on average when runs differ by sampling noise only: quasi-binomial or
 * quasi-Poisson overdispersion), and moderated towards a prior phi0 worth d0
 * degrees of freedom, as limma's moderated t does for gene variances:
 *   phi_S = max(1, (d0 phi0 + (m_S - 1) phi^_S) / (d0 + m_S - 1)),
 * with d_S = d0 + m_S - 1 degrees of freedom.  A single run gets phi0 (it
 * cannot show its own spread); many runs get what they show; never less than
 * independent sampling.  The variance of the change is
 *   Var = sum_S phi_S v(p) / E_S,
 * and z = (p_N - p_B) / sqrt(Var) is referred to Student's t with the
 * Welch-Satterthwaite degrees of freedom
 *   df = Var^2 / sum_S (phi_S v(p) / E_S)^2 / d_S
 * (the normal when d0 is infinite).  The p-value is two-sided.  Welch's t on
 * per-run shares alone has 2-4 degrees of freedom with three runs a side and
 * cannot tell a 5-point change in a 30 % function from noise; the moderated
 * form keeps most of the binomial's power when runs agree and pays for spread
 * when they do not.
 *
 * Many functions are tested at once, and a CI gate should fail on noise
 * rarely per comparison, whatever the number of functions: Holm's step-down
 * correction controls that family-wise error rate under any dependence
 * between the tests (a caller's and a callee's inclusive shares move
 * together), and is uniformly more powerful than Bonferroni.
 * Benjamini-Hochberg would control the false discovery rate instead, which
 * allows a noise failure in a fixed fraction of gates.
 */
#ifndef SCORCH_FORMATS_DIFF_STATS_H
#define SCORCH_FORMATS_DIFF_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* P(Z > z) for a standard normal Z. */
double stats_normal_sf(double z);
/* P(T > t) for Student's t with df > 0 degrees of freedom (any real df;
 * INFINITY gives the normal). */
double stats_t_sf(double t, double df);

/* One side: per-run counts of the function and exposures (> 0). */
struct stats_side {
	const int64_t *x;
	const double *e;
	size_t m;
};

struct stats_test {
	double share[2];      /* pooled share of each side: X / E */
	double delta;	      /* share[1] - share[0] */
	double dispersion[2]; /* phi per side as used: moderated, at least 1 */
	double se;	      /* standard error of delta (0 when the share is 0 or 1) */
	double z;	      /* delta / se, 0 when se is 0 */
	double df;	      /* degrees of freedom, INFINITY for the normal */
	double p;	      /* two-sided p-value, 1 when se is 0 */
};

/* The noise model: v(p) = p (time normalisation, poisson) or p (1 - p), and
 * the prior dispersion phi0 (>= 1) with d0 degrees of freedom (>= 0; INFINITY
 * to use phi0 as known, so that d0 = INFINITY and phi0 = 1 is the plain
 * two-proportion z-test). */
struct stats_model {
	bool poisson;
	double prior_dispersion;
	double prior_df;
};

/* Compares side s[0] (base) with s[1] (new).  A side with no exposure has
 * share 0. */
void stats_two_sample(const struct stats_side s[2], const struct stats_model *m, struct stats_test *out);

/* Holm's step-down adjusted p-values: adj[i] = max over the j smallest p
 * up to p[i] of min(1, (n - rank_j) p_j).  p and adj may be the same array.
 * 0 or -ENOMEM. */
int stats_holm(const double *p, size_t n, double *adj);

#endif

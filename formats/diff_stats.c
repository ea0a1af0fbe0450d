/* SPDX-License-Identifier: MIT */
/*
 * diff_stats: two-sample tests of shares with run-to-run overdispersion,
 * tail probabilities of the normal and Student's t, and Holm's correction.
 * The model is described in diff_stats.h.
 */
#define _GNU_SOURCE
#include "formats/diff_stats.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

double stats_normal_sf(double z)
{
	return 0.5 * erfc(z / M_SQRT2);
}

/*
 * The continued fraction of the regularized incomplete beta function
 * I_x(a, b), evaluated by the modified Lentz method; converges quickly for
 * x < (a + 1) / (a + b + 2).  Terms: d_{2k+1} = -(a+k)(a+b+k)x /
 * ((a+2k)(a+2k+1)), d_{2k} = k(b-k)x / ((a+2k-1)(a+2k)).
 */
static double beta_cf(double a, double b, double x)
{
	const double tiny = 1e-300, eps = 1e-15;
	double c = 1, d = 1 - (a + b) * x / (a + 1), f;

	d = fabs(d) < tiny ? 1 / tiny : 1 / d;
	f = d;
	for (int k = 1; k <= 500; k++) {
		double num[2] = {k * (b - k) * x / ((a + 2 * k - 1) * (a + 2 * k)),
				 -(a + k) * (a + b + k) * x / ((a + 2 * k) * (a + 2 * k + 1))};
		for (int i = 0; i < 2; i++) {
			d = 1 + num[i] * d;
			c = 1 + num[i] / c;
			d = fabs(d) < tiny ? 1 / tiny : 1 / d;
			c = fabs(c) < tiny ? tiny : c;
			f *= c * d;
		}
		if (fabs(c * d - 1) < eps)
			break;
	}
	return f;
}

/* I_x(a, b), the regularized incomplete beta function, for 0 <= x <= 1. */
static double beta_inc(double a, double b, double x)
{
	if (x <= 0)
		return 0;
	if (x >= 1)
		return 1;
	double front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x));
	if (x < (a + 1) / (a + b + 2))
		return front * beta_cf(a, b, x) / a;
	return 1 - front * beta_cf(b, a, 1 - x) / b;
}

double stats_t_sf(double t, double df)
{
	if (isinf(df) || df > 1e7)
		return stats_normal_sf(t);
	if (t < 0)
		return 1 - stats_t_sf(-t, df);
	/* P(|T| > t) = I_{df / (df + t^2)}(df / 2, 1 / 2). */
	return 0.5 * beta_inc(df / 2, 0.5, df / (df + t * t));
}

static double variance_unit(double p, bool poisson)
{
	if (poisson)
		return p > 0 ? p : 0;
	return p > 0 && p < 1 ? p * (1 - p) : 0;
}

/* Pearson's dispersion of a side's runs around its pooled share p; *df is
 * set to the runs with exposure minus one (0: nothing measured). */
static double dispersion(const struct stats_side *s, double p, bool poisson, double *df)
{
	double v = variance_unit(p, poisson), chi2 = 0;
	size_t m = 0;

	for (size_t r = 0; r < s->m; r++) {
		if (s->e[r] <= 0)
			continue;
		double dev = (double)s->x[r] - s->e[r] * p;
		chi2 += dev * dev / s->e[r];
		m++;
	}
	*df = m > 1 && v > 0 ? (double)(m - 1) : 0;
	return *df > 0 ? chi2 / v / *df : 1;
}

/* The moderated dispersion of a side (diff_stats.h) and its degrees of freedom. */
static double moderate(const struct stats_side *s, double p, const struct stats_model *m, double *df)
{
	double measured_df, measured = dispersion(s, p, m->poisson, &measured_df), phi;

	if (isinf(m->prior_df)) {
		phi = m->prior_dispersion;
		*df = INFINITY;
	} else if (m->prior_df + measured_df > 0) {
		phi = (m->prior_df * m->prior_dispersion + measured_df * measured) /
		      (m->prior_df + measured_df);
		*df = m->prior_df + measured_df;
	} else { /* nothing measured and no prior weight: the binomial */
		phi = 1;
		*df = INFINITY;
	}
	return phi > 1 ? phi : 1;
}

void stats_two_sample(const struct stats_side s[2], const struct stats_model *m, struct stats_test *out)
{
	double x[2] = {0, 0}, e[2] = {0, 0}, df[2], var = 0, wsum = 0;

	for (int i = 0; i < 2; i++) {
		for (size_t r = 0; r < s[i].m; r++) {
			x[i] += (double)s[i].x[r];
			e[i] += s[i].e[r] > 0 ? s[i].e[r] : 0;
		}
		out->share[i] = e[i] > 0 ? x[i] / e[i] : 0;
		out->dispersion[i] = moderate(&s[i], out->share[i], m, &df[i]);
	}
	out->delta = out->share[1] - out->share[0];
	double pooled = e[0] + e[1] > 0 ? (x[0] + x[1]) / (e[0] + e[1]) : 0;
	double v = variance_unit(pooled, m->poisson);
	for (int i = 0; i < 2; i++) {
		double vi = e[i] > 0 ? out->dispersion[i] * v / e[i] : 0;
		var += vi;
		if (!isinf(df[i]))
			wsum += vi * vi / df[i];
	}
	out->se = sqrt(var);
	out->df = wsum > 0 ? var * var / wsum : INFINITY;
	if (out->se <= 0) {
		out->z = 0;
		out->p = 1;
		return;
	}
	out->z = out->delta / out->se;
	out->p = 2 * stats_t_sf(fabs(out->z), out->df);
	if (out->p > 1)
		out->p = 1;
}

static int by_p(const void *a, const void *b, void *ctx)
{
	const double *p = ctx;
	double x = p[*(const size_t *)a], y = p[*(const size_t *)b];
	return (x > y) - (x < y);
}

int stats_holm(const double *p, size_t n, double *adj)
{
	size_t *order = malloc((n ? n : 1) * sizeof(*order));
	double *sorted = malloc((n ? n : 1) * sizeof(*sorted));
	double run = 0;
	int err = 0;

	if (!order || !sorted) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	if (n)
		qsort_r(order, n, sizeof(*order), by_p, (void *)p);
	for (size_t i = 0; i < n; i++)
		sorted[i] = p[order[i]];
	for (size_t i = 0; i < n; i++) { /* p may alias adj: read from sorted only */
		double a = (double)(n - i) * sorted[i];
		run = a > run ? a : run;
		adj[order[i]] = run < 1 ? run : 1;
	}
out:
	free(sorted);
	free(order);
	return err;
}

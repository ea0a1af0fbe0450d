/* SPDX-License-Identifier: MIT */
/*
 * diff: per-function self and inclusive counts of each run, pooled shares,
 * significance tests with Holm's correction, and the verdict (diff.h).
 *
 * Functions are interned by display name; each run keeps one count array per
 * measure, indexed by function and as long as the function table was when
 * the run was added (functions seen later count 0 there).  Inclusive counts
 * add a sample once per function: a per-function stamp holds the serial of
 * the last sample that counted it.
 */
#define _GNU_SOURCE
#include "formats/diff.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "base/hashtab.h"
#include "formats/diff_stats.h"
#include "formats/folded.h"

#define NO_FUNC UINT32_MAX

struct diff_run {
	int64_t *count[2]; /* per measure, per function */
	size_t n;	   /* functions in the arrays */
	double exposure;   /* samples, or duration in sampling periods */
	int64_t total;
};

struct diff {
	struct diff_opts o;
	struct diff_func *funcs;
	size_t nfuncs, cap_funcs;
	struct idxtab idx;
	uint64_t *stamp; /* per function: serial of the last sample counted inclusively */
	size_t cap_stamp;
	uint64_t serial;
	struct diff_run *runs[2];
	size_t nruns[2], cap_runs[2];
	struct diff_summary sum;
	int time_counts; /* -1 before the first run; else whether runs count time (microseconds) */
};

struct name_probe {
	const struct diff *d;
	const char *s;
};

void diff_opts_init(struct diff_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->norm = DIFF_NORM_SAMPLES;
	o->min_samples = 10;
	o->fail_on = 2.0;
	o->alpha = 0.01;
	o->dispersion = 2.0;
	o->dispersion_df = 4.0;
}

int diff_new(const struct diff_opts *o, struct diff **out)
{
	struct diff *d = calloc(1, sizeof(*d));
	*out = NULL;
	if (!d)
		return -ENOMEM;
	if (o)
		d->o = *o;
	else
		diff_opts_init(&d->o);
	idxtab_init(&d->idx);
	d->time_counts = -1;
	d->sum.unit = "samples";
	*out = d;
	return 0;
}

void diff_free(struct diff *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nfuncs; i++)
		free((char *)d->funcs[i].name);
	for (int s = 0; s < 2; s++) {
		for (size_t r = 0; r < d->nruns[s]; r++) {
			free(d->runs[s][r].count[0]);
			free(d->runs[s][r].count[1]);
		}
		free(d->runs[s]);
	}
	free(d->funcs);
	free(d->stamp);
	idxtab_release(&d->idx);
	free(d);
}

static bool name_eq(const void *ctx, uint32_t idx)
{
	const struct name_probe *q = ctx;
	return !strcmp(q->d->funcs[idx].name, q->s);
}

/* The function id of a display name, added if new (taking name, which the
 * caller frees otherwise: *name is set to NULL when taken); >= 0 or -ENOMEM. */
static int64_t func_id(struct diff *d, char **name)
{
	struct name_probe q = {d, *name};
	uint64_t h = hash_bytes(*name, strlen(*name), 0xd1ff);
	int64_t id = idxtab_find(&d->idx, h, name_eq, &q);

	if (id >= 0)
		return id;
	if (array_grow(&d->funcs, &d->cap_funcs, d->nfuncs + 1, sizeof(*d->funcs)) ||
	    array_grow(&d->stamp, &d->cap_stamp, d->nfuncs + 1, sizeof(*d->stamp)))
		return -ENOMEM;
	if (idxtab_insert(&d->idx, h, (uint32_t)d->nfuncs))
		return -ENOMEM;
	memset(&d->funcs[d->nfuncs], 0, sizeof(d->funcs[0]));
	d->funcs[d->nfuncs].name = *name;
	*name = NULL;
	d->stamp[d->nfuncs] = 0;
	return (int64_t)d->nfuncs++;
}

/* Maps every frame of p to a function id (fmap[frame id]). */
static int map_frames(struct diff *d, const struct profile *p, uint32_t *fmap)
{
	int err = 0;

	for (size_t i = 0; i < profile_nframes(p) && !err; i++) {
		const struct frame *f = profile_frame_get(p, (uint32_t)i);
		char *name = NULL;
		int64_t id = -ENOMEM;
		if (asprintf(&name, "%s%s", profile_str(p, f->name), folded_kind_suffix(f->kind)) >= 0)
			id = func_id(d, &name);
		free(name);
		if (id < 0)
			err = (int)id;
		else
			fmap[i] = (uint32_t)id;
	}
	return err;
}

/* The function id of a root label's display value (comm, pid), added if new. */
static int64_t root_id(struct diff *d, const char *value)
{
	char *name = strdup(value);
	int64_t id = name ? func_id(d, &name) : -ENOMEM;
	free(name);
	return id;
}

/* Function ids for every display frame of s (root labels, then frames),
 * as folded and flame graph output show them: a comm that is a frame in a
 * folded file and a label in a pprof compares as the same function. */
static int view_ids(struct diff *d, const struct profile *p, const struct sample *s, const uint32_t *fmap,
		    struct stack_view *v, uint32_t **ids, size_t *cap)
{
	int err = stack_view_fill(v, p, s);
	if (err || (err = array_grow(ids, cap, v->n + 1, sizeof(**ids))))
		return err;
	for (size_t j = 0; j < v->n; j++) {
		int64_t id = v->frames[j].frame_id >= 0 ? fmap[v->frames[j].frame_id] : root_id(d, v->frames[j].name);
		if (id < 0)
			return (int)id;
		(*ids)[j] = (uint32_t)id;
	}
	return 0;
}

/* Adds p's samples to run r's counts (count is NULL on the first pass,
 * which only makes sure every root label value has a function id). */
static int count_samples(struct diff *d, struct diff_run *r, const struct profile *p, const uint32_t *fmap)
{
	struct stack_view v;
	uint32_t *ids = NULL;
	size_t cap = 0;
	int err = 0;

	stack_view_init(&v);
	for (size_t i = 0; i < profile_nsamples(p) && !err; i++) {
		struct sample s;
		profile_sample_get(p, i, &s);
		if (!s.nframes || (err = view_ids(d, p, &s, fmap, &v, &ids, &cap)) || !r->count[0])
			continue;
		d->serial++;
		r->count[DIFF_SELF][ids[v.n - 1]] += s.count;
		for (size_t j = 0; j < v.n; j++) {
			uint32_t f = ids[j];
			if (d->stamp[f] != d->serial) {
				d->stamp[f] = d->serial;
				r->count[DIFF_INCL][f] += s.count;
			}
		}
	}
	free(ids);
	stack_view_release(&v);
	return err;
}

int diff_add(struct diff *d, enum diff_side side, const struct profile *p)
{
	const struct profile_meta *meta = profile_meta_const(p);
	size_t nf = profile_nframes(p);
	uint32_t *fmap = NULL;
	struct diff_run r = {{NULL, NULL}, 0, 0, profile_total(p)};
	int err = 0;

	if (side != DIFF_BASE && side != DIFF_NEW)
		return -EINVAL;
	int time_counts = meta->unit != PROFILE_UNIT_SAMPLES;
	if (d->time_counts >= 0 && time_counts != d->time_counts)
		return -EDOM;
	if (d->o.norm == DIFF_NORM_TIME && (!meta->period_ns || !meta->duration_ns))
		return -ENODATA;
	r.exposure = d->o.norm == DIFF_NORM_TIME ? (double)meta->duration_ns / (double)meta->period_ns
						 : (double)r.total;
	fmap = malloc((nf ? nf : 1) * sizeof(*fmap));
	if (!fmap || (err = map_frames(d, p, fmap)) || (err = count_samples(d, &r, p, fmap)) ||
	    (err = array_grow(&d->runs[side], &d->cap_runs[side], d->nruns[side] + 1, sizeof(r)))) {
		err = err ? err : -ENOMEM;
		goto out;
	}
	r.n = d->nfuncs;
	r.count[0] = calloc(r.n ? r.n : 1, sizeof(int64_t));
	r.count[1] = calloc(r.n ? r.n : 1, sizeof(int64_t));
	if (!r.count[0] || !r.count[1]) {
		err = -ENOMEM;
		goto out;
	}
	if ((err = count_samples(d, &r, p, fmap)))
		goto out;
	/* A profile of time counts microseconds, not samples: the noise model
	 * takes a millisecond (a sample's worth at 999 Hz) as one sample, or
	 * every microsecond would look like a sample and every change
	 * significant. */
	if (meta->unit != PROFILE_UNIT_SAMPLES) {
		for (size_t m = 0; m < 2; m++)
			for (size_t f = 0; f < r.n; f++)
				r.count[m][f] = (r.count[m][f] + 500) / 1000;
		r.total = (r.total + 500) / 1000;
		if (d->o.norm != DIFF_NORM_TIME)
			r.exposure = (double)r.total;
	}
	d->time_counts = time_counts;
	d->sum.unit = time_counts ? "ms" : "samples";
	d->runs[side][d->nruns[side]++] = r;
	r.count[0] = r.count[1] = NULL; /* owned by the diff now */
out:
	free(r.count[0]);
	free(r.count[1]);
	free(fmap);
	return err;
}

/* Scratch arrays for one function's per-run counts and exposures. */
struct gather {
	int64_t *x[2];
	double *e[2];
};

static void test_func(struct diff *d, struct gather *g, size_t fi, enum diff_measure m)
{
	struct diff_stat *st = &d->funcs[fi].m[m];
	struct stats_side sides[2];
	struct stats_test t;

	for (int s = 0; s < 2; s++) {
		st->count[s] = 0;
		for (size_t r = 0; r < d->nruns[s]; r++) {
			const struct diff_run *run = &d->runs[s][r];
			g->x[s][r] = fi < run->n ? run->count[m][fi] : 0;
			g->e[s][r] = run->exposure;
			st->count[s] += g->x[s][r];
		}
		sides[s] = (struct stats_side){g->x[s], g->e[s], d->nruns[s]};
	}
	struct stats_model model = {d->o.norm == DIFF_NORM_TIME, d->o.dispersion, d->o.dispersion_df};
	stats_two_sample(sides, &model, &t);
	for (int s = 0; s < 2; s++) {
		st->share[s] = 100 * t.share[s];
		st->dispersion[s] = t.dispersion[s];
	}
	st->delta = 100 * t.delta;
	st->z = t.z;
	st->df = t.df;
	st->p = t.p;
	st->p_adj = NAN;
	/* Independent filtering: the pooled share decides whether NEW can have
	 * grown by fail_on points at all (see diff.h). */
	double e0 = d->sum.exposure[0], e1 = d->sum.exposure[1];
	double pooled = (double)(st->count[0] + st->count[1]) / (e0 + e1);
	st->tested = st->count[0] + st->count[1] >= d->o.min_samples && t.se > 0 &&
		     100 * pooled > d->o.fail_on * e1 / (e0 + e1);
	st->significant = false;
}

/* Holm over the tested functions of measure m. */
static int correct(struct diff *d, enum diff_measure m)
{
	double *p = malloc((d->nfuncs ? d->nfuncs : 1) * sizeof(*p));
	size_t n = 0, k = 0;
	int err;

	if (!p)
		return -ENOMEM;
	for (size_t i = 0; i < d->nfuncs; i++)
		if (d->funcs[i].m[m].tested)
			p[n++] = d->funcs[i].m[m].p;
	if (!(err = stats_holm(p, n, p))) {
		for (size_t i = 0; i < d->nfuncs; i++) {
			struct diff_stat *st = &d->funcs[i].m[m];
			if (!st->tested)
				continue;
			st->p_adj = p[k++];
			st->significant = st->p_adj < d->o.alpha;
		}
		d->sum.tested[m] = n;
	}
	free(p);
	return err;
}

static int summarize(struct diff *d)
{
	for (int s = 0; s < 2; s++) {
		d->sum.runs[s] = d->nruns[s];
		d->sum.samples[s] = 0;
		d->sum.exposure[s] = 0;
		for (size_t r = 0; r < d->nruns[s]; r++) {
			d->sum.samples[s] += d->runs[s][r].total;
			d->sum.exposure[s] += d->runs[s][r].exposure;
		}
		if (!d->nruns[s] || d->sum.exposure[s] <= 0 || !d->sum.samples[s])
			return -ENODATA;
	}
	return 0;
}

int diff_compute(struct diff *d)
{
	struct gather g = {{NULL, NULL}, {NULL, NULL}};
	int err;

	if ((err = summarize(d)))
		return err;
	for (int s = 0; s < 2; s++) {
		g.x[s] = malloc(d->nruns[s] * sizeof(*g.x[s]));
		g.e[s] = malloc(d->nruns[s] * sizeof(*g.e[s]));
		if (!g.x[s] || !g.e[s]) {
			err = -ENOMEM;
			goto out;
		}
	}
	for (size_t i = 0; i < d->nfuncs; i++) {
		test_func(d, &g, i, DIFF_SELF);
		test_func(d, &g, i, DIFF_INCL);
	}
	if ((err = correct(d, DIFF_SELF)) || (err = correct(d, DIFF_INCL)))
		goto out;
	d->sum.regressions = 0;
	for (size_t i = 0; i < d->nfuncs; i++) {
		const struct diff_stat *st = &d->funcs[i].m[DIFF_INCL];
		d->funcs[i].regression = st->significant && st->delta > d->o.fail_on;
		d->sum.regressions += d->funcs[i].regression;
	}
out:
	for (int s = 0; s < 2; s++) {
		free(g.x[s]);
		free(g.e[s]);
	}
	return err;
}

size_t diff_nfuncs(const struct diff *d)
{
	return d->nfuncs;
}

const struct diff_func *diff_func_get(const struct diff *d, size_t i)
{
	return i < d->nfuncs ? &d->funcs[i] : NULL;
}

const struct diff_summary *diff_summary_get(const struct diff *d)
{
	return &d->sum;
}

const struct diff_opts *diff_opts_get(const struct diff *d)
{
	return &d->o;
}

double diff_sample_share(const struct diff *d, enum diff_side side)
{
	if (d->o.norm == DIFF_NORM_TIME) /* pooled: all samples over all periods */
		return d->sum.exposure[side] > 0 ? 1.0 / d->sum.exposure[side] : 0;
	return d->sum.samples[side] > 0 ? 1.0 / (double)d->sum.samples[side] : 0;
}

struct rank_ctx {
	const struct diff_func *funcs;
	enum diff_measure m;
};

static int rank_cmp(const void *a, const void *b, void *ctx)
{
	const struct rank_ctx *c = ctx;
	const struct diff_func *x = &c->funcs[*(const uint32_t *)a], *y = &c->funcs[*(const uint32_t *)b];
	double dx = fabs(x->m[c->m].delta), dy = fabs(y->m[c->m].delta);
	if (dx != dy)
		return dx < dy ? 1 : -1;
	return strcmp(x->name, y->name);
}

int diff_rank(const struct diff *d, enum diff_measure m, uint32_t **out)
{
	uint32_t *idx = malloc((d->nfuncs ? d->nfuncs : 1) * sizeof(*idx));
	struct rank_ctx ctx = {d->funcs, m};

	*out = NULL;
	if (!idx)
		return -ENOMEM;
	for (size_t i = 0; i < d->nfuncs; i++)
		idx[i] = (uint32_t)i;
	if (d->nfuncs)
		qsort_r(idx, d->nfuncs, sizeof(*idx), rank_cmp, &ctx);
	*out = idx;
	return 0;
}

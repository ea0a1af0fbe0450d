/* SPDX-License-Identifier: MIT */
/*
 * svg_tree: merges a profile's samples into the frames of a flame graph.
 *
 * No tree is built.  Each sample becomes a sequence of name ids (its display
 * frames, root first or leaf first), names are numbered in sorted order, and
 * the samples are sorted by their sequences.  Frames with the same ancestry
 * are then adjacent, so one pass with a stack of open frames yields every
 * merged frame with its start and count, closed children before parents.  A
 * frame narrower than the minimum width is dropped when it closes; its
 * samples stay counted in its ancestors, which are at least as wide.
 *
 * For a differential graph the other profile's samples become rows too, with
 * their count kept apart: they add to the frames' "other" counts but take no
 * width, so the drawn shape is the drawn profile's alone.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "formats/folded.h"
#include "formats/svg_internal.h"

/* One sample as a sequence of name ids in svg_seqs.ids. */
struct svg_row {
	size_t off;
	uint32_t len;
	int64_t count;
	int64_t other; /* count in the diff's other profile (then count is 0) */
};

struct svg_seqs {
	uint32_t *ids;
	size_t n, cap;
	struct svg_row *rows;
	size_t nrows, cap_rows;
};

struct name_probe {
	const struct svg_graph *g;
	const char *s;
	size_t len;
	uint32_t kind;
};

static bool name_eq(const void *ctx, uint32_t idx)
{
	const struct name_probe *q = ctx;
	const struct svg_name *n = &q->g->names[idx];
	return n->kind == q->kind && n->len == q->len && !memcmp(q->g->text + n->off, q->s, q->len);
}

/* The id of the name (s, kind), added if new; >= 0 or -ENOMEM. */
static int64_t name_id(struct svg_graph *g, const char *s, uint32_t kind, uint32_t module)
{
	struct name_probe q = {g, s, strlen(s), kind};
	uint64_t h = hash_bytes(s, q.len, 0x5f6 + kind);
	int64_t id = idxtab_find(&g->name_idx, h, name_eq, &q);
	if (id >= 0)
		return id;
	const char *sfx = kind == SVG_KIND_ROOT ? "" : folded_kind_suffix(kind);
	size_t slen = strlen(sfx);
	if (array_grow(&g->text, &g->text_cap, g->text_len + q.len + slen + 1, 1) ||
	    array_grow(&g->names, &g->cap_names, g->nnames + 1, sizeof(*g->names)) ||
	    idxtab_insert(&g->name_idx, h, (uint32_t)g->nnames))
		return -ENOMEM;
	struct svg_name *n = &g->names[g->nnames];
	*n =
	    (struct svg_name){g->text_len, (uint32_t)q.len, (uint32_t)(q.len + slen), kind, module, SVG_NONE};
	memcpy(g->text + g->text_len, s, q.len);
	memcpy(g->text + g->text_len + q.len, sfx, slen + 1);
	g->text_len += q.len + slen + 1;
	return (int64_t)g->nnames++;
}

/* The name id of a display frame; profile frames are looked up once each. */
static int64_t view_name(struct svg_graph *g, const struct profile *p, const struct view_frame *vf,
			 uint32_t *cache)
{
	if (vf->frame_id < 0)
		return name_id(g, vf->name, vf->kind, 0);
	if (cache[vf->frame_id] != SVG_NONE)
		return cache[vf->frame_id];
	const struct frame *f = profile_frame_get(p, (uint32_t)vf->frame_id);
	const struct mapping *m = profile_mapping_get(p, f->mapping);
	int64_t id = name_id(g, vf->name, vf->kind, m ? m->file : 0);
	if (id >= 0)
		cache[vf->frame_id] = (uint32_t)id;
	return id;
}

static void reverse_ids(uint32_t *a, size_t n)
{
	for (size_t i = 0; i < n / 2; i++) {
		uint32_t t = a[i];
		a[i] = a[n - 1 - i];
		a[n - 1 - i] = t;
	}
}

/* Appends a row of name ids per sample of p (as the other profile's counts
 * when other is set). */
static int collect(struct svg_graph *g, struct svg_seqs *q, const struct profile *p, bool reverse, bool other)
{
	int err = 0;
	size_t nf = profile_nframes(p), ns = profile_nsamples(p);
	uint32_t *cache = malloc((nf ? nf : 1) * sizeof(*cache));
	struct stack_view v;

	stack_view_init(&v);
	if (!cache || array_grow(&q->rows, &q->cap_rows, q->nrows + ns + 1, sizeof(*q->rows))) {
		err = -ENOMEM;
		goto out;
	}
	memset(cache, 0xff, nf * sizeof(*cache));
	for (size_t k = 0; k < ns; k++) {
		struct sample s;
		size_t i = q->nrows++;
		profile_sample_get(p, k, &s);
		if ((err = stack_view_fill(&v, p, &s)) ||
		    (err = array_grow(&q->ids, &q->cap, q->n + v.n, sizeof(*q->ids))))
			goto out;
		q->rows[i] = (struct svg_row){q->n, (uint32_t)v.n, other ? 0 : s.count, other ? s.count : 0};
		for (size_t j = 0; j < v.n; j++) {
			int64_t id = view_name(g, p, &v.frames[j], cache);
			if (id < 0) {
				err = (int)id;
				goto out;
			}
			q->ids[q->n++] = (uint32_t)id;
		}
		if (reverse)
			reverse_ids(q->ids + q->rows[i].off, v.n);
	}
out:
	stack_view_release(&v);
	free(cache);
	return err;
}

static int name_cmp(const void *a, const void *b, void *ctx)
{
	const struct svg_graph *g = ctx;
	const struct svg_name *x = &g->names[*(const uint32_t *)a], *y = &g->names[*(const uint32_t *)b];
	int c = strcmp(g->text + x->off, g->text + y->off);
	return c ? c : (x->kind > y->kind) - (x->kind < y->kind);
}

/* Renumbers the names in sorted order, so that comparing ids compares names. */
static int sort_names(struct svg_graph *g, struct svg_seqs *q)
{
	uint32_t *order = malloc((g->nnames + 1) * sizeof(*order));
	uint32_t *rank = malloc((g->nnames + 1) * sizeof(*rank));
	struct svg_name *sorted = malloc((g->nnames + 1) * sizeof(*sorted));
	int err = order && rank && sorted ? 0 : -ENOMEM;

	if (!err) {
		for (uint32_t i = 0; i < g->nnames; i++)
			order[i] = i;
		qsort_r(order, g->nnames, sizeof(*order), name_cmp, g);
		for (uint32_t i = 0; i < g->nnames; i++) {
			rank[order[i]] = i;
			sorted[i] = g->names[order[i]];
		}
		for (size_t i = 0; i < q->n; i++)
			q->ids[i] = rank[q->ids[i]];
		free(g->names);
		g->names = sorted;
		g->cap_names = g->nnames + 1;
		sorted = NULL;
		/* The hash table's indexes are stale now; nothing looks names up again. */
		idxtab_release(&g->name_idx);
		idxtab_init(&g->name_idx);
	}
	free(order);
	free(rank);
	free(sorted);
	return err;
}

static int row_cmp(const void *a, const void *b, void *ctx)
{
	const struct svg_seqs *q = ctx;
	const struct svg_row *x = &q->rows[*(const uint32_t *)a], *y = &q->rows[*(const uint32_t *)b];
	const uint32_t *s = q->ids + x->off, *t = q->ids + y->off;
	uint32_t n = x->len < y->len ? x->len : y->len;
	for (uint32_t i = 0; i < n; i++)
		if (s[i] != t[i])
			return s[i] < t[i] ? -1 : 1;
	return (x->len > y->len) - (x->len < y->len);
}

static int keep(struct svg_graph *g, uint32_t depth, uint32_t name, int64_t start, int64_t count,
		int64_t other, double minwidth)
{
	if ((double)count * g->scale < minwidth || count <= 0)
		return 0;
	if (array_grow(&g->frames, &g->cap_frames, g->nframes + 1, sizeof(*g->frames)))
		return -ENOMEM;
	g->frames[g->nframes++] = (struct svg_frame){depth, name, start, count, other};
	if (depth > g->max_depth)
		g->max_depth = depth;
	if (g->names[name].out == SVG_NONE)
		g->names[name].out = 0; /* numbered in name order later */
	return 0;
}

/* The walk over sorted rows: open[d] is where the open frame at depth d + 1
 * starts in drawn samples, open_other[d] in the other profile's. */
static int merge(struct svg_graph *g, const struct svg_seqs *q, const uint32_t *order, double minwidth)
{
	int err = 0;
	size_t maxlen = 0;
	const uint32_t *prev = NULL;
	uint32_t nopen = 0;
	int64_t cum = 0, cum_other = 0;

	for (size_t i = 0; i < q->nrows; i++)
		if (q->rows[i].len > maxlen)
			maxlen = q->rows[i].len;
	int64_t *open = malloc(2 * (maxlen + 1) * sizeof(*open)), *open_other;
	if (!open)
		return -ENOMEM;
	open_other = open + maxlen + 1;
	for (size_t i = 0; i <= q->nrows && !err; i++) {
		const struct svg_row *r = i < q->nrows ? &q->rows[order[i]] : NULL;
		const uint32_t *cur = r ? q->ids + r->off : NULL;
		uint32_t len = r ? r->len : 0, common = 0;
		while (common < nopen && common < len && prev[common] == cur[common])
			common++;
		while (nopen > common && !err) {
			nopen--;
			err = keep(g, nopen + 1, prev[nopen], open[nopen], cum - open[nopen],
				   cum_other - open_other[nopen], minwidth);
		}
		for (uint32_t d = common; d < len; d++) {
			open[d] = cum;
			open_other[d] = cum_other;
		}
		nopen = len;
		prev = cur;
		cum += r ? r->count : 0;
		cum_other += r ? r->other : 0;
	}
	free(open);
	return err;
}

static int frame_cmp(const void *a, const void *b)
{
	const struct svg_frame *x = a, *y = b;
	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	return (x->start > y->start) - (x->start < y->start);
}

/* Sorts the kept frames and numbers the names they use, in name order. */
static void finish(struct svg_graph *g)
{
	if (g->nframes) /* qsort(NULL, 0) is undefined */
		qsort(g->frames, g->nframes, sizeof(*g->frames), frame_cmp);
	g->nout = 0;
	for (size_t i = 0; i < g->nnames; i++)
		if (g->names[i].out != SVG_NONE)
			g->names[i].out = g->nout++;
}

int svg_graph_build(struct svg_graph *g, const struct profile *p, const struct svg_opts *o)
{
	int err;
	struct svg_seqs q = {0};
	uint32_t *order = NULL;
	double avail = (double)(o->width ? o->width : 1200) - 2 * SVG_PAD;

	memset(g, 0, sizeof(*g));
	idxtab_init(&g->name_idx);
	g->total = profile_total(p);
	g->scale = g->total > 0 && avail > 0 ? avail / (double)g->total : 0;
	if ((err = collect(g, &q, p, o->reverse, false)) ||
	    (o->diff && o->diff->other && (err = collect(g, &q, o->diff->other, o->reverse, true))) ||
	    (err = sort_names(g, &q)))
		goto out;
	g->other_total = o->diff && o->diff->other ? profile_total(o->diff->other) : 0;
	int64_t root = name_id(g, "all", SVG_KIND_ROOT, 0);
	if (root < 0) {
		err = (int)root;
		goto out;
	}
	order = malloc((q.nrows ? q.nrows : 1) * sizeof(*order));
	if (!order) {
		err = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < q.nrows; i++)
		order[i] = i;
	qsort_r(order, q.nrows, sizeof(*order), row_cmp, &q);
	if ((err = merge(g, &q, order, o->minwidth)) ||
	    (err = keep(g, 0, (uint32_t)root, 0, g->total, g->other_total, 0)))
		goto out;
	finish(g);
out:
	free(order);
	free(q.ids);
	free(q.rows);
	return err;
}

void svg_graph_release(struct svg_graph *g)
{
	free(g->text);
	free(g->names);
	free(g->frames);
	idxtab_release(&g->name_idx);
	memset(g, 0, sizeof(*g));
}

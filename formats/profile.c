/* SPDX-License-Identifier: MIT */
#include "profile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "base/hashtab.h"
#include "base/intern.h"

struct sample_rec {
	size_t off; /* into stack_ids */
	uint32_t nframes;
	uint32_t labels;
	int64_t count;
};

struct labelset_rec {
	size_t off; /* into label_buf */
	uint32_t n;
};

/* Frame id + 1 of the frame {name = the string, kind = k} with every other
 * field 0, per kind; 0 unknown (profile_frame_named's cache, by string id). */
struct str_named {
	uint32_t frame1[FRAME_PYTHON + 1];
};

struct profile {
	struct intern strs;
	struct str_named *named; /* by string id, nnamed of them */
	size_t nnamed, cap_named;

	struct mapping *mappings; /* index 0 unused */
	size_t nmappings, cap_mappings;
	struct idxtab mapping_idx;

	struct frame *frames;
	size_t nframes, cap_frames;
	struct idxtab frame_idx;

	struct label *label_buf;
	size_t nlabel_buf, cap_label_buf;
	struct labelset_rec *labelsets;
	size_t nlabelsets, cap_labelsets;
	struct idxtab labelset_idx;

	uint32_t *stack_ids;
	size_t nstack_ids, cap_stack_ids;
	struct sample_rec *samples;
	size_t nsamples, cap_samples;
	struct idxtab sample_idx;

	int64_t total;
	struct profile_meta meta;
};

struct profile *profile_new(void)
{
	struct profile *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	intern_init(&p->strs);
	idxtab_init(&p->mapping_idx);
	idxtab_init(&p->frame_idx);
	idxtab_init(&p->labelset_idx);
	idxtab_init(&p->sample_idx);
	/* String 0 is "", mapping 0 is "none", label set 0 is empty. */
	if (profile_intern(p, "", 0) != 0 || array_grow(&p->mappings, &p->cap_mappings, 1, sizeof(*p->mappings)) ||
	    array_grow(&p->labelsets, &p->cap_labelsets, 1, sizeof(*p->labelsets))) {
		profile_free(p);
		return NULL;
	}
	memset(&p->mappings[0], 0, sizeof(p->mappings[0]));
	p->nmappings = 1;
	p->labelsets[0] = (struct labelset_rec){0, 0};
	p->nlabelsets = 1;
	return p;
}

void profile_free(struct profile *p)
{
	if (!p)
		return;
	intern_release(&p->strs);
	free(p->named);
	free(p->mappings);
	free(p->frames);
	free(p->label_buf);
	free(p->labelsets);
	free(p->stack_ids);
	free(p->samples);
	idxtab_release(&p->mapping_idx);
	idxtab_release(&p->frame_idx);
	idxtab_release(&p->labelset_idx);
	idxtab_release(&p->sample_idx);
	free(p);
}

int64_t profile_intern(struct profile *p, const char *s, size_t len)
{
	int64_t id = intern_add(&p->strs, s, len);
	size_t n = intern_count(&p->strs);
	if (id >= 0 && n > p->nnamed) {
		/* A new string: its named-frame cache starts empty. */
		if (array_grow(&p->named, &p->cap_named, n, sizeof(*p->named)))
			return -ENOMEM;
		memset(&p->named[p->nnamed], 0, (n - p->nnamed) * sizeof(*p->named));
		p->nnamed = n;
	}
	return id;
}

int64_t profile_intern_cstr(struct profile *p, const char *s)
{
	return profile_intern(p, s, strlen(s));
}

const char *profile_str(const struct profile *p, uint32_t id)
{
	return id < intern_count(&p->strs) ? intern_str(&p->strs, id) : "";
}

size_t profile_nstrs(const struct profile *p)
{
	return intern_count(&p->strs);
}

struct mem_probe {
	const void *base; /* array of records */
	size_t elem;
	const void *rec;
};

static bool mem_eq(const void *ctx, uint32_t idx)
{
	const struct mem_probe *q = ctx;
	return !memcmp((const char *)q->base + (size_t)idx * q->elem, q->rec, q->elem);
}

static bool str_valid(const struct profile *p, uint32_t id)
{
	return id < intern_count(&p->strs);
}

int64_t profile_mapping(struct profile *p, const struct mapping *m)
{
	struct mapping rec = *m;
	rec.pad = 0;
	if (!str_valid(p, rec.file) || !str_valid(p, rec.build_id))
		return -EINVAL;
	uint64_t h = hash_bytes(&rec, sizeof(rec), 0x3a9);
	struct mem_probe q = {p->mappings, sizeof(rec), &rec};
	int64_t id = idxtab_find(&p->mapping_idx, h, mem_eq, &q);
	if (id >= 0)
		return id;
	if (p->nmappings >= INT32_MAX)
		return -E2BIG;
	if (array_grow(&p->mappings, &p->cap_mappings, p->nmappings + 1, sizeof(rec)))
		return -ENOMEM;
	int err = idxtab_insert(&p->mapping_idx, h, (uint32_t)p->nmappings);
	if (err)
		return err;
	p->mappings[p->nmappings] = rec;
	return (int64_t)p->nmappings++;
}

const struct mapping *profile_mapping_get(const struct profile *p, uint32_t id)
{
	return id && id < p->nmappings ? &p->mappings[id] : NULL;
}

size_t profile_nmappings(const struct profile *p)
{
	return p->nmappings - 1;
}

/* Interns the canonical form of f (checked by the caller). */
static int64_t frame_intern(struct profile *p, const struct frame *f)
{
	uint64_t h = hash_bytes(f, sizeof(*f), 0xf4a);
	struct mem_probe q = {p->frames, sizeof(*f), f};
	int64_t id = idxtab_find(&p->frame_idx, h, mem_eq, &q);
	if (id >= 0)
		return id;
	if (p->nframes >= INT32_MAX)
		return -E2BIG;
	if (array_grow(&p->frames, &p->cap_frames, p->nframes + 1, sizeof(*f)))
		return -ENOMEM;
	int err = idxtab_insert(&p->frame_idx, h, (uint32_t)p->nframes);
	if (err)
		return err;
	p->frames[p->nframes] = *f;
	return (int64_t)p->nframes++;
}

int64_t profile_frame(struct profile *p, const struct frame *f)
{
	struct frame c = *f;
	if (!c.name || !str_valid(p, c.name) || !str_valid(p, c.system_name) || !str_valid(p, c.file) ||
	    c.mapping >= p->nmappings || c.kind > FRAME_PYTHON)
		return -EINVAL;
	if (c.system_name == c.name)
		c.system_name = 0;
	return frame_intern(p, &c);
}

int64_t profile_frame_named(struct profile *p, const char *name, size_t len, uint32_t kind)
{
	if (!len || kind > FRAME_PYTHON)
		return -EINVAL;
	int64_t sid = profile_intern(p, name, len);
	if (sid < 0)
		return sid;
	uint32_t *cached = &p->named[sid].frame1[kind];
	if (*cached)
		return *cached - 1;
	struct frame f = {.name = (uint32_t)sid, .kind = kind};
	int64_t id = frame_intern(p, &f);
	if (id >= 0)
		*cached = (uint32_t)id + 1;
	return id;
}

const struct frame *profile_frame_get(const struct profile *p, uint32_t id)
{
	return id < p->nframes ? &p->frames[id] : NULL;
}

size_t profile_nframes(const struct profile *p)
{
	return p->nframes;
}

static int label_cmp(const void *a, const void *b)
{
	const struct label *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	if (x->str != y->str)
		return x->str < y->str ? -1 : 1;
	return x->num < y->num ? -1 : x->num > y->num;
}

struct labelset_probe {
	const struct profile *p;
	const struct label *l;
	size_t n;
};

static bool labelset_eq(const void *ctx, uint32_t idx)
{
	const struct labelset_probe *q = ctx;
	const struct labelset_rec *r = &q->p->labelsets[idx];
	return r->n == q->n && !memcmp(q->p->label_buf + r->off, q->l, q->n * sizeof(*q->l));
}

/* Sorts labels into out (canonical: num 0 for string values); -EINVAL for a
 * key 0, an unknown string id or a key given twice. */
static int labels_canonical(const struct profile *p, const struct label *labels, size_t n, struct label *out)
{
	for (size_t i = 0; i < n; i++) {
		out[i] = labels[i];
		if (!out[i].key || !str_valid(p, out[i].key) || !str_valid(p, out[i].str))
			return -EINVAL;
		if (out[i].str)
			out[i].num = 0;
	}
	if (n) /* qsort(NULL, 0) is undefined */
		qsort(out, n, sizeof(*out), label_cmp);
	for (size_t i = 1; i < n; i++)
		if (out[i].key == out[i - 1].key)
			return -EINVAL;
	return 0;
}

int64_t profile_labelset(struct profile *p, const struct label *labels, size_t n)
{
	struct label sorted[PROFILE_MAX_LABELS];
	if (!n)
		return 0;
	if (n > PROFILE_MAX_LABELS)
		return -E2BIG;
	int err = labels_canonical(p, labels, n, sorted);
	if (err)
		return err;
	uint64_t h = hash_bytes(sorted, n * sizeof(*sorted), 0x1ab);
	struct labelset_probe q = {p, sorted, n};
	int64_t id = idxtab_find(&p->labelset_idx, h, labelset_eq, &q);
	if (id >= 0)
		return id;
	if (p->nlabelsets >= INT32_MAX)
		return -E2BIG;
	if (array_grow(&p->label_buf, &p->cap_label_buf, p->nlabel_buf + n, sizeof(*sorted)) ||
	    array_grow(&p->labelsets, &p->cap_labelsets, p->nlabelsets + 1, sizeof(*p->labelsets)))
		return -ENOMEM;
	if ((err = idxtab_insert(&p->labelset_idx, h, (uint32_t)p->nlabelsets)))
		return err;
	memcpy(p->label_buf + p->nlabel_buf, sorted, n * sizeof(*sorted));
	p->labelsets[p->nlabelsets] = (struct labelset_rec){p->nlabel_buf, (uint32_t)n};
	p->nlabel_buf += n;
	return (int64_t)p->nlabelsets++;
}

const struct label *profile_labelset_get(const struct profile *p, uint32_t id, size_t *n)
{
	if (id >= p->nlabelsets || !p->labelsets[id].n) {
		*n = 0;
		return NULL;
	}
	*n = p->labelsets[id].n;
	return p->label_buf + p->labelsets[id].off;
}

const struct label *profile_label_find(const struct profile *p, uint32_t set, uint32_t key)
{
	size_t n;
	const struct label *l = profile_labelset_get(p, set, &n);
	for (size_t i = 0; i < n; i++)
		if (l[i].key == key)
			return &l[i];
	return NULL;
}

struct sample_probe {
	const struct profile *p;
	const uint32_t *frames;
	size_t n;
	uint32_t labels;
};

static bool sample_eq(const void *ctx, uint32_t idx)
{
	const struct sample_probe *q = ctx;
	const struct sample_rec *r = &q->p->samples[idx];
	return r->nframes == q->n && r->labels == q->labels &&
	       (!q->n || !memcmp(q->p->stack_ids + r->off, q->frames, q->n * sizeof(*q->frames)));
}

/* Appends a new unique sample (frames checked here). */
static int sample_new(struct profile *p, const uint32_t *frames, size_t nframes, uint32_t labels,
		      int64_t count, uint64_t h)
{
	for (size_t i = 0; i < nframes; i++)
		if (frames[i] >= p->nframes)
			return -EINVAL;
	if (p->nsamples >= INT32_MAX)
		return -E2BIG;
	if (array_grow(&p->stack_ids, &p->cap_stack_ids, p->nstack_ids + nframes, sizeof(*frames)) ||
	    array_grow(&p->samples, &p->cap_samples, p->nsamples + 1, sizeof(*p->samples)))
		return -ENOMEM;
	int err = idxtab_insert(&p->sample_idx, h, (uint32_t)p->nsamples);
	if (err)
		return err;
	if (nframes)
		memcpy(p->stack_ids + p->nstack_ids, frames, nframes * sizeof(*frames));
	p->samples[p->nsamples++] = (struct sample_rec){p->nstack_ids, (uint32_t)nframes, labels, count};
	p->nstack_ids += nframes;
	return 0;
}

int profile_add(struct profile *p, const uint32_t *frames, size_t nframes, uint32_t labels, int64_t count)
{
	int64_t total;
	if (count <= 0 || nframes > UINT32_MAX || labels >= p->nlabelsets || (nframes && !frames))
		return -EINVAL;
	if (__builtin_add_overflow(p->total, count, &total))
		return -EOVERFLOW;
	uint64_t h = hash_bytes(frames, nframes * sizeof(*frames), labels);
	struct sample_probe q = {p, frames, nframes, labels};
	int64_t id = idxtab_find(&p->sample_idx, h, sample_eq, &q);
	if (id >= 0) {
		/* Cannot overflow: the sample's count is part of the total. */
		p->samples[id].count += count;
	} else {
		int err = sample_new(p, frames, nframes, labels, count, h);
		if (err)
			return err;
	}
	p->total = total;
	return 0;
}

int profile_reserve(struct profile *p, size_t nsamples, size_t nstack_frames)
{
	if (nsamples > INT32_MAX)
		return -E2BIG;
	if (array_grow(&p->samples, &p->cap_samples, nsamples, sizeof(*p->samples)) ||
	    array_grow(&p->stack_ids, &p->cap_stack_ids, nstack_frames, sizeof(*p->stack_ids)))
		return -ENOMEM;
	return idxtab_reserve(&p->sample_idx, nsamples);
}

size_t profile_nsamples(const struct profile *p)
{
	return p->nsamples;
}

void profile_sample_get(const struct profile *p, size_t i, struct sample *out)
{
	const struct sample_rec *r = &p->samples[i];
	out->frames = r->nframes ? p->stack_ids + r->off : NULL;
	out->nframes = r->nframes;
	out->labels = r->labels;
	out->count = r->count;
}

int64_t profile_total(const struct profile *p)
{
	return p->total;
}

struct profile_meta *profile_meta(struct profile *p)
{
	return &p->meta;
}

const struct profile_meta *profile_meta_const(const struct profile *p)
{
	return &p->meta;
}

/* Maps string id *id of src to dst in place, interning on the way. */
static int remap_str(struct profile *dst, const struct profile *src, uint32_t *id)
{
	int64_t r = profile_intern(dst, intern_str(&src->strs, *id), intern_len(&src->strs, *id));
	if (r < 0)
		return (int)r;
	*id = (uint32_t)r;
	return 0;
}

/* mmap[i] = dst id of src mapping i (mmap[0] = 0). */
static int merge_mappings(struct profile *dst, const struct profile *src, uint32_t *mmap)
{
	mmap[0] = 0;
	for (size_t i = 1; i < src->nmappings; i++) {
		struct mapping m = src->mappings[i];
		int err = remap_str(dst, src, &m.file);
		if (!err)
			err = remap_str(dst, src, &m.build_id);
		int64_t id = err ? err : profile_mapping(dst, &m);
		if (id < 0)
			return (int)id;
		mmap[i] = (uint32_t)id;
	}
	return 0;
}

/* fmap[i] = dst id of src frame i. */
static int merge_frames(struct profile *dst, const struct profile *src, const uint32_t *mmap, uint32_t *fmap)
{
	for (size_t i = 0; i < src->nframes; i++) {
		struct frame f = src->frames[i];
		int err = remap_str(dst, src, &f.name);
		if (!err)
			err = remap_str(dst, src, &f.system_name);
		if (!err)
			err = remap_str(dst, src, &f.file);
		f.mapping = mmap[f.mapping];
		int64_t id = err ? err : profile_frame(dst, &f);
		if (id < 0)
			return (int)id;
		fmap[i] = (uint32_t)id;
	}
	return 0;
}

/* lmap[i] = dst id of src label set i. */
static int merge_labelsets(struct profile *dst, const struct profile *src, uint32_t *lmap)
{
	struct label l[PROFILE_MAX_LABELS];
	lmap[0] = 0;
	for (size_t i = 1; i < src->nlabelsets; i++) {
		const struct labelset_rec *rec = &src->labelsets[i];
		int err = 0;
		for (uint32_t j = 0; j < rec->n && !err; j++) {
			l[j] = src->label_buf[rec->off + j];
			err = remap_str(dst, src, &l[j].key);
			if (!err)
				err = remap_str(dst, src, &l[j].str);
		}
		int64_t id = err ? err : profile_labelset(dst, l, rec->n);
		if (id < 0)
			return (int)id;
		lmap[i] = (uint32_t)id;
	}
	return 0;
}

static int merge_samples(struct profile *dst, const struct profile *src, const uint32_t *fmap,
			 const uint32_t *lmap)
{
	int err = 0;
	uint32_t *stack = NULL;
	size_t cap = 0;

	for (size_t i = 0; i < src->nsamples && !err; i++) {
		const struct sample_rec *s = &src->samples[i];
		err = array_grow(&stack, &cap, s->nframes + 1, sizeof(*stack));
		for (uint32_t j = 0; j < s->nframes && !err; j++)
			stack[j] = fmap[src->stack_ids[s->off + j]];
		if (!err)
			err = profile_add(dst, stack, s->nframes, lmap[s->labels], s->count);
	}
	free(stack);
	return err;
}

static int merge_meta(struct profile *dst, const struct profile *src)
{
	struct profile_meta *d = &dst->meta;
	const struct profile_meta *s = &src->meta;
	int err = 0;

	if (!d->period_ns)
		d->period_ns = s->period_ns;
	if (!d->duration_ns)
		d->duration_ns = s->duration_ns;
	if (!d->time_ns)
		d->time_ns = s->time_ns;
	if (!d->frequency)
		d->frequency = s->frequency;
	if (!d->nroot_labels) {
		uint32_t n = s->nroot_labels < PROFILE_MAX_ROOTS ? s->nroot_labels : PROFILE_MAX_ROOTS;
		for (uint32_t i = 0; i < n && !err; i++) {
			d->root_labels[i] = s->root_labels[i];
			err = remap_str(dst, src, &d->root_labels[i]);
		}
		d->nroot_labels = err ? 0 : n;
	}
	/* Comments are appended, each once, as long as there is room. */
	for (uint32_t i = 0; i < s->ncomments && i < 8 && !err; i++) {
		uint32_t c = s->comments[i];
		bool dup = false;
		if ((err = remap_str(dst, src, &c)))
			break;
		for (uint32_t j = 0; j < d->ncomments; j++)
			dup |= d->comments[j] == c;
		if (!dup && d->ncomments < 8)
			d->comments[d->ncomments++] = c;
	}
	return err;
}

int profile_merge(struct profile *dst, const struct profile *src)
{
	int err = 0;
	uint32_t *mmap = NULL, *fmap = NULL, *lmap = NULL;

	if (dst == src) {
		err = -EINVAL;
		goto out;
	}
	mmap = malloc(src->nmappings * sizeof(*mmap));
	fmap = malloc((src->nframes + 1) * sizeof(*fmap));
	lmap = malloc(src->nlabelsets * sizeof(*lmap));
	if (!mmap || !fmap || !lmap) {
		err = -ENOMEM;
		goto out;
	}
	err = merge_mappings(dst, src, mmap);
	if (!err)
		err = merge_frames(dst, src, mmap, fmap);
	if (!err)
		err = merge_labelsets(dst, src, lmap);
	if (!err)
		err = merge_samples(dst, src, fmap, lmap);
	if (!err)
		err = merge_meta(dst, src);
out:
	free(mmap);
	free(fmap);
	free(lmap);
	return err;
}

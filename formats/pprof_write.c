/* SPDX-License-Identifier: MIT */
/*
 * pprof_write: the profile model as gzip-compressed profile.proto.
 *
 * The string table is the profile's own strings in id order (so a string id
 * is its pprof index and string_table[0] is ""), followed by the few strings
 * the writer adds.  Model mappings keep their ids; kernel and JIT frames
 * without a mapping share synthetic mappings numbered after them.  Locations
 * and Functions are created as samples reach them, ids from 1.  Every
 * protobuf-c struct lives in an array owned by struct writer; the pointer
 * arrays protobuf-c wants are filled once those arrays stop growing.
 */
#include "pprof_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "base/hashtab.h"
#include "base/utf8.h"

struct writer {
	const struct profile *p;
	pb_profile pb;

	char **strs; /* string table: the profile's, then the writer's */
	size_t nstrs, cap_strs, nprofile_strs;
	char **repaired; /* the writer's valid UTF-8 copies of profile strings that were not */
	size_t nrepaired;

	pb_function *funcs; /* function id i + 1 */
	size_t nfuncs, cap_funcs;
	struct idxtab func_idx;
	uint32_t *func_of_frame; /* frame id -> function id, 0 not yet */

	pb_location *locs; /* location id i + 1 */
	uint32_t *loc_off; /* per location: its first frame in loc_frames */
	size_t nlocs, cap_locs, cap_loc_off;
	uint32_t *loc_frames; /* each location's frames, caller first */
	size_t nloc_frames, cap_loc_frames;
	uint32_t *loc_of_frame; /* frame id -> its one-frame location id, 0 not yet */
	struct idxtab loc_idx;	/* locations of more than one frame */

	size_t nmodel_maps, nmaps; /* model mappings, then synthetic ones */
	uint32_t kernel_map, jit_map, python_map;
	uint32_t *derived; /* per mapping id: flags the locations show */
	uint64_t *lo, *hi; /* per mapping id: the locations' address range */

	pb_sample *samples;
	uint32_t *sample_lab; /* per sample: its first label in labels */
	uint64_t *loc_ids;    /* every sample's location ids, leaf first */
	size_t nloc_ids;
	int64_t *values;
	pb_label *labels;
	size_t nlabels, cap_labels;
	struct u64map lset_lab; /* label set id -> its first label in labels */
	uint32_t *run;		/* scratch: one sample's location ids, root first */

	pb_value_type types[2], period_type;
	int64_t scale; /* Sample.value[0] is the count times this */
	int64_t comments[9];
	/* Pointer arrays for protobuf-c, filled by link(). */
	pb_line *lines;
	pb_line **line_ptrs;
	pb_location **loc_ptrs;
	pb_function **func_ptrs;
	pb_mapping *maps;
	pb_mapping **map_ptrs;
	pb_sample **sample_ptrs;
	pb_label **label_ptrs;
	pb_value_type *type_ptrs[2];
};

/* Index of a writer-added string (deduplicated among those); -ENOMEM. */
static int64_t add_str(struct writer *w, const char *s)
{
	for (size_t i = w->nprofile_strs; i < w->nstrs; i++)
		if (!strcmp(w->strs[i], s))
			return (int64_t)i;
	if (array_grow(&w->strs, &w->cap_strs, w->nstrs + 1, sizeof(*w->strs)))
		return -ENOMEM;
	w->strs[w->nstrs] = (char *)s; /* protobuf-c only reads it */
	return (int64_t)w->nstrs++;
}

static uint32_t synthetic_map(struct writer *w, uint32_t *slot)
{
	if (!*slot)
		*slot = (uint32_t)++w->nmaps;
	return *slot;
}

static int64_t frame_map(struct writer *w, const struct frame *f)
{
	if (f->mapping > w->nmodel_maps)
		return -EINVAL;
	if (f->mapping)
		return f->mapping;
	if (f->kind == FRAME_KERNEL)
		return synthetic_map(w, &w->kernel_map);
	if (f->kind == FRAME_JIT)
		return synthetic_map(w, &w->jit_map);
	if (f->kind == FRAME_PYTHON)
		return synthetic_map(w, &w->python_map);
	return 0;
}

struct func_probe {
	const struct writer *w;
	int64_t name, system_name, file;
};

static bool func_eq(const void *ctx, uint32_t idx)
{
	const struct func_probe *q = ctx;
	const pb_function *f = &q->w->funcs[idx];
	return f->name == q->name && f->system_name == q->system_name && f->filename == q->file;
}

/* The Function of a frame: same name, system name and file share one. */
static int64_t frame_func(struct writer *w, uint32_t fid)
{
	const struct frame *f = profile_frame_get(w->p, fid);
	struct func_probe q = {w, f->name, f->system_name ? f->system_name : f->name, f->file};
	uint64_t h = hash_bytes(&q.name, 3 * sizeof(int64_t), 0xf0);
	int64_t idx;

	if (w->func_of_frame[fid])
		return w->func_of_frame[fid];
	idx = idxtab_find(&w->func_idx, h, func_eq, &q);
	if (idx < 0) {
		if (array_grow(&w->funcs, &w->cap_funcs, w->nfuncs + 1, sizeof(*w->funcs)) ||
		    idxtab_insert(&w->func_idx, h, (uint32_t)w->nfuncs))
			return -ENOMEM;
		idx = (int64_t)w->nfuncs++;
		pb_function *pf = &w->funcs[idx];
		perftools__profiles__function__init(pf);
		pf->id = (uint64_t)idx + 1;
		pf->name = q.name;
		pf->system_name = q.system_name;
		pf->filename = q.file;
	}
	w->func_of_frame[fid] = (uint32_t)idx + 1;
	return idx + 1;
}

struct loc_probe {
	const struct writer *w;
	const uint32_t *run;
	size_t n;
};

static bool loc_eq(const void *ctx, uint32_t idx)
{
	const struct loc_probe *q = ctx;
	const struct writer *w = q->w;
	size_t n = (idx + 1 < w->nlocs ? w->loc_off[idx + 1] : w->nloc_frames) - w->loc_off[idx];
	return n == q->n && !memcmp(w->loc_frames + w->loc_off[idx], q->run, n * sizeof(*q->run));
}

/* Appends a Location for frames run[0..n) (a caller, then frames inlined into it). */
static int64_t new_location(struct writer *w, const uint32_t *run, size_t n)
{
	const struct frame *caller = profile_frame_get(w->p, run[0]);
	int64_t map = frame_map(w, caller);
	uint32_t flags = MAPPING_HAS_FUNCTIONS | (n > 1 ? MAPPING_HAS_INLINE_FRAMES : 0);

	if (map < 0)
		return map;
	if (array_grow(&w->locs, &w->cap_locs, w->nlocs + 1, sizeof(*w->locs)) ||
	    array_grow(&w->loc_off, &w->cap_loc_off, w->nlocs + 1, sizeof(*w->loc_off)) ||
	    array_grow(&w->loc_frames, &w->cap_loc_frames, w->nloc_frames + n, sizeof(*w->loc_frames)))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct frame *f = profile_frame_get(w->p, run[i]);
		int64_t fn = frame_func(w, run[i]);
		if (fn < 0)
			return fn;
		flags |= (f->file ? MAPPING_HAS_FILENAMES : 0) | (f->line ? MAPPING_HAS_LINE_NUMBERS : 0);
	}
	w->derived[map] |= flags;
	if (caller->address && (!w->lo[map] || caller->address < w->lo[map]))
		w->lo[map] = caller->address;
	if (caller->address >= w->hi[map])
		w->hi[map] = caller->address + 1;
	pb_location *l = &w->locs[w->nlocs];
	perftools__profiles__location__init(l);
	l->id = w->nlocs + 1;
	l->mapping_id = (uint64_t)map;
	l->address = caller->address;
	w->loc_off[w->nlocs] = (uint32_t)w->nloc_frames;
	memcpy(w->loc_frames + w->nloc_frames, run, n * sizeof(*run));
	w->nloc_frames += n;
	return (int64_t)++w->nlocs;
}

static int64_t location(struct writer *w, const uint32_t *run, size_t n)
{
	struct loc_probe q = {w, run, n};
	uint64_t h;
	int64_t id;

	if (n == 1) {
		if (!w->loc_of_frame[run[0]]) {
			if ((id = new_location(w, run, 1)) < 0)
				return id;
			w->loc_of_frame[run[0]] = (uint32_t)id;
		}
		return w->loc_of_frame[run[0]];
	}
	h = hash_bytes(run, n * sizeof(*run), 0x10c);
	id = idxtab_find(&w->loc_idx, h, loc_eq, &q);
	if (id >= 0)
		return id + 1;
	if ((id = new_location(w, run, n)) < 0)
		return id;
	return idxtab_insert(&w->loc_idx, h, (uint32_t)(id - 1)) ? -ENOMEM : id;
}

/* The first label of a label set in w->labels, adding its labels once. */
static int64_t sample_labels(struct writer *w, uint32_t set, size_t *n)
{
	const struct label *ls = profile_labelset_get(w->p, set, n);
	uint64_t *have = u64map_get(&w->lset_lab, set);

	if (have)
		return (int64_t)*have;
	if (array_grow(&w->labels, &w->cap_labels, w->nlabels + *n, sizeof(*w->labels)) ||
	    u64map_put(&w->lset_lab, set, w->nlabels))
		return -ENOMEM;
	for (size_t i = 0; i < *n; i++) {
		pb_label *l = &w->labels[w->nlabels + i];
		perftools__profiles__label__init(l);
		l->key = ls[i].key;
		l->str = ls[i].str;
		l->num = ls[i].str ? 0 : ls[i].num;
	}
	w->nlabels += *n;
	return (int64_t)(w->nlabels - *n);
}

/* Fills sample i: location ids leaf first, values, labels (linked later). */
static int add_sample(struct writer *w, size_t i, size_t ntypes, uint64_t period)
{
	struct sample s;
	size_t nrun = 0, nlab;
	pb_sample *ps = &w->samples[i];

	profile_sample_get(w->p, i, &s);
	for (uint32_t j = 0; j < s.nframes;) {
		uint32_t start = j++;
		while (j < s.nframes && profile_frame_get(w->p, s.frames[j])->kind == FRAME_INLINED)
			j++;
		int64_t id = location(w, s.frames + start, j - start);
		if (id < 0)
			return (int)id;
		w->run[nrun++] = (uint32_t)id;
	}
	perftools__profiles__sample__init(ps);
	ps->location_id = w->loc_ids + w->nloc_ids;
	ps->n_location_id = nrun;
	for (size_t j = 0; j < nrun; j++)
		w->loc_ids[w->nloc_ids++] = w->run[nrun - 1 - j];
	ps->value = w->values + i * ntypes;
	ps->n_value = ntypes;
	if (__builtin_mul_overflow(s.count, w->scale, &ps->value[0]))
		return -EOVERFLOW;
	if (ntypes > 1 && __builtin_mul_overflow(s.count, (int64_t)period, &ps->value[1]))
		return -EOVERFLOW;
	int64_t lab = sample_labels(w, s.labels, &nlab);
	if (lab < 0)
		return (int)lab;
	w->sample_lab[i] = (uint32_t)lab;
	ps->n_label = nlab;
	return 0;
}

static int add_samples(struct writer *w, size_t ntypes, uint64_t period)
{
	size_t n = profile_nsamples(w->p), total = 0, deepest = 0;
	int err = 0;

	for (size_t i = 0; i < n; i++) {
		struct sample s;
		profile_sample_get(w->p, i, &s);
		total += s.nframes;
		deepest = s.nframes > deepest ? s.nframes : deepest;
	}
	w->samples = calloc(n ? n : 1, sizeof(*w->samples));
	w->sample_lab = calloc(n ? n : 1, sizeof(*w->sample_lab));
	w->values = calloc(n ? n * ntypes : 1, sizeof(*w->values));
	w->loc_ids = calloc(total ? total : 1, sizeof(*w->loc_ids));
	w->run = calloc(deepest ? deepest : 1, sizeof(*w->run));
	if (!w->samples || !w->sample_lab || !w->values || !w->loc_ids || !w->run)
		return -ENOMEM;
	for (size_t i = 0; i < n && !err; i++)
		err = add_sample(w, i, ntypes, period);
	return err;
}

static void fill_mapping(struct writer *w, pb_mapping *m, uint32_t id)
{
	const struct mapping *src = id <= w->nmodel_maps ? profile_mapping_get(w->p, id) : NULL;
	uint32_t flags = w->derived[id];

	perftools__profiles__mapping__init(m);
	m->id = id;
	if (src) {
		m->memory_start = src->start;
		m->memory_limit = src->limit;
		m->file_offset = src->offset;
		m->filename = src->file;
		m->build_id = src->build_id;
		/* All false asks pprof to symbolize the mapping: keep it so. */
		flags = src->flags & MAPPING_HAS_FUNCTIONS ? flags | src->flags : src->flags;
	} else { /* synthetic: covers its locations' addresses */
		m->filename = add_str(w, id == w->kernel_map ? PPROF_KERNEL_MAPPING
				       : id == w->jit_map  ? PPROF_JIT_MAPPING
							   : PPROF_PYTHON_MAPPING);
		m->memory_start = w->lo[id];
		m->memory_limit = w->hi[id] > w->lo[id] ? w->hi[id] : w->lo[id];
	}
	m->has_functions = !!(flags & MAPPING_HAS_FUNCTIONS);
	m->has_filenames = !!(flags & MAPPING_HAS_FILENAMES);
	m->has_line_numbers = !!(flags & MAPPING_HAS_LINE_NUMBERS);
	m->has_inline_frames = !!(flags & MAPPING_HAS_INLINE_FRAMES);
}

/* Points every protobuf-c pointer array at the finished arrays. */
static int link_arrays(struct writer *w)
{
	size_t ns = profile_nsamples(w->p);

	w->lines = calloc(w->nloc_frames + 1, sizeof(*w->lines));
	w->line_ptrs = calloc(w->nloc_frames + 1, sizeof(*w->line_ptrs));
	w->loc_ptrs = calloc(w->nlocs + 1, sizeof(*w->loc_ptrs));
	w->func_ptrs = calloc(w->nfuncs + 1, sizeof(*w->func_ptrs));
	w->maps = calloc(w->nmaps + 1, sizeof(*w->maps));
	w->map_ptrs = calloc(w->nmaps + 1, sizeof(*w->map_ptrs));
	w->sample_ptrs = calloc(ns + 1, sizeof(*w->sample_ptrs));
	w->label_ptrs = calloc(w->nlabels + 1, sizeof(*w->label_ptrs));
	if (!w->lines || !w->line_ptrs || !w->loc_ptrs || !w->func_ptrs || !w->maps || !w->map_ptrs ||
	    !w->sample_ptrs || !w->label_ptrs)
		return -ENOMEM;
	for (size_t i = 0; i < w->nlocs; i++) {
		size_t off = w->loc_off[i];
		size_t n = (i + 1 < w->nlocs ? w->loc_off[i + 1] : w->nloc_frames) - off;
		w->locs[i].line = w->line_ptrs + off;
		w->locs[i].n_line = n;
		w->loc_ptrs[i] = &w->locs[i];
		for (size_t j = 0; j < n; j++) { /* innermost first */
			uint32_t fid = w->loc_frames[off + n - 1 - j];
			pb_line *l = &w->lines[off + j];
			perftools__profiles__line__init(l);
			l->function_id = w->func_of_frame[fid];
			l->line = profile_frame_get(w->p, fid)->line;
			w->line_ptrs[off + j] = l;
		}
	}
	for (size_t i = 0; i < w->nfuncs; i++)
		w->func_ptrs[i] = &w->funcs[i];
	for (size_t i = 0; i < w->nmaps; i++) {
		fill_mapping(w, &w->maps[i], (uint32_t)i + 1);
		if (w->maps[i].filename < 0)
			return -ENOMEM;
	}
	/* pprof takes the first mapping for the main binary: list files before
	 * the bracketed ones ([kernel.kallsyms], [vdso], [jit]); ids are kept. */
	size_t nm = 0;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < w->nmaps; i++)
			if ((w->strs[w->maps[i].filename][0] == '[') == pass)
				w->map_ptrs[nm++] = &w->maps[i];
	for (size_t i = 0; i < w->nlabels; i++)
		w->label_ptrs[i] = &w->labels[i];
	for (size_t i = 0; i < ns; i++) {
		w->samples[i].label = w->label_ptrs + w->sample_lab[i];
		w->sample_ptrs[i] = &w->samples[i];
	}
	return 0;
}

static void value_type(pb_value_type *vt, int64_t type, int64_t unit)
{
	perftools__profiles__value_type__init(vt);
	vt->type = type;
	vt->unit = unit;
}

/* "scorch:root_labels=comm,pid": the model's root labels (see pprof.h). */
static int64_t root_labels_comment(struct writer *w, const struct profile_meta *m, char *buf, size_t cap)
{
	size_t len = (size_t)snprintf(buf, cap, "%s", PPROF_ROOT_LABELS_COMMENT);

	for (uint32_t i = 0; i < m->nroot_labels && i < PROFILE_MAX_ROOTS && len < cap; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? "," : "",
					profile_str(w->p, m->root_labels[i]));
	return len < cap ? add_str(w, buf) : 0;
}

/* Sample and period types, period, times and comments. */
static int fill_header(struct writer *w, char *comment_buf, size_t cap)
{
	const struct profile_meta *m = profile_meta_const(w->p);
	pb_profile *pb = &w->pb;
	int64_t samples = add_str(w, "samples"), count = add_str(w, "count");
	int64_t cpu = add_str(w, "cpu"), ns = add_str(w, "nanoseconds");

	if (samples < 0 || count < 0 || cpu < 0 || ns < 0)
		return -ENOMEM;
	if (m->period_ns > INT64_MAX || m->duration_ns > INT64_MAX || m->time_ns > INT64_MAX)
		return -EOVERFLOW;
	value_type(&w->types[0], samples, count);
	value_type(&w->types[1], cpu, ns);
	w->type_ptrs[0] = &w->types[0];
	w->type_ptrs[1] = &w->types[1];
	pb->sample_type = w->type_ptrs;
	pb->n_sample_type = m->period_ns ? 2 : 1;
	pb->default_sample_type = m->period_ns ? cpu : samples;
	if (m->unit == PROFILE_UNIT_OFFCPU_US || m->unit == PROFILE_UNIT_WALL_US) {
		/* Time, counted in microseconds: one type, in nanoseconds. */
		int64_t t = add_str(w, m->unit == PROFILE_UNIT_OFFCPU_US ? "off_cpu" : "wall");
		if (t < 0)
			return -ENOMEM;
		value_type(&w->types[0], t, ns);
		pb->n_sample_type = 1;
		pb->default_sample_type = t;
		w->scale = 1000;
	} else if (m->period_ns) {
		value_type(&w->period_type, cpu, ns);
		pb->period_type = &w->period_type;
		pb->period = (int64_t)m->period_ns;
	}
	pb->time_nanos = (int64_t)m->time_ns;
	pb->duration_nanos = (int64_t)m->duration_ns;
	pb->comment = w->comments;
	for (uint32_t i = 0; i < m->ncomments && i < 8; i++)
		w->comments[pb->n_comment++] = m->comments[i];
	if (m->nroot_labels) {
		int64_t c = root_labels_comment(w, m, comment_buf, cap);
		if (c < 0)
			return (int)c;
		if (c)
			w->comments[pb->n_comment++] = c;
	}
	return 0;
}

static int writer_init(struct writer *w, const struct profile *p)
{
	size_t nframes = profile_nframes(p);

	memset(w, 0, sizeof(*w));
	w->p = p;
	w->scale = 1;
	perftools__profiles__profile__init(&w->pb);
	idxtab_init(&w->func_idx);
	idxtab_init(&w->loc_idx);
	u64map_init(&w->lset_lab);
	w->nprofile_strs = w->nstrs = profile_nstrs(p);
	w->nmodel_maps = w->nmaps = profile_nmappings(p);
	if (array_grow(&w->strs, &w->cap_strs, w->nstrs + 16, sizeof(*w->strs)))
		return -ENOMEM;
	/* Names and paths come from untrusted binaries, and profile.proto's
	 * strings are UTF-8: Go's readers refuse a profile with one invalid
	 * string (Pyroscope's validation.ValidateProfile does), so such a
	 * string goes out repaired. */
	for (size_t i = 0; i < w->nstrs; i++) {
		const char *s = profile_str(p, (uint32_t)i);
		w->strs[i] = (char *)s;
		if (utf8_valid(s, strlen(s)))
			continue;
		char **r = realloc(w->repaired, (w->nrepaired + 1) * sizeof(*r));
		if (!r)
			return -ENOMEM;
		w->repaired = r;
		if (!(w->strs[i] = r[w->nrepaired] = utf8_repaired(s)))
			return -ENOMEM;
		w->nrepaired++;
	}
	w->func_of_frame = calloc(nframes + 1, sizeof(*w->func_of_frame));
	w->loc_of_frame = calloc(nframes + 1, sizeof(*w->loc_of_frame));
	w->derived = calloc(w->nmodel_maps + 3, sizeof(*w->derived));
	w->lo = calloc(w->nmodel_maps + 3, sizeof(*w->lo));
	w->hi = calloc(w->nmodel_maps + 3, sizeof(*w->hi));
	return w->func_of_frame && w->loc_of_frame && w->derived && w->lo && w->hi ? 0 : -ENOMEM;
}

static void writer_release(struct writer *w)
{
	void *arrays[] = {w->strs,	 w->funcs,	  w->func_of_frame, w->locs,	  w->loc_off,
			  w->loc_frames, w->loc_of_frame, w->derived,	    w->lo,	  w->hi,
			  w->samples,	 w->sample_lab,	  w->loc_ids,	    w->values,	  w->labels,
			  w->run,	 w->lines,	  w->line_ptrs,	    w->loc_ptrs,  w->func_ptrs,
			  w->maps,	 w->map_ptrs,	  w->sample_ptrs,   w->label_ptrs};

	for (size_t i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++)
		free(arrays[i]);
	for (size_t i = 0; i < w->nrepaired; i++)
		free(w->repaired[i]);
	free(w->repaired);
	idxtab_release(&w->func_idx);
	idxtab_release(&w->loc_idx);
	u64map_release(&w->lset_lab);
}

int pprof_write(const struct profile *p, FILE *out)
{
	return pprof_write_sized(p, out, NULL);
}

int pprof_write_sized(const struct profile *p, FILE *out, size_t *raw_bytes)
{
	struct writer w = {0};
	struct pprof_gz gz = {0};
	char comment[256];
	const struct profile_meta *m = profile_meta_const(p);
	int err;

	err = pprof_gz_init(&gz, out);
	if (!err)
		err = writer_init(&w, p);
	if (!err)
		err = fill_header(&w, comment, sizeof(comment));
	if (!err)
		err = add_samples(&w, w.pb.n_sample_type, m->period_ns);
	if (!err)
		err = link_arrays(&w);
	if (err)
		goto out;
	w.pb.string_table = w.strs;
	w.pb.n_string_table = w.nstrs;
	w.pb.sample = w.sample_ptrs;
	w.pb.n_sample = profile_nsamples(p);
	w.pb.location = w.loc_ptrs;
	w.pb.n_location = w.nlocs;
	w.pb.function = w.func_ptrs;
	w.pb.n_function = w.nfuncs;
	w.pb.mapping = w.map_ptrs;
	w.pb.n_mapping = w.nmaps;
	size_t raw = perftools__profiles__profile__pack_to_buffer(&w.pb, &gz.base);
	err = pprof_gz_finish(&gz);
	if (raw_bytes)
		*raw_bytes = raw;
out:
	pprof_gz_release(&gz);
	writer_release(&w);
	return err;
}

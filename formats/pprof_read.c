/* SPDX-License-Identifier: MIT */
/*
 * pprof_read: profile.proto (plain or gzip) into the profile model.
 *
 * protobuf-c decodes the whole message; then every table is checked and
 * translated once, in dependency order: strings (interned on first use),
 * functions, mappings, locations (each becomes its frames, root first), and
 * finally samples, which only look up what is already translated.  Input is
 * untrusted: every index and id is checked, ids must be nonzero and unique,
 * and sizes are bounded so a small file cannot make us do unbounded work.
 */
#include "pprof_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "base/hashtab.h"

#define MAX_LINES_PER_LOCATION 1024
#define MAX_STACK_DEPTH (1u << 16)

struct func_rec {
	uint32_t name, system_name, file; /* model string ids */
};

struct reader {
	const pb_profile *pb;
	struct profile *p;
	struct format_error *e;
	int64_t *str_ids; /* pprof string index -> model string id, -1 not yet */
	struct func_rec *funcs;
	struct u64map func_idx; /* pprof function id -> index in funcs */
	uint32_t *map_ids;	/* pprof mapping index -> model mapping id */
	uint32_t *map_kinds;	/* pprof mapping index -> kind of its frames */
	struct u64map map_idx;	/* pprof mapping id -> index */
	uint32_t *loc_off;	/* per location index: its frames in loc_frames, then n */
	uint32_t *loc_frames;
	size_t nloc_frames;
	struct u64map loc_idx; /* pprof location id -> index */
	uint32_t *stack;       /* scratch: one sample's frames, root first */
	struct label *labels;  /* scratch: one sample's labels */
	size_t cap_labels;
	uint64_t frame_budget; /* frames all samples may still expand to */
};

/* The model string id for a pprof string index; -EINVAL (e set) when out of range. */
static int64_t str(struct reader *r, int64_t idx, const char *what)
{
	if (idx < 0 || (uint64_t)idx >= r->pb->n_string_table)
		return format_fail(r->e, -EINVAL, "pprof: %s: string index %" PRId64 " out of range", what,
				   idx);
	if (r->str_ids[idx] < 0)
		r->str_ids[idx] = profile_intern_cstr(r->p, r->pb->string_table[idx]);
	if (r->str_ids[idx] < 0)
		return format_fail(r->e, (int)r->str_ids[idx], "pprof: out of memory");
	return r->str_ids[idx];
}

static const char *raw_str(const struct reader *r, int64_t idx)
{
	return idx >= 0 && (uint64_t)idx < r->pb->n_string_table ? r->pb->string_table[idx] : "";
}

/* Records id -> idx in m; rejects id 0 and repeats. */
static int add_id(struct reader *r, struct u64map *m, uint64_t id, size_t idx, const char *what)
{
	if (!id)
		return format_fail(r->e, -EINVAL, "pprof: %s with reserved id 0", what);
	if (u64map_get(m, id))
		return format_fail(r->e, -EINVAL, "pprof: two %ss with id %" PRIu64, what, id);
	if (u64map_put(m, id, idx))
		return format_fail(r->e, -ENOMEM, "pprof: out of memory");
	return 0;
}

static int read_functions(struct reader *r)
{
	const pb_profile *pb = r->pb;
	int err = 0;

	r->funcs = calloc(pb->n_function + 1, sizeof(*r->funcs));
	if (!r->funcs)
		return format_fail(r->e, -ENOMEM, "pprof: out of memory");
	for (size_t i = 0; i < pb->n_function && !err; i++) {
		const pb_function *f = pb->function[i];
		int64_t name = str(r, f->name, "function name");
		int64_t sys = name < 0 ? name : str(r, f->system_name, "function system name");
		int64_t file = sys < 0 ? sys : str(r, f->filename, "function file name");
		if (file < 0)
			return (int)file;
		if (!name) /* a name is required; fall back to the system name */
			name = sys;
		r->funcs[i] =
		    (struct func_rec){(uint32_t)name, sys == name ? 0 : (uint32_t)sys, (uint32_t)file};
		err = add_id(r, &r->func_idx, f->id, i, "function");
	}
	return err;
}

static int read_mappings(struct reader *r)
{
	const pb_profile *pb = r->pb;

	r->map_ids = calloc(pb->n_mapping + 1, sizeof(*r->map_ids));
	r->map_kinds = calloc(pb->n_mapping + 1, sizeof(*r->map_kinds));
	if (!r->map_ids || !r->map_kinds)
		return format_fail(r->e, -ENOMEM, "pprof: out of memory");
	for (size_t i = 0; i < pb->n_mapping; i++) {
		const pb_mapping *pm = pb->mapping[i];
		int64_t file = str(r, pm->filename, "mapping file name");
		int64_t build_id = file < 0 ? file : str(r, pm->build_id, "mapping build ID");
		if (build_id < 0)
			return (int)build_id;
		struct mapping m = {
		    .start = pm->memory_start,
		    .limit = pm->memory_limit,
		    .offset = pm->file_offset,
		    .file = (uint32_t)file,
		    .build_id = (uint32_t)build_id,
		    .flags = (pm->has_functions ? MAPPING_HAS_FUNCTIONS : 0) |
			     (pm->has_filenames ? MAPPING_HAS_FILENAMES : 0) |
			     (pm->has_line_numbers ? MAPPING_HAS_LINE_NUMBERS : 0) |
			     (pm->has_inline_frames ? MAPPING_HAS_INLINE_FRAMES : 0),
		};
		int64_t id = profile_mapping(r->p, &m);
		if (id < 0)
			return format_fail(r->e, (int)id, "pprof: mapping %" PRIu64 ": %s", pm->id,
					   strerror((int)-id));
		const char *name = raw_str(r, pm->filename);
		r->map_ids[i] = (uint32_t)id;
		r->map_kinds[i] = pprof_is_kernel_file(name) ? FRAME_KERNEL
				  : pprof_is_jit_file(name)  ? FRAME_JIT
				  : !strcmp(name, PPROF_PYTHON_MAPPING) ? FRAME_PYTHON
							     : FRAME_USER;
		int err = add_id(r, &r->map_idx, pm->id, i, "mapping");
		if (err)
			return err;
	}
	return 0;
}

/* Appends one frame of location l to loc_frames. */
static int add_frame(struct reader *r, const struct frame *f, const pb_location *l)
{
	int64_t id = profile_frame(r->p, f);

	if (id < 0)
		return format_fail(r->e, (int)id, "pprof: location %" PRIu64 ": %s", l->id,
				   strerror((int)-id));
	r->loc_frames[r->nloc_frames++] = (uint32_t)id;
	return 0;
}

/* A location without lines: one frame named by its address. */
static int add_bare_frame(struct reader *r, const pb_location *l, struct frame *f)
{
	char name[32];
	int64_t s;

	if (l->address)
		snprintf(name, sizeof(name), "0x%" PRIx64, l->address);
	else
		snprintf(name, sizeof(name), "[unknown]");
	s = profile_intern_cstr(r->p, name);
	if (s < 0)
		return format_fail(r->e, (int)s, "pprof: out of memory");
	f->name = (uint32_t)s;
	return add_frame(r, f, l);
}

/* The frames of location l, root first: its last (outermost) Line is the
 * caller, the Lines before it were inlined into it. */
static int read_location(struct reader *r, const pb_location *l, size_t i)
{
	struct frame f = {.address = l->address};
	uint64_t *mi = l->mapping_id ? u64map_get(&r->map_idx, l->mapping_id) : NULL;
	uint32_t kind = FRAME_USER;

	if (l->mapping_id && !mi)
		return format_fail(r->e, -EINVAL, "pprof: location %" PRIu64 ": no mapping with id %" PRIu64,
				   l->id, l->mapping_id);
	if (l->n_line > MAX_LINES_PER_LOCATION)
		return format_fail(r->e, -EINVAL, "pprof: location %" PRIu64 ": %zu lines (at most %d)",
				   l->id, l->n_line, MAX_LINES_PER_LOCATION);
	if (mi) {
		f.mapping = r->map_ids[*mi];
		kind = r->map_kinds[*mi];
	}
	if (pprof_is_kernel_address(l->address))
		kind = FRAME_KERNEL;
	r->loc_off[2 * i] = (uint32_t)r->nloc_frames;
	r->loc_off[2 * i + 1] = l->n_line ? (uint32_t)l->n_line : 1;
	f.kind = kind;
	if (!l->n_line)
		return add_bare_frame(r, l, &f);
	for (size_t j = l->n_line; j-- > 0;) {
		const pb_line *ln = l->line[j];
		uint64_t *fi = u64map_get(&r->func_idx, ln->function_id);
		if (!fi)
			return format_fail(r->e, -EINVAL,
					   "pprof: location %" PRIu64 ": no function with id %" PRIu64, l->id,
					   ln->function_id);
		const struct func_rec *fr = &r->funcs[*fi];
		f.name = fr->name;
		f.system_name = fr->system_name;
		f.file = fr->file;
		f.line = ln->line > 0 && ln->line <= UINT32_MAX ? (uint32_t)ln->line : 0;
		f.kind = j == l->n_line - 1 ? kind : FRAME_INLINED;
		int err = add_frame(r, &f, l);
		if (err)
			return err;
	}
	return 0;
}

static int read_locations(struct reader *r)
{
	const pb_profile *pb = r->pb;
	size_t total = 0;
	int err = 0;

	for (size_t i = 0; i < pb->n_location; i++)
		total += pb->location[i]->n_line ? pb->location[i]->n_line : 1;
	r->loc_off = calloc(2 * pb->n_location + 1, sizeof(*r->loc_off));
	r->loc_frames = calloc(total + 1, sizeof(*r->loc_frames));
	if (!r->loc_off || !r->loc_frames || total > UINT32_MAX)
		return format_fail(r->e, -ENOMEM, "pprof: out of memory");
	for (size_t i = 0; i < pb->n_location && !err; i++) {
		err = read_location(r, pb->location[i], i);
		if (!err)
			err = add_id(r, &r->loc_idx, pb->location[i]->id, i, "location");
	}
	return err;
}

struct value_choice {
	size_t index;	 /* which Sample.value is the count */
	int64_t divisor; /* > 1: the value is divided by the period */
};

/* "samples" when present, else the default sample type, else the first. */
static int choose_value(struct reader *r, struct value_choice *c)
{
	const pb_profile *pb = r->pb;
	const char *def = pb->default_sample_type ? raw_str(r, pb->default_sample_type) : "";
	bool found = false;

	*c = (struct value_choice){0, 1};
	/* Time off the CPU or wall-clock time (ours, Parca's, Pyroscope's):
	 * counted in microseconds when there is no "samples" type. */
	for (size_t i = 0; i < pb->n_sample_type; i++) {
		const pb_value_type *vt = pb->sample_type[i];
		if (vt->type < 0 || (uint64_t)vt->type >= pb->n_string_table || vt->unit < 0 ||
		    (uint64_t)vt->unit >= pb->n_string_table || strcmp(raw_str(r, vt->unit), "nanoseconds"))
			continue;
		const char *t = raw_str(r, vt->type);
		if (!strcmp(t, "samples"))
			break;
		if (!strcmp(t, "off_cpu") || !strcmp(t, "wall")) {
			c->index = i;
			c->divisor = 1000;
			profile_meta(r->p)->unit = !strcmp(t, "wall") ? PROFILE_UNIT_WALL_US : PROFILE_UNIT_OFFCPU_US;
		}
	}
	if (c->divisor > 1) {
		for (size_t i = 0; i < pb->n_sample_type; i++)
			if (pb->sample_type[i]->type >= 0 && (uint64_t)pb->sample_type[i]->type < pb->n_string_table &&
			    !strcmp(raw_str(r, pb->sample_type[i]->type), "samples"))
				goto counts;
		return 0;
	}
counts:
	*c = (struct value_choice){0, 1};
	profile_meta(r->p)->unit = PROFILE_UNIT_SAMPLES;
	for (size_t i = 0; i < pb->n_sample_type; i++) {
		const pb_value_type *vt = pb->sample_type[i];
		if (vt->type < 0 || (uint64_t)vt->type >= pb->n_string_table || vt->unit < 0 ||
		    (uint64_t)vt->unit >= pb->n_string_table)
			return format_fail(r->e, -EINVAL, "pprof: sample type %zu: string index out of range",
					   i);
		if (!strcmp(raw_str(r, vt->type), "samples")) {
			c->index = i;
			return 0;
		}
		if (!found && *def && !strcmp(raw_str(r, vt->type), def)) {
			c->index = i;
			found = true;
		}
	}
	if (pb->n_sample_type && pb->period_type && pb->period > 1 &&
	    !strcmp(raw_str(r, pb->period_type->unit), raw_str(r, pb->sample_type[c->index]->unit)))
		c->divisor = pb->period;
	return 0;
}

static int sample_stack(struct reader *r, const pb_sample *s, size_t si, size_t *n)
{
	*n = 0;
	for (size_t j = s->n_location_id; j-- > 0;) {
		uint64_t *li = u64map_get(&r->loc_idx, s->location_id[j]);
		if (!li)
			return format_fail(r->e, -EINVAL, "pprof: sample %zu: no location with id %" PRIu64,
					   si, s->location_id[j]);
		uint32_t off = r->loc_off[2 * *li], cnt = r->loc_off[2 * *li + 1];
		if (*n + cnt > MAX_STACK_DEPTH)
			return format_fail(r->e, -E2BIG, "pprof: sample %zu: stack deeper than %u frames", si,
					   MAX_STACK_DEPTH);
		if (cnt > r->frame_budget)
			return format_fail(r->e, -E2BIG,
					   "pprof: samples expand to too many frames for the file's size");
		r->frame_budget -= cnt;
		memcpy(r->stack + *n, r->loc_frames + off, cnt * sizeof(*r->stack));
		*n += cnt;
	}
	return 0;
}

/* Whether labels[0..n) already has this key (pprof allows repeated keys; the
 * model keeps the first value). */
static bool has_key(const struct label *labels, size_t n, uint32_t key)
{
	for (size_t i = 0; i < n; i++)
		if (labels[i].key == key)
			return true;
	return false;
}

/* The label set of a sample; string values as strings, the rest as numbers.
 * Labels with an empty key are dropped. */
static int64_t sample_labels(struct reader *r, const pb_sample *s, size_t si)
{
	size_t n = 0;

	if (s->n_label > PROFILE_MAX_LABELS)
		return format_fail(r->e, -E2BIG, "pprof: sample %zu: more than %d labels", si,
				   PROFILE_MAX_LABELS);
	if (array_grow(&r->labels, &r->cap_labels, s->n_label, sizeof(*r->labels)))
		return format_fail(r->e, -ENOMEM, "pprof: out of memory");
	for (size_t i = 0; i < s->n_label; i++) {
		const pb_label *pl = s->label[i];
		int64_t key = str(r, pl->key, "label key");
		int64_t val = key < 0 ? key : str(r, pl->str, "label value");
		if (val < 0)
			return val;
		if (key && !has_key(r->labels, n, (uint32_t)key))
			r->labels[n++] = (struct label){(uint32_t)key, (uint32_t)val, val ? 0 : pl->num};
	}
	int64_t set = profile_labelset(r->p, r->labels, n);
	return set < 0 ? format_fail(r->e, (int)set, "pprof: sample %zu: labels: %s", si, strerror((int)-set))
		       : set;
}

static int64_t to_count(int64_t v, int64_t divisor)
{
	if (divisor <= 1)
		return v;
	int64_t c = v / divisor + (v % divisor >= (divisor + 1) / 2);
	return c ? c : 1;
}

static int read_samples(struct reader *r)
{
	const pb_profile *pb = r->pb;
	struct value_choice vc;
	int64_t total = profile_total(r->p);
	int err = choose_value(r, &vc);

	if (!err && pb->n_sample && !pb->n_sample_type)
		return format_fail(r->e, -EINVAL, "pprof: samples but no sample types");
	r->stack = calloc(MAX_STACK_DEPTH, sizeof(*r->stack));
	if (!err && !r->stack)
		return format_fail(r->e, -ENOMEM, "pprof: out of memory");
	for (size_t i = 0; i < pb->n_sample && !err; i++) {
		const pb_sample *s = pb->sample[i];
		size_t n;
		if (s->n_value != pb->n_sample_type)
			return format_fail(r->e, -EINVAL,
					   "pprof: sample %zu has %zu values for %zu sample types", i,
					   s->n_value, pb->n_sample_type);
		int64_t v = s->value[vc.index];
		if (v < 0)
			return format_fail(r->e, -EINVAL,
					   "pprof: sample %zu: negative value %" PRId64
					   " (diff profiles are not supported)",
					   i, v);
		if (!v)
			continue;
		int64_t count = to_count(v, vc.divisor);
		if (__builtin_add_overflow(total, count, &total))
			return format_fail(r->e, -EOVERFLOW, "pprof: sample counts overflow 64 bits");
		err = sample_stack(r, s, i, &n);
		int64_t set = err ? 0 : sample_labels(r, s, i);
		if (set < 0)
			return (int)set;
		if (!err && (err = profile_add(r->p, r->stack, n, (uint32_t)set, count)))
			format_fail(r->e, err, "pprof: sample %zu: %s", i, strerror(-err));
	}
	return err;
}

/* "scorch:root_labels=comm,pid" -> meta root labels. */
static int read_root_labels(struct reader *r, struct profile_meta *m, const char *list)
{
	while (*list && m->nroot_labels < PROFILE_MAX_ROOTS) {
		size_t n = strcspn(list, ",");
		int64_t key = profile_intern(r->p, list, n);
		if (key < 0)
			return format_fail(r->e, (int)key, "pprof: out of memory");
		m->root_labels[m->nroot_labels++] = (uint32_t)key;
		list += n + (list[n] == ',');
	}
	return 0;
}

static int read_meta(struct reader *r)
{
	const pb_profile *pb = r->pb;
	struct profile_meta *m = profile_meta(r->p);
	bool had_roots = m->nroot_labels > 0;

	if (pb->period_type && pb->period > 0 && !m->period_ns &&
	    !strcmp(raw_str(r, pb->period_type->unit), "nanoseconds")) {
		m->period_ns = (uint64_t)pb->period;
		if (!m->frequency && pb->period <= 1000000000)
			m->frequency = (uint32_t)((1000000000 + pb->period / 2) / pb->period);
	}
	if (pb->duration_nanos > 0 && !m->duration_ns)
		m->duration_ns = (uint64_t)pb->duration_nanos;
	if (pb->time_nanos > 0 && !m->time_ns)
		m->time_ns = (uint64_t)pb->time_nanos;
	for (size_t i = 0; i < pb->n_comment; i++) {
		int64_t c = str(r, pb->comment[i], "comment");
		if (c < 0)
			return (int)c;
		const char *text = pb->string_table[pb->comment[i]];
		size_t plen = strlen(PPROF_ROOT_LABELS_COMMENT);
		if (!strncmp(text, PPROF_ROOT_LABELS_COMMENT, plen)) {
			int err = had_roots ? 0 : read_root_labels(r, m, text + plen);
			if (err)
				return err;
		} else if (m->ncomments < 8) {
			m->comments[m->ncomments++] = (uint32_t)c;
		}
	}
	return 0;
}

static int reader_init(struct reader *r, const pb_profile *pb, struct profile *p, struct format_error *e,
		       size_t len)
{
	memset(r, 0, sizeof(*r));
	r->pb = pb;
	r->p = p;
	r->e = e;
	u64map_init(&r->func_idx);
	u64map_init(&r->map_idx);
	u64map_init(&r->loc_idx);
	r->frame_budget = 64 * (uint64_t)len + (1u << 20);
	if (!pb->n_string_table || pb->string_table[0][0])
		return format_fail(e, -EINVAL, "pprof: string_table[0] must be the empty string");
	r->str_ids = malloc(pb->n_string_table * sizeof(*r->str_ids));
	if (!r->str_ids)
		return format_fail(e, -ENOMEM, "pprof: out of memory");
	memset(r->str_ids, 0xff, pb->n_string_table * sizeof(*r->str_ids)); /* all -1 */
	return 0;
}

static void reader_release(struct reader *r)
{
	free(r->str_ids);
	free(r->funcs);
	free(r->map_ids);
	free(r->map_kinds);
	free(r->loc_off);
	free(r->loc_frames);
	free(r->stack);
	free(r->labels);
	u64map_release(&r->func_idx);
	u64map_release(&r->map_idx);
	u64map_release(&r->loc_idx);
}

int pprof_read(const void *buf, size_t len, struct profile *p, struct format_error *e)
{
	const unsigned char *b = buf;
	unsigned char *plain = NULL;
	size_t plain_len = len;
	pb_profile *pb = NULL;
	struct reader r = {0};
	int err = 0;

	u64map_init(&r.func_idx);
	u64map_init(&r.map_idx);
	u64map_init(&r.loc_idx);
	if (len >= 2 && b[0] == 0x1f && b[1] == 0x8b) {
		err = pprof_gunzip(buf, len, &plain, &plain_len, e);
		if (err)
			goto out;
	}
	pb = perftools__profiles__profile__unpack(NULL, plain_len, plain ? plain : b);
	if (!pb) {
		err = format_fail(e, -EINVAL,
				  "pprof: not a valid profile.proto message (corrupt or truncated)");
		goto out;
	}
	err = reader_init(&r, pb, p, e, plain_len);
	if (!err)
		err = read_functions(&r);
	if (!err)
		err = read_mappings(&r);
	if (!err)
		err = read_locations(&r);
	if (!err)
		err = read_meta(&r);
	if (!err)
		err = read_samples(&r);
out:
	reader_release(&r);
	if (pb)
		perftools__profiles__profile__free_unpacked(pb, NULL);
	free(plain);
	return err;
}

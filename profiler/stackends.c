/* SPDX-License-Identifier: MIT */
/* stackends: user stacks that ended in code without CFI, by file. */
#define _GNU_SOURCE
#include "profiler/stackends.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/array.h"
#include "base/hashtab.h"
#include "symbolize/cfi.h"
#include "symbolize/elfsym.h"
#include "unwind.h"

/* Where a thread's stack begins: an unwinder stops here with nothing lost. */
static const char *const roots[] = {
    "_start",
    "_start_c",
    "__libc_start_main",
    "__libc_start_call_main",
    "libc_start_main_stage2",
    "start_thread",
    "clone",
    "__clone",
    "clone3",
    "__clone3",
    "start",
    "start_c",
    "_dl_start_user",
    "runtime.goexit.abi0",
    "runtime.rt0_go.abi0",
    "runtime.mstart.abi0",
    "runtime.clone.abi0",
    "runtime.sigreturn.abi0",
    "__restore_rt", /* signal trampolines: the kernel's frame is below */
};

static bool is_root(const char *name)
{
	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++)
		if (!strcmp(name, roots[i]))
			return true;
	return false;
}

struct end {
	uint32_t frame, file, build_id; /* frame id, its mapping's path and build ID string ids */
	uint64_t samples;
};

/* Whether two ends are in one file: one path, one build ID. */
static bool same_file(const struct end *x, const struct end *y)
{
	return x->file == y->file && x->build_id == y->build_id;
}

static int end_cmp(const void *a, const void *b)
{
	const struct end *x = a, *y = b;
	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	if (x->build_id != y->build_id)
		return x->build_id < y->build_id ? -1 : 1;
	return (x->frame > y->frame) - (x->frame < y->frame);
}

static int file_cmp(const void *a, const void *b)
{
	const struct stackend_file *x = a, *y = b;
	return (x->samples < y->samples) - (x->samples > y->samples);
}

/* Samples by the outermost frame of their stacks, where that is a user
 * frame of a mapped file and not a root. */
static int collect(const struct profile *p, struct u64map *by_frame)
{
	for (size_t i = 0; i < profile_nsamples(p); i++) {
		struct sample s;
		profile_sample_get(p, i, &s);
		if (!s.nframes)
			continue;
		const struct frame *f = profile_frame_get(p, s.frames[0]);
		const struct mapping *m = f && f->mapping ? profile_mapping_get(p, f->mapping) : NULL;
		if (!m || f->kind != FRAME_USER || !f->address || profile_str(p, m->file)[0] != '/' ||
		    is_root(profile_str(p, f->name)))
			continue;
		uint64_t *v = u64map_get(by_frame, s.frames[0]);
		int err =
		    v ? (*v += (uint64_t)s.count, 0) : u64map_put(by_frame, s.frames[0], (uint64_t)s.count);
		if (err)
			return err;
	}
	return 0;
}

struct file_rows {
	struct unwind_view v; /* v.t: the rows */
	bool owned;           /* compiled here: v.t is ours to release */
};

static void file_rows_release(struct file_rows *r)
{
	if (r->owned)
		cfi_table_release(&r->v.t);
	else
		unwind_view_release(&r->v);
}

/* The rows the unwinder had for path, when path is the file the mapping's
 * build ID names: its own (u's, held while a process maps the file and
 * kept a while after), else compiled again from our root as it compiles
 * them (unwind_compile); false when that cannot be told (gone, replaced,
 * unreadable). */
static bool file_cfi(const struct unwind *u, const char *path, const char *build_id, const char *debug_root,
		     struct file_rows *r)
{
	struct elfsym_file *ef = NULL;
	struct cfi_table *t = &r->v.t;
	r->owned = false;
	if (u && !unwind_view_file(u, path, build_id, &r->v))
		return true;
	memset(r, 0, sizeof(*r));
	r->owned = true;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	bool ok = false, from_debug;
	if (fd < 0)
		goto out;
	if (build_id) {
		const char *bid;
		if (elfsym_load_fd(fd, &ef) || !(bid = elfsym_build_id(ef)) || strcmp(bid, build_id))
			goto out;
	}
	int err = unwind_compile(fd, debug_root, "", path, t, &from_debug);
	ok = !err || err == -ENOENT; /* -ENOENT: no CFI at all */
out:
	elfsym_free(ef);
	if (fd >= 0)
		close(fd);
	return ok;
}

/* Whether the frame's address has no CFI row in t. */
static bool without_cfi(const struct profile *p, const struct frame *f, const struct cfi_table *t)
{
	const struct mapping *m = profile_mapping_get(p, f->mapping);
	uint64_t bias;
	if (elfseg_bias(t->segs, t->nsegs, m->start, m->offset, &bias))
		return false;
	const struct cfi_row *r = cfi_table_find(t, f->address - bias);
	return !r || r->cfa_type == CFI_CFA_GAP;
}

/* The file of ends[lo, hi) (one path and build ID): its samples without
 * CFI and the function most of them ended in. */
static int judge_file(const struct profile *p, const struct unwind *u, const struct end *e, size_t lo, size_t hi,
		      const char *debug_root, struct stackend_file *out)
{
	const struct frame *f0 = profile_frame_get(p, e[lo].frame);
	const struct mapping *m = profile_mapping_get(p, f0->mapping);
	struct file_rows r;
	const struct cfi_table *t = &r.v.t;
	struct u64map by_name;
	memset(out, 0, sizeof(*out));
	out->path = profile_str(p, m->file);
	if (!file_cfi(u, out->path, m->build_id ? profile_str(p, m->build_id) : NULL, debug_root, &r))
		return 0;
	if (!t->n) { /* no CFI at all: frame pointers throughout (Go), or the run's "without CFI" count says it */
		file_rows_release(&r);
		return 0;
	}
	u64map_init(&by_name);
	int err = 0;
	for (size_t i = lo; i < hi && !err; i++) {
		const struct frame *f = profile_frame_get(p, e[i].frame);
		if (!without_cfi(p, f, t))
			continue;
		out->samples += e[i].samples;
		uint64_t *v = u64map_get(&by_name, f->name);
		uint64_t n = (v ? *v : 0) + e[i].samples;
		if ((err = u64map_put(&by_name, f->name, n)))
			break;
		if (n > out->top_samples) {
			out->top_samples = n;
			out->top = profile_str(p, f->name);
		}
	}
	u64map_release(&by_name);
	file_rows_release(&r);
	return err;
}

int stackends_find(const struct profile *p, const struct unwind *u, const char *debug_root, struct stackend_file **out,
		   size_t *n)
{
	struct u64map by_frame;
	struct end *ends = NULL;
	struct stackend_file *files = NULL;
	size_t nends = 0, nfiles = 0, cap = 0;
	uint64_t k, v;
	int err;
	u64map_init(&by_frame);
	*out = NULL;
	*n = 0;
	if ((err = collect(p, &by_frame)))
		goto out;
	if (!u64map_len(&by_frame))
		goto out;
	if (!(ends = calloc(u64map_len(&by_frame), sizeof(*ends)))) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; u64map_next(&by_frame, &i, &k, &v);) {
		const struct frame *f = profile_frame_get(p, (uint32_t)k);
		const struct mapping *m = profile_mapping_get(p, f->mapping);
		ends[nends++] = (struct end){(uint32_t)k, m->file, m->build_id, v};
	}
	qsort(ends, nends, sizeof(*ends), end_cmp);
	for (size_t lo = 0, hi; lo < nends; lo = hi) {
		for (hi = lo + 1; hi < nends && same_file(&ends[hi], &ends[lo]);)
			hi++;
		if ((err = array_grow(&files, &cap, nfiles + 1, sizeof(*files))) ||
		    (err = judge_file(p, u, ends, lo, hi, debug_root, &files[nfiles])))
			goto out;
		nfiles += files[nfiles].samples > 0;
	}
	qsort(files, nfiles, sizeof(*files), file_cmp);
	*out = files;
	*n = nfiles;
	files = NULL;
out:
	free(files);
	free(ends);
	u64map_release(&by_frame);
	return err;
}

/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "symbolizer.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/array.h"
#include "base/openroot.h"
#include "base/parse.h"
#include "base/readfile.h"
#include "base/cachedir.h"
#include "symbolizer_internal.h"

static const char ANON[] = "[anon]";
static const char KERNEL[] = "[kernel.kallsyms]";

/* "<dir>/kallsyms-<boot id>", or NULL when the directory is not safe to use
 * (not ours, or writable by others: a planted cache would name frames). */
static char *kernel_cache_path(const char *dir)
{
	char boot[64], *path = NULL;
	if (!cachedir_ready(dir) || cachedir_boot_id(boot, sizeof(boot)) ||
	    asprintf(&path, "%s/kallsyms-%s", dir, boot) < 0)
		return NULL;
	return path;
}

int symbolizer_new(const struct symbolizer_opts *opts, struct symbolizer **out)
{
	struct symbolizer *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	u64map_init(&s->procs);
	u64map_init(&s->files);
	u64map_init(&s->build_ids);
	u64map_init(&s->inodes);
	s->proc_root = strdup(opts && opts->proc_root ? opts->proc_root : "/proc");
	s->kallsyms_path = strdup(opts && opts->kallsyms_path ? opts->kallsyms_path : "/proc/kallsyms");
	s->debug_root = strdup(opts && opts->debug_root ? opts->debug_root : "/usr/lib/debug");
	s->dbgd = opts ? opts->debuginfod : NULL;
	if (opts) {
		s->names_only = opts->names_only;
		s->no_inline = opts->no_inline;
		s->no_demangle = opts->no_demangle;
		s->trim_dwarf = opts->trim_dwarf;
	}
	s->idle_files = opts && opts->idle_files ? opts->idle_files : 64;
	s->dw_budget = opts && opts->dwarf_cache_bytes ? opts->dwarf_cache_bytes : (size_t)512 << 20;
	s->memo_budget = s->dw_budget / 4 > ((size_t)1 << 20) ? s->dw_budget / 4 : (size_t)1 << 20;
	if (!s->proc_root || !s->kallsyms_path || !s->debug_root) {
		symbolizer_free(s);
		return -ENOMEM;
	}
	if (opts && opts->kernel_cache_dir)
		s->kernel_cache = kernel_cache_path(opts->kernel_cache_dir);
	if (opts && opts->dwarf_cache_dir && !(s->dwarf_cache = strdup(opts->dwarf_cache_dir))) {
		symbolizer_free(s);
		return -ENOMEM;
	}
	s->vdso = objfile_vdso();
	*out = s;
	return 0;
}

/* Drops p's references to the files of its first n mappings. */
static void unref_files(struct symbolizer *s, struct objfile **files, size_t n)
{
	for (size_t i = 0; i < n; i++)
		objfile_unref(s, files[i]);
}

static void proc_free(struct symbolizer *s, struct proc *p)
{
	if (!p)
		return;
	unref_files(s, p->files, p->maps.n);
	procmaps_release(&p->maps);
	perfmap_free(p->jit);
	names_free(p->jit_names);
	free(p->files);
	free(p);
}

void symbolizer_free(struct symbolizer *s)
{
	uint64_t k, v;
	if (!s)
		return;
	for (size_t i = 0; u64map_next(&s->procs, &i, &k, &v);)
		proc_free(s, (struct proc *)(uintptr_t)v);
	for (size_t i = 0; u64map_next(&s->files, &i, &k, &v);)
		objfile_free((struct objfile *)(uintptr_t)v);
	u64map_release(&s->procs);
	u64map_release(&s->files);
	u64map_release(&s->build_ids);
	u64map_release(&s->inodes);
	objfile_free(s->vdso);
	free(s->debug_root);
	kallsyms_free(s->kernel);
	kallsyms_free(s->kernel_modules);
	free(s->kernel_cache);
	free(s->dwarf_cache);
	free(s->proc_root);
	free(s->kallsyms_path);
	free(s);
}

/* True when [a->start, a->end) overlaps some mapping of m. */
static bool overlaps(const struct procmaps *m, const struct procmap *a)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->maps[i].start < a->end && m->maps[i].end > a->start)
			return true;
	return false;
}

/* Moves p's old mappings that the new snapshot neither has nor replaced into
 * it (a library unmapped since still names the samples taken before), then
 * sorts by address. The old arrays are left empty. */
static int merge_old(struct proc *p, struct procmaps *maps, struct objfile ***files)
{
	size_t keep = 0;
	for (size_t i = 0; i < p->maps.n; i++)
		keep += !overlaps(maps, &p->maps.maps[i]);
	if (!keep)
		return 0;
	size_t n = maps->n + keep;
	struct procmap *m = realloc(maps->maps, n * sizeof(*m));
	if (!m)
		return -ENOMEM;
	maps->maps = m;
	struct objfile **f = realloc(*files, n * sizeof(*f));
	if (!f)
		return -ENOMEM;
	*files = f;
	for (size_t i = 0; i < p->maps.n; i++) {
		if (overlaps(maps, &p->maps.maps[i]))
			continue;
		m[maps->n] = p->maps.maps[i];
		m[maps->n].kept = 1;
		f[maps->n++] = p->files[i];
		p->maps.maps[i].path = NULL; /* moved, with its file's reference */
		p->files[i] = NULL;
	}
	/* Insertion sort: both halves are sorted and the old half is short. */
	for (size_t i = 1; i < maps->n; i++) {
		for (size_t j = i; j > 0 && m[j - 1].start > m[j].start; j--) {
			struct procmap t = m[j];
			m[j] = m[j - 1];
			m[j - 1] = t;
			struct objfile *tf = f[j];
			f[j] = f[j - 1];
			f[j - 1] = tf;
		}
	}
	return 0;
}

static void proc_read_jit(struct symbolizer *s, struct proc *p);

/* Reads p's maps now, keeping what an earlier snapshot saw that is gone. */
static int proc_read_maps(struct symbolizer *s, struct proc *p)
{
	struct procmaps maps;
	uint32_t tid;
	int err = procmaps_read_live(p->pid, &tid, &maps);
	if (err)
		return err;
	struct objfile **files = calloc(maps.n ? maps.n : 1, sizeof(*files));
	if (!files) {
		procmaps_release(&maps);
		return -ENOMEM;
	}
	for (size_t i = 0; i < maps.n; i++)
		files[i] = objfile_for(s, p->pid, tid, &maps.maps[i]);
	size_t nnew = maps.n;
	if ((err = merge_old(p, &maps, &files))) {
		unref_files(s, files, nnew);
		procmaps_release(&maps);
		free(files);
		return err;
	}
	unref_files(s, p->files, p->maps.n); /* what was not moved is replaced */
	procmaps_release(&p->maps);
	free(p->files);
	p->maps = maps;
	p->files = files;
	p->tid = tid;
	for (size_t i = 0; i < maps.n; i++) {
		if (!maps.maps[i].path[0]) { /* anonymous executable memory: a JIT? */
			proc_read_jit(s, p);
			break;
		}
	}
	return 0;
}

static struct proc *proc_get(const struct symbolizer *s, uint32_t pid, uint32_t gen)
{
	uint64_t *v = u64map_get(&s->procs, (uint64_t)pid << 32 | gen);
	return v ? (struct proc *)(uintptr_t)*v : NULL;
}

int symbolizer_track(struct symbolizer *s, uint32_t pid, uint32_t gen)
{
	int err;
	struct proc *known = proc_get(s, pid, gen);
	if (known)
		return proc_read_maps(s, known);
	struct proc *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->pid = pid;
	p->gen = gen;
	p->jit_size = -1;
	err = proc_read_maps(s, p);
	if (!err)
		err = u64map_put(&s->procs, (uint64_t)pid << 32 | gen, (uint64_t)(uintptr_t)p);
	if (err) {
		if (err == -ESRCH)
			s->stats.processes_gone++;
		proc_free(s, p);
		return err;
	}
	s->stats.processes++;
	return 0;
}

const struct procmaps *symbolizer_maps(const struct symbolizer *s, uint32_t pid, uint32_t gen)
{
	const struct proc *p = proc_get(s, pid, gen);
	return p ? &p->maps : NULL;
}

int symbolizer_mapping(const struct symbolizer *s, uint32_t pid, uint32_t gen, size_t i, struct sym_mapping *out)
{
	const struct proc *p = proc_get(s, pid, gen);
	if (!p || i >= p->maps.n)
		return -ENOENT;
	const struct objfile *of = p->files[i];
	*out = (struct sym_mapping){ .map = &p->maps.maps[i], .fd = -1, .current = !p->maps.maps[i].kept };
	if (of == s->vdso) {
		out->vdso = true;
	} else if (of) {
		out->fd = of->fd;
		out->dev = of->dev;
		out->ino = of->ino;
		out->mtime = of->mtime;
		size_t n = procmaps_dir(s->proc_root, pid, p->tid, out->root, sizeof(out->root));
		snprintf(out->root + n, sizeof(out->root) - n, "/root");
	}
	return 0;
}

uint64_t symbolizer_jit_version(const struct symbolizer *s, uint32_t pid, uint32_t gen)
{
	const struct proc *p = proc_get(s, pid, gen);
	return p ? p->jit_version : 0;
}

void symbolizer_forget(struct symbolizer *s, uint32_t pid, uint32_t gen)
{
	struct proc *p = proc_get(s, pid, gen);
	if (p) {
		u64map_del(&s->procs, (uint64_t)pid << 32 | gen);
		proc_free(s, p);
	}
}

void symbolizer_trim(struct symbolizer *s)
{
	objfile_trim(s);
}

void sym_batch_init(struct sym_batch *b)
{
	memset(b, 0, sizeof(*b));
}

void sym_batch_release(struct sym_batch *b)
{
	free(b->frames);
	free(b->first);
	sym_batch_init(b);
}

static int batch_reset(struct sym_batch *b, size_t n)
{
	if (array_grow(&b->first, &b->cap_first, n + 1, sizeof(*b->first)))
		return -ENOMEM;
	b->n = 0;
	b->nframes = 0;
	b->first[0] = 0;
	return 0;
}

/* Appends f to the frames of the address being resolved. */
int batch_add(struct sym_batch *b, const struct sym_frame *f)
{
	if (array_grow(&b->frames, &b->cap_frames, b->nframes + 1, sizeof(*b->frames)))
		return -ENOMEM;
	b->frames[b->nframes++] = *f;
	return 0;
}

/* Closes the answer for the next address (its frames were added). */
static void batch_end(struct sym_batch *b)
{
	b->first[++b->n] = b->nframes;
}

/* The pid as the process's own pid namespace sees it (the last NSpid field
 * of /proc/PID/status): the number in its perf map's name. */
static uint32_t ns_pid(const struct symbolizer *s, uint32_t pid)
{
	char path[PATH_MAX], line[256];
	uint32_t ns = pid;
	snprintf(path, sizeof(path), "%s/%" PRIu32 "/status", s->proc_root, pid);
	FILE *f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "NSpid:", 6))
			continue;
		for (char *tok = strtok(line + 6, " \t\n"); tok; tok = strtok(NULL, " \t\n")) {
			uint64_t v;
			ns = parse_u64(tok, 0, UINT32_MAX, &v) ? 0 : (uint32_t)v;
		}
		break;
	}
	if (f)
		fclose(f);
	return ns ? ns : pid;
}

/* Reads (again, when it changed: grew, or was rewritten, as a JVM asked for
 * its map rewrites it) the process's perf map, through its root so a
 * containerized process's /tmp is the one searched, confined to that root
 * (its /tmp may be a symlink to one of our directories).  Not a symlink at
 * the end, not a FIFO (whose open would block), at most 256 MiB. */
static void proc_read_jit(struct symbolizer *s, struct proc *p)
{
	char root[PATH_MAX], name[64], *text = NULL;
	struct stat st;
	size_t len = 0;
	if (p->jit_given)
		return;
	uint32_t ns = ns_pid(s, p->pid);
	snprintf(name, sizeof(name), "/tmp/perf-%" PRIu32 ".map", ns);
	size_t dir = procmaps_dir(s->proc_root, p->pid, p->tid, root, sizeof(root));
	snprintf(root + dir, sizeof(root) - dir, "/root");
	int fd = open_in_root(root, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return;
	int64_t mtime = fstat(fd, &st) ? 0 : st.st_mtim.tv_sec * 1000000000ll + st.st_mtim.tv_nsec;
	bool skip = !mtime || !S_ISREG(st.st_mode) || (st.st_size == p->jit_size && mtime == p->jit_mtime) ||
		    (!p->jit_names && !(p->jit_names = names_new(s->no_demangle)));
	struct perfmap *m = NULL;
	uint64_t hash = 0;
	if (!skip && !(skip = read_fd_all(fd, 256u << 20, &text, &len))) {
		/* Rewritten with the same content: nothing new to parse. */
		hash = hash_bytes(text, len, 0);
		skip = (p->jit && hash == p->jit_hash) || perfmap_parse(text, len, &m);
	}
	close(fd);
	free(text);
	if (mtime) {
		p->jit_size = st.st_size;
		p->jit_mtime = mtime;
	}
	if (skip)
		return;
	perfmap_free(p->jit);
	p->jit = m;
	p->jit_hash = hash;
	p->jit_version++;
	p->jit_path = strpool_cstr(&p->jit_names->pool, name);
	s->stats.jit_maps++;
	s->stats.jit_skipped += perfmap_skipped(m);
}

int symbolizer_set_jit(struct symbolizer *s, uint32_t pid, uint32_t gen, const char *text, size_t len)
{
	struct proc *p = proc_get(s, pid, gen);
	struct perfmap *m = NULL;
	if (!p)
		return -ENOENT;
	uint64_t hash = hash_bytes(text, len, 0);
	if (p->jit && p->jit_given && hash == p->jit_hash)
		return 0;
	if (!p->jit_names && !(p->jit_names = names_new(s->no_demangle)))
		return -ENOMEM;
	int err = perfmap_parse(text, len, &m);
	if (err)
		return err;
	perfmap_free(p->jit);
	p->jit = m;
	p->jit_hash = hash;
	p->jit_given = true;
	p->jit_version++;
	p->jit_path = strpool_cstr(&p->jit_names->pool, "[jit]");
	s->stats.jit_maps++;
	s->stats.jit_skipped += perfmap_skipped(m);
	return 0;
}

/* Anonymous executable memory: a JIT's code when its perf map names it. */
static int resolve_anon(struct proc *p, uint64_t addr, struct sym_frame *f, struct sym_batch *b)
{
	const char *name = p->jit ? perfmap_lookup(p->jit, addr) : NULL;
	f->module = ANON;
	f->module_offset = addr;
	if (!name) {
		f->miss = SYM_MISS_ANON;
		return batch_add(b, f);
	}
	f->module = p->jit_path;
	f->name = strpool_cstr(&p->jit_names->pool, name);
	f->system_name = NULL;
	if (f->name && demangle_is_mangled(f->name)) {
		f->system_name = f->name;
		f->name = demangler_get(&p->jit_names->dm, f->name);
		if (f->name == f->system_name)
			f->system_name = NULL;
	}
	f->jit = true;
	f->miss = f->name ? SYM_OK : SYM_MISS_ANON;
	return batch_add(b, f);
}

static int resolve_one(struct symbolizer *s, struct proc *p, uint64_t addr, struct sym_batch *b)
{
	struct sym_frame f = { 0 };
	const struct procmap *m = procmaps_find(&p->maps, addr);
	if (!m && !p->refreshed) {
		/* Mapped after the snapshot (dlopen): read the maps again once. */
		p->refreshed = true;
		if (!proc_read_maps(s, p))
			m = procmaps_find(&p->maps, addr);
	}
	if (!m) {
		f.miss = SYM_MISS_NO_MAPPING;
		return batch_add(b, &f);
	}
	struct objfile *of = p->files[m - p->maps.maps];
	f.map_start = m->start;
	f.map_limit = m->end;
	f.map_offset = m->offset;
	f.module_offset = addr - m->start + m->offset;
	if (!of)
		return resolve_anon(p, addr, &f, b);
	f.module = of->path;
	return objfile_resolve(s, of, f.module_offset, &f, b);
}

int symbolizer_resolve_user(struct symbolizer *s, uint32_t pid, uint32_t gen, const uint64_t *addrs,
			    size_t n, struct sym_batch *out)
{
	int err = batch_reset(out, n);
	if (err)
		return err;
	struct proc *p = proc_get(s, pid, gen);
	if (!p && symbolizer_track(s, pid, gen) == 0)
		p = proc_get(s, pid, gen);
	for (size_t i = 0; i < n; i++) {
		size_t first = out->nframes;
		if (p) {
			err = resolve_one(s, p, addrs[i], out);
		} else {
			struct sym_frame f = { .miss = SYM_MISS_NO_PROCESS };
			err = batch_add(out, &f);
		}
		if (err)
			return err;
		if (out->frames[first].miss)
			s->stats.misses[out->frames[first].miss]++;
		batch_end(out);
	}
	return 0;
}

void symbolizer_prefetch_user(struct symbolizer *s, uint32_t pid, uint32_t gen, const uint64_t *addrs, size_t n)
{
	struct proc *p = proc_get(s, pid, gen);
	if (!p && symbolizer_track(s, pid, gen) == 0)
		p = proc_get(s, pid, gen);
	struct objfile *last = NULL;
	for (size_t i = 0; p && i < n; i++) {
		const struct procmap *m = procmaps_find(&p->maps, addrs[i]);
		struct objfile *of = m ? p->files[m - p->maps.maps] : NULL;
		if (of && of != last)
			objfile_prefetch(s, of);
		last = of;
	}
}

/* Loads kernel symbols: from the per-boot cache of core symbols when allowed
 * and present, else from kallsyms (then saving the cache for next time). */
static void kernel_load(struct symbolizer *s, bool cached)
{
	struct kallsyms *k = NULL;
	s->kernel_tried = true;
	if (cached && s->kernel_cache && !kallsyms_load_core(s->kernel_cache, &k)) {
		s->kernel = k;
		s->kernel_core_only = true;
		return;
	}
	s->kernel_err = kallsyms_load(s->kallsyms_path, &k);
	if (s->kernel_err)
		return;
	kallsyms_free(s->kernel);
	s->kernel = k;
	s->kernel_core_only = false;
	if (s->kernel_cache && cached)
		kallsyms_save_core(k, s->kernel_cache); /* best effort */
}

int symbolizer_resolve_kernel(struct symbolizer *s, const uint64_t *addrs, size_t n, struct sym_batch *out)
{
	int err = batch_reset(out, n);
	if (err)
		return err;
	if (!s->kernel_tried)
		kernel_load(s, true);
	/* A module or BPF address needs kallsyms' module symbols beside the
	 * cached core ones (read once; all of kallsyms, tried once per call,
	 * when they cannot be read alone).  Loaded before any name goes into
	 * out: loading all of it frees the core table those names point into. */
	for (size_t i = 0; i < n && s->kernel_core_only && !s->kernel_modules; i++) {
		if (!kallsyms_in_core(s->kernel, addrs[i])) {
			if (s->modules_tried || kallsyms_load_modules(s->kallsyms_path, &s->kernel_modules))
				kernel_load(s, false);
			s->modules_tried = true;
			break;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct sym_frame f = { .kernel = true, .module = KERNEL, .module_offset = addrs[i] };
		struct ksym k;
		const struct kallsyms *t = s->kernel;
		if (s->kernel_modules && s->kernel_core_only && !kallsyms_in_core(s->kernel, addrs[i]))
			t = s->kernel_modules;
		if (t && kallsyms_lookup(t, addrs[i], &k)) {
			f.name = k.name;
			if (k.module)
				f.module = k.module;
		} else {
			f.miss = SYM_MISS_KERNEL;
			s->stats.misses[f.miss]++;
		}
		if ((err = batch_add(out, &f)))
			return err;
		batch_end(out);
	}
	return 0;
}

void symbolizer_stats(const struct symbolizer *s, struct symbolizer_stats *out)
{
	*out = s->stats;
	out->dwarf_bytes = s->dw_total;
	out->dwarf_memo_bytes = s->memo_total;
	out->files_cached = s->nfiles;
}

int symbolizer_kernel_error(const struct symbolizer *s)
{
	return s->kernel_err;
}

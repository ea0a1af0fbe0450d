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

#include "base/hashtab.h"
#include "symbolize/elfsym.h"
#include "symbolize/kallsyms.h"
#include "symbolize/procmaps.h"

/* A mapped file, shared by every process that maps it. */
struct objfile {
	uint64_t dev, ino;
	char *path;
	int fd;                    /* open from first sight until loaded, then -1 */
	struct elfsym_file *elf;   /* NULL until loaded, or when loading failed */
	int err;                   /* why elf is NULL after loading */
	bool loaded;
};

struct proc {
	uint32_t pid, gen;
	bool refreshed;            /* maps re-read once for an address they lacked */
	struct procmaps maps;
	struct objfile **files;    /* per mapping, NULL for anonymous ones */
};

struct symbolizer {
	char *proc_root;
	char *kallsyms_path;
	char *kernel_cache;        /* cache file path, NULL for none */
	struct kallsyms *kernel;
	int kernel_err;
	bool kernel_tried;
	bool kernel_core_only;     /* s->kernel came from the cache */
	struct u64map procs;       /* pid << 32 | gen -> struct proc * */
	struct u64map files;       /* hash(dev, ino) -> struct objfile * */
	struct objfile *vdso;
	struct symbolizer_stats stats;
};

static const char ANON[] = "[anon]";
static const char KERNEL[] = "[kernel.kallsyms]";

static void objfile_free(struct objfile *of)
{
	if (!of)
		return;
	if (of->fd >= 0)
		close(of->fd);
	elfsym_free(of->elf);
	free(of->path);
	free(of);
}

static struct objfile *objfile_new(const char *path, int fd)
{
	struct objfile *of = calloc(1, sizeof(*of));
	if (!of)
		return NULL;
	of->path = strdup(path);
	if (!of->path) {
		free(of);
		return NULL;
	}
	of->fd = fd;
	return of;
}

/* The kernel's vdso is the same image in every process: load ours. */
static struct objfile *load_vdso(void)
{
	struct procmaps self;
	struct objfile *of = NULL;
	uint64_t base = getauxval(AT_SYSINFO_EHDR);

	if (!base || procmaps_read((uint32_t)getpid(), &self))
		return NULL;
	for (size_t i = 0; i < self.n; i++) {
		const struct procmap *m = &self.maps[i];
		if (strcmp(m->path, "[vdso]") || m->start != base)
			continue;
		of = objfile_new("[vdso]", -1);
		if (of) {
			of->loaded = true;
			of->err = elfsym_load_mem((const void *)(uintptr_t)base, m->end - m->start, &of->elf);
		}
		break;
	}
	procmaps_release(&self);
	return of;
}

/* "<dir>/kallsyms-<boot id>", or NULL when the directory is not safe to use
 * (not ours, or writable by others: a planted cache would name frames). */
static char *kernel_cache_path(const char *dir)
{
	char boot[64] = "", *path = NULL;
	struct stat st;
	FILE *f;

	mkdir(dir, 0700);
	if (lstat(dir, &st) || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022))
		return NULL;
	f = fopen("/proc/sys/kernel/random/boot_id", "re");
	if (!f)
		return NULL;
	if (!fgets(boot, sizeof(boot), f))
		boot[0] = '\0';
	fclose(f);
	boot[strcspn(boot, "\n")] = '\0';
	if (!boot[0] || strchr(boot, '/') || asprintf(&path, "%s/kallsyms-%s", dir, boot) < 0)
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
	s->proc_root = strdup(opts && opts->proc_root ? opts->proc_root : "/proc");
	s->kallsyms_path = strdup(opts && opts->kallsyms_path ? opts->kallsyms_path : "/proc/kallsyms");
	if (!s->proc_root || !s->kallsyms_path) {
		symbolizer_free(s);
		return -ENOMEM;
	}
	if (opts && opts->kernel_cache_dir)
		s->kernel_cache = kernel_cache_path(opts->kernel_cache_dir);
	s->vdso = load_vdso();
	*out = s;
	return 0;
}

static void proc_free(struct proc *p)
{
	if (!p)
		return;
	procmaps_release(&p->maps);
	free(p->files);
	free(p);
}

void symbolizer_free(struct symbolizer *s)
{
	uint64_t k, v;
	if (!s)
		return;
	for (size_t i = 0; u64map_next(&s->procs, &i, &k, &v);)
		proc_free((struct proc *)(uintptr_t)v);
	for (size_t i = 0; u64map_next(&s->files, &i, &k, &v);)
		objfile_free((struct objfile *)(uintptr_t)v);
	u64map_release(&s->procs);
	u64map_release(&s->files);
	objfile_free(s->vdso);
	kallsyms_free(s->kernel);
	free(s->kernel_cache);
	free(s->proc_root);
	free(s->kallsyms_path);
	free(s);
}

static uint64_t file_key(uint64_t dev, uint64_t ino)
{
	return hash_u64(dev * 0x9e3779b97f4a7c15ULL ^ ino);
}

/* Opens the file behind mapping m of pid: through map_files (works for
 * deleted files and inside other mount namespaces), else through the
 * process's root. */
static int open_mapped(const struct symbolizer *s, uint32_t pid, const struct procmap *m)
{
	char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/%" PRIu32 "/map_files/%" PRIx64 "-%" PRIx64, s->proc_root, pid,
		 m->start, m->end);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	snprintf(path, sizeof(path), "%s/%" PRIu32 "/root%s", s->proc_root, pid, m->path);
	return open(path, O_RDONLY | O_CLOEXEC);
}

/* The shared object for mapping m, opened on first sight. NULL for anonymous
 * and special mappings, or on allocation failure. */
static struct objfile *file_for(struct symbolizer *s, uint32_t pid, const struct procmap *m)
{
	if (!strcmp(m->path, "[vdso]"))
		return s->vdso;
	if (m->path[0] != '/')
		return NULL;
	uint64_t key = file_key(m->dev, m->inode);
	uint64_t *v = u64map_get(&s->files, key);
	if (v) {
		struct objfile *of = (struct objfile *)(uintptr_t)*v;
		if (of->dev == m->dev && of->ino == m->inode)
			return of;
	}
	struct objfile *of = objfile_new(m->path, open_mapped(s, pid, m));
	if (!of)
		return NULL;
	of->dev = m->dev;
	of->ino = m->inode;
	if (of->fd < 0) {
		of->err = -errno;
		of->loaded = true;
		s->stats.files_failed++;
	}
	if (v || u64map_put(&s->files, key, (uint64_t)(uintptr_t)of)) {
		/* A hash collision with another file, or no memory: keep it
		 * uncached for this mapping only. */
		objfile_free(of);
		return NULL;
	}
	s->stats.files++;
	return of;
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
		f[maps->n++] = p->files[i];
		p->maps.maps[i].path = NULL; /* moved */
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

/* Reads p's maps now, keeping what an earlier snapshot saw that is gone. */
static int proc_read_maps(struct symbolizer *s, struct proc *p)
{
	struct procmaps maps;
	int err = procmaps_read(p->pid, &maps);
	if (err)
		return err;
	struct objfile **files = calloc(maps.n ? maps.n : 1, sizeof(*files));
	if (!files) {
		procmaps_release(&maps);
		return -ENOMEM;
	}
	for (size_t i = 0; i < maps.n; i++)
		files[i] = file_for(s, p->pid, &maps.maps[i]);
	if ((err = merge_old(p, &maps, &files))) {
		procmaps_release(&maps);
		free(files);
		return err;
	}
	procmaps_release(&p->maps);
	free(p->files);
	p->maps = maps;
	p->files = files;
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
	err = proc_read_maps(s, p);
	if (!err)
		err = u64map_put(&s->procs, (uint64_t)pid << 32 | gen, (uint64_t)(uintptr_t)p);
	if (err) {
		if (err == -ESRCH)
			s->stats.processes_gone++;
		proc_free(p);
		return err;
	}
	s->stats.processes++;
	return 0;
}

void symbolizer_forget(struct symbolizer *s, uint32_t pid, uint32_t gen)
{
	struct proc *p = proc_get(s, pid, gen);
	if (p) {
		u64map_del(&s->procs, (uint64_t)pid << 32 | gen);
		proc_free(p);
	}
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
	if (n + 1 > b->cap_first) {
		size_t *f = realloc(b->first, (n + 1) * sizeof(*f));
		if (!f)
			return -ENOMEM;
		b->first = f;
		b->cap_first = n + 1;
	}
	b->n = 0;
	b->nframes = 0;
	b->first[0] = 0;
	return 0;
}

/* Appends one frame as the whole answer for the next address. */
static int batch_push(struct sym_batch *b, const struct sym_frame *f)
{
	if (b->nframes == b->cap_frames) {
		size_t cap = b->cap_frames ? b->cap_frames * 2 : 256;
		struct sym_frame *n = realloc(b->frames, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		b->frames = n;
		b->cap_frames = cap;
	}
	b->frames[b->nframes++] = *f;
	b->first[++b->n] = b->nframes;
	return 0;
}

static void objfile_load(struct symbolizer *s, struct objfile *of)
{
	if (of->loaded)
		return;
	of->loaded = true;
	of->err = elfsym_load_fd(of->fd, &of->elf);
	if (of->err)
		s->stats.files_failed++;
	close(of->fd);
	of->fd = -1;
}

static void resolve_in_file(struct symbolizer *s, struct objfile *of, uint64_t file_off, struct sym_frame *f)
{
	uint64_t vaddr;
	objfile_load(s, of);
	if (!of->elf) {
		f->miss = SYM_MISS_NO_FILE;
		return;
	}
	f->build_id = elfsym_build_id(of->elf);
	const struct elfsym *sym = elfsym_offset_to_vaddr(of->elf, file_off, &vaddr) ? NULL
											   : elfsym_lookup(of->elf, vaddr);
	if (!sym) {
		f->miss = SYM_MISS_NO_SYMBOL;
		return;
	}
	f->name = sym->name;
}

static void resolve_one(struct symbolizer *s, struct proc *p, uint64_t addr, struct sym_frame *f)
{
	const struct procmap *m = procmaps_find(&p->maps, addr);
	if (!m && !p->refreshed) {
		/* Mapped after the snapshot (dlopen): read the maps again once. */
		p->refreshed = true;
		if (!proc_read_maps(s, p))
			m = procmaps_find(&p->maps, addr);
	}
	if (!m) {
		f->miss = SYM_MISS_NO_MAPPING;
		return;
	}
	struct objfile *of = p->files[m - p->maps.maps];
	f->map_start = m->start;
	f->map_limit = m->end;
	f->map_offset = m->offset;
	f->module_offset = addr - m->start + m->offset;
	if (!of) {
		f->module = ANON;
		f->module_offset = addr;
		f->miss = SYM_MISS_ANON;
		return;
	}
	f->module = of->path;
	resolve_in_file(s, of, f->module_offset, f);
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
		struct sym_frame f = { 0 };
		if (p)
			resolve_one(s, p, addrs[i], &f);
		else
			f.miss = SYM_MISS_NO_PROCESS;
		if (f.miss)
			s->stats.misses[f.miss]++;
		if ((err = batch_push(out, &f)))
			return err;
	}
	return 0;
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
	for (size_t i = 0; i < n; i++) {
		struct sym_frame f = { .kernel = true, .module = KERNEL, .module_offset = addrs[i] };
		if (s->kernel_core_only && !kallsyms_in_core(s->kernel, addrs[i]))
			kernel_load(s, false); /* a module or BPF address: read them all */
		const struct ksym *k = s->kernel ? kallsyms_lookup(s->kernel, addrs[i]) : NULL;
		if (k) {
			f.name = k->name;
			if (k->module)
				f.module = k->module;
		} else {
			f.miss = SYM_MISS_KERNEL;
			s->stats.misses[f.miss]++;
		}
		if ((err = batch_push(out, &f)))
			return err;
	}
	return 0;
}

void symbolizer_stats(const struct symbolizer *s, struct symbolizer_stats *out)
{
	*out = s->stats;
}

int symbolizer_kernel_error(const struct symbolizer *s)
{
	return s->kernel_err;
}

/* SPDX-License-Identifier: MIT */
/*
 * Mapped files: opened on first sight, their symbols loaded on first use
 * (with those of a separate debug file when there is one), and their DWARF
 * opened on first use into a cache bounded by bytes, least recently used out.
 */
#define _GNU_SOURCE
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
#include "base/clock.h"
#include "base/openroot.h"
#include "symbolize/debuginfo.h"
#include "symbolize/dwarfcache.h"
#include "symbolize/debuginfod.h"
#include "symbolizer_internal.h"

/* Most frames one address expands to (a function and its inlined calls). */
#define MAX_INLINE 32

/* Opens tried of a file that could not be opened at first sight (reopen). */
#define OPEN_TRIES 8

struct names *names_new(bool no_demangle)
{
	struct names *n = malloc(sizeof(*n));
	if (!n)
		return NULL;
	strpool_init(&n->pool);
	demangler_init(&n->dm, &n->pool);
	n->dm.off = no_demangle;
	return n;
}

void names_free(struct names *n)
{
	if (!n)
		return;
	demangler_release(&n->dm);
	strpool_release(&n->pool);
	free(n);
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
	of->dw_fd = -1;
	u64map_init(&of->dw_memo);
	return of;
}

void objfile_free(struct objfile *of)
{
	if (!of)
		return;
	if (of->fd >= 0)
		close(of->fd);
	if (of->dw_fd >= 0 && of->dw_fd != of->fd)
		close(of->dw_fd);
	dwarfidx_free(of->dw);
	u64map_release(&of->dw_memo);
	free(of->dw_chains);
	elfsym_free(of->elf);
	elfsym_free(of->dbg_syms);
	gopclntab_free(of->go);
	names_free(of->names);
	free(of->path);
	free(of->root);
	free(of);
}

/* The kernel's vdso is the same image in every process: load ours. */
struct objfile *objfile_vdso(void)
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
			of->refs = 1; /* never trimmed */
			of->dw_state = DW_NONE;
			of->names = names_new(false);
			of->err = elfsym_load_mem((const void *)(uintptr_t)base, m->end - m->start, &of->elf);
		}
		break;
	}
	procmaps_release(&self);
	return of;
}

/* Files are keyed by device, inode and modification time. */
static uint64_t file_key(uint64_t dev, uint64_t ino, uint64_t mtime)
{
	return hash_u64((dev * 0x9e3779b97f4a7c15ULL ^ ino) * 0xff51afd7ed558ccdULL ^ mtime);
}

static uint64_t inode_key(uint64_t dev, uint64_t ino)
{
	return hash_u64(dev * 0x9e3779b97f4a7c15ULL ^ ino);
}

static struct objfile *take(struct symbolizer *s, struct objfile *of)
{
	of->refs++;
	of->used = ++s->tick;
	return of;
}

/* True when the directory root is our own "/". */
static bool is_our_root(const char *root)
{
	struct stat a, b;
	return !stat(root, &a) && !stat("/", &b) && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Points of at the root directory of thread tid of pid, through which its
 * debuginfo is looked up; -ENOMEM leaves of as it was. */
static int set_root(const struct symbolizer *s, struct objfile *of, uint32_t pid, uint32_t tid)
{
	char dir[96], *root;
	procmaps_dir(s->proc_root, pid, tid, dir, sizeof(dir));
	if (asprintf(&root, "%s/root", dir) < 0)
		return -ENOMEM;
	free(of->root);
	of->root = root;
	of->host_root = is_our_root(root);
	return 0;
}

/* A file seen for the first time, fd its descriptor if already open (else
 * -1: opened here); NULL on allocation failure (fd closed). */
static struct objfile *first_sight(struct symbolizer *s, uint32_t pid, uint32_t tid, const struct procmap *m,
				   uint64_t mtime, int fd)
{
	int open_err = 0;
	if (fd < 0 && (fd = procmap_open(s->proc_root, pid, tid, m)) < 0)
		open_err = -errno;
	struct objfile *of = objfile_new(m->path, fd);
	if (!of) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (set_root(s, of, pid, tid)) {
		objfile_free(of);
		return NULL;
	}
	of->dev = m->dev;
	of->ino = m->inode;
	of->mtime = mtime;
	if (of->fd < 0) {
		of->err = open_err;
		of->loaded = true;
		s->stats.files_failed++;
	}
	return of;
}

/* Tries again to open a file that could not be opened when first seen
 * (of: fd -1), fd if already open (else -1: opened here).  That failure may
 * have been the process's, not the file's: a main thread calling
 * pthread_exit takes map_files and the root with it, between the stat that
 * keyed the file and the open, while its other threads run on with the
 * file mapped; kept, it left the file unnamed and without unwind tables
 * for the rest of the run (hostile_leader.sh).  A file that stays closed
 * to us is tried a bounded number of times. */
static void reopen(struct symbolizer *s, struct objfile *of, uint32_t pid, uint32_t tid, const struct procmap *m,
		   int fd)
{
	if (fd < 0 && of->open_tries >= OPEN_TRIES)
		return;
	of->open_tries++;
	if (fd < 0 && (fd = procmap_open(s->proc_root, pid, tid, m)) < 0)
		return;
	if (set_root(s, of, pid, tid)) {
		close(fd);
		return;
	}
	of->fd = fd;
	of->err = 0;
	of->loaded = false; /* symbols loaded at the next use */
	s->stats.files_failed--;
}

/* The file mapped as m is the one the symbolizer holds open for its device
 * and inode when that descriptor's inode is m's: its modification time is
 * then the one a stat of map_files would give (the same inode), for an
 * fstat instead of a walk through /proc.  Under churn every new process
 * maps the same few files.  False when no such file is held. */
static bool held_stat(const struct symbolizer *s, const struct procmap *m, struct stat *st)
{
	uint64_t *v = u64map_get(&s->inodes, inode_key(m->dev, m->inode));
	const struct objfile *of = v ? (const struct objfile *)(uintptr_t)*v : NULL;
	return of && of->fd >= 0 && of->dev == m->dev && of->ino == m->inode && !fstat(of->fd, st) &&
	       st->st_ino == m->inode;
}

struct objfile *objfile_for(struct symbolizer *s, uint32_t pid, uint32_t tid, const struct procmap *m)
{
	char path[PATH_MAX + 64];
	struct stat st;
	uint64_t mtime = 0;

	if (!strcmp(m->path, "[vdso]"))
		return s->vdso;
	if (m->path[0] != '/')
		return NULL;
	/* Device and inode alone would take a file rewritten in place for the
	 * old one: the modification time tells them apart.  map_files is
	 * closed without CAP_SYS_ADMIN: then the file as procmap_open finds it. */
	procmap_files_path(s->proc_root, pid, m, path, sizeof(path));
	int fd = -1;
	if (held_stat(s, m, &st)) {
		mtime = clock_ts_ns(st.st_mtim);
	} else if (stat(path, &st) && ((fd = procmap_open(s->proc_root, pid, tid, m)) < 0 || fstat(fd, &st))) {
		if (fd >= 0)
			close(fd);
		/* The process is gone: the file it had when last seen. */
		uint64_t *v = u64map_get(&s->inodes, inode_key(m->dev, m->inode));
		struct objfile *of = v ? (struct objfile *)(uintptr_t)*v : NULL;
		if (of && of->dev == m->dev && of->ino == m->inode)
			return take(s, of);
		fd = -1;
	} else {
		mtime = clock_ts_ns(st.st_mtim);
	}
	uint64_t key = file_key(m->dev, m->inode, mtime);
	uint64_t *v = u64map_get(&s->files, key);
	if (v) {
		struct objfile *of = (struct objfile *)(uintptr_t)*v;
		if (of->dev != m->dev || of->ino != m->inode || of->mtime != mtime) {
			if (fd >= 0)
				close(fd);
			return NULL; /* a hash collision with another file: unnamed */
		}
		if (of->fd < 0 && of != s->vdso)
			reopen(s, of, pid, tid, m, fd);
		else if (fd >= 0)
			close(fd);
		return take(s, of);
	}
	struct objfile *of = first_sight(s, pid, tid, m, mtime, fd);
	if (!of)
		return NULL;
	if (u64map_put(&s->files, key, (uint64_t)(uintptr_t)of)) {
		objfile_free(of);
		return NULL;
	}
	(void)u64map_put(&s->inodes, inode_key(m->dev, m->inode), (uint64_t)(uintptr_t)of); /* a hint: failure is harmless */
	s->stats.files++;
	s->nfiles++;
	return take(s, of);
}

void objfile_unref(struct symbolizer *s, struct objfile *of)
{
	if (of && of != s->vdso && of->refs)
		of->refs--;
}

/* Frees of (unreferenced) and its entries in the caches. */
static void objfile_drop(struct symbolizer *s, struct objfile *of)
{
	u64map_del(&s->files, file_key(of->dev, of->ino, of->mtime));
	uint64_t *v = u64map_get(&s->inodes, inode_key(of->dev, of->ino));
	if (v && *v == (uint64_t)(uintptr_t)of)
		u64map_del(&s->inodes, inode_key(of->dev, of->ino));
	if (of->bid_key)
		u64map_del(&s->build_ids, of->bid_key);
	s->dw_total -= of->dw_bytes;
	s->memo_total -= of->memo_bytes;
	objfile_unref(s, of->same);
	objfile_free(of);
	s->nfiles--;
	s->stats.files_released++;
}

static void dwarf_close(struct symbolizer *s, struct objfile *of);
static void dwarf_evict(struct symbolizer *s, const struct objfile *keep);

void objfile_trim(struct symbolizer *s)
{
	uint64_t k, v;
	/* An index looked up since the last trim stays: the agent trims after
	 * every window, and libc's (from the DWARF cache, uncompressed) was
	 * opened and its units indexed again in each one. */
	for (size_t i = 0; s->trim_dwarf && u64map_next(&s->files, &i, &k, &v);) {
		struct objfile *of = (struct objfile *)(uintptr_t)v;
		if (of->dw && !dwarfidx_compressed(of->dw) && of->dw_used <= s->trim_tick)
			dwarf_close(s, of);
	}
	s->trim_tick = s->tick;
	dwarf_evict(s, NULL);
	for (;;) {
		struct objfile *lru = NULL;
		size_t idle = 0;
		for (size_t i = 0; u64map_next(&s->files, &i, &k, &v);) {
			struct objfile *of = (struct objfile *)(uintptr_t)v;
			if (of->refs)
				continue;
			idle++;
			if (!lru || of->used < lru->used)
				lru = of;
		}
		if (idle <= s->idle_files)
			return;
		/* Dropping a file may leave the one it shared data with idle:
		 * the next round sees it. */
		objfile_drop(s, lru);
	}
}

/* True when dir can be opened with our effective credentials and
 * capabilities (access() would check the real user's). */
static bool reachable(const char *dir)
{
	int fd = dir ? open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* DWARF from the debug file open on dfd (when there is one), else from the
 * file itself; from its copy in the DWARF cache when its sections are
 * compressed (read in place there, not inflated again). */
static void open_dwarf(struct symbolizer *s, struct objfile *of, int dfd)
{
	int fds[2] = { dfd, of->fd };
	for (size_t i = 0; i < 2 && of->dw_state == DW_NONE; i++) {
		int cfd = -1;
		if (fds[i] < 0)
			continue;
		if (s->dwarf_cache && !dwarfcache_open(s->dwarf_cache, fds[i], 0, &cfd)) {
			s->stats.dwarf_cached++;
			if (dwarfidx_open(cfd, &of->names->pool, &of->dw)) {
				close(cfd);
				cfd = -1;
			}
		}
		if (cfd < 0 && dwarfidx_open(fds[i], &of->names->pool, &of->dw))
			continue;
		/* The file's own descriptor stays open as long as the file does. */
		of->dw_fd = cfd >= 0 ? cfd : i ? of->fd : fcntl(dfd, F_DUPFD_CLOEXEC, 0);
		of->dw_state = DW_FOUND;
		s->stats.dwarf_loads++;
		s->stats.dwarf_file_bytes += dwarfidx_dwarf_size(of->dw);
	}
}

/* Asks the debuginfod servers for of's debug file (after every local
 * place failed): 0 and *dfd, or why not. */
static int ask_debuginfod(struct symbolizer *s, struct objfile *of, int *dfd)
{
	const char *bid = elfsym_build_id(of->elf);
	if (!s->dbgd || !bid)
		return -ENOENT;
	of->dbgd_err = dbgd_get(s->dbgd, bid, dfd);
	if (!of->dbgd_err)
		s->stats.debuginfod_files++;
	return of->dbgd_err;
}

/* Finds the debug file (or mini debuginfo) of a file whose own symbols are
 * loaded, and where its DWARF is. */
static void find_debug(struct symbolizer *s, struct objfile *of)
{
	int dfd = -1;
	void *img = NULL;
	size_t len;
	/* Next to the file means inside its process's root.  Once the process
	 * is gone, so is that root: ours stands in only if it was ours. */
	const char *root = reachable(of->root) ? of->root : of->host_root ? "" : NULL;
	if (!debuginfo_open(of->fd, s->debug_root, root, of->path, elfsym_build_id(of->elf), &dfd) ||
	    !ask_debuginfod(s, of, &dfd)) {
		if (!elfsym_load_fd(dfd, &of->dbg_syms))
			s->stats.debug_files++;
	} else if (!debuginfo_minidebug(of->fd, &img, &len)) {
		if (!elfsym_load_mem(img, len, &of->dbg_syms))
			s->stats.debug_files++;
		free(img);
	}
	of->dw_state = DW_NONE;
	if (!s->names_only)
		open_dwarf(s, of, dfd);
	if (dfd >= 0)
		close(dfd);
}

/* A debug file that was still on its way when of was loaded: taken now if
 * it came (its symbols over any mini debuginfo's, its DWARF unless the
 * file had its own). */
static void memo_clear(struct objfile *of);

static void debuginfod_arrived(struct symbolizer *s, struct objfile *of)
{
	int dfd;
	if ((of->dbgd_err != -EINPROGRESS && of->dbgd_err != -EAGAIN) || ask_debuginfod(s, of, &dfd))
		return;
	struct elfsym_file *syms;
	if (!elfsym_load_fd(dfd, &syms)) {
		elfsym_free(of->dbg_syms);
		of->dbg_syms = syms;
		s->stats.debug_files++;
	}
	if (!s->names_only && of->dw_state == DW_NONE) {
		memo_clear(of);
		open_dwarf(s, of, dfd);
	}
	close(dfd);
}

/* Loads of's symbols on first use, unless a file with the same build ID
 * already has them. */
static void objfile_load(struct symbolizer *s, struct objfile *of)
{
	if (of->loaded)
		return;
	of->loaded = true;
	of->dw_state = DW_NONE;
	of->err = elfsym_load_fd(of->fd, &of->elf);
	if (of->err) {
		s->stats.files_failed++;
		return;
	}
	/* An earlier file with this build ID has the debug info, its DWARF
	 * index and the names already.  The note alone is not trusted (a
	 * stripped copy shares it; any file can forge it): the symbols,
	 * segments and section layout must be the same too. */
	const char *bid = elfsym_build_id(of->elf);
	if (bid) {
		uint64_t key = hash_bytes(bid, strlen(bid), 0);
		uint64_t *v = u64map_get(&s->build_ids, key);
		struct objfile *o = v ? (struct objfile *)(uintptr_t)*v : NULL;
		if (o && o->elf && elfsym_build_id(o->elf) && !strcmp(elfsym_build_id(o->elf), bid) &&
		    elfsym_digest(o->elf) == elfsym_digest(of->elf)) {
			elfsym_free(of->elf);
			of->elf = NULL;
			of->same = o;
			o->refs++;
			return;
		}
		/* On failure the file is not shared: harmless.  A zero key is
		 * taken for "none" and never stored. */
		if (!v && key && !u64map_put(&s->build_ids, key, (uint64_t)(uintptr_t)of))
			of->bid_key = key;
	}
	of->names = names_new(s->no_demangle);
	if (!of->names) {
		of->err = -ENOMEM;
		return;
	}
	find_debug(s, of);
	/* A stripped Go binary still has the table its runtime names its
	 * own frames with. */
	if (!elfsym_has_symtab(of->elf) && !of->dbg_syms && of->dw_state == DW_NONE &&
	    !gopclntab_load_fd(of->fd, &of->go))
		s->stats.go_tables++;
}

static void dwarf_close(struct symbolizer *s, struct objfile *of)
{
	s->dw_total -= of->dw_bytes;
	of->dw_bytes = 0;
	dwarfidx_free(of->dw);
	of->dw = NULL;
	s->stats.dwarf_evictions++;
}

/* Evicts least recently used DWARF indexes (not keep's) until the cache
 * fits its budget. */
static void dwarf_evict(struct symbolizer *s, const struct objfile *keep)
{
	while (s->dw_total > s->dw_budget) {
		struct objfile *lru = NULL;
		uint64_t k, v;
		for (size_t i = 0; u64map_next(&s->files, &i, &k, &v);) {
			struct objfile *of = (struct objfile *)(uintptr_t)v;
			if (of->dw && of != keep && (!lru || of->dw_used < lru->dw_used))
				lru = of;
		}
		if (!lru)
			return;
		dwarf_close(s, lru);
	}
}

/* The DWARF index of of, reopened after an eviction; NULL when none. */
static struct dwarfidx *dwarf_get(struct symbolizer *s, struct objfile *of)
{
	if (of->dw_state != DW_FOUND)
		return NULL;
	if (!of->dw) {
		if (dwarfidx_open(of->dw_fd, &of->names->pool, &of->dw)) {
			of->dw_state = DW_NONE;
			return NULL;
		}
		s->stats.dwarf_loads++;
	}
	of->dw_used = ++s->tick;
	return of->dw;
}

/* Charges what a lookup added to of's index to the cache.  The index just
 * used stays even if it alone is over the budget: the next addresses of the
 * batch are likely in it; objfile_trim evicts it. */
static void dwarf_charge(struct symbolizer *s, struct objfile *of)
{
	size_t now = dwarfidx_bytes(of->dw);
	s->dw_total += now - of->dw_bytes;
	of->dw_bytes = now;
	if (s->dw_total > s->stats.dwarf_bytes_peak)
		s->stats.dwarf_bytes_peak = s->dw_total;
	if (s->dw_total > s->dw_budget)
		dwarf_evict(s, of);
}

static void memo_clear(struct objfile *of)
{
	u64map_release(&of->dw_memo);
	u64map_init(&of->dw_memo);
	free(of->dw_chains);
	of->dw_chains = NULL;
	of->dw_nchains = of->dw_cap_chains = 0;
	of->memo_bytes = 0;
}

/* Remembers vaddr's chain (n may be 0: no DWARF covers it).  When the memos
 * outgrow their budget they are all cleared: the ones still hot come back
 * from the indexes at the next lookups. */
static void memo_put(struct symbolizer *s, struct objfile *of, uint64_t vaddr, const struct dw_frame *chain, size_t n)
{
	size_t cost = n * sizeof(*chain) + 3 * sizeof(uint64_t); /* the chain, a key, a value, slack */
	if (s->memo_total + cost > s->memo_budget) {
		uint64_t k, v;
		for (size_t i = 0; u64map_next(&s->files, &i, &k, &v);)
			memo_clear((struct objfile *)(uintptr_t)v);
		s->memo_total = 0;
		s->stats.dwarf_memo_resets++;
	}
	if (array_grow(&of->dw_chains, &of->dw_cap_chains, of->dw_nchains + n, sizeof(*chain)) ||
	    u64map_put(&of->dw_memo, vaddr, (uint64_t)of->dw_nchains << 8 | n))
		return; /* not remembered: looked up again next time */
	if (n) /* dw_chains is still NULL while only empty chains were remembered */
		memcpy(of->dw_chains + of->dw_nchains, chain, n * sizeof(*chain));
	of->dw_nchains += n;
	of->memo_bytes += cost;
	s->memo_total += cost;
}

/* The inline chain of vaddr in of (outermost first) into out, from the memo
 * or the DWARF index; its length, 0 when no DWARF covers vaddr.  *has_dwarf
 * tells whether of has DWARF at all. */
static size_t dwarf_chain(struct symbolizer *s, struct objfile *of, uint64_t vaddr, struct dw_frame *out,
			  bool *has_dwarf)
{
	const uint64_t *v = u64map_get(&of->dw_memo, vaddr);
	*has_dwarf = v != NULL;
	if (v) {
		size_t n = *v & 0xff;
		if (n)
			memcpy(out, of->dw_chains + (*v >> 8), n * sizeof(*out));
		s->stats.dwarf_memo_hits++;
		return n;
	}
	struct dwarfidx *dw = dwarf_get(s, of);
	if (!dw)
		return 0;
	*has_dwarf = true;
	size_t n = dwarfidx_lookup(dw, vaddr, out, MAX_INLINE);
	dwarf_charge(s, of);
	memo_put(s, of, vaddr, out, n);
	return n;
}

/* Adds the function (and, unless turned off, its inlined calls) for one address. */
static int emit(struct symbolizer *s, struct objfile *of, struct sym_frame *f, const struct elfsym *sym,
		const struct dw_frame *dwf, size_t n, struct sym_batch *b)
{
	struct demangler *dm = &of->names->dm;
	const char *sys = sym ? sym->name : n && dwf[0].mangled ? dwf[0].name : NULL;
	f->name = sys ? demangler_get(dm, sys) : n ? dwf[0].name : NULL;
	f->system_name = sys && f->name != sys ? sys : NULL;
	if (!f->name) {
		f->miss = SYM_MISS_NO_SYMBOL;
		of->unnamed++;
		return batch_add(b, f);
	}
	if (n) {
		f->file = dwf[0].file;
		f->line = dwf[0].line;
	}
	int err = batch_add(b, f);
	for (size_t i = 1; i < n && !s->no_inline && !err; i++) {
		struct sym_frame g = *f;
		g.inlined = true;
		g.name = dwf[i].name ? demangler_get(dm, dwf[i].name) : "[inlined]";
		g.system_name = dwf[i].mangled && g.name != dwf[i].name ? dwf[i].name : NULL;
		g.file = dwf[i].file;
		g.line = dwf[i].line;
		err = batch_add(b, &g);
	}
	return err;
}

/* Names vaddr from Go's function table, with its file and line and one
 * frame per inlined call (as DWARF would: --symbols=names has neither):
 * 1 when the table does not cover it, else as batch_add. */
static int emit_go(struct symbolizer *s, struct objfile *of, struct sym_frame *f, uint64_t vaddr, struct sym_batch *b)
{
	struct gopc_line l[MAX_INLINE];
	int n = gopclntab_lookup_inline(of->go, vaddr, l, s->names_only || s->no_inline ? 1 : MAX_INLINE);
	if (n <= 0)
		return 1;
	of->go_named++;
	int err = 0;
	for (int i = 0; i < n && !err; i++) {
		struct sym_frame g = *f;
		g.name = l[i].name;
		g.inlined = i > 0;
		if (!s->names_only) {
			g.file = l[i].file;
			g.line = l[i].line;
		}
		err = batch_add(b, &g);
	}
	return err;
}

void objfile_prefetch(struct symbolizer *s, struct objfile *of)
{
	objfile_load(s, of);
}

int objfile_resolve(struct symbolizer *s, struct objfile *of, uint64_t off, const struct sym_frame *base,
		    struct sym_batch *b)
{
	struct sym_frame f = *base;
	struct dw_frame dwf[MAX_INLINE];
	uint64_t vaddr;
	size_t n = 0;

	objfile_load(s, of);
	of->used = ++s->tick;
	if (of->same)
		of = of->same;
	if (!of->elf || !of->names) {
		f.miss = SYM_MISS_NO_FILE;
		return batch_add(b, &f);
	}
	debuginfod_arrived(s, of);
	f.build_id = elfsym_build_id(of->elf);
	if (elfsym_offset_to_vaddr(of->elf, off, &vaddr)) {
		f.miss = SYM_MISS_NO_SYMBOL;
		of->unnamed++;
		return batch_add(b, &f);
	}
	const struct elfsym *sym = of->dbg_syms ? elfsym_lookup(of->dbg_syms, vaddr) : NULL;
	if (!sym)
		sym = elfsym_lookup(of->elf, vaddr);
	n = dwarf_chain(s, of, vaddr, dwf, &f.dwarf);
	/* Go's table before exported symbols (.dynsym: a cgo binary's C
	 * functions), which may seem to cover Go code after them. */
	int err = of->go && !n ? emit_go(s, of, &f, vaddr, b) : 1;
	return err <= 0 ? err : emit(s, of, &f, sym, dwf, n, b);
}

void symbolizer_unnamed_files(const struct symbolizer *s, void (*fn)(void *ctx, const struct sym_unnamed_file *f),
			      void *ctx)
{
	uint64_t k, v;
	for (size_t i = 0; u64map_next(&s->files, &i, &k, &v);) {
		const struct objfile *of = (const struct objfile *)(uintptr_t)v;
		if (!of->unnamed || !of->elf || of->go) /* Go's: symbolizer_go_files */
			continue;
		struct sym_unnamed_file f = {
			.path = of->path,
			.build_id = elfsym_build_id(of->elf),
			.addresses = of->unnamed,
			.has_symtab = elfsym_has_symtab(of->elf),
			.debug_file = of->dbg_syms != NULL,
			.debuginfod_err = of->dbgd_err,
			.host_root = of->host_root,
		};
		fn(ctx, &f);
	}
}

void symbolizer_go_files(const struct symbolizer *s, void (*fn)(void *ctx, const struct sym_go_file *f), void *ctx)
{
	uint64_t k, v;
	for (size_t i = 0; u64map_next(&s->files, &i, &k, &v);) {
		const struct objfile *of = (const struct objfile *)(uintptr_t)v;
		if (!of->go || !of->go_named)
			continue;
		struct sym_go_file f = {
			.path = of->path,
			.layout = gopclntab_layout(of->go),
			.addresses = of->go_named,
			.unnamed = of->unnamed,
		};
		fn(ctx, &f);
	}
}

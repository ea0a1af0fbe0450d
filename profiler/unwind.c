/* SPDX-License-Identifier: MIT */
/*
 * unwind: compiled CFI tables uploaded to the BPF maps (see unwind.h).
 */
#define _GNU_SOURCE
#include "unwind.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <link.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "base/array.h"
#include "base/clock.h"
#include "base/hashtab.h"
#include "rowspace.h"
#include "symbolize/cfi.h"
#include "symbolize/elfsym.h"
#include "symbolize/debuginfo.h"
#include "symbolize/elfseg.h"
#include "symbolize/leafcfi.h"
#include "symbolize/procmaps.h"
#include "symbolize/symbolizer.h"

/* The BPF rows are cfi rows, byte for byte. */
_Static_assert(sizeof(struct cfi_row) == sizeof(struct unwind_row), "row size");
_Static_assert(offsetof(struct cfi_row, cfa_offset) == offsetof(struct unwind_row, cfa_offset), "row layout");
_Static_assert(offsetof(struct cfi_row, rbp_offset) == offsetof(struct unwind_row, rbp_offset), "row layout");
_Static_assert(offsetof(struct cfi_row, cfa_type) == offsetof(struct unwind_row, cfa_type), "row layout");
_Static_assert(offsetof(struct cfi_row, rbp_type) == offsetof(struct unwind_row, rbp_type), "row layout");
#define SAME(a, b) ((int)(a) == (int)(b))
_Static_assert(SAME(CFI_CFA_GAP, UNWIND_CFA_GAP) && SAME(CFI_CFA_RSP, UNWIND_CFA_RSP) &&
		       SAME(CFI_CFA_RBP, UNWIND_CFA_RBP) && SAME(CFI_CFA_PLT, UNWIND_CFA_PLT) &&
		       SAME(CFI_CFA_END, UNWIND_CFA_END) && SAME(CFI_CFA_UNSUPPORTED, UNWIND_CFA_UNSUPPORTED) &&
		       SAME(CFI_CFA_SIGNAL, UNWIND_CFA_SIGNAL),
	       "cfa types");
_Static_assert(SAME(CFI_RBP_UNCHANGED, UNWIND_RBP_UNCHANGED) && SAME(CFI_RBP_CFA_OFFSET, UNWIND_RBP_CFA_OFFSET),
	       "rbp types");

/* One mapped file's table: its rows live in the BPF array at [first, first + nrows).
 * A file is the symbolizer's file (symbolizer_mapping): the same identity. */
struct table {
	uint64_t dev, ino, mtime; /* all 0: the [vdso] */
	uint32_t first, nrows;    /* nrows 0: no rows (no CFI, or no room) */
	struct elf_segment *segs;
	size_t nsegs;
	char *path;     /* as the first process to map it named it; NULL: [vdso] */
	char *build_id; /* hex; NULL when it has none */
	uint32_t refs; /* tracked processes mapping it */
	uint64_t idle; /* refs 0: when it was let go (unwind.idle_clock), kept for reuse */
	bool live;     /* the slot is in use */
};

/* Tables no process maps any more are kept, up to this many, the least
 * recently let go dropped first, and sooner when the row array is full:
 * under churn (a build, a CI job, /bin/true two hundred times a second)
 * libc's and the shell's tables would otherwise be compiled again for each
 * process, as soon as the last one mapping them had exited. */
#define IDLE_TABLES 64

struct proc {
	uint32_t gen;
	uint32_t *tables; /* indices into unwind.tables, one ref each */
	size_t ntables;
};

struct unwind {
	struct capture_unwind_maps m;
	const char *debug_root; /* NULL: debuginfo's default */
	size_t page;
	struct rowspace space; /* which rows are in use */
	struct table *tables;
	size_t ntables, cap_tables;
	struct u64map by_file; /* hash of the file's key -> table index */
	struct u64map procs;   /* pid -> struct proc * */
	struct u64map jits;    /* pid -> struct jit * (unwind_set_jit) */
	uint64_t idle_clock;   /* counts tables let go */
	size_t nidle;          /* live tables with refs 0 */
	struct unwind_stats st;
};

int unwind_new(const struct capture_unwind_maps *maps, const char *debug_root, struct unwind **out)
{
	struct unwind *u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->m = *maps;
	u->debug_root = debug_root;
	u->page = (size_t)sysconf(_SC_PAGESIZE);
	u64map_init(&u->by_file);
	u64map_init(&u->procs);
	u64map_init(&u->jits);
	rowspace_init(&u->space, maps->rows_cap);
	u->st.rows_cap = maps->rows_cap;
	*out = u;
	return 0;
}

/* Copies n rows into the BPF array at row at, through a mapping of just
 * the pages they fall in.  The array is not kept mapped: the kernel maps
 * every page of it at mmap, so 16 MiB of kernel memory would count as the
 * process's resident memory for as long as it ran.  0 or -errno. */
static int write_rows(struct unwind *u, uint64_t at, const struct cfi_row *rows, size_t n)
{
	size_t off = at * sizeof(struct unwind_row), start = off & ~(u->page - 1);
	size_t len = (off + n * sizeof(struct unwind_row) - start + u->page - 1) & ~(u->page - 1);
	void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, u->m.rows_fd, (off_t)start);
	if (m == MAP_FAILED)
		return -errno;
	memcpy((char *)m + (off - start), rows, n * sizeof(*rows));
	munmap(m, len);
	return 0;
}

static uint64_t code_bytes(const struct cfi_table *t)
{
	uint64_t n = 0;
	for (size_t i = 0; i < t->nsegs; i++)
		n += t->segs[i].filesz;
	return n;
}

/* Rows for the functions in ct's gaps that never move the stack pointer
 * (symbolize/leafcfi.h): musl's memcpy and memset in a static program.
 * Only for files whose CFI covers less than half their code: in a file
 * built with unwind tables the few functions without are hand-written
 * assembly that glibc gives CFI anyway (libc.so.6 and ld.so got no rows),
 * and decoding them loaded capstone into every run (4-5 MiB of peak RSS).
 * 0, or -ENOMEM (ct released). */
static int add_leaves(int fd, struct cfi_table *ct)
{
	int n = leafcfi_add(fd, ct);
	if (n < 0)
		cfi_table_release(ct);
	return n < 0 ? n : 0;
}

/* Compiles the table of the file open at fd (path in the process whose
 * root is root, "" for ours).  Where the file's own CFI describes less than
 * half its code (built without unwind tables, only the C runtime's startup
 * has FDEs in .eh_frame; or stripped of its .debug_frame), the .debug_frame
 * of its separate debug file is added, found as the symbolizer finds it
 * (symbolize/debuginfo.h); *from_debug tells. 0 or -errno as cfi_compile. */
int unwind_compile(int fd, const char *debug_root, const char *root, const char *path, struct cfi_table *ct,
		   bool *from_debug)
{
	char build_id[129];
	struct cfi_table dt;
	int dfd, err = cfi_compile(fd, -1, ct);
	*from_debug = false;
	if ((err && err != -ENOENT) || (!err && ct->covered * 2 >= code_bytes(ct)))
		return err; /* well covered: no rows from code (see add_leaves) */
	if (debuginfo_open(fd, debug_root ? debug_root : "/usr/lib/debug", root, path,
			   debuginfo_build_id(fd, build_id) ? NULL : build_id, &dfd))
		return err ? err : add_leaves(fd, ct);
	int derr = cfi_compile(fd, dfd, &dt);
	close(dfd);
	if (derr || dt.covered <= (err ? 0 : ct->covered)) {
		cfi_table_release(&dt);
		return err ? err : add_leaves(fd, ct);
	}
	if (!err)
		cfi_table_release(ct);
	*ct = dt;
	*from_debug = true;
	return add_leaves(fd, ct);
}

static bool evict_idle(struct unwind *u);

/* Room for n rows, idle tables dropped (oldest first) until there is:
 * the first row, or -ENOSPC. */
static int64_t alloc_rows(struct unwind *u, uint32_t n)
{
	int64_t at;
	while ((at = rowspace_alloc(&u->space, n)) == -ENOSPC && evict_idle(u))
		;
	return at;
}

/* Uploads a compiled table (err: how compiling it went) into slot t (live,
 * refs 0).  Takes ct. */
static void install_table(struct unwind *u, struct table *t, int err, struct cfi_table *ct_in)
{
	struct cfi_table ct = *ct_in;
	memset(ct_in, 0, sizeof(*ct_in));
	if (err) {
		err == -ENOENT ? u->st.files_no_cfi++ : u->st.files_failed++;
		return;
	}
	u->st.files++;
	u->st.files_gopclntab += ct.from_gopclntab;
	u->st.rows_gopclntab += ct.from_gopclntab ? ct.n : 0;
	t->segs = ct.segs; /* kept for the bias of each mapping */
	t->nsegs = ct.nsegs;
	ct.segs = NULL;
	int64_t at = ct.n && ct.n < UNWIND_MAX_FILE_ROWS ? alloc_rows(u, (uint32_t)ct.n) : -ENOSPC;
	if (at < 0) {
		if (ct.n)
			u->st.table_full++;
		cfi_table_release(&ct);
		return;
	}
	if (write_rows(u, (uint64_t)at, ct.rows, ct.n)) {
		rowspace_free(&u->space, (uint32_t)at);
		u->st.files--;
		u->st.files_failed++;
		cfi_table_release(&ct);
		return;
	}
	t->first = (uint32_t)at;
	t->nrows = (uint32_t)ct.n;
	u->st.rows += ct.n;
	if (u->st.rows > u->st.rows_peak)
		u->st.rows_peak = u->st.rows;
	cfi_table_release(&ct);
}

/* Remembers which file slot t holds (open at fd, named path; fd -1: the
 * [vdso]), for unwind_view_file.  Best effort: unnamed, it is not found. */
static void name_table(struct table *t, int fd, const char *path)
{
	char bid[129];
	if (fd < 0)
		return;
	t->path = strdup(path);
	t->build_id = debuginfo_build_id(fd, bid) ? NULL : strdup(bid);
}

/* Compiles and uploads into slot t (live, refs 0) the table of the file
 * open at fd (path in the process whose root directory is root), or with
 * fd -1 of the vdso image. */
static void load_table(struct unwind *u, struct table *t, int fd, const char *root, const char *path,
		       const void *image, size_t image_size)
{
	struct cfi_table ct;
	bool from_debug = false;
	uint64_t t0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	int err = fd >= 0 ? unwind_compile(fd, u->debug_root, root, path, &ct, &from_debug)
			  : cfi_compile_image(image, image_size, &ct);
	u->st.compile_ns += clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
	u->st.files_debug_frame += from_debug;
	install_table(u, t, err, &ct);
	name_table(t, fd, path);
}

static uint64_t file_hash(uint64_t dev, uint64_t ino, uint64_t mtime)
{
	uint64_t k[3] = { dev, ino, mtime };
	return hash_bytes(k, sizeof(k), 0x756e77696e64ULL);
}

/* The loaded table of file (dev, ino, mtime), or -1. */
static int64_t find_table(struct unwind *u, uint64_t dev, uint64_t ino, uint64_t mtime)
{
	uint64_t *idx = u64map_get(&u->by_file, file_hash(dev, ino, mtime));
	if (!idx)
		return -1;
	const struct table *t = &u->tables[*idx];
	return t->dev == dev && t->ino == ino && t->mtime == mtime ? (int64_t)*idx : -1;
}

/* A new live slot for file (dev, ino, mtime), its table not loaded yet. Its index, or -ENOMEM. */
static int64_t new_table(struct unwind *u, uint64_t dev, uint64_t ino, uint64_t mtime)
{
	size_t slot = 0;
	while (slot < u->ntables && u->tables[slot].live)
		slot++;
	if (slot == u->ntables) {
		if (array_grow(&u->tables, &u->cap_tables, u->ntables + 1, sizeof(*u->tables)))
			return -ENOMEM;
		u->ntables++;
	}
	struct table *t = &u->tables[slot];
	*t = (struct table){ .dev = dev, .ino = ino, .mtime = mtime, .live = true };
	if (u64map_put(&u->by_file, file_hash(dev, ino, mtime), slot)) {
		t->live = false;
		return -ENOMEM;
	}
	return (int64_t)slot;
}

/* The table of the file behind mapping sm ([vdso]: our own image, the same
 * in every process of this kernel and of the target's size), loaded on
 * first sight. Its index, or -errno. */
static int64_t get_table(struct unwind *u, const struct sym_mapping *sm)
{
	const void *image = NULL;
	if (sm->vdso && !(image = (const void *)getauxval(AT_SYSINFO_EHDR)))
		return -ENOENT;
	if (!sm->vdso && sm->fd < 0)
		return -ENOENT; /* anonymous (JIT), or unreachable: frame pointers */
	int64_t idx = find_table(u, sm->dev, sm->ino, sm->mtime);
	if (idx < 0 && (idx = new_table(u, sm->dev, sm->ino, sm->mtime)) >= 0)
		load_table(u, &u->tables[idx], sm->fd, sm->root, sm->map->path, image, sm->map->end - sm->map->start);
	return idx;
}

/* Drops table idx (live, refs 0) and gives its rows back. */
static void drop_table(struct unwind *u, uint32_t idx)
{
	struct table *t = &u->tables[idx];
	u64map_del(&u->by_file, file_hash(t->dev, t->ino, t->mtime));
	if (t->nrows)
		rowspace_free(&u->space, t->first);
	u->st.rows -= t->nrows;
	free(t->segs);
	free(t->path);
	free(t->build_id);
	memset(t, 0, sizeof(*t));
}

/* Drops the idle table let go longest ago; false when none is idle. */
static bool evict_idle(struct unwind *u)
{
	size_t oldest = SIZE_MAX;
	for (size_t i = 0; i < u->ntables; i++) {
		const struct table *t = &u->tables[i];
		if (t->live && !t->refs && t->idle && (oldest == SIZE_MAX || t->idle < u->tables[oldest].idle))
			oldest = i;
	}
	if (oldest == SIZE_MAX)
		return false;
	drop_table(u, (uint32_t)oldest);
	u->nidle--;
	u->st.files_evicted++;
	return true;
}

/* Takes a reference on table idx, which may have been idle. */
static void ref_table(struct unwind *u, uint32_t idx)
{
	struct table *t = &u->tables[idx];
	if (!t->refs++ && t->idle) {
		t->idle = 0;
		u->nidle--;
		u->st.files_reused++;
	}
}

static void unref_table(struct unwind *u, uint32_t idx)
{
	struct table *t = &u->tables[idx];
	if (--t->refs)
		return;
	t->idle = ++u->idle_clock;
	if (++u->nidle > IDLE_TABLES)
		evict_idle(u);
}

/* Fills one mapping entry for sm; false when the mapping has no table. */
static bool add_mapping(struct unwind *u, const struct sym_mapping *sm, struct proc *p, struct unwind_mapping *m)
{
	int64_t idx = get_table(u, sm);
	if (idx < 0)
		return false;
	/* Held while the process maps it, rows or not (a file without CFI is
	 * not compiled again at each announcement). */
	struct table *t = &u->tables[idx];
	ref_table(u, (uint32_t)idx);
	p->tables[p->ntables++] = (uint32_t)idx;
	uint64_t bias;
	if (!t->nrows || elfseg_bias(t->segs, t->nsegs, sm->map->start, sm->map->offset, &bias))
		return false;
	*m = (struct unwind_mapping){ sm->map->start, sm->map->end, bias, t->first, t->nrows };
	return true;
}

static void proc_free(struct unwind *u, struct proc *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->ntables; i++)
		unref_table(u, p->tables[i]);
	free(p->tables);
	free(p);
}

/* A process's JIT rows (unwind_set_jit), at [first, first + n). */
struct jit {
	uint32_t gen, first, n;
};

static struct jit *jit_get(const struct unwind *u, uint32_t pid)
{
	uint64_t *v = u64map_get(&u->jits, pid);
	return v ? (struct jit *)(uintptr_t)*v : NULL;
}

/* An anonymous mapping of a process given JIT rows: those rows, addressed
 * by the process's own addresses (bias 0). */
static bool add_jit_mapping(struct unwind *u, uint32_t pid, uint32_t gen, const struct sym_mapping *sm,
			    struct unwind_mapping *m)
{
	const struct jit *j = jit_get(u, pid);
	if (sm->vdso || sm->fd >= 0 || sm->map->path[0] || !j || j->gen != gen)
		return false;
	*m = (struct unwind_mapping){ sm->map->start, sm->map->end, 0, j->first, j->n };
	return true;
}

static void jit_free(struct unwind *u, struct jit *j)
{
	if (!j)
		return;
	rowspace_free(&u->space, j->first);
	u->st.rows -= j->n;
	free(j);
}

int unwind_set_jit(struct unwind *u, const struct symbolizer *sym, uint32_t pid, uint32_t gen,
		   const struct cfi_row *rows, size_t n)
{
	struct jit *old = jit_get(u, pid), *j = NULL;
	int64_t first;
	int err = 0;
	if (n > UNWIND_MAX_FILE_ROWS)
		return -E2BIG;
	if (n) {
		if ((first = alloc_rows(u, (uint32_t)n)) < 0) {
			u->st.table_full++;
			return (int)first;
		}
		if (!(j = calloc(1, sizeof(*j))) || (err = write_rows(u, (uint64_t)first, rows, n)) ||
		    (err = u64map_put(&u->jits, pid, (uint64_t)(uintptr_t)j))) {
			rowspace_free(&u->space, (uint32_t)first);
			free(j);
			return err ? err : -ENOMEM;
		}
		*j = (struct jit){ gen, (uint32_t)first, (uint32_t)n };
		u->st.rows += n;
		if (u->st.rows > u->st.rows_peak)
			u->st.rows_peak = u->st.rows;
	} else {
		u64map_del(&u->jits, pid);
	}
	/* The old rows go once the process's mappings point at the new ones. */
	err = unwind_track(u, sym, pid, gen);
	jit_free(u, old);
	return err;
}

int unwind_track(struct unwind *u, const struct symbolizer *sym, uint32_t pid, uint32_t gen)
{
	const struct procmaps *maps = symbolizer_maps(sym, pid, gen);
	if (!maps)
		return -ESRCH;
	int err = 0;
	struct unwind_proc *v = calloc(1, sizeof(*v));
	struct proc *p = calloc(1, sizeof(*p));
	if (!v || !p || !(p->tables = calloc(maps->n + 1, sizeof(*p->tables)))) {
		err = -ENOMEM;
		goto out;
	}
	p->gen = v->gen = gen;
	for (size_t i = 0; i < maps->n; i++) {
		struct sym_mapping sm;
		if (symbolizer_mapping(sym, pid, gen, i, &sm) || !sm.current)
			continue; /* unmapped since an earlier reading */
		if (v->n == UNWIND_MAX_MAPPINGS)
			u->st.mappings_dropped++;
		else if (add_jit_mapping(u, pid, gen, &sm, &v->maps[v->n]) || add_mapping(u, &sm, p, &v->maps[v->n]))
			v->n++;
	}
	u->st.updates++;
	if (bpf_map_update_elem(u->m.procs_fd, &pid, v, BPF_ANY)) {
		err = -errno;
		u->st.procs_full++;
		goto out;
	}
	/* The new tables are referenced before the old ones are let go, so a
	 * file still mapped keeps its rows in place. */
	uint64_t *old = u64map_get(&u->procs, pid);
	struct proc *prev = old ? (struct proc *)(uintptr_t)*old : NULL;
	if (!prev || prev->gen != gen)
		u->st.processes++;
	if ((err = u64map_put(&u->procs, pid, (uint64_t)(uintptr_t)p)))
		goto out;
	proc_free(u, prev);
	p = NULL;
out:
	proc_free(u, p);
	free(v);
	return err;
}

void unwind_forget(struct unwind *u, uint32_t pid, uint32_t gen)
{
	uint64_t *v = u64map_get(&u->procs, pid);
	struct proc *p = v ? (struct proc *)(uintptr_t)*v : NULL;
	if (!p || p->gen != gen)
		return;
	bpf_map_delete_elem(u->m.procs_fd, &pid);
	u64map_del(&u->procs, pid);
	proc_free(u, p);
	jit_free(u, jit_get(u, pid));
	u64map_del(&u->jits, pid);
}

/* A command's files compiled ahead (see unwind_preload_start). */
#define PRELOAD_MAX 12

struct preloaded {
	struct stat sb;
	char path[PATH_MAX];
	char build_id[129]; /* "" without one */
	struct cfi_table ct;
	int err;
	bool prog;  /* a program exec'd (not its loader or a library) */
	int loader; /* prog: the index of its loader's entry, or -1 */
};

struct unwind_preload {
	pthread_t thread;
	char path[PATH_MAX];
	const char *debug_root;
	uint64_t files_debug_frame;
	struct preloaded files[PRELOAD_MAX];
	size_t n;
	uint64_t compile_ns;
};

/* A script's "#!" interpreter into buf; false for anything else. */
static bool script_interpreter(int fd, char *buf, size_t len)
{
	char head[PATH_MAX];
	ssize_t r = pread(fd, head, sizeof(head) - 1, 0);
	if (r < 3 || head[0] != '#' || head[1] != '!')
		return false;
	head[r] = 0;
	char *p = head + 2;
	p += strspn(p, " \t");
	size_t n = strcspn(p, " \t\n");
	if (!n || n >= len)
		return false;
	memcpy(buf, p, n);
	buf[n] = 0;
	return true;
}

struct needed {
	struct unwind_preload *pl;
	char paths[PRELOAD_MAX][PATH_MAX];
	size_t n;
};

/* A library the command needs, where scorch's own loader found one of the
 * same name: its search (ld.so.cache, the default directories) is likely
 * the command's, and libc, in every stack, is one of them.  A guess: a
 * table compiled for a file the command does not map is left unused. */
static int own_library(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	struct needed *nd = arg;
	const char *path = info->dlpi_name, *base = strrchr(path, '/');
	const char *want = nd->paths[nd->n];
	if (base && !strcmp(base + 1, want) && strlen(path) < PATH_MAX) {
		memmove(nd->paths[nd->n], path, strlen(path) + 1);
		return 1;
	}
	return 0;
}

static void on_needed(void *ctx, const char *name)
{
	struct needed *nd = ctx;
	if (nd->pl->n + nd->n >= PRELOAD_MAX || strchr(name, '/') || strlen(name) >= PATH_MAX)
		return;
	strcpy(nd->paths[nd->n], name);
	if (dl_iterate_phdr(own_library, nd))
		nd->n++;
}

/* Compiles path and, when follow, the dynamic loader it names and the
 * libraries it needs that scorch maps too (own_library); for a script, its
 * interpreter's. */
static void preload_file(struct unwind_preload *pl, const char *path, bool follow)
{
	char next[PATH_MAX];
	int fd = pl->n < PRELOAD_MAX ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0)
		return;
	if (follow && script_interpreter(fd, next, sizeof(next))) {
		close(fd);
		preload_file(pl, next, true);
		return;
	}
	struct preloaded *f = &pl->files[pl->n];
	f->loader = -1;
	if (fstat(fd, &f->sb)) {
		close(fd);
		return;
	}
	if (!realpath(path, f->path)) /* as /proc/PID/maps will name it */
		snprintf(f->path, sizeof(f->path), "%s", path);
	if (debuginfo_build_id(fd, f->build_id))
		f->build_id[0] = 0;
	uint64_t t0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	bool from_debug;
	f->err = unwind_compile(fd, pl->debug_root, "", path, &f->ct, &from_debug);
	pl->compile_ns += clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
	pl->files_debug_frame += from_debug;
	pl->n++;
	bool interp = follow && elfsym_interpreter(fd, next, sizeof(next)) == 0;
	struct needed *nd = interp ? calloc(1, sizeof(*nd)) : NULL;
	if (nd) {
		nd->pl = pl;
		elfsym_needed(fd, on_needed, nd);
	}
	close(fd);
	f->prog = follow;
	size_t before = pl->n;
	if (interp)
		preload_file(pl, next, false);
	if (pl->n > before) /* compiled, not skipped (unreadable, or no room) */
		f->loader = (int)before;
	for (size_t i = 0; nd && i < nd->n; i++)
		preload_file(pl, nd->paths[i], false);
	free(nd);
}

static void *preload_main(void *arg)
{
	struct unwind_preload *pl = arg;
	preload_file(pl, pl->path, true);
	return NULL;
}

int unwind_preload_start(const char *path, const char *debug_root, struct unwind_preload **out)
{
	struct unwind_preload *pl = calloc(1, sizeof(*pl));
	if (!pl)
		return -ENOMEM;
	pl->debug_root = debug_root;
	/* Absolute, as /proc/PID/maps names it: separate debug files are
	 * looked for beside it. */
	if (!realpath(path, pl->path)) {
		int err = -errno;
		free(pl);
		return err;
	}
	int err = pthread_create(&pl->thread, NULL, preload_main, pl);
	if (err) {
		free(pl);
		return -err;
	}
	*out = pl;
	return 0;
}

/* A table's rows as the BPF side takes them at exec: its executable
 * segments' file addresses, which the kernel's mm->start_code (the lowest
 * of them, once loaded) and AT_BASE (the loader's bias) place.  False
 * without rows. */
static bool exec_file(const struct table *t, struct unwind_exec_file *out)
{
	if (!t->nrows || !t->nsegs)
		return false;
	uint64_t lo = UINT64_MAX, hi = 0;
	for (size_t i = 0; i < t->nsegs; i++) {
		lo = t->segs[i].vaddr < lo ? t->segs[i].vaddr : lo;
		hi = t->segs[i].vaddr + t->segs[i].filesz > hi ? t->segs[i].vaddr + t->segs[i].filesz : hi;
	}
	*out = (struct unwind_exec_file){ lo, hi, t->first, t->nrows };
	return true;
}

/* The BPF side's entry for a program compiled ahead (see unwind_exec in
 * bpf/unwind.bpf.h), by its device as the kernel encodes it. */
static void exec_entry(struct unwind *u, const struct preloaded *f, const struct table *prog,
		       const struct table *loader)
{
	struct unwind_exec e = { 0 };
	struct unwind_exec_key k = { (uint64_t)major(f->sb.st_dev) << 20 | minor(f->sb.st_dev), f->sb.st_ino };
	if (!exec_file(prog, &e.prog))
		return;
	if (loader)
		exec_file(loader, &e.loader);
	/* On failure its first samples wait for userspace, as before. */
	bpf_map_update_elem(u->m.exec_fd, &k, &e, BPF_ANY);
}

void unwind_preload_finish(struct unwind *u, struct unwind_preload *pl)
{
	if (!pl)
		return;
	pthread_join(pl->thread, NULL);
	int64_t idxs[PRELOAD_MAX];
	for (size_t i = 0; i < pl->n; i++) {
		struct preloaded *f = &pl->files[i];
		uint64_t dev = f->sb.st_dev, ino = f->sb.st_ino, mtime = clock_ts_ns(f->sb.st_mtim);
		int64_t idx = u ? find_table(u, dev, ino, mtime) : -1;
		if (u && idx < 0 && (idx = new_table(u, dev, ino, mtime)) >= 0) {
			install_table(u, &u->tables[idx], f->err, &f->ct);
			u->tables[idx].path = strdup(f->path);
			u->tables[idx].build_id = f->build_id[0] ? strdup(f->build_id) : NULL;
		}
		if (u && idx >= 0)
			ref_table(u, (uint32_t)idx); /* held for the whole run */
		idxs[i] = idx;
		cfi_table_release(&f->ct);
	}
	for (size_t i = 0; u && i < pl->n; i++)
		if (pl->files[i].prog && idxs[i] >= 0)
			exec_entry(u, &pl->files[i], &u->tables[idxs[i]],
				   pl->files[i].loader >= 0 && idxs[pl->files[i].loader] >= 0
					   ? &u->tables[idxs[pl->files[i].loader]]
					   : NULL);
	if (u) {
		u->st.compile_ns += pl->compile_ns;
		u->st.files_debug_frame += pl->files_debug_frame;
	}
	free(pl);
}

int unwind_view_file(const struct unwind *u, const char *path, const char *build_id, struct unwind_view *v)
{
	memset(v, 0, sizeof(*v));
	for (size_t i = 0; i < u->ntables; i++) {
		const struct table *t = &u->tables[i];
		if (!t->live || !t->path || strcmp(t->path, path) ||
		    (build_id && (!t->build_id || strcmp(t->build_id, build_id))))
			continue;
		v->t.segs = t->segs;
		v->t.nsegs = t->nsegs;
		if (!t->nrows)
			return 0;
		size_t off = (size_t)t->first * sizeof(struct unwind_row), start = off & ~(u->page - 1);
		v->len = (off + t->nrows * sizeof(struct unwind_row) - start + u->page - 1) & ~(u->page - 1);
		v->map = mmap(NULL, v->len, PROT_READ, MAP_SHARED, u->m.rows_fd, (off_t)start);
		if (v->map == MAP_FAILED) {
			int err = -errno;
			memset(v, 0, sizeof(*v));
			return err;
		}
		v->t.rows = (struct cfi_row *)((char *)v->map + (off - start));
		v->t.n = t->nrows;
		return 0;
	}
	return -ENOENT;
}

void unwind_view_release(struct unwind_view *v)
{
	if (v->map)
		munmap(v->map, v->len);
	memset(v, 0, sizeof(*v));
}

void unwind_stats(const struct unwind *u, struct unwind_stats *out)
{
	*out = u->st;
}

void unwind_free(struct unwind *u)
{
	uint64_t pid, val;
	if (!u)
		return;
	for (size_t pos = 0; u64map_next(&u->procs, &pos, &pid, &val);)
		proc_free(u, (struct proc *)(uintptr_t)val);
	for (size_t i = 0; i < u->ntables; i++) {
		free(u->tables[i].segs);
		free(u->tables[i].path);
		free(u->tables[i].build_id);
	}
	free(u->tables);
	rowspace_release(&u->space);
	u64map_release(&u->procs);
	for (size_t pos = 0; u64map_next(&u->jits, &pos, &pid, &val);)
		free((struct jit *)(uintptr_t)val);
	u64map_release(&u->jits);
	u64map_release(&u->by_file);
	free(u);
}

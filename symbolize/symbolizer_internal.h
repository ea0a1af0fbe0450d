/* SPDX-License-Identifier: MIT */
/*
 * State shared by the symbolizer's own files (symbolizer.c: processes,
 * batches, kernel; objfile.c: mapped files, their debug info and the DWARF
 * cache).  Nobody else includes this.
 */
#ifndef SCORCH_SYMBOLIZE_SYMBOLIZER_INTERNAL_H
#define SCORCH_SYMBOLIZE_SYMBOLIZER_INTERNAL_H

#include "base/hashtab.h"
#include "symbolize/demangle.h"
#include "symbolize/dwarfidx.h"
#include "symbolize/elfsym.h"
#include "symbolize/gopclntab.h"
#include "symbolize/kallsyms.h"
#include "symbolize/perfmap.h"
#include "symbolize/procmaps.h"
#include "symbolize/strpool.h"
#include "symbolize/symbolizer.h"

enum dw_state {
	DW_UNKNOWN = 0, /* not looked for yet */
	DW_NONE,        /* no DWARF anywhere, or names-only mode */
	DW_FOUND,       /* dw_fd has DWARF; dw is open or was evicted */
};

/* Strings frames point at, with the demangled forms cached, owned by what
 * the names come from (a loaded file, a process's perf map) and freed with
 * it: memory follows what is mapped now, not everything ever seen. */
struct names {
	struct strpool pool;
	struct demangler dm;
};

/* A mapped file, shared by every process that maps it; keyed by device,
 * inode and modification time, and its loaded data shared by build ID.
 * Counted references (a process mapping it, a file sharing its data) keep
 * it; unreferenced ones are freed by symbolizer_trim, oldest first. */
struct objfile {
	uint64_t dev, ino, mtime;
	char *path;                   /* as the process maps it */
	char *root;                   /* "/proc/PID/root" of the first process seen mapping it */
	bool host_root;               /* that root was our "/" */
	int fd;                       /* open from first sight until freed; -1 when it could not be opened */
	struct elfsym_file *elf;      /* the file's own symbols; NULL until loaded or on failure */
	struct elfsym_file *dbg_syms; /* symbols of its debug file or mini debuginfo, or NULL */
	struct objfile *same;         /* an earlier file with the same build ID: use its data (a reference) */
	struct names *names;          /* pooled names of its symbols and DWARF; NULL until loaded */
	uint32_t refs;                /* processes mapping it + files sharing its data */
	uint64_t used;                /* tick of the last use, for trimming */
	uint64_t bid_key;             /* its build_ids key when it holds one, else 0 */
	int err;                      /* why elf is NULL after loading */
	uint8_t open_tries;           /* fd -1: opens tried again since (reopen) */
	bool loaded;
	enum dw_state dw_state;
	int dw_fd;                    /* the file holding DWARF, kept to reopen after eviction:
	                                 its debug file's own descriptor, or fd itself */
	struct dwarfidx *dw;          /* open DWARF index, or NULL */
	size_t dw_bytes;              /* what dw is charged in the cache */
	uint64_t dw_used;             /* LRU tick of the last lookup */
	/* Inline chains looked up before, so an address needs the DWARF index
	 * (which may have been evicted) once: vaddr -> first << 8 | count into
	 * dw_chains, whose names are in names' pool. */
	struct u64map dw_memo;
	struct dw_frame *dw_chains;
	size_t dw_nchains, dw_cap_chains;
	size_t memo_bytes;            /* what the memo is charged */
	int dbgd_err;                 /* its debuginfod lookup: 0 (none made, or fetched), -EINPROGRESS, ... */
	uint64_t unnamed;             /* addresses it left without a name */
	struct gopclntab *go;         /* Go's function table, read when nothing else names the file; or NULL */
	uint64_t go_named;            /* addresses named from it */
};

struct proc {
	uint32_t pid, gen;
	uint32_t tid;              /* a live thread whose /proc directory stands in for
	                              the exited leader's (procmaps_read_live), else 0 */
	bool refreshed;            /* maps re-read once for an address they lacked */
	struct procmaps maps;
	struct objfile **files;    /* per mapping, NULL for anonymous ones */
	struct perfmap *jit;       /* /tmp/perf-NSPID.map, or NULL */
	struct names *jit_names;   /* names from the perf map, NULL without one */
	const char *jit_path;      /* "/tmp/perf-NSPID.map", in jit_names */
	int64_t jit_size;          /* size of the map file when read, -1 never */
	int64_t jit_mtime;         /* its modification time (ns) then: a map rewritten (a JVM's) is read again */
	uint64_t jit_hash;         /* hash_bytes of its text: a map rewritten the same is not parsed again */
	uint64_t jit_version;      /* distinct maps read so far */
	bool jit_given;            /* the map comes from symbolizer_set_jit: the file is not read */
};

struct symbolizer {
	char *proc_root;
	char *kallsyms_path;
	char *debug_root;
	struct dbgd *dbgd; /* debuginfod servers, or NULL (borrowed) */
	char *kernel_cache;        /* cache file path, NULL for none */
	char *dwarf_cache;         /* dwarfcache directory, NULL for none */
	bool names_only, no_inline, no_demangle;
	bool trim_dwarf;           /* symbolizer_trim closes uncompressed DWARF indexes unused since the last */
	size_t idle_files;         /* unreferenced files symbolizer_trim keeps */
	size_t nfiles;             /* files in the cache now */
	size_t dw_budget;          /* bytes of open DWARF indexes before eviction */
	size_t dw_total;           /* bytes charged now */
	size_t memo_budget;        /* bytes of memoized inline chains before they are cleared */
	size_t memo_total;
	uint64_t tick;
	uint64_t trim_tick;         /* tick at the last symbolizer_trim */
	struct kallsyms *kernel;
	int kernel_err;
	bool kernel_tried;
	bool kernel_core_only;     /* s->kernel came from the cache */
	struct kallsyms *kernel_modules; /* beside a cached core: module and BPF symbols, or NULL */
	bool modules_tried;
	struct u64map procs;       /* pid << 32 | gen -> struct proc * */
	struct u64map files;       /* hash(dev, ino, mtime) -> struct objfile * */
	struct u64map build_ids;   /* hash(build id) -> struct objfile * (loaded first) */
	struct u64map inodes;      /* hash(dev, ino) -> struct objfile * (seen last), for
	                              mappings whose file can no longer be reached */
	struct objfile *vdso;
	struct symbolizer_stats stats;
};

/* objfile.c */
struct names *names_new(bool no_demangle);
void names_free(struct names *n);
struct objfile *objfile_vdso(void);
void objfile_free(struct objfile *of);
/* The shared file behind mapping m of pid, opened on first sight, with a
 * reference taken; NULL for anonymous and special mappings or on allocation
 * failure. */
struct objfile *objfile_for(struct symbolizer *s, uint32_t pid, uint32_t tid, const struct procmap *m);
/* Drops a reference objfile_for took (NULL is fine). */
void objfile_unref(struct symbolizer *s, struct objfile *of);
/* Frees unreferenced files beyond the s->idle_files used last, and DWARF
 * indexes until they fit the budget (one lookup may have overshot it), and
 * with s->trim_dwarf those whose sections are mapped, not inflated. */
void objfile_trim(struct symbolizer *s);
/* Appends the frames for file offset off of of (module fields already set in
 * *base) to b's current address. 0 or -ENOMEM. */
/* Loads of (and so asks for its debug file) without resolving anything. */
void objfile_prefetch(struct symbolizer *s, struct objfile *of);
int objfile_resolve(struct symbolizer *s, struct objfile *of, uint64_t off, const struct sym_frame *base,
		    struct sym_batch *b);

/* symbolizer.c */
/* Appends f to the frames of the address being resolved. 0 or -ENOMEM. */
int batch_add(struct sym_batch *b, const struct sym_frame *f);

#endif

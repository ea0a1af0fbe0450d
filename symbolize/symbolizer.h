/* SPDX-License-Identifier: MIT */
/*
 * symbolizer: addresses to frames, for user addresses of a process and for
 * kernel addresses.  It knows nothing of profiles or formats.
 *
 * A process is identified by (pid, gen): gen is the exec generation the BPF
 * side assigns, so samples taken before and after an exec, or in a reused
 * pid, are resolved against the right /proc/PID/maps.  symbolizer_track()
 * snapshots a process's executable mappings and opens the files behind them
 * while it runs, so it can be symbolized after it has exited.  Each file is
 * opened once (keyed by device, inode and modification time) and loaded once
 * per build ID, however many processes map it.
 *
 * A user address becomes its function (from the ELF symbol tables of the file
 * and of its separate debug file, found by build ID, .gnu_debuglink or path,
 * or of its .gnu_debugdata; for a stripped Go binary, from the function table
 * Go keeps for its runtime, with lines and inlined calls), then, when the
 * file has DWARF, its source line and one frame per inlined call.  C++ and Rust names are demangled, the
 * mangled name kept.  Anonymous executable memory is named from the process's
 * /tmp/perf-PID.map (JIT compilers).  DWARF indexes live in an LRU cache
 * bounded in bytes.
 *
 * Requests are batches: many addresses of one process in, one result out.
 *
 * Memory follows what is mapped now: each file holds the names its frames
 * point at, files are counted references of the processes tracked, and
 * symbolizer_trim frees the unreferenced ones (beyond a few kept for the
 * next process of the same programs).  A long-running caller forgets exited
 * processes and trims at points where it holds no frames; one that never
 * trims keeps every file until symbolizer_free.
 */
#ifndef SCORCH_SYMBOLIZE_SYMBOLIZER_H
#define SCORCH_SYMBOLIZE_SYMBOLIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct procmaps;
struct symbolizer;

struct symbolizer_opts {
	const char *kallsyms_path; /* NULL: /proc/kallsyms */
	const char *proc_root;     /* NULL: /proc (tests point it elsewhere) */
	/* Directory for the per-boot cache of core kernel symbols (e.g.
	 * /run/scorch); NULL for none.  Used only when it is a directory owned
	 * by us and writable by nobody else. */
	const char *kernel_cache_dir;
	const char *debug_root;   /* NULL: /usr/lib/debug */
	/* Directory for debug files with their compressed DWARF stored
	 * inflated, by build ID (symbolize/dwarfcache.h; e.g.
	 * /var/cache/scorch); NULL for none.  Used only when it is a directory
	 * owned by us and writable by nobody else. */
	const char *dwarf_cache_dir;
	bool names_only;          /* symbol tables only: no DWARF lines or inline frames */
	bool no_inline;           /* DWARF lines, but no inlined frames */
	bool no_demangle;         /* names as the symbol tables have them */
	/* Open DWARF indexes kept; 0: 512 MiB.  A quarter as much again (at
	 * least 1 MiB) remembers each address's lines and inline frames, so an
	 * evicted index is reopened only for addresses never seen. */
	size_t dwarf_cache_bytes;
	/* symbolizer_trim also closes every DWARF index read from mapped
	 * sections (the file's own, or its copy in the DWARF cache) that no
	 * lookup used since the trim before: between batches the per-address
	 * memo answers what was seen, so a long-running caller's memory does
	 * not grow with the compilation units indexed so far, while an index
	 * in use every batch is not rebuilt for each.  Indexes of compressed
	 * DWARF inflated in memory stay, within dwarf_cache_bytes: reopening
	 * one means inflating it again. */
	bool trim_dwarf;
	size_t idle_files;        /* files no process maps that symbolizer_trim keeps; 0: 64 */
	/* Debug files of files without local ones are asked for here by build
	 * ID (symbolize/debuginfod.h), after every local place; borrowed, may be
	 * NULL.  A file whose answer is still on the way is named from what it
	 * has, and from its debug file at a later lookup once that came. */
	struct dbgd *debuginfod;
};

/* Why a frame has no function name. */
enum sym_miss {
	SYM_OK = 0,
	SYM_MISS_NO_PROCESS, /* the process had exited before its maps were read */
	SYM_MISS_NO_MAPPING, /* no executable mapping contains the address */
	SYM_MISS_NO_FILE,    /* the mapped file could not be opened */
	SYM_MISS_NO_SYMBOL,  /* the file has no symbol covering the address */
	SYM_MISS_ANON,       /* anonymous executable memory (JIT without a perf map) */
	SYM_MISS_KERNEL,     /* kernel symbols unreadable, or the address is outside them */
	SYM_MISS_NR,
};

struct sym_frame {
	const char *name;       /* function name (demangled), NULL when unknown (see miss) */
	const char *system_name;/* the mangled name when name was demangled, else NULL */
	const char *file;       /* source file, NULL unknown */
	uint32_t line;          /* source line (of the call, in a frame that has an inlined callee), 0 unknown */
	const char *module;     /* mapped file path, "[vdso]", kernel module name or
	                           "[kernel.kallsyms]"; NULL when unknown */
	uint64_t module_offset; /* the address as an offset into the module's file */
	uint64_t map_start, map_limit, map_offset; /* the mapping, user frames */
	const char *build_id;   /* hex, NULL unknown */
	uint32_t miss;          /* enum sym_miss */
	bool kernel;
	bool inlined;           /* inlined into the frame before it (same address) */
	bool jit;               /* named from a perf map */
	bool dwarf;             /* the module has DWARF (lines, inline frames) */
};

/* Frames for addrs[i] are frames[first[i]] .. frames[first[i + 1] - 1],
 * outermost caller first: the function, then one frame per inlined call,
 * the innermost last (always at least one frame per address).
 * Strings point into the symbolizer and live until the file they came from
 * is trimmed (symbolizer_trim), the process whose perf map named them is
 * forgotten, or symbolizer_free. */
struct sym_batch {
	struct sym_frame *frames;
	size_t nframes, cap_frames;
	size_t *first; /* n + 1 entries */
	size_t n, cap_first;
};

struct symbolizer_stats {
	uint64_t misses[SYM_MISS_NR]; /* addresses without a name, by reason */
	uint64_t processes;           /* processes tracked */
	uint64_t processes_gone;      /* exited before their maps could be read */
	uint64_t files;               /* distinct files seen */
	uint64_t files_released;      /* files freed by symbolizer_trim */
	size_t files_cached;          /* files held now */
	uint64_t files_failed;        /* files that could not be opened or parsed */
	uint64_t debug_files;         /* separate debug files (or mini debuginfo) found */
	uint64_t debuginfod_files;    /* debug files from debuginfod servers (or their cache) */
	uint64_t dwarf_loads;         /* DWARF indexes opened (again after an eviction) */
	uint64_t dwarf_evictions;     /* DWARF indexes dropped to stay in the budget */
	uint64_t dwarf_file_bytes;    /* .debug_* section bytes of the files with DWARF found */
	uint64_t dwarf_cached;        /* files whose DWARF was read from the DWARF cache (written first or not) */
	uint64_t jit_maps;            /* perf maps read (a map read again counts when it changed) */
	uint64_t jit_skipped;         /* malformed perf map lines skipped */
	size_t dwarf_bytes;           /* bytes in the DWARF cache now */
	size_t dwarf_bytes_peak;
	size_t dwarf_memo_bytes;      /* bytes of inline chains remembered per address now */
	uint64_t dwarf_memo_hits;     /* addresses answered without the DWARF index */
	uint64_t dwarf_memo_resets;   /* times the remembered chains outgrew their budget */
	uint64_t go_tables;           /* stripped Go binaries named from their .gopclntab */
};

int symbolizer_new(const struct symbolizer_opts *opts, struct symbolizer **out);
void symbolizer_free(struct symbolizer *s);

/* Snapshots the executable mappings of (pid, gen) now and opens their files.
 * Idempotent. 0, or -ESRCH when the process is gone. */
int symbolizer_track(struct symbolizer *s, uint32_t pid, uint32_t gen);
/* The executable mappings symbolizer_track has read for (pid, gen) (those
 * since gone included), or NULL; valid until its next track or forget. */
const struct procmaps *symbolizer_maps(const struct symbolizer *s, uint32_t pid, uint32_t gen);
/* Mapping i of symbolizer_maps(s, pid, gen) and the file behind it, as the
 * symbolizer holds them: the process's other readers (the unwinder's CFI,
 * the Python reader) take the snapshot and the open file from here rather
 * than read /proc and open the file again, so a process is read once and a
 * file opened once, and a file is one file to all of them. */
struct sym_mapping {
	const struct procmap *map;
	/* The mapped file, open; borrowed, valid while (pid, gen) is tracked.
	 * -1 when there is none (anonymous, [vdso]) or it could not be opened. */
	int fd;
	uint64_t dev, ino, mtime; /* the file's identity (mtime in ns); 0 without a file */
	char root[96];            /* the process's "/" (/proc/PID/root), for files beside it; "" without a file */
	bool current;             /* in the latest reading of the maps, not kept from an earlier one */
	bool vdso;
};
/* 0, or -ENOENT when (pid, gen) is not tracked or has no mapping i. */
int symbolizer_mapping(const struct symbolizer *s, uint32_t pid, uint32_t gen, size_t i, struct sym_mapping *out);
/* How many different perf maps have named (pid, gen)'s JIT code so far
 * (each read at symbolizer_track replaces the one before); 0 untracked. */
uint64_t symbolizer_jit_version(const struct symbolizer *s, uint32_t pid, uint32_t gen);
/* Names (pid, gen)'s JIT code from text in perf map form, which replaces
 * the map before whole, as a rewritten perf map does (a new version when
 * the text differs); from then on its /tmp/perf-NSPID.map is not read.  For
 * a JIT whose map is had some other way than a file (a JVM's
 * Compiler.codelist).  Frames name "[jit]" as their module.  0, -ENOENT
 * (not tracked), -ENOMEM. */
int symbolizer_set_jit(struct symbolizer *s, uint32_t pid, uint32_t gen, const char *text, size_t len);
/* Releases what was kept for (pid, gen): its maps, its perf map and its
 * references to files (which stay cached until symbolizer_trim).  Call it
 * when done with an exited process. */
void symbolizer_forget(struct symbolizer *s, uint32_t pid, uint32_t gen);
/* Frees the files no tracked process maps, but the opts.idle_files used
 * last, and closes DWARF indexes down to the budget (and, with
 * opts.trim_dwarf, those cheap to reopen and not looked up since the last
 * trim).  Frames returned before may point at freed memory
 * afterwards. */
void symbolizer_trim(struct symbolizer *s);

/* Resolves n user addresses of (pid, gen) into out (reset first). A process
 * not tracked yet is tracked now if it is still running. 0 or -ENOMEM. */
int symbolizer_resolve_user(struct symbolizer *s, uint32_t pid, uint32_t gen, const uint64_t *addrs,
			    size_t n, struct sym_batch *out);
/* Loads the files that n user addresses of (pid, gen) fall in, without
 * naming anything: their debug files are then asked for (debuginfod), so a
 * caller can wait for the answers before resolving. */
void symbolizer_prefetch_user(struct symbolizer *s, uint32_t pid, uint32_t gen, const uint64_t *addrs, size_t n);
/* Resolves n kernel addresses into out (reset first). 0 or -ENOMEM. */
int symbolizer_resolve_kernel(struct symbolizer *s, const uint64_t *addrs, size_t n, struct sym_batch *out);

void sym_batch_init(struct sym_batch *b);
void sym_batch_release(struct sym_batch *b);

void symbolizer_stats(const struct symbolizer *s, struct symbolizer_stats *out);

/* A file that left addresses without a name, and why its names are missing. */
struct sym_unnamed_file {
	const char *path;     /* as its process mapped it */
	const char *build_id; /* NULL when it has none */
	uint64_t addresses;   /* distinct addresses left unnamed (each time asked) */
	bool has_symtab;      /* its own full symbol table (not only exported symbols) */
	bool debug_file;      /* a debug file (or mini debuginfo) was found */
	int debuginfod_err;   /* 0 when not asked, else its answer (debuginfod.h) */
	bool host_root;       /* path is in our root (not another mount namespace's) */
};
/* Calls fn for each file still held that left addresses unnamed. */
void symbolizer_unnamed_files(const struct symbolizer *s, void (*fn)(void *ctx, const struct sym_unnamed_file *f),
			      void *ctx);
/* A file named from Go's function table (.gopclntab: a Go binary without
 * symbol table or DWARF). */
struct sym_go_file {
	const char *path;
	const char *layout;   /* of the table, by Go release: "go1.18-1.19" */
	uint64_t addresses;   /* distinct addresses it named (each time asked) */
	uint64_t unnamed;     /* and left unnamed */
};
/* Calls fn for each file still held that Go's table named addresses of. */
void symbolizer_go_files(const struct symbolizer *s, void (*fn)(void *ctx, const struct sym_go_file *f), void *ctx);
/* The first error loading kernel symbols (0 if none or not tried). */
int symbolizer_kernel_error(const struct symbolizer *s);

#endif

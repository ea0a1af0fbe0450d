/* SPDX-License-Identifier: MIT */
/*
 * unwind: keeps the BPF side's unwind tables (bpf/scorch.h) in step with the
 * processes being sampled, for --unwind dwarf|auto.
 *
 * A process's executable mappings and the files behind them are the
 * symbolizer's snapshot (symbolizer_mapping): this module reads no /proc
 * and opens no mapped file of its own.  Each file's CFI is compiled once
 * (symbolize/cfi.h) and its rows copied into the memory-mapped row array,
 * shared by every process that maps the file (a file is the symbolizer's:
 * device, inode and modification time).  The process's current mappings,
 * with the bias of each (symbolize/elfseg.h's rule, the symbolizer's too)
 * and its row slice, then go to unwind_procs.
 * The [vdso] is compiled from scorch's own copy (one per kernel).  A file
 * whose own CFI describes less than half its code gets the .debug_frame of
 * its separate debug file added (symbolize/debuginfo.h's lookup).
 *
 * A file no tracked process maps any more (the session, session.h, has
 * unwind_forget drop processes the BPF side has seen exit or exec) keeps
 * its rows while idle, up to 64 such files: the next process to map it
 * takes them again uncompiled.  The idle file let go longest ago is
 * dropped first, and whenever rows are needed for another.  Row
 * space is allocated first-fit (rowspace.h); a file that does not fit is left to frame
 * pointers and counted (table_full).
 */
#ifndef SCORCH_PROFILER_UNWIND_H
#define SCORCH_PROFILER_UNWIND_H

#include <stdbool.h>
#include <stdint.h>

#include "capture.h"
#include "symbolize/cfi.h"

struct symbolizer;

struct unwind;

struct unwind_stats {
	uint64_t processes;       /* processes given tables (each exec generation once) */
	uint64_t updates;         /* unwind_procs updates */
	uint64_t procs_full;      /* updates refused: unwind_procs full */
	uint64_t mappings_dropped;/* executable mappings past UNWIND_MAX_MAPPINGS */
	uint64_t files;           /* files compiled */
	uint64_t files_no_cfi;    /* files without CFI (frame pointers there) */
	uint64_t files_failed;    /* files that could not be opened or parsed */
	uint64_t files_debug_frame; /* files whose rows came partly from a separate debug file's .debug_frame */
	uint64_t files_gopclntab; /* Go files without CFI whose rows came from .gopclntab's frame sizes */
	uint64_t rows_gopclntab;  /* the rows they were compiled into */
	uint64_t table_full;      /* files left out: no room in the row array */
	uint64_t files_reused;    /* tables no process mapped, kept and taken again (not compiled again) */
	uint64_t files_evicted;   /* idle tables dropped: too many kept, or their rows needed */
	uint64_t rows;            /* rows in use now */
	uint64_t rows_peak;
	uint64_t rows_cap;
	uint64_t compile_ns;      /* CPU time compiling tables (the thread's: wall time counts waits) */
};

/* Maps the row array of maps (owned by the capture, which must outlive the
 * result).  debug_root: where separate debug files are looked for (NULL:
 * /usr/lib/debug), for files whose own CFI covers too little. 0 or -errno. */
int unwind_new(const struct capture_unwind_maps *maps, const char *debug_root, struct unwind **out);
void unwind_free(struct unwind *u);

/* Gives (pid, gen) tables for the mappings sym has read for it (call it
 * after symbolizer_track).  0, -ESRCH when sym does not track it, other
 * -errno when the BPF map refused the update. */
int unwind_track(struct unwind *u, const struct symbolizer *sym, uint32_t pid, uint32_t gen);
struct cfi_row;
/* Gives (pid, gen)'s anonymous executable mappings (a JIT's code) rows of
 * their own, by process address, replacing those given before (n 0: none),
 * and installs them (unwind_track).  The rows are copied.  0 or -errno. */
int unwind_set_jit(struct unwind *u, const struct symbolizer *sym, uint32_t pid, uint32_t gen,
		   const struct cfi_row *rows, size_t n);
/* Releases (pid, gen)'s tables: it has exited or exec'd. */
void unwind_forget(struct unwind *u, uint32_t pid, uint32_t gen);

/*
 * A command's first samples: the files it maps at exec (the executable, or a
 * script's #! interpreter, and the dynamic loader it names) and the
 * libraries it needs that scorch maps too (libc) are compiled on a thread
 * of their own while the BPF object loads, so that when the command is
 * announced at exec its tables only need installing.
 */
struct unwind_preload;

/* Starts compiling path's tables (debug_root as for unwind_new). 0 or
 * -errno (nothing started). */
int unwind_preload_start(const char *path, const char *debug_root, struct unwind_preload **out);
/* Waits for the thread and gives its tables to u, which keeps them until
 * unwind_free.  u NULL: only waits.  Frees pl; pl NULL does nothing. */
void unwind_preload_finish(struct unwind *u, struct unwind_preload *pl);

void unwind_stats(const struct unwind *u, struct unwind_stats *out);

/* A file's rows as the unwinder holds them, borrowed read-only: t's rows
 * and segments must not be freed or outlive u (t.n 0: the file has no
 * CFI). */
struct unwind_view {
	struct cfi_table t;
	void *map;
	size_t len;
};
/* The rows held for the file mapped as path (as the first process to map
 * it named it) whose build ID is build_id (NULL: any), in use or kept
 * idle.  0, -ENOENT when no such table is held (never compiled, or
 * dropped), other -errno. */
int unwind_view_file(const struct unwind *u, const char *path, const char *build_id, struct unwind_view *v);
void unwind_view_release(struct unwind_view *v);

/* The rows the unwinder gives the file open at fd (path in the process
 * whose root is root, "" for ours): its CFI, its separate debug file's
 * .debug_frame where its own covers less than half its code (from_debug
 * tells), and rows for functions without CFI that never move rsp
 * (symbolize/leafcfi.h).  0 or -errno as cfi_compile. */
int unwind_compile(int fd, const char *debug_root, const char *root, const char *path, struct cfi_table *ct,
		   bool *from_debug);

#endif

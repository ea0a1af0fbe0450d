/* SPDX-License-Identifier: MIT */
/*
 * gopclntab: the function table Go keeps in every binary for its own
 * runtime (tracebacks, stack growth), which `-ldflags='-s -w'` leaves in
 * place: per function its name, and per pc its source file, line and stack
 * frame size (the pcsp table).  It names the code of a stripped Go binary
 * and gives unwind rows where Go emits no CFI.
 *
 * Layouts read (by the header's magic): go1.16-1.17 (0xfffffffa), go1.18-1.19
 * (0xfffffff0) and go1.20 and later (0xfffffff1), 64-bit only.  The table is
 * found by its section (.gopclntab), else, for a Go binary (.go.buildinfo or
 * .note.go.buildid) or one without section headers, by searching its
 * read-only and RELRO segments for a header that validates (PIE and
 * externally linked binaries keep it inside .data.rel.ro).  Inline trees
 * (go1.18+) are read where the module data that locates them is found (not
 * in a PIE, whose pointers are relocated at load).
 *
 * Every read is bounds-checked: malformed tables fail with -EINVAL at load
 * (the function table and its entries are checked there) or give no answer
 * for the pcs they cover.
 */
#ifndef SCORCH_SYMBOLIZE_GOPCLNTAB_H
#define SCORCH_SYMBOLIZE_GOPCLNTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gelf.h>

struct gopclntab;

/* A pc's function and position.  Strings point into the table. */
struct gopc_line {
	const char *name;
	const char *file; /* NULL unknown */
	uint32_t line;    /* 0 unknown */
	uint64_t entry;   /* the function's first pc */
};

/* One function's extent and what its frame-size table means. */
struct gopc_func {
	uint64_t entry, end;
	const char *name;
	bool top;     /* outermost frame of a goroutine or thread (runtime.goexit, mstart, rt0_go) */
	bool spwrite; /* writes SP arbitrarily (stack switches): its sizes do not hold */
};

/* Finds and reads the table of the ELF file open at fd (fd stays the
 * caller's; the table maps the file).  0, -ENOENT when it has none, -EINVAL
 * when the one found is malformed, -ENOMEM.  Free with gopclntab_free. */
int gopclntab_load_fd(int fd, struct gopclntab **out);
/* The same from an ELF file open with libelf, borrowed: it must outlive
 * the table. */
int gopclntab_load_elf(Elf *elf, struct gopclntab **out);
/* Reads a table from size bytes at buf (copied); text_start stands in for
 * the header's text start when that is 0 (go1.18+ PIE, relocated at load).
 * Errors as above. */
int gopclntab_parse(const void *buf, size_t size, uint64_t text_start, struct gopclntab **out);
void gopclntab_free(struct gopclntab *t);

/* "go1.16-1.17", "go1.18-1.19" or "go1.20+". */
const char *gopclntab_layout(const struct gopclntab *t);
size_t gopclntab_nfuncs(const struct gopclntab *t);

/* The function containing pc (a file virtual address) and its file and
 * line there.  0, -ENOENT outside every function, -EINVAL when its entry is
 * malformed. */
int gopclntab_lookup(const struct gopclntab *t, uint64_t pc, struct gopc_line *out);
/* The same as a chain: the function, then one entry per call inlined at
 * pc, outermost first, each with its position (the function's and each
 * outer call's: where the next one was called; the innermost: pc's), at
 * most max.  The count (1 without inline tree), or as gopclntab_lookup. */
int gopclntab_lookup_inline(const struct gopclntab *t, uint64_t pc, struct gopc_line *out, size_t max);
/* Function i (0 .. gopclntab_nfuncs - 1), in order of address.  0 or -EINVAL. */
int gopclntab_func(const struct gopclntab *t, size_t i, struct gopc_func *out);
/* Calls fn for each run of function i's frame-size table, in order: from pc
 * to the next run's pc (or the function's end) the stack pointer is sp bytes
 * below where it was at entry (the return address not counted).  Stops at
 * fn's first non-zero return and returns it; 0 or -EINVAL for a malformed
 * table (the runs before it were given). */
int gopclntab_pcsp(const struct gopclntab *t, size_t i, int (*fn)(void *ctx, uint64_t pc, int32_t sp), void *ctx);

#endif

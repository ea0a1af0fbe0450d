/* SPDX-License-Identifier: MIT */
/*
 * dwarfidx: source lines and inline chains from the DWARF of one ELF file,
 * read with libdw.  Opening reads only the compilation units' address ranges;
 * a unit's functions and inlined calls are indexed the first time an address
 * falls in it (a sorted range table with a link to the enclosing range), so a
 * lookup is two binary searches and a walk up the inline chain.
 *
 * Names and file names are interned in the caller's string pool, so what a
 * lookup returns outlives the index (which a cache may evict).
 */
#ifndef SCORCH_SYMBOLIZE_DWARFIDX_H
#define SCORCH_SYMBOLIZE_DWARFIDX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "symbolize/strpool.h"

struct dwarfidx;

/* One function in an inline chain. */
struct dw_frame {
	const char *name; /* linkage (mangled) name when the DWARF has one, else DW_AT_name; NULL unknown */
	bool mangled;     /* name is a linkage name */
	const char *file; /* source file of the line below; NULL unknown */
	uint32_t line;    /* in this function: the call site of the next frame, or the address's line */
};

/* Opens the DWARF of the ELF file open on fd (dup'ed; the caller keeps fd).
 * -ENODATA when it has no .debug_info, -errno otherwise. Free with dwarfidx_free. */
int dwarfidx_open(int fd, struct strpool *pool, struct dwarfidx **out);
void dwarfidx_free(struct dwarfidx *d);

/* The chain of functions containing vaddr, outermost first (the function,
 * then each inlined call), at most cap of them (the innermost are kept).
 * Returns how many were written: 0 when no DWARF covers vaddr. */
size_t dwarfidx_lookup(struct dwarfidx *d, uint64_t vaddr, struct dw_frame *out, size_t cap);
/* Heap bytes held by the index and libdw's tables for it (an estimate). */
size_t dwarfidx_bytes(const struct dwarfidx *d);
/* True when its sections were compressed in the file: they are held
 * inflated, and opening the index again means inflating them again. */
bool dwarfidx_compressed(const struct dwarfidx *d);
/* True for a .debug_* section the index never reads (location lists,
 * macros, name tables): dwarfidx_open hides it from libdw. */
bool dwarfidx_unread_section(const char *name);
/* Bytes of DWARF sections (.debug_*) in the file. */
/* The section of a stored unit table: dwarfidx_open takes each unit's
 * address ranges from it instead of reading every unit's first DIE. */
#define DWARFIDX_UNITS_SECTION ".scorch.units"
struct Elf;
/* The unit table of the DWARF in elf (libelf's, its sections readable,
 * inflated already if they were compressed), as dwarfidx_open would find
 * it, serialized for DWARFIDX_UNITS_SECTION into *image (malloc'ed). */
int dwarfidx_units_image(struct Elf *elf, void **image, size_t *len);
/* Gives back the resident pages of elf's read-only mapping of its file
 * (clean: a page read again comes back from the file). */
void dwarfidx_drop_mapped(struct Elf *elf);
size_t dwarfidx_dwarf_size(const struct dwarfidx *d);

#endif

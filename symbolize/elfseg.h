/* SPDX-License-Identifier: MIT */
/*
 * elfseg: an ELF file's loadable segments, and the one rule by which a
 * mapping of the file turns file offsets into the file's virtual addresses
 * (the addresses its symbols, DWARF and CFI use).  The symbol tables, the
 * CFI tables the unwinder installs and the Python interpreter's symbols all
 * translate through it, so a mapping means the same to each.
 *
 * The rule: an offset belongs to the PT_LOAD segment whose bytes contain
 * it; failing that, to the segment whose first page contains it, since the
 * kernel maps from the page boundary at or before a segment's offset (a
 * mapping of the text segment at offset 0x1000 covers a segment starting at
 * 0x1040).  The address is then offset - p_offset + p_vaddr.
 */
#ifndef SCORCH_SYMBOLIZE_ELFSEG_H
#define SCORCH_SYMBOLIZE_ELFSEG_H

#include <gelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct elf_segment {
	uint64_t offset, vaddr, filesz;
};

/* The PT_LOAD segments of elf (only executable ones when exec_only), in
 * program header order, into a new array *out of *n.  0, -EINVAL when the
 * program headers cannot be read, -ENOMEM. */
int elfseg_read(Elf *elf, bool exec_only, struct elf_segment **out, size_t *n);

/* The segment file offset off belongs to (the rule above), or NULL. */
const struct elf_segment *elfseg_find(const struct elf_segment *segs, size_t n, uint64_t off);

/* off as a file virtual address. 0 or -ERANGE when no segment has it. */
int elfseg_vaddr(const struct elf_segment *segs, size_t n, uint64_t off, uint64_t *vaddr);

/* The section of elf called name (its header into *sh), or NULL when
 * there is none or it has no bytes in the file (SHT_NOBITS). The one
 * by-name lookup of the CFI compiler, debug-link reader and Go table. */
Elf_Scn *elfseg_section(Elf *elf, const char *name, GElf_Shdr *sh);

/* For a mapping of the file at map_start from file offset map_offset: the
 * bias such that file address = runtime address - bias.  0 or -ERANGE. */
int elfseg_bias(const struct elf_segment *segs, size_t n, uint64_t map_start, uint64_t map_offset,
		uint64_t *bias);
/* elfseg_bias for a mapping of elf, its segments read for the call. 0,
 * -ERANGE, or elfseg_read's error. */
int elfseg_map_bias(Elf *elf, uint64_t map_start, uint64_t map_offset, uint64_t *bias);

#endif

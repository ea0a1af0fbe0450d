/* SPDX-License-Identifier: MIT */
/*
 * cfi: an ELF file's call frame information (.eh_frame, or .debug_frame of
 * its separate debug file) compiled into a flat table an unwinder can
 * binary-search, for x86-64.
 *
 * A table is rows sorted by pc (file virtual addresses), each valid from its
 * pc up to the next row's: how to find the canonical frame address (CFA:
 * the caller's stack pointer), where the caller's rbp was saved, or that the
 * frame is the outermost (END) or not covered by any FDE (GAP).  The return
 * address is always at CFA - 8 (the x86-64 ABI; an FDE saying otherwise
 * becomes UNSUPPORTED).  Consecutive rows with the same rule are merged.
 *
 * The module knows nothing of BPF or processes: the table is plain data.
 */
#ifndef SCORCH_SYMBOLIZE_CFI_H
#define SCORCH_SYMBOLIZE_CFI_H

#include <stddef.h>
#include <stdint.h>

#include "symbolize/elfseg.h"

/* How the CFA is computed (cfi_row.cfa_type). */
enum cfi_cfa {
	CFI_CFA_GAP = 0,     /* no FDE covers this pc (hand-written code, padding) */
	CFI_CFA_RSP = 1,     /* CFA = rsp + cfa_offset */
	CFI_CFA_RBP = 2,     /* CFA = rbp + cfa_offset */
	CFI_CFA_PLT = 3,     /* CFA = rsp + cfa_offset + ((pc & 15) >= rbp_offset ? 8 : 0): PLT stubs */
	CFI_CFA_END = 4,     /* outermost frame (return address undefined): the stack is complete */
	CFI_CFA_UNSUPPORTED = 5, /* a rule this table cannot express */
	CFI_CFA_SIGNAL = 6,  /* signal trampoline: CFA = *(rsp + cfa_offset); the interrupted
	                        rip is at rsp + cfa_offset + 8, rbp at rsp + rbp_offset */
};

/* Where the caller's rbp is (cfi_row.rbp_type). */
enum cfi_rbp {
	CFI_RBP_UNCHANGED = 0,  /* rbp keeps its value */
	CFI_RBP_CFA_OFFSET = 1, /* saved at CFA + rbp_offset */
};

/* 16 bytes: the layout BPF maps hold as well. */
struct cfi_row {
	uint64_t pc;
	int32_t cfa_offset;
	int16_t rbp_offset; /* PLT rows: the threshold of (pc & 15) */
	uint8_t cfa_type;   /* enum cfi_cfa */
	uint8_t rbp_type;   /* enum cfi_rbp */
};

struct cfi_table {
	struct cfi_row *rows; /* sorted by pc; owned by the table */
	size_t n;
	struct elf_segment *segs; /* PT_LOAD segments with PF_X (for elfseg_bias); owned by the table */
	size_t nsegs;
	uint32_t fdes;        /* FDEs compiled */
	uint32_t unsupported; /* rows with CFI_CFA_UNSUPPORTED (before merging) */
	uint32_t signal;      /* signal trampoline rows */
	int from_debug_frame; /* some rows came from .debug_frame */
	int from_gopclntab;   /* the rows came from Go's frame sizes (a Go binary without CFI) */
	uint64_t covered;     /* bytes of code the FDEs describe */
};

/* Compiles the CFI of the ELF file open at fd: the FDEs of its .eh_frame
 * and of the .debug_frame of debug_fd (a separate debug file), or of fd
 * itself with debug_fd -1, together (.eh_frame's where both describe an
 * address).  A binary built without unwind tables has FDEs in .eh_frame
 * for the C runtime's startup code only, the rest in .debug_frame.  The
 * descriptors are not closed.  0, -ENOENT when there is no CFI, -ENOTSUP for another machine
 * than x86-64, -EINVAL for malformed data, -ENOMEM.  A Go binary without
 * either (stripped with -w) gets its rows from the frame sizes of its
 * .gopclntab (symbolize/gopclntab.h) instead.  Release with
 * cfi_table_release. */
int cfi_compile(int fd, int debug_fd, struct cfi_table *out);
/* The same for an ELF image in memory (the vDSO); the image is not copied
 * and must outlive the call only. */
int cfi_compile_image(const void *image, size_t size, struct cfi_table *out);
void cfi_table_release(struct cfi_table *t);


/* The row in effect at file address pc, or NULL before the first row. */
const struct cfi_row *cfi_table_find(const struct cfi_table *t, uint64_t pc);

#endif

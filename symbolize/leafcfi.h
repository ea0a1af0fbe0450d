/* SPDX-License-Identifier: MIT */
/*
 * leafcfi: unwind rows for functions without CFI that never move the stack
 * pointer, from their code.
 *
 * Hand-written assembly (musl's memcpy, memmove and memset on x86-64) and
 * libraries built without unwind tables leave gaps in a file's CFI; a
 * sample there fell back to frame pointers, which such code does not keep,
 * and the stack ended.  A function entered by a call whose instructions
 * never write rsp (calls and returns aside) nor rbp keeps its return
 * address at rsp and its caller's rbp throughout: CFA = rsp + 8, rbp
 * unchanged, at every pc.  Each function of the file's symbol table lying
 * wholly in a gap is decoded (capstone) from its start to its end (its
 * size, else the next symbol's address): it gets that row only if every
 * byte decodes and no instruction writes rsp or rbp; anything else (a
 * push, a frame, an undecodable byte) leaves the gap as it was.
 */
#ifndef SCORCH_SYMBOLIZE_LEAFCFI_H
#define SCORCH_SYMBOLIZE_LEAFCFI_H

#include "symbolize/cfi.h"

/*
 * Adds to t (compiled from the ELF file open at fd) a row for each such
 * function, and a gap row after it; rows stay sorted and merged.  The
 * number of functions given rows (0 without a symbol table), or -ENOMEM
 * (t unchanged).  fd is not closed.
 */
int leafcfi_add(int fd, struct cfi_table *t);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * hotspot: the frame sizes of a HotSpot JVM's compiled code, read from its
 * memory.  libjvm.so exports a description of its own structures
 * (gHotSpotVMStructs: type, field, offset; the table the serviceability
 * agent reads), set up when the JVM starts; from it the offsets of
 * CodeBlob's _code_begin, _code_end and _frame_size.  A compiled method's
 * CodeBlob header lies shortly before its code: it is found as the aligned
 * word, in the few KiB before code_begin, that holds code_begin itself, and
 * accepted only when its _code_end is the code's end too.  Layouts where
 * CodeBlob keeps offsets instead of pointers (JDK 23+) are not known:
 * hotspot_open says -ENOTSUP.  The process is untrusted: every value is
 * checked, a failure costs a method its frame size, never a crash.
 */
#ifndef SCORCH_SYMBOLIZE_HOTSPOT_H
#define SCORCH_SYMBOLIZE_HOTSPOT_H

#include <stdint.h>

struct hotspot;

/* Reads the layout of the JVM pid from its memory; libjvm_fd is its
 * libjvm.so, mapped at map_start from file offset map_offset (an
 * executable mapping).  0, -ENOENT (not a JVM with exported structures, or
 * not set up yet), -ENOTSUP (a layout not known), -ESRCH (gone), -ENOMEM. */
int hotspot_open(uint32_t pid, int libjvm_fd, uint64_t map_start, uint64_t map_offset, struct hotspot **out);
void hotspot_free(struct hotspot *h);

/* The frame size in bytes (return address included) of the compiled code
 * at [code_begin, code_end).  0, -ENOENT when its header is not found,
 * -EINVAL when its values are not plausible. */
int hotspot_frame_size(const struct hotspot *h, uint64_t code_begin, uint64_t code_end, uint32_t *out);

#endif

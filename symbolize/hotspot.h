/* SPDX-License-Identifier: MIT */
/*
 * hotspot: a HotSpot JVM's structures read from its memory: the frame
 * sizes of its compiled code, the interpreter's code range and the names
 * of the methods its interpreted frames run.  libjvm.so exports a description of its own structures
 * (gHotSpotVMStructs: type, field, offset; the table the serviceability
 * agent reads), set up when the JVM starts; from it the offsets of
 * CodeBlob's _code_begin, _code_end and _frame_size.  A compiled method's
 * CodeBlob header lies shortly before its code: it is found as the aligned
 * word, in the few KiB before code_begin, that holds code_begin itself, and
 * accepted only when its _code_end is the code's end too; where CodeBlob
 * keeps offsets instead of pointers (JDK 23+), as the 8-aligned address
 * whose _code_offset and _data_offset land on the code's start and end.  A method is named from Method::_constMethod ->
 * ConstMethod::_constants (the ConstantPool, whose entries follow its
 * header: the name and signature Symbols at ConstMethod's indices) and
 * ConstantPool::_pool_holder -> Klass::_name, offsets and the pool's
 * header size all from gHotSpotVMStructs and gHotSpotVMTypes.  The process is untrusted: every value is
 * checked, a failure costs a method its frame size, never a crash.
 */
#ifndef SCORCH_SYMBOLIZE_HOTSPOT_H
#define SCORCH_SYMBOLIZE_HOTSPOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hotspot;

/* Reads the layout of the JVM pid from its memory; libjvm_fd is its
 * libjvm.so, mapped at map_start from file offset map_offset (an
 * executable mapping).  0, -ENOENT (not a JVM with exported structures, or
 * not set up yet), -ENOTSUP (neither frame sizes nor method names known),
 * -ESRCH (gone), -ENOMEM. */
int hotspot_open(uint32_t pid, int libjvm_fd, uint64_t map_start, uint64_t map_offset, struct hotspot **out);
void hotspot_free(struct hotspot *h);

/* Whether the layout gives compiled code's frame sizes. */
bool hotspot_has_frames(const struct hotspot *h);

/* [start, end) of the template interpreter's code (AbstractInterpreter::
 * _code's stub buffer): 0, -ENOTSUP, -ENOENT (not set up yet). */
int hotspot_interpreter(const struct hotspot *h, uint64_t *start, uint64_t *end);

/* What a Method* names, as the JVM spells it ("Shape$Sixty", "work",
 * "(JI)J"), each cut to fit. */
struct hotspot_raw {
	char klass[256], name[128], signature[256];
	char source[128]; /* the class's source file ("Shape.java"), or "" */
};
/* Reads the method at Method* method: its ConstMethod* in *const_method
 * (which a Method keeps for life: a later read equal to it means the same
 * method), and with out its names.  0, -ENOTSUP (layout not known),
 * -EINVAL (not a method), -ESRCH. */
int hotspot_method_raw(const struct hotspot *h, uint64_t method, uint64_t *const_method, struct hotspot_raw *out);
/* The source line of the bytecode at bcp (its low bits: bcp & bcp_mask)
 * in the method whose ConstMethod* is const_method, from its compressed
 * line number table (after its bytecodes); 0 when it has none or the bcp
 * is not in its code. */
int hotspot_line(const struct hotspot *h, uint64_t const_method, uint32_t bcp_low, uint32_t bcp_mask);
/* The line of bytecode index bci in a compressed line number table
 * (t[0..len)); 0 when the table gives none.  u5_excludes_zero: its numbers
 * in JDK 20+'s UNSIGNED5, whose bytes are one more than before (taken as
 * going with JDK 21's ConstMethodFlags: JDK 20 is read as older ones). */
int hotspot_line_of(const uint8_t *t, size_t len, uint32_t bci, bool u5_excludes_zero);

/* The method as perf maps name it: "long Shape$Sixty.work(long, int)".
 * 0, -EINVAL (a malformed signature), -ENAMETOOLONG. */
int hotspot_format(const struct hotspot_raw *r, char *out, size_t len);

/* Compiler.codelist's answer (JDK 9+: a line per compiled method, "ID TIER
 * STATE CLASS.NAME(SIG)RET [0xHEADER, 0xBEGIN - 0xEND]", the signature in
 * the JVM's form) as a perf map's text: "BEGIN SIZE long Shape$Sixty.work(long,
 * int)" per method, named as hotspot_format names them.  Lines that are not
 * such (the result code, blank ones, malformed ones) are left out, counted
 * in *skipped (blank ones not).  *out is the caller's (free), NUL-terminated,
 * *out_len bytes.  0 or -ENOMEM. */
int hotspot_codelist(const char *text, size_t len, char **out, size_t *out_len, size_t *skipped);

/* The frame size in bytes (return address included) of the compiled code
 * at [code_begin, code_end).  0, -ENOENT when its header is not found,
 * -EINVAL when its values are not plausible. */
int hotspot_frame_size(const struct hotspot *h, uint64_t code_begin, uint64_t code_end, uint32_t *out);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * pprof: Google's profile.proto (formats/profile.proto), gzip-compressed on
 * write, plain or gzip on read.
 *
 * How the model maps onto pprof:
 *  - Sample types: "samples/count" (the stored count) and, when
 *    meta.period_ns > 0, "cpu/nanoseconds" (count * period_ns), which is then
 *    the default; period type "cpu/nanoseconds", period = period_ns.
 *  - A Location is a caller frame followed by its FRAME_INLINED frames (our
 *    root-first order); its Lines are the same frames innermost first.  An
 *    inlined frame at the very root of a stack has no caller to attach to and
 *    reads back as a user frame.
 *  - Frame kinds live in the Location's Mapping: kernel frames without a
 *    mapping get a mapping named "[kernel.kallsyms]", JIT frames without one
 *    get "[jit]".  On read a frame is kernel when its mapping's file starts
 *    with "[kernel" or its address is in the upper (kernel) half of the address
 *    space, JIT when the file is "[jit]" or a perf map ("perf-PID.map"), and a
 *    Line after a Location's first (outermost) one is inlined.  (A kernel
 *    frame whose own mapping has another name and a user-space address reads
 *    back as a user frame; `record` gives kernel frames kernel addresses.)
 *  - Mapping has_* flags are the mapping's flags, plus (when it has
 *    MAPPING_HAS_FUNCTIONS) what its Locations show: file names, line numbers,
 *    inline frames.  A mapping whose flags are all clear stays so, which asks
 *    pprof to symbolize it.  Synthetic mappings get what their Locations show.
 *  - Labels are Sample labels (string values as str, numeric as num), never
 *    frames.  The model's root labels are kept in a comment
 *    "scorch:root_labels=comm,pid", read back into meta.root_labels.
 *
 * Reading takes counts from the "samples" sample type when present; otherwise
 * from the default sample type (or the first), divided by the period when its
 * unit is the period's (e.g. cpu/nanoseconds in a profile without counts).
 * Zero values are skipped; negative values (diff profiles) are rejected.
 */
#ifndef SCORCH_FORMATS_PPROF_H
#define SCORCH_FORMATS_PPROF_H

#include <stddef.h>
#include <stdio.h>

#include "formats/format_error.h"
#include "formats/profile.h"

/* Writes p as gzip-compressed profile.proto. 0 or -errno.  Strings that
 * are not valid UTF-8 (names from untrusted binaries) are written repaired,
 * each run of invalid bytes as one U+FFFD. */
int pprof_write(const struct profile *p, FILE *out);
/* The same, with the size of the profile before compression in *raw_bytes
 * (what servers' size limits count). */
int pprof_write_sized(const struct profile *p, FILE *out, size_t *raw_bytes);
/* Parses a plain or gzip-compressed profile.proto into p (merged: metadata
 * fields already set in p are kept).  0 or -errno with e->msg set; p may hold
 * part of the input after a failure. */
int pprof_read(const void *buf, size_t len, struct profile *p, struct format_error *e);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * folded: Brendan Gregg's collapsed stack format, one line per unique stack:
 *   root;child;leaf COUNT
 * Frame kinds are name suffixes: _[k] kernel, _[i] inlined, _[j] JIT,
 * _[p] Python.
 */
#ifndef SCORCH_FORMATS_FOLDED_H
#define SCORCH_FORMATS_FOLDED_H

#include <stdbool.h>
#include <stdio.h>

#include "formats/format_error.h"
#include "formats/profile.h"
#include "formats/stack_view.h"

/* The suffix folded output appends for a frame kind ("" for user frames). */
const char *folded_kind_suffix(uint32_t kind);

/*
 * Writes one line per unique display stack (stack_view: root labels, then
 * frames with their kind suffix), counts of stacks that display the same
 * merged, sorted by the bytes of the stack text.  ';' in a name is written
 * as ':', line breaks as spaces, an empty or blank name as "[unknown]", and a
 * line whose first frame starts with '#' (a comment to the reader) after a
 * space, so that every sample reads back.  With lines, a frame with a known source
 * file is written "name file:line".  A sample without frames or root labels
 * is written as "[unknown]".  0 or -errno (-EIO or the write's errno).
 */
int folded_write(const struct profile *p, bool lines, FILE *out);

/*
 * Reads a folded file into p (name is used in error messages:
 * "NAME:LINE: ...").  Lines of the same stack add up, also across files.
 * Accepted: LF or CRLF line ends, a last line without one, blank lines and
 * lines starting with '#' (skipped), spaces or tabs before the count, count 0
 * (frames interned, nothing added), empty frames ("a;;b", skipped).  Blanks
 * (and CRs) at the end of a frame name are dropped, as they are for the last
 * frame, so "a ;b" reads as "a;b".
 * 0, -EINVAL for a malformed line (e->msg says which and why), -EOVERFLOW
 * when counts pass INT64_MAX, -EIO on a read error, -ENOMEM.
 */
int folded_read(FILE *in, const char *name, struct profile *p, struct format_error *e);
/* The same, for input of which the first plen bytes were already read (to
 * sniff the format) into prefix. */
int folded_read_prefixed(const void *prefix, size_t plen, FILE *in, const char *name, struct profile *p,
			 struct format_error *e);

#endif

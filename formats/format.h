/* SPDX-License-Identifier: MIT */
/*
 * format: choosing a profile format by name, path or content, and reading or
 * writing a whole file in it.  Files are written under a temporary name and
 * renamed into place (base/atomicfile.h).
 */
#ifndef SCORCH_FORMATS_FORMAT_H
#define SCORCH_FORMATS_FORMAT_H

#include <stdbool.h>
#include <stdio.h>

#include "formats/format_error.h"
#include "formats/profile.h"
#include "formats/svg.h"

enum profile_format {
	FORMAT_UNKNOWN = 0,
	FORMAT_FOLDED,
	FORMAT_SVG,
	FORMAT_PPROF,
};


/* "folded"/"collapsed"/"txt", "svg", "pprof"/"pb" (any case); FORMAT_UNKNOWN otherwise. */
enum profile_format format_from_name(const char *name);
/* By extension (any case): .folded .collapsed .txt, .svg, .pb.gz .pb .pprof;
 * FORMAT_UNKNOWN otherwise. */
enum profile_format format_from_path(const char *path);
/* By content: "<?xml", "<svg" or "<!DOCTYPE" -> svg; gzip or protobuf (a
 * control byte in the first 512) -> pprof; text (or nothing) -> folded. */
enum profile_format format_sniff(const void *buf, size_t len);
const char *format_name(enum profile_format f);

struct write_opts {
	bool lines;	     /* folded: append " file:line" to frame names when known */
	struct svg_opts svg; /* svg only */
};
void write_opts_init(struct write_opts *o);

/* Reads path ("-" for stdin) in the format its content shows into p (merged
 * with what p holds).  Folded input is streamed (memory grows with unique
 * stacks, not file size).  0 or -errno with e->msg set ("PATH: ..." or
 * "PATH:LINE: ..."); p may hold part of the input after an error. */
int profile_read_path(const char *path, struct profile *p, struct format_error *e);
/* Writes p to path in format f; path "-" or NULL writes to stdout.  A regular
 * file (or symlink, which is replaced) is written atomically: on error
 * nothing changes at path.  An existing device or FIFO (/dev/null) is
 * written in place.  0 or -errno with e->msg set (-EISDIR for a directory). */
int profile_write_path(const struct profile *p, const char *path, enum profile_format f,
		       const struct write_opts *o, struct format_error *e);

#endif

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

#include "formats/profile.h"
#include "formats/svg.h"

enum profile_format {
	FORMAT_UNKNOWN = 0,
	FORMAT_FOLDED,
	FORMAT_SVG,
	FORMAT_PPROF,
};

/* A reader's or writer's description of what went wrong, for one line of stderr. */
struct format_error {
	char msg[256];
};

/* Sets e->msg (printf-style) and returns err; e may be NULL. */
int format_fail(struct format_error *e, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "folded"/"collapsed"/"txt", "svg", "pprof"/"pb"; FORMAT_UNKNOWN otherwise. */
enum profile_format format_from_name(const char *name);
/* By extension: .folded .collapsed .txt, .svg, .pb.gz .pb .pprof; FORMAT_UNKNOWN otherwise. */
enum profile_format format_from_path(const char *path);
/* By content: gzip or protobuf -> pprof, text -> folded. */
enum profile_format format_sniff(const void *buf, size_t len);
const char *format_name(enum profile_format f);

struct write_opts {
	bool lines;          /* folded: append " file:line" to frame names when known */
	struct svg_opts svg; /* svg only */
};
void write_opts_init(struct write_opts *o);

/* Reads path ("-" for stdin) in the format its content shows into p (merged
 * with what p holds). 0 or -errno with e->msg set. */
int profile_read_path(const char *path, struct profile *p, struct format_error *e);
/* Writes p to path in format f; path "-" or NULL writes to stdout.
 * Atomic for regular paths. 0 or -errno with e->msg set. */
int profile_write_path(const struct profile *p, const char *path, enum profile_format f,
		       const struct write_opts *o, struct format_error *e);

#endif

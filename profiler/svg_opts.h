/* SPDX-License-Identifier: MIT */
/* svg_opts: the flame graph options shared by record, convert and diff. */
#ifndef SCORCH_PROFILER_SVG_OPTS_H
#define SCORCH_PROFILER_SVG_OPTS_H

#include <getopt.h>
#include <stdio.h>

#include "formats/svg.h"

/* Copies base[0..nbase) and the SVG options into out (at most cap entries,
 * zero-terminated); returns the number of entries written. */
size_t svg_opts_longopts(struct option *out, size_t cap, const struct option *base, size_t nbase);
/* Handles getopt code c: 0 if it was an SVG option, 1 if not one, -EINVAL
 * for a bad value (already reported). */
int svg_opts_parse(struct svg_opts *o, int c, const char *arg);
void svg_opts_usage(FILE *out);

#endif

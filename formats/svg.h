/* SPDX-License-Identifier: MIT */
/*
 * svg: self-contained interactive SVG flame graphs (hover, click to zoom,
 * regex search, state kept in the URL).
 */
#ifndef SCORCH_FORMATS_SVG_H
#define SCORCH_FORMATS_SVG_H

#include <stdbool.h>
#include <stdio.h>

#include "formats/profile.h"

struct svg_opts {
	const char *title;     /* default "Flame Graph" (or "Icicle Graph" when inverted) */
	const char *subtitle;  /* NULL for none */
	const char *countname; /* default "samples" */
	const char *palette;   /* "hot" (default), "mem", "io", "module" */
	double minwidth;       /* pixels; narrower frames are pruned (default 0.1) */
	unsigned width;        /* image width in pixels (default 1200) */
	bool inverted;         /* icicle: root at the top */
	bool reverse;          /* merge stacks from the leaves */
};

void svg_opts_init(struct svg_opts *o);
/* Writes p as an SVG flame graph. 0 or -errno. */
int svg_write(const struct profile *p, const struct svg_opts *o, FILE *out);

#endif

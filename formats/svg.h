/* SPDX-License-Identifier: MIT */
/*
 * svg: self-contained interactive SVG flame graphs.
 *
 * The document needs nothing but a browser: frames are drawn as plain SVG
 * (so it also shows as a static image), and an embedded script adds hover
 * details and tooltip (full name, count, percentage of all samples), click
 * to zoom (ancestors stay, dimmed; "Reset Zoom" or Escape undoes), regular
 * expression search (Search button or Ctrl-F) with the matched share of all
 * samples counted once per sample however often the match nests, and the
 * zoom and search kept in the URL (?x=START&y=DEPTH&s=REGEXP).
 *
 * Frames are the stack view's display frames (folded.h: root labels, then
 * frames), merged by name and kind from the root (or from the leaves with
 * reverse), siblings sorted by name.  A frame narrower than minwidth pixels
 * is not drawn (its samples still count in its ancestors, and search does not
 * see it).  Colours are a hash of the name within a family per frame kind, so
 * a function has the same colour in every graph and kernel, inlined and JIT
 * frames stand apart; the "module" palette hashes the frame's mapping file.
 * Names are written as valid XML whatever their bytes (invalid UTF-8 shows as
 * U+FFFD); labels are cut to the frame's width, tooltips never.
 *
 * A differential flame graph (opts.diff set) draws one profile's shape and
 * compares every frame (a call path) with the same path in another profile:
 * the change of its inclusive share, in points, colours it (red grew, blue
 * shrank, white unchanged; full saturation at the largest change, or at one
 * point when no change is larger), and the tooltip and details line give both
 * counts, both shares and the change.  Paths only in the other profile are
 * not drawn.  Zoom, search and the URL state work as in any flame graph.
 */
#ifndef SCORCH_FORMATS_SVG_H
#define SCORCH_FORMATS_SVG_H

#include <stdbool.h>
#include <stdio.h>

#include "formats/profile.h"

/* What a differential flame graph compares the drawn profile with. */
struct svg_diff {
	const struct profile *other; /* the profile compared against (not drawn) */
	double share;		     /* share (1 = 100 %) one sample of the drawn profile stands for */
	double other_share;	     /* the same for other */
	bool negate;		     /* drawn is the base: changes are other - drawn, not drawn - other */
};

struct svg_opts {
	const char *title;     /* default "Flame Graph" (or "Icicle Graph" when inverted) */
	const char *subtitle;  /* NULL for none */
	const char *countname; /* default "samples" */
	const char *palette;   /* "hot" (default), "mem", "io", "module" */
	double minwidth;       /* pixels; narrower frames are pruned (default 0.1) */
	unsigned width;	       /* image width in pixels (default 1200) */
	bool inverted;	       /* icicle: root at the top */
	bool reverse;	       /* merge stacks from the leaves */
	const struct svg_diff *diff; /* NULL, or a differential flame graph */
};

/* Sets the defaults: everything 0 or NULL but minwidth 0.1 and width 1200. */
void svg_opts_init(struct svg_opts *o);
/* Writes p to out as an SVG flame graph (o NULL for the defaults).  0,
 * -ENOMEM, or -EIO when out has its error flag set afterwards. */
int svg_write(const struct profile *p, const struct svg_opts *o, FILE *out);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * svg_internal: state shared by the SVG flame graph writer's files, and by
 * nobody else.
 *
 * svg_tree.c merges the profile's samples into the graph: every display
 * frame (name and kind) becomes a name entry, sorted by name, and every kept
 * frame of the merged call tree becomes a struct svg_frame.  svg_text.c
 * escapes names for XML and JavaScript, fits labels and picks colours.
 * svg_script.c holds the CSS and JavaScript the document embeds, and svg.c
 * writes the document.
 */
#ifndef SCORCH_FORMATS_SVG_INTERNAL_H
#define SCORCH_FORMATS_SVG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/hashtab.h"
#include "formats/profile.h"
#include "formats/svg.h"

/* The kind of the synthetic root frame ("all"); never a frame_kind. */
#define SVG_KIND_ROOT 255u
/* No name id (an unused slot, a name no kept frame refers to). */
#define SVG_NONE UINT32_MAX

/* One distinct display frame: a name and a kind. */
struct svg_name {
	size_t off;	 /* into svg_graph.text: the name then the kind suffix, NUL-terminated */
	uint32_t len;	 /* bytes of the name without the suffix */
	uint32_t disp;	 /* bytes of the name with the suffix */
	uint32_t kind;	 /* enum frame_kind, or SVG_KIND_ROOT */
	uint32_t module; /* profile string id of the first mapping's file, 0 none */
	uint32_t out;	 /* id in the document's name table, SVG_NONE if unused */
};

/* A frame of the merged graph that is wide enough to draw. */
struct svg_frame {
	uint32_t depth; /* 0 is the root "all" */
	uint32_t name;	/* index into svg_graph.names */
	int64_t start;	/* samples to the left of the frame */
	int64_t count;	/* samples in the frame and its descendants */
	int64_t other;	/* the same path's samples in the diff's other profile */
};

struct svg_graph {
	char *text; /* names, see struct svg_name */
	size_t text_len, text_cap;
	struct svg_name *names; /* sorted by display name and kind, then the root */
	size_t nnames, cap_names;
	struct idxtab name_idx;
	struct svg_frame *frames; /* sorted by depth, then start */
	size_t nframes, cap_frames;
	uint32_t max_depth;
	uint32_t nout; /* names with an out id: 0..nout-1 */
	int64_t total;
	int64_t other_total; /* samples of the diff's other profile, 0 without one */
	double scale;	     /* pixels per sample */
};

/* Merges p's samples into g (root first, or from the leaves with o->reverse)
 * and keeps the frames at least o->minwidth pixels wide.  0 or -ENOMEM. */
int svg_graph_build(struct svg_graph *g, const struct profile *p, const struct svg_opts *o);
void svg_graph_release(struct svg_graph *g);
static inline const char *svg_name_str(const struct svg_graph *g, uint32_t name)
{
	return g->text + g->names[name].off;
}

/* Horizontal padding of the graph, pixels on each side. */
#define SVG_PAD 10.0
/* Label metrics: font size and the average glyph width per font size. */
#define SVG_FONT_SIZE 12.0
#define SVG_CHAR_WIDTH 0.59

/* Writes s (len bytes) as XML character data, escaped; invalid UTF-8 and
 * characters XML cannot hold become U+FFFD. */
void svg_put_xml(FILE *out, const char *s, size_t len);
/* Writes s as the inside of a JavaScript string literal in a CDATA section. */
void svg_put_js(FILE *out, const char *s, size_t len);
/* The label for a frame width pixels wide: the bytes of s to keep (whole
 * characters); *ellipsis is set when the label was cut and needs "…".  0 when
 * fewer than three characters fit. */
size_t svg_fit_label(const char *s, size_t len, double width, bool *ellipsis);
/* The fill colour, "#rrggbb", of a frame: by a hash of its name (or module for
 * the "module" palette), in a family of colours per kind. */
void svg_colour(const char *palette, const char *name, size_t len, uint32_t kind, const char *module,
		char out[8]);

/* The fill colour, "#rrggbb", of a change of delta points in a differential
 * flame graph whose largest change is max points: white for none, towards
 * red for growth and blue for shrinkage. */
void svg_diff_colour(double delta, double max, char out[8]);

/* The embedded style sheet and script (svg_script.c). */
extern const char svg_css[];
extern const char svg_js[];

#endif

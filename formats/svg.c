/* SPDX-License-Identifier: MIT */
/*
 * svg: writes a profile as a self-contained, interactive SVG flame graph.
 *
 * svg_tree.c merges the samples into frames; this file lays them out (root
 * at the bottom, or at the top for an icicle graph) and writes the document:
 * style sheet with one colour rule per name, header texts and controls, one
 * group per frame, and the script with the name table (svg_script.c says
 * what the script expects of the document).  A differential graph colours
 * each frame by its own change instead of one rule per name.
 */
#include "svg.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "formats/svg_internal.h"

#define ROW 16.0       /* pixels from one frame's row to the next */
#define RECT_H 15.0    /* height of a frame's rectangle */
#define LABEL_DY 11.0  /* baseline of a label below its rectangle's top */
#define HEADER 40.0    /* space above the rows without a subtitle */
#define SUBHEADER 18.0 /* extra space for the subtitle */
#define FOOTER 30.0    /* space below the rows for the details line */

struct layout {
	double width, height, top;
	double diff_max; /* differential graph: the change of full saturation, points */
};

void svg_opts_init(struct svg_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->minwidth = 0.1;
	o->width = 1200;
}

/* A pixel position, with at most two decimals and no trailing zeros. */
static void put_px(FILE *out, const char *attr, double v)
{
	char buf[48];
	int n = snprintf(buf, sizeof(buf), "%.2f", v);
	while (n > 0 && buf[n - 1] == '0')
		n--;
	if (n > 0 && buf[n - 1] == '.')
		n--;
	buf[n] = '\0';
	fprintf(out, " %s=\"%s\"", attr, buf);
}

static double row_y(const struct svg_graph *g, const struct layout *l, bool inverted, uint32_t depth)
{
	return l->top + ROW * (inverted ? depth : g->max_depth - depth);
}

/* A frame's change of inclusive share in a differential graph, in points:
 * new minus base whichever is drawn. */
static double frame_delta(const struct svg_diff *d, const struct svg_frame *f)
{
	double drawn = 100 * d->share * (double)f->count, other = 100 * d->other_share * (double)f->other;
	return d->negate ? other - drawn : drawn - other;
}

/* The largest change of any drawn frame, at least one point. */
static double diff_max(const struct svg_graph *g, const struct svg_diff *d)
{
	double max = 1;
	for (size_t i = 0; d && i < g->nframes; i++) {
		double v = fabs(frame_delta(d, &g->frames[i]));
		max = v > max ? v : max;
	}
	return max;
}

static void put_style(FILE *out, const struct svg_graph *g, const struct profile *p, const struct svg_opts *o)
{
	fputs("<style>", out);
	fputs(svg_css, out);
	for (size_t i = 0; !o->diff && i < g->nnames; i++) {
		const struct svg_name *n = &g->names[i];
		char colour[8];
		if (n->out == SVG_NONE)
			continue;
		svg_colour(o->palette, svg_name_str(g, (uint32_t)i), n->len, n->kind,
			   profile_str(p, n->module), colour);
		fprintf(out, ".f%" PRIu32 "{fill:%s}", n->out, colour);
	}
	fputs("</style>\n", out);
}

static void put_text(FILE *out, const char *id, const char *cls, double x, double y, const char *s)
{
	fprintf(out, "<text id=\"%s\"", id);
	if (cls)
		fprintf(out, " class=\"%s\"", cls);
	put_px(out, "x", x);
	put_px(out, "y", y);
	fputc('>', out);
	svg_put_xml(out, s, strlen(s));
	fputs("</text>\n", out);
}

static void put_header(FILE *out, const struct svg_graph *g, const struct layout *l, const struct svg_opts *o)
{
	const char *title = o->title ? o->title : o->inverted ? "Icicle Graph" : "Flame Graph";

	put_text(out, "title", NULL, l->width / 2, 24, title);
	if (o->subtitle)
		put_text(out, "subtitle", NULL, l->width / 2, 24 + SUBHEADER, o->subtitle);
	put_text(out, "reset", "btn hid", SVG_PAD, 24, "Reset Zoom");
	put_text(out, "search", "btn", l->width - SVG_PAD, 24, "Search");
	put_text(out, "details", NULL, SVG_PAD, l->height - 10, g->total > 0 ? " " : "No samples");
	put_text(out, "matched", NULL, l->width - SVG_PAD, l->height - 10, "");
}

static void put_frame(FILE *out, const struct svg_graph *g, const struct layout *l, const struct svg_opts *o,
		      const struct svg_frame *f)
{
	const struct svg_name *n = &g->names[f->name];
	double x = SVG_PAD + (double)f->start * g->scale, w = (double)f->count * g->scale;
	double y = row_y(g, l, o->inverted, f->depth);
	bool ellipsis;
	size_t keep = svg_fit_label(svg_name_str(g, f->name), n->disp, w, &ellipsis);

	fprintf(out, "<g class=\"f%" PRIu32 "\" s=\"%" PRId64 "\" c=\"%" PRId64 "\"", n->out, f->start, f->count);
	if (o->diff) {
		char colour[8];
		svg_diff_colour(frame_delta(o->diff, f), l->diff_max, colour);
		fprintf(out, " b=\"%" PRId64 "\"><rect fill=\"%s\"", f->other, colour);
	} else {
		fputs("><rect", out);
	}
	put_px(out, "x", x);
	put_px(out, "y", y);
	put_px(out, "width", w);
	fputs(" height=\"15\"/>", out);
	if (keep) {
		fputs("<text", out);
		put_px(out, "x", x + 3);
		put_px(out, "y", y + LABEL_DY);
		fputc('>', out);
		svg_put_xml(out, svg_name_str(g, f->name), keep);
		if (ellipsis)
			fputs("\xe2\x80\xa6", out);
		fputs("</text>", out);
	}
	fputs("</g>\n", out);
}

static void put_script(FILE *out, const struct svg_graph *g, const struct layout *l, const struct svg_opts *o)
{
	const char *countname = o->countname ? o->countname : "samples";
	bool first = true;

	fputs("<script><![CDATA[\nvar N=[", out);
	for (size_t i = 0; i < g->nnames; i++) {
		const struct svg_name *n = &g->names[i];
		if (n->out == SVG_NONE)
			continue;
		fputs(first ? "\"" : ",\"", out);
		svg_put_js(out, svg_name_str(g, (uint32_t)i), n->disp);
		fputc('"', out);
		first = false;
	}
	fprintf(out,
		"];\nvar C={t:%" PRId64 ",w:%.0f,h:%.0f,p:%g,top:%g,fh:%g,md:%" PRIu32
		",inv:%d,fs:%g,cw:%g,cn:\"",
		g->total, l->width, l->height, SVG_PAD, l->top, ROW, g->max_depth, o->inverted ? 1 : 0,
		SVG_FONT_SIZE, SVG_CHAR_WIDTH);
	svg_put_js(out, countname, strlen(countname));
	fputc('"', out);
	if (o->diff) /* d: the other total, a sample's share of each side, 1 when base is drawn */
		fprintf(out, ",d:{t:%" PRId64 ",k:%.17g,ko:%.17g,neg:%d}", g->other_total, o->diff->share,
			o->diff->other_share, o->diff->negate ? 1 : 0);
	fputs("};\n", out);
	fputs(svg_js, out);
	fputs("]]></script>\n", out);
}

static void put_document(FILE *out, const struct svg_graph *g, const struct profile *p,
			 const struct svg_opts *o)
{
	struct layout l;

	l.width = o->width ? o->width : 1200;
	l.top = HEADER + (o->subtitle ? SUBHEADER : 0);
	l.height = l.top + ROW * (g->nframes ? g->max_depth + 1 : 1) + FOOTER;
	l.diff_max = diff_max(g, o->diff);
	fprintf(out,
		"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
		"<svg version=\"1.1\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
		"viewBox=\"0 0 %.0f %.0f\">\n",
		l.width, l.height, l.width, l.height);
	put_style(out, g, p, o);
	fputs("<rect width=\"100%\" height=\"100%\" fill=\"#f7f6ee\"/>\n", out);
	put_header(out, g, &l, o);
	fputs("<g id=\"frames\">\n", out);
	for (size_t i = 0; i < g->nframes; i++)
		put_frame(out, g, &l, o, &g->frames[i]);
	fputs("</g>\n<g id=\"tip\" class=\"hid\"><rect rx=\"3\"/><text/></g>\n", out);
	put_script(out, g, &l, o);
	fputs("</svg>\n", out);
}

int svg_write(const struct profile *p, const struct svg_opts *o, FILE *out)
{
	struct svg_opts defaults;
	struct svg_graph g;
	int err;

	if (!o) {
		svg_opts_init(&defaults);
		o = &defaults;
	}
	/* A profile of time counts microseconds: the tooltips say so. */
	if (!o->countname && profile_meta_const(p)->unit != PROFILE_UNIT_SAMPLES) {
		defaults = *o;
		defaults.countname = "\xc2\xb5s";
		o = &defaults;
	}
	err = svg_graph_build(&g, p, o);
	if (!err) {
		put_document(out, &g, p, o);
		if (ferror(out))
			err = -EIO;
	}
	svg_graph_release(&g);
	return err;
}

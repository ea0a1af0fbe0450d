/* SPDX-License-Identifier: MIT */
#include "svg_opts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

enum {
	OPT_TITLE = 2000,
	OPT_SUBTITLE,
	OPT_COUNTNAME,
	OPT_MINWIDTH,
	OPT_INVERTED,
	OPT_REVERSE,
	OPT_WIDTH,
	OPT_PALETTE,
};

static const struct option svg_long[] = {
	{ "title", required_argument, NULL, OPT_TITLE },
	{ "subtitle", required_argument, NULL, OPT_SUBTITLE },
	{ "countname", required_argument, NULL, OPT_COUNTNAME },
	{ "minwidth", required_argument, NULL, OPT_MINWIDTH },
	{ "inverted", no_argument, NULL, OPT_INVERTED },
	{ "reverse", no_argument, NULL, OPT_REVERSE },
	{ "width", required_argument, NULL, OPT_WIDTH },
	{ "palette", required_argument, NULL, OPT_PALETTE },
};

size_t svg_opts_longopts(struct option *out, size_t cap, const struct option *base, size_t nbase)
{
	size_t n = 0;
	for (size_t i = 0; i < nbase && n + 1 < cap; i++)
		out[n++] = base[i];
	for (size_t i = 0; i < sizeof(svg_long) / sizeof(svg_long[0]) && n + 1 < cap; i++)
		out[n++] = svg_long[i];
	memset(&out[n], 0, sizeof(out[n]));
	return n;
}

int svg_opts_parse(struct svg_opts *o, int c, const char *arg)
{
	char *end;
	switch (c) {
	case OPT_TITLE:
		o->title = arg;
		return 0;
	case OPT_SUBTITLE:
		o->subtitle = arg;
		return 0;
	case OPT_COUNTNAME:
		o->countname = arg;
		return 0;
	case OPT_MINWIDTH:
		o->minwidth = strtod(arg, &end);
		if (*end || end == arg || o->minwidth < 0) {
			log_error("--minwidth %s: not a non-negative number of pixels", arg);
			return -EINVAL;
		}
		return 0;
	case OPT_INVERTED:
		o->inverted = true;
		return 0;
	case OPT_REVERSE:
		o->reverse = true;
		return 0;
	case OPT_WIDTH: {
		unsigned long w = strtoul(arg, &end, 10);
		if (*end || end == arg || w < 100 || w > 100000) {
			log_error("--width %s: not a width in pixels (100 to 100000)", arg);
			return -EINVAL;
		}
		o->width = (unsigned)w;
		return 0;
	}
	case OPT_PALETTE:
		if (strcmp(arg, "hot") && strcmp(arg, "mem") && strcmp(arg, "io") && strcmp(arg, "module")) {
			log_error("--palette %s: unknown palette (hot, mem, io or module)", arg);
			return -EINVAL;
		}
		o->palette = arg;
		return 0;
	default:
		return 1;
	}
}

void svg_opts_usage(FILE *out)
{
	fprintf(out, "flame graph (.svg) options:\n"
		     "  --title T --subtitle S --countname NAME\n"
		     "  --minwidth PX      prune frames narrower than PX pixels (default 0.1)\n"
		     "  --width PX         image width (default 1200)\n"
		     "  --inverted         icicle graph (root at the top)\n"
		     "  --reverse          merge stacks from the leaves\n"
		     "  --palette P        hot (default), mem, io, module\n");
}

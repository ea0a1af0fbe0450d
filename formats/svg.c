/* SPDX-License-Identifier: MIT */
/* Placeholder until the SVG writer lands. */
#include "svg.h"

#include <errno.h>
#include <string.h>

void svg_opts_init(struct svg_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->minwidth = 0.1;
	o->width = 1200;
}

int svg_write(const struct profile *p, const struct svg_opts *o, FILE *out)
{
	(void)p;
	(void)o;
	(void)out;
	return -ENOTSUP;
}

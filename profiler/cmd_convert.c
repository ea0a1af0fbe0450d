/* SPDX-License-Identifier: MIT */
/* scorch convert IN... -o OUT [--format F]: read profiles in any format, merge, write one. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "formats/format.h"
#include "log.h"
#include "output.h"
#include "svg_opts.h"

static void convert_usage(FILE *out)
{
	fprintf(out, "usage: scorch convert IN [IN...] [-o OUT] [--format folded|svg|pprof] [SVG options]\n"
		     "  Reads folded or pprof input (format taken from the content; several inputs\n"
		     "  are merged) and writes OUT in the format its extension names (stdout, folded,\n"
		     "  without -o).\n"
		     "  --lines            folded: add 'file:line' to frame names when known\n");
	svg_opts_usage(out);
}

/* Reports a getopt failure (c is '?' or ':') in one line. */
static void bad_option(int c, char **argv)
{
	const char *arg = argv[optind - 1];
	if (c == ':')
		log_error("convert: option '%s' needs a value (try 'scorch convert --help')", arg);
	else if (optopt && strncmp(arg, "--", 2))
		log_error("convert: unknown option '-%c' (try 'scorch convert --help')", optopt);
	else
		log_error("convert: unknown option '%s' (try 'scorch convert --help')", arg);
}

int cmd_convert(int argc, char **argv)
{
	int ret = 2;
	const char *out = NULL, *fmt = NULL;
	struct write_opts wo;
	struct profile *p = NULL;
	struct format_error fe = {""};
	enum profile_format f;
	enum { OPT_FORMAT = 1000, OPT_LINES };
	struct option base[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"format", required_argument, NULL, OPT_FORMAT},
	    {"lines", no_argument, NULL, OPT_LINES},
	    {"help", no_argument, NULL, 'h'},
	};
	struct option longopts[64];
	svg_opts_longopts(longopts, sizeof(longopts) / sizeof(longopts[0]), base,
			  sizeof(base) / sizeof(base[0]));

	write_opts_init(&wo);
	optind = 1;
	opterr = 0;
	for (int c; (c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1;) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case OPT_FORMAT:
			fmt = optarg;
			break;
		case OPT_LINES:
			wo.lines = true;
			break;
		case 'h':
			convert_usage(stdout);
			return 0;
		case '?':
		case ':':
			bad_option(c, argv);
			return 2;
		default:
			if (svg_opts_parse(&wo.svg, c, optarg)) /* reported there */
				return 2;
			break;
		}
	}
	if (optind >= argc) {
		log_error("convert: no input file (try 'scorch convert --help')");
		return 2;
	}
	if (fmt) {
		f = format_from_name(fmt);
		if (f == FORMAT_UNKNOWN) {
			log_error("--format %s: unknown format (folded, svg or pprof)", fmt);
			return 2;
		}
	} else if (out && strcmp(out, "-")) {
		f = format_from_path(out);
		if (f == FORMAT_UNKNOWN) {
			log_error("%s: cannot tell the format from the extension; use .folded, .svg, .pb.gz "
				  "or --format",
				  out);
			return 2;
		}
	} else {
		f = FORMAT_FOLDED;
	}
	p = profile_new();
	if (!p) {
		log_error("out of memory");
		goto out;
	}
	for (int i = optind; i < argc; i++) {
		if (profile_read_path(argv[i], p, &fe)) {
			log_error("%s", fe.msg);
			goto out;
		}
	}
	if (output_write(p, out, f, &wo))
		goto out;
	ret = 0;
out:
	profile_free(p);
	return ret;
}

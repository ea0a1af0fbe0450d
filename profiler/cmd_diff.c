/* SPDX-License-Identifier: MIT */
/*
 * scorch diff BASE NEW | --base B... --new N...: compares profiles of two
 * builds, prints a report (text, markdown or JSON) and optionally writes a
 * differential flame graph.  Exit status: 0 no significant regression above
 * --fail-on, 1 a regression, 2 an error.  The statistics are formats/diff.h's.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "base/parse.h"
#include "cmd.h"
#include "formats/diff.h"
#include "formats/format.h"
#include "log.h"
#include "output.h"
#include "svg_opts.h"

struct diff_cli {
	const char **paths[2]; /* per side */
	size_t npaths[2], cap_paths[2];
	const char *out;
	enum diff_report report;
	size_t top;
	bool negate;
	struct diff_opts d;
	struct svg_opts svg;
};

static void diff_usage(FILE *out)
{
	fprintf(out,
		"usage: scorch diff BASE NEW [options]\n"
		"       scorch diff --base B1 [B2...] --new N1 [N2...] [options]\n"
		"  Compares profiles (folded or pprof, mixed) of a base and a new build, function\n"
		"  by function; several profiles per side are repeated runs.  Exit status 0: no\n"
		"  significant regression, 1: a regression, 2: an error.\n"
		"  -o, --output F.svg      differential flame graph (NEW's shape; red grew, blue shrank)\n"
		"  --negate                draw BASE's shape instead (shows removed code paths)\n"
		"  --report text|markdown|json   report on stdout (default text)\n"
		"  --top N                 rows per report table (default 10, 0 for all)\n"
		"  --fail-on PCT           regression: inclusive share up more than PCT points\n"
		"                          (default 2) and significant\n"
		"  --alpha A               family-wise error rate of the gate (default 0.01)\n"
		"  --dispersion PHI        run-to-run noise assumed before runs show theirs, as a\n"
		"                          multiple of sampling noise (default 2; 1 trusts sampling)\n"
		"  --min-samples N         test only functions with N samples over both sides (default 10;\n"
		"                          in profiles of time, N milliseconds)\n"
		"  --normalize samples|time   shares of all samples (default) or of time (needs\n"
		"                          period and duration in every input, e.g. pprof from record)\n");
	svg_opts_usage(out);
}

/* Appends path to a side's list; 0 or -ENOMEM. */
static int add_path(struct diff_cli *c, int side, const char *path)
{
	if (array_grow(&c->paths[side], &c->cap_paths[side], c->npaths[side] + 1, sizeof(*c->paths[side])))
		return -ENOMEM;
	c->paths[side][c->npaths[side]++] = path;
	return 0;
}

/*
 * Takes "--base A B C" and "--new X Y" (each name followed by paths up to the
 * next option) out of argv, leaving the rest for getopt in rest (argc
 * entries, NULL-terminated).  0, -ENOMEM, or -EINVAL (reported) for a list
 * with no path.
 */
static int take_lists(struct diff_cli *c, int argc, char **argv, char **rest, int *nrest)
{
	*nrest = 0;
	for (int i = 0; i < argc; i++) {
		int side = !strcmp(argv[i], "--base") ? 0 : !strcmp(argv[i], "--new") ? 1 : -1;
		if (side < 0 || !i) {
			rest[(*nrest)++] = argv[i];
			continue;
		}
		size_t before = c->npaths[side];
		while (i + 1 < argc && (argv[i + 1][0] != '-' || !strcmp(argv[i + 1], "-")))
			if (add_path(c, side, argv[++i]))
				return -ENOMEM;
		if (c->npaths[side] == before) {
			log_error("diff: %s needs at least one profile (try 'scorch diff --help')", argv[i]);
			return -EINVAL;
		}
	}
	rest[*nrest] = NULL;
	return 0;
}

static int parse_number(const char *opt, const char *arg, double min, double max, double *out)
{
	if (parse_double(arg, min, max, out)) {
		log_error("%s %s: not a number from %g to %g", opt, arg, min, max);
		return -EINVAL;
	}
	return 0;
}

enum {
	OPT_REPORT = 1000,
	OPT_FAIL_ON,
	OPT_MIN_SAMPLES,
	OPT_NORMALIZE,
	OPT_NEGATE,
	OPT_ALPHA,
	OPT_TOP,
	OPT_DISPERSION,
};

/* Handles one of diff's own options; 0 or -EINVAL (reported). */
static int parse_opt(struct diff_cli *c, int opt, const char *arg)
{
	double v;
	switch (opt) {
	case 'o':
		c->out = arg;
		return 0;
	case OPT_NEGATE:
		c->negate = true;
		return 0;
	case OPT_REPORT:
		if (!strcmp(arg, "text") || !strcmp(arg, "markdown") || !strcmp(arg, "json")) {
			c->report = arg[0] == 't'   ? DIFF_REPORT_TEXT
				    : arg[0] == 'm' ? DIFF_REPORT_MARKDOWN
						    : DIFF_REPORT_JSON;
			return 0;
		}
		log_error("--report %s: unknown report (text, markdown or json)", arg);
		return -EINVAL;
	case OPT_NORMALIZE:
		if (!strcmp(arg, "samples") || !strcmp(arg, "time")) {
			c->d.norm = arg[0] == 't' ? DIFF_NORM_TIME : DIFF_NORM_SAMPLES;
			return 0;
		}
		log_error("--normalize %s: unknown normalization (samples or time)", arg);
		return -EINVAL;
	case OPT_FAIL_ON:
		return parse_number("--fail-on", arg, 0, 100, &c->d.fail_on);
	case OPT_ALPHA:
		return parse_number("--alpha", arg, 1e-12, 1, &c->d.alpha);
	case OPT_DISPERSION:
		return parse_number("--dispersion", arg, 1, 1e6, &c->d.dispersion);
	case OPT_MIN_SAMPLES:
		if (parse_number("--min-samples", arg, 0, 1e15, &v))
			return -EINVAL;
		c->d.min_samples = (int64_t)v;
		return 0;
	case OPT_TOP:
		if (parse_number("--top", arg, 0, 1e9, &v))
			return -EINVAL;
		c->top = (size_t)v;
		return 0;
	default:
		return svg_opts_parse(&c->svg, opt, arg) ? -EINVAL : 0;
	}
}

static const struct option diff_long[] = {
    {"output", required_argument, NULL, 'o'},
    {"report", required_argument, NULL, OPT_REPORT},
    {"fail-on", required_argument, NULL, OPT_FAIL_ON},
    {"alpha", required_argument, NULL, OPT_ALPHA},
    {"dispersion", required_argument, NULL, OPT_DISPERSION},
    {"min-samples", required_argument, NULL, OPT_MIN_SAMPLES},
    {"normalize", required_argument, NULL, OPT_NORMALIZE},
    {"negate", no_argument, NULL, OPT_NEGATE},
    {"top", required_argument, NULL, OPT_TOP},
    {"help", no_argument, NULL, 'h'},
};

/* Parses the command line into c: 0, 1 after --help, -EINVAL (reported). */
static int parse_args(struct diff_cli *c, int argc, char **argv)
{
	struct option longopts[64];
	char **rest = calloc((size_t)argc + 1, sizeof(*rest));
	int nrest, err = rest ? take_lists(c, argc, argv, rest, &nrest) : -ENOMEM;

	if (err)
		goto out;
	svg_opts_longopts(longopts, 64, diff_long, sizeof(diff_long) / sizeof(diff_long[0]));
	optind = 1;
	opterr = 0;
	for (int o; !err && (o = getopt_long(nrest, rest, ":o:h", longopts, NULL)) != -1;) {
		if (o == 'h') {
			diff_usage(stdout);
			err = 1;
		} else if (o == '?' || o == ':') {
			log_error("diff: %s '%s' (try 'scorch diff --help')",
				  o == ':' ? "option needs a value:" : "unknown option", rest[optind - 1]);
			err = -EINVAL;
		} else {
			err = parse_opt(c, o, optarg);
		}
	}
	if (!err && nrest > optind) {
		if (nrest - optind != 2 || c->npaths[0] || c->npaths[1]) {
			log_error(
			    "diff: give BASE NEW, or --base B... --new N... (try 'scorch diff --help')");
			err = -EINVAL;
		} else if (!(err = add_path(c, 0, rest[optind]))) {
			err = add_path(c, 1, rest[optind + 1]);
		}
	}
	if (!err && (!c->npaths[0] || !c->npaths[1])) {
		log_error("diff: need a base and a new profile (try 'scorch diff --help')");
		err = -EINVAL;
	}
out:
	if (err == -ENOMEM)
		log_error("out of memory");
	free(rest);
	return err;
}

/* Reads every input of a side: one run each into d, and all of them pooled
 * into *pooled for the flame graph.  0 or -errno (reported). */
static int read_side(const struct diff_cli *c, int side, struct diff *d, struct profile *pooled)
{
	int err = 0;
	for (size_t i = 0; i < c->npaths[side] && !err; i++) {
		const char *path = c->paths[side][i];
		struct format_error fe = {""};
		struct profile *p = profile_new();
		if (!p)
			err = -ENOMEM;
		else if ((err = profile_read_path(path, p, &fe)))
			log_error("%s", fe.msg);
		else if ((err = diff_add(d, side, p)) == -ENODATA)
			log_error("%s: no sampling period or duration to normalize by time "
				  "(use --normalize samples, or pprof written by record)",
				  path);
		else if (err == -EDOM)
			log_error("%s: counts time where the profiles before it count samples, or the reverse: "
				  "compare off-CPU or wall profiles only with each other",
				  path);
		else if (!err && (err = profile_merge(pooled, p)) == -EOVERFLOW)
			log_error("%s: sample counts overflow when added up", path);
		profile_free(p);
	}
	if (err == -ENOMEM)
		log_error("out of memory");
	return err;
}

/* Writes the differential flame graph of side shown against the other. */
static int write_graph(struct diff_cli *c, const struct diff *d, struct profile *const pooled[2])
{
	int shown = c->negate ? DIFF_BASE : DIFF_NEW;
	struct svg_diff sd = {pooled[!shown], diff_sample_share(d, shown), diff_sample_share(d, !shown),
			      c->negate};
	struct write_opts wo;

	write_opts_init(&wo);
	wo.svg = c->svg;
	wo.svg.diff = &sd;
	if (!wo.svg.title)
		wo.svg.title = c->negate ? "Differential Flame Graph (base)" : "Differential Flame Graph";
	if (!wo.svg.subtitle)
		wo.svg.subtitle = "inclusive share, new minus base: red grew, blue shrank";
	return output_write(pooled[shown], c->out, FORMAT_SVG, &wo);
}

int cmd_diff(int argc, char **argv)
{
	struct diff_cli c = {0};
	struct diff *d = NULL;
	struct profile *pooled[2] = {NULL, NULL};
	int ret = 2, err;

	c.top = 10;
	diff_opts_init(&c.d);
	svg_opts_init(&c.svg);
	if ((err = parse_args(&c, argc, argv))) {
		ret = err > 0 ? 0 : 2;
		goto out;
	}
	pooled[0] = profile_new();
	pooled[1] = profile_new();
	if (!pooled[0] || !pooled[1] || diff_new(&c.d, &d)) {
		log_error("out of memory");
		goto out;
	}
	if (read_side(&c, DIFF_BASE, d, pooled[0]) || read_side(&c, DIFF_NEW, d, pooled[1]))
		goto out;
	if ((err = diff_compute(d))) {
		log_error(err == -ENODATA ? "diff: %s has no samples" : "diff: out of memory",
			  diff_summary_get(d)->samples[0] ? "new" : "base");
		goto out;
	}
	if (diff_write_report(d, c.report, c.report == DIFF_REPORT_JSON ? 0 : c.top, stdout) ||
	    fflush(stdout)) {
		log_error("diff: cannot write the report: %s", strerror(errno));
		goto out;
	}
	if (c.out && write_graph(&c, d, pooled))
		goto out;
	ret = diff_summary_get(d)->regressions ? 1 : 0;
out:
	diff_free(d);
	profile_free(pooled[0]);
	profile_free(pooled[1]);
	free(c.paths[0]);
	free(c.paths[1]);
	return ret;
}

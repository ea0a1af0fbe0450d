/* SPDX-License-Identifier: MIT */
/*
 * diff_report: the diff as text for a terminal, markdown for a code review,
 * or JSON for a machine: the inputs, the verdict, and the functions whose
 * inclusive and self shares changed most, with counts, shares, the change in
 * points and the Holm-adjusted p-value ("-" for a function not tested).
 * Counts are named in their unit: samples, or milliseconds for profiles of
 * time (off-CPU, wall), which the diff counts a millisecond to a sample.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "formats/diff.h"

static const char *const measure_title[2] = {"self share", "inclusive share"};

static const char *norm_name(const struct diff *d)
{
	return diff_opts_get(d)->norm == DIFF_NORM_TIME ? "time" : "samples";
}

/* The p-value column: adjusted p, or "-" when not tested. */
static void put_p(FILE *out, const struct diff_stat *st, const char *fmt)
{
	char buf[32];
	if (st->tested)
		snprintf(buf, sizeof(buf), st->p_adj < 1e-4 ? "%.1e" : "%.4f", st->p_adj);
	else
		snprintf(buf, sizeof(buf), "-");
	fprintf(out, fmt, buf);
}

static const char *mark(const struct diff_func *f, enum diff_measure m)
{
	if (m == DIFF_INCL && f->regression)
		return "REGRESSION";
	return f->m[m].significant ? (f->m[m].delta > 0 ? "grew" : "shrank") : "";
}

static bool shown(const struct diff_func *f, enum diff_measure m)
{
	return f->m[m].count[0] || f->m[m].count[1];
}

/* The verdict line; regressions listed by decreasing growth (rank: inclusive). */
static void text_verdict(const struct diff *d, const uint32_t *rank, FILE *out, bool md)
{
	const struct diff_summary *s = diff_summary_get(d);
	const struct diff_opts *o = diff_opts_get(d);
	const char *b = md ? "**" : "";

	if (!s->regressions) {
		fprintf(out,
			"%sverdict: no regression%s: no inclusive share grew by more than %g points with "
			"Holm-adjusted p < %g\n",
			b, b, o->fail_on, o->alpha);
		return;
	}
	fprintf(out,
		"%sverdict: REGRESSION%s in %zu function%s (inclusive share up more than %g points, "
		"Holm-adjusted p < %g):",
		b, b, s->regressions, s->regressions == 1 ? "" : "s", o->fail_on, o->alpha);
	for (size_t i = 0; i < diff_nfuncs(d); i++) {
		const struct diff_func *f = diff_func_get(d, rank[i]);
		if (f->regression)
			fprintf(out, " %s%s%s %+.2f", md ? "`" : "", f->name, md ? "`" : "",
				f->m[DIFF_INCL].delta);
	}
	fputc('\n', out);
}

static void header_line(const struct diff *d, FILE *out)
{
	const struct diff_summary *s = diff_summary_get(d);
	fprintf(out,
		"base: %zu run%s, %" PRId64 " %s; new: %zu run%s, %" PRId64
		" %s; shares of %s; %zu functions tested (inclusive)\n",
		s->runs[0], s->runs[0] == 1 ? "" : "s", s->samples[0], s->unit, s->runs[1], s->runs[1] == 1 ? "" : "s",
		s->samples[1], s->unit,
		diff_opts_get(d)->norm == DIFF_NORM_TIME ? "one CPU's time"
		: strcmp(s->unit, "samples")		 ? "all the time counted"
							 : "all samples",
		s->tested[DIFF_INCL]);
}

static void text_table(const struct diff *d, const uint32_t *rank, enum diff_measure m, size_t top, FILE *out)
{
	const char *unit = diff_summary_get(d)->unit;
	fprintf(out, "\n%s, largest changes (base and new in %s):\n", measure_title[m], unit);
	fprintf(out, "%10s %8s %10s %8s %8s %9s  %-10s %s\n", "base", "base%", "new", "new%", "delta",
		"p(adj)", "", "function");
	for (size_t i = 0, n = 0; i < diff_nfuncs(d) && (!top || n < top); i++) {
		const struct diff_func *f = diff_func_get(d, rank[i]);
		const struct diff_stat *st = &f->m[m];
		if (!shown(f, m))
			continue;
		fprintf(out, "%10" PRId64 " %8.2f %10" PRId64 " %8.2f %+8.2f ", st->count[0], st->share[0],
			st->count[1], st->share[1], st->delta);
		put_p(out, st, "%9s");
		fprintf(out, "  %-10s %s\n", mark(f, m), f->name);
		n++;
	}
}

/* A name in a table cell: a code span, '|' escaped (GFM allows that there). */
static void md_name(FILE *out, const char *s)
{
	bool code = !strchr(s, '`');
	fputs(code ? "`" : "", out);
	for (; *s; s++) {
		if (*s == '|' || (!code && strchr("\\*_[]<>", *s)))
			fputc('\\', out);
		fputc(*s == '\n' ? ' ' : *s, out);
	}
	fputs(code ? "`" : "", out);
}

static void md_table(const struct diff *d, const uint32_t *rank, enum diff_measure m, size_t top, FILE *out)
{
	fprintf(out, "\n#### %c%s, largest changes\n\n", measure_title[m][0] - 32, measure_title[m] + 1);
	const char *unit = diff_summary_get(d)->unit;
	fprintf(out,
		"| function | base (%s) | base %% | new (%s) | new %% | Δ points | p (Holm) | |\n"
		"|---|--:|--:|--:|--:|--:|--:|---|\n",
		unit, unit);
	for (size_t i = 0, n = 0; i < diff_nfuncs(d) && (!top || n < top); i++) {
		const struct diff_func *f = diff_func_get(d, rank[i]);
		const struct diff_stat *st = &f->m[m];
		if (!shown(f, m))
			continue;
		fputs("| ", out);
		md_name(out, f->name);
		fprintf(out, " | %" PRId64 " | %.2f | %" PRId64 " | %.2f | %+.2f | ", st->count[0],
			st->share[0], st->count[1], st->share[1], st->delta);
		put_p(out, st, "%s");
		fprintf(out, " | %s%s%s |\n", *mark(f, m) ? "**" : "", mark(f, m), *mark(f, m) ? "**" : "");
		n++;
	}
}

static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *u = (const unsigned char *)s; *u; u++) {
		if (*u == '"' || *u == '\\')
			fprintf(out, "\\%c", *u);
		else if (*u < 0x20)
			fprintf(out, "\\u%04x", *u);
		else
			fputc(*u, out);
	}
	fputc('"', out);
}

/* A number, or null for NaN and infinities (which JSON cannot hold). */
static void json_num(FILE *out, const char *key, double v, bool last)
{
	if (isfinite(v))
		fprintf(out, "\"%s\":%.6g%s", key, v, last ? "" : ",");
	else
		fprintf(out, "\"%s\":null%s", key, last ? "" : ",");
}

static void json_stat(FILE *out, const struct diff_stat *st)
{
	fprintf(out, "{\"base\":%" PRId64 ",\"new\":%" PRId64 ",", st->count[0], st->count[1]);
	json_num(out, "base_share", st->share[0], false);
	json_num(out, "new_share", st->share[1], false);
	json_num(out, "delta", st->delta, false);
	json_num(out, "z", st->z, false);
	json_num(out, "df", st->df, false);
	json_num(out, "p", st->p, false);
	json_num(out, "p_adj", st->p_adj, false);
	json_num(out, "base_dispersion", st->dispersion[0], false);
	json_num(out, "new_dispersion", st->dispersion[1], false);
	fprintf(out, "\"tested\":%s,\"significant\":%s}", st->tested ? "true" : "false",
		st->significant ? "true" : "false");
}

static void json_report(const struct diff *d, const uint32_t *rank, size_t top, FILE *out)
{
	const struct diff_summary *s = diff_summary_get(d);
	const struct diff_opts *o = diff_opts_get(d);
	bool first = true;

	fprintf(out, "{\"verdict\":\"%s\",\"regressions\":%zu,\"normalize\":\"%s\",\"unit\":\"%s\",",
		s->regressions ? "regression" : "pass", s->regressions, norm_name(d), s->unit);
	json_num(out, "fail_on", o->fail_on, false);
	json_num(out, "alpha", o->alpha, false);
	fprintf(out,
		"\"min_samples\":%" PRId64
		",\"correction\":\"holm\",\"tested\":{\"self\":%zu,\"inclusive\":%zu},",
		o->min_samples, s->tested[DIFF_SELF], s->tested[DIFF_INCL]);
	for (int i = 0; i < 2; i++)
		fprintf(out, "\"%s\":{\"runs\":%zu,\"samples\":%" PRId64 "},", i ? "new" : "base", s->runs[i],
			s->samples[i]);
	fputs("\"functions\":[", out);
	for (size_t i = 0, n = 0; i < diff_nfuncs(d) && (!top || n < top); i++) {
		const struct diff_func *f = diff_func_get(d, rank[i]);
		if (!shown(f, DIFF_INCL) && !shown(f, DIFF_SELF))
			continue;
		fputs(first ? "\n{\"name\":" : ",\n{\"name\":", out);
		json_str(out, f->name);
		fprintf(out, ",\"regression\":%s,\"inclusive\":", f->regression ? "true" : "false");
		json_stat(out, &f->m[DIFF_INCL]);
		fputs(",\"self\":", out);
		json_stat(out, &f->m[DIFF_SELF]);
		fputc('}', out);
		first = false;
		n++;
	}
	fputs("]}\n", out);
}

int diff_write_report(const struct diff *d, enum diff_report f, size_t top, FILE *out)
{
	uint32_t *rank[2] = {NULL, NULL};
	int err;

	if ((err = diff_rank(d, DIFF_SELF, &rank[0])) || (err = diff_rank(d, DIFF_INCL, &rank[1])))
		goto out;
	if (f == DIFF_REPORT_JSON) {
		json_report(d, rank[1], top, out);
	} else if (f == DIFF_REPORT_MARKDOWN) {
		fputs("### scorch diff\n\n", out);
		text_verdict(d, rank[1], out, true);
		fputc('\n', out);
		header_line(d, out);
		md_table(d, rank[1], DIFF_INCL, top, out);
		md_table(d, rank[0], DIFF_SELF, top, out);
	} else {
		header_line(d, out);
		text_verdict(d, rank[1], out, false);
		text_table(d, rank[1], DIFF_INCL, top, out);
		text_table(d, rank[0], DIFF_SELF, top, out);
	}
	if (ferror(out))
		err = -EIO;
out:
	free(rank[0]);
	free(rank[1]);
	return err;
}

/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "format.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/atomicfile.h"
#include "formats/folded.h"
#include "formats/pprof.h"

int format_fail(struct format_error *e, int err, const char *fmt, ...)
{
	if (e) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return err;
}

static const struct {
	const char *name;
	enum profile_format f;
} names[] = {
	{ "folded", FORMAT_FOLDED }, { "collapsed", FORMAT_FOLDED }, { "txt", FORMAT_FOLDED },
	{ "svg", FORMAT_SVG },       { "pprof", FORMAT_PPROF },      { "pb", FORMAT_PPROF },
};

enum profile_format format_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i].name))
			return names[i].f;
	return FORMAT_UNKNOWN;
}

static bool ends_with(const char *s, const char *sfx)
{
	size_t n = strlen(s), m = strlen(sfx);
	return n >= m && !strcmp(s + n - m, sfx);
}

enum profile_format format_from_path(const char *path)
{
	if (ends_with(path, ".pb.gz") || ends_with(path, ".pprof") || ends_with(path, ".pb"))
		return FORMAT_PPROF;
	const char *dot = strrchr(path, '.');
	const char *slash = strrchr(path, '/');
	if (!dot || (slash && dot < slash))
		return FORMAT_UNKNOWN;
	return format_from_name(dot + 1);
}

enum profile_format format_sniff(const void *buf, size_t len)
{
	const unsigned char *b = buf;
	if (len >= 2 && b[0] == 0x1f && b[1] == 0x8b)
		return FORMAT_PPROF;
	if (len >= 5 && !memcmp(b, "<?xml", 5))
		return FORMAT_SVG;
	if (len >= 4 && !memcmp(b, "<svg", 4))
		return FORMAT_SVG;
	/* A profile.proto message starts with field 1 (sample_type, LEN) = 0x0a,
	 * or another low-numbered field; folded text starts with a printable byte
	 * and never contains NUL or control bytes. */
	for (size_t i = 0; i < len && i < 512; i++)
		if (b[i] < 0x09 || (b[i] > 0x0d && b[i] < 0x20))
			return FORMAT_PPROF;
	return FORMAT_FOLDED;
}

const char *format_name(enum profile_format f)
{
	switch (f) {
	case FORMAT_FOLDED:
		return "folded";
	case FORMAT_SVG:
		return "svg";
	case FORMAT_PPROF:
		return "pprof";
	default:
		return "unknown";
	}
}

void write_opts_init(struct write_opts *o)
{
	memset(o, 0, sizeof(*o));
	svg_opts_init(&o->svg);
}

static int slurp(FILE *in, char **out, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (n == cap) {
			char *b = realloc(buf, cap *= 2);
			if (!b) {
				free(buf);
				return -ENOMEM;
			}
			buf = b;
		}
		size_t r = fread(buf + n, 1, cap - n, in);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(in)) {
		free(buf);
		return -EIO;
	}
	*out = buf;
	*len = n;
	return 0;
}

int profile_read_path(const char *path, struct profile *p, struct format_error *e)
{
	int err = 0;
	char *buf = NULL;
	size_t len = 0;
	FILE *in = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	FILE *mem = NULL;

	if (!in)
		return format_fail(e, -errno, "%s: cannot open: %s", path, strerror(errno));
	err = slurp(in, &buf, &len);
	if (err) {
		format_fail(e, err, "%s: cannot read: %s", path, strerror(-err));
		goto out;
	}
	switch (format_sniff(buf, len)) {
	case FORMAT_PPROF:
		err = pprof_read(buf, len, p, e);
		break;
	case FORMAT_FOLDED:
		mem = len ? fmemopen(buf, len, "r") : fopen("/dev/null", "r");
		if (!mem) {
			err = format_fail(e, -errno, "%s: %s", path, strerror(errno));
			break;
		}
		err = folded_read(mem, path, p, e);
		break;
	default:
		err = format_fail(e, -ENOTSUP, "%s: SVG flame graphs cannot be read back; use folded or pprof",
				  path);
	}
out:
	if (mem)
		fclose(mem);
	if (in != stdin)
		fclose(in);
	free(buf);
	return err;
}

static int write_to(const struct profile *p, FILE *out, enum profile_format f, const struct write_opts *o)
{
	switch (f) {
	case FORMAT_FOLDED:
		return folded_write(p, o->lines, out);
	case FORMAT_SVG:
		return svg_write(p, &o->svg, out);
	case FORMAT_PPROF:
		return pprof_write(p, out);
	default:
		return -EINVAL;
	}
}

int profile_write_path(const struct profile *p, const char *path, enum profile_format f,
		       const struct write_opts *o, struct format_error *e)
{
	int err;
	struct write_opts defaults;
	struct atomic_file af;

	if (!o) {
		write_opts_init(&defaults);
		o = &defaults;
	}
	if (!path || !strcmp(path, "-")) {
		err = write_to(p, stdout, f, o);
		if (!err && fflush(stdout))
			err = -errno;
		return err ? format_fail(e, err, "stdout: cannot write %s: %s", format_name(f), strerror(-err)) : 0;
	}
	err = atomic_file_open(&af, path);
	if (err)
		return format_fail(e, err, "%s: cannot create: %s", path, strerror(-err));
	err = write_to(p, af.fp, f, o);
	if (err) {
		atomic_file_abort(&af);
		return format_fail(e, err, "%s: cannot write %s: %s", path, format_name(f), strerror(-err));
	}
	err = atomic_file_commit(&af);
	if (err)
		return format_fail(e, err, "%s: cannot write: %s", path, strerror(-err));
	return 0;
}

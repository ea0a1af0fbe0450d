/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "format.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "base/array.h"
#include "base/atomicfile.h"
#include "formats/folded.h"
#include "formats/pprof.h"

/* How much of an input is read to tell its format. */
#define SNIFF_BYTES (64 * 1024)

static const struct {
	const char *name;
	enum profile_format f;
} names[] = {
    {"folded", FORMAT_FOLDED}, {"collapsed", FORMAT_FOLDED}, {"txt", FORMAT_FOLDED},
    {"svg", FORMAT_SVG},       {"pprof", FORMAT_PPROF},	     {"pb", FORMAT_PPROF},
};

enum profile_format format_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(name, names[i].name))
			return names[i].f;
	return FORMAT_UNKNOWN;
}

static bool ends_with(const char *s, const char *sfx)
{
	size_t n = strlen(s), m = strlen(sfx);
	return n >= m && !strcasecmp(s + n - m, sfx);
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
	if (len >= 9 && !memcmp(b, "<!DOCTYPE", 9))
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

/* Reads until buf holds want bytes or the input ends; 0 or -errno. */
static int read_upto(FILE *in, char **buf, size_t *len, size_t *cap, size_t want)
{
	while (*len < want) {
		if (array_grow(buf, cap, *len + 1, 1))
			return -ENOMEM;
		size_t ask = *cap - *len < want - *len ? *cap - *len : want - *len;
		errno = 0;
		size_t r = fread(*buf + *len, 1, ask, in);
		*len += r;
		if (r == 0)
			return ferror(in) ? (errno ? -errno : -EIO) : 0;
	}
	return 0;
}

/* Parses the whole input, buf holding its first len bytes. */
static int read_as(enum profile_format f, FILE *in, const char *path, char **buf, size_t *len, size_t *cap,
		   struct profile *p, struct format_error *e)
{
	int err;

	switch (f) {
	case FORMAT_PPROF:
		/* protobuf needs the whole message in memory */
		err = read_upto(in, buf, len, cap, SIZE_MAX);
		if (err)
			return format_fail(e, err, "%s: cannot read: %s", path, strerror(-err));
		err = pprof_read(*buf, *len, p, e);
		if (err && e) {
			/* pprof_read names no file: say which one. */
			char why[sizeof(e->msg)];
			snprintf(why, sizeof(why), "%s", e->msg);
			format_fail(e, err, "%s: %s", path, why);
		}
		return err;
	case FORMAT_FOLDED:
		return folded_read_prefixed(*buf, *len, in, path, p, e);
	default:
		return format_fail(e, -ENOTSUP,
				   "%s: SVG flame graphs cannot be read back; use folded or pprof", path);
	}
}

int profile_read_path(const char *path, struct profile *p, struct format_error *e)
{
	int err = 0;
	size_t len = 0, cap = SNIFF_BYTES;
	char *buf = NULL;
	struct stat st;
	FILE *in = strcmp(path, "-") ? fopen(path, "rb") : stdin;

	if (!in)
		return format_fail(e, -errno, "%s: cannot open: %s", path, strerror(errno));
	if (!fstat(fileno(in), &st) && S_ISDIR(st.st_mode)) {
		err = format_fail(e, -EISDIR, "%s: cannot read: %s", path, strerror(EISDIR));
		goto out;
	}
	buf = malloc(cap);
	if (!buf) {
		err = format_fail(e, -ENOMEM, "%s: %s", path, strerror(ENOMEM));
		goto out;
	}
	err = read_upto(in, &buf, &len, &cap, SNIFF_BYTES);
	if (err) {
		format_fail(e, err, "%s: cannot read: %s", path, strerror(-err));
		goto out;
	}
	err = read_as(format_sniff(buf, len), in, path, &buf, &len, &cap, p, e);
out:
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

/* Writes to an existing device or FIFO (/dev/null, a pipe) in place:
 * renaming over it would replace the device with a regular file. */
static int write_special(const struct profile *p, const char *path, enum profile_format f,
			 const struct write_opts *o, struct format_error *e)
{
	int err;
	FILE *out = fopen(path, "w");

	if (!out)
		return format_fail(e, -errno, "%s: cannot open: %s", path, strerror(errno));
	err = write_to(p, out, f, o);
	if (fflush(out) && !err)
		err = -errno;
	if (fclose(out) && !err)
		err = -errno;
	return err ? format_fail(e, err, "%s: cannot write %s: %s", path, format_name(f), strerror(-err)) : 0;
}

int profile_write_path(const struct profile *p, const char *path, enum profile_format f,
		       const struct write_opts *o, struct format_error *e)
{
	int err;
	struct write_opts defaults;
	struct atomic_file af;
	struct stat st;

	if (!o) {
		write_opts_init(&defaults);
		o = &defaults;
	}
	if (!path || !strcmp(path, "-")) {
		err = write_to(p, stdout, f, o);
		if (!err && fflush(stdout))
			err = -errno;
		return err ? format_fail(e, err, "stdout: cannot write %s: %s", format_name(f),
					 strerror(-err))
			   : 0;
	}
	if (!lstat(path, &st) && S_ISDIR(st.st_mode))
		return format_fail(e, -EISDIR, "%s: cannot write: %s", path, strerror(EISDIR));
	if (!lstat(path, &st) && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
		return write_special(p, path, f, o, e);
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

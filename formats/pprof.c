/* SPDX-License-Identifier: MIT */
/*
 * pprof: what the reader and writer share: the frame-kind conventions and
 * gzip in both directions (zlib).  The reader is pprof_read.c, the writer
 * pprof_write.c.
 */
#include "pprof_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Staging buffer: protobuf-c appends a few bytes at a time, zlib wants big blocks. */
#define PPROF_GZ_CHUNK (256u << 10)
/* zlib level 1: several times faster than the default, files about 15% larger. */
#define PPROF_GZ_LEVEL 1

bool pprof_is_kernel_file(const char *file)
{
	return !strncmp(file, "[kernel", 7) || !strcmp(file, "[vmlinux]");
}

bool pprof_is_jit_file(const char *file)
{
	const char *base = strrchr(file, '/');
	size_t n;

	if (!strcmp(file, PPROF_JIT_MAPPING))
		return true;
	base = base ? base + 1 : file;
	n = strlen(base);
	return !strncmp(base, "perf-", 5) && n > 9 && !strcmp(base + n - 4, ".map");
}

bool pprof_is_kernel_address(uint64_t addr)
{
	return addr >= PROFILE_KERNEL_START;
}

static int gz_drain(struct pprof_gz *gz, int flush)
{
	z_stream *zs = gz->zs;
	int r;

	do {
		zs->next_out = gz->chunk;
		zs->avail_out = PPROF_GZ_CHUNK;
		r = deflate(zs, flush);
		if (r == Z_STREAM_ERROR)
			return -EIO;
		size_t have = PPROF_GZ_CHUNK - zs->avail_out;
		if (have && fwrite(gz->chunk, 1, have, gz->out) != have)
			return -EIO;
	} while (zs->avail_out == 0 || (flush == Z_FINISH && r != Z_STREAM_END));
	return 0;
}

/* protobuf-c's append callback: stage bytes, deflate a full stage. */
static void gz_append(ProtobufCBuffer *buf, size_t len, const uint8_t *data)
{
	struct pprof_gz *gz = (struct pprof_gz *)buf;
	z_stream *zs = gz->zs;

	while (len && !gz->err) {
		if (zs->avail_in == PPROF_GZ_CHUNK) {
			gz->err = gz_drain(gz, Z_NO_FLUSH);
			zs->avail_in = 0;
			continue;
		}
		size_t n = PPROF_GZ_CHUNK - zs->avail_in;
		n = n < len ? n : len;
		memcpy(gz->chunk + PPROF_GZ_CHUNK + zs->avail_in, data, n);
		zs->avail_in += (uInt)n;
		data += n;
		len -= n;
		zs->next_in = gz->chunk + PPROF_GZ_CHUNK;
	}
}

int pprof_gz_init(struct pprof_gz *gz, FILE *out)
{
	z_stream *zs;

	memset(gz, 0, sizeof(*gz));
	gz->base.append = gz_append;
	gz->out = out;
	/* One allocation for output (first half) and staged input (second half). */
	gz->chunk = malloc(2 * PPROF_GZ_CHUNK);
	gz->zs = zs = calloc(1, sizeof(*zs));
	if (!gz->chunk || !zs)
		return -ENOMEM;
	if (deflateInit2(zs, PPROF_GZ_LEVEL, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		free(zs);
		gz->zs = NULL;
		return -ENOMEM;
	}
	zs->next_in = gz->chunk + PPROF_GZ_CHUNK;
	return 0;
}

int pprof_gz_finish(struct pprof_gz *gz)
{
	if (!gz->err)
		gz->err = gz_drain(gz, Z_FINISH);
	if (!gz->err && ferror(gz->out))
		gz->err = -EIO;
	return gz->err;
}

void pprof_gz_release(struct pprof_gz *gz)
{
	if (gz->zs) {
		deflateEnd(gz->zs);
		free(gz->zs);
	}
	free(gz->chunk);
	memset(gz, 0, sizeof(*gz));
}

static int grow_out(unsigned char **out, size_t *cap)
{
	size_t ncap = *cap ? *cap * 2 : 1u << 20;
	unsigned char *n;

	if (*cap >= PPROF_MAX_INFLATED)
		return -EFBIG;
	if (ncap > PPROF_MAX_INFLATED)
		ncap = PPROF_MAX_INFLATED;
	n = realloc(*out, ncap);
	if (!n)
		return -ENOMEM;
	*out = n;
	*cap = ncap;
	return 0;
}

int pprof_gunzip(const void *buf, size_t len, unsigned char **out, size_t *outlen, struct format_error *e)
{
	z_stream zs = {0};
	unsigned char *dst = NULL;
	size_t cap = 0, n = 0;
	const char *zmsg = NULL;
	int err = 0, r = Z_OK;

	if (inflateInit2(&zs, 15 + 16) != Z_OK)
		return format_fail(e, -ENOMEM, "pprof: cannot start gzip decompression");
	zs.next_in = (unsigned char *)buf;
	while (!err) {
		if (n == cap && (err = grow_out(&dst, &cap)))
			break;
		size_t in_left = len - (size_t)(zs.next_in - (const unsigned char *)buf);
		zs.avail_in = in_left > UINT32_MAX ? UINT32_MAX : (uInt)in_left;
		zs.next_out = dst + n;
		zs.avail_out = cap - n > UINT32_MAX ? UINT32_MAX : (uInt)(cap - n);
		size_t before = zs.avail_out;
		r = inflate(&zs, Z_NO_FLUSH);
		n += before - zs.avail_out;
		if (r == Z_STREAM_END) {
			/* Concatenated gzip members decompress to the concatenation. */
			if (zs.next_in == (const unsigned char *)buf + len)
				break;
			if (inflateReset(&zs) != Z_OK)
				err = -EINVAL;
		} else if (r == Z_BUF_ERROR && zs.avail_out && !zs.avail_in) {
			err = -EINVAL; /* input ended inside the stream */
		} else if (r != Z_OK && r != Z_BUF_ERROR) {
			err = r == Z_MEM_ERROR ? -ENOMEM : -EINVAL;
		}
	}
	zmsg = zs.msg;
	inflateEnd(&zs);
	if (err) {
		free(dst);
		if (err == -EFBIG)
			return format_fail(e, err, "pprof: decompressed profile is larger than %u MiB",
					   PPROF_MAX_INFLATED >> 20);
		if (err == -ENOMEM)
			return format_fail(e, err, "pprof: out of memory decompressing");
		return format_fail(e, err, "pprof: corrupt or truncated gzip data%s%s", zmsg ? ": " : "",
				   zmsg ? zmsg : "");
	}
	*out = dst;
	*outlen = n;
	return 0;
}

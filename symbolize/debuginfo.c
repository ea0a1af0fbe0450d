/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "debuginfo.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <lzma.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "base/array.h"
#include "base/openroot.h"
#include "symbolize/elfseg.h"
#include "elfnote.h"

static Elf *elf_open(int fd)
{
	elf_version(EV_CURRENT);
	Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (e && elf_kind(e) != ELF_K_ELF) {
		elf_end(e);
		e = NULL;
	}
	return e;
}

static int elf_build_id(Elf *e, char *out)
{
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		int err = elfnote_build_id(elf_getdata(scn, NULL), out);
		if (err != -ENOENT)
			return err ? -ENOENT : 0; /* the first note decides, empty or not */
	}
	return -ENOENT;
}

int debuginfo_build_id(int fd, char *out)
{
	Elf *e = elf_open(fd);
	if (!e)
		return -ENOEXEC;
	int err = elf_build_id(e, out);
	elf_end(e);
	return err;
}

/* The CRC-32 of the whole file (what .gnu_debuglink records). */
static int file_crc(int fd, uint32_t *crc)
{
	struct stat st;
	if (fstat(fd, &st))
		return -errno;
	uLong c = crc32(0, Z_NULL, 0);
	if (st.st_size > 0) {
		void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (m == MAP_FAILED)
			return -errno;
		const Bytef *p = m;
		for (off_t left = st.st_size; left > 0;) {
			uInt chunk = left > (1 << 30) ? 1u << 30 : (uInt)left;
			c = crc32(c, p, chunk);
			p += chunk;
			left -= chunk;
		}
		munmap(m, (size_t)st.st_size);
	}
	*crc = (uint32_t)c;
	return 0;
}

/* Opens path, resolved inside root ("" for ours), if it is an ELF file with
 * this build ID (any, when NULL) and, when crc is given, this CRC.  -1
 * otherwise. */
static int try_open(const char *root, const char *path, const char *build_id, const uint32_t *crc)
{
	char bid[129];
	uint32_t c = 0;
	int fd = open_file_in_root(root, path);
	if (fd < 0)
		return -1;
	if (build_id && (debuginfo_build_id(fd, bid) || strcmp(bid, build_id)))
		goto refuse;
	if (crc && (file_crc(fd, &c) || c != *crc))
		goto refuse;
	return fd;
refuse:
	close(fd);
	return -1;
}

/* The .gnu_debuglink name and CRC; -ENOENT when there is none. */
static int debuglink(Elf *e, char *name, size_t len, uint32_t *crc)
{
	GElf_Shdr sh;
	Elf_Scn *scn = elfseg_section(e, ".gnu_debuglink", &sh);
	Elf_Data *d = scn ? elf_getdata(scn, NULL) : NULL;
	if (!d || !d->d_buf || d->d_size < 8)
		return -ENOENT;
	const char *s = d->d_buf;
	size_t n = strnlen(s, d->d_size);
	size_t crc_off = (n + 4) & ~(size_t)3;
	if (!n || n >= len || crc_off + 4 > d->d_size || strchr(s, '/'))
		return -ENOENT;
	memcpy(name, s, n + 1);
	memcpy(crc, s + crc_off, 4); /* in the file's byte order: ours for a native file */
	return 0;
}

static int by_debuglink(Elf *e, const char *debug_root, const char *root, const char *path, const char *build_id)
{
	char name[256], dir[PATH_MAX], cand[PATH_MAX * 2];
	uint32_t crc;
	if (debuglink(e, name, sizeof(name), &crc))
		return -1;
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	/* Next to the file: inside its process's root, whose symlinks may be
	 * anyone's (confined by open_in_root). */
	const char *fmts[] = { "%s/%s", "%s/.debug/%s" };
	for (size_t i = 0; root && i < 2; i++) {
		snprintf(cand, sizeof(cand), fmts[i], dir, name);
		int fd = try_open(root, cand, build_id, &crc);
		if (fd >= 0)
			return fd;
	}
	snprintf(cand, sizeof(cand), "%s%s/%s", debug_root, dir, name);
	return try_open("", cand, build_id, &crc);
}

int debuginfo_open(int fd, const char *debug_root, const char *root, const char *path, const char *build_id,
		   int *out)
{
	char cand[PATH_MAX * 2];
	int dfd = -1;
	if (build_id && strlen(build_id) > 2) {
		snprintf(cand, sizeof(cand), "%s/.build-id/%.2s/%s.debug", debug_root, build_id, build_id + 2);
		dfd = try_open("", cand, build_id, NULL);
	}
	if (dfd < 0 && path && path[0] == '/') {
		Elf *e = elf_open(fd);
		if (e) {
			dfd = by_debuglink(e, debug_root, root, path, build_id);
			elf_end(e);
		}
	}
	if (dfd < 0 && path && path[0] == '/') {
		snprintf(cand, sizeof(cand), "%s%s", debug_root, path);
		dfd = try_open("", cand, build_id, NULL);
	}
	if (dfd < 0)
		return -ENOENT;
	*out = dfd;
	return 0;
}

/* Decompresses an xz stream of len bytes into a growing buffer. */
static int unxz(const uint8_t *in, size_t len, void **image, size_t *out_len)
{
	lzma_stream s = LZMA_STREAM_INIT;
	size_t cap = 0, want = len * 4 + 4096, limit = (size_t)1 << 30;
	uint8_t *buf = NULL;
	int err = -EBADMSG;
	if (lzma_stream_decoder(&s, UINT64_MAX, 0) != LZMA_OK)
		return -ENOMEM;
	s.next_in = in;
	s.avail_in = len;
	for (;;) {
		if (array_grow(&buf, &cap, want, 1)) {
			err = -ENOMEM;
			goto out;
		}
		s.next_out = buf + s.total_out;
		s.avail_out = cap - s.total_out;
		lzma_ret r = lzma_code(&s, LZMA_FINISH);
		if (r == LZMA_STREAM_END)
			break;
		if ((r != LZMA_OK && r != LZMA_BUF_ERROR) || s.avail_out || cap >= limit)
			goto out; /* corrupt, truncated, or a bomb */
		want = cap * 2;
	}
	*image = buf;
	*out_len = s.total_out;
	buf = NULL;
	err = 0;
out:
	lzma_end(&s);
	free(buf);
	return err;
}

int debuginfo_minidebug(int fd, void **image, size_t *len)
{
	GElf_Shdr sh;
	Elf *e = elf_open(fd);
	if (!e)
		return -ENOEXEC;
	Elf_Scn *scn = elfseg_section(e, ".gnu_debugdata", &sh);
	Elf_Data *d = scn ? elf_rawdata(scn, NULL) : NULL;
	int err = d && d->d_size ? unxz(d->d_buf, d->d_size, image, len) : -ENOENT;
	elf_end(e);
	return err;
}

/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "atomicfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int atomic_file_open(struct atomic_file *af, const char *path)
{
	int err = 0, fd = -1;
	const char *slash = strrchr(path, '/');
	size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
	const char *base = slash ? slash + 1 : path;

	memset(af, 0, sizeof(*af));
	if (!*base) {
		err = -EISDIR;
		goto fail;
	}
	af->path = strdup(path);
	if (!af->path || asprintf(&af->tmp, "%.*s.%s.XXXXXX", (int)dirlen, path, base) < 0) {
		af->tmp = NULL;
		err = -ENOMEM;
		goto fail;
	}
	fd = mkostemp(af->tmp, O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		free(af->tmp);
		af->tmp = NULL;
		goto fail;
	}
	mode_t mask = umask(0);
	umask(mask);
	fchmod(fd, 0666 & ~mask);
	af->fp = fdopen(fd, "w");
	if (!af->fp) {
		err = -errno;
		close(fd);
		goto fail;
	}
	setvbuf(af->fp, NULL, _IOFBF, 1 << 16);
	return 0;
fail:
	atomic_file_abort(af);
	return err;
}

int atomic_file_commit(struct atomic_file *af)
{
	int err = 0;

	if (fflush(af->fp) || ferror(af->fp))
		err = errno ? -errno : -EIO;
	if (!err && fsync(fileno(af->fp)))
		err = -errno;
	if (fclose(af->fp) && !err)
		err = -errno;
	af->fp = NULL;
	if (!err && rename(af->tmp, af->path))
		err = -errno;
	if (!err) {
		free(af->tmp);
		af->tmp = NULL;
	}
	atomic_file_abort(af);
	return err;
}

void atomic_file_abort(struct atomic_file *af)
{
	if (af->fp)
		fclose(af->fp);
	if (af->tmp)
		unlink(af->tmp);
	free(af->tmp);
	free(af->path);
	memset(af, 0, sizeof(*af));
}

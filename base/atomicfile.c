/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "atomicfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "hashtab.h"

#define TMP_TRIES 100

/* Overwrites the trailing "XXXXXX" of name with random letters and digits. */
static void fill_random(char *name, unsigned attempt)
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	uint64_t r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = hash_u64(clock_ns(CLOCK_MONOTONIC) ^ (uint64_t)getpid() << 20 ^ attempt);
	char *x = name + strlen(name) - 6;
	for (int i = 0; i < 6; i++, r /= 62)
		x[i] = chars[r % 62];
}

/* Creates af->tmp exclusively with mode 0666, so the umask applies as usual
 * (mkstemp's 0600 would need a umask() dance that races with threads). */
static int create_tmp(struct atomic_file *af)
{
	for (unsigned i = 0; i < TMP_TRIES; i++) {
		fill_random(af->tmp, i);
		int fd = open(af->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);
		if (fd >= 0 || errno != EEXIST)
			return fd >= 0 ? fd : -errno;
	}
	return -EEXIST;
}

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
	fd = create_tmp(af);
	if (fd < 0) {
		err = fd;
		free(af->tmp); /* not created: nothing to unlink */
		af->tmp = NULL;
		goto fail;
	}
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

	if (!af->fp || !af->tmp) {
		err = -EBADF;
		goto out;
	}
	errno = 0;
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
out:
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

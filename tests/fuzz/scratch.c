/* SPDX-License-Identifier: MIT */
/* fuzz_scratch_path and fuzz_memfd: files for targets that parse files. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

static char dir[256], path[512];

static void cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

const char *fuzz_scratch_path(const char *name)
{
	if (!dir[0]) {
		const char *tmp = getenv("TMPDIR");
		snprintf(dir, sizeof(dir), "%s/scorch-fuzz-XXXXXX", tmp && *tmp ? tmp : "/dev/shm");
		FUZZ_CHECK(mkdtemp(dir));
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		atexit(cleanup);
	}
	return path;
}

int fuzz_memfd(int *fd, const void *data, size_t size)
{
	if (*fd < 0)
		FUZZ_CHECK((*fd = memfd_create("fuzz-input", MFD_CLOEXEC)) >= 0);
	FUZZ_CHECK(!ftruncate(*fd, 0) && pwrite(*fd, data, size, 0) == (ssize_t)size);
	return *fd;
}

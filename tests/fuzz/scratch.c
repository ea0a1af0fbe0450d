/* SPDX-License-Identifier: MIT */
/* fuzz_scratch_path: a scratch file for targets that parse files. */
#include <stdlib.h>
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

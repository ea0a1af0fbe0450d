/* SPDX-License-Identifier: MIT */
/*
 * What every fuzz target shares: the libFuzzer entry point each one defines,
 * and a check that aborts (so libFuzzer and the replay driver report it) when
 * an invariant of the parser's output does not hold.
 */
#ifndef SCORCH_TESTS_FUZZ_H
#define SCORCH_TESTS_FUZZ_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                        \
	do {                                                                                    \
		if (!(cond)) {                                                                  \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                \
		}                                                                               \
	} while (0)

/*
 * A path for a target's scratch file ("NAME" in a directory of its own under
 * $TMPDIR, else /dev/shm: tmpfs, so fsync costs nothing); made on first use,
 * removed at exit.
 */
const char *fuzz_scratch_path(const char *name);

/*
 * An in-memory file (memfd) holding exactly data[0..size), for parsers that
 * take a file descriptor: *fd is made on first use (start it at -1), then
 * truncated and rewritten on every call.  Returns *fd.
 */
int fuzz_memfd(int *fd, const void *data, size_t size);

#endif

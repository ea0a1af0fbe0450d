/* SPDX-License-Identifier: MIT */
/* Addresses to look up, taken from the input itself (8 bytes at a time from
 * its end) so that the fuzzer can steer them to symbol boundaries. */
#ifndef SCORCH_TESTS_FUZZ_PROBE_H
#define SCORCH_TESTS_FUZZ_PROBE_H
#include <string.h>

#include "fuzz.h"

#define PROBES_MAX 32

static inline size_t probes_from(const uint8_t *data, size_t size, uint64_t *out)
{
	size_t n = 0;
	for (size_t off = size; off >= 8 && n < PROBES_MAX; off -= 8)
		memcpy(&out[n++], data + off - 8, 8);
	return n;
}
#endif

/* SPDX-License-Identifier: MIT */
/*
 * CPython location tables (co_linetable, read from a profiled process's
 * memory, so untrusted), in 3.11+'s format and in 3.10's.  The answer for
 * a code unit depends only on the entries up to the one covering it: the
 * same table followed by more entries answers alike wherever the short one
 * answered, and neither reads past its end (the sanitizers see to that).
 * A 3.11+ table whose first byte is not an entry never answers.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "symbolize/python.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t more[] = { 0xf8, 0x03, 0x00, 0x00, 0x00, 0x80, 0x07, 0xe9, 0x01, 0x02 };
	uint8_t *longer = malloc(size + sizeof(more));
	if (!longer)
		return 0;
	if (size)
		memcpy(longer, data, size);
	memcpy(longer + size, more, sizeof(more));
	for (uint32_t idx = 0; idx < 96; idx++) {
		int a = pyframes_line(data, size, 1000, idx);
		int b = pyframes_line(longer, size + sizeof(more), 1000, idx);
		FUZZ_CHECK(!a || a == b);
		if (size && !(data[0] & 0x80))
			FUZZ_CHECK(a == 0);
		/* 3.10's pairs: likewise, from the pairs up to the covering one. */
		a = pyframes_line310(data, size, 1000, idx);
		b = pyframes_line310(longer, size + sizeof(more), 1000, idx);
		FUZZ_CHECK(!a || a == b || size % 2);
	}
	(void)pyframes_line(data, size, 1, UINT32_MAX);
	(void)pyframes_line310(data, size, 1, UINT32_MAX);
	free(longer);
	return 0;
}

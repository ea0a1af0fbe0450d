/* SPDX-License-Identifier: MIT */
/*
 * The per-boot core kernel symbol cache (kallsyms_load_core): a damaged or
 * hostile file must be refused, or load into a table whose lookups hold.
 */
#include <fcntl.h>
#include <unistd.h>

#include "fuzz.h"
#include "probe.h"
#include "symbolize/kallsyms.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kallsyms *k = NULL;
	uint64_t probe[PROBES_MAX];
	size_t n = probes_from(data, size, probe);

	const char *path = fuzz_scratch_path("core");
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FUZZ_CHECK(fd >= 0 && write(fd, data, size) == (ssize_t)size && !close(fd));
	if (kallsyms_load_core(path, &k))
		return 0;
	for (size_t i = 0; i < n; i++) {
		struct ksym s;
		FUZZ_CHECK(!kallsyms_lookup(k, probe[i], &s) || (s.addr <= probe[i] && s.name && !s.module));
	}
	kallsyms_free(k);
	return 0;
}

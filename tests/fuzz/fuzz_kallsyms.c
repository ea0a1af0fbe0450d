/* SPDX-License-Identifier: MIT */
/*
 * /proc/kallsyms text parser, and the per-boot core symbol cache written from
 * what it parsed: a saved cache must load back and answer core addresses as
 * the text did.
 */
#include <unistd.h>

#include "fuzz.h"
#include "probe.h"
#include "symbolize/kallsyms.h"

static void check_lookups(const struct kallsyms *k, const struct kallsyms *core, const uint64_t *probe, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct ksym s, c;
		bool found = kallsyms_lookup(k, probe[i], &s);
		FUZZ_CHECK(!found || (s.addr <= probe[i] && s.name));
		if (!core || !found || s.module || !kallsyms_in_core(k, probe[i]))
			continue;
		FUZZ_CHECK(kallsyms_in_core(core, probe[i]));
		FUZZ_CHECK(kallsyms_lookup(core, probe[i], &c) && c.addr == s.addr && !c.module);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kallsyms *k = NULL, *core = NULL;
	uint64_t probe[PROBES_MAX];
	const char *path = fuzz_scratch_path("core");
	size_t n = probes_from(data, size, probe);

	if (kallsyms_parse((const char *)data, size, &k))
		return 0;
	if (!kallsyms_save_core(k, path))
		kallsyms_load_core(path, &core); /* -EINVAL when there is no core symbol */
	unlink(path);
	check_lookups(k, core, probe, n);
	kallsyms_free(core);
	kallsyms_free(k);
	return 0;
}

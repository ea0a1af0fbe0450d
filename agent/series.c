/* SPDX-License-Identifier: MIT */
#include "series.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/hashtab.h"

struct agent_series {
	uint32_t max;
	time_t period_start;
	struct u64map per_service; /* hash of the service -> label sets admitted */
	struct u64map sets;        /* hash of service and labels -> 1 */
	uint64_t folded;
	uint32_t most;
};

int agent_series_new(uint32_t max, struct agent_series **out)
{
	struct agent_series *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->max = max;
	u64map_init(&s->per_service);
	u64map_init(&s->sets);
	*out = s;
	return 0;
}

void agent_series_free(struct agent_series *s)
{
	if (!s)
		return;
	u64map_release(&s->per_service);
	u64map_release(&s->sets);
	free(s);
}

void agent_series_set_max(struct agent_series *s, uint32_t max)
{
	s->max = max;
}

static uint64_t hash_str(const char *str, uint64_t seed)
{
	/* The NUL too, so that ("ab", "c") and ("a", "bc") differ. */
	return hash_bytes(str, strlen(str) + 1, seed);
}

bool agent_series_admit(struct agent_series *s, const char *service, const struct build_label *l, size_t n,
			time_t now)
{
	if (now - s->period_start >= AGENT_SERIES_PERIOD_S || now < s->period_start) {
		u64map_release(&s->per_service);
		u64map_release(&s->sets);
		u64map_init(&s->per_service);
		u64map_init(&s->sets);
		s->most = 0;
		s->period_start = now;
	}
	uint64_t hs = hash_str(service, 0), h = hs;
	for (size_t i = 0; i < n; i++)
		h = hash_str(l[i].value ? l[i].value : "", hash_str(l[i].key, h));
	if (u64map_get(&s->sets, h))
		return true;
	uint64_t *count = u64map_get(&s->per_service, hs);
	uint64_t c = count ? *count : 0;
	/* Out of memory: fold rather than grow the series unaccounted. */
	if ((s->max && c >= s->max) || u64map_put(&s->sets, h, 1) || u64map_put(&s->per_service, hs, c + 1)) {
		s->folded++;
		return false;
	}
	if (c + 1 > s->most)
		s->most = (uint32_t)(c + 1);
	return true;
}

void agent_series_stats(const struct agent_series *s, struct agent_series_stats *out)
{
	out->services = u64map_len(&s->per_service);
	out->label_sets = u64map_len(&s->sets);
	out->folded = s->folded;
	out->most = s->most;
}

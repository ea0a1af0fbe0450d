/* SPDX-License-Identifier: MIT */
/*
 * series: the push's cardinality budget.  Pyroscope turns each distinct
 * set of a profile's sample labels into a series of its own
 * (pkg/model/pprofsplit) and a tenant has 5,000 active series by default,
 * so each service may show at most `max` distinct sets of process labels
 * (exe, cgroup, container_id) within a period; a process whose set would
 * be past that is pushed with its service name alone, in the service's
 * catch-all series, and counted.  The budget starts afresh each period
 * (an hour: longer than Pyroscope keeps a series active without data),
 * which keeps this table's memory bounded by what one period saw.
 */
#ifndef SCORCH_AGENT_SERIES_H
#define SCORCH_AGENT_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "profiler/build.h"

#define AGENT_SERIES_PERIOD_S 3600

struct agent_series;

/* max: label sets a service may show in a period (0: no bound). */
int agent_series_new(uint32_t max, struct agent_series **out);
void agent_series_free(struct agent_series *s);
void agent_series_set_max(struct agent_series *s, uint32_t max);
/* Whether a process of service with labels l[0..n) may be pushed with
 * them (at time now); false: with its service name alone. */
bool agent_series_admit(struct agent_series *s, const char *service, const struct build_label *l, size_t n,
			time_t now);
struct agent_series_stats {
	uint64_t services;    /* seen this period */
	uint64_t label_sets;  /* admitted this period, all services */
	uint64_t folded;      /* processes pushed without their labels, since start */
	uint32_t most;        /* label sets of the service with the most */
};
void agent_series_stats(const struct agent_series *s, struct agent_series_stats *out);

#endif

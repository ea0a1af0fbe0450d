/* SPDX-License-Identifier: MIT */
/*
 * pusher: the agent's push thread.  It sends what the spool holds to
 * the push target, oldest first, and after a failure waits (exponential
 * backoff, 1 s doubling to 60 s) before the next attempt.  A slow, hanging
 * or unreachable server then delays nothing else: the sampling loop keeps
 * reading process announcements and closing windows on time while a
 * request waits for its 10 s timeout.
 *
 * Answers are sorted by agent_push_classify: a window the server refused
 * for what it is (400, 413, 415, 422) is dropped and counted, the server's
 * reason kept for status.json and warned about; anything else is retried.
 * A window older than max_age_s (Pyroscope refuses profiles more than an
 * hour old) is dropped unsent and counted, so a spool replayed after a
 * long outage drains instead of being refused window by window.
 *
 * The pusher owns the connection (struct agent_push); the spool is shared
 * (it locks itself).  Counters are read with agent_pusher_stats.
 */
#ifndef SCORCH_AGENT_PUSHER_H
#define SCORCH_AGENT_PUSHER_H

#include <stdint.h>
#include <time.h>

#include "agent/push.h"
#include "agent/spool.h"

struct agent_pusher;

/* Starts the thread; push is taken (freed by agent_pusher_stop, or here on
 * failure), url is for log lines; max_age_s 0: no age bound.  0 or -errno. */
int agent_pusher_start(struct agent_spool *spool, struct agent_push *push, const char *url, uint64_t max_age_s,
		       struct agent_pusher **out);
/* Something was queued: send it now, unless waiting out a failure. */
void agent_pusher_kick(struct agent_pusher *pp);
struct agent_pusher_stats {
	uint64_t pushed;   /* accepted */
	uint64_t failures; /* attempts to be retried: no answer, 429, 5xx, ... */
	uint64_t refused;  /* windows the server refused for good: dropped */
	uint64_t expired;  /* windows older than max_age_s: dropped unsent */
	int64_t refusal_time;   /* the last refusal: when (Unix seconds), */
	char refusal[384];      /* what ("SERVICE NAME FROM: HTTP 400: message") */
};
/* Adds the counts of add to *total, and its last refusal if it has one. */
void agent_pusher_stats_add(struct agent_pusher_stats *total, const struct agent_pusher_stats *add);
void agent_pusher_stats(struct agent_pusher *pp, struct agent_pusher_stats *out);
/* Stops the thread and frees pp (NULL is fine); its counts are added to
 * *total when given.  With flush_ms, it first sends what is queued, the
 * backoff ignored, until the spool is empty, a send fails or flush_ms have
 * passed; what is left stays in the spool for the next run. */
void agent_pusher_stop(struct agent_pusher *pp, uint64_t flush_ms, struct agent_pusher_stats *total);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * ratelimit: the agent's clock and its warnings at most once a minute.  A
 * weeks-long agent meets the same failure every window (a full disk, a
 * server down); it says so once a minute per kind, with how many it kept
 * to itself.  The sampling thread (window.c, cmd_agent.c) and the push
 * thread (pusher.c) each use their own struct agent_ratelimit.
 */
#ifndef SCORCH_AGENT_RATELIMIT_H
#define SCORCH_AGENT_RATELIMIT_H

#include <stdint.h>

/* Milliseconds on the monotonic clock (base/clock.h's clock_ns): the
 * agent's deadlines, backoff and rate limits are kept in it. */
uint64_t agent_now_ms(void);

/* One line per kind of event at most once a minute; the rest are counted.
 * Zeroed is ready; not locked (one thread's own). */
struct agent_ratelimit {
	uint64_t last_ms, suppressed;
};

/* Logs a warning through rl (at most one a minute, with the count suppressed). */
void agent_warn_limited(struct agent_ratelimit *rl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif

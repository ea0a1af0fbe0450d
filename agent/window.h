/* SPDX-License-Identifier: MIT */
/*
 * window: what `scorch agent` does at the end of each window: close the
 * window in the kernel, build its profile(s) with labels, write them (kept
 * in memory, up to a bound, while the output directory is unwritable),
 * queue one profile per service for Pyroscope (the pusher sends them), and
 * rewrite status.json.  Called on the sampling thread with the agent's
 * state (agent.h).
 */
#ifndef SCORCH_AGENT_WINDOW_H
#define SCORCH_AGENT_WINDOW_H

#include <time.h>

struct agent;

/* Closes the window [from, until) (Unix seconds) and handles it; 0 or
 * -errno only for failures that should stop the agent (BPF maps unreadable). */
int agent_window_close(struct agent *a, time_t from, time_t until);
/* Refreshes the agent's own figures (CPU, RSS, symbolizer, spool, pushes)
 * and rewrites DIR/status.json. */
void agent_status_update(struct agent *a);
/* Writes window files kept in memory. */
void agent_pending_flush(struct agent *a);

#endif

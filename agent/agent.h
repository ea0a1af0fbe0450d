/* SPDX-License-Identifier: MIT */
/*
 * agent: the state of `scorch agent` (struct agent, owned by cmd_agent.c)
 * and what it does at the end of each window (window.c): close
 * the window in the kernel, build its profile(s) with labels, write them
 * (kept in memory, up to a bound, while the output directory is unwritable),
 * queue one profile per service for Pyroscope (pusher.c sends them).
 */
#ifndef SCORCH_AGENT_AGENT_H
#define SCORCH_AGENT_AGENT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "bpf/scorch.h"
#include "formats/profile.h"
#include "agent/config.h"
#include "agent/output.h"
#include "agent/procs.h"
#include "agent/push.h"
#include "agent/pusher.h"
#include "agent/spool.h"
#include "profiler/build.h"
#include "profiler/capture.h"
#include "symbolize/symbolizer.h"

#define AGENT_PENDING_MAX 8 /* window files kept in memory while unwritable */

/* One line per kind of event at most once a minute; the rest are counted. */
struct agent_ratelimit {
	uint64_t last_ms, suppressed;
};

struct agent_pending {
	struct profile *p;
	char name[64];
};

struct session;
struct unwind;

struct dbgd;

struct agent {
	struct agent_opts o;
	struct capture *c;
	struct symbolizer *sym;
	struct dbgd *dbgd;      /* debuginfod servers, NULL without */
	struct agent_procs *procs;
	struct agent_spool *spool;
	struct agent_pusher *pusher; /* NULL without --push */
	struct agent_pusher_stats pushed_before; /* by pushers a reload replaced */
	char host[256];
	struct build_label *labels; /* host, then the static labels but service_name */
	size_t nlabels;
	struct agent_pending pending[AGENT_PENDING_MAX];
	size_t npending;
	uint64_t prev[STAT_NR]; /* BPF counters at the last window's end */
	uint32_t offcpu_count_cap; /* --off-cpu: capacity of each window's off-CPU counts */
	struct unwind *unw;     /* CFI tables of the processes sampled; NULL with --unwind fp */
	struct pytrack *py;     /* Python frames; NULL with --no-python */
	struct session *ss;     /* process announcements: symbolizer, unwinder, Python */
	struct agent_status st;
	struct agent_ratelimit rl_write, rl_drop;
};

/* Milliseconds on the monotonic clock. */
uint64_t agent_now_ms(void);
/* Logs a warning through rl (at most one a minute, with the count suppressed). */
void agent_warn_limited(struct agent_ratelimit *rl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Closes the window [from, until) (Unix seconds) and handles it; 0 or
 * -errno only for failures that should stop the agent (BPF maps unreadable). */
int agent_window_close(struct agent *a, time_t from, time_t until);
/* Refreshes the agent's own figures (CPU, RSS, symbolizer, spool, pushes)
 * and rewrites DIR/status.json. */
void agent_status_update(struct agent *a);
/* Writes window files kept in memory. */
void agent_pending_flush(struct agent *a);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * agent: the state of `scorch agent`, one struct agent, set up, run and
 * torn down by profiler/cmd_agent.c and handed to the agent's functions
 * (window.h at the end of each window).  It owns what its pointers point
 * to (cmd_agent.c's teardown frees them).  Only the sampling thread uses
 * it; the push thread has its own state (pusher.h).
 */
#ifndef SCORCH_AGENT_AGENT_H
#define SCORCH_AGENT_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "bpf/scorch.h"
#include "formats/profile.h"
#include "agent/config.h"
#include "agent/output.h"
#include "agent/procs.h"
#include "agent/push.h"
#include "agent/pusher.h"
#include "agent/ratelimit.h"
#include "agent/series.h"
#include "agent/spool.h"
#include "profiler/build.h"
#include "profiler/capture.h"
#include "symbolize/symbolizer.h"

#define AGENT_PENDING_MAX 8 /* window files kept in memory while unwritable */

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
	struct agent_series *series; /* the push's budget of label sets per service */
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
	struct java *jvm;       /* JVMs asked for method names; NULL with --no-java */
	struct session *ss;     /* process announcements: symbolizer, unwinder, Python */
	struct agent_status st;
	struct agent_ratelimit rl_write, rl_drop;
};

#endif

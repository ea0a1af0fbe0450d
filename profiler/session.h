/* SPDX-License-Identifier: MIT */
/*
 * session: the processes of one capture, tracked once for everything that
 * needs them.  The BPF side announces a process at exec, at each
 * executable mmap and on its 1st, 2nd, 4th ... sample; each announcement
 * comes here, and the process is read once for all its readers, in this
 * order: the symbolizer reads its maps and opens the files behind them
 * (symbolizer_track), the unwinder installs CFI tables from that snapshot
 * and those open files (unwind_track), and the Python tracker looks for an
 * interpreter in it (pytrack_announce), and the Java tracker for a JVM to
 * ask for its map of compiled methods (java_announce).  The session keeps the processes
 * it has read; once a second those the BPF side no longer knows live
 * (exited, or exec'd into a new generation) are dropped from the
 * unwinder's tables (unwind_forget) and from Python's walking
 * (pytrack_forget) and from Java's asking (java_forget); what names their samples stays with the symbolizer
 * until its owner forgets them.
 *
 * Announcements are handled a poll's batch at a time, each (pid, gen)
 * once: when the reader falls behind (a slow machine, a sanitizer build),
 * one reading of the maps serves them all.
 */
#ifndef SCORCH_PROFILER_SESSION_H
#define SCORCH_PROFILER_SESSION_H

#include <stdint.h>

struct capture;
struct java;
struct pytrack;
struct session;
struct symbolizer;
struct unwind;

struct session_parts {
	struct capture *c;      /* required: which processes are live */
	struct symbolizer *sym; /* required */
	struct unwind *unw;	/* NULL: frame pointers only */
	struct pytrack *py;	/* NULL: no Python frames */
	struct java *jvm;	/* NULL: no Java method names */
	/* Called for each process before it is read; non-zero skips it (it is
	 * gone).  NULL: every process is read. */
	int (*admit)(void *ctx, uint32_t pid, uint32_t gen);
	void *ctx;
};

/* The parts are borrowed and must outlive the session. 0 or -ENOMEM. */
int session_new(const struct session_parts *parts, struct session **out);
void session_free(struct session *s);

/* capture_poll's announcement callback (ctx: the session): queues (pid, gen). */
void session_on_proc(void *ctx, uint32_t pid, uint32_t gen);
/* After each capture_poll: reads the queued processes, reaps and starts
 * the asks of JVMs (java_update), and when a second has passed since the
 * last sweep, drops the exited ones. */
void session_update(struct session *s);

#endif

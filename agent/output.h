/* SPDX-License-Identifier: MIT */
/*
 * output: the agent's files in its output directory.  Window profiles
 * are "YYYY-MM-DDTHH-MM-SSZ.pb.gz" (UTC start of the window; with
 * --per-process "...Z-PID.pb.gz"; time off the CPU, with --off-cpu, in
 * "...Z.offcpu.pb.gz" and "...Z-PID.offcpu.pb.gz"), so names sort by time
 * and retention deletes the oldest first.  status.json is rewritten atomically after every
 * window.
 */
#ifndef SCORCH_AGENT_OUTPUT_H
#define SCORCH_AGENT_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* The file name of a window starting at t (pid 0: every process; offcpu:
 * its time off the CPU). */
void agent_window_name(time_t t, uint32_t pid, bool offcpu, char *out, size_t outlen);
/* The start time of a window file name; -1 when name is not one. */
time_t agent_window_time(const char *name);

/* Deletes window files older than retention_s (0: no age bound) and the
 * oldest while all of them take more than max_disk bytes (0: no bound).
 * *deleted and *kept_bytes set.  0 or -errno (directory unreadable). */
int agent_output_prune(const char *dir, uint64_t retention_s, uint64_t max_disk, time_t now, size_t *deleted,
		       uint64_t *kept_bytes);

struct agent_status {
	time_t time;
	uint64_t windows, windows_written, write_failures, windows_pending;
	double cpu_user_s, cpu_sys_s; /* the agent's own CPU since start */
	uint64_t rss_kib;
	uint64_t samples_window, samples_total; /* samples counted by BPF */
	uint64_t lost_window, lost_total;       /* not counted: counts or stacks table full */
	double map_fill;                        /* counts entries / capacity, last window */
	uint64_t processes;                     /* processes known for labels */
	/* Processes whose first announcement was read after they had exited
	 * (labelled from what BPF kept), and those of the samples never read
	 * at all (named by the samples' comm), since start. */
	uint64_t processes_exited_unread, processes_unread;
	uint64_t sym_files, dwarf_cache_kib;    /* symbolizer: files held now, DWARF cache */
	uint64_t dwarf_memo_kib;                /* symbolizer: lines and inline frames remembered per address */
	uint64_t sym_files_released;            /* files no process mapped any more, freed */
	/* Unwinder: files whose CFI was compiled, idle ones taken again
	 * uncompiled, and the time spent compiling, since start. */
	uint64_t unwind_files, unwind_files_reused, unwind_compile_ms;
	uint64_t spool_entries, spool_bytes, spool_dropped;
	uint64_t pushed, push_failures;
	/* Windows refused for good and dropped; too old to send and dropped;
	 * profiles split to stay under the server's limits; the last refusal
	 * (when, and what: the series and the server's message). */
	uint64_t push_refused, push_expired, push_splits;
	int64_t push_refusal_time;
	char push_refusal[384];
	/* The push's label sets this period (series.h): services, sets, the
	 * most of one service; stacks pushed without process labels. */
	uint64_t series_services, series_label_sets, series_most, series_folded;
	uint64_t files_deleted, disk_bytes;
	/* --off-cpu: microseconds of the waits that ended in the last window;
	 * waits lost (table of waiting threads or counts full), waits counted
	 * without their stacks ([unknown]: not carried into the window they
	 * ended in, its stacks map full), waits under --off-cpu-min-us; stacks
	 * of threads still waiting carried into the next window; counts used /
	 * capacity. */
	bool offcpu;
	uint64_t offcpu_us_window, offcpu_lost_window, offcpu_lost_total;
	uint64_t offcpu_unknown_window, offcpu_unknown_total, offcpu_short_total;
	uint64_t offcpu_carried_window;
	double offcpu_map_fill;
};

/* Writes DIR/status.json atomically. 0 or -errno. */
int agent_status_write(const char *dir, const struct agent_status *st);
/* The process's RSS in KiB from /proc/self/statm, 0 when unknown. */
uint64_t agent_self_rss_kib(void);

#endif

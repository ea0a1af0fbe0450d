/* SPDX-License-Identifier: MIT */
/*
 * java: names for a HotSpot JVM's compiled methods during a capture, with
 * no flag on the JVM.  A process mapping libjvm.so is asked, through
 * HotSpot's attach mechanism (the one jcmd uses), to run the diagnostic
 * command Compiler.perfmap, which writes /tmp/perf-NSPID.map in its own
 * /tmp; the symbolizer then reads that map through /proc/PID/root
 * (symbolize/perfmap.h).  A JVM that does not know Compiler.perfmap (JDK
 * 9-16) is asked Compiler.codelist instead, whose answer, turned into a
 * perf map's text (hotspot_codelist), goes to symbolizer_set_jit; the
 * environment variable SCORCH_JAVA_CODELIST=1 (tests only) forces that
 * route.  Each map replaces the one before, whole, so names
 * of code the JIT has since freed are dropped, not attached to what now
 * occupies their addresses.
 *
 * The JVM is asked when first seen, then again while it lives: after 1 s,
 * and each time its map came back unchanged the wait doubles (up to
 * JAVA_ASK_MAX_S), each time it changed (new code appeared) it is back to
 * 1 s.  So a warming-up JVM is asked often, a warmed-up one rarely.
 * java_finish asks each live JVM a last time, so samples of code compiled
 * late are named too.
 *
 * With an unwinder, each new map also gives the JVM's code cache unwind
 * rows (unwind_set_jit): every compiled method's frame size, read from the
 * JVM's memory (symbolize/hotspot.h), so its callers are on its stack
 * without -XX:+PreserveFramePointer.
 *
 * The attach handshake and command run in a short-lived child process, so
 * a JVM slow to answer never stalls the capture: java_update reaps it.  The
 * handshake follows jcmd's: the socket /tmp/.java_pidNSPID, else a file
 * /tmp/.attach_pidNSPID and SIGQUIT, sent only when the process catches
 * SIGQUIT (a JVM not yet set up, or run with -Xrs, would die of it).  The
 * socket is trusted only when owned by the process's user or root.
 */
#ifndef SCORCH_PROFILER_JAVA_H
#define SCORCH_PROFILER_JAVA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JAVA_ASK_MAX_S 16 /* longest wait between two asks of one JVM */

struct symbolizer;
struct java;

struct unwind;
struct capture;
/* unw (borrowed, may be NULL): where compiled methods' unwind rows go; c
 * (borrowed, may be NULL): a capture walking interpreted frames
 * (capture_opts.java), whose new Java stacks are learned as they come. */
int java_new(struct capture *c, struct unwind *unw, struct java **out);
/* Kills and reaps the children still asking. */
void java_free(struct java *j);
/* A process announcement, after symbolizer_track: a process mapping
 * libjvm.so is asked for its map (now, or when its next ask is due). */
void java_announce(struct java *j, const struct symbolizer *sym, uint32_t pid, uint32_t gen);
/* Reaps the children done, has the symbolizer read the maps they had
 * written (symbolizer_track), and starts the asks that are due. */
void java_update(struct java *j, struct symbolizer *sym);
/* Stops asking (pid, gen), which has exited or exec'd. */
void java_forget(struct java *j, uint32_t pid, uint32_t gen);
/* Asks every JVM not forgotten once more and waits up to timeout_s for
 * the answers (reading their maps); for the end of a recording. */
void java_finish(struct java *j, struct symbolizer *sym, double timeout_s);

/* Reads the names of the methods of a Java stack's frames (as the BPF
 * walk stores them, innermost first) while (pid, gen) lives; once a stack. */
void java_learn(struct java *j, uint32_t pid, uint32_t gen, uint64_t stack, const uint64_t *frames, size_t n);
/* Whether stack was learned as a Java stack of (pid, gen). */
bool java_stack_known(const struct java *j, uint32_t pid, uint32_t gen, uint64_t stack);
/* Whether (pid, gen)'s interpreted frames are walked. */
bool java_is_jvm(const struct java *j, uint32_t pid, uint32_t gen);
/* What an interpreted frame ran; strings owned by the struct java. */
struct java_frame_info {
	const char *name; /* "void Shape.main(java.lang.String[])" */
	const char *file; /* its class's source file ("Shape.java"), or NULL */
	uint32_t line;    /* 0 when not known */
};
/* Frame pos of a learned stack; false when its method was not read. */
bool java_frame(const struct java *j, uint32_t pid, uint32_t gen, uint64_t stack, size_t pos,
		struct java_frame_info *out);

struct java_stats {
	uint64_t jvms;          /* JVMs found */
	uint64_t asks;          /* asks answered with a map */
	uint64_t failed;        /* asks that failed (the reason logged once per JVM) */
	uint64_t not_ready;     /* asks skipped: the process did not catch SIGQUIT yet */
	uint64_t maps_changed;  /* answers whose map differed from the one before */
	uint64_t latency_ns_sum;/* ask to answer, answered asks */
	uint64_t latency_ns_max;
	uint64_t first_latency_ns_max; /* the first ask of a JVM (the attach handshake included) */
	uint64_t methods_unwound; /* compiled methods with a frame size, in the last map installed */
	uint64_t no_layout;       /* JVMs whose code cache layout could not be read (callers unknown) */
	uint64_t rows_ns;         /* spent reading frame sizes and installing rows */
	uint64_t walked;          /* JVMs whose interpreted frames are walked */
	uint64_t methods_named;   /* interpreted methods read from a JVM's memory */
	uint64_t methods_unread;  /* Method* that could not be read as a method */
	uint64_t codelist_jvms;   /* JVMs without Compiler.perfmap (JDK 9-16), asked Compiler.codelist */
	uint64_t codelist_skipped; /* lines of their answers that are not a compiled method */
};
void java_stats(const struct java *j, struct java_stats *out);

#endif

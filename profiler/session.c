/* SPDX-License-Identifier: MIT */
#include "session.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/array.h"
#include "base/clock.h"
#include "base/hashtab.h"
#include "capture.h"
#include "java.h"
#include "log.h"
#include "python.h"
#include "symbolize/symbolizer.h"
#include "unwind.h"

#define SWEEP_NS 1000000000ull /* tables of exited processes go within a second */

struct session {
	struct session_parts p;
	uint64_t *pending; /* pid << 32 | gen, in arrival order */
	size_t npending, cap;
	struct u64map queued; /* the same, for the batch */
	struct u64map tracked; /* pid << 32 | gen of the processes read, until they exit */
	uint64_t swept_ns;
};

int session_new(const struct session_parts *parts, struct session **out)
{
	struct session *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->p = *parts;
	u64map_init(&s->queued);
	u64map_init(&s->tracked);
	s->swept_ns = clock_ns(CLOCK_MONOTONIC);
	*out = s;
	return 0;
}

void session_free(struct session *s)
{
	if (!s)
		return;
	free(s->pending);
	u64map_release(&s->queued);
	u64map_release(&s->tracked);
	free(s);
}

void session_on_proc(void *ctx, uint32_t pid, uint32_t gen)
{
	struct session *s = ctx;
	uint64_t key = (uint64_t)pid << 32 | gen;
	if (u64map_get(&s->queued, key))
		return;
	if (!array_grow(&s->pending, &s->cap, s->npending + 1, sizeof(*s->pending)) &&
	    !u64map_put(&s->queued, key, 1))
		s->pending[s->npending++] = key;
}

static void track(struct session *s, uint32_t pid, uint32_t gen)
{
	if (s->p.admit && s->p.admit(s->p.ctx, pid, gen))
		return;
	int err = symbolizer_track(s->p.sym, pid, gen);
	if (err) {
		if (err != -ESRCH)
			log_debug("pid %" PRIu32 ": cannot read maps: %s", pid, strerror(-err));
		return;
	}
	if (u64map_put(&s->tracked, (uint64_t)pid << 32 | gen, 1))
		return; /* what is not swept must not be set up */
	/* Until the tables are in, the process's stacks are walked with frame pointers. */
	if (s->p.unw && (err = unwind_track(s->p.unw, s->p.sym, pid, gen)) && err != -ESRCH)
		log_debug("pid %" PRIu32 ": cannot set up unwind tables: %s", pid, strerror(-err));
	if (s->p.py)
		pytrack_announce(s->p.py, s->p.sym, pid, gen);
	if (s->p.jvm)
		java_announce(s->p.jvm, s->p.sym, pid, gen);
}

/* Drops the processes the BPF side no longer knows live (exited, or exec'd:
 * a new generation) from the unwinder's tables and Python's walking. */
static void sweep(struct session *s)
{
	uint64_t key, v, *gone = NULL;
	size_t n = 0, cap = 0;
	for (size_t pos = 0; u64map_next(&s->tracked, &pos, &key, &v);) {
		uint32_t gen;
		if (!capture_process_gen(s->p.c, (uint32_t)(key >> 32), &gen) && gen == (uint32_t)key)
			continue;
		if (array_grow(&gone, &cap, n + 1, sizeof(*gone)))
			break; /* the rest at the next sweep */
		gone[n++] = key;
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t pid = (uint32_t)(gone[i] >> 32), gen = (uint32_t)gone[i];
		if (s->p.unw)
			unwind_forget(s->p.unw, pid, gen);
		if (s->p.py)
			pytrack_forget(s->p.py, pid, gen);
		if (s->p.jvm)
			java_forget(s->p.jvm, pid, gen);
		u64map_del(&s->tracked, gone[i]);
	}
	free(gone);
}

void session_update(struct session *s)
{
	for (size_t i = 0; i < s->npending; i++) {
		track(s, (uint32_t)(s->pending[i] >> 32), (uint32_t)s->pending[i]);
		u64map_del(&s->queued, s->pending[i]);
	}
	s->npending = 0;
	if (s->p.jvm)
		java_update(s->p.jvm, s->p.sym);
	uint64_t now = clock_ns(CLOCK_MONOTONIC);
	if (now - s->swept_ns >= SWEEP_NS) {
		sweep(s);
		s->swept_ns = now;
	}
}

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
	uint64_t swept_ns;
};

int session_new(const struct session_parts *parts, struct session **out)
{
	struct session *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->p = *parts;
	u64map_init(&s->queued);
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
	/* Until the tables are in, the process's stacks are walked with frame pointers. */
	if (s->p.unw && (err = unwind_track(s->p.unw, s->p.sym, pid, gen)) && err != -ESRCH)
		log_debug("pid %" PRIu32 ": cannot set up unwind tables: %s", pid, strerror(-err));
	if (s->p.py)
		pytrack_announce(s->p.py, s->p.sym, pid, gen);
}

void session_update(struct session *s)
{
	for (size_t i = 0; i < s->npending; i++) {
		track(s, (uint32_t)(s->pending[i] >> 32), (uint32_t)s->pending[i]);
		u64map_del(&s->queued, s->pending[i]);
	}
	s->npending = 0;
	uint64_t now = clock_ns(CLOCK_MONOTONIC);
	if (now - s->swept_ns < SWEEP_NS)
		return;
	if (s->p.unw)
		unwind_sweep(s->p.unw);
	if (s->p.py)
		pytrack_sweep(s->p.py);
	s->swept_ns = now;
}

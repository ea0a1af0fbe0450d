/* SPDX-License-Identifier: MIT */
#include "python.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/hashtab.h"
#include "log.h"

/* A process is looked at at each of its announcements (exec, library
 * loads, its 1st, 2nd, 4th ... sample) until it is found to be Python:
 * libpython is mapped after the exec's announcement, an embedding program
 * may dlopen it much later, and the interpreter may not be set up yet.  A
 * look at a process without an interpreter's file only scans the names of
 * the mappings the symbolizer has just read. */

struct pytrack {
	struct capture *c;
	int map_fd;
	struct pyframes *pf;
	struct u64map tried; /* pid << 32 | gen -> PYTRACK_LOOKING or PYTRACK_DONE, | PYTRACK_IN_MAP */
	struct pytrack_stats st;
};

#define PYTRACK_LOOKING 1 /* not found to be Python yet, or its layout not checked yet */
#define PYTRACK_DONE 2
#define PYTRACK_STATE 3
#define PYTRACK_IN_MAP 4  /* given an entry in py_procs: only then is it looked for there */

static uint64_t key_of(uint32_t pid, uint32_t gen)
{
	return (uint64_t)pid << 32 | gen;
}

static void on_stack(void *ctx, uint32_t pid, uint32_t gen, uint64_t id, const struct stack_trace *st)
{
	struct pytrack *t = ctx;
	int err = pyframes_learn(t->pf, pid, gen, id, (const uint64_t *)st->ips, st->nr);
	if (err == -ESRCH)
		t->st.codes_gone++;
	else if (!err)
		t->st.codes_read++;
}

int pytrack_new(struct capture *c, struct pytrack **out)
{
	int fd = capture_python_map(c);
	if (fd < 0)
		return fd;
	struct pytrack *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	int err = pyframes_new(&t->pf);
	if (err) {
		free(t);
		return err;
	}
	t->c = c;
	t->map_fd = fd;
	u64map_init(&t->tried);
	capture_on_python(c, on_stack, t);
	*out = t;
	return 0;
}

void pytrack_free(struct pytrack *t)
{
	if (!t)
		return;
	capture_on_python(t->c, NULL, NULL);
	pyframes_free(t->pf);
	u64map_release(&t->tried);
	free(t);
}

struct pyframes *pytrack_frames(struct pytrack *t)
{
	return t ? t->pf : NULL;
}

static void to_bpf(uint32_t gen, const struct python_layout *l, struct py_proc *p)
{
	memset(p, 0, sizeof(*p));
	p->gen = gen;
	p->version = l->version;
	p->interp_head = l->interp_head;
	p->eval_start = l->eval_start;
	p->eval_end = l->eval_end;
	p->cold_start = l->cold_start;
	p->cold_end = l->cold_end;
	p->interp_threads_head = l->interp_threads_head;
	p->tstate_next = l->tstate_next;
	p->tstate_thread_id = l->tstate_thread_id;
	p->tstate_cframe = l->tstate_cframe;
	p->current_frame = l->current_frame;
	p->frame_code = l->frame_code;
	p->frame_previous = l->frame_previous;
	p->frame_instr = l->frame_instr;
	p->frame_is_entry = l->frame_is_entry;
	p->frame_owner = l->frame_owner;
	p->code_first_instr = l->code_first_instr;
	p->owner_cstack = l->owner_cstack;
	p->frame_bytes = l->frame_bytes;
	p->walk_flags = l->walk_flags;
}

void pytrack_announce(struct pytrack *t, const struct symbolizer *sym, uint32_t pid, uint32_t gen)
{
	uint64_t key = key_of(pid, gen), *state = u64map_get(&t->tried, key);
	uint64_t in_map = state ? *state & PYTRACK_IN_MAP : 0;
	if (state && (*state & PYTRACK_STATE) == PYTRACK_DONE)
		return;
	/* An announcement read after the process exec'd again (the command's
	 * first sample can come before its exec) is not for the image mapped now. */
	uint32_t live_gen;
	if (!capture_process_gen(t->c, pid, &live_gen) && live_gen != gen) {
		u64map_put(&t->tried, key, PYTRACK_DONE | in_map);
		return;
	}
	struct python_layout l;
	char why[160] = "";
	struct py_proc p;
	bool known = pyframes_known(t->pf, pid, gen);
	int err = pyframes_attach(t->pf, sym, pid, gen, &l, why, sizeof(why));
	if ((!err || err == -EINPROGRESS) && !known) {
		/* Walked from now on; checked at a later look if not yet. */
		to_bpf(gen, &l, &p);
		if (bpf_map_update_elem(t->map_fd, &pid, &p, BPF_ANY)) {
			log_warn("Python frames unavailable for %" PRIu32 ": the table of Python processes is full", pid);
			t->st.unavailable++;
			pyframes_forget(t->pf, pid, gen);
			err = -ENOSPC;
		} else {
			in_map = PYTRACK_IN_MAP;
			capture_walkers_hurry(t->c);
			log_debug("pid %" PRIu32 ": Python %u.%u.%u", pid, l.version >> 24, l.version >> 16 & 0xff,
				  l.version >> 8 & 0xff);
			t->st.processes++;
		}
	} else if (err == -ENOTSUP || err == -EPROTO) {
		log_warn("Python frames unavailable for %" PRIu32 ": %s", pid, why);
		t->st.unavailable++;
		if (in_map && !bpf_map_lookup_elem(t->map_fd, &pid, &p) && p.gen == gen)
			bpf_map_delete_elem(t->map_fd, &pid);
		in_map = 0;
	} else if (err && err != -EINPROGRESS && err != -ENOENT && err != -EEXIST && err != -ESRCH) {
		log_debug("pid %" PRIu32 ": Python: %s", pid, strerror(-err));
	}
	u64map_put(&t->tried, key, (err == -ENOENT || err == -EINPROGRESS ? PYTRACK_LOOKING : PYTRACK_DONE) | in_map);
}

void pytrack_forget(struct pytrack *t, uint32_t pid, uint32_t gen)
{
	struct py_proc p;
	uint64_t *state = u64map_get(&t->tried, key_of(pid, gen));
	bool in_map = state && (*state & PYTRACK_IN_MAP);
	u64map_del(&t->tried, key_of(pid, gen));
	/* Under churn most processes are not Python: no lookup for them. */
	if (in_map && !bpf_map_lookup_elem(t->map_fd, &pid, &p) && p.gen == gen)
		bpf_map_delete_elem(t->map_fd, &pid);
}

void pytrack_stats(const struct pytrack *t, struct pytrack_stats *out)
{
	*out = t->st;
}

/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "build.h"
#include "java.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "base/hashtab.h"
#include "stackstore.h"

/* Reusable scratch for one build. */
struct builder {
	const struct capture *c;
	struct symbolizer *sym;
	const struct build_opts *o;
	struct profile *p;
	struct build_stats *st;
	struct stackstore *own;           /* stacks read from c, or NULL with stacks given */
	const struct stackstore *stacks;  /* own, or the caller's */
	struct u64map seen;               /* with the caller's stacks: ids met (build_stats.stacks) */
	struct u64map kframes; /* adjusted kernel address -> expansion (see expansion()) */
	struct u64map uframes; /* adjusted user address -> expansion, per process */
	uint32_t *fpool;       /* frame ids of every address's expansion, root first */
	size_t nfpool, cap_fpool;
	size_t kernel_nfpool;  /* fpool entries of kernel addresses, kept for the whole build */
	uint64_t *addrs;
	size_t naddrs, cap_addrs;
	uint32_t *frames;
	size_t cap_frames;
	struct sym_batch batch;
	uint32_t unknown, truncated;     /* frame ids */
	uint32_t leaf;                   /* frame id of build_opts.leaf_frame */
	bool has_leaf;
	uint32_t k_pid, k_tid, k_comm;   /* label keys */
	struct label *extra;             /* build_opts labels, then the process's */
	size_t nstatic, nextra, cap_extra;
	struct u64map py_natives;        /* frame id -> PY_NATIVE_*: native frames Python frames replace */
	struct u64map py_ids;            /* Python code object << 20 | instruction -> frame id, per process */
	struct u64map java_ids;          /* a Java method's pooled name -> frame id */
};

#define PY_NATIVE_EVAL 1       /* _PyEval_EvalFrameDefault: its Python frames go in its place */
#define PY_NATIVE_TRAMPOLINE 2 /* a perf map's py:: trampoline (-X perf): the same function again */
#define JAVA_NATIVE_INTERP 3   /* a JVM's "Interpreter": the interpreted method goes in its place */

static bool real_stack(uint64_t id)
{
	return id >= STACK_ID_MIN;
}

/* Stack id, met in an entry: read from the capture into the builder's own
 * store, or found in the caller's; counted once either way. */
static int store_stack(struct builder *b, uint64_t id)
{
	struct stack_trace st;
	int err;

	if (!real_stack(id))
		return 0;
	if (b->own) {
		if (stackstore_has(b->own, id))
			return 0;
		if (capture_read_stack(b->c, id, &st)) {
			b->st->stacks_missing++;
			return 0;
		}
		if ((err = stackstore_add(b->own, id, &st)))
			return err;
	} else {
		if (u64map_get(&b->seen, id))
			return 0;
		if (!stackstore_has(b->stacks, id)) {
			b->st->stacks_missing++;
			return 0;
		}
		if ((err = u64map_put(&b->seen, id, 1)))
			return err;
	}
	b->st->stacks++;
	return 0;
}

/* The stack with this id, or NULL (not a real stack, or not readable). */
static const uint64_t *get_stack(const struct builder *b, uint64_t id, uint32_t *nr, uint32_t *flags)
{
	return real_stack(id) ? stackstore_get(b->stacks, id, nr, flags) : NULL;
}

/* Return addresses point after the call: look up the call itself. */
static uint64_t adjust(const uint64_t *ips, uint32_t i)
{
	return i ? ips[i] - 1 : ips[i];
}

static int64_t intern_fmt(struct profile *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int64_t intern_fmt(struct profile *p, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	return profile_intern(p, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static int64_t make_mapping(struct profile *p, const struct sym_frame *f)
{
	struct mapping m = { 0 };
	int64_t file, bid = 0;

	if (f->kernel) {
		file = f->module[0] == '[' ? profile_intern_cstr(p, f->module) : intern_fmt(p, "[%s]", f->module);
		m.start = PROFILE_KERNEL_START;
		m.limit = UINT64_MAX;
	} else {
		file = profile_intern_cstr(p, f->module);
		m.start = f->map_start;
		m.limit = f->map_limit;
		m.offset = f->map_offset;
	}
	if (file < 0)
		return file;
	if (f->build_id && (bid = profile_intern_cstr(p, f->build_id)) < 0)
		return bid;
	m.file = (uint32_t)file;
	m.build_id = (uint32_t)bid;
	if (f->kernel || (f->miss != SYM_MISS_NO_FILE && f->miss != SYM_MISS_ANON))
		m.flags = MAPPING_HAS_FUNCTIONS;
	if (f->dwarf)
		m.flags |= MAPPING_HAS_FILENAMES | MAPPING_HAS_LINE_NUMBERS | MAPPING_HAS_INLINE_FRAMES;
	return profile_mapping(p, &m);
}

static uint32_t frame_kind(const struct sym_frame *f)
{
	return f->kernel ? FRAME_KERNEL : f->inlined ? FRAME_INLINED : f->jit ? FRAME_JIT : FRAME_USER;
}

/* The profile frame for one symbolized address (one of its frames when
 * inlined calls expand it). */
static int64_t make_frame(struct builder *b, const struct sym_frame *f, uint64_t addr)
{
	struct frame fr = { .kind = frame_kind(f), .address = addr };
	int64_t name, map = 0, sys = 0, file = 0;

	if (f->name)
		name = profile_intern_cstr(b->p, f->name);
	else if (f->module)
		name = intern_fmt(b->p, "%s+0x%" PRIx64, base_name(f->module), f->module_offset);
	else
		name = intern_fmt(b->p, "[unknown]");
	if (name < 0)
		return name;
	if (!f->name)
		b->st->unknown_frames++;
	if (f->module && (map = make_mapping(b->p, f)) < 0)
		return map;
	if (f->system_name && (sys = profile_intern_cstr(b->p, f->system_name)) < 0)
		return sys;
	if (f->file && (file = profile_intern_cstr(b->p, f->file)) < 0)
		return file;
	fr.name = (uint32_t)name;
	fr.system_name = (uint32_t)sys;
	fr.file = (uint32_t)file;
	fr.line = f->file ? f->line : 0;
	fr.mapping = (uint32_t)map;
	int64_t id = profile_frame(b->p, &fr);
	if (id >= 0 && b->o->java && f->jit && f->name && !strcmp(f->name, "Interpreter")) {
		int err = u64map_put(&b->py_natives, (uint64_t)id, JAVA_NATIVE_INTERP);
		if (err)
			return err;
	}
	if (id >= 0 && b->o->python && f->name) {
		int kind = !strncmp(f->name, "_PyEval_EvalFrameDefault", 24) &&
					   (!f->name[24] || !strcmp(f->name + 24, ".cold"))
				   ? PY_NATIVE_EVAL
			   : f->jit && !strncmp(f->name, "py::", 4) ? PY_NATIVE_TRAMPOLINE
								    : 0;
		int err = kind ? u64map_put(&b->py_natives, (uint64_t)id, (uint64_t)kind) : 0;
		if (err)
			return err;
	}
	return id;
}

/* Resolves the distinct addresses in b->addrs and records their frame ids in map. */
static int resolve_into(struct builder *b, bool kernel, uint32_t pid, uint32_t gen, struct u64map *map)
{
	int err = kernel ? symbolizer_resolve_kernel(b->sym, b->addrs, b->naddrs, &b->batch)
			 : symbolizer_resolve_user(b->sym, pid, gen, b->addrs, b->naddrs, &b->batch);
	if (err)
		return err;
	for (size_t i = 0; i < b->naddrs; i++) {
		/* A function and its inlined calls, root first; at most 255. */
		size_t lo = b->batch.first[i], n = b->batch.first[i + 1] - lo;
		if (n > 255) {
			lo += n - 255;
			n = 255;
		}
		if ((err = array_grow(&b->fpool, &b->cap_fpool, b->nfpool + n, sizeof(*b->fpool))))
			return err;
		for (size_t j = 0; j < n; j++) {
			int64_t id = make_frame(b, &b->batch.frames[lo + j], b->addrs[i]);
			if (id < 0)
				return (int)id;
			b->fpool[b->nfpool + j] = (uint32_t)id;
		}
		if ((err = u64map_put(map, b->addrs[i], (uint64_t)b->nfpool << 8 | n)))
			return err;
		b->nfpool += n;
	}
	return 0;
}

/* Queues the not-yet-resolved addresses of stack id. */
static int queue_stack(struct builder *b, uint64_t id, const struct u64map *known)
{
	uint32_t nr, flags;
	const uint64_t *ips = get_stack(b, id, &nr, &flags);
	for (uint32_t i = 0; ips && i < nr; i++) {
		uint64_t a = adjust(ips, i);
		if (u64map_get(known, a))
			continue;
		int err = array_grow(&b->addrs, &b->cap_addrs, b->naddrs + 1, sizeof(*b->addrs));
		if (err)
			return err;
		b->addrs[b->naddrs++] = a;
	}
	return 0;
}

/* Where a frame of a stack being appended goes: in as itself, or replaced
 * (the Python splice). 0 or -errno. */
struct splice {
	int (*frame)(struct builder *b, struct splice *sp, uint32_t id, size_t *n);
};

/* Appends the frames of stack id, root first, to b->frames at *n: each
 * address's frames from map (several when calls were inlined), through sp
 * when there is one. */
static int append_stack(struct builder *b, uint64_t id, const struct u64map *map, size_t *n, bool *trunc,
			struct splice *sp)
{
	uint32_t nr, flags;
	const uint64_t *ips = get_stack(b, id, &nr, &flags);
	int err = array_grow(&b->frames, &b->cap_frames, *n + (ips ? nr : 0) + 2, sizeof(*b->frames));
	if (err)
		return err;
	if (!ips) {
		if (id != STACK_NONE)
			b->frames[(*n)++] = b->unknown;
		return 0;
	}
	if (flags & STACK_F_TRUNCATED) {
		b->frames[(*n)++] = b->truncated;
		*trunc = true;
	}
	for (uint32_t i = nr; i-- > 0;) {
		const uint64_t *ex = u64map_get(map, adjust(ips, i));
		size_t cnt = ex ? (size_t)(*ex & 0xff) : 1;
		if (!ex) {
			b->frames[(*n)++] = b->unknown;
			cnt = 0;
		}
		for (size_t j = 0; j < cnt; j++) {
			/* Room for this address's frames and one for each below it. */
			if ((err = array_grow(&b->frames, &b->cap_frames, *n + cnt + i + 2, sizeof(*b->frames))))
				return err;
			uint32_t f = b->fpool[(*ex >> 8) + j];
			if (!sp)
				b->frames[(*n)++] = f;
			else if ((err = sp->frame(b, sp, f, n)))
				return err;
		}
		if ((err = array_grow(&b->frames, &b->cap_frames, *n + i + 2, sizeof(*b->frames))))
			return err;
	}
	return 0;
}

/* The profile frame of Python frame pos (f) of e's Python stack, or
 * [unknown] when its code object could not be read. */
static int64_t python_frame(struct builder *b, const struct capture_entry *e, const uint64_t *py, uint32_t pnr,
			    size_t pos)
{
	struct pyframe_info pi;
	uint64_t f = py[pos];
	if (!pyframes_resolve(b->o->python, e->key.pid, e->key.gen, e->key.pystack, pos, f, &pi)) {
		/* Its stack came while nobody polled: read it now if the process lives. */
		pyframes_learn(b->o->python, e->key.pid, e->key.gen, e->key.pystack, py, pnr);
		if (!pyframes_resolve(b->o->python, e->key.pid, e->key.gen, e->key.pystack, pos, f, &pi))
			return b->unknown;
	}
	uint64_t key = (uint64_t)pi.code << 20 | PY_FRAME_INSTR(f), *known = u64map_get(&b->py_ids, key);
	if (known)
		return (int64_t)*known;
	struct frame fr = { .kind = FRAME_PYTHON, .line = pi.filename ? (uint32_t)pi.line : 0 };
	int64_t name = profile_intern_cstr(b->p, pi.qualname);
	int64_t file = pi.filename ? profile_intern_cstr(b->p, pi.filename) : 0;
	if (name < 0 || file < 0)
		return -ENOMEM;
	fr.name = (uint32_t)name;
	fr.file = (uint32_t)file;
	int64_t id = profile_frame(b->p, &fr);
	if (id < 0)
		return id;
	b->st->python_frames++;
	int err = u64map_put(&b->py_ids, key, (uint64_t)id);
	return err ? err : id;
}

/* Appends Python frames py[lo, hi) (innermost first) root first. */
static int append_python(struct builder *b, const struct capture_entry *e, const uint64_t *py, uint32_t pnr,
			 size_t lo, size_t hi, size_t *n)
{
	int err = array_grow(&b->frames, &b->cap_frames, *n + (hi - lo) + 1, sizeof(*b->frames));
	for (size_t j = hi; j-- > lo && !err;) {
		int64_t id = python_frame(b, e, py, pnr, j);
		if (id < 0)
			return (int)id;
		b->frames[(*n)++] = (uint32_t)id;
	}
	return err;
}

/* The Python splice of one sample: its Python stack's frames come
 * innermost first in groups, each ending at an entry frame; the innermost
 * native eval frame runs the first group.  Eval frames beyond the groups
 * stay native; groups beyond the eval frames go to the outermost one. */
struct py_splice {
	struct splice sp;
	const struct capture_entry *e;
	const uint64_t *py;
	uint32_t pnr, pflags;
	size_t starts[SCORCH_MAX_DEPTH + 1], ngroups;
	size_t evals, outer; /* eval frames in all, and still to come counting this one */
	bool *trunc;
};

static int splice_python(struct builder *b, struct splice *sp, uint32_t id, size_t *n)
{
	struct py_splice *ps = (struct py_splice *)sp;
	const uint64_t *k = u64map_get(&b->py_natives, id);
	if (k && *k == PY_NATIVE_TRAMPOLINE)
		return 0;
	if (!k) {
		b->frames[(*n)++] = id;
		return 0;
	}
	size_t g = --ps->outer; /* this eval frame's group, counted from the innermost */
	if (g >= ps->ngroups) {
		b->frames[(*n)++] = id;
		return 0;
	}
	bool outermost = ps->outer == ps->evals - 1;
	size_t to = outermost ? ps->ngroups : g + 1; /* the outermost takes the rest */
	if (outermost && (ps->pflags & STACK_F_TRUNCATED)) {
		b->frames[(*n)++] = b->truncated;
		*ps->trunc = true;
	}
	return append_python(b, ps->e, ps->py, ps->pnr, ps->starts[g], ps->starts[to], n);
}

/* Appends the user stack with each native eval-loop frame replaced by the
 * Python frames it was running (struct py_splice). */
static int append_user_python(struct builder *b, const struct capture_entry *e, size_t *n, bool *trunc)
{
	uint32_t nr = 0, flags = 0;
	const uint64_t *ips = get_stack(b, e->key.ustack, &nr, &flags);
	struct py_splice ps = { .sp = { splice_python }, .e = e, .trunc = trunc };
	ps.py = get_stack(b, e->key.pystack, &ps.pnr, &ps.pflags);
	if (!ips || !ps.py)
		return append_stack(b, e->key.ustack, &b->uframes, n, trunc, NULL);
	for (uint32_t j = 0; j < ps.pnr; j++)
		if (!j || ps.py[j - 1] & PY_FRAME_ENTRY)
			ps.starts[ps.ngroups++] = j;
	ps.starts[ps.ngroups] = ps.pnr;
	for (uint32_t i = 0; i < nr; i++) {
		const uint64_t *ex = u64map_get(&b->uframes, adjust(ips, i));
		for (size_t j = 0; ex && j < (*ex & 0xff); j++) {
			const uint64_t *k = u64map_get(&b->py_natives, b->fpool[(*ex >> 8) + j]);
			ps.evals += k && *k == PY_NATIVE_EVAL;
		}
	}
	ps.outer = ps.evals;
	return append_stack(b, e->key.ustack, &b->uframes, n, trunc, ps.evals ? &ps.sp : NULL);
}

/* The Java splice of one sample: the JVM's native interpreter frames, each
 * replaced by the method it ran (the Java stack's frame of the same rank
 * from the innermost); one whose method was not read stays native. */
struct java_splice {
	struct splice sp;
	const struct capture_entry *e;
	uint32_t jnr;
	size_t outer; /* interpreter frames still to come, counting this one */
};

static int splice_java(struct builder *b, struct splice *sp, uint32_t id, size_t *n)
{
	struct java_splice *js = (struct java_splice *)sp;
	const uint64_t *k = u64map_get(&b->py_natives, id);
	struct java_frame_info jf;
	bool named = false;
	if (k && *k == JAVA_NATIVE_INTERP && js->outer > 0 && --js->outer < js->jnr)
		named = java_frame(b->o->java, js->e->key.pid, js->e->key.gen, js->e->key.pystack, js->outer, &jf);
	if (!named) {
		b->frames[(*n)++] = id;
		return 0;
	}
	/* Pooled names (below 2^47) and lines (below 2^16) make the key. */
	uint64_t key = (uint64_t)(uintptr_t)jf.name | (uint64_t)(jf.line & 0xffff) << 48;
	uint64_t *known = u64map_get(&b->java_ids, key);
	int64_t fid = known ? (int64_t)*known : profile_intern_cstr(b->p, jf.name);
	int64_t file = !known && jf.file ? profile_intern_cstr(b->p, jf.file) : 0;
	if (!known && fid >= 0 && file >= 0) {
		struct frame fr = { .kind = FRAME_JIT, .name = (uint32_t)fid, .file = (uint32_t)file,
				    .line = jf.file ? jf.line : 0 };
		if ((fid = profile_frame(b->p, &fr)) >= 0 && u64map_put(&b->java_ids, key, (uint64_t)fid))
			return -ENOMEM;
	}
	if (fid < 0 || file < 0)
		return (int)(fid < 0 ? fid : file);
	b->st->java_frames++;
	b->frames[(*n)++] = (uint32_t)fid;
	return 0;
}

/* Appends the user stack with the JVM's interpreter frames named by method. */
static int append_user_java(struct builder *b, const struct capture_entry *e, size_t *n, bool *trunc)
{
	uint32_t nr = 0, flags = 0, jflags = 0;
	const uint64_t *ips = get_stack(b, e->key.ustack, &nr, &flags);
	struct java_splice js = { .sp = { splice_java }, .e = e };
	const uint64_t *jf = get_stack(b, e->key.pystack, &js.jnr, &jflags);
	if (!ips || !jf)
		return append_stack(b, e->key.ustack, &b->uframes, n, trunc, NULL);
	if (!java_stack_known(b->o->java, e->key.pid, e->key.gen, e->key.pystack))
		java_learn((struct java *)b->o->java, e->key.pid, e->key.gen, e->key.pystack, jf, js.jnr);
	for (uint32_t i = 0; i < nr; i++) {
		const uint64_t *ex = u64map_get(&b->uframes, adjust(ips, i));
		for (size_t j = 0; ex && j < (*ex & 0xff); j++) {
			const uint64_t *k = u64map_get(&b->py_natives, b->fpool[(*ex >> 8) + j]);
			js.outer += k && *k == JAVA_NATIVE_INTERP;
		}
	}
	return append_stack(b, e->key.ustack, &b->uframes, n, trunc, js.outer ? &js.sp : NULL);
}

static int add_sample(struct builder *b, const struct capture_entry *e)
{
	size_t n = 0;
	bool trunc = false;
	int err;
	char comm[SCORCH_COMM_LEN + 1];

	bool java = b->o->java && real_stack(e->key.pystack) &&
		    (java_stack_known(b->o->java, e->key.pid, e->key.gen, e->key.pystack) ||
		     java_is_jvm(b->o->java, e->key.pid, e->key.gen));
	if ((err = java ? append_user_java(b, e, &n, &trunc)
		    : b->o->python && real_stack(e->key.pystack) ? append_user_python(b, e, &n, &trunc)
								 : append_stack(b, e->key.ustack, &b->uframes, &n, &trunc, NULL)) ||
	    (err = append_stack(b, e->key.kstack, &b->kframes, &n, &trunc, NULL)))
		return err;
	if (!n)
		b->frames[n++] = b->unknown;
	if (b->has_leaf) {
		if ((err = array_grow(&b->frames, &b->cap_frames, n + 1, sizeof(*b->frames))))
			return err;
		b->frames[n++] = b->leaf;
	}
	memcpy(comm, e->key.comm, SCORCH_COMM_LEN);
	comm[SCORCH_COMM_LEN] = '\0';
	int64_t cs = profile_intern_cstr(b->p, comm);
	if (cs < 0)
		return (int)cs;
	struct label l[PROFILE_MAX_LABELS];
	size_t nl = 0;
	if (!b->o->no_comm)
		l[nl++] = (struct label){ b->k_comm, (uint32_t)cs, 0 };
	if (!b->o->no_pid)
		l[nl++] = (struct label){ b->k_pid, 0, e->key.pid };
	if (b->o->per_thread)
		l[nl++] = (struct label){ b->k_tid, 0, e->key.tid };
	for (size_t i = 0; i < b->nextra && nl < PROFILE_MAX_LABELS; i++)
		l[nl++] = b->extra[i];
	int64_t set = profile_labelset(b->p, l, nl);
	if (set < 0)
		return (int)set;
	b->st->samples += e->count;
	b->st->truncated += trunc ? e->count : 0;
	return profile_add(b->p, b->frames, n, (uint32_t)set, (int64_t)e->count);
}

static int entry_cmp(const void *a, const void *b)
{
	const struct capture_entry *x = a, *y = b;
	if (x->key.pid != y->key.pid)
		return x->key.pid < y->key.pid ? -1 : 1;
	return x->key.gen < y->key.gen ? -1 : x->key.gen > y->key.gen;
}

static int uint64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void dedup_addrs(struct builder *b)
{
	if (b->naddrs) /* qsort(NULL, 0) is undefined */
		qsort(b->addrs, b->naddrs, sizeof(*b->addrs), uint64_cmp);
	size_t w = 0;
	for (size_t i = 0; i < b->naddrs; i++)
		if (!w || b->addrs[w - 1] != b->addrs[i])
			b->addrs[w++] = b->addrs[i];
	b->naddrs = w;
}

/* Interns labels into b->extra at b->nextra; a key already there (or pid,
 * comm, tid) is skipped, so the first of the same key wins. */
static int add_labels(struct builder *b, const struct build_label *l, size_t n)
{
	int err = array_grow(&b->extra, &b->cap_extra, b->nextra + n, sizeof(*b->extra));
	for (size_t i = 0; i < n && !err; i++) {
		int64_t k = profile_intern_cstr(b->p, l[i].key), v = profile_intern_cstr(b->p, l[i].value);
		if (k < 0 || v < 0)
			return -ENOMEM;
		bool dup = !k || !v || k == b->k_pid || k == b->k_comm || k == b->k_tid;
		for (size_t j = 0; j < b->nextra && !dup; j++)
			dup = b->extra[j].key == (uint32_t)k;
		if (!dup)
			b->extra[b->nextra++] = (struct label){ (uint32_t)k, (uint32_t)v, 0 };
	}
	return err;
}

/* One process's user addresses (entries [lo, hi)): their files loaded. */
static int prefetch_process(struct builder *b, const struct capture_entry *e, size_t lo, size_t hi)
{
	struct u64map none;
	int err = 0;
	u64map_init(&none);
	b->naddrs = 0;
	for (size_t i = lo; i < hi && !err; i++)
		err = queue_stack(b, e[i].key.ustack, &none);
	if (!err) {
		dedup_addrs(b);
		symbolizer_prefetch_user(b->sym, e[lo].key.pid, e[lo].key.gen, b->addrs, b->naddrs);
	}
	u64map_release(&none);
	return err;
}

/* One process (entries [lo, hi) share pid and gen): resolve, then add. */
static int build_process(struct builder *b, const struct capture_entry *e, size_t lo, size_t hi)
{
	int err = 0;
	b->nextra = b->nstatic;
	if (b->o->proc_labels) {
		const struct build_label *pl = NULL;
		size_t npl = b->o->proc_labels(b->o->proc_ctx, e[lo].key.pid, e[lo].key.gen, &pl);
		if ((err = add_labels(b, pl, npl)))
			return err;
	}
	u64map_release(&b->uframes);
	u64map_release(&b->py_ids);
	b->naddrs = 0;
	b->nfpool = b->kernel_nfpool; /* the user expansions of the previous process are done with */
	for (size_t i = lo; i < hi && !err; i++)
		err = queue_stack(b, e[i].key.ustack, &b->uframes);
	if (err)
		return err;
	dedup_addrs(b);
	if (b->naddrs && (err = resolve_into(b, false, e[lo].key.pid, e[lo].key.gen, &b->uframes)))
		return err;
	for (size_t i = lo; i < hi && !err; i++)
		err = add_sample(b, &e[i]);
	/* Entries are sorted by (pid, gen): this process will not come back. */
	if (!b->o->keep_processes)
		symbolizer_forget(b->sym, e[lo].key.pid, e[lo].key.gen);
	return err;
}

static int builder_init(struct builder *b)
{
	int64_t unk = profile_intern_cstr(b->p, "[unknown]");
	int64_t trn = profile_intern_cstr(b->p, "[truncated]");
	int64_t kp = profile_intern_cstr(b->p, "pid"), kt = profile_intern_cstr(b->p, "tid");
	int64_t kc = profile_intern_cstr(b->p, "comm");
	if (unk < 0 || trn < 0 || kp < 0 || kt < 0 || kc < 0)
		return -ENOMEM;
	struct frame fu = { .name = (uint32_t)unk }, ft = { .name = (uint32_t)trn };
	int64_t u = profile_frame(b->p, &fu), t = profile_frame(b->p, &ft);
	if (u < 0 || t < 0)
		return -ENOMEM;
	b->unknown = (uint32_t)u;
	b->truncated = (uint32_t)t;
	if (b->o->leaf_frame) {
		int64_t name = profile_intern_cstr(b->p, b->o->leaf_frame);
		struct frame fl = { .name = (uint32_t)name };
		int64_t l = name < 0 ? name : profile_frame(b->p, &fl);
		if (l < 0)
			return -ENOMEM;
		b->leaf = (uint32_t)l;
		b->has_leaf = true;
	}
	b->k_pid = (uint32_t)kp;
	b->k_tid = (uint32_t)kt;
	b->k_comm = (uint32_t)kc;
	struct profile_meta *m = profile_meta(b->p);
	m->nroot_labels = 0;
	if (!b->o->no_comm)
		m->root_labels[m->nroot_labels++] = b->k_comm;
	if (b->o->per_pid || b->o->per_thread)
		m->root_labels[m->nroot_labels++] = b->k_pid;
	if (b->o->per_thread)
		m->root_labels[m->nroot_labels++] = b->k_tid;
	int err = add_labels(b, b->o->labels, b->o->nlabels);
	b->nstatic = b->nextra;
	return err;
}

static void builder_release(struct builder *b)
{
	stackstore_free(b->own);
	u64map_release(&b->seen);
	u64map_release(&b->kframes);
	u64map_release(&b->uframes);
	u64map_release(&b->py_natives);
	u64map_release(&b->py_ids);
	u64map_release(&b->java_ids);
	free(b->addrs);
	free(b->frames);
	free(b->fpool);
	sym_batch_release(&b->batch);
	free(b->extra);
}

int build_profile(const struct capture *c, struct symbolizer *s, const struct build_opts *o, struct profile *p,
		  struct build_stats *st)
{
	struct capture_entry *e = NULL;
	size_t n = 0;
	int err = capture_read_counts(c, &e, &n);

	if (err) {
		memset(st, 0, sizeof(*st));
		return err;
	}
	err = build_profile_entries(c, e, n, s, o, p, st);
	free(e);
	return err;
}

/* Builds entries in[0..n) with b's stacks. */
static int build_entries(struct builder *b, const struct capture_entry *in, size_t n)
{
	const struct build_opts *o = b->o;
	struct capture_entry *e = NULL;
	int err;

	memset(b->st, 0, sizeof(*b->st));
	u64map_init(&b->seen);
	u64map_init(&b->kframes);
	u64map_init(&b->uframes);
	u64map_init(&b->py_natives);
	u64map_init(&b->py_ids);
	u64map_init(&b->java_ids);
	sym_batch_init(&b->batch);
	if ((err = builder_init(b)))
		goto out;
	if (n && !(e = malloc(n * sizeof(*e)))) {
		err = -ENOMEM;
		goto out;
	}
	if (n)
		memcpy(e, in, n * sizeof(*e));
	for (size_t i = 0; i < n && !err; i++) {
		err = store_stack(b, e[i].key.kstack);
		if (!err)
			err = store_stack(b, e[i].key.ustack);
		if (!err && (o->python || o->java))
			err = store_stack(b, e[i].key.pystack);
	}
	/* Kernel addresses are the same in every process: resolve them once. */
	for (size_t i = 0; i < n && !err; i++)
		err = queue_stack(b, e[i].key.kstack, &b->kframes);
	if (err)
		goto out;
	dedup_addrs(b);
	if (b->naddrs && (err = resolve_into(b, true, 0, 0, &b->kframes)))
		goto out;
	b->kernel_nfpool = b->nfpool;
	if (n)
		qsort(e, n, sizeof(*e), entry_cmp);
	if (o->files_loaded) {
		for (size_t lo = 0, hi; lo < n && !err; lo = hi) {
			for (hi = lo + 1; hi < n && !entry_cmp(&e[lo], &e[hi]); hi++)
				;
			err = prefetch_process(b, e, lo, hi);
		}
		o->files_loaded(o->files_ctx);
	}
	for (size_t lo = 0, hi; lo < n && !err; lo = hi) {
		for (hi = lo + 1; hi < n && !entry_cmp(&e[lo], &e[hi]); hi++)
			;
		err = build_process(b, e, lo, hi);
	}
out:
	free(e);
	builder_release(b);
	return err;
}

int build_profile_entries(const struct capture *c, const struct capture_entry *in, size_t n, struct symbolizer *s,
			  const struct build_opts *o, struct profile *p, struct build_stats *st)
{
	struct builder b = { .c = c, .sym = s, .o = o, .p = p, .st = st };
	int err = stackstore_new(0, &b.own);

	if (err) {
		memset(st, 0, sizeof(*st));
		return err;
	}
	b.stacks = b.own;
	return build_entries(&b, in, n);
}

int build_profile_stored(const struct stackstore *stacks, const struct capture_entry *in, size_t n,
			 struct symbolizer *s, const struct build_opts *o, struct profile *p, struct build_stats *st)
{
	struct builder b = { .stacks = stacks, .sym = s, .o = o, .p = p, .st = st };
	return build_entries(&b, in, n);
}

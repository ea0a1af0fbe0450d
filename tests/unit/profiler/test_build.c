/* SPDX-License-Identifier: MIT */
/*
 * Tests for profiler/build.h: counts and stacks into a profile.
 *
 * build.c is compiled into this test with its own definitions of what it
 * calls outside itself (capture.h's capture_read_counts and
 * capture_read_stack, symbolizer.h's resolve, prefetch and forget,
 * python.h's pyframes_learn and pyframes_resolve): a capture holding the
 * stacks a test puts in it, a symbolizer naming the addresses of a fixed
 * table and noting what it was asked, and Python code objects of a table
 * too.  So build runs without BPF, a process or a file, and each test
 * compares the profile, written as folded text, with the one expected.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "formats/folded.h"
#include "formats/profile.h"
#include "profiler/build.h"
#include "profiler/java.h"

/* ---- the capture: stacks by id, and the counts build_profile reads ---- */

struct capture {
	struct {
		uint64_t id;
		struct stack_trace st;
	} stacks[32];
	size_t nstacks;
	const struct capture_entry *entries;
	size_t nentries;
	int counts_err;
};

int capture_read_stack(const struct capture *c, uint64_t id, struct stack_trace *out)
{
	for (size_t i = 0; i < c->nstacks; i++) {
		if (c->stacks[i].id == id) {
			*out = c->stacks[i].st;
			return 0;
		}
	}
	return -ENOENT;
}

int capture_read_counts(const struct capture *c, struct capture_entry **out, size_t *n)
{
	if (c->counts_err)
		return c->counts_err;
	*out = malloc(c->nentries * sizeof(**out) + 1);
	if (!*out)
		return -ENOMEM;
	memcpy(*out, c->entries, c->nentries * sizeof(**out));
	*n = c->nentries;
	return 0;
}

/* Adds stack id: frames innermost first, as the kernel walks them. */
static void stack(struct capture *c, uint64_t id, uint32_t flags, size_t n, ...)
{
	va_list ap;
	assert_true(c->nstacks < sizeof(c->stacks) / sizeof(c->stacks[0]));
	struct stack_trace *st = &c->stacks[c->nstacks].st;
	c->stacks[c->nstacks++].id = id;
	memset(st, 0, sizeof(*st));
	st->nr = (uint32_t)n;
	st->flags = flags;
	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		st->ips[i] = va_arg(ap, uint64_t);
	va_end(ap);
}

static struct capture_entry entry(uint32_t pid, uint32_t tid, uint32_t gen, uint64_t kstack, uint64_t ustack,
				  uint64_t pystack, const char *comm, uint64_t count)
{
	struct capture_entry e = { .key = { .pid = pid, .tid = tid, .gen = gen, .kstack = kstack,
					    .ustack = ustack, .pystack = pystack },
				   .count = count };
	strncpy(e.key.comm, comm, sizeof(e.key.comm));
	return e;
}

/* ---- the symbolizer: a table of addresses, and a log of the calls ---- */

#define K(off) (0xffffffff81000000ull + (off))
#define ANY_PID 0

struct fake_sym {
	uint32_t pid; /* ANY_PID: every process's (kernel addresses: every one) */
	uint64_t addr;
	struct sym_frame f[2]; /* the function, then one inlined into it */
};

#define USER(n, ...) { .name = n, .module = "/usr/bin/prog", .map_start = 0x400000, .map_limit = 0x500000, __VA_ARGS__ }
#define KERN(n) { .name = n, .module = "[kernel.kallsyms]", .kernel = true }

static const struct fake_sym world[] = {
	{ ANY_PID, K(0x100), { KERN("do_syscall_64") } },
	{ ANY_PID, K(0x200), { KERN("entry_SYSCALL_64") } },
	{ ANY_PID, 0x1000, { USER("leaf") } },
	{ ANY_PID, 0x2000, { USER("mid") } },
	{ ANY_PID, 0x3000, { USER("main") } },
	{ ANY_PID, 0x4000, { USER("outer", .file = "x.c", .line = 6, .dwarf = true),
			     USER("inlined", .file = "x.c", .line = 7, .dwarf = true, .inlined = true) } },
	{ ANY_PID, 0x5000, { { .name = "py::f:x.py", .module = "//anon", .jit = true } } },
	{ ANY_PID, 0x6000, { USER("_PyEval_EvalFrameDefault") } },
	{ ANY_PID, 0x6100, { USER("_PyEval_EvalFrameDefault.cold") } },
	{ ANY_PID, 0x7000, { USER("PyObject_Call") } },
	{ ANY_PID, 0x8000, { USER(NULL, .module_offset = 0x1234, .miss = SYM_MISS_NO_SYMBOL) } },
	{ ANY_PID, 0x9000, { USER("leaf_c") } },
	{ ANY_PID, 0xa000, { { .name = "long A.compiled()", .module = "//anon", .jit = true } } },
	{ ANY_PID, 0xb000, { { .name = "Interpreter", .module = "//anon", .jit = true } } },
	{ ANY_PID, 0xb100, { { .name = "Interpreter", .module = "//anon", .jit = true } } },
	{ ANY_PID, 0xb200, { { .name = "Interpreter", .module = "//anon", .jit = true } } },
	{ ANY_PID, 0xc000, { { .name = "StubRoutines", .module = "//anon", .jit = true } } },
	{ 20, 0x1000, { USER("other_leaf") } }, /* pid 20 maps another file there */
};

struct symbolizer {
	char log[64]; /* K kernel resolve, P prefetch, L files loaded, U user resolve, F forget */
	size_t nlog;
	uint64_t kaddrs[16], uaddrs[16]; /* the addresses of the last resolve of each */
	size_t nkaddrs, nuaddrs;
	uint32_t forgot[8][2];
	size_t nforgot;
};

static void note(struct symbolizer *s, char what)
{
	assert_true(s->nlog + 1 < sizeof(s->log));
	s->log[s->nlog++] = what;
}

static int resolve(bool kernel, uint32_t pid, const uint64_t *addrs, size_t n, struct sym_batch *out)
{
	out->nframes = out->n = 0;
	out->first = realloc(out->first, (n + 1) * sizeof(*out->first));
	out->frames = realloc(out->frames, (2 * n + 1) * sizeof(*out->frames));
	assert_non_null(out->first);
	assert_non_null(out->frames);
	for (size_t i = 0; i < n; i++) {
		const struct fake_sym *hit = NULL;
		for (size_t j = 0; j < sizeof(world) / sizeof(world[0]); j++)
			if (world[j].addr == addrs[i] && (world[j].pid == pid || (!hit && world[j].pid == ANY_PID)))
				hit = &world[j];
		out->first[i] = out->nframes;
		if (!hit) { /* nothing mapped there */
			out->frames[out->nframes++] = (struct sym_frame){ .miss = SYM_MISS_NO_MAPPING, .kernel = kernel };
			continue;
		}
		assert_int_equal(hit->f[0].kernel, kernel);
		out->frames[out->nframes++] = hit->f[0];
		if (hit->f[1].name)
			out->frames[out->nframes++] = hit->f[1];
	}
	out->first[n] = out->nframes;
	out->n = n;
	return 0;
}

int symbolizer_resolve_kernel(struct symbolizer *s, const uint64_t *addrs, size_t n, struct sym_batch *out)
{
	note(s, 'K');
	assert_true(n <= 16);
	memcpy(s->kaddrs, addrs, n * sizeof(*addrs));
	s->nkaddrs = n;
	return resolve(true, 0, addrs, n, out);
}

int symbolizer_resolve_user(struct symbolizer *s, uint32_t pid, uint32_t gen, const uint64_t *addrs, size_t n,
			    struct sym_batch *out)
{
	(void)gen;
	note(s, 'U');
	assert_true(n <= 16);
	memcpy(s->uaddrs, addrs, n * sizeof(*addrs));
	s->nuaddrs = n;
	return resolve(false, pid, addrs, n, out);
}

void symbolizer_prefetch_user(struct symbolizer *s, uint32_t pid, uint32_t gen, const uint64_t *addrs, size_t n)
{
	(void)pid, (void)gen, (void)addrs, (void)n;
	note(s, 'P');
}

void symbolizer_forget(struct symbolizer *s, uint32_t pid, uint32_t gen)
{
	note(s, 'F');
	assert_true(s->nforgot < 8);
	s->forgot[s->nforgot][0] = pid;
	s->forgot[s->nforgot++][1] = gen;
}

void sym_batch_init(struct sym_batch *b)
{
	memset(b, 0, sizeof(*b));
}

void sym_batch_release(struct sym_batch *b)
{
	free(b->frames);
	free(b->first);
	memset(b, 0, sizeof(*b));
}

static void files_loaded(void *ctx)
{
	note(ctx, 'L');
}

/* ---- Python: code objects by address ---- */

struct pyframes {
	struct {
		uint64_t code;
		const char *qualname;
		bool learned_only; /* named only once the stack was learned */
	} codes[8];
	size_t ncodes;
	int learns;
	bool learned;
};

bool pyframes_resolve(struct pyframes *pf, uint32_t pid, uint32_t gen, uint64_t stack, size_t pos, uint64_t frame,
		      struct pyframe_info *out)
{
	(void)pid, (void)gen, (void)stack, (void)pos;
	for (size_t i = 0; i < pf->ncodes; i++) {
		if (pf->codes[i].code != PY_FRAME_CODE(frame) || (pf->codes[i].learned_only && !pf->learned))
			continue;
		/* A line per instruction, so the frames of two show apart. */
		*out = (struct pyframe_info){ pf->codes[i].qualname, "x.py", 100 + (int)PY_FRAME_INSTR(frame),
					      (uint32_t)i + 1 };
		return true;
	}
	return false;
}

int pyframes_learn(struct pyframes *pf, uint32_t pid, uint32_t gen, uint64_t stack, const uint64_t *frames, size_t n)
{
	(void)pid, (void)gen, (void)stack, (void)frames, (void)n;
	pf->learns++;
	pf->learned = true;
	return 0;
}

/* ---- Java: a fake struct java (java.h) naming the frames of one stack ---- */

struct java {
	uint64_t stack;        /* the one Java stack it knows */
	const char *names[4];  /* its frames, innermost first (NULL: not read) */
	bool learned;          /* known only once learned */
	int learns;
};

void java_learn(struct java *j, uint32_t pid, uint32_t gen, uint64_t stack, const uint64_t *frames, size_t n)
{
	(void)pid, (void)gen, (void)stack, (void)frames, (void)n;
	j->learns++;
	j->learned = true;
}

bool java_stack_known(const struct java *j, uint32_t pid, uint32_t gen, uint64_t stack)
{
	(void)pid, (void)gen;
	return j->learned && stack == j->stack;
}

bool java_is_jvm(const struct java *j, uint32_t pid, uint32_t gen)
{
	(void)j, (void)gen;
	return pid == 40;
}

bool java_frame(const struct java *j, uint32_t pid, uint32_t gen, uint64_t stack, size_t pos,
		struct java_frame_info *out)
{
	(void)pid, (void)gen;
	if (!j->learned || stack != j->stack || pos >= 4 || !j->names[pos])
		return false;
	*out = (struct java_frame_info){ j->names[pos], "A.java", 10 + (uint32_t)pos };
	return true;
}

/* A Python frame as the BPF walk stores it: code object, instruction, entry. */
static uint64_t pyf(uint64_t code, uint32_t instr, bool entry)
{
	return code >> 3 | (uint64_t)instr << PY_FRAME_INSTR_SHIFT | (entry ? PY_FRAME_ENTRY : 0);
}

/* ---- running a build ---- */

struct run {
	struct capture c;
	struct symbolizer s;
	struct build_opts o;
	struct build_stats st;
	struct profile *p;
	char *folded;
};

static int setup(void **state)
{
	struct run *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	r->p = profile_new();
	assert_non_null(r->p);
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct run *r = *state;
	profile_free(r->p);
	free(r->folded);
	free(r);
	return 0;
}

/* The profile as folded text. */
static const char *folded(struct run *r)
{
	size_t len = 0;
	free(r->folded);
	FILE *f = open_memstream(&r->folded, &len);
	assert_non_null(f);
	assert_int_equal(folded_write(r->p, false, f), 0);
	assert_int_equal(fclose(f), 0);
	return r->folded;
}

static void build(struct run *r, const struct capture_entry *e, size_t n)
{
	assert_int_equal(build_profile_entries(&r->c, e, n, &r->s, &r->o, r->p, &r->st), 0);
}

/* The label of key in sample i's set, or NULL. */
static const struct label *label_of(struct run *r, size_t i, const char *key)
{
	struct sample s;
	profile_sample_get(r->p, i, &s);
	int64_t k = profile_intern_cstr(r->p, key);
	assert_true(k > 0);
	return profile_label_find(r->p, s.labels, (uint32_t)k);
}

/* The sample whose comm is comm (build adds them in no set order). */
static void sample_of(struct run *r, const char *comm, struct sample *out)
{
	int64_t k = profile_intern_cstr(r->p, "comm");
	for (size_t i = 0; i < profile_nsamples(r->p); i++) {
		profile_sample_get(r->p, i, out);
		const struct label *l = profile_label_find(r->p, out->labels, (uint32_t)k);
		if (l && !strcmp(profile_str(r->p, l->str), comm))
			return;
	}
	fail_msg("no sample of %s", comm);
}

static const char *root_label(struct run *r, uint32_t i)
{
	const struct profile_meta *m = profile_meta_const(r->p);
	return i < m->nroot_labels ? profile_str(r->p, m->root_labels[i]) : NULL;
}

/* ---- tests ---- */

/* The user stack, root first, then the kernel's; return addresses looked up
 * at the call (ip - 1), the leaf at its ip; each distinct address once. */
static void test_kernel_user(void **state)
{
	struct run *r = *state;
	stack(&r->c, 100, 0, 3, 0x1000ull, 0x2001ull, 0x3001ull);
	stack(&r->c, 101, 0, 2, K(0x100), K(0x201));
	stack(&r->c, 102, 0, 2, 0x2000ull, 0x3001ull); /* leaf ip 0x2000: looked up as it is */
	const struct capture_entry e[] = {
		entry(10, 0, 1, 101, 100, STACK_NONE, "prog", 5),
		entry(10, 0, 1, STACK_NONE, 102, STACK_NONE, "prog", 2), /* -U: no kernel stack */
		entry(10, 0, 1, 101, STACK_NONE, STACK_NONE, "prog", 3), /* -K */
	};
	struct sample s;
	build(r, e, 3);
	assert_string_equal(folded(r), "prog;entry_SYSCALL_64_[k];do_syscall_64_[k] 3\n"
					"prog;main;mid 2\n"
					"prog;main;mid;leaf;entry_SYSCALL_64_[k];do_syscall_64_[k] 5\n");
	assert_int_equal(r->s.nuaddrs, 3);
	assert_int_equal(r->s.uaddrs[0], 0x1000);
	assert_int_equal(r->s.uaddrs[1], 0x2000);
	assert_int_equal(r->s.uaddrs[2], 0x3000);
	assert_int_equal(r->s.nkaddrs, 2);
	assert_int_equal(r->s.kaddrs[0], K(0x100));
	assert_int_equal(r->s.kaddrs[1], K(0x200));
	assert_int_equal(r->st.samples, 10);
	assert_int_equal(r->st.stacks, 3);
	assert_int_equal(r->st.stacks_missing + r->st.unknown_frames + r->st.truncated, 0);

	/* The frames: kinds, addresses as looked up, the kernel's mapping. */
	for (size_t i = 0; i < profile_nsamples(r->p); i++) {
		profile_sample_get(r->p, i, &s);
		if (s.nframes == 5)
			break;
	}
	assert_int_equal(s.nframes, 5);
	assert_int_equal(s.count, 5);
	const struct frame *leaf = profile_frame_get(r->p, s.frames[2]);
	const struct frame *kleaf = profile_frame_get(r->p, s.frames[4]);
	assert_int_equal(leaf->kind, FRAME_USER);
	assert_int_equal(leaf->address, 0x1000);
	assert_int_equal(profile_frame_get(r->p, s.frames[0])->address, 0x3000);
	assert_int_equal(kleaf->kind, FRAME_KERNEL);
	const struct mapping *km = profile_mapping_get(r->p, kleaf->mapping);
	assert_non_null(km);
	assert_string_equal(profile_str(r->p, km->file), "[kernel.kallsyms]");
	assert_int_equal(km->start, PROFILE_KERNEL_START);
	const struct mapping *um = profile_mapping_get(r->p, leaf->mapping);
	assert_non_null(um);
	assert_string_equal(profile_str(r->p, um->file), "/usr/bin/prog");
	assert_int_equal(um->start, 0x400000);
	assert_true(um->flags & MAPPING_HAS_FUNCTIONS);
}

/* Missing, lost, truncated and unnamed stacks and frames. */
static void test_missing_truncated(void **state)
{
	struct run *r = *state;
	stack(&r->c, 100, 0, 3, 0x1000ull, 0x2001ull, 0x3001ull);
	stack(&r->c, 101, STACK_F_TRUNCATED, 2, 0x1000ull, 0x2001ull);
	stack(&r->c, 102, STACK_F_TRUNCATED, 1, K(0x100));
	stack(&r->c, 103, 0, 3, 0x8000ull, 0xdead1ull, 0x3001ull);
	const struct capture_entry e[] = {
		entry(10, 0, 1, STACK_NONE, 999, STACK_NONE, "a", 1),    /* not readable */
		entry(10, 0, 1, STACK_LOST, 100, STACK_NONE, "b", 2),    /* the kernel walk failed */
		entry(10, 0, 1, STACK_NONE, STACK_NONE, STACK_NONE, "c", 4),
		entry(10, 0, 1, 102, 101, STACK_NONE, "d", 3),           /* both cut at the depth limit */
		entry(10, 0, 1, STACK_DROPPED, 103, STACK_NONE, "e", 1), /* the stack table was full */
	};
	build(r, e, 5);
	assert_string_equal(folded(r), "a;[unknown] 1\n"
					"b;main;mid;leaf;[unknown] 2\n"
					"c;[unknown] 4\n"
					"d;[truncated];mid;leaf;[truncated];do_syscall_64_[k] 3\n"
					"e;main;[unknown];prog+0x1234;[unknown] 1\n");
	assert_int_equal(r->st.samples, 11);
	assert_int_equal(r->st.stacks, 4);
	assert_int_equal(r->st.stacks_missing, 1);
	assert_int_equal(r->st.truncated, 3); /* samples, once each */
	assert_int_equal(r->st.unknown_frames, 2); /* 0x8000 (no symbol) and 0xdead0 (nothing mapped) */
}

/* An address with an inlined call: the function, then the inlined callee,
 * at the same address, with their lines; the mapping says DWARF. */
static void test_inlined(void **state)
{
	struct run *r = *state;
	stack(&r->c, 100, 0, 2, 0x4000ull, 0x3001ull);
	const struct capture_entry e[] = { entry(10, 0, 1, STACK_NONE, 100, STACK_NONE, "prog", 1) };
	build(r, e, 1);
	assert_string_equal(folded(r), "prog;main;outer;inlined_[i] 1\n");
	struct sample s;
	profile_sample_get(r->p, 0, &s);
	const struct frame *outer = profile_frame_get(r->p, s.frames[1]);
	const struct frame *in = profile_frame_get(r->p, s.frames[2]);
	assert_int_equal(outer->kind, FRAME_USER);
	assert_int_equal(in->kind, FRAME_INLINED);
	assert_int_equal(outer->address, 0x4000);
	assert_int_equal(in->address, 0x4000);
	assert_int_equal(outer->line, 6);
	assert_int_equal(in->line, 7);
	assert_string_equal(profile_str(r->p, in->file), "x.c");
	assert_true(profile_mapping_get(r->p, in->mapping)->flags & MAPPING_HAS_INLINE_FRAMES);
}

/* Root labels: comm, then pid with --per-pid, then tid with --per-thread. */
static void test_root_labels(void **state)
{
	struct run *r = *state;
	stack(&r->c, 100, 0, 1, 0x3000ull);
	const struct capture_entry e[] = { entry(10, 11, 1, STACK_NONE, 100, STACK_NONE, "prog", 1) };

	build(r, e, 1);
	assert_string_equal(folded(r), "prog;main 1\n");
	assert_string_equal(root_label(r, 0), "comm");
	assert_null(root_label(r, 1));
	assert_int_equal(label_of(r, 0, "pid")->num, 10);
	assert_null(label_of(r, 0, "tid"));

	profile_free(r->p);
	r->p = profile_new();
	r->o.per_pid = true;
	build(r, e, 1);
	assert_string_equal(folded(r), "prog;10;main 1\n");
	assert_string_equal(root_label(r, 1), "pid");
	assert_null(root_label(r, 2));

	profile_free(r->p);
	r->p = profile_new();
	r->o.per_pid = false;
	r->o.per_thread = true;
	build(r, e, 1);
	assert_string_equal(folded(r), "prog;10;11;main 1\n");
	assert_string_equal(root_label(r, 1), "pid");
	assert_string_equal(root_label(r, 2), "tid");
	assert_int_equal(label_of(r, 0, "tid")->num, 11);
}

static size_t proc_labels(void *ctx, uint32_t pid, uint32_t gen, const struct build_label **out)
{
	static const struct build_label a[] = { { "service", "a" }, { "env", "other" } };
	static const struct build_label b[] = { { "service", "b" } };
	(void)ctx, (void)gen;
	*out = pid == 10 ? a : pid == 20 ? b : NULL;
	return pid == 10 ? 2 : pid == 20 ? 1 : 0;
}

/* Labels on every sample and per process: the first of a key wins, pid,
 * comm and tid are never replaced, a process's labels stay its own. */
static void test_labels(void **state)
{
	struct run *r = *state;
	static const struct build_label fixed[] = {
		{ "env", "prod" }, { "pid", "evil" }, { "host", "h1" }, { "env", "dup" }, { "comm", "evil" },
	};
	stack(&r->c, 100, 0, 1, 0x3000ull);
	const struct capture_entry e[] = {
		entry(10, 0, 1, STACK_NONE, 100, STACK_NONE, "ten", 1),
		entry(20, 0, 1, STACK_NONE, 100, STACK_NONE, "twenty", 1),
		entry(30, 0, 1, STACK_NONE, 100, STACK_NONE, "thirty", 1),
	};
	r->o.labels = fixed;
	r->o.nlabels = 5;
	r->o.proc_labels = proc_labels;
	build(r, e, 3);
	assert_int_equal(profile_nsamples(r->p), 3);
	for (size_t i = 0; i < 3; i++) {
		const struct label *pid = label_of(r, i, "pid"), *comm = label_of(r, i, "comm");
		assert_int_equal(pid->str, 0); /* numeric: not "evil" */
		assert_int_equal(pid->num, 10 * (int64_t)(i + 1));
		assert_string_not_equal(profile_str(r->p, comm->str), "evil");
		assert_string_equal(profile_str(r->p, label_of(r, i, "env")->str), "prod");
		assert_string_equal(profile_str(r->p, label_of(r, i, "host")->str), "h1");
	}
	assert_string_equal(profile_str(r->p, label_of(r, 0, "service")->str), "a");
	assert_string_equal(profile_str(r->p, label_of(r, 1, "service")->str), "b");
	assert_null(label_of(r, 2, "service"));

	/* no_pid: no pid label at all. */
	profile_free(r->p);
	r->p = profile_new();
	r->o.no_pid = true;
	build(r, e, 1);
	assert_null(label_of(r, 0, "pid"));
	assert_non_null(label_of(r, 0, "comm"));

	/* no_comm (a push): no thread name either, as label or root frame. */
	profile_free(r->p);
	r->p = profile_new();
	r->o.no_comm = true;
	build(r, e, 1);
	assert_null(label_of(r, 0, "comm"));
	assert_string_equal(profile_str(r->p, label_of(r, 0, "env")->str), "prod");
	assert_int_equal(profile_meta(r->p)->nroot_labels, 0);
}

/* A leaf frame (--off-cpu's [off-cpu]) under every stack, an empty one too. */
static void test_leaf_frame(void **state)
{
	struct run *r = *state;
	stack(&r->c, 100, 0, 2, 0x1000ull, 0x3001ull);
	const struct capture_entry e[] = {
		entry(10, 0, 1, STACK_NONE, 100, STACK_NONE, "a", 2),
		entry(10, 0, 1, STACK_NONE, STACK_NONE, STACK_NONE, "b", 1),
	};
	r->o.leaf_frame = "[off-cpu]";
	build(r, e, 2);
	assert_string_equal(folded(r), "a;main;leaf;[off-cpu] 2\n"
					"b;[unknown];[off-cpu] 1\n");
}

/* Processes one at a time, sorted by (pid, gen): an address named as its own
 * process maps it; kernel addresses resolved once for all; each process
 * forgotten once built (not with keep_processes); with files_loaded, every
 * process's files loaded before that is called, and it before any naming. */
static void test_processes(void **state)
{
	struct run *r = *state;
	stack(&r->c, 100, 0, 2, 0x1000ull, 0x3001ull);
	stack(&r->c, 101, 0, 1, K(0x100));
	const struct capture_entry e[] = {
		entry(20, 0, 1, 101, 100, STACK_NONE, "b", 1),
		entry(10, 0, 2, 101, 100, STACK_NONE, "a2", 1), /* after an exec */
		entry(10, 0, 1, 101, 100, STACK_NONE, "a1", 1),
	};
	build(r, e, 3);
	assert_string_equal(folded(r), "a1;main;leaf;do_syscall_64_[k] 1\n"
					"a2;main;leaf;do_syscall_64_[k] 1\n"
					"b;main;other_leaf;do_syscall_64_[k] 1\n");
	r->s.log[r->s.nlog] = '\0';
	assert_string_equal(r->s.log, "KUFUFUF");
	assert_int_equal(r->s.nforgot, 3);
	const uint32_t want[3][2] = { { 10, 1 }, { 10, 2 }, { 20, 1 } };
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(r->s.forgot[i][0], want[i][0]);
		assert_int_equal(r->s.forgot[i][1], want[i][1]);
	}

	memset(&r->s, 0, sizeof(r->s));
	profile_free(r->p);
	r->p = profile_new();
	r->o.keep_processes = true;
	r->o.files_loaded = files_loaded;
	r->o.files_ctx = &r->s;
	build(r, e, 3);
	r->s.log[r->s.nlog] = '\0';
	assert_string_equal(r->s.log, "KPPPLUUU");
	assert_string_equal(folded(r), "a1;main;leaf;do_syscall_64_[k] 1\n"
					"a2;main;leaf;do_syscall_64_[k] 1\n"
					"b;main;other_leaf;do_syscall_64_[k] 1\n");
	/* The caller's entries are left as they were. */
	assert_int_equal(e[0].key.pid, 20);
	assert_int_equal(e[2].key.gen, 1);
}

/* build_profile: the counts read from the capture, or its error. */
static void test_build_profile(void **state)
{
	struct run *r = *state;
	stack(&r->c, 100, 0, 1, 0x3000ull);
	const struct capture_entry e[] = {
		entry(10, 0, 1, STACK_NONE, 100, STACK_NONE, "a", 7),
		entry(10, 0, 1, STACK_NONE, 100, STACK_NONE, "a", 5), /* the same stack again */
	};
	r->c.entries = e;
	r->c.nentries = 2;
	assert_int_equal(build_profile(&r->c, &r->s, &r->o, r->p, &r->st), 0);
	assert_string_equal(folded(r), "a;main 12\n");
	assert_int_equal(r->st.samples, 12);
	assert_int_equal(r->st.stacks, 1);

	r->c.counts_err = -EIO;
	memset(&r->st, 0xff, sizeof(r->st));
	assert_int_equal(build_profile(&r->c, &r->s, &r->o, r->p, &r->st), -EIO);
	assert_int_equal(r->st.samples + r->st.stacks, 0);
}

/* Python: each native eval-loop frame replaced by the Python frames it ran. */
#define CODE_A 0x7f0000001000ull
#define CODE_B 0x7f0000002000ull
#define CODE_C 0x7f0000003000ull
#define CODE_D 0x7f0000004000ull
#define CODE_LATE 0x7f0000005000ull /* named once its stack is learned */
#define CODE_GONE 0x7f0000006000ull /* never named */

static void python_setup(struct run *r, struct pyframes *pf)
{
	*pf = (struct pyframes){ .codes = { { CODE_A, "a", false }, { CODE_B, "b", false }, { CODE_C, "c", false },
					    { CODE_D, "d", false }, { CODE_LATE, "late", true } },
				 .ncodes = 5 };
	r->o.python = pf;
	/* Native stacks, innermost first. */
	stack(&r->c, 100, 0, 5, 0x9000ull, 0x6001ull, 0x7001ull, 0x6001ull, 0x3001ull); /* two evals */
	stack(&r->c, 101, 0, 3, 0x9000ull, 0x6001ull, 0x3001ull);                        /* one eval */
	stack(&r->c, 102, 0, 4, 0x9000ull, 0x5001ull, 0x6001ull, 0x3001ull);             /* a -X perf trampoline */
	stack(&r->c, 103, 0, 3, 0x9000ull, 0x7001ull, 0x3001ull);                        /* no eval */
	stack(&r->c, 104, 0, 3, 0x9000ull, 0x6101ull, 0x3001ull);                        /* the .cold part */
	/* Python stacks, innermost first: two groups (a b | c d), each ending at an entry frame. */
	stack(&r->c, 200, 0, 4, pyf(CODE_A, 1, false), pyf(CODE_B, 2, true), pyf(CODE_C, 3, false),
	      pyf(CODE_D, 4, true));
	stack(&r->c, 201, 0, 2, pyf(CODE_A, 1, false), pyf(CODE_B, 2, true)); /* one group */
	stack(&r->c, 202, STACK_F_TRUNCATED, 2, pyf(CODE_A, 1, false), pyf(CODE_B, 2, true));
	stack(&r->c, 203, 0, 2, pyf(CODE_LATE, 5, false), pyf(CODE_GONE, 6, true));
	stack(&r->c, 204, 0, 2, pyf(CODE_A, 9, false), pyf(CODE_B, 2, true)); /* a at another instruction */
}

static void test_python(void **state)
{
	struct run *r = *state;
	struct pyframes pf;
	python_setup(r, &pf);
	const struct capture_entry e[] = {
		entry(30, 0, 1, STACK_NONE, 100, 200, "two_evals", 1),
		entry(30, 0, 1, STACK_NONE, 101, 200, "one_eval", 1),   /* the outermost takes the rest */
		entry(30, 0, 1, STACK_NONE, 100, 201, "one_group", 1),  /* the outer eval stays native */
		entry(30, 0, 1, STACK_NONE, 102, 201, "trampoline", 1), /* py:: frames go */
		entry(30, 0, 1, STACK_NONE, 103, 201, "no_eval", 1),    /* nothing to replace */
		entry(30, 0, 1, STACK_NONE, 104, 201, "cold", 1),
		entry(30, 0, 1, STACK_NONE, 101, 202, "py_truncated", 1),
		entry(30, 0, 1, STACK_NONE, 101, 203, "learned", 1),
		entry(30, 0, 1, STACK_NONE, 101, 204, "instr", 1),
		entry(30, 0, 1, STACK_NONE, 101, 999, "py_missing", 1), /* its Python stack unreadable */
	};
	build(r, e, sizeof(e) / sizeof(e[0]));
	assert_string_equal(folded(r),
			    "cold;main;b_[p];a_[p];leaf_c 1\n"
			    "instr;main;b_[p];a_[p];leaf_c 1\n"
			    "learned;main;[unknown];late_[p];leaf_c 1\n"
			    "no_eval;main;PyObject_Call;leaf_c 1\n"
			    "one_eval;main;d_[p];c_[p];b_[p];a_[p];leaf_c 1\n"
			    "one_group;main;_PyEval_EvalFrameDefault;PyObject_Call;b_[p];a_[p];leaf_c 1\n"
			    "py_missing;main;_PyEval_EvalFrameDefault;leaf_c 1\n"
			    "py_truncated;main;[truncated];b_[p];a_[p];leaf_c 1\n"
			    "trampoline;main;b_[p];a_[p];leaf_c 1\n"
			    "two_evals;main;d_[p];c_[p];PyObject_Call;b_[p];a_[p];leaf_c 1\n");
	assert_int_equal(r->st.truncated, 1);
	assert_int_equal(r->st.stacks_missing, 1);
	/* a (twice: two instructions), b, c, d, late: frames of one code object
	 * and instruction are one frame. */
	assert_int_equal(r->st.python_frames, 6);
	assert_true(pf.learns >= 1);

	/* A Python frame: its kind, file and line (of its instruction). */
	struct sample s;
	sample_of(r, "two_evals", &s);
	const struct frame *d = profile_frame_get(r->p, s.frames[1]);
	assert_int_equal(d->kind, FRAME_PYTHON);
	assert_string_equal(profile_str(r->p, d->name), "d");
	assert_string_equal(profile_str(r->p, d->file), "x.py");
	assert_int_equal(d->line, 104);
	sample_of(r, "instr", &s); /* a at instruction 9 */
	assert_int_equal(profile_frame_get(r->p, s.frames[2])->line, 109);
}

/* Without build_opts.python, Python stacks are not read or spliced. */
static void test_python_off(void **state)
{
	struct run *r = *state;
	struct pyframes pf;
	python_setup(r, &pf);
	r->o.python = NULL;
	const struct capture_entry e[] = { entry(30, 0, 1, STACK_NONE, 100, 200, "p", 1) };
	build(r, e, 1);
	assert_string_equal(folded(r), "p;main;_PyEval_EvalFrameDefault;PyObject_Call;_PyEval_EvalFrameDefault;leaf_c 1\n");
	assert_int_equal(r->st.stacks, 1); /* the native one only */
	assert_int_equal(r->st.python_frames, 0);
	assert_int_equal(pf.learns, 0);
}

/* A JVM's stack: each native "Interpreter" frame replaced by the method
 * of the same rank from the innermost in its Java stack (learned first);
 * one not named stays native; compiled frames stay as they are. */
static void test_java(void **state)
{
	struct run *r = *state;
	struct java j = { .stack = 300, .names = { "void A.inner()", NULL, "void A.main(java.lang.String[])" } };
	r->o.java = &j;
	/* innermost first: a compiled method, two interpreter frames, a stub, one more interpreter frame, main */
	stack(&r->c, 110, 0, 6, 0xa000ull, 0xb001ull, 0xb101ull, 0xc001ull, 0xb201ull, 0x3001ull);
	stack(&r->c, 300, 0, 3, 0x1000ull, 0x2000ull, 0x3000ull);
	const struct capture_entry e[] = {
		entry(40, 0, 1, STACK_NONE, 110, 300, "jvm", 1),
		entry(40, 0, 1, STACK_NONE, 110, STACK_NONE, "no_java", 1),
	};
	build(r, e, 2);
	assert_string_equal(folded(r), "jvm;main;void A.main(java.lang.String[])_[j];StubRoutines_[j];Interpreter_[j];"
				       "void A.inner()_[j];long A.compiled()_[j] 1\n"
				       "no_java;main;Interpreter_[j];StubRoutines_[j];Interpreter_[j];Interpreter_[j];"
				       "long A.compiled()_[j] 1\n");
	assert_int_equal(j.learns, 1);
	assert_int_equal(r->st.java_frames, 2);
	/* A Java frame: its source file and line. */
	struct sample smp;
	sample_of(r, "jvm", &smp);
	const struct frame *m = profile_frame_get(r->p, smp.frames[1]);
	assert_int_equal(m->kind, FRAME_JIT);
	assert_string_equal(profile_str(r->p, m->file), "A.java");
	assert_int_equal(m->line, 12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_kernel_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inlined, setup, teardown),
		cmocka_unit_test_setup_teardown(test_root_labels, setup, teardown),
		cmocka_unit_test_setup_teardown(test_labels, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leaf_frame, setup, teardown),
		cmocka_unit_test_setup_teardown(test_processes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_build_profile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_python, setup, teardown),
		cmocka_unit_test_setup_teardown(test_python_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_java, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

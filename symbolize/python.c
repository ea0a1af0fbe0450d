/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "python.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/array.h"
#include "base/errmsg.h"
#include "base/hashtab.h"
#include "bpf/scorch.h"
#include "elfseg.h"
#include "elfsym.h"
#include "procmem.h"
#include "procmaps.h"
#include "symbolizer.h"
#include "strpool.h"

/* What reading a code object needs besides the walk's layout. */
struct code_layout {
	uint16_t firstlineno, filename, qualname, linetable;
	uint16_t str_state;        /* PyASCIIObject.state */
	uint16_t str_ascii_data;   /* sizeof(PyASCIIObject): where a compact ASCII string's bytes start */
	uint16_t str_compact_data; /* sizeof(PyCompactUnicodeObject): a compact non-ASCII string's */
	uint16_t bytes_size, bytes_data;
	bool lines310; /* co_linetable in 3.10's format */
};

/* The fields of a code object read first: who it is. */
struct code_head {
	uint64_t type, filename, qualname, linetable;
	int32_t firstlineno;
};

#define CODE_HEAD_BYTES 256 /* every field above lies in a code object's first 256 bytes */

struct version_table {
	uint32_t minor; /* 3.x */
	uint16_t runtime_interp_head; /* _PyRuntime.interpreters.head */
	struct python_layout walk;
	struct code_layout code;
};

/* Tables for versions without _Py_DebugOffsets, x86_64 release builds,
 * read off the debug info of Debian 12's python3.11 (3.11.2) and of
 * pyenv's 3.11.7 and 3.12.1 builds, thread_id and 3.10's by offsetof()
 * against the headers of 3.10.13, 3.11.2 and 3.12.1.  The version's
 * struct layouts do not change within a minor version. */
static const struct version_table tables[] = {
	{
		/* Frame objects: the thread state's frame, f_back, f_lasti (an
		 * instruction index); each frame runs in its own eval loop call.
		 * Code objects have no co_qualname: co_name names them. */
		.minor = 10,
		.runtime_interp_head = 32,
		.walk = {
			.interp_threads_head = 8,
			.tstate_next = 8, .tstate_interp = 16, .tstate_thread_id = 176,
			.tstate_cframe = -1, .current_frame = 24,
			.frame_code = 32, .frame_previous = 24, .frame_instr = 96,
			.frame_owner = 0, .frame_is_entry = -1, .owner_cstack = PY_OWNER_NONE,
			.code_first_instr = 0, .walk_flags = PY_WALK_LASTI | PY_WALK_ALL_ENTRY,
		},
		.code = { .firstlineno = 40, .filename = 104, .qualname = 112, .linetable = 120,
			  .str_state = 32, .str_ascii_data = 48, .str_compact_data = 72,
			  .bytes_size = 16, .bytes_data = 32, .lines310 = true },
	},
	{
		.minor = 11,
		.runtime_interp_head = 40,
		.walk = {
			.interp_threads_head = 16,
			.tstate_next = 8, .tstate_interp = 16, .tstate_thread_id = 152,
			.tstate_cframe = 56, .current_frame = 8,
			.frame_code = 32, .frame_previous = 48, .frame_instr = 56,
			.frame_owner = 69, .frame_is_entry = 68, .owner_cstack = PY_OWNER_NONE,
			.code_first_instr = 184,
		},
		.code = { .firstlineno = 72, .filename = 112, .qualname = 128, .linetable = 136,
			  .str_state = 32, .str_ascii_data = 48, .str_compact_data = 72,
			  .bytes_size = 16, .bytes_data = 32 },
	},
	{
		/* The C stack's entry shim frame (FRAME_OWNED_BY_CSTACK) replaces is_entry. */
		.minor = 12,
		.runtime_interp_head = 40,
		.walk = {
			.interp_threads_head = 72,
			.tstate_next = 8, .tstate_interp = 16, .tstate_thread_id = 136,
			.tstate_cframe = 56, .current_frame = 0,
			.frame_code = 0, .frame_previous = 8, .frame_instr = 56,
			.frame_owner = 70, .frame_is_entry = -1, .owner_cstack = 3,
			.code_first_instr = 192,
		},
		.code = { .firstlineno = 68, .filename = 112, .qualname = 128, .linetable = 136,
			  .str_state = 32, .str_ascii_data = 40, .str_compact_data = 56,
			  .bytes_size = 16, .bytes_data = 32 },
	},
};

/* _Py_DebugOffsets (3.13+), at the start of _PyRuntime: where in it each
 * version keeps the offsets the walk needs (each a u64; each section of the
 * struct starts with its size, and 3.14 added fields to several).  From
 * the release headers' struct, 3.13.0 and 3.14.7. */
#define DEBUG_COOKIE "xdebugpy"
#define DEBUG_FREE_THREADED 16 /* u64: 1 in a free-threaded build */
#define DEBUG_OFFSETS_MAX 648  /* room for the furthest field read, of any version */
struct debug_positions {
	uint32_t minor;
	uint16_t len; /* bytes to read: past the last field below */
	uint16_t rt_interp_head, is_threads_head;
	uint16_t ts_next, ts_interp, ts_current_frame, ts_thread_id;
	uint16_t fr_previous, fr_executable, fr_instr, fr_owner;
	uint16_t co_filename, co_qualname, co_linetable, co_firstlineno, co_adaptive;
	uint16_t bytes_size, bytes_sval, str_state, str_ascii_size;
};

static const struct debug_positions debug_positions[] = {
	{ .minor = 13, .len = 568, .rt_interp_head = 40, .is_threads_head = 72,
	  .ts_next = 168, .ts_interp = 176, .ts_current_frame = 184, .ts_thread_id = 192,
	  .fr_previous = 232, .fr_executable = 240, .fr_instr = 248, .fr_owner = 264,
	  .co_filename = 280, .co_qualname = 296, .co_linetable = 304, .co_firstlineno = 312, .co_adaptive = 344,
	  .bytes_size = 520, .bytes_sval = 528, .str_state = 544, .str_ascii_size = 560 },
	/* 3.14: interpreter_state gained gc, code_object_generation and
	 * tlbc_generation; thread_state the same fields; interpreter_frame
	 * stackpointer and tlbc_index; code_object co_tlbc; set_object and
	 * bytes_object moved down. */
	{ .minor = 14, .len = 648, .rt_interp_head = 40, .is_threads_head = 72,
	  .ts_next = 192, .ts_interp = 200, .ts_current_frame = 208, .ts_thread_id = 216,
	  .fr_previous = 256, .fr_executable = 264, .fr_instr = 272, .fr_owner = 288,
	  .co_filename = 320, .co_qualname = 336, .co_linetable = 344, .co_firstlineno = 352, .co_adaptive = 384,
	  .bytes_size = 600, .bytes_sval = 608, .str_state = 624, .str_ascii_size = 640 },
};

struct pycode {
	const char *qualname, *filename;
	int firstlineno;
	uint8_t *linetable;
	size_t nlinetable;
	struct code_head head; /* what it was read from, to tell when its address holds another */
};

struct pyproc {
	uint32_t pid, gen;
	bool checked; /* the layout was checked against the live interpreter */
	struct python_layout walk;
	struct code_layout code;
	uint64_t code_type, str_type, bytes_type; /* the type objects' addresses in the process */
	struct u64map codes; /* code object address -> index + 1 in list[] of the one read last there */
	struct pycode *list;
	size_t n, cap;
	struct u64map stacks; /* Python stack id -> offset << 8 | frames, into stack_codes */
	uint32_t *stack_codes; /* per frame of each stack learned: index + 1 in list[], 0 unreadable */
	size_t nstack_codes, cap_stack_codes;
	struct strpool strings;
};

struct py_symbols {
	uint64_t runtime, version, eval, eval_size, cold, cold_size;
	uint64_t code_type, str_type, bytes_type; /* PyCode_Type, PyUnicode_Type, PyBytes_Type */
	bool has_version;
};

/* An interpreter file's symbols, found once: every process forked from a
 * Python program and sampled before its exec maps the same python3, whose
 * symbol table (~10k symbols) was walked again for each (13 % of the
 * agent's CPU under a Python spawner).  A few files, the slot filled
 * longest ago replaced first. */
#define SYMS_CACHED 8
struct syms_cached {
	uint64_t dev, ino, mtime; /* 0, 0, 0: empty */
	struct py_symbols sy;
	bool found; /* false: not an interpreter (a symbol is missing) */
};

struct pyframes {
	struct u64map procs; /* pid << 32 | gen -> struct pyproc * */
	struct syms_cached syms[SYMS_CACHED];
	size_t syms_next;
};

static uint64_t proc_key(uint32_t pid, uint32_t gen)
{
	return (uint64_t)pid << 32 | gen;
}

int pyframes_new(struct pyframes **out)
{
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ENOSYS;
	struct pyframes *pf = calloc(1, sizeof(*pf));
	if (!pf)
		return -ENOMEM;
	u64map_init(&pf->procs);
	*out = pf;
	return 0;
}

static void proc_free(struct pyproc *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->list[i].linetable);
	free(p->list);
	u64map_release(&p->codes);
	u64map_release(&p->stacks);
	free(p->stack_codes);
	strpool_release(&p->strings);
	free(p);
}

void pyframes_free(struct pyframes *pf)
{
	if (!pf)
		return;
	uint64_t k, v;
	for (size_t i = 0; u64map_next(&pf->procs, &i, &k, &v);)
		proc_free((struct pyproc *)(uintptr_t)v);
	u64map_release(&pf->procs);
	free(pf);
}

static struct pyproc *find_proc(const struct pyframes *pf, uint32_t pid, uint32_t gen)
{
	const uint64_t *v = u64map_get(&pf->procs, proc_key(pid, gen));
	return v ? (struct pyproc *)(uintptr_t)*v : NULL;
}

bool pyframes_known(const struct pyframes *pf, uint32_t pid, uint32_t gen)
{
	return find_proc(pf, pid, gen) != NULL;
}

void pyframes_forget(struct pyframes *pf, uint32_t pid, uint32_t gen)
{
	struct pyproc *p = find_proc(pf, pid, gen);
	if (!p)
		return;
	u64map_del(&pf->procs, proc_key(pid, gen));
	proc_free(p);
}

static int peek_u64(uint32_t pid, uint64_t addr, uint64_t *out)
{
	return procmem_read(pid, addr, out, sizeof(*out));
}

/* The symbols of an interpreter's file that the walk needs (file addresses). */

static void on_symbol(void *ctx, const char *name, const GElf_Sym *s)
{
	struct py_symbols *out = ctx;
	if (!strcmp(name, "_PyRuntime")) {
		out->runtime = s->st_value;
	} else if (!strcmp(name, "Py_Version")) {
		out->version = s->st_value;
		out->has_version = true;
	} else if (!strcmp(name, "_PyEval_EvalFrameDefault")) {
		out->eval = s->st_value;
		out->eval_size = s->st_size;
	} else if (!strcmp(name, "_PyEval_EvalFrameDefault.cold")) {
		out->cold = s->st_value;
		out->cold_size = s->st_size;
	} else if (!strcmp(name, "PyCode_Type")) {
		out->code_type = s->st_value;
	} else if (!strcmp(name, "PyUnicode_Type")) {
		out->str_type = s->st_value;
	} else if (!strcmp(name, "PyBytes_Type")) {
		out->bytes_type = s->st_value;
	}
}

bool pyframes_interpreter_name(const char *path)
{
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	return !strncmp(b, "python", 6) || !strncmp(b, "libpython", 9);
}

/* The symbols of the interpreter file mapped as sm (found false when it
 * lacks one), walked once per file (pf->syms). */
static void file_symbols(struct pyframes *pf, Elf *elf, const struct sym_mapping *sm, struct py_symbols *sy,
			 bool *found)
{
	for (size_t i = 0; i < SYMS_CACHED; i++) {
		const struct syms_cached *c = &pf->syms[i];
		if (c->ino && c->dev == sm->dev && c->ino == sm->ino && c->mtime == sm->mtime) {
			*sy = c->sy;
			*found = c->found;
			return;
		}
	}
	memset(sy, 0, sizeof(*sy));
	elfsym_each(elf, on_symbol, sy);
	*found = sy->runtime && sy->eval && sy->code_type && sy->str_type && sy->bytes_type;
	if (sm->ino) {
		pf->syms[pf->syms_next] = (struct syms_cached){ sm->dev, sm->ino, sm->mtime, *sy, *found };
		pf->syms_next = (pf->syms_next + 1) % SYMS_CACHED;
	}
}

/* Finds the interpreter's file among the mappings sym has read for (pid,
 * gen), and its symbols, from the file the symbolizer has open. */
static int find_interpreter(struct pyframes *pf, const struct symbolizer *sym, uint32_t pid, uint32_t gen,
			    struct py_symbols *sy, uint64_t *bias, char *path, size_t pathlen)
{
	const struct procmaps *m = symbolizer_maps(sym, pid, gen);
	for (size_t i = 0; m && i < m->n; i++) {
		struct sym_mapping sm;
		if (symbolizer_mapping(sym, pid, gen, i, &sm) || !sm.current || sm.fd < 0 || !pyframes_interpreter_name(sm.map->path))
			continue;
		Elf *elf = elf_begin(sm.fd, ELF_C_READ_MMAP, NULL);
		int err = -ENOENT;
		bool found = false;
		if (elf) {
			file_symbols(pf, elf, &sm, sy, &found);
			if (found)
				err = elfseg_map_bias(elf, sm.map->start, sm.map->offset, bias);
			elf_end(elf);
		}
		if (!err) {
			snprintf(path, pathlen, "%s", sm.map->path);
			return 0;
		}
	}
	return -ENOENT;
}

/* The minor version from a file name's "python3.X" when the file has no Py_Version (3.10). */
static uint32_t version_from_name(const char *path)
{
	const char *s = strstr(path, "python3.");
	return s ? (uint32_t)strtoul(s + 8, NULL, 10) : 0;
}

/* Checks the layout against the live process: the first thread state
 * points back to its interpreter.  -EAGAIN before the interpreter exists. */
static int check_layout(uint32_t pid, const struct python_layout *l, char *why, size_t whylen)
{
	uint64_t interp, ts, back;
	int err;
	if ((err = peek_u64(pid, l->interp_head, &interp)))
		return err == -ESRCH ? err : errmsg_set(why, whylen, -EPROTO, "_PyRuntime unreadable");
	if (!interp)
		return -EAGAIN;
	if ((err = peek_u64(pid, interp + l->interp_threads_head, &ts)))
		return err == -ESRCH ? err : errmsg_set(why, whylen, -EPROTO, "interpreter state unreadable");
	if (!ts)
		return -EAGAIN;
	if ((err = peek_u64(pid, ts + l->tstate_interp, &back)))
		return err == -ESRCH ? err : errmsg_set(why, whylen, -EPROTO, "thread state unreadable");
	if (back != interp)
		return errmsg_set(why, whylen, -EPROTO, "its thread state does not point back to its interpreter");
	return 0;
}

static uint64_t dbg_u64(const uint8_t *d, size_t off)
{
	uint64_t v;
	memcpy(&v, d + off, sizeof(v));
	return v;
}

/* The layout from the interpreter's own _Py_DebugOffsets (3.13+), read
 * where that minor version keeps each offset; what is read is checked
 * against the live process like a table. */
static int from_debug_offsets(uint32_t pid, uint64_t runtime, uint32_t minor, struct python_layout *l,
			      struct code_layout *cl, char *why, size_t whylen)
{
	const struct debug_positions *dp = NULL;
	for (size_t i = 0; i < sizeof(debug_positions) / sizeof(debug_positions[0]); i++)
		if (debug_positions[i].minor == minor)
			dp = &debug_positions[i];
	if (!dp)
		return errmsg_set(why, whylen, -ENOTSUP,
				  "Python 3.%u: its _Py_DebugOffsets may be laid out unlike 3.13's and 3.14's, the ones known",
				  minor);
	uint8_t d[DEBUG_OFFSETS_MAX];
	int err = procmem_read(pid, runtime, d, dp->len);
	if (err)
		return err == -ESRCH ? err : errmsg_set(why, whylen, -EPROTO, "_Py_DebugOffsets unreadable");
	if (memcmp(d, DEBUG_COOKIE, 8))
		return errmsg_set(why, whylen, -EPROTO, "no _Py_DebugOffsets at _PyRuntime (3.%u)", minor);
	if (dbg_u64(d, DEBUG_FREE_THREADED))
		return errmsg_set(why, whylen, -ENOTSUP,
				  "Python 3.%u is a free-threaded build, whose frames are not walked", minor);
	uint64_t v[] = { dbg_u64(d, dp->rt_interp_head), dbg_u64(d, dp->is_threads_head), dbg_u64(d, dp->ts_next),
			 dbg_u64(d, dp->ts_interp), dbg_u64(d, dp->ts_current_frame), dbg_u64(d, dp->ts_thread_id),
			 dbg_u64(d, dp->fr_previous), dbg_u64(d, dp->fr_executable), dbg_u64(d, dp->fr_instr),
			 dbg_u64(d, dp->fr_owner), dbg_u64(d, dp->co_adaptive) };
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (v[i] > 0xfff0)
			return errmsg_set(why, whylen, -EPROTO, "_Py_DebugOffsets gives an offset of %" PRIu64, v[i]);
	memset(l, 0, sizeof(*l));
	l->interp_head = runtime + v[0];
	l->interp_threads_head = (uint16_t)v[1];
	l->tstate_next = (uint16_t)v[2];
	l->tstate_interp = (uint16_t)v[3];
	l->tstate_cframe = -1;
	l->current_frame = (uint16_t)v[4];
	l->tstate_thread_id = (uint16_t)v[5];
	l->frame_previous = (uint16_t)v[6];
	l->frame_code = (uint16_t)v[7];
	l->frame_instr = (uint16_t)v[8];
	l->frame_owner = (uint16_t)v[9];
	l->frame_is_entry = -1;
	/* The eval loop's entry frame: FRAME_OWNED_BY_CSTACK in 3.13,
	 * FRAME_OWNED_BY_INTERPRETER in 3.14, both 3. */
	l->owner_cstack = 3;
	l->code_first_instr = (uint16_t)v[10];
	uint64_t ascii = dbg_u64(d, dp->str_ascii_size);
	*cl = (struct code_layout){
		.firstlineno = (uint16_t)dbg_u64(d, dp->co_firstlineno),
		.filename = (uint16_t)dbg_u64(d, dp->co_filename),
		.qualname = (uint16_t)dbg_u64(d, dp->co_qualname),
		.linetable = (uint16_t)dbg_u64(d, dp->co_linetable),
		.str_state = (uint16_t)dbg_u64(d, dp->str_state),
		.str_ascii_data = (uint16_t)ascii,
		.str_compact_data = (uint16_t)(ascii + 16), /* utf8_length, utf8 */
		.bytes_size = (uint16_t)dbg_u64(d, dp->bytes_size),
		.bytes_data = (uint16_t)dbg_u64(d, dp->bytes_sval),
	};
	return 0;
}

/* The bytes of a frame the walk must read to see every field it uses:
 * l->frame_bytes, or -EPROTO past what it can read. */
static int frame_extent(struct python_layout *l, char *why, size_t whylen)
{
	uint32_t need = 8;
	uint32_t ends[] = { l->frame_code + 8u, l->frame_previous + 8u, l->frame_instr + 8u,
			    l->owner_cstack != PY_OWNER_NONE ? l->frame_owner + 1u : 0,
			    l->frame_is_entry >= 0 ? (uint32_t)l->frame_is_entry + 1u : 0 };
	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++)
		need = ends[i] > need ? ends[i] : need;
	if (need > PY_FRAME_MAX_BYTES)
		return errmsg_set(why, whylen, -EPROTO, "frame fields end past %u bytes (at %" PRIu32 ")",
				  PY_FRAME_MAX_BYTES, need);
	l->frame_bytes = (uint8_t)need;
	return 0;
}

int pyframes_attach(struct pyframes *pf, const struct symbolizer *sym, uint32_t pid, uint32_t gen,
		    struct python_layout *out, char *why, size_t whylen)
{
	struct py_symbols sy;
	uint64_t bias;
	char path[256];
	int err;

	struct pyproc *known = find_proc(pf, pid, gen);
	if (known) {
		if (known->checked)
			return -EEXIST;
		err = check_layout(pid, &known->walk, why, whylen);
		if (err == -EAGAIN)
			return -EINPROGRESS;
		if (err) {
			pyframes_forget(pf, pid, gen);
			return err;
		}
		known->checked = true;
		*out = known->walk;
		return 0;
	}
	if ((err = find_interpreter(pf, sym, pid, gen, &sy, &bias, path, sizeof(path))))
		return err;
	uint32_t version = 0, minor;
	if (sy.has_version && (err = procmem_read(pid, bias + sy.version, &version, sizeof(version))))
		return err == -ESRCH ? err : errmsg_set(why, whylen, -EPROTO, "Py_Version unreadable: %s", strerror(-err));
	minor = sy.has_version ? (version >> 16) & 0xff : version_from_name(path);
	if ((version >> 24) != 3 && sy.has_version)
		return errmsg_set(why, whylen, -EPROTO, "Py_Version 0x%x is not Python 3", version);
	if (!sy.has_version)
		version = 3u << 24 | minor << 16; /* 3.10: the micro version is not known */
	struct python_layout l = { 0 };
	struct code_layout cl = { 0 };
	if (minor >= 13) {
		if ((err = from_debug_offsets(pid, bias + sy.runtime, minor, &l, &cl, why, whylen)))
			return err;
	} else {
		const struct version_table *t = NULL;
		for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
			if (tables[i].minor == minor)
				t = &tables[i];
		if (!t)
			return errmsg_set(why, whylen, -ENOTSUP, "Python 3.%u is not supported (3.10 to 3.14 are)", minor);
		l = t->walk;
		cl = t->code;
		l.interp_head = bias + sy.runtime + t->runtime_interp_head;
	}
	if ((err = frame_extent(&l, why, whylen)))
		return err;
	l.version = version;
	l.eval_start = bias + sy.eval;
	l.eval_end = l.eval_start + (sy.eval_size ? sy.eval_size : 1);
	if (sy.cold) {
		l.cold_start = bias + sy.cold;
		l.cold_end = l.cold_start + (sy.cold_size ? sy.cold_size : 1);
	}
	if ((err = check_layout(pid, &l, why, whylen)) && err != -EAGAIN)
		return err;
	struct pyproc *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->pid = pid;
	p->gen = gen;
	p->checked = !err;
	p->walk = l;
	p->code = cl;
	p->code_type = bias + sy.code_type;
	p->str_type = bias + sy.str_type;
	p->bytes_type = bias + sy.bytes_type;
	u64map_init(&p->codes);
	u64map_init(&p->stacks);
	strpool_init(&p->strings);
	if ((err = u64map_put(&pf->procs, proc_key(pid, gen), (uint64_t)(uintptr_t)p))) {
		proc_free(p);
		return err;
	}
	*out = l;
	return p->checked ? 0 : -EINPROGRESS;
}

/* Appends c as UTF-8 to buf (room for 4 more bytes checked by the caller). */
static size_t put_utf8(char *buf, uint32_t c)
{
	if (c < 0x80) {
		buf[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		buf[0] = (char)(0xc0 | c >> 6);
		buf[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		buf[0] = (char)(0xe0 | c >> 12);
		buf[1] = (char)(0x80 | (c >> 6 & 0x3f));
		buf[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	buf[0] = (char)(0xf0 | (c >> 18 & 7));
	buf[1] = (char)(0x80 | (c >> 12 & 0x3f));
	buf[2] = (char)(0x80 | (c >> 6 & 0x3f));
	buf[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

#define PY_STR_MAX 1024 /* characters of a name or file name read */

/* Whether the object at addr has the type at type: a code object may be
 * freed, and its memory reused, by the time it is read. */
static bool is_a(const struct pyproc *p, uint64_t addr, uint64_t type)
{
	uint64_t t;
	return addr && !peek_u64(p->pid, addr + 8 /* ob_type */, &t) && t == type;
}

/* A str object's text, pooled; NULL when unreadable or not a compact string. */
static const char *read_str(struct pyproc *p, uint64_t addr)
{
	uint64_t len;
	uint32_t state;
	if (!is_a(p, addr, p->str_type) || peek_u64(p->pid, addr + 16, &len) ||
	    procmem_read(p->pid, addr + p->code.str_state, &state, sizeof(state)))
		return NULL;
	unsigned kind = state >> 2 & 7, compact = state >> 5 & 1, ascii = state >> 6 & 1;
	if (!compact || (kind != 1 && kind != 2 && kind != 4))
		return NULL;
	if (len > PY_STR_MAX)
		len = PY_STR_MAX;
	uint64_t data = addr + (ascii ? p->code.str_ascii_data : p->code.str_compact_data);
	uint8_t raw[PY_STR_MAX * 4];
	char text[PY_STR_MAX * 4 + 4];
	size_t n = 0;
	if (procmem_read(p->pid, data, raw, len * kind))
		return NULL;
	for (uint64_t i = 0; i < len; i++) {
		uint32_t c = kind == 1 ? raw[i] : kind == 2 ? ((const uint16_t *)raw)[i] : ((const uint32_t *)raw)[i];
		if (!c || c > 0x10ffff || (c >= 0xd800 && c < 0xe000))
			c = '?'; /* not a character UTF-8 can carry */
		n += put_utf8(text + n, c);
	}
	return strpool_intern(&p->strings, text, n);
}

#define PY_LINETABLE_MAX (64u << 10) /* a longer table is not read: its frames have no line */

/* The head of the code object at addr: its type and the fields that name
 * it, in one read.  -EFAULT when it is not (or no longer) a code object. */
static int read_head(const struct pyproc *p, uint64_t addr, struct code_head *h)
{
	const struct code_layout *cl = &p->code;
	uint8_t buf[CODE_HEAD_BYTES];
	size_t need = 16;
	uint16_t ends[] = { cl->filename + 8, cl->qualname + 8, cl->linetable + 8, cl->firstlineno + 4 };
	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++)
		need = ends[i] > need ? ends[i] : need;
	if (need > sizeof(buf))
		return -EFAULT;
	int err = procmem_read(p->pid, addr, buf, need);
	if (err)
		return err;
	memcpy(&h->type, buf + 8, 8);
	memcpy(&h->filename, buf + cl->filename, 8);
	memcpy(&h->qualname, buf + cl->qualname, 8);
	memcpy(&h->linetable, buf + cl->linetable, 8);
	memcpy(&h->firstlineno, buf + cl->firstlineno, 4);
	return h->type == p->code_type ? 0 : -EFAULT;
}

/* Reads the code object at addr (names and location table) into list[];
 * its index + 1 in *idx. */
static int read_code(struct pyproc *p, uint64_t addr, const struct code_head *h, uint32_t *idx)
{
	const struct code_layout *cl = &p->code;
	uint64_t tlen = 0;
	int err;
	struct pycode c = { .qualname = read_str(p, h->qualname), .filename = read_str(p, h->filename),
			    .firstlineno = h->firstlineno, .head = *h };
	if (!c.qualname)
		return -EFAULT;
	if (is_a(p, h->linetable, p->bytes_type) && !peek_u64(p->pid, h->linetable + cl->bytes_size, &tlen) && tlen &&
	    tlen <= PY_LINETABLE_MAX) {
		c.linetable = malloc(tlen);
		if (c.linetable && !procmem_read(p->pid, h->linetable + cl->bytes_data, c.linetable, tlen))
			c.nlinetable = tlen;
	}
	if ((err = array_grow(&p->list, &p->cap, p->n + 1, sizeof(*p->list))) ||
	    (err = u64map_put(&p->codes, addr, p->n + 1))) {
		free(c.linetable);
		return err;
	}
	p->list[p->n++] = c;
	*idx = (uint32_t)p->n;
	return 0;
}

/* The code object at addr now: the one read before if its head is the
 * same (a freed code object's memory can hold another by now: an imported
 * module's top-level code is freed once it has run), else read afresh. */
static int current_code(struct pyproc *p, uint64_t addr, uint32_t *idx)
{
	struct code_head h;
	int err = read_head(p, addr, &h);
	if (err)
		return err;
	const uint64_t *known = u64map_get(&p->codes, addr);
	if (known && !memcmp(&p->list[*known - 1].head, &h, sizeof(h))) {
		*idx = (uint32_t)*known;
		return 0;
	}
	return read_code(p, addr, &h, idx);
}

int pyframes_learn(struct pyframes *pf, uint32_t pid, uint32_t gen, uint64_t stack, const uint64_t *frames, size_t n)
{
	struct pyproc *p = find_proc(pf, pid, gen);
	int err;
	if (!p)
		return -ENOENT;
	if (u64map_get(&p->stacks, stack))
		return 0;
	if (!p->checked) { /* a stack came before an announcement found the interpreter set up */
		char why[160];
		if ((err = check_layout(pid, &p->walk, why, sizeof(why))))
			return err == -ESRCH ? err : -EPROTO;
		p->checked = true;
	}
	if (n > 255)
		n = 255;
	if ((err = array_grow(&p->stack_codes, &p->cap_stack_codes, p->nstack_codes + n, sizeof(*p->stack_codes))))
		return err;
	uint32_t *out = p->stack_codes + p->nstack_codes;
	for (size_t i = 0; i < n; i++) {
		out[i] = 0;
		err = current_code(p, PY_FRAME_CODE(frames[i]), &out[i]);
		if (err == -ESRCH || err == -ENOMEM)
			return err;
	}
	if ((err = u64map_put(&p->stacks, stack, (uint64_t)p->nstack_codes << 8 | n)))
		return err;
	p->nstack_codes += n;
	return 0;
}

bool pyframes_resolve(struct pyframes *pf, uint32_t pid, uint32_t gen, uint64_t stack, size_t pos, uint64_t frame,
		      struct pyframe_info *out)
{
	struct pyproc *p = find_proc(pf, pid, gen);
	const uint64_t *where = p ? u64map_get(&p->stacks, stack) : NULL;
	if (!where || pos >= (*where & 0xff))
		return false;
	uint32_t idx = p->stack_codes[(*where >> 8) + pos];
	if (!idx)
		return false;
	const struct pycode *c = &p->list[idx - 1];
	uint32_t instr = PY_FRAME_INSTR(frame);
	if (p->walk.instr_is_next && instr)
		instr--;
	out->code = idx;
	out->qualname = c->qualname;
	out->filename = c->filename;
	out->line = !c->linetable ? 0
		    : p->code.lines310 ? pyframes_line310(c->linetable, c->nlinetable, c->firstlineno, instr)
				       : pyframes_line(c->linetable, c->nlinetable, c->firstlineno, instr);
	return true;
}

/* A location table's varints: 6 bits a byte, bit 6 set when more follow.
 * *i past len when the table ends inside one. */
static uint32_t read_varint(const uint8_t *t, size_t len, size_t *i)
{
	uint32_t v = 0;
	unsigned shift = 0;
	for (;;) {
		if (*i >= len) {
			*i = len + 1;
			return v;
		}
		uint8_t b = t[(*i)++];
		if (shift < 32)
			v |= (uint32_t)(b & 63) << shift;
		shift += 6;
		if (!(b & 64))
			return v;
	}
}

static int32_t read_svarint(const uint8_t *t, size_t len, size_t *i)
{
	uint32_t u = read_varint(t, len, i);
	return u & 1 ? -(int32_t)(u >> 1) : (int32_t)(u >> 1);
}

/* The location table (3.11+): entries of one header byte (bit 7 set; code
 * in bits 3-6; code units covered - 1 in bits 0-2) and the code's fields.
 * Code 15: no location; 14: long form (line delta, end line, columns);
 * 13: line delta only; 10-12: line + 0, 1 or 2, two column bytes; 0-9:
 * same line, one column byte.  An entry cut by the table's end answers
 * nothing. */
int pyframes_line(const uint8_t *t, size_t len, int firstlineno, uint32_t idx)
{
	int64_t line = firstlineno; /* a forged table can sum its deltas past int */
	uint32_t addr = 0;
	size_t i = 0;
	while (i < len) {
		uint8_t h = t[i++];
		if (!(h & 0x80))
			return 0; /* not at an entry: a table we do not understand */
		unsigned code = h >> 3 & 15, units = (h & 7) + 1;
		bool none = false;
		switch (code) {
		case 15:
			none = true;
			break;
		case 14:
			line += read_svarint(t, len, &i);
			read_varint(t, len, &i);
			read_varint(t, len, &i);
			read_varint(t, len, &i);
			break;
		case 13:
			line += read_svarint(t, len, &i);
			break;
		case 12:
		case 11:
		case 10:
			line += (int)code - 10;
			i += 2;
			break;
		default:
			i += 1;
			break;
		}
		if (i > len)
			return 0;
		if (idx < addr + units)
			return none || line < 0 || line > INT32_MAX ? 0 : (int)line;
		addr += units;
	}
	return 0;
}

/* 3.10's line table: pairs of (bytes of code covered: unsigned, line delta:
 * signed, -128 when those bytes have no line).  Code unit idx is at byte
 * 2 * idx.  A pair cut by the table's end answers nothing. */
int pyframes_line310(const uint8_t *t, size_t len, int firstlineno, uint32_t idx)
{
	int64_t line = firstlineno, at = 2 * (int64_t)idx;
	int64_t start = 0;
	for (size_t i = 0; i + 1 < len; i += 2) {
		int8_t delta = (int8_t)t[i + 1];
		int64_t end = start + t[i];
		if (delta != -128)
			line += delta;
		if (at < end)
			return delta == -128 || line < 0 || line > INT32_MAX ? 0 : (int)line;
		start = end;
	}
	return 0;
}

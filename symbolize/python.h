/* SPDX-License-Identifier: MIT */
/*
 * python: CPython processes.  Finds the interpreter in a process (its
 * executable or libpython, by the _PyRuntime symbol), tells which layout its
 * structs have (the interpreter's own _Py_DebugOffsets from 3.13 on, a table
 * per minor version for 3.10 to 3.12), checks that layout against the live
 * process, and turns the frames the BPF walk records (code object address,
 * instruction index) into function, file and line by reading each code
 * object once from the process's memory while it lives.
 */
#ifndef SCORCH_SYMBOLIZE_PYTHON_H
#define SCORCH_SYMBOLIZE_PYTHON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pyframes;
struct symbolizer;

/* Where the frame walk finds things in one interpreter (see bpf/scorch.h's
 * struct py_proc, which profiler/python.c fills from this). */
struct python_layout {
	uint32_t version;            /* PY_VERSION_HEX */
	uint64_t interp_head;        /* address of _PyRuntime.interpreters.head in the process */
	uint64_t eval_start, eval_end; /* _PyEval_EvalFrameDefault */
	uint64_t cold_start, cold_end; /* its .cold part, or 0 */
	uint16_t interp_threads_head;
	uint16_t tstate_next, tstate_interp, tstate_thread_id; /* thread_id: pthread_self() */
	int16_t tstate_cframe;       /* -1: current_frame is in the thread state */
	uint16_t current_frame;
	uint16_t frame_code, frame_previous, frame_instr, frame_owner;
	int16_t frame_is_entry;      /* -1 when the version has no is_entry */
	uint8_t owner_cstack;        /* 0xff when none */
	bool instr_is_next;          /* the frame's pointer is at the next instruction (3.13+) */
	uint16_t code_first_instr;   /* co_code_adaptive */
	uint8_t frame_bytes;         /* bytes of a frame the walk reads */
	uint8_t walk_flags;          /* PY_WALK_* (bpf/scorch.h) */
};

/* What a Python frame names. */
struct pyframe_info {
	const char *qualname; /* owned by the pyframes */
	const char *filename;
	int line;             /* 0 when unknown */
	uint32_t code;        /* which code object of the process (> 0): frames with equal
	                         code and instruction index name the same */
};

/* Whether a file can be an interpreter by its name (a path or a bare
 * name): python3.X, libpython3.X.so.  The only files pyframes_attach
 * looks in. */
bool pyframes_interpreter_name(const char *path);

int pyframes_new(struct pyframes **out);
void pyframes_free(struct pyframes *pf);

/* Looks for CPython in (pid, gen) among the mappings sym has read for it
 * (symbolizer_track), in the files sym has open: on
 * success *out describes it and later calls know the process.  -ENOENT: not
 * Python; -EINPROGRESS: *out is filled, but the interpreter is not set up
 * far enough to check the layout against it: ask again at the next
 * announcement (a stack learned before checks it too); -EEXIST: done
 * before; -ENOTSUP or -EPROTO with why[] filled: Python whose frames
 * cannot be walked (an unknown version, a layout the process contradicts,
 * memory that cannot be read); the process is forgotten then. */
int pyframes_attach(struct pyframes *pf, const struct symbolizer *sym, uint32_t pid, uint32_t gen,
		    struct python_layout *out, char *why, size_t whylen);
/* Whether (pid, gen) was found to be Python. */
bool pyframes_known(const struct pyframes *pf, uint32_t pid, uint32_t gen);
/* Reads the code objects of the Python stack with this id (frames as the
 * BPF walk stores them, innermost first) while (pid, gen) lives: the ones
 * not read yet, and those whose address holds another code object by now.
 * Each stack is learned once.  0, or -ESRCH when the process is gone. */
int pyframes_learn(struct pyframes *pf, uint32_t pid, uint32_t gen, uint64_t stack, const uint64_t *frames, size_t n);
/* Names frame pos (frame) of a stack learned; false when it was not, or
 * that frame's code object could not be read. */
bool pyframes_resolve(struct pyframes *pf, uint32_t pid, uint32_t gen, uint64_t stack, size_t pos, uint64_t frame,
		      struct pyframe_info *out);
/* Forgets (pid, gen) and its code objects. */
void pyframes_forget(struct pyframes *pf, uint32_t pid, uint32_t gen);

/* The line of code unit idx in a CPython 3.11+ location table (co_linetable)
 * starting at firstlineno; 0 when the table gives none. */
int pyframes_line(const uint8_t *table, size_t len, int firstlineno, uint32_t idx);
/* The same in a 3.10 line table (co_linetable: pairs of a byte count and a
 * signed line delta, -128 for no line). */
int pyframes_line310(const uint8_t *table, size_t len, int firstlineno, uint32_t idx);

#endif

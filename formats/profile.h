/* SPDX-License-Identifier: MIT */
/*
 * profile: the in-memory profile model every reader fills and every writer
 * reads.  It knows nothing of BPF or symbolization.
 *
 * Everything is interned and referred to by a dense 32-bit id:
 *  - strings: id 0 is always the empty string;
 *  - mappings (a mapped file: address range, file offset, build ID): id 0 = none;
 *  - frames (function name, mapping, source file and line, kind, address);
 *  - label sets (sorted key/value pairs such as pid, tid, comm): id 0 = empty.
 * A sample is (stack of frame ids, label set) with a count; adding the same
 * stack and label set again adds to its count, so memory grows with unique
 * stacks, not with samples.
 *
 * Stacks are stored root first (main before its callees), as folded files
 * write them.  An inlined call is two frames with the same address: the
 * function it was inlined into, then the inlined function with kind
 * FRAME_INLINED (so pprof writes them as two Lines of one Location).
 *
 * All pointers returned into the profile stay valid until the next call that
 * adds to it, except strings (profile_str), which stay valid until profile_free.
 */
#ifndef SCORCH_FORMATS_PROFILE_H
#define SCORCH_FORMATS_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct profile;

#define PROFILE_MAX_ROOTS 4 /* root labels (profile_meta.root_labels) */
/* Addresses from here up are the kernel's (x86-64 and arm64 with 48-bit
 * user space): a kernel mapping starts there. */
#define PROFILE_KERNEL_START 0xffff800000000000ull

enum frame_kind {
	FRAME_USER = 0,
	FRAME_KERNEL = 1,  /* folded suffix _[k] */
	FRAME_INLINED = 2, /* folded suffix _[i] */
	FRAME_JIT = 3,	   /* folded suffix _[j] */
	FRAME_PYTHON = 4,  /* an interpreted Python frame; folded suffix _[p] */
};

struct frame {
	uint32_t name;	      /* string id of the (demangled) function name; never 0 */
	uint32_t system_name; /* string id of the mangled name, 0 if none or same */
	uint32_t file;	      /* string id of the source file, 0 unknown */
	uint32_t line;	      /* source line, 0 unknown */
	uint32_t mapping;     /* mapping id, 0 none */
	uint32_t kind;	      /* enum frame_kind */
	uint64_t address;     /* instruction address in the process, 0 unknown */
};

enum mapping_flags {
	MAPPING_HAS_FUNCTIONS = 1u << 0,
	MAPPING_HAS_FILENAMES = 1u << 1,
	MAPPING_HAS_LINE_NUMBERS = 1u << 2,
	MAPPING_HAS_INLINE_FRAMES = 1u << 3,
};

struct mapping {
	uint64_t start, limit, offset; /* [start, limit) mapped from file offset */
	uint32_t file;		       /* string id of the path (or "[vdso]", "[kernel.kallsyms]") */
	uint32_t build_id;	       /* string id of the hex build ID, 0 unknown */
	uint32_t flags;		       /* enum mapping_flags */
	uint32_t pad;		       /* zero */
};

struct label {
	uint32_t key; /* string id, e.g. "pid" */
	uint32_t str; /* string id of the value, 0 when the value is numeric */
	int64_t num;  /* numeric value when str == 0 */
};

struct sample {
	const uint32_t *frames; /* root first; NULL when nframes is 0 */
	uint32_t nframes;
	uint32_t labels; /* label set id */
	int64_t count;
};

/* What a sample's count measures. */
enum profile_unit {
	PROFILE_UNIT_SAMPLES = 0, /* samples (cpu time when period_ns is known) */
	PROFILE_UNIT_OFFCPU_US,   /* microseconds off the CPU (waiting) */
	PROFILE_UNIT_WALL_US,     /* microseconds of wall-clock time, on the CPU or off it */
};

/*
 * What the samples measure and over what time.  Writers derive pprof's sample
 * types from it: a profile of samples has "samples/count" (the stored count)
 * and, when period_ns > 0, "cpu/nanoseconds" (count * period_ns); one of
 * time has "off_cpu/nanoseconds" or "wall/nanoseconds" (count * 1000).
 */
struct profile_meta {
	uint32_t unit;        /* enum profile_unit */
	uint64_t period_ns;   /* nanoseconds one sample stands for, 0 unknown */
	uint64_t duration_ns; /* length of the recording, 0 unknown */
	uint64_t time_ns;     /* start, nanoseconds since the Unix epoch, 0 unknown */
	uint32_t frequency;   /* sampling frequency in Hz, 0 unknown */
	/*
	 * Label keys (string ids) whose values folded and flame graph output
	 * prepend to every stack as root frames, in this order; e.g. "comm" then
	 * "pid" gives "app;1234;main;...".  `record` sets "comm" (and "pid"/"tid"
	 * with --per-pid/--per-thread).
	 */
	uint32_t root_labels[PROFILE_MAX_ROOTS];
	uint32_t nroot_labels;
	uint32_t comments[8]; /* string ids of free-text comments (pprof comment) */
	uint32_t ncomments;
};

/* NULL on allocation failure. Free with profile_free (NULL is fine). */
struct profile *profile_new(void);
void profile_free(struct profile *p);

/* Interns len bytes (not necessarily NUL-terminated); id >= 0 or -ENOMEM. */
int64_t profile_intern(struct profile *p, const char *s, size_t len);
/* Interns a NUL-terminated string; id >= 0 or -ENOMEM. */
int64_t profile_intern_cstr(struct profile *p, const char *s);
/* The NUL-terminated string with this id; "" for 0 or an invalid id. */
const char *profile_str(const struct profile *p, uint32_t id);
size_t profile_nstrs(const struct profile *p);

/* Interns a mapping (all fields but pad compared); id >= 1, -EINVAL for an
 * unknown string id, or -ENOMEM. */
int64_t profile_mapping(struct profile *p, const struct mapping *m);
/* NULL for 0 or an invalid id. */
const struct mapping *profile_mapping_get(const struct profile *p, uint32_t id);
size_t profile_nmappings(const struct profile *p); /* ids are 1..n */

/* Interns a frame (all fields compared; system_name equal to name counts as 0);
 * id >= 0 or -errno: -EINVAL if name is 0, a string or mapping id is unknown
 * or kind is not a frame_kind. */
int64_t profile_frame(struct profile *p, const struct frame *f);
/* Interns the frame {name, kind} with every other field 0, as profile_intern
 * plus profile_frame would, but faster for readers that see names again and
 * again (folded).  id >= 0, -EINVAL for an empty name or a bad kind, -ENOMEM. */
int64_t profile_frame_named(struct profile *p, const char *name, size_t len, uint32_t kind);
const struct frame *profile_frame_get(const struct profile *p, uint32_t id);
size_t profile_nframes(const struct profile *p); /* ids are 0..n-1 */

/* Most labels in one set. */
#define PROFILE_MAX_LABELS 256

/* Interns a label set (sorted by key here; the caller's order is irrelevant;
 * num is ignored for string values); id >= 0 (0 for n == 0) or -errno:
 * -EINVAL for key 0, an unknown string id or a key given twice, -E2BIG for
 * more than PROFILE_MAX_LABELS labels. */
int64_t profile_labelset(struct profile *p, const struct label *labels, size_t n);
/* The labels of a set, sorted by key id; *n set to their number (NULL and 0
 * for the empty set or an invalid id). */
const struct label *profile_labelset_get(const struct profile *p, uint32_t id, size_t *n);
/* The label with this key in a set, or NULL. */
const struct label *profile_label_find(const struct profile *p, uint32_t set, uint32_t key);

/* Adds count (> 0) to the sample (frames root first, labels); 0 or -errno:
 * -EINVAL for a bad count, frame or label set id, -EOVERFLOW when the total
 * would pass INT64_MAX (nothing is added then), -ENOMEM. */
int profile_add(struct profile *p, const uint32_t *frames, size_t nframes, uint32_t labels, int64_t count);
/* Makes room for nsamples unique samples holding nstack_frames frame ids in
 * all, so that adding them does not reallocate.  A hint; 0 or -ENOMEM. */
int profile_reserve(struct profile *p, size_t nsamples, size_t nstack_frames);
/* Number of unique samples; indexes are 0..n-1 in insertion order. */
size_t profile_nsamples(const struct profile *p);
void profile_sample_get(const struct profile *p, size_t i, struct sample *out);
/* Sum of all counts. */
int64_t profile_total(const struct profile *p);

struct profile_meta *profile_meta(struct profile *p);
const struct profile_meta *profile_meta_const(const struct profile *p);

/* Adds every sample, mapping, frame and label of src into dst (counts add).
 * Metadata is kept from dst except fields that are 0 there (root labels when
 * dst has none); comments are appended.  0 or -errno (-EINVAL when dst is
 * src); after an error dst holds part of src. */
int profile_merge(struct profile *dst, const struct profile *src);

#endif

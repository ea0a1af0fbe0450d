/* SPDX-License-Identifier: MIT */
/*
 * pprof_internal: what the pprof reader (pprof_read.c) and writer
 * (pprof_write.c) share: short names for the protoc-c types, the conventions
 * that carry frame kinds through pprof (see pprof.h), and gzip in both
 * directions (pprof.c).  Only formats/pprof*.c include this.
 */
#ifndef SCORCH_FORMATS_PPROF_INTERNAL_H
#define SCORCH_FORMATS_PPROF_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "formats/pprof.h"
#include "profile.pb-c.h" /* generated in the build directory */

typedef Perftools__Profiles__Profile pb_profile;
typedef Perftools__Profiles__ValueType pb_value_type;
typedef Perftools__Profiles__Sample pb_sample;
typedef Perftools__Profiles__Label pb_label;
typedef Perftools__Profiles__Mapping pb_mapping;
typedef Perftools__Profiles__Location pb_location;
typedef Perftools__Profiles__Line pb_line;
typedef Perftools__Profiles__Function pb_function;

#define PPROF_KERNEL_MAPPING "[kernel.kallsyms]"
#define PPROF_JIT_MAPPING "[jit]"
#define PPROF_PYTHON_MAPPING "[python]"
#define PPROF_ROOT_LABELS_COMMENT "scorch:root_labels="

/* Largest decompressed profile we accept (a gzip bomb guard). */
#define PPROF_MAX_INFLATED (512u << 20)

/* True for a mapping file that holds kernel frames ("[kernel.kallsyms]", ...). */
bool pprof_is_kernel_file(const char *file);
/* True for a mapping file that holds JIT frames ("[jit]", ".../perf-123.map"). */
bool pprof_is_jit_file(const char *file);
/* True for an address in the kernel half of a 64-bit address space. */
bool pprof_is_kernel_address(uint64_t addr);

/*
 * A protobuf-c output buffer that gzips what is appended and writes it to a
 * FILE.  Embedded by value: pprof_gz_init, append through .base, then
 * pprof_gz_finish (flushes; returns the first error) and pprof_gz_release.
 */
struct pprof_gz {
	ProtobufCBuffer base; /* first: protobuf-c calls base.append */
	FILE *out;
	void *zs;	      /* z_stream, owned */
	unsigned char *chunk; /* owned, PPROF_GZ_CHUNK bytes */
	int err;	      /* first error, sticky */
};

int pprof_gz_init(struct pprof_gz *gz, FILE *out);
int pprof_gz_finish(struct pprof_gz *gz);
void pprof_gz_release(struct pprof_gz *gz);

/* Inflates a gzip buffer (all members) into *out (malloc'd, caller frees).
 * 0, or -EINVAL (corrupt, e set), -EFBIG (over PPROF_MAX_INFLATED), -ENOMEM. */
int pprof_gunzip(const void *buf, size_t len, unsigned char **out, size_t *outlen, struct format_error *e);

#endif

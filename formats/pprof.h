/* SPDX-License-Identifier: MIT */
/*
 * pprof: Google's profile.proto (formats/profile.proto), gzip-compressed on
 * write, plain or gzip on read.
 */
#ifndef SCORCH_FORMATS_PPROF_H
#define SCORCH_FORMATS_PPROF_H

#include <stddef.h>
#include <stdio.h>

#include "formats/format.h"
#include "formats/profile.h"

/* Writes p as gzip-compressed profile.proto. 0 or -errno. */
int pprof_write(const struct profile *p, FILE *out);
/* Parses a plain or gzip-compressed profile.proto into p (merged). 0 or -errno, e set. */
int pprof_read(const void *buf, size_t len, struct profile *p, struct format_error *e);

#endif

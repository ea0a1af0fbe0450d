/* SPDX-License-Identifier: MIT */
/* output: writing a subcommand's profile to -o or stdout. */
#ifndef SCORCH_PROFILER_OUTPUT_H
#define SCORCH_PROFILER_OUTPUT_H

#include "formats/format.h"

/*
 * profile_write_path() with SIGINT, SIGTERM, SIGHUP and SIGQUIT held back,
 * so an interrupt cannot strand a temporary file beside a half-written
 * profile: it takes effect once the output is complete (or abandoned and
 * cleaned up).  Reports a failure on stderr; 0 or -errno.
 */
int output_write(const struct profile *p, const char *path, enum profile_format f, const struct write_opts *o);

#endif

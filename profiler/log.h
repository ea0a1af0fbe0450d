/* SPDX-License-Identifier: MIT */
/* log: one-line messages on stderr, prefixed "scorch: ". */
#ifndef SCORCH_PROFILER_LOG_H
#define SCORCH_PROFILER_LOG_H

#include <stdbool.h>

extern bool log_verbose;

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Only with -v. */
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

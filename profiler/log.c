/* SPDX-License-Identifier: MIT */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

bool log_verbose;

static void vlog(const char *level, const char *fmt, va_list ap)
{
	char buf[1024];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	fprintf(stderr, "scorch: %s%s\n", level, buf);
}

#define LOG_FN(name, level, cond)                   \
	void name(const char *fmt, ...)             \
	{                                           \
		if (!(cond))                        \
			return;                     \
		va_list ap;                         \
		va_start(ap, fmt);                  \
		vlog(level, fmt, ap);               \
		va_end(ap);                         \
	}

LOG_FN(log_error, "error: ", 1)
LOG_FN(log_warn, "warning: ", 1)
LOG_FN(log_info, "", 1)
LOG_FN(log_debug, "debug: ", log_verbose)

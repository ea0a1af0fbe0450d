/* SPDX-License-Identifier: MIT */
#include "format_error.h"

#include <stdarg.h>
#include <stdio.h>

int format_fail(struct format_error *e, int err, const char *fmt, ...)
{
	if (e) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return err;
}

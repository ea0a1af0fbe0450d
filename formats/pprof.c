/* SPDX-License-Identifier: MIT */
/* Placeholder until the pprof reader and writer land. */
#include "pprof.h"

#include <errno.h>

int pprof_write(const struct profile *p, FILE *out)
{
	(void)p;
	(void)out;
	return -ENOTSUP;
}

int pprof_read(const void *buf, size_t len, struct profile *p, struct format_error *e)
{
	(void)buf;
	(void)len;
	(void)p;
	return format_fail(e, -ENOTSUP, "pprof input is not supported yet");
}

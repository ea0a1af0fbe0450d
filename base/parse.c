/* SPDX-License-Identifier: MIT */
#include "parse.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <stdlib.h>

/* The first byte after leading white space. */
static const char *skip_space(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return s;
}

int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	const char *p = skip_space(s);
	char *end;

	if (*p == '-' || !isdigit((unsigned char)(*p == '+' ? p[1] : *p)))
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(p, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	const char *p = skip_space(s);
	bool neg = *p == '-';
	uint64_t m;

	/* The magnitude as a u64 ("-+1" is no number); INT64_MIN's is INT64_MAX + 1. */
	if (neg && !isdigit((unsigned char)p[1]))
		return -EINVAL;
	int err = parse_u64(p + neg, 0, (uint64_t)INT64_MAX + neg, &m);
	if (err)
		return err;
	int64_t v = !neg ? (int64_t)m : m ? -(int64_t)(m - 1) - 1 : 0;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int parse_double(const char *s, double min, double max, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end)
		return -EINVAL;
	if (!(v >= min && v <= max))
		return -ERANGE;
	*out = v;
	return 0;
}

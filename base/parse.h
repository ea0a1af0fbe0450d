/* SPDX-License-Identifier: MIT */
/*
 * parse: checked number parsing of a whole string (a command-line argument, a
 * config value, a /proc field), so no module calls strto* and forgets errno,
 * the end pointer, the sign or the range.
 *
 * Policy, the same for all three: decimal; leading white space (isspace) is
 * skipped as strto* does, trailing bytes of any kind (white space included)
 * make the string invalid; the empty string is invalid.  0 with *out set, or
 * -EINVAL (not a number, or bytes after it) or -ERANGE (a number outside
 * [min, max], or outside the type), with *out unchanged.
 */
#ifndef SCORCH_BASE_PARSE_H
#define SCORCH_BASE_PARSE_H

#include <stdint.h>

/* An optional '+' then digits; a '-' is -EINVAL (strtoull would wrap it). */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* An optional sign then digits. */
int parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
/* What strtod reads (1.5, 1e3, 0x1p4, inf, nan); NaN is never in range, so
 * -ERANGE; an infinity only when the range holds it.  An underflow to zero or
 * a denormal is accepted as strtod returns it.  For a bound that excludes
 * itself (a positive duration) check *out afterwards. */
int parse_double(const char *s, double min, double max, double *out);

#endif

/* SPDX-License-Identifier: MIT */
/* Helpers the formats tests share: building profiles to test against.
 * Each asserts (cmocka) instead of returning an error. */
#ifndef SCORCH_TESTS_FORMATS_TESTUTIL_H
#define SCORCH_TESTS_FORMATS_TESTUTIL_H

#include <stdint.h>

#include "formats/profile.h"

/* A new profile holding the folded text (caller frees with profile_free). */
struct profile *profile_from(const char *folded);
/* The id of s interned in p. */
uint32_t test_str(struct profile *p, const char *s);
/* The id of a frame with just a name and a kind. */
uint32_t test_frame(struct profile *p, const char *name, uint32_t kind);

#endif

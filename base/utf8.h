/* SPDX-License-Identifier: MIT */
/*
 * utf8: checking and repairing UTF-8 text that comes from untrusted places
 * (symbol names and paths read from binaries, /proc).  Valid means what
 * Go's utf8.ValidString accepts, since Go programs (pprof, Pyroscope) are
 * the readers that refuse invalid text: shortest forms only, no surrogate
 * halves (U+D800..U+DFFF), nothing past U+10FFFF.
 */
#ifndef SCORCH_BASE_UTF8_H
#define SCORCH_BASE_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Whether s[0..n) is valid UTF-8. */
bool utf8_valid(const char *s, size_t n);
/* A copy of the NUL-terminated s in which each maximal run of bytes that
 * is not valid UTF-8 is replaced by one U+FFFD (as Go's
 * strings.ToValidUTF8(s, "\uFFFD") does).  Caller frees; NULL on ENOMEM. */
char *utf8_repaired(const char *s);
/* The longest prefix of s[0..n) of at most max bytes that does not end
 * inside a character: n when n <= max. */
size_t utf8_cut(const char *s, size_t n, size_t max);

#endif

/* SPDX-License-Identifier: MIT */
#include "utf8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Length of the valid character at s[0..n), 0 when it is not one. */
static size_t char_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t cp, min;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07, min = 0x10000;
	else
		return 0; /* a continuation byte, 0xc0/0xc1 (overlong) or past 0xf4 */
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

bool utf8_valid(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		size_t l = char_len(u + i, n - i);
		if (!l)
			return false;
		i += l;
	}
	return true;
}

char *utf8_repaired(const char *s)
{
	static const char repl[] = "\xef\xbf\xbd";
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), o = 0;
	char *out = malloc(3 * n + 1); /* at worst every byte becomes U+FFFD */
	if (!out)
		return NULL;
	for (size_t i = 0; i < n;) {
		size_t l = char_len(u + i, n - i);
		if (l) {
			memcpy(out + o, s + i, l);
			o += l;
			i += l;
			continue;
		}
		memcpy(out + o, repl, 3);
		o += 3;
		while (i < n && !char_len(u + i, n - i))
			i++;
	}
	out[o] = '\0';
	return out;
}

size_t utf8_cut(const char *s, size_t n, size_t max)
{
	if (n <= max)
		return n;
	/* Back over continuation bytes to the start of the character that
	 * straddles max. */
	size_t i = max;
	while (i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80)
		i--;
	return i;
}

/* SPDX-License-Identifier: MIT */
/*
 * svg_text: what the SVG writer does to names: escaping for XML and for
 * JavaScript strings (any bytes in, well-formed UTF-8 out), fitting labels to
 * frame widths, and deterministic colours (and a differential graph's
 * colours of change).
 */
#include <math.h>
#include <string.h>

#include "formats/svg_internal.h"

#define REPLACEMENT 0xfffdu

/*
 * Decodes the character at s (n > 0 bytes left) into *cp and returns its
 * length.  Overlong forms, surrogates, values past U+10FFFF and truncated
 * sequences are one invalid byte each, decoded as U+FFFD.
 */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t v, min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, v = c & 0x1fu, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, v = c & 0x0fu, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, v = c & 0x07u, min = 0x10000;
	else
		goto bad;
	if (n < len)
		goto bad;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			goto bad;
		v = v << 6 | (s[i] & 0x3fu);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		goto bad;
	*cp = v;
	return len;
bad:
	*cp = REPLACEMENT;
	return 1;
}

/* Characters XML 1.0 can hold (tab, line feed and carriage return among the controls). */
static bool xml_char(uint32_t cp)
{
	if (cp < 0x20)
		return cp == '\t' || cp == '\n' || cp == '\r';
	return cp < 0xfffe || cp > 0xffff;
}

static void put_utf8(FILE *out, uint32_t cp)
{
	if (cp < 0x80) {
		putc((int)cp, out);
	} else if (cp < 0x800) {
		putc((int)(0xc0 | cp >> 6), out);
		putc((int)(0x80 | (cp & 0x3f)), out);
	} else if (cp < 0x10000) {
		putc((int)(0xe0 | cp >> 12), out);
		putc((int)(0x80 | (cp >> 6 & 0x3f)), out);
		putc((int)(0x80 | (cp & 0x3f)), out);
	} else {
		putc((int)(0xf0 | cp >> 18), out);
		putc((int)(0x80 | (cp >> 12 & 0x3f)), out);
		putc((int)(0x80 | (cp >> 6 & 0x3f)), out);
		putc((int)(0x80 | (cp & 0x3f)), out);
	}
}

/* What to write instead of cp, or NULL to write it as it is. */
typedef const char *(*escape_fn)(uint32_t cp, char buf[8]);

static const char *xml_escape(uint32_t cp, char buf[8])
{
	(void)buf;
	switch (cp) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	default:
		return NULL;
	}
}

static const char *js_escape(uint32_t cp, char buf[8])
{
	if (cp == '"' || cp == '\\') {
		buf[0] = '\\';
		buf[1] = (char)cp;
		buf[2] = '\0';
		return buf;
	}
	/* '<' and '>' escaped so that no name can end the CDATA section; U+FFFE
	 * and U+FFFF because XML cannot hold them even there. */
	if (cp < 0x20 || cp == '<' || cp == '>' || cp == '&' || cp == 0x2028 || cp == 0x2029 ||
	    cp == 0xfffe || cp == 0xffff) {
		static const char hex[] = "0123456789abcdef";
		memcpy(buf, "\\u", 2);
		for (int i = 0; i < 4; i++)
			buf[2 + i] = hex[cp >> (12 - 4 * i) & 0xf];
		buf[6] = '\0';
		return buf;
	}
	return NULL;
}

/* Copies runs of plain ASCII at once, and everything else a character at a time. */
static void put_escaped(FILE *out, const char *s, size_t len, escape_fn esc, bool js)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		size_t run = i;
		while (run < len && u[run] >= 0x20 && u[run] < 0x7f && !strchr("&<>\"\\", u[run]))
			run++;
		fwrite(u + i, 1, run - i, out);
		if ((i = run) >= len)
			break;
		uint32_t cp;
		char buf[8];
		i += utf8_next(u + i, len - i, &cp);
		const char *e = esc(cp, buf);
		if (e)
			fputs(e, out);
		else
			put_utf8(out, js || xml_char(cp) ? cp : REPLACEMENT);
	}
}

void svg_put_xml(FILE *out, const char *s, size_t len)
{
	put_escaped(out, s, len, xml_escape, false);
}

void svg_put_js(FILE *out, const char *s, size_t len)
{
	put_escaped(out, s, len, js_escape, true);
}

size_t svg_fit_label(const char *s, size_t len, double width, bool *ellipsis)
{
	const unsigned char *u = (const unsigned char *)s;
	double fit = (width - 6) / (SVG_FONT_SIZE * SVG_CHAR_WIDTH);
	size_t max = fit > 0 ? (size_t)fit : 0, chars = 0, cut = 0; /* floor */

	*ellipsis = false;
	if (max < 3)
		return 0;
	for (size_t i = 0; i < len; chars++) {
		uint32_t cp;
		if (chars == max - 1)
			cut = i;
		if (chars == max) {
			*ellipsis = true;
			return cut;
		}
		i += utf8_next(u + i, len - i, &cp);
	}
	return len;
}

/* A family of colours: hues h0..h1 degrees, saturation s, lightness l0..l1. */
struct family {
	float h0, h1, s, l0, l1;
};

/* Per palette, the families of user, kernel, inlined, JIT and Python frames. */
static const struct family families[3][5] = {
    {/* hot */
     {0, 52, .85f, .50f, .62f},
     {200, 220, .45f, .62f, .74f},
     {170, 190, .55f, .55f, .68f},
     {90, 130, .55f, .45f, .58f},
     {230, 260, .60f, .62f, .74f}},
    {/* mem */
     {95, 150, .55f, .42f, .58f},
     {200, 220, .45f, .62f, .74f},
     {265, 290, .50f, .68f, .78f},
     {40, 55, .80f, .50f, .60f},
     {230, 260, .60f, .62f, .74f}},
    {/* io */
     {205, 250, .55f, .55f, .70f},
     {20, 35, .80f, .55f, .65f},
     {300, 325, .50f, .65f, .75f},
     {90, 130, .55f, .45f, .58f},
     {40, 55, .80f, .50f, .60f}},
};

/* For the module palette: hue by module; saturation and lightness by kind. */
static const struct family module_families[5] = {
    {0, 360, .60f, .55f, .68f},
    {0, 360, .25f, .55f, .70f},
    {0, 360, .60f, .76f, .86f},
    {0, 360, .90f, .38f, .48f},
    {0, 360, .75f, .62f, .72f},
};

static float hue_to_rgb(float p, float q, float t)
{
	if (t < 0)
		t += 1;
	if (t > 1)
		t -= 1;
	if (t < 1.f / 6)
		return p + (q - p) * 6 * t;
	if (t < .5f)
		return q;
	if (t < 2.f / 3)
		return p + (q - p) * (2.f / 3 - t) * 6;
	return p;
}

static void hsl_hex(float h, float s, float l, char out[8])
{
	static const char hex[] = "0123456789abcdef";
	float q = l < .5f ? l * (1 + s) : l + s - l * s, p = 2 * l - q;
	float rgb[3] = {hue_to_rgb(p, q, h / 360 + 1.f / 3), hue_to_rgb(p, q, h / 360),
			hue_to_rgb(p, q, h / 360 - 1.f / 3)};
	out[0] = '#';
	for (int i = 0; i < 3; i++) {
		unsigned v = (unsigned)(rgb[i] * 255 + .5f);
		v = v > 255 ? 255 : v;
		out[1 + 2 * i] = hex[v >> 4];
		out[2 + 2 * i] = hex[v & 15];
	}
	out[7] = '\0';
}

static float unit(uint64_t h, int shift)
{
	return (float)((h >> shift) & 0xffff) / 65535.f;
}

void svg_colour(const char *palette, const char *name, size_t len, uint32_t kind, const char *module,
		char out[8])
{
	uint32_t k = kind <= FRAME_PYTHON ? kind : FRAME_USER;
	uint64_t h = hash_bytes(name, len, 0xc0105);
	const struct family *f;
	float hv = unit(h, 0);

	if (palette && !strcmp(palette, "module")) {
		if (!module || !*module) {
			hsl_hex(0, 0, .68f + .14f * unit(h, 16), out); /* no module: greys */
			return;
		}
		const char *base = strrchr(module, '/');
		base = base ? base + 1 : module;
		hv = unit(hash_bytes(base, strlen(base), 0x30d), 0);
		f = &module_families[k];
	} else {
		int pal = palette && !strcmp(palette, "mem") ? 1 : palette && !strcmp(palette, "io") ? 2 : 0;
		f = &families[pal][k];
	}
	hsl_hex(f->h0 + (f->h1 - f->h0) * hv, f->s, f->l0 + (f->l1 - f->l0) * unit(h, 16), out);
}

void svg_diff_colour(double delta, double max, char out[8])
{
	/* White to the ends of a red-blue diverging scale (ColorBrewer RdBu). */
	static const float grew[3] = {214, 47, 39}, shrank[3] = {33, 102, 172};
	static const char hex[] = "0123456789abcdef";
	const float *end = delta > 0 ? grew : shrank;
	float t = max > 0 ? (float)(fabs(delta) / max) : 0;

	t = t > 1 ? 1 : t;
	out[0] = '#';
	for (int i = 0; i < 3; i++) {
		unsigned v = (unsigned)(255 + (end[i] - 255) * t + .5f);
		out[1 + 2 * i] = hex[v >> 4];
		out[2 + 2 * i] = hex[v & 15];
	}
	out[7] = '\0';
}

/* SPDX-License-Identifier: MIT */
/*
 * Folded reader: input split into a sniffed prefix (the first byte picks
 * where) and a streamed rest, as `scorch convert` reads it.  What reads
 * without error must write, read back with the same total, and from then on
 * write the same text: the first write may normalize names (';' becomes ':',
 * and a leaf frame's trailing blanks read as the blanks before the count).
 */
#include <errno.h>
#include <string.h>

#include "formats/folded.h"
#include "fuzz.h"

/* Writes p as folded text into *text (malloc'd, *len bytes); 0 or -errno. */
static int write_text(const struct profile *p, char **text, size_t *len)
{
	FILE *out = open_memstream(text, len);
	if (!out)
		return -ENOMEM;
	int err = folded_write(p, false, out);
	if (fclose(out) && !err)
		err = -EIO;
	return err;
}

/* Reads len bytes of folded text into a new profile. */
static int read_text(const void *text, size_t len, size_t plen, struct profile **out)
{
	static const char empty[1];
	struct format_error e;
	struct profile *p = profile_new();
	FILE *in = fmemopen((void *)(len > plen ? (const char *)text + plen : empty), len > plen ? len - plen : 1, "r");
	int err = !p || !in ? -ENOMEM : 0;

	if (!err && len <= plen)
		fgetc(in); /* at end of input */
	if (!err)
		err = folded_read_prefixed(text, plen < len ? plen : len, in, "fuzz", p, &e);
	if (in)
		fclose(in);
	if (err) {
		profile_free(p);
		return err;
	}
	*out = p;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct profile *p = NULL, *q = NULL, *r = NULL;
	char *t1 = NULL, *t2 = NULL, *t3 = NULL;
	size_t l1 = 0, l2 = 0, l3 = 0;
	size_t plen = size ? (size_t)data[0] * size / 256 : 0;

	if (read_text(data, size, plen, &p))
		return 0;
	FUZZ_CHECK(!write_text(p, &t1, &l1));
	FUZZ_CHECK(!read_text(t1, l1, l1 / 2, &q));
	FUZZ_CHECK(profile_total(p) == profile_total(q));
	FUZZ_CHECK(!write_text(q, &t2, &l2));
	FUZZ_CHECK(!read_text(t2, l2, l2 / 3, &r));
	FUZZ_CHECK(profile_total(p) == profile_total(r));
	FUZZ_CHECK(!write_text(r, &t3, &l3));
	FUZZ_CHECK(l2 == l3 && !memcmp(t2, t3, l2));
	free(t1);
	free(t2);
	free(t3);
	profile_free(p);
	profile_free(q);
	profile_free(r);
	return 0;
}

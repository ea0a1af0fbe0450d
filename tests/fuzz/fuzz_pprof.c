/* SPDX-License-Identifier: MIT */
/*
 * pprof reader (plain or gzip profile.proto).  What reads without error must
 * write as pprof, read back with the same total, and write as folded text
 * that reads back with the same total too.
 */
#include <errno.h>

#include "formats/folded.h"
#include "formats/pprof.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct format_error e;
	struct profile *p = profile_new(), *q = profile_new(), *r = profile_new();
	char *buf = NULL, *text = NULL;
	size_t len = 0, tlen = 0;
	FILE *out = NULL;

	FUZZ_CHECK(p && q && r);
	if (pprof_read(data, size, p, &e))
		goto out;
	FUZZ_CHECK((out = open_memstream(&buf, &len)));
	FUZZ_CHECK(!pprof_write(p, out));
	FUZZ_CHECK(!fclose(out));
	int err = pprof_read(buf, len, q, &e);
	if (err)
		fprintf(stderr, "re-read: %s\n", e.msg);
	FUZZ_CHECK(!err);
	FUZZ_CHECK(profile_total(p) == profile_total(q));
	FUZZ_CHECK((out = open_memstream(&text, &tlen)));
	FUZZ_CHECK(!folded_write(q, true, out));
	FUZZ_CHECK(!fclose(out));
	FUZZ_CHECK((out = fmemopen(text, tlen ? tlen : 1, "r")));
	if (!tlen)
		fgetc(out);
	err = folded_read(out, "fuzz", r, &e);
	if (err)
		fprintf(stderr, "folded re-read: %s\n", e.msg);
	FUZZ_CHECK(!err && profile_total(r) == profile_total(q));
	fclose(out);
out:
	free(buf);
	free(text);
	profile_free(p);
	profile_free(q);
	profile_free(r);
	return 0;
}

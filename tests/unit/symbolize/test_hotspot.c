/* SPDX-License-Identifier: MIT */
/*
 * hotspot.h's pure parts: a method's name spelled from the JVM's Symbols
 * (as Compiler.perfmap spells compiled methods), and HotSpot's compressed
 * line number tables, built by hand from the encoding of
 * CompressedLineNumberWriteStream (a byte of bci delta << 3 | line delta
 * when they fit, else 0xff and two zigzag UNSIGNED5 numbers; 0 ends).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "symbolize/hotspot.h"

static void format(const char *klass, const char *name, const char *sig, const char *want)
{
	struct hotspot_raw r = { 0 };
	char out[256];
	strcpy(r.klass, klass);
	strcpy(r.name, name);
	strcpy(r.signature, sig);
	if (!want) {
		assert_int_not_equal(hotspot_format(&r, out, sizeof(out)), 0);
		return;
	}
	assert_int_equal(hotspot_format(&r, out, sizeof(out)), 0);
	assert_string_equal(out, want);
}

static void test_format(void **state)
{
	(void)state;
	format("Shape", "main", "([Ljava/lang/String;)V", "void Shape.main(java.lang.String[])");
	format("Shape$Sixty", "work", "(JI)J", "long Shape$Sixty.work(long, int)");
	format("a/B", "f", "()[[I", "int[][] a.B.f()");
	format("a/B", "g", "(ZBCSFD[Ljava/util/List;)Ljava/lang/Object;",
	       "java.lang.Object a.B.g(boolean, byte, char, short, float, double, java.util.List[])");
	format("a/B", "<init>", "()V", "void a.B.<init>()");
	/* Not signatures. */
	format("a/B", "f", "", NULL);
	format("a/B", "f", "(I", NULL);
	format("a/B", "f", "(Q)V", NULL);
	format("a/B", "f", "(Ljava/lang/String)V", NULL);
	format("a/B", "f", "()VV", NULL);
	/* Too long for the buffer: an error, not a cut name. */
	struct hotspot_raw r = { .klass = "K", .name = "f", .signature = "(JJJJ)V" };
	char small[16];
	assert_int_not_equal(hotspot_format(&r, small, sizeof(small)), 0);
}

static void test_lines(void **state)
{
	(void)state;
	/* (bci 0, line 5) as 0xff 0 +5; (4, 6): 4 << 3 | 1; (10, 9): 6 << 3 | 3;
	 * (200, 7): bci +190 and line -2 do not fit a byte: 0xff, 380 in
	 * UNSIGNED5 (380 - 192 = 188: 192 + 188 % 64 = 252, then (380 - 252) / 64 = 2),
	 * 3 (zigzag -2). */
	const uint8_t t[] = { 0xff, 0, 10, 4 << 3 | 1, 6 << 3 | 3, 0xff, 252, 2, 3, 0, 0x55 };
	assert_int_equal(hotspot_line_of(t, sizeof(t), 0, false), 5);
	assert_int_equal(hotspot_line_of(t, sizeof(t), 3, false), 5);
	assert_int_equal(hotspot_line_of(t, sizeof(t), 4, false), 6);
	assert_int_equal(hotspot_line_of(t, sizeof(t), 9, false), 6);
	assert_int_equal(hotspot_line_of(t, sizeof(t), 10, false), 9);
	assert_int_equal(hotspot_line_of(t, sizeof(t), 199, false), 9);
	assert_int_equal(hotspot_line_of(t, sizeof(t), 200, false), 7);
	assert_int_equal(hotspot_line_of(t, sizeof(t), 60000, false), 7); /* the terminator stops it */
	/* JDK 20+: UNSIGNED5 bytes one more (no 0 byte in a number); as Temurin
	 * 25 wrote main's table: (0, 52) as 0xff 0x01 0x69, then (18, 53). */
	const uint8_t t25[] = { 0xff, 0x01, 0x69, 0x91, 0 };
	assert_int_equal(hotspot_line_of(t25, sizeof(t25), 0, true), 52);
	assert_int_equal(hotspot_line_of(t25, sizeof(t25), 17, true), 52);
	assert_int_equal(hotspot_line_of(t25, sizeof(t25), 18, true), 53);
	/* Pairs out of order: an exact bci, else the greatest below. */
	const uint8_t unsorted[] = { 0xff, 0, 10, 10 << 3 | 4, 0xff, 11, 2, 0 }; /* (0, 5) (10, 9) (4, 10) */
	assert_int_equal(hotspot_line_of(unsorted, sizeof(unsorted), 4, false), 10);
	assert_int_equal(hotspot_line_of(unsorted, sizeof(unsorted), 7, false), 10);
	assert_int_equal(hotspot_line_of(unsorted, sizeof(unsorted), 12, false), 9);
	assert_int_equal(hotspot_line_of(unsorted, sizeof(unsorted), 2, false), 5);
	/* No table, a cut one. */
	const uint8_t empty[] = { 0 };
	assert_int_equal(hotspot_line_of(empty, sizeof(empty), 0, false), 0);
	assert_int_equal(hotspot_line_of(t, 2, 0, false), 0);
}

/* Compiler.codelist's answer (without its result code line) as a perf map:
 * lines captured from OpenJDK 17 (Debian) and Temurin 25 running
 * samples/java/Shape.java, then malformed ones, each skipped and counted. */
static void test_codelist(void **state)
{
	(void)state;
	static const char answer[] =
		/* OpenJDK 17 */
		"4 0 0 jdk.internal.misc.Unsafe.getReferenceVolatile(Ljava/lang/Object;J)Ljava/lang/Object; "
		"[0x00007f99b4ec7010, 0x00007f99b4ec71c0 - 0x00007f99b4ec7430]\n"
		"18 4 0 Shape$Sixty.work(JI)J [0x00007f99b4ec8390, 0x00007f99b4ec8520 - 0x00007f99b4ec8858]\n"
		"9 3 0 java.lang.StringLatin1.charAt([BI)C [0x00007f99ad401490, 0x00007f99ad401640 - 0x00007f99ad401820]\n"
		"10 3 2 Shape$Sixty.work(JI)J [0x00007f99ad402010, 0x00007f99ad4021c0 - 0x00007f99ad4023f0]\n"
		/* Temurin 25 */
		"15 4 1 Shape$Sixty.work(JI)J [0x00007f9843ec7e88, 0x00007f9843ec7f80 - 0x00007f9843ec82b8]\r\n"
		"\n"
		/* malformed: no range, a range backwards, a state not a number,
		 * a signature not one, no class, a stray field, a truncated line,
		 * a signed number, an address too long */
		"1 2 3 Shape.main([Ljava/lang/String;)V\n"
		"1 2 3 Shape.main([Ljava/lang/String;)V [0x10, 0x30 - 0x20]\n"
		"1 2 x Shape.main([Ljava/lang/String;)V [0x10, 0x20 - 0x30]\n"
		"1 2 3 Shape.main([Ljava/lang/String;)Q [0x10, 0x20 - 0x30]\n"
		"1 2 3 main()V [0x10, 0x20 - 0x30]\n"
		"1 2 3 Shape.main()V [0x10, 0x20 - 0x30] x\n"
		"1 2 3 Shape.main()V [0x10, 0x20 -\n"
		"1 2 3 Shape.main()V [0x10, 0x-20 - 0x30]\n"
		"1 2 3 Shape.main()V [0x10, 0x20 - 0x100000000000000000]";
	static const char want[] =
		"7f99b4ec71c0 270 java.lang.Object jdk.internal.misc.Unsafe.getReferenceVolatile(java.lang.Object, long)\n"
		"7f99b4ec8520 338 long Shape$Sixty.work(long, int)\n"
		"7f99ad401640 1e0 char java.lang.StringLatin1.charAt(byte[], int)\n"
		"7f99ad4021c0 230 long Shape$Sixty.work(long, int)\n"
		"7f9843ec7f80 338 long Shape$Sixty.work(long, int)\n";
	char *map = NULL;
	size_t len = 0, skipped = 0;
	assert_int_equal(hotspot_codelist(answer, sizeof(answer) - 1, &map, &len, &skipped), 0);
	assert_string_equal(map, want);
	assert_int_equal(len, strlen(want));
	assert_int_equal(skipped, 9);
	free(map);
	assert_int_equal(hotspot_codelist("", 0, &map, &len, &skipped), 0);
	assert_int_equal(len, 0);
	assert_int_equal(skipped, 0);
	free(map);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_codelist),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

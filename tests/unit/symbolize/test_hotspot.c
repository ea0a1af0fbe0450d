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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_dfuse_layout.c - DfuSe alt-setting layout strings (spec 1.9):
 * golden cases from spec 2.2 / dfu-util and malformed strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fx/dfu.h"

static void test_g474_alt0(void **state)
{
	struct fx_dfuse_layout l;
	struct fx_err err;

	(void)state;
	fx_err_clear(&err);
	assert_int_equal(fx_dfuse_layout_parse("@Internal Flash   /0x08000000/256*02Kg", &l, &err), 0);
	assert_string_equal(l.name, "Internal Flash");
	assert_int_equal(l.nsegs, 1);
	assert_int_equal(l.segs[0].start, 0x08000000u);
	assert_int_equal(l.segs[0].end, 0x08080000u);
	assert_int_equal(l.segs[0].page_size, 2048);
	assert_int_equal(l.segs[0].type, DFUSE_READABLE | DFUSE_ERASABLE | DFUSE_WRITEABLE);
	assert_ptr_equal(fx_dfuse_layout_find(&l, 0x0807FFFF), &l.segs[0]);
	assert_null(fx_dfuse_layout_find(&l, 0x08080000));
	assert_null(fx_dfuse_layout_find(&l, 0x07FFFFFF));
	/* single bank (spec 8 dynamic alt0) */
	assert_int_equal(fx_dfuse_layout_parse("@Internal Flash   /0x08000000/128*04Kg", &l, &err), 0);
	assert_int_equal(l.segs[0].end, 0x08080000u);
	assert_int_equal(l.segs[0].page_size, 4096);
}

static void test_g474_ob_otp(void **state)
{
	struct fx_dfuse_layout l;
	struct fx_err err;

	(void)state;
	fx_err_clear(&err);
	assert_int_equal(fx_dfuse_layout_parse(
		"@Option Bytes   /0x1FFF7800/01*048 e/0x1FFFF800/01*048 e", &l, &err), 0);
	assert_string_equal(l.name, "Option Bytes");
	assert_int_equal(l.nsegs, 2);
	assert_int_equal(l.segs[0].start, 0x1FFF7800u);
	assert_int_equal(l.segs[0].end, 0x1FFF7830u);
	assert_int_equal(l.segs[0].page_size, 48);
	assert_int_equal(l.segs[0].type, DFUSE_READABLE | DFUSE_WRITEABLE);
	assert_int_equal(l.segs[1].start, 0x1FFFF800u);
	assert_int_equal(l.segs[1].end, 0x1FFFF830u);
	assert_int_equal(fx_dfuse_layout_parse("@OTP Memory   /0x1FFF7000/01*1024 e", &l, &err), 0);
	assert_int_equal(l.segs[0].end, 0x1FFF7400u);
	assert_int_equal(l.segs[0].type, 5);
}

static void test_multi_segment(void **state)
{
	struct fx_dfuse_layout l;
	struct fx_err err;

	(void)state;
	fx_err_clear(&err);
	/* STM32F4 style: runs of different page sizes after one address */
	assert_int_equal(fx_dfuse_layout_parse(
		"@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg", &l, &err), 0);
	assert_int_equal(l.nsegs, 3);
	assert_int_equal(l.segs[1].start, 0x08010000u);
	assert_int_equal(l.segs[1].page_size, 65536);
	assert_int_equal(l.segs[2].start, 0x08020000u);
	assert_int_equal(l.segs[2].end, 0x08100000u);
	/* M multiplier, B multiplier, read-only type, no name */
	assert_int_equal(fx_dfuse_layout_parse("@/0x0/1*1Ma", &l, &err), 0);
	assert_string_equal(l.name, "");
	assert_int_equal(l.segs[0].end, 0x100000u);
	assert_int_equal(l.segs[0].type, DFUSE_READABLE);
	assert_int_equal(fx_dfuse_layout_parse("@Dev /0xFFFF0000/01*004Bd", &l, &err), 0);
	assert_int_equal(l.segs[0].type, DFUSE_WRITEABLE);
	assert_int_equal(l.segs[0].page_size, 4);
	/* leading zeros are decimal, not octal */
	assert_int_equal(fx_dfuse_layout_parse("@X/0x08000000/08*09Kg", &l, &err), 0);
	assert_int_equal(l.segs[0].page_size, 9 * 1024);
	assert_int_equal(l.segs[0].end, 0x08000000u + 8 * 9 * 1024);
}

static void expect_bad(const char *s, const char *msg)
{
	struct fx_dfuse_layout l;
	struct fx_err err;

	memset(&l, 0x5A, sizeof(l));
	fx_err_clear(&err);
	assert_int_equal(fx_dfuse_layout_parse(s, &l, &err), FX_E_PROTO);
	assert_string_equal(err.msg, msg);
	assert_int_equal(l.nsegs, (size_t)0x5A5A5A5A5A5A5A5Aull); /* untouched */
}

static void test_malformed(void **state)
{
	struct fx_err err;
	struct fx_dfuse_layout l;

	(void)state;
	expect_bad("Internal Flash/0x08000000/256*02Kg",
		   "memory layout \"Internal Flash/0x08000000/256*02Kg\": expected '@' at offset 0 ('Internal')");
	expect_bad("@Internal Flash", "memory layout \"@Internal Flash\": expected '/' after the name at offset 15 ('')");
	expect_bad("@F/", "memory layout \"@F/\": expected a start address at offset 3 ('')");
	expect_bad("@F/0x08000000", "memory layout \"@F/0x08000000\": expected '/' after the start address at offset 13 ('')");
	expect_bad("@F/0x08000000/*02Kg", "memory layout \"@F/0x08000000/*02Kg\": expected a page count at offset 14 ('*02Kg')");
	expect_bad("@F/0x08000000/0*02Kg", "memory layout \"@F/0x08000000/0*02Kg\": expected a page count at offset 15 ('*02Kg')");
	expect_bad("@F/0x08000000/256x02Kg", "memory layout \"@F/0x08000000/256x02Kg\": expected '*' at offset 17 ('x02Kg')");
	expect_bad("@F/0x08000000/256*Kg", "memory layout \"@F/0x08000000/256*Kg\": expected a page size at offset 18 ('Kg')");
	expect_bad("@F/0x08000000/256*02Kz", "memory layout \"@F/0x08000000/256*02Kz\": expected a type letter a..g at offset 21 ('z')");
	expect_bad("@F/0x08000000/256*02K", "memory layout \"@F/0x08000000/256*02K\": expected a type letter a..g at offset 21 ('')");
	expect_bad("@F/0xFFFFF000/2*4Kg", "memory layout \"@F/0xFFFFF000/2*4Kg\": segment runs past 0xFFFFFFFF at offset 19 ('')");
	expect_bad("@F/0x1FFFFFFFF/1*4Kg", "memory layout \"@F/0x1FFFFFFFF/1*4Kg\": expected a start address at offset 3 ('0x1FFFFF')");
	expect_bad("@F/0x08000000/256*02Kg junk", "memory layout \"@F/0x08000000/256*02Kg junk\": unexpected text at offset 23 ('junk')");
	expect_bad("@F/0x0/1*1a,1*1a,1*1a,1*1a,1*1a,1*1a,1*1a,1*1a,1*1a",
		   "memory layout \"@F/0x0/1*1a,1*1a,1*1a,1*1a,1*1a,1*1a,1*1a,1*1a,1*1a\": too many segments at offset 51 ('')");
	fx_err_clear(&err);
	assert_int_equal(fx_dfuse_layout_parse(NULL, &l, &err), FX_E_PROTO);
	/* trailing spaces are fine */
	assert_int_equal(fx_dfuse_layout_parse("@F/0x08000000/256*02Kg  ", &l, &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_g474_alt0),
		cmocka_unit_test(test_g474_ob_otp),
		cmocka_unit_test(test_multi_segment),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

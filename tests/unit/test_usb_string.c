/* test_usb_string.c - fx_usb_string_decode(), the string-descriptor
 * decoder both USB backends share, and the fx_usb_string() wrapper's
 * answers for cap 0 and index 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fx/usb.h"

static void test_ascii_and_replacement(void **state)
{
	/* "A", U+00E9, TAB, DEL, "~" */
	const uint8_t raw[] = { 12, USB_DT_STRING, 'A', 0, 0xE9, 0, '\t', 0, 0x7F, 0, '~', 0 };
	char buf[16];

	(void)state;
	assert_true(fx_usb_string_decode(raw, sizeof(raw), buf, sizeof(buf)));
	assert_string_equal(buf, "A???~");
}

static void test_cut_to_cap_and_blength(void **state)
{
	/* bLength 7 covers two whole units; the rest of the read is not
	 * part of the descriptor */
	const uint8_t raw[] = { 7, USB_DT_STRING, 'a', 0, 'b', 0, 'c', 0, 'd', 0 };
	char buf[2];
	char big[16];

	(void)state;
	assert_true(fx_usb_string_decode(raw, sizeof(raw), big, sizeof(big)));
	assert_string_equal(big, "ab");
	assert_true(fx_usb_string_decode(raw, sizeof(raw), buf, sizeof(buf)));
	assert_string_equal(buf, "a");
	assert_false(fx_usb_string_decode(raw, 2, big, sizeof(big)));
}

static void test_empty_descriptor(void **state)
{
	const uint8_t raw[] = { 2, USB_DT_STRING };
	char buf[4] = "xyz";

	(void)state;
	assert_true(fx_usb_string_decode(raw, sizeof(raw), buf, sizeof(buf)));
	assert_string_equal(buf, "");
}

static void test_malformed(void **state)
{
	const uint8_t wrong_type[] = { 4, 0x02, 'a', 0 };
	const uint8_t too_long[] = { 6, USB_DT_STRING, 'a', 0 };
	const uint8_t one[] = { 2 };
	char buf[4] = "xyz";

	(void)state;
	assert_false(fx_usb_string_decode(wrong_type, sizeof(wrong_type), buf, sizeof(buf)));
	assert_false(fx_usb_string_decode(too_long, sizeof(too_long), buf, sizeof(buf)));
	assert_false(fx_usb_string_decode(one, sizeof(one), buf, sizeof(buf)));
	assert_false(fx_usb_string_decode(one, 0, buf, sizeof(buf)));
	assert_string_equal(buf, "xyz"); /* untouched */
}

static int never_string(struct fx_usb *u, uint8_t index, char *buf, size_t cap,
			struct fx_err *err)
{
	(void)u;
	(void)index;
	(void)buf;
	(void)cap;
	(void)err;
	fail_msg("the backend was asked for string %u", index);
	return 0;
}

static void test_wrapper_cap0_index0(void **state)
{
	static const struct fx_usb_ops ops = { .string = never_string };
	struct fx_usb u = { .ops = &ops };
	struct fx_err err;
	char buf[4] = "xyz";

	(void)state;
	fx_err_clear(&err);
	assert_int_equal(fx_usb_string(&u, 1, buf, 0, &err), FX_E_INVAL);
	assert_string_equal(err.msg, "string buffer of size 0");
	assert_string_equal(buf, "xyz");
	fx_err_clear(&err);
	assert_int_equal(fx_usb_string(&u, 0, buf, sizeof(buf), &err), 0);
	assert_string_equal(buf, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ascii_and_replacement),
		cmocka_unit_test(test_cut_to_cap_and_blength),
		cmocka_unit_test(test_empty_descriptor),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_wrapper_cap0_index0),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

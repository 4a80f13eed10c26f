/* test_emu_knobs.c - fx_emu_knobs_parse(): every key of include/fx/emu.h,
 * and the exact FX_E_CONFIG messages for bad keys and values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fx/emu.h"

/* The documented defaults (include/fx/emu.h), written out. */
static const struct fx_emu_knobs factory = {
	.transfer_size = 1024,
	.busy = FX_EMU_BUSY_WAIT,
	.erase_scale = 1.0,
	.boot_delay_us = 400000,
	.fault_kind = FX_EMU_FAULT_NONE,
	.fault_request = -1,
};

/* Every field of got is the one of want. */
static void expect_knobs(const struct fx_emu_knobs *got, const struct fx_emu_knobs *want)
{
	assert_int_equal(got->transfer_size, want->transfer_size);
	assert_int_equal(got->iproduct_stm32, want->iproduct_stm32);
	assert_int_equal(got->alt0_constant, want->alt0_constant);
	assert_int_equal(got->ob_reset_stall, want->ob_reset_stall);
	assert_int_equal(got->never_return, want->never_return);
	assert_int_equal(got->dbank_read_error, want->dbank_read_error);
	assert_int_equal(got->busy, want->busy);
	assert_int_equal(got->malformed_stall, want->malformed_stall);
	assert_true(got->erase_scale == want->erase_scale);
	assert_int_equal(got->boot_delay_us, want->boot_delay_us);
	assert_int_equal(got->fault_nth, want->fault_nth);
	assert_int_equal(got->fault_kind, want->fault_kind);
	assert_int_equal(got->fault_persistent, want->fault_persistent);
	assert_int_equal(got->fault_status, want->fault_status);
	assert_int_equal(got->fault_request, want->fault_request);
	assert_int_equal(got->leave_reset, want->leave_reset);
	assert_int_equal(got->errors_late, want->errors_late);
}

static void test_defaults(void **state)
{
	struct fx_emu_knobs k;

	(void)state;
	fx_emu_knobs_default(&k);
	expect_knobs(&k, &factory);
}

static void test_every_key(void **state)
{
	struct fx_emu_knobs k, want = factory;
	struct fx_err err;
	bool boot0 = true;

	(void)state;
	fx_emu_knobs_default(&k);
	fx_err_clear(&err);
	assert_int_equal(fx_emu_knobs_parse(&k, &boot0,
		"xfer=2048&iproduct=stm32&alt0=constant&obreset=stall&return=never"
		"&oldread=error&busy=lying&malformed=stall&erase_scale=2.5"
		"&boot_delay_ms=1500&fault=status&fault_nth=7&fault_req=getstatus"
		"&fault_persistent=1&fault_status=0x0B&leave=reset&errors=late&boot0=0", &err), 0);
	want.transfer_size = 2048;
	want.iproduct_stm32 = want.alt0_constant = want.ob_reset_stall = true;
	want.never_return = want.dbank_read_error = want.malformed_stall = true;
	want.busy = FX_EMU_BUSY_LYING;
	want.erase_scale = 2.5;
	want.boot_delay_us = 1500000;
	want.fault_kind = FX_EMU_FAULT_STATUS;
	want.fault_nth = 7;
	want.fault_request = 3;
	want.fault_persistent = true;
	want.fault_status = 0x0B;
	want.leave_reset = true;
	want.errors_late = true;
	expect_knobs(&k, &want);
	assert_false(boot0);
	/* the other values of each key, starting from what k holds */
	assert_int_equal(fx_emu_knobs_parse(&k, &boot0,
		"xfer=1024&iproduct=dfu&alt0=dynamic&obreset=answer&return=yes"
		"&oldread=scramble&busy=stall&malformed=error&fault=drop"
		"&fault_req=dnload&fault_persistent=0&leave=jump&errors=early&boot0=1", &err), 0);
	want.transfer_size = 1024;
	want.iproduct_stm32 = want.alt0_constant = want.ob_reset_stall = false;
	want.never_return = want.dbank_read_error = want.malformed_stall = false;
	want.busy = FX_EMU_BUSY_STALL;
	want.fault_kind = FX_EMU_FAULT_DROP;
	want.fault_request = 1;
	want.fault_persistent = false;
	want.leave_reset = false;
	want.errors_late = false;
	expect_knobs(&k, &want); /* erase_scale, boot delay, nth, status untouched */
	assert_true(boot0);
	assert_int_equal(fx_emu_knobs_parse(&k, NULL,
		"busy=wait&fault=stall&fault_req=all&fault=timeout&boot0=0", &err), 0);
	want.busy = FX_EMU_BUSY_WAIT;
	want.fault_kind = FX_EMU_FAULT_TIMEOUT;
	want.fault_request = -1;
	expect_knobs(&k, &want);
	/* empty query, stray separators */
	assert_int_equal(fx_emu_knobs_parse(&k, NULL, "", &err), 0);
	expect_knobs(&k, &want);
	assert_int_equal(fx_emu_knobs_parse(&k, NULL, "&&xfer=2048&", &err), 0);
	want.transfer_size = 2048;
	expect_knobs(&k, &want);
}

static void expect_bad(const char *query, const char *msg)
{
	struct fx_emu_knobs k;
	struct fx_err err;
	bool boot0 = true;

	fx_emu_knobs_default(&k);
	fx_err_clear(&err);
	assert_int_equal(fx_emu_knobs_parse(&k, &boot0, query, &err), FX_E_CONFIG);
	assert_int_equal(err.code, FX_E_CONFIG);
	assert_string_equal(err.msg, msg);
}

static void test_bad_knobs(void **state)
{
	(void)state;
	expect_bad("colour=blue", "knob 'colour': unknown knob");
	expect_bad("xfer", "knob 'xfer': expected key=value");
	expect_bad("xfer=4096", "knob 'xfer': expected 1024 or 2048, got '4096'");
	expect_bad("xfer=", "knob 'xfer': expected 1024 or 2048, got ''");
	expect_bad("iproduct=st", "knob 'iproduct': expected dfu or stm32, got 'st'");
	expect_bad("alt0=2k", "knob 'alt0': expected dynamic or constant, got '2k'");
	expect_bad("obreset=x", "knob 'obreset': expected answer or stall, got 'x'");
	expect_bad("return=no", "knob 'return': expected yes or never, got 'no'");
	expect_bad("oldread=zero", "knob 'oldread': expected scramble or error, got 'zero'");
	expect_bad("busy=sleep", "knob 'busy': expected wait, stall or lying, got 'sleep'");
	expect_bad("malformed=ok", "knob 'malformed': expected error or stall, got 'ok'");
	expect_bad("erase_scale=0", "knob 'erase_scale': expected a number in (0, 1000000], got '0'");
	expect_bad("erase_scale=2e6", "knob 'erase_scale': expected a number in (0, 1000000], got '2e6'");
	expect_bad("erase_scale=fast", "knob 'erase_scale': expected a number in (0, 1000000], got 'fast'");
	expect_bad("boot_delay_ms=-5", "knob 'boot_delay_ms': expected milliseconds 0..60000, got '-5'");
	expect_bad("boot_delay_ms=99999", "knob 'boot_delay_ms': expected milliseconds 0..60000, got '99999'");
	expect_bad("fault=crash", "knob 'fault': expected stall, timeout, drop, status or none, got 'crash'");
	expect_bad("fault_nth=x", "knob 'fault_nth': expected a request number (0 = off), got 'x'");
	expect_bad("fault_req=setup", "knob 'fault_req': expected all, detach, dnload, upload, getstatus, clrstatus, getstate or abort, got 'setup'");
	expect_bad("fault_persistent=yes", "knob 'fault_persistent': expected 0 or 1, got 'yes'");
	expect_bad("fault_status=16", "knob 'fault_status': expected a DFU status 0..15, got '16'");
	expect_bad("leave=stay", "knob 'leave': expected jump or reset, got 'stay'");
	expect_bad("errors=first", "knob 'errors': expected early or late, got 'first'");
	expect_bad("boot0=high", "knob 'boot0': expected 0 or 1, got 'high'");
	expect_bad("xfer=1024&busy=nope", "knob 'busy': expected wait, stall or lying, got 'nope'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_bad_knobs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

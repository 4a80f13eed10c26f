/* test_emu_fault.c - fault injection (fail the Nth request, transient or
 * persistent, filtered by request) and the spec-8 busy/malformed/erase
 * knobs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "emu_fix.h"
#include "fx/dfu_wire.h"

#define RT_IN (USB_DIR_IN | USB_TYPE_CLASS | USB_RECIP_INTERFACE)

static void init_fault(struct fxt_emu *f, enum fx_emu_fault_kind kind,
		       uint32_t nth, bool persistent, int req)
{
	struct fx_emu_knobs k;

	fx_emu_knobs_default(&k);
	k.fault_kind = kind;
	k.fault_nth = nth;
	k.fault_persistent = persistent;
	k.fault_request = req;
	k.fault_status = DFU_STATUS_errWRITE;
	fxt_emu_init(f, &k);
}

static void test_stall_nth_transient(void **state)
{
	struct fxt_emu f;

	(void)state;
	init_fault(&f, FX_EMU_FAULT_STALL, 3, false, -1);
	assert_int_equal(fxt_getstatus(&f), 0);
	assert_int_equal(fxt_getstatus(&f), 0);
	assert_int_equal(fxt_getstatus(&f), FX_E_STALL);
	assert_int_equal(fx_emu_request_count(f.e), 3);
	assert_int_equal(fxt_getstatus(&f), 0);
	assert_int_equal(FXT_STATE(&f), dfuIDLE); /* state untouched */
	fxt_emu_release(&f);
}

static void test_stall_persistent(void **state)
{
	struct fxt_emu f;
	int i;

	(void)state;
	init_fault(&f, FX_EMU_FAULT_STALL, 2, true, -1);
	assert_int_equal(fxt_getstatus(&f), 0);
	for (i = 0; i < 5; i++)
		assert_int_equal(fxt_getstatus(&f), FX_E_STALL);
	fxt_emu_release(&f);
}

static void test_timeout(void **state)
{
	struct fxt_emu f;
	struct fx_usb_setup s = { RT_IN, DFU_GETSTATUS, 0, 0, 6 };
	uint8_t st[6];
	uint64_t done = 0;
	size_t n;

	(void)state;
	init_fault(&f, FX_EMU_FAULT_TIMEOUT, 1, false, -1);
	assert_int_equal(fx_emu_control(f.e, &s, st, &n, &done), 0);
	assert_true(done == UINT64_MAX);
	assert_int_equal(n, 0);
	/* the next one is answered */
	assert_int_equal(fx_emu_control(f.e, &s, st, &n, &done), 0);
	assert_true(done < UINT64_MAX);
	assert_int_equal(n, 6);
	fxt_emu_release(&f);
}

static void test_drop_until_nrst(void **state)
{
	struct fxt_emu f;
	uint8_t d[8] = { 0 };

	(void)state;
	init_fault(&f, FX_EMU_FAULT_DROP, 2, false, DFU_DNLOAD);
	assert_int_equal(fxt_set_address(&f, 0x08000000), 0); /* dnload #1 */
	assert_int_equal(fxt_dnload(&f, 2, d, 8), FX_E_NODEV); /* dnload #2 */
	assert_int_equal(fx_emu_poll(f.e), FX_EMU_BUS_NONE);
	assert_int_equal(fxt_emu_wait_bus(&f, 10000000), FX_EMU_BUS_NONE);
	assert_int_equal(fxt_getstatus(&f), FX_E_NODEV);
	fx_emu_set_nrst(f.e, false);
	fx_emu_set_nrst(f.e, true);
	assert_int_equal(fxt_emu_wait_bus(&f, 1000000), FX_EMU_BUS_DFU);
	fxt_emu_release(&f);
}

static void test_status_fault(void **state)
{
	struct fxt_emu f;

	(void)state;
	init_fault(&f, FX_EMU_FAULT_STATUS, 2, false, DFU_GETSTATUS);
	/* set address: GETSTATUS #1 (DNBUSY), #2 reports the fault */
	assert_int_equal(fxt_set_address(&f, 0x08000000), 0);
	assert_int_equal(FXT_STATE(&f), dfuERROR);
	assert_int_equal(FXT_STATUS(&f), DFU_STATUS_errWRITE);
	assert_int_equal(fxt_getstatus(&f), 0);
	assert_int_equal(FXT_STATUS(&f), DFU_STATUS_errWRITE);
	assert_int_equal(fxt_clrstatus(&f), 0);
	assert_int_equal(fxt_getstatus(&f), 0);
	assert_int_equal(FXT_STATE(&f), dfuIDLE);
	fxt_emu_release(&f);
}

/* fault_req filters: only UPLOADs count */
static void test_filter(void **state)
{
	struct fxt_emu f;
	uint8_t b[64];
	size_t n;

	(void)state;
	init_fault(&f, FX_EMU_FAULT_STALL, 2, false, DFU_UPLOAD);
	assert_int_equal(fxt_getstatus(&f), 0);
	assert_int_equal(fxt_getstatus(&f), 0);
	assert_int_equal(fxt_upload(&f, 2, b, 64, &n), 0);
	assert_int_equal(fxt_getstatus(&f), 0);
	assert_int_equal(fxt_upload(&f, 3, b, 64, &n), FX_E_STALL);
	assert_int_equal(fxt_upload(&f, 3, b, 64, &n), 0);
	fxt_emu_release(&f);
}

static void busy_knob(struct fxt_emu *f, enum fx_emu_busy_mode m)
{
	struct fx_emu_knobs k;

	fx_emu_knobs_default(&k);
	k.busy = m;
	fxt_emu_init(f, &k);
}

/* busy=stall (L4, spec 4.2): the poll timeout is too short (25 ms / 2)
 * and a GETSTATUS while busy STALLs; the work goes on, and the first
 * GETSTATUS after it answers normally */
static void test_busy_stall(void **state)
{
	struct fxt_emu f;
	uint8_t s;

	(void)state;
	busy_knob(&f, FX_EMU_BUSY_STALL);
	assert_int_equal(fxt_dnload(&f, 0, (const uint8_t[]){ 0x41 }, 1), 0);
	assert_int_equal(fxt_getstatus(&f), 0);
	assert_int_equal(FXT_STATE(&f), dfuDNBUSY);
	assert_int_equal(FXT_POLL(&f), 12);
	/* a host that honours the short poll timeout is STALLed */
	fxt_emu_sleep(&f, 12000);
	assert_int_equal(fxt_getstatus(&f), FX_E_STALL);
	assert_int_equal(fxt_getstatus(&f), FX_E_STALL);
	assert_int_equal(fxt_getstate(&f, &s), 0);
	assert_int_equal(s, dfuDNBUSY);
	assert_int_equal(fxt_abort(&f), FX_E_STALL);
	fxt_emu_sleep(&f, 13000);
	assert_int_equal(fxt_getstatus(&f), 0);
	assert_int_equal(FXT_STATE(&f), dfuDNLOAD_IDLE);
	fxt_emu_release(&f);
}

/* busy=lying (F405): the poll timeout is too short; an early GETSTATUS
 * answers DNBUSY again, no STALL, no late completion */
static void test_busy_lying(void **state)
{
	struct fxt_emu f;
	uint64_t t0;
	int polls = 0;

	(void)state;
	busy_knob(&f, FX_EMU_BUSY_LYING);
	assert_int_equal(fxt_dnload(&f, 0, (const uint8_t[]){ 0x41 }, 1), 0);
	assert_int_equal(fxt_getstatus(&f), 0);
	t0 = f.vc.t;
	assert_int_equal(FXT_STATE(&f), dfuDNBUSY);
	assert_int_equal(FXT_POLL(&f), 2); /* 25 ms / 10 */
	while (FXT_STATE(&f) == dfuDNBUSY && polls < 100) {
		fxt_emu_sleep(&f, FXT_POLL(&f) * 1000u);
		assert_int_equal(fxt_getstatus(&f), 0);
		polls++;
	}
	assert_int_equal(FXT_STATE(&f), dfuDNLOAD_IDLE);
	assert_true(polls > 2);
	assert_true(f.vc.t - t0 >= 22130);
	fxt_emu_release(&f);
}

/* malformed=stall: bad commands and CLRSTATUS outside dfuERROR STALL */
static void test_malformed_stall(void **state)
{
	struct fx_emu_knobs k;
	struct fxt_emu f;

	(void)state;
	fx_emu_knobs_default(&k);
	k.malformed_stall = true;
	fxt_emu_init(&f, &k);
	assert_int_equal(fxt_dnload(&f, 0, (const uint8_t[]){ 0x21, 0 }, 2), FX_E_STALL);
	assert_int_equal(fxt_getstatus(&f), 0);
	assert_int_equal(FXT_STATE(&f), dfuERROR);
	assert_int_equal(fxt_clrstatus(&f), 0);
	assert_int_equal(fxt_clrstatus(&f), FX_E_STALL);
	assert_int_equal(fxt_getstatus(&f), 0);
	assert_int_equal(FXT_STATE(&f), dfuIDLE);
	fxt_emu_release(&f);
}

static void test_erase_scale(void **state)
{
	struct fx_emu_knobs k;
	struct fxt_emu f;
	struct fx_emu_stats a, b;

	(void)state;
	fx_emu_knobs_default(&k);
	k.erase_scale = 3.0;
	fxt_emu_init(&f, &k);
	fx_emu_get_stats(f.e, &a);
	assert_int_equal(fxt_dnload(&f, 0, (const uint8_t[]){ 0x41, 0, 0, 0, 8 }, 5), 0);
	assert_int_equal(fxt_getstatus(&f), 0);
	assert_int_equal(FXT_POLL(&f), 75);
	fx_emu_get_stats(f.e, &b);
	assert_int_equal(b.device_us - a.device_us, 66060);
	fxt_emu_sleep(&f, 50000);
	assert_int_equal(fxt_getstatus(&f), 0); /* completes late */
	assert_int_equal(FXT_STATE(&f), dfuDNLOAD_IDLE);
	fxt_emu_release(&f);
}

/* fault_nth counts from the board's creation (fx_emu_request_count()),
 * also when the fault is armed later; a filter counts that request only */
static void test_armed_later_absolute(void **state)
{
	struct fx_emu_knobs k;
	struct fxt_emu f;
	uint8_t b[8];
	size_t n;

	(void)state;
	fxt_emu_init(&f, NULL);
	assert_int_equal(fxt_getstatus(&f), 0);
	assert_int_equal(fxt_getstatus(&f), 0);
	assert_int_equal(fxt_upload(&f, 0, b, 4, &n), 0);
	k = *fx_emu_get_knobs(f.e);
	k.fault_kind = FX_EMU_FAULT_STALL;
	k.fault_nth = fx_emu_request_count(f.e) + 2;
	fx_emu_set_knobs(f.e, &k);
	assert_int_equal(fxt_getstatus(&f), 0);
	assert_int_equal(fxt_getstatus(&f), FX_E_STALL);
	/* filtered: the 2nd UPLOAD since creation was already */
	k.fault_request = DFU_UPLOAD;
	k.fault_nth = 2;
	fx_emu_set_knobs(f.e, &k);
	assert_int_equal(fxt_upload(&f, 0, b, 4, &n), FX_E_STALL);
	assert_int_equal(fxt_upload(&f, 0, b, 4, &n), 0);
	fxt_emu_release(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stall_nth_transient),
		cmocka_unit_test(test_stall_persistent),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_drop_until_nrst),
		cmocka_unit_test(test_status_fault),
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_busy_stall),
		cmocka_unit_test(test_busy_lying),
		cmocka_unit_test(test_malformed_stall),
		cmocka_unit_test(test_erase_scale),
		cmocka_unit_test(test_armed_later_absolute),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

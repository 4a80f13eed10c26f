/* test_emu_board.c - power, NRST, BOOT0, boot selection (spec 2.3), the
 * leave (spec 1.7) and the modelled application with its software entry
 * into the ROM (spec 8). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "emu_fix.h"
#include "fx/bytes.h"
#include "fx/dfu_wire.h"

#define RT_HID_OUT (USB_TYPE_CLASS | USB_RECIP_INTERFACE)

static void put_app(struct fx_emu *e)
{
	uint8_t vt[16];

	memset(vt, 0xFF, sizeof(vt));
	fx_put_le32(vt, 0x20020000);     /* _estack at the top of SRAM */
	fx_put_le32(vt + 4, 0x080001C1); /* odd reset vector in flash */
	assert_int_equal(fx_emu_backdoor_flash_write(e, 0x08000000, vt, 16), 0);
}

static void new_board(struct fxt_emu *f)
{
	memset(f, 0, sizeof(*f));
	fx_vclock_init(&f->vc);
	f->e = fx_emu_new(NULL, &f->vc.base, NULL);
	assert_non_null(f->e);
}

static void test_power_on_rom_after_boot_delay(void **state)
{
	struct fxt_emu f;

	(void)state;
	new_board(&f);
	assert_false(fx_emu_get_boot0(f.e));
	fx_emu_set_boot0(f.e, true);
	assert_true(fx_emu_get_boot0(f.e));
	fx_emu_set_power(f.e, true);
	assert_int_equal(fx_emu_poll(f.e), FX_EMU_BUS_NONE);
	assert_int_equal(fx_emu_next_event_us(f.e), 400000);
	f.vc.t = 399999;
	assert_int_equal(fx_emu_poll(f.e), FX_EMU_BUS_NONE);
	f.vc.t = 400000;
	assert_int_equal(fx_emu_poll(f.e), FX_EMU_BUS_DFU);
	assert_int_equal(fx_emu_enum_count(f.e), 1);
	fx_emu_set_power(f.e, false);
	assert_int_equal(fx_emu_poll(f.e), FX_EMU_BUS_NONE);
	fxt_emu_release(&f);
}

/* spec 2.3: a blank G474 with BOOT0 low does not enter the bootloader */
static void test_blank_boot0_low_nothing(void **state)
{
	struct fxt_emu f;

	(void)state;
	new_board(&f);
	fx_emu_set_power(f.e, true);
	assert_int_equal(fxt_emu_wait_bus(&f, 5000000), FX_EMU_BUS_NONE);
	assert_int_equal(fx_emu_next_event_us(f.e), UINT64_MAX);
	fxt_emu_release(&f);
}

static void test_nrst_holds_and_boots(void **state)
{
	struct fxt_emu f;
	struct fx_emu_stats st;

	(void)state;
	fxt_emu_init(&f, NULL);
	assert_int_equal(fx_emu_poll(f.e), FX_EMU_BUS_DFU);
	fx_emu_set_nrst(f.e, false);
	assert_int_equal(fx_emu_poll(f.e), FX_EMU_BUS_NONE);
	assert_int_equal(fxt_emu_wait_bus(&f, 2000000), FX_EMU_BUS_NONE);
	fx_emu_set_nrst(f.e, true);
	assert_int_equal(fxt_emu_wait_bus(&f, 2000000), FX_EMU_BUS_DFU);
	assert_int_equal(fx_emu_enum_count(f.e), 2);
	fx_emu_get_stats(f.e, &st);
	assert_int_equal(st.resets, 2);
	/* BOOT0 is latched at reset, not followed live */
	fx_emu_set_boot0(f.e, false);
	assert_int_equal(fx_emu_poll(f.e), FX_EMU_BUS_DFU);
	fxt_emu_release(&f);
}

/* A plausible vector table + BOOT0 low: the HID app 50 ms after reset */
static void test_app_enumerates(void **state)
{
	struct fxt_emu f;
	uint8_t dd[18], cfg[64];

	(void)state;
	new_board(&f);
	put_app(f.e);
	fx_emu_set_power(f.e, true);
	assert_int_equal(fxt_emu_wait_bus(&f, 1000000), FX_EMU_BUS_APP);
	assert_int_equal(f.vc.t, 50000);
	assert_int_equal(fx_emu_device_descriptor(f.e, dd, 18), 18);
	assert_int_equal(fx_get_le16(dd + 8), 0x1209);
	assert_int_equal(fx_get_le16(dd + 10), 0x0001);
	assert_int_equal(fx_emu_config_descriptor(f.e, cfg, 64), 34);
	assert_int_equal(cfg[9 + 5], USB_CLASS_HID);
	fxt_emu_release(&f);
}

static void test_app_identity(void **state)
{
	struct fx_emu_identity id = { .app_vid = 0xCAFE, .app_pid = 0x4242 };
	struct fxt_emu f;
	uint8_t dd[18];

	(void)state;
	memset(&f, 0, sizeof(f));
	fx_vclock_init(&f.vc);
	f.e = fx_emu_new(&id, &f.vc.base, NULL);
	put_app(f.e);
	fx_emu_set_power(f.e, true);
	assert_int_equal(fxt_emu_wait_bus(&f, 1000000), FX_EMU_BUS_APP);
	assert_int_equal(fx_emu_device_descriptor(f.e, dd, 18), 18);
	assert_int_equal(fx_get_le16(dd + 8), 0xCAFE);
	assert_int_equal(fx_get_le16(dd + 10), 0x4242);
	fxt_emu_release(&f);
}

static void test_implausible_vectors(void **state)
{
	static const uint32_t bad[][2] = {
		{ 0x20020000, 0x080001C0 }, /* even reset vector */
		{ 0x20020004, 0x080001C1 }, /* SP above SRAM */
		{ 0x20000002, 0x080001C1 }, /* SP not word aligned */
		{ 0x20020000, 0x08080001 }, /* reset vector outside flash */
		{ 0xFFFFFFFF, 0xFFFFFFFF }, /* erased */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct fxt_emu f;
		uint8_t vt[8];

		new_board(&f);
		fx_put_le32(vt, bad[i][0]);
		fx_put_le32(vt + 4, bad[i][1]);
		assert_int_equal(fx_emu_backdoor_flash_write(f.e, 0x08000000, vt, 8), 0);
		fx_emu_set_power(f.e, true);
		assert_int_equal(fxt_emu_wait_bus(&f, 1000000), FX_EMU_BUS_NONE);
		fxt_emu_release(&f);
	}
}

/* SET_REPORT(feature 1, "BOOT"): the ROM enumerates without a reset;
 * the next reset with BOOT0 low loses it (the field report) */
static void test_app_software_entry(void **state)
{
	struct fxt_emu f;
	struct fx_emu_stats st;
	uint8_t payload[5] = { 'B', 'O', 'O', 'T', 0 };
	uint8_t with_id[5] = { 0x01, 'B', 'O', 'O', 'T' };

	(void)state;
	new_board(&f);
	put_app(f.e);
	fx_emu_set_power(f.e, true);
	assert_int_equal(fxt_emu_wait_bus(&f, 1000000), FX_EMU_BUS_APP);
	/* wrong payload, wrong report: STALL */
	assert_int_equal(fxt_ctl(&f, RT_HID_OUT, HID_REQ_SET_REPORT, 0x0301, 0,
				 (uint8_t *)"BOOX", 4, NULL), FX_E_STALL);
	assert_int_equal(fxt_ctl(&f, RT_HID_OUT, HID_REQ_SET_REPORT, 0x0302, 0,
				 payload, 4, NULL), FX_E_STALL);
	/* DFU requests mean nothing to the app */
	assert_int_equal(fxt_getstatus(&f), FX_E_STALL);
	assert_int_equal(fxt_ctl(&f, RT_HID_OUT, HID_REQ_SET_REPORT, 0x0301, 0,
				 payload, 4, NULL), 0);
	fxt_emu_sleep(&f, 1);
	assert_int_equal(fx_emu_poll(f.e), FX_EMU_BUS_NONE);
	assert_int_equal(fxt_emu_wait_bus(&f, 1000000), FX_EMU_BUS_DFU);
	fx_emu_get_stats(f.e, &st);
	assert_int_equal(st.resets, 1); /* only the power-on */
	assert_int_equal(fx_emu_enum_count(f.e), 2);
	/* NRST pulse with BOOT0 low: the app, not the ROM */
	fx_emu_set_nrst(f.e, false);
	fx_emu_set_nrst(f.e, true);
	assert_int_equal(fxt_emu_wait_bus(&f, 1000000), FX_EMU_BUS_APP);
	/* report ID + payload is accepted too */
	assert_int_equal(fxt_ctl(&f, RT_HID_OUT, HID_REQ_SET_REPORT, 0x0301, 0,
				 with_id, 5, NULL), 0);
	fxt_emu_sleep(&f, 1);
	assert_int_equal(fxt_emu_wait_bus(&f, 1000000), FX_EMU_BUS_DFU);
	fxt_emu_release(&f);
}

/* Leave (spec 1.7): zero-length DNLOAD -> MANIFEST-SYNC; GETSTATUS
 * reports dfuMANIFEST; the device vanishes; the app runs. */
static void test_leave_starts_app(void **state)
{
	struct fxt_emu f;
	uint8_t s;
	uint8_t vt[8];

	(void)state;
	fxt_emu_init(&f, NULL);
	fx_put_le32(vt, 0x20010000);
	fx_put_le32(vt + 4, 0x08000201);
	assert_int_equal(fxt_write(&f, 0x08000000, vt, 8), 0);
	assert_int_equal(fxt_set_address(&f, 0x08000000), 0);
	assert_int_equal(fxt_dnload(&f, 2, NULL, 0), 0);
	assert_int_equal(fxt_getstate(&f, &s), 0);
	assert_int_equal(s, dfuMANIFEST_SYNC);
	assert_int_equal(fxt_getstatus(&f), 0);
	assert_int_equal(FXT_STATE(&f), dfuMANIFEST);
	assert_int_equal(FXT_STATUS(&f), DFU_STATUS_OK);
	/* not manifestation tolerant */
	assert_int_equal(fxt_getstatus(&f), FX_E_NODEV);
	assert_int_equal(fx_emu_poll(f.e), FX_EMU_BUS_NONE);
	assert_int_equal(fxt_emu_wait_bus(&f, 1000000), FX_EMU_BUS_APP);
	fxt_emu_release(&f);
}

/* Leave without code at the pointer: reset, boot per pins (BOOT0 high ->
 * the ROM again) */
static void test_leave_blank_reenters_rom(void **state)
{
	struct fxt_emu f;
	uint32_t n0;

	(void)state;
	fxt_emu_init(&f, NULL);
	n0 = fx_emu_enum_count(f.e);
	assert_int_equal(fxt_dnload(&f, 0, NULL, 0), 0);
	assert_int_equal(fxt_getstatus(&f), 0);
	assert_int_equal(FXT_STATE(&f), dfuMANIFEST);
	fxt_emu_sleep(&f, 1000);
	assert_int_equal(fx_emu_poll(f.e), FX_EMU_BUS_NONE);
	assert_int_equal(fxt_emu_wait_bus(&f, 1000000), FX_EMU_BUS_DFU);
	assert_int_equal(fx_emu_enum_count(f.e), n0 + 1);
	/* a new enumeration starts in dfuIDLE */
	assert_int_equal(fxt_getstatus(&f), 0);
	assert_int_equal(FXT_STATE(&f), dfuIDLE);
	fxt_emu_release(&f);
}

/* leave is only accepted in dfuIDLE / dfuDNLOAD-IDLE */
static void test_leave_wrong_state(void **state)
{
	struct fxt_emu f;
	uint8_t b[64];
	size_t n;

	(void)state;
	fxt_emu_init(&f, NULL);
	assert_int_equal(fxt_upload(&f, 2, b, 64, &n), 0);
	assert_int_equal(fxt_dnload(&f, 0, NULL, 0), FX_E_STALL);
	fxt_emu_release(&f);
}

/* knob leave=reset: valid code, BOOT0 high -> the ROM again */
static void test_leave_reset_knob(void **state)
{
	struct fx_emu_knobs k;
	struct fxt_emu f;
	struct fx_emu_stats st;
	uint8_t vt[8];

	(void)state;
	fx_emu_knobs_default(&k);
	k.leave_reset = true;
	fxt_emu_init(&f, &k);
	fx_put_le32(vt, 0x20010000);
	fx_put_le32(vt + 4, 0x08000201);
	assert_int_equal(fxt_write(&f, 0x08000000, vt, 8), 0);
	assert_int_equal(fxt_set_address(&f, 0x08000000), 0);
	assert_int_equal(fxt_dnload(&f, 2, NULL, 0), 0);
	assert_int_equal(fxt_getstatus(&f), 0);
	assert_int_equal(FXT_STATE(&f), dfuMANIFEST);
	fxt_emu_sleep(&f, 1000);
	assert_int_equal(fx_emu_poll(f.e), FX_EMU_BUS_NONE);
	assert_int_equal(fxt_emu_wait_bus(&f, 1000000), FX_EMU_BUS_DFU);
	fx_emu_get_stats(f.e, &st);
	assert_int_equal(st.resets, 2);
	/* with BOOT0 low the same leave starts the application */
	fx_emu_set_boot0(f.e, false);
	assert_int_equal(fxt_dnload(&f, 0, NULL, 0), 0);
	assert_int_equal(fxt_getstatus(&f), 0);
	fxt_emu_sleep(&f, 1000);
	assert_int_equal(fxt_emu_wait_bus(&f, 1000000), FX_EMU_BUS_APP);
	fxt_emu_release(&f);
}

/* USB port reset: same enumeration, back to dfuIDLE */
static void test_usb_reset(void **state)
{
	struct fxt_emu f;
	uint32_t n0;

	(void)state;
	fxt_emu_init(&f, NULL);
	n0 = fx_emu_enum_count(f.e);
	assert_int_equal(fxt_set_address(&f, 0x08001000), 0);
	assert_int_equal(FXT_STATE(&f), dfuDNLOAD_IDLE);
	assert_int_equal(fx_emu_usb_reset(f.e), 0);
	assert_int_equal(fx_emu_enum_count(f.e), n0);
	assert_int_equal(fxt_getstatus(&f), 0);
	assert_int_equal(FXT_STATE(&f), dfuIDLE);
	fx_emu_set_power(f.e, false);
	assert_int_equal(fx_emu_usb_reset(f.e), FX_E_NODEV);
	fxt_emu_release(&f);
}

static void test_never_return_knob(void **state)
{
	struct fx_emu_knobs k;
	struct fxt_emu f;

	(void)state;
	fx_emu_knobs_default(&k);
	k.never_return = true;
	fxt_emu_init(&f, &k);
	assert_int_equal(fx_emu_poll(f.e), FX_EMU_BUS_DFU);
	assert_int_equal(fxt_dnload(&f, 0, NULL, 0), 0);
	assert_int_equal(fxt_getstatus(&f), 0);
	fxt_emu_sleep(&f, 1000);
	assert_int_equal(fx_emu_poll(f.e), FX_EMU_BUS_NONE);
	assert_int_equal(fxt_emu_wait_bus(&f, 10000000), FX_EMU_BUS_NONE);
	/* a power cycle brings it back */
	fx_emu_set_power(f.e, false);
	fx_emu_set_power(f.e, true);
	assert_int_equal(fxt_emu_wait_bus(&f, 1000000), FX_EMU_BUS_DFU);
	fxt_emu_release(&f);
}

static void test_boot_delay_knob(void **state)
{
	struct fx_emu_knobs k;
	struct fxt_emu f;

	(void)state;
	fx_emu_knobs_default(&k);
	k.boot_delay_us = 1000000;
	fxt_emu_init(&f, &k);
	assert_int_equal(f.vc.t, 1000000);
	fxt_emu_release(&f);
}

/* nBOOT1=0 with BOOT0=1: SRAM boot, nothing enumerates */
static void test_sram_boot(void **state)
{
	struct fxt_emu f;
	uint8_t raw[48];

	(void)state;
	new_board(&f);
	fx_emu_backdoor_ob(f.e, 0, raw, false);
	fx_put_le32(raw, 0xFF6FF8AA);
	fx_put_le32(raw + 4, ~0xFF6FF8AAu);
	fx_emu_backdoor_ob(f.e, 0, raw, true);
	fx_emu_set_boot0(f.e, true);
	fx_emu_set_power(f.e, true);
	assert_int_equal(fxt_emu_wait_bus(&f, 2000000), FX_EMU_BUS_NONE);
	fxt_emu_release(&f);
}

/* BFB2=1 (dual bank) with flash boot: the ROM runs first and stays when
 * neither bank holds an image; an image in bank 2 boots */
static void test_bfb2(void **state)
{
	struct fxt_emu f;
	uint8_t raw[48], vt[8];

	(void)state;
	new_board(&f);
	fx_emu_backdoor_ob(f.e, 0, raw, false);
	fx_put_le32(raw, 0xFFFFF8AA); /* BFB2=1 */
	fx_put_le32(raw + 4, ~0xFFFFF8AAu);
	fx_emu_backdoor_ob(f.e, 0, raw, true);
	fx_emu_set_power(f.e, true); /* BOOT0 low */
	assert_int_equal(fxt_emu_wait_bus(&f, 2000000), FX_EMU_BUS_DFU);
	fx_put_le32(vt, 0x20008000);
	fx_put_le32(vt + 4, 0x08040101);
	assert_int_equal(fx_emu_backdoor_flash_write(f.e, 0x08040000, vt, 8), 0);
	fx_emu_set_nrst(f.e, false);
	fx_emu_set_nrst(f.e, true);
	assert_int_equal(fxt_emu_wait_bus(&f, 2000000), FX_EMU_BUS_APP);
	fxt_emu_release(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_power_on_rom_after_boot_delay),
		cmocka_unit_test(test_blank_boot0_low_nothing),
		cmocka_unit_test(test_nrst_holds_and_boots),
		cmocka_unit_test(test_app_enumerates),
		cmocka_unit_test(test_app_identity),
		cmocka_unit_test(test_implausible_vectors),
		cmocka_unit_test(test_app_software_entry),
		cmocka_unit_test(test_leave_starts_app),
		cmocka_unit_test(test_leave_blank_reenters_rom),
		cmocka_unit_test(test_leave_wrong_state),
		cmocka_unit_test(test_leave_reset_knob),
		cmocka_unit_test(test_usb_reset),
		cmocka_unit_test(test_never_return_knob),
		cmocka_unit_test(test_boot_delay_knob),
		cmocka_unit_test(test_sram_boot),
		cmocka_unit_test(test_bfb2),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

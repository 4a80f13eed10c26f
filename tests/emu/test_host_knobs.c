/* test_host_knobs.c - every spec-8 knob setting of the emulated board
 * must work for a full cycle of the real host stack: option-byte change
 * (DBANK 1 -> 0, reset, bootloader back), erase, program, verify, leave.
 * Virtual time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fx/emu.h"
#include "fx/prog.h"
#include "fx/usb_emu.h"

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	size_t i;

	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
	if (n >= 8)
		memcpy(p, "\x00\x00\x02\x20\x01\x01\x00\x08", 8); /* bootable */
}

/* One full cycle on a fresh board with the given knobs. */
static void cycle(const char *knobs, bool mass_erase, bool dbank_change)
{
	struct fx_usb_open_opts uo = { .wait_ms = 5000 };
	struct fx_prog_flash_opts o = { .verify = true, .leave = true,
					.mass_erase = mass_erase };
	struct fx_prog_flash_result r;
	struct fx_prog_ob_result res;
	struct fx_image_seg seg[2];
	struct fx_image img = { .nsegs = 2, .segs = seg };
	struct fx_emu_knobs k;
	struct fx_g4_ob want;
	struct fx_vclock vc;
	struct fx_emu *board;
	struct fx_usb *u;
	struct fx_dfu *d;
	struct fx_err err;
	uint8_t *got;
	bool boot0 = true;
	size_t i;

	print_message("knobs '%s'%s%s\n", knobs, mass_erase ? " mass-erase" : "",
		      dbank_change ? " DBANK=0" : "");
	fx_vclock_init(&vc);
	fx_err_clear(&err);
	board = fx_emu_new(NULL, &vc.base, &err);
	assert_non_null(board);
	fx_emu_knobs_default(&k);
	if (knobs[0] && fx_emu_knobs_parse(&k, &boot0, knobs, &err))
		fail_msg("knobs '%s': %s", knobs, err.msg);
	fx_emu_set_knobs(board, &k);
	fx_emu_set_boot0(board, true);
	fx_emu_set_nrst(board, true);
	fx_emu_set_power(board, true);
	assert_int_equal(fx_usb_emu_attach(board, &vc.base, &uo, &u, &err), 0);
	d = fx_dfu_open(u, &err);
	if (!d)
		fail_msg("open: %s", err.msg);
	/* content from a previous life in the old bank mode */
	seg[0].addr = 0x08000000;
	seg[0].len = 9000;
	seg[1].addr = 0x08041100;
	seg[1].len = 3333;
	for (i = 0; i < 2; i++) {
		seg[i].alt = 0;
		seg[i].data = malloc(seg[i].len);
		assert_non_null(seg[i].data);
		fill(seg[i].data, seg[i].len, seg[i].addr);
	}
	if (dbank_change) {
		assert_int_equal(fx_emu_backdoor_flash_write(board, 0x08000000, seg[1].data, 2048), 0);
		if (fx_prog_ob_read(d, &want, &err))
			fail_msg("ob read: %s", err.msg);
		assert_int_equal(fx_g4_ob_apply(&want, "DBANK=0", &err), 0);
		if (fx_prog_ob_write(d, &want, 5000, &res, &err))
			fail_msg("ob write: %s", err.msg);
		assert_int_equal(fx_g4_ob_get(&res.after, fx_g4_ob_field_find("DBANK")), 0);
	}
	if (fx_prog_flash(d, &img, &o, &r, &err))
		fail_msg("flash: %s", err.msg);
	for (i = 0; i < 2; i++) {
		got = malloc(seg[i].len);
		assert_non_null(got);
		assert_int_equal(fx_emu_backdoor_flash_read(board, seg[i].addr, got, seg[i].len), 0);
		assert_memory_equal(got, seg[i].data, seg[i].len);
		free(got);
		free(seg[i].data);
	}
	/* leave: the application starts */
	fx_clock_sleep(&vc.base, 200000);
	assert_int_equal(fx_emu_poll(board), FX_EMU_BUS_APP);
	fx_dfu_free(d);
	fx_usb_close(u);
	fx_emu_free(board);
}

static void test_defaults(void **state)
{
	(void)state;
	cycle("", false, false);
	cycle("", true, true);
	cycle("", false, true);
}

static void test_transfer_size(void **state)
{
	(void)state;
	cycle("xfer=1024", false, true);
	cycle("xfer=2048", false, true);
	cycle("xfer=2048", true, false);
}

static void test_iproduct(void **state)
{
	(void)state;
	cycle("iproduct=dfu", false, false);
	cycle("iproduct=stm32", false, true);
}

static void test_alt0(void **state)
{
	(void)state;
	cycle("alt0=dynamic", false, true);
	/* the alt0 string keeps saying 2 KiB pages in single-bank mode */
	cycle("alt0=constant", false, true);
	cycle("alt0=constant", true, true);
}

static void test_obreset(void **state)
{
	(void)state;
	cycle("obreset=answer", false, true);
	cycle("obreset=stall", false, true);
}

static void test_busy(void **state)
{
	(void)state;
	cycle("busy=wait", false, true);
	cycle("busy=stall", false, true);
	cycle("busy=lying", false, true);
	cycle("busy=stall", true, false);
	cycle("busy=lying", true, false);
}

static void test_malformed_and_oldread(void **state)
{
	(void)state;
	cycle("malformed=error", false, true);
	cycle("malformed=stall", false, true);
	cycle("oldread=error", false, true);
	cycle("oldread=error", true, true);
}

static void test_combined(void **state)
{
	(void)state;
	cycle("xfer=2048&iproduct=stm32&alt0=constant&obreset=stall&busy=stall&malformed=stall", false, true);
	cycle("xfer=2048&alt0=constant&obreset=stall&busy=lying&malformed=stall&oldread=error", true, true);
	cycle("boot_delay_ms=1500&erase_scale=3", false, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_transfer_size),
		cmocka_unit_test(test_iproduct),
		cmocka_unit_test(test_alt0),
		cmocka_unit_test(test_obreset),
		cmocka_unit_test(test_busy),
		cmocka_unit_test(test_malformed_and_oldread),
		cmocka_unit_test(test_combined),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

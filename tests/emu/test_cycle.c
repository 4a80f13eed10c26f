/* test_cycle.c - the station cycle of issue 9 section 1 and issue 14 item
 * 10 against emulated boards in virtual time: probe = flash classifies
 * every board state in the bootloader (no probe_ms wait, no whole-flash
 * read), the option bytes are read once, skip_identical passes a board
 * that already holds the image with erase and program SKIPPED, an image
 * outside the flash stops the run before anything changes the board, and
 * the firmware step names an image without a vector table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "seq_fix.h"

#include "fx/conf.h"
#include "fx/dfu_wire.h"
#include "fx/emu.h"
#include "fx/image.h"
#include "fx/seq.h"
#include "fx/stm32g4.h"
#include "fx/store.h"

#define FW_LEN FXT_SEQ_FW_LEN

/* SP at the top of CCM SRAM, reset handler odd, in flash */
static const uint8_t ccm_vectors[8] = { 0x00, 0x80, 0x00, 0x10, 0xC1, 0x01, 0x00, 0x08 };

/* The firmware file and its image; vectors: a plausible vector table */
static void write_firmware(struct fxt_seq *f, bool vectors)
{
	fxt_seq_firmware(f, 4242, vectors ? ccm_vectors : NULL);
}

static int setup(void **state)
{
	struct fxt_seq *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	fxt_seq_init(f, "/tmp/fxcycle.XXXXXX");
	fxt_seq_recipe(f, "cycle-g474", "1.0");
	f->rcp.erase = FX_RECIPE_ERASE_MASS;
	f->rcp.probe_mode = FX_RECIPE_PROBE_FLASH;
	write_firmware(f, true);
	fxt_seq_station(f, "cycle-station", true, false);
	fxt_seq_open(f, NULL, 7);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fxt_seq_close(*state);
	free(*state);
	return 0;
}

static int run(struct fxt_seq *f)
{
	struct fx_seq_job job;

	fxt_seq_job(f, &job);
	job.utc_offset_us = 0;
	fx_err_clear(&f->err);
	return fx_seq_run(f->slot, f->store, &job, &f->out, &f->err);
}


/* The image's bytes are on the board (the logical view). */
static void assert_programmed(struct fxt_seq *f)
{
	assert_true(fxt_emu_holds(fxt_seq_board(f), &f->img));
}

static void assert_pass(struct fxt_seq *f, const char *state)
{
	if (f->out.result != FX_STORE_PASS)
		fail_msg("expected PASS, got %s at '%s': %s", fx_store_result_name(f->out.result),
			 f->out.failing_step, f->out.message);
	assert_string_equal(fxt_seq_q(f, FXT_LAST_RUN("result")), "PASS");
	assert_string_equal(fxt_seq_q(f, FXT_LAST_RUN("board_state")), state);
	assert_programmed(f);
}

/* probe = flash: no reset and no wait for an application in the probe,
 * the state told by identify from the bootloader's view of the flash;
 * the option bytes not read again by read_ob (0 us of virtual time: no
 * request), and far fewer requests than a whole-flash blank read (512
 * UPLOADs of 1 KiB) would take. */
static void cycle_of(struct fxt_seq *f, enum fx_seq_demo_board kind, const char *state)
{
	struct fx_emu_stats s0, s1;

	fxt_seq_put_board(f, kind, 3);
	fx_emu_get_stats(fxt_seq_board(f), &s0);
	assert_int_equal(run(f), 0);
	fx_emu_get_stats(fxt_seq_board(f), &s1);
	assert_pass(f, state);
	assert_string_equal(fxt_seq_q(f, FXT_STEP_OF_LAST("result", "probe")), "SKIPPED");
	assert_string_equal(fxt_seq_q(f, FXT_STEP_OF_LAST("detail", "probe")),
			    "probe = flash: the bootloader's view of the flash tells (identify)");
	assert_non_null(strstr(fxt_seq_q(f, FXT_STEP_OF_LAST("detail", "identify")), "board "));
	assert_non_null(strstr(f->q, state));
	assert_string_equal(fxt_seq_q(f, FXT_STEP_OF_LAST("duration_us", "read_ob")), "0");
	if (s1.requests - s0.requests >= 400)
		fail_msg("%s board: %u control requests in one cycle", state,
			 s1.requests - s0.requests);
}

static void test_flash_probe_blank(void **state)
{
	cycle_of(*state, FX_SEQ_DEMO_BLANK, "blank");
}

static void test_flash_probe_corrupted(void **state)
{
	cycle_of(*state, FX_SEQ_DEMO_CORRUPTED, "corrupted");
}

static void test_flash_probe_programmed(void **state)
{
	cycle_of(*state, FX_SEQ_DEMO_PROGRAMMED, "programmed");
}

static void test_flash_probe_dual_bank(void **state)
{
	struct fxt_seq *f = *state;

	cycle_of(f, FX_SEQ_DEMO_DUAL_BANK, "programmed");
	assert_string_equal(fxt_seq_q(f, FXT_STEP_OF_LAST("result", "write_ob")), "PASS");
	assert_string_equal(fxt_seq_q(f, FXT_STEP_OF_LAST("detail", "erase")), "mass erase (DBANK changed)");
	assert_false(fx_g4_dual_bank(fx_emu_optr(fxt_seq_board(f))));
}

static void test_flash_probe_protected(void **state)
{
	struct fxt_seq *f = *state;

	fxt_seq_put_board(f, FX_SEQ_DEMO_PROTECTED, 3);
	assert_int_equal(run(f), 0);
	assert_pass(f, "protected");
	assert_string_equal(fxt_seq_q(f, FXT_STEP_OF_LAST("result", "unprotect")), "PASS");
}

/* the application's stack in CCM SRAM (spec 8) boots: app_check passes */
static void test_ccm_stack_app_check(void **state)
{
	struct fxt_seq *f = *state;

	fxt_seq_put_board(f, FX_SEQ_DEMO_BLANK, 3);
	assert_int_equal(run(f), 0);
	assert_pass(f, "blank");
	assert_string_equal(fxt_seq_q(f, FXT_STEP_OF_LAST("result", "app_check")), "PASS");
}

/* skip_identical: erase and program SKIPPED "identical", the readback
 * recorded in verify, the board untouched */
static void test_skip_identical(void **state)
{
	struct fxt_seq *f = *state;
	struct fx_emu_stats s0, s1;

	f->rcp.skip_identical = true;
	fxt_seq_put_board(f, FX_SEQ_DEMO_PROGRAMMED, 3);
	fx_emu_get_stats(fxt_seq_board(f), &s0);
	assert_int_equal(run(f), 0);
	fx_emu_get_stats(fxt_seq_board(f), &s1);
	assert_pass(f, "programmed");
	assert_string_equal(fxt_seq_q(f, FXT_STEP_OF_LAST("result", "erase")), "SKIPPED");
	assert_string_equal(fxt_seq_q(f, FXT_STEP_OF_LAST("detail", "erase")),
			    "identical: the image range already reads back as the image (20480 bytes)");
	assert_string_equal(fxt_seq_q(f, FXT_STEP_OF_LAST("result", "program")), "SKIPPED");
	assert_string_equal(fxt_seq_q(f, FXT_STEP_OF_LAST("detail", "program")), "identical: nothing to program");
	assert_string_equal(fxt_seq_q(f, FXT_STEP_OF_LAST("result", "verify")), "PASS");
	assert_string_equal(fxt_seq_q(f, FXT_STEP_OF_LAST("detail", "verify")),
			    "readback of 20480 bytes matched before the erase (identical)");
	/* no erase, no write: the device was busy only for commands */
	if (s1.device_us - s0.device_us >= 20000)
		fail_msg("device busy %llu us: something was erased or written",
			 (unsigned long long)(s1.device_us - s0.device_us));
}

/* one byte different at the end of the image range: erased and written */
static void test_skip_identical_differs(void **state)
{
	struct fxt_seq *f = *state;
	uint8_t b = (uint8_t)~f->fw_data[FW_LEN - 1];

	f->rcp.skip_identical = true;
	fxt_seq_put_board(f, FX_SEQ_DEMO_PROGRAMMED, 3);
	/* a programmed double word can only lose bits: write 0x00 over it */
	b = 0;
	assert_int_equal(fx_emu_backdoor_flash_write(fxt_seq_board(f), G4_FLASH_BASE + FW_LEN - 8,
						     (const uint8_t[8]){ b, b, b, b, b, b, b, b },
						     8), 0);
	assert_int_equal(run(f), 0);
	assert_pass(f, "programmed");
	assert_string_equal(fxt_seq_q(f, FXT_STEP_OF_LAST("result", "erase")), "PASS");
	assert_string_equal(fxt_seq_q(f, FXT_STEP_OF_LAST("result", "program")), "PASS");
	assert_string_equal(fxt_seq_q(f, FXT_STEP_OF_LAST("detail", "verify")), "readback of 20480 bytes matches");
}

/* option bytes to change: never identical (the DBANK write needs the
 * mass erase) */
static void test_skip_identical_ob_differ(void **state)
{
	struct fxt_seq *f = *state;

	f->rcp.skip_identical = true;
	fxt_seq_put_board(f, FX_SEQ_DEMO_DUAL_BANK, 3);
	assert_int_equal(run(f), 0);
	assert_pass(f, "programmed");
	assert_string_equal(fxt_seq_q(f, FXT_STEP_OF_LAST("detail", "erase")), "mass erase (DBANK changed)");
}

/* issue 14 item 10: the image range is checked before anything changes
 * the board: a dual-bank board keeps its option bytes and its flash */
static void test_range_before_changes(void **state)
{
	struct fxt_seq *f = *state;
	uint32_t optr;
	uint8_t before[64], after[64];

	fxt_seq_put_board(f, FX_SEQ_DEMO_DUAL_BANK, 3);
	optr = fx_emu_optr(fxt_seq_board(f));
	assert_int_equal(fx_emu_backdoor_flash_read(fxt_seq_board(f), G4_FLASH_BASE, before, 64), 0);
	f->seg.addr = G4_FLASH_BASE + G4_FLASH_SIZE - 4096; /* 20 KiB: 16 KiB past the end */
	assert_int_equal(run(f), 0);
	assert_int_equal(f->out.result, FX_STORE_ERROR);
	assert_string_equal(f->out.failing_step, "firmware");
	assert_int_equal(f->out.error_code, FX_E_RANGE);
	assert_non_null(strstr(f->out.message, "image byte at 0x08080000 is outside the writeable flash"));
	assert_string_equal(fxt_seq_q(f, FXT_STEP_OF_LAST("count(*)", "write_ob")), "0");
	assert_string_equal(fxt_seq_q(f, FXT_STEP_OF_LAST("count(*)", "erase")), "0");
	assert_int_equal(fx_emu_optr(fxt_seq_board(f)), optr);
	assert_int_equal(fx_emu_backdoor_flash_read(fxt_seq_board(f), G4_FLASH_BASE, after, 64), 0);
	assert_memory_equal(before, after, 64);
}

/* issue 9 section 2 item 5: an image without a plausible vector table */
static void test_firmware_names_missing_vectors(void **state)
{
	struct fxt_seq *f = *state;

	write_firmware(f, false);
	f->fw_data[3] = 0x30; /* SP 0x30...: not SRAM, not CCM */
	{
		FILE *fp = fopen(f->fw, "wb");

		assert_non_null(fp);
		assert_int_equal(fwrite(f->fw_data, 1, FW_LEN, fp), FW_LEN);
		fclose(fp);
	}
	assert_int_equal(fx_conf_sha256_file(f->fw, f->rcp.firmware_sha256, &f->err), 0);
	fxt_seq_put_board(f, FX_SEQ_DEMO_BLANK, 3);
	assert_int_equal(run(f), 0);
	assert_non_null(strstr(fxt_seq_q(f, FXT_STEP_OF_LAST("detail", "firmware")),
			       "; no plausible vector table at 0x08000000: the application will not start"));
	assert_int_equal(f->out.result, FX_STORE_FAIL);
	assert_string_equal(f->out.failing_step, "app_check");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_flash_probe_blank, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flash_probe_corrupted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flash_probe_programmed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flash_probe_dual_bank, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flash_probe_protected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ccm_stack_app_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_skip_identical, setup, teardown),
		cmocka_unit_test_setup_teardown(test_skip_identical_differs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_skip_identical_ob_differ, setup, teardown),
		cmocka_unit_test_setup_teardown(test_range_before_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_firmware_names_missing_vectors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

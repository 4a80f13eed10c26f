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

#include "conf_fix.h"
#include <sqlite3.h>

#include "fx/conf.h"
#include "fx/dfu_wire.h"
#include "fx/emu.h"
#include "fx/image.h"
#include "fx/seq.h"
#include "fx/stm32g4.h"
#include "fx/store.h"

#define FW_LEN 20480u

struct fix {
	char dir[64], db[128], fw[128], board[128];
	struct fx_vclock vc;
	struct fx_station st;
	struct fx_recipe rcp;
	uint8_t fw_data[FW_LEN];
	struct fx_image_seg seg;
	struct fx_image img;
	struct fx_store *store;
	struct fx_seq_station *stn;
	struct fx_seq_slot *slot;
	struct fx_seq_outcome out;
	struct fx_err err;
	char q[512];
};

/* The firmware file and its image; vectors: a plausible vector table */
static void write_firmware(struct fix *f, bool vectors)
{
	uint32_t x = 4242;
	size_t i;
	FILE *fp;

	for (i = 0; i < FW_LEN; i++) {
		x = x * 1103515245u + 12345u;
		f->fw_data[i] = (uint8_t)(x >> 16);
	}
	if (vectors) {
		static const uint8_t vt[8] = { 0x00, 0x80, 0x00, 0x10, 0xC1, 0x01, 0x00, 0x08 };

		memcpy(f->fw_data, vt, 8); /* SP at the top of CCM SRAM */
	}
	fp = fopen(f->fw, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(f->fw_data, 1, FW_LEN, fp), FW_LEN);
	fclose(fp);
	f->seg.addr = G4_FLASH_BASE;
	f->seg.len = FW_LEN;
	f->seg.data = f->fw_data;
	f->img.format = FX_IMAGE_BIN;
	f->img.nsegs = 1;
	f->img.segs = &f->seg;
	assert_int_equal(fx_conf_sha256_file(f->fw, f->rcp.firmware_sha256, &f->err), 0);
}

static void make_recipe(struct fix *f)
{
	struct fx_recipe *r = &f->rcp;

	fx_recipe_defaults(r);
	snprintf(r->path, sizeof(r->path), "%s/recipe.ini", f->dir);
	memset(r->sha256, 'a', 64);
	snprintf(r->name, sizeof(r->name), "cycle-g474");
	snprintf(r->version, sizeof(r->version), "1.0");
	snprintf(r->target, sizeof(r->target), "stm32g474xe");
	snprintf(r->firmware, sizeof(r->firmware), "%s", f->fw);
	r->n_ob = 1;
	snprintf(r->ob[0].name, sizeof(r->ob[0].name), "DBANK");
	snprintf(r->ob[0].text, sizeof(r->ob[0].text), "DBANK=0");
	r->erase = FX_RECIPE_ERASE_MASS;
	r->probe_mode = FX_RECIPE_PROBE_FLASH;
	r->app.enabled = true;
	r->app.vid = 0x1209;
	r->app.pid = 0x0001;
}

static void make_station(struct fix *f)
{
	struct fx_station *st = &f->st;
	struct fx_station_slot *sl = &st->slots[0];

	memset(st, 0, sizeof(*st));
	snprintf(st->path, sizeof(st->path), "%s/station.ini", f->dir);
	snprintf(st->name, sizeof(st->name), "cycle-station");
	snprintf(st->db_path, sizeof(st->db_path), "%s", f->db);
	st->gpio_backend = "sim";
	fxt_station_line(&st->start, "sim:START", FX_GPIO_INPUT, 0);
	fxt_station_line(&st->lid, "sim:LID", FX_GPIO_INPUT, 0);
	st->debounce_ms = 30;
	st->n_slots = 1;
	sl->index = 1;
	snprintf(sl->device, sizeof(sl->device), "emu:%s", f->board);
	sl->emulated = true;
	snprintf(sl->board_path, sizeof(sl->board_path), "%s", f->board);
	fxt_station_line(&sl->boot0, "sim:BOOT0_1", FX_GPIO_OUTPUT, 0);
	fxt_station_line(&sl->nrst, "sim:NRST_1", FX_GPIO_OUTPUT, 1);
	fxt_station_line(&sl->power, "sim:POWER_1", FX_GPIO_OUTPUT, 0);
	sl->timing.power_on_ms = 50;
	sl->timing.power_off_ms = 200;
	sl->timing.nrst_pulse_ms = 20;
	sl->timing.boot0_setup_ms = 5;
	sl->power_off_at_end = true;
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/fxcycle.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/station.db", f->dir);
	snprintf(f->fw, sizeof(f->fw), "%s/fw.bin", f->dir);
	snprintf(f->board, sizeof(f->board), "%s/board.fxb", f->dir);
	fx_vclock_init(&f->vc);
	fx_err_clear(&f->err);
	make_recipe(f);
	write_firmware(f, true);
	make_station(f);
	f->store = fx_store_open(f->db, &f->err);
	assert_non_null(f->store);
	fx_store_set_uuid_seed(f->store, 7);
	assert_int_equal(fx_seq_station_open(&f->st, &f->vc.base, &f->stn, &f->err), 0);
	f->slot = fx_seq_station_first(f->stn);
	assert_non_null(f->slot);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	fx_seq_station_close(f->stn);
	fx_store_close(f->store);
	assert_int_equal(fxt_conf_rmdir(f->dir), 0);
	free(f);
	return 0;
}

static struct fx_emu *board(struct fix *f)
{
	return fx_seq_slot_board(f->slot);
}

static void put_board(struct fix *f, enum fx_seq_demo_board kind)
{
	struct fx_emu *b = fx_seq_demo_board_new(kind, 3, &f->rcp, &f->img,
						 &f->vc.base, &f->err);

	assert_non_null(b);
	assert_int_equal(fx_seq_slot_set_board(f->slot, b, &f->err), 0);
}

static int run(struct fix *f)
{
	struct fx_seq_job job;

	memset(&job, 0, sizeof(job));
	job.recipe = &f->rcp;
	job.image = &f->img;
	job.station_name = f->st.name;
	job.operator_id = "op1";
	job.software_version = "fixturectl test";
	fx_err_clear(&f->err);
	return fx_seq_run(f->slot, f->store, &job, &f->out, &f->err);
}

static const char *q(struct fix *f, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s;

	assert_int_equal(sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(s, 0);

		snprintf(f->q, sizeof(f->q), "%s", t ? (const char *)t : "");
	} else {
		snprintf(f->q, sizeof(f->q), "<none>");
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	return f->q;
}

#define LAST_RUN(col) "SELECT " col " FROM runs ORDER BY id DESC LIMIT 1"
#define STEP(col, name) \
	"SELECT " col " FROM steps WHERE run_id = (SELECT max(id) FROM runs) AND name = '" name "'"

/* The image's bytes are on the board (the logical view). */
static void assert_programmed(struct fix *f)
{
	uint8_t got[FW_LEN];

	assert_int_equal(fx_emu_backdoor_flash_read(board(f), G4_FLASH_BASE, got, FW_LEN), 0);
	assert_memory_equal(got, f->fw_data, FW_LEN);
}

static void assert_pass(struct fix *f, const char *state)
{
	if (f->out.result != FX_STORE_PASS)
		fail_msg("expected PASS, got %s at '%s': %s", fx_store_result_name(f->out.result),
			 f->out.failing_step, f->out.message);
	assert_string_equal(q(f, LAST_RUN("result")), "PASS");
	assert_string_equal(q(f, LAST_RUN("board_state")), state);
	assert_programmed(f);
}

/* probe = flash: no reset and no wait for an application in the probe,
 * the state told by identify from the bootloader's view of the flash;
 * the option bytes not read again by read_ob (0 us of virtual time: no
 * request), and far fewer requests than a whole-flash blank read (512
 * UPLOADs of 1 KiB) would take. */
static void cycle_of(struct fix *f, enum fx_seq_demo_board kind, const char *state)
{
	struct fx_emu_stats s0, s1;

	put_board(f, kind);
	fx_emu_get_stats(board(f), &s0);
	assert_int_equal(run(f), 0);
	fx_emu_get_stats(board(f), &s1);
	assert_pass(f, state);
	assert_string_equal(q(f, STEP("result", "probe")), "SKIPPED");
	assert_string_equal(q(f, STEP("detail", "probe")),
			    "probe = flash: the bootloader's view of the flash tells (identify)");
	assert_non_null(strstr(q(f, STEP("detail", "identify")), "board "));
	assert_non_null(strstr(f->q, state));
	assert_string_equal(q(f, STEP("duration_us", "read_ob")), "0");
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
	struct fix *f = *state;

	cycle_of(f, FX_SEQ_DEMO_DUAL_BANK, "programmed");
	assert_string_equal(q(f, STEP("result", "write_ob")), "PASS");
	assert_string_equal(q(f, STEP("detail", "erase")), "mass erase (DBANK changed)");
	assert_false(fx_g4_dual_bank(fx_emu_optr(board(f))));
}

static void test_flash_probe_protected(void **state)
{
	struct fix *f = *state;

	put_board(f, FX_SEQ_DEMO_PROTECTED);
	assert_int_equal(run(f), 0);
	assert_pass(f, "protected");
	assert_string_equal(q(f, STEP("result", "unprotect")), "PASS");
}

/* the application's stack in CCM SRAM (spec 8) boots: app_check passes */
static void test_ccm_stack_app_check(void **state)
{
	struct fix *f = *state;

	put_board(f, FX_SEQ_DEMO_BLANK);
	assert_int_equal(run(f), 0);
	assert_pass(f, "blank");
	assert_string_equal(q(f, STEP("result", "app_check")), "PASS");
}

/* skip_identical: erase and program SKIPPED "identical", the readback
 * recorded in verify, the board untouched */
static void test_skip_identical(void **state)
{
	struct fix *f = *state;
	struct fx_emu_stats s0, s1;

	f->rcp.skip_identical = true;
	put_board(f, FX_SEQ_DEMO_PROGRAMMED);
	fx_emu_get_stats(board(f), &s0);
	assert_int_equal(run(f), 0);
	fx_emu_get_stats(board(f), &s1);
	assert_pass(f, "programmed");
	assert_string_equal(q(f, STEP("result", "erase")), "SKIPPED");
	assert_string_equal(q(f, STEP("detail", "erase")),
			    "identical: the image range already reads back as the image (20480 bytes)");
	assert_string_equal(q(f, STEP("result", "program")), "SKIPPED");
	assert_string_equal(q(f, STEP("detail", "program")), "identical: nothing to program");
	assert_string_equal(q(f, STEP("result", "verify")), "PASS");
	assert_string_equal(q(f, STEP("detail", "verify")),
			    "readback of 20480 bytes matched before the erase (identical)");
	/* no erase, no write: the device was busy only for commands */
	if (s1.device_us - s0.device_us >= 20000)
		fail_msg("device busy %llu us: something was erased or written",
			 (unsigned long long)(s1.device_us - s0.device_us));
}

/* one byte different at the end of the image range: erased and written */
static void test_skip_identical_differs(void **state)
{
	struct fix *f = *state;
	uint8_t b = (uint8_t)~f->fw_data[FW_LEN - 1];

	f->rcp.skip_identical = true;
	put_board(f, FX_SEQ_DEMO_PROGRAMMED);
	/* a programmed double word can only lose bits: write 0x00 over it */
	b = 0;
	assert_int_equal(fx_emu_backdoor_flash_write(board(f), G4_FLASH_BASE + FW_LEN - 8,
						     (const uint8_t[8]){ b, b, b, b, b, b, b, b },
						     8), 0);
	assert_int_equal(run(f), 0);
	assert_pass(f, "programmed");
	assert_string_equal(q(f, STEP("result", "erase")), "PASS");
	assert_string_equal(q(f, STEP("result", "program")), "PASS");
	assert_string_equal(q(f, STEP("detail", "verify")), "readback of 20480 bytes matches");
}

/* option bytes to change: never identical (the DBANK write needs the
 * mass erase) */
static void test_skip_identical_ob_differ(void **state)
{
	struct fix *f = *state;

	f->rcp.skip_identical = true;
	put_board(f, FX_SEQ_DEMO_DUAL_BANK);
	assert_int_equal(run(f), 0);
	assert_pass(f, "programmed");
	assert_string_equal(q(f, STEP("detail", "erase")), "mass erase (DBANK changed)");
}

/* issue 14 item 10: the image range is checked before anything changes
 * the board: a dual-bank board keeps its option bytes and its flash */
static void test_range_before_changes(void **state)
{
	struct fix *f = *state;
	uint32_t optr;
	uint8_t before[64], after[64];

	put_board(f, FX_SEQ_DEMO_DUAL_BANK);
	optr = fx_emu_optr(board(f));
	assert_int_equal(fx_emu_backdoor_flash_read(board(f), G4_FLASH_BASE, before, 64), 0);
	f->seg.addr = G4_FLASH_BASE + G4_FLASH_SIZE - 4096; /* 20 KiB: 16 KiB past the end */
	assert_int_equal(run(f), 0);
	assert_int_equal(f->out.result, FX_STORE_ERROR);
	assert_string_equal(f->out.failing_step, "firmware");
	assert_int_equal(f->out.error_code, FX_E_RANGE);
	assert_non_null(strstr(f->out.message, "image byte at 0x08080000 is outside the writeable flash"));
	assert_string_equal(q(f, STEP("count(*)", "write_ob")), "0");
	assert_string_equal(q(f, STEP("count(*)", "erase")), "0");
	assert_int_equal(fx_emu_optr(board(f)), optr);
	assert_int_equal(fx_emu_backdoor_flash_read(board(f), G4_FLASH_BASE, after, 64), 0);
	assert_memory_equal(before, after, 64);
}

/* issue 9 section 2 item 5: an image without a plausible vector table */
static void test_firmware_names_missing_vectors(void **state)
{
	struct fix *f = *state;

	write_firmware(f, false);
	f->fw_data[3] = 0x30; /* SP 0x30...: not SRAM, not CCM */
	{
		FILE *fp = fopen(f->fw, "wb");

		assert_non_null(fp);
		assert_int_equal(fwrite(f->fw_data, 1, FW_LEN, fp), FW_LEN);
		fclose(fp);
	}
	assert_int_equal(fx_conf_sha256_file(f->fw, f->rcp.firmware_sha256, &f->err), 0);
	put_board(f, FX_SEQ_DEMO_BLANK);
	assert_int_equal(run(f), 0);
	assert_non_null(strstr(q(f, STEP("detail", "firmware")),
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

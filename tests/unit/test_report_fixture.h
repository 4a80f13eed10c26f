/* test_report_fixture.h - the database of known content behind the report
 * tests, built through the real recording API (fx/store.h) with virtual
 * time. 14 runs over 4 UTC days (2026-03-02 Mon .. 2026-03-09 Mon), two
 * stations, retests, a unit that failed twice then passed, a unit that
 * passed then failed a re-run, a run with no unit, and a run cut by a
 * simulated crash (closed without an end, ABORTED at the next open).
 *
 *  run day        station  slot op     recipe    unit      result
 *  R1  03-02 08:00 line1-a 1    alice  demo 1.0  SN001     PASS
 *  R2  03-02 08:01 line1-a 1    alice  demo 1.0  SN002     FAIL verify FX_E_VERIFY
 *  R3  03-02 08:02 line1-a 2    bob    demo 1.0  SN002     PASS
 *  R4  03-02 08:03 line1-a 1    alice  demo 1.0  SN003     FAIL program FX_E_TIMEOUT
 *  R5  03-02 08:04 line1-a 2    bob    demo 1.0  -         ERROR enter_boot FX_E_NODEV
 *  R6  03-03 09:00 line1-b 1    carol  demo 1.0  SN003     FAIL verify FX_E_VERIFY
 *  R7  03-03 09:01 line1-b 1    carol  demo 1.0  UID-0004  PASS
 *  R8  03-03 09:02 line1-b 1    carol  demo 1.1  SN005     PASS
 *  R9  03-03 09:03 line1-b 1    carol  demo 1.0  SN001     FAIL app_check FX_E_TIMEOUT
 *  R10 03-05 10:00 line1-a 1    alice  demo 1.0  SN003     PASS
 *  R11 03-05 10:01 line1-a 2    bob    demo 1.0  SN006     (crash) ABORTED
 *  R12 03-05 10:02 line1-a 1    -      demo 1.0  SN007     PASS
 *  R13 03-09 11:00 line1-b 2    dave   demo 1.0  SN008     FAIL verify FX_E_VERIFY
 *  R14 03-09 11:05 line1-b 2    dave   demo 1.0  SN008     PASS
 *
 * Steps (ms): probe 800, enter_boot 1200 (R5: 3000 ERROR), identify 300,
 * read_ob 200, erase 4000, program 9000 (R3 9500, R4 5000 FAIL, R7 8000,
 * R8 10000), verify 3000, release 500, app_check 1000 (R9 2000 FAIL). A run
 * lasts exactly the sum of its steps.
 */
#ifndef FX_TESTS_REPORT_FIXTURE_H
#define FX_TESTS_REPORT_FIXTURE_H

#include <string.h>

#include "fx/store.h"

#define FIX_DAY_US (86400LL * 1000000LL)
#define FIX_T0 (20514LL * FIX_DAY_US) /* 2026-03-02T00:00:00Z */

struct fix_run {
	int day, hh, mm;
	const char *station;
	int slot;
	const char *op, *ver, *serial, *uid;
	enum fx_store_board board;
	enum fx_store_result result;
	const char *fail_step; /* last step, with the run's result */
	int code;
	const char *msg;
	int program_ms, enter_ms, app_ms;
	bool crash;
};

static const struct fix_run fix_runs[] = {
	{ 0, 8, 0, "line1-a", 1, "alice", "1.0", "SN001", NULL, FX_STORE_BOARD_BLANK, FX_STORE_PASS, NULL, 0, NULL, 9000, 1200, 1000, false },
	{ 0, 8, 1, "line1-a", 1, "alice", "1.0", "SN002", NULL, FX_STORE_BOARD_BLANK, FX_STORE_FAIL, "verify", FX_E_VERIFY, "mismatch at 0x08000100: got 0x00, expected 0x5A", 9000, 1200, 1000, false },
	{ 0, 8, 2, "line1-a", 2, "bob", "1.0", "SN002", NULL, FX_STORE_BOARD_CORRUPTED, FX_STORE_PASS, NULL, 0, NULL, 9500, 1200, 1000, false },
	{ 0, 8, 3, "line1-a", 1, "alice", "1.0", "SN003", NULL, FX_STORE_BOARD_BLANK, FX_STORE_FAIL, "program", FX_E_TIMEOUT, "download block 12: no answer after 5000 ms", 5000, 1200, 1000, false },
	{ 0, 8, 4, "line1-a", 2, "bob", "1.0", NULL, NULL, FX_STORE_BOARD_UNKNOWN, FX_STORE_ERROR, "enter_boot", FX_E_NODEV, "bootloader did not enumerate on port 1-1.2", 0, 3000, 0, false },
	{ 1, 9, 0, "line1-b", 1, "carol", "1.0", "SN003", NULL, FX_STORE_BOARD_CORRUPTED, FX_STORE_FAIL, "verify", FX_E_VERIFY, "mismatch at 0x08000200, \"bank 1\"", 9000, 1200, 1000, false },
	{ 1, 9, 1, "line1-b", 1, "carol", "1.0", NULL, "UID-0004", FX_STORE_BOARD_BLANK, FX_STORE_PASS, NULL, 0, NULL, 8000, 1200, 1000, false },
	{ 1, 9, 2, "line1-b", 1, "carol", "1.1", "SN005", NULL, FX_STORE_BOARD_BLANK, FX_STORE_PASS, NULL, 0, NULL, 10000, 1200, 1000, false },
	{ 1, 9, 3, "line1-b", 1, "carol", "1.0", "SN001", NULL, FX_STORE_BOARD_PROGRAMMED, FX_STORE_FAIL, "app_check", FX_E_TIMEOUT, "application HID 0483:5750 not seen within 2000 ms", 9000, 1200, 2000, false },
	{ 3, 10, 0, "line1-a", 1, "alice", "1.0", "SN003", NULL, FX_STORE_BOARD_CORRUPTED, FX_STORE_PASS, NULL, 0, NULL, 9000, 1200, 1000, false },
	{ 3, 10, 1, "line1-a", 2, "bob", "1.0", "SN006", NULL, FX_STORE_BOARD_BLANK, FX_STORE_ABORTED, NULL, 0, NULL, 9000, 1200, 1000, true },
	{ 3, 10, 2, "line1-a", 1, NULL, "1.0", "SN007", NULL, FX_STORE_BOARD_BLANK, FX_STORE_PASS, NULL, 0, NULL, 9000, 1200, 1000, false },
	{ 7, 11, 0, "line1-b", 2, "dave", "1.0", "SN008", NULL, FX_STORE_BOARD_BLANK, FX_STORE_FAIL, "verify", FX_E_VERIFY, "mismatch at 0x08000010, got 0xFF\nexpected 0x00", 9000, 1200, 1000, false },
	{ 7, 11, 5, "line1-b", 2, "dave", "1.0", "SN008", NULL, FX_STORE_BOARD_PROGRAMMED, FX_STORE_PASS, NULL, 0, NULL, 9000, 1200, 1000, false },
};

/* Record one run; returns 0 or the failing call's code. The store may be
 * replaced (crash + reopen). */
static int fix_record(struct fx_store **stp, const char *path, const struct fix_run *f,
		      struct fx_err *err)
{
	static const char *const names[] = { "probe", "enter_boot", "identify", "read_ob",
					      "erase", "program", "verify", "release", "app_check" };
	int ms[9] = { 800, f->enter_ms, 300, 200, 4000, f->program_ms, 3000, 500, f->app_ms };
	struct fx_run_start s = {
		.station = f->station, .slot = f->slot,
		.port_path = f->slot == 1 ? "1-1.1" : "1-1.2", .operator_id = f->op,
		.recipe_name = "demo-g474", .recipe_version = f->ver,
		.recipe_sha256 = "9f2c", .firmware_sha256 = "e3b0", .software_version = "0.1.0",
		.start_utc_us = FIX_T0 + f->day * FIX_DAY_US +
				((int64_t)f->hh * 3600 + f->mm * 60) * 1000000LL,
	};
	struct fx_store_run run;
	struct fx_run_end end = { 0 };
	int64_t t = s.start_utc_us;
	unsigned i;
	int rc;

	rc = fx_store_run_begin(*stp, &s, &run, err);
	if (rc)
		return rc;
	if (f->serial || f->uid) {
		rc = fx_store_run_set_unit(*stp, &run, f->serial, f->uid, f->board, err);
		if (rc)
			return rc;
	}
	for (i = 0; i < 9; i++) {
		bool last = f->fail_step && !strcmp(f->fail_step, names[i]);
		struct fx_store_step st = { names[i], t, (int64_t)ms[i] * 1000,
					    last ? f->result : FX_STORE_PASS, NULL };
		char detail[64];

		if (!strcmp(names[i], "program")) {
			snprintf(detail, sizeof(detail), "bytes %d", last ? 12 * 2048 : 65536);
			st.detail = detail;
		}
		rc = fx_store_step(*stp, &run, &st, err);
		if (rc)
			return rc;
		t += st.duration_us;
		if (f->crash) {
			/* power lost during enter_boot: no run end */
			fx_store_close(*stp);
			*stp = fx_store_open(path, err);
			if (!*stp)
				return err->code;
			fx_store_set_uuid_seed(*stp, 7777);
			return fx_store_recovered(*stp) == 1 ? 0 : FX_E_STATE;
		}
		if (last)
			break;
	}
	end.result = f->result;
	end.end_utc_us = t;
	end.failing_step = f->fail_step;
	end.error_code = f->code;
	end.message = f->msg;
	return fx_store_run_end(*stp, &run, &end, err);
}

/* Build the fixture at path (which must not exist). */
static int fix_build(const char *path, struct fx_err *err)
{
	struct fx_store *st = fx_store_open(path, err);
	size_t i;
	int rc = 0;

	if (!st)
		return err->code;
	fx_store_set_uuid_seed(st, 2026);
	for (i = 0; i < sizeof(fix_runs) / sizeof(fix_runs[0]) && !rc; i++)
		rc = fix_record(&st, path, &fix_runs[i], err);
	fx_store_close(st);
	return rc;
}

#endif

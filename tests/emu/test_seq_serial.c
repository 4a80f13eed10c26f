/* test_seq_serial.c - serial numbers and kill -9 (issue 11): a child
 * process runs the station sequence (config/demo-g474-serial.ini: a
 * counter written into the flash with the image) and SIGKILLs itself at
 * each allocation state: before the reservation, reserved, reserved just
 * as the program step begins, reached (verify begins), and at the end
 * before the serial is finished. The parent then starts the station again
 * (the run is ABORTED, fx_serial_prepare resolves its reservation) and
 * checks the rules: a value that may have reached the board stays bound
 * to its chip UID, one that cannot have is released and taken first by
 * the next board; two more boards later, no value is bound twice and
 * none is lost. Virtual time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "conf_fix.h"
#include "fx/conf.h"
#include "fx/emu.h"
#include "fx/image.h"
#include "fx/seq.h"
#include "fx/serial.h"
#include "fx/store.h"

#define T0 1796169600000000LL /* 2026-12-02T00:00:00Z */

struct fix {
	char dir[64], db[128], board[160], station[128], recipe[600];
	struct fx_station *st;
	struct fx_recipe *rcp;
	struct fx_image *img;
	struct fx_err err;
};

/* where the child kills itself */
struct kill_at {
	enum fx_seq_report_kind kind;
	const char *step;
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	struct fx_conf_diags d;
	char cwd[400], text[1024];

	assert_non_null(f);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(fxt_conf_mkdir(f->dir, sizeof(f->dir), "/tmp/fxserk.XXXXXX"), 0);
	snprintf(f->db, sizeof(f->db), "%s/s.db", f->dir);
	snprintf(f->board, sizeof(f->board), "%s/b.fxb", f->dir);
	snprintf(f->station, sizeof(f->station), "%s/station.ini", f->dir);
	snprintf(f->recipe, sizeof(f->recipe), "%s/config/demo-g474-serial.ini", cwd);
	snprintf(text, sizeof(text),
		 "[station]\nname = serk\ndatabase = %s\nstart = sim:START\n"
		 "[slot 1]\ndevice = emu:%s\nboot0 = sim:BOOT0_1\nnrst = sim:NRST_1\n"
		 "power = sim:POWER_1\npower_on_ms = 50\nnrst_pulse_ms = 20\n", f->db, f->board);
	fxt_conf_write(f->station, text);
	fx_err_clear(&f->err);
	fx_conf_diags_init(&d);
	assert_int_equal(fx_station_load(f->station, &f->st, &d, &f->err), 0);
	assert_int_equal(fx_recipe_load(f->recipe, &f->rcp, &d, &f->err), 0);
	fx_conf_diags_release(&d);
	f->img = fx_image_load(f->rcp->firmware, FX_IMAGE_AUTO, f->rcp->firmware_raw,
			       f->rcp->address, &f->err);
	assert_non_null(f->img);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	fx_station_free(f->st);
	fx_image_free(f->img);
	fx_recipe_free(f->rcp);
	assert_int_equal(fxt_conf_rmdir(f->dir), 0);
	free(f);
	return 0;
}

static void on_report(void *user, const struct fx_seq_report *rep)
{
	const struct kill_at *k = user;

	if (k && rep->kind == k->kind && rep->step && !strcmp(rep->step, k->step))
		raise(SIGKILL); /* kill -9, as the power cord would */
}

/* One board (demo board number uid_no: its chip UID) through the whole
 * sequence, as the station does: prepare the pool, run. 0 = PASS. */
static int run_board(struct fix *f, unsigned uid_no, const struct kill_at *k, char *serial)
{
	struct fx_vclock vc;
	struct fx_seq_station *stn;
	struct fx_store *store;
	struct fx_seq_outcome out;
	struct fx_seq_job job;
	struct fx_emu *b;
	uint64_t left;
	int rc;

	fx_vclock_init(&vc);
	store = fx_store_open(f->db, &f->err);
	assert_non_null(store);
	if (fx_serial_prepare(store, &f->rcp->serial_number, T0, &left, &f->err))
		fail_msg("prepare: %s", f->err.msg);
	assert_int_equal(fx_seq_station_open(f->st, &vc.base, &stn, &f->err), 0);
	b = fx_seq_demo_board_new(FX_SEQ_DEMO_BLANK, uid_no, f->rcp, f->img, &vc.base, &f->err);
	assert_non_null(b);
	assert_int_equal(fx_seq_slot_set_board(fx_seq_station_first(stn), b, &f->err), 0);
	memset(&job, 0, sizeof(job));
	job.recipe = f->rcp;
	job.image = f->img;
	job.station_name = "serk";
	job.software_version = "test";
	job.utc_offset_us = T0;
	job.report = on_report;
	job.report_user = (void *)k;
	rc = fx_seq_run(fx_seq_station_first(stn), store, &job, &out, &f->err);
	assert_int_equal(rc, 0);
	if (out.result != FX_STORE_PASS)
		fail_msg("board %u: %s", uid_no, out.message);
	if (serial)
		snprintf(serial, 64, "%s", out.serial);
	fx_seq_station_close(stn);
	fx_store_close(store);
	return 0;
}

static const char *q(struct fix *f, const char *sql)
{
	static char buf[512];
	sqlite3_stmt *s;
	sqlite3 *db;

	buf[0] = '\0';
	assert_int_equal(sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		snprintf(buf, sizeof(buf), "%s", (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	sqlite3_close(db);
	return buf;
}

/* The child runs board 1 and dies at k; the parent restarts the station
 * and resolves what it left. want = the state of n 1 afterwards ("" =
 * nothing was reserved). */
static void kill_case(struct fix *f, enum fx_seq_report_kind kind, const char *step,
		      const char *want)
{
	struct kill_at k = { kind, step };
	struct fx_store *store;
	char s2[64], s1[64], sql[256];
	unsigned n = 0;
	uint64_t left;
	int status;
	pid_t pid;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		run_board(f, 1, &k, NULL);
		_exit(3); /* the kill point was never reached */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
		fail_msg("%s: the child was not killed (status 0x%x)", step, status);

	/* the next start: the run is ABORTED, its reservation resolved */
	store = fx_store_open(f->db, &f->err);
	assert_non_null(store);
	assert_int_equal(fx_store_recovered(store), 1);
	assert_int_equal(fx_serial_recover(store, T0, &n, &f->err), 0);
	assert_int_equal(fx_serial_prepare(store, &f->rcp->serial_number, T0, &left, &f->err), 0);
	fx_store_close(store);
	assert_string_equal(q(f, "SELECT result FROM runs WHERE id = 1"), "ABORTED");
	assert_string_equal(q(f, "SELECT count(*) FROM serial_alloc WHERE state = 'reserved'"), "0");
	assert_string_equal(q(f, "SELECT state FROM serial_alloc WHERE n = 1"), want);
	if (!strcmp(want, "bound"))
		assert_string_equal(q(f, "SELECT run_id FROM serial_alloc WHERE n = 1"), "1");

	/* board 2, then board 1 again: released values first, a bound one
	 * kept by its UID */
	run_board(f, 2, NULL, s2);
	run_board(f, 1, NULL, s1);
	assert_string_not_equal(s1, s2);
	snprintf(sql, sizeof(sql), "SELECT n FROM serial_alloc WHERE value = '%s'", s1);
	assert_string_equal(q(f, sql), !strcmp(want, "bound") ? "1" : "2");
	snprintf(sql, sizeof(sql), "SELECT n FROM serial_alloc WHERE value = '%s'", s2);
	assert_string_equal(q(f, sql), !strcmp(want, "bound") ? "2" : "1");
	/* no value bound twice, none lost: exactly n 1 and 2, both bound,
	 * each to its own UID, each the unit's serial */
	assert_string_equal(q(f, "SELECT group_concat(n || state, ',') FROM (SELECT n, state FROM"
			      " serial_alloc ORDER BY n)"), "1bound,2bound");
	assert_string_equal(q(f, "SELECT count(DISTINCT chip_uid) FROM serial_alloc"), "2");
	assert_string_equal(q(f, "SELECT count(*) FROM units u JOIN serial_alloc a"
			      " ON a.value = u.serial AND a.chip_uid = u.chip_uid"), "2");
	/* the event log tells the same story in order */
	assert_string_equal(q(f, "SELECT state FROM serial_event WHERE id ="
			      " (SELECT max(id) FROM serial_event WHERE value = (SELECT value FROM"
			      " serial_alloc WHERE n = 1))"), "bound");
}

static void test_kill_before_reserve(void **state)
{
	kill_case(*state, FX_SEQ_REP_STEP_BEGIN, "serial", "");
}

static void test_kill_reserved(void **state)
{
	kill_case(*state, FX_SEQ_REP_STEP_END, "serial", "released");
}

static void test_kill_before_program(void **state)
{
	/* erase done, the program step begun: reached is committed inside
	 * it, just before the first write, so not yet */
	kill_case(*state, FX_SEQ_REP_STEP_BEGIN, "program", "released");
}

static void test_kill_reached(void **state)
{
	kill_case(*state, FX_SEQ_REP_STEP_BEGIN, "verify", "bound");
}

static void test_kill_before_finish(void **state)
{
	kill_case(*state, FX_SEQ_REP_STEP_END, "app_check", "bound");
}

/* The serial is in the flash of the board at the recipe's address, the
 * step records show it, and the unit serial is the allocated one. */
static void test_pass_records(void **state)
{
	struct fix *f = *state;
	struct fx_vclock vc;
	struct fx_emu *e;
	char s1[64];
	uint8_t buf[16];

	run_board(f, 1, NULL, s1);
	assert_string_equal(q(f, "SELECT serial FROM units"), s1);
	assert_string_equal(q(f, "SELECT serial FROM runs"), s1);
	assert_non_null(strstr(q(f, "SELECT detail FROM steps WHERE name = 'serial'"), s1));
	assert_string_equal(q(f, "SELECT state FROM serial_alloc"), "bound");
	fx_vclock_init(&vc);
	e = fx_emu_load(f->board, &vc.base, &f->err);
	assert_non_null(e);
	assert_int_equal(fx_emu_backdoor_flash_read(e, 0x0807F800, buf, sizeof(buf)), 0);
	assert_memory_equal(buf, s1, strlen(s1));
	assert_int_equal(buf[strlen(s1)], 0xFF);
	fx_emu_free(e);
}

/* a verify mismatch on the serial: the board's flash at the serial
 * changes between program and verify */
struct corrupt {
	struct fx_seq_slot *slot;
};

static void on_verify_corrupt(void *user, const struct fx_seq_report *rep)
{
	struct corrupt *c = user;
	static const uint8_t zero[8];

	if (rep->kind == FX_SEQ_REP_STEP_BEGIN && !strcmp(rep->step, "verify"))
		assert_int_equal(fx_emu_backdoor_flash_write(fx_seq_slot_board(c->slot), 0x0807F800,
							     zero, sizeof(zero)), 0);
}

static void test_verify_names_serial(void **state)
{
	struct fix *f = *state;
	struct fx_vclock vc;
	struct fx_seq_station *stn;
	struct fx_store *store;
	struct fx_seq_outcome out;
	struct fx_seq_job job;
	struct corrupt c;
	char want[200];
	uint64_t left;

	fx_vclock_init(&vc);
	store = fx_store_open(f->db, &f->err);
	assert_non_null(store);
	assert_int_equal(fx_serial_prepare(store, &f->rcp->serial_number, T0, &left, &f->err), 0);
	assert_int_equal(fx_seq_station_open(f->st, &vc.base, &stn, &f->err), 0);
	c.slot = fx_seq_station_first(stn);
	assert_int_equal(fx_seq_slot_set_board(c.slot, fx_seq_demo_board_new(FX_SEQ_DEMO_BLANK, 1,
				 f->rcp, f->img, &vc.base, &f->err), &f->err), 0);
	memset(&job, 0, sizeof(job));
	job.recipe = f->rcp;
	job.image = f->img;
	job.station_name = "serk";
	job.software_version = "test";
	job.utc_offset_us = T0;
	job.report = on_verify_corrupt;
	job.report_user = &c;
	assert_int_equal(fx_seq_run(c.slot, store, &job, &out, &f->err), 0);
	fx_seq_station_close(stn);
	fx_store_close(store);
	assert_int_equal(out.result, FX_STORE_FAIL);
	assert_string_equal(out.failing_step, "verify");
	assert_int_equal(out.error_code, FX_E_VERIFY);
	snprintf(want, sizeof(want), "verify: serial '%s' (serial at 0x0807F800) does not read back: ",
		 out.serial);
	if (strncmp(out.message, want, strlen(want)))
		fail_msg("message '%s', want it to start '%s'", out.message, want);
	/* it reached the board: bound to the UID, not released */
	assert_string_equal(q(f, "SELECT state FROM serial_alloc"), "bound");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pass_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_names_serial, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill_before_reserve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill_reserved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill_before_program, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill_reached, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill_before_finish, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

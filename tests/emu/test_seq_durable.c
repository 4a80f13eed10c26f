/* test_seq_durable.c - issue 8 defect 1: the emulated board is durable
 * before its run record commits. At the moment the run-end transaction
 * commits (an SQLite commit hook), the board file on disk must already
 * hold the firmware, so a kill right after the PASS commit cannot leave
 * a PASS for a blank board file. A board that cannot be saved is an
 * ERROR run at step "save_board", never a PASS. Virtual time, the real
 * station and recipe loaders (config/demo-g474.ini). */
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
#include "seq_fix.h"
#include <sqlite3.h>

#include "fx/conf.h"
#include "fx/emu.h"
#include "fx/image.h"
#include "fx/seq.h"
#include "fx/store.h"

struct fix {
	char dir[64], db[128], board[160], station[128], recipe[600];
	char srcdir[512];
	struct fx_vclock vc;
	struct fx_station *st;
	struct fx_recipe *rcp;
	struct fx_image *img;
	struct fx_store *store;
	struct fx_seq_station *stn;
	struct fx_err err;
	/* filled by the commit hook: did the board file hold the firmware at
	 * the last commit? */
	unsigned commits;
	int file_ok_at_last_commit;
};

/* 1 = the board file holds the recipe's image, 0 = it does not (or is
 * missing or unreadable). */
static int file_holds_image(struct fix *f)
{
	struct fx_vclock vc;
	struct fx_emu *e;
	struct fx_err err;
	int ok;

	if (access(f->board, F_OK))
		return 0;
	fx_vclock_init(&vc);
	fx_err_clear(&err);
	e = fx_emu_load(f->board, &vc.base, &err);
	if (!e)
		return 0;
	ok = fxt_emu_holds(e, f->img);
	fx_emu_free(e);
	return ok;
}

static int on_commit(void *user)
{
	struct fix *f = user;

	f->commits++;
	f->file_ok_at_last_commit = file_holds_image(f);
	return 0; /* let it commit */
}

/* The store's connection is private to it: an auto-extension puts the
 * commit hook on every connection opened while `hooked` is set. */
static struct fix *hooked;

static int hook_connection(sqlite3 *db, const char **errmsg, const void *api)
{
	(void)errmsg;
	(void)api;
	if (hooked)
		sqlite3_commit_hook(db, on_commit, hooked);
	return SQLITE_OK;
}

static void open_station(struct fix *f, const char *board_path)
{
	struct fx_conf_diags d;
	char text[2048];

	snprintf(text, sizeof(text),
		 "[station]\nname = durable\ndatabase = %s\nstart = sim:START\n"
		 "[slot 1]\ndevice = emu:%s\nboot0 = sim:BOOT0_1\nnrst = sim:NRST_1\n"
		 "power = sim:POWER_1\nled_pass = sim:PASS_1\nled_fail = sim:FAIL_1\n"
		 "power_on_ms = 50\npower_off_ms = 200\nnrst_pulse_ms = 20\n"
		 "boot0_setup_ms = 5\npower_off_at_end = yes\n", f->db, board_path);
	fxt_conf_write(f->station, text);
	fx_conf_diags_init(&d);
	assert_int_equal(fx_station_load(f->station, &f->st, &d, &f->err), 0);
	fx_conf_diags_release(&d);
	assert_int_equal(fx_seq_station_open(f->st, &f->vc.base, &f->stn, &f->err), 0);
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_non_null(getcwd(f->srcdir, sizeof(f->srcdir)));
	snprintf(f->dir, sizeof(f->dir), "/tmp/fxdur.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/s.db", f->dir);
	snprintf(f->board, sizeof(f->board), "%s/b.fxb", f->dir);
	snprintf(f->station, sizeof(f->station), "%s/station.ini", f->dir);
	snprintf(f->recipe, sizeof(f->recipe), "%s/config/demo-g474.ini", f->srcdir);
	fx_vclock_init(&f->vc);
	fx_err_clear(&f->err);
	fxt_recipe_image_load(f->recipe, &f->rcp, &f->img);
	hooked = f;
	assert_int_equal(sqlite3_auto_extension((void (*)(void))hook_connection), SQLITE_OK);
	f->store = fx_store_open(f->db, &f->err);
	hooked = NULL;
	assert_non_null(f->store);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	fx_seq_station_close(f->stn);
	fx_store_close(f->store);
	fx_station_free(f->st);
	fx_image_free(f->img);
	fx_recipe_free(f->rcp);
	assert_int_equal(fxt_conf_rmdir(f->dir), 0);
	free(f);
	return 0;
}

static void job_init(struct fix *f, struct fx_seq_job *job)
{
	memset(job, 0, sizeof(*job));
	job->recipe = f->rcp;
	job->image = f->img;
	job->station_name = "durable";
	job->software_version = "test";
	job->utc_offset_us = 1764028800000000LL;
}

static const char *db_text(struct fix *f, const char *sql)
{
	static char buf[512];

	return fxt_sql_text(f->db, sql, buf, sizeof(buf));
}

/* The factory-fresh board in the file is blank: the PASS commit must find
 * the programmed image already in the file. */
static void test_board_saved_before_pass_commit(void **state)
{
	struct fix *f = *state;
	struct fx_seq_outcome out;
	struct fx_seq_job job;

	open_station(f, f->board);
	assert_int_equal(file_holds_image(f), 0);
	job_init(f, &job);
	f->commits = 0;
	assert_int_equal(fx_seq_run(fx_seq_station_first(f->stn), f->store, &job, &out,
				    &f->err), 0);
	assert_string_equal(out.message, "");
	assert_int_equal(out.result, FX_STORE_PASS);
	assert_true(out.recorded);
	assert_true(f->commits > 2);
	/* the last commit is the run end's PASS */
	assert_string_equal(db_text(f, "SELECT result FROM runs"), "PASS");
	assert_int_equal(f->file_ok_at_last_commit, 1);
}

/* A board file that cannot be written: ERROR at save_board, recorded as
 * such, never PASS; the station goes on (fx_seq_run returns 0). */
static void test_save_failure_is_error(void **state)
{
	struct fix *f = *state;
	struct fx_seq_outcome out;
	struct fx_seq_job job;
	char bad[200], want[400];

	snprintf(bad, sizeof(bad), "%s/no-such-dir/b.fxb", f->dir);
	open_station(f, bad);
	job_init(f, &job);
	assert_int_equal(fx_seq_run(fx_seq_station_first(f->stn), f->store, &job, &out,
				    &f->err), 0);
	assert_int_equal(out.result, FX_STORE_ERROR);
	assert_true(out.recorded);
	assert_string_equal(out.failing_step, "save_board");
	assert_int_equal(out.error_code, FX_E_FILE);
	snprintf(want, sizeof(want),
		 "save_board: board file '%s': cannot write: No such file or directory", bad);
	assert_string_equal(out.message, want);
	assert_string_equal(db_text(f, "SELECT result || ' ' || failing_step || ' ' || "
				    "error_code FROM runs"), "ERROR save_board FX_E_FILE");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_board_saved_before_pass_commit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_save_failure_is_error, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

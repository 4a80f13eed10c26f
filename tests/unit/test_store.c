/* test_store.c - the recording API: open/migrate/refuse, run rows, units,
 * steps, ABORTED recovery, summaries against the raw runs, write failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "fx/store.h"

#define DAY_US (86400LL * 1000000LL)
#define T0 (20514LL * DAY_US) /* 2026-03-02T00:00:00Z */

static char dir[64];
static char dbpath[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/fx-test-store-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(dbpath, sizeof(dbpath), "%s/st.db", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[160];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static struct fx_store *open_ok(void)
{
	struct fx_err err;
	struct fx_store *st = fx_store_open(dbpath, &err);

	if (!st)
		fail_msg("open: %s", err.msg);
	fx_store_set_uuid_seed(st, 42);
	return st;
}

/* Run a query on a side connection and return the first column as text
 * (static buffer, test only). */
static const char *q1(const char *sql)
{
	static char buf[512];
	sqlite3 *db;
	sqlite3_stmt *s;

	assert_int_equal(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		snprintf(buf, sizeof(buf), "%s", (const char *)sqlite3_column_text(s, 0));
	else
		snprintf(buf, sizeof(buf), "(null)");
	sqlite3_finalize(s);
	sqlite3_close(db);
	return buf;
}

static struct fx_run_start start_at(int64_t t, const char *op)
{
	struct fx_run_start s = {
		.station = "line1-a", .slot = 1, .port_path = "1-1.4",
		.operator_id = op, .recipe_name = "demo-g474", .recipe_version = "1.0",
		.recipe_sha256 = "aa", .firmware_sha256 = "bb",
		.software_version = "0.1.0", .start_utc_us = t,
	};
	return s;
}

static void record(struct fx_store *st, int64_t t, const char *serial, const char *uid,
		   enum fx_store_result res, int64_t dur_s)
{
	struct fx_run_start s = start_at(t, "alice");
	struct fx_store_run run;
	struct fx_store_step step = { "program", t, dur_s * 1000000 / 2, FX_STORE_PASS, "bytes 4096" };
	struct fx_run_end end = { res, t + dur_s * 1000000, res == FX_STORE_PASS ? NULL : "verify",
				  res == FX_STORE_PASS ? 0 : FX_E_VERIFY, "mismatch at 0x08000010" };
	struct fx_err err;

	assert_int_equal(fx_store_run_begin(st, &s, &run, &err), 0);
	if (serial || uid)
		assert_int_equal(fx_store_run_set_unit(st, &run, serial, uid,
						       FX_STORE_BOARD_BLANK, &err), 0);
	assert_int_equal(fx_store_step(st, &run, &step, &err), 0);
	if (fx_store_run_end(st, &run, &end, &err))
		fail_msg("run end: %s", err.msg);
}

static void test_open_pragmas(void **state)
{
	struct fx_store *st;

	(void)state;
	st = open_ok();
	assert_string_equal(q1("PRAGMA user_version"), "1");
	assert_string_equal(q1("PRAGMA journal_mode"), "wal");
	assert_int_equal(fx_store_recovered(st), 0);
	assert_string_equal(fx_store_path(st), dbpath);
	/* the synchronous level belongs to the connection */
	{
		sqlite3_stmt *s;
		assert_int_equal(sqlite3_prepare_v2(fx_store_sqlite(st), "PRAGMA synchronous", -1, &s, NULL), 0);
		assert_int_equal(sqlite3_step(s), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int(s, 0), 2); /* FULL */
		sqlite3_finalize(s);
	}
	fx_store_close(st);
	fx_store_close(NULL);
}

static void test_run_row(void **state)
{
	struct fx_store *st;
	struct fx_run_start s = start_at(T0 + 3600000000LL, "alice");
	struct fx_store_run run;
	struct fx_store_step step = { "erase", T0 + 3600000000LL, 1500000, FX_STORE_PASS, "pages 4" };
	struct fx_run_end end = { FX_STORE_FAIL, T0 + 3612000000LL, "verify", FX_E_VERIFY,
				  "mismatch at 0x08000010: got 0x00, expected 0xFF" };
	struct fx_err err;

	(void)state;
	st = open_ok();
	assert_int_equal(fx_store_run_begin(st, &s, &run, &err), 0);
	/* committed at once: another connection sees it, unfinished */
	assert_string_equal(q1("SELECT count(*) FROM runs WHERE result IS NULL"), "1");
	assert_int_equal(strlen(run.uuid), 36);
	assert_int_equal(run.uuid[14], '4');
	assert_non_null(strchr("89ab", run.uuid[19]));
	assert_int_equal(fx_store_run_set_unit(st, &run, "SN-1", "0011223344556677889900AA",
					       FX_STORE_BOARD_CORRUPTED, &err), 0);
	assert_int_equal(fx_store_step(st, &run, &step, &err), 0);
	step.name = "verify";
	step.result = FX_STORE_FAIL;
	step.detail = NULL;
	assert_int_equal(fx_store_step(st, &run, &step, &err), 0);
	assert_int_equal(fx_store_run_end(st, &run, &end, &err), 0);
	assert_string_equal(q1("SELECT uuid || '|' || serial || '|' || chip_uid || '|' || station || '|' ||"
			       " slot || '|' || port_path || '|' || operator || '|' || recipe_name || '|' ||"
			       " recipe_version || '|' || board_state || '|' || start_utc || '|' || end_utc ||"
			       " '|' || result || '|' || failing_step || '|' || error_code || '|' ||"
			       " error_message || '|' || software_version || '|' || duration_s FROM v_runs"),
			    "956eeb2f-2632-47bd-83f1-66b233e3ef28|SN-1|0011223344556677889900AA|line1-a|1|1-1.4|alice|demo-g474|1.0|corrupted|"
			    "2026-03-02T01:00:00.000Z|2026-03-02T01:00:12.000Z|FAIL|verify|FX_E_VERIFY|"
			    "mismatch at 0x08000010: got 0x00, expected 0xFF|0.1.0|12.0");
	assert_string_equal(q1("SELECT group_concat(seq || ':' || step || ':' || result || ':' || duration_s, ',')"
			       " FROM v_steps"), "1:erase:PASS:1.5,2:verify:FAIL:1.5");
	/* ending twice is refused and changes nothing */
	assert_int_equal(fx_store_run_end(st, &run, &end, &err), FX_E_STATE);
	{
		char want[256];

		snprintf(want, sizeof(want), "database '%s': run %s is already ended or unknown",
			 dbpath, run.uuid);
		assert_string_equal(err.msg, want);
	}
	assert_string_equal(q1("SELECT runs || ',' || failed FROM sum_bucket"), "1,1");
	fx_store_close(st);
}

static void test_bad_args(void **state)
{
	struct fx_store *st;
	struct fx_run_start s = start_at(T0, NULL);
	struct fx_store_run run;
	struct fx_store_step step = { NULL, T0, 1, FX_STORE_PASS, NULL };
	struct fx_run_end end = { FX_STORE_PASS, T0 - 1, NULL, 0, NULL };
	struct fx_err err;

	(void)state;
	st = open_ok();
	s.station = "";
	assert_int_equal(fx_store_run_begin(st, &s, &run, &err), FX_E_INVAL);
	assert_string_equal(err.msg, "run begin: station and recipe name are required");
	s = start_at(T0, NULL);
	assert_int_equal(fx_store_run_begin(st, &s, &run, &err), 0);
	assert_int_equal(fx_store_run_set_unit(st, &run, "", NULL, FX_STORE_BOARD_BLANK, &err), FX_E_INVAL);
	assert_string_equal(err.msg, "run unit: a serial or a chip uid is required");
	assert_int_equal(fx_store_run_set_unit(st, &run, "X", NULL, (enum fx_store_board)9, &err), FX_E_INVAL);
	assert_string_equal(err.msg, "run unit: board state 9 out of range");
	assert_int_equal(fx_store_step(st, &run, &step, &err), FX_E_INVAL);
	assert_string_equal(err.msg, "step: a name is required");
	step.name = "erase";
	step.duration_us = -5;
	assert_int_equal(fx_store_step(st, &run, &step, &err), FX_E_INVAL);
	assert_string_equal(err.msg, "step 'erase': bad result 0 or duration -5");
	assert_int_equal(fx_store_run_end(st, &run, &end, &err), FX_E_INVAL);
	assert_non_null(strstr(err.msg, "run end: end "));
	end.end_utc_us = T0;
	end.result = FX_STORE_SKIPPED;
	assert_int_equal(fx_store_run_end(st, &run, &end, &err), FX_E_INVAL);
	assert_string_equal(err.msg, "run end: bad result 4");
	fx_store_close(st);
}

static void test_units(void **state)
{
	struct fx_store *st;

	(void)state;
	st = open_ok();
	record(st, T0, NULL, "UID-A", FX_STORE_FAIL, 10);    /* unit 1 by uid only */
	record(st, T0 + 60000000, "SN-A", "UID-A", FX_STORE_PASS, 10); /* gets its serial */
	record(st, T0 + 120000000, "SN-A", NULL, FX_STORE_PASS, 10);   /* same unit */
	record(st, T0 + 180000000, "SN-B", NULL, FX_STORE_PASS, 10);   /* unit 2 */
	record(st, T0 + 240000000, "SN-B", "UID-B", FX_STORE_PASS, 10); /* fills uid */
	record(st, T0 + 300000000, NULL, NULL, FX_STORE_ERROR, 10);    /* no unit */
	assert_string_equal(q1("SELECT group_concat(id || ':' || serial || ':' || chip_uid, ',') FROM units"),
			    "1:SN-A:UID-A,2:SN-B:UID-B");
	assert_string_equal(q1("SELECT group_concat(x, ',') FROM (SELECT COALESCE(unit_id, '-') AS x FROM runs ORDER BY id)"), "1,1,1,2,2,-");
	/* the cohort: unit 1 failed first and passed last, unit 2 passed */
	assert_string_equal(q1("SELECT units || ',' || units_first_pass || ',' || units_final_pass"
			       " || ',' || runs || ',' || passed || ',' || failed || ',' || errors FROM sum_bucket"),
			    "2,1,2,6,4,1,1");
	assert_string_equal(q1("SELECT group_concat(first_result || '>' || last_result || ':' || runs, ',')"
			       " FROM v_first_pass"), "FAIL>PASS:3,PASS>PASS:2");
	fx_store_close(st);
}

static void test_recover_aborted(void **state)
{
	struct fx_store *st;
	struct fx_run_start s = start_at(T0 + 1000, "bob");
	struct fx_store_run run;
	struct fx_store_step step = { "probe", T0 + 1000, 700000, FX_STORE_PASS, "app absent" };
	struct fx_store_counts c;
	struct fx_err err;

	(void)state;
	st = open_ok();
	record(st, T0, "SN-1", NULL, FX_STORE_PASS, 10);
	assert_int_equal(fx_store_run_begin(st, &s, &run, &err), 0);
	assert_int_equal(fx_store_run_set_unit(st, &run, "SN-2", NULL, FX_STORE_BOARD_BLANK, &err), 0);
	assert_int_equal(fx_store_step(st, &run, &step, &err), 0);
	fx_store_close(st); /* the simulated crash: no run end */

	st = open_ok();
	assert_int_equal(fx_store_recovered(st), 1);
	assert_string_equal(q1("SELECT result || '|' || error_code || '|' || error_message || '|' ||"
			       " COALESCE(end_us, 'null') || '|' || serial FROM v_runs WHERE operator = 'bob'"),
			    "ABORTED|FX_E_ABORTED|unfinished at start-up|null|SN-2");
	assert_string_equal(q1("SELECT count(*) FROM steps"), "2");
	assert_string_equal(q1("SELECT runs || ',' || passed || ',' || aborted || ',' || units || ','"
			       " || units_first_pass FROM v_yield WHERE operator = 'bob'"), "1,0,1,1,0");
	/* no cycle for an aborted run */
	assert_string_equal(q1("SELECT sum(n) FROM v_cycle_hist WHERE operator = 'bob'"), "(null)");
	assert_int_equal(fx_store_counts_day(st, T0 + 5 * 3600000000LL, NULL, &c, &err), 0);
	assert_int_equal(c.runs, 2);
	assert_int_equal(c.passed, 1);
	assert_int_equal(c.failed, 0);
	assert_int_equal(c.errors, 1);
	assert_int_equal(fx_store_counts_day(st, T0, "alice", &c, &err), 0);
	assert_int_equal(c.runs, 1);
	assert_int_equal(fx_store_counts_day(st, T0 + DAY_US, NULL, &c, &err), 0);
	assert_int_equal(c.runs, 0);
	/* the aborted run cannot be ended any more */
	{
		struct fx_run_end end = { FX_STORE_PASS, T0 + 2000, NULL, 0, NULL };
		assert_int_equal(fx_store_run_end(st, &run, &end, &err), FX_E_STATE);
	}
	fx_store_close(st);
	st = open_ok();
	assert_int_equal(fx_store_recovered(st), 0);
	fx_store_close(st);
}

static void test_refuse_newer(void **state)
{
	struct fx_err err;
	char want[256];
	sqlite3 *db;

	(void)state;
	fx_store_close(open_ok());
	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 7", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_null(fx_store_open(dbpath, &err));
	assert_int_equal(err.code, FX_E_DB);
	snprintf(want, sizeof(want),
		 "database '%s': schema version 7 is newer than this software (1); upgrade fixturectl", dbpath);
	assert_string_equal(err.msg, want);
	assert_null(fx_store_open_readonly(dbpath, &err));
	assert_string_equal(err.msg, want);
}

static void test_refuse_not_db(void **state)
{
	struct fx_err err;
	char want[256];
	FILE *f;
	sqlite3 *db;

	(void)state;
	f = fopen(dbpath, "w");
	assert_non_null(f);
	fputs("this is a recipe, not a database\n", f);
	for (int i = 0; i < 200; i++)
		fputs("0123456789abcdef", f);
	fclose(f);
	snprintf(want, sizeof(want), "database '%s': file is not a database", dbpath);
	assert_null(fx_store_open(dbpath, &err));
	assert_int_equal(err.code, FX_E_DB);
	assert_string_equal(err.msg, want);
	assert_null(fx_store_open_readonly(dbpath, &err));
	assert_int_equal(err.code, FX_E_DB);
	assert_string_equal(err.msg, want);

	/* another program's SQLite file */
	unlink(dbpath);
	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_null(fx_store_open(dbpath, &err));
	snprintf(want, sizeof(want),
		 "database '%s': not a fixturectl database (user_version 0 but 1 schema objects)", dbpath);
	assert_string_equal(err.msg, want);
}

static void test_readonly(void **state)
{
	struct fx_store *st;
	struct fx_run_start s = start_at(T0, NULL);
	struct fx_store_run run;
	struct fx_err err;
	char want[256];
	sqlite3 *db;

	(void)state;
	assert_null(fx_store_open_readonly(dbpath, &err));
	assert_int_equal(err.code, FX_E_FILE);
	snprintf(want, sizeof(want), "database '%s': No such file or directory", dbpath);
	assert_string_equal(err.msg, want);
	assert_int_equal(access(dbpath, F_OK), -1); /* never created */

	fx_store_close(open_ok());
	st = fx_store_open_readonly(dbpath, &err);
	assert_non_null(st);
	assert_int_equal(fx_store_run_begin(st, &s, &run, &err), FX_E_DB);
	snprintf(want, sizeof(want), "database '%s': opened read-only", dbpath);
	assert_string_equal(err.msg, want);
	fx_store_close(st);

	/* an old schema is not migrated by a read-only open */
	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 0; DROP VIEW v_runs", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	unlink(dbpath);
	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 0", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_null(fx_store_open_readonly(dbpath, &err));
	snprintf(want, sizeof(want),
		 "database '%s': schema version 0 is older than this software (1); open it once with the station to migrate it",
		 dbpath);
	assert_string_equal(err.msg, want);
	/* ...and the recording open migrates it */
	st = open_ok();
	fx_store_close(st);
	assert_string_equal(q1("PRAGMA user_version"), "1");
}

/* A database that cannot be written: the run end reports FX_E_DB and the
 * run stays unfinished (ABORTED at the next open), never a silent PASS. */
static void test_write_failure(void **state)
{
	struct fx_store *st;
	struct fx_run_start s = start_at(T0, NULL);
	struct fx_store_run run;
	struct fx_run_end end = { FX_STORE_PASS, T0 + 1000000, NULL, 0, NULL };
	struct fx_err err;
	char want[256];
	sqlite3 *other;

	(void)state;
	st = open_ok();
	assert_int_equal(fx_store_run_begin(st, &s, &run, &err), 0);
	assert_int_equal(sqlite3_open(dbpath, &other), SQLITE_OK);
	assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_busy_timeout(fx_store_sqlite(st), 0); /* no 5 s wait in a test */
	assert_int_equal(fx_store_run_end(st, &run, &end, &err), FX_E_DB);
	snprintf(want, sizeof(want), "database '%s': database is locked", dbpath);
	assert_string_equal(err.msg, want);
	assert_int_equal(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(other);
	assert_string_equal(q1("SELECT count(*) FROM runs WHERE result IS NULL"), "1");
	assert_string_equal(q1("SELECT count(*) FROM sum_bucket"), "0");
	/* the lock is gone: the same end now commits */
	assert_int_equal(fx_store_run_end(st, &run, &end, &err), 0);
	assert_string_equal(q1("SELECT result FROM runs"), "PASS");
	fx_store_close(st);
}

static void test_hist_and_names(void **state)
{
	static int64_t n[FX_STORE_HB_MAX], sum[FX_STORE_HB_MAX];
	static const char *const bad[] = { "", "x", "[", "[[1,2]]", "[[1,2,3]", "[[3000,1,1]]",
					   "[[-1,1,1]]", "[[1,2,3],]", "[[1,2,3]x", NULL };
	int i;

	(void)state;
	assert_true(fx_store_hist_add("[]", n, sum));
	assert_true(fx_store_hist_add("[[1,2,3],[2047,1,10]]", n, sum));
	assert_true(fx_store_hist_add("[[1,1,1]]", n, sum));
	assert_int_equal(n[1], 3);
	assert_int_equal(sum[1], 4);
	assert_int_equal(n[2047], 1);
	assert_int_equal(sum[2047], 10);
	for (i = 0; bad[i]; i++)
		if (fx_store_hist_add(bad[i], n, sum))
			fail_msg("'%s' accepted", bad[i]);
	assert_false(fx_store_hist_add(NULL, n, sum));
	assert_string_equal(fx_store_result_name(FX_STORE_ABORTED), "ABORTED");
	assert_null(fx_store_result_name((enum fx_store_result)5));
	assert_string_equal(fx_store_board_name(FX_STORE_BOARD_PROTECTED), "protected");
	assert_null(fx_store_board_name((enum fx_store_board)5));
}

static void test_bulk(void **state)
{
	struct fx_store *st;
	struct fx_err err;

	(void)state;
	st = open_ok();
	assert_int_equal(fx_store_bulk_end(st, &err), FX_E_STATE);
	assert_int_equal(fx_store_bulk_begin(st, &err), 0);
	assert_int_equal(fx_store_bulk_begin(st, &err), FX_E_STATE);
	record(st, T0, "SN-1", NULL, FX_STORE_PASS, 10);
	record(st, T0 + 1, "SN-1", NULL, FX_STORE_FAIL, 10);
	assert_string_equal(q1("SELECT count(*) FROM runs"), "0"); /* not yet committed */
	assert_int_equal(fx_store_bulk_end(st, &err), 0);
	assert_string_equal(q1("SELECT count(*) FROM runs"), "2");
	assert_string_equal(q1("SELECT units_final_pass FROM sum_bucket"), "0");

	/* a failure inside a bulk rolls the whole bulk back */
	{
		struct fx_run_start s = start_at(T0 + 5, NULL);
		struct fx_store_run run, bogus = { .id = 999, .uuid = "x", .start_utc_us = T0 };
		struct fx_run_end end = { FX_STORE_PASS, T0 + 10, NULL, 0, NULL };
		char want[256];

		assert_int_equal(fx_store_bulk_begin(st, &err), 0);
		assert_int_equal(fx_store_run_begin(st, &s, &run, &err), 0);
		assert_int_equal(fx_store_run_end(st, &bogus, &end, &err), FX_E_STATE);
		assert_int_equal(fx_store_run_end(st, &run, &end, &err), FX_E_STATE);
		snprintf(want, sizeof(want), "database '%s': bulk load failed earlier", dbpath);
		assert_string_equal(err.msg, want);
		assert_int_equal(fx_store_bulk_end(st, &err), FX_E_STATE);
		snprintf(want, sizeof(want), "database '%s': bulk load rolled back after an error", dbpath);
		assert_string_equal(err.msg, want);
		assert_string_equal(q1("SELECT count(*) FROM runs"), "2");
		/* and recording works normally again */
		record(st, T0 + 20, "SN-2", NULL, FX_STORE_PASS, 10);
		assert_string_equal(q1("SELECT count(*) FROM runs"), "3");
	}
	fx_store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_pragmas, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_row, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_units, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover_aborted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_newer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_not_db, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hist_and_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bulk, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

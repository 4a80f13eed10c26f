/* test_store.c - the recording API: open/migrate/refuse, run rows, units,
 * steps, ABORTED recovery, summaries against the raw runs, write failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "fx/store.h"

/* the schema version as text, for PRAGMA user_version and messages */
#define SV_(x) #x
#define SV_STR(x) SV_(x)
#define SV SV_STR(FX_STORE_SCHEMA_VERSION)
#include "../../src/store/store_int.h"

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

	if (fx_store_run_begin(st, &s, &run, &err))
		fail_msg("run begin: %s", err.msg);
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
	assert_string_equal(q1("PRAGMA user_version"), SV);
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

/* A unit stored with the all-zero UID (RDP 1 boards before
 * fx_prog_ident.uid_valid) gets its real UID on the next run; a real UID
 * is never replaced. */
static void test_unit_zero_uid_repaired(void **state)
{
	struct fx_store *st;

	(void)state;
	st = open_ok();
	record(st, T0, "SN-Z", "000000000000000000000000", FX_STORE_PASS, 10);
	record(st, T0 + 60000000, "SN-Z", "343B424950575E6507003447", FX_STORE_PASS, 10);
	record(st, T0 + 120000000, "SN-Z", "0011223344556677889900AA", FX_STORE_PASS, 10);
	assert_string_equal(q1("SELECT group_concat(id || ':' || serial || ':' || chip_uid, ',') FROM units"),
			    "1:SN-Z:343B424950575E6507003447");
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
		 "database '%s': schema version 7 is newer than this software (" SV "); upgrade fixturectl", dbpath);
	assert_string_equal(err.msg, want);
	assert_null(fx_store_open_readonly(dbpath, &err));
	assert_string_equal(err.msg, want);
}

static void test_refuse_not_db(void **state)
{
	struct fx_err err;
	char want[256], dmg[512];
	FILE *f;
	sqlite3 *db;

	(void)state;
	f = fopen(dbpath, "w");
	assert_non_null(f);
	fputs("this is a recipe, not a database\n", f);
	for (int i = 0; i < 200; i++)
		fputs("0123456789abcdef", f);
	fclose(f);
	/* recording: refused with the way out (issue 8) */
	snprintf(dmg, sizeof(dmg), "database '%s' is damaged (file is not a database): not "
		 "recording into it; restore the last backup, or rescue the records: sqlite3 '%s' "
		 ".recover | sqlite3 NEW.db", dbpath, dbpath);
	assert_null(fx_store_open(dbpath, &err));
	assert_int_equal(err.code, FX_E_DB);
	assert_string_equal(err.msg, dmg);
	snprintf(want, sizeof(want), "database '%s': file is not a database", dbpath);
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
		 "database '%s': schema version 0 is older than this software (" SV "); open it once with the station to migrate it",
		 dbpath);
	assert_string_equal(err.msg, want);
	/* ...and the recording open migrates it */
	st = open_ok();
	fx_store_close(st);
	assert_string_equal(q1("PRAGMA user_version"), SV);
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

/* Collects decoded entries. */
struct hist_seen {
	int n;
	int hb[8];
	int64_t cnt[8], sum[8];
};

static void hist_seen_add(void *ctx, int hb, int64_t n, int64_t sum)
{
	struct hist_seen *h = ctx;

	if (h->n < 8) {
		h->hb[h->n] = hb;
		h->cnt[h->n] = n;
		h->sum[h->n] = sum;
	}
	h->n++;
}

static struct hist_seen hist_decoded(const uint8_t *p, size_t len)
{
	struct hist_seen h = { 0 };

	assert_true(fx_store_hist_decode(p, len, hist_seen_add, &h));
	return h;
}

/* The bucket arithmetic: every valid bucket's middle falls in it, the
 * buckets that do not exist have no middle (fx_report_hist_mid shifted by
 * a negative count for them: cppcheck's undefined shift). */
static void test_hist_buckets(void **state)
{
	int hb, valid = 0;

	(void)state;
	for (hb = -1; hb <= FX_STORE_HB_MAX; hb++) {
		if (!fx_store_hist_valid(hb)) {
			assert_int_equal(fx_store_hist_mid(hb), -1);
			continue;
		}
		valid++;
		assert_int_equal(fx_store_hist_bucket(fx_store_hist_mid(hb)), hb);
	}
	assert_int_equal(valid, 32 + 58 * 32);
	assert_int_equal(fx_store_hist_mid(31), 31);
	assert_int_equal(fx_store_hist_mid(5 * 32), 32);
	assert_int_equal(fx_store_hist_mid(6 * 32 + 1), 66 + 1);
	assert_int_equal(fx_store_hist_mid(32), -1);
	assert_int_equal(fx_store_hist_mid(159), -1);
	assert_int_equal(fx_store_hist_bucket(INT64_MAX), FX_STORE_HB_LAST);
	assert_int_equal(fx_store_hist_bucket(-5), 0);
	assert_int_equal(fx_store_hist_bucket(1000000), 637);
}

/* The BLOB codec: adding durations keeps one ascending entry per bucket;
 * malformed blobs and version 1's JSON are told apart exactly. */
static void test_hist_codec(void **state)
{
	static const char *const bad_json[] = { "", "x", "[", "[[1,2]]", "[[1,2,3]", "[[3000,1,1]]",
						"[[-1,1,1]]", "[[1,2,3],]", "[[1,2,3]x", "[[100,1,1]]",
						"[[2,1,1],[1,1,1]]", "[[2,1,1],[2,1,1]]",
						"[[1,1234567890123456789,1]]", NULL };
	uint8_t *a = NULL, *b = NULL, bad[FX_STORE_HIST_ENTRY * 2];
	size_t alen = 0, blen = 0;
	struct hist_seen h;
	int i;

	(void)state;
	/* empty -> 1 s -> 5 us (before) -> 1 s again (merged) -> 2 s (after) */
	assert_int_equal(fx_store_hist_add_one(NULL, 0, 1000000, &a, &alen), FX_HIST_OK);
	assert_int_equal(alen, FX_STORE_HIST_ENTRY);
	assert_int_equal(fx_store_hist_add_one(a, alen, 5, &b, &blen), FX_HIST_OK);
	free(a);
	assert_int_equal(fx_store_hist_add_one(b, blen, 1000001, &a, &alen), FX_HIST_OK);
	free(b);
	assert_int_equal(fx_store_hist_add_one(a, alen, 2000000, &b, &blen), FX_HIST_OK);
	free(a);
	h = hist_decoded(b, blen);
	assert_int_equal(h.n, 3);
	assert_int_equal(h.hb[0], 5);
	assert_int_equal(h.cnt[0], 1);
	assert_int_equal(h.sum[0], 5);
	assert_int_equal(h.hb[1], 637);
	assert_int_equal(h.cnt[1], 2);
	assert_int_equal(h.sum[1], 2000001);
	assert_int_equal(h.hb[2], fx_store_hist_bucket(2000000));
	/* big-endian, fixed width: hb 0x0005, n 1, sum 5 */
	assert_memory_equal(b, "\x00\x05\0\0\0\0\0\0\0\x01\0\0\0\0\0\0\0\x05",
			    FX_STORE_HIST_ENTRY);

	/* malformed: a short entry, a descending or repeated bucket, a
	 * bucket that does not exist, a count above INT64_MAX */
	assert_false(fx_store_hist_decode(b, blen - 1, hist_seen_add, &h));
	memcpy(bad, b + FX_STORE_HIST_ENTRY, FX_STORE_HIST_ENTRY);
	memcpy(bad + FX_STORE_HIST_ENTRY, b, FX_STORE_HIST_ENTRY);
	assert_false(fx_store_hist_decode(bad, sizeof(bad), hist_seen_add, &h));
	memcpy(bad + FX_STORE_HIST_ENTRY, bad, FX_STORE_HIST_ENTRY);
	assert_false(fx_store_hist_decode(bad, sizeof(bad), hist_seen_add, &h));
	memcpy(bad, b, FX_STORE_HIST_ENTRY);
	bad[1] = 100;
	assert_false(fx_store_hist_decode(bad, FX_STORE_HIST_ENTRY, hist_seen_add, &h));
	memcpy(bad, b, FX_STORE_HIST_ENTRY);
	bad[2] = 0x80;
	assert_false(fx_store_hist_decode(bad, FX_STORE_HIST_ENTRY, hist_seen_add, &h));
	assert_int_equal(fx_store_hist_add_one(bad, FX_STORE_HIST_ENTRY, 5, &a, &alen),
			 FX_HIST_MALFORMED);
	assert_true(fx_store_hist_decode(NULL, 0, hist_seen_add, &h));
	/* a sum that would pass INT64_MAX */
	memcpy(bad, b, FX_STORE_HIST_ENTRY);
	memset(bad + 10, 0xff, 8);
	bad[10] = 0x7f;
	assert_int_equal(fx_store_hist_add_one(bad, FX_STORE_HIST_ENTRY, 5, &a, &alen),
			 FX_HIST_OVERFLOW);
	assert_int_equal(fx_store_hist_add_one(bad, FX_STORE_HIST_ENTRY, 6, &a, &alen),
			 FX_HIST_OK); /* another bucket: no sum grows */
	free(a);
	free(b);

	/* schema version 1's JSON (the migration) */
	assert_int_equal(fx_store_hist_from_json("[]", &a, &alen), FX_HIST_OK);
	assert_int_equal(alen, 0);
	free(a);
	assert_int_equal(fx_store_hist_from_json("[[1,2,3],[2015,1,10]]", &a, &alen), FX_HIST_OK);
	h = hist_decoded(a, alen);
	assert_int_equal(h.n, 2);
	assert_int_equal(h.hb[1], 2015);
	assert_int_equal(h.cnt[0], 2);
	assert_int_equal(h.sum[1], 10);
	free(a);
	for (i = 0; bad_json[i]; i++)
		if (fx_store_hist_from_json(bad_json[i], &a, &alen) != FX_HIST_MALFORMED)
			fail_msg("'%s' accepted", bad_json[i]);
	assert_int_equal(fx_store_hist_from_json(NULL, &a, &alen), FX_HIST_MALFORMED);
}

static void test_names(void **state)
{
	enum fx_store_result r = FX_STORE_PASS;

	(void)state;
	assert_string_equal(fx_store_result_name(FX_STORE_ABORTED), "ABORTED");
	assert_null(fx_store_result_name((enum fx_store_result)5));
	assert_string_equal(fx_store_board_name(FX_STORE_BOARD_PROTECTED), "protected");
	assert_null(fx_store_board_name((enum fx_store_board)5));
	for (r = FX_STORE_PASS; r <= FX_STORE_SKIPPED; r++) {
		enum fx_store_result back = (enum fx_store_result)99;

		assert_true(fx_store_result_from_name(fx_store_result_name(r), &back));
		assert_int_equal(back, r);
	}
	r = FX_STORE_FAIL;
	assert_false(fx_store_result_from_name("pass", &r));
	assert_false(fx_store_result_from_name("", &r));
	assert_false(fx_store_result_from_name(NULL, &r));
	assert_int_equal(r, FX_STORE_FAIL);
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

/* Files next to the database: "-wal", "-shm", ".lock". */
static bool side_exists(const char *suffix)
{
	char p[160];

	snprintf(p, sizeof(p), "%s%s", dbpath, suffix);
	return access(p, F_OK) == 0;
}

/* A second recording open of a database a station is recording into is
 * refused (FX_E_BUSY, with the holder's pid) and touches nothing: the
 * live run is not marked ABORTED under the first station. */
static void test_lock_busy(void **state)
{
	struct fx_store *st, *st2, *ro;
	struct fx_run_start s = start_at(T0, NULL);
	struct fx_store_run run;
	struct fx_run_end end = { FX_STORE_PASS, T0 + 1000000, NULL, 0, NULL };
	struct fx_err err;
	char want[256], buf[8];
	int up[2], down[2], status;
	pid_t child;

	(void)state;
	st = open_ok();
	assert_int_equal(fx_store_run_begin(st, &s, &run, &err), 0);
	/* the same process again (a second slot opening its own store) */
	st2 = fx_store_open(dbpath, &err);
	fx_store_close(st2); /* (before the fix: it marked the run ABORTED) */
	assert_null(st2);
	assert_int_equal(err.code, FX_E_BUSY);
	snprintf(want, sizeof(want), "database '%s' is in use by another station process (pid %ld)",
		 dbpath, (long)getpid());
	assert_string_equal(err.msg, want);
	assert_string_equal(q1("SELECT COALESCE(result, 'open') FROM runs"), "open");
	assert_true(side_exists(".lock"));
	/* readers never take the lock */
	ro = fx_store_open_readonly(dbpath, &err);
	assert_non_null(ro);
	fx_store_close(ro);
	/* the first station's good board is recorded as PASS */
	assert_int_equal(fx_store_run_end(st, &run, &end, &err), 0);
	assert_string_equal(q1("SELECT result FROM runs"), "PASS");
	fx_store_close(st);

	/* another process holds it: its pid is named; after it closes, the
	 * open succeeds and recovers its unfinished run */
	assert_int_equal(pipe(up), 0);
	assert_int_equal(pipe(down), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct fx_store *c = fx_store_open(dbpath, &err);
		struct fx_store_run r;

		close(up[0]);
		close(down[1]);
		if (!c || fx_store_run_begin(c, &s, &r, &err))
			_exit(1);
		if (write(up[1], "k", 1) != 1)
			_exit(2);
		if (read(down[0], buf, 1) < 0) /* until the parent says */
			_exit(3);
		fx_store_close(c);
		_exit(0);
	}
	close(up[1]);
	close(down[0]);
	assert_int_equal(read(up[0], buf, 1), 1);
	assert_null(fx_store_open(dbpath, &err));
	assert_int_equal(err.code, FX_E_BUSY);
	snprintf(want, sizeof(want), "database '%s' is in use by another station process (pid %ld)",
		 dbpath, (long)child);
	assert_string_equal(err.msg, want);
	assert_string_equal(q1("SELECT count(*) FROM runs WHERE result IS NULL"), "1");
	close(down[1]);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(up[0]);
	st = open_ok();
	assert_int_equal(fx_store_recovered(st), 1);
	fx_store_close(st);

	/* no lock file can be made: named, with the cause */
	snprintf(want, sizeof(want), "%s/nodir/st.db", dir);
	assert_null(fx_store_open(want, &err));
	assert_int_equal(err.code, FX_E_DB);
	{
		char msg[640];

		snprintf(msg, sizeof(msg),
			 "database '%s': cannot open lock file '%s.lock': No such file or directory",
			 want, want);
		assert_string_equal(err.msg, msg);
	}
}

/* The database file deleted, renamed or replaced under a recording store:
 * every recording call fails (no PASS for a record in an orphaned file). */
static void test_replaced_while_open(void **state)
{
	struct fx_store *st;
	struct fx_run_start s = start_at(T0, NULL);
	struct fx_store_run run;
	struct fx_store_step step = { "probe", T0, 1000, FX_STORE_PASS, NULL };
	struct fx_run_end end = { FX_STORE_PASS, T0 + 1000000, NULL, 0, NULL };
	struct fx_err err;
	char want[256], moved[160];
	FILE *f;

	(void)state;
	snprintf(want, sizeof(want), "database '%s' was removed or replaced while open", dbpath);
	snprintf(moved, sizeof(moved), "%s.moved", dbpath);
	st = open_ok();
	assert_int_equal(fx_store_run_begin(st, &s, &run, &err), 0);
	/* renamed away */
	assert_int_equal(rename(dbpath, moved), 0);
	assert_int_equal(fx_store_step(st, &run, &step, &err), FX_E_DB);
	assert_string_equal(err.msg, want);
	assert_int_equal(fx_store_run_set_unit(st, &run, "SN-1", NULL, FX_STORE_BOARD_BLANK, &err),
			 FX_E_DB);
	assert_string_equal(err.msg, want);
	assert_int_equal(fx_store_run_end(st, &run, &end, &err), FX_E_DB);
	assert_string_equal(err.msg, want);
	assert_int_equal(fx_store_run_begin(st, &s, &run, &err), FX_E_DB);
	assert_string_equal(err.msg, want);
	assert_int_equal(fx_store_bulk_begin(st, &err), FX_E_DB);
	assert_string_equal(err.msg, want);
	/* replaced by another file of the same name */
	f = fopen(dbpath, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(fx_store_step(st, &run, &step, &err), FX_E_DB);
	assert_string_equal(err.msg, want);
	/* back in place: recording goes on */
	assert_int_equal(rename(moved, dbpath), 0);
	assert_int_equal(fx_store_step(st, &run, &step, &err), 0);
	/* deleted */
	assert_int_equal(unlink(dbpath), 0);
	assert_int_equal(fx_store_run_end(st, &run, &end, &err), FX_E_DB);
	assert_string_equal(err.msg, want);
	fx_store_close(st);
}

/* Read a database as a report does, in a child process: as 'nobody' when
 * running as root (permissions apply). Returns the child's exit status:
 * 0 = the run count was read and equals want_runs. */
static int report_child(const char *want_runs)
{
	pid_t child = fork();
	int status;

	assert_true(child >= 0);
	if (child == 0) {
		struct fx_err err;
		struct fx_store *ro;
		sqlite3_stmt *q;
		int ok;

		if (geteuid() == 0) {
			struct passwd *pw = getpwnam("nobody");

			if (!pw || setgroups(0, NULL) || setgid(pw->pw_gid) || setuid(pw->pw_uid))
				_exit(10);
		}
		ro = fx_store_open_readonly(dbpath, &err);
		if (!ro) {
			fprintf(stderr, "report child: %s\n", err.msg);
			_exit(11);
		}
		if (sqlite3_prepare_v2(fx_store_sqlite(ro), "SELECT sum(runs) FROM v_yield", -1, &q,
				       NULL) != SQLITE_OK || sqlite3_step(q) != SQLITE_ROW) {
			fprintf(stderr, "report child: %s\n", sqlite3_errmsg(fx_store_sqlite(ro)));
			_exit(12);
		}
		ok = sqlite3_column_text(q, 0) &&
		     !strcmp((const char *)sqlite3_column_text(q, 0), want_runs);
		sqlite3_finalize(q);
		fx_store_close(ro);
		_exit(ok ? 0 : 13);
	}
	assert_int_equal(waitpid(child, &status, 0), child);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

/* A report on a closed database creates no side file (they would belong
 * to the report's user) and works in a read-only directory; with a
 * station recording (-wal present) it reads the WAL. */
static void test_readonly_no_side_files(void **state)
{
	struct fx_store *st, *ro;
	struct fx_err err;
	sqlite3_stmt *q;

	(void)state;
	st = open_ok();
	record(st, T0, "SN-1", NULL, FX_STORE_PASS, 10);
	/* a station is recording: the committed run is in the -wal only */
	assert_true(side_exists("-wal"));
	ro = fx_store_open_readonly(dbpath, &err);
	assert_non_null(ro);
	assert_int_equal(sqlite3_prepare_v2(fx_store_sqlite(ro), "SELECT count(*) FROM runs", -1, &q,
					    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(q, 0), 1);
	sqlite3_finalize(q);
	fx_store_close(ro);
	record(st, T0 + 60000000, "SN-2", NULL, FX_STORE_FAIL, 10);
	/* the station's close checkpoints and removes its side files */
	fx_store_close(st);
	assert_false(side_exists("-wal"));
	assert_false(side_exists("-shm"));

	ro = fx_store_open_readonly(dbpath, &err);
	assert_non_null(ro);
	assert_int_equal(sqlite3_prepare_v2(fx_store_sqlite(ro), "SELECT count(*) FROM v_runs", -1, &q,
					    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(q, 0), 2);
	sqlite3_finalize(q);
	assert_false(side_exists("-wal"));
	assert_false(side_exists("-shm"));
	fx_store_close(ro);
	assert_false(side_exists("-wal"));
	assert_false(side_exists("-shm"));

	/* read-only directory, another user (or this one, when not root) */
	assert_int_equal(chmod(dbpath, 0644), 0);
	assert_int_equal(chmod(dir, 0555), 0);
	assert_int_equal(report_child("2"), 0);
	assert_int_equal(chmod(dir, 0700), 0);
	assert_false(side_exists("-wal"));
	assert_false(side_exists("-shm"));

	/* a path that needs URI escaping opens the same way */
	{
		char odd[160];

		snprintf(odd, sizeof(odd), "%s/a%%20b?c#d.db", dir);
		assert_int_equal(rename(dbpath, odd), 0);
		ro = fx_store_open_readonly(odd, &err);
		if (!ro)
			fail_msg("open %s: %s", odd, err.msg);
		assert_string_equal(fx_store_path(ro), odd);
		assert_int_equal(sqlite3_prepare_v2(fx_store_sqlite(ro), "SELECT count(*) FROM runs",
						    -1, &q, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(q), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int(q, 0), 2);
		sqlite3_finalize(q);
		fx_store_close(ro);
		assert_int_equal(rename(odd, dbpath), 0);
	}
}

/* Two runs of one unit finishing out of start order: the unit's first and
 * last run are by start time (then id), in the summaries as in
 * v_first_pass, and the unit cohort moves to the first run's day. */
static void test_unit_out_of_order(void **state)
{
	struct fx_store *st;
	struct fx_run_start sa = start_at(T0 - 60000000, NULL); /* day 0, 23:59 */
	struct fx_run_start sb = start_at(T0 + 10000000, NULL); /* day 1 */
	struct fx_run_start sc = start_at(T0 + 20000000, NULL);
	struct fx_store_run a, b, c;
	struct fx_run_end pass = { FX_STORE_PASS, T0 + 30000000, NULL, 0, NULL };
	struct fx_run_end fail = { FX_STORE_FAIL, T0 + 40000000, "verify", FX_E_VERIFY, "mismatch" };
	struct fx_err err;
	char raw[64];
	const char *cohort = "SELECT group_concat(date(day * 86400, 'unixepoch') || ':' || units || ','"
			     " || units_first_pass || ',' || units_final_pass, ' ') FROM"
			     " (SELECT day, sum(units) AS units, sum(units_first_pass) AS units_first_pass,"
			     " sum(units_final_pass) AS units_final_pass FROM sum_bucket GROUP BY day ORDER BY day)";
	const char *fp = "SELECT first_day || ':' || first_result || '>' || last_result FROM v_first_pass";
	const char *unit = "SELECT first_result || '>' || last_result || ':' || first_run_id || ','"
			   " || last_run_id FROM units";

	(void)state;
	st = open_ok();
	assert_int_equal(fx_store_run_begin(st, &sa, &a, &err), 0);
	assert_int_equal(fx_store_run_begin(st, &sb, &b, &err), 0);
	assert_int_equal(fx_store_run_begin(st, &sc, &c, &err), 0);
	assert_int_equal(fx_store_run_set_unit(st, &a, "SN-9", NULL, FX_STORE_BOARD_BLANK, &err), 0);
	assert_int_equal(fx_store_run_set_unit(st, &b, "SN-9", NULL, FX_STORE_BOARD_BLANK, &err), 0);
	assert_int_equal(fx_store_run_set_unit(st, &c, "SN-9", NULL, FX_STORE_BOARD_BLANK, &err), 0);
	/* c (the last started) ends first and FAILs */
	assert_int_equal(fx_store_run_end(st, &c, &fail, &err), 0);
	assert_string_equal(q1(unit), "FAIL>FAIL:3,3");
	/* b ends: it started before c, so c stays the last run */
	pass.end_utc_us = T0 + 50000000;
	assert_int_equal(fx_store_run_end(st, &b, &pass, &err), 0);
	assert_string_equal(q1(fp), "2026-03-02:PASS>FAIL");
	assert_string_equal(q1(unit), "PASS>FAIL:2,3");
	assert_string_equal(q1(cohort), "2026-03-02:1,1,0");
	/* a (the first started, the day before) ends last and PASSes: it is
	 * the unit's first run, and the unit moves to its day */
	pass.end_utc_us = T0 + 60000000;
	assert_int_equal(fx_store_run_end(st, &a, &pass, &err), 0);
	assert_string_equal(q1(fp), "2026-03-01:PASS>FAIL");
	assert_string_equal(q1(unit), "PASS>FAIL:1,3");
	assert_string_equal(q1(cohort), "2026-03-01:1,1,0 2026-03-02:0,0,0");
	/* the summary agrees with the raw runs */
	snprintf(raw, sizeof(raw), "%s", q1("SELECT sum(first_result = 'PASS') || ','"
					     " || sum(last_result = 'PASS') FROM v_first_pass"));
	assert_string_equal(raw, "1,0");
	assert_string_equal(q1("SELECT sum(units_first_pass) || ',' || sum(units_final_pass) FROM sum_bucket"),
			    raw);
	/* and a new last run started later than all: final PASS */
	record(st, T0 + 3600000000LL, "SN-9", NULL, FX_STORE_PASS, 10);
	assert_string_equal(q1(fp), "2026-03-01:PASS>PASS");
	assert_string_equal(q1(cohort), "2026-03-01:1,1,1 2026-03-02:0,0,0");
	fx_store_close(st);
}

/* A tampered summary whose sums do not fit in int64_t: the run end fails
 * with FX_E_DB (no undefined overflow, no PASS). */
static void test_tampered_cycle_sums(void **state)
{
	struct fx_store *st;
	struct fx_run_start s = start_at(T0 + 100, "alice"); /* the same bucket */
	struct fx_store_run run;
	struct fx_run_end end = { FX_STORE_PASS, T0 + 100 + 1000000, NULL, 0, NULL };
	struct fx_err err;
	char want[256];
	sqlite3 *db;

	(void)state;
	st = open_ok();
	record(st, T0, "SN-1", NULL, FX_STORE_PASS, 1);
	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	/* bucket of 1 s runs: hb 637 (0x027D) of 1000000 us, its sum near
	 * INT64_MAX */
	assert_int_equal(sqlite3_exec(db, "UPDATE sum_cycle SET hist = X'027D"
				      "0000000000000001" "7FFFFFFFFFFFFFF0' WHERE step = ''",
				      NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(fx_store_run_begin(st, &s, &run, &err), 0);
	assert_int_equal(fx_store_run_end(st, &run, &end, &err), FX_E_DB);
	snprintf(want, sizeof(want), "database '%s': implausible cycle sums for step ''", dbpath);
	assert_string_equal(err.msg, want);
	assert_string_equal(q1("SELECT count(*) FROM runs WHERE result IS NULL"), "1");
	/* text where the BLOB belongs: malformed, no PASS either */
	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE sum_cycle SET hist = '[[637,1,1000000]]'"
				      " WHERE step = ''", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(fx_store_run_end(st, &run, &end, &err), FX_E_DB);
	snprintf(want, sizeof(want), "database '%s': malformed sum_cycle.hist for step ''", dbpath);
	assert_string_equal(err.msg, want);
	assert_string_equal(q1("SELECT count(*) FROM runs WHERE result IS NULL"), "1");
	fx_store_close(st);
}

/* The lock file left by another user (a first start as root): the station
 * user still locks it (read-only descriptor) and a second opener gets no
 * stale pid in the message. Needs root to make the files another user's. */
static void test_lock_other_user(void **state)
{
	struct passwd *pw = getpwnam("nobody");
	struct fx_err err;
	char want[256], lockpath[160], buf[8];
	int up[2], down[2], status;
	pid_t child;
	FILE *f;

	(void)state;
	if (geteuid() != 0 || !pw) {
		printf("skip: test_lock_other_user needs root and a 'nobody' user\n");
		return;
	}
	fx_store_close(open_ok());
	snprintf(lockpath, sizeof(lockpath), "%s.lock", dbpath);
	f = fopen(lockpath, "w"); /* root's 0644 file, with a pid no process has */
	assert_non_null(f);
	fputs("999999999\n", f);
	fclose(f);
	assert_int_equal(chmod(lockpath, 0644), 0);
	assert_int_equal(chmod(dbpath, 0666), 0);
	assert_int_equal(chmod(dir, 0777), 0);
	assert_int_equal(pipe(up), 0);
	assert_int_equal(pipe(down), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct fx_store *c;

		close(up[0]);
		close(down[1]);
		if (setgroups(0, NULL) || setgid(pw->pw_gid) || setuid(pw->pw_uid))
			_exit(10);
		c = fx_store_open(dbpath, &err);
		if (!c) {
			fprintf(stderr, "child: %s\n", err.msg);
			_exit(11);
		}
		if (write(up[1], "k", 1) != 1)
			_exit(12);
		if (read(down[0], buf, 1) < 0)
			_exit(13);
		fx_store_close(c);
		_exit(0);
	}
	close(up[1]);
	close(down[0]);
	if (read(up[0], buf, 1) != 1) {
		assert_int_equal(waitpid(child, &status, 0), child);
		fail_msg("the child could not open the database for recording (status %d)", status);
	}
	assert_null(fx_store_open(dbpath, &err));
	assert_int_equal(err.code, FX_E_BUSY);
	snprintf(want, sizeof(want),
		 "database '%s' is in use by another station process (pid unknown)", dbpath);
	assert_string_equal(err.msg, want);
	close(down[1]);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(up[0]);
	assert_int_equal(chmod(dir, 0700), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_pragmas, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_row, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_units, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unit_zero_uid_repaired, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover_aborted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_newer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_not_db, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_failure, setup, teardown),
		cmocka_unit_test(test_hist_buckets),
		cmocka_unit_test(test_hist_codec),
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_bulk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_other_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replaced_while_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly_no_side_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unit_out_of_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tampered_cycle_sums, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_report.c - every report figure on the known database
 * (test_report_fixture.h), golden files for text/CSV/JSON, dates and
 * --by validation, inert SQL injection, read-only opening.
 *
 * Golden files live in tests/data/report/; FX_GOLDEN_UPDATE=1 rewrites
 * them (then review the diff). The fixture database is also copied to
 * BUILD/test-data/known.db for tests/cli/treport.sh. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "report_fix.h"
#include "fx/report.h"
#include "fx/store.h"
#include "../../src/report/report_int.h"
#include "../../src/store/store_sql.h"
#include "test_report_fixture.h"

static char srcdir[PATH_MAX];
static char tmpdir[64];
static struct fx_store *st;

static int group_setup(void **state)
{
	struct fx_err err;

	(void)state;
	if (!getcwd(srcdir, sizeof(srcdir)))
		return -1;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/fx-test-report-XXXXXX");
	if (!mkdtemp(tmpdir) || chdir(tmpdir))
		return -1;
	if (fix_build("known.db", &err)) {
		fprintf(stderr, "fixture: %s\n", err.msg);
		return -1;
	}
	st = fx_store_open_readonly("known.db", &err);
	return st ? 0 : -1;
}

static int group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	fx_store_close(st);
	if (chdir(srcdir))
		return -1;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) ? -1 : 0;
}

static struct fx_report *run_q(const struct fx_report_query *q)
{
	struct fx_err err;
	struct fx_report *r = fx_report_run(st, q, &err);

	if (!r)
		fail_msg("report: %s", err.msg);
	return r;
}

static void golden(const char *name, const char *got)
{
	char path[PATH_MAX + 64];
	char *want;
	long n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/data/report/%s", srcdir, name);
	if (getenv("FX_GOLDEN_UPDATE")) {
		f = fopen(path, "wb");
		assert_non_null(f);
		fputs(got, f);
		fclose(f);
		return;
	}
	f = fopen(path, "rb");
	if (!f)
		fail_msg("golden %s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	want = calloc(1, (size_t)n + 1);
	assert_non_null(want);
	assert_int_equal(fread(want, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	if (strcmp(want, got)) {
		fprintf(stderr, "golden %s differs; got:\n%s\n", name, got);
		free(want);
		fail_msg("golden %s differs (FX_GOLDEN_UPDATE=1 rewrites it)", name);
	}
	free(want);
}

static void goldens(const struct fx_report *r, const char *base)
{
	static const char *const ext[] = { "txt", "csv", "json" };
	char name[96], *out;
	int f;

	for (f = 0; f < 3; f++) {
		out = fxt_report_render(r, (enum fx_report_format)f);
		snprintf(name, sizeof(name), "%s.%s", base, ext[f]);
		golden(name, out);
		free(out);
	}
}

static const char *txt(const struct fx_report_table *t, size_t row, unsigned col)
{
	static char buf[8][128];
	static int k;

	k = (k + 1) % 8;
	return fx_rt_show(t, row, col, buf[k], sizeof(buf[k]));
}

/* the row as "a|b|c" */
static const char *rowstr(const struct fx_report_table *t, size_t row)
{
	static char buf[1024];
	size_t n = 0;
	unsigned c;

	buf[0] = '\0';
	for (c = 0; c < t->ncols; c++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", c ? "|" : "", txt(t, row, c));
	return buf;
}

static void test_yield_total(void **state)
{
	struct fx_report_query q = { .kind = FX_REPORT_YIELD };
	struct fx_report *r;
	const struct fx_report_table *t;

	(void)state;
	r = run_q(&q);
	t = &r->tables[0];
	assert_int_equal(t->nrows, 1);
	/* runs passed failed errors yield units first_pass fpy final_pass final */
	assert_string_equal(rowstr(t, 0), "14|7|5|2|50.00|8|4|50.00|6|75.00");
	assert_string_equal(r->from, "2026-03-02");
	assert_string_equal(r->to, "2026-03-09");
	fx_report_free(r);
}

static void test_yield_by_day(void **state)
{
	struct fx_report_query q = { .kind = FX_REPORT_YIELD, .by = { FX_BY_DAY }, .nby = 1 };
	struct fx_report *r;
	const struct fx_report_table *t;

	(void)state;
	r = run_q(&q);
	t = &r->tables[0];
	assert_int_equal(t->nrows, 5);
	assert_string_equal(rowstr(t, 0), "2026-03-02|5|2|2|1|40.00|3|1|33.33|2|66.67");
	assert_string_equal(rowstr(t, 1), "2026-03-03|4|2|2|0|50.00|2|2|100.00|2|100.00");
	assert_string_equal(rowstr(t, 2), "2026-03-05|3|2|0|1|66.67|2|1|50.00|1|50.00");
	assert_string_equal(rowstr(t, 3), "2026-03-09|2|1|1|0|50.00|1|0|0.00|1|100.00");
	/* the grand total is marked, never a group value */
	assert_true(t->total_row);
	assert_int_equal(t->ngroup, 1);
	assert_true(fx_rt_cell(t, 4, 0)->null);
	assert_string_equal(rowstr(t, 4), "(total)|14|7|5|2|50.00|8|4|50.00|6|75.00");
	/* the chart series */
	assert_int_equal(r->ndays, 4);
	assert_int_equal(r->days[2].day, 20517);
	assert_int_equal(r->days[2].runs, 3);
	goldens(r, "yield-day");
	fx_report_free(r);
}

static void test_yield_groups(void **state)
{
	struct fx_report_query q = { .kind = FX_REPORT_YIELD, .by = { FX_BY_WEEK }, .nby = 1 };
	struct fx_report *r;
	const struct fx_report_table *t;

	(void)state;
	r = run_q(&q);
	t = &r->tables[0];
	assert_int_equal(t->nrows, 3);
	assert_string_equal(rowstr(t, 0), "2026-W10|12|6|4|2|50.00|7|4|57.14|5|71.43");
	assert_string_equal(rowstr(t, 1), "2026-W11|2|1|1|0|50.00|1|0|0.00|1|100.00");
	fx_report_free(r);

	q.by[0] = FX_BY_STATION;
	q.by[1] = FX_BY_SLOT;
	q.nby = 2;
	r = run_q(&q);
	t = &r->tables[0];
	assert_int_equal(t->nrows, 5);
	assert_string_equal(rowstr(t, 0), "line1-a|1|5|3|2|0|60.00|4|2|50.00|3|75.00");
	assert_string_equal(rowstr(t, 1), "line1-a|2|3|1|0|2|33.33|1|0|0.00|0|0.00");
	assert_string_equal(rowstr(t, 2), "line1-b|1|4|2|2|0|50.00|2|2|100.00|2|100.00");
	assert_string_equal(rowstr(t, 3), "line1-b|2|2|1|1|0|50.00|1|0|0.00|1|100.00");
	assert_string_equal(rowstr(t, 4), "(total)||14|7|5|2|50.00|8|4|50.00|6|75.00");
	fx_report_free(r);

	q.by[0] = FX_BY_RECIPE;
	q.by[1] = FX_BY_OPERATOR;
	r = run_q(&q);
	t = &r->tables[0];
	assert_int_equal(t->nrows, 7);
	/* R12 has no operator: a null group value, "(none)" */
	assert_true(fx_rt_cell(t, 0, 1)->null);
	assert_string_equal(rowstr(t, 0), "demo-g474 1.0|(none)|1|1|0|0|100.00|1|1|100.00|1|100.00");
	assert_string_equal(rowstr(t, 1), "demo-g474 1.0|alice|4|2|2|0|50.00|3|1|33.33|2|66.67");
	assert_string_equal(rowstr(t, 5), "demo-g474 1.1|carol|1|1|0|0|100.00|1|1|100.00|1|100.00");
	fx_report_free(r);

	/* a date range and filters */
	memset(&q, 0, sizeof(q));
	q.kind = FX_REPORT_YIELD;
	q.has_from = q.has_to = true;
	q.from_day = 20515;
	q.to_day = 20517;
	q.station = "line1-b";
	r = run_q(&q);
	assert_string_equal(rowstr(&r->tables[0], 0), "4|2|2|0|50.00|2|2|100.00|2|100.00");
	assert_string_equal(r->from, "2026-03-03");
	assert_string_equal(r->to, "2026-03-05");
	fx_report_free(r);
	q.station = NULL;
	q.operator_id = "alice";
	q.recipe = "demo-g474";
	r = run_q(&q);
	assert_string_equal(rowstr(&r->tables[0], 0), "1|1|0|0|100.00|0|0|-|0|-");
	fx_report_free(r);
}

static void test_pareto(void **state)
{
	struct fx_report_query q = { .kind = FX_REPORT_PARETO };
	struct fx_report *r;
	const struct fx_report_table *t;

	(void)state;
	r = run_q(&q);
	t = &r->tables[0];
	assert_int_equal(t->nrows, 5);
	assert_string_equal(rowstr(t, 0), "verify|FX_E_VERIFY|3|42.86|42.86");
	assert_string_equal(rowstr(t, 1), "-|FX_E_ABORTED|1|14.29|57.14");
	assert_string_equal(rowstr(t, 2), "app_check|FX_E_TIMEOUT|1|14.29|71.43");
	assert_string_equal(rowstr(t, 3), "enter_boot|FX_E_NODEV|1|14.29|85.71");
	assert_string_equal(rowstr(t, 4), "program|FX_E_TIMEOUT|1|14.29|100.00");
	assert_int_equal(r->nbars, 5);
	assert_string_equal(r->bars[0].label, "verify FX_E_VERIFY");
	goldens(r, "pareto");
	fx_report_free(r);

	q.by[0] = FX_BY_STATION;
	q.nby = 1;
	r = run_q(&q);
	t = &r->tables[0];
	assert_int_equal(t->nrows, 6);
	assert_string_equal(rowstr(t, 0), "line1-a|-|FX_E_ABORTED|1|25.00|25.00");
	assert_string_equal(rowstr(t, 3), "line1-a|verify|FX_E_VERIFY|1|25.00|100.00");
	assert_string_equal(rowstr(t, 4), "line1-b|verify|FX_E_VERIFY|2|66.67|66.67");
	assert_string_equal(rowstr(t, 5), "line1-b|app_check|FX_E_TIMEOUT|1|33.33|100.00");
	/* the chart stays overall */
	assert_int_equal(r->nbars, 5);
	fx_report_free(r);
}

static void test_cycle(void **state)
{
	struct fx_report_query q = { .kind = FX_REPORT_CYCLE };
	struct fx_report *r;
	const struct fx_report_table *t;

	(void)state;
	r = run_q(&q);
	t = &r->tables[0];
	assert_int_equal(t->nrows, 10);
	assert_string_equal(rowstr(t, 0), "(run)|13|17.869|20.000|21.000|21.000");
	assert_string_equal(rowstr(t, 1), "probe|13|0.800|0.800|0.800|0.800");
	assert_string_equal(rowstr(t, 2), "enter_boot|13|1.338|1.200|3.000|3.000");
	assert_string_equal(rowstr(t, 3), "identify|12|0.300|0.300|0.300|0.300");
	assert_string_equal(rowstr(t, 4), "read_ob|12|0.200|0.200|0.200|0.200");
	assert_string_equal(rowstr(t, 5), "erase|12|4.000|4.000|4.000|4.000");
	/* program: 5000 8000 9000x8 9500 10000 -> mean 8708.33 */
	assert_string_equal(rowstr(t, 6), "program|12|8.708|9.000|10.000|10.000");
	assert_string_equal(rowstr(t, 7), "verify|11|3.000|3.000|3.000|3.000");
	assert_string_equal(rowstr(t, 8), "release|8|0.500|0.500|0.500|0.500");
	assert_string_equal(rowstr(t, 9), "app_check|8|1.125|1.000|2.000|2.000");
	goldens(r, "cycle");
	fx_report_free(r);

	q.by[0] = FX_BY_DAY;
	q.nby = 1;
	q.has_from = q.has_to = true;
	q.from_day = q.to_day = 20521;
	r = run_q(&q);
	t = &r->tables[0];
	assert_int_equal(t->nrows, 10);
	assert_string_equal(rowstr(t, 0), "2026-03-09|(run)|2|19.250|18.500|20.000|20.000");
	fx_report_free(r);

	q.by[0] = FX_BY_STATION;
	q.has_from = q.has_to = false;
	r = run_q(&q);
	t = &r->tables[0];
	assert_int_equal(t->nrows, 20);
	assert_string_equal(rowstr(t, 0), "line1-a|(run)|7|16.329|20.000|20.500|20.500");
	assert_string_equal(rowstr(t, 1), "line1-a|probe|7|0.800|0.800|0.800|0.800");
	assert_string_equal(rowstr(t, 9), "line1-a|app_check|4|1.000|1.000|1.000|1.000");
	assert_string_equal(rowstr(t, 10), "line1-b|(run)|6|19.667|19.000|21.000|21.000");
	assert_string_equal(rowstr(t, 19), "line1-b|app_check|4|1.250|1.000|2.000|2.000");
	fx_report_free(r);
}

static void test_history(void **state)
{
	struct fx_report_query q = { .kind = FX_REPORT_HISTORY, .unit = "SN003" };
	struct fx_report *r;
	struct fx_err err;
	char *csv;

	(void)state;
	r = run_q(&q);
	assert_int_equal(r->tables[0].nrows, 3);
	assert_int_equal(r->tables[1].nrows, 6 + 7 + 9);
	assert_string_equal(r->from, "2026-03-02");
	assert_string_equal(r->to, "2026-03-05");
	goldens(r, "history-SN003");
	fx_report_free(r);

	q.unit = "UID-0004"; /* by chip UID */
	r = run_q(&q);
	assert_int_equal(r->tables[0].nrows, 1);
	fx_report_free(r);

	q.unit = "SN008"; /* a message with a newline: quoted in CSV */
	r = run_q(&q);
	csv = fxt_report_render(r, FX_FMT_CSV);
	assert_non_null(strstr(csv, ",\"mismatch at 0x08000010, got 0xFF\nexpected 0x00\","));
	free(csv);
	fx_report_free(r);

	q.unit = "SN999";
	assert_null(fx_report_run(st, &q, &err));
	assert_int_equal(err.code, FX_E_NOTFOUND);
	assert_string_equal(err.msg, "no unit with serial or chip uid 'SN999'");
	q.unit = "";
	assert_null(fx_report_run(st, &q, &err));
	assert_int_equal(err.code, FX_E_INVAL);
	assert_string_equal(err.msg, "history: a serial or chip uid is required");
}

/* The summaries agree with the raw runs (v_first_pass reads runs only). */
static void test_views_agree(void **state)
{
	sqlite3 *db = fx_store_sqlite(st);
	sqlite3_stmt *s;

	(void)state;
	assert_int_equal(sqlite3_prepare_v2(db,
		"SELECT (SELECT count(*) FROM v_first_pass WHERE runs > 0),"
		" (SELECT count(*) FROM v_first_pass WHERE first_result = 'PASS'),"
		" (SELECT count(*) FROM v_first_pass WHERE last_result = 'PASS'),"
		" (SELECT sum(units) || ',' || sum(units_first_pass) || ',' || sum(units_final_pass) FROM v_yield),"
		" (SELECT count(*) FROM runs),"
		" (SELECT group_concat(day || ':' || runs || ':' || yield_pct || ':' || fpy_pct, ' ') FROM v_yield_daily),"
		" (SELECT sum(n) FROM v_cycle_hist WHERE step = '')",
		-1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(s, 0), 8);
	assert_int_equal(sqlite3_column_int(s, 1), 4);
	assert_int_equal(sqlite3_column_int(s, 2), 6);
	assert_string_equal((const char *)sqlite3_column_text(s, 3), "8,4,6");
	assert_int_equal(sqlite3_column_int(s, 4), 14);
	assert_string_equal((const char *)sqlite3_column_text(s, 5),
			    "2026-03-02:5:40.0:33.33 2026-03-03:4:50.0:100.0 "
			    "2026-03-05:3:66.67:50.0 2026-03-09:2:50.0:0.0");
	assert_int_equal(sqlite3_column_int(s, 6), 13);
	sqlite3_finalize(s);
	/* what a sqlite3 user gets from the other views */
	assert_int_equal(sqlite3_prepare_v2(db,
		"SELECT (SELECT step || ' ' || error_code || ' ' || n FROM v_pareto_all LIMIT 1),"
		" (SELECT group_concat(step || '=' || n || '/' || mean_s || '/' || max_s, ' ')"
		"   FROM v_cycle WHERE day = '2026-03-09'),"
		" (SELECT count(*) FROM v_steps), (SELECT count(*) FROM v_runs WHERE result = 'ABORTED')",
		-1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "verify FX_E_VERIFY 3");
	assert_string_equal((const char *)sqlite3_column_text(s, 1),
			    "(run)=2/19.25/20.0 probe=2/0.8/0.8 enter_boot=2/1.2/1.2 identify=2/0.3/0.3 "
			    "read_ob=2/0.2/0.2 erase=2/4.0/4.0 program=2/9.0/9.0 verify=2/3.0/3.0 "
			    "release=1/0.5/0.5 app_check=1/1.0/1.0");
	assert_int_equal(sqlite3_column_int(s, 2), 9 + 7 + 9 + 6 + 2 + 7 + 9 + 9 + 9 + 9 + 1 + 9 + 7 + 9); /* R1..R14 */
	assert_int_equal(sqlite3_column_int(s, 3), 1);
	sqlite3_finalize(s);
}

static void test_injection_inert(void **state)
{
	struct fx_report_query q = { .kind = FX_REPORT_YIELD, .station = "line1-a' OR '1'='1" };
	struct fx_report *r;
	struct fx_err err;

	(void)state;
	r = run_q(&q);
	assert_int_equal(r->tables[0].nrows, 1);
	assert_string_equal(rowstr(&r->tables[0], 0), "0|0|0|0|-|0|0|-|0|-");
	assert_string_equal(r->from, "");
	fx_report_free(r);
	q.station = NULL;
	q.operator_id = "x\"); DROP TABLE runs; --";
	r = run_q(&q);
	assert_string_equal(rowstr(&r->tables[0], 0), "0|0|0|0|-|0|0|-|0|-");
	fx_report_free(r);
	q.kind = FX_REPORT_HISTORY;
	q.unit = "' OR 1=1; DROP TABLE runs; --";
	assert_null(fx_report_run(st, &q, &err));
	assert_int_equal(err.code, FX_E_NOTFOUND);
	/* everything still there */
	q.kind = FX_REPORT_YIELD;
	q.operator_id = NULL;
	r = run_q(&q);
	assert_string_equal(rowstr(&r->tables[0], 0), "14|7|5|2|50.00|8|4|50.00|6|75.00");
	fx_report_free(r);
}

static void test_dates_and_by(void **state)
{
	struct fx_report_query q = { .kind = FX_REPORT_YIELD };
	enum fx_report_by by;
	struct fx_err err;
	int64_t d;
	char buf[16];
	static const char *const bad[] = { "2026-02-29", "2026-3-01", "2026-13-01", "2026-04-31",
					   "1969-12-31", "2026-03-01x", "abcd-ef-gh", "", "2026/03/01",
					   "2026-00-10", "2026-01-00" };
	size_t i;

	(void)state;
	assert_int_equal(fx_report_parse_date("2026-03-02", &d, &err), 0);
	assert_int_equal(d, 20514);
	assert_int_equal(fx_report_parse_date("2024-02-29", &d, &err), 0);
	assert_int_equal(fx_report_parse_date("2000-02-29", &d, &err), 0);
	assert_int_equal(d, 11016);
	assert_int_equal(fx_report_parse_date("1970-01-01", &d, &err), 0);
	assert_int_equal(d, 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[80];

		assert_int_equal(fx_report_parse_date(bad[i], &d, &err), FX_E_INVAL);
		snprintf(want, sizeof(want), "date '%s': expected YYYY-MM-DD", bad[i]);
		assert_string_equal(err.msg, want);
	}
	assert_int_equal(fx_report_parse_date("2100-02-29", &d, &err), FX_E_INVAL);
	fx_report_format_day(20514, buf, sizeof(buf));
	assert_string_equal(buf, "2026-03-02");
	fx_report_format_week(20514, buf, sizeof(buf));
	assert_string_equal(buf, "2026-W10");
	fx_report_format_week(20454, buf, sizeof(buf)); /* 2026-01-01, Thursday */
	assert_string_equal(buf, "2026-W01");
	fx_report_format_week(20453, buf, sizeof(buf)); /* 2025-12-31, Wednesday */
	assert_string_equal(buf, "2026-W01");
	fx_report_format_week(20089, buf, sizeof(buf)); /* 2025-01-01 */
	assert_string_equal(buf, "2025-W01");
	fx_report_format_week(20088, buf, sizeof(buf)); /* 2024-12-31 */
	assert_string_equal(buf, "2025-W01");
	fx_report_format_week(19723, buf, sizeof(buf)); /* 2024-01-01, Monday */
	assert_string_equal(buf, "2024-W01");
	fx_report_format_week(19722, buf, sizeof(buf)); /* 2023-12-31, Sunday */
	assert_string_equal(buf, "2023-W52");

	assert_int_equal(fx_report_parse_by("operator", &by, &err), 0);
	assert_int_equal(by, FX_BY_OPERATOR);
	assert_int_equal(fx_report_parse_by("month", &by, &err), FX_E_INVAL);
	assert_string_equal(err.msg, "--by 'month': expected day, week, station, slot, recipe, operator or line");
	assert_int_equal(fx_report_parse_by("day; DROP TABLE runs", &by, &err), FX_E_INVAL);

	q.has_from = q.has_to = true;
	q.from_day = 20515;
	q.to_day = 20514;
	assert_null(fx_report_run(st, &q, &err));
	assert_int_equal(err.code, FX_E_INVAL);
	assert_string_equal(err.msg, "--from 2026-03-03 is after --to 2026-03-02");
	q.has_from = q.has_to = false;
	q.by[0] = q.by[1] = FX_BY_DAY;
	q.nby = 2;
	assert_null(fx_report_run(st, &q, &err));
	assert_string_equal(err.msg, "--by 'day' given twice");
	q.by[1] = (enum fx_report_by)42;
	assert_null(fx_report_run(st, &q, &err));
	assert_string_equal(err.msg, "--by 42 out of range");
}

static void test_empty_range(void **state)
{
	struct fx_report_query q = { .kind = FX_REPORT_PARETO, .has_from = true, .has_to = true,
				     .from_day = 20600, .to_day = 20601 };
	struct fx_report *r;
	char *out;

	(void)state;
	r = run_q(&q);
	assert_int_equal(r->tables[0].nrows, 0);
	assert_string_equal(r->from, "2026-05-27");
	assert_string_equal(r->to, "2026-05-28");
	out = fxt_report_render(r, FX_FMT_TEXT);
	assert_non_null(strstr(out, "# range: 2026-05-27 .. 2026-05-28 (UTC days, inclusive; times in UTC)\n"));
	assert_non_null(strstr(out, "(no failures in this range)\n"));
	free(out);
	out = fxt_report_render(r, FX_FMT_JSON);
	assert_non_null(strstr(out, "\"rows\": []"));
	free(out);
	fx_report_free(r);
}

static void test_percentile(void **state)
{
	const int64_t n[] = { 1, 2, 7 }, sum[] = { 10, 41, 700 };

	(void)state;
	assert_int_equal(fx_report_hist_percentile(n, sum, 3, 10, 10), 10);
	assert_int_equal(fx_report_hist_percentile(n, sum, 3, 10, 30), 21); /* 20.5 rounds up */
	assert_int_equal(fx_report_hist_percentile(n, sum, 3, 10, 31), 100);
	assert_int_equal(fx_report_hist_percentile(n, sum, 3, 10, 100), 100);
	assert_int_equal(fx_report_hist_percentile(n, sum, 0, 0, 50), 0);
	/* no overflow near INT64_MAX: neither in the running count nor in
	 * the rounding of the bucket mean */
	{
		const int64_t bn[] = { INT64_MAX, INT64_MAX }, bs[] = { INT64_MAX, INT64_MAX };

		assert_int_equal(fx_report_hist_percentile(bn, bs, 2, INT64_MAX, 100), 1);
		assert_int_equal(fx_report_hist_percentile(bn + 1, (const int64_t[]){ INT64_MAX - 1 }, 1,
							   2, 50), 1);
	}
}

/* A copy of the known database with sql applied, opened read-only. */
static struct fx_store *tampered(const char *sql)
{
	struct fx_err err;
	struct fx_store *t;
	sqlite3 *db;

	assert_int_equal(system("cp known.db tampered.db"), 0);
	assert_int_equal(sqlite3_open("tampered.db", &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	sqlite3_close(db);
	t = fx_store_open_readonly("tampered.db", &err);
	if (!t)
		fail_msg("open: %s", err.msg);
	return t;
}

/* Sums of tampered figures that do not fit in int64_t: FX_E_DB, never an
 * undefined overflow (UBSan aborted here). */
static void test_tampered_sums(void **state)
{
	struct fx_report_query q = { .kind = FX_REPORT_CYCLE };
	struct fx_store *t;
	struct fx_err err;

	(void)state;
	t = tampered("UPDATE sum_cycle SET sum_us = 9223372036854775807");
	assert_null(fx_report_run(t, &q, &err));
	assert_int_equal(err.code, FX_E_DB);
	assert_string_equal(err.msg, "database 'tampered.db': implausible cycle sums");
	fx_store_close(t);

	/* each histogram fits, their sum over the buckets does not */
	t = tampered("UPDATE sum_cycle SET hist = X'0258" "0000000000000001" "7000000000000000'");
	assert_null(fx_report_run(t, &q, &err));
	assert_int_equal(err.code, FX_E_DB);
	assert_string_equal(err.msg, "database 'tampered.db': implausible cycle sums");
	fx_store_close(t);

	/* not the codec's BLOB (text, a cut entry): malformed, not a figure */
	t = tampered("UPDATE sum_cycle SET hist = '[[637,1,1000000]]' WHERE step = 'erase'");
	assert_null(fx_report_run(t, &q, &err));
	assert_int_equal(err.code, FX_E_DB);
	assert_string_equal(err.msg, "database 'tampered.db': malformed sum_cycle.hist");
	fx_store_close(t);
	t = tampered("UPDATE sum_cycle SET hist = substr(hist, 1, 17) WHERE step = 'erase'");
	assert_null(fx_report_run(t, &q, &err));
	assert_string_equal(err.msg, "database 'tampered.db': malformed sum_cycle.hist");
	fx_store_close(t);

	t = tampered("UPDATE sum_cycle SET n = 9223372036854775807");
	assert_null(fx_report_run(t, &q, &err));
	assert_string_equal(err.msg, "database 'tampered.db': implausible cycle sums");
	fx_store_close(t);

	/* yield: one bucket per day at INT64_MAX runs, the total overflows */
	q.kind = FX_REPORT_YIELD;
	q.by[0] = FX_BY_DAY;
	q.nby = 1;
	t = tampered("UPDATE sum_bucket SET runs = 0;"
		     " UPDATE sum_bucket SET runs = 9223372036854775807"
		     " WHERE id IN (SELECT min(id) FROM sum_bucket GROUP BY day)");
	assert_null(fx_report_run(t, &q, &err));
	assert_int_equal(err.code, FX_E_DB);
	assert_string_equal(err.msg, "database 'tampered.db': implausible yield sums");
	fx_store_close(t);

	/* pareto: the same for the failure counts */
	q.kind = FX_REPORT_PARETO;
	q.nby = 0;
	t = tampered("UPDATE sum_pareto SET n = 0;"
		     " UPDATE sum_pareto SET n = 9223372036854775807"
		     " WHERE (step, error_code) IN"
		     " (SELECT step, error_code FROM sum_pareto GROUP BY step, error_code LIMIT 2)"
		     " AND bucket_id IN (SELECT min(bucket_id) FROM sum_pareto p2"
		     "  WHERE p2.step = sum_pareto.step AND p2.error_code = sum_pareto.error_code)");
	assert_null(fx_report_run(t, &q, &err));
	assert_int_equal(err.code, FX_E_DB);
	assert_string_equal(err.msg, "database 'tampered.db': implausible failure sums");
	fx_store_close(t);

	/* a negative count is no count either */
	t = tampered("UPDATE sum_pareto SET n = -5");
	assert_null(fx_report_run(t, &q, &err));
	assert_string_equal(err.msg, "database 'tampered.db': implausible failure sums");
	fx_store_close(t);
	unlink("tampered.db");
}

/* One text of every (bucket, step, hb, n, sum_us) row of v_cycle_hist. */
static char *hist_rows(struct fx_store *from)
{
	sqlite3_stmt *s;
	char *out;

	assert_int_equal(sqlite3_prepare_v2(fx_store_sqlite(from),
		"SELECT group_concat(bucket_id || ' ' || step || ' ' || hb || ' ' || n || ' ' || sum_us, ';')"
		" FROM (SELECT * FROM v_cycle_hist ORDER BY bucket_id, step, hb)", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	out = strdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	assert_non_null(out);
	return out;
}

/* A database written by schema version 1 (tests/data/store/known-v1.sql:
 * this fixture, histograms as JSON text) migrates at the first recording
 * open and then gives the same golden reports, the same v_cycle_hist
 * rows, and takes new records. */
static void test_migrated_v1(void **state)
{
	struct fx_report_query yq = { .kind = FX_REPORT_YIELD, .by = { FX_BY_DAY }, .nby = 1 };
	struct fx_report_query pq = { .kind = FX_REPORT_PARETO }, cq = { .kind = FX_REPORT_CYCLE };
	struct fx_report_query hq = { .kind = FX_REPORT_HISTORY, .unit = "SN003" };
	struct fix_run extra = fix_runs[0];
	char path[PATH_MAX + 64], *sql, *want, *got;
	struct fx_store *v1;
	struct fx_report *r;
	struct fx_err err;
	sqlite3 *db;
	long n;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/tests/data/store/known-v1.sql", srcdir);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("%s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	sql = calloc(1, (size_t)n + 1);
	assert_non_null(sql);
	assert_int_equal(fread(sql, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	/* "known.db" in its own directory: the reports name their database */
	assert_int_equal(mkdir("v1", 0755), 0);
	assert_int_equal(chdir("v1"), 0);
	assert_int_equal(sqlite3_open("known.db", &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("known-v1.sql: %s", sqlite3_errmsg(db));
	sqlite3_close(db);
	free(sql);

	assert_null(fx_store_open_readonly("known.db", &err));
	assert_string_equal(err.msg, "database 'known.db': schema version 1 is older than this "
			    "software (3); open it once with the station to migrate it");
	v1 = fx_store_open("known.db", &err);
	if (!v1)
		fail_msg("migration: %s", err.msg);
	fx_store_close(v1);

	v1 = fx_store_open_readonly("known.db", &err);
	assert_non_null(v1);
	{
		sqlite3_stmt *s;

		assert_int_equal(sqlite3_prepare_v2(fx_store_sqlite(v1),
			"SELECT (SELECT group_concat(DISTINCT typeof(hist)) FROM sum_cycle),"
			" (SELECT type FROM pragma_table_info('sum_cycle') WHERE name = 'hist'),"
			" (SELECT count(*) FROM sqlite_schema WHERE name = 'sum_cycle_v2')",
			-1, &s, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(s), SQLITE_ROW);
		assert_string_equal((const char *)sqlite3_column_text(s, 0), "blob");
		assert_string_equal((const char *)sqlite3_column_text(s, 1), "BLOB");
		assert_int_equal(sqlite3_column_int(s, 2), 0);
		sqlite3_finalize(s);
	}
	r = fx_report_run(v1, &yq, &err);
	assert_non_null(r);
	goldens(r, "yield-day");
	fx_report_free(r);
	r = fx_report_run(v1, &pq, &err);
	assert_non_null(r);
	goldens(r, "pareto");
	fx_report_free(r);
	r = fx_report_run(v1, &cq, &err);
	assert_non_null(r);
	goldens(r, "cycle");
	fx_report_free(r);
	r = fx_report_run(v1, &hq, &err);
	assert_non_null(r);
	goldens(r, "history-SN003");
	fx_report_free(r);
	want = hist_rows(st);
	got = hist_rows(v1);
	assert_string_equal(got, want);
	free(want);
	free(got);
	fx_store_close(v1);

	/* and records on: one more PASS run of 20.0 s on the first day */
	v1 = fx_store_open("known.db", &err);
	assert_non_null(v1);
	fx_store_set_uuid_seed(v1, 99);
	extra.mm = 30;
	extra.serial = "SN100";
	assert_int_equal(fix_record(&v1, "known.db", &extra, &err), 0);
	fx_store_close(v1);
	v1 = fx_store_open_readonly("known.db", &err);
	assert_non_null(v1);
	r = fx_report_run(v1, &cq, &err);
	assert_non_null(r);
	assert_string_equal(rowstr(&r->tables[0], 0), "(run)|14|18.021|20.000|21.000|21.000");
	fx_report_free(r);
	fx_store_close(v1);
	assert_int_equal(chdir(".."), 0);
}

/* Group values longer than any old fixed buffer (160-byte recipe text,
 * 512-byte group keys): whole, and two values that differ only after
 * 600 bytes stay two groups in every report. */
static void test_long_group_values(void **state)
{
	static char op1[700], op2[700], station[1600], ver[1600];
	struct fix_run f = fix_runs[1]; /* FAIL verify */
	struct fx_report_query q = { .kind = FX_REPORT_YIELD, .by = { FX_BY_OPERATOR }, .nby = 1 };
	struct fx_store *ls;
	struct fx_report *r;
	struct fx_err err;
	char *out;
	size_t i;

	(void)state;
	memset(op1, 'o', 650);
	memcpy(op2, op1, 650);
	op1[650] = '1';
	op2[650] = '2';
	memset(station, 's', 1500);
	memset(ver, 'v', 1500);
	ls = fx_store_open("long.db", &err);
	assert_non_null(ls);
	f.station = station;
	f.ver = ver;
	f.op = op1;
	assert_int_equal(fix_record(&ls, "long.db", &f, &err), 0);
	f.op = op2;
	f.mm++;
	assert_int_equal(fix_record(&ls, "long.db", &f, &err), 0);
	fx_store_close(ls);
	ls = fx_store_open_readonly("long.db", &err);
	assert_non_null(ls);

	r = fx_report_run(ls, &q, &err);
	assert_non_null(r);
	assert_int_equal(r->tables[0].nrows, 3); /* two operators + the total */
	assert_string_equal(fx_rt_cell(&r->tables[0], 0, 0)->s, op1);
	assert_string_equal(fx_rt_cell(&r->tables[0], 1, 0)->s, op2);
	fx_report_free(r);

	q.kind = FX_REPORT_PARETO;
	r = fx_report_run(ls, &q, &err);
	assert_non_null(r);
	assert_int_equal(r->tables[0].nrows, 2);
	for (i = 0; i < 2; i++) /* each its own group: 100 % of its failures */
		assert_true(fx_rt_cell(&r->tables[0], i, 4)->d > 99.999);
	fx_report_free(r);

	q.kind = FX_REPORT_CYCLE;
	r = fx_report_run(ls, &q, &err);
	assert_non_null(r);
	for (i = 0; i < r->tables[0].nrows; i++)
		assert_int_equal(fx_rt_cell(&r->tables[0], i, 2)->i, 1); /* one run each */
	fx_report_free(r);

	q.kind = FX_REPORT_YIELD;
	q.by[0] = FX_BY_STATION;
	q.by[1] = FX_BY_RECIPE;
	q.nby = 2;
	r = fx_report_run(ls, &q, &err);
	assert_non_null(r);
	assert_string_equal(fx_rt_cell(&r->tables[0], 0, 0)->s, station);
	assert_int_equal(strlen(fx_rt_cell(&r->tables[0], 0, 1)->s), strlen("demo-g474 ") + 1500);
	out = fxt_report_render(r, FX_FMT_TEXT);
	assert_non_null(strstr(out, station));
	assert_non_null(strstr(out, ver));
	free(out);
	fx_report_free(r);
	fx_store_close(ls);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_yield_total),
		cmocka_unit_test(test_long_group_values),
		cmocka_unit_test(test_yield_by_day),
		cmocka_unit_test(test_yield_groups),
		cmocka_unit_test(test_pareto),
		cmocka_unit_test(test_cycle),
		cmocka_unit_test(test_history),
		cmocka_unit_test(test_views_agree),
		cmocka_unit_test(test_injection_inert),
		cmocka_unit_test(test_dates_and_by),
		cmocka_unit_test(test_empty_range),
		cmocka_unit_test(test_percentile),
		cmocka_unit_test(test_tampered_sums),
		cmocka_unit_test(test_migrated_v1),
	};
	char dst[2 * PATH_MAX + 16], src[PATH_MAX + 32], cmd[8 * PATH_MAX];
	int rc;

	rc = cmocka_run_group_tests(tests, group_setup, NULL);
	/* leave the fixture for tests/cli/treport.sh: BUILD/test-data/known.db */
	if (!rc && strstr(argv[0], "tests/unit/")) {
		snprintf(dst, sizeof(dst), "%s%s%.*stest-data", argv[0][0] == '/' ? "" : srcdir,
			 argv[0][0] == '/' ? "" : "/",
			 (int)(strstr(argv[0], "tests/unit/") - argv[0]), argv[0]);
		snprintf(src, sizeof(src), "%s/known.db", tmpdir);
		snprintf(cmd, sizeof(cmd), "mkdir -p '%s' && cp '%s' '%s/known.db'", dst, src, dst);
		fx_store_close(st);
		st = NULL;
		rc = system(cmd) ? 1 : 0;
	}
	(void)argc;
	group_teardown(NULL);
	return rc;
}

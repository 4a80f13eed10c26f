/* report_yield.c - the yield report (v_yield): runs, passes and the unit
 * cohort per group, the grand total, and the per-day series of the HTML
 * chart. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_query.h"

enum { Y_RUNS, Y_PASSED, Y_FAILED, Y_ERRORS, Y_UNITS, Y_FP, Y_FINAL, Y__N };

static void yield_cells(struct fx_report_cell *c, const int64_t v[Y__N])
{
	fx_rt_int(&c[0], v[Y_RUNS]);
	fx_rt_int(&c[1], v[Y_PASSED]);
	fx_rt_int(&c[2], v[Y_FAILED]);
	fx_rt_int(&c[3], v[Y_ERRORS]);
	fx_rt_pct(&c[4], v[Y_PASSED], v[Y_RUNS]);
	fx_rt_int(&c[5], v[Y_UNITS]);
	fx_rt_int(&c[6], v[Y_FP]);
	fx_rt_pct(&c[7], v[Y_FP], v[Y_UNITS]);
	fx_rt_int(&c[8], v[Y_FINAL]);
	fx_rt_pct(&c[9], v[Y_FINAL], v[Y_UNITS]);
}

static int yield_daily_series(struct fx_rq *x)
{
	struct fx_report_daypoint *d;
	sqlite3_stmt *s;
	size_t cap = 0;
	int rc;

	rc = fx_rq_prepare(x, "SELECT day_num, sum(runs), sum(passed) FROM v_yield" FX_RQ_WHERE
		     " GROUP BY day_num ORDER BY day_num", &s);
	if (rc)
		return rc;
	fx_rq_bind_common(x, s);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		d = fx_rq_grow(x->r->days, &cap, x->r->ndays + 1, sizeof(*d), 32);
		if (!d) {
			sqlite3_finalize(s);
			return fx_rq_nomem(x);
		}
		x->r->days = d;
		d = &x->r->days[x->r->ndays++];
		d->day = sqlite3_column_int64(s, 0);
		d->runs = sqlite3_column_int64(s, 1);
		d->yield_pct = d->runs ? 100.0 * (double)sqlite3_column_int64(s, 2) / (double)d->runs : 0;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : fx_rq_dberr(x);
}

int fx_rq_yield(struct fx_rq *x)
{
	struct fx_report_table *t = &x->r->tables[x->r->ntables++];
	char g[160], sql[1024];
	struct fx_report_cell *row;
	int64_t v[Y__N], tot[Y__N] = { 0 };
	sqlite3_stmt *s;
	unsigned i;
	int rc, c;

	t->name = "yield";
	fx_rq_add_group_cols(x, t);
	fx_rt_col(t, "runs", FX_COL_INT);
	fx_rt_col(t, "passed", FX_COL_INT);
	fx_rt_col(t, "failed", FX_COL_INT);
	fx_rt_col(t, "errors", FX_COL_INT);
	fx_rt_col(t, "yield_pct", FX_COL_PCT);
	fx_rt_col(t, "units", FX_COL_INT);
	fx_rt_col(t, "first_pass", FX_COL_INT);
	fx_rt_col(t, "fpy_pct", FX_COL_PCT);
	fx_rt_col(t, "final_pass", FX_COL_INT);
	fx_rt_col(t, "final_pct", FX_COL_PCT);
	fx_rq_group_sql(x->q, g, sizeof(g));
	snprintf(sql, sizeof(sql),
		 "SELECT %s%s sum(runs), sum(passed), sum(failed), sum(errors) + sum(aborted),"
		 " sum(units), sum(units_first_pass), sum(units_final_pass) FROM v_yield" FX_RQ_WHERE
		 "%s%s%s%s",
		 g, x->q->nby ? "," : "", x->q->nby ? " GROUP BY " : "", g,
		 x->q->nby ? " ORDER BY " : "", g);
	rc = fx_rq_prepare(x, sql, &s);
	if (rc)
		return rc;
	fx_rq_bind_common(x, s);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		row = fx_rt_row(t);
		if (!row || (c = fx_rq_fill_group(x, row, s)) < 0) {
			sqlite3_finalize(s);
			return fx_rq_nomem(x);
		}
		for (i = 0; i < Y__N; i++) {
			v[i] = sqlite3_column_int64(s, c + (int)i);
			if (__builtin_add_overflow(tot[i], v[i], &tot[i])) {
				sqlite3_finalize(s);
				return fx_rq_implausible(x, "yield");
			}
		}
		yield_cells(row + x->q->nby, v);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return fx_rq_dberr(x);
	if (x->q->nby) {
		/* every figure is additive (units count once, in their first
		 * run's group), so the total is the sum of the rows */
		row = fx_rt_row(t);
		if (!row)
			return fx_rq_nomem(x);
		/* group cells stay null: the formats mark the row as the
		 * grand total, never as a group value (fx/report.h) */
		t->total_row = true;
		yield_cells(row + x->q->nby, tot);
	}
	return yield_daily_series(x);
}

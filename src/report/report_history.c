/* report_history.c - the history of one unit (v_runs, v_steps): its
 * runs and their steps, found by serial, chip UID or allocated serial
 * number (serial_alloc). */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_query.h"

static int history_table(struct fx_rq *x, struct fx_report_table *t, const char *sql,
			 const enum fx_report_coltype *types, const char *const *names,
			 unsigned ncols)
{
	struct fx_report_cell *row;
	sqlite3_stmt *s;
	unsigned i;
	int rc;

	for (i = 0; i < ncols; i++)
		fx_rt_col(t, names[i], types[i]);
	rc = fx_rq_prepare(x, sql, &s);
	if (rc)
		return rc;
	sqlite3_bind_text(s, 1, x->q->unit, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		row = fx_rt_row(t);
		if (!row) {
			sqlite3_finalize(s);
			return fx_rq_nomem(x);
		}
		for (i = 0; i < ncols; i++) {
			if (sqlite3_column_type(s, (int)i) == SQLITE_NULL)
				continue;
			switch (types[i]) {
			case FX_COL_TEXT:
				if (!fx_rt_text(&row[i], (const char *)sqlite3_column_text(s, (int)i))) {
					sqlite3_finalize(s);
					return fx_rq_nomem(x);
				}
				break;
			case FX_COL_INT:
				fx_rt_int(&row[i], sqlite3_column_int64(s, (int)i));
				break;
			case FX_COL_PCT:
			case FX_COL_SEC:
				fx_rt_num(&row[i], (double)sqlite3_column_int64(s, (int)i) / 1e6);
				break;
			}
		}
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : fx_rq_dberr(x);
}

/* a UNION, not OR: each arm uses its index (OR scanned 10M units) */
#define UNIT_IDS "SELECT id FROM units WHERE serial = ?1 UNION SELECT id FROM units WHERE chip_uid = ?1"
#define UNIT_RUNS "SELECT id FROM runs WHERE unit_id IN (" UNIT_IDS ")"
/* and the unit of the chip UID an allocated serial is bound to (issue 11:
 * units.serial is that serial, but a board bound after a FAIL has its
 * serial only in serial_alloc) */
#define UNIT_RUNS_SERIAL "SELECT id FROM runs WHERE unit_id IN (" UNIT_IDS \
	" UNION SELECT u.id FROM serial_alloc a JOIN units u ON u.chip_uid = a.chip_uid" \
	" WHERE a.value = ?1 AND a.state = 'bound')"

/* A database with serial allocations (a station database; the fleet's
 * scratch database has none). */
static bool has_serials(struct fx_rq *x)
{
	sqlite3_stmt *s = NULL;
	bool yes;

	if (fx_rq_prepare(x, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'serial_alloc'",
			  &s))
		return false;
	yes = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_finalize(s);
	return yes;
}

int fx_rq_history(struct fx_rq *x)
{
	static const char *const run_names[] = {
		"run", "serial", "chip_uid", "start_utc", "end_utc", "duration_s", "station",
		"slot", "port", "operator", "recipe", "board_state", "result", "failing_step",
		"error_code", "message",
	};
	static const enum fx_report_coltype run_types[] = {
		FX_COL_TEXT, FX_COL_TEXT, FX_COL_TEXT, FX_COL_TEXT, FX_COL_TEXT, FX_COL_SEC,
		FX_COL_TEXT, FX_COL_INT, FX_COL_TEXT, FX_COL_TEXT, FX_COL_TEXT, FX_COL_TEXT,
		FX_COL_TEXT, FX_COL_TEXT, FX_COL_TEXT, FX_COL_TEXT,
	};
	static const char *const step_names[] = {
		"run", "seq", "step", "start_utc", "duration_s", "result", "detail",
	};
	static const enum fx_report_coltype step_types[] = {
		FX_COL_TEXT, FX_COL_INT, FX_COL_TEXT, FX_COL_TEXT, FX_COL_SEC, FX_COL_TEXT,
		FX_COL_TEXT,
	};
	struct fx_report_table *runs = &x->r->tables[x->r->ntables++];
	struct fx_report_table *steps = &x->r->tables[x->r->ntables++];
	const char *first, *last;
	char sql[1024];
	bool ser = has_serials(x);
	int rc;

	runs->name = "runs";
	steps->name = "steps";
	snprintf(sql, sizeof(sql),
		 "SELECT uuid, serial, chip_uid, start_utc, end_utc, end_us - start_us,"
		 " station, slot, port_path, operator,"
		 " recipe_name || CASE WHEN COALESCE(recipe_version, '') = '' THEN ''"
		 "  ELSE ' ' || recipe_version END,"
		 " board_state, result, failing_step, error_code, error_message"
		 " FROM v_runs WHERE run_id IN (%s) ORDER BY start_us, run_id",
		 ser ? UNIT_RUNS_SERIAL : UNIT_RUNS);
	rc = history_table(x, runs, sql, run_types, run_names, 16);
	if (rc)
		return rc;
	if (!runs->nrows)
		return fx_err_set(x->err, FX_E_NOTFOUND, "no unit with serial or chip uid '%s'",
				  x->q->unit);
	snprintf(sql, sizeof(sql),
		 "SELECT s.uuid, s.seq, s.step, s.start_utc, s.duration_us, s.result, s.detail"
		 " FROM v_steps s JOIN runs r ON r.id = s.run_id"
		 " WHERE s.run_id IN (%s) ORDER BY r.start_us, r.id, s.seq",
		 ser ? UNIT_RUNS_SERIAL : UNIT_RUNS);
	rc = history_table(x, steps, sql, step_types, step_names, 7);
	if (rc)
		return rc;
	first = fx_rt_cell(runs, 0, 3)->s;
	last = fx_rt_cell(runs, runs->nrows - 1, 3)->s;
	snprintf(x->r->from, sizeof(x->r->from), "%.10s", first);
	snprintf(x->r->to, sizeof(x->r->to), "%.10s", last);
	return 0;
}

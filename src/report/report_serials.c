/* report_serials.c - the serial number pools (fx/serial.h): per pool the
 * values bound, reserved, released, voided, what remains, the blocks and
 * the newest value issued, from the view v_serial_pools. */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "report_query.h"

int fx_rq_serials(struct fx_rq *x)
{
	static const char *const names[] = {
		"pool", "source", "bound", "reserved", "released", "voided", "remaining", "blocks",
		"last_value",
	};
	static const enum fx_report_coltype types[] = {
		FX_COL_TEXT, FX_COL_TEXT, FX_COL_INT, FX_COL_INT, FX_COL_INT, FX_COL_INT,
		FX_COL_INT, FX_COL_INT, FX_COL_TEXT,
	};
	struct fx_report_table *t = &x->r->tables[x->r->ntables++];
	struct fx_report_cell *row;
	sqlite3_stmt *s;
	unsigned i;
	int rc;

	t->name = "serials";
	for (i = 0; i < 9; i++)
		fx_rt_col(t, names[i], types[i]);
	rc = fx_rq_prepare(x, "SELECT pool, source, bound, reserved, released, voided, remaining,"
			   " blocks, last_value FROM v_serial_pools ORDER BY pool", &s);
	if (rc)
		return rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		row = fx_rt_row(t);
		if (!row) {
			sqlite3_finalize(s);
			return fx_rq_nomem(x);
		}
		for (i = 0; i < 9; i++) {
			if (sqlite3_column_type(s, (int)i) == SQLITE_NULL)
				continue;
			if (types[i] == FX_COL_INT) {
				fx_rt_int(&row[i], sqlite3_column_int64(s, (int)i));
			} else if (!fx_rt_text(&row[i], (const char *)sqlite3_column_text(s, (int)i))) {
				sqlite3_finalize(s);
				return fx_rq_nomem(x);
			}
		}
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return fx_rq_dberr(x);
	/* the range: the days of the first and the newest reservation */
	rc = fx_rq_prepare(x, "SELECT date(min(reserved_us) / 1000000, 'unixepoch'),"
			   " date(max(reserved_us) / 1000000, 'unixepoch') FROM serial_alloc", &s);
	if (rc)
		return rc;
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
		snprintf(x->r->from, sizeof(x->r->from), "%s", (const char *)sqlite3_column_text(s, 0));
		snprintf(x->r->to, sizeof(x->r->to), "%s", (const char *)sqlite3_column_text(s, 1));
	}
	sqlite3_finalize(s);
	return 0;
}

/* store_counts.c - what the station reads back while it records: the
 * counts of the day for the operator display, the latest recorded time. */
#include "store_int.h"

int fx_store_counts_day(struct fx_store *st, int64_t day_utc_us,
			const char *operator_id, struct fx_store_counts *out,
			struct fx_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if (!out)
		return fx_err_set(err, FX_E_INVAL, "counts: no output");
	pthread_mutex_lock(&st->lock);
	s = fx_store_stmt(st, SQ_COUNTS_DAY, err);
	if (!s) {
		rc = FX_E_DB;
		goto out;
	}
	sqlite3_bind_int64(s, 1, fx_store_day(day_utc_us));
	fx_store_bind_text(s, 2, operator_id);
	if (sqlite3_step(s) != SQLITE_ROW) {
		rc = fx_store_dberr(st, err);
	} else {
		out->runs = (unsigned)sqlite3_column_int64(s, 0);
		out->passed = (unsigned)sqlite3_column_int64(s, 1);
		out->failed = (unsigned)sqlite3_column_int64(s, 2);
		out->errors = (unsigned)sqlite3_column_int64(s, 3);
		rc = 0;
	}
	sqlite3_reset(s);
out:
	pthread_mutex_unlock(&st->lock);
	return rc;
}

int fx_store_latest_us(struct fx_store *st, int64_t *us, struct fx_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if (!us)
		return fx_err_set(err, FX_E_INVAL, "latest: no output");
	*us = 0;
	pthread_mutex_lock(&st->lock);
	s = fx_store_stmt(st, SQ_LATEST, err);
	if (!s) {
		rc = FX_E_DB;
		goto out;
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*us = sqlite3_column_int64(s, 0);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = 0;
	} else {
		rc = fx_store_dberr(st, err);
	}
	sqlite3_reset(s);
out:
	pthread_mutex_unlock(&st->lock);
	return rc;
}

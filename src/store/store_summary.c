/* store_summary.c - the summary tables (store_schema.c: sum_bucket,
 * sum_pareto, sum_cycle, and the unit cohort in units), folded in with
 * each finished run inside its run-end or recovery transaction, so the
 * reports never scan the runs. */
#include <stdlib.h>

#include "store_int.h"

/* Add one duration to the (bucket, step) row: read-modify-write of its
 * histogram (store_hist.c), inside the run-end transaction. */
static int cycle_add(struct fx_store *st, int64_t bucket, const char *step, int seq, int64_t us,
		     struct fx_err *err)
{
	sqlite3_stmt *s = fx_store_stmt(st, SQ_CYCLE_GET, err);
	enum fx_hist_rc hr = FX_HIST_OK;
	uint8_t *hist = NULL;
	size_t len = 0;
	int rc;

	if (!s)
		return FX_E_DB;
	sqlite3_bind_int64(s, 1, bucket);
	sqlite3_bind_text(s, 2, step, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_type(s, 0) != SQLITE_BLOB)
			hr = FX_HIST_MALFORMED;
		else
			hr = fx_store_hist_add_one(sqlite3_column_blob(s, 0),
						   (size_t)sqlite3_column_bytes(s, 0), us, &hist, &len);
	} else if (rc == SQLITE_DONE) {
		hr = fx_store_hist_add_one(NULL, 0, us, &hist, &len);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fx_store_dberr(st, err);
	switch (hr) {
	case FX_HIST_OK:
		break;
	case FX_HIST_MALFORMED:
		return fx_err_set(err, FX_E_DB, "database '%s': malformed sum_cycle.hist for step '%s'",
				  st->path, step);
	case FX_HIST_OVERFLOW:
		return fx_err_set(err, FX_E_DB, "database '%s': implausible cycle sums for step '%s'",
				  st->path, step);
	case FX_HIST_NOMEM:
		return fx_err_set(err, FX_E_NOMEM, "database '%s': out of memory", st->path);
	}
	s = fx_store_stmt(st, SQ_CYCLE_UPSERT, err);
	if (!s) {
		free(hist);
		return FX_E_DB;
	}
	sqlite3_bind_int64(s, 1, bucket);
	sqlite3_bind_text(s, 2, step, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 3, seq);
	sqlite3_bind_int64(s, 4, us);
	sqlite3_bind_blob(s, 5, hist, (int)len, free);
	return fx_store_run_stmt(st, s, err);
}

/* Add du units, dfirst first-pass and dfinal final-pass units to a
 * bucket's cohort. */
static int bucket_units(struct fx_store *st, int64_t bucket, int du, int dfirst, int dfinal,
			struct fx_err *err)
{
	sqlite3_stmt *s;

	if (!du && !dfirst && !dfinal)
		return 0;
	s = fx_store_stmt(st, SQ_BUCKET_UNITS, err);
	if (!s)
		return FX_E_DB;
	sqlite3_bind_int64(s, 1, bucket);
	sqlite3_bind_int(s, 2, du);
	sqlite3_bind_int(s, 3, dfirst);
	sqlite3_bind_int(s, 4, dfinal);
	return fx_store_run_stmt(st, s, err);
}

/* (start, id) ordering of runs: the order v_first_pass uses. */
static bool run_before(int64_t s1, int64_t id1, int64_t s2, int64_t id2)
{
	return s1 < s2 || (s1 == s2 && id1 < id2);
}

/* The unit cohort: the unit's first finished run (by start time, then id,
 * as v_first_pass orders them, whatever order the runs FINISHED in)
 * decides its bucket and first-pass, its last one the final result. A run
 * finishing late may become the first (the cohort moves to its bucket) or
 * the last one; one in between changes nothing. */
static int fold_unit(struct fx_store *st, int64_t unit_id, int64_t run_id, int64_t start_us,
		     int64_t bucket, enum fx_store_result result, struct fx_err *err)
{
	bool pass = result == FX_STORE_PASS, had_first, was_final, was_first;
	int64_t first_bucket, first_id, first_start, last_id, last_start;
	enum fx_store_result last_res, first_res;
	sqlite3_stmt *s;
	int rc;

	s = fx_store_stmt(st, SQ_UNIT_GET, err);
	if (!s)
		return FX_E_DB;
	sqlite3_bind_int64(s, 1, unit_id);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		return fx_store_dberr(st, err);
	}
	had_first = sqlite3_column_type(s, 0) != SQLITE_NULL;
	was_final = was_first = false;
	if (had_first) {
		/* the text of units.last_result / first_result, at the SQL
		 * boundary; NULL: a NULL column, or SQLite out of memory */
		const char *last = (const char *)sqlite3_column_text(s, 1);
		const char *first = last ? (const char *)sqlite3_column_text(s, 3) : NULL;

		if (!first && sqlite3_errcode(st->db) == SQLITE_NOMEM) {
			sqlite3_reset(s);
			return fx_err_set(err, FX_E_NOMEM, "%s: out of memory", st->path);
		}
		if (!fx_store_result_from_name(last, &last_res) ||
		    !fx_store_result_from_name(first, &first_res)) {
			sqlite3_reset(s);
			return fx_err_set(err, FX_E_DB,
					  "database '%s': unit %lld: first/last result '%s'/'%s' is not a result",
					  st->path, (long long)unit_id, first ? first : "(null)",
					  last ? last : "(null)");
		}
		was_final = last_res == FX_STORE_PASS;
		was_first = first_res == FX_STORE_PASS;
	}
	first_id = sqlite3_column_int64(s, 0);
	first_bucket = sqlite3_column_int64(s, 2);
	first_start = sqlite3_column_int64(s, 4);
	last_id = sqlite3_column_int64(s, 5);
	last_start = sqlite3_column_int64(s, 6);
	sqlite3_reset(s);

	if (!had_first || run_before(last_start, last_id, start_us, run_id)) {
		/* the first run, or a new last one */
		s = fx_store_stmt(st, had_first ? SQ_UNIT_LAST : SQ_UNIT_FIRST, err);
		if (!s)
			return FX_E_DB;
		sqlite3_bind_int64(s, 1, unit_id);
		sqlite3_bind_int64(s, 2, run_id);
		sqlite3_bind_text(s, 3, fx_store_result_name(result), -1, SQLITE_STATIC);
		if (!had_first)
			sqlite3_bind_int64(s, 4, bucket);
		rc = fx_store_run_stmt(st, s, err);
		if (rc)
			return rc;
		if (!had_first)
			return bucket_units(st, bucket, 1, pass, pass, err);
		return bucket_units(st, first_bucket, 0, 0, (int)pass - (int)was_final, err);
	}
	if (!run_before(start_us, run_id, first_start, first_id))
		return 0; /* between the first and the last run */
	/* started before the unit's first run: the cohort moves to its bucket */
	s = fx_store_stmt(st, SQ_UNIT_SET_FIRST, err);
	if (!s)
		return FX_E_DB;
	sqlite3_bind_int64(s, 1, unit_id);
	sqlite3_bind_int64(s, 2, run_id);
	sqlite3_bind_text(s, 3, fx_store_result_name(result), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, bucket);
	rc = fx_store_run_stmt(st, s, err);
	if (!rc)
		rc = bucket_units(st, first_bucket, -1, -(int)was_first, -(int)was_final, err);
	if (!rc)
		rc = bucket_units(st, bucket, 1, pass, was_final, err);
	return rc;
}

int fx_store_fold_run(struct fx_store *st, int64_t run_id, enum fx_store_result result,
		      int64_t end_us, struct fx_err *err)
{
	int64_t start_us, unit_id, bucket;
	bool has_unit;
	sqlite3_stmt *s, *r;
	int rc;

	r = fx_store_stmt(st, SQ_RUN_GET, err);
	if (!r)
		return FX_E_DB;
	sqlite3_bind_int64(r, 1, run_id);
	if (sqlite3_step(r) != SQLITE_ROW) {
		sqlite3_reset(r);
		return fx_store_dberr(st, err);
	}
	start_us = sqlite3_column_int64(r, 1);
	has_unit = sqlite3_column_type(r, 7) != SQLITE_NULL;
	unit_id = sqlite3_column_int64(r, 7);

	s = fx_store_stmt(st, SQ_BUCKET_UPSERT, err);
	if (!s) {
		sqlite3_reset(r);
		return FX_E_DB;
	}
	sqlite3_bind_int64(s, 1, fx_store_day(start_us));
	sqlite3_bind_value(s, 2, sqlite3_column_value(r, 2));
	sqlite3_bind_value(s, 3, sqlite3_column_value(r, 3));
	sqlite3_bind_value(s, 4, sqlite3_column_value(r, 4));
	sqlite3_bind_value(s, 5, sqlite3_column_value(r, 5));
	sqlite3_bind_value(s, 6, sqlite3_column_value(r, 6));
	sqlite3_bind_int(s, 7, result == FX_STORE_PASS);
	sqlite3_bind_int(s, 8, result == FX_STORE_FAIL);
	sqlite3_bind_int(s, 9, result == FX_STORE_ERROR);
	sqlite3_bind_int(s, 10, result == FX_STORE_ABORTED);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		sqlite3_reset(r);
		return fx_store_dberr(st, err);
	}
	bucket = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);

	if (result != FX_STORE_PASS) {
		s = fx_store_stmt(st, SQ_PARETO_UPSERT, err);
		if (!s)
			return FX_E_DB;
		sqlite3_bind_int64(s, 1, bucket);
		sqlite3_bind_value(s, 2, sqlite3_column_value(r, 8));
		sqlite3_bind_value(s, 3, sqlite3_column_value(r, 9));
		rc = fx_store_run_stmt(st, s, err);
		if (rc) {
			sqlite3_reset(r);
			return rc;
		}
	}
	sqlite3_reset(r);
	if (has_unit) {
		rc = fold_unit(st, unit_id, run_id, start_us, bucket, result, err);
		if (rc)
			return rc;
	}
	/* cycle time: runs that ended with a verdict (not ABORTED) */
	if (end_us >= 0 && result != FX_STORE_ABORTED) {
		rc = cycle_add(st, bucket, "", 0, end_us - start_us, err);
		if (rc)
			return rc;
		r = fx_store_stmt(st, SQ_STEPS_OF_RUN, err);
		if (!r)
			return FX_E_DB;
		sqlite3_bind_int64(r, 1, run_id);
		/* the cycle statements are others: stepping r on is fine */
		while ((rc = sqlite3_step(r)) == SQLITE_ROW) {
			rc = cycle_add(st, bucket, (const char *)sqlite3_column_text(r, 0),
				       sqlite3_column_int(r, 2), sqlite3_column_int64(r, 1), err);
			if (rc) {
				sqlite3_reset(r);
				return rc;
			}
		}
		sqlite3_reset(r);
		if (rc != SQLITE_DONE)
			return fx_store_dberr(st, err);
	}
	return 0;
}

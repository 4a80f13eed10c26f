/* report_query.h - private to src/report/: what the report kinds share to
 * read the store's views (report_query.c) and the kinds themselves. The
 * store is reached only through its library-private store_sql.h. */
#ifndef FX_REPORT_REPORT_QUERY_H
#define FX_REPORT_REPORT_QUERY_H

#include <sqlite3.h>

#include "../store/store_sql.h"
#include "report_int.h"

/* ?1 first day, ?2 last day, ?3 station, ?4 recipe name, ?5 operator */
#define FX_RQ_WHERE                                                         \
	" WHERE day_num BETWEEN ?1 AND ?2 AND (?3 IS NULL OR station = ?3)" \
	" AND (?4 IS NULL OR recipe_name = ?4) AND (?5 IS NULL OR operator = ?5)"

/* One fx_report_run() call. */
struct fx_rq {
	struct fx_store *st;
	sqlite3 *db;                     /* the store's, borrowed */
	const struct fx_report_query *q;
	struct fx_report *r;             /* being filled */
	struct fx_err *err;
	int64_t lo, hi;                  /* day range, INT64_MIN/MAX if open */
};

/* Errors, each filling x->err and returning its code: FX_E_DB with
 * SQLite's message; FX_E_NOMEM; FX_E_DB "implausible WHAT sums" (stored
 * figures that add up beyond int64_t: a tampered or damaged file). */
int fx_rq_dberr(struct fx_rq *x);
int fx_rq_nomem(struct fx_rq *x);
int fx_rq_implausible(struct fx_rq *x, const char *what);

/* An array arr of *cap elements of size bytes, grown (doubling, first
 * elements at least) to hold need: the array to use, *cap updated; NULL
 * when it cannot grow (arr and *cap unchanged, still the caller's). */
void *fx_rq_grow(void *arr, size_t *cap, size_t need, size_t size, size_t first);

/* Prepare sql on the store's connection (finalize *s). */
int fx_rq_prepare(struct fx_rq *x, const char *sql, sqlite3_stmt **s);
/* Bind ?1 .. ?5 of FX_RQ_WHERE. */
void fx_rq_bind_common(struct fx_rq *x, sqlite3_stmt *s);
/* The SQL group columns "day_num, station" of the --by keys (fixed
 * fragments only; "" with none). */
void fx_rq_group_sql(const struct fx_report_query *q, char *buf, size_t len);
/* How many SQL columns the group takes (recipe takes two). */
int fx_rq_ngroup_sqlcols(const struct fx_report_query *q);
/* Add the group columns to t (t->ngroup). */
void fx_rq_add_group_cols(struct fx_rq *x, struct fx_report_table *t);
/* Fill the group cells of row from s; returns the number of SQL columns
 * used, or -1 on ENOMEM. */
int fx_rq_fill_group(struct fx_rq *x, struct fx_report_cell *row, sqlite3_stmt *s);
/* Group identity of the current row: the first ncols columns as text,
 * then extra (NULL: none), each ended by 0x1f; malloc'd, NULL on ENOMEM. */
char *fx_rq_group_key(sqlite3_stmt *s, int ncols, const char *extra);

/* The kinds: each adds its table(s) to x->r (report_yield.c,
 * report_pareto.c, report_cycle.c, report_history.c). */
int fx_rq_yield(struct fx_rq *x);
int fx_rq_pareto(struct fx_rq *x);
int fx_rq_cycle(struct fx_rq *x);
int fx_rq_history(struct fx_rq *x);
int fx_rq_serials(struct fx_rq *x); /* report_serials.c */

#endif

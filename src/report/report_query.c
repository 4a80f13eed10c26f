/* report_query.c - fx_report_run(): the query checked, the range found,
 * the report of its kind computed (report_yield.c, report_pareto.c,
 * report_cycle.c, report_history.c), and the helpers they share to read
 * the schema's views: SQL text assembled only from fixed fragments, every
 * user value a bound parameter (?1 .. ?5), group columns and keys. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_query.h"

static const char *const group_expr[FX_BY__COUNT] = {
	[FX_BY_DAY] = "day_num", [FX_BY_WEEK] = "week_num", [FX_BY_STATION] = "station",
	[FX_BY_SLOT] = "slot", [FX_BY_RECIPE] = "recipe_name, recipe_version",
	[FX_BY_OPERATOR] = "operator", [FX_BY_LINE] = "line",
};

int fx_rq_dberr(struct fx_rq *x)
{
	return fx_err_set(x->err, FX_E_DB, "database '%s': %s", fx_store_path(x->st),
			  sqlite3_errmsg(x->db));
}

void *fx_rq_grow(void *arr, size_t *cap, size_t need, size_t size, size_t first)
{
	size_t n = *cap ? *cap : first;
	void *p;

	if (need <= *cap)
		return arr;
	while (n < need)
		n *= 2;
	p = realloc(arr, n * size);
	if (p)
		*cap = n;
	return p;
}

int fx_rq_nomem(struct fx_rq *x)
{
	return fx_err_set(x->err, FX_E_NOMEM, "report: out of memory");
}

/* A sum of stored figures does not fit in int64_t: only a tampered or
 * damaged database gets there (what = "cycle", "yield", "failure"). */
int fx_rq_implausible(struct fx_rq *x, const char *what)
{
	return fx_err_set(x->err, FX_E_DB, "database '%s': implausible %s sums",
			  fx_store_path(x->st), what);
}

/* "day_num, station" (fixed fragments only) */
void fx_rq_group_sql(const struct fx_report_query *q, char *buf, size_t len)
{
	size_t n = 0;
	unsigned i;

	buf[0] = '\0';
	for (i = 0; i < q->nby; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? ", " : "", group_expr[q->by[i]]);
}

int fx_rq_prepare(struct fx_rq *x, const char *sql, sqlite3_stmt **s)
{
	if (sqlite3_prepare_v2(x->db, sql, -1, s, NULL) != SQLITE_OK)
		return fx_rq_dberr(x);
	return 0;
}

void fx_rq_bind_common(struct fx_rq *x, sqlite3_stmt *s)
{
	sqlite3_bind_int64(s, 1, x->lo);
	sqlite3_bind_int64(s, 2, x->hi);
	if (x->q->station)
		sqlite3_bind_text(s, 3, x->q->station, -1, SQLITE_STATIC);
	if (x->q->recipe)
		sqlite3_bind_text(s, 4, x->q->recipe, -1, SQLITE_STATIC);
	if (x->q->operator_id)
		sqlite3_bind_text(s, 5, x->q->operator_id, -1, SQLITE_STATIC);
}

void fx_rq_add_group_cols(struct fx_rq *x, struct fx_report_table *t)
{
	unsigned i;

	for (i = 0; i < x->q->nby; i++)
		fx_rt_col(t, fx_report_by_name(x->q->by[i]), FX_COL_TEXT);
	t->ngroup = x->q->nby;
}

/* Fill the group cells of row from s; returns the number of SQL columns
 * used, or -1 on ENOMEM. */
int fx_rq_fill_group(struct fx_rq *x, struct fx_report_cell *row, sqlite3_stmt *s)
{
	char buf[160];
	const char *name, *ver;
	size_t len;
	unsigned i;
	int c = 0;
	bool ok = true;

	for (i = 0; i < x->q->nby; i++) {
		switch (x->q->by[i]) {
		case FX_BY_DAY:
			fx_report_format_day(sqlite3_column_int64(s, c++), buf, sizeof(buf));
			ok = fx_rt_text(&row[i], buf);
			break;
		case FX_BY_WEEK:
			fx_report_format_week(sqlite3_column_int64(s, c++), buf, sizeof(buf));
			ok = fx_rt_text(&row[i], buf);
			break;
		case FX_BY_SLOT:
			snprintf(buf, sizeof(buf), "%lld", (long long)sqlite3_column_int64(s, c++));
			ok = fx_rt_text(&row[i], buf);
			break;
		case FX_BY_RECIPE:
			name = (const char *)sqlite3_column_text(s, c++);
			ver = (const char *)sqlite3_column_text(s, c++);
			/* whole, however long (no fixed buffer) */
			len = strlen(name ? name : "") + strlen(ver ? ver : "") + 2;
			row[i].s = malloc(len);
			ok = row[i].s != NULL;
			if (ok) {
				row[i].null = false;
				snprintf(row[i].s, len, "%s%s%s", name ? name : "",
					 ver && *ver ? " " : "", ver ? ver : "");
			}
			break;
		case FX_BY_STATION:
		case FX_BY_OPERATOR:
		case FX_BY_LINE:
		case FX_BY__COUNT:
			/* the summaries store "no operator" as '': a null cell,
			 * "(none)" in text (fx/report.h) */
			name = (const char *)sqlite3_column_text(s, c++);
			if (name && *name)
				ok = fx_rt_text(&row[i], name);
			break;
		}
		if (!ok)
			return -1;
	}
	return c;
}

/* Group identity of the current row: the group columns as text, then
 * extra (the step, or NULL), each ended by 0x1f; whole, however long.
 * Malloc'd; NULL on ENOMEM. */
char *fx_rq_group_key(sqlite3_stmt *s, int ncols, const char *extra)
{
	size_t n = 1, k = 0, l;
	char *buf;
	const char *v;
	int i;

	for (i = 0; i < ncols; i++)
		n += (size_t)sqlite3_column_bytes(s, i) + 1;
	n += extra ? strlen(extra) + 1 : 0;
	buf = malloc(n);
	if (!buf)
		return NULL;
	for (i = 0; i <= ncols; i++) {
		v = i < ncols ? (const char *)sqlite3_column_text(s, i) : extra;
		if (i == ncols && !extra)
			break;
		l = v ? strlen(v) : 0;
		if (k + l + 2 > n)
			l = n - k - 2; /* cannot happen: text is never longer than its bytes */
		memcpy(buf + k, v ? v : "", l);
		k += l;
		buf[k++] = '\x1f';
	}
	buf[k] = '\0';
	return buf;
}

int fx_rq_ngroup_sqlcols(const struct fx_report_query *q)
{
	unsigned i;
	int n = 0;

	for (i = 0; i < q->nby; i++)
		n += q->by[i] == FX_BY_RECIPE ? 2 : 1;
	return n;
}

/* The effective range: the given bounds, else the data's first/last day. */
static int effective_range(struct fx_rq *x)
{
	sqlite3_stmt *s;
	int rc;

	rc = fx_rq_prepare(x, "SELECT min(day_num), max(day_num) FROM v_yield" FX_RQ_WHERE, &s);
	if (rc)
		return rc;
	fx_rq_bind_common(x, s);
	if (sqlite3_step(s) != SQLITE_ROW) {
		rc = fx_rq_dberr(x);
		sqlite3_finalize(s);
		return rc;
	}
	if (sqlite3_column_type(s, 0) != SQLITE_NULL || x->q->has_from || x->q->has_to) {
		fx_report_format_day(x->q->has_from ? x->q->from_day : sqlite3_column_int64(s, 0),
				     x->r->from, sizeof(x->r->from));
		fx_report_format_day(x->q->has_to ? x->q->to_day :
				     sqlite3_column_type(s, 1) != SQLITE_NULL ? sqlite3_column_int64(s, 1) :
				     x->q->from_day, x->r->to, sizeof(x->r->to));
	}
	sqlite3_finalize(s);
	return 0;
}

static bool dup_opt(char **dst, const char *src)
{
	if (!src)
		return true;
	*dst = strdup(src);
	return *dst != NULL;
}

struct fx_report *fx_report_run(struct fx_store *st, const struct fx_report_query *q,
				struct fx_err *err)
{
	struct fx_rq x = { .st = st, .db = fx_store_sqlite(st), .q = q, .err = err,
			.lo = INT64_MIN, .hi = INT64_MAX };
	sqlite3_stmt *ls = NULL;
	unsigned i, j;
	int rc;

	if (q->has_from && q->has_to && q->from_day > q->to_day) {
		char a[11], b[11];

		fx_report_format_day(q->from_day, a, sizeof(a));
		fx_report_format_day(q->to_day, b, sizeof(b));
		fx_err_set(err, FX_E_INVAL, "--from %s is after --to %s", a, b);
		return NULL;
	}
	for (i = 0; i < q->nby; i++) {
		if ((unsigned)q->by[i] >= FX_BY__COUNT) {
			fx_err_set(err, FX_E_INVAL, "--by %d out of range", (int)q->by[i]);
			return NULL;
		}
		for (j = 0; j < i; j++)
			if (q->by[j] == q->by[i]) {
				fx_err_set(err, FX_E_INVAL, "--by '%s' given twice",
					   fx_report_by_name(q->by[i]));
				return NULL;
			}
	}
	for (i = 0; i < q->nby; i++) {
		if (q->by[i] != FX_BY_LINE)
			continue;
		/* a station database has no line column; the fleet's scratch
		 * database has one (fx/fleet.h) */
		rc = sqlite3_prepare_v2(fx_store_sqlite(st), "SELECT line FROM v_yield", -1, &ls, NULL);
		sqlite3_finalize(ls);
		if (rc != SQLITE_OK) {
			fx_err_set(err, FX_E_INVAL, "--by line: only the fleet database has lines"
				   " (--db postgresql://... or service=NAME)");
			return NULL;
		}
	}
	if (q->kind == FX_REPORT_HISTORY && (!q->unit || !*q->unit)) {
		fx_err_set(err, FX_E_INVAL, "history: a serial or chip uid is required");
		return NULL;
	}
	x.r = calloc(1, sizeof(*x.r));
	if (!x.r) {
		fx_rq_nomem(&x);
		return NULL;
	}
	x.r->kind = q->kind;
	if (q->kind != FX_REPORT_HISTORY) {
		x.r->nby = q->nby;
		memcpy(x.r->by, q->by, sizeof(q->by));
	}
	if (!dup_opt(&x.r->database, fx_store_path(st)) || !dup_opt(&x.r->station, q->station) ||
	    !dup_opt(&x.r->recipe, q->recipe) || !dup_opt(&x.r->operator_id, q->operator_id) ||
	    !dup_opt(&x.r->unit, q->kind == FX_REPORT_HISTORY ? q->unit : NULL)) {
		fx_rq_nomem(&x);
		goto err_free;
	}
	if (q->has_from)
		x.lo = q->from_day;
	if (q->has_to)
		x.hi = q->to_day;
	if (q->kind != FX_REPORT_HISTORY && q->kind != FX_REPORT_SERIALS) {
		rc = effective_range(&x);
		if (rc)
			goto err_free;
	}
	switch (q->kind) {
	case FX_REPORT_YIELD:
		rc = fx_rq_yield(&x);
		break;
	case FX_REPORT_PARETO:
		rc = fx_rq_pareto(&x);
		break;
	case FX_REPORT_CYCLE:
		rc = fx_rq_cycle(&x);
		break;
	case FX_REPORT_HISTORY:
		rc = fx_rq_history(&x);
		break;
	case FX_REPORT_SERIALS:
		rc = fx_rq_serials(&x);
		break;
	default:
		rc = fx_err_set(err, FX_E_INVAL, "report kind %d out of range", (int)q->kind);
		break;
	}
	if (rc)
		goto err_free;
	return x.r;
err_free:
	fx_report_free(x.r);
	return NULL;
}

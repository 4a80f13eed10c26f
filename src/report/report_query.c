/* report_query.c - the report figures, read from the schema's views:
 * yield (v_yield), pareto (v_pareto), cycle (v_cycle_bucket), history
 * (v_runs, v_steps). SQL text is assembled only from fixed fragments;
 * every user value is a bound parameter (?1 .. ?5). */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_int.h"

/* ?1 first day, ?2 last day, ?3 station, ?4 recipe name, ?5 operator */
#define WHERE_COMMON                                                        \
	" WHERE day_num BETWEEN ?1 AND ?2 AND (?3 IS NULL OR station = ?3)" \
	" AND (?4 IS NULL OR recipe_name = ?4) AND (?5 IS NULL OR operator = ?5)"

static const char *const group_expr[FX_BY__COUNT] = {
	[FX_BY_DAY] = "day_num", [FX_BY_WEEK] = "week_num", [FX_BY_STATION] = "station",
	[FX_BY_SLOT] = "slot", [FX_BY_RECIPE] = "recipe_name, recipe_version",
	[FX_BY_OPERATOR] = "operator", [FX_BY_LINE] = "line",
};

struct rq {
	struct fx_store *st;
	sqlite3 *db;
	const struct fx_report_query *q;
	struct fx_report *r;
	struct fx_err *err;
	int64_t lo, hi;
};

static int dberr(struct rq *x)
{
	return fx_err_set(x->err, FX_E_DB, "database '%s': %s", fx_store_path(x->st),
			  sqlite3_errmsg(x->db));
}

static int nomem(struct rq *x)
{
	return fx_err_set(x->err, FX_E_NOMEM, "report: out of memory");
}

/* A sum of stored figures does not fit in int64_t: only a tampered or
 * damaged database gets there (what = "cycle", "yield", "failure"). */
static int implausible(struct rq *x, const char *what)
{
	return fx_err_set(x->err, FX_E_DB, "database '%s': implausible %s sums",
			  fx_store_path(x->st), what);
}

/* "day_num, station" (fixed fragments only) */
static void group_sql(const struct fx_report_query *q, char *buf, size_t len)
{
	size_t n = 0;
	unsigned i;

	buf[0] = '\0';
	for (i = 0; i < q->nby; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? ", " : "", group_expr[q->by[i]]);
}

static int prepare(struct rq *x, const char *sql, sqlite3_stmt **s)
{
	if (sqlite3_prepare_v2(x->db, sql, -1, s, NULL) != SQLITE_OK)
		return dberr(x);
	return 0;
}

static void bind_common(struct rq *x, sqlite3_stmt *s)
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

static void add_group_cols(struct rq *x, struct fx_report_table *t)
{
	unsigned i;

	for (i = 0; i < x->q->nby; i++)
		fx_rt_col(t, fx_report_by_name(x->q->by[i]), FX_COL_TEXT);
	t->ngroup = x->q->nby;
}

/* Fill the group cells of row from s; returns the number of SQL columns
 * used, or -1 on ENOMEM. */
static int fill_group(struct rq *x, struct fx_report_cell *row, sqlite3_stmt *s)
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
static char *group_key(sqlite3_stmt *s, int ncols, const char *extra)
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

static int ngroup_sqlcols(const struct fx_report_query *q)
{
	unsigned i;
	int n = 0;

	for (i = 0; i < q->nby; i++)
		n += q->by[i] == FX_BY_RECIPE ? 2 : 1;
	return n;
}

/* The effective range: the given bounds, else the data's first/last day. */
static int effective_range(struct rq *x)
{
	sqlite3_stmt *s;
	int rc;

	rc = prepare(x, "SELECT min(day_num), max(day_num) FROM v_yield" WHERE_COMMON, &s);
	if (rc)
		return rc;
	bind_common(x, s);
	if (sqlite3_step(s) != SQLITE_ROW) {
		rc = dberr(x);
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

static int yield_daily_series(struct rq *x)
{
	struct fx_report_daypoint *d;
	sqlite3_stmt *s;
	size_t cap = 0;
	int rc;

	rc = prepare(x, "SELECT day_num, sum(runs), sum(passed) FROM v_yield" WHERE_COMMON
		     " GROUP BY day_num ORDER BY day_num", &s);
	if (rc)
		return rc;
	bind_common(x, s);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (x->r->ndays == cap) {
			cap = cap ? 2 * cap : 32;
			d = realloc(x->r->days, cap * sizeof(*d));
			if (!d) {
				sqlite3_finalize(s);
				return nomem(x);
			}
			x->r->days = d;
		}
		d = &x->r->days[x->r->ndays++];
		d->day = sqlite3_column_int64(s, 0);
		d->runs = sqlite3_column_int64(s, 1);
		d->yield_pct = d->runs ? 100.0 * (double)sqlite3_column_int64(s, 2) / (double)d->runs : 0;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : dberr(x);
}

static int report_yield(struct rq *x)
{
	struct fx_report_table *t = &x->r->tables[x->r->ntables++];
	char g[160], sql[1024];
	struct fx_report_cell *row;
	int64_t v[Y__N], tot[Y__N] = { 0 };
	sqlite3_stmt *s;
	unsigned i;
	int rc, c;

	t->name = "yield";
	add_group_cols(x, t);
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
	group_sql(x->q, g, sizeof(g));
	snprintf(sql, sizeof(sql),
		 "SELECT %s%s sum(runs), sum(passed), sum(failed), sum(errors) + sum(aborted),"
		 " sum(units), sum(units_first_pass), sum(units_final_pass) FROM v_yield" WHERE_COMMON
		 "%s%s%s%s",
		 g, x->q->nby ? "," : "", x->q->nby ? " GROUP BY " : "", g,
		 x->q->nby ? " ORDER BY " : "", g);
	rc = prepare(x, sql, &s);
	if (rc)
		return rc;
	bind_common(x, s);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		row = fx_rt_row(t);
		if (!row || (c = fill_group(x, row, s)) < 0) {
			sqlite3_finalize(s);
			return nomem(x);
		}
		for (i = 0; i < Y__N; i++) {
			v[i] = sqlite3_column_int64(s, c + (int)i);
			if (__builtin_add_overflow(tot[i], v[i], &tot[i])) {
				sqlite3_finalize(s);
				return implausible(x, "yield");
			}
		}
		yield_cells(row + x->q->nby, v);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return dberr(x);
	if (x->q->nby) {
		/* every figure is additive (units count once, in their first
		 * run's group), so the total is the sum of the rows */
		row = fx_rt_row(t);
		if (!row)
			return nomem(x);
		/* group cells stay null: the formats mark the row as the
		 * grand total, never as a group value (fx/report.h) */
		t->total_row = true;
		yield_cells(row + x->q->nby, tot);
	}
	return yield_daily_series(x);
}

static int pareto_bars(struct rq *x)
{
	struct fx_report_bar *b;
	sqlite3_stmt *s;
	int64_t total = 0, cum = 0;
	size_t cap = 0, i;
	char label[200];
	int rc;

	rc = prepare(x, "SELECT step, error_code, sum(n) FROM v_pareto" WHERE_COMMON
		     " GROUP BY step, error_code ORDER BY sum(n) DESC, step, error_code", &s);
	if (rc)
		return rc;
	bind_common(x, s);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *step = (const char *)sqlite3_column_text(s, 0);
		const char *code = (const char *)sqlite3_column_text(s, 1);

		if (x->r->nbars == cap) {
			cap = cap ? 2 * cap : 16;
			b = realloc(x->r->bars, cap * sizeof(*b));
			if (!b) {
				sqlite3_finalize(s);
				return nomem(x);
			}
			x->r->bars = b;
		}
		snprintf(label, sizeof(label), "%s %s", step && *step ? step : "-",
			 code && *code ? code : "-");
		b = &x->r->bars[x->r->nbars];
		b->label = strdup(label);
		if (!b->label) {
			sqlite3_finalize(s);
			return nomem(x);
		}
		b->n = sqlite3_column_int64(s, 2);
		x->r->nbars++;
		if (b->n < 0 || __builtin_add_overflow(total, b->n, &total)) {
			sqlite3_finalize(s);
			return implausible(x, "failure");
		}
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return dberr(x);
	for (i = 0; i < x->r->nbars; i++) {
		cum += x->r->bars[i].n;
		x->r->bars[i].cum_pct = 100.0 * (double)cum / (double)total;
	}
	return 0;
}

static int report_pareto(struct rq *x)
{
	struct fx_report_table *t = &x->r->tables[x->r->ntables++];
	char g[160], sql[1024], *key, *prev = NULL;
	struct fx_report_cell *row;
	size_t *grp = NULL, *ng, cap = 0, r0, r1, k;
	int64_t gsum, cum;
	unsigned nb = x->q->nby, col_step, col_n;
	sqlite3_stmt *s;
	int rc, c, ngc = ngroup_sqlcols(x->q);
	const char *v;

	t->name = "pareto";
	add_group_cols(x, t);
	col_step = fx_rt_col(t, "step", FX_COL_TEXT);
	fx_rt_col(t, "error_code", FX_COL_TEXT);
	col_n = fx_rt_col(t, "count", FX_COL_INT);
	fx_rt_col(t, "share_pct", FX_COL_PCT);
	fx_rt_col(t, "cum_pct", FX_COL_PCT);
	group_sql(x->q, g, sizeof(g));
	snprintf(sql, sizeof(sql),
		 "SELECT %s%s step, error_code, sum(n) FROM v_pareto" WHERE_COMMON
		 " GROUP BY %s%s step, error_code ORDER BY %s%s sum(n) DESC, step, error_code",
		 g, nb ? "," : "", g, nb ? "," : "", g, nb ? "," : "");
	rc = prepare(x, sql, &s);
	if (rc)
		return rc;
	bind_common(x, s);
	/* grp[i] = first row of the group row i belongs to */
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		row = fx_rt_row(t);
		if (!row || (c = fill_group(x, row, s)) < 0)
			goto err_nomem;
		v = (const char *)sqlite3_column_text(s, c);
		if (!fx_rt_text(&row[col_step], v && *v ? v : "-"))
			goto err_nomem;
		v = (const char *)sqlite3_column_text(s, c + 1);
		if (!fx_rt_text(&row[col_step + 1], v && *v ? v : "-"))
			goto err_nomem;
		fx_rt_int(&row[col_n], sqlite3_column_int64(s, c + 2));
		if (t->nrows > cap) {
			cap = cap ? 2 * cap : 64;
			ng = realloc(grp, cap * sizeof(*grp));
			if (!ng)
				goto err_nomem;
			grp = ng;
		}
		key = group_key(s, ngc, NULL);
		if (!key)
			goto err_nomem;
		grp[t->nrows - 1] = (t->nrows > 1 && !strcmp(key, prev)) ? grp[t->nrows - 2] : t->nrows - 1;
		free(prev);
		prev = key;
	}
	free(prev);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		free(grp);
		return dberr(x);
	}
	for (r0 = 0; r0 < t->nrows; r0 = r1) {
		gsum = 0;
		for (r1 = r0; r1 < t->nrows && grp[r1] == r0; r1++)
			if (fx_rt_cell(t, r1, col_n)->i < 0 ||
			    __builtin_add_overflow(gsum, fx_rt_cell(t, r1, col_n)->i, &gsum)) {
				free(grp);
				return implausible(x, "failure");
			}
		cum = 0;
		for (k = r0; k < r1; k++) {
			cum += fx_rt_cell(t, k, col_n)->i;
			fx_rt_pct(fx_rt_cell(t, k, col_n + 1), fx_rt_cell(t, k, col_n)->i, gsum);
			fx_rt_pct(fx_rt_cell(t, k, col_n + 2), cum, gsum);
		}
	}
	free(grp);
	return pareto_bars(x);
err_nomem:
	free(prev);
	sqlite3_finalize(s);
	free(grp);
	return nomem(x);
}

int64_t fx_report_hist_mid(int hb)
{
	int e, m;

	if (hb < 32)
		return hb < 0 ? 0 : hb;
	e = hb / 32;
	m = hb % 32;
	return ((int64_t)(32 + m) << (e - 5)) + (((int64_t)1 << (e - 5)) / 2);
}

int64_t fx_report_hist_percentile(const int64_t *n, const int64_t *sum, size_t count,
				  int64_t total, double p)
{
	int64_t rank, cum = 0;
	size_t i;

	if (total <= 0 || count == 0)
		return 0;
	rank = (int64_t)ceil(p * (double)total / 100.0 - 1e-9);
	if (rank < 1)
		rank = 1;
	for (i = 0; i + 1 < count; i++) {
		/* an overflowing cum is past any rank */
		if (__builtin_add_overflow(cum, n[i], &cum) || cum >= rank)
			break;
	}
	/* the mean of the durations in the bucket: exact when they are
	 * equal, else inside the bucket (rounded to the nearest us; no
	 * sum + n / 2, which could overflow) */
	if (n[i] <= 0)
		return 0;
	return sum[i] / n[i] + (sum[i] % n[i] >= n[i] - n[i] / 2);
}

/* Cycle: rows of v_cycle_bucket (one per summary bucket and step) are
 * summed in C, keyed by (group, step) through a hash table, so SQL never
 * sorts the histogram text. Each output keeps a sparse histogram. */
struct cyc_out {
	char *key;           /* group key + step */
	size_t row;          /* its row in the table */
	int seq;             /* smallest step position */
	int64_t total, sum, max;
	int base, len;       /* dense histogram of hb base .. base+len-1 */
	bool oom;
	bool overflow;       /* a sum does not fit in int64_t */
	int64_t *n, *sums;
};

struct cyc {
	struct cyc_out *outs;
	size_t nouts, capouts;
	size_t *slots;       /* hash: index + 1 into outs, 0 = empty */
	size_t nslots;
	bool nomem;
	const struct fx_report_table *t;   /* for the final ordering */
	const struct fx_report_query *q;
};

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static bool cyc_rehash(struct cyc *c)
{
	size_t n = c->nslots ? 2 * c->nslots : 256, i, j;
	size_t *sl = calloc(n, sizeof(*sl));

	if (!sl)
		return false;
	for (i = 0; i < c->nouts; i++) {
		for (j = fnv1a(c->outs[i].key) & (n - 1); sl[j]; j = (j + 1) & (n - 1))
			;
		sl[j] = i + 1;
	}
	free(c->slots);
	c->slots = sl;
	c->nslots = n;
	return true;
}

/* Find the output for key; *created tells a new one was added. */
static struct cyc_out *cyc_find(struct cyc *c, const char *key, bool *created)
{
	size_t j;
	struct cyc_out *o;

	*created = false;
	if (c->nslots) {
		for (j = fnv1a(key) & (c->nslots - 1); c->slots[j]; j = (j + 1) & (c->nslots - 1))
			if (!strcmp(c->outs[c->slots[j] - 1].key, key))
				return &c->outs[c->slots[j] - 1];
	}
	if (2 * (c->nouts + 1) > c->nslots && !cyc_rehash(c))
		return NULL;
	if (c->nouts == c->capouts) {
		size_t cap = c->capouts ? 2 * c->capouts : 64;

		o = realloc(c->outs, cap * sizeof(*o));
		if (!o)
			return NULL;
		c->outs = o;
		c->capouts = cap;
	}
	o = &c->outs[c->nouts];
	*o = (struct cyc_out){ .key = strdup(key), .seq = INT32_MAX };
	if (!o->key)
		return NULL;
	for (j = fnv1a(key) & (c->nslots - 1); c->slots[j]; j = (j + 1) & (c->nslots - 1))
		;
	c->slots[j] = ++c->nouts;
	*created = true;
	return o;
}

/* Grow o's dense range to cover hb (amortized: at least doubles). */
static bool cyc_cover(struct cyc_out *o, int hb)
{
	int lo = o->len ? (hb < o->base ? hb : o->base) : hb;
	int hi = o->len ? (hb >= o->base + o->len ? hb : o->base + o->len - 1) : hb;
	int len = hi - lo + 1, extra = len < 16 ? 16 : len, nlo, nlen;
	int64_t *nn, *ns;

	/* leave room on the side that grew */
	nlo = hb < o->base && o->len ? lo - extra / 2 : lo;
	if (nlo < 0)
		nlo = 0;
	nlen = hi - nlo + 1 + extra / 2;
	if (nlo + nlen > FX_STORE_HB_MAX)
		nlen = FX_STORE_HB_MAX - nlo;
	nn = calloc((size_t)nlen, sizeof(*nn));
	ns = calloc((size_t)nlen, sizeof(*ns));
	if (!nn || !ns) {
		free(nn);
		free(ns);
		return false;
	}
	if (o->len) {
		memcpy(&nn[o->base - nlo], o->n, (size_t)o->len * sizeof(*nn));
		memcpy(&ns[o->base - nlo], o->sums, (size_t)o->len * sizeof(*ns));
	}
	free(o->n);
	free(o->sums);
	o->n = nn;
	o->sums = ns;
	o->base = nlo;
	o->len = nlen;
	return true;
}

static void cyc_add(void *ctx, int hb, int64_t n, int64_t sum)
{
	struct cyc_out *o = ctx;

	if (!o->len || hb < o->base || hb >= o->base + o->len) {
		if (!cyc_cover(o, hb)) {
			o->oom = true; /* reported by the caller */
			return;
		}
	}
	if (__builtin_add_overflow(o->n[hb - o->base], n, &o->n[hb - o->base]) ||
	    __builtin_add_overflow(o->sums[hb - o->base], sum, &o->sums[hb - o->base]))
		o->overflow = true; /* reported by the caller */
}

static void cyc_finish(struct fx_report_table *t, unsigned col, struct cyc_out *o)
{
	struct fx_report_cell *c = fx_rt_cell(t, o->row, col);
	size_t k = 0;
	int i;

	/* compact in place: the percentile walks the non-empty buckets */
	for (i = 0; i < o->len; i++)
		if (o->n[i]) {
			o->n[k] = o->n[i];
			o->sums[k++] = o->sums[i];
		}
	fx_rt_int(&c[0], o->total);
	if (!o->total)
		return;
	fx_rt_num(&c[1], (double)o->sum / (double)o->total / 1e6);
	fx_rt_num(&c[2], (double)fx_report_hist_percentile(o->n, o->sums, k, o->total, 50) / 1e6);
	fx_rt_num(&c[3], (double)fx_report_hist_percentile(o->n, o->sums, k, o->total, 95) / 1e6);
	fx_rt_num(&c[4], (double)o->max / 1e6);
}

/* What qsort sorts: each element carries the context (no qsort_r in C11,
 * no file-scope state). */
struct cyc_ref {
	const struct cyc_out *o;
	const struct cyc *c;
};

static int cyc_cmp(const void *a, const void *b)
{
	const struct cyc_out *x = ((const struct cyc_ref *)a)->o;
	const struct cyc_out *y = ((const struct cyc_ref *)b)->o;
	const struct cyc *c = ((const struct cyc_ref *)a)->c;
	const struct fx_report_cell *cx, *cy;
	unsigned i;
	int d;

	for (i = 0; i < c->q->nby; i++) {
		cx = fx_rt_cell(c->t, x->row, i);
		cy = fx_rt_cell(c->t, y->row, i);
		if (c->q->by[i] == FX_BY_SLOT) {
			long long vx = atoll(cx->s), vy = atoll(cy->s);

			if (vx != vy)
				return vx < vy ? -1 : 1;
			continue;
		}
		d = strcmp(cx->s, cy->s);
		if (d)
			return d;
	}
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return strcmp(fx_rt_cell(c->t, x->row, c->q->nby)->s, fx_rt_cell(c->t, y->row, c->q->nby)->s);
}

static void cyc_release(struct cyc *c)
{
	size_t i;

	for (i = 0; i < c->nouts; i++) {
		free(c->outs[i].key);
		free(c->outs[i].n);
		free(c->outs[i].sums);
	}
	free(c->outs);
	free(c->slots);
}

static int report_cycle(struct rq *x)
{
	struct fx_report_table *t = &x->r->tables[x->r->ntables++];
	char g[160], sql[1024], *key;
	struct fx_report_cell *row, *cells = NULL;
	struct cyc c = { .t = t, .q = x->q };
	struct cyc_out *o;
	struct cyc_ref *order = NULL;
	unsigned nb = x->q->nby, col_step, col_n;
	sqlite3_stmt *s = NULL;
	int rc, k, ngc = ngroup_sqlcols(x->q);
	const char *step;
	bool created;
	size_t i;

	t->name = "cycle";
	add_group_cols(x, t);
	col_step = fx_rt_col(t, "step", FX_COL_TEXT);
	col_n = fx_rt_col(t, "count", FX_COL_INT);
	fx_rt_col(t, "mean_s", FX_COL_SEC);
	fx_rt_col(t, "p50_s", FX_COL_SEC);
	fx_rt_col(t, "p95_s", FX_COL_SEC);
	fx_rt_col(t, "max_s", FX_COL_SEC);
	group_sql(x->q, g, sizeof(g));
	snprintf(sql, sizeof(sql),
		 "SELECT %s%s step, seq, hist, n, sum_us, max_us FROM v_cycle_bucket" WHERE_COMMON, g,
		 nb ? "," : "");
	rc = prepare(x, sql, &s);
	if (rc)
		goto out;
	bind_common(x, s);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		step = (const char *)sqlite3_column_text(s, ngc);
		key = group_key(s, ngc, step ? step : "");
		if (!key)
			goto err_nomem;
		o = cyc_find(&c, key, &created);
		free(key);
		if (!o)
			goto err_nomem;
		if (created) {
			row = fx_rt_row(t);
			if (!row || fill_group(x, row, s) < 0 ||
			    !fx_rt_text(&row[col_step], step && *step ? step : "(run)"))
				goto err_nomem;
			o->row = t->nrows - 1;
		}
		k = ngc + 1;
		if (sqlite3_column_int(s, k) < o->seq)
			o->seq = sqlite3_column_int(s, k);
		if (!fx_store_hist_each((const char *)sqlite3_column_text(s, k + 1), cyc_add, o)) {
			rc = fx_err_set(x->err, FX_E_DB, "database '%s': malformed sum_cycle.hist",
					fx_store_path(x->st));
			goto out;
		}
		if (o->oom)
			goto err_nomem;
		if (o->overflow ||
		    __builtin_add_overflow(o->total, sqlite3_column_int64(s, k + 2), &o->total) ||
		    __builtin_add_overflow(o->sum, sqlite3_column_int64(s, k + 3), &o->sum)) {
			rc = implausible(x, "cycle");
			goto out;
		}
		if (sqlite3_column_int64(s, k + 4) > o->max)
			o->max = sqlite3_column_int64(s, k + 4);
	}
	if (rc != SQLITE_DONE) {
		rc = dberr(x);
		goto out;
	}
	if (t->nrows) {
		order = malloc(c.nouts * sizeof(*order));
		cells = malloc(t->nrows * t->ncols * sizeof(*cells));
		if (!order || !cells)
			goto err_nomem;
		for (i = 0; i < c.nouts; i++) {
			cyc_finish(t, col_n, &c.outs[i]);
			order[i] = (struct cyc_ref){ &c.outs[i], &c };
		}
		/* group columns (typed), then the step's position in the sequence */
		qsort(order, c.nouts, sizeof(*order), cyc_cmp);
		for (i = 0; i < c.nouts; i++)
			memcpy(&cells[i * t->ncols], fx_rt_cell(t, order[i].o->row, 0),
			       t->ncols * sizeof(*cells));
		free(t->cells);
		t->cells = cells;
		t->cap = t->nrows;
		cells = NULL;
	}
	rc = 0;
	goto out;
err_nomem:
	rc = nomem(x);
out:
	sqlite3_finalize(s);
	free(cells);
	free(order);
	cyc_release(&c);
	return rc;
}

static int history_table(struct rq *x, struct fx_report_table *t, const char *sql,
			 const enum fx_report_coltype *types, const char *const *names,
			 unsigned ncols)
{
	struct fx_report_cell *row;
	sqlite3_stmt *s;
	unsigned i;
	int rc;

	for (i = 0; i < ncols; i++)
		fx_rt_col(t, names[i], types[i]);
	rc = prepare(x, sql, &s);
	if (rc)
		return rc;
	sqlite3_bind_text(s, 1, x->q->unit, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		row = fx_rt_row(t);
		if (!row) {
			sqlite3_finalize(s);
			return nomem(x);
		}
		for (i = 0; i < ncols; i++) {
			if (sqlite3_column_type(s, (int)i) == SQLITE_NULL)
				continue;
			switch (types[i]) {
			case FX_COL_TEXT:
				if (!fx_rt_text(&row[i], (const char *)sqlite3_column_text(s, (int)i))) {
					sqlite3_finalize(s);
					return nomem(x);
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
	return rc == SQLITE_DONE ? 0 : dberr(x);
}

/* a UNION, not OR: each arm uses its index (OR scanned 10M units) */
#define UNIT_RUNS "SELECT id FROM runs WHERE unit_id IN" \
	" (SELECT id FROM units WHERE serial = ?1 UNION SELECT id FROM units WHERE chip_uid = ?1)"

static int report_history(struct rq *x)
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
	int rc;

	runs->name = "runs";
	steps->name = "steps";
	rc = history_table(x, runs,
			   "SELECT uuid, serial, chip_uid, start_utc, end_utc, end_us - start_us,"
			   " station, slot, port_path, operator,"
			   " recipe_name || CASE WHEN COALESCE(recipe_version, '') = '' THEN ''"
			   "  ELSE ' ' || recipe_version END,"
			   " board_state, result, failing_step, error_code, error_message"
			   " FROM v_runs WHERE run_id IN (" UNIT_RUNS ") ORDER BY start_us, run_id",
			   run_types, run_names, 16);
	if (rc)
		return rc;
	if (!runs->nrows)
		return fx_err_set(x->err, FX_E_NOTFOUND, "no unit with serial or chip uid '%s'",
				  x->q->unit);
	rc = history_table(x, steps,
			   "SELECT s.uuid, s.seq, s.step, s.start_utc, s.duration_us, s.result, s.detail"
			   " FROM v_steps s JOIN runs r ON r.id = s.run_id"
			   " WHERE s.run_id IN (" UNIT_RUNS ") ORDER BY r.start_us, r.id, s.seq",
			   step_types, step_names, 7);
	if (rc)
		return rc;
	first = fx_rt_cell(runs, 0, 3)->s;
	last = fx_rt_cell(runs, runs->nrows - 1, 3)->s;
	snprintf(x->r->from, sizeof(x->r->from), "%.10s", first);
	snprintf(x->r->to, sizeof(x->r->to), "%.10s", last);
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
	struct rq x = { .st = st, .db = fx_store_sqlite(st), .q = q, .err = err,
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
		nomem(&x);
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
		nomem(&x);
		goto err_free;
	}
	if (q->has_from)
		x.lo = q->from_day;
	if (q->has_to)
		x.hi = q->to_day;
	if (q->kind != FX_REPORT_HISTORY) {
		rc = effective_range(&x);
		if (rc)
			goto err_free;
	}
	switch (q->kind) {
	case FX_REPORT_YIELD:
		rc = report_yield(&x);
		break;
	case FX_REPORT_PARETO:
		rc = report_pareto(&x);
		break;
	case FX_REPORT_CYCLE:
		rc = report_cycle(&x);
		break;
	case FX_REPORT_HISTORY:
		rc = report_history(&x);
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

/* report_cycle.c - the cycle-time report (v_cycle_bucket): the stored
 * histograms (decoded by the store's codec, store_sql.h) summed per group
 * and step, then count, mean, nearest-rank p50/p95 and max. */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_query.h"

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
	o = fx_rq_grow(c->outs, &c->capouts, c->nouts + 1, sizeof(*o), 64);
	if (!o)
		return NULL;
	c->outs = o;
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
		/* a group without a value (runs with no operator) first */
		if (!cx->s || !cy->s) {
			if (cx->s != cy->s)
				return cx->s ? 1 : -1;
			continue;
		}
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

int fx_rq_cycle(struct fx_rq *x)
{
	struct fx_report_table *t = &x->r->tables[x->r->ntables++];
	char g[160], sql[1024], *key;
	struct fx_report_cell *row, *cells = NULL;
	struct cyc c = { .t = t, .q = x->q };
	struct cyc_out *o;
	struct cyc_ref *order = NULL;
	unsigned nb = x->q->nby, col_step, col_n;
	sqlite3_stmt *s = NULL;
	int rc, k, ngc = fx_rq_ngroup_sqlcols(x->q);
	const char *step;
	bool created;
	size_t i;

	t->name = "cycle";
	fx_rq_add_group_cols(x, t);
	col_step = fx_rt_col(t, "step", FX_COL_TEXT);
	col_n = fx_rt_col(t, "count", FX_COL_INT);
	fx_rt_col(t, "mean_s", FX_COL_SEC);
	fx_rt_col(t, "p50_s", FX_COL_SEC);
	fx_rt_col(t, "p95_s", FX_COL_SEC);
	fx_rt_col(t, "max_s", FX_COL_SEC);
	fx_rq_group_sql(x->q, g, sizeof(g));
	snprintf(sql, sizeof(sql),
		 "SELECT %s%s step, seq, hist, n, sum_us, max_us FROM v_cycle_bucket" FX_RQ_WHERE, g,
		 nb ? "," : "");
	rc = fx_rq_prepare(x, sql, &s);
	if (rc)
		goto out;
	fx_rq_bind_common(x, s);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		step = (const char *)sqlite3_column_text(s, ngc);
		key = fx_rq_group_key(s, ngc, step ? step : "");
		if (!key)
			goto err_nomem;
		o = cyc_find(&c, key, &created);
		free(key);
		if (!o)
			goto err_nomem;
		if (created) {
			row = fx_rt_row(t);
			if (!row || fx_rq_fill_group(x, row, s) < 0 ||
			    !fx_rt_text(&row[col_step], step && *step ? step : "(run)"))
				goto err_nomem;
			o->row = t->nrows - 1;
		}
		k = ngc + 1;
		if (sqlite3_column_int(s, k) < o->seq)
			o->seq = sqlite3_column_int(s, k);
		if (!fx_store_hist_each(sqlite3_column_value(s, k + 1), cyc_add, o)) {
			rc = fx_err_set(x->err, FX_E_DB, "database '%s': malformed sum_cycle.hist",
					fx_store_path(x->st));
			goto out;
		}
		if (o->oom)
			goto err_nomem;
		if (o->overflow ||
		    __builtin_add_overflow(o->total, sqlite3_column_int64(s, k + 2), &o->total) ||
		    __builtin_add_overflow(o->sum, sqlite3_column_int64(s, k + 3), &o->sum)) {
			rc = fx_rq_implausible(x, "cycle");
			goto out;
		}
		if (sqlite3_column_int64(s, k + 4) > o->max)
			o->max = sqlite3_column_int64(s, k + 4);
	}
	if (rc != SQLITE_DONE) {
		rc = fx_rq_dberr(x);
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
	rc = fx_rq_nomem(x);
out:
	sqlite3_finalize(s);
	free(cells);
	free(order);
	cyc_release(&c);
	return rc;
}

/* report_pareto.c - the failure Pareto (v_pareto): non-PASS runs by
 * failing step and error code per group with share and cumulative
 * percentages, and the overall bars of the HTML chart. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_query.h"

static int pareto_bars(struct fx_rq *x)
{
	struct fx_report_bar *b;
	sqlite3_stmt *s;
	int64_t total = 0, cum = 0;
	size_t cap = 0, i;
	char label[200];
	int rc;

	rc = fx_rq_prepare(x, "SELECT step, error_code, sum(n) FROM v_pareto" FX_RQ_WHERE
		     " GROUP BY step, error_code ORDER BY sum(n) DESC, step, error_code", &s);
	if (rc)
		return rc;
	fx_rq_bind_common(x, s);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *step = (const char *)sqlite3_column_text(s, 0);
		const char *code = (const char *)sqlite3_column_text(s, 1);

		b = fx_rq_grow(x->r->bars, &cap, x->r->nbars + 1, sizeof(*b), 16);
		if (!b) {
			sqlite3_finalize(s);
			return fx_rq_nomem(x);
		}
		x->r->bars = b;
		snprintf(label, sizeof(label), "%s %s", step && *step ? step : "-",
			 code && *code ? code : "-");
		b = &x->r->bars[x->r->nbars];
		b->label = strdup(label);
		if (!b->label) {
			sqlite3_finalize(s);
			return fx_rq_nomem(x);
		}
		b->n = sqlite3_column_int64(s, 2);
		x->r->nbars++;
		if (b->n < 0 || __builtin_add_overflow(total, b->n, &total)) {
			sqlite3_finalize(s);
			return fx_rq_implausible(x, "failure");
		}
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return fx_rq_dberr(x);
	for (i = 0; i < x->r->nbars; i++) {
		cum += x->r->bars[i].n;
		x->r->bars[i].cum_pct = 100.0 * (double)cum / (double)total;
	}
	return 0;
}

int fx_rq_pareto(struct fx_rq *x)
{
	struct fx_report_table *t = &x->r->tables[x->r->ntables++];
	char g[160], sql[1024], *key, *prev = NULL;
	struct fx_report_cell *row;
	size_t *grp = NULL, *ng, cap = 0, r0, r1, k;
	int64_t gsum, cum;
	unsigned nb = x->q->nby, col_step, col_n;
	sqlite3_stmt *s;
	int rc, c, ngc = fx_rq_ngroup_sqlcols(x->q);
	const char *v;

	t->name = "pareto";
	fx_rq_add_group_cols(x, t);
	col_step = fx_rt_col(t, "step", FX_COL_TEXT);
	fx_rt_col(t, "error_code", FX_COL_TEXT);
	col_n = fx_rt_col(t, "count", FX_COL_INT);
	fx_rt_col(t, "share_pct", FX_COL_PCT);
	fx_rt_col(t, "cum_pct", FX_COL_PCT);
	fx_rq_group_sql(x->q, g, sizeof(g));
	snprintf(sql, sizeof(sql),
		 "SELECT %s%s step, error_code, sum(n) FROM v_pareto" FX_RQ_WHERE
		 " GROUP BY %s%s step, error_code ORDER BY %s%s sum(n) DESC, step, error_code",
		 g, nb ? "," : "", g, nb ? "," : "", g, nb ? "," : "");
	rc = fx_rq_prepare(x, sql, &s);
	if (rc)
		return rc;
	fx_rq_bind_common(x, s);
	/* grp[i] = first row of the group row i belongs to */
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		row = fx_rt_row(t);
		if (!row || (c = fx_rq_fill_group(x, row, s)) < 0)
			goto err_nomem;
		v = (const char *)sqlite3_column_text(s, c);
		if (!fx_rt_text(&row[col_step], v && *v ? v : "-"))
			goto err_nomem;
		v = (const char *)sqlite3_column_text(s, c + 1);
		if (!fx_rt_text(&row[col_step + 1], v && *v ? v : "-"))
			goto err_nomem;
		fx_rt_int(&row[col_n], sqlite3_column_int64(s, c + 2));
		ng = fx_rq_grow(grp, &cap, t->nrows, sizeof(*grp), 64);
		if (!ng)
			goto err_nomem;
		grp = ng;
		key = fx_rq_group_key(s, ngc, NULL);
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
		return fx_rq_dberr(x);
	}
	for (r0 = 0; r0 < t->nrows; r0 = r1) {
		gsum = 0;
		for (r1 = r0; r1 < t->nrows && grp[r1] == r0; r1++)
			if (fx_rt_cell(t, r1, col_n)->i < 0 ||
			    __builtin_add_overflow(gsum, fx_rt_cell(t, r1, col_n)->i, &gsum)) {
				free(grp);
				return fx_rq_implausible(x, "failure");
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
	return fx_rq_nomem(x);
}

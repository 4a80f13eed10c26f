/* fmt_text.c - reports as aligned text tables with a header stating the
 * database, the date range and the time zone. */
#include <stdlib.h>
#include <string.h>

#include "report_int.h"

static void header(const struct fx_report *r, FILE *out)
{
	char range[40];
	unsigned i;

	fx_report_range_text(r, range, sizeof(range));
	if (r->kind == FX_REPORT_HISTORY)
		fprintf(out, "# fixturectl history %s\n", r->unit);
	else
		fprintf(out, "# fixturectl report %s\n", fx_report_kind_name(r->kind));
	fprintf(out, "# database: %s\n", r->database);
	fprintf(out, "# range: %s (UTC days, inclusive; times in UTC)\n", range);
	if (r->kind != FX_REPORT_HISTORY) {
		fprintf(out, "# group by:");
		for (i = 0; i < r->nby; i++)
			fprintf(out, "%s%s", i ? ", " : " ", fx_report_by_name(r->by[i]));
		fprintf(out, "%s\n", r->nby ? "" : " none");
	}
	if (r->station || r->recipe || r->operator_id)
		fprintf(out, "# filters:%s%s%s%s%s%s\n",
			r->station ? " station=" : "", r->station ? r->station : "",
			r->recipe ? " recipe=" : "", r->recipe ? r->recipe : "",
			r->operator_id ? " operator=" : "", r->operator_id ? r->operator_id : "");
}

static const char *cell_text(const struct fx_report_table *t, unsigned col,
			     const struct fx_report_cell *c, char *buf, size_t len)
{
	char *p;

	fx_rt_fmt(t, col, c, buf, len, "-");
	if (!buf[0])
		snprintf(buf, len, "-");
	/* one line per row: control characters (a message's newline) show
	 * as spaces; CSV and JSON keep them */
	for (p = buf; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	return buf;
}

static void table(const struct fx_report_table *t, FILE *out)
{
	size_t w[FX_REPORT_MAXCOLS], r, l;
	char buf[1024];
	unsigned c;
	bool right;

	for (c = 0; c < t->ncols; c++)
		w[c] = strlen(t->colname[c]);
	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			l = strlen(cell_text(t, c, fx_rt_cell(t, r, c), buf, sizeof(buf)));
			if (l > w[c])
				w[c] = l;
		}
	for (c = 0; c < t->ncols; c++) {
		right = t->coltype[c] != FX_COL_TEXT;
		if (c + 1 == t->ncols && !right)
			fprintf(out, "%s%s", c ? "  " : "", t->colname[c]);
		else
			fprintf(out, "%s%*s", c ? "  " : "", right ? (int)w[c] : -(int)w[c],
				t->colname[c]);
	}
	fputc('\n', out);
	for (r = 0; r < t->nrows; r++) {
		for (c = 0; c < t->ncols; c++) {
			right = t->coltype[c] != FX_COL_TEXT;
			cell_text(t, c, fx_rt_cell(t, r, c), buf, sizeof(buf));
			if (c + 1 == t->ncols && !right)
				fprintf(out, "%s%s", c ? "  " : "", buf);
			else
				fprintf(out, "%s%*s", c ? "  " : "", right ? (int)w[c] : -(int)w[c], buf);
		}
		fputc('\n', out);
	}
}

int fx_report_write_text(const struct fx_report *r, FILE *out)
{
	unsigned i;

	header(r, out);
	for (i = 0; i < r->ntables; i++) {
		fputc('\n', out);
		if (r->ntables > 1)
			fprintf(out, "%s:\n", r->tables[i].name);
		if (!r->tables[i].nrows)
			fprintf(out, "(no %s in this range)\n", r->kind == FX_REPORT_PARETO ?
				"failures" : r->kind == FX_REPORT_CYCLE ? "finished runs" : "runs");
		else
			table(&r->tables[i], out);
	}
	return ferror(out) ? -1 : 0;
}

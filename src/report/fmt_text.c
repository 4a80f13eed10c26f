/* fmt_text.c - reports as aligned text tables with a header stating the
 * database, the date range and the time zone. */
#include <stdlib.h>
#include <string.h>

#include "report_int.h"

/* every value goes through fx_rt_put: invalid UTF-8 as U+FFFD, control
 * characters (a message's newline) as spaces, one line per row */
static void put(FILE *out, const char *s)
{
	fx_rt_put(out, s, true);
}

static void header(const struct fx_report *r, FILE *out)
{
	char range[40];
	unsigned i;

	fx_report_range_text(r, range, sizeof(range));
	if (r->kind == FX_REPORT_HISTORY) {
		fputs("# fixturectl history ", out);
		put(out, r->unit);
		fputc('\n', out);
	} else {
		fprintf(out, "# fixturectl report %s\n", fx_report_kind_name(r->kind));
	}
	fputs("# database: ", out);
	put(out, r->database);
	fprintf(out, "\n# range: %s (UTC days, inclusive; times in UTC)\n", range);
	if (r->kind != FX_REPORT_HISTORY) {
		fprintf(out, "# group by:");
		for (i = 0; i < r->nby; i++)
			fprintf(out, "%s%s", i ? ", " : " ", fx_report_by_name(r->by[i]));
		fprintf(out, "%s\n", r->nby ? "" : " none");
	}
	if (r->station || r->recipe || r->operator_id) {
		fputs("# filters:", out);
		if (r->station) {
			fputs(" station=", out);
			put(out, r->station);
		}
		if (r->recipe) {
			fputs(" recipe=", out);
			put(out, r->recipe);
		}
		if (r->operator_id) {
			fputs(" operator=", out);
			put(out, r->operator_id);
		}
		fputc('\n', out);
	}
}

static void pad(FILE *out, size_t n)
{
	while (n--)
		fputc(' ', out);
}

/* one cell, aligned to w characters: numbers right, text left (the last
 * text column unpadded) */
static void cell(FILE *out, const char *s, size_t w, bool right, bool last, bool first)
{
	size_t l = fx_rt_width(s);

	if (!first)
		fputs("  ", out);
	if (right)
		pad(out, w > l ? w - l : 0);
	put(out, s);
	if (!right && !last)
		pad(out, w > l ? w - l : 0);
}

static void table(const struct fx_report_table *t, FILE *out)
{
	size_t w[FX_REPORT_MAXCOLS], r, l;
	char buf[64];
	unsigned c;

	for (c = 0; c < t->ncols; c++)
		w[c] = fx_rt_width(t->colname[c]);
	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			l = fx_rt_width(fx_rt_show(t, r, c, buf, sizeof(buf)));
			if (l > w[c])
				w[c] = l;
		}
	for (c = 0; c < t->ncols; c++)
		cell(out, t->colname[c], w[c], t->coltype[c] != FX_COL_TEXT, c + 1 == t->ncols, !c);
	fputc('\n', out);
	for (r = 0; r < t->nrows; r++) {
		for (c = 0; c < t->ncols; c++)
			cell(out, fx_rt_show(t, r, c, buf, sizeof(buf)), w[c],
			     t->coltype[c] != FX_COL_TEXT, c + 1 == t->ncols, !c);
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
			fprintf(out, "(no %s%s)\n", r->kind == FX_REPORT_SERIALS ? "serial number pools" :
				r->kind == FX_REPORT_PARETO ?
				"failures" : r->kind == FX_REPORT_CYCLE ? "finished runs" : "runs",
				r->kind == FX_REPORT_SERIALS ? "" : " in this range");
		else
			table(&r->tables[i], out);
	}
	return ferror(out) ? -1 : 0;
}

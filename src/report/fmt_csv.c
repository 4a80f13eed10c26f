/* fmt_csv.c - reports as RFC 4180 CSV: CRLF records, one header record,
 * fields with a comma, a quote, CR or LF quoted and their quotes doubled;
 * a null is an empty field, an empty text a quoted one ("").
 * Every record starts with tz,from,to so the range stays with the data. */
#include <string.h>

#include "report_int.h"

/* A field: quoted when it holds a comma, a quote, CR or LF, or when
 * quote is set (an empty text: "" tells it from a null, written as
 * nothing); invalid UTF-8 bytes become U+FFFD. */
static void field_q(FILE *out, const char *s, bool first, bool quote)
{
	size_t n;

	if (!first)
		fputc(',', out);
	quote = quote || strpbrk(s, ",\"\r\n");
	if (quote)
		fputc('"', out);
	for (; *s; s += n) {
		n = fx_rt_utf8_len(s);
		if (!n) {
			fputs("\xef\xbf\xbd", out);
			n = 1;
		} else {
			if (*s == '"')
				fputc('"', out);
			fwrite(s, 1, n, out);
		}
	}
	if (quote)
		fputc('"', out);
}

static void field(FILE *out, const char *s, bool first)
{
	field_q(out, s, first, false);
}

static void cell(FILE *out, const struct fx_report_table *t, size_t row, unsigned col)
{
	const struct fx_report_cell *c = fx_rt_cell(t, row, col);
	char buf[64];

	if (t->total_row && row + 1 == t->nrows && col < t->ngroup)
		field(out, col ? "" : "(total)", false);
	else
		field_q(out, fx_rt_fmt(t, col, c, buf, sizeof(buf), ""), false,
			!c->null && t->coltype[col] == FX_COL_TEXT && !c->s[0]);
}

static void lead(FILE *out, const struct fx_report *r)
{
	field(out, "UTC", true);
	field(out, r->from, false);
	field(out, r->to, false);
}

static void header(FILE *out, const struct fx_report_table *t, const char *prefix)
{
	char name[64];
	unsigned c;

	for (c = 0; c < t->ncols; c++) {
		snprintf(name, sizeof(name), "%s%s", prefix, t->colname[c]);
		field(out, name, false);
	}
}

/* history: one record per step, the run's columns repeated */
static void history(FILE *out, const struct fx_report *r)
{
	const struct fx_report_table *runs = &r->tables[0], *steps = &r->tables[1];
	size_t i, k = 0;
	unsigned c;
	bool any;

	field(out, "tz", true);
	field(out, "from", false);
	field(out, "to", false);
	header(out, runs, "");
	for (c = 1; c < steps->ncols; c++) {
		char name[64];

		snprintf(name, sizeof(name), "%s%s", !strcmp(steps->colname[c], "step") ? "" : "step_",
			 steps->colname[c]);
		field(out, name, false);
	}
	fputs("\r\n", out);
	for (i = 0; i < runs->nrows; i++) {
		any = false;
		/* steps are ordered like their runs */
		while (k < steps->nrows &&
		       !strcmp(fx_rt_cell(steps, k, 0)->s, fx_rt_cell(runs, i, 0)->s)) {
			lead(out, r);
			for (c = 0; c < runs->ncols; c++)
				cell(out, runs, i, c);
			for (c = 1; c < steps->ncols; c++)
				cell(out, steps, k, c);
			fputs("\r\n", out);
			k++;
			any = true;
		}
		if (!any) {
			lead(out, r);
			for (c = 0; c < runs->ncols; c++)
				cell(out, runs, i, c);
			for (c = 1; c < steps->ncols; c++)
				field(out, "", false);
			fputs("\r\n", out);
		}
	}
}

int fx_report_write_csv(const struct fx_report *r, FILE *out)
{
	const struct fx_report_table *t = &r->tables[0];
	size_t i;
	unsigned c;

	if (r->kind == FX_REPORT_HISTORY) {
		history(out, r);
		return ferror(out) ? -1 : 0;
	}
	field(out, "tz", true);
	field(out, "from", false);
	field(out, "to", false);
	header(out, t, "");
	fputs("\r\n", out);
	for (i = 0; i < t->nrows; i++) {
		lead(out, r);
		for (c = 0; c < t->ncols; c++)
			cell(out, t, i, c);
		fputs("\r\n", out);
	}
	return ferror(out) ? -1 : 0;
}

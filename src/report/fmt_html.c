/* fmt_html.c - a report as one self-contained HTML file: inline CSS and
 * SVG, no script, no external resource. Charts:
 *   yield   one <rect class="bar"> per day with runs (runs, left axis)
 *           and one <circle class="pt"> per such day (yield %, right
 *           axis), on a date axis over the report's range: a day without
 *           runs keeps its place; a <polyline class="line"> joins each
 *           run of consecutive days, so a gap in the data stays a gap
 *   pareto  one <rect class="bar"> per failure mode (count) and the
 *           cumulative share as <polyline class="line"> + <circle class="pt">
 * Every bar and point carries a <title> with its exact figures. */
#include <string.h>

#include "report_int.h"

#define W 820
#define H 400
#define ML 60   /* margins: left, right, top, bottom */
#define MR 50
#define MT 20
#define MB 160

/* Text as HTML: markup characters as references, each byte that does not
 * start a well-formed UTF-8 character as U+FFFD and control characters
 * (C0, DEL, C1: not allowed raw in HTML) as spaces. */
static void esc(FILE *out, const char *s)
{
	const unsigned char *p;
	size_t n;

	for (; s && *s; s += n) {
		p = (const unsigned char *)s;
		n = fx_rt_utf8_len(s);
		if (!n) {
			fputs("\xef\xbf\xbd", out);
			n = 1;
			continue;
		}
		if ((n == 1 && (*p < 0x20 || *p == 0x7f)) || (n == 2 && p[0] == 0xc2 && p[1] < 0xa0)) {
			fputc(' ', out);
			continue;
		}
		switch (*s) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&#39;", out);
			break;
		default:
			fwrite(s, 1, n, out);
		}
	}
}

/* A "nice" tick step >= v: 1, 2, 5 x 10^k. */
static int64_t nice_step(int64_t v)
{
	int64_t m = 1;

	if (v <= 1)
		return 1;
	for (;;) {
		if (v <= m)
			return m;
		if (v <= 2 * m)
			return 2 * m;
		if (v <= 5 * m)
			return 5 * m;
		m *= 10;
	}
}

struct series {
	size_t n;
	const char *(*label)(const void *ctx, size_t i, char *buf, size_t len);
	int64_t (*count)(const void *ctx, size_t i);
	double (*pct)(const void *ctx, size_t i);
	/* x axis: point i sits in slot slot(i) of nslots (a date axis: days
	 * without data keep their room); NULL = slot i of n. The line joins
	 * point i to i - 1 only when their slots are adjacent. */
	double (*slot)(const void *ctx, size_t i);
	double nslots;
	const void *ctx;
	const char *count_name, *pct_name, *caption;
};

static double slot_of(const struct series *s, size_t i)
{
	return s->slot ? s->slot(s->ctx, i) : (double)i;
}

static void chart(FILE *out, const struct series *s)
{
	double pw = W - ML - MR, ph = H - MT - MB, bw, x, y, h;
	int64_t ymax = 1, v;
	char lab[128];
	const char *label;
	size_t i;
	int k;

	for (i = 0; i < s->n; i++)
		if (s->count(s->ctx, i) > ymax)
			ymax = s->count(s->ctx, i);
	ymax = 4 * nice_step((ymax + 3) / 4); /* 4 grid steps, integer labels */
	bw = s->slot ? pw / s->nslots : s->n ? pw / (double)s->n : pw;
	fprintf(out, "<figure>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\""
		" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"", W, H, W, H);
	esc(out, s->caption);
	fputs("\">\n", out);
	/* grid and axes: left = counts, right = percent */
	for (k = 0; k <= 4; k++) {
		y = MT + ph - ph * k / 4.0;
		fprintf(out, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>\n",
			ML, y, W - MR, y);
		fprintf(out, "<text class=\"ax\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%lld</text>\n",
			ML - 6, y + 4, (long long)(ymax * k / 4));
		fprintf(out, "<text class=\"ax\" x=\"%d\" y=\"%.1f\">%d%%</text>\n", W - MR + 6, y + 4,
			25 * k);
	}
	fprintf(out, "<text class=\"ax\" x=\"12\" y=\"%d\" transform=\"rotate(-90 12 %d)\""
		" text-anchor=\"middle\">", MT + (int)ph / 2, MT + (int)ph / 2);
	esc(out, s->count_name);
	fprintf(out, "</text>\n<text class=\"ax\" x=\"%d\" y=\"%d\" transform=\"rotate(90 %d %d)\""
		" text-anchor=\"middle\">", W - 12, MT + (int)ph / 2, W - 12, MT + (int)ph / 2);
	esc(out, s->pct_name);
	fputs("</text>\n", out);
	for (i = 0; i < s->n; i++) {
		v = s->count(s->ctx, i);
		h = ph * (double)v / (double)ymax;
		x = ML + bw * slot_of(s, i);
		fprintf(out, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\">"
			"<title>", x + bw * 0.15, MT + ph - h, bw * 0.7, h);
		label = s->label(s->ctx, i, lab, sizeof(lab));
		esc(out, label);
		fprintf(out, ": %lld</title></rect>\n", (long long)v);
		if (s->n <= 40 || i % ((s->n + 39) / 40) == 0) {
			fprintf(out, "<text class=\"xl\" x=\"%.1f\" y=\"%d\" transform=\"rotate(-40 %.1f %d)\""
				" text-anchor=\"end\">", x + bw / 2, MT + (int)ph + 14, x + bw / 2,
				MT + (int)ph + 14);
			esc(out, label);
			fputs("</text>\n", out);
		}
	}
	/* one polyline per run of adjacent slots: a gap in the data is a gap
	 * in the line */
	for (i = 0; i < s->n; i++) {
		if (!i || slot_of(s, i) - slot_of(s, i - 1) > 1.5)
			fputs(i ? "\"/>\n<polyline class=\"line\" points=\"" :
			      "<polyline class=\"line\" points=\"", out);
		else
			fputc(' ', out);
		fprintf(out, "%.1f,%.1f", ML + bw * (slot_of(s, i) + 0.5),
			MT + ph - ph * s->pct(s->ctx, i) / 100.0);
	}
	if (s->n)
		fputs("\"/>\n", out);
	for (i = 0; i < s->n; i++) {
		fprintf(out, "<circle class=\"pt\" cx=\"%.1f\" cy=\"%.1f\" r=\"%s\"><title>",
			ML + bw * (slot_of(s, i) + 0.5), MT + ph - ph * s->pct(s->ctx, i) / 100.0,
			s->n > 60 ? "1" : "3.5"); /* long ranges: the line carries it */
		esc(out, s->label(s->ctx, i, lab, sizeof(lab)));
		fprintf(out, ": %.2f%%</title></circle>\n", s->pct(s->ctx, i));
	}
	fputs("</svg>\n<figcaption>", out);
	esc(out, s->caption);
	fputs("</figcaption>\n</figure>\n", out);
}

static const char *day_label(const void *ctx, size_t i, char *buf, size_t len)
{
	const struct fx_report *r = ctx;

	fx_report_format_day(r->days[i].day, buf, len);
	return buf;
}

/* The date axis: the report's range (from, to), else the days with data. */
static void day_axis(const struct fx_report *r, int64_t *a, int64_t *b)
{
	if (fx_report_parse_date(r->from, a, NULL) || fx_report_parse_date(r->to, b, NULL) ||
	    *a > r->days[0].day || *b < r->days[r->ndays - 1].day) {
		*a = r->days[0].day;
		*b = r->days[r->ndays - 1].day;
	}
}

static double day_slot(const void *ctx, size_t i)
{
	const struct fx_report *r = ctx;
	int64_t a, b;

	day_axis(r, &a, &b);
	return (double)(r->days[i].day - a);
}

static int64_t day_count(const void *ctx, size_t i)
{
	return ((const struct fx_report *)ctx)->days[i].runs;
}

static double day_pct(const void *ctx, size_t i)
{
	return ((const struct fx_report *)ctx)->days[i].yield_pct;
}

static const char *bar_label(const void *ctx, size_t i, char *buf, size_t len)
{
	(void)buf;
	(void)len;
	return ((const struct fx_report *)ctx)->bars[i].label; /* whole */
}

static int64_t bar_count(const void *ctx, size_t i)
{
	return ((const struct fx_report *)ctx)->bars[i].n;
}

static double bar_pct(const void *ctx, size_t i)
{
	return ((const struct fx_report *)ctx)->bars[i].cum_pct;
}

static void table(FILE *out, const struct fx_report_table *t)
{
	char buf[64];
	size_t r;
	unsigned c;

	fputs("<table>\n<thead><tr>", out);
	for (c = 0; c < t->ncols; c++) {
		fputs("<th>", out);
		esc(out, t->colname[c]);
		fputs("</th>", out);
	}
	fputs("</tr></thead>\n<tbody>\n", out);
	for (r = 0; r < t->nrows; r++) {
		fputs("<tr>", out);
		for (c = 0; c < t->ncols; c++) {
			fputs(t->coltype[c] == FX_COL_TEXT ? "<td>" : "<td class=\"num\">", out);
			esc(out, fx_rt_show(t, r, c, buf, sizeof(buf)));
			fputs("</td>", out);
		}
		fputs("</tr>\n", out);
	}
	fputs("</tbody>\n</table>\n", out);
}

int fx_report_write_html(const struct fx_report *r, FILE *out)
{
	struct series s = { .ctx = r };
	char range[40];
	unsigned i;

	fx_report_range_text(r, range, sizeof(range));
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>", out);
	if (r->kind == FX_REPORT_HISTORY) {
		fputs("fixturectl history ", out);
		esc(out, r->unit);
	} else {
		fprintf(out, "fixturectl %s report", fx_report_kind_name(r->kind));
	}
	fputs("</title>\n<style>\n"
	      "body{font:14px/1.4 sans-serif;margin:24px;color:#222}\n"
	      "table{border-collapse:collapse;margin:12px 0}\n"
	      "th,td{border:1px solid #ccc;padding:3px 8px;text-align:left}\n"
	      "td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
	      "th{background:#eee}\n.meta{color:#555}\n"
	      "svg{background:#fff;border:1px solid #ddd}\n"
	      ".bar{fill:#7aa6d6}\n.line{fill:none;stroke:#c0392b;stroke-width:2}\n"
	      ".pt{fill:#c0392b}\n.grid{stroke:#eee}\n.ax,.xl{font-size:11px;fill:#555}\n"
	      "</style>\n</head>\n<body>\n<h1>", out);
	if (r->kind == FX_REPORT_HISTORY) {
		fputs("History of unit ", out);
		esc(out, r->unit);
	} else {
		fprintf(out, "%s report", r->kind == FX_REPORT_YIELD ? "Yield" :
			r->kind == FX_REPORT_PARETO ? "Failure Pareto" :
			r->kind == FX_REPORT_SERIALS ? "Serial numbers" : "Cycle time");
	}
	fputs("</h1>\n<p class=\"meta\">Database: <code>", out);
	esc(out, r->database);
	fputs("</code><br>\nRange: ", out);
	esc(out, range);
	fputs(" (UTC days, inclusive; time zone UTC)", out);
	if (r->kind != FX_REPORT_HISTORY) {
		fputs("<br>\nGroup by: ", out);
		for (i = 0; i < r->nby; i++)
			fprintf(out, "%s%s", i ? ", " : "", fx_report_by_name(r->by[i]));
		fputs(r->nby ? "" : "none", out);
	}
	if (r->station || r->recipe || r->operator_id) {
		fputs("<br>\nFilters:", out);
		if (r->station) {
			fputs(" station=", out);
			esc(out, r->station);
		}
		if (r->recipe) {
			fputs(" recipe=", out);
			esc(out, r->recipe);
		}
		if (r->operator_id) {
			fputs(" operator=", out);
			esc(out, r->operator_id);
		}
	}
	fputs("</p>\n", out);
	if (r->kind == FX_REPORT_YIELD) {
		s.n = r->ndays;
		s.label = day_label;
		if (r->ndays) {
			/* a date axis over the whole range: a day without runs
			 * keeps its place, so a gap shows as one */
			int64_t a, b;

			day_axis(r, &a, &b);
			s.slot = day_slot;
			s.nslots = (double)(b - a + 1);
		}
		s.count = day_count;
		s.pct = day_pct;
		s.count_name = "runs per day";
		s.pct_name = "yield %";
		s.caption = "Yield per day (line, right axis) and runs per day (bars, left axis), UTC days";
		chart(out, &s);
	} else if (r->kind == FX_REPORT_PARETO) {
		s.n = r->nbars;
		s.label = bar_label;
		s.count = bar_count;
		s.pct = bar_pct;
		s.count_name = "failed runs";
		s.pct_name = "cumulative %";
		s.caption = "Failures by step and error code (bars) and cumulative share (line)";
		chart(out, &s);
	}
	for (i = 0; i < r->ntables; i++) {
		if (r->ntables > 1) {
			fputs("<h2>", out);
			esc(out, r->tables[i].name);
			fputs("</h2>\n", out);
		}
		table(out, &r->tables[i]);
	}
	fputs("</body>\n</html>\n", out);
	return ferror(out) ? -1 : 0;
}

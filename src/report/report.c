/* report.c - dates, --by names, the report's tables, output dispatch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_int.h"

static const char *const by_names[FX_BY__COUNT] = {
	[FX_BY_DAY] = "day", [FX_BY_WEEK] = "week", [FX_BY_STATION] = "station",
	[FX_BY_SLOT] = "slot", [FX_BY_RECIPE] = "recipe", [FX_BY_OPERATOR] = "operator",
	[FX_BY_LINE] = "line",
};

const char *fx_report_by_name(enum fx_report_by by)
{
	return (unsigned)by < FX_BY__COUNT ? by_names[by] : "?";
}

const char *fx_report_kind_name(enum fx_report_kind kind)
{
	switch (kind) {
	case FX_REPORT_YIELD:
		return "yield";
	case FX_REPORT_PARETO:
		return "pareto";
	case FX_REPORT_CYCLE:
		return "cycle";
	case FX_REPORT_HISTORY:
		return "history";
	case FX_REPORT_SERIALS:
		return "serials";
	}
	return "?";
}

int fx_report_parse_by(const char *s, enum fx_report_by *by, struct fx_err *err)
{
	int i;

	for (i = 0; i < FX_BY__COUNT; i++)
		if (s && !strcmp(s, by_names[i])) {
			*by = (enum fx_report_by)i;
			return 0;
		}
	return fx_err_set(err, FX_E_INVAL,
			  "--by '%s': expected day, week, station, slot, recipe, operator or line",
			  s ? s : "");
}

/* Days from civil date (H. Hinnant's algorithm, proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

int fx_report_parse_date(const char *s, int64_t *day, struct fx_err *err)
{
	unsigned y = 0, m = 0, d = 0, i;
	static const unsigned mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	unsigned dim;

	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		goto bad;
	for (i = 0; i < 10; i++) {
		if (i == 4 || i == 7)
			continue;
		if (s[i] < '0' || s[i] > '9')
			goto bad;
	}
	y = (unsigned)((s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0'));
	m = (unsigned)((s[5] - '0') * 10 + (s[6] - '0'));
	d = (unsigned)((s[8] - '0') * 10 + (s[9] - '0'));
	if (y < 1970 || m < 1 || m > 12 || d < 1)
		goto bad;
	dim = mdays[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100) || y % 400 == 0));
	if (d > dim)
		goto bad;
	*day = days_from_civil(y, m, d);
	return 0;
bad:
	return fx_err_set(err, FX_E_INVAL, "date '%s': expected YYYY-MM-DD", s ? s : "");
}

void fx_report_format_day(int64_t day, char *out, size_t len)
{
	int64_t y;
	unsigned m, d;

	civil_from_days(day, &y, &m, &d);
	snprintf(out, len, "%04lld-%02u-%02u", (long long)y, m, d);
}

void fx_report_format_week(int64_t day, char *out, size_t len)
{
	/* ISO 8601: the week belongs to the year of its Thursday */
	int64_t thursday = day - ((day + 3) % 7 + 7) % 7 + 3, y, jan1;
	unsigned m, d;

	civil_from_days(thursday, &y, &m, &d);
	jan1 = days_from_civil(y, 1, 1);
	snprintf(out, len, "%04lld-W%02lld", (long long)y, (long long)((thursday - jan1) / 7 + 1));
}

unsigned fx_rt_col(struct fx_report_table *t, const char *name, enum fx_report_coltype type)
{
	unsigned i = t->ncols;

	if (i >= FX_REPORT_MAXCOLS)
		abort(); /* programmer error: the column sets are fixed */
	t->colname[i] = name;
	t->coltype[i] = type;
	t->ncols++;
	return i;
}

struct fx_report_cell *fx_rt_row(struct fx_report_table *t)
{
	struct fx_report_cell *c;
	unsigned i;

	if (t->nrows == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 16;

		c = realloc(t->cells, cap * t->ncols * sizeof(*c));
		if (!c)
			return NULL;
		t->cells = c;
		t->cap = cap;
	}
	c = &t->cells[t->nrows * t->ncols];
	for (i = 0; i < t->ncols; i++)
		c[i] = (struct fx_report_cell){ .null = true };
	t->nrows++;
	return c;
}

bool fx_rt_text(struct fx_report_cell *c, const char *s)
{
	c->s = strdup(s ? s : "");
	c->null = c->s == NULL;
	return c->s != NULL;
}

void fx_rt_int(struct fx_report_cell *c, int64_t v)
{
	c->null = false;
	c->i = v;
}

void fx_rt_num(struct fx_report_cell *c, double v)
{
	c->null = false;
	c->d = v;
}

void fx_rt_pct(struct fx_report_cell *c, int64_t num, int64_t den)
{
	if (den > 0)
		fx_rt_num(c, 100.0 * (double)num / (double)den);
	else
		c->null = true;
}

const char *fx_rt_fmt(const struct fx_report_table *t, unsigned col,
		      const struct fx_report_cell *c, char *buf, size_t len,
		      const char *null_text)
{
	if (c->null)
		return null_text;
	switch (t->coltype[col]) {
	case FX_COL_TEXT:
		return c->s;
	case FX_COL_INT:
		snprintf(buf, len, "%lld", (long long)c->i);
		break;
	case FX_COL_PCT:
		snprintf(buf, len, "%.2f", c->d);
		break;
	case FX_COL_SEC:
		snprintf(buf, len, "%.3f", c->d);
		break;
	}
	return buf;
}

const char *fx_rt_show(const struct fx_report_table *t, size_t row, unsigned col,
		       char *buf, size_t len)
{
	const struct fx_report_cell *c = fx_rt_cell(t, row, col);

	if (t->total_row && row + 1 == t->nrows && col < t->ngroup)
		return col ? "" : "(total)";
	if (c->null)
		return col < t->ngroup ? "(none)" : "-";
	if (t->coltype[col] == FX_COL_TEXT && !c->s[0])
		return "\"\"";
	return fx_rt_fmt(t, col, c, buf, len, "-");
}

size_t fx_rt_utf8_len(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0; /* continuation byte, overlong lead C0/C1, F5..FF */
	/* the second byte's range excludes overlongs, surrogates and
	 * code points above U+10FFFF (RFC 3629 table) */
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

static bool is_control(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	return (n == 1 && (p[0] < 0x20 || p[0] == 0x7f)) ||
	       (n == 2 && p[0] == 0xc2 && p[1] < 0xa0); /* C1: U+0080..U+009F */
}

size_t fx_rt_put(FILE *out, const char *s, bool controls)
{
	size_t n, chars = 0;

	for (; s && *s; s += n, chars++) {
		n = fx_rt_utf8_len(s);
		if (!n) {
			fputs("\xef\xbf\xbd", out); /* U+FFFD for one invalid byte */
			n = 1;
		} else if (controls && is_control(s, n)) {
			fputc(' ', out);
		} else {
			fwrite(s, 1, n, out);
		}
	}
	return chars;
}

size_t fx_rt_width(const char *s)
{
	size_t n, chars = 0;

	for (; s && *s; s += n, chars++) {
		n = fx_rt_utf8_len(s);
		if (!n)
			n = 1;
	}
	return chars;
}

void fx_report_range_text(const struct fx_report *r, char *buf, size_t len)
{
	if (r->from[0])
		snprintf(buf, len, "%s .. %s", r->from, r->to);
	else
		snprintf(buf, len, "no data");
}

void fx_report_free(struct fx_report *r)
{
	size_t i, n;
	unsigned t;

	if (!r)
		return;
	for (t = 0; t < r->ntables; t++) {
		n = r->tables[t].nrows * r->tables[t].ncols;
		for (i = 0; i < n; i++)
			free(r->tables[t].cells[i].s);
		free(r->tables[t].cells);
	}
	for (i = 0; i < r->nbars; i++)
		free(r->bars[i].label);
	free(r->bars);
	free(r->days);
	free(r->database);
	free(r->station);
	free(r->recipe);
	free(r->operator_id);
	free(r->unit);
	free(r);
}

int fx_report_write(const struct fx_report *r, enum fx_report_format f, FILE *out,
		    struct fx_err *err)
{
	int rc;

	switch (f) {
	case FX_FMT_TEXT:
		rc = fx_report_write_text(r, out);
		break;
	case FX_FMT_CSV:
		rc = fx_report_write_csv(r, out);
		break;
	case FX_FMT_JSON:
		rc = fx_report_write_json(r, out);
		break;
	case FX_FMT_HTML:
		rc = fx_report_write_html(r, out);
		break;
	default:
		return fx_err_set(err, FX_E_INVAL, "report format %d out of range", (int)f);
	}
	if (rc || fflush(out) || ferror(out))
		return fx_err_set(err, FX_E_IO, "cannot write the report");
	return 0;
}

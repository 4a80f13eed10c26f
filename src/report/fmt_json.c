/* fmt_json.c - reports as one JSON document, schema "fixturectl-report/1"
 * (documented in fx/report.h). Strings are escaped by json-c; the layout
 * (one row per line) is written here, so the documents stay diffable. */
#include <string.h>

#include <json-c/json.h>

#include "report_int.h"

/* One run of well-formed UTF-8 (len bytes at p), escaped by json-c: the
 * serialized string object without its quotes. */
static void jrun(FILE *out, const char *p, size_t len)
{
	struct json_object *o;
	const char *js;
	size_t n;

	if (!len)
		return;
	o = json_object_new_string_len(p, (int)len);
	js = o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						JSON_C_TO_STRING_NOSLASHESCAPE) : NULL;
	n = js ? strlen(js) : 0;
	if (n >= 2)
		fwrite(js + 1, 1, n - 2, out);
	else
		fputs("\\ufffd", out); /* out of memory: never raw bytes */
	json_object_put(o);
}

/* A JSON string: always valid UTF-8. json-c escapes (quotes, backslash,
 * control characters as \u00XX) but passes bytes through unchecked, so
 * the well-formed runs go to json-c and each byte that does not start a
 * well-formed character becomes \ufffd (U+FFFD) between them. */
static void jstr(FILE *out, const char *s)
{
	const char *run, *p;
	size_t n;

	if (!s) {
		fputs("null", out);
		return;
	}
	fputc('"', out);
	for (run = p = s; *p; p += n) {
		n = fx_rt_utf8_len(p);
		if (n)
			continue;
		jrun(out, run, (size_t)(p - run));
		fputs("\\ufffd", out);
		n = 1;
		run = p + 1;
	}
	jrun(out, run, (size_t)(p - run));
	fputc('"', out);
}

static const char *type_name(enum fx_report_coltype t)
{
	switch (t) {
	case FX_COL_TEXT:
		return "text";
	case FX_COL_INT:
		return "int";
	case FX_COL_PCT:
		return "pct";
	case FX_COL_SEC:
		return "seconds";
	}
	return "text";
}

static void value(FILE *out, const struct fx_report_table *t, size_t r, unsigned k)
{
	const struct fx_report_cell *c = fx_rt_cell(t, r, k);
	char buf[64];

	if (c->null)
		fputs("null", out);
	else if (t->coltype[k] == FX_COL_TEXT)
		jstr(out, c->s);
	else
		fputs(fx_rt_fmt(t, k, c, buf, sizeof(buf), "null"), out);
}

static void table(FILE *out, const struct fx_report_table *t)
{
	size_t r, nrows = t->nrows - (t->total_row ? 1 : 0);
	unsigned k;

	fputs("    {\n      \"name\": ", out);
	jstr(out, t->name);
	fputs(",\n      \"columns\": [", out);
	for (k = 0; k < t->ncols; k++) {
		fputs(k ? ", {\"name\": " : "{\"name\": ", out);
		jstr(out, t->colname[k]);
		fprintf(out, ", \"type\": \"%s\"}", type_name(t->coltype[k]));
	}
	fputs("],\n      \"rows\": [", out);
	for (r = 0; r < nrows; r++) {
		fputs(r ? ",\n        [" : "\n        [", out);
		for (k = 0; k < t->ncols; k++) {
			if (k)
				fputs(", ", out);
			value(out, t, r, k);
		}
		fputc(']', out);
	}
	fputs(nrows ? "\n      ]" : "]", out);
	if (t->total_row) {
		/* the grand total: the figures, never a group value */
		fputs(",\n      \"total\": {", out);
		for (k = t->ngroup; k < t->ncols; k++) {
			fputs(k > t->ngroup ? ", " : "", out);
			jstr(out, t->colname[k]);
			fputs(": ", out);
			value(out, t, nrows, k);
		}
		fputc('}', out);
	}
	fputs("\n    }", out);
}

int fx_report_write_json(const struct fx_report *r, FILE *out)
{
	unsigned i;

	fputs("{\n  \"schema\": \"fixturectl-report/1\",\n  \"report\": ", out);
	jstr(out, fx_report_kind_name(r->kind));
	fputs(",\n  \"database\": ", out);
	jstr(out, r->database);
	fputs(",\n  \"timezone\": \"UTC\",\n  \"from\": ", out);
	jstr(out, r->from[0] ? r->from : NULL);
	fputs(",\n  \"to\": ", out);
	jstr(out, r->to[0] ? r->to : NULL);
	fputs(",\n  \"group_by\": [", out);
	for (i = 0; i < r->nby; i++) {
		if (i)
			fputs(", ", out);
		jstr(out, fx_report_by_name(r->by[i]));
	}
	fputs("],\n  \"filters\": {\"station\": ", out);
	jstr(out, r->station);
	fputs(", \"recipe\": ", out);
	jstr(out, r->recipe);
	fputs(", \"operator\": ", out);
	jstr(out, r->operator_id);
	fputs("},\n  \"unit\": ", out);
	jstr(out, r->unit);
	fputs(",\n  \"tables\": [\n", out);
	for (i = 0; i < r->ntables; i++) {
		if (i)
			fputs(",\n", out);
		table(out, &r->tables[i]);
	}
	fputs("\n  ]\n}\n", out);
	return ferror(out) ? -1 : 0;
}

/* fmt_json.c - reports as one JSON document, schema "fixturectl-report/1"
 * (documented in fx/report.h). */
#include <string.h>

#include "report_int.h"

static void jstr(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (!s) {
		fputs("null", out);
		return;
	}
	fputc('"', out);
	for (; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\r':
			fputs("\\r", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		default:
			if (*p < 0x20)
				fprintf(out, "\\u%04x", *p);
			else
				fputc(*p, out);
		}
	}
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

static void table(FILE *out, const struct fx_report_table *t)
{
	const struct fx_report_cell *c;
	char buf[64];
	size_t r;
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
	for (r = 0; r < t->nrows; r++) {
		fputs(r ? ",\n        [" : "\n        [", out);
		for (k = 0; k < t->ncols; k++) {
			c = fx_rt_cell(t, r, k);
			if (k)
				fputs(", ", out);
			if (c->null)
				fputs("null", out);
			else if (t->coltype[k] == FX_COL_TEXT)
				jstr(out, c->s);
			else
				fputs(fx_rt_fmt(t, k, c, buf, sizeof(buf), "null"), out);
		}
		fputc(']', out);
	}
	fputs(t->nrows ? "\n      ]\n    }" : "]\n    }", out);
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

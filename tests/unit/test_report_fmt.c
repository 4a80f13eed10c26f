/* test_report_fmt.c - the four report formats on hand-built tables: whole
 * long values (no fixed buffer cuts them or splits a UTF-8 character),
 * invalid UTF-8 shown as U+FFFD, no raw control characters in HTML, the
 * grand-total row told from a group named "total", a null group value
 * from an empty one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "report_fix.h"
#include "fx/report.h"
#include "../../src/report/report_int.h"

/* a yield report grouped by operator: rows "total", null, "", then the
 * value under test, then the grand total */
static struct fx_report *make(const char *val)
{
	struct fx_report *r = calloc(1, sizeof(*r));
	struct fx_report_table *t;
	struct fx_report_cell *row;
	int i;

	assert_non_null(r);
	r->kind = FX_REPORT_YIELD;
	r->database = strdup("t.db");
	snprintf(r->from, sizeof(r->from), "2026-03-02");
	snprintf(r->to, sizeof(r->to), "2026-03-09");
	r->by[0] = FX_BY_OPERATOR;
	r->nby = 1;
	r->ntables = 1;
	t = &r->tables[0];
	t->name = "yield";
	fx_rt_col(t, "operator", FX_COL_TEXT);
	fx_rt_col(t, "runs", FX_COL_INT);
	fx_rt_col(t, "yield_pct", FX_COL_PCT);
	t->ngroup = 1;
	for (i = 0; i < 5; i++) {
		row = fx_rt_row(t);
		assert_non_null(row);
		if (i == 0)
			assert_true(fx_rt_text(&row[0], "total"));
		else if (i == 2)
			assert_true(fx_rt_text(&row[0], ""));
		else if (i == 3)
			assert_true(fx_rt_text(&row[0], val));
		fx_rt_int(&row[1], i + 1);
		fx_rt_pct(&row[2], 1, 2);
	}
	t->total_row = true;
	return r;
}

static void assert_utf8(const char *s)
{
	size_t n;

	for (; *s; s += n) {
		n = fx_rt_utf8_len(s);
		if (!n)
			fail_msg("invalid UTF-8 at '%.20s'", s);
	}
}

static void test_utf8_len(void **state)
{
	(void)state;
	assert_int_equal(fx_rt_utf8_len("a"), 1);
	assert_int_equal(fx_rt_utf8_len("\xc3\xa9"), 2);
	assert_int_equal(fx_rt_utf8_len("\xe2\x82\xac"), 3);
	assert_int_equal(fx_rt_utf8_len("\xf0\x9f\x98\x80"), 4);
	assert_int_equal(fx_rt_utf8_len("\xf4\x8f\xbf\xbf"), 4);   /* U+10FFFF */
	assert_int_equal(fx_rt_utf8_len("\xff"), 0);
	assert_int_equal(fx_rt_utf8_len("\x80"), 0);               /* lone continuation */
	assert_int_equal(fx_rt_utf8_len("\xc3"), 0);               /* cut */
	assert_int_equal(fx_rt_utf8_len("\xe2\x82"), 0);           /* cut */
	assert_int_equal(fx_rt_utf8_len("\xc0\xaf"), 0);           /* overlong '/' */
	assert_int_equal(fx_rt_utf8_len("\xe0\x80\xaf"), 0);       /* overlong */
	assert_int_equal(fx_rt_utf8_len("\xed\xa0\x80"), 0);       /* surrogate */
	assert_int_equal(fx_rt_utf8_len("\xf4\x90\x80\x80"), 0);   /* > U+10FFFF */
}

/* 3000 bytes: 1022 x 'a', then 'é' over the old 1024-byte cut, ..., 'Z' */
static char *long_value(void)
{
	char *v = malloc(3001);
	size_t i;

	assert_non_null(v);
	memset(v, 'a', 3000);
	v[1022] = '\xc3';
	v[1023] = '\xa9';
	for (i = 1024; i + 1 < 2999; i += 2) {
		v[i] = '\xc3';
		v[i + 1] = '\xa9';
	}
	v[2999] = 'Z';
	v[3000] = '\0';
	return v;
}

static void test_long_values_whole(void **state)
{
	static const enum fx_report_format f[] = { FX_FMT_TEXT, FX_FMT_CSV, FX_FMT_JSON,
						   FX_FMT_HTML };
	char *v = long_value(), *out;
	struct fx_report *r = make(v);
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		out = fxt_report_render(r, f[i]);
		if (!strstr(out, v))
			fail_msg("format %zu: the 3000-byte value is not whole", i);
		assert_utf8(out);
		free(out);
	}
	/* pareto bar labels in the HTML chart are whole too */
	r->kind = FX_REPORT_PARETO;
	r->bars = calloc(1, sizeof(*r->bars));
	assert_non_null(r->bars);
	r->bars[0].label = strdup(v);
	r->bars[0].n = 3;
	r->bars[0].cum_pct = 100;
	r->nbars = 1;
	out = fxt_report_render(r, FX_FMT_HTML);
	assert_non_null(strstr(out, v));
	assert_non_null(strstr(strstr(out, v) + 1, v)); /* the <title> and the axis */
	free(out);
	fx_report_free(r);
	free(v);
}

static void test_invalid_utf8(void **state)
{
	/* invalid: lone FF, a cut 'é', an overlong '/', a surrogate; a tab,
	 * a BEL, DEL and C1 NEL as control characters */
	struct fx_report *r = make("A\xff" "B\xc3" "C\xc0\xaf" "D\xed\xa0\x80" "E\t\a\x7f\xc2\x85" "F");
	char *out;

	(void)state;
	out = fxt_report_render(r, FX_FMT_JSON);
	assert_utf8(out);
	assert_non_null(strstr(out, "\"A\\ufffdB\\ufffdC\\ufffd\\ufffdD\\ufffd\\ufffd\\ufffdE\\t\\u0007\x7f\xc2\x85" "F\""));
	free(out);

	out = fxt_report_render(r, FX_FMT_CSV);
	assert_utf8(out);
	assert_non_null(strstr(out, ",A\xef\xbf\xbd" "B\xef\xbf\xbd" "C\xef\xbf\xbd\xef\xbf\xbd"
			       "D\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "E\t\a\x7f\xc2\x85" "F,"));
	free(out);

	out = fxt_report_render(r, FX_FMT_TEXT);
	assert_utf8(out);
	assert_non_null(strstr(out, "A\xef\xbf\xbd" "B\xef\xbf\xbd" "C\xef\xbf\xbd\xef\xbf\xbd"
			       "D\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "E    F"));
	free(out);

	out = fxt_report_render(r, FX_FMT_HTML);
	assert_utf8(out);
	assert_non_null(strstr(out, "<td>A\xef\xbf\xbd" "B\xef\xbf\xbd" "C\xef\xbf\xbd\xef\xbf\xbd"
			       "D\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "E    F</td>"));
	/* no raw control character but the layout's newlines */
	for (const char *p = out; *p; p++)
		if (((unsigned char)*p < 0x20 && *p != '\n') || *p == 0x7f ||
		    ((unsigned char)p[0] == 0xc2 && (unsigned char)p[1] >= 0x80 &&
		     (unsigned char)p[1] < 0xa0))
			fail_msg("raw control character 0x%02x in HTML at '%.20s'", (unsigned char)*p, p);
	free(out);
	fx_report_free(r);

	/* the header values (database, filters) too */
	r = make("x");
	free(r->database);
	r->database = strdup("d\xff\nb.db");
	out = fxt_report_render(r, FX_FMT_JSON);
	assert_utf8(out);
	assert_non_null(strstr(out, "\"database\": \"d\\ufffd\\nb.db\""));
	free(out);
	out = fxt_report_render(r, FX_FMT_TEXT);
	assert_utf8(out);
	assert_non_null(strstr(out, "# database: d\xef\xbf\xbd b.db\n"));
	free(out);
	fx_report_free(r);
}

static void test_total_and_none(void **state)
{
	struct fx_report *r = make("bob");
	char *out;

	(void)state;
	out = fxt_report_render(r, FX_FMT_TEXT);
	assert_non_null(strstr(out, "\ntotal        1      50.00\n"));
	assert_non_null(strstr(out, "\n(none)       2      50.00\n"));
	assert_non_null(strstr(out, "\n\"\"           3      50.00\n"));
	assert_non_null(strstr(out, "\n(total)      5      50.00\n"));
	free(out);

	out = fxt_report_render(r, FX_FMT_CSV);
	assert_string_equal(out, "tz,from,to,operator,runs,yield_pct\r\n"
			    "UTC,2026-03-02,2026-03-09,total,1,50.00\r\n"
			    "UTC,2026-03-02,2026-03-09,,2,50.00\r\n"
			    "UTC,2026-03-02,2026-03-09,\"\",3,50.00\r\n"
			    "UTC,2026-03-02,2026-03-09,bob,4,50.00\r\n"
			    "UTC,2026-03-02,2026-03-09,(total),5,50.00\r\n");
	free(out);

	out = fxt_report_render(r, FX_FMT_JSON);
	assert_non_null(strstr(out, "\"rows\": [\n"
			       "        [\"total\", 1, 50.00],\n"
			       "        [null, 2, 50.00],\n"
			       "        [\"\", 3, 50.00],\n"
			       "        [\"bob\", 4, 50.00]\n"
			       "      ],\n"
			       "      \"total\": {\"runs\": 5, \"yield_pct\": 50.00}\n"));
	free(out);

	out = fxt_report_render(r, FX_FMT_HTML);
	assert_non_null(strstr(out, "<tr><td>total</td>"));
	assert_non_null(strstr(out, "<tr><td>(none)</td>"));
	assert_non_null(strstr(out, "<tr><td>&quot;&quot;</td>"));
	assert_non_null(strstr(out, "<tr><td>(total)</td>"));
	free(out);
	fx_report_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_len),
		cmocka_unit_test(test_long_values_whole),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_total_and_none),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

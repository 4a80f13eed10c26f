/* test_report_html.c - the HTML reports opened in headless Chromium: the
 * DOM Chromium builds holds the SVG charts with one bar and one point per
 * day (yield) or failure mode (pareto), and nothing external.
 * Exit 77 (skip) with the reason when chromium is not installed. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fx/report.h"
#include "fx/store.h"
#include "test_report_fixture.h"

static char tmpdir[64];
static struct fx_store *st;
static const char *chromium;

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (; (hay = strstr(hay, needle)); hay += strlen(needle))
		n++;
	return n;
}

/* Write the report as HTML, let Chromium parse it, return its DOM. */
static char *dom_of(const struct fx_report_query *q, const char *name)
{
	char path[PATH_MAX], cmd[2 * PATH_MAX], *buf = NULL;
	struct fx_report *r;
	struct fx_err err;
	size_t len = 0, n;
	char chunk[4096];
	FILE *f, *m;

	r = fx_report_run(st, q, &err);
	if (!r)
		fail_msg("report: %s", err.msg);
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fx_report_write(r, FX_FMT_HTML, f, &err), 0);
	fclose(f);
	fx_report_free(r);
	snprintf(cmd, sizeof(cmd),
		 "timeout 120 '%s' --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir='%s/profile'"
		 " --dump-dom 'file://%s' 2>/dev/null", chromium, tmpdir, path);
	f = popen(cmd, "r");
	assert_non_null(f);
	m = open_memstream(&buf, &len);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, n, m);
	assert_int_equal(pclose(f), 0);
	fclose(m);
	return buf;
}

/* Points of the first polyline of class "line". */
static int polyline_points(const char *dom)
{
	const char *p = strstr(dom, "<polyline class=\"line\" points=\""), *e;
	int n = 0;

	if (!p)
		return -1;
	p += strlen("<polyline class=\"line\" points=\"");
	e = strchr(p, '"');
	for (; p < e; p++)
		n += *p == ',';
	return n;
}

/* The x of the first n bars. */
static void bar_x(const char *dom, double *x, int n)
{
	const char *p = dom;
	int i;

	for (i = 0; i < n; i++) {
		p = strstr(p, "<rect class=\"bar\" x=\"");
		assert_non_null(p);
		p += strlen("<rect class=\"bar\" x=\"");
		x[i] = strtod(p, NULL);
	}
}

static void test_yield_html(void **state)
{
	struct fx_report_query q = { .kind = FX_REPORT_YIELD, .by = { FX_BY_DAY }, .nby = 1 };
	double x[4], step;
	char *dom;

	(void)state;
	dom = dom_of(&q, "yield.html");
	assert_int_equal(count(dom, "<svg"), 1);
	assert_int_equal(count(dom, "<rect class=\"bar\""), 4);   /* 4 days with runs */
	assert_int_equal(count(dom, "<circle class=\"pt\""), 4);
	/* a date axis: 03-02, 03-03 | gap | 03-05 | gap | 03-09; the line
	 * joins only consecutive days */
	assert_int_equal(count(dom, "<polyline class=\"line\""), 3);
	assert_int_equal(polyline_points(dom), 2);
	bar_x(dom, x, 4);
	step = 710.0 / 8;                                  /* 8 days on the axis */
	assert_true(fabs(x[1] - x[0] - step) < 0.2);
	assert_true(fabs(x[2] - x[0] - 3 * step) < 0.2);   /* 03-05 */
	assert_true(fabs(x[3] - x[0] - 7 * step) < 0.2);   /* 03-09 */
	assert_non_null(strstr(dom, "<title>2026-03-05: 3</title>"));
	assert_non_null(strstr(dom, "<title>2026-03-05: 66.67%</title>"));
	/* the table, the range and the time zone */
	assert_non_null(strstr(dom, "<td>2026-03-09</td>"));
	assert_non_null(strstr(dom, "2026-03-02 .. 2026-03-09 (UTC days, inclusive; time zone UTC)"));
	assert_null(strstr(dom, "<script"));
	assert_null(strstr(dom, "src="));
	assert_null(strstr(dom, "href="));
	free(dom);

	/* --from before the data: the axis starts there (10 days, 2 empty) */
	q.has_from = true;
	q.from_day = 20512; /* 2026-02-28 */
	dom = dom_of(&q, "yield-from.html");
	bar_x(dom, x, 4);
	step = 710.0 / 10;
	assert_true(fabs(x[0] - (60 + 2 * step + 0.15 * step)) < 0.2);
	assert_true(fabs(x[3] - x[0] - 7 * step) < 0.2);
	free(dom);
}

static void test_pareto_html(void **state)
{
	struct fx_report_query q = { .kind = FX_REPORT_PARETO };
	char *dom;

	(void)state;
	dom = dom_of(&q, "pareto.html");
	assert_int_equal(count(dom, "<rect class=\"bar\""), 5);   /* 5 failure modes */
	assert_int_equal(count(dom, "<circle class=\"pt\""), 5);
	assert_int_equal(polyline_points(dom), 5);
	assert_non_null(strstr(dom, "<title>verify FX_E_VERIFY: 3</title>"));
	assert_non_null(strstr(dom, "<title>program FX_E_TIMEOUT: 100.00%</title>"));
	assert_null(strstr(dom, "<script"));
	free(dom);
}

static void test_history_html(void **state)
{
	struct fx_report_query q = { .kind = FX_REPORT_HISTORY, .unit = "SN003" };
	char *dom;

	(void)state;
	dom = dom_of(&q, "history.html");
	assert_int_equal(count(dom, "<svg"), 0);
	assert_int_equal(count(dom, "<table>"), 2);
	/* the quoted message survives escaping */
	assert_non_null(strstr(dom, "mismatch at 0x08000200, \"bank 1\""));
	free(dom);
}

static const char *find_chromium(void)
{
	static const char *const names[] = { "/usr/bin/chromium", "/usr/bin/chromium-browser",
					     "/usr/bin/google-chrome" };
	const char *env = getenv("FX_CHROMIUM");
	size_t i;

	if (env && *env)
		return access(env, X_OK) ? NULL : env;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!access(names[i], X_OK))
			return names[i];
	return NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_yield_html),
		cmocka_unit_test(test_pareto_html),
		cmocka_unit_test(test_history_html),
	};
	char path[128], cmd[160];
	struct fx_err err;
	int rc;

	chromium = find_chromium();
	if (!chromium) {
		printf("skip: chromium not installed (scripts/install-deps installs it)\n");
		return 77;
	}
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/fx-test-html-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	snprintf(path, sizeof(path), "%s/known.db", tmpdir);
	if (fix_build(path, &err)) {
		fprintf(stderr, "fixture: %s\n", err.msg);
		return 1;
	}
	st = fx_store_open_readonly(path, &err);
	if (!st)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	fx_store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd))
		rc = 1;
	return rc;
}

/* test_serial_csv.c - the CSV tokenizing of serial list files
 * (fx_serial_list_load, libcsv underneath): PATH:LINE stays right across
 * quoted fields holding newlines, CR only ends a record as CRLF outside
 * quotes, spaces are data, a problem drops the rest of its line and the
 * next record starts on the next line, a bad header ends the load. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conf_fix.h"
#include "fx/serial.h"

static char dir[256];

struct diags {
	char msgs[8][1600];
	size_t n;
};

static int group_setup(void **state)
{
	(void)state;
	return fxt_conf_mkdir(dir, sizeof(dir), "/tmp/fx-test-serial-csv-XXXXXX");
}

static int group_teardown(void **state)
{
	(void)state;
	return fxt_conf_rmdir(dir);
}

static void collect(void *user, const char *msg)
{
	struct diags *d = user;

	if (d->n < 8)
		snprintf(d->msgs[d->n++], sizeof(d->msgs[0]), "%s", msg);
}

/* Load text as NAME; *l set when it loads. Returns the call's result. */
static int load(const char *name, const char *text, struct diags *d, struct fx_serial_list **l)
{
	char p[300];
	struct fx_err e;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fxt_conf_write(p, text);
	fx_err_clear(&e);
	memset(d, 0, sizeof(*d));
	*l = NULL;
	return fx_serial_list_load(p, l, collect, d, &e);
}

static void expect_msg(const struct diags *d, size_t i, const char *name, const char *what)
{
	char want[600];

	snprintf(want, sizeof(want), "%s/%s:%s", dir, name, what);
	assert_true(i < d->n);
	assert_string_equal(d->msgs[i], want);
}

static void test_lines_after_quoted_newline(void **state)
{
	struct fx_serial_list *l;
	struct diags d;

	(void)state;
	/* the newline inside the quotes is a control character, reported on
	 * the line the field ends on; the rows after it keep their lines */
	assert_int_equal(load("nl.csv", "serial,note\nA1,\"two\nlines\"\nA2,x\nA2,y\n", &d, &l),
			 FX_E_CONFIG);
	assert_int_equal(d.n, 2);
	expect_msg(&d, 0, "nl.csv", "3: control character 0x0A in field 2");
	expect_msg(&d, 1, "nl.csv", "5: serial 'A2' repeated (first at line 4)");

	/* CRLF inside quotes is data (0x0D first), not a record end */
	assert_int_equal(load("crlfq.csv", "serial\r\n\"A\r\n1\"\r\nA2\r\n", &d, &l), FX_E_CONFIG);
	assert_int_equal(d.n, 1);
	expect_msg(&d, 0, "crlfq.csv", "3: control character 0x0D in field 1");

	/* unterminated: reported where the record began */
	assert_int_equal(load("unt.csv", "serial\nA1\n\"A2\nA3\n", &d, &l), FX_E_CONFIG);
	assert_int_equal(d.n, 1);
	expect_msg(&d, 0, "unt.csv", "3: unterminated quoted field");
}

static void test_quote_errors_recover(void **state)
{
	struct fx_serial_list *l;
	struct diags d;

	(void)state;
	assert_int_equal(load("q.csv", "serial,mac\n\"A1\"x,y\nA\"2,z\n\"A3\" ,w\nA4,\"v\"\n", &d, &l),
			 FX_E_CONFIG);
	assert_int_equal(d.n, 3);
	expect_msg(&d, 0, "q.csv", "2: text after a closing quote");
	expect_msg(&d, 1, "q.csv", "3: quote inside an unquoted field");
	expect_msg(&d, 2, "q.csv", "4: text after a closing quote");

	/* the rest of a bad line is dropped: its open quote swallows nothing */
	assert_int_equal(load("rest.csv", "serial,mac\nA\x01,\"x\nA2,y\nA3,z\n", &d, &l), FX_E_CONFIG);
	assert_int_equal(d.n, 1);
	expect_msg(&d, 0, "rest.csv", "2: control character 0x01 in field 1");

	/* a bad header line ends the load: one message */
	assert_int_equal(load("hdr.csv", "seri\"al\nA1\nA1\n", &d, &l), FX_E_CONFIG);
	assert_int_equal(d.n, 1);
	expect_msg(&d, 0, "hdr.csv", "1: quote inside an unquoted field");
}

static void test_cr_and_spaces(void **state)
{
	struct fx_serial_list *l;
	struct diags d;

	(void)state;
	/* a CR that is not part of a CRLF is a control character */
	assert_int_equal(load("cr.csv", "serial\nA\r1\nA2\r\r\nA3\r\n", &d, &l), FX_E_CONFIG);
	assert_int_equal(d.n, 2);
	expect_msg(&d, 0, "cr.csv", "2: control character 0x0D in field 1");
	expect_msg(&d, 1, "cr.csv", "3: control character 0x0D in field 1");

	/* spaces are data (RFC 4180), trailing comma = empty last field,
	 * blank lines before the header, no newline at the end */
	assert_int_equal(load("ok.csv", "\n\r\nserial,mac\n A1 ,\nA1,m\n\"\"\"A\"\"\",\"\"", &d, &l), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(l->n_rows, 3);
	assert_string_equal(l->rows[0][0], " A1 ");
	assert_string_equal(l->rows[0][1], "");
	assert_string_equal(l->rows[1][0], "A1");
	assert_string_equal(l->rows[2][0], "\"A\"");
	assert_string_equal(l->rows[2][1], "");
	assert_int_equal(l->lines[0], 4);
	assert_int_equal(l->lines[2], 6);
	fx_serial_list_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_after_quoted_newline),
		cmocka_unit_test(test_quote_errors_recover),
		cmocka_unit_test(test_cr_and_spaces),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

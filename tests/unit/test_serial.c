/* test_serial.c - serial number values (fx/serial.h): formats, ISO weeks,
 * encodings, list files, and every [serial_number] check error with its
 * file:line (through fx_recipe_load, as `fixturectl check` runs it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conf_fix.h"
#include "fx/conf.h"
#include "fx/serial.h"

#define T_2026_12_02 1796169600000000LL /* 2026-12-02T00:00:00Z, Wednesday */

static char dir[256];

static int group_setup(void **state)
{
	(void)state;
	return fxt_conf_mkdir(dir, sizeof(dir), "/tmp/fx-test-serial-XXXXXX");
}

static int group_teardown(void **state)
{
	(void)state;
	return fxt_conf_rmdir(dir);
}

static void test_format(void **state)
{
	struct fx_serial_fmt f;
	struct fx_err e;
	char out[64];
	uint64_t n = 0;

	(void)state;
	fx_err_clear(&e);
	assert_int_equal(fx_serial_fmt_parse("G4-{yy}{ww}-{n:05}", &f, &e), 0);
	assert_int_equal(f.n_count, 1);
	assert_int_equal(fx_serial_fmt_render(&f, 42, T_2026_12_02, NULL, out, sizeof(out), &e), 0);
	assert_string_equal(out, "G4-2649-00042");
	assert_true(fx_serial_fmt_match(&f, "G4-2649-00042", NULL, &n));
	assert_int_equal(n, 42);
	assert_false(fx_serial_fmt_match(&f, "G4-2649-0042", NULL, &n));
	assert_int_equal(fx_serial_fmt_max_len(&f, 99999, 0), 13);
	assert_int_equal(fx_serial_fmt_parse("{station}/{{{n}}}", &f, &e), 0);
	assert_int_equal(fx_serial_fmt_render(&f, 7, 0, "L1", out, sizeof(out), &e), 0);
	assert_string_equal(out, "L1/{7}");
	assert_int_equal(fx_serial_fmt_render(&f, 7, 0, "L1", out, 4, &e), FX_E_RANGE);

	assert_int_equal(fx_serial_fmt_parse("X{q}", &f, &e), FX_E_CONFIG);
	assert_string_equal(e.msg, "unknown field '{q}' (expected {n}, {n:0W}, {yyyy}, {yy}, {ww} or {station})");
	assert_int_equal(fx_serial_fmt_parse("X{n", &f, &e), FX_E_CONFIG);
	assert_string_equal(e.msg, "'{' without '}' (write '{{' for a brace)");
	assert_int_equal(fx_serial_fmt_parse("X}", &f, &e), FX_E_CONFIG);
	assert_int_equal(fx_serial_fmt_parse("{n:021}", &f, &e), FX_E_CONFIG);
	assert_string_equal(e.msg, "field '{n:021}': expected {n:0W} with W = 1..20");

	assert_int_equal(fx_serial_fmt_parse("{yy}{ww}{n:04}", &f, &e), 0);
	assert_true(fx_serial_fmt_numeric(&f));
	assert_int_equal(fx_serial_fmt_max_value(&f, 9999), 99539999ull);
}

static void test_iso_week(void **state)
{
	int y, w;

	(void)state;
	fx_serial_iso_week(T_2026_12_02, &y, &w);
	assert_int_equal(y, 2026);
	assert_int_equal(w, 49);
	/* 2027-01-01 (Friday) is in week 53 of 2026 */
	fx_serial_iso_week(T_2026_12_02 + 30LL * 86400000000LL, &y, &w);
	assert_int_equal(y, 2026);
	assert_int_equal(w, 53);
	/* 2024-12-30 (Monday) is week 1 of 2025 */
	fx_serial_iso_week(1735516800000000LL, &y, &w);
	assert_int_equal(y, 2025);
	assert_int_equal(w, 1);
	/* 1970-01-01 (Thursday) is week 1 of 1970 */
	fx_serial_iso_week(0, &y, &w);
	assert_int_equal(y, 1970);
	assert_int_equal(w, 1);
}

static void test_encodings(void **state)
{
	struct fx_serial_enc e;
	struct fx_err err;
	uint8_t b[16];
	char v[64];

	(void)state;
	fx_err_clear(&err);
	assert_int_equal(fx_serial_enc_parse("ascii:4", &e, &err), 0);
	assert_int_equal(fx_serial_encode(&e, "AB", b, &err), 0);
	assert_memory_equal(b, "AB\xFF\xFF", 4);
	assert_true(fx_serial_decode(&e, b, 0, v, sizeof(v)));
	assert_string_equal(v, "AB");
	assert_int_equal(fx_serial_encode(&e, "ABCDE", b, &err), FX_E_RANGE);
	assert_string_equal(err.msg, "'ABCDE' has 5 characters, ascii:4 holds 4");
	memset(b, 0xFF, 4);
	assert_false(fx_serial_decode(&e, b, 0, v, sizeof(v)));

	assert_int_equal(fx_serial_enc_parse("u32le", &e, &err), 0);
	assert_int_equal(fx_serial_encode(&e, "00042", b, &err), 0);
	assert_memory_equal(b, "\x2a\x00\x00\x00", 4);
	assert_true(fx_serial_decode(&e, b, 5, v, sizeof(v)));
	assert_string_equal(v, "00042");
	assert_int_equal(fx_serial_encode(&e, "4294967296", b, &err), FX_E_RANGE);
	assert_string_equal(err.msg, "'4294967296' does not fit u32le");
	assert_int_equal(fx_serial_encode(&e, "G4", b, &err), FX_E_RANGE);
	assert_string_equal(err.msg, "'G4' is not a decimal number");

	assert_int_equal(fx_serial_enc_parse("bytes:6", &e, &err), 0);
	assert_int_equal(fx_serial_encode(&e, "00:11:22:aa:BB:cc", b, &err), 0);
	assert_memory_equal(b, "\x00\x11\x22\xaa\xbb\xcc", 6);
	assert_true(fx_serial_decode(&e, b, 0, v, sizeof(v)));
	assert_string_equal(v, "00:11:22:AA:BB:CC");
	assert_int_equal(fx_serial_encode(&e, "001122aabbcc", b, &err), 0);
	assert_int_equal(fx_serial_encode(&e, "00:11-22:aa:bb:cc", b, &err), FX_E_RANGE);
	assert_int_equal(fx_serial_encode(&e, "00:11:22:aa:bb", b, &err), FX_E_RANGE);
	assert_string_equal(err.msg, "'00:11:22:aa:bb' is not 6 hex bytes (e.g. 00:11:22, 00-11-22 or 001122)");

	assert_int_equal(fx_serial_enc_parse("ascii:257", &e, &err), FX_E_CONFIG);
	assert_string_equal(err.msg, "expected ascii:N (N = 1..256), u32le, u64le or bytes:N (N = 1..64), got 'ascii:257'");
}

static void test_otp_layout(void **state)
{
	uint8_t otp[64];

	(void)state;
	memset(otp, 0xFF, sizeof(otp));
	assert_int_equal(fx_serial_otp_free_offset(otp, sizeof(otp), 16), 0);
	otp[9] = 0x00;
	assert_int_equal(fx_serial_otp_free_offset(otp, sizeof(otp), 16), 16);
	assert_int_equal(fx_serial_otp_free_offset(otp, sizeof(otp), 48), 16);
	assert_int_equal(fx_serial_otp_free_offset(otp, sizeof(otp), 56), -1);
}

struct diags {
	char msgs[16][1600];
	size_t n;
};

static void collect(void *user, const char *msg)
{
	struct diags *d = user;

	if (d->n < 16)
		snprintf(d->msgs[d->n++], sizeof(d->msgs[0]), "%s", msg);
}

static void test_list(void **state)
{
	struct fx_serial_list *l = NULL;
	struct diags d;
	struct fx_err e;
	char p[300], want[600];

	(void)state;
	fx_err_clear(&e);
	snprintf(p, sizeof(p), "%s/ok.csv", dir);
	fxt_conf_write(p, "\xEF\xBB\xBFserial,mac\r\nA1,00:11:22:33:44:55\r\n\r\n\"A,2\",\"x\"\"y\"\n");
	memset(&d, 0, sizeof(d));
	assert_int_equal(fx_serial_list_load(p, &l, collect, &d, &e), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(l->n_rows, 2);
	assert_int_equal(l->serial_col, 0);
	assert_string_equal(l->rows[1][0], "A,2");
	assert_string_equal(l->rows[1][1], "x\"y");
	assert_int_equal(l->lines[1], 4);
	assert_int_equal(fx_serial_list_col(l, "mac"), 1);
	fx_serial_list_free(l);

	snprintf(p, sizeof(p), "%s/bad.csv", dir);
	fxt_conf_write(p, "serial,mac\nA1,x\nA2\nA1,y\n\"A3,z\nA4,w\n");
	memset(&d, 0, sizeof(d));
	l = NULL;
	assert_int_equal(fx_serial_list_load(p, &l, collect, &d, &e), FX_E_CONFIG);
	assert_null(l);
	assert_int_equal(d.n, 3);
	snprintf(want, sizeof(want), "%s:3: expected 2 fields, got 1", p);
	assert_string_equal(d.msgs[0], want);
	assert_string_equal(e.msg, want);
	snprintf(want, sizeof(want), "%s:5: unterminated quoted field", p);
	assert_string_equal(d.msgs[1], want);
	snprintf(want, sizeof(want), "%s:4: serial 'A1' repeated (first at line 2)", p);
	assert_string_equal(d.msgs[2], want);

	snprintf(p, sizeof(p), "%s/nohdr.csv", dir);
	fxt_conf_write(p, "sn,mac\nA1,x\n");
	memset(&d, 0, sizeof(d));
	assert_int_equal(fx_serial_list_load(p, &l, collect, &d, &e), FX_E_CONFIG);
	snprintf(want, sizeof(want), "%s:1: header: no 'serial' column", p);
	assert_string_equal(d.msgs[0], want);

	snprintf(p, sizeof(p), "%s/missing.csv", dir);
	memset(&d, 0, sizeof(d));
	assert_int_equal(fx_serial_list_load(p, &l, collect, &d, &e), FX_E_FILE);
	assert_int_equal(d.n, 0);
}

/* ---- recipes ------------------------------------------------------------ */

static const char fw[] = "0123456789abcdef"; /* 16 bytes at 0x08000000 */

static void write_recipe(const char *name, const char *extra_ob, const char *program,
			 const char *section)
{
	char p[300], fwp[300], hex[65], text[4096];
	struct fx_err e;

	snprintf(fwp, sizeof(fwp), "%s/fw.bin", dir);
	fxt_conf_write(fwp, fw);
	fx_err_clear(&e);
	assert_int_equal(fx_conf_sha256_file(fwp, hex, &e), 0);
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	/* lines: 1 [recipe] 2 name 3 version 4 target 5 [firmware] 6 file
	 * 7 sha256 8 [option_bytes] 9 ob 10 [program] 11 program
	 * 12 [serial_number] 13.. section */
	snprintf(text, sizeof(text),
		 "[recipe]\nname = t\nversion = 1\ntarget = stm32g474xe\n"
		 "[firmware]\nfile = fw.bin\nsha256 = %s\n"
		 "[option_bytes]\n%s\n[program]\n%s\n[serial_number]\n%s",
		 hex, extra_ob, program, section);
	fxt_conf_write(p, text);
}

static void expect(const char *name, const char *where)
{
	char p[300];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fxt_conf_expect_error(FX_CONF_RECIPE, p, where);
}

static void test_recipe_ok(void **state)
{
	struct fx_recipe *r = NULL;
	struct fx_err e;
	char p[300], csv[300];
	const struct fx_serial_conf *c;

	(void)state;
	snprintf(csv, sizeof(csv), "%s/list.csv", dir);
	fxt_conf_write(csv, "serial,mac,key\nS1,00:11:22:33:44:55,k\nS2,00:11:22:33:44:56,k\n");
	write_recipe("ok.ini", "DBANK = 0", "serial = uid",
		     "source = list\nlist = list.csv\nwrite = otp\nencoding = ascii:8\n"
		     "write.mac = flash:0x0807F800\nencoding.mac = bytes:6\non_fail = void\n"
		     "warn_below = 1\n");
	snprintf(p, sizeof(p), "%s/ok.ini", dir);
	fx_err_clear(&e);
	assert_int_equal(fx_recipe_load(p, &r, NULL, &e), 0);
	c = &r->serial_number;
	assert_true(c->enabled);
	assert_int_equal(c->source, FX_SERIAL_LIST);
	assert_string_equal(c->pool, "t");
	assert_int_equal(c->list_rows, 2);
	assert_int_equal(c->n_fields, 2);
	assert_int_equal(c->fields[0].where, FX_SERIAL_WRITE_OTP);
	assert_int_equal(c->fields[1].where, FX_SERIAL_WRITE_FLASH);
	assert_int_equal(c->fields[1].addr, 0x0807F800u);
	assert_int_equal(c->fields[1].col, 1);
	assert_int_equal(c->on_fail, FX_SERIAL_VOID);
	assert_int_equal(fx_serial_otp_record_size(c), 8);
	assert_false(c->central);
	assert_int_equal(c->lease, 1000);
	fx_recipe_free(r);

	/* the fleet's keys */
	write_recipe("central.ini", "", "serial = uid",
		     "source = counter\nformat = {n}\nlast = 99999\ncentral = yes\nlease = 250\n");
	snprintf(p, sizeof(p), "%s/central.ini", dir);
	r = NULL;
	assert_int_equal(fx_recipe_load(p, &r, NULL, &e), 0);
	assert_true(r->serial_number.central);
	assert_int_equal(r->serial_number.lease, 250);
	fx_recipe_free(r);
}

static void test_recipe_errors(void **state)
{
	char csv[300];

	(void)state;
	/* line 13 is the first key of [serial_number] */
	write_recipe("e1.ini", "", "serial = uid", "source = counter\nformat = A{x}\nlast = 9\n");
	expect("e1.ini", ":14: key 'format': unknown field '{x}' (expected {n}, {n:0W}, {yyyy}, {yy}, {ww} or {station})");
	write_recipe("e2.ini", "", "serial = uid", "source = counter\nformat = A{n}\nfirst = 10\nlast = 9\n");
	expect("e2.ini", ":15: key 'first': 10 is greater than last = 9");
	write_recipe("e3.ini", "", "serial = uid",
		     "source = counter\nformat = G4-{n:05}\nlast = 999999\nencoding = ascii:8\n");
	expect("e3.ini", ":16: key 'encoding': values of format 'G4-{n:05}' up to last = 999999 have 9 characters, ascii:8 holds 8");
	write_recipe("e4.ini", "", "serial = uid",
		     "source = counter\nformat = G4-{n}\nlast = 9\nencoding = u32le\n");
	expect("e4.ini", ":16: key 'encoding': format 'G4-{n}' makes values that are not only digits: u32le needs a decimal number");
	write_recipe("e5.ini", "", "serial = uid",
		     "source = counter\nformat = {n}\nlast = 4294967296\nencoding = u32le\n");
	expect("e5.ini", ":16: key 'encoding': values of format '{n}' up to last = 4294967296 do not fit u32le (largest 4294967295)");
	write_recipe("e6.ini", "", "serial = uid",
		     "source = counter\nformat = {n}\nlast = 9\nwrite = flash:0x0807F804\n");
	expect("e6.ini", ":16: key 'write': 0x0807F804 is not double-word aligned (a multiple of 8)");
	write_recipe("e7.ini", "", "serial = uid",
		     "source = counter\nformat = {n}\nlast = 9\nwrite = flash:0x0807FFF8\n");
	expect("e7.ini", ":16: key 'write': 0x0807FFF8..0x08080017 (32 bytes) is outside the flash 0x08000000..0x0807FFFF");
	/* dual-bank (DBANK not set): the field must not cross 0x08040000 */
	write_recipe("e8.ini", "", "serial = uid",
		     "source = counter\nformat = {n}\nlast = 9\nwrite = flash:0x0803FFF8\n");
	expect("e8.ini", ":16: key 'write': 0x0803FFF8..0x08040017 crosses the bank boundary 0x08040000 (dual-bank mode: the recipe does not set DBANK = 0)");
	write_recipe("e9.ini", "", "serial = uid",
		     "source = counter\nformat = {n}\nlast = 9\nwrite = flash:0x08000008\n");
	{
		char w[800];

		snprintf(w, sizeof(w), ":16: key 'write': 0x08000008..0x08000027 overlaps the image '%s/fw.bin' (0x08000008 holds 0x38, not 0xFF)", dir);
		expect("e9.ini", w);
	}
	write_recipe("e10.ini", "", "serial = uid",
		     "source = counter\nformat = {n}\nlast = 9\nwrite = otp\nencoding = ascii:256\n"
		     "write.mac = otp\nencoding.mac = bytes:6\n");
	expect("e10.ini", ":18: key 'write.mac': columns are written only with source = list");
	write_recipe("e12.ini", "", "serial = uid",
		     "source = counter\nformat = {n}\nlast = 9\ncentral = maybe\n");
	expect("e12.ini", ":16: key 'central': expected on/off, yes/no, true/false or 1/0, got 'maybe'");
	write_recipe("e13.ini", "", "serial = uid",
		     "source = counter\nformat = {n}\nlast = 9\ncentral = yes\nlease = 0\n");
	expect("e13.ini", ":17: key 'lease': expected a number from 1 to 1000000, got '0'");
	write_recipe("e14.ini", "", "serial = uid",
		     "source = counter\nformat = {n}\nlast = 9\nlease = 10\n");
	expect("e14.ini", ":16: key 'lease': only with central = yes");
	write_recipe("e15.ini", "", "serial = scan", "source = scan\ncentral = yes\n");
	expect("e15.ini", ":14: key 'central': only with source = counter (source = scan)");
	snprintf(csv, sizeof(csv), "%s/two.csv", dir);
	fxt_conf_write(csv, "serial,mac\nA1,00:11:22:33:44:55\n");
	write_recipe("e16.ini", "", "serial = uid",
		     "source = list\nlist = two.csv\nwrite = flash:0x0807F800\nencoding = ascii:16\n"
		     "write.mac = flash:0x0807F808\nencoding.mac = bytes:6\n");
	expect("e16.ini", ":17: key 'write.mac': 0x0807F808..0x0807F80D overlaps 'serial' at 0x0807F800..0x0807F80F");
	snprintf(csv, sizeof(csv), "%s/dup.csv", dir);
	fxt_conf_write(csv, "serial\nA\nB\nA\n");
	write_recipe("e11.ini", "", "serial = uid", "source = list\nlist = dup.csv\n");
	{
		struct fx_conf_diags d;
		struct fx_recipe *r = NULL;
		struct fx_err e;
		char want[800], p[300];

		snprintf(p, sizeof(p), "%s/e11.ini", dir);
		fx_conf_diags_init(&d);
		fx_err_clear(&e);
		assert_int_equal(fx_recipe_load(p, &r, &d, &e), FX_E_CONFIG);
		snprintf(want, sizeof(want), "%s/dup.csv:4: serial 'A' repeated (first at line 2)", dir);
		assert_string_equal(e.msg, want);
		assert_int_equal(d.n, 1);
		assert_string_equal(d.msgs[0], want);
		fx_conf_diags_release(&d);
	}
}

/* errors whose first message is in another file: the list's own
 * PATH:LINE */
static void test_recipe_list_errors(void **state)
{
	struct fx_conf_diags d;
	struct fx_recipe *r = NULL;
	struct fx_err e;
	char p[300], csv[300], want[1200];

	(void)state;
	snprintf(csv, sizeof(csv), "%s/bad2.csv", dir);
	fxt_conf_write(csv, "serial,mac\nA,00:11:22:33:44:55\nB\nC,00:11\n");
	write_recipe("l1.ini", "", "serial = uid",
		     "source = list\nlist = bad2.csv\nwrite.mac = flash:0x0807F800\nencoding.mac = bytes:6\n"
		     "write.key = otp\nencoding.key = ascii:4\n");
	snprintf(p, sizeof(p), "%s/l1.ini", dir);
	fx_err_clear(&e);
	fx_conf_diags_init(&d);
	assert_int_equal(fx_recipe_load(p, &r, &d, &e), FX_E_CONFIG);
	assert_null(r);
	/* a malformed list stops there: its own PATH:LINE */
	assert_int_equal(d.n, 1);
	snprintf(want, sizeof(want), "%s:3: expected 2 fields, got 1", csv);
	assert_string_equal(d.msgs[0], want);
	assert_string_equal(e.msg, want);
	fx_conf_diags_release(&d);

	/* a well-formed list: columns and values against the recipe */
	fxt_conf_write(csv, "serial,mac\nA,00:11:22:33:44:55\nC,00:11\n");
	fx_conf_diags_init(&d);
	assert_int_equal(fx_recipe_load(p, &r, &d, &e), FX_E_CONFIG);
	assert_int_equal(d.n, 2);
	snprintf(want, sizeof(want), "%s:17: key 'write.key': no column 'key' in '%s'", p, csv);
	assert_string_equal(d.msgs[0], want);
	snprintf(want, sizeof(want), "%s:3: column 'mac': '00:11' is not 6 hex bytes (e.g. 00:11:22, 00-11-22 or 001122)", csv);
	assert_string_equal(d.msgs[1], want);
	fx_conf_diags_release(&d);

	/* too little OTP: 256 + 256 + 256 + 256 + 8 bytes */
	fxt_conf_write(csv, "serial,a,b,c,d\nS,x,x,x,x\n");
	write_recipe("l2.ini", "", "serial = uid",
		     "source = list\nlist = bad2.csv\nwrite = otp\nencoding = ascii:256\n"
		     "write.a = otp\nencoding.a = ascii:256\nwrite.b = otp\nencoding.b = ascii:256\n"
		     "write.c = otp\nencoding.c = ascii:256\nwrite.d = otp\nencoding.d = ascii:8\n");
	expect("l2.ini", ":23: key 'write.d': the OTP record takes 1032 bytes (every field rounded up to 8), the OTP has 1024");
	write_recipe("l3.ini", "", "serial = uid", "source = list\nlist = nothere.csv\n");
	{
		char w[800];

		snprintf(w, sizeof(w), ":14: key 'list': %s/nothere.csv: cannot read: No such file or directory", dir);
		expect("l3.ini", w);
	}
	write_recipe("l4.ini", "", "serial = scan", "source = counter\nformat = {n}\nlast = 5\n");
	expect("l4.ini", ":11: key 'serial': 'scan' with [serial_number] source = counter: the unit serial is the allocated one (use serial = uid)");
	write_recipe("l5.ini", "", "serial = uid", "source = scan\n");
	expect("l5.ini", ":13: key 'source': scan needs [program] serial = scan or both (the operator scans the label)");
	write_recipe("l6.ini", "", "serial = uid", "source = counter\nformat = {n}\n");
	expect("l6.ini", ":12: key 'last': missing in [serial_number] (source = counter)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_iso_week),
		cmocka_unit_test(test_encodings),
		cmocka_unit_test(test_otp_layout),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_recipe_ok),
		cmocka_unit_test(test_recipe_errors),
		cmocka_unit_test(test_recipe_list_errors),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

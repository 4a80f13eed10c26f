/* test_emu_uri.c - fx_emu_uri_parse(), the one parser of "emu:FILE?KNOBS":
 * the parts, the defaults, and the exact error of each bad form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fx/emu.h"

static void test_parts(void **state)
{
	struct fx_emu_knobs def;
	struct fx_emu_uri u;
	struct fx_err err;

	(void)state;
	fx_emu_knobs_default(&def);
	assert_int_equal(fx_emu_uri_parse("boards/a.fxb", &u, &err), 0);
	assert_string_equal(u.path, "boards/a.fxb");
	assert_null(u.query);
	assert_true(u.boot0);
	assert_memory_equal(&u.knobs, &def, sizeof(def));
	fx_emu_uri_release(&u);
	assert_null(u.path);
	fx_emu_uri_release(&u); /* twice is fine */

	assert_int_equal(fx_emu_uri_parse("a.fxb?xfer=2048&boot0=0", &u, &err), 0);
	assert_string_equal(u.path, "a.fxb");
	assert_string_equal(u.query, "xfer=2048&boot0=0");
	assert_int_equal(u.knobs.transfer_size, 2048);
	assert_false(u.boot0);
	fx_emu_uri_release(&u);

	/* an empty query is no knob */
	assert_int_equal(fx_emu_uri_parse("a.fxb?", &u, &err), 0);
	assert_string_equal(u.query, "");
	fx_emu_uri_release(&u);
	fx_emu_uri_release(NULL);
}

static void test_errors(void **state)
{
	struct fx_emu_uri u;
	struct fx_err err;

	(void)state;
	assert_int_equal(fx_emu_uri_parse("", &u, &err), FX_E_CONFIG);
	assert_string_equal(err.msg, "expected emu:FILE[?KNOBS], got 'emu:'");
	assert_null(u.path);
	fx_emu_uri_release(&u);
	assert_int_equal(fx_emu_uri_parse("?boot0=1", &u, &err), FX_E_CONFIG);
	assert_string_equal(err.msg, "expected emu:FILE[?KNOBS], got 'emu:?boot0=1'");
	fx_emu_uri_release(&u);
	assert_int_equal(fx_emu_uri_parse(NULL, &u, &err), FX_E_CONFIG);
	fx_emu_uri_release(&u);
	/* a knob error keeps FILE for the caller's message */
	assert_int_equal(fx_emu_uri_parse("b.fxb?bogus=1", &u, &err), FX_E_CONFIG);
	assert_string_equal(err.msg, "knob 'bogus': unknown knob");
	assert_string_equal(u.path, "b.fxb");
	fx_emu_uri_release(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parts),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

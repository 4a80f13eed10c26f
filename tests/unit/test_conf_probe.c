/* test_conf_probe.c - the recipe keys of issue 9 section 1: probe =
 * flash|app|on|off (on = flash with entry = gpio, app with entry = app;
 * flash with entry = app refused) and skip_identical. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "conf_fix.h"
#include "fx/conf.h"


static char dir[256];
static char rpath[512];

static int setup(void **state)
{
	(void)state;
	return fxt_conf_recipe_dir(dir, sizeof(dir), "/tmp/fx-test-probe-XXXXXX", rpath, sizeof(rpath));
}

static int teardown(void **state)
{
	(void)state;
	return fxt_conf_rmdir(dir);
}

/* line 8 is the first line of program */
static void write_recipe(const char *program)
{
	char text[4096];

	snprintf(text, sizeof(text),
		 "[recipe]\nname = demo\nversion = 1.0\ntarget = stm32g474xe\n"
		 "[firmware]\nfile = fw.bin\nsha256 = " FXT_ABC_SHA "\n"
		 "[program]\n%s[app_check]\nusb = 1209:0001\n", program);
	fxt_conf_write(rpath, text);
}

static struct fx_recipe *load(const char *program)
{
	struct fx_recipe *r = NULL;
	struct fx_err err;

	write_recipe(program);
	fx_err_clear(&err);
	if (fx_recipe_load(rpath, &r, NULL, &err))
		fail_msg("load: %s", err.msg);
	return r;
}

static void expect(const char *program, bool probe, enum fx_recipe_probe mode)
{
	struct fx_recipe *r = load(program);

	assert_int_equal(r->probe, probe);
	if (probe)
		assert_int_equal(r->probe_mode, mode);
	fx_recipe_free(r);
}

static void test_probe_defaults(void **state)
{
	(void)state;
	expect("", true, FX_RECIPE_PROBE_FLASH);
	expect("probe = on\n", true, FX_RECIPE_PROBE_FLASH);
	expect("entry = app\n", true, FX_RECIPE_PROBE_APP);
	expect("entry = app\nprobe = yes\n", true, FX_RECIPE_PROBE_APP);
}

static void test_probe_values(void **state)
{
	(void)state;
	expect("probe = flash\n", true, FX_RECIPE_PROBE_FLASH);
	expect("probe = app\n", true, FX_RECIPE_PROBE_APP);
	expect("entry = app\nprobe = app\n", true, FX_RECIPE_PROBE_APP);
	expect("probe = off\n", false, FX_RECIPE_PROBE_APP);
	expect("probe = NO\n", false, FX_RECIPE_PROBE_APP);
}

static void test_probe_errors(void **state)
{
	(void)state;
	write_recipe("entry = app\nprobe = flash\n");
	fxt_conf_expect_error(FX_CONF_RECIPE, rpath,
			      ":10: key 'probe': 'flash' needs entry = gpio (entry = app "
			      "asks the running application to jump: probe = app)");
	write_recipe("probe = hid\n");
	fxt_conf_expect_error(FX_CONF_RECIPE, rpath,
			      ":9: key 'probe': expected flash, app, on or off, got 'hid'");
}

static void test_skip_identical(void **state)
{
	struct fx_recipe *r;

	(void)state;
	r = load("");
	assert_false(r->skip_identical);
	fx_recipe_free(r);
	r = load("skip_identical = yes\n");
	assert_true(r->skip_identical);
	fx_recipe_free(r);
	write_recipe("skip_identical = sometimes\n");
	fxt_conf_expect_error(FX_CONF_RECIPE, rpath,
			      ":9: key 'skip_identical': expected on/off, yes/no, true/false or 1/0, got 'sometimes'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_defaults),
		cmocka_unit_test(test_probe_values),
		cmocka_unit_test(test_probe_errors),
		cmocka_unit_test(test_skip_identical),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

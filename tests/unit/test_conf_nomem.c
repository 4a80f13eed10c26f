/* test_conf_nomem.c - fault injection for the allocations of the recipe
 * and station loaders, file detection and the sim GPIO backend (STYLE 4,
 * SQLite-style "fail the Nth call"): the binary interposes the allocator
 * (tests/lib/nomem.h) and fails the Nth call, for every N until the operation succeeds. Each
 * failure must give FX_E_NOMEM with its message and leak nothing.
 * Interposing the allocator and ASan's interceptors exclude each other, so
 * the sanitizer build skips this suite (leaks are counted here instead). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fx/clock.h"
#include "fx/conf.h"
#include "fx/gpio.h"
#include "nomem.h"

#if !FXT_NOMEM_SUPPORTED

int main(void)
{
	return fxt_nomem_skip();
}

#else

FXT_NOMEM_INTERPOSE

/* One load under "fail the Nth allocation": returns true when it no
 * longer failed (every failure point seen). want_final: its result then. */
static bool load_once(const char *path, bool recipe, unsigned n, int want_final)
{
	struct fx_conf_diags d;
	struct fx_err err;
	char want[300];
	int rc;

	fx_err_clear(&err);
	fxt_nomem_arm(n);
	fx_conf_diags_init(&d);
	if (recipe) {
		struct fx_recipe *r = NULL;

		rc = fx_recipe_load(path, &r, &d, &err);
		fx_recipe_free(r);
	} else {
		struct fx_station *st = NULL;

		rc = fx_station_load(path, &st, &d, &err);
		fx_station_free(st);
	}
	fx_conf_diags_release(&d);
	/* a file with errors: its FX_E_CONFIG is the run's success */
	if (fxt_nomem_end(path, n, rc == want_final ? 0 : rc)) {
		assert_int_equal(rc, want_final);
		return true;
	}
	if (rc != FX_E_NOMEM)
		fail_msg("%s: allocation %u failed: got %s '%s'", path, n, fx_err_name(rc), err.msg);
	snprintf(want, sizeof(want), "out of memory %s '%s'",
		 strstr(err.msg, "reading") ? "reading" : strstr(err.msg, "parsing") ? "parsing" : "loading",
		 path);
	assert_string_equal(err.msg, want);
	return false;
}

static void every_failure(const char *path, bool recipe, int want_final)
{
	unsigned n;

	for (n = 1; n < 2000; n++)
		if (load_once(path, recipe, n, want_final)) {
			assert_true(n > 3);
			printf("%s: %u allocation failure points, all clean\n", path, n - 1);
			return;
		}
	fail_msg("%s: still failing after 2000 allocations", path);
}

static void test_recipe(void **state)
{
	(void)state;
	every_failure("tests/data/conf/recipe-full.ini", true, 0);
	every_failure("config/demo-g474.ini", true, 0);
}

static void test_station(void **state)
{
	(void)state;
	every_failure("tests/data/conf/station-real.ini", false, 0);
	every_failure("stations/emu-1slot.ini", false, 0);
}

/* files with errors: the diagnostics list allocates too */
static void test_errors_under_nomem(void **state)
{
	(void)state;
	every_failure("tests/data/conf/recipe-bad.ini", true, FX_E_CONFIG);
	every_failure("tests/data/conf/station-bad.ini", false, FX_E_CONFIG);
}

static void test_detect(void **state)
{
	enum fx_conf_kind k;
	struct fx_err err;
	unsigned n;
	int rc;

	(void)state;
	for (n = 1; n < 200; n++) {
		fxt_nomem_arm(n);
		rc = fx_conf_detect("stations/emu-1slot.ini", &k, &err);
		if (fxt_nomem_end("detect", n, rc)) {
			assert_int_equal(k, FX_CONF_STATION);
			return;
		}
		assert_int_equal(rc, FX_E_NOMEM);
		if (strcmp(err.msg, "out of memory reading 'stations/emu-1slot.ini'") &&
		    strcmp(err.msg, "out of memory parsing 'stations/emu-1slot.ini'"))
			fail_msg("detect: allocation %u: '%s'", n, err.msg);
	}
	fail_msg("detect still failing");
}

/* the sim backend: open, request, script, wait, history */
static int sim_scenario(struct fx_err *err)
{
	struct fx_vclock vc;
	struct fx_gpio *g = NULL;
	struct fx_gpio_line *led = NULL, *start = NULL;
	struct fx_gpio_line_cfg cfg;
	const struct fx_gpio_sim_change *h;
	size_t nh;
	int rc;

	fx_vclock_init(&vc);
	rc = fx_gpio_open("sim", &vc.base, &g, err);
	if (rc)
		return rc;
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.name, sizeof(cfg.name), "sim:LED");
	cfg.dir = FX_GPIO_OUTPUT;
	rc = fx_gpio_request(g, &cfg, &led, err);
	if (rc)
		goto out;
	snprintf(cfg.name, sizeof(cfg.name), "sim:START");
	cfg.dir = FX_GPIO_INPUT;
	cfg.debounce_ms = 10;
	rc = fx_gpio_request(g, &cfg, &start, err);
	if (!rc)
		rc = fx_gpio_sim_press(g, "sim:START", 1000, 50, 2, err);
	if (!rc)
		rc = fx_gpio_wait_edge(start, 1, 1000, NULL, err);
	if (!rc)
		rc = fx_gpio_set(led, 1, err);
	if (!rc)
		rc = fx_gpio_set(led, 0, err);
	if (!rc)
		rc = fx_gpio_sim_history(g, "sim:LED", &h, &nh, err);
	if (!rc && nh != 3)
		rc = FX_E_STATE;
out:
	fx_gpio_close(g); /* releases the lines still held */
	return rc;
}

static void test_gpio_sim(void **state)
{
	struct fx_err err;
	unsigned n;
	int rc;

	(void)state;
	for (n = 1; n < 500; n++) {
		fx_err_clear(&err);
		fxt_nomem_arm(n);
		rc = sim_scenario(&err);
		if (fxt_nomem_end("gpio sim", n, rc)) {
			printf("gpio sim: %u allocation failure points, all clean\n", n - 1);
			return;
		}
		if (rc != FX_E_NOMEM)
			fail_msg("gpio sim: allocation %u: got %s '%s'", n, fx_err_name(rc), err.msg);
		assert_non_null(strstr(err.msg, "out of memory"));
	}
	fail_msg("gpio sim still failing");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recipe),
		cmocka_unit_test(test_station),
		cmocka_unit_test(test_errors_under_nomem),
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_gpio_sim),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

#endif

/* test_conf_station.c - station files: the golden real and emulated
 * stations, defaults, and every error path with its exact message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf_fix.h"
#include "fx/conf.h"
#include "fx/gpio.h"

static char dir[256];
static char spath[512];

static int setup(void **state)
{
	(void)state;
	if (fxt_conf_mkdir(dir, sizeof(dir), "/tmp/fx-test-station-XXXXXX"))
		return -1;
	snprintf(spath, sizeof(spath), "%s/s.ini", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return fxt_conf_rmdir(dir);
}

/* The head of a valid real station (5 lines) + extra. */
#define HEAD "[station]\nname = s\ndatabase = s.db\nstart = gpiochip0:1\n[slot 1]\n"
#define SLOT1 "device = usb:1-1\nboot0 = gpiochip0:2\nnrst = gpiochip0:3\n"
/* The same, emulated */
#define SIMHEAD "[station]\nname = s\ndatabase = s.db\nstart = sim:START\n[slot 1]\n"
#define SIMSLOT1 "device = emu:b1.board\nboot0 = sim:B1\nnrst = sim:N1\n"

/* Write text as the station file and expect FX_E_CONFIG whose first
 * message is "<spath><where>". */
static void error_for(const char *text, const char *where)
{
	fxt_conf_write(spath, text);
	fxt_conf_expect_error(FX_CONF_STATION, spath, where);
}

static void test_golden_real(void **state)
{
	struct fx_station *st = NULL;
	const struct fx_station_slot *s;
	struct fx_err err;

	(void)state;
	assert_int_equal(fx_station_load("tests/data/conf/station-real.ini", &st, NULL, &err), 0);
	assert_string_equal(st->name, "jig-7");
	assert_string_equal(st->path, "tests/data/conf/station-real.ini");
	assert_string_equal(st->db_path, "tests/data/conf/db/jig-7.db");
	assert_string_equal(st->gpio_backend, "gpiod");
	assert_int_equal(st->debounce_ms, 25);
	assert_string_equal(st->start.name, "gpiochip0:17");
	assert_int_equal(st->start.dir, FX_GPIO_INPUT);
	assert_int_equal(st->start.flags, FX_GPIO_ACTIVE_LOW | FX_GPIO_PULL_UP);
	assert_int_equal(st->start.debounce_ms, 25);
	assert_string_equal(st->lid.name, "LID_SW");
	assert_int_equal(st->lid.flags, FX_GPIO_ACTIVE_LOW);
	assert_int_equal(st->lid.debounce_ms, 25);
	assert_string_equal(st->tower_green.name, "gpiochip1:GREEN");
	assert_int_equal(st->tower_green.dir, FX_GPIO_OUTPUT);
	assert_string_equal(st->tower_yellow.name, ""); /* not wired */
	assert_string_equal(st->tower_red.name, "gpiochip1:2");
	assert_string_equal(st->buzzer.name, "/dev/gpiochip1:3");
	assert_int_equal(st->buzzer.flags, FX_GPIO_OPEN_DRAIN);

	assert_int_equal(st->n_slots, 2);
	s = &st->slots[0]; /* sorted by index */
	assert_int_equal(s->index, 1);
	assert_string_equal(s->device, "usb:3-2");
	assert_false(s->emulated);
	assert_string_equal(s->board_path, "");
	assert_string_equal(s->boot0.name, "gpiochip0:22");
	assert_int_equal(s->boot0.dir, FX_GPIO_OUTPUT);
	assert_int_equal(s->boot0.initial, 0);
	assert_int_equal(s->nrst.initial, 1); /* not in reset */
	assert_int_equal(s->nrst.flags, FX_GPIO_OPEN_DRAIN | FX_GPIO_ACTIVE_LOW);
	assert_string_equal(s->power.name, "gpiochip0:24");
	assert_int_equal(s->power.initial, 0);
	assert_string_equal(s->led_busy.name, "gpiochip0:27");
	assert_int_equal(s->led_busy.initial, 0);
	assert_true(s->power_off_at_end); /* default with a power line */
	assert_int_equal(s->timing.power_on_ms, 100);
	assert_int_equal(s->timing.power_off_ms, 300);
	assert_int_equal(s->timing.nrst_pulse_ms, 15);
	assert_int_equal(s->timing.boot0_setup_ms, 0);

	s = fx_station_slot_find(st, 2);
	assert_ptr_equal(s, &st->slots[1]);
	assert_string_equal(s->device, "usb:1-1.4.2");
	assert_string_equal(s->power.name, "");
	assert_false(s->power_off_at_end);
	assert_string_equal(s->led_fail.name, "");
	assert_int_equal(s->timing.power_on_ms, 50); /* defaults */
	assert_int_equal(s->timing.power_off_ms, 200);
	assert_int_equal(s->timing.nrst_pulse_ms, 20);
	assert_int_equal(s->timing.boot0_setup_ms, 5);
	assert_null(fx_station_slot_find(st, 3));
	fx_station_free(st);
	fx_station_free(NULL);
}

static void test_golden_sim(void **state)
{
	struct fx_station *st = NULL;
	struct fx_err err;

	(void)state;
	assert_int_equal(fx_station_load("tests/data/conf/station-sim.ini", &st, NULL, &err), 0);
	assert_string_equal(st->gpio_backend, "sim");
	assert_string_equal(st->db_path, "/tmp/sim-1.db"); /* absolute kept */
	assert_int_equal(st->debounce_ms, 30);
	assert_int_equal(st->start.debounce_ms, 30);
	assert_string_equal(st->lid.name, "");
	assert_int_equal(st->n_slots, 1);
	assert_true(st->slots[0].emulated);
	assert_string_equal(st->slots[0].board_path, "tests/data/conf/boards/slot1.board");
	assert_string_equal(st->slots[0].device,
			    "emu:tests/data/conf/boards/slot1.board?boot_delay_ms=100");
	assert_false(st->slots[0].power_off_at_end); /* explicit no */
	fx_station_free(st);
}

static void test_errors_sections(void **state)
{
	(void)state;
	error_for(HEAD SLOT1 "[slot 0]\n",
		  ":9: section 'slot 0': expected [slot N] with N from 1 to 8");
	error_for(HEAD SLOT1 "[slot 9]\n",
		  ":9: section 'slot 9': expected [slot N] with N from 1 to 8");
	error_for(HEAD SLOT1 "[slot]\n", ":9: section 'slot': expected [slot N] with N from 1 to 8");
	error_for(HEAD SLOT1 "[slots 2]\n",
		  ":9: section 'slots 2': expected [slot N] with N from 1 to 8");
	error_for(HEAD SLOT1 "[slot x]\n", ":9: section 'slot x': expected [slot N] with N from 1 to 8");
	error_for(HEAD SLOT1 "[slot  1]\n", ":9: section 'slot  1': slot 1 defined twice");
	error_for(HEAD SLOT1 "[slot 1]\n", ":9: section 'slot 1': duplicate (first at line 5)");
	error_for(HEAD SLOT1 "[jig]\n",
		  ":9: section 'jig': unknown section (expected station or slot N)");
	error_for("[slot 1]\n" SLOT1, ": section 'station': missing");
	error_for("[station]\nname = s\ndatabase = s.db\nstart = gpiochip0:1\n",
		  ": no [slot N] section: a station has at least one slot");
	error_for("[station]\ndatabase = s.db\nstart = gpiochip0:1\n[slot 1]\n" SLOT1,
		  ":1: key 'name': missing in [station]");
	error_for("[station]\nname = s\nstart = gpiochip0:1\n[slot 1]\n" SLOT1,
		  ":1: key 'database': missing in [station]");
	error_for("[station]\nname = s\ndatabase = s.db\n[slot 1]\n" SLOT1,
		  ":1: key 'start': missing in [station]");
	error_for(HEAD "boot0 = gpiochip0:2\nnrst = gpiochip0:3\n",
		  ":5: key 'device': missing in [slot 1]");
	error_for(HEAD "device = usb:1-1\nnrst = gpiochip0:3\n",
		  ":5: key 'boot0': missing in [slot 1]");
	error_for(HEAD "device = usb:1-1\nboot0 = gpiochip0:2\n",
		  ":5: key 'nrst': missing in [slot 1]");
}

static void test_errors_keys(void **state)
{
	(void)state;
	error_for(HEAD SLOT1 "colour = red\n", ":9: key 'colour': unknown key in [slot 1]");
	error_for("[station]\nname = s\nplace = x\n", ":3: key 'place': unknown key in [station]");
	error_for(HEAD SLOT1 "nrst = gpiochip0:4\n", ":9: key 'nrst': duplicate (first set at line 8)");
	error_for("[station]\nname = jig 7\n",
		  ":2: key 'name': expected letters, digits, '.', '_' or '-', got 'jig 7'");
	error_for("[station]\ndatabase =\n", ":2: key 'database': expected a file path, got ''");
	error_for("[station]\ndebounce_ms = 1001\n",
		  ":2: key 'debounce_ms': expected a number from 0 to 1000, got '1001'");
	error_for(HEAD SLOT1 "power_on_ms = 10001\n",
		  ":9: key 'power_on_ms': expected a number from 0 to 10000, got '10001'");
	error_for(HEAD SLOT1 "nrst_pulse_ms = -5\n",
		  ":9: key 'nrst_pulse_ms': expected a number from 0 to 10000, got '-5'");
	error_for(HEAD SLOT1 "power_off_at_end = sometimes\n",
		  ":9: key 'power_off_at_end': expected on/off, yes/no, true/false or 1/0, got 'sometimes'");
	error_for(HEAD SLOT1 "power_off_at_end = yes\n",
		  ":9: key 'power_off_at_end': needs a 'power' line in [slot 1]");
}

static void test_errors_lines(void **state)
{
	(void)state;
	error_for("[station]\nstart =\n",
		  ":2: key 'start': expected a gpio line (e.g. gpiochip0:17 or sim:NAME), got ''");
	error_for("[station]\nstart = gpiochip0:17:3\n",
		  ":2: key 'start': line 'gpiochip0:17:3': expected CHIP:OFFSET, CHIP:NAME, NAME or sim:NAME");
	error_for("[station]\nstart = sim:\n",
		  ":2: key 'start': line 'sim:': expected CHIP:OFFSET, CHIP:NAME, NAME or sim:NAME");
	error_for("[station]\nstart = :4\n",
		  ":2: key 'start': line ':4': expected CHIP:OFFSET, CHIP:NAME, NAME or sim:NAME");
	{
		char text[256], where[256];

		snprintf(text, sizeof(text), "[station]\nstart = L%063d\n", 0);
		snprintf(where, sizeof(where),
			 ":2: key 'start': line 'L%063d': name too long (64 characters, limit 63)", 0);
		error_for(text, where);
	}
	error_for("[station]\nstart = gpiochip0:17 inverted\n",
		  ":2: key 'start': unknown flag 'inverted' (expected active-low, open-drain, open-source, pull-up, pull-down or bias-disable)");
	error_for("[station]\nstart = gpiochip0:17 open-drain\n",
		  ":2: key 'start': open-drain is for outputs only");
	error_for("[station]\nlid = gpiochip0:17 open-source\n",
		  ":2: key 'lid': open-source is for outputs only");
	error_for("[station]\nstart = gpiochip0:17 pull-up pull-down\n",
		  ":2: key 'start': pull-up, pull-down and bias-disable exclude each other");
	error_for("[station]\nbuzzer = gpiochip0:17 open-drain open-source\n",
		  ":2: key 'buzzer': open-drain and open-source exclude each other");
	/* one line, one use */
	error_for(HEAD SLOT1 "led_pass = gpiochip0:2\n",
		  ":9: key 'led_pass': line 'gpiochip0:2' already used by 'boot0' of [slot 1] (line 7)");
	error_for(HEAD SLOT1 "led_busy = gpiochip0:1 active-low\n",
		  ":9: key 'led_busy': line 'gpiochip0:1' already used by 'start' (line 4)");
	error_for(HEAD SLOT1 "[slot 2]\ndevice = usb:1-2\nboot0 = gpiochip0:3\n",
		  ":11: key 'boot0': line 'gpiochip0:3' already used by 'nrst' of [slot 1] (line 8)");
	/* one backend per station */
	error_for(HEAD SLOT1 "power = sim:P\n",
		  ":9: key 'power': line 'sim:P' is emulated but 'start' (line 4) is real: use sim: lines throughout or none");
	error_for(SIMHEAD SIMSLOT1 "led_pass = gpiochip0:4\n",
		  ":9: key 'led_pass': line 'gpiochip0:4' is real but 'start' (line 4) is emulated: use sim: lines throughout or none");
	error_for(HEAD "device = emu:b.board\nboot0 = gpiochip0:2\nnrst = gpiochip0:3\n",
		  ":6: key 'device': emu: boards need sim: gpio lines (the emulated gpio drives their pins)");
	error_for(SIMHEAD "device = usb:1-1\nboot0 = sim:B1\nnrst = sim:N1\n",
		  ":6: key 'device': usb: devices need real gpio lines, not sim: "
		  "(or 'emulator = fxemu' in [station] when build/fxemu emulates the boards)");
}

static void test_errors_device(void **state)
{
	static const char *const bad[] = {
		"usb:", "usb:1", "usb:1-", "usb:0-1", "usb:1-1..2", "usb:1-1.", "usb:1-a",
		"usb:serial=ABC", "com3", "",
	};
	char text[1024], where[1024];
	struct fx_station *st = NULL;
	struct fx_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), HEAD "device = %s\n", bad[i]);
		snprintf(where, sizeof(where),
			 ":6: key 'device': expected usb:PORTPATH (e.g. usb:1-1.4) or emu:FILE, got '%s'",
			 bad[i]);
		error_for(text, where);
	}
	error_for(SIMHEAD "device = emu:\n", ":6: key 'device': expected emu:FILE[?KNOBS], got 'emu:'");
	error_for(SIMHEAD "device = emu:?boot0=1\n",
		  ":6: key 'device': expected emu:FILE[?KNOBS], got 'emu:?boot0=1'");
	error_for(HEAD SLOT1 "[slot 2]\ndevice = usb:1-1\n",
		  ":10: key 'device': 'usb:1-1' already used by [slot 1] (line 6)");
	error_for(SIMHEAD SIMSLOT1 "[slot 3]\ndevice = emu:b1.board\n",
		  ":10: key 'device': 'emu:b1.board' already used by [slot 1] (line 6)");

	/* emu knobs are checked by libfxemu's parser */
	error_for(SIMHEAD "device = emu:b.board?nope=1\nboot0 = sim:B\nnrst = sim:N\n",
		  ":6: key 'device': knob 'nope': unknown knob");

	/* relative board paths resolve against the station file */
	fxt_conf_write(spath, SIMHEAD "device = emu:b.board?boot0=1\nboot0 = sim:B\nnrst = sim:N\n");
	assert_int_equal(fx_station_load(spath, &st, NULL, &err), 0);
	snprintf(text, sizeof(text), "%s/b.board", dir);
	assert_string_equal(st->slots[0].board_path, text);
	snprintf(text, sizeof(text), "emu:%s/b.board?boot0=1", dir);
	assert_string_equal(st->slots[0].device, text);
	fx_station_free(st);
}

static void test_errors_long_paths(void **state)
{
	char longpath[1100], text[512], where[1300];
	struct fx_station *st = NULL;
	struct fx_conf_diags d;
	struct fx_err err;
	size_t len;

	(void)state;
	len = fxt_conf_long_path(longpath, sizeof(longpath), dir, "s.ini");
	snprintf(text, sizeof(text), SIMHEAD "device = emu:%0150d\n", 0);
	fxt_conf_write(longpath, text);
	fx_conf_diags_init(&d);
	assert_int_equal(fx_station_load(longpath, &st, &d, &err), FX_E_CONFIG);
	snprintf(where, sizeof(where), "%s:6: key 'device': path too long (limit 1023 characters)",
		 longpath);
	assert_string_equal(d.msgs[0], where);
	fx_conf_diags_release(&d);
	/* the board path fits, "emu:" + path + knobs does not */
	snprintf(text, sizeof(text), SIMHEAD "device = emu:%0130d?boot0=1&boot0=1&boot0=1&boot0=1\n", 0);
	len -= 30;
	snprintf(longpath + len, sizeof(longpath) - len, "/s.ini");
	fxt_conf_write(longpath, text);
	fx_conf_diags_init(&d);
	assert_int_equal(fx_station_load(longpath, &st, &d, &err), FX_E_CONFIG);
	snprintf(where, sizeof(where), "%s:6: key 'device': path too long", longpath);
	assert_string_equal(d.msgs[0], where);
	fx_conf_diags_release(&d);
}

static void test_errors_collected(void **state)
{
	struct fx_station *st = NULL;
	struct fx_conf_diags d;
	struct fx_err err;

	(void)state;
	fxt_conf_write(spath, "[station]\nname = a b\nstart = x y\n[slot 1]\ndevice = com1\n");
	fx_conf_diags_init(&d);
	assert_int_equal(fx_station_load(spath, &st, &d, &err), FX_E_CONFIG);
	/* name, start flag, device, database missing, boot0 missing, nrst missing */
	assert_int_equal(d.n, 6);
	assert_null(st);
	fx_conf_diags_release(&d);

	assert_int_equal(fx_station_load("tests/data/conf/nope.ini", &st, NULL, &err), FX_E_FILE);
	assert_string_equal(err.msg, "tests/data/conf/nope.ini: cannot read: No such file or directory");
}

static void test_golden_errors(void **state)
{
	(void)state;
	/* every message, compared with its golden .err file */
	fxt_conf_golden_errors(FX_CONF_STATION, "tests/data/conf/station-bad.ini",
			       "tests/data/conf/station-bad.err");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_real),
		cmocka_unit_test(test_golden_sim),
		cmocka_unit_test(test_errors_sections),
		cmocka_unit_test(test_errors_keys),
		cmocka_unit_test(test_errors_lines),
		cmocka_unit_test(test_errors_device),
		cmocka_unit_test(test_errors_long_paths),
		cmocka_unit_test(test_errors_collected),
		cmocka_unit_test(test_golden_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

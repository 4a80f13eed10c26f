/* test_gpio_sim.c - the emulated GPIO backend through the public wrappers:
 * outputs reach the emulated board's pins, LED history, scripted and
 * injected START/LID changes, software debounce in virtual time, timeouts,
 * and that waiting sleeps to the next change instead of polling. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fx/clock.h"
#include "fx/emu.h"
#include "fx/gpio.h"

/* A virtual clock that counts its sleeps. */
struct cclock {
	struct fx_vclock vc;
	struct fx_clock base;
	unsigned sleeps;
};

static uint64_t cc_now(const struct fx_clock *c)
{
	const struct cclock *cc = (const struct cclock *)((const char *)c - offsetof(struct cclock, base));

	return cc->vc.base.now_us(&cc->vc.base);
}

static void cc_sleep(const struct fx_clock *c, uint64_t us)
{
	struct cclock *cc = (struct cclock *)((char *)c - offsetof(struct cclock, base));

	cc->sleeps++;
	cc->vc.base.sleep_us(&cc->vc.base, us);
}

struct fixture {
	struct cclock clk;
	struct fx_gpio *g;
};

static int setup(void **state)
{
	static struct fixture f;
	struct fx_err err;

	memset(&f, 0, sizeof(f));
	fx_vclock_init(&f.clk.vc);
	f.clk.base.now_us = cc_now;
	f.clk.base.sleep_us = cc_sleep;
	if (fx_gpio_open("sim", &f.clk.base, &f.g, &err))
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	fx_gpio_close(f->g);
	return 0;
}

static struct fx_gpio_line *req(struct fx_gpio *g, const char *name,
				enum fx_gpio_dir dir, int initial, unsigned deb)
{
	struct fx_gpio_line_cfg cfg;
	struct fx_gpio_line *l = NULL;
	struct fx_err err;

	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.name, sizeof(cfg.name), "%s", name);
	cfg.dir = dir;
	cfg.initial = initial;
	cfg.debounce_ms = deb;
	if (fx_gpio_request(g, &cfg, &l, &err))
		fail_msg("request %s: %s", name, err.msg);
	return l;
}

static uint64_t now(struct fixture *f)
{
	return fx_clock_now(&f->clk.base);
}

static void test_led_history(void **state)
{
	struct fixture *f = *state;
	const struct fx_gpio_sim_change *h;
	struct fx_gpio_line *led;
	struct fx_err err;
	size_t n;
	int v;

	led = req(f->g, "sim:PASS", FX_GPIO_OUTPUT, 0, 0);
	assert_string_equal(fx_gpio_line_name(led), "sim:PASS");
	fx_clock_sleep(&f->clk.base, 10000);
	assert_int_equal(fx_gpio_set(led, 1, &err), 0);
	assert_int_equal(fx_gpio_set(led, 7, &err), 0); /* any non-zero = 1, no change */
	fx_clock_sleep(&f->clk.base, 20000);
	assert_int_equal(fx_gpio_set(led, 0, &err), 0);
	assert_int_equal(fx_gpio_get(led, &v, &err), 0);
	assert_int_equal(v, 0);
	assert_int_equal(fx_gpio_sim_history(f->g, "sim:PASS", &h, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(h[0].t_us, 0);
	assert_int_equal(h[0].value, 0);
	assert_int_equal(h[1].t_us, 10000);
	assert_int_equal(h[1].value, 1);
	assert_int_equal(h[2].t_us, 30000);
	assert_int_equal(h[2].value, 0);
	assert_int_equal(fx_gpio_sim_level(f->g, "sim:PASS", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(fx_gpio_sim_level(f->g, "sim:NOPE", &v), FX_E_NOTFOUND);
	assert_int_equal(fx_gpio_sim_history(f->g, "sim:NOPE", &h, &n, &err), FX_E_NOTFOUND);
	assert_string_equal(err.msg, "line 'sim:NOPE': unknown to the simulator");
	/* an output cannot be waited on nor driven from outside */
	assert_int_equal(fx_gpio_wait_edge(led, 1, 10, NULL, &err), FX_E_INVAL);
	assert_string_equal(err.msg, "line 'sim:PASS': is an output, no edges");
	assert_int_equal(fx_gpio_sim_drive(f->g, "sim:PASS", 1, &err), FX_E_INVAL);
	assert_string_equal(err.msg, "line 'sim:PASS': is an output, cannot drive it");
	fx_gpio_release(led);
	fx_gpio_release(NULL);
}

static void test_pins_reach_board(void **state)
{
	struct fixture *f = *state;
	struct fx_gpio_line *boot0, *nrst, *power;
	struct fx_emu *board;
	struct fx_err err;

	board = fx_emu_new(NULL, &f->clk.base, &err);
	assert_non_null(board);
	/* attach before the request: the request's initial level is applied */
	assert_int_equal(fx_gpio_sim_attach(f->g, "sim:BOOT0", board, FX_GPIO_SIM_PIN_BOOT0, &err), 0);
	assert_int_equal(fx_gpio_sim_attach(f->g, "sim:POWER", board, FX_GPIO_SIM_PIN_POWER, &err), 0);
	boot0 = req(f->g, "sim:BOOT0", FX_GPIO_OUTPUT, 1, 0);
	power = req(f->g, "sim:POWER", FX_GPIO_OUTPUT, 0, 0);
	nrst = req(f->g, "sim:NRST", FX_GPIO_OUTPUT, 1, 0);
	assert_true(fx_emu_get_boot0(board));
	/* attach after the request: the current level is applied at once */
	assert_int_equal(fx_gpio_sim_attach(f->g, "sim:NRST", board, FX_GPIO_SIM_PIN_NRST, &err), 0);

	assert_int_equal(fx_gpio_set(power, 1, &err), 0);
	fx_clock_sleep(&f->clk.base, 1000000);
	assert_int_equal(fx_emu_poll(board), FX_EMU_BUS_DFU); /* ROM: BOOT0 high */
	assert_int_equal(fx_gpio_set(nrst, 0, &err), 0);       /* hold in reset */
	assert_int_equal(fx_emu_poll(board), FX_EMU_BUS_NONE);
	assert_int_equal(fx_gpio_set(boot0, 0, &err), 0);
	assert_false(fx_emu_get_boot0(board));
	assert_int_equal(fx_gpio_set(boot0, 1, &err), 0);
	assert_int_equal(fx_gpio_set(nrst, 1, &err), 0);
	fx_clock_sleep(&f->clk.base, 1000000);
	assert_int_equal(fx_emu_poll(board), FX_EMU_BUS_DFU);
	assert_int_equal(fx_gpio_set(power, 0, &err), 0);
	assert_int_equal(fx_emu_poll(board), FX_EMU_BUS_NONE);

	/* detach: the board no longer follows */
	assert_int_equal(fx_gpio_sim_attach(f->g, "sim:BOOT0", NULL, FX_GPIO_SIM_PIN_BOOT0, &err), 0);
	assert_int_equal(fx_gpio_set(boot0, 0, &err), 0);
	assert_true(fx_emu_get_boot0(board));

	assert_int_equal(fx_gpio_sim_attach(f->g, "sim:NRST", board, 99, &err), FX_E_INVAL);
	assert_string_equal(err.msg, "line 'sim:NRST': unknown board pin 99");
	fx_emu_free(board);
}

static void test_attach_input_refused(void **state)
{
	struct fixture *f = *state;
	struct fx_gpio_line *start;
	struct fx_err err;

	start = req(f->g, "sim:START", FX_GPIO_INPUT, 0, 0);
	assert_int_equal(fx_gpio_sim_attach(f->g, "sim:START", NULL, FX_GPIO_SIM_PIN_BOOT0, &err),
			 FX_E_INVAL);
	assert_string_equal(err.msg, "line 'sim:START': is an input, cannot drive a board pin");
	assert_int_equal(fx_gpio_set(start, 1, &err), FX_E_INVAL);
	assert_string_equal(err.msg, "line 'sim:START': is an input, cannot set it");
	fx_gpio_release(start);
	/* a line wired to a board pin cannot be requested as an input */
	assert_int_equal(fx_gpio_sim_attach(f->g, "sim:B", NULL, FX_GPIO_SIM_PIN_BOOT0, &err), 0);
	{
		struct fx_emu *board = fx_emu_new(NULL, &f->clk.base, &err);
		struct fx_gpio_line_cfg cfg;

		assert_int_equal(fx_gpio_sim_attach(f->g, "sim:B", board, FX_GPIO_SIM_PIN_BOOT0, &err), 0);
		memset(&cfg, 0, sizeof(cfg));
		snprintf(cfg.name, sizeof(cfg.name), "sim:B");
		cfg.dir = FX_GPIO_INPUT;
		assert_int_equal(fx_gpio_request(f->g, &cfg, &start, &err), FX_E_INVAL);
		assert_string_equal(err.msg, "line 'sim:B': drives a board pin, cannot be an input");
		assert_int_equal(fx_gpio_sim_drive(f->g, "sim:B", 1, &err), FX_E_INVAL);
		assert_string_equal(err.msg, "line 'sim:B': drives a board pin");
		fx_emu_free(board);
	}
}

static void test_debounced_press(void **state)
{
	struct fixture *f = *state;
	struct fx_gpio_line *start;
	struct fx_gpio_event ev;
	struct fx_err err;

	start = req(f->g, "sim:START", FX_GPIO_INPUT, 0, 30);
	/* pressed at 100 ms for 200 ms, 3 contact bounces at each end */
	assert_int_equal(fx_gpio_sim_press(f->g, "sim:START", 100000, 200, 3, &err), 0);
	assert_int_equal(fx_gpio_sim_pending(f->g), 14);
	assert_int_equal(fx_gpio_wait_edge(start, 1, 1000, &ev, &err), 0);
	assert_int_equal(ev.value, 1);
	assert_int_equal(ev.t_us, 106000);  /* last bounce */
	assert_int_equal(now(f), 136000);   /* + 30 ms settle */
	assert_int_equal(fx_gpio_wait_edge(start, 0, 1000, &ev, &err), 0);
	assert_int_equal(ev.value, 0);
	assert_int_equal(ev.t_us, 306000);
	assert_int_equal(now(f), 336000);
	assert_int_equal(fx_gpio_sim_pending(f->g), 0);
	/* nothing more: a bounded wait */
	assert_int_equal(fx_gpio_wait_edge(start, 1, 500, &ev, &err), FX_E_TIMEOUT);
	assert_string_equal(err.msg, "line 'sim:START': not active within 500 ms");
	assert_int_equal(now(f), 836000);
	fx_gpio_release(start);
}

static void test_glitch_ignored(void **state)
{
	struct fixture *f = *state;
	struct fx_gpio_line *start;
	struct fx_gpio_event ev;
	struct fx_err err;

	start = req(f->g, "sim:START", FX_GPIO_INPUT, 0, 30);
	/* a 10 ms glitch, then a real press at 400 ms */
	assert_int_equal(fx_gpio_sim_schedule(f->g, "sim:START", 100000, 1, &err), 0);
	assert_int_equal(fx_gpio_sim_schedule(f->g, "sim:START", 110000, 0, &err), 0);
	assert_int_equal(fx_gpio_sim_press(f->g, "sim:START", 400000, 100, 0, &err), 0);
	assert_int_equal(fx_gpio_wait_edge(start, 1, 1000, &ev, &err), 0);
	assert_int_equal(ev.t_us, 400000);
	assert_int_equal(now(f), 430000);
	fx_gpio_release(start);
}

static void test_want_falling_skips_rising(void **state)
{
	struct fixture *f = *state;
	struct fx_gpio_line *lid;
	struct fx_gpio_event ev;
	struct fx_err err;
	int v;

	/* LID closed before the request */
	assert_int_equal(fx_gpio_sim_drive(f->g, "sim:LID", 1, &err), 0);
	lid = req(f->g, "sim:LID", FX_GPIO_INPUT, 0, 0);
	assert_int_equal(fx_gpio_get(lid, &v, &err), 0);
	assert_int_equal(v, 1);
	/* opened at 50 ms, closed at 80 ms, opened at 200 ms */
	assert_int_equal(fx_gpio_sim_schedule(f->g, "sim:LID", 50000, 0, &err), 0);
	assert_int_equal(fx_gpio_sim_schedule(f->g, "sim:LID", 80000, 1, &err), 0);
	assert_int_equal(fx_gpio_sim_schedule(f->g, "sim:LID", 200000, 0, &err), 0);
	/* no debounce: every change counts */
	assert_int_equal(fx_gpio_wait_edge(lid, 1, 1000, &ev, &err), 0);
	assert_int_equal(ev.t_us, 80000);
	assert_int_equal(fx_gpio_wait_edge(lid, 0, 1000, &ev, &err), 0);
	assert_int_equal(ev.t_us, 200000);
	assert_int_equal(ev.value, 0);
	fx_gpio_release(lid);
}

static void test_injected_press(void **state)
{
	struct fixture *f = *state;
	struct fx_gpio_line *start;
	struct fx_gpio_event ev;
	struct fx_err err;

	start = req(f->g, "sim:START", FX_GPIO_INPUT, 0, 20);
	fx_clock_sleep(&f->clk.base, 5000);
	assert_int_equal(fx_gpio_sim_drive(f->g, "sim:START", 1, &err), 0);
	assert_int_equal(fx_gpio_wait_edge(start, 1, 100, &ev, &err), 0);
	assert_int_equal(ev.t_us, 5000);
	assert_int_equal(now(f), 25000);
	/* a press that began before the timeout ran out still settles */
	assert_int_equal(fx_gpio_sim_schedule(f->g, "sim:START", 120000, 0, &err), 0);
	assert_int_equal(fx_gpio_wait_edge(start, 0, 100, &ev, &err), 0);
	assert_int_equal(now(f), 140000);
	fx_gpio_release(start);
}

static void test_edge_driven_not_polling(void **state)
{
	struct fixture *f = *state;
	struct fx_gpio_line *start;
	struct fx_gpio_event ev;
	struct fx_err err;

	start = req(f->g, "sim:START", FX_GPIO_INPUT, 0, 30);
	assert_int_equal(fx_gpio_sim_press(f->g, "sim:START", 10000000, 300, 0, &err), 0);
	f->clk.sleeps = 0;
	assert_int_equal(fx_gpio_wait_edge(start, 1, 60000, &ev, &err), 0);
	assert_int_equal(ev.t_us, 10000000);
	/* one sleep to the press, one to the end of the settle time */
	assert_true(f->clk.sleeps <= 3);
	f->clk.sleeps = 0;
	assert_int_equal(fx_gpio_wait_edge(start, 1, 60000, &ev, &err), FX_E_TIMEOUT);
	assert_true(f->clk.sleeps <= 4);
	fx_gpio_release(start);
}

static void test_queued_press_and_flush(void **state)
{
	struct fixture *f = *state;
	struct fx_gpio_line *start, *led;
	struct fx_gpio_event ev;
	struct fx_err err;
	int v;

	start = req(f->g, "sim:START", FX_GPIO_INPUT, 0, 10);
	led = req(f->g, "sim:LED", FX_GPIO_OUTPUT, 0, 0);
	/* pressed while nobody waits (between two waits): not lost */
	assert_int_equal(fx_gpio_sim_press(f->g, "sim:START", 1000, 50, 0, &err), 0);
	fx_clock_sleep(&f->clk.base, 100000);
	assert_int_equal(fx_gpio_wait_edge(start, 1, 10, &ev, &err), 0);
	assert_int_equal(ev.t_us, 1000);
	assert_int_equal(fx_gpio_wait_edge(start, 0, 10, &ev, &err), 0);
	assert_int_equal(ev.t_us, 51000);
	/* pressed during a run: flushed before READY, so it starts nothing */
	assert_int_equal(fx_gpio_sim_press(f->g, "sim:START", 200000, 50, 1, &err), 0);
	fx_clock_sleep(&f->clk.base, 200000);
	assert_int_equal(fx_gpio_flush(start, &err), 0);
	assert_int_equal(fx_gpio_wait_edge(start, 1, 100, &ev, &err), FX_E_TIMEOUT);
	/* held down across the flush: only a new press counts */
	assert_int_equal(fx_gpio_sim_drive(f->g, "sim:START", 1, &err), 0);
	assert_int_equal(fx_gpio_flush(start, &err), 0);
	assert_int_equal(fx_gpio_get(start, &v, &err), 0);
	assert_int_equal(v, 1);
	assert_int_equal(fx_gpio_wait_edge(start, 1, 100, &ev, &err), FX_E_TIMEOUT);
	assert_int_equal(fx_gpio_sim_drive(f->g, "sim:START", 0, &err), 0);
	/* released and pressed again within the debounce time: a bounce */
	assert_int_equal(fx_gpio_sim_schedule(f->g, "sim:START", now(f) + 5000, 1, &err), 0);
	assert_int_equal(fx_gpio_wait_edge(start, 1, 100, &ev, &err), FX_E_TIMEOUT);
	/* a real release and press */
	assert_int_equal(fx_gpio_sim_drive(f->g, "sim:START", 0, &err), 0);
	assert_int_equal(fx_gpio_sim_schedule(f->g, "sim:START", now(f) + 50000, 1, &err), 0);
	assert_int_equal(fx_gpio_wait_edge(start, 1, 100, &ev, &err), 0);
	assert_int_equal(fx_gpio_flush(led, &err), FX_E_INVAL);
	assert_string_equal(err.msg, "line 'sim:LED': is an output, no edges");
	fx_gpio_release(start);
	fx_gpio_release(led);
}

static void test_request_errors(void **state)
{
	struct fixture *f = *state;
	struct fx_gpio_line_cfg cfg;
	struct fx_gpio_line *l = NULL, *l2 = NULL;
	struct fx_err err;

	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.name, sizeof(cfg.name), "sim:LED");
	cfg.dir = FX_GPIO_OUTPUT;
	assert_int_equal(fx_gpio_request(f->g, &cfg, &l, &err), 0);
	assert_int_equal(fx_gpio_request(f->g, &cfg, &l2, &err), FX_E_BUSY);
	assert_string_equal(err.msg, "line 'sim:LED': already requested");
	assert_null(l2);
	snprintf(cfg.name, sizeof(cfg.name), "gpiochip0:4");
	assert_int_equal(fx_gpio_request(f->g, &cfg, &l2, &err), FX_E_CONFIG);
	assert_string_equal(err.msg, "line 'gpiochip0:4': not a sim line");
	snprintf(cfg.name, sizeof(cfg.name), "sim:bad name");
	assert_int_equal(fx_gpio_request(f->g, &cfg, &l2, &err), FX_E_CONFIG);
	assert_string_equal(err.msg,
			    "line 'sim:bad name': expected CHIP:OFFSET, CHIP:NAME, NAME or sim:NAME");
	snprintf(cfg.name, sizeof(cfg.name), "sim:IN");
	cfg.dir = FX_GPIO_INPUT;
	cfg.flags = FX_GPIO_OPEN_DRAIN;
	assert_int_equal(fx_gpio_request(f->g, &cfg, &l2, &err), FX_E_CONFIG);
	assert_string_equal(err.msg, "line 'sim:IN': open-drain is for outputs only");
	assert_int_equal(fx_gpio_request(f->g, NULL, &l2, &err), FX_E_INVAL);
	/* release, then it can be requested again */
	fx_gpio_release(l);
	snprintf(cfg.name, sizeof(cfg.name), "sim:LED");
	cfg.dir = FX_GPIO_OUTPUT;
	cfg.flags = 0;
	assert_int_equal(fx_gpio_request(f->g, &cfg, &l, &err), 0);
	/* left held: fx_gpio_close() in teardown releases it */
}

static void test_script_errors(void **state)
{
	struct fixture *f = *state;
	struct fx_gpio *gd = NULL;
	struct fx_err err;
	int v;

	fx_clock_sleep(&f->clk.base, 1000);
	assert_int_equal(fx_gpio_sim_schedule(f->g, "sim:START", 999, 1, &err), FX_E_INVAL);
	assert_string_equal(err.msg, "line 'sim:START': change at 999 us is in the past (now 1000 us)");
	assert_int_equal(fx_gpio_sim_press(f->g, "sim:START", 5000, 4, 2, &err), FX_E_INVAL);
	assert_string_equal(err.msg, "line 'sim:START': hold 4 ms too short for 2 bounces");
	assert_int_equal(fx_gpio_sim_drive(f->g, "START", 1, &err), FX_E_CONFIG);
	assert_string_equal(err.msg, "line 'START': sim lines start with 'sim:'");
	assert_int_equal(fx_gpio_sim_drive(f->g, "sim:A B", 1, &err), FX_E_CONFIG);

	/* the sim API on another backend */
	assert_int_equal(fx_gpio_open("gpiod", &f->clk.base, &gd, &err), 0);
	assert_int_equal(fx_gpio_sim_drive(gd, "sim:START", 1, &err), FX_E_NOTSUP);
	assert_string_equal(err.msg, "not an emulated (sim) gpio instance");
	assert_int_equal(fx_gpio_sim_attach(gd, "sim:B", NULL, FX_GPIO_SIM_PIN_BOOT0, &err), FX_E_NOTSUP);
	assert_int_equal(fx_gpio_sim_schedule(gd, "sim:B", 5000, 1, &err), FX_E_NOTSUP);
	assert_int_equal(fx_gpio_sim_press(gd, "sim:B", 5000, 10, 0, &err), FX_E_NOTSUP);
	assert_int_equal(fx_gpio_sim_level(gd, "sim:B", &v), FX_E_NOTSUP);
	assert_int_equal(fx_gpio_sim_pending(gd), 0);
	fx_gpio_close(gd);
	fx_gpio_close(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_led_history, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pins_reach_board, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attach_input_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_debounced_press, setup, teardown),
		cmocka_unit_test_setup_teardown(test_glitch_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_want_falling_skips_rising, setup, teardown),
		cmocka_unit_test_setup_teardown(test_injected_press, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edge_driven_not_polling, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queued_press_and_flush, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_script_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

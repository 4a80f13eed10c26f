/* test_gpio_gpiod_fake.c - the libgpiod backend's own logic against a fake
 * libgpiod 1.6: the test binary defines the gpiod_* functions that
 * gpio_gpiod.c calls, so they take precedence over the shared library.
 * The fake keeps one chip "gpiochip0" of 32 lines (offset 17 is named
 * START_BTN, offset 30 is held by another consumer) and delivers edge
 * events in virtual time. Checked: how names are looked up, request
 * type/flags/consumer/default value, that lines stay requested until
 * released, chips are opened once and closed, error mapping (busy, no
 * such line, permission, refused flags), debounced edges through
 * gpiod_line_event_wait, and that waits sleep in bounded slices.
 * (What only a kernel can show - real pins, bias - is test_gpio_gpiod's
 * skipped test.) */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <gpiod.h>

#include "fx/clock.h"
#include "fx/gpio.h"

#define NLINES 32

struct gpiod_line {
	struct gpiod_chip *chip;
	unsigned offset;
	char name[32];
	bool requested;
	char consumer[32];
	int type, flags;
	int value;
	struct {
		uint64_t t_us;
		int rising;
	} ev[32];
	size_t ev_head, ev_n;
};

struct gpiod_chip {
	const char *name;
	int opens;
	struct gpiod_line lines[NLINES];
};

static struct gpiod_chip chip0;
static struct fx_vclock vclk;
static int request_errno;      /* next gpiod_line_request fails with it */
static unsigned wait_calls;
static uint64_t longest_wait_us;

static void fake_reset(void)
{
	unsigned i;

	memset(&chip0, 0, sizeof(chip0));
	chip0.name = "gpiochip0";
	for (i = 0; i < NLINES; i++) {
		chip0.lines[i].chip = &chip0;
		chip0.lines[i].offset = i;
		snprintf(chip0.lines[i].name, sizeof(chip0.lines[i].name), "L%u", i);
	}
	snprintf(chip0.lines[17].name, sizeof(chip0.lines[17].name), "START_BTN");
	chip0.lines[30].requested = true;
	snprintf(chip0.lines[30].consumer, sizeof(chip0.lines[30].consumer), "sysfs");
	fx_vclock_init(&vclk);
	request_errno = 0;
	wait_calls = 0;
	longest_wait_us = 0;
}

static void fake_edge(unsigned off, uint64_t t_us, int rising)
{
	struct gpiod_line *l = &chip0.lines[off];

	l->ev[l->ev_n].t_us = t_us;
	l->ev[l->ev_n].rising = rising;
	l->ev_n++;
}

/* ---- the fake libgpiod 1.6 ---------------------------------------------- */

struct gpiod_chip *gpiod_chip_open_lookup(const char *descr)
{
	if (!strcmp(descr, "gpiochip0") || !strcmp(descr, "/dev/gpiochip0") ||
	    !strcmp(descr, "0")) {
		chip0.opens++;
		return &chip0;
	}
	errno = !strcmp(descr, "gpiodenied") ? EACCES : ENOENT;
	return NULL;
}

void gpiod_chip_close(struct gpiod_chip *chip)
{
	chip->opens--;
}

unsigned int gpiod_chip_num_lines(struct gpiod_chip *chip)
{
	(void)chip;
	return NLINES;
}

struct gpiod_line *gpiod_chip_get_line(struct gpiod_chip *chip, unsigned int offset)
{
	if (offset >= NLINES) {
		errno = EINVAL;
		return NULL;
	}
	return &chip->lines[offset];
}

struct gpiod_line *gpiod_chip_find_line(struct gpiod_chip *chip, const char *name)
{
	unsigned i;

	for (i = 0; i < NLINES; i++)
		if (!strcmp(chip->lines[i].name, name))
			return &chip->lines[i];
	errno = ENOENT;
	return NULL;
}

struct gpiod_line *gpiod_line_find(const char *name)
{
	struct gpiod_line *l = gpiod_chip_find_line(&chip0, name);

	if (l)
		chip0.opens++; /* the line comes with its own chip handle */
	return l;
}

void gpiod_line_close_chip(struct gpiod_line *line)
{
	line->chip->opens--;
}

int gpiod_line_request(struct gpiod_line *line,
		       const struct gpiod_line_request_config *config, int default_val)
{
	if (request_errno) {
		errno = request_errno;
		request_errno = 0;
		return -1;
	}
	if (line->requested) {
		errno = EBUSY;
		return -1;
	}
	line->requested = true;
	snprintf(line->consumer, sizeof(line->consumer), "%s", config->consumer);
	line->type = config->request_type;
	line->flags = config->flags;
	if (config->request_type == GPIOD_LINE_REQUEST_DIRECTION_OUTPUT)
		line->value = default_val;
	return 0;
}

int gpiod_line_update(struct gpiod_line *line)
{
	(void)line;
	return 0;
}

const char *gpiod_line_consumer(struct gpiod_line *line)
{
	return line->consumer[0] ? line->consumer : NULL;
}

void gpiod_line_release(struct gpiod_line *line)
{
	line->requested = false;
	line->consumer[0] = '\0';
}

int gpiod_line_get_value(struct gpiod_line *line)
{
	if (!line->requested) {
		errno = EPERM;
		return -1;
	}
	return line->value;
}

int gpiod_line_set_value(struct gpiod_line *line, int value)
{
	if (!line->requested || line->type != GPIOD_LINE_REQUEST_DIRECTION_OUTPUT) {
		errno = EPERM;
		return -1;
	}
	line->value = value;
	return 0;
}

int gpiod_line_event_wait(struct gpiod_line *line, const struct timespec *timeout)
{
	uint64_t tmo = (uint64_t)timeout->tv_sec * 1000000u + (uint64_t)timeout->tv_nsec / 1000u;
	uint64_t now = vclk.base.now_us(&vclk.base);

	wait_calls++;
	if (tmo > longest_wait_us)
		longest_wait_us = tmo;
	if (line->ev_head < line->ev_n && line->ev[line->ev_head].t_us <= now + tmo) {
		fx_clock_sleep_until(&vclk.base, line->ev[line->ev_head].t_us);
		return 1;
	}
	fx_clock_sleep(&vclk.base, tmo);
	return 0;
}

int gpiod_line_event_read(struct gpiod_line *line, struct gpiod_line_event *event)
{
	if (line->ev_head == line->ev_n) {
		errno = EAGAIN;
		return -1;
	}
	memset(event, 0, sizeof(*event));
	{
		/* stamped like the kernel: CLOCK_MONOTONIC when it happened */
		struct timespec mono;
		uint64_t age = vclk.base.now_us(&vclk.base) - line->ev[line->ev_head].t_us;
		int64_t ns;

		clock_gettime(CLOCK_MONOTONIC, &mono);
		ns = (int64_t)mono.tv_sec * 1000000000 + mono.tv_nsec - (int64_t)age * 1000;
		event->ts.tv_sec = (time_t)(ns / 1000000000);
		event->ts.tv_nsec = (long)(ns % 1000000000);
	}
	event->event_type = line->ev[line->ev_head].rising ? GPIOD_LINE_EVENT_RISING_EDGE
							    : GPIOD_LINE_EVENT_FALLING_EDGE;
	line->value = line->ev[line->ev_head].rising;
	line->ev_head++;
	return 0;
}

/* ---- tests --------------------------------------------------------------- */

static int setup(void **state)
{
	struct fx_gpio *g = NULL;
	struct fx_err err;

	fake_reset();
	if (fx_gpio_open("gpiod", &vclk.base, &g, &err))
		return -1;
	*state = g;
	return 0;
}

static int teardown(void **state)
{
	fx_gpio_close(*state);
	/* every chip handle given back */
	return chip0.opens == 0 ? 0 : -1;
}

static int request(struct fx_gpio *g, const char *name, enum fx_gpio_dir dir,
		   unsigned flags, int initial, struct fx_gpio_line **l,
		   struct fx_err *err)
{
	struct fx_gpio_line_cfg cfg;

	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.name, sizeof(cfg.name), "%s", name);
	cfg.dir = dir;
	cfg.flags = flags;
	cfg.initial = initial;
	cfg.debounce_ms = 20;
	return fx_gpio_request(g, &cfg, l, err);
}

static void test_output_request_held(void **state)
{
	struct fx_gpio *g = *state;
	struct fx_gpio_line *nrst = NULL, *boot0 = NULL;
	struct gpiod_line *fl = &chip0.lines[5];
	struct fx_err err;
	int v;

	assert_int_equal(request(g, "gpiochip0:5", FX_GPIO_OUTPUT,
				 FX_GPIO_OPEN_DRAIN | FX_GPIO_ACTIVE_LOW, 1, &nrst, &err), 0);
	assert_true(fl->requested);
	assert_string_equal(fl->consumer, "fixturectl");
	assert_int_equal(fl->type, GPIOD_LINE_REQUEST_DIRECTION_OUTPUT);
	assert_int_equal(fl->flags, GPIOD_LINE_REQUEST_FLAG_OPEN_DRAIN | GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW);
	assert_int_equal(fl->value, 1); /* default value = initial, logical */
	assert_int_equal(fx_gpio_set(nrst, 0, &err), 0);
	assert_int_equal(fl->value, 0);
	assert_int_equal(fx_gpio_get(nrst, &v, &err), 0);
	assert_int_equal(v, 0);
	/* a second line on the same chip: the chip is opened once */
	assert_int_equal(request(g, "/dev/gpiochip0:6", FX_GPIO_OUTPUT, 0, 0, &boot0, &err), 0);
	assert_int_equal(chip0.opens, 2); /* "gpiochip0" and "/dev/gpiochip0" */
	assert_int_equal(request(g, "gpiochip0:7", FX_GPIO_OUTPUT, 0, 0, &boot0, &err), 0);
	assert_int_equal(chip0.opens, 2);
	/* held until released */
	assert_true(fl->requested);
	fx_gpio_release(nrst);
	assert_false(fl->requested);
}

static void test_flag_mapping(void **state)
{
	static const struct {
		unsigned fx;
		int gpiod;
		enum fx_gpio_dir dir;
	} map[] = {
		{ FX_GPIO_PULL_UP, GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP, FX_GPIO_INPUT },
		{ FX_GPIO_PULL_DOWN, GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN, FX_GPIO_INPUT },
		{ FX_GPIO_BIAS_DISABLE, GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE, FX_GPIO_INPUT },
		{ FX_GPIO_OPEN_SOURCE, GPIOD_LINE_REQUEST_FLAG_OPEN_SOURCE, FX_GPIO_OUTPUT },
		{ FX_GPIO_ACTIVE_LOW | FX_GPIO_PULL_UP,
		  GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW | GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP,
		  FX_GPIO_INPUT },
	};
	struct fx_gpio *g = *state;
	struct fx_gpio_line *l;
	struct fx_err err;
	char name[32];
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		snprintf(name, sizeof(name), "gpiochip0:%zu", i + 1);
		assert_int_equal(request(g, name, map[i].dir, map[i].fx, 0, &l, &err), 0);
		assert_int_equal(chip0.lines[i + 1].flags, map[i].gpiod);
		assert_int_equal(chip0.lines[i + 1].type,
				 map[i].dir == FX_GPIO_INPUT ? GPIOD_LINE_REQUEST_EVENT_BOTH_EDGES
							     : GPIOD_LINE_REQUEST_DIRECTION_OUTPUT);
		fx_gpio_release(l);
	}
}

static void test_lookup_by_name(void **state)
{
	struct fx_gpio *g = *state;
	struct fx_gpio_line *l = NULL;
	struct fx_err err;

	/* bare name: the line brings its own chip, closed at release */
	assert_int_equal(request(g, "START_BTN", FX_GPIO_INPUT, FX_GPIO_ACTIVE_LOW, 0, &l, &err), 0);
	assert_true(chip0.lines[17].requested);
	assert_int_equal(chip0.opens, 1);
	fx_gpio_release(l);
	assert_int_equal(chip0.opens, 0);
	/* name on a given chip */
	assert_int_equal(request(g, "gpiochip0:START_BTN", FX_GPIO_INPUT, 0, 0, &l, &err), 0);
	assert_true(chip0.lines[17].requested);
	fx_gpio_release(l);

	assert_int_equal(request(g, "gpiochip0:NOPE", FX_GPIO_INPUT, 0, 0, &l, &err), FX_E_NOTFOUND);
	assert_string_equal(err.msg, "line 'gpiochip0:NOPE': no line of this name on 'gpiochip0'");
	assert_int_equal(request(g, "gpiochip0:40", FX_GPIO_INPUT, 0, 0, &l, &err), FX_E_NOTFOUND);
	assert_string_equal(err.msg, "line 'gpiochip0:40': offset 40 out of range (chip has 32 lines)");
	assert_int_equal(request(g, "NOPE", FX_GPIO_INPUT, 0, 0, &l, &err), FX_E_NOTFOUND);
	assert_string_equal(err.msg, "line 'NOPE': no gpio line has this name");
	assert_int_equal(request(g, "gpiochip3:1", FX_GPIO_INPUT, 0, 0, &l, &err), FX_E_NOTFOUND);
	assert_string_equal(err.msg, "line 'gpiochip3:1': gpio chip 'gpiochip3': not found");
	assert_int_equal(request(g, "gpiodenied:1", FX_GPIO_INPUT, 0, 0, &l, &err), FX_E_GPIO);
	assert_string_equal(err.msg, "line 'gpiodenied:1': gpio chip 'gpiodenied': Permission denied");
	assert_int_equal(err.sys_errno, EACCES);
}

static void test_request_errors(void **state)
{
	struct fx_gpio *g = *state;
	struct fx_gpio_line *l = NULL;
	struct fx_err err;

	assert_int_equal(request(g, "gpiochip0:30", FX_GPIO_OUTPUT, 0, 0, &l, &err), FX_E_BUSY);
	assert_string_equal(err.msg, "line 'gpiochip0:30': busy (used by 'sysfs')");
	assert_int_equal(err.sys_errno, EBUSY);
	/* busy by bare name: its own chip is closed again */
	snprintf(chip0.lines[30].name, sizeof(chip0.lines[30].name), "RELAY");
	assert_int_equal(chip0.opens, 1); /* the instance's cached gpiochip0 */
	assert_int_equal(request(g, "RELAY", FX_GPIO_OUTPUT, 0, 0, &l, &err), FX_E_BUSY);
	assert_int_equal(chip0.opens, 1);
	request_errno = EINVAL;
	assert_int_equal(request(g, "gpiochip0:6", FX_GPIO_INPUT, FX_GPIO_BIAS_DISABLE, 0, &l, &err),
			 FX_E_NOTSUP);
	assert_string_equal(err.msg, "line 'gpiochip0:6': the kernel refused the flags: Invalid argument");
	request_errno = EIO;
	assert_int_equal(request(g, "gpiochip0:6", FX_GPIO_INPUT, 0, 0, &l, &err), FX_E_GPIO);
	assert_string_equal(err.msg, "line 'gpiochip0:6': request: Input/output error");
	assert_false(chip0.lines[6].requested);
	/* requesting the same line twice in one instance */
	assert_int_equal(request(g, "gpiochip0:6", FX_GPIO_INPUT, 0, 0, &l, &err), 0);
	assert_int_equal(request(g, "gpiochip0:6", FX_GPIO_INPUT, 0, 0, &l, &err), FX_E_BUSY);
	assert_string_equal(err.msg, "line 'gpiochip0:6': already requested");
}

static void test_debounced_edges(void **state)
{
	struct fx_gpio *g = *state;
	struct fx_gpio_line *start = NULL;
	struct fx_gpio_event ev;
	struct fx_err err;

	assert_int_equal(request(g, "gpiochip0:17", FX_GPIO_INPUT,
				 FX_GPIO_ACTIVE_LOW | FX_GPIO_PULL_UP, 0, &start, &err), 0);
	/* a press with two bounces, then the release */
	fake_edge(17, 100000, 1);
	fake_edge(17, 102000, 0);
	fake_edge(17, 104000, 1);
	fake_edge(17, 400000, 0);
	assert_int_equal(fx_gpio_wait_edge(start, 1, 1000, &ev, &err), 0);
	assert_int_equal(ev.value, 1);
	assert_int_equal(ev.t_us, 104000);
	assert_int_equal(fx_clock_now(&vclk.base), 124000); /* 20 ms settle */
	assert_int_equal(fx_gpio_wait_edge(start, 0, 1000, &ev, &err), 0);
	assert_int_equal(ev.t_us, 400000);
	/* nothing more: waits in slices of at most 50 ms, never spins */
	wait_calls = 0;
	longest_wait_us = 0;
	assert_int_equal(fx_gpio_wait_edge(start, 1, 200, &ev, &err), FX_E_TIMEOUT);
	assert_string_equal(err.msg, "line 'gpiochip0:17': not active within 200 ms");
	assert_int_equal(wait_calls, 4);
	assert_int_equal(longest_wait_us, 50000);
	/* a glitch shorter than the debounce time is no press */
	fake_edge(17, fx_clock_now(&vclk.base) + 1000, 1);
	fake_edge(17, fx_clock_now(&vclk.base) + 5000, 0);
	assert_int_equal(fx_gpio_wait_edge(start, 1, 100, &ev, &err), FX_E_TIMEOUT);
}

static void test_queued_events_and_flush(void **state)
{
	struct fx_gpio *g = *state;
	struct fx_gpio_line *start = NULL;
	struct fx_gpio_event ev;
	struct fx_err err;
	uint64_t t;

	assert_int_equal(request(g, "gpiochip0:17", FX_GPIO_INPUT, 0, 0, &start, &err), 0);
	/* a press already queued in the kernel when the wait begins */
	fake_edge(17, 1000, 1);
	fx_clock_sleep(&vclk.base, 5000);
	assert_int_equal(fx_gpio_wait_edge(start, 1, 0, &ev, &err), 0); /* even with 0 ms */
	fake_edge(17, 6000, 0);
	fake_edge(17, 7000, 1);
	fx_clock_sleep(&vclk.base, 5000);
	/* flush: both events read, no wait, level taken as settled */
	t = fx_clock_now(&vclk.base);
	assert_int_equal(fx_gpio_flush(start, &err), 0);
	assert_int_equal(chip0.lines[17].ev_head, chip0.lines[17].ev_n);
	assert_int_equal(fx_clock_now(&vclk.base), t); /* never waits */
	assert_int_equal(fx_gpio_wait_edge(start, 1, 100, &ev, &err), FX_E_TIMEOUT);

	/* press and release both queued while nobody waited: each keeps its
	 * kernel time, so the 20 ms debounce sees a 50 ms press, not a bounce */
	t = fx_clock_now(&vclk.base);
	fake_edge(17, t + 1000, 0);   /* the held button released */
	fake_edge(17, t + 40000, 1);  /* pressed */
	fake_edge(17, t + 90000, 0);  /* released */
	fx_clock_sleep(&vclk.base, 150000);
	assert_int_equal(fx_gpio_wait_edge(start, 1, 0, &ev, &err), 0);
	assert_int_equal(ev.t_us, t + 40000);
	assert_int_equal(fx_gpio_wait_edge(start, 0, 0, &ev, &err), 0);
	assert_int_equal(ev.t_us, t + 90000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_output_request_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flag_mapping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookup_by_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_debounced_edges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queued_events_and_flush, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_seq_station.c - the station runtime's error paths (exact code and
 * message), demo boards, LEDs and tower, bad jobs. Virtual time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf_fix.h"
#include "seq_fix.h"

#include "fx/conf.h"
#include "fx/emu.h"
#include "fx/gpio.h"
#include "fx/seq.h"
#include "fx/store.h"

static int setup(void **state)
{
	struct fxt_seq *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	fxt_seq_init(f, "/tmp/fxseqst.XXXXXX");
	/* no power line: the board is powered at open */
	fxt_seq_station(f, "st", false, true);
	fxt_station_line(&f->st.tower_green, "sim:GREEN", FX_GPIO_OUTPUT, 0);
	fxt_station_line(&f->st.tower_yellow, "sim:YELLOW", FX_GPIO_OUTPUT, 0);
	fxt_station_line(&f->st.tower_red, "sim:RED", FX_GPIO_OUTPUT, 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fxt_seq_close(*state);
	free(*state);
	return 0;
}

static void test_bad_knobs(void **state)
{
	struct fxt_seq *f = *state;
	struct fx_seq_station *s = NULL;

	snprintf(f->st.slots[0].device, sizeof(f->st.slots[0].device), "emu:%s?shiny=1",
		 f->board);
	assert_int_equal(fx_seq_station_open(&f->st, &f->vc.base, &s, &f->err), FX_E_CONFIG);
	assert_null(s);
	assert_string_equal(f->err.msg, "slot 1: knob 'shiny': unknown knob");
}

static void test_bad_board_file(void **state)
{
	struct fxt_seq *f = *state;
	struct fx_seq_station *s = NULL;
	char want[256];
	FILE *fp = fopen(f->board, "wb");

	assert_non_null(fp);
	fputs("this is not a board", fp);
	fclose(fp);
	assert_int_equal(fx_seq_station_open(&f->st, &f->vc.base, &s, &f->err), FX_E_FILE);
	snprintf(want, sizeof(want),
		 "board file '%s': not an emulated board file (bad magic)", f->board);
	assert_string_equal(f->err.msg, want);
}

static void test_boot0_not_wired(void **state)
{
	struct fxt_seq *f = *state;
	struct fx_seq_station *s = NULL;

	f->st.slots[0].boot0.name[0] = '\0';
	assert_int_equal(fx_seq_station_open(&f->st, &f->vc.base, &s, &f->err), FX_E_CONFIG);
	assert_string_equal(f->err.msg, "slot 1: boot0 and nrst must be wired");
}

static void test_line_used_twice(void **state)
{
	struct fxt_seq *f = *state;
	struct fx_seq_station *s = NULL;

	fxt_station_line(&f->st.slots[0].led_pass, "sim:BOOT0_1", FX_GPIO_OUTPUT, 0);
	assert_int_equal(fx_seq_station_open(&f->st, &f->vc.base, &s, &f->err), FX_E_BUSY);
	assert_string_equal(f->err.msg, "line 'sim:BOOT0_1': already requested");
}

static void test_no_slots(void **state)
{
	struct fxt_seq *f = *state;
	struct fx_seq_station *s = NULL;

	f->st.n_slots = 0;
	assert_int_equal(fx_seq_station_open(&f->st, &f->vc.base, &s, &f->err), FX_E_INVAL);
	assert_string_equal(f->err.msg, "station: bad arguments");
}

static void test_slot_lookup_tower_save(void **state)
{
	struct fxt_seq *f = *state;
	struct fx_seq_station *s = NULL;
	struct fx_seq_slot *sl;
	int v = -1;

	assert_int_equal(fx_seq_station_open(&f->st, &f->vc.base, &s, &f->err), 0);
	assert_null(fx_seq_station_slot(s, 2));
	sl = fx_seq_station_slot(s, 1);
	assert_ptr_equal(sl, fx_seq_station_first(s));
	assert_ptr_equal(fx_seq_slot_conf(sl), &f->st.slots[0]);
	assert_ptr_equal(fx_seq_station_conf(s), &f->st);
	assert_ptr_equal(fx_seq_station_clock(s), &f->vc.base);
	assert_non_null(fx_seq_slot_board(sl));
	/* the jig has no power line: the board is powered, NRST high,
	 * BOOT0 low: a blank chip shows nothing */
	assert_int_equal(fx_emu_poll(fx_seq_slot_board(sl)), FX_EMU_BUS_NONE);
	assert_int_equal(fx_seq_station_tower(s, 1, 0, 1, &f->err), 0);
	assert_int_equal(fx_gpio_sim_level(fx_seq_station_gpio(s), "sim:GREEN", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(fx_gpio_sim_level(fx_seq_station_gpio(s), "sim:RED", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(fx_gpio_sim_level(fx_seq_station_gpio(s), "sim:YELLOW", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(fx_seq_slot_set_board(sl, NULL, &f->err), FX_E_INVAL);
	assert_string_equal(f->err.msg, "slot 1: no board");
	/* close saves the board file */
	assert_int_not_equal(access(f->board, F_OK), 0);
	fx_seq_station_close(s);
	assert_int_equal(access(f->board, F_OK), 0);
}

static void test_bad_jobs(void **state)
{
	struct fxt_seq *f = *state;
	struct fx_seq_station *s = NULL;
	struct fx_seq_outcome out;
	struct fx_seq_job job;

	assert_int_equal(fx_seq_station_open(&f->st, &f->vc.base, &s, &f->err), 0);
	memset(&job, 0, sizeof(job));
	assert_int_equal(fx_seq_run(fx_seq_station_first(s), NULL, &job, &out, &f->err),
			 FX_E_INVAL);
	assert_string_equal(f->err.msg,
			    "run: missing slot, store, recipe, image or station name");
	assert_int_equal(out.result, FX_STORE_ERROR);
	assert_false(out.recorded);
	fx_seq_station_close(s);
}

static void test_demo_names(void **state)
{
	struct fxt_seq *f = *state;
	struct fx_recipe r;
	struct fx_image img;
	int k;

	for (k = 0; k < FX_SEQ_DEMO_COUNT; k++)
		assert_int_equal(fx_seq_demo_parse(fx_seq_demo_name((enum fx_seq_demo_board)k)), k);
	assert_int_equal(fx_seq_demo_parse("shiny"), -1);
	assert_int_equal(fx_seq_demo_parse(NULL), -1);
	assert_null(fx_seq_demo_name(FX_SEQ_DEMO_COUNT));
	memset(&r, 0, sizeof(r));
	memset(&img, 0, sizeof(img));
	assert_null(fx_seq_demo_board_new(FX_SEQ_DEMO_COUNT, 1, &r, &img, &f->vc.base, &f->err));
	assert_int_equal(f->err.code, FX_E_INVAL);
	assert_string_equal(f->err.msg, "demo board: bad arguments");
}

static void test_press_start_scripted(void **state)
{
	struct fxt_seq *f = *state;
	struct fx_seq_station *s = NULL;

	assert_int_equal(fx_seq_station_open(&f->st, &f->vc.base, &s, &f->err), 0);
	assert_int_equal(fx_seq_station_press_start(s, 500000, &f->err), 0);
	assert_int_equal(fx_seq_station_wait_start(s, 1000, &f->err), 0);
	assert_true(f->vc.t >= 500000 && f->vc.t < 1000000);
	/* released after 100 ms: the next wait needs a new press */
	assert_int_equal(fx_seq_station_wait_start(s, 1000, &f->err), FX_E_TIMEOUT);
	fx_seq_station_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bad_knobs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_board_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_boot0_not_wired, setup, teardown),
		cmocka_unit_test_setup_teardown(test_line_used_twice, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_slots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slot_lookup_tower_save, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_jobs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_demo_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_press_start_scripted, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_gang.c - gang programming (issue 14): the slots of one station run
 * at the same time, one thread each, over one database, one sim GPIO
 * backend and one shared discrete-event clock (virtual time).
 *   - 8 slots, mixed board states, a fault knob in two slots: those two
 *     ERROR naming their step, the six others PASS, really programmed,
 *     records per slot right, and the batch took the model time of its
 *     slowest board, not the sum;
 *   - batch with an empty socket (present line low: skipped, no record)
 *     and a dead board without a present line (ERROR, recorded);
 *   - independent mode: START presses staggered across slots, each slot
 *     runs its boards as its START says, runs overlap;
 *   - a single-TT hub serializes the boards' transfers (slower than
 *     multi-TT, busy time = the sum of every board's transfer time);
 *   - the shared clock: time advances only when every member sleeps. */
#include <pthread.h>
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
#include <sqlite3.h>

#include "fx/clock.h"
#include "fx/conf.h"
#include "fx/emu.h"
#include "fx/gpio.h"
#include "fx/image.h"
#include "fx/seq.h"
#include "fx/store.h"

#define RECIPE "config/demo-g474.ini"

struct fix {
	char dir[64], ini[128], db[128];
	struct fx_dclock dc;
	struct fx_station *st;
	struct fx_recipe *rcp;
	struct fx_image *img;
	struct fx_store *store;
	struct fx_seq_station *stn;
	struct fx_err err;
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/fxgang.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->ini, sizeof(f->ini), "%s/st.ini", f->dir);
	snprintf(f->db, sizeof(f->db), "%s/gang.db", f->dir);
	assert_int_equal(fx_dclock_init(&f->dc), 0);
	fx_err_clear(&f->err);
	fxt_recipe_image_load(RECIPE, &f->rcp, &f->img);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	fx_seq_station_close(f->stn);
	fx_store_close(f->store);
	fx_station_free(f->st);
	fx_image_free(f->img);
	fx_recipe_free(f->rcp);
	fx_dclock_release(&f->dc);
	assert_int_equal(fxt_conf_rmdir(f->dir), 0);
	free(f);
	return 0;
}

/* A station of n emulated slots; knobs[i] (may be NULL) after the board
 * file; extra[i] more lines for [slot i+1]; head more [station] lines. */
static void station(struct fix *f, unsigned n, const char *head,
		    const char *const *knobs, const char *const *extra)
{
	FILE *fp = fopen(f->ini, "w");
	unsigned i;

	assert_non_null(fp);
	fprintf(fp, "[station]\nname = gang\ndatabase = gang.db\n"
		"tower_green = sim:GREEN\ntower_yellow = sim:YELLOW\ntower_red = sim:RED\n%s\n",
		head ? head : "start = sim:START\n");
	for (i = 0; i < n; i++)
		fprintf(fp, "[slot %u]\ndevice = emu:b%u.fxb%s%s\nboot0 = sim:BOOT0_%u\n"
			"nrst = sim:NRST_%u\npower = sim:POWER_%u\nled_pass = sim:PASS_%u\n"
			"led_fail = sim:FAIL_%u\nled_busy = sim:BUSY_%u\n%s\n", i + 1, i + 1,
			knobs && knobs[i] ? "?" : "", knobs && knobs[i] ? knobs[i] : "",
			i + 1, i + 1, i + 1, i + 1, i + 1, i + 1,
			extra && extra[i] ? extra[i] : "");
	assert_int_equal(fclose(fp), 0);
	fx_err_clear(&f->err);
	assert_int_equal(fx_station_load(f->ini, &f->st, NULL, &f->err), 0);
	f->store = fx_store_open(f->db, &f->err);
	assert_non_null(f->store);
	assert_int_equal(fx_seq_station_open(f->st, &f->dc.base, &f->stn, &f->err), 0);
}

static void put_board(struct fix *f, unsigned index, enum fx_seq_demo_board kind)
{
	struct fx_emu *b = fx_seq_demo_board_new(kind, index, f->rcp, f->img,
						 &f->dc.base, &f->err);

	assert_non_null(b);
	assert_int_equal(fx_seq_slot_set_board(fx_seq_station_slot(f->stn, index), b,
					       &f->err), 0);
}

static void job(struct fix *f, struct fx_seq_job *j)
{
	memset(j, 0, sizeof(*j));
	j->recipe = f->rcp;
	j->image = f->img;
	j->station_name = "gang";
	j->software_version = "test";
	j->utc_offset_us = 1764633600000000; /* 2025-12-02 */
}

/* The board holds the image (logical view). */
static bool programmed(struct fix *f, unsigned index)
{
	return fxt_emu_holds(fx_seq_slot_board(fx_seq_station_slot(f->stn, index)), f->img);
}

/* One text row per run, "slot result failing_step error_code", by slot. */
static void db_rows(struct fix *f, char *out, size_t cap)
{
	sqlite3 *db;
	sqlite3_stmt *q;
	size_t n = 0;

	out[0] = '\0';
	assert_int_equal(sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
		"SELECT slot || ' ' || result || ' ' || coalesce(failing_step, '-') || ' ' || "
		"coalesce(error_code, '-') FROM runs ORDER BY slot, id", -1, &q, NULL),
		SQLITE_OK);
	while (sqlite3_step(q) == SQLITE_ROW)
		n += (size_t)snprintf(out + n, cap - n, "%s\n", sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	sqlite3_close(db);
}

static int64_t db_int(struct fix *f, const char *sql)
{
	return fxt_sql_int(f->db, sql);
}

static void run_batch(struct fix *f, struct fx_seq_gang_slot *gs, struct fx_seq_job *j,
		      unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		memset(&gs[i], 0, sizeof(gs[i]));
		gs[i].slot = fx_seq_station_at(f->stn, i);
		gs[i].job = j;
	}
	assert_int_equal(fx_seq_gang_run(f->stn, f->store, gs, n, &f->err), 0);
}

static void test_eight_slots_two_faults(void **state)
{
	static const char *const knobs[8] = {
		NULL, NULL, "fault=drop&fault_nth=40", NULL, NULL, "return=never", NULL, NULL,
	};
	static const enum fx_seq_demo_board kinds[8] = {
		FX_SEQ_DEMO_BLANK, FX_SEQ_DEMO_PROGRAMMED, FX_SEQ_DEMO_BLANK,
		FX_SEQ_DEMO_DUAL_BANK, FX_SEQ_DEMO_CORRUPTED, FX_SEQ_DEMO_CORRUPTED,
		FX_SEQ_DEMO_DUAL_BANK, FX_SEQ_DEMO_PROGRAMMED,
	};
	struct fix *f = *state;
	struct fx_seq_gang_slot gs[8];
	struct fx_seq_job j;
	uint64_t t0, sum = 0, longest = 0, batch;
	char rows[2048];
	unsigned i;

	station(f, 8, NULL, knobs, NULL);
	for (i = 0; i < 8; i++)
		put_board(f, i + 1, kinds[i]);
	job(f, &j);
	t0 = fx_clock_now(&f->dc.base);
	run_batch(f, gs, &j, 8);
	batch = fx_clock_now(&f->dc.base) - t0;
	for (i = 0; i < 8; i++) {
		assert_int_equal(gs[i].rc, 0);
		assert_false(gs[i].empty);
		assert_true(gs[i].out.recorded);
		sum += gs[i].out.duration_us;
		if (gs[i].out.duration_us > longest)
			longest = gs[i].out.duration_us;
		if (i == 2 || i == 5)
			continue;
		assert_int_equal(gs[i].out.result, FX_STORE_PASS);
		assert_true(programmed(f, i + 1));
	}
	/* the drop: the board left the bus while it was being identified */
	assert_int_equal(gs[2].out.result, FX_STORE_ERROR);
	assert_string_equal(gs[2].out.failing_step, "identify");
	assert_int_equal(gs[2].out.error_code, FX_E_NODEV);
	assert_string_equal(gs[2].out.message, "identify: read 1024 bytes at 0x08000000 (alt 0): "
			    "read at 0x08000000: SET_ADDRESS 0x08000000: DFU_DNLOAD: device left the bus");
	/* never back after a reset */
	assert_int_equal(gs[5].out.result, FX_STORE_ERROR);
	assert_string_equal(gs[5].out.failing_step, "enter_boot");
	assert_string_equal(gs[5].out.message, "enter_boot: no DFU bootloader within 3000 ms "
			    "of the BOOT0+NRST reset (no new device on port emu within "
			    "3000 ms)");
	assert_false(programmed(f, 3));
	assert_false(programmed(f, 6));
	db_rows(f, rows, sizeof(rows));
	assert_string_equal(rows,
			    "1 PASS - -\n2 PASS - -\n3 ERROR identify FX_E_NODEV\n4 PASS - -\n"
			    "5 PASS - -\n6 ERROR enter_boot FX_E_NODEV\n7 PASS - -\n8 PASS - -\n");
	/* the run rows were begun in slot order */
	assert_int_equal(db_int(f, "SELECT group_concat(slot, '') FROM "
				   "(SELECT slot FROM runs ORDER BY id)"), 12345678);
	/* at the same time: the batch took its slowest board, not the sum */
	assert_true(batch >= longest);
	assert_true(batch < longest + longest / 20);
	assert_true(sum > 4 * batch);
	/* per-slot LEDs: PASS on the six, FAIL on the two */
	for (i = 0; i < 8; i++) {
		char name[16];
		int v = -1;

		snprintf(name, sizeof(name), "sim:PASS_%u", i + 1);
		assert_int_equal(fx_gpio_sim_level(fx_seq_station_gpio(f->stn), name, &v), 0);
		assert_int_equal(v, i == 2 || i == 5 ? 0 : 1);
		snprintf(name, sizeof(name), "sim:FAIL_%u", i + 1);
		assert_int_equal(fx_gpio_sim_level(fx_seq_station_gpio(f->stn), name, &v), 0);
		assert_int_equal(v, i == 2 || i == 5 ? 1 : 0);
	}
}

static void test_empty_socket_and_dead_board(void **state)
{
	static const char *const knobs[4] = { NULL, NULL, "boot_delay_ms=60000", NULL };
	static const char *const extra[4] = { "present = sim:PRESENT_1", "present = sim:PRESENT_2",
					      NULL, NULL };
	struct fix *f = *state;
	struct fx_seq_gang_slot gs[4];
	struct fx_seq_job j;
	char rows[1024];
	unsigned i;

	station(f, 4, NULL, knobs, extra);
	for (i = 0; i < 4; i++)
		put_board(f, i + 1, FX_SEQ_DEMO_BLANK);
	/* slot 2: the operator left the socket empty */
	assert_int_equal(fx_gpio_sim_drive(fx_seq_station_gpio(f->stn), "sim:PRESENT_2", 0,
					   &f->err), 0);
	job(f, &j);
	run_batch(f, gs, &j, 4);
	assert_false(gs[0].empty);
	assert_true(gs[1].empty);
	assert_false(gs[2].empty);
	assert_false(gs[3].empty);
	assert_int_equal(gs[0].out.result, FX_STORE_PASS);
	assert_int_equal(gs[3].out.result, FX_STORE_PASS);
	/* the dead board is a record, never a vanished slot */
	assert_int_equal(gs[2].out.result, FX_STORE_ERROR);
	assert_true(gs[2].out.recorded);
	assert_string_equal(gs[2].out.failing_step, "enter_boot");
	db_rows(f, rows, sizeof(rows));
	assert_string_equal(rows, "1 PASS - -\n3 ERROR enter_boot FX_E_NODEV\n4 PASS - -\n");
	assert_int_equal(db_int(f, "SELECT count(*) FROM runs WHERE slot = 2"), 0);
}

/* independent mode: a thread per slot, each pressing its own START */
struct ind {
	struct fix *f;
	struct fx_seq_slot *sl;
	unsigned pos, boards;
	int rcs[4];
	struct fx_seq_outcome out[4];
	uint64_t pressed[4], began[4];
};

static void ind_slot(void *user)
{
	struct ind *d = user;
	struct fx_seq_job j;
	struct fx_err err;
	unsigned k;

	job(d->f, &j);
	for (k = 0; k < d->boards; k++) {
		uint64_t at = fx_clock_now(&d->f->dc.base) + 100000u + d->pos * 700000u;

		fx_err_clear(&err);
		d->pressed[k] = at;
		d->rcs[k] = fx_seq_slot_press_start(d->sl, at, &err);
		if (!d->rcs[k])
			d->rcs[k] = fx_seq_slot_wait_start(d->sl, 60000, &err);
		if (d->rcs[k])
			return;
		d->began[k] = fx_clock_now(&d->f->dc.base);
		d->rcs[k] = fx_seq_run(d->sl, d->f->store, &j, &d->out[k], &err);
	}
}

static void test_independent_staggered(void **state)
{
	static const char *const extra[3] = {
		"start = sim:START_1", "start = sim:START_2\nlid = sim:LID_2", "start = sim:START_3",
	};
	struct fix *f = *state;
	struct ind d[3];
	void *users[3];
	unsigned i, k;

	station(f, 3, "start_mode = independent\n", NULL, extra);
	assert_int_equal(f->st->start_mode, FX_STATION_START_INDEPENDENT);
	for (i = 0; i < 3; i++) {
		put_board(f, i + 1, FX_SEQ_DEMO_PROGRAMMED);
		memset(&d[i], 0, sizeof(d[i]));
		d[i].f = f;
		d[i].sl = fx_seq_station_at(f->stn, i);
		d[i].pos = i;
		d[i].boards = 2;
		users[i] = &d[i];
	}
	/* the station-wide START does not exist in this mode */
	assert_int_equal(fx_seq_station_press_start(f->stn, 0, &f->err), FX_E_CONFIG);
	assert_int_equal(fx_seq_gang_each(&f->dc.base, ind_slot, users, 3, &f->err), 0);
	for (i = 0; i < 3; i++) {
		for (k = 0; k < 2; k++) {
			assert_int_equal(d[i].rcs[k], 0);
			assert_int_equal(d[i].out[k].result, FX_STORE_PASS);
			/* each run began when its own START settled (30 ms
			 * debounce), not when another slot's was pressed */
			assert_true(d[i].began[k] >= d[i].pressed[k] + 30000u);
			assert_true(d[i].began[k] < d[i].pressed[k] + 600000u);
		}
	}
	/* staggered presses, overlapping runs: slot 2's first board began
	 * while slot 1's first was still running, and slot 1's second run
	 * began before slot 3's first had ended */
	assert_true(d[1].began[0] > d[0].began[0]);
	assert_true(d[1].began[0] < d[0].began[0] + d[0].out[0].duration_us);
	assert_true(d[0].began[1] < d[2].began[0] + d[2].out[0].duration_us);
	assert_int_equal(db_int(f, "SELECT count(*) FROM runs WHERE result = 'PASS'"), 6);
	assert_int_equal(db_int(f, "SELECT count(DISTINCT slot) FROM runs"), 3);
}

/* the same 4-slot batch through a multi-TT and a single-TT hub */
static uint64_t hub_batch(struct fix *f, const char *hub, uint64_t *bus_us,
			  uint64_t *usb_sum)
{
	struct fx_seq_gang_slot gs[4];
	struct fx_seq_job j;
	char head[128];
	uint64_t t0;
	unsigned i;

	snprintf(head, sizeof(head), "start = sim:START\nhub = %s\n", hub);
	station(f, 4, head, NULL, NULL);
	for (i = 0; i < 4; i++)
		put_board(f, i + 1, FX_SEQ_DEMO_BLANK);
	job(f, &j);
	*usb_sum = 0;
	for (i = 0; i < 4; i++) {
		struct fx_emu_stats es;

		/* the demo board was made over its own USB: not this batch */
		fx_emu_get_stats(fx_seq_slot_board(fx_seq_station_at(f->stn, i)), &es);
		*usb_sum -= es.usb_us;
	}
	t0 = fx_clock_now(&f->dc.base);
	run_batch(f, gs, &j, 4);
	for (i = 0; i < 4; i++) {
		struct fx_emu_stats es;

		assert_int_equal(gs[i].out.result, FX_STORE_PASS);
		assert_true(programmed(f, i + 1));
		fx_emu_get_stats(fx_seq_slot_board(gs[i].slot), &es);
		*usb_sum += es.usb_us;
	}
	*bus_us = fx_seq_station_bus_us(f->stn);
	fx_seq_station_close(f->stn);
	f->stn = NULL;
	fx_store_close(f->store);
	f->store = NULL;
	fx_station_free(f->st);
	f->st = NULL;
	return fx_clock_now(&f->dc.base) - t0;
}

static void test_hub_models(void **state)
{
	struct fix *f = *state;
	uint64_t multi, single, bus_m, bus_s, usb_m, usb_s;

	multi = hub_batch(f, "multi-tt", &bus_m, &usb_m);
	single = hub_batch(f, "single-tt", &bus_s, &usb_s);
	assert_int_equal(bus_m, 0);
	/* every board's transfers crossed the one bus: it was held at least
	 * their transfer time, and the batch took longer than with a TT per
	 * board, at least the serialized bus time */
	assert_int_equal(usb_s, usb_m);
	assert_true(bus_s >= usb_s - usb_s / 100);
	assert_true(single > multi);
	assert_true(single >= bus_s);
}

/* The shared clock on its own: two members, time moves only when both
 * sleep, each wakes at its own time. */
struct clk_arg {
	struct fx_dclock *dc;
	uint64_t step, n;
	uint64_t seen[8];
};

static void clk_member(void *user)
{
	struct clk_arg *a = user;
	uint64_t i;

	for (i = 0; i < a->n; i++) {
		fx_clock_sleep(&a->dc->base, a->step);
		a->seen[i] = fx_clock_now(&a->dc->base);
	}
}

static void test_dclock(void **state)
{
	struct fix *f = *state;
	struct clk_arg a = { &f->dc, 3000, 4, { 0 } }, b = { &f->dc, 5000, 3, { 0 } };
	void *users[2] = { &a, &b };

	assert_int_equal(fx_clock_now(&f->dc.base), 0);
	assert_int_equal(fx_seq_gang_each(&f->dc.base, clk_member, users, 2, &f->err), 0);
	assert_int_equal(a.seen[0], 3000);
	assert_int_equal(a.seen[3], 12000);
	assert_int_equal(b.seen[0], 5000);
	assert_int_equal(b.seen[2], 15000);
	assert_int_equal(fx_clock_now(&f->dc.base), 15000);
	/* alone (no member): a plain virtual clock */
	fx_clock_sleep(&f->dc.base, 1000);
	assert_int_equal(fx_clock_now(&f->dc.base), 16000);
	assert_int_equal(fx_seq_gang_each(&f->dc.base, NULL, users, 2, &f->err), FX_E_INVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dclock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eight_slots_two_faults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_socket_and_dead_board, setup, teardown),
		cmocka_unit_test_setup_teardown(test_independent_staggered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hub_models, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* fleet_serial.c - a station drawing serial numbers from a central pool,
 * for tests/cli/tfleet_serial.sh: the recording API (fx/store.h), the
 * allocation API (fx/serial.h) and the fleet pusher in a background
 * thread with the pool registered, as `run --sync` does
 * (fx_fleet_register_pools, fx_fleet_pools_wait, fx_fleet_pusher_start).
 *
 *   fleet_serial DB STATION URI BOARDS RECIPE
 *
 * Before each board the pool is prepared; none left stops the station
 * like `run` does (exit 75, "exhausted after N boards"). Every 4th board
 * fails before its value reached the board (released, reused), every 5th
 * after (the value stays bound to the chip; the unit keeps no serial). A board
 * takes 20 ms, so the pusher runs beside the cycles. Prints "boards N".
 * Built by the test with cc against libfx.a. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fx/conf.h"
#include "fx/fleet.h"
#include "fx/serial.h"
#include "fx/store.h"
#include "fx/store_sync.h"

static void log_line(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "fleet_serial: sync: %s\n", msg);
}

static int board(struct fx_store *st, const struct fx_serial_conf *sn, const char *station,
		 long i, struct fx_err *err)
{
	struct fx_run_start start = {
		.station = station, .slot = 1, .port_path = "emu:b.fxb", .operator_id = "op1",
		.recipe_name = "g474", .recipe_version = "1", .software_version = "0.1.0",
		.start_utc_us = fx_fleet_now_us(),
	};
	struct fx_serial_request rq = { .conf = sn, .station = station };
	struct fx_run_end end = { 0 };
	struct fx_serial_alloc a;
	struct fx_store_run run;
	struct timespec ts = { 0, 20 * 1000000L };
	char uid[48];
	/* every 4th board fails before its value reached it (released),
	 * every 5th after (bound to the chip, the unit without a serial) */
	bool pass = i % 4 != 3 && i % 5 != 4, reached = i % 4 != 3;
	int rc;

	/* a new chip each board, also across sessions */
	snprintf(uid, sizeof(uid), "UID-%s-%lld-%06ld", station, (long long)start.start_utc_us, i);
	rc = fx_store_run_begin(st, &start, &run, err);
	if (rc)
		return rc;
	rq.chip_uid = uid;
	rq.run_id = run.id;
	rq.now_us = fx_fleet_now_us();
	rc = fx_serial_alloc(st, &rq, &a, err);
	if (rc)
		return rc;
	nanosleep(&ts, NULL);
	if (reached)
		rc = fx_serial_reached(st, a.id, fx_fleet_now_us(), err);
	if (!rc)
		rc = fx_store_run_set_unit(st, &run, pass ? a.value : NULL, uid, FX_STORE_BOARD_BLANK,
					   err);
	if (!rc)
		rc = fx_serial_finish(st, a.id, pass, fx_fleet_now_us(), NULL, err);
	if (rc)
		return rc;
	end.result = pass ? FX_STORE_PASS : FX_STORE_FAIL;
	end.end_utc_us = fx_fleet_now_us();
	end.failing_step = pass ? NULL : "erase";
	end.error_code = pass ? 0 : FX_E_VERIFY;
	end.message = pass ? NULL : "synthetic failure";
	rc = fx_store_run_end(st, &run, &end, err);
	return rc;
}

int main(int argc, char **argv)
{
	struct fx_fleet_pusher_opts o = { 0 };
	const struct fx_serial_conf *confs[1];
	struct fx_fleet_pusher *p = NULL;
	struct fx_recipe *rcp = NULL;
	struct fx_store *st = NULL;
	struct fx_err err, perr;
	long n, i;
	uint64_t left;
	int rc = 1;

	if (argc != 6) {
		fprintf(stderr, "usage: fleet_serial DB STATION URI BOARDS RECIPE\n");
		return 64;
	}
	n = atol(argv[4]);
	fx_err_clear(&err);
	if (fx_recipe_load(argv[5], &rcp, NULL, &err))
		goto fail;
	st = fx_store_open(argv[1], &err);
	if (!st)
		goto fail;
	confs[0] = &rcp->serial_number;
	o.db_path = argv[1];
	o.uri = argv[3];
	o.station = argv[2];
	o.follow = true;
	o.log = log_line;
	o.poll_ms = 50;
	o.backoff_min_ms = 100;
	o.backoff_max_ms = 400;
	p = fx_fleet_pusher_start(&o, &err);
	if (!p || fx_fleet_register_pools(argv[1], st, confs, 1, &err))
		goto fail;
	if (!fx_fleet_pools_wait(argv[1], confs, 1, 5000))
		fprintf(stderr, "fleet_serial: no lease yet, using what the pool has\n");
	for (i = 0; i < n; i++) {
		if (fx_serial_prepare(st, confs[0], fx_fleet_now_us(), &left, &err))
			goto fail;
			if (!left) {
			printf("boards %ld\n", i);
			printf("exhausted after %ld boards\n", i);
			rc = 75;
			goto out;
		}
		if (board(st, confs[0], argv[2], i, &err))
			goto fail;
	}
	printf("boards %ld\n", n);
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "fleet_serial: %s\n", err.msg);
out:
	fx_err_clear(&perr);
	fx_fleet_pusher_stop(p, &perr);
	fx_store_close(st);
	fx_recipe_free(rcp);
	return rc;
}

/* fleet_gen.c - record N synthetic runs into a station database through
 * the recording API (fx/store.h), for the fleet tests and
 * scripts/bench-sync: built by them with cc against libfx.a.
 *
 *   fleet_gen DB STATION N SEED [PREFIX [BULK]]
 *
 * Deterministic for a seed (run uuids too). Serials PREFIX + number, with
 * retests of failed units (same serial, later); failures at several
 * steps, ERROR and ABORTED runs, a SKIPPED step; operators op1..op3;
 * two slots; 10 steps per full run. Runs start after the latest time in
 * the database, FLEET_GEN_GAP_S apart (default 540 s: 160 a day), so calls append. BULK=1:
 * one transaction (big volumes); else each call commits as a station
 * does. Prints nothing; exit 1 with the message on error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fx/store.h"

static uint64_t rs;

static uint64_t rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

static const char *const steps[] = { "probe", "enter_boot", "identify", "read_ob", "write_ob",
				     "erase", "program", "verify", "release", "app_check" };
static const int step_ms[] = { 80, 440, 25, 9, 465, 27, 527, 74, 25, 51 };

int main(int argc, char **argv)
{
	struct fx_store *st;
	struct fx_err err;
	long long n, i;
	char serial[64], op[8], retest[32][64];
	int nretest = 0, s, nsteps, res;
	int64_t t0;
	bool bulk;
	int64_t gap = getenv("FLEET_GEN_GAP_S") ? atoll(getenv("FLEET_GEN_GAP_S")) : 540;

	if (argc < 5) {
		fprintf(stderr, "usage: fleet_gen DB STATION N SEED [PREFIX [BULK]]\n");
		return 64;
	}
	n = atoll(argv[3]);
	rs = (uint64_t)atoll(argv[4]) * 0x9E3779B97F4A7C15ull + 1;
	bulk = argc > 6 && !strcmp(argv[6], "1");
	fx_err_clear(&err);
	st = fx_store_open(argv[1], &err);
	if (!st)
		goto fail;
	fx_store_set_uuid_seed(st, rnd());
	if (fx_store_latest_us(st, &t0, &err))
		goto fail;
	if (!t0)
		t0 = (int64_t)20760 * 86400 * 1000000; /* 2026-11-03 */
	if (bulk && fx_store_bulk_begin(st, &err))
		goto fail;
	for (i = 0; i < n; i++) {
		struct fx_run_start start = {
			.station = argv[2], .slot = (int)(i % 2) + 1, .port_path = "emu:b.fxb",
			.operator_id = op, .recipe_name = "g474", .recipe_version = i % 3 ? "2.1" : "2.2",
			.recipe_sha256 = "9f2c", .firmware_sha256 = "e3b0", .software_version = "0.1.0",
			.start_utc_us = t0 + (i + 1) * gap * 1000000,
		};
		struct fx_store_run run;
		struct fx_run_end end = { 0 };
		const char *fstep = NULL;
		unsigned u = (unsigned)(rnd() % 1000);
		int64_t t;

		snprintf(op, sizeof(op), "op%d", (int)(rnd() % 3) + 1);
		if (u % 5 == 0)
			start.operator_id = NULL;
		res = u < 80 ? 1 : u < 100 ? 2 : u < 105 ? 3 : 0;
		if (fx_store_run_begin(st, &start, &run, &err))
			goto fail;
		if (nretest && rnd() % 2)
			snprintf(serial, sizeof(serial), "%s", retest[--nretest]);
		else
			snprintf(serial, sizeof(serial), "%s%08lld", argc > 5 ? argv[5] : "SN", i);
		nsteps = 10;
		if (res != 2 && fx_store_run_set_unit(st, &run, serial, NULL,
						      (enum fx_store_board)(rnd() % 4), &err))
			goto fail;
		if (res == 1) {
			nsteps = u % 2 ? 8 : 7;
			fstep = steps[nsteps - 1];
			if (nretest < 32)
				snprintf(retest[nretest++], 64, "%s", serial);
		} else if (res == 2) {
			nsteps = 2;
			fstep = "enter_boot";
		} else if (res == 3) {
			nsteps = 4;
		}
		t = start.start_utc_us;
		for (s = 0; s < nsteps; s++) {
			struct fx_store_step stp = { steps[s], t, 0, FX_STORE_PASS, "detail" };

			if (s == 4 && rnd() % 3)
				stp.result = FX_STORE_SKIPPED;
			else
				stp.duration_us = (int64_t)step_ms[s] * 1000 + (int64_t)(rnd() % 20000);
			if (s == nsteps - 1 && fstep)
				stp.result = res == 2 ? FX_STORE_ERROR : FX_STORE_FAIL;
			if (fx_store_step(st, &run, &stp, &err))
				goto fail;
			t += stp.duration_us;
		}
		end.result = (enum fx_store_result)res;
		end.end_utc_us = t + 150000;
		end.failing_step = fstep;
		end.error_code = res == 3 ? FX_E_ABORTED : res ? FX_E_VERIFY : 0;
		end.message = res ? "synthetic failure" : NULL;
		if (fx_store_run_end(st, &run, &end, &err))
			goto fail;
	}
	if (bulk && fx_store_bulk_end(st, &err))
		goto fail;
	fx_store_close(st);
	return 0;
fail:
	fprintf(stderr, "fleet_gen: %s\n", err.msg);
	fx_store_close(st);
	return 1;
}

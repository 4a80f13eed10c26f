/* test_store_sync.c - the station database's side of fleet sync
 * (fx/store_sync.h), without a server: the queue filled by the trigger in
 * the recording transaction (also for runs finished before the set-up and
 * for ABORTED recovery), batches in commit order with their steps as JSON,
 * acknowledgements, status, identity, the scratch database of the fleet
 * reports. */
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
#include <sqlite3.h>

#include "fx/store.h"
#include "fx/store_sync.h"
#include "../../src/store/store_sql.h"

#define T0 (20514LL * 86400LL * 1000000LL)

static char dir[64];
static char dbpath[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/fx-test-sync-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(dbpath, sizeof(dbpath), "%s/st.db", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(fxt_conf_rmdir(dir), 0);
	return 0;
}

/* one run: begun, unit, two steps, ended with res at T0 + i s */
static void record(struct fx_store *st, int i, const char *serial, enum fx_store_result res,
		   bool end)
{
	struct fx_run_start s = { .station = "sa", .slot = 1, .recipe_name = "r",
				  .recipe_version = "1", .start_utc_us = T0 + i * 1000000LL };
	struct fx_store_step step = { "probe", T0 + i * 1000000LL, 1000, FX_STORE_PASS, "d\"q" };
	struct fx_run_end e = { .result = res, .end_utc_us = T0 + i * 1000000LL + 5000 };
	struct fx_store_run run;
	struct fx_err err;

	assert_int_equal(fx_store_run_begin(st, &s, &run, &err), 0);
	if (serial)
		assert_int_equal(fx_store_run_set_unit(st, &run, serial, NULL,
						       FX_STORE_BOARD_BLANK, &err), 0);
	assert_int_equal(fx_store_step(st, &run, &step, &err), 0);
	step.name = "erase";
	assert_int_equal(fx_store_step(st, &run, &step, &err), 0);
	if (end) {
		if (res != FX_STORE_PASS) {
			e.failing_step = "erase";
			e.error_code = FX_E_VERIFY;
			e.message = "bad";
		}
		assert_int_equal(fx_store_run_end(st, &run, &e, &err), 0);
	}
}

static void test_queue_and_batches(void **state)
{
	struct fx_store *st;
	struct fx_sync_db *db;
	struct fx_sync_batch b;
	struct fx_sync_status ss;
	struct fx_sync_identity id;
	struct fx_err err;
	char uuid[37];

	(void)state;
	st = fx_store_open(dbpath, &err);
	assert_non_null(st);
	fx_store_set_uuid_seed(st, 7);
	record(st, 1, "S1", FX_STORE_PASS, true);   /* before the set-up */
	record(st, 2, NULL, FX_STORE_FAIL, false);  /* unfinished: not queued */
	db = fx_sync_db_open(dbpath, &err);
	assert_non_null(db);
	assert_int_equal(fx_sync_db_identity(db, &id, &err), 0);
	assert_int_equal(strlen(id.station_key), 36);
	assert_int_equal(id.station_key[14], '4');
	assert_int_equal(id.epoch, 1);
	assert_int_equal(id.acked_seq, 0);
	assert_string_equal(id.station, "sa");
	record(st, 3, "S3", FX_STORE_FAIL, true);   /* by the trigger */
	assert_int_equal(fx_sync_db_status(db, &ss, &err), 0);
	assert_int_equal(ss.backlog, 2);
	assert_true(ss.oldest_queued_us > 0);
	assert_int_equal(ss.last_ok_us, 0);

	assert_int_equal(fx_sync_db_batch(db, 0, 1, &b, &err), 0);
	assert_int_equal(b.nruns, 1);
	assert_int_equal(b.first_seq, 1);
	assert_int_equal(b.last_seq, 1);
	assert_non_null(strstr(b.runs_json, "\"unit_key\":\"S1\""));
	assert_non_null(strstr(b.runs_json, "\"result\":\"PASS\""));
	assert_non_null(strstr(b.steps_json, "\"detail\":\"d\\\"q\"")); /* escaped */
	assert_non_null(strstr(b.steps_json, "\"name\":\"erase\""));
	assert_int_equal(fx_sync_db_uuid_at(db, 1, uuid, &err), 0);
	assert_string_equal(uuid, b.last_uuid);
	assert_int_equal(fx_sync_db_ack(db, b.last_seq, b.last_uuid, 0, 123, &err), 0);
	fx_sync_batch_release(&b);

	assert_int_equal(fx_sync_db_batch(db, 1, 100, &b, &err), 0);
	assert_int_equal(b.nruns, 1);
	assert_int_equal(b.last_seq, 2);
	assert_non_null(strstr(b.runs_json, "\"failing_step\":\"erase\""));
	assert_non_null(strstr(b.runs_json, "\"error_code\":\"FX_E_VERIFY\""));
	fx_sync_batch_release(&b);
	assert_int_equal(fx_sync_db_batch(db, 2, 100, &b, &err), 0);
	assert_int_equal(b.nruns, 0);
	assert_null(b.runs_json);

	assert_int_equal(fx_sync_db_status(db, &ss, &err), 0);
	assert_int_equal(ss.backlog, 1);
	assert_int_equal(ss.last_ok_us, 123);
	fx_sync_db_note_error(db, 456, "server 'x': down");
	assert_int_equal(fx_sync_db_status(db, &ss, &err), 0);
	assert_int_equal(ss.last_err_us, 456);
	assert_string_equal(ss.last_error, "server 'x': down");
	assert_int_equal(ss.id.acked_seq, 1);

	/* the unfinished run becomes ABORTED at the next open: queued */
	fx_store_close(st);
	st = fx_store_open(dbpath, &err);
	assert_non_null(st);
	assert_int_equal(fx_store_recovered(st), 1);
	assert_int_equal(fx_sync_db_batch(db, 2, 100, &b, &err), 0);
	assert_int_equal(b.nruns, 1);
	assert_int_equal(b.last_seq, 3);
	assert_non_null(strstr(b.runs_json, "\"result\":\"ABORTED\""));
	assert_non_null(strstr(b.runs_json, "\"unit_key\":null"));
	fx_sync_batch_release(&b);

	/* a new identity: new key, nothing acknowledged */
	assert_int_equal(fx_sync_db_new_identity(db, 2, &err), 0);
	{
		struct fx_sync_identity id2;

		assert_int_equal(fx_sync_db_identity(db, &id2, &err), 0);
		assert_string_not_equal(id2.station_key, id.station_key);
		assert_int_equal(id2.epoch, 2);
		assert_int_equal(id2.acked_seq, 0);
	}
	fx_sync_db_close(db);
	fx_store_close(st);
	/* the set-up happens once: a second open keeps the key and queue */
	db = fx_sync_db_open(dbpath, &err);
	assert_non_null(db);
	assert_int_equal(fx_sync_db_status(db, &ss, &err), 0);
	assert_int_equal(ss.backlog, 3);
	assert_int_equal(ss.id.epoch, 2);
	fx_sync_db_close(db);
}

static void test_open_errors(void **state)
{
	struct fx_err err;
	FILE *f;

	(void)state;
	assert_null(fx_sync_db_open(dbpath, &err));
	assert_int_equal(err.code, FX_E_FILE);
	assert_non_null(strstr(err.msg, "No such file or directory"));
	f = fopen(dbpath, "w");
	assert_non_null(f);
	fputs("not a database, not at all, no........................................"
	      "..........................................................", f);
	fclose(f);
	assert_null(fx_sync_db_open(dbpath, &err));
	assert_int_equal(err.code, FX_E_DB);
}

/* sync tables of version 1 (before serial events and central pools) are
 * migrated in place: the acknowledged run is kept, every serial event is
 * offered (acked_event 0); pools are registered and listed only when the
 * station has them as central pools; the pusher's own store refuses a
 * schema it does not write */
static void test_v1_and_pools(void **state)
{
	struct fx_sync_identity id;
	struct fx_sync_events ev;
	struct fx_sync_pool *p;
	struct fx_store *st, *st2;
	struct fx_sync_db *db;
	struct fx_err err;
	uint64_t left = 7;
	size_t n = 9;
	sqlite3 *raw;

	(void)state;
	st = fx_store_open(dbpath, &err);
	assert_non_null(st);
	record(st, 1, "S1", FX_STORE_PASS, true);
	db = fx_sync_db_open(dbpath, &err);
	assert_non_null(db);
	assert_int_equal(fx_sync_db_ack(db, 1, "", 0, 5, &err), 0);
	fx_sync_db_close(db);
	/* back to version 1 by hand */
	assert_int_equal(sqlite3_open(dbpath, &raw), SQLITE_OK);
	assert_int_equal(sqlite3_exec(raw, "DROP TABLE sync_pool;"
				      " ALTER TABLE sync_state DROP COLUMN acked_event;"
				      " UPDATE sync_state SET version = 1", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(raw);
	db = fx_sync_db_open(dbpath, &err);
	assert_non_null(db);
	assert_int_equal(fx_sync_db_identity(db, &id, &err), 0);
	assert_int_equal(id.acked_seq, 1);
	assert_int_equal(id.acked_event, 0);
	/* no serial event yet; the event cursor only moves forward */
	assert_int_equal(fx_sync_db_events(db, 0, 10, &ev, &err), 0);
	assert_int_equal(ev.n, 0);
	assert_int_equal(fx_sync_db_ack(db, 1, "", 4, 6, &err), 0);
	assert_int_equal(fx_sync_db_ack(db, 1, "", 2, 7, &err), 0);
	assert_int_equal(fx_sync_db_identity(db, &id, &err), 0);
	assert_int_equal(id.acked_event, 4);
	/* a registered pool the station does not have (as a central pool)
	 * is not listed; its remaining count is 0 */
	assert_int_equal(fx_sync_db_set_pool(db, "px", 10, 1, 99, &err), 0);
	assert_int_equal(fx_sync_db_pools(db, &p, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_null(p);
	assert_int_equal(fx_sync_db_remaining(db, "px", &left, &err), 0);
	assert_int_equal(left, 0);
	st2 = fx_sync_store_open(dbpath, &err);
	assert_non_null(st2);
	fx_store_close(st2);
	fx_sync_db_close(db);
	fx_store_close(st);
	assert_int_equal(sqlite3_open(dbpath, &raw), SQLITE_OK);
	assert_int_equal(sqlite3_exec(raw, "PRAGMA user_version = 2", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(raw);
	assert_null(fx_sync_store_open(dbpath, &err));
	assert_int_equal(err.code, FX_E_DB);
	assert_non_null(strstr(err.msg, "schema version 2, this software writes"));
}

static void test_scratch(void **state)
{
	struct fx_err err;
	struct fx_store *st;
	sqlite3_stmt *s;

	(void)state;
	st = fx_store_open_scratch("fleet label", &err);
	assert_non_null(st);
	assert_string_equal(fx_store_path(st), "fleet label");
	assert_int_equal(sqlite3_prepare_v2(fx_store_sqlite(st),
					    "SELECT line FROM v_yield UNION ALL SELECT line FROM v_pareto"
					    " UNION ALL SELECT line FROM v_cycle_bucket", -1, &s, NULL),
			 SQLITE_OK);
	sqlite3_finalize(s);
	/* no unique key: two lines of the same (day, station, ...) */
	assert_int_equal(sqlite3_exec(fx_store_sqlite(st),
				      "INSERT INTO sum_bucket(day, station, slot, recipe_name,"
				      " recipe_version, operator, line) VALUES (1, '', 0, '', '', '', 'L1'),"
				      " (1, '', 0, '', '', '', 'L2')", NULL, NULL, NULL), SQLITE_OK);
	fx_store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_queue_and_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scratch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v1_and_pools, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

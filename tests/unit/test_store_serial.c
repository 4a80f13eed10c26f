/* test_store_serial.c - serial number allocation in the station database
 * (fx/serial.h): reserve / reached / finish / recover rules, released
 * values first, void, uniqueness across pools, a UID keeps its value,
 * exhaustion, the pool list and stats, lease blocks and their overlap
 * errors, list pools with columns, the append-only event log, and threads
 * allocating from one store never getting the same value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "conf_fix.h"
#include "fx/report.h"
#include "fx/serial.h"
#include "fx/store.h"
#include "../../src/store/store_sql.h"

#define T0 1796169600000000LL /* 2026-12-02T00:00:00Z */

static char dir[256];
static char dbpath[300];

static int setup(void **state)
{
	(void)state;
	if (fxt_conf_mkdir(dir, sizeof(dir), "/tmp/fx-test-store-serial-XXXXXX"))
		return -1;
	snprintf(dbpath, sizeof(dbpath), "%s/st.db", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return fxt_conf_rmdir(dir);
}

static struct fx_store *open_ok(void)
{
	struct fx_err err;
	struct fx_store *st = fx_store_open(dbpath, &err);

	if (!st)
		fail_msg("open: %s", err.msg);
	return st;
}

static void counter_conf(struct fx_serial_conf *c, const char *pool, const char *fmt,
			 uint64_t first, uint64_t last, enum fx_serial_on_fail on_fail)
{
	struct fx_err err;

	memset(c, 0, sizeof(*c));
	c->enabled = true;
	c->source = FX_SERIAL_COUNTER;
	assert_int_equal(fx_serial_fmt_parse(fmt, &c->fmt, &err), 0);
	c->first = first;
	c->last = last;
	snprintf(c->pool, sizeof(c->pool), "%s", pool);
	c->on_fail = on_fail;
	c->lease = 1000;
	c->n_fields = 1;
	snprintf(c->fields[0].column, sizeof(c->fields[0].column), "serial");
	c->fields[0].enc.kind = FX_SERIAL_ASCII;
	c->fields[0].enc.size = 16;
}

static int64_t run_begin(struct fx_store *st, struct fx_store_run *r)
{
	struct fx_run_start s = { .station = "L1", .slot = 0, .recipe_name = "g474",
				  .start_utc_us = T0 };
	struct fx_err err;

	if (fx_store_run_begin(st, &s, r, &err))
		fail_msg("run begin: %s", err.msg);
	return r->id;
}

static void run_end(struct fx_store *st, struct fx_store_run *r, enum fx_store_result res)
{
	struct fx_run_end e = { .result = res, .end_utc_us = T0 + 1000,
				.failing_step = res == FX_STORE_PASS ? NULL : "program",
				.error_code = res == FX_STORE_PASS ? 0 : FX_E_VERIFY,
				.message = res == FX_STORE_PASS ? NULL : "x" };
	struct fx_err err;

	if (fx_store_run_end(st, r, &e, &err))
		fail_msg("run end: %s", err.msg);
}

/* Allocate for uid in a new run (left open); returns rc, fills a. */
static int alloc(struct fx_store *st, const struct fx_serial_conf *c, const char *uid,
		 const char *found, struct fx_store_run *r, struct fx_serial_alloc *a,
		 struct fx_err *err)
{
	struct fx_serial_request rq = { .conf = c, .chip_uid = uid, .found = found,
					.station = "L1", .now_us = T0 };

	rq.run_id = run_begin(st, r);
	return fx_serial_alloc(st, &rq, a, err);
}

static const char *q1(struct fx_store *st, const char *sql)
{
	static char buf[256];
	sqlite3_stmt *s;

	buf[0] = '\0';
	assert_int_equal(sqlite3_prepare_v2(fx_store_sqlite(st), sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		snprintf(buf, sizeof(buf), "%s", (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	return buf;
}

static void test_reserve_finish_rules(void **state)
{
	struct fx_store *st = open_ok();
	struct fx_serial_conf c;
	struct fx_serial_alloc a, b;
	struct fx_store_run r1, r2, r3, r4;
	enum fx_serial_state s;
	struct fx_err err;
	uint64_t left = 0;

	(void)state;
	counter_conf(&c, "main", "G4-{yy}{ww}-{n:05}", 1, 100, FX_SERIAL_REUSE);
	assert_int_equal(fx_serial_prepare(st, &c, T0, &left, &err), 0);
	assert_int_equal(left, 100);
	assert_string_equal(q1(st, "PRAGMA user_version"), "3");

	/* reserved, committed: visible to another connection at once */
	assert_int_equal(alloc(st, &c, "UIDA", NULL, &r1, &a, &err), 0);
	assert_string_equal(a.value, "G4-2649-00001");
	assert_int_equal(a.n, 1);
	assert_int_equal(a.state, FX_SERIAL_RESERVED);
	assert_false(a.kept);
	assert_int_equal(a.remaining, 99);
	assert_string_equal(q1(st, "SELECT state FROM serial_alloc WHERE value = 'G4-2649-00001'"),
			    "reserved");
	assert_int_equal(alloc(st, &c, "UIDB", NULL, &r2, &b, &err), 0);
	assert_string_equal(b.value, "G4-2649-00002");

	/* a FAIL before the value reached the board: released */
	assert_int_equal(fx_serial_finish(st, a.id, false, T0 + 5, &s, &err), 0);
	assert_int_equal(s, FX_SERIAL_RELEASED);
	run_end(st, &r1, FX_STORE_FAIL);
	/* finishing twice changes nothing */
	assert_int_equal(fx_serial_finish(st, a.id, true, T0 + 6, &s, &err), 0);
	assert_int_equal(s, FX_SERIAL_RELEASED);

	/* released first: UIDC gets number 1 again, not 3 */
	assert_int_equal(alloc(st, &c, "UIDC", NULL, &r3, &a, &err), 0);
	assert_string_equal(a.value, "G4-2649-00001");
	/* reached, then FAIL: stays bound to UIDC */
	assert_int_equal(fx_serial_reached(st, a.id, T0 + 7, &err), 0);
	assert_int_equal(fx_serial_finish(st, a.id, false, T0 + 8, &s, &err), 0);
	assert_int_equal(s, FX_SERIAL_BOUND);
	run_end(st, &r3, FX_STORE_FAIL);

	/* the same UID again: the same value, kept */
	assert_int_equal(alloc(st, &c, "UIDC", NULL, &r4, &a, &err), 0);
	assert_string_equal(a.value, "G4-2649-00001");
	assert_true(a.kept);
	assert_int_equal(a.state, FX_SERIAL_BOUND);
	assert_int_equal(fx_serial_finish(st, a.id, true, T0 + 9, &s, &err), 0);
	assert_int_equal(s, FX_SERIAL_BOUND);
	run_end(st, &r4, FX_STORE_PASS);

	/* PASS binds */
	assert_int_equal(fx_serial_finish(st, b.id, true, T0 + 9, &s, &err), 0);
	assert_int_equal(s, FX_SERIAL_BOUND);
	run_end(st, &r2, FX_STORE_PASS);
	assert_string_equal(q1(st, "SELECT count(*) FROM serial_alloc WHERE state = 'bound'"), "2");
	assert_string_equal(q1(st, "SELECT chip_uid FROM serial_alloc WHERE n = 1"), "UIDC");

	/* the event log: every change in order, one uuid per row */
	assert_string_equal(q1(st, "SELECT group_concat(state, ',') FROM (SELECT state FROM"
				   " serial_event WHERE value = 'G4-2649-00001' ORDER BY id)"),
			    "reserved,released,reserved,reached,bound");
	assert_string_equal(q1(st, "SELECT count(DISTINCT alloc_uuid) FROM serial_event"), "2");
	assert_string_equal(q1(st, "SELECT length(uuid) FROM serial_alloc LIMIT 1"), "36");
	assert_string_equal(q1(st, "SELECT run_uuid = (SELECT uuid FROM runs WHERE id = 3)"
				   " FROM serial_event WHERE state = 'reached'"), "1");
	fx_store_close(st);
}

static void test_void(void **state)
{
	struct fx_store *st = open_ok();
	struct fx_serial_conf c;
	struct fx_serial_alloc a;
	struct fx_store_run r;
	enum fx_serial_state s;
	struct fx_err err;
	struct fx_serial_pool_stats ps;

	(void)state;
	counter_conf(&c, "never-again", "V{n}", 10, 12, FX_SERIAL_VOID);
	assert_int_equal(fx_serial_prepare(st, &c, T0, NULL, &err), 0);
	assert_int_equal(alloc(st, &c, "U1", NULL, &r, &a, &err), 0);
	assert_string_equal(a.value, "V10");
	assert_int_equal(fx_serial_finish(st, a.id, false, T0, &s, &err), 0);
	assert_int_equal(s, FX_SERIAL_VOIDED);
	run_end(st, &r, FX_STORE_ERROR);
	assert_int_equal(alloc(st, &c, "U1", NULL, &r, &a, &err), 0);
	assert_string_equal(a.value, "V11");
	assert_int_equal(fx_serial_pool_stats(st, "never-again", &ps, &err), 0);
	assert_int_equal(ps.voided, 1);
	assert_int_equal(ps.reserved, 1);
	assert_int_equal(ps.remaining, 1);
	assert_string_equal(ps.last_value, "V11");
	/* a board carrying a voided value is a duplicate */
	run_end(st, &r, FX_STORE_ERROR);
	assert_int_equal(alloc(st, &c, "U9", "V10", &r, &a, &err), FX_E_DUPLICATE);
	assert_string_equal(err.msg, "duplicate serial 'V10': voided in the database");
	fx_store_close(st);
}

/* kill -9 leaves the run open: the next open marks it ABORTED, prepare
 * resolves its reservation (reached = bound, else released/voided). */
static void test_recover(void **state)
{
	struct fx_store *st = open_ok();
	struct fx_serial_conf c;
	struct fx_serial_alloc a, b, d;
	struct fx_store_run r1, r2, r3;
	struct fx_err err;
	unsigned n = 9;
	uint64_t left;

	(void)state;
	counter_conf(&c, "crash", "C{n:03}", 1, 10, FX_SERIAL_REUSE);
	assert_int_equal(fx_serial_prepare(st, &c, T0, NULL, &err), 0);
	assert_int_equal(alloc(st, &c, "U1", NULL, &r1, &a, &err), 0);
	assert_int_equal(alloc(st, &c, "U2", NULL, &r2, &b, &err), 0);
	assert_int_equal(fx_serial_reached(st, b.id, T0, &err), 0);
	assert_int_equal(alloc(st, &c, "U3", NULL, &r3, &d, &err), 0);
	/* r3 PASSed but the station died before finish: bound by its result */
	run_end(st, &r3, FX_STORE_PASS);
	/* open runs are never touched */
	assert_int_equal(fx_serial_recover(st, T0, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(q1(st, "SELECT state FROM serial_alloc WHERE value = 'C003'"), "bound");
	fx_store_close(st); /* as if killed: r1 and r2 never ended */

	st = open_ok();
	assert_int_equal(fx_store_recovered(st), 2);
	assert_int_equal(fx_serial_prepare(st, &c, T0 + 1, &left, &err), 0);
	assert_string_equal(q1(st, "SELECT state FROM serial_alloc WHERE value = 'C001'"),
			    "released");
	assert_string_equal(q1(st, "SELECT state || ' ' || chip_uid FROM serial_alloc"
				   " WHERE value = 'C002'"), "bound U2");
	assert_int_equal(left, 8); /* 7 never issued + 1 released */
	assert_int_equal(fx_serial_recover(st, T0, &n, &err), 0);
	assert_int_equal(n, 0);
	/* U2 comes back: keeps C002 */
	assert_int_equal(alloc(st, &c, "U2", NULL, &r1, &a, &err), 0);
	assert_string_equal(a.value, "C002");
	assert_true(a.kept);
	fx_store_close(st);
}

static void test_exhausted_and_blocks(void **state)
{
	struct fx_store *st = open_ok();
	struct fx_serial_conf c, l;
	struct fx_serial_alloc a;
	struct fx_store_run r;
	struct fx_err err;
	int64_t bid = 0;
	uint64_t left;

	(void)state;
	counter_conf(&c, "small", "S{n}", 1, 2, FX_SERIAL_REUSE);
	assert_int_equal(fx_serial_prepare(st, &c, T0, NULL, &err), 0);
	assert_int_equal(alloc(st, &c, "U1", NULL, &r, &a, &err), 0);
	assert_int_equal(alloc(st, &c, "U2", NULL, &r, &a, &err), 0);
	assert_int_equal(a.remaining, 0);
	assert_int_equal(alloc(st, &c, "U3", NULL, &r, &a, &err), FX_E_EXHAUSTED);
	assert_string_equal(err.msg, "pool 'small': no serial numbers left");
	/* a failed allocation leaves nothing behind */
	assert_string_equal(q1(st, "SELECT count(*) FROM serial_alloc"), "2");

	/* lease blocks: overlap refused, then used after the recipe block */
	assert_int_equal(fx_serial_pool_add_block(st, "small", 2, 5, "lease", "L-1", T0, &bid, &err),
			 FX_E_CONFIG);
	assert_string_equal(err.msg, "pool 'small': block [2, 5] overlaps block [1, 2]");
	assert_int_equal(fx_serial_pool_add_block(st, "small", 5, 3, NULL, NULL, T0, &bid, &err),
			 FX_E_INVAL);
	assert_int_equal(fx_serial_pool_add_block(st, "nope", 5, 6, NULL, NULL, T0, &bid, &err),
			 FX_E_NOTFOUND);
	assert_int_equal(fx_serial_pool_add_block(st, "small", 100, 101, "lease", "L-1", T0, &bid,
						  &err), 0);
	assert_true(bid > 0);
	assert_int_equal(fx_serial_pool_add_block(st, "small", 101, 200, "lease", "L-2", T0, NULL,
						  &err), FX_E_CONFIG);
	assert_string_equal(err.msg, "pool 'small': block [101, 200] overlaps block [100, 101]");
	assert_int_equal(fx_serial_prepare(st, &c, T0, &left, &err), 0);
	assert_int_equal(left, 2);
	assert_int_equal(alloc(st, &c, "U3", NULL, &r, &a, &err), 0);
	assert_string_equal(a.value, "S100");
	assert_string_equal(q1(st, "SELECT b.ref FROM serial_alloc a JOIN serial_block b"
				   " ON b.id = a.block_id WHERE a.value = 'S100'"), "L-1");

	/* the recipe disagrees with the database */
	counter_conf(&l, "small", "S{n}", 0, 2, FX_SERIAL_REUSE);
	assert_int_equal(fx_serial_prepare(st, &l, T0, NULL, &err), FX_E_CONFIG);
	assert_string_equal(err.msg, "pool 'small': recipe first = 0, the database's block starts at 1");
	counter_conf(&l, "small", "S{n}", 1, 1, FX_SERIAL_REUSE);
	assert_int_equal(fx_serial_prepare(st, &l, T0, NULL, &err), FX_E_CONFIG);
	assert_string_equal(err.msg, "pool 'small': last = 1 is below 2, already issued");
	l.source = FX_SERIAL_SCAN;
	assert_int_equal(fx_serial_prepare(st, &l, T0, NULL, &err), FX_E_CONFIG);
	assert_string_equal(err.msg, "pool 'small' is a counter pool in the database, the recipe says scan");
	counter_conf(&l, "small", "S{n}", 1, 2, FX_SERIAL_REUSE);
	l.central = true;
	assert_int_equal(fx_serial_prepare(st, &l, T0, NULL, &err), FX_E_CONFIG);
	/* growing last is fine */
	counter_conf(&l, "small", "S{n}", 1, 3, FX_SERIAL_REUSE);
	assert_int_equal(fx_serial_prepare(st, &l, T0, &left, &err), 0);
	assert_int_equal(left, 2);

	/* a central pool has only leased numbers */
	counter_conf(&l, "fleet", "F{n}", 1, 1000000, FX_SERIAL_REUSE);
	l.central = true;
	assert_int_equal(fx_serial_prepare(st, &l, T0, &left, &err), 0);
	assert_int_equal(left, 0);
	assert_int_equal(alloc(st, &l, "U1", NULL, &r, &a, &err), FX_E_EXHAUSTED);
	assert_int_equal(fx_serial_pool_add_block(st, "fleet", 1001, 2000, "lease", "7", T0, NULL,
						  &err), 0);
	assert_int_equal(alloc(st, &l, "U1", NULL, &r, &a, &err), 0);
	assert_string_equal(a.value, "F1001");
	fx_store_close(st);
}

static void test_unique_across_pools_and_found(void **state)
{
	struct fx_store *st = open_ok();
	struct fx_serial_conf c1, c2;
	struct fx_serial_alloc a;
	struct fx_store_run r;
	enum fx_serial_state s;
	struct fx_serial_pool_stats *ps = NULL;
	struct fx_err err;
	size_t n = 0;

	(void)state;
	counter_conf(&c1, "p1", "X{n}", 1, 50, FX_SERIAL_REUSE);
	counter_conf(&c2, "p2", "X{n}", 1, 50, FX_SERIAL_REUSE);
	assert_int_equal(fx_serial_prepare(st, &c1, T0, NULL, &err), 0);
	assert_int_equal(fx_serial_prepare(st, &c2, T0, NULL, &err), 0);
	assert_int_equal(alloc(st, &c1, "U1", NULL, &r, &a, &err), 0);
	assert_int_equal(alloc(st, &c1, "U2", NULL, &r, &a, &err), 0);
	/* p2 skips X1 and X2, issued by p1 */
	assert_int_equal(alloc(st, &c2, "U3", NULL, &r, &a, &err), 0);
	assert_string_equal(a.value, "X3");

	/* a board that carries a value: bound elsewhere = duplicate */
	assert_int_equal(alloc(st, &c1, "U9", "X3", &r, &a, &err), FX_E_DUPLICATE);
	assert_string_equal(err.msg, "duplicate serial 'X3': issued by pool 'p2'");
	assert_int_equal(fx_serial_finish(st, 1, true, T0, &s, &err), 0);
	assert_int_equal(alloc(st, &c1, "U9", "X1", &r, &a, &err), FX_E_DUPLICATE);
	assert_string_equal(err.msg, "duplicate serial 'X1': bound to chip UID U1");
	assert_int_equal(alloc(st, &c1, "U8", "X2", &r, &a, &err), FX_E_DUPLICATE);
	assert_true(strstr(err.msg, "duplicate serial 'X2': reserved by run 2") == err.msg);
	/* an unknown value on the board is adopted, and never issued again */
	assert_int_equal(alloc(st, &c1, "U7", "X4", &r, &a, &err), 0);
	assert_true(a.adopted);
	assert_int_equal(a.state, FX_SERIAL_BOUND);
	assert_int_equal(a.n, 4);
	assert_int_equal(alloc(st, &c1, "U7", "X4", &r, &a, &err), 0);
	assert_true(a.kept);
	assert_int_equal(alloc(st, &c1, "U6", NULL, &r, &a, &err), 0);
	assert_string_equal(a.value, "X5"); /* X3 (p2) and X4 (adopted) skipped */

	assert_int_equal(fx_serial_pools(st, &ps, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(ps[0].pool, "p1");
	assert_int_equal(ps[0].bound, 2);
	assert_int_equal(ps[0].reserved, 2);
	assert_int_equal(ps[0].blocks, 1);
	assert_string_equal(ps[0].last_value, "X5");
	assert_string_equal(ps[1].pool, "p2");
	assert_string_equal(ps[1].source, "counter");
	assert_int_equal(ps[1].reserved, 1);
	assert_int_equal(ps[1].remaining, 47);
	free(ps);
	fx_store_close(st);
}

static void test_list_and_scan(void **state)
{
	struct fx_store *st = open_ok();
	struct fx_serial_conf c;
	struct fx_serial_alloc a;
	struct fx_serial_request rq;
	struct fx_store_run r;
	struct fx_err err;
	char csv[400];
	uint64_t left;

	(void)state;
	snprintf(csv, sizeof(csv), "%s/s.csv", dir);
	fxt_conf_write(csv, "serial,mac\nA1,00:11:22:33:44:55\nA2,00:11:22:33:44:56\n");
	memset(&c, 0, sizeof(c));
	c.enabled = true;
	c.source = FX_SERIAL_LIST;
	snprintf(c.pool, sizeof(c.pool), "macs");
	snprintf(c.list, sizeof(c.list), "%s", csv);
	c.n_fields = 2;
	snprintf(c.fields[0].column, sizeof(c.fields[0].column), "serial");
	snprintf(c.fields[1].column, sizeof(c.fields[1].column), "mac");
	assert_int_equal(fx_serial_prepare(st, &c, T0, &left, &err), 0);
	assert_int_equal(left, 2);
	assert_int_equal(alloc(st, &c, "U1", NULL, &r, &a, &err), 0);
	assert_string_equal(a.value, "A1");
	assert_int_equal(a.n_cols, 2);
	assert_string_equal(a.cols[1], "00:11:22:33:44:55");
	assert_int_equal(alloc(st, &c, "U2", NULL, &r, &a, &err), 0);
	assert_string_equal(a.cols[1], "00:11:22:33:44:56");
	assert_int_equal(alloc(st, &c, "U3", NULL, &r, &a, &err), FX_E_EXHAUSTED);
	/* rows appended to the file: imported by value, old rows keep n */
	fxt_conf_write(csv, "serial,mac\nA0,00:11:22:33:44:50\nA1,00:11:22:33:44:55\n"
			    "A2,00:11:22:33:44:56\n");
	assert_int_equal(fx_serial_prepare(st, &c, T0, &left, &err), 0);
	assert_int_equal(left, 1);
	assert_int_equal(alloc(st, &c, "U3", NULL, &r, &a, &err), 0);
	assert_string_equal(a.value, "A0");
	assert_int_equal(a.n, 3);
	assert_string_equal(a.cols[1], "00:11:22:33:44:50");
	fxt_conf_write(csv, "serial\nA9\n");
	assert_int_equal(fx_serial_prepare(st, &c, T0, &left, &err), FX_E_CONFIG);
	fxt_conf_write(csv, "serial,mac\nA1,x\nA1,y\n");
	assert_int_equal(fx_serial_prepare(st, &c, T0, &left, &err), FX_E_CONFIG);
	assert_non_null(strstr(err.msg, "repeated"));

	/* scan: the operator's value; another UID with it is a duplicate */
	memset(&c, 0, sizeof(c));
	c.enabled = true;
	c.source = FX_SERIAL_SCAN;
	c.n_fields = 1;
	snprintf(c.pool, sizeof(c.pool), "labels");
	assert_int_equal(fx_serial_prepare(st, &c, T0, &left, &err), 0);
	assert_int_equal(left, UINT64_MAX);
	memset(&rq, 0, sizeof(rq));
	rq.conf = &c;
	rq.chip_uid = "U1";
	rq.scan = "LBL-1";
	rq.now_us = T0;
	rq.run_id = run_begin(st, &r);
	assert_int_equal(fx_serial_alloc(st, &rq, &a, &err), 0);
	assert_string_equal(a.value, "LBL-1");
	assert_int_equal(fx_serial_finish(st, a.id, true, T0, NULL, &err), 0);
	rq.chip_uid = "U2";
	rq.run_id = run_begin(st, &r);
	assert_int_equal(fx_serial_alloc(st, &rq, &a, &err), FX_E_DUPLICATE);
	assert_string_equal(err.msg, "duplicate serial 'LBL-1': bound to chip UID U1");
	fx_store_close(st);
}

#define THREADS 4
#define PER_THREAD 40

struct worker {
	struct fx_store *st;
	const struct fx_serial_conf *c;
	int id;
	char values[PER_THREAD][FX_SERIAL_VALUE_MAX];
	int rc;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	int i;

	for (i = 0; i < PER_THREAD && !w->rc; i++) {
		struct fx_run_start s = { .station = "L1", .slot = w->id, .recipe_name = "g474",
					  .start_utc_us = T0 };
		struct fx_store_run r;
		struct fx_serial_request rq = { .conf = w->c, .station = "L1", .now_us = T0 };
		struct fx_serial_alloc a;
		struct fx_err err;
		char uid[32];

		snprintf(uid, sizeof(uid), "T%d-%d", w->id, i);
		rq.chip_uid = uid;
		w->rc = fx_store_run_begin(w->st, &s, &r, &err);
		rq.run_id = r.id;
		if (!w->rc)
			w->rc = fx_serial_alloc(w->st, &rq, &a, &err);
		/* every third one fails before reaching the board: released */
		if (!w->rc)
			w->rc = fx_serial_finish(w->st, a.id, i % 3 != 0, T0, NULL, &err);
		snprintf(w->values[i], sizeof(w->values[i]), "%s", i % 3 ? a.value : "");
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct fx_store *st = open_ok();
	struct fx_serial_conf c;
	struct worker w[THREADS];
	pthread_t t[THREADS];
	struct fx_err err;
	int i, j, k, l;

	(void)state;
	counter_conf(&c, "gang", "G{n:04}", 1, 9999, FX_SERIAL_REUSE);
	assert_int_equal(fx_serial_prepare(st, &c, T0, NULL, &err), 0);
	for (i = 0; i < THREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].st = st;
		w[i].c = &c;
		w[i].id = i;
		assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].rc, 0);
	}
	/* no value bound twice across threads */
	for (i = 0; i < THREADS; i++)
		for (j = 0; j < PER_THREAD; j++)
			for (k = i; k < THREADS; k++)
				for (l = k == i ? j + 1 : 0; l < PER_THREAD; l++)
					if (w[i].values[j][0] && !strcmp(w[i].values[j], w[k].values[l]))
						fail_msg("%s bound twice", w[i].values[j]);
	assert_string_equal(q1(st, "SELECT count(*) FROM serial_alloc WHERE state = 'bound'"),
			    "104"); /* 160 - 56 released (i % 3 == 0: 14 per thread) */
	assert_string_equal(q1(st, "SELECT count(DISTINCT chip_uid) FROM serial_alloc"
				   " WHERE state = 'bound'"), "104");
	fx_store_close(st);
}

/* report serials and history by an allocated serial, read-only */
static void test_report(void **state)
{
	struct fx_store *st = open_ok();
	struct fx_serial_conf c;
	struct fx_serial_alloc a;
	struct fx_store_run r;
	struct fx_report_query q = { .kind = FX_REPORT_SERIALS };
	struct fx_report *rep;
	struct fx_err err;
	char *buf = NULL;
	size_t len = 0;
	FILE *mem;

	(void)state;
	counter_conf(&c, "main", "M{n:03}", 1, 10, FX_SERIAL_REUSE);
	assert_int_equal(fx_serial_prepare(st, &c, T0, NULL, &err), 0);
	assert_int_equal(alloc(st, &c, "UIDA", NULL, &r, &a, &err), 0);
	assert_int_equal(fx_store_run_set_unit(st, &r, NULL, "UIDA", FX_STORE_BOARD_BLANK, &err), 0);
	assert_int_equal(fx_serial_reached(st, a.id, T0, &err), 0);
	assert_int_equal(fx_serial_finish(st, a.id, false, T0, NULL, &err), 0);
	run_end(st, &r, FX_STORE_FAIL);
	assert_int_equal(alloc(st, &c, "UIDB", NULL, &r, &a, &err), 0);
	assert_int_equal(fx_serial_finish(st, a.id, false, T0, NULL, &err), 0);
	run_end(st, &r, FX_STORE_FAIL);
	fx_store_close(st);

	st = fx_store_open_readonly(dbpath, &err);
	assert_non_null(st);
	rep = fx_report_run(st, &q, &err);
	assert_non_null(rep);
	assert_int_equal(rep->tables[0].nrows, 1);
	assert_string_equal(rep->tables[0].cells[0].s, "main");
	mem = open_memstream(&buf, &len);
	assert_int_equal(fx_report_write(rep, FX_FMT_CSV, mem, &err), 0);
	fclose(mem);
	assert_string_equal(buf, "tz,from,to,pool,source,bound,reserved,released,voided,remaining,"
			    "blocks,last_value\r\nUTC,2026-12-02,2026-12-02,main,counter,1,0,1,0,9,1,M002\r\n");
	free(buf);
	fx_report_free(rep);
	/* the unit has no serial in units (FAIL): found by its bound value */
	q.kind = FX_REPORT_HISTORY;
	q.unit = "M001";
	rep = fx_report_run(st, &q, &err);
	if (!rep)
		fail_msg("history: %s", err.msg);
	assert_int_equal(rep->tables[0].nrows, 1);
	fx_report_free(rep);
	q.unit = "M002"; /* released: nobody's */
	assert_null(fx_report_run(st, &q, &err));
	assert_int_equal(err.code, FX_E_NOTFOUND);
	fx_store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reserve_finish_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_void, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exhausted_and_blocks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unique_across_pools_and_found, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_and_scan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

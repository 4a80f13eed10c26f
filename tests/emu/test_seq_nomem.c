/* test_seq_nomem.c - fault injection for every allocation of a station
 * run (STYLE 4, SQLite-style "fail the Nth call"): the binary interposes
 * malloc/calloc/realloc/free (tests/lib/nomem.h) and fails the Nth call
 * made while the station opens, the store opens, one blank board is
 * programmed and everything closes again, for every N until a run goes
 * through untouched. Each failure must end cleanly: an out-of-memory
 * error or a recorded non-PASS run, never a PASS that is not in the
 * database, and nothing leaked. The sanitizer build skips this suite
 * (ASan owns the allocator). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nomem.h"

#if !FXT_NOMEM_SUPPORTED

int main(void)
{
	return fxt_nomem_skip();
}

#else

#include <cmocka.h>
#include <sqlite3.h>

#include "conf_fix.h"
#include "seq_fix.h"

#include "fx/conf.h"
#include "fx/emu.h"
#include "fx/seq.h"
#include "fx/store.h"

FXT_NOMEM_INTERPOSE

/* glibc's own allocator, under the interposed one */
void *__libc_malloc(size_t n);
void __libc_free(void *p);

/* SQLite gets an allocator of its own that bypasses the injection: this
 * suite proves fixturectl's allocations; SQLite's out-of-memory paths are
 * the store's business (an injected SQLite failure currently crashes
 * fold_unit() in src/store/store_runs.c: sqlite3_column_text() NULL). */
static void *sq_malloc(int n)
{
	uint64_t *p = __libc_malloc((size_t)n + 16);

	if (!p)
		return NULL;
	p[0] = (uint64_t)n;
	return p + 2;
}

static void sq_free(void *q)
{
	if (q)
		__libc_free((uint64_t *)q - 2);
}

static int sq_size(void *q)
{
	return q ? (int)((uint64_t *)q)[-2] : 0;
}

static void *sq_realloc(void *q, int n)
{
	void *r = sq_malloc(n);

	if (r && q) {
		int old = sq_size(q);

		memcpy(r, q, (size_t)(old < n ? old : n));
		sq_free(q);
	}
	return r;
}

static int sq_roundup(int n)
{
	return (n + 7) & ~7;
}

static int sq_init(void *u)
{
	(void)u;
	return SQLITE_OK;
}

static void sq_shutdown(void *u)
{
	(void)u;
}

static const sqlite3_mem_methods sq_mem = {
	sq_malloc, sq_free, sq_realloc, sq_size, sq_roundup, sq_init, sq_shutdown, NULL,
};

/* the files, recipe and station (fx is not touched by the runs) */
static struct fxt_seq fx;

static void prepare(void)
{
	fxt_seq_init(&fx, "/tmp/fxseqnm.XXXXXX");
	fxt_seq_firmware(&fx, 3, fxt_seq_vectors);
	fxt_seq_recipe(&fx, "nomem", "1");
	fxt_seq_station(&fx, "nomem", false, true);
}

static const char *last_result(char *buf, size_t cap)
{
	sqlite3 *h;
	sqlite3_stmt *s;

	snprintf(buf, cap, "<none>");
	if (sqlite3_open_v2(fx.db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(h, "SELECT result FROM runs ORDER BY id DESC LIMIT 1",
			       -1, &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
			snprintf(buf, cap, "%s", (const char *)sqlite3_column_text(s, 0));
		sqlite3_finalize(s);
	}
	sqlite3_close(h);
	return buf;
}

/* One station start-up + one blank board + shutdown. Returns how it
 * ended: 0 = a run was recorded (out filled), else the error code. */
static int cycle(struct fx_seq_outcome *out, struct fx_err *err)
{
	struct fx_seq_station *s = NULL;
	struct fx_store *store;
	struct fx_seq_job job;
	struct fx_vclock vc;
	struct fx_emu *b;
	int rc;

	fx_vclock_init(&vc);
	store = fx_store_open(fx.db, err);
	if (!store)
		return err->code;
	rc = fx_seq_station_open(&fx.st, &vc.base, &s, err);
	if (rc)
		goto out_store;
	b = fx_seq_demo_board_new(FX_SEQ_DEMO_BLANK, 1, &fx.rcp, &fx.img, &vc.base, err);
	if (!b) {
		rc = err->code;
		goto out_station;
	}
	rc = fx_seq_slot_set_board(fx_seq_station_first(s), b, err);
	if (rc) {
		fx_emu_free(b);
		goto out_station;
	}
	fxt_seq_job(&fx, &job);
	rc = fx_seq_run(fx_seq_station_first(s), store, &job, out, err);
out_station:
	fx_seq_station_close(s);
out_store:
	fx_store_close(store);
	return rc;
}

static void test_every_allocation_fails_cleanly(void **state)
{
	struct fx_seq_outcome out;
	struct fx_err err;
	unsigned n, failures = 0, recorded_errors = 0;
	char res[16], what[320];
	int rc;

	(void)state;
	assert_int_equal(sqlite3_config(SQLITE_CONFIG_MALLOC, &sq_mem), SQLITE_OK);
	prepare();
	/* warm-up: SQLite's process-wide allocations happen once */
	fx_err_clear(&err);
	assert_int_equal(cycle(&out, &err), 0);
	assert_int_equal(out.result, FX_STORE_PASS);
	for (n = 1; n < 100000; n++) {
		fx_err_clear(&err);
		memset(&out, 0, sizeof(out));
		fxt_nomem_arm(n);
		rc = cycle(&out, &err);
		snprintf(what, sizeof(what), "station cycle (rc %s, %s)",
			 fx_err_name(rc), err.msg);
		/* a failure may end in a recorded non-PASS run (rc 0) */
		if (fxt_nomem_end_recoverable(what, n, rc)) {
			/* nothing left to fail: the clean run passed */
			assert_int_equal(out.result, FX_STORE_PASS);
			break;
		}
		if (rc == 0) {
			/* recorded: a PASS only if it is in the database */
			if (out.result == FX_STORE_PASS) {
				assert_true(out.recorded);
				assert_string_equal(last_result(res, sizeof(res)), "PASS");
			} else {
				recorded_errors++;
				assert_string_equal(last_result(res, sizeof(res)),
						    fx_store_result_name(out.result));
			}
		} else {
			assert_false(out.recorded && out.result == FX_STORE_PASS);
			/* a board file fopen() failing for want of memory
			 * is FX_E_NOMEM too */
			if (rc != FX_E_NOMEM) {
				fail_msg("allocation %u: got %s (%s), expected FX_E_NOMEM",
					 n, fx_err_name(rc), err.msg);
			} else if (!strstr(err.msg, "out of memory")) {
				fail_msg("allocation %u: message '%s'", n, err.msg);
			}
		}
		failures++;
	}
	print_message("%u allocations failed one by one (%u recorded as non-PASS runs)\n",
		      failures, recorded_errors);
	assert_true(failures >= 10);
	assert_int_equal(fxt_conf_rmdir(fx.dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_allocation_fails_cleanly),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

#endif

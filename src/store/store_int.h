/* store_int.h - private to src/store/: the store object, cached statements,
 * transaction helpers and what the files of the store share. The part the
 * report may use is store_sql.h.
 *
 *   store.c          open (migrate, recover), statement cache, transactions
 *   store_schema.c   schema, migrations, the SQL of every cached statement
 *   store_names.c    result and board-state names (the SQL text of the enums)
 *   store_record.c   recording: run begin, unit, steps, run end, recovery
 *   store_summary.c  the summary tables folded in with each finished run
 *   store_hist.c     the cycle-time histogram codec
 *   store_counts.c   the station's reads: counts of the day, latest time
 *   store_serial.c   serial number pools and allocations (fx/serial.h) */
#ifndef FX_STORE_STORE_INT_H
#define FX_STORE_STORE_INT_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "fx/err.h"
#include "fx/store.h"
#include "store_sql.h"

/* Cached prepared statements (prepared on first use, finalized at close). */
enum st_stmt {
	SQ_RUN_INSERT,
	SQ_RUN_GET,
	SQ_RUN_FINISH,
	SQ_RUN_SET_UNIT,
	SQ_UNIT_BY_SERIAL,
	SQ_UNIT_BY_UID,
	SQ_UNIT_INSERT,
	SQ_UNIT_FILL_UID,
	SQ_UNIT_FILL_SERIAL,
	SQ_UNIT_GET,
	SQ_UNIT_FIRST,
	SQ_UNIT_LAST,
	SQ_UNIT_SET_FIRST,
	SQ_STEP_INSERT,
	SQ_STEPS_OF_RUN,
	SQ_BUCKET_UPSERT,
	SQ_BUCKET_UNITS,
	SQ_PARETO_UPSERT,
	SQ_CYCLE_GET,
	SQ_CYCLE_UPSERT,
	SQ_OPEN_RUNS,
	SQ_COUNTS_DAY,
	SQ_LATEST,
	SQ_BEGIN,
	SQ_COMMIT,
	SQ_ROLLBACK,
	/* serial numbers (store_serial.c; its unlock_idle() resets
	 * SQ_SER_POOL_GET..SQ_SER_POOLS: keep them together, POOLS last) */
	SQ_SER_POOL_GET,
	SQ_SER_POOL_INSERT,
	SQ_SER_POOL_SET_LIST,
	SQ_SER_BLOCK_ORIGIN,
	SQ_SER_BLOCK_INSERT,
	SQ_SER_BLOCK_SET_LAST,
	SQ_SER_BLOCK_OVERLAP,
	SQ_SER_BLOCK_NEXT,
	SQ_SER_BLOCK_ADVANCE,
	SQ_SER_BLOCK_OF,
	SQ_SER_REMAINING,
	SQ_SER_LIST_MAX,
	SQ_SER_LIST_HAS,
	SQ_SER_LIST_INSERT,
	SQ_SER_LIST_ROW,
	SQ_SER_RECOVER,
	SQ_SER_BY_VALUE,
	SQ_SER_BY_UID,
	SQ_SER_RELEASED,
	SQ_SER_INSERT,
	SQ_SER_RESERVE,
	SQ_SER_BIND,
	SQ_SER_GET,
	SQ_SER_REACHED,
	SQ_SER_END,
	SQ_SER_COUNTS,
	SQ_SER_BLOCKS,
	SQ_SER_LAST,
	SQ_SER_POOLS,
	SQ__COUNT
};

struct fx_store {
	sqlite3 *db;
	char *path;
	bool readonly;
	bool bulk;
	bool bulk_failed;      /* a call failed inside the bulk: roll it back */
	unsigned recovered;
	int lock_fd;           /* PATH.lock, flock(LOCK_EX) while recording; -1 */
	dev_t dev;             /* identity of the database file at open: */
	ino_t ino;             /* checked before each recording transaction */
	bool seeded;
	uint64_t seed;
	/* issue 8 (store.c): a read-only descriptor of the database opened
	 * with it (is a moved file still linked?), closed after the SQLite
	 * connection; -1 */
	int db_fd;
	/* the background quick_check of a large file (store.c) */
	pthread_t check_thread;
	bool check_started;
	int check_stop;        /* set (atomically) by close: stop the check */
	sqlite3 *check_db;     /* the checker's own read-only connection */
	int check_state;       /* enum st_check in store.c, under lock */
	char check_msg[160];   /* quick_check's first complaint */
	pthread_mutex_t lock;
	sqlite3_stmt *stmt[SQ__COUNT];
};

/* Set FX_E_DB with "database 'PATH': <sqlite message>" (message copied). */
int fx_store_dberr(struct fx_store *st, struct fx_err *err);

/* Cached statement, reset and unbound; NULL + err on prepare failure. */
sqlite3_stmt *fx_store_stmt(struct fx_store *st, enum st_stmt which,
			    struct fx_err *err);

/* One recording transaction (BEGIN IMMEDIATE/COMMIT). Inside a bulk load
 * these do nothing, and end(ok=false) marks the bulk failed so that
 * fx_store_bulk_end() rolls everything back. */
int fx_store_txn_begin(struct fx_store *st, struct fx_err *err);
int fx_store_txn_end(struct fx_store *st, bool ok, struct fx_err *err);

/* Run a statement to completion (no rows expected). */
int fx_store_exec(struct fx_store *st, const char *sql, struct fx_err *err);

/* Schema (store_schema.c). */
int fx_store_schema_migrate(struct fx_store *st, int from, struct fx_err *err);
extern const char *const fx_store_stmt_sql[SQ__COUNT];

/* Bind text, or NULL for a NULL v. */
static inline void fx_store_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

/* Step a statement expecting no row (a RETURNING row is ignored), then
 * reset it; FX_E_DB with SQLite's message on failure. */
static inline int fx_store_run_stmt(struct fx_store *st, sqlite3_stmt *s, struct fx_err *err)
{
	int rc = sqlite3_step(s);

	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		fx_store_dberr(st, err);
		sqlite3_reset(s);
		return FX_E_DB;
	}
	sqlite3_reset(s);
	return 0;
}

/* Fold a finished run into units and the summary tables
 * (store_summary.c); inside a transaction. end_us < 0: no end time
 * (ABORTED at recovery). */
int fx_store_fold_run(struct fx_store *st, int64_t run_id, enum fx_store_result result,
		      int64_t end_us, struct fx_err *err);

/* A random version 4 UUID as text (store_record.c, from getrandom());
 * FX_E_IO "getrandom failed for WHAT" when there is no randomness. */
int fx_store_uuid4(char out[37], const char *what, struct fx_err *err);

/* Mark unfinished runs ABORTED (store_record.c), in its own transaction. */
int fx_store_recover(struct fx_store *st, unsigned *count, struct fx_err *err);

/* Histogram codec results (store_hist.c). */
enum fx_hist_rc {
	FX_HIST_OK,
	FX_HIST_MALFORMED,   /* not the encoding of store_sql.h */
	FX_HIST_OVERFLOW,    /* a count or sum would pass INT64_MAX */
	FX_HIST_NOMEM,
};
/* The histogram (len bytes at blob) with one more duration of us
 * microseconds: *out (malloc'd, the caller frees) of *outlen bytes. */
enum fx_hist_rc fx_store_hist_add_one(const void *blob, size_t len, int64_t us,
				      uint8_t **out, size_t *outlen);
/* Schema version 1's JSON text "[[hb,n,sum_us],...]" as the BLOB of
 * version 2: *out (malloc'd, NULL when empty) of *outlen bytes. */
enum fx_hist_rc fx_store_hist_from_json(const char *s, uint8_t **out, size_t *outlen);

/* UTC day number (days since 1970-01-01) of a UTC microsecond time. */
static inline int64_t fx_store_day(int64_t utc_us)
{
	int64_t s = utc_us / 1000000;

	if (utc_us < 0 && utc_us % 1000000)
		s--;
	return s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
}

#endif

/* fleet.h - many stations, one quality database (issue 12): store and
 * forward of the station records to a central PostgreSQL, through libpq
 * (<libpq-fe.h> is included only in src/fleet/).
 *
 * The station's SQLite stays the source of truth (fx/store.h: PASS is
 * shown after the local commit); the pusher only reads it and records the
 * server's acknowledgements there (fx/store_sync.h), so a dead, slow or
 * unreachable server never blocks a cycle.
 *
 * URI: a libpq connection URI ("postgresql://host/db?sslmode=verify-full")
 * or a conninfo string ("service=NAME", pg_service.conf). A password in
 * it is refused (FX_E_INVAL): passwords come only from libpq's own
 * mechanisms (~/.pgpass, PGPASSFILE, the service file). Messages name the
 * server by fx_fleet_uri(): host, port, database, user, service - never a
 * password. sslmode and certificates are libpq's.
 *
 * Central schema: src/fleet/fleet_schema.c (versioned migrations in
 * fx.schema_version), roles and GRANTs in scripts/fleet-roles.sql.
 *
 * Push protocol, one PostgreSQL transaction per batch (at most `batch`
 * runs in local commit order): check the schema version; fx.batch_begin
 * (locks the station row; refuses another role's station, a retired key,
 * a wrong epoch, or a batch that does not continue the last acknowledged
 * run); insert steps then runs with ON CONFLICT DO NOTHING (the global
 * keys: run uuid, (run uuid, seq)); the summaries follow by trigger from
 * the rows really inserted; fx.batch_end records the last run; COMMIT;
 * then the local acknowledgement (one SQLite transaction). A crash between
 * the two is repaired at the next attach: the server's last run is found
 * in the local queue and acknowledged locally; replays insert nothing.
 *
 * Errors: FX_E_INVAL (bad URI, password in it), FX_E_IO (cannot connect,
 * connection lost, server error during a batch: retry later), FX_E_DB
 * (schema version mismatch, "run fixturectl sync --init"; the local
 * database), FX_E_STATE (identity refused: replaced, restored or copied
 * station database; another role's station), FX_E_NOMEM.
 */
#ifndef FX_FX_FLEET_H
#define FX_FX_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fx/err.h"
#include "fx/report.h"
#include "fx/store_sync.h"

/* Central schema version this software writes and reads. */
#define FX_FLEET_SCHEMA_VERSION 4

/* Default batch size (runs per transaction). */
#define FX_FLEET_BATCH 500

/* s names a central database ("postgresql://", "postgres://" or a
 * conninfo string with '=', e.g. "service=NAME")? */
bool fx_fleet_is_uri(const char *s);

struct fx_fleet;

/* Connect (libpq, blocking; connect_timeout 10 s unless the URI sets
 * one). The caller frees with fx_fleet_close(). */
struct fx_fleet *fx_fleet_connect(const char *uri, struct fx_err *err);
void fx_fleet_close(struct fx_fleet *f);
/* The server as shown in messages, without any secret (borrowed). */
const char *fx_fleet_uri(const struct fx_fleet *f);

/* Apply the migrations up to FX_FLEET_SCHEMA_VERSION in one transaction
 * (owner role; roles fx_station and fx_report must exist). OUT: from, the
 * version found. A newer server schema is refused (FX_E_DB). */
int fx_fleet_init(struct fx_fleet *f, int *from, struct fx_err *err);

/* The server's schema version equals ours (FX_E_DB otherwise, with what to
 * do: upgrade fixturectl, or run sync --init). */
int fx_fleet_check_schema(struct fx_fleet *f, struct fx_err *err);

/* Check the station database's identity against the server (registering
 * the station at its first push) and repair a lost acknowledgement.
 * new_epoch: this database replaces the station's registered one on
 * purpose (a new key and epoch; every run is offered again, the server
 * keeps each run once). Returns 0, FX_E_STATE (refused), FX_E_IO,
 * FX_E_DB. The station name is the newest run's, else station (may be
 * NULL); with neither, returns 0 and *ready = false (nothing to push). */
int fx_fleet_attach(struct fx_fleet *f, struct fx_sync_db *db, const char *station,
		    bool new_epoch, bool *ready, struct fx_err *err);

/* Central serial pools: lease up to n values of pool for this (attached)
 * station in one locking transaction (fx.lease_serials: the pool row is
 * locked, the block cut from its cursor, recorded in fx.serial_leases with
 * its lease id). A pool unknown to the server is created as [pool_first,
 * pool_last]. OUT: *l (fewer than n values at the pool's end).
 * FX_E_EXHAUSTED "serial pool 'P' is exhausted", FX_E_STATE another
 * role's station; FX_E_IO. The caller adds the block to the local pool
 * (origin "lease", ref = the id); a block lost in between is found again
 * by fx_fleet_leases(). */
struct fx_fleet_lease {
	int64_t id;
	int64_t first, last;
};
int fx_fleet_lease(struct fx_fleet *f, struct fx_sync_db *db, const char *pool, int64_t n,
		   int64_t pool_first, int64_t pool_last, struct fx_fleet_lease *l,
		   struct fx_err *err);
/* Every lease of pool the server holds for this station, by id. OUT:
 * *out (the caller frees; NULL when *n = 0). */
int fx_fleet_leases(struct fx_fleet *f, struct fx_sync_db *db, const char *pool,
		    struct fx_fleet_lease **out, size_t *n, struct fx_err *err);

/* Keep the central serial pools registered in the station database
 * (fx_sync_db_set_pool) supplied (fleet_lease.c): a pool with fewer than
 * half a lease left (or none) gets blocks of `lease` values leased and
 * added to st, the station database's store (a store of another
 * connection, fx_sync_store_open, works beside a running station).
 * recovery: first add the server's leases of this station that have no
 * local block (lost between the two commits). OUT: *leased, blocks
 * added. Errors: FX_E_IO (server), FX_E_EXHAUSTED (the server's pool is
 * used up), FX_E_STATE, the store's (FX_E_DB, FX_E_CONFIG for a leased
 * block that overlaps a local one). */
struct fx_store;
int fx_fleet_refill(struct fx_fleet *f, struct fx_sync_db *db, struct fx_store *st, bool recovery,
		    unsigned *leased, struct fx_err *err);

/* Register the central pools among confs (n [serial_number] sections;
 * others skipped) in the station database at db_path: each pool is
 * prepared in st (created without a block of its own) and its lease
 * parameters (lease, first, last) recorded for the pusher. */
struct fx_serial_conf;
int fx_fleet_register_pools(const char *db_path, struct fx_store *st,
			    const struct fx_serial_conf *const *confs, size_t n, struct fx_err *err);
/* Wait at most wait_ms (50 ms polls of the database at db_path) until
 * every central pool among confs has values; false when one has none. */
bool fx_fleet_pools_wait(const char *db_path, const struct fx_serial_conf *const *confs, size_t n,
			 unsigned wait_ms);

/* Push one batch of at most limit runs and the serial allocation events
 * not yet pushed (at most 8 x limit; idempotent by (allocation uuid,
 * state, time), in their commit order) in the same transaction; OUT:
 * pushed runs, events (may be NULL; both 0 = nothing left). now_us (wall
 * clock) is recorded as the last success. */
int fx_fleet_push(struct fx_fleet *f, struct fx_sync_db *db, unsigned limit, size_t *pushed,
		  size_t *events, int64_t now_us, struct fx_err *err);

/* The pusher loop (sync, sync --follow, run --sync). */
struct fx_fleet_pusher_opts {
	const char *db_path;
	const char *uri;
	unsigned batch;            /* 0 = FX_FLEET_BATCH */
	bool follow;               /* keep running; else stop when drained */
	bool new_epoch;
	unsigned poll_ms;          /* wake-up poll of PRAGMA data_version; 0 = 200 */
	unsigned backoff_min_ms;   /* 0 = 1000 */
	unsigned backoff_max_ms;   /* 0 = 300000 (5 min) */
	const char *line;          /* station file's line, NULL = keep */
	const char *station;       /* station name before its first run, NULL */
	/* stop: polled between batches and while waiting (set by a signal
	 * handler or fx_fleet_pusher_stop) */
	volatile int *stop;
	/* progress / errors (may be NULL), called from the pusher's thread */
	void (*log)(void *ctx, const char *msg);
	void *ctx;
};

/* Run the loop in the caller's thread: connect, attach, then before each
 * batch keep the registered central serial pools supplied
 * (fx_fleet_refill on its own store connection; a refill trouble other
 * than the server's is logged and pauses the leasing for a minute), push.
 * Returns 0 when drained (no follow)
 * or stopped; a fatal error (FX_E_STATE, FX_E_DB schema, FX_E_FILE) ends
 * it. Transient errors (FX_E_IO) are retried with exponential backoff
 * (min .. max) and, without follow, end it with that error. OUT: pushed. */
int fx_fleet_pusher_run(const struct fx_fleet_pusher_opts *o, size_t *pushed,
			struct fx_err *err);

/* The same loop in a background thread (run --sync). opts is copied; its
 * strings must outlive the pusher; o->stop is ignored (the pusher has its
 * own). */
struct fx_fleet_pusher;
struct fx_fleet_pusher *fx_fleet_pusher_start(const struct fx_fleet_pusher_opts *o,
					      struct fx_err *err);
/* Backlog as last seen by the pusher (updated every poll): queued runs not
 * acknowledged and the wall-clock time of the oldest (0 if none). */
void fx_fleet_pusher_backlog(struct fx_fleet_pusher *p, int64_t *backlog, int64_t *oldest_us);
/* Stop (finishes the current batch), join, free. NULL accepted. OUT:
 * the loop's error, if any (may be NULL). */
int fx_fleet_pusher_stop(struct fx_fleet_pusher *p, struct fx_err *err);

/* Fleet reports: the same report (fx/report.h) computed from the central
 * summaries: the rows matching the query are loaded into a scratch SQLite
 * database with the local schema and the local report code runs on it, so
 * the definitions are the local ones. --by line (FX_BY_LINE) works here.
 * r->database is fx_fleet_uri(). */
struct fx_report *fx_fleet_report(const char *uri, const struct fx_report_query *q,
				  struct fx_err *err);

/* Wall clock, UTC microseconds (for callers' now_us). */
int64_t fx_fleet_now_us(void);

#endif

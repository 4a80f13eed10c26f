/* store_sync.h - the station database's side of fleet sync (issue 12):
 * what is queued for the central server, what the server acknowledged,
 * and the station's fleet identity. The server side is fx/fleet.h.
 *
 * Tables (created by fx_sync_db_open on first use, in ONE transaction, in
 * the station database itself; version in sync_state.version):
 *   sync_state  one row: station_key (UUID v4, the station's fleet-unique
 *               identity), epoch, acked_seq / acked_uuid (the last run the
 *               server acknowledged), line, last success / error
 *   sync_queue  seq (AUTOINCREMENT = commit order), run_id, queued_us
 *               (wall clock at the local commit)
 *   sync_pool   (version 2) the central serial pools' lease parameters
 *               (pool, lease, first, last), set by the station from its
 *               recipes, read by any pusher of the database
 * Version 2 also adds sync_state.acked_event: the serial allocation events
 * (the station's append-only serial_event, fx/serial.h) pushed so far.
 * A trigger on runs puts every run into sync_queue in the SAME transaction
 * that gives it its result (run end, or ABORTED at recovery), so nothing
 * committed locally can be missed; at setup the runs already finished are
 * queued in (end, id) order. The station's recording code is unchanged:
 * the trigger does the bookkeeping.
 *
 * Connection: fx_sync_db has its own SQLite connection to the file (WAL,
 * busy timeout), so it runs beside a recording station (fx_store_open's
 * lock is not taken); its writes are one small transaction per batch.
 *
 * Global keys sent to the server: runs by their uuid; units by
 * unit_key = serial, or "uid:" + chip UID for a unit without a serial;
 * steps by (run uuid, seq); stations by station_key.
 *
 * Errors: 0 or negative FX_E_*, err filled: FX_E_FILE (no such database),
 * FX_E_DB (SQLite's message, "database 'PATH': ..."), FX_E_NOMEM.
 * Threads: one fx_sync_db per thread.
 */
#ifndef FX_FX_STORE_SYNC_H
#define FX_FX_STORE_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fx/err.h"

#define FX_SYNC_DB_VERSION 2

struct fx_store;

struct fx_sync_db;

/* Open the station database at path (must exist and be a fixturectl
 * database) and set up the sync tables if missing. The caller frees it
 * with fx_sync_db_close(). */
struct fx_sync_db *fx_sync_db_open(const char *path, struct fx_err *err);
void fx_sync_db_close(struct fx_sync_db *db);
const char *fx_sync_db_path(const struct fx_sync_db *db);

struct fx_sync_identity {
	char station_key[37];
	int epoch;
	int64_t acked_seq;        /* 0 = nothing acknowledged yet */
	char acked_uuid[37];      /* "" when acked_seq is 0 */
	char station[128];        /* the station name of the newest run, "" if none */
	char line[128];           /* the [station] line, "" if none set */
	int64_t acked_event;      /* serial_event.id pushed up to, 0 = none */
};
int fx_sync_db_identity(struct fx_sync_db *db, struct fx_sync_identity *id,
			struct fx_err *err);

/* Record the station's line (from the station file). */
int fx_sync_db_set_line(struct fx_sync_db *db, const char *line, struct fx_err *err);

/* The next batch: the queued runs with seq > after_seq, in seq order, at
 * most limit, with their steps, as JSON arrays of objects whose keys are
 * the central table's columns (runs: uuid, seq, local_id, unit_key,
 * serial, chip_uid, station, line, slot, port_path, operator,
 * recipe_name, recipe_version, recipe_sha256, firmware_sha256,
 * board_state, start_us, end_us, result, failing_step, error_code,
 * error_message, software_version; steps: run_uuid, seq, name, start_us,
 * duration_us, result, detail). nruns = 0: nothing to push. Strings are
 * owned by the batch: fx_sync_batch_release(). */
struct fx_sync_batch {
	size_t nruns;
	int64_t first_seq, last_seq;
	char last_uuid[37];
	char *runs_json;
	char *steps_json;
};
int fx_sync_db_batch(struct fx_sync_db *db, int64_t after_seq, unsigned limit,
		     struct fx_sync_batch *b, struct fx_err *err);
void fx_sync_batch_release(struct fx_sync_batch *b);

/* The uuid of the queued run at seq (OUT: uuid, "" if there is none). */
int fx_sync_db_uuid_at(struct fx_sync_db *db, int64_t seq, char uuid[37],
		       struct fx_err *err);

/* The server committed everything up to seq (whose run is uuid; NULL or
 * "" when seq is 0) and the serial events up to event (never lowered):
 * record it, and the success time, in one transaction. */
int fx_sync_db_ack(struct fx_sync_db *db, int64_t seq, const char *uuid, int64_t event,
		   int64_t now_us, struct fx_err *err);

/* The next serial allocation events (serial_event rows with id > after,
 * in id = commit order, at most limit) as a JSON array of objects whose
 * keys are fx.serial_events' columns (local_id, alloc_uuid, pool, value,
 * state, run_uuid, chip_uid, time_us). n = 0: none (also for a database
 * without serial tables). json owned: fx_sync_events_release(). */
struct fx_sync_events {
	size_t n;
	int64_t last_id;
	char *json;
};
int fx_sync_db_events(struct fx_sync_db *db, int64_t after, unsigned limit,
		      struct fx_sync_events *ev, struct fx_err *err);
void fx_sync_events_release(struct fx_sync_events *ev);

/* Central serial pools: the lease parameters of pool (lease = values per
 * lease, [first, last] = the pool's range on the server), from the
 * recipe; kept for every pusher of the database. */
struct fx_sync_pool {
	char pool[64];
	unsigned lease;
	int64_t first, last;
};
int fx_sync_db_set_pool(struct fx_sync_db *db, const char *pool, unsigned lease, int64_t first,
			int64_t last, struct fx_err *err);
/* The registered pools that are central pools of the station database.
 * OUT: *out (the caller frees, NULL when *n = 0). */
int fx_sync_db_pools(struct fx_sync_db *db, struct fx_sync_pool **out, size_t *n,
		     struct fx_err *err);
/* Does pool hold a block of origin 'lease' with reference ref? */
int fx_sync_db_has_lease(struct fx_sync_db *db, const char *pool, const char *ref, bool *has,
			 struct fx_err *err);

/* Values left in pool (0 for an unknown pool), read on db's connection. */
int fx_sync_db_remaining(struct fx_sync_db *db, const char *pool, uint64_t *remaining,
			 struct fx_err *err);

/* A store on its own connection to the station database at path, for
 * the pusher's serial block writes (fx_serial_pool_add_block,
 * fx_serial_pool_stats) beside a recording station: it takes no lock,
 * recovers nothing and refuses a database whose schema is not this
 * software's (the station migrates it). Each call is one short
 * transaction (busy timeout as the station's). fx_store_close() frees. */
struct fx_store *fx_sync_store_open(const char *path, struct fx_err *err);

/* Remember the last error (msg must hold no secret: fx/fleet.h messages
 * never do) with its time; best effort. */
void fx_sync_db_note_error(struct fx_sync_db *db, int64_t now_us, const char *msg);

/* A new identity for a database that replaces the station's previous one
 * on purpose: new station_key, epoch = epoch, nothing acknowledged (every
 * run is offered again; the server keeps what it has by run uuid). */
int fx_sync_db_new_identity(struct fx_sync_db *db, int epoch, struct fx_err *err);

/* The epoch the server registered this database's key with. */
int fx_sync_db_set_epoch(struct fx_sync_db *db, int epoch, struct fx_err *err);

struct fx_sync_status {
	int64_t backlog;          /* queued runs not yet acknowledged */
	int64_t oldest_queued_us; /* wall clock of the oldest of them, 0 if none */
	int64_t last_ok_us;       /* 0 = never */
	int64_t last_err_us;      /* 0 = never */
	char last_error[256];
	struct fx_sync_identity id;
	int64_t events;           /* serial allocation events not yet pushed */
};
int fx_sync_db_status(struct fx_sync_db *db, struct fx_sync_status *s, struct fx_err *err);

/* Something was committed to the database by another connection since the
 * last call (PRAGMA data_version): the pusher's wake-up. */
int fx_sync_db_changed(struct fx_sync_db *db, bool *changed, struct fx_err *err);

/* A scratch database in memory with the station schema (fx/store.h), for
 * reports computed from rows loaded from elsewhere (the fleet reports):
 * sum_bucket has one more column, line TEXT NOT NULL DEFAULT '', no
 * unique key, and v_yield / v_pareto / v_cycle_bucket show line after
 * operator. label is what fx_store_path() returns (the report's
 * "database"). The caller loads rows through fx_store_sqlite() and frees
 * with fx_store_close(). */
struct fx_store *fx_store_open_scratch(const char *label, struct fx_err *err);

#endif

/* store.h - the station's records: one SQLite database per station
 * (issue 4 "Records (SQLite)"), read back by the reports (fx/report.h).
 *
 * Recording contract for the station sequence:
 *
 *   st = fx_store_open(path, &err);            // recovers unfinished runs
 *   fx_store_run_begin(st, &start, &run, &err); // COMMITTED before programming
 *   fx_store_run_set_unit(st, &run, serial, uid, state, &err);
 *   fx_store_step(st, &run, &step, &err);       // one call per finished step
 *   fx_store_run_end(st, &run, &end, &err);     // returns 0 only after COMMIT
 *   ...show PASS only now; any nonzero return = stop the station...
 *   fx_store_close(st);
 *
 * Durability: WAL journal, synchronous=FULL, busy_timeout 5000 ms. Every
 * recording call is its own transaction and is durable when it returns 0
 * (except inside fx_store_bulk_begin/end, which exists for generators of
 * test and benchmark data). A nonzero return means the record is NOT
 * written: the caller must not show PASS and must not program more boards.
 *
 * Time: every time is UTC microseconds since 1970-01-01 (int64_t) given by
 * the caller, never read from the system clock here, so tests driving a
 * virtual clock get known dates. "Day" means the UTC calendar day.
 *
 * Threads: every call takes the store's internal mutex, so slots running
 * in threads of one process may share one struct fx_store. Open the store
 * once per station process, before any slot starts.
 *
 * One recording process per database: fx_store_open() takes an exclusive
 * flock() on the side file "PATH.lock" (created 0644 next to the database,
 * holding the pid of the recording process, never removed) for the
 * store's lifetime, BEFORE it recovers unfinished runs, so the runs a
 * live station is recording are never marked ABORTED under it. A second
 * recording open of the same database (another process, or the same
 * process again) fails with FX_E_BUSY. Readers (fx_store_open_readonly)
 * never take the lock.
 *
 * Identity: the database file's (st_dev, st_ino) are remembered at open
 * and compared with stat(PATH) before every recording transaction
 * (run_begin, set_unit, step, run_end; at fx_store_bulk_begin only, not
 * per call, inside a bulk load): a database deleted, renamed or replaced
 * while open fails with FX_E_DB "database 'PATH' was removed or replaced
 * while open" (the records would otherwise go to an orphaned file). The
 * store then checkpoints every committed record into the file it has
 * open, wherever it was moved (SQLite's close does not checkpoint a moved
 * file, so they would stay in the PATH-wal left behind), and does so again
 * at fx_store_close(); a deleted file is left alone (its records are in
 * PATH-wal). fx_store_open() of a PATH that is missing while PATH-wal
 * holds frames refuses to start a new database over them.
 *
 * Errors: functions return 0 or a negative FX_E_* code and fill err (may
 * be NULL). Database failures are FX_E_DB with SQLite's message and the
 * database path; bad arguments FX_E_INVAL; allocation FX_E_NOMEM.
 *
 * Schema (FX_STORE_SCHEMA_VERSION, PRAGMA user_version; older files are
 * migrated on fx_store_open, newer ones refused): tables units, runs, steps,
 * summary tables (sum_bucket, sum_pareto, sum_cycle) maintained in the same
 * transaction as the run end, and views v_runs, v_steps, v_first_pass,
 * v_yield_daily, v_yield, v_pareto, v_pareto_all, v_cycle, v_cycle_bucket,
 * v_cycle_hist for sqlite3 users; the serial-number records (fx/serial.h,
 * version 3): tables serial_pool, serial_block, serial_list, serial_alloc,
 * serial_event (append-only, by trigger) and views v_serials,
 * v_serial_pools, v_serial_events.
 * The reports read the same views. Column meanings are in
 * src/store/store_schema.c.
 */
#ifndef FX_FX_STORE_H
#define FX_FX_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "fx/err.h"

/* Schema version written to PRAGMA user_version by this software. */
#define FX_STORE_SCHEMA_VERSION 3

/* A recording open runs PRAGMA quick_check on files (database + -wal) up
 * to this size before it returns; larger files are checked by a second,
 * read-only connection in a background thread while the station records
 * (env FX_STORE_CHECK_SYNC_MAX=BYTES overrides, for tests). */
#define FX_STORE_CHECK_SYNC_MAX (32u << 20)

/* Busy timeout used by every connection (another process may hold the
 * write lock while it commits). */
#define FX_STORE_BUSY_TIMEOUT_MS 5000

struct fx_store;

/* Result of a run (runs.result) or a step (steps.result). Stored as text:
 * 'PASS', 'FAIL', 'ERROR', 'ABORTED', 'SKIPPED'.
 *  PASS    the unit was programmed, verified and its application checked
 *  FAIL    the unit is bad (verify mismatch, app check failed, ...)
 *  ERROR   the station could not judge the unit (no device, tool error)
 *  ABORTED the run never finished (power loss, kill): set by fx_store_open
 *          or by the caller on Ctrl-C
 *  SKIPPED steps only: the step was not needed (e.g. option bytes equal) */
enum fx_store_result {
	FX_STORE_PASS = 0,
	FX_STORE_FAIL = 1,
	FX_STORE_ERROR = 2,
	FX_STORE_ABORTED = 3,
	FX_STORE_SKIPPED = 4,
};

/* Board state found by the probe (runs.board_state): 'unknown',
 * 'programmed', 'blank', 'corrupted', 'protected' (RDP active). */
enum fx_store_board {
	FX_STORE_BOARD_UNKNOWN = 0,
	FX_STORE_BOARD_PROGRAMMED = 1,
	FX_STORE_BOARD_BLANK = 2,
	FX_STORE_BOARD_CORRUPTED = 3,
	FX_STORE_BOARD_PROTECTED = 4,
};

/* Text as stored in the database ("PASS", "blank"); NULL if out of range.
 * Results are this enum everywhere in C; the text exists only in SQL and
 * on screen. */
const char *fx_store_result_name(enum fx_store_result r);
const char *fx_store_board_name(enum fx_store_board b);
/* The text back to the enum (exact, case-sensitive, as stored); false,
 * *r untouched, for NULL or any other text. */
bool fx_store_result_from_name(const char *s, enum fx_store_result *r);

/* Open (create if missing) path for recording: WAL, synchronous=FULL,
 * busy timeout, foreign keys; migrate the schema from any older
 * user_version to FX_STORE_SCHEMA_VERSION; mark every run without an end
 * as ABORTED (error_code 'FX_E_ABORTED', message "unfinished at start-up",
 * end time left NULL) and fold it into the summaries, all in one
 * transaction. The count is available through fx_store_recovered().
 * Before anything is written, issue 8: the file must be writable (a
 * read-only file, mount or directory is refused here, not at the first
 * run) and sound: PRAGMA quick_check runs before returning for files up
 * to FX_STORE_CHECK_SYNC_MAX (measured ~80 MB/s warm, ~40 MB/s cold: a
 * 32 MiB database ~0.4 s), and in a background thread on a second
 * connection for larger ones (the 10M-run, ~7 GB database: ~90 s of one
 * core while the station records; the first recording call after it
 * finds damage fails with the damaged message below).
 * Returns NULL and fills err (messages start "database 'PATH': "):
 *   FX_E_DB   "database 'PATH' is damaged (WHAT): not recording into it;
 *             restore the last backup, or rescue the records: sqlite3
 *             'PATH' .recover | sqlite3 NEW.db" (quick_check failed, or
 *             SQLite found a corrupt page or header: also from any
 *             recording call later);
 *             "database 'PATH' is read-only (file permissions or a
 *             read-only mount): the station cannot record into it";
 *             "database 'PATH' cannot be written (SQLITE MESSAGE): ...";
 *             "database 'PATH' is missing but 'PATH-wal' holds N bytes of
 *             its records (moved or deleted while recording?): put the
 *             database back, or move the -wal away to start a new one";
 *   FX_E_DB   "file is not a database"; "schema version 7 is newer than
 *             this software (2); upgrade fixturectl"; "not a fixturectl
 *             database (user_version 0 but N schema objects)"; a locked
 *             or unwritable database; a failed migration (rolled back)
 *             "cannot open lock file 'PATH.lock': <strerror>"
 *   FX_E_BUSY "database 'PATH' is in use by another station process
 *             (pid N)" (see "One recording process" above)
 *   FX_E_INVAL empty path;  FX_E_NOMEM
 * The caller owns the store: fx_store_close(). */
struct fx_store *fx_store_open(const char *path, struct fx_err *err);

/* Open path read-only (SQLITE_OPEN_READONLY; never creates, migrates or
 * recovers). Used by the reports. When neither "PATH-wal" nor
 * "PATH-journal" exists (no station has the database open: the last close
 * checkpoints and removes the -wal), the database is opened as the URI
 * "file:PATH?immutable=1", so no -wal/-shm side file is created (it would
 * belong to the report's user) and a database in a read-only directory can
 * be read. Such a reader takes no lock: a station starting meanwhile writes
 * to its -wal and the reader keeps seeing the file as it was, unless the
 * station checkpoints during the report (every ~1000 pages, or at its
 * close); that report may then fail with FX_E_DB or mix old and new
 * figures (run it again). The station is never affected. With a -wal, the
 * normal read-only open reads it (and needs a writable directory or an
 * existing -shm). Returns NULL and fills err:
 *   FX_E_FILE "database 'PATH': No such file or directory" (strerror of
 *             stat), and nothing is created
 *   FX_E_DB   not a database, schema version differs from
 *             FX_STORE_SCHEMA_VERSION (older: "open it once with the
 *             station to migrate it"; newer: "upgrade fixturectl")
 * Recording calls on a read-only store fail with FX_E_DB. */
struct fx_store *fx_store_open_readonly(const char *path, struct fx_err *err);

/* Close and free; NULL is accepted. A run begun and not ended stays
 * unfinished in the file and becomes ABORTED at the next fx_store_open().
 * The last connection's close checkpoints the WAL and removes -wal/-shm;
 * the recording lock is released after it. */
void fx_store_close(struct fx_store *st);

/* Number of unfinished runs fx_store_open() marked ABORTED. */
unsigned fx_store_recovered(const struct fx_store *st);

/* The path given at open (borrowed, lives as long as st). */
const char *fx_store_path(const struct fx_store *st);

/* Make run UUIDs deterministic (tests): a seeded generator replaces
 * getrandom(). The UUIDs keep the version-4 layout. */
void fx_store_set_uuid_seed(struct fx_store *st, uint64_t seed);

/* What is known when START is pressed. Strings are borrowed for the call
 * and copied into the database; NULL is stored as NULL (station and
 * recipe_name are required: FX_E_INVAL when NULL or empty). */
struct fx_run_start {
	const char *station;         /* [station] name */
	int slot;                    /* slot number from the station file */
	const char *port_path;       /* "1-1.4", "emu:board.json", ... */
	const char *operator_id;     /* --operator, NULL if none */
	const char *recipe_name;
	const char *recipe_version;
	const char *recipe_sha256;   /* hex of the recipe file */
	const char *firmware_sha256; /* hex of the firmware image */
	const char *software_version;/* fixturectl version */
	int64_t start_utc_us;        /* UTC microseconds */
};

/* A run in progress: plain data owned by the caller, filled by
 * fx_store_run_begin(). */
struct fx_store_run {
	int64_t id;             /* runs.id */
	char uuid[37];          /* runs.uuid, "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" */
	int64_t start_utc_us;
};

/* Insert the run row (result NULL = unfinished) and COMMIT before
 * returning. OUT: run. FX_E_INVAL for missing fields, FX_E_DB if the row
 * could not be committed (the station must stop). */
int fx_store_run_begin(struct fx_store *st, const struct fx_run_start *start,
		       struct fx_store_run *run, struct fx_err *err);

/* Attach the unit once identified: serial (operator scan or derived from
 * the UID) and/or chip UID (hex text); at least one of them non-NULL.
 * The unit is looked up by serial, then by chip UID, and created if new
 * (units table); a chip UID seen for the first time under a known serial
 * is added to it. Also records the board state found. May be called
 * again (later values win). Committed before returning. */
int fx_store_run_set_unit(struct fx_store *st, const struct fx_store_run *run,
			  const char *serial, const char *chip_uid,
			  enum fx_store_board board_state, struct fx_err *err);

/* One finished step. detail is free text (e.g. "optr 0xFFEFF8AA ->
 * 0xFFAFF8AA", "bytes 65536", "enum_us 830000"), NULL allowed. */
struct fx_store_step {
	const char *name;       /* "probe", "enter_boot", "erase", ... required */
	int64_t start_utc_us;
	int64_t duration_us;    /* >= 0 */
	enum fx_store_result result; /* PASS, FAIL, ERROR, ABORTED or SKIPPED */
	const char *detail;
};

/* Append a step to run (steps.seq counts from 1 per run). Committed before
 * returning, so an aborted run keeps the steps it finished. */
int fx_store_step(struct fx_store *st, const struct fx_store_run *run,
		  const struct fx_store_step *step, struct fx_err *err);

/* The outcome. failing_step/error_code/message are NULL/0 for PASS. */
struct fx_run_end {
	enum fx_store_result result; /* PASS, FAIL, ERROR or ABORTED */
	int64_t end_utc_us;          /* >= run start */
	const char *failing_step;    /* step name, NULL for PASS */
	int error_code;              /* FX_E_* (stored as its name, e.g.
				      * 'FX_E_TIMEOUT'); 0 for PASS */
	const char *message;         /* the cause as shown to the operator */
};

/* Complete the run row and update the unit and the summary tables in ONE
 * transaction; returns 0 only after COMMIT succeeded. Show PASS only then.
 * FX_E_STATE if the run already has a result, FX_E_INVAL for a bad
 * result or an end before the start, FX_E_DB if the commit failed (the
 * run then stays unfinished and becomes ABORTED at the next open). */
int fx_store_run_end(struct fx_store *st, const struct fx_store_run *run,
		     const struct fx_run_end *end, struct fx_err *err);

/* Counts for the operator display: finished runs that STARTED on the UTC
 * day containing day_utc_us (every report attributes a run to its start
 * day), optionally only those of operator_id (NULL = all operators). Read
 * from the summary table: cheap enough to call after every run. */
struct fx_store_counts {
	unsigned runs, passed, failed, errors; /* errors = ERROR + ABORTED */
};
int fx_store_counts_day(struct fx_store *st, int64_t day_utc_us,
			const char *operator_id, struct fx_store_counts *out,
			struct fx_err *err);

/* The latest time recorded (start or end of the newest run), 0 for an
 * empty database: a station whose clock is virtual starts its record
 * times after it, so records stay in order across processes. */
int fx_store_latest_us(struct fx_store *st, int64_t *us, struct fx_err *err);

/* The newest run start recorded, 0 for an empty database (issue 8: the
 * anchor of emulated stations' record times, see fixturectl run --help). */
int fx_store_latest_start_us(struct fx_store *st, int64_t *us, struct fx_err *err);

/* Bulk loading (benchmark and test data generators only): one open
 * transaction with synchronous=OFF until fx_store_bulk_end(), which
 * commits. Recording calls inside do not commit on their own; a crash
 * loses the whole bulk. A recording call that fails inside the bulk
 * poisons it: later calls fail with FX_E_STATE and fx_store_bulk_end()
 * rolls everything back and returns FX_E_STATE. */
int fx_store_bulk_begin(struct fx_store *st, struct fx_err *err);
int fx_store_bulk_end(struct fx_store *st, struct fx_err *err);

/* The connection and the histogram codec, for src/report and tests, are
 * in the library-private src/store/store_sql.h. */

#endif

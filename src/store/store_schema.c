/* store_schema.c - the database schema, its migrations (PRAGMA
 * user_version) and the SQL of every cached statement.
 *
 * Times are INTEGER UTC microseconds (*_us); days are INTEGER UTC day
 * numbers (days since 1970-01-01). The views add ISO text for sqlite3
 * users. A run is attributed to the UTC day it STARTED on.
 *
 * Summary tables (kept in the same transaction as the run end or the
 * recovery, so they always agree with runs):
 *   sum_bucket  one row per (day, station, slot, recipe, version, operator):
 *               runs / passed / failed / errors (ERROR) / aborted, and the
 *               unit cohort: units whose FIRST run is in this bucket, how
 *               many passed that first run, how many passed their LAST run
 *               (first and last among the unit's finished runs ordered by
 *               start time, then id, as in v_first_pass, whatever order
 *               the runs finished in)
 *   sum_pareto  per bucket: non-PASS runs by (failing step, error code)
 *   sum_cycle   per bucket and step ('' = the whole run; steps that are
 *               not SKIPPED): n, sum_us, max_us, and the duration
 *               histogram, a BLOB of fixed-width (hb, n, sum_us) entries
 *               ascending by hb (store_sql.h; version 1 kept JSON text).
 *               One row per (bucket, step) keeps all-time reports small;
 *               v_cycle_hist expands it.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "store_int.h"

/* The cycle views over sum_cycle (created by 0 -> 1, re-created by 1 -> 2
 * around the table's rebuild). */
#define V_CYCLE_BUCKET                                                                 \
	"CREATE VIEW v_cycle_bucket AS SELECT y.bucket_id, y.day_num, y.day, y.week_num,"  \
	"  y.station, y.slot, y.recipe_name, y.recipe_version, y.operator,"                \
	"  c.step, c.seq, c.n, c.sum_us, c.max_us, c.hist"                                 \
	" FROM sum_cycle c JOIN v_yield y ON y.bucket_id = c.bucket_id;"
#define V_CYCLE                                                                          \
	"CREATE VIEW v_cycle AS SELECT day, CASE step WHEN '' THEN '(run)' ELSE step END AS step," \
	"  sum(n) AS n, round(sum(sum_us) / 1000000.0 / sum(n), 3) AS mean_s,"               \
	"  max(max_us) / 1000000.0 AS max_s"                                                 \
	" FROM v_cycle_bucket GROUP BY day_num, step ORDER BY day_num, min(seq);"

/* One hex digit of h at 1-based position P, as a number. */
#define HEXDIGIT(P) "(instr('0123456789ABCDEF', substr(h, " P ", 1)) - 1)"
#define HIST_POS "k * 36 + i + 1"

/* user_version N -> N+1: SQL, then (if any) a C step, then more SQL. */
struct migration {
	const char *sql;
	int (*step)(struct fx_store *st, struct fx_err *err);
	const char *sql_after;
};

static int hist_to_blob(struct fx_store *st, struct fx_err *err);

static const struct migration migrations[] = {
	/* 0 -> 1: initial schema */ {
	"CREATE TABLE units("
	"  id INTEGER PRIMARY KEY,"
	"  serial TEXT UNIQUE,"             /* operator scan or derived from the UID */
	"  chip_uid TEXT,"                  /* 96-bit UID, hex */
	"  first_run_id INTEGER REFERENCES runs(id)," /* first finished run */
	"  first_result TEXT,"
	"  last_run_id INTEGER REFERENCES runs(id),"
	"  last_result TEXT,"
	"  bucket_id INTEGER REFERENCES sum_bucket(id)" /* bucket of the first run */
	");"
	"CREATE INDEX units_uid ON units(chip_uid);"
	"CREATE TABLE runs("
	"  id INTEGER PRIMARY KEY,"
	"  uuid TEXT NOT NULL UNIQUE,"
	"  unit_id INTEGER REFERENCES units(id),"
	"  serial TEXT, chip_uid TEXT,"     /* as identified during this run */
	"  station TEXT NOT NULL, slot INTEGER NOT NULL, port_path TEXT,"
	"  operator TEXT,"
	"  recipe_name TEXT NOT NULL, recipe_version TEXT, recipe_sha256 TEXT,"
	"  firmware_sha256 TEXT,"
	"  board_state TEXT NOT NULL DEFAULT 'unknown' CHECK(board_state IN"
	"   ('unknown','programmed','blank','corrupted','protected')),"
	"  start_us INTEGER NOT NULL, end_us INTEGER,"
	"  result TEXT CHECK(result IN ('PASS','FAIL','ERROR','ABORTED')),"
	"  failing_step TEXT, error_code TEXT, error_message TEXT,"
	"  software_version TEXT"
	");"
	"CREATE INDEX runs_unit ON runs(unit_id, start_us);"
	"CREATE INDEX runs_start ON runs(start_us);"
	"CREATE INDEX runs_open ON runs(id) WHERE result IS NULL;"
	"CREATE TABLE steps("
	"  run_id INTEGER NOT NULL REFERENCES runs(id),"
	"  seq INTEGER NOT NULL,"
	"  name TEXT NOT NULL, start_us INTEGER NOT NULL,"
	"  duration_us INTEGER NOT NULL CHECK(duration_us >= 0),"
	"  result TEXT NOT NULL CHECK(result IN ('PASS','FAIL','ERROR','ABORTED','SKIPPED')),"
	"  detail TEXT,"
	"  PRIMARY KEY(run_id, seq)"
	") WITHOUT ROWID;"
	"CREATE TABLE sum_bucket("
	"  id INTEGER PRIMARY KEY,"
	"  day INTEGER NOT NULL, station TEXT NOT NULL, slot INTEGER NOT NULL,"
	"  recipe_name TEXT NOT NULL, recipe_version TEXT NOT NULL,"
	"  operator TEXT NOT NULL,"         /* '' = none given */
	"  runs INTEGER NOT NULL DEFAULT 0, passed INTEGER NOT NULL DEFAULT 0,"
	"  failed INTEGER NOT NULL DEFAULT 0, errors INTEGER NOT NULL DEFAULT 0,"
	"  aborted INTEGER NOT NULL DEFAULT 0,"
	"  units INTEGER NOT NULL DEFAULT 0, units_first_pass INTEGER NOT NULL DEFAULT 0,"
	"  units_final_pass INTEGER NOT NULL DEFAULT 0,"
	"  UNIQUE(day, station, slot, recipe_name, recipe_version, operator)"
	");"
	"CREATE TABLE sum_pareto("
	"  bucket_id INTEGER NOT NULL REFERENCES sum_bucket(id),"
	"  step TEXT NOT NULL, error_code TEXT NOT NULL," /* '' = none */
	"  n INTEGER NOT NULL,"
	"  PRIMARY KEY(bucket_id, step, error_code)"
	") WITHOUT ROWID;"
	"CREATE TABLE sum_cycle("
	"  bucket_id INTEGER NOT NULL REFERENCES sum_bucket(id),"
	"  step TEXT NOT NULL,"             /* '' = the whole run */
	"  seq INTEGER NOT NULL,"           /* smallest step position seen (ordering) */
	"  n INTEGER NOT NULL, sum_us INTEGER NOT NULL, max_us INTEGER NOT NULL,"
	"  hist TEXT NOT NULL,"             /* [[hb, n, sum_us], ...] */
	"  PRIMARY KEY(bucket_id, step)"
	") WITHOUT ROWID;"
	/* views: what sqlite3 users and the reports read */
	"CREATE VIEW v_runs AS SELECT r.id AS run_id, r.uuid, r.unit_id,"
	"  COALESCE(u.serial, r.serial) AS serial, COALESCE(u.chip_uid, r.chip_uid) AS chip_uid,"
	"  r.station, r.slot, r.port_path, r.operator, r.recipe_name, r.recipe_version,"
	"  r.recipe_sha256, r.firmware_sha256, r.board_state,"
	"  strftime('%Y-%m-%dT%H:%M:%fZ', r.start_us / 1000000.0, 'unixepoch') AS start_utc,"
	"  strftime('%Y-%m-%dT%H:%M:%fZ', r.end_us / 1000000.0, 'unixepoch') AS end_utc,"
	"  date(r.start_us / 1000000, 'unixepoch') AS day,"
	"  (r.end_us - r.start_us) / 1000000.0 AS duration_s,"
	"  r.result, r.failing_step, r.error_code, r.error_message, r.software_version,"
	"  r.start_us, r.end_us"
	" FROM runs r LEFT JOIN units u ON u.id = r.unit_id;"
	"CREATE VIEW v_steps AS SELECT s.run_id, r.uuid, s.seq, s.name AS step,"
	"  strftime('%Y-%m-%dT%H:%M:%fZ', s.start_us / 1000000.0, 'unixepoch') AS start_utc,"
	"  s.duration_us / 1000000.0 AS duration_s, s.result, s.detail,"
	"  s.start_us, s.duration_us"
	" FROM steps s JOIN runs r ON r.id = s.run_id;"
	/* computed from the raw runs (no summary): the check on sum_bucket */
	"CREATE VIEW v_first_pass AS SELECT u.id AS unit_id, u.serial, u.chip_uid,"
	"  (SELECT count(*) FROM runs r WHERE r.unit_id = u.id AND r.result IS NOT NULL) AS runs,"
	"  (SELECT date(r.start_us / 1000000, 'unixepoch') FROM runs r WHERE r.unit_id = u.id"
	"    AND r.result IS NOT NULL ORDER BY r.start_us, r.id LIMIT 1) AS first_day,"
	"  (SELECT r.result FROM runs r WHERE r.unit_id = u.id AND r.result IS NOT NULL"
	"    ORDER BY r.start_us, r.id LIMIT 1) AS first_result,"
	"  (SELECT r.result FROM runs r WHERE r.unit_id = u.id AND r.result IS NOT NULL"
	"    ORDER BY r.start_us DESC, r.id DESC LIMIT 1) AS last_result"
	" FROM units u;"
	"CREATE VIEW v_yield AS SELECT b.id AS bucket_id, b.day AS day_num,"
	"  date(b.day * 86400, 'unixepoch') AS day,"
	"  b.day - ((b.day + 3) % 7) AS week_num," /* Monday of the ISO week */
	"  b.station, b.slot, b.recipe_name, b.recipe_version, b.operator,"
	"  b.runs, b.passed, b.failed, b.errors, b.aborted,"
	"  b.units, b.units_first_pass, b.units_final_pass"
	" FROM sum_bucket b;"
	"CREATE VIEW v_yield_daily AS SELECT day, sum(runs) AS runs,"
	"  sum(passed) AS passed, sum(failed) AS failed,"
	"  sum(errors) + sum(aborted) AS errors,"
	"  round(100.0 * sum(passed) / sum(runs), 2) AS yield_pct,"
	"  sum(units) AS units, sum(units_first_pass) AS first_pass,"
	"  round(100.0 * sum(units_first_pass) / NULLIF(sum(units), 0), 2) AS fpy_pct,"
	"  sum(units_final_pass) AS final_pass,"
	"  round(100.0 * sum(units_final_pass) / NULLIF(sum(units), 0), 2) AS final_pct"
	" FROM v_yield GROUP BY day_num ORDER BY day_num;"
	"CREATE VIEW v_pareto AS SELECT y.bucket_id, y.day_num, y.day, y.week_num,"
	"  y.station, y.slot, y.recipe_name, y.recipe_version, y.operator,"
	"  p.step, p.error_code, p.n"
	" FROM sum_pareto p JOIN v_yield y ON y.bucket_id = p.bucket_id;"
	V_CYCLE_BUCKET
	"CREATE VIEW v_cycle_hist AS SELECT c.bucket_id, c.day_num, c.day, c.week_num,"
	"  c.station, c.slot, c.recipe_name, c.recipe_version, c.operator, c.step, c.seq,"
	"  json_extract(h.value, '$[0]') AS hb, json_extract(h.value, '$[1]') AS n,"
	"  json_extract(h.value, '$[2]') AS sum_us"
	" FROM v_cycle_bucket c, json_each(c.hist) h;"
	V_CYCLE
	"CREATE VIEW v_pareto_all AS SELECT step, error_code, sum(n) AS n"
	" FROM v_pareto GROUP BY step, error_code ORDER BY n DESC, step, error_code;",
	NULL, NULL },
	/* 1 -> 2: sum_cycle.hist from JSON text to the BLOB of store_sql.h
	 * (one codec, no JSON in C): the table is rebuilt with a BLOB column
	 * and every histogram converted; the views over it are re-created,
	 * v_cycle_hist decoding the BLOB in plain SQL (hex digits, a
	 * recursive walk over the entries, then over their 36 digits). */
	{ "DROP VIEW v_cycle; DROP VIEW v_cycle_hist; DROP VIEW v_cycle_bucket;"
	"CREATE TABLE sum_cycle_v2("
	"  bucket_id INTEGER NOT NULL REFERENCES sum_bucket(id),"
	"  step TEXT NOT NULL,"             /* '' = the whole run */
	"  seq INTEGER NOT NULL,"           /* smallest step position seen (ordering) */
	"  n INTEGER NOT NULL, sum_us INTEGER NOT NULL, max_us INTEGER NOT NULL,"
	"  hist BLOB NOT NULL,"             /* store_sql.h: 18-byte (hb, n, sum_us) entries */
	"  PRIMARY KEY(bucket_id, step)"
	") WITHOUT ROWID;",
	hist_to_blob,
	"DROP TABLE sum_cycle;"
	"ALTER TABLE sum_cycle_v2 RENAME TO sum_cycle;"
	V_CYCLE_BUCKET
	"CREATE VIEW v_cycle_hist AS WITH RECURSIVE"
	" e(bucket_id, step, h, k) AS ("
	"  SELECT bucket_id, step, hex(hist), 0 FROM sum_cycle WHERE length(hist) >= 18"
	"  UNION ALL SELECT bucket_id, step, h, k + 1 FROM e WHERE (k + 2) * 36 <= length(h)),"
	" d(bucket_id, step, h, k, i, hb, n, sum_us) AS ("
	"  SELECT bucket_id, step, h, k, 0, 0, 0, 0 FROM e"
	"  UNION ALL SELECT bucket_id, step, h, k, i + 1,"
	"   CASE WHEN i < 4 THEN hb * 16 + " HEXDIGIT(HIST_POS) " ELSE hb END,"
	"   CASE WHEN i >= 4 AND i < 20 THEN n * 16 + " HEXDIGIT(HIST_POS) " ELSE n END,"
	"   CASE WHEN i >= 20 THEN sum_us * 16 + " HEXDIGIT(HIST_POS) " ELSE sum_us END"
	"  FROM d WHERE i < 36)"
	" SELECT c.bucket_id, c.day_num, c.day, c.week_num, c.station, c.slot, c.recipe_name,"
	"  c.recipe_version, c.operator, c.step, c.seq, d.hb, d.n, d.sum_us"
	" FROM v_cycle_bucket c JOIN d ON d.bucket_id = c.bucket_id AND d.step = c.step"
	" WHERE d.i = 36;"
	V_CYCLE },
	/* 2 -> 3: serial number allocation (issue 11, fx/serial.h).
	 *   serial_pool   one row per pool: source, the list's header and hash
	 *   serial_block  ranges [first, last] of numbers with the cursor next
	 *                 (next never issued; last + 1 = used up); origin
	 *                 'recipe' (counter range), 'list' ([1, rows]) or
	 *                 'lease' (a central database's block, ref = lease id)
	 *   serial_list   the imported rows of a list pool: n (row number from
	 *                 1), value, the other fields joined by 0x1F (a list
	 *                 never holds control characters)
	 *   serial_alloc  one row per value ever issued (value UNIQUE in the
	 *                 whole database): state reserved / bound / released
	 *                 / voided, the run and chip UID that hold or last held
	 *                 it, reserved/reached/ended times; uuid = the row's
	 *                 fleet-unique key
	 *   serial_event  append-only (triggers on serial_alloc): every state
	 *                 change, and 'reached', in commit order by id */
	{ "CREATE TABLE serial_pool("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  source TEXT NOT NULL CHECK(source IN ('counter','list','scan')),"
	"  format TEXT,"                    /* counter: as written */
	"  central INTEGER NOT NULL DEFAULT 0," /* blocks only by lease */
	"  list_sha256 TEXT, list_header TEXT," /* list: as last imported */
	"  created_us INTEGER NOT NULL"
	");"
	"CREATE TABLE serial_block("
	"  id INTEGER PRIMARY KEY,"
	"  pool_id INTEGER NOT NULL REFERENCES serial_pool(id),"
	"  first INTEGER NOT NULL, last INTEGER NOT NULL,"
	"  next INTEGER NOT NULL,"          /* lowest number never issued */
	"  origin TEXT NOT NULL CHECK(origin IN ('recipe','list','lease')),"
	"  ref TEXT, created_us INTEGER NOT NULL,"
	"  CHECK(first <= last AND next >= first AND next <= last + 1)"
	");"
	"CREATE INDEX serial_block_pool ON serial_block(pool_id, id);"
	"CREATE TABLE serial_list("
	"  pool_id INTEGER NOT NULL REFERENCES serial_pool(id),"
	"  n INTEGER NOT NULL, value TEXT NOT NULL, cols TEXT NOT NULL,"
	"  PRIMARY KEY(pool_id, n), UNIQUE(pool_id, value)"
	") WITHOUT ROWID;"
	"CREATE TABLE serial_alloc("
	"  id INTEGER PRIMARY KEY,"
	"  uuid TEXT NOT NULL UNIQUE,"
	"  pool_id INTEGER NOT NULL REFERENCES serial_pool(id),"
	"  block_id INTEGER REFERENCES serial_block(id),"
	"  n INTEGER,"                      /* NULL: scanned or found, no number */
	"  value TEXT NOT NULL UNIQUE,"
	"  state TEXT NOT NULL CHECK(state IN ('reserved','bound','released','voided')),"
	"  on_fail TEXT NOT NULL CHECK(on_fail IN ('reuse','void')),"
	"  run_id INTEGER REFERENCES runs(id),"
	"  chip_uid TEXT,"
	"  reserved_us INTEGER NOT NULL, reached_us INTEGER, ended_us INTEGER,"
	"  changed_us INTEGER NOT NULL"     /* time of the last change */
	");"
	"CREATE INDEX serial_alloc_released ON serial_alloc(pool_id, n, id)"
	" WHERE state = 'released';"
	"CREATE INDEX serial_alloc_open ON serial_alloc(run_id) WHERE state = 'reserved';"
	"CREATE INDEX serial_alloc_uid ON serial_alloc(chip_uid, pool_id);"
	"CREATE INDEX serial_alloc_pool ON serial_alloc(pool_id, state);"
	"CREATE TABLE serial_event("
	"  id INTEGER PRIMARY KEY,"
	"  alloc_uuid TEXT NOT NULL, pool TEXT NOT NULL, value TEXT NOT NULL,"
	"  state TEXT NOT NULL CHECK(state IN"
	"   ('reserved','reached','bound','released','voided')),"
	"  run_uuid TEXT, chip_uid TEXT, time_us INTEGER NOT NULL"
	");"
	"CREATE TRIGGER serial_alloc_insert AFTER INSERT ON serial_alloc BEGIN"
	" INSERT INTO serial_event(alloc_uuid, pool, value, state, run_uuid, chip_uid, time_us)"
	" VALUES(NEW.uuid, (SELECT name FROM serial_pool WHERE id = NEW.pool_id), NEW.value,"
	"  NEW.state, (SELECT uuid FROM runs WHERE id = NEW.run_id), NEW.chip_uid, NEW.changed_us);"
	" END;"
	"CREATE TRIGGER serial_alloc_update AFTER UPDATE ON serial_alloc"
	" WHEN NEW.state IS NOT OLD.state OR NEW.reached_us IS NOT OLD.reached_us BEGIN"
	" INSERT INTO serial_event(alloc_uuid, pool, value, state, run_uuid, chip_uid, time_us)"
	" VALUES(NEW.uuid, (SELECT name FROM serial_pool WHERE id = NEW.pool_id), NEW.value,"
	"  CASE WHEN NEW.state IS NOT OLD.state THEN NEW.state ELSE 'reached' END,"
	"  (SELECT uuid FROM runs WHERE id = NEW.run_id), NEW.chip_uid, NEW.changed_us);"
	" END;"
	"CREATE VIEW v_serials AS SELECT a.id AS alloc_id, a.uuid, p.name AS pool,"
	"  a.value, a.n, a.state, a.chip_uid, a.run_id, r.uuid AS run_uuid, r.result,"
	"  b.origin AS block_origin, b.ref AS block_ref,"
	"  strftime('%Y-%m-%dT%H:%M:%fZ', a.reserved_us / 1000000.0, 'unixepoch') AS reserved_utc,"
	"  strftime('%Y-%m-%dT%H:%M:%fZ', a.reached_us / 1000000.0, 'unixepoch') AS reached_utc,"
	"  strftime('%Y-%m-%dT%H:%M:%fZ', a.ended_us / 1000000.0, 'unixepoch') AS ended_utc"
	" FROM serial_alloc a JOIN serial_pool p ON p.id = a.pool_id"
	" LEFT JOIN runs r ON r.id = a.run_id LEFT JOIN serial_block b ON b.id = a.block_id;"
	"CREATE VIEW v_serial_pools AS SELECT p.name AS pool, p.source,"
	"  (SELECT count(*) FROM serial_alloc a WHERE a.pool_id = p.id AND a.state = 'bound') AS bound,"
	"  (SELECT count(*) FROM serial_alloc a WHERE a.pool_id = p.id AND a.state = 'reserved') AS reserved,"
	"  (SELECT count(*) FROM serial_alloc a WHERE a.pool_id = p.id AND a.state = 'released') AS released,"
	"  (SELECT count(*) FROM serial_alloc a WHERE a.pool_id = p.id AND a.state = 'voided') AS voided,"
	"  CASE p.source WHEN 'scan' THEN NULL ELSE"
	"   (SELECT COALESCE(sum(b.last - b.next + 1), 0) FROM serial_block b WHERE b.pool_id = p.id)"
	"   + (SELECT count(*) FROM serial_alloc a WHERE a.pool_id = p.id AND a.state = 'released')"
	"  END AS remaining,"
	"  (SELECT count(*) FROM serial_block b WHERE b.pool_id = p.id) AS blocks,"
	"  (SELECT a.value FROM serial_alloc a WHERE a.pool_id = p.id ORDER BY a.id DESC LIMIT 1)"
	"   AS last_value"
	" FROM serial_pool p;"
	"CREATE VIEW v_serial_events AS SELECT e.id, e.alloc_uuid, e.pool, e.value, e.state,"
	"  e.run_uuid, e.chip_uid,"
	"  strftime('%Y-%m-%dT%H:%M:%fZ', e.time_us / 1000000.0, 'unixepoch') AS time_utc, e.time_us"
	" FROM serial_event e;",
	NULL, NULL },
};

/* 1 -> 2: copy sum_cycle into sum_cycle_v2, each hist converted by the
 * codec. A histogram version 1 could not have written fails the
 * migration (rolled back, the file stays at version 1) naming its row. */
static int hist_to_blob(struct fx_store *st, struct fx_err *err)
{
	sqlite3_stmt *r = NULL, *w = NULL;
	enum fx_hist_rc hr;
	uint8_t *blob;
	size_t len;
	int rc;

	if (sqlite3_prepare_v2(st->db, "SELECT bucket_id, step, seq, n, sum_us, max_us, hist"
			       " FROM sum_cycle", -1, &r, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(st->db, "INSERT INTO sum_cycle_v2 VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
			       -1, &w, NULL) != SQLITE_OK) {
		rc = fx_store_dberr(st, err);
		goto out;
	}
	while ((rc = sqlite3_step(r)) == SQLITE_ROW) {
		hr = fx_store_hist_from_json((const char *)sqlite3_column_text(r, 6), &blob, &len);
		if (hr == FX_HIST_NOMEM) {
			rc = fx_err_set(err, FX_E_NOMEM, "database '%s': out of memory", st->path);
			goto out;
		}
		if (hr != FX_HIST_OK) {
			rc = fx_err_set(err, FX_E_DB,
					"database '%s': malformed sum_cycle.hist for bucket %lld step '%s'",
					st->path, (long long)sqlite3_column_int64(r, 0),
					(const char *)sqlite3_column_text(r, 1));
			goto out;
		}
		for (rc = 0; rc < 6; rc++)
			sqlite3_bind_value(w, rc + 1, sqlite3_column_value(r, rc));
		if (len)
			sqlite3_bind_blob(w, 7, blob, (int)len, free);
		else
			sqlite3_bind_zeroblob(w, 7, 0);
		rc = fx_store_run_stmt(st, w, err);
		if (rc)
			goto out;
	}
	rc = rc == SQLITE_DONE ? 0 : fx_store_dberr(st, err);
out:
	sqlite3_finalize(w);
	sqlite3_finalize(r);
	return rc;
}

int fx_store_schema_migrate(struct fx_store *st, int from, struct fx_err *err)
{
	const struct migration *m;
	int v, rc;
	char sql[64];

	for (v = from; v < FX_STORE_SCHEMA_VERSION; v++) {
		m = &migrations[v];
		rc = fx_store_exec(st, m->sql, err);
		if (!rc && m->step)
			rc = m->step(st, err);
		if (!rc && m->sql_after)
			rc = fx_store_exec(st, m->sql_after, err);
		if (rc)
			return fx_err_prefix(err, "migration %d -> %d", v, v + 1);
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		rc = fx_store_exec(st, sql, err);
		if (rc)
			return rc;
	}
	return 0;
}

const char *const fx_store_stmt_sql[SQ__COUNT] = {
	[SQ_RUN_INSERT] =
		"INSERT INTO runs(uuid, station, slot, port_path, operator, recipe_name,"
		" recipe_version, recipe_sha256, firmware_sha256, software_version, start_us)"
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[SQ_RUN_GET] =
		"SELECT result, start_us, station, slot, recipe_name,"
		" COALESCE(recipe_version, ''), COALESCE(operator, ''), unit_id,"
		" COALESCE(failing_step, ''), COALESCE(error_code, '')"
		" FROM runs WHERE id = ?1",
	[SQ_RUN_FINISH] =
		"UPDATE runs SET result = ?2, end_us = ?3, failing_step = ?4,"
		" error_code = ?5, error_message = ?6 WHERE id = ?1 AND result IS NULL",
	[SQ_RUN_SET_UNIT] =
		"UPDATE runs SET unit_id = ?2, serial = ?3, chip_uid = ?4, board_state = ?5"
		" WHERE id = ?1",
	[SQ_UNIT_BY_SERIAL] = "SELECT id, chip_uid FROM units WHERE serial = ?1",
	[SQ_UNIT_BY_UID] =
		"SELECT id, serial FROM units WHERE chip_uid = ?1 ORDER BY id DESC LIMIT 1",
	[SQ_UNIT_INSERT] = "INSERT INTO units(serial, chip_uid) VALUES(?1, ?2)",
	/* the all-zero UID: what RDP 1 boards were stored with before
	 * fx_prog_ident.uid_valid (a refused read, never a real UID) */
	[SQ_UNIT_FILL_UID] = "UPDATE units SET chip_uid = ?2 WHERE id = ?1 AND "
			     "(chip_uid IS NULL OR chip_uid = '000000000000000000000000')",
	[SQ_UNIT_FILL_SERIAL] = "UPDATE units SET serial = ?2 WHERE id = ?1 AND serial IS NULL",
	[SQ_UNIT_GET] =
		"SELECT u.first_run_id, u.last_result, u.bucket_id, u.first_result,"
		" f.start_us, u.last_run_id, l.start_us"
		" FROM units u LEFT JOIN runs f ON f.id = u.first_run_id"
		" LEFT JOIN runs l ON l.id = u.last_run_id WHERE u.id = ?1",
	[SQ_UNIT_FIRST] =
		"UPDATE units SET first_run_id = ?2, first_result = ?3, last_run_id = ?2,"
		" last_result = ?3, bucket_id = ?4 WHERE id = ?1",
	[SQ_UNIT_LAST] = "UPDATE units SET last_run_id = ?2, last_result = ?3 WHERE id = ?1",
	[SQ_UNIT_SET_FIRST] =
		"UPDATE units SET first_run_id = ?2, first_result = ?3, bucket_id = ?4 WHERE id = ?1",
	[SQ_STEP_INSERT] =
		"INSERT INTO steps(run_id, seq, name, start_us, duration_us, result, detail)"
		" VALUES(?1, (SELECT COALESCE(max(seq), 0) + 1 FROM steps WHERE run_id = ?1),"
		" ?2, ?3, ?4, ?5, ?6)",
	[SQ_STEPS_OF_RUN] =
		"SELECT name, duration_us, seq FROM steps WHERE run_id = ?1 AND result <> 'SKIPPED'",
	[SQ_BUCKET_UPSERT] =
		"INSERT INTO sum_bucket(day, station, slot, recipe_name, recipe_version, operator,"
		" runs, passed, failed, errors, aborted)"
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6, 1, ?7, ?8, ?9, ?10)"
		" ON CONFLICT(day, station, slot, recipe_name, recipe_version, operator)"
		" DO UPDATE SET runs = runs + 1, passed = passed + excluded.passed,"
		" failed = failed + excluded.failed, errors = errors + excluded.errors,"
		" aborted = aborted + excluded.aborted"
		" RETURNING id",
	[SQ_BUCKET_UNITS] =
		"UPDATE sum_bucket SET units = units + ?2, units_first_pass = units_first_pass + ?3,"
		" units_final_pass = units_final_pass + ?4 WHERE id = ?1",
	[SQ_PARETO_UPSERT] =
		"INSERT INTO sum_pareto(bucket_id, step, error_code, n) VALUES(?1, ?2, ?3, 1)"
		" ON CONFLICT(bucket_id, step, error_code) DO UPDATE SET n = n + 1",
	[SQ_CYCLE_GET] = "SELECT hist FROM sum_cycle WHERE bucket_id = ?1 AND step = ?2",
	[SQ_CYCLE_UPSERT] =
		"INSERT INTO sum_cycle(bucket_id, step, seq, n, sum_us, max_us, hist)"
		" VALUES(?1, ?2, ?3, 1, ?4, ?4, ?5)"
		" ON CONFLICT(bucket_id, step) DO UPDATE SET n = n + 1,"
		" sum_us = sum_us + excluded.sum_us, max_us = max(max_us, excluded.max_us),"
		" seq = min(seq, excluded.seq), hist = excluded.hist",
	[SQ_BEGIN] = "BEGIN IMMEDIATE",
	[SQ_COMMIT] = "COMMIT",
	[SQ_ROLLBACK] = "ROLLBACK",
	[SQ_OPEN_RUNS] = "SELECT id FROM runs WHERE result IS NULL ORDER BY id",
	/* the newest run by start (index runs_start), its end if later */
	[SQ_LATEST] = "SELECT max(start_us, COALESCE(end_us, start_us)) FROM runs"
		" ORDER BY start_us DESC LIMIT 1",
	[SQ_COUNTS_DAY] =
		"SELECT COALESCE(sum(runs), 0), COALESCE(sum(passed), 0), COALESCE(sum(failed), 0),"
		" COALESCE(sum(errors) + sum(aborted), 0) FROM sum_bucket"
		" WHERE day = ?1 AND (?2 IS NULL OR operator = ?2)",
	/* serial numbers (store_serial.c) */
	[SQ_SER_POOL_GET] =
		"SELECT id, source, central, COALESCE(list_sha256, ''), COALESCE(list_header, '')"
		" FROM serial_pool WHERE name = ?1",
	[SQ_SER_POOL_INSERT] =
		"INSERT INTO serial_pool(name, source, format, central, created_us)"
		" VALUES(?1, ?2, ?3, ?4, ?5)",
	[SQ_SER_POOL_SET_LIST] =
		"UPDATE serial_pool SET list_sha256 = ?2, list_header = ?3 WHERE id = ?1",
	[SQ_SER_BLOCK_ORIGIN] =
		"SELECT id, first, last, next FROM serial_block WHERE pool_id = ?1 AND origin = ?2"
		" ORDER BY id LIMIT 1",
	[SQ_SER_BLOCK_INSERT] =
		"INSERT INTO serial_block(pool_id, first, last, next, origin, ref, created_us)"
		" VALUES(?1, ?2, ?3, ?2, ?4, ?5, ?6)",
	[SQ_SER_BLOCK_SET_LAST] = "UPDATE serial_block SET last = ?2 WHERE id = ?1",
	[SQ_SER_BLOCK_OVERLAP] =
		"SELECT first, last FROM serial_block WHERE pool_id = ?1 AND first <= ?3 AND last >= ?2"
		" ORDER BY id LIMIT 1",
	[SQ_SER_BLOCK_NEXT] =
		"SELECT id, next FROM serial_block WHERE pool_id = ?1 AND next <= last ORDER BY id LIMIT 1",
	[SQ_SER_BLOCK_ADVANCE] = "UPDATE serial_block SET next = ?2 WHERE id = ?1",
	[SQ_SER_BLOCK_OF] =
		"SELECT id FROM serial_block WHERE pool_id = ?1 AND first <= ?2 AND last >= ?2"
		" ORDER BY id LIMIT 1",
	[SQ_SER_REMAINING] =
		"SELECT (SELECT COALESCE(sum(last - next + 1), 0) FROM serial_block WHERE pool_id = ?1)"
		" + (SELECT count(*) FROM serial_alloc WHERE pool_id = ?1 AND state = 'released')",
	[SQ_SER_LIST_MAX] = "SELECT COALESCE(max(n), 0) FROM serial_list WHERE pool_id = ?1",
	[SQ_SER_LIST_HAS] = "SELECT n FROM serial_list WHERE pool_id = ?1 AND value = ?2",
	[SQ_SER_LIST_INSERT] =
		"INSERT INTO serial_list(pool_id, n, value, cols) VALUES(?1, ?2, ?3, ?4)",
	[SQ_SER_LIST_ROW] = "SELECT value, cols FROM serial_list WHERE pool_id = ?1 AND n = ?2",
	/* reservations whose run has ended (index serial_alloc_open) */
	[SQ_SER_RECOVER] =
		"UPDATE serial_alloc SET state = CASE WHEN reached_us IS NOT NULL"
		" OR (SELECT result FROM runs r WHERE r.id = serial_alloc.run_id) = 'PASS' THEN 'bound'"
		" WHEN on_fail = 'void' THEN 'voided' ELSE 'released' END,"
		" ended_us = ?1, changed_us = ?1"
		" WHERE state = 'reserved' AND (run_id IS NULL OR NOT EXISTS(SELECT 1 FROM runs r"
		" WHERE r.id = serial_alloc.run_id AND r.result IS NULL))",
	[SQ_SER_BY_VALUE] =
		"SELECT a.id, a.pool_id, a.state, COALESCE(a.run_id, 0), COALESCE(a.chip_uid, ''),"
		" COALESCE(a.n, -1), p.name FROM serial_alloc a JOIN serial_pool p ON p.id = a.pool_id"
		" WHERE a.value = ?1",
	[SQ_SER_BY_UID] =
		"SELECT id, value, COALESCE(n, -1), state FROM serial_alloc"
		" WHERE chip_uid = ?1 AND pool_id = ?2"
		" AND (state = 'bound' OR (state = 'reserved' AND run_id = ?3)) ORDER BY id LIMIT 1",
	[SQ_SER_RELEASED] =
		"SELECT id, value, COALESCE(n, -1) FROM serial_alloc"
		" WHERE pool_id = ?1 AND state = 'released' ORDER BY n, id LIMIT 1",
	[SQ_SER_INSERT] =
		"INSERT INTO serial_alloc(uuid, pool_id, block_id, n, value, state, on_fail, run_id,"
		" chip_uid, reserved_us, ended_us, changed_us)"
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?10)",
	[SQ_SER_RESERVE] =
		"UPDATE serial_alloc SET state = 'reserved', on_fail = ?2, run_id = ?3, chip_uid = ?4,"
		" reserved_us = ?5, reached_us = NULL, ended_us = NULL, changed_us = ?5 WHERE id = ?1",
	[SQ_SER_BIND] =
		"UPDATE serial_alloc SET state = 'bound', run_id = ?2, chip_uid = ?3, ended_us = ?4,"
		" changed_us = ?4 WHERE id = ?1",
	[SQ_SER_GET] =
		"SELECT state, reached_us IS NOT NULL, on_fail FROM serial_alloc WHERE id = ?1",
	[SQ_SER_REACHED] =
		"UPDATE serial_alloc SET reached_us = ?2, changed_us = ?2"
		" WHERE id = ?1 AND state = 'reserved' AND reached_us IS NULL",
	[SQ_SER_END] =
		"UPDATE serial_alloc SET state = ?2, ended_us = ?3, changed_us = ?3 WHERE id = ?1",
	[SQ_SER_COUNTS] =
		"SELECT state, count(*) FROM serial_alloc WHERE pool_id = ?1 GROUP BY state",
	[SQ_SER_BLOCKS] = "SELECT count(*) FROM serial_block WHERE pool_id = ?1",
	[SQ_SER_LAST] =
		"SELECT value FROM serial_alloc WHERE pool_id = ?1 ORDER BY id DESC LIMIT 1",
	[SQ_SER_POOLS] = "SELECT name FROM serial_pool ORDER BY name",
};

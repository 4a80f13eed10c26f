/* store_sync.c - the station database's side of fleet sync: the sync
 * tables, the queue trigger, batches as JSON, acknowledgements
 * (fx/store_sync.h). Its own SQLite connection: it runs beside a
 * recording station and never takes the station's lock. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fx/store.h"
#include "fx/store_sync.h"
#include "store_int.h"

struct fx_sync_db {
	sqlite3 *db;
	char *path;
	int64_t data_version;
	bool serial;          /* the station schema has serial_event (version 3) */
};

static int dberr(struct fx_sync_db *d, struct fx_err *err)
{
	return fx_err_set(err, FX_E_DB, "database '%s': %s", d->path, sqlite3_errmsg(d->db));
}

static int exec(struct fx_sync_db *d, const char *sql, struct fx_err *err)
{
	return sqlite3_exec(d->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : dberr(d, err);
}


/* wall clock in the trigger: when the run was committed locally */
#define NOW_US "CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)"

static const char schema_v1[] =
	"CREATE TABLE sync_state("
	"  one INTEGER PRIMARY KEY CHECK(one = 1),"
	"  version INTEGER NOT NULL,"
	"  station_key TEXT NOT NULL, epoch INTEGER NOT NULL,"
	"  acked_seq INTEGER NOT NULL DEFAULT 0, acked_uuid TEXT,"
	"  line TEXT,"
	"  last_ok_us INTEGER, last_err_us INTEGER, last_error TEXT"
	");"
	"CREATE TABLE sync_queue("
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  run_id INTEGER NOT NULL UNIQUE REFERENCES runs(id),"
	"  queued_us INTEGER NOT NULL"
	");"
	"CREATE TRIGGER sync_queue_run AFTER UPDATE OF result ON runs"
	" WHEN OLD.result IS NULL AND NEW.result IS NOT NULL BEGIN"
	"  INSERT OR IGNORE INTO sync_queue(run_id, queued_us) VALUES(NEW.id, " NOW_US ");"
	" END;"
	"INSERT INTO sync_queue(run_id, queued_us) SELECT id, " NOW_US " FROM runs"
	" WHERE result IS NOT NULL ORDER BY COALESCE(end_us, start_us), id;";

/* version 2: serial allocation events pushed up to acked_event
 * (serial_event.id), the central pools' lease parameters */
static const char schema_v2[] =
	"ALTER TABLE sync_state ADD COLUMN acked_event INTEGER NOT NULL DEFAULT 0;"
	"CREATE TABLE sync_pool("
	"  pool TEXT PRIMARY KEY,"
	"  lease INTEGER NOT NULL CHECK(lease >= 1),"
	"  first INTEGER NOT NULL, last INTEGER NOT NULL"
	");"
	"UPDATE sync_state SET version = 2;";

static int setup(struct fx_sync_db *d, struct fx_err *err)
{
	sqlite3_stmt *s;
	char key[37];
	int rc, have;

	rc = exec(d, "BEGIN IMMEDIATE", err);
	if (rc)
		return rc;
	if (sqlite3_prepare_v2(d->db, "SELECT count(*) FROM sqlite_master WHERE name = 'sync_state'",
			       -1, &s, NULL) != SQLITE_OK)
		goto err_db;
	have = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
	sqlite3_finalize(s);
	if (have < 0)
		goto err_db;
	if (have) {
		if (sqlite3_prepare_v2(d->db, "SELECT version FROM sync_state", -1, &s, NULL) !=
		    SQLITE_OK)
			goto err_db;
		have = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
		sqlite3_finalize(s);
		if (have == 1) {
			if (exec(d, schema_v2, err))
				goto err_rollback;
			return exec(d, "COMMIT", err);
		}
		exec(d, "ROLLBACK", NULL);
		if (have == FX_SYNC_DB_VERSION)
			return 0;
		return fx_err_set(err, FX_E_DB, "database '%s': sync tables version %d, expected %d",
				  d->path, have, FX_SYNC_DB_VERSION);
	}
	rc = fx_store_uuid4(key, "a station key", err);
	if (rc)
		goto err_rollback;
	if (exec(d, schema_v1, err))
		goto err_rollback;
	if (sqlite3_prepare_v2(d->db, "INSERT INTO sync_state(one, version, station_key, epoch)"
			       " VALUES(1, ?1, ?2, 1)", -1, &s, NULL) != SQLITE_OK)
		goto err_db;
	sqlite3_bind_int(s, 1, 1);
	sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		goto err_db;
	if (exec(d, schema_v2, err))
		goto err_rollback;
	return exec(d, "COMMIT", err);
err_db:
	dberr(d, err);
err_rollback:
	exec(d, "ROLLBACK", NULL);
	return FX_E_DB;
}

struct fx_sync_db *fx_sync_db_open(const char *path, struct fx_err *err)
{
	struct fx_sync_db *d;
	struct stat sb;
	sqlite3_stmt *s;
	int v = -1;

	if (!path || !*path) {
		fx_err_set(err, FX_E_INVAL, "sync: no database given");
		return NULL;
	}
	if (stat(path, &sb)) {
		fx_err_set(err, FX_E_FILE, "database '%s': No such file or directory", path);
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d || !(d->path = strdup(path))) {
		free(d);
		fx_err_set(err, FX_E_NOMEM, "database '%s': out of memory", path);
		return NULL;
	}
	if (sqlite3_open_v2(path, &d->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		dberr(d, err);
		goto err_close;
	}
	sqlite3_busy_timeout(d->db, FX_STORE_BUSY_TIMEOUT_MS);
	if (exec(d, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON",
		 err))
		goto err_close;
	if (sqlite3_prepare_v2(d->db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW)
			v = sqlite3_column_int(s, 0);
		sqlite3_finalize(s);
	}
	if (v < 1) {
		fx_err_set(err, FX_E_DB, "database '%s': not a fixturectl station database", path);
		goto err_close;
	}
	if (v > FX_STORE_SCHEMA_VERSION) {
		fx_err_set(err, FX_E_DB, "database '%s': schema version %d is newer than this"
			   " software (%d); upgrade fixturectl", path, v, FX_STORE_SCHEMA_VERSION);
		goto err_close;
	}
	if (setup(d, err))
		goto err_close;
	if (sqlite3_prepare_v2(d->db, "SELECT count(*) FROM sqlite_master WHERE name = 'serial_event'",
			       -1, &s, NULL) == SQLITE_OK) {
		d->serial = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0) > 0;
		sqlite3_finalize(s);
	}
	return d;
err_close:
	fx_sync_db_close(d);
	return NULL;
}

void fx_sync_db_close(struct fx_sync_db *d)
{
	if (!d)
		return;
	sqlite3_close(d->db);
	free(d->path);
	free(d);
}

const char *fx_sync_db_path(const struct fx_sync_db *d)
{
	return d->path;
}

static void copy_col(char *dst, size_t len, sqlite3_stmt *s, int col)
{
	const char *v = (const char *)sqlite3_column_text(s, col);

	snprintf(dst, len, "%s", v ? v : "");
}

int fx_sync_db_identity(struct fx_sync_db *d, struct fx_sync_identity *id, struct fx_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(d->db,
			       "SELECT station_key, epoch, acked_seq, acked_uuid, line,"
			       " (SELECT station FROM runs ORDER BY id DESC LIMIT 1), acked_event"
			       " FROM sync_state",
			       -1, &s, NULL) != SQLITE_OK)
		return dberr(d, err);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		rc = dberr(d, err);
		sqlite3_finalize(s);
		return rc;
	}
	memset(id, 0, sizeof(*id));
	copy_col(id->station_key, sizeof(id->station_key), s, 0);
	id->epoch = sqlite3_column_int(s, 1);
	id->acked_seq = sqlite3_column_int64(s, 2);
	copy_col(id->acked_uuid, sizeof(id->acked_uuid), s, 3);
	copy_col(id->line, sizeof(id->line), s, 4);
	copy_col(id->station, sizeof(id->station), s, 5);
	id->acked_event = sqlite3_column_int64(s, 6);
	sqlite3_finalize(s);
	return 0;
}

static int run1(struct fx_sync_db *d, sqlite3_stmt *s, struct fx_err *err)
{
	int rc = sqlite3_step(s);

	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		rc = dberr(d, err);
	else
		rc = 0;
	sqlite3_finalize(s);
	return rc;
}

int fx_sync_db_set_line(struct fx_sync_db *d, const char *line, struct fx_err *err)
{
	sqlite3_stmt *s;

	if (sqlite3_prepare_v2(d->db, "UPDATE sync_state SET line = ?1 WHERE line IS NOT ?1",
			       -1, &s, NULL) != SQLITE_OK)
		return dberr(d, err);
	if (line && *line)
		sqlite3_bind_text(s, 1, line, -1, SQLITE_STATIC);
	return run1(d, s, err);
}

/* Runs and steps of the batch as JSON built by SQLite (json1): every
 * value is escaped by SQLite, keys are the central table's columns. */
#define BATCH_RUNS                                                                    \
	"SELECT q.seq, r.id, r.uuid FROM sync_queue q JOIN runs r ON r.id = q.run_id"     \
	" WHERE q.seq > ?1 ORDER BY q.seq LIMIT ?2"
static const char batch_runs_sql[] =
	"WITH b AS (" BATCH_RUNS ")"
	" SELECT count(*), min(b.seq), max(b.seq),"
	" (SELECT uuid FROM b ORDER BY seq DESC LIMIT 1),"
	" json_group_array(json_object("
	"  'uuid', r.uuid, 'seq', b.seq, 'local_id', r.id,"
	"  'unit_key', CASE WHEN u.id IS NULL THEN NULL WHEN u.serial IS NOT NULL THEN u.serial"
	"   WHEN u.chip_uid IS NOT NULL THEN 'uid:' || u.chip_uid END,"
	"  'serial', COALESCE(u.serial, r.serial), 'chip_uid', COALESCE(u.chip_uid, r.chip_uid),"
	"  'station', r.station, 'line', (SELECT line FROM sync_state), 'slot', r.slot,"
	"  'port_path', r.port_path, 'operator', r.operator, 'recipe_name', r.recipe_name,"
	"  'recipe_version', r.recipe_version, 'recipe_sha256', r.recipe_sha256,"
	"  'firmware_sha256', r.firmware_sha256, 'board_state', r.board_state,"
	"  'start_us', r.start_us, 'end_us', r.end_us, 'result', r.result,"
	"  'failing_step', r.failing_step, 'error_code', r.error_code,"
	"  'error_message', r.error_message, 'software_version', r.software_version))"
	" FROM b JOIN runs r ON r.id = b.id LEFT JOIN units u ON u.id = r.unit_id";
static const char batch_steps_sql[] =
	"WITH b AS (" BATCH_RUNS ")"
	" SELECT json_group_array(json_object('run_uuid', b.uuid, 'seq', s.seq, 'name', s.name,"
	"  'start_us', s.start_us, 'duration_us', s.duration_us, 'result', s.result,"
	"  'detail', s.detail))"
	" FROM b JOIN steps s ON s.run_id = b.id";

static char *dup_col(sqlite3_stmt *s, int col)
{
	const char *v = (const char *)sqlite3_column_text(s, col);

	return strdup(v ? v : "[]");
}

int fx_sync_db_batch(struct fx_sync_db *d, int64_t after_seq, unsigned limit,
		     struct fx_sync_batch *b, struct fx_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	memset(b, 0, sizeof(*b));
	/* one read transaction: runs and steps of the same snapshot */
	rc = exec(d, "BEGIN", err);
	if (rc)
		return rc;
	if (sqlite3_prepare_v2(d->db, batch_runs_sql, -1, &s, NULL) != SQLITE_OK)
		goto err_db;
	sqlite3_bind_int64(s, 1, after_seq);
	sqlite3_bind_int(s, 2, (int)limit);
	if (sqlite3_step(s) != SQLITE_ROW)
		goto err_db;
	b->nruns = (size_t)sqlite3_column_int64(s, 0);
	if (b->nruns) {
		b->first_seq = sqlite3_column_int64(s, 1);
		b->last_seq = sqlite3_column_int64(s, 2);
		copy_col(b->last_uuid, sizeof(b->last_uuid), s, 3);
		b->runs_json = dup_col(s, 4);
		if (!b->runs_json)
			goto err_nomem;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (b->nruns) {
		if (sqlite3_prepare_v2(d->db, batch_steps_sql, -1, &s, NULL) != SQLITE_OK)
			goto err_db;
		sqlite3_bind_int64(s, 1, after_seq);
		sqlite3_bind_int(s, 2, (int)limit);
		if (sqlite3_step(s) != SQLITE_ROW)
			goto err_db;
		b->steps_json = dup_col(s, 0);
		if (!b->steps_json)
			goto err_nomem;
		sqlite3_finalize(s);
	}
	exec(d, "COMMIT", NULL);
	return 0;
err_nomem:
	rc = fx_err_set(err, FX_E_NOMEM, "database '%s': out of memory", d->path);
	goto out;
err_db:
	rc = dberr(d, err);
out:
	sqlite3_finalize(s);
	exec(d, "ROLLBACK", NULL);
	fx_sync_batch_release(b);
	return rc;
}

void fx_sync_batch_release(struct fx_sync_batch *b)
{
	if (!b)
		return;
	free(b->runs_json);
	free(b->steps_json);
	memset(b, 0, sizeof(*b));
}

int fx_sync_db_uuid_at(struct fx_sync_db *d, int64_t seq, char uuid[37], struct fx_err *err)
{
	sqlite3_stmt *s;
	int rc;

	uuid[0] = '\0';
	if (sqlite3_prepare_v2(d->db, "SELECT r.uuid FROM sync_queue q JOIN runs r ON r.id = q.run_id"
			       " WHERE q.seq = ?1", -1, &s, NULL) != SQLITE_OK)
		return dberr(d, err);
	sqlite3_bind_int64(s, 1, seq);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		copy_col(uuid, 37, s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : dberr(d, err);
}

int fx_sync_db_ack(struct fx_sync_db *d, int64_t seq, const char *uuid, int64_t event,
		   int64_t now_us, struct fx_err *err)
{
	sqlite3_stmt *s;

	if (sqlite3_prepare_v2(d->db, "UPDATE sync_state SET acked_seq = ?1, acked_uuid = ?2,"
			       " last_ok_us = ?3, acked_event = max(acked_event, ?4)", -1, &s, NULL) !=
	    SQLITE_OK)
		return dberr(d, err);
	sqlite3_bind_int64(s, 1, seq);
	if (uuid && *uuid)
		sqlite3_bind_text(s, 2, uuid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now_us);
	sqlite3_bind_int64(s, 4, event);
	return run1(d, s, err);
}

/* Serial events as JSON (keys: the central fx.serial_events columns). */
static const char events_sql[] =
	"WITH e AS (SELECT * FROM serial_event WHERE id > ?1 ORDER BY id LIMIT ?2)"
	" SELECT count(*), max(id), json_group_array(json_object('local_id', id, 'alloc_uuid',"
	"  alloc_uuid, 'pool', pool, 'value', value, 'state', state, 'run_uuid', run_uuid,"
	"  'chip_uid', chip_uid, 'time_us', time_us)) FROM e";

int fx_sync_db_events(struct fx_sync_db *d, int64_t after, unsigned limit,
		      struct fx_sync_events *ev, struct fx_err *err)
{
	sqlite3_stmt *s;
	int rc = 0;

	memset(ev, 0, sizeof(*ev));
	if (!d->serial)
		return 0;
	if (sqlite3_prepare_v2(d->db, events_sql, -1, &s, NULL) != SQLITE_OK)
		return dberr(d, err);
	sqlite3_bind_int64(s, 1, after);
	sqlite3_bind_int(s, 2, (int)limit);
	if (sqlite3_step(s) != SQLITE_ROW) {
		rc = dberr(d, err);
	} else if ((ev->n = (size_t)sqlite3_column_int64(s, 0)) > 0) {
		ev->last_id = sqlite3_column_int64(s, 1);
		ev->json = dup_col(s, 2);
		if (!ev->json)
			rc = fx_err_set(err, FX_E_NOMEM, "database '%s': out of memory", d->path);
	}
	sqlite3_finalize(s);
	if (rc)
		fx_sync_events_release(ev);
	return rc;
}

void fx_sync_events_release(struct fx_sync_events *ev)
{
	free(ev->json);
	memset(ev, 0, sizeof(*ev));
}

int fx_sync_db_set_pool(struct fx_sync_db *d, const char *pool, unsigned lease, int64_t first,
			int64_t last, struct fx_err *err)
{
	sqlite3_stmt *s;

	if (sqlite3_prepare_v2(d->db, "INSERT INTO sync_pool(pool, lease, first, last)"
			       " VALUES(?1, ?2, ?3, ?4) ON CONFLICT(pool) DO UPDATE SET"
			       " lease = excluded.lease, first = excluded.first, last = excluded.last"
			       " WHERE (lease, first, last) IS NOT (excluded.lease, excluded.first,"
			       " excluded.last)", -1, &s, NULL) != SQLITE_OK)
		return dberr(d, err);
	sqlite3_bind_text(s, 1, pool, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, (int)lease);
	sqlite3_bind_int64(s, 3, first);
	sqlite3_bind_int64(s, 4, last);
	return run1(d, s, err);
}

int fx_sync_db_pools(struct fx_sync_db *d, struct fx_sync_pool **out, size_t *n,
		     struct fx_err *err)
{
	struct fx_sync_pool *v = NULL, *nv;
	size_t cap = 0;
	sqlite3_stmt *s;
	int rc;

	*out = NULL;
	*n = 0;
	if (!d->serial)
		return 0;
	/* registered and central in the station's pools (store_serial.c) */
	if (sqlite3_prepare_v2(d->db, "SELECT q.pool, q.lease, q.first, q.last FROM sync_pool q"
			       " JOIN serial_pool p ON p.name = q.pool AND p.central ORDER BY q.pool",
			       -1, &s, NULL) != SQLITE_OK)
		return dberr(d, err);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 4;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				sqlite3_finalize(s);
				free(v);
				return fx_err_set(err, FX_E_NOMEM, "database '%s': out of memory", d->path);
			}
			v = nv;
		}
		copy_col(v[*n].pool, sizeof(v[*n].pool), s, 0);
		v[*n].lease = (unsigned)sqlite3_column_int(s, 1);
		v[*n].first = sqlite3_column_int64(s, 2);
		v[*n].last = sqlite3_column_int64(s, 3);
		(*n)++;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		free(v);
		*n = 0;
		return dberr(d, err);
	}
	*out = v;
	return 0;
}

int fx_sync_db_has_lease(struct fx_sync_db *d, const char *pool, const char *ref, bool *has,
			 struct fx_err *err)
{
	sqlite3_stmt *s;
	int rc;

	*has = false;
	if (sqlite3_prepare_v2(d->db, "SELECT 1 FROM serial_block b JOIN serial_pool p"
			       " ON p.id = b.pool_id WHERE p.name = ?1 AND b.origin = 'lease'"
			       " AND b.ref = ?2", -1, &s, NULL) != SQLITE_OK)
		return dberr(d, err);
	sqlite3_bind_text(s, 1, pool, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, ref, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	*has = rc == SQLITE_ROW;
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : dberr(d, err);
}

void fx_sync_db_note_error(struct fx_sync_db *d, int64_t now_us, const char *msg)
{
	sqlite3_stmt *s;

	if (sqlite3_prepare_v2(d->db, "UPDATE sync_state SET last_err_us = ?1, last_error = ?2",
			       -1, &s, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_int64(s, 1, now_us);
	sqlite3_bind_text(s, 2, msg, -1, SQLITE_STATIC);
	run1(d, s, NULL);
}

int fx_sync_db_new_identity(struct fx_sync_db *d, int epoch, struct fx_err *err)
{
	sqlite3_stmt *s;
	char key[37];
	int rc = fx_store_uuid4(key, "a station key", err);

	if (rc)
		return rc;
	if (sqlite3_prepare_v2(d->db, "UPDATE sync_state SET station_key = ?1, epoch = ?2,"
			       " acked_seq = 0, acked_uuid = NULL", -1, &s, NULL) != SQLITE_OK)
		return dberr(d, err);
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, epoch);
	return run1(d, s, err);
}

int fx_sync_db_set_epoch(struct fx_sync_db *d, int epoch, struct fx_err *err)
{
	sqlite3_stmt *s;

	if (sqlite3_prepare_v2(d->db, "UPDATE sync_state SET epoch = ?1", -1, &s, NULL) != SQLITE_OK)
		return dberr(d, err);
	sqlite3_bind_int(s, 1, epoch);
	return run1(d, s, err);
}

int fx_sync_db_status(struct fx_sync_db *d, struct fx_sync_status *st, struct fx_err *err)
{
	sqlite3_stmt *s;
	int rc;

	memset(st, 0, sizeof(*st));
	rc = exec(d, "BEGIN", err);
	if (rc)
		return rc;
	rc = fx_sync_db_identity(d, &st->id, err);
	if (rc)
		goto out;
	if (sqlite3_prepare_v2(d->db,
			       "SELECT (SELECT count(*) FROM sync_queue WHERE seq > a.acked_seq),"
			       " (SELECT min(queued_us) FROM sync_queue WHERE seq > a.acked_seq),"
			       " a.last_ok_us, a.last_err_us, a.last_error FROM sync_state a",
			       -1, &s, NULL) != SQLITE_OK) {
		rc = dberr(d, err);
		goto out;
	}
	if (sqlite3_step(s) == SQLITE_ROW) {
		st->backlog = sqlite3_column_int64(s, 0);
		st->oldest_queued_us = sqlite3_column_int64(s, 1);
		st->last_ok_us = sqlite3_column_int64(s, 2);
		st->last_err_us = sqlite3_column_int64(s, 3);
		copy_col(st->last_error, sizeof(st->last_error), s, 4);
	} else {
		rc = dberr(d, err);
	}
	sqlite3_finalize(s);
	if (!rc && d->serial) {
		if (sqlite3_prepare_v2(d->db, "SELECT count(*) FROM serial_event"
				       " WHERE id > (SELECT acked_event FROM sync_state)", -1, &s,
				       NULL) != SQLITE_OK) {
			rc = dberr(d, err);
			goto out;
		}
		if (sqlite3_step(s) == SQLITE_ROW)
			st->events = sqlite3_column_int64(s, 0);
		else
			rc = dberr(d, err);
		sqlite3_finalize(s);
	}
out:
	exec(d, "COMMIT", NULL);
	return rc;
}

int fx_sync_db_changed(struct fx_sync_db *d, bool *changed, struct fx_err *err)
{
	sqlite3_stmt *s;
	int64_t v;

	if (sqlite3_prepare_v2(d->db, "PRAGMA data_version", -1, &s, NULL) != SQLITE_OK)
		return dberr(d, err);
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_finalize(s);
		return dberr(d, err);
	}
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	*changed = v != d->data_version;
	d->data_version = v;
	return 0;
}

/* Replace the first `from` in the schema text of `name` by `to` and
 * recreate the object: fails loudly if the local schema changed shape. */
static int patch_object(struct fx_store *st, const char *type, const char *name,
			const char *from, const char *to, struct fx_err *err)
{
	sqlite3_stmt *s;
	const char *sql, *at;
	char *drop = NULL, *nsql = NULL;
	int rc = 0;

	if (sqlite3_prepare_v2(st->db, "SELECT sql FROM sqlite_master WHERE name = ?1", -1, &s,
			       NULL) != SQLITE_OK)
		return fx_store_dberr(st, err);
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW || !(sql = (const char *)sqlite3_column_text(s, 0)) ||
	    !(at = strstr(sql, from))) {
		sqlite3_finalize(s);
		return fx_err_set(err, FX_E_DB, "scratch database: schema of '%s' not as expected",
				  name);
	}
	nsql = sqlite3_mprintf("%.*s%s%s", (int)(at - sql), sql, to, at + strlen(from));
	drop = sqlite3_mprintf("DROP %s %s", type, name);
	sqlite3_finalize(s);
	if (!nsql || !drop)
		rc = fx_err_set(err, FX_E_NOMEM, "scratch database: out of memory");
	else
		rc = fx_store_exec(st, drop, err);
	if (!rc)
		rc = fx_store_exec(st, nsql, err);
	sqlite3_free(nsql);
	sqlite3_free(drop);
	return rc;
}

/* fx_hist_json(TEXT): the central database's histogram text
 * "[[hb,n,sum_us],...]" as the local BLOB (store_sql.h); an error for a
 * malformed one */
static void hist_json(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const unsigned char *s = sqlite3_value_text(argv[0]);
	uint8_t *blob = NULL;
	size_t len = 0;

	(void)argc;
	switch (s ? fx_store_hist_from_json((const char *)s, &blob, &len) : FX_HIST_MALFORMED) {
	case FX_HIST_OK:
		sqlite3_result_blob(ctx, blob ? (const void *)blob : "", (int)len, SQLITE_TRANSIENT);
		break;
	case FX_HIST_NOMEM:
		sqlite3_result_error_nomem(ctx);
		break;
	case FX_HIST_MALFORMED:
	case FX_HIST_OVERFLOW:
		sqlite3_result_error(ctx, "malformed histogram from the fleet database", -1);
		break;
	}
	free(blob);
}

struct fx_store *fx_store_open_scratch(const char *label, struct fx_err *err)
{
	struct fx_store *st = calloc(1, sizeof(*st));

	if (!st || !(st->path = strdup(label))) {
		free(st);
		fx_err_set(err, FX_E_NOMEM, "scratch database: out of memory");
		return NULL;
	}
	st->lock_fd = -1;
	pthread_mutex_init(&st->lock, NULL);
	if (sqlite3_open_v2(":memory:", &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
			    NULL) != SQLITE_OK) {
		fx_store_dberr(st, err);
		goto err_close;
	}
	if (sqlite3_create_function(st->db, "fx_hist_json", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
				    NULL, hist_json, NULL, NULL) != SQLITE_OK) {
		fx_store_dberr(st, err);
		goto err_close;
	}
	if (fx_store_exec(st, "BEGIN", err) || fx_store_schema_migrate(st, 0, err) ||
	    patch_object(st, "TABLE", "sum_bucket",
			 "UNIQUE(day, station, slot, recipe_name, recipe_version, operator)",
			 "line TEXT NOT NULL DEFAULT ''", err) ||
	    patch_object(st, "VIEW", "v_yield", "b.operator,", "b.operator, b.line,", err) ||
	    patch_object(st, "VIEW", "v_pareto", "y.operator,", "y.operator, y.line,", err) ||
	    patch_object(st, "VIEW", "v_cycle_bucket", "y.operator,", "y.operator, y.line,", err) ||
	    fx_store_exec(st, "CREATE INDEX sum_bucket_key ON sum_bucket(day, station, slot,"
			  " recipe_name, recipe_version, operator, line); COMMIT", err))
		goto err_close;
	return st;
err_close:
	fx_store_close(st);
	return NULL;
}

struct fx_store *fx_sync_store_open(const char *path, struct fx_err *err)
{
	struct fx_store *st = calloc(1, sizeof(*st));
	struct stat sb;
	sqlite3_stmt *s;
	int v = -1;

	if (!st || !(st->path = strdup(path))) {
		free(st);
		fx_err_set(err, FX_E_NOMEM, "database '%s': out of memory", path);
		return NULL;
	}
	st->lock_fd = -1;
	st->db_fd = -1;
	pthread_mutex_init(&st->lock, NULL);
	if (stat(path, &sb)) {
		fx_err_set(err, FX_E_FILE, "database '%s': No such file or directory", path);
		goto err_close;
	}
	st->dev = sb.st_dev;
	st->ino = sb.st_ino;
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		fx_store_dberr(st, err);
		goto err_close;
	}
	sqlite3_busy_timeout(st->db, FX_STORE_BUSY_TIMEOUT_MS);
	if (fx_store_exec(st, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
			  " PRAGMA foreign_keys = ON", err))
		goto err_close;
	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW)
			v = sqlite3_column_int(s, 0);
		sqlite3_finalize(s);
	}
	/* the station migrates its database; this connection only adds
	 * blocks to a schema it knows */
	if (v != FX_STORE_SCHEMA_VERSION) {
		fx_err_set(err, FX_E_DB, "database '%s': schema version %d, this software writes %d"
			   " (open it once with the station to migrate it)", path, v,
			   FX_STORE_SCHEMA_VERSION);
		goto err_close;
	}
	return st;
err_close:
	fx_store_close(st);
	return NULL;
}

int fx_sync_db_remaining(struct fx_sync_db *d, const char *pool, uint64_t *remaining,
			 struct fx_err *err)
{
	sqlite3_stmt *s;
	int rc;

	*remaining = 0;
	if (!d->serial)
		return 0;
	if (sqlite3_prepare_v2(d->db, "SELECT remaining FROM v_serial_pools WHERE pool = ?1", -1, &s,
			       NULL) != SQLITE_OK)
		return dberr(d, err);
	sqlite3_bind_text(s, 1, pool, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*remaining = (uint64_t)sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : dberr(d, err);
}

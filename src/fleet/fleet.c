/* fleet.c - the central PostgreSQL connection: URIs without secrets,
 * migrations, the station identity check and one push batch
 * (fx/fleet.h). The only code, with fleet_pusher.c and fleet_report.c,
 * that includes <libpq-fe.h>. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fleet_int.h"
#include "fx/log.h"

#define LOG_PREFIX "fleet"

bool fx_fleet_is_uri(const char *s)
{
	return s && (!strncmp(s, "postgresql://", 13) || !strncmp(s, "postgres://", 11) ||
		     strchr(s, '=') != NULL);
}

int64_t fx_fleet_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* libpq's message on one line (it ends with '\n', may hold several) */
static void one_line(char *dst, size_t len, const char *msg)
{
	size_t n = 0;

	for (; msg && *msg && n + 3 < len; msg++) {
		if (*msg == '\n') {
			if (msg[1])
				dst[n++] = ';', dst[n++] = ' ';
			continue;
		}
		dst[n++] = *msg == '\t' ? ' ' : *msg;
	}
	dst[n] = '\0';
}

int fx_fleet_pgerr(struct fx_fleet *f, const PGresult *res, int code, const char *what,
		   struct fx_err *err)
{
	char msg[384];
	const char *m = res ? PQresultErrorMessage(res) : NULL;

	if (!m || !*m)
		m = PQerrorMessage(f->pg);
	one_line(msg, sizeof(msg), m);
	/* "ERROR:  " prefix of server messages */
	return fx_err_set(err, code, "server '%s': %s%s%s", f->uri, what ? what : "",
			  what ? ": " : "",
			  !strncmp(msg, "ERROR:  ", 8) ? msg + 8 : msg);
}

int fx_fleet_exec(struct fx_fleet *f, const char *sql, struct fx_err *err)
{
	PGresult *res = PQexec(f->pg, sql);
	int rc = 0;

	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
		rc = fx_fleet_pgerr(f, res, FX_E_IO, NULL, err);
	PQclear(res);
	return rc;
}

/* The display form of a parsed conninfo: the keys that locate the server,
 * never password (or sslpassword). */
static void display_uri(PQconninfoOption *opts, char *out, size_t len)
{
	static const char *const keys[] = { "service", "user", "host", "hostaddr", "port",
					    "dbname" };
	PQconninfoOption *o;
	size_t n = 0, k;

	out[0] = '\0';
	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		for (o = opts; o->keyword; o++)
			if (!strcmp(o->keyword, keys[k]) && o->val && *o->val && n + 2 < len)
				n += (size_t)snprintf(out + n, len - n, "%s%s=%s", n ? " " : "",
						      o->keyword, o->val);
	if (n >= len)
		out[len - 1] = '\0';
	if (!out[0])
		snprintf(out, len, "(libpq defaults)");
}

/* userinfo "user:secret@" in a URI, or password= in conninfo: refused
 * without echoing it */
static int check_uri(const char *uri, char *shown, size_t len, struct fx_err *err)
{
	PQconninfoOption *opts, *o;
	char *perr = NULL;
	int rc = 0;

	opts = PQconninfoParse(uri, &perr);
	if (!opts) {
		/* libpq's message may quote a part of the URI: show it only
		 * when no part of the URI can be a password */
		bool secret = strstr(uri, "password") != NULL || strchr(uri, '@') != NULL;
		char msg[256];

		one_line(msg, sizeof(msg), perr ? perr : "out of memory");
		PQfreemem(perr);
		return fx_err_set(err, FX_E_INVAL, "malformed connection URI%s%s",
				  secret ? "" : ": ", secret ? "" : msg);
	}
	display_uri(opts, shown, len);
	for (o = opts; o->keyword; o++)
		if ((!strcmp(o->keyword, "password") || !strcmp(o->keyword, "sslpassword")) &&
		    o->val && *o->val)
			rc = fx_err_set(err, FX_E_INVAL,
					"connection URI '%s' holds a password: passwords come only"
					" from ~/.pgpass, PGPASSFILE or the service file", shown);
	PQconninfoFree(opts);
	return rc;
}

struct fx_fleet *fx_fleet_connect(const char *uri, struct fx_err *err)
{
	const char *keys[] = { "dbname", "connect_timeout", "application_name", NULL };
	const char *vals[] = { uri, "10", "fixturectl", NULL };
	struct fx_fleet *f;

	if (!uri || !*uri) {
		fx_err_set(err, FX_E_INVAL, "no server URI given");
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		fx_err_set(err, FX_E_NOMEM, "fleet: out of memory");
		return NULL;
	}
	if (check_uri(uri, f->uri, sizeof(f->uri), err)) {
		free(f);
		return NULL;
	}
	/* expand_dbname: uri is parsed as a URI/conninfo; its own
	 * connect_timeout / application_name, if any, win */
	f->pg = PQconnectdbParams(keys, vals, 1);
	if (!f->pg) {
		fx_err_set(err, FX_E_NOMEM, "fleet: out of memory");
		free(f);
		return NULL;
	}
	if (PQstatus(f->pg) != CONNECTION_OK) {
		fx_fleet_pgerr(f, NULL, FX_E_IO, "cannot connect", err);
		fx_fleet_close(f);
		return NULL;
	}
	fx_fleet_exec(f, "SET client_min_messages = warning", NULL);
	return f;
}

void fx_fleet_close(struct fx_fleet *f)
{
	if (!f)
		return;
	PQfinish(f->pg);
	free(f);
}

const char *fx_fleet_uri(const struct fx_fleet *f)
{
	return f->uri;
}

/* version found, -1 when there is no fx schema */
static int server_version(struct fx_fleet *f, int *v, struct fx_err *err)
{
	PGresult *res = PQexec(f->pg, "SELECT CASE WHEN to_regclass('fx.schema_version') IS NULL"
				      " THEN -1 ELSE 0 END");
	int rc = 0;

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		rc = fx_fleet_pgerr(f, res, FX_E_IO, NULL, err);
		PQclear(res);
		return rc;
	}
	*v = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (*v < 0)
		return 0;
	res = PQexec(f->pg, "SELECT max(version) FROM fx.schema_version");
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		rc = fx_fleet_pgerr(f, res, FX_E_IO, NULL, err);
	else
		*v = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return rc;
}

int fx_fleet_check_schema(struct fx_fleet *f, struct fx_err *err)
{
	int v, rc = server_version(f, &v, err);

	if (rc)
		return rc;
	if (v < 0)
		return fx_err_set(err, FX_E_DB, "server '%s': no fleet schema; run 'fixturectl sync"
				  " --init --to URI' with the owner role", f->uri);
	if (v > FX_FLEET_SCHEMA_VERSION)
		return fx_err_set(err, FX_E_DB, "server '%s': fleet schema version %d is newer than"
				  " this software (%d); upgrade fixturectl", f->uri, v,
				  FX_FLEET_SCHEMA_VERSION);
	if (v < FX_FLEET_SCHEMA_VERSION)
		return fx_err_set(err, FX_E_DB, "server '%s': fleet schema version %d is older than"
				  " this software (%d); run 'fixturectl sync --init --to URI' with"
				  " the owner role", f->uri, v, FX_FLEET_SCHEMA_VERSION);
	return 0;
}

int fx_fleet_init(struct fx_fleet *f, int *from, struct fx_err *err)
{
	char sql[96];
	int v, rc;

	rc = fx_fleet_exec(f, "BEGIN", err);
	if (!rc)
		rc = fx_fleet_exec(f, "SELECT pg_advisory_xact_lock(hashtext('fx.migrate'))", err);
	if (!rc)
		rc = server_version(f, &v, err);
	if (rc)
		goto err_rollback;
	*from = v < 0 ? 0 : v;
	if (v > FX_FLEET_SCHEMA_VERSION) {
		rc = fx_err_set(err, FX_E_DB, "server '%s': fleet schema version %d is newer than"
				" this software (%d); upgrade fixturectl", f->uri, v,
				FX_FLEET_SCHEMA_VERSION);
		goto err_rollback;
	}
	for (v = v < 0 ? 0 : v; v < FX_FLEET_SCHEMA_VERSION; v++) {
		PGresult *res = PQexec(f->pg, fx_fleet_migrations[v]);

		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			snprintf(sql, sizeof(sql), "migration %d -> %d", v, v + 1);
			rc = fx_fleet_pgerr(f, res, FX_E_DB, sql, err);
			PQclear(res);
			goto err_rollback;
		}
		PQclear(res);
		snprintf(sql, sizeof(sql), "UPDATE fx.schema_version SET version = %d", v + 1);
		rc = fx_fleet_exec(f, sql, err);
		if (rc)
			goto err_rollback;
	}
	rc = fx_fleet_exec(f, "COMMIT", err);
	return rc;
err_rollback:
	fx_fleet_exec(f, "ROLLBACK", NULL);
	return rc;
}

/* A query with text parameters; returns the result (caller PQclear) or
 * NULL with err (code for a server error). */
static PGresult *query(struct fx_fleet *f, const char *sql, int n, const char *const *vals,
		       int code, const char *what, struct fx_err *err)
{
	PGresult *res = PQexecParams(f->pg, sql, n, NULL, vals, NULL, NULL, 0);
	ExecStatusType s = PQresultStatus(res);
	const char *hint;

	if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)
		return res;
	/* the identity checks carry HINT 'fx:identity'; a privilege refusal
	 * (42501) is refused too: neither is cured by retrying */
	hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
	if (hint && !strcmp(hint, "fx:identity"))
		code = FX_E_STATE;
	else if (hint && !strcmp(hint, "fx:exhausted"))
		code = FX_E_EXHAUSTED;
	else if (PQresultErrorField(res, PG_DIAG_SQLSTATE) &&
		 (!strcmp(PQresultErrorField(res, PG_DIAG_SQLSTATE), "42501") ||
		  !strncmp(PQresultErrorField(res, PG_DIAG_SQLSTATE), "P0001", 5)))
		code = FX_E_STATE;
	fx_fleet_pgerr(f, res, code, what, err);
	PQclear(res);
	return NULL;
}

static void rollback(struct fx_fleet *f)
{
	if (PQtransactionStatus(f->pg) != PQTRANS_IDLE)
		fx_fleet_exec(f, "ROLLBACK", NULL);
}

int fx_fleet_attach(struct fx_fleet *f, struct fx_sync_db *db, const char *station,
		    bool new_epoch, bool *ready, struct fx_err *err)
{
	struct fx_sync_identity id;
	const char *v[4];
	char seqbuf[24], local_uuid[37];
	PGresult *res;
	int64_t server_seq;
	int rc, server_epoch;

	*ready = false;
	rc = fx_fleet_check_schema(f, err);
	if (rc)
		return rc;
	rc = fx_sync_db_identity(db, &id, err);
	if (rc)
		return rc;
	if (!id.station[0] && station && *station)
		snprintf(id.station, sizeof(id.station), "%s", station);
	if (!id.station[0])
		return 0; /* no run yet: nothing to push, nothing to register */
	if (new_epoch) {
		rc = fx_sync_db_new_identity(db, id.epoch, err);
		if (!rc)
			rc = fx_sync_db_identity(db, &id, err);
		if (rc)
			return rc;
	}
	v[0] = id.station_key;
	res = query(f, "SELECT found, name, epoch, last_seq, last_uuid, retired, mine"
		       " FROM fx.station_state($1)", 1, v, FX_E_IO, NULL, err);
	if (!res)
		return err ? err->code : FX_E_IO;
	if (PQgetvalue(res, 0, 0)[0] != 't') {
		PQclear(res);
		if (id.acked_seq > 0)
			return fx_err_set(err, FX_E_STATE, "server '%s' does not know station key %s of"
					  " database '%s', which it acknowledged up to run %lld:"
					  " a different server, or the server lost its data; refused",
					  f->uri, id.station_key, fx_sync_db_path(db),
					  (long long)id.acked_seq);
		v[1] = id.station;
		v[2] = id.line[0] ? id.line : NULL;
		v[3] = new_epoch ? "true" : "false";
		res = query(f, "SELECT fx.station_register($1, $2, $3, $4)", 4, v, FX_E_IO,
			    NULL, err);
		if (!res)
			return err ? err->code : FX_E_IO;
		server_epoch = atoi(PQgetvalue(res, 0, 0));
		PQclear(res);
		if (server_epoch != id.epoch) {
			rc = fx_sync_db_set_epoch(db, server_epoch, err);
			if (rc)
				return rc;
		}
		*ready = true;
		return 0;
	}
	if (PQgetvalue(res, 0, 6)[0] != 't') {
		rc = fx_err_set(err, FX_E_STATE, "server '%s': station key %s ('%s') belongs to"
				" another role: refused", f->uri, id.station_key, PQgetvalue(res, 0, 1));
		goto out;
	}
	if (PQgetvalue(res, 0, 5)[0] == 't') {
		rc = fx_err_set(err, FX_E_STATE, "server '%s': station database key %s of '%s' was"
				" retired (replaced by a newer epoch): this database is refused",
				f->uri, id.station_key, PQgetvalue(res, 0, 1));
		goto out;
	}
	server_epoch = atoi(PQgetvalue(res, 0, 2));
	server_seq = atoll(PQgetvalue(res, 0, 3));
	if (server_epoch != id.epoch) {
		rc = fx_err_set(err, FX_E_STATE, "server '%s': station '%s' is at epoch %d, database"
				" '%s' at epoch %d: refused", f->uri, PQgetvalue(res, 0, 1),
				server_epoch, fx_sync_db_path(db), id.epoch);
		goto out;
	}
	if (server_seq == id.acked_seq && !strcmp(PQgetvalue(res, 0, 4), id.acked_uuid)) {
		*ready = true;
		goto out;
	}
	if (server_seq > id.acked_seq) {
		/* the server committed a batch whose acknowledgement was lost
		 * (crash, cut connection): that run must be ours, at that seq */
		rc = fx_sync_db_uuid_at(db, server_seq, local_uuid, err);
		if (rc)
			goto out;
		if (!strcmp(local_uuid, PQgetvalue(res, 0, 4))) {
			rc = fx_sync_db_ack(db, server_seq, local_uuid, 0, fx_fleet_now_us(), err);
			if (!rc) {
				fx_log(FX_LOG_INFO, LOG_PREFIX, "acknowledgement of run %lld repaired",
				       (long long)server_seq);
				*ready = true;
			}
			goto out;
		}
	}
	snprintf(seqbuf, sizeof(seqbuf), "%lld", (long long)server_seq);
	rc = fx_err_set(err, FX_E_STATE, "station '%s': the server acknowledged run %s (%s) of"
			" this station, database '%s' %s run %lld: a replaced, restored or copied"
			" station database is refused (fixturectl sync --new-epoch if it replaces"
			" the station's database on purpose)", PQgetvalue(res, 0, 1), seqbuf,
			PQgetvalue(res, 0, 4), fx_sync_db_path(db),
			server_seq > id.acked_seq ? "does not hold it; it acknowledged up to" :
						    "says the server acknowledged",
			(long long)id.acked_seq);
out:
	PQclear(res);
	return rc;
}

static const char steps_sql[] =
	"INSERT INTO fx.steps(run_uuid, station_key, seq, name, start_us, duration_us, result,"
	" detail) SELECT run_uuid, $2::uuid, seq, name, start_us, duration_us, result, detail"
	" FROM json_to_recordset($1::json) AS x(run_uuid uuid, seq integer, name text,"
	" start_us bigint, duration_us bigint, result text, detail text)"
	" ON CONFLICT DO NOTHING";
static const char runs_sql[] =
	"INSERT INTO fx.runs(uuid, station_key, seq, local_id, unit_key, serial, chip_uid, station,"
	" line, slot, port_path, operator, recipe_name, recipe_version, recipe_sha256,"
	" firmware_sha256, board_state, start_us, end_us, result, failing_step, error_code,"
	" error_message, software_version)"
	" SELECT uuid, $2::uuid, seq, local_id, unit_key, serial, chip_uid, station, line, slot,"
	" port_path, operator, recipe_name, recipe_version, recipe_sha256, firmware_sha256,"
	" board_state, start_us, end_us, result, failing_step, error_code, error_message,"
	" software_version FROM json_to_recordset($1::json) AS x(uuid uuid, seq bigint,"
	" local_id bigint, unit_key text, serial text, chip_uid text, station text, line text,"
	" slot integer, port_path text, operator text, recipe_name text, recipe_version text,"
	" recipe_sha256 text, firmware_sha256 text, board_state text, start_us bigint,"
	" end_us bigint, result text, failing_step text, error_code text, error_message text,"
	" software_version text) ORDER BY seq ON CONFLICT DO NOTHING";

static const char events_sql[] =
	"INSERT INTO fx.serial_events(alloc_uuid, state, time_us, station_key, local_id, pool, value,"
	" run_uuid, chip_uid) SELECT alloc_uuid, state, time_us, $2::uuid, local_id, pool, value,"
	" run_uuid, chip_uid FROM json_to_recordset($1::json) AS x(local_id bigint, alloc_uuid uuid,"
	" pool text, value text, state text, run_uuid uuid, chip_uid text, time_us bigint)"
	" ORDER BY local_id ON CONFLICT DO NOTHING";

/* serial events per batch: at most this many times the run limit */
#define EVENTS_PER_RUN 8

int fx_fleet_push(struct fx_fleet *f, struct fx_sync_db *db, unsigned limit, size_t *pushed,
		  size_t *events, int64_t now_us, struct fx_err *err)
{
	struct fx_sync_identity id;
	struct fx_sync_batch b;
	struct fx_sync_events ev = { 0 };
	char prev[24], last[24], epoch[16];
	const char *v[4], *acked_uuid;
	PGresult *res;
	int rc;

	*pushed = 0;
	if (events)
		*events = 0;
	if (!limit)
		limit = FX_FLEET_BATCH;
	rc = fx_sync_db_identity(db, &id, err);
	if (rc)
		return rc;
	acked_uuid = id.acked_uuid[0] ? id.acked_uuid : NULL;
	rc = fx_sync_db_batch(db, id.acked_seq, limit, &b, err);
	if (rc)
		return rc;
	/* the serial events (reserved, reached, bound, ...) in their own
	 * commit order, beside the runs: a reservation precedes its run's
	 * end, so events are not tied to the batch's runs */
	rc = fx_sync_db_events(db, id.acked_event, limit * EVENTS_PER_RUN, &ev, err);
	if (rc || (!b.nruns && !ev.n))
		goto out;
	rc = fx_fleet_exec(f, "BEGIN", err);
	if (rc)
		goto out;
	/* the version is read inside the batch's transaction: a schema
	 * changed meanwhile gets no partial write */
	res = query(f, "SELECT max(version) FROM fx.schema_version", 0, NULL, FX_E_IO, NULL, err);
	if (!res)
		goto err_rollback;
	if (atoi(PQgetvalue(res, 0, 0)) != FX_FLEET_SCHEMA_VERSION) {
		PQclear(res);
		rollback(f);
		rc = fx_fleet_check_schema(f, err);
		if (!rc)
			rc = fx_err_set(err, FX_E_DB, "server '%s': schema changed", f->uri);
		goto out;
	}
	PQclear(res);
	snprintf(epoch, sizeof(epoch), "%d", id.epoch);
	snprintf(prev, sizeof(prev), "%lld", (long long)id.acked_seq);
	v[0] = id.station_key;
	v[1] = epoch;
	v[2] = prev;
	v[3] = acked_uuid;
	res = query(f, "SELECT fx.batch_begin($1, $2, $3, $4)", 4, v, FX_E_IO, NULL, err);
	if (!res)
		goto err_rollback;
	PQclear(res);
	v[1] = id.station_key;
	if (b.nruns) {
		v[0] = b.steps_json;
		res = query(f, steps_sql, 2, v, FX_E_IO, "steps", err);
		if (!res)
			goto err_rollback;
		PQclear(res);
		v[0] = b.runs_json;
		res = query(f, runs_sql, 2, v, FX_E_IO, "runs", err);
		if (!res)
			goto err_rollback;
		PQclear(res);
	}
	if (ev.n) {
		v[0] = ev.json;
		res = query(f, events_sql, 2, v, FX_E_IO, "serial events", err);
		if (!res)
			goto err_rollback;
		PQclear(res);
	}
	snprintf(last, sizeof(last), "%lld", (long long)(b.nruns ? b.last_seq : id.acked_seq));
	v[0] = id.station_key;
	v[1] = last;
	v[2] = b.nruns ? b.last_uuid : acked_uuid;
	v[3] = id.line[0] ? id.line : NULL;
	res = query(f, "SELECT fx.batch_end($1, $2, $3, $4)", 4, v, FX_E_IO, NULL, err);
	if (!res)
		goto err_rollback;
	PQclear(res);
	rc = fx_fleet_exec(f, "COMMIT", err);
	if (rc)
		goto out; /* unknown outcome: attach repairs it */
	rc = fx_sync_db_ack(db, b.nruns ? b.last_seq : id.acked_seq,
			    b.nruns ? b.last_uuid : acked_uuid, ev.n ? ev.last_id : id.acked_event, now_us,
			    err);
	if (!rc) {
		*pushed = b.nruns;
		if (events)
			*events = ev.n;
	}
	goto out;
err_rollback:
	rc = err ? err->code : FX_E_IO;
	if (!rc)
		rc = FX_E_IO;
	rollback(f);
out:
	fx_sync_batch_release(&b);
	fx_sync_events_release(&ev);
	return rc;
}

int fx_fleet_lease(struct fx_fleet *f, struct fx_sync_db *db, const char *pool, int64_t n,
		   int64_t pool_first, int64_t pool_last, struct fx_fleet_lease *l,
		   struct fx_err *err)
{
	struct fx_sync_identity id;
	char nb[24], fb[24], lb[24];
	const char *v[5];
	PGresult *res;
	int rc = fx_sync_db_identity(db, &id, err);

	if (rc)
		return rc;
	snprintf(nb, sizeof(nb), "%lld", (long long)n);
	snprintf(fb, sizeof(fb), "%lld", (long long)pool_first);
	snprintf(lb, sizeof(lb), "%lld", (long long)pool_last);
	v[0] = id.station_key;
	v[1] = pool;
	v[2] = nb;
	v[3] = fb;
	v[4] = lb;
	/* one statement = one transaction: the pool row is locked
	 * (SELECT ... FOR UPDATE) while the block is cut from it */
	res = query(f, "SELECT lease_id, first_value, last_value"
		       " FROM fx.lease_serials($1, $2, $3, $4, $5)", 5, v, FX_E_IO, "lease", err);
	if (!res)
		return err ? err->code : FX_E_IO;
	l->id = atoll(PQgetvalue(res, 0, 0));
	l->first = atoll(PQgetvalue(res, 0, 1));
	l->last = atoll(PQgetvalue(res, 0, 2));
	PQclear(res);
	return 0;
}

int fx_fleet_leases(struct fx_fleet *f, struct fx_sync_db *db, const char *pool,
		    struct fx_fleet_lease **out, size_t *n, struct fx_err *err)
{
	struct fx_sync_identity id;
	const char *v[2];
	PGresult *res;
	int i, rc = fx_sync_db_identity(db, &id, err);

	*out = NULL;
	*n = 0;
	if (rc)
		return rc;
	v[0] = id.station_key;
	v[1] = pool;
	res = query(f, "SELECT lease_id, first_value, last_value FROM fx.station_leases($1, $2)", 2,
		    v, FX_E_IO, "leases", err);
	if (!res)
		return err ? err->code : FX_E_IO;
	if (PQntuples(res) > 0) {
		*out = calloc((size_t)PQntuples(res), sizeof(**out));
		if (!*out) {
			PQclear(res);
			return fx_err_set(err, FX_E_NOMEM, "fleet: out of memory");
		}
	}
	for (i = 0; i < PQntuples(res); i++) {
		(*out)[i].id = atoll(PQgetvalue(res, i, 0));
		(*out)[i].first = atoll(PQgetvalue(res, i, 1));
		(*out)[i].last = atoll(PQgetvalue(res, i, 2));
	}
	*n = (size_t)PQntuples(res);
	PQclear(res);
	return 0;
}

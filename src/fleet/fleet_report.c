/* fleet_report.c - fleet reports: the central summaries matching the
 * query, aggregated by the server to (UTC day x the columns the query
 * groups or filters on), are loaded into a scratch SQLite database with
 * the local schema (fx_store_open_scratch), and the local report code
 * computes the report from it: the same definitions, hence the same
 * figures as a station's own report on the same runs (a cycle report over
 * a date range merges the buckets' histograms here: load_cycle_range).
 * History loads the unit's runs and steps. Every user value reaches SQL as a parameter. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../store/store_sql.h"
#include "fleet_int.h"
#include "fx/store.h"

struct ld {
	struct fx_fleet *f;
	struct fx_store *st;
	sqlite3 *db;
	const struct fx_report_query *q;
	struct fx_err *err;
	char key[528];   /* the column list (server side) */
	char kx[512];    /* the same without the day */
	bool rollup;     /* cycle from the (day, station, line) roll-up */
};

static bool by(const struct fx_report_query *q, enum fx_report_by k)
{
	unsigned i;

	for (i = 0; i < q->nby; i++)
		if (q->by[i] == k)
			return true;
	return false;
}

/* day, station, slot, recipe_name, recipe_version, operator, line: the
 * column, or a constant when the query neither groups nor filters on it */
static void key_cols(struct ld *x)
{
	const struct fx_report_query *q = x->q;
	bool rec = by(q, FX_BY_RECIPE);

	snprintf(x->kx, sizeof(x->kx),
		 "%s AS station, %s AS slot, %s AS recipe_name, %s AS recipe_version,"
		 " %s AS operator, %s AS line",
		 x->rollup || by(q, FX_BY_STATION) || q->station ? "b.station" : "''::text",
		 by(q, FX_BY_SLOT) ? "b.slot" : "0",
		 rec || q->recipe ? "b.recipe_name" : "''::text",
		 rec ? "b.recipe_version" : "''::text",
		 by(q, FX_BY_OPERATOR) || q->operator_id ? "b.operator" : "''::text",
		 x->rollup || by(q, FX_BY_LINE) ? "b.line" : "''::text");
	snprintf(x->key, sizeof(x->key), "b.day AS day, %s", x->kx);
}

#define WHERE_B                                                                         \
	" WHERE b.day BETWEEN $1::integer AND $2::integer"                              \
	" AND ($3::text IS NULL OR b.station = $3) AND ($4::text IS NULL OR b.recipe_name = $4)" \
	" AND ($5::text IS NULL OR b.operator = $5)"
#define GROUP7 " GROUP BY 1, 2, 3, 4, 5, 6, 7"
#define GROUP6 " GROUP BY 1, 2, 3, 4, 5, 6"
/* the all-time tables have no day; the bounds are open ($1, $2 unused) */
#define WHERE_ALL                                                                       \
	" WHERE $1::integer IS NOT NULL AND $2::integer IS NOT NULL"                     \
	" AND ($3::text IS NULL OR b.station = $3) AND ($4::text IS NULL OR b.recipe_name = $4)" \
	" AND ($5::text IS NULL OR b.operator = $5)"
#define KEY6 "station, slot, recipe_name, recipe_version, operator, line"
/* one group's histogram rows (h) as the local JSON text, per step */
#define HIST_TEXT                                                                       \
	"'[' || string_agg('[' || hb || ',' || n || ',' || s || ']', ',' ORDER BY hb) || ']'"
/* the roll-up has no recipe or operator: only queries without them use it */
#define WHERE_DAY                                                                       \
	" WHERE b.day BETWEEN $1::integer AND $2::integer"                              \
	" AND ($3::text IS NULL OR b.station = $3) AND $4::text IS NULL AND $5::text IS NULL"

static PGresult *fetch_as(struct ld *x, const char *sql, int binary)
{
	char lo[24], hi[24];
	const char *v[5];
	PGresult *res;

	/* day numbers of 1970..9999 fit an integer; open bounds clamp */
	snprintf(lo, sizeof(lo), "%lld", x->q->has_from ? (long long)x->q->from_day : -2147483647LL);
	snprintf(hi, sizeof(hi), "%lld", x->q->has_to ? (long long)x->q->to_day : 2147483647LL);
	v[0] = lo;
	v[1] = hi;
	v[2] = x->q->station;
	v[3] = x->q->recipe;
	v[4] = x->q->operator_id;
	res = PQexecParams(x->f->pg, sql, 5, NULL, v, NULL, NULL, binary);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		fx_fleet_pgerr(x->f, res, FX_E_IO, "report", x->err);
		PQclear(res);
		return NULL;
	}
	return res;
}

static PGresult *fetch(struct ld *x, const char *sql)
{
	return fetch_as(x, sql, 0);
}

static int sqerr(struct ld *x)
{
	return fx_err_set(x->err, FX_E_DB, "scratch database: %s", sqlite3_errmsg(x->db));
}

static int sqexec(struct ld *x, const char *sql)
{
	return sqlite3_exec(x->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : sqerr(x);
}

/* Insert every row of res through sql: column i -> parameter i + 1, as
 * text (SQLite's affinity makes the numbers integers again); NULL stays
 * NULL. */
static int load(struct ld *x, PGresult *res, const char *sql)
{
	sqlite3_stmt *s;
	int r, c, n = PQntuples(res), nc = PQnfields(res), rc = 0;

	if (sqlite3_prepare_v2(x->db, sql, -1, &s, NULL) != SQLITE_OK)
		return sqerr(x);
	for (r = 0; r < n && !rc; r++) {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
		for (c = 0; c < nc; c++)
			if (!PQgetisnull(res, r, c))
				sqlite3_bind_text(s, c + 1, PQgetvalue(res, r, c), -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE)
			rc = sqerr(x);
	}
	sqlite3_finalize(s);
	return rc;
}

/* the scratch bucket of the 7 key columns bound as ?1 .. ?7 */
#define BUCKET_OF                                                                       \
	"(SELECT id FROM sum_bucket WHERE day = ?1 AND station = ?2 AND slot = ?3"      \
	" AND recipe_name = ?4 AND recipe_version = ?5 AND operator = ?6 AND line = ?7)"

/* A cycle report by slot, recipe or operator over a date range or grouped
 * by time (30 days: ~3,500 buckets over 1,000,000 runs): the range's
 * buckets numbered by group (g, with the day when grouped by time; the
 * same numbers in both queries, one snapshot), each group's latest bucket into the scratch table grp, then
 * per group and step the sums and the buckets' histograms (sum_cycle.hist,
 * concatenated, binary), merged here: one row per bucket and step read by
 * its key (OFFSET 0 keeps that nested loop: the planner would otherwise
 * hash the whole table), none of the ~230,000 histogram rows. */
#define RANGE_G                                                                         \
	"WITH g AS MATERIALIZED (SELECT k.*, dense_rank() OVER (ORDER BY %s" KEY6 ") AS gid" \
	"  FROM (SELECT b.id, %s FROM fx.sum_bucket b" WHERE_B ") k)"

struct merge {
	int64_t n[FX_STORE_HB_MAX], s[FX_STORE_HB_MAX];
	bool used[FX_STORE_HB_MAX];
	char *json;
	size_t cap;
};

static uint64_t be(const char *p, int bytes)
{
	const unsigned char *u = (const unsigned char *)p;
	uint64_t v = 0;
	int i;

	for (i = 0; i < bytes; i++)
		v = v << 8 | u[i];
	return v;
}

/* column c of row r as a big-endian integer of bytes bytes; false when it
 * is NULL or not that wide */
static bool col_int(PGresult *res, int r, int c, int bytes, int64_t *v)
{
	if (PQgetisnull(res, r, c) || PQgetlength(res, r, c) != bytes)
		return false;
	*v = (int64_t)be(PQgetvalue(res, r, c), bytes);
	return true;
}

/* the concatenated histograms of column 6 (entries of hb int2, n int8,
 * sum_us int8) merged as the local JSON text in m->json */
static int merge_hist(struct ld *x, struct merge *m, PGresult *res, int r)
{
	const char *p = PQgetvalue(res, r, 6);
	int len = PQgetlength(res, r, 6), hb, k;
	size_t used = 0, at;
	int64_t n, sum;

	if (PQgetisnull(res, r, 6) || len % FX_STORE_HIST_ENTRY)
		return fx_err_set(x->err, FX_E_IO, "server '%s': malformed sum_cycle.hist",
				  x->f->uri);
	memset(m->used, 0, sizeof(m->used));
	for (k = 0; k < len; k += FX_STORE_HIST_ENTRY) {
		hb = (int)be(p + k, 2);
		n = (int64_t)be(p + k + 2, 8);
		sum = (int64_t)be(p + k + 10, 8);
		if (!fx_store_hist_valid(hb) || n < 0 || sum < 0)
			return fx_err_set(x->err, FX_E_IO, "server '%s': malformed sum_cycle.hist",
					  x->f->uri);
		if (!m->used[hb]) {
			m->used[hb] = true;
			m->n[hb] = m->s[hb] = 0;
			used++;
		}
		if (__builtin_add_overflow(m->n[hb], n, &m->n[hb]) ||
		    __builtin_add_overflow(m->s[hb], sum, &m->s[hb]))
			return fx_err_set(x->err, FX_E_RANGE, "server '%s': cycle histogram overflows",
					  x->f->uri);
	}
	/* "[hb,n,sum]," is at most 4 + 19 + 19 + 4 characters */
	if (used * 48 + 3 > m->cap) {
		char *q = realloc(m->json, used * 48 + 3);

		if (!q)
			return fx_err_set(x->err, FX_E_NOMEM, "out of memory");
		m->json = q;
		m->cap = used * 48 + 3;
	}
	at = 0;
	m->json[at++] = '[';
	for (hb = 0; hb < FX_STORE_HB_MAX; hb++)
		if (m->used[hb])
			at += (size_t)snprintf(m->json + at, m->cap - at, "%s[%d,%lld,%lld]",
					       at > 1 ? "," : "", hb, (long long)m->n[hb],
					       (long long)m->s[hb]);
	m->json[at++] = ']';
	m->json[at] = '\0';
	return 0;
}

static int load_cycle_range(struct ld *x)
{
	char sql[4096];
	struct merge *m;
	PGresult *res;
	sqlite3_stmt *s;
	int64_t v[5];
	/* grouped by time: the day is part of the group; else each group's
	 * rows go to its latest day */
	bool t = by(x->q, FX_BY_DAY) || by(x->q, FX_BY_WEEK);
	const char *bd = t ? "day, " : "";
	char cols[600];
	int r, rc;

	snprintf(cols, sizeof(cols), "%s%s", t ? "" : "b.day, ", t ? x->key : x->kx);
	snprintf(sql, sizeof(sql),
		 RANGE_G " SELECT gid, max(day), " KEY6 " FROM g GROUP BY 1, 3, 4, 5, 6, 7, 8", bd, cols);
	res = fetch(x, sql);
	if (!res)
		return x->err->code;
	rc = sqexec(x, "CREATE TEMP TABLE grp(gid INTEGER PRIMARY KEY, bucket INTEGER)");
	if (!rc)
		rc = load(x, res, "INSERT INTO grp VALUES(?1, (SELECT id FROM sum_bucket WHERE day = ?2"
			  " AND station = ?3 AND slot = ?4 AND recipe_name = ?5 AND recipe_version = ?6"
			  " AND operator = ?7 AND line = ?8))");
	PQclear(res);
	if (rc)
		return rc;
	snprintf(sql, sizeof(sql),
		 RANGE_G " SELECT g.gid, c.step, min(c.seq)::integer, sum(c.n)::bigint,"
		 " sum(c.sum_us)::bigint, max(c.max_us)::bigint, string_agg(c.hist, ''::bytea)"
		 " FROM g, LATERAL (SELECT c.step, c.seq, c.n, c.sum_us, c.max_us, c.hist"
		 "  FROM fx.sum_cycle c WHERE c.bucket_id = g.id OFFSET 0) c GROUP BY 1, 2",
		 bd, cols);
	res = fetch_as(x, sql, 1);
	if (!res)
		return x->err->code;
	m = calloc(1, sizeof(*m));
	if (!m) {
		PQclear(res);
		return fx_err_set(x->err, FX_E_NOMEM, "out of memory");
	}
	if (sqlite3_prepare_v2(x->db, "INSERT INTO sum_cycle(bucket_id, step, seq, n, sum_us, max_us,"
			       " hist) VALUES((SELECT bucket FROM grp WHERE gid = ?1), ?2, ?3, ?4, ?5,"
			       " ?6, fx_hist_json(?7))", -1, &s, NULL) != SQLITE_OK) {
		free(m);
		PQclear(res);
		return sqerr(x);
	}
	for (r = 0; r < PQntuples(res) && !rc; r++) {
		if (!col_int(res, r, 0, 8, &v[0]) || PQgetisnull(res, r, 1) ||
		    !col_int(res, r, 2, 4, &v[1]) || !col_int(res, r, 3, 8, &v[2]) ||
		    !col_int(res, r, 4, 8, &v[3]) || !col_int(res, r, 5, 8, &v[4])) {
			rc = fx_err_set(x->err, FX_E_IO, "server '%s': malformed sum_cycle row",
					x->f->uri);
			break;
		}
		rc = merge_hist(x, m, res, r);
		if (rc)
			break;
		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, v[0]);
		sqlite3_bind_text(s, 2, PQgetvalue(res, r, 1), PQgetlength(res, r, 1), SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, (int32_t)v[1]);
		sqlite3_bind_int64(s, 4, v[2]);
		sqlite3_bind_int64(s, 5, v[3]);
		sqlite3_bind_int64(s, 6, v[4]);
		sqlite3_bind_text(s, 7, m->json, -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE)
			rc = sqerr(x);
	}
	sqlite3_finalize(s);
	free(m->json);
	free(m);
	PQclear(res);
	return rc;
}

static int load_summaries(struct ld *x)
{
	char sql[8192];
	PGresult *res;
	int rc;

	/* the cycle roll-up keeps (day, station, line) and the histogram text
	 * per step: its rows go to the scratch database as they are (buckets
	 * of real station and line), and the local code merges them */
	x->rollup = x->q->kind == FX_REPORT_CYCLE && !by(x->q, FX_BY_SLOT) &&
		    !by(x->q, FX_BY_RECIPE) && !by(x->q, FX_BY_OPERATOR) && !x->q->recipe &&
		    !x->q->operator_id;
	key_cols(x);
	snprintf(sql, sizeof(sql),
		 "SELECT %s, sum(runs), sum(passed), sum(failed), sum(errors), sum(aborted),"
		 " sum(units), sum(units_first_pass), sum(units_final_pass)"
		 " FROM fx.sum_bucket b" WHERE_B GROUP7, x->key);
	res = fetch(x, sql);
	if (!res)
		return x->err->code;
	rc = load(x, res, "INSERT INTO sum_bucket(day, station, slot, recipe_name, recipe_version,"
		  " operator, line, runs, passed, failed, errors, aborted, units, units_first_pass,"
		  " units_final_pass) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
		  " ?13, ?14, ?15)");
	PQclear(res);
	if (rc || x->q->kind == FX_REPORT_YIELD)
		return rc;
	if (x->q->kind == FX_REPORT_PARETO) {
		snprintf(sql, sizeof(sql),
			 "SELECT %s, p.step, p.error_code, sum(p.n) FROM fx.sum_pareto p"
			 " JOIN fx.sum_bucket b ON b.id = p.bucket_id" WHERE_B GROUP7 ", 8, 9",
			 x->key);
		res = fetch(x, sql);
		if (!res)
			return x->err->code;
		rc = load(x, res, "INSERT INTO sum_pareto(bucket_id, step, error_code, n)"
			  " VALUES(" BUCKET_OF ", ?8, ?9, ?10)");
		PQclear(res);
		return rc;
	}
	/* cycle: n/sum/max/min(seq) and the histogram as the local JSON text.
	 * A report that does not group by time sums every day of a group:
	 * the group's rows all go to its latest bucket (the same sums),
	 * all time from the tables without the day */
	if (!by(x->q, FX_BY_DAY) && !by(x->q, FX_BY_WEEK) && !x->q->has_from && !x->q->has_to)
		snprintf(sql, sizeof(sql),
			 "WITH d AS (SELECT %s, max(b.day) AS day FROM fx.sum_bucket b" WHERE_B GROUP6 "),"
			 " h AS (SELECT %s, b.step, b.hb, sum(b.n) AS n, sum(b.sum_us) AS s"
			 "  FROM fx.sum_cycle_all_hist b" WHERE_ALL GROUP6 ", 7, 8),"
			 " hj AS (SELECT " KEY6 ", step, " HIST_TEXT " AS hist FROM h"
			 "  GROUP BY 1, 2, 3, 4, 5, 6, 7),"
			 " c AS (SELECT %s, b.step, min(b.seq) AS seq, sum(b.n) AS n, sum(b.sum_us) AS s,"
			 "  max(b.max_us) AS mx FROM fx.sum_cycle_all b" WHERE_ALL GROUP6 ", 7)"
			 " SELECT d.day, " KEY6 ", c.step, c.seq, c.n, c.s, c.mx, hj.hist FROM c"
			 " JOIN hj USING (" KEY6 ", step) JOIN d USING (" KEY6 ")",
			 x->kx, x->kx, x->kx);
	else if (x->rollup)
		snprintf(sql, sizeof(sql),
			 "SELECT %s, b.step, b.seq, b.n, b.sum_us, b.max_us, b.hist"
			 " FROM fx.sum_cycle_day b" WHERE_DAY, x->key);
	else
		return load_cycle_range(x);
	res = fetch(x, sql);
	if (!res)
		return x->err->code;
	rc = load(x, res, "INSERT INTO sum_cycle(bucket_id, step, seq, n, sum_us, max_us, hist)"
		  " VALUES(" BUCKET_OF ", ?8, ?9, ?10, ?11, ?12, fx_hist_json(?13))");
	PQclear(res);
	return rc;
}

/* the unit keys of the history's serial or UID, bound as $1, and (as the
 * local history) the unit of the chip UID an allocated serial is bound to:
 * a board bound after a FAIL has its serial only in its allocation */
#define BOUND_TO "FROM fx.serial_allocs a WHERE a.value = $1 AND a.state = 'bound'"
#define UNIT_KEYS                                                                       \
	"(SELECT unit_key FROM fx.units WHERE serial = $1"                              \
	" UNION SELECT unit_key FROM fx.units WHERE chip_uid = $1"                      \
	" UNION SELECT u.unit_key FROM fx.units u WHERE u.chip_uid IN"                  \
	"  (SELECT a.chip_uid " BOUND_TO "))"

/* Run a history query (the unit as $1) into *out; 0 or the error. */
static int fetch_unit(struct ld *x, const char *sql, PGresult **out)
{
	const char *v[1] = { x->q->unit };
	PGresult *res = PQexecParams(x->f->pg, sql, 1, NULL, v, NULL, NULL, 0);
	int rc;

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		rc = fx_fleet_pgerr(x->f, res, FX_E_IO, "history", x->err);
		PQclear(res);
		return rc;
	}
	*out = res;
	return 0;
}

/* One history query loaded into the scratch database through insert. */
static int copy_unit(struct ld *x, const char *sql, const char *insert)
{
	PGresult *res;
	int rc = fetch_unit(x, sql, &res);

	if (rc)
		return rc;
	rc = load(x, res, insert);
	PQclear(res);
	return rc;
}

static int load_history(struct ld *x)
{
	PGresult *res;
	int rc;

	rc = fetch_unit(x, "SELECT unit_key, serial, chip_uid FROM fx.units"
			" WHERE unit_key IN " UNIT_KEYS " ORDER BY unit_key", &res);
	if (rc)
		return rc;
	/* units(id) get the key's rank; runs find theirs by the key */
	rc = sqexec(x, "CREATE TEMP TABLE ukey(id INTEGER PRIMARY KEY, unit_key TEXT UNIQUE)");
	if (!rc)
		rc = load(x, res, "INSERT INTO ukey(unit_key) VALUES(?1)");
	if (!rc)
		rc = load(x, res, "INSERT INTO units(id, serial, chip_uid) VALUES((SELECT id FROM ukey"
			  " WHERE unit_key = ?1), ?2, ?3)");
	PQclear(res);
	if (!rc)
		rc = copy_unit(x,
			       "SELECT r.uuid, r.unit_key, r.serial, r.chip_uid, r.station, r.slot,"
			       " r.port_path, r.operator, r.recipe_name, r.recipe_version, r.recipe_sha256,"
			       " r.firmware_sha256, r.board_state, r.start_us, r.end_us, r.result,"
			       " r.failing_step, r.error_code, r.error_message, r.software_version"
			       " FROM fx.runs r WHERE r.unit_key IN " UNIT_KEYS
			       " ORDER BY r.start_us, r.station_key, r.local_id",
			       "INSERT INTO runs(uuid, unit_id, serial, chip_uid, station, slot, port_path,"
			       " operator, recipe_name, recipe_version, recipe_sha256, firmware_sha256,"
			       " board_state, start_us, end_us, result, failing_step, error_code, error_message,"
			       " software_version) VALUES(?1, (SELECT id FROM ukey WHERE unit_key = ?2), ?3, ?4,"
			       " ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)");
	if (!rc)
		rc = copy_unit(x,
			       "SELECT s.run_uuid, s.seq, s.name, s.start_us, s.duration_us, s.result,"
			       " s.detail FROM fx.steps s JOIN fx.runs r ON r.uuid = s.run_uuid"
			       " WHERE r.unit_key IN " UNIT_KEYS,
			       "INSERT INTO steps(run_id, seq, name, start_us, duration_us, result, detail)"
			       " VALUES((SELECT id FROM runs WHERE uuid = ?1), ?2, ?3, ?4, ?5, ?6, ?7)");
	/* the allocation binding the serial, for the local query */
	if (!rc)
		rc = copy_unit(x, "SELECT DISTINCT a.pool " BOUND_TO,
			       "INSERT OR IGNORE INTO serial_pool(name, source, created_us)"
			       " VALUES(?1, 'counter', 0)");
	if (!rc)
		rc = copy_unit(x, "SELECT a.alloc_uuid, a.pool, a.value, a.chip_uid,"
			       " COALESCE(a.reserved_us, a.changed_us), a.changed_us " BOUND_TO,
			       "INSERT INTO serial_alloc(uuid, pool_id, value, state, on_fail, chip_uid,"
			       " reserved_us, changed_us) VALUES(?1, (SELECT id FROM serial_pool WHERE"
			       " name = ?2), ?3, 'bound', 'reuse', ?4, ?5, ?6)");
	return rc;
}

struct fx_report *fx_fleet_report(const char *uri, const struct fx_report_query *q,
				  struct fx_err *err)
{
	struct fx_report *r = NULL;
	struct ld x = { .q = q, .err = err };
	struct fx_err e;
	int rc;

	if (!err) {
		fx_err_clear(&e);
		x.err = err = &e;
	}
	x.f = fx_fleet_connect(uri, err);
	if (!x.f)
		return NULL;
	if (fx_fleet_check_schema(x.f, err))
		goto out;
	x.st = fx_store_open_scratch(fx_fleet_uri(x.f), err);
	if (!x.st)
		goto out;
	x.db = fx_store_sqlite(x.st);
	/* one snapshot of the server for all the queries; no JIT: the
	 * report queries are short, compiling them costs more than it saves */
	rc = fx_fleet_exec(x.f, "SET jit = off; SET work_mem = '64MB'", err);
	if (!rc)
		rc = fx_fleet_exec(x.f, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err);
	if (!rc)
		rc = sqexec(&x, "BEGIN");
	if (!rc)
		rc = q->kind == FX_REPORT_HISTORY ? (q->unit && *q->unit ? load_history(&x) : 0) :
						    load_summaries(&x);
	if (!rc)
		rc = sqexec(&x, "COMMIT");
	fx_fleet_exec(x.f, "COMMIT", NULL);
	if (!rc)
		r = fx_report_run(x.st, q, err);
out:
	fx_store_close(x.st);
	fx_fleet_close(x.f);
	return r;
}

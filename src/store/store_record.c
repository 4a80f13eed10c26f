/* store_record.c - recording: run begin, the unit, each step, run end
 * (which folds the run into the summaries, store_summary.c), and the
 * recovery of unfinished runs at open. Every call is one transaction
 * under the store's mutex (fx/store.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "store_int.h"

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* 16 bytes as a version 4 UUID (RFC 4122 4.4: version and variant bits
 * set) in text, 36 characters and a NUL. */
static void uuid_text(uint8_t b[16], char out[37])
{
	int i, n = 0;

	b[6] = (uint8_t)((b[6] & 0x0F) | 0x40); /* version 4 */
	b[8] = (uint8_t)((b[8] & 0x3F) | 0x80); /* variant 10 */
	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[n++] = '-';
		snprintf(out + n, 3, "%02x", b[i]);
		n += 2;
	}
	out[n] = '\0';
}

/* A random (version 4) UUID as text, from getrandom(); what names the key
 * in the error ("a run uuid"). */
int fx_store_uuid4(char out[37], const char *what, struct fx_err *err)
{
	uint8_t b[16];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return fx_err_set(err, FX_E_IO, "getrandom failed for %s", what);
	uuid_text(b, out);
	return 0;
}

static int make_uuid(struct fx_store *st, char out[37], struct fx_err *err)
{
	uint8_t b[16];
	uint64_t a, c;
	int i;

	if (!st->seeded)
		return fx_store_uuid4(out, "a run uuid", err);
	a = splitmix64(&st->seed);
	c = splitmix64(&st->seed);
	for (i = 0; i < 8; i++) {
		b[i] = (uint8_t)(a >> (8 * i));
		b[8 + i] = (uint8_t)(c >> (8 * i));
	}
	uuid_text(b, out);
	return 0;
}

/* One recording transaction around body(st, ctx, err): committed when
 * body returns 0, else (or when the commit fails) rolled back; returns
 * the first error. The caller holds st->lock. */
static int txn_run(struct fx_store *st, int (*body)(struct fx_store *, void *, struct fx_err *),
		   void *ctx, struct fx_err *err)
{
	int rc = fx_store_txn_begin(st, err);

	if (rc)
		return rc;
	rc = body(st, ctx, err);
	if (!rc)
		rc = fx_store_txn_end(st, true, err);
	if (rc)
		fx_store_txn_end(st, false, NULL);
	return rc;
}

/* txn_run() under st->lock. */
static int txn_locked(struct fx_store *st, int (*body)(struct fx_store *, void *, struct fx_err *),
		      void *ctx, struct fx_err *err)
{
	int rc;

	pthread_mutex_lock(&st->lock);
	rc = txn_run(st, body, ctx, err);
	pthread_mutex_unlock(&st->lock);
	return rc;
}

struct run_begin_ctx {
	const struct fx_run_start *start;
	struct fx_store_run *r;
};

static int run_begin_body(struct fx_store *st, void *ctx, struct fx_err *err)
{
	const struct run_begin_ctx *c = ctx;
	const struct fx_run_start *start = c->start;
	sqlite3_stmt *s = fx_store_stmt(st, SQ_RUN_INSERT, err);
	int rc;

	if (!s)
		return FX_E_DB;
	sqlite3_bind_text(s, 1, c->r->uuid, -1, SQLITE_TRANSIENT);
	fx_store_bind_text(s, 2, start->station);
	sqlite3_bind_int(s, 3, start->slot);
	fx_store_bind_text(s, 4, start->port_path);
	fx_store_bind_text(s, 5, start->operator_id);
	fx_store_bind_text(s, 6, start->recipe_name);
	fx_store_bind_text(s, 7, start->recipe_version);
	fx_store_bind_text(s, 8, start->recipe_sha256);
	fx_store_bind_text(s, 9, start->firmware_sha256);
	fx_store_bind_text(s, 10, start->software_version);
	sqlite3_bind_int64(s, 11, start->start_utc_us);
	rc = fx_store_run_stmt(st, s, err);
	if (rc)
		return rc;
	c->r->id = sqlite3_last_insert_rowid(st->db);
	c->r->start_utc_us = start->start_utc_us;
	return 0;
}

int fx_store_run_begin(struct fx_store *st, const struct fx_run_start *start,
		       struct fx_store_run *run, struct fx_err *err)
{
	struct fx_store_run r;
	struct run_begin_ctx c = { start, &r };
	int rc;

	if (!start || !run || !start->station || !*start->station ||
	    !start->recipe_name || !*start->recipe_name)
		return fx_err_set(err, FX_E_INVAL, "run begin: station and recipe name are required");
	pthread_mutex_lock(&st->lock);
	rc = make_uuid(st, r.uuid, err);
	if (!rc)
		rc = txn_run(st, run_begin_body, &c, err);
	pthread_mutex_unlock(&st->lock);
	if (!rc)
		*run = r;
	return rc;
}

/* Give unit unit_id the identity it lacks (statement which: id, value). */
static int unit_fill(struct fx_store *st, enum st_stmt which, int64_t unit_id, const char *v,
		     struct fx_err *err)
{
	sqlite3_stmt *s = fx_store_stmt(st, which, err);

	if (!s)
		return FX_E_DB;
	sqlite3_bind_int64(s, 1, unit_id);
	fx_store_bind_text(s, 2, v);
	return fx_store_run_stmt(st, s, err);
}

/* Find or create the unit; OUT: *unit_id. Inside a transaction. */
static int unit_lookup(struct fx_store *st, const char *serial, const char *uid,
		       int64_t *unit_id, struct fx_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if (serial) {
		s = fx_store_stmt(st, SQ_UNIT_BY_SERIAL, err);
		if (!s)
			return FX_E_DB;
		fx_store_bind_text(s, 1, serial);
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			*unit_id = sqlite3_column_int64(s, 0);
			sqlite3_reset(s);
			if (!uid)
				return 0;
			return unit_fill(st, SQ_UNIT_FILL_UID, *unit_id, uid, err);
		}
		sqlite3_reset(s);
		if (rc != SQLITE_DONE)
			return fx_store_dberr(st, err);
	}
	if (uid) {
		s = fx_store_stmt(st, SQ_UNIT_BY_UID, err);
		if (!s)
			return FX_E_DB;
		fx_store_bind_text(s, 1, uid);
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW && (!serial || sqlite3_column_type(s, 1) == SQLITE_NULL)) {
			*unit_id = sqlite3_column_int64(s, 0);
			sqlite3_reset(s);
			if (!serial)
				return 0;
			/* a unit known only by its UID gets its serial */
			return unit_fill(st, SQ_UNIT_FILL_SERIAL, *unit_id, serial, err);
		}
		sqlite3_reset(s);
		if (rc != SQLITE_DONE && rc != SQLITE_ROW)
			return fx_store_dberr(st, err);
	}
	s = fx_store_stmt(st, SQ_UNIT_INSERT, err);
	if (!s)
		return FX_E_DB;
	fx_store_bind_text(s, 1, serial);
	fx_store_bind_text(s, 2, uid);
	rc = fx_store_run_stmt(st, s, err);
	if (rc)
		return rc;
	*unit_id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

struct set_unit_ctx {
	const struct fx_store_run *run;
	const char *serial, *chip_uid, *state;
};

static int set_unit_body(struct fx_store *st, void *ctx, struct fx_err *err)
{
	const struct set_unit_ctx *c = ctx;
	int64_t unit_id = 0;
	sqlite3_stmt *s;
	int rc;

	rc = unit_lookup(st, c->serial, c->chip_uid, &unit_id, err);
	if (rc)
		return rc;
	s = fx_store_stmt(st, SQ_RUN_SET_UNIT, err);
	if (!s)
		return FX_E_DB;
	sqlite3_bind_int64(s, 1, c->run->id);
	sqlite3_bind_int64(s, 2, unit_id);
	fx_store_bind_text(s, 3, c->serial);
	fx_store_bind_text(s, 4, c->chip_uid);
	sqlite3_bind_text(s, 5, c->state, -1, SQLITE_STATIC);
	rc = fx_store_run_stmt(st, s, err);
	if (rc)
		return rc;
	if (sqlite3_changes(st->db) != 1)
		return fx_err_set(err, FX_E_NOTFOUND, "database '%s': no run %s", st->path,
				  c->run->uuid);
	return 0;
}

int fx_store_run_set_unit(struct fx_store *st, const struct fx_store_run *run,
			  const char *serial, const char *chip_uid,
			  enum fx_store_board board_state, struct fx_err *err)
{
	struct set_unit_ctx c = { run, serial, chip_uid, fx_store_board_name(board_state) };

	if (c.serial && !*c.serial)
		c.serial = NULL;
	if (c.chip_uid && !*c.chip_uid)
		c.chip_uid = NULL;
	if (!run || (!c.serial && !c.chip_uid))
		return fx_err_set(err, FX_E_INVAL, "run unit: a serial or a chip uid is required");
	if (!c.state)
		return fx_err_set(err, FX_E_INVAL, "run unit: board state %d out of range",
				  (int)board_state);
	return txn_locked(st, set_unit_body, &c, err);
}

struct step_ctx {
	const struct fx_store_run *run;
	const struct fx_store_step *step;
	const char *res;
};

static int step_body(struct fx_store *st, void *ctx, struct fx_err *err)
{
	const struct step_ctx *c = ctx;
	sqlite3_stmt *s = fx_store_stmt(st, SQ_STEP_INSERT, err);

	if (!s)
		return FX_E_DB;
	sqlite3_bind_int64(s, 1, c->run->id);
	fx_store_bind_text(s, 2, c->step->name);
	sqlite3_bind_int64(s, 3, c->step->start_utc_us);
	sqlite3_bind_int64(s, 4, c->step->duration_us);
	sqlite3_bind_text(s, 5, c->res, -1, SQLITE_STATIC);
	fx_store_bind_text(s, 6, c->step->detail);
	return fx_store_run_stmt(st, s, err);
}

int fx_store_step(struct fx_store *st, const struct fx_store_run *run,
		  const struct fx_store_step *step, struct fx_err *err)
{
	struct step_ctx c = { run, step, NULL };

	if (!run || !step || !step->name || !*step->name)
		return fx_err_set(err, FX_E_INVAL, "step: a name is required");
	c.res = fx_store_result_name(step->result);
	if (!c.res || step->duration_us < 0)
		return fx_err_set(err, FX_E_INVAL, "step '%s': bad result %d or duration %lld",
				  step->name, (int)step->result, (long long)step->duration_us);
	return txn_locked(st, step_body, &c, err);
}

struct run_end_ctx {
	const struct fx_store_run *run;
	const struct fx_run_end *end;
	const char *res;
};

static int run_end_body(struct fx_store *st, void *ctx, struct fx_err *err)
{
	const struct run_end_ctx *c = ctx;
	const struct fx_run_end *end = c->end;
	sqlite3_stmt *s = fx_store_stmt(st, SQ_RUN_FINISH, err);
	int rc;

	if (!s)
		return FX_E_DB;
	sqlite3_bind_int64(s, 1, c->run->id);
	sqlite3_bind_text(s, 2, c->res, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, end->end_utc_us);
	fx_store_bind_text(s, 4, end->result == FX_STORE_PASS ? NULL : end->failing_step);
	if (end->result != FX_STORE_PASS && end->error_code)
		sqlite3_bind_text(s, 5, fx_err_name(end->error_code), -1, SQLITE_STATIC);
	fx_store_bind_text(s, 6, end->result == FX_STORE_PASS ? NULL : end->message);
	rc = fx_store_run_stmt(st, s, err);
	if (rc)
		return rc;
	if (sqlite3_changes(st->db) != 1)
		return fx_err_set(err, FX_E_STATE,
				  "database '%s': run %s is already ended or unknown",
				  st->path, c->run->uuid);
	return fx_store_fold_run(st, c->run->id, end->result, end->end_utc_us, err);
}

int fx_store_run_end(struct fx_store *st, const struct fx_store_run *run,
		     const struct fx_run_end *end, struct fx_err *err)
{
	struct run_end_ctx c = { run, end, NULL };

	if (!run || !end)
		return fx_err_set(err, FX_E_INVAL, "run end: no run");
	c.res = fx_store_result_name(end->result);
	if (!c.res || end->result == FX_STORE_SKIPPED)
		return fx_err_set(err, FX_E_INVAL, "run end: bad result %d", (int)end->result);
	if (end->end_utc_us < run->start_utc_us)
		return fx_err_set(err, FX_E_INVAL, "run end: end %lld before start %lld",
				  (long long)end->end_utc_us, (long long)run->start_utc_us);
	return txn_locked(st, run_end_body, &c, err);
}

struct recover_ctx {
	int64_t *ids;
	size_t n;
};

static int recover_body(struct fx_store *st, void *ctx, struct fx_err *err)
{
	struct recover_ctx *c = ctx;
	size_t cap = 0, i;
	int64_t *nids;
	sqlite3_stmt *s;
	int rc;

	s = fx_store_stmt(st, SQ_OPEN_RUNS, err);
	if (!s)
		return FX_E_DB;
	/* collect first: the updates below change the index being scanned */
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (c->n == cap) {
			cap = cap ? 2 * cap : 16;
			nids = realloc(c->ids, cap * sizeof(*c->ids));
			if (!nids) {
				sqlite3_reset(s);
				return fx_err_set(err, FX_E_NOMEM, "database '%s': out of memory",
						  st->path);
			}
			c->ids = nids;
		}
		c->ids[c->n++] = sqlite3_column_int64(s, 0);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return fx_store_dberr(st, err);
	for (i = 0; i < c->n; i++) {
		s = fx_store_stmt(st, SQ_RUN_FINISH, err);
		if (!s)
			return FX_E_DB;
		sqlite3_bind_int64(s, 1, c->ids[i]);
		sqlite3_bind_text(s, 2, fx_store_result_name(FX_STORE_ABORTED), -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 5, fx_err_name(FX_E_ABORTED), -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 6, "unfinished at start-up", -1, SQLITE_STATIC);
		rc = fx_store_run_stmt(st, s, err);
		if (!rc)
			rc = fx_store_fold_run(st, c->ids[i], FX_STORE_ABORTED, -1, err);
		if (rc)
			return rc;
	}
	return 0;
}

int fx_store_recover(struct fx_store *st, unsigned *count, struct fx_err *err)
{
	struct recover_ctx c = { NULL, 0 };
	int rc = txn_run(st, recover_body, &c, err);

	free(c.ids);
	if (!rc)
		*count = (unsigned)c.n;
	return rc;
}

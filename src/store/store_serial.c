/* store_serial.c - serial number pools and allocations in the station
 * database (fx/serial.h "allocation semantics"; tables in
 * store_schema.c, migration 2 -> 3). Every call is one transaction under
 * the store's mutex, so slots in threads may share one store; the
 * serial_event rows are written by triggers in the same transaction. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fx/serial.h"
#include "store_int.h"

#define COL_SEP '\x1f' /* joins a list row's fields (lists hold no controls) */

/* as stored (fx_serial_state_name() in serial_format.c says the same) */
static const char *const state_names[] = { "reserved", "bound", "released", "voided" };

static enum fx_serial_state state_from(const unsigned char *t)
{
	int i;

	for (i = 0; i < 4; i++)
		if (t && !strcmp((const char *)t, state_names[i]))
			return (enum fx_serial_state)i;
	return FX_SERIAL_VOIDED; /* the CHECK constraint allows nothing else */
}

static const char *col_text(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t ? (const char *)t : "";
}

/* Reset this module's cached statements before the lock is released: a
 * statement left on a row keeps the connection's read snapshot open, and
 * once another connection commits (the fleet pusher's acknowledgements)
 * the station's next BEGIN IMMEDIATE fails with SQLITE_BUSY_SNAPSHOT
 * ("database is locked"). */
static void unlock_idle(struct fx_store *st)
{
	for (int i = SQ_SER_POOL_GET; i <= SQ_SER_POOLS; i++)
		if (st->stmt[i])
			sqlite3_reset(st->stmt[i]);
	pthread_mutex_unlock(&st->lock);
}

/* One transaction around body under st->lock: committed when body
 * returns 0, else rolled back; the first error wins. */
static int txn_locked(struct fx_store *st, int (*body)(struct fx_store *, void *, struct fx_err *),
		      void *ctx, struct fx_err *err)
{
	int rc;

	pthread_mutex_lock(&st->lock);
	rc = fx_store_txn_begin(st, err);
	if (!rc) {
		rc = body(st, ctx, err);
		if (!rc)
			rc = fx_store_txn_end(st, true, err);
		if (rc)
			fx_store_txn_end(st, false, NULL);
	}
	unlock_idle(st);
	return rc;
}

/* Step s expecting at most one row: 1 = row, 0 = none, FX_E_DB. The
 * statement stays on the row (reset by the next fx_store_stmt). */
static int row(struct fx_store *st, sqlite3_stmt *s, struct fx_err *err)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return fx_store_dberr(st, err);
}

/* ---- pools ---------------------------------------------------------- */

struct pool {
	int64_t id;
	char source[16];
	bool central;
	char list_sha256[65];
	char *header; /* malloc'd, fields joined by COL_SEP */
};

/* 1 found, 0 none, < 0 error. */
static int pool_get(struct fx_store *st, const char *name, struct pool *p, struct fx_err *err)
{
	sqlite3_stmt *s = fx_store_stmt(st, SQ_SER_POOL_GET, err);
	int rc;

	memset(p, 0, sizeof(*p));
	if (!s)
		return FX_E_DB;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
	rc = row(st, s, err);
	if (rc != 1)
		return rc;
	p->id = sqlite3_column_int64(s, 0);
	snprintf(p->source, sizeof(p->source), "%s", col_text(s, 1));
	p->central = sqlite3_column_int(s, 2) != 0;
	snprintf(p->list_sha256, sizeof(p->list_sha256), "%s", col_text(s, 3));
	p->header = strdup(col_text(s, 4));
	if (!p->header)
		return fx_err_set(err, FX_E_NOMEM, "out of memory");
	return 1;
}

static int block_insert(struct fx_store *st, int64_t pool_id, uint64_t first, uint64_t last,
			const char *origin, const char *ref, int64_t now_us, int64_t *id,
			struct fx_err *err)
{
	sqlite3_stmt *s = fx_store_stmt(st, SQ_SER_BLOCK_INSERT, err);
	int rc;

	if (!s)
		return FX_E_DB;
	sqlite3_bind_int64(s, 1, pool_id);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)first);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)last);
	sqlite3_bind_text(s, 4, origin, -1, SQLITE_STATIC);
	fx_store_bind_text(s, 5, ref);
	sqlite3_bind_int64(s, 6, now_us);
	rc = fx_store_run_stmt(st, s, err);
	if (!rc && id)
		*id = sqlite3_last_insert_rowid(st->db);
	return rc;
}

/* FX_E_CONFIG when [first, last] overlaps a block of the pool. */
static int check_overlap(struct fx_store *st, const char *pool, int64_t pool_id, uint64_t first,
			 uint64_t last, struct fx_err *err)
{
	sqlite3_stmt *s = fx_store_stmt(st, SQ_SER_BLOCK_OVERLAP, err);
	int rc;

	if (!s)
		return FX_E_DB;
	sqlite3_bind_int64(s, 1, pool_id);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)first);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)last);
	rc = row(st, s, err);
	if (rc == 1)
		return fx_err_set(err, FX_E_CONFIG,
				  "pool '%s': block [%" PRIu64 ", %" PRIu64 "] overlaps block [%lld, %lld]",
				  pool, first, last, (long long)sqlite3_column_int64(s, 0),
				  (long long)sqlite3_column_int64(s, 1));
	return rc;
}

/* The counter pool's block of origin 'recipe' against the recipe. */
static int sync_recipe_block(struct fx_store *st, const struct fx_serial_conf *c, int64_t pool_id,
			     int64_t now_us, struct fx_err *err)
{
	sqlite3_stmt *s = fx_store_stmt(st, SQ_SER_BLOCK_ORIGIN, err);
	int64_t id, first, next;
	int rc;

	if (!s)
		return FX_E_DB;
	sqlite3_bind_int64(s, 1, pool_id);
	sqlite3_bind_text(s, 2, "recipe", -1, SQLITE_STATIC);
	rc = row(st, s, err);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		rc = check_overlap(st, c->pool, pool_id, c->first, c->last, err);
		return rc ? rc : block_insert(st, pool_id, c->first, c->last, "recipe", NULL, now_us,
					      NULL, err);
	}
	id = sqlite3_column_int64(s, 0);
	first = sqlite3_column_int64(s, 1);
	next = sqlite3_column_int64(s, 3);
	if ((uint64_t)first != c->first)
		return fx_err_set(err, FX_E_CONFIG,
				  "pool '%s': recipe first = %" PRIu64 ", the database's block starts at %lld",
				  c->pool, c->first, (long long)first);
	if ((uint64_t)sqlite3_column_int64(s, 2) == c->last)
		return 0;
	if ((int64_t)c->last < next - 1)
		return fx_err_set(err, FX_E_CONFIG,
				  "pool '%s': last = %" PRIu64 " is below %lld, already issued", c->pool,
				  c->last, (long long)(next - 1));
	s = fx_store_stmt(st, SQ_SER_BLOCK_SET_LAST, err);
	if (!s)
		return FX_E_DB;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)c->last);
	return fx_store_run_stmt(st, s, err);
}

/* Join n strings with COL_SEP: malloc'd. */
static char *join(char *const *v, size_t n)
{
	size_t i, len = 1;
	char *out, *p;

	for (i = 0; i < n; i++)
		len += strlen(v[i]) + 1;
	out = malloc(len);
	if (!out)
		return NULL;
	p = out;
	for (i = 0; i < n; i++) {
		size_t l = strlen(v[i]);

		if (i)
			*p++ = COL_SEP;
		memcpy(p, v[i], l);
		p += l;
	}
	*p = '\0';
	return out;
}

struct first_diag {
	char msg[512];
};

static void keep_first(void *user, const char *msg)
{
	struct first_diag *d = user;

	if (!d->msg[0])
		snprintf(d->msg, sizeof(d->msg), "%s", msg);
}

/* Import the rows of a changed list: appended by value (rows already in
 * the pool keep their number), the list block grows to the row count. */
static int import_list(struct fx_store *st, const struct fx_serial_conf *c, struct pool *p,
		       int64_t now_us, struct fx_err *err)
{
	struct fx_serial_list *l = NULL;
	struct first_diag d = { "" };
	sqlite3_stmt *s;
	char *header = NULL, *cols = NULL;
	int64_t max = 0, bid;
	size_t i;
	int rc;

	rc = fx_serial_list_load(c->list, &l, keep_first, &d, err);
	if (rc == FX_E_CONFIG)
		return fx_err_set(err, FX_E_CONFIG, "pool '%s': %s", c->pool, d.msg);
	if (rc)
		return rc;
	header = join(l->header, l->n_cols);
	if (!header) {
		rc = fx_err_set(err, FX_E_NOMEM, "out of memory");
		goto out;
	}
	if (p->header[0] && strcmp(p->header, header)) {
		rc = fx_err_set(err, FX_E_CONFIG,
				"pool '%s': the columns of '%s' changed since it was imported", c->pool,
				c->list);
		goto out;
	}
	s = fx_store_stmt(st, SQ_SER_LIST_MAX, err);
	if (s)
		sqlite3_bind_int64(s, 1, p->id);
	if (!s || row(st, s, err) != 1) {
		rc = FX_E_DB;
		goto out;
	}
	max = sqlite3_column_int64(s, 0);
	for (i = 0; i < l->n_rows; i++) {
		const char *v = l->rows[i][l->serial_col];

		s = fx_store_stmt(st, SQ_SER_LIST_HAS, err);
		if (!s) {
			rc = FX_E_DB;
			goto out;
		}
		sqlite3_bind_int64(s, 1, p->id);
		sqlite3_bind_text(s, 2, v, -1, SQLITE_TRANSIENT);
		rc = row(st, s, err);
		if (rc < 0)
			goto out;
		if (rc == 1)
			continue;
		cols = join(l->rows[i], l->n_cols);
		s = cols ? fx_store_stmt(st, SQ_SER_LIST_INSERT, err) : NULL;
		if (!s) {
			rc = cols ? FX_E_DB : fx_err_set(err, FX_E_NOMEM, "out of memory");
			goto out;
		}
		sqlite3_bind_int64(s, 1, p->id);
		sqlite3_bind_int64(s, 2, ++max);
		sqlite3_bind_text(s, 3, v, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 4, cols, -1, SQLITE_TRANSIENT);
		free(cols);
		cols = NULL;
		rc = fx_store_run_stmt(st, s, err);
		if (rc)
			goto out;
	}
	s = fx_store_stmt(st, SQ_SER_BLOCK_ORIGIN, err);
	if (!s) {
		rc = FX_E_DB;
		goto out;
	}
	sqlite3_bind_int64(s, 1, p->id);
	sqlite3_bind_text(s, 2, "list", -1, SQLITE_STATIC);
	rc = row(st, s, err);
	if (rc < 0)
		goto out;
	if (rc == 1) {
		bid = sqlite3_column_int64(s, 0);
		s = fx_store_stmt(st, SQ_SER_BLOCK_SET_LAST, err);
		if (!s) {
			rc = FX_E_DB;
			goto out;
		}
		sqlite3_bind_int64(s, 1, bid);
		sqlite3_bind_int64(s, 2, max);
		rc = fx_store_run_stmt(st, s, err);
	} else {
		rc = max ? block_insert(st, p->id, 1, (uint64_t)max, "list", c->list_sha256, now_us,
					NULL, err) : 0;
	}
	if (rc)
		goto out;
	s = fx_store_stmt(st, SQ_SER_POOL_SET_LIST, err);
	if (!s) {
		rc = FX_E_DB;
		goto out;
	}
	sqlite3_bind_int64(s, 1, p->id);
	sqlite3_bind_text(s, 2, l->sha256, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 3, header, -1, SQLITE_TRANSIENT);
	rc = fx_store_run_stmt(st, s, err);
out:
	free(cols);
	free(header);
	fx_serial_list_free(l);
	return rc;
}

static int remaining_of(struct fx_store *st, const char *source, int64_t pool_id, uint64_t *out,
			struct fx_err *err)
{
	sqlite3_stmt *s;

	if (!strcmp(source, "scan")) {
		*out = UINT64_MAX;
		return 0;
	}
	s = fx_store_stmt(st, SQ_SER_REMAINING, err);
	if (!s)
		return FX_E_DB;
	sqlite3_bind_int64(s, 1, pool_id);
	if (row(st, s, err) != 1)
		return FX_E_DB;
	*out = (uint64_t)sqlite3_column_int64(s, 0);
	return 0;
}

static int recover_body(struct fx_store *st, int64_t now_us, unsigned *count, struct fx_err *err)
{
	sqlite3_stmt *s = fx_store_stmt(st, SQ_SER_RECOVER, err);
	int rc;

	if (!s)
		return FX_E_DB;
	sqlite3_bind_int64(s, 1, now_us);
	rc = fx_store_run_stmt(st, s, err);
	if (!rc && count)
		*count = (unsigned)sqlite3_changes(st->db);
	return rc;
}

struct prepare_ctx {
	const struct fx_serial_conf *c;
	int64_t now_us;
	uint64_t remaining;
};

static int prepare_body(struct fx_store *st, void *ctx, struct fx_err *err)
{
	struct prepare_ctx *x = ctx;
	const struct fx_serial_conf *c = x->c;
	const char *src = fx_serial_source_name(c->source);
	struct pool p;
	sqlite3_stmt *s;
	int rc;

	rc = pool_get(st, c->pool, &p, err);
	if (rc == 0) {
		s = fx_store_stmt(st, SQ_SER_POOL_INSERT, err);
		if (!s)
			return FX_E_DB;
		sqlite3_bind_text(s, 1, c->pool, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 2, src, -1, SQLITE_STATIC);
		fx_store_bind_text(s, 3, c->source == FX_SERIAL_COUNTER ? c->fmt.text : NULL);
		sqlite3_bind_int(s, 4, c->central);
		sqlite3_bind_int64(s, 5, x->now_us);
		rc = fx_store_run_stmt(st, s, err);
		if (rc)
			return rc;
		rc = pool_get(st, c->pool, &p, err);
		if (rc == 0)
			rc = fx_err_set(err, FX_E_DB, "pool '%s' vanished", c->pool);
	}
	if (rc < 0)
		goto out;
	rc = 0;
	if (strcmp(p.source, src)) {
		rc = fx_err_set(err, FX_E_CONFIG,
				"pool '%s' is a %s pool in the database, the recipe says %s", c->pool,
				p.source, src);
		goto out;
	}
	if (p.central != c->central) {
		rc = fx_err_set(err, FX_E_CONFIG,
				"pool '%s' is %s in the database, the recipe says central = %s",
				c->pool, p.central ? "central" : "local", c->central ? "yes" : "no");
		goto out;
	}
	if (c->source == FX_SERIAL_COUNTER && !c->central)
		rc = sync_recipe_block(st, c, p.id, x->now_us, err);
	else if (c->source == FX_SERIAL_LIST &&
		 (!c->list_sha256[0] || strcmp(p.list_sha256, c->list_sha256)))
		rc = import_list(st, c, &p, x->now_us, err);
	if (!rc)
		rc = recover_body(st, x->now_us, NULL, err);
	if (!rc)
		rc = remaining_of(st, p.source, p.id, &x->remaining, err);
out:
	free(p.header);
	return rc;
}

int fx_serial_prepare(struct fx_store *st, const struct fx_serial_conf *c, int64_t now_us,
		      uint64_t *remaining, struct fx_err *err)
{
	struct prepare_ctx x = { c, now_us, 0 };
	int rc;

	if (!st || !c || !c->enabled || !c->pool[0])
		return fx_err_set(err, FX_E_INVAL, "serial prepare: no [serial_number] pool");
	rc = txn_locked(st, prepare_body, &x, err);
	if (!rc && remaining)
		*remaining = x.remaining;
	return rc;
}

struct add_block_ctx {
	const char *pool, *origin, *ref;
	uint64_t first, last;
	int64_t now_us, id;
};

static int add_block_body(struct fx_store *st, void *ctx, struct fx_err *err)
{
	struct add_block_ctx *x = ctx;
	struct pool p;
	int rc = pool_get(st, x->pool, &p, err);

	if (rc == 0)
		rc = fx_err_set(err, FX_E_NOTFOUND, "pool '%s' is not in the database", x->pool);
	if (rc < 0)
		goto out;
	rc = 0;
	if (strcmp(p.source, "counter")) {
		rc = fx_err_set(err, FX_E_INVAL, "pool '%s' is a %s pool: blocks are for counter pools",
				x->pool, p.source);
		goto out;
	}
	rc = check_overlap(st, x->pool, p.id, x->first, x->last, err);
	if (!rc)
		rc = block_insert(st, p.id, x->first, x->last, x->origin, x->ref, x->now_us, &x->id,
				  err);
out:
	free(p.header);
	return rc;
}

int fx_serial_pool_add_block(struct fx_store *st, const char *pool, uint64_t first, uint64_t last,
			     const char *origin, const char *ref, int64_t now_us, int64_t *block_id,
			     struct fx_err *err)
{
	struct add_block_ctx x = { pool, origin ? origin : "lease", ref, first, last, now_us, 0 };
	int rc;

	if (!st || !pool)
		return fx_err_set(err, FX_E_INVAL, "add block: no pool");
	if (first > last || last > INT64_MAX - 1)
		return fx_err_set(err, FX_E_INVAL, "pool '%s': block [%" PRIu64 ", %" PRIu64 "] is empty"
				  " or out of range", pool, first, last);
	if (strcmp(x.origin, "recipe") && strcmp(x.origin, "list") && strcmp(x.origin, "lease"))
		return fx_err_set(err, FX_E_INVAL, "add block: origin '%s' (expected recipe, list or lease)",
				  x.origin);
	rc = txn_locked(st, add_block_body, &x, err);
	if (!rc && block_id)
		*block_id = x.id;
	return rc;
}

/* ---- allocation ----------------------------------------------------- */

struct alloc_ctx {
	const struct fx_serial_request *rq;
	struct fx_serial_alloc *a;
	struct pool p;
};

static const char *on_fail_text(const struct fx_serial_conf *c)
{
	return c->on_fail == FX_SERIAL_VOID ? "void" : "reuse";
}

/* Insert a row for value (state reserved, or bound when found on the
 * board); block_id 0 = none, n < 0 = none. */
static int alloc_insert(struct fx_store *st, struct alloc_ctx *x, int64_t block_id, int64_t n,
			const char *value, enum fx_serial_state state, struct fx_err *err)
{
	const struct fx_serial_request *rq = x->rq;
	char uuid[37];
	sqlite3_stmt *s;
	int rc = fx_store_uuid4(uuid, "a serial allocation uuid", err);

	if (rc)
		return rc;
	s = fx_store_stmt(st, SQ_SER_INSERT, err);
	if (!s)
		return FX_E_DB;
	sqlite3_bind_text(s, 1, uuid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 2, x->p.id);
	if (block_id)
		sqlite3_bind_int64(s, 3, block_id);
	if (n >= 0)
		sqlite3_bind_int64(s, 4, n);
	sqlite3_bind_text(s, 5, value, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 6, state_names[state], -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, on_fail_text(rq->conf), -1, SQLITE_STATIC);
	if (rq->run_id > 0)
		sqlite3_bind_int64(s, 8, rq->run_id);
	sqlite3_bind_text(s, 9, rq->chip_uid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 10, rq->now_us);
	if (state != FX_SERIAL_RESERVED)
		sqlite3_bind_int64(s, 11, rq->now_us);
	rc = fx_store_run_stmt(st, s, err);
	if (rc)
		return rc;
	x->a->id = sqlite3_last_insert_rowid(st->db);
	x->a->n = n;
	x->a->state = state;
	snprintf(x->a->value, sizeof(x->a->value), "%s", value);
	return 0;
}

/* Reserve (or bind, when found on the board) an existing row for this run. */
static int alloc_take(struct fx_store *st, struct alloc_ctx *x, int64_t id, int64_t n,
		      const char *value, bool bind, struct fx_err *err)
{
	const struct fx_serial_request *rq = x->rq;
	sqlite3_stmt *s = fx_store_stmt(st, bind ? SQ_SER_BIND : SQ_SER_RESERVE, err);
	int rc;

	if (!s)
		return FX_E_DB;
	sqlite3_bind_int64(s, 1, id);
	if (bind) {
		if (rq->run_id > 0)
			sqlite3_bind_int64(s, 2, rq->run_id);
		sqlite3_bind_text(s, 3, rq->chip_uid, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(s, 4, rq->now_us);
	} else {
		sqlite3_bind_text(s, 2, on_fail_text(rq->conf), -1, SQLITE_STATIC);
		if (rq->run_id > 0)
			sqlite3_bind_int64(s, 3, rq->run_id);
		sqlite3_bind_text(s, 4, rq->chip_uid, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(s, 5, rq->now_us);
	}
	rc = fx_store_run_stmt(st, s, err);
	if (rc)
		return rc;
	x->a->id = id;
	x->a->n = n;
	x->a->state = bind ? FX_SERIAL_BOUND : FX_SERIAL_RESERVED;
	snprintf(x->a->value, sizeof(x->a->value), "%s", value);
	return 0;
}

/* What the database holds for a value. */
struct held {
	int64_t id, pool_id, run_id, n;
	enum fx_serial_state state;
	char uid[64];
	char pool[FX_SERIAL_NAME_MAX];
};

static int held_get(struct fx_store *st, const char *value, struct held *h, struct fx_err *err)
{
	sqlite3_stmt *s = fx_store_stmt(st, SQ_SER_BY_VALUE, err);
	int rc;

	if (!s)
		return FX_E_DB;
	sqlite3_bind_text(s, 1, value, -1, SQLITE_TRANSIENT);
	rc = row(st, s, err);
	if (rc != 1)
		return rc;
	h->id = sqlite3_column_int64(s, 0);
	h->pool_id = sqlite3_column_int64(s, 1);
	h->state = state_from(sqlite3_column_text(s, 2));
	h->run_id = sqlite3_column_int64(s, 3);
	snprintf(h->uid, sizeof(h->uid), "%s", col_text(s, 4));
	h->n = sqlite3_column_int64(s, 5);
	snprintf(h->pool, sizeof(h->pool), "%s", col_text(s, 6));
	return 1;
}

/* A value held by somebody else: FX_E_DUPLICATE naming the holder. */
static int duplicate(const struct alloc_ctx *x, const char *value, const struct held *h,
		     struct fx_err *err)
{
	if (h->pool_id != x->p.id)
		return fx_err_set(err, FX_E_DUPLICATE, "duplicate serial '%s': issued by pool '%s'",
				  value, h->pool);
	if (h->state == FX_SERIAL_BOUND)
		return fx_err_set(err, FX_E_DUPLICATE, "duplicate serial '%s': bound to chip UID %s",
				  value, h->uid);
	if (h->state == FX_SERIAL_RESERVED)
		return fx_err_set(err, FX_E_DUPLICATE,
				  "duplicate serial '%s': reserved by run %lld (chip UID %s)", value,
				  (long long)h->run_id, h->uid);
	return fx_err_set(err, FX_E_DUPLICATE, "duplicate serial '%s': voided in the database",
			  value);
}

/* The number of a value found on a board or scanned, -1 when none. */
static int value_number(struct fx_store *st, const struct alloc_ctx *x, const char *value,
			int64_t *n, int64_t *block_id, struct fx_err *err)
{
	const struct fx_serial_conf *c = x->rq->conf;
	sqlite3_stmt *s;
	uint64_t u;
	int rc;

	*n = -1;
	*block_id = 0;
	if (c->source == FX_SERIAL_COUNTER) {
		if (!fx_serial_fmt_match(&c->fmt, value, x->rq->station, &u) || u > INT64_MAX)
			return 0;
		*n = (int64_t)u;
	} else if (c->source == FX_SERIAL_LIST) {
		s = fx_store_stmt(st, SQ_SER_LIST_HAS, err);
		if (!s)
			return FX_E_DB;
		sqlite3_bind_int64(s, 1, x->p.id);
		sqlite3_bind_text(s, 2, value, -1, SQLITE_TRANSIENT);
		rc = row(st, s, err);
		if (rc <= 0)
			return rc;
		*n = sqlite3_column_int64(s, 0);
	} else {
		return 0;
	}
	s = fx_store_stmt(st, SQ_SER_BLOCK_OF, err);
	if (!s)
		return FX_E_DB;
	sqlite3_bind_int64(s, 1, x->p.id);
	sqlite3_bind_int64(s, 2, *n);
	rc = row(st, s, err);
	if (rc == 1)
		*block_id = sqlite3_column_int64(s, 0);
	return rc < 0 ? rc : 0;
}

/* A value from outside the pool's cursor (found on the board: bind;
 * scanned: reserve). 1 = done (x->a filled), 0 = not a value of this
 * pool (found only), < 0 error. */
static int alloc_given(struct fx_store *st, struct alloc_ctx *x, const char *value, bool found,
		       struct fx_err *err)
{
	const struct fx_serial_request *rq = x->rq;
	struct held h;
	int64_t n, bid;
	int rc;

	/* a list pool's serial is a value of its list: anything else on the
	 * board is not ours (another pool's record in the OTP) */
	if (found && rq->conf->source == FX_SERIAL_LIST) {
		rc = value_number(st, x, value, &n, &bid, err);
		if (rc || n < 0)
			return rc;
	}
	rc = held_get(st, value, &h, err);
	if (rc < 0)
		return rc;
	if (rc == 1) {
		if (h.pool_id == x->p.id && !strcmp(h.uid, rq->chip_uid) &&
		    (h.state == FX_SERIAL_BOUND ||
		     (h.state == FX_SERIAL_RESERVED && h.run_id == rq->run_id))) {
			x->a->id = h.id;
			x->a->n = h.n;
			x->a->state = h.state;
			x->a->kept = h.state == FX_SERIAL_BOUND;
			snprintf(x->a->value, sizeof(x->a->value), "%s", value);
			return 1;
		}
		if (h.pool_id != x->p.id || h.state != FX_SERIAL_RELEASED)
			return duplicate(x, value, &h, err);
		/* released: never reached a board, free to take */
		rc = alloc_take(st, x, h.id, h.n, value, found, err);
		x->a->adopted = found;
		return rc ? rc : 1;
	}
	rc = value_number(st, x, value, &n, &bid, err);
	if (rc)
		return rc;
	rc = alloc_insert(st, x, bid, n, value, found ? FX_SERIAL_BOUND : FX_SERIAL_RESERVED, err);
	x->a->adopted = found;
	return rc ? rc : 1;
}

/* The value of number n of the pool (counter: rendered now; list: row n). */
static int render(struct fx_store *st, struct alloc_ctx *x, int64_t n, char *out, size_t cap,
		  struct fx_err *err)
{
	const struct fx_serial_request *rq = x->rq;
	sqlite3_stmt *s;
	int rc;

	if (rq->conf->source == FX_SERIAL_COUNTER)
		return fx_serial_fmt_render(&rq->conf->fmt, (uint64_t)n, rq->now_us, rq->station, out,
					    cap, err);
	s = fx_store_stmt(st, SQ_SER_LIST_ROW, err);
	if (!s)
		return FX_E_DB;
	sqlite3_bind_int64(s, 1, x->p.id);
	sqlite3_bind_int64(s, 2, n);
	rc = row(st, s, err);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return fx_err_set(err, FX_E_DB, "pool '%s': list row %lld is missing", rq->conf->pool,
				  (long long)n);
	snprintf(out, cap, "%s", col_text(s, 0));
	return 0;
}

/* The next never-issued number: values already in the database (another
 * pool's, or found on a board) are skipped. 1 done, 0 exhausted. */
static int alloc_next(struct fx_store *st, struct alloc_ctx *x, struct fx_err *err)
{
	char value[FX_SERIAL_VALUE_MAX];
	struct held h;
	int64_t bid, n;
	sqlite3_stmt *s;
	int rc;

	for (;;) {
		s = fx_store_stmt(st, SQ_SER_BLOCK_NEXT, err);
		if (!s)
			return FX_E_DB;
		sqlite3_bind_int64(s, 1, x->p.id);
		rc = row(st, s, err);
		if (rc <= 0)
			return rc;
		bid = sqlite3_column_int64(s, 0);
		n = sqlite3_column_int64(s, 1);
		s = fx_store_stmt(st, SQ_SER_BLOCK_ADVANCE, err);
		if (!s)
			return FX_E_DB;
		sqlite3_bind_int64(s, 1, bid);
		sqlite3_bind_int64(s, 2, n + 1);
		rc = fx_store_run_stmt(st, s, err);
		if (!rc)
			rc = render(st, x, n, value, sizeof(value), err);
		if (rc)
			return rc;
		rc = held_get(st, value, &h, err);
		if (rc < 0)
			return rc;
		if (rc == 1)
			continue;
		rc = alloc_insert(st, x, bid, n, value, FX_SERIAL_RESERVED, err);
		return rc ? rc : 1;
	}
}

/* cols[i] = the list row's field of conf->fields[i] (0 = the serial). */
static int fill_cols(struct fx_store *st, struct alloc_ctx *x, struct fx_err *err)
{
	const struct fx_serial_conf *c = x->rq->conf;
	struct fx_serial_alloc *a = x->a;
	sqlite3_stmt *s;
	size_t i;
	int rc;

	a->n_cols = c->n_fields;
	snprintf(a->cols[0], sizeof(a->cols[0]), "%s", a->value);
	if (c->source != FX_SERIAL_LIST || c->n_fields < 2 || a->n < 1)
		return 0;
	s = fx_store_stmt(st, SQ_SER_LIST_ROW, err);
	if (!s)
		return FX_E_DB;
	sqlite3_bind_int64(s, 1, x->p.id);
	sqlite3_bind_int64(s, 2, a->n);
	rc = row(st, s, err);
	if (rc <= 0)
		return rc;
	for (i = 1; i < c->n_fields; i++) {
		const char *h = x->p.header, *v = col_text(s, 1);
		size_t cl = strlen(c->fields[i].column);

		/* walk the header and the row side by side */
		while (h && !(!strncmp(h, c->fields[i].column, cl) &&
			      (h[cl] == COL_SEP || h[cl] == '\0'))) {
			h = strchr(h, COL_SEP);
			v = v ? strchr(v, COL_SEP) : NULL;
			if (h)
				h++;
			if (v)
				v++;
		}
		if (!h || !v)
			return fx_err_set(err, FX_E_CONFIG, "pool '%s': no column '%s' in the imported list",
					  c->pool, c->fields[i].column);
		cl = strcspn(v, "\x1f");
		snprintf(a->cols[i], sizeof(a->cols[i]), "%.*s", (int)cl, v);
	}
	return 0;
}

static int alloc_body(struct fx_store *st, void *ctx, struct fx_err *err)
{
	struct alloc_ctx *x = ctx;
	const struct fx_serial_request *rq = x->rq;
	const struct fx_serial_conf *c = rq->conf;
	sqlite3_stmt *s;
	int rc;

	memset(x->a, 0, sizeof(*x->a));
	x->a->n = -1;
	rc = recover_body(st, rq->now_us, NULL, err);
	if (rc)
		return rc;
	rc = pool_get(st, c->pool, &x->p, err);
	if (rc == 0)
		return fx_err_set(err, FX_E_NOTFOUND, "pool '%s' is not in the database (fx_serial_prepare)",
				  c->pool);
	if (rc < 0)
		return rc;
	/* 1. the value on the board */
	if (rq->found && *rq->found) {
		rc = alloc_given(st, x, rq->found, true, err);
		if (rc)
			goto done;
	}
	/* 2. the value this UID already holds */
	s = fx_store_stmt(st, SQ_SER_BY_UID, err);
	if (!s)
		return FX_E_DB;
	sqlite3_bind_text(s, 1, rq->chip_uid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 2, x->p.id);
	sqlite3_bind_int64(s, 3, rq->run_id);
	rc = row(st, s, err);
	if (rc < 0)
		return rc;
	if (rc == 1) {
		x->a->id = sqlite3_column_int64(s, 0);
		snprintf(x->a->value, sizeof(x->a->value), "%s", col_text(s, 1));
		x->a->n = sqlite3_column_int64(s, 2);
		x->a->state = state_from(sqlite3_column_text(s, 3));
		x->a->kept = x->a->state == FX_SERIAL_BOUND;
		if (c->source == FX_SERIAL_SCAN && rq->scan && strcmp(rq->scan, x->a->value))
			return fx_err_set(err, FX_E_DUPLICATE,
					  "chip UID %s already carries serial '%s' (scanned '%s')",
					  rq->chip_uid, x->a->value, rq->scan);
		rc = 1;
		goto done;
	}
	/* 3. the scan */
	if (c->source == FX_SERIAL_SCAN) {
		if (!rq->scan || !*rq->scan)
			return fx_err_set(err, FX_E_INVAL, "pool '%s': source = scan needs a scanned serial",
					  c->pool);
		rc = alloc_given(st, x, rq->scan, false, err);
		goto done;
	}
	/* 4. the lowest released value */
	s = fx_store_stmt(st, SQ_SER_RELEASED, err);
	if (!s)
		return FX_E_DB;
	sqlite3_bind_int64(s, 1, x->p.id);
	rc = row(st, s, err);
	if (rc < 0)
		return rc;
	if (rc == 1) {
		char v[FX_SERIAL_VALUE_MAX];
		int64_t id = sqlite3_column_int64(s, 0), n = sqlite3_column_int64(s, 2);

		snprintf(v, sizeof(v), "%s", col_text(s, 1));
		rc = alloc_take(st, x, id, n, v, false, err);
		if (!rc)
			rc = 1;
		goto done;
	}
	/* 5. the next number never issued */
	rc = alloc_next(st, x, err);
	if (rc == 0)
		return fx_err_set(err, FX_E_EXHAUSTED, "pool '%s': no serial numbers left", c->pool);
done:
	if (rc < 0)
		return rc;
	rc = fill_cols(st, x, err);
	if (!rc)
		rc = remaining_of(st, x->p.source, x->p.id, &x->a->remaining, err);
	return rc;
}

int fx_serial_alloc(struct fx_store *st, const struct fx_serial_request *rq,
		    struct fx_serial_alloc *a, struct fx_err *err)
{
	struct alloc_ctx x;
	int rc;

	if (!st || !rq || !a || !rq->conf || !rq->conf->enabled || !rq->chip_uid || !*rq->chip_uid)
		return fx_err_set(err, FX_E_INVAL, "serial alloc: the pool and the chip UID are required");
	memset(&x, 0, sizeof(x));
	x.rq = rq;
	x.a = a;
	rc = txn_locked(st, alloc_body, &x, err);
	free(x.p.header);
	return rc;
}

struct change_ctx {
	int64_t id, now_us;
	bool pass, reached;
	enum fx_serial_state state;
};

static int get_state(struct fx_store *st, int64_t id, enum fx_serial_state *state, bool *reached,
		     bool *void_on_fail, struct fx_err *err)
{
	sqlite3_stmt *s = fx_store_stmt(st, SQ_SER_GET, err);
	int rc;

	if (!s)
		return FX_E_DB;
	sqlite3_bind_int64(s, 1, id);
	rc = row(st, s, err);
	if (rc == 0)
		return fx_err_set(err, FX_E_NOTFOUND, "serial allocation %lld is not in the database",
				  (long long)id);
	if (rc < 0)
		return rc;
	*state = state_from(sqlite3_column_text(s, 0));
	*reached = sqlite3_column_int(s, 1) != 0;
	*void_on_fail = !strcmp(col_text(s, 2), "void");
	return 0;
}

static int reached_body(struct fx_store *st, void *ctx, struct fx_err *err)
{
	struct change_ctx *x = ctx;
	bool reached, vd;
	sqlite3_stmt *s;
	int rc = get_state(st, x->id, &x->state, &reached, &vd, err);

	if (rc)
		return rc;
	if (x->state == FX_SERIAL_BOUND || reached)
		return 0;
	if (x->state != FX_SERIAL_RESERVED)
		return fx_err_set(err, FX_E_STATE, "serial allocation %lld is %s, not reserved",
				  (long long)x->id, state_names[x->state]);
	s = fx_store_stmt(st, SQ_SER_REACHED, err);
	if (!s)
		return FX_E_DB;
	sqlite3_bind_int64(s, 1, x->id);
	sqlite3_bind_int64(s, 2, x->now_us);
	return fx_store_run_stmt(st, s, err);
}

int fx_serial_reached(struct fx_store *st, int64_t alloc_id, int64_t now_us, struct fx_err *err)
{
	struct change_ctx x = { alloc_id, now_us, false, false, FX_SERIAL_RESERVED };

	if (!st)
		return fx_err_set(err, FX_E_INVAL, "serial reached: no store");
	return txn_locked(st, reached_body, &x, err);
}

static int finish_body(struct fx_store *st, void *ctx, struct fx_err *err)
{
	struct change_ctx *x = ctx;
	bool reached, vd;
	sqlite3_stmt *s;
	int rc = get_state(st, x->id, &x->state, &reached, &vd, err);

	if (rc || x->state != FX_SERIAL_RESERVED)
		return rc; /* already ended (kept, adopted, recovered) */
	x->state = x->pass || reached ? FX_SERIAL_BOUND : vd ? FX_SERIAL_VOIDED : FX_SERIAL_RELEASED;
	s = fx_store_stmt(st, SQ_SER_END, err);
	if (!s)
		return FX_E_DB;
	sqlite3_bind_int64(s, 1, x->id);
	sqlite3_bind_text(s, 2, state_names[x->state], -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, x->now_us);
	return fx_store_run_stmt(st, s, err);
}

int fx_serial_finish(struct fx_store *st, int64_t alloc_id, bool pass, int64_t now_us,
		     enum fx_serial_state *state, struct fx_err *err)
{
	struct change_ctx x = { alloc_id, now_us, pass, false, FX_SERIAL_RESERVED };
	int rc;

	if (!st)
		return fx_err_set(err, FX_E_INVAL, "serial finish: no store");
	rc = txn_locked(st, finish_body, &x, err);
	if (!rc && state)
		*state = x.state;
	return rc;
}

struct recover_ctx {
	int64_t now_us;
	unsigned count;
};

static int recover_txn(struct fx_store *st, void *ctx, struct fx_err *err)
{
	struct recover_ctx *x = ctx;

	return recover_body(st, x->now_us, &x->count, err);
}

int fx_serial_recover(struct fx_store *st, int64_t now_us, unsigned *count, struct fx_err *err)
{
	struct recover_ctx x = { now_us, 0 };
	int rc;

	if (!st)
		return fx_err_set(err, FX_E_INVAL, "serial recover: no store");
	rc = txn_locked(st, recover_txn, &x, err);
	if (!rc && count)
		*count = x.count;
	return rc;
}

/* ---- reading -------------------------------------------------------- */

static int stats_locked(struct fx_store *st, const char *name, struct fx_serial_pool_stats *out,
			struct fx_err *err)
{
	struct pool p;
	sqlite3_stmt *s;
	int rc = pool_get(st, name, &p, err);

	if (rc == 0)
		rc = fx_err_set(err, FX_E_NOTFOUND, "pool '%s' is not in the database", name);
	if (rc < 0)
		goto out;
	memset(out, 0, sizeof(*out));
	snprintf(out->pool, sizeof(out->pool), "%s", name);
	snprintf(out->source, sizeof(out->source), "%s", p.source);
	rc = remaining_of(st, p.source, p.id, &out->remaining, err);
	if (rc)
		goto out;
	s = fx_store_stmt(st, SQ_SER_COUNTS, err);
	rc = FX_E_DB;
	if (!s)
		goto out;
	sqlite3_bind_int64(s, 1, p.id);
	while ((rc = row(st, s, err)) == 1) {
		uint64_t k = (uint64_t)sqlite3_column_int64(s, 1);

		switch (state_from(sqlite3_column_text(s, 0))) {
		case FX_SERIAL_RESERVED: out->reserved = k; break;
		case FX_SERIAL_BOUND: out->bound = k; break;
		case FX_SERIAL_RELEASED: out->released = k; break;
		case FX_SERIAL_VOIDED: out->voided = k; break;
		}
	}
	if (rc < 0)
		goto out;
	s = fx_store_stmt(st, SQ_SER_BLOCKS, err);
	if (s)
		sqlite3_bind_int64(s, 1, p.id);
	if (!s || row(st, s, err) != 1) {
		rc = FX_E_DB;
		goto out;
	}
	out->blocks = (uint64_t)sqlite3_column_int64(s, 0);
	s = fx_store_stmt(st, SQ_SER_LAST, err);
	if (!s) {
		rc = FX_E_DB;
		goto out;
	}
	sqlite3_bind_int64(s, 1, p.id);
	rc = row(st, s, err);
	if (rc == 1)
		snprintf(out->last_value, sizeof(out->last_value), "%s", col_text(s, 0));
	rc = rc < 0 ? rc : 0;
out:
	free(p.header);
	return rc;
}

int fx_serial_pool_stats(struct fx_store *st, const char *pool, struct fx_serial_pool_stats *out,
			 struct fx_err *err)
{
	int rc;

	if (!st || !pool || !out)
		return fx_err_set(err, FX_E_INVAL, "pool stats: no pool");
	pthread_mutex_lock(&st->lock);
	rc = stats_locked(st, pool, out, err);
	unlock_idle(st);
	return rc;
}

int fx_serial_pools(struct fx_store *st, struct fx_serial_pool_stats **out, size_t *n,
		    struct fx_err *err)
{
	struct fx_serial_pool_stats *v = NULL, *nv;
	char **names = NULL, **nn;
	size_t k = 0, i;
	sqlite3_stmt *s;
	int rc = 0;

	if (!st || !out || !n)
		return fx_err_set(err, FX_E_INVAL, "pools: no output");
	pthread_mutex_lock(&st->lock);
	s = fx_store_stmt(st, SQ_SER_POOLS, err);
	if (!s) {
		rc = FX_E_DB;
		goto out;
	}
	while ((rc = row(st, s, err)) == 1) {
		nn = realloc(names, (k + 1) * sizeof(*names));
		if (!nn || !(nn[k] = strdup(col_text(s, 0)))) {
			names = nn ? nn : names;
			rc = fx_err_set(err, FX_E_NOMEM, "out of memory");
			goto out;
		}
		names = nn;
		k++;
	}
	if (rc < 0)
		goto out;
	nv = k ? calloc(k, sizeof(*v)) : NULL;
	if (k && !nv) {
		rc = fx_err_set(err, FX_E_NOMEM, "out of memory");
		goto out;
	}
	v = nv;
	for (i = 0; i < k && !rc; i++)
		rc = stats_locked(st, names[i], &v[i], err);
out:
	unlock_idle(st);
	for (i = 0; i < k; i++)
		free(names[i]);
	free(names);
	if (rc) {
		free(v);
		return rc;
	}
	*out = v;
	*n = k;
	return 0;
}

/* store_runs.c - recording: run begin, unit, steps, run end, recovery of
 * unfinished runs, and the summaries folded in with each run end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "store_int.h"

static const char *const result_names[] = {
	[FX_STORE_PASS] = "PASS",
	[FX_STORE_FAIL] = "FAIL",
	[FX_STORE_ERROR] = "ERROR",
	[FX_STORE_ABORTED] = "ABORTED",
	[FX_STORE_SKIPPED] = "SKIPPED",
};

static const char *const board_names[] = {
	[FX_STORE_BOARD_UNKNOWN] = "unknown",
	[FX_STORE_BOARD_PROGRAMMED] = "programmed",
	[FX_STORE_BOARD_BLANK] = "blank",
	[FX_STORE_BOARD_CORRUPTED] = "corrupted",
	[FX_STORE_BOARD_PROTECTED] = "protected",
};

const char *fx_store_result_name(enum fx_store_result r)
{
	if ((unsigned)r >= sizeof(result_names) / sizeof(result_names[0]))
		return NULL;
	return result_names[r];
}

const char *fx_store_board_name(enum fx_store_board b)
{
	if ((unsigned)b >= sizeof(board_names) / sizeof(board_names[0]))
		return NULL;
	return board_names[b];
}

int fx_store_hist_bucket(int64_t us)
{
	int e = 0;
	uint64_t v;

	if (us < 32)
		return us < 0 ? 0 : (int)us;
	v = (uint64_t)us;
	while ((v >> e) > 1)
		e++;
	/* e = floor(log2(us)) >= 5: 32 linear sub-buckets per octave */
	return e * 32 + (int)((v >> (e - 5)) & 31);
}

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static int make_uuid(struct fx_store *st, char out[37], struct fx_err *err)
{
	uint8_t b[16];
	uint64_t a, c;
	int i, n = 0;

	if (st->seeded) {
		a = splitmix64(&st->seed);
		c = splitmix64(&st->seed);
		for (i = 0; i < 8; i++) {
			b[i] = (uint8_t)(a >> (8 * i));
			b[8 + i] = (uint8_t)(c >> (8 * i));
		}
	} else if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
		return fx_err_set(err, FX_E_IO, "getrandom failed for a run uuid");
	}
	b[6] = (uint8_t)((b[6] & 0x0F) | 0x40); /* version 4 (RFC 4122 4.4) */
	b[8] = (uint8_t)((b[8] & 0x3F) | 0x80); /* variant 10 */
	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[n++] = '-';
		snprintf(out + n, 3, "%02x", b[i]);
		n += 2;
	}
	out[n] = '\0';
	return 0;
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

/* Step a statement expecting no row. */
static int run_stmt(struct fx_store *st, sqlite3_stmt *s, struct fx_err *err)
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
	bind_text(s, 2, start->station);
	sqlite3_bind_int(s, 3, start->slot);
	bind_text(s, 4, start->port_path);
	bind_text(s, 5, start->operator_id);
	bind_text(s, 6, start->recipe_name);
	bind_text(s, 7, start->recipe_version);
	bind_text(s, 8, start->recipe_sha256);
	bind_text(s, 9, start->firmware_sha256);
	bind_text(s, 10, start->software_version);
	sqlite3_bind_int64(s, 11, start->start_utc_us);
	rc = run_stmt(st, s, err);
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
	bind_text(s, 2, v);
	return run_stmt(st, s, err);
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
		bind_text(s, 1, serial);
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
		bind_text(s, 1, uid);
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
	bind_text(s, 1, serial);
	bind_text(s, 2, uid);
	rc = run_stmt(st, s, err);
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
	bind_text(s, 3, c->serial);
	bind_text(s, 4, c->chip_uid);
	sqlite3_bind_text(s, 5, c->state, -1, SQLITE_STATIC);
	rc = run_stmt(st, s, err);
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
	bind_text(s, 2, c->step->name);
	sqlite3_bind_int64(s, 3, c->step->start_utc_us);
	sqlite3_bind_int64(s, 4, c->step->duration_us);
	sqlite3_bind_text(s, 5, c->res, -1, SQLITE_STATIC);
	bind_text(s, 6, c->step->detail);
	return run_stmt(st, s, err);
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

/* A non-negative decimal; false if none or too long. */
static bool get_u63(const char **sp, long long *v)
{
	const char *s = *sp;
	unsigned long long x = 0;
	int n = 0;

	while (*s >= '0' && *s <= '9') {
		if (++n > 18)
			return false;
		x = x * 10 + (unsigned long long)(*s++ - '0');
	}
	*sp = s;
	*v = (long long)x;
	return n > 0;
}

/* Parse "[[hb,n,sum],...]" (every value >= 0, as written by cycle_add);
 * calls add(hb, n, sum) per triple. Hot in all-time cycle reports. */
static bool hist_parse(const char *s, void (*add)(void *, int, int64_t, int64_t), void *ctx)
{
	long long v[3];
	int k;

	while (*s == ' ')
		s++;
	if (*s++ != '[')
		return false;
	while (*s == ' ')
		s++;
	if (*s == ']')
		return true;
	for (;;) {
		if (*s++ != '[')
			return false;
		for (k = 0; k < 3; k++) {
			if (!get_u63(&s, &v[k]))
				return false;
			if (*s++ != (k < 2 ? ',' : ']'))
				return false;
		}
		if (v[0] >= FX_STORE_HB_MAX)
			return false;
		add(ctx, (int)v[0], v[1], v[2]);
		if (*s == ']')
			return true;
		if (*s++ != ',')
			return false;
	}
}

struct dense {
	int64_t *n, *sum;
	bool overflow;
};

static void dense_add(void *ctx, int hb, int64_t n, int64_t sum)
{
	struct dense *d = ctx;

	if (__builtin_add_overflow(d->n[hb], n, &d->n[hb]) ||
	    __builtin_add_overflow(d->sum[hb], sum, &d->sum[hb]))
		d->overflow = true;
}

bool fx_store_hist_each(const char *s, void (*fn)(void *ctx, int hb, int64_t n, int64_t sum),
			void *ctx)
{
	return s && hist_parse(s, fn, ctx);
}

bool fx_store_hist_add(const char *s, int64_t *n, int64_t *sum)
{
	struct dense d = { n, sum, false };

	return s && hist_parse(s, dense_add, &d) && !d.overflow;
}

/* A sparse histogram, ascending by hb. */
struct sparse {
	int count;
	bool overflow;       /* a sum does not fit in int64_t (tampered) */
	int hb[FX_STORE_HB_MAX];
	int64_t n[FX_STORE_HB_MAX], sum[FX_STORE_HB_MAX];
};

static void sparse_add(void *ctx, int hb, int64_t n, int64_t sum)
{
	struct sparse *h = ctx;
	int lo = 0, hi = h->count, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (h->hb[mid] < hb)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < h->count && h->hb[lo] == hb) {
		if (__builtin_add_overflow(h->n[lo], n, &h->n[lo]) ||
		    __builtin_add_overflow(h->sum[lo], sum, &h->sum[lo]))
			h->overflow = true;
		return;
	}
	memmove(&h->hb[lo + 1], &h->hb[lo], (size_t)(h->count - lo) * sizeof(h->hb[0]));
	memmove(&h->n[lo + 1], &h->n[lo], (size_t)(h->count - lo) * sizeof(h->n[0]));
	memmove(&h->sum[lo + 1], &h->sum[lo], (size_t)(h->count - lo) * sizeof(h->sum[0]));
	h->hb[lo] = hb;
	h->n[lo] = n;
	h->sum[lo] = sum;
	h->count++;
}

/* Add one duration to the (bucket, step) row: read-modify-write of its
 * histogram, inside the run-end transaction. h is scratch space. */
static int cycle_add(struct fx_store *st, struct sparse *h, int64_t bucket, const char *step,
		     int seq, int64_t us, struct fx_err *err)
{
	sqlite3_stmt *s = fx_store_stmt(st, SQ_CYCLE_GET, err);
	sqlite3_str *txt;
	char *hist;
	int rc, i;

	if (!s)
		return FX_E_DB;
	sqlite3_bind_int64(s, 1, bucket);
	sqlite3_bind_text(s, 2, step, -1, SQLITE_TRANSIENT);
	h->count = 0;
	h->overflow = false;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW &&
	    !fx_store_hist_each((const char *)sqlite3_column_text(s, 0), sparse_add, h)) {
		sqlite3_reset(s);
		return fx_err_set(err, FX_E_DB, "database '%s': malformed sum_cycle.hist for step '%s'",
				  st->path, step);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fx_store_dberr(st, err);
	sparse_add(h, fx_store_hist_bucket(us), 1, us);
	if (h->overflow)
		return fx_err_set(err, FX_E_DB, "database '%s': implausible cycle sums for step '%s'",
				  st->path, step);
	txt = sqlite3_str_new(st->db);
	sqlite3_str_appendchar(txt, 1, '[');
	for (i = 0; i < h->count; i++)
		sqlite3_str_appendf(txt, "%s[%d,%lld,%lld]", i ? "," : "", h->hb[i],
				    (long long)h->n[i], (long long)h->sum[i]);
	sqlite3_str_appendchar(txt, 1, ']');
	hist = sqlite3_str_finish(txt);
	if (!hist)
		return fx_err_set(err, FX_E_NOMEM, "database '%s': out of memory", st->path);
	s = fx_store_stmt(st, SQ_CYCLE_UPSERT, err);
	if (!s) {
		sqlite3_free(hist);
		return FX_E_DB;
	}
	sqlite3_bind_int64(s, 1, bucket);
	sqlite3_bind_text(s, 2, step, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 3, seq);
	sqlite3_bind_int64(s, 4, us);
	sqlite3_bind_text(s, 5, hist, -1, sqlite3_free);
	return run_stmt(st, s, err);
}

/* Add du units, dfirst first-pass and dfinal final-pass units to a
 * bucket's cohort. */
static int bucket_units(struct fx_store *st, int64_t bucket, int du, int dfirst, int dfinal,
			struct fx_err *err)
{
	sqlite3_stmt *s;

	if (!du && !dfirst && !dfinal)
		return 0;
	s = fx_store_stmt(st, SQ_BUCKET_UNITS, err);
	if (!s)
		return FX_E_DB;
	sqlite3_bind_int64(s, 1, bucket);
	sqlite3_bind_int(s, 2, du);
	sqlite3_bind_int(s, 3, dfirst);
	sqlite3_bind_int(s, 4, dfinal);
	return run_stmt(st, s, err);
}

/* (start, id) ordering of runs: the order v_first_pass uses. */
static bool run_before(int64_t s1, int64_t id1, int64_t s2, int64_t id2)
{
	return s1 < s2 || (s1 == s2 && id1 < id2);
}

/* The unit cohort: the unit's first finished run (by start time, then id,
 * as v_first_pass orders them, whatever order the runs FINISHED in)
 * decides its bucket and first-pass, its last one the final result. A run
 * finishing late may become the first (the cohort moves to its bucket) or
 * the last one; one in between changes nothing. */
static int fold_unit(struct fx_store *st, int64_t unit_id, int64_t run_id, int64_t start_us,
		     int64_t bucket, const char *result, struct fx_err *err)
{
	bool pass = !strcmp(result, "PASS"), had_first, was_final, was_first;
	int64_t first_bucket, first_id, first_start, last_id, last_start;
	const char *txt;
	sqlite3_stmt *s;
	int rc;

	s = fx_store_stmt(st, SQ_UNIT_GET, err);
	if (!s)
		return FX_E_DB;
	sqlite3_bind_int64(s, 1, unit_id);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		return fx_store_dberr(st, err);
	}
	had_first = sqlite3_column_type(s, 0) != SQLITE_NULL;
	was_final = was_first = false;
	if (had_first) {
		/* NULL: a NULL column, or SQLite out of memory */
		txt = (const char *)sqlite3_column_text(s, 1);
		was_final = txt && !strcmp(txt, "PASS");
		if (txt)
			txt = (const char *)sqlite3_column_text(s, 3);
		was_first = txt && !strcmp(txt, "PASS");
		if (!txt && sqlite3_errcode(fx_store_sqlite(st)) == SQLITE_NOMEM) {
			sqlite3_reset(s);
			return fx_err_set(err, FX_E_NOMEM, "%s: out of memory", fx_store_path(st));
		}
	}
	first_id = sqlite3_column_int64(s, 0);
	first_bucket = sqlite3_column_int64(s, 2);
	first_start = sqlite3_column_int64(s, 4);
	last_id = sqlite3_column_int64(s, 5);
	last_start = sqlite3_column_int64(s, 6);
	sqlite3_reset(s);

	if (!had_first || run_before(last_start, last_id, start_us, run_id)) {
		/* the first run, or a new last one */
		s = fx_store_stmt(st, had_first ? SQ_UNIT_LAST : SQ_UNIT_FIRST, err);
		if (!s)
			return FX_E_DB;
		sqlite3_bind_int64(s, 1, unit_id);
		sqlite3_bind_int64(s, 2, run_id);
		sqlite3_bind_text(s, 3, result, -1, SQLITE_TRANSIENT);
		if (!had_first)
			sqlite3_bind_int64(s, 4, bucket);
		rc = run_stmt(st, s, err);
		if (rc)
			return rc;
		if (!had_first)
			return bucket_units(st, bucket, 1, pass, pass, err);
		return bucket_units(st, first_bucket, 0, 0, (int)pass - (int)was_final, err);
	}
	if (!run_before(start_us, run_id, first_start, first_id))
		return 0; /* between the first and the last run */
	/* started before the unit's first run: the cohort moves to its bucket */
	s = fx_store_stmt(st, SQ_UNIT_SET_FIRST, err);
	if (!s)
		return FX_E_DB;
	sqlite3_bind_int64(s, 1, unit_id);
	sqlite3_bind_int64(s, 2, run_id);
	sqlite3_bind_text(s, 3, result, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 4, bucket);
	rc = run_stmt(st, s, err);
	if (!rc)
		rc = bucket_units(st, first_bucket, -1, -(int)was_first, -(int)was_final, err);
	if (!rc)
		rc = bucket_units(st, bucket, 1, pass, was_final, err);
	return rc;
}

int fx_store_fold_run(struct fx_store *st, int64_t run_id, const char *result,
		      int64_t end_us, struct fx_err *err)
{
	int64_t start_us, unit_id, bucket;
	bool has_unit;
	sqlite3_stmt *s, *r;
	int rc;

	r = fx_store_stmt(st, SQ_RUN_GET, err);
	if (!r)
		return FX_E_DB;
	sqlite3_bind_int64(r, 1, run_id);
	if (sqlite3_step(r) != SQLITE_ROW) {
		sqlite3_reset(r);
		return fx_store_dberr(st, err);
	}
	start_us = sqlite3_column_int64(r, 1);
	has_unit = sqlite3_column_type(r, 7) != SQLITE_NULL;
	unit_id = sqlite3_column_int64(r, 7);

	s = fx_store_stmt(st, SQ_BUCKET_UPSERT, err);
	if (!s) {
		sqlite3_reset(r);
		return FX_E_DB;
	}
	sqlite3_bind_int64(s, 1, fx_store_day(start_us));
	sqlite3_bind_value(s, 2, sqlite3_column_value(r, 2));
	sqlite3_bind_value(s, 3, sqlite3_column_value(r, 3));
	sqlite3_bind_value(s, 4, sqlite3_column_value(r, 4));
	sqlite3_bind_value(s, 5, sqlite3_column_value(r, 5));
	sqlite3_bind_value(s, 6, sqlite3_column_value(r, 6));
	sqlite3_bind_int(s, 7, !strcmp(result, "PASS"));
	sqlite3_bind_int(s, 8, !strcmp(result, "FAIL"));
	sqlite3_bind_int(s, 9, !strcmp(result, "ERROR"));
	sqlite3_bind_int(s, 10, !strcmp(result, "ABORTED"));
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		sqlite3_reset(r);
		return fx_store_dberr(st, err);
	}
	bucket = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);

	if (strcmp(result, "PASS")) {
		s = fx_store_stmt(st, SQ_PARETO_UPSERT, err);
		if (!s)
			return FX_E_DB;
		sqlite3_bind_int64(s, 1, bucket);
		sqlite3_bind_value(s, 2, sqlite3_column_value(r, 8));
		sqlite3_bind_value(s, 3, sqlite3_column_value(r, 9));
		rc = run_stmt(st, s, err);
		if (rc) {
			sqlite3_reset(r);
			return rc;
		}
	}
	sqlite3_reset(r);
	if (has_unit) {
		rc = fold_unit(st, unit_id, run_id, start_us, bucket, result, err);
		if (rc)
			return rc;
	}
	/* cycle time: runs that ended with a verdict (not ABORTED) */
	if (end_us >= 0 && strcmp(result, "ABORTED")) {
		struct sparse *h = malloc(sizeof(*h));

		if (!h)
			return fx_err_set(err, FX_E_NOMEM, "database '%s': out of memory", st->path);
		rc = cycle_add(st, h, bucket, "", 0, end_us - start_us, err);
		if (rc) {
			free(h);
			return rc;
		}
		r = fx_store_stmt(st, SQ_STEPS_OF_RUN, err);
		if (!r) {
			free(h);
			return FX_E_DB;
		}
		sqlite3_bind_int64(r, 1, run_id);
		/* the cycle statements are others: stepping r on is fine */
		while ((rc = sqlite3_step(r)) == SQLITE_ROW) {
			rc = cycle_add(st, h, bucket, (const char *)sqlite3_column_text(r, 0),
				       sqlite3_column_int(r, 2), sqlite3_column_int64(r, 1), err);
			if (rc) {
				sqlite3_reset(r);
				free(h);
				return rc;
			}
		}
		sqlite3_reset(r);
		free(h);
		if (rc != SQLITE_DONE)
			return fx_store_dberr(st, err);
	}
	return 0;
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
	bind_text(s, 4, end->result == FX_STORE_PASS ? NULL : end->failing_step);
	if (end->result != FX_STORE_PASS && end->error_code)
		sqlite3_bind_text(s, 5, fx_err_name(end->error_code), -1, SQLITE_STATIC);
	bind_text(s, 6, end->result == FX_STORE_PASS ? NULL : end->message);
	rc = run_stmt(st, s, err);
	if (rc)
		return rc;
	if (sqlite3_changes(st->db) != 1)
		return fx_err_set(err, FX_E_STATE,
				  "database '%s': run %s is already ended or unknown",
				  st->path, c->run->uuid);
	return fx_store_fold_run(st, c->run->id, c->res, end->end_utc_us, err);
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
		sqlite3_bind_text(s, 2, "ABORTED", -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 5, fx_err_name(FX_E_ABORTED), -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 6, "unfinished at start-up", -1, SQLITE_STATIC);
		rc = run_stmt(st, s, err);
		if (!rc)
			rc = fx_store_fold_run(st, c->ids[i], "ABORTED", -1, err);
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

int fx_store_counts_day(struct fx_store *st, int64_t day_utc_us,
			const char *operator_id, struct fx_store_counts *out,
			struct fx_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if (!out)
		return fx_err_set(err, FX_E_INVAL, "counts: no output");
	pthread_mutex_lock(&st->lock);
	s = fx_store_stmt(st, SQ_COUNTS_DAY, err);
	if (!s) {
		rc = FX_E_DB;
		goto out;
	}
	sqlite3_bind_int64(s, 1, fx_store_day(day_utc_us));
	bind_text(s, 2, operator_id);
	if (sqlite3_step(s) != SQLITE_ROW) {
		rc = fx_store_dberr(st, err);
	} else {
		out->runs = (unsigned)sqlite3_column_int64(s, 0);
		out->passed = (unsigned)sqlite3_column_int64(s, 1);
		out->failed = (unsigned)sqlite3_column_int64(s, 2);
		out->errors = (unsigned)sqlite3_column_int64(s, 3);
		rc = 0;
	}
	sqlite3_reset(s);
out:
	pthread_mutex_unlock(&st->lock);
	return rc;
}

int fx_store_latest_us(struct fx_store *st, int64_t *us, struct fx_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if (!us)
		return fx_err_set(err, FX_E_INVAL, "latest: no output");
	*us = 0;
	pthread_mutex_lock(&st->lock);
	s = fx_store_stmt(st, SQ_LATEST, err);
	if (!s) {
		rc = FX_E_DB;
		goto out;
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*us = sqlite3_column_int64(s, 0);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = 0;
	} else {
		rc = fx_store_dberr(st, err);
	}
	sqlite3_reset(s);
out:
	pthread_mutex_unlock(&st->lock);
	return rc;
}

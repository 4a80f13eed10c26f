/* store_sql.h - the store's SQL side, private to the library: for the
 * modules that read the database themselves (src/report) and for tests and
 * data generators. Not part of the public fx/store.h: the schema and the
 * histogram encoding may change with any FX_STORE_SCHEMA_VERSION.
 *
 * Include as "../store/store_sql.h" from src/, or with the tree's path from
 * tests and scripts. */
#ifndef FX_STORE_STORE_SQL_H
#define FX_STORE_STORE_SQL_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fx/store.h"

/* The connection, borrowed (lives as long as st). The caller must not
 * change the schema or write through it (tests that tamper with a copy of
 * a database open their own connection). */
struct sqlite3 *fx_store_sqlite(struct fx_store *st);

/* The cycle-time histogram (fx/report.h "cycle"): the one codec of
 * sum_cycle.hist, in src/store/store_hist.c.
 *
 * Buckets: a duration of us microseconds falls in bucket hb =
 * fx_store_hist_bucket(us): below 32 us one bucket per us (hb = us),
 * above 32 linear buckets per power of two (hb = e * 32 + m for
 * 2^e <= us < 2^(e+1), e = 5 .. 62), so no bucket is wider than 1/32 of
 * its lower bound. Buckets 32 .. 159 and above FX_STORE_HB_LAST do not
 * exist. */
#define FX_STORE_HB_MAX 2048                 /* every hb is below this */
#define FX_STORE_HB_LAST (62 * 32 + 31)      /* bucket of INT64_MAX us */
int fx_store_hist_bucket(int64_t us);
/* hb is a bucket fx_store_hist_bucket() can return. */
bool fx_store_hist_valid(int hb);
/* The middle of bucket hb in us (its lower bound plus half its width,
 * rounded down); -1 when hb is not a valid bucket. */
int64_t fx_store_hist_mid(int hb);

/* Encoding (schema version 2): a BLOB of fixed-width entries, one per
 * non-empty bucket, strictly ascending by hb:
 *   hb      2 bytes, big-endian, a valid bucket
 *   n       8 bytes, big-endian, 0 .. INT64_MAX durations in the bucket
 *   sum_us  8 bytes, big-endian, 0 .. INT64_MAX their sum
 * Big-endian so that plain SQL (hex(), the v_cycle_hist view) can read it.
 * Schema version 1 kept JSON text "[[hb,n,sum_us],...]"; the migration
 * converts it (fx_store_hist_from_json, store_int.h). */
#define FX_STORE_HIST_ENTRY 18

/* Call fn(ctx, hb, n, sum_us) for each entry of the len bytes at p (p
 * may be NULL when len is 0), in order. Returns false, having called fn
 * for a prefix only, when they are malformed (length, order, a bucket or
 * a count out of range): a tampered or damaged database. */
typedef void fx_store_hist_fn(void *ctx, int hb, int64_t n, int64_t sum);
bool fx_store_hist_decode(const void *p, size_t len, fx_store_hist_fn *fn, void *ctx);
/* The same for a hist cell (sqlite3_column_value): false also when the
 * cell is not a BLOB. */
bool fx_store_hist_each(sqlite3_value *v, fx_store_hist_fn *fn, void *ctx);

#endif

/* fleet_lease.c - central serial pools, the station side (issue 12): the
 * central pools registered in the station database (fx_sync_db_set_pool,
 * from the recipes) are kept supplied with blocks leased from the server
 * (fx_fleet_lease, one locking transaction there) and added to the local
 * pool (fx_serial_pool_add_block, origin "lease", ref = the lease id), so a
 * station that loses its server keeps allocating from its blocks until
 * they are used up. Called by the pusher, never by a cycle (fx/fleet.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "fleet_int.h"
#include "fx/serial.h"
#include "fx/store.h"

/* leases per pool and call: a pool whose server range ends in small
 * pieces does not keep the pusher from its pushing */
#define MAX_LEASES 8

/* Add a leased block to the local pool. */
static int add(struct fx_store *st, const char *pool, const struct fx_fleet_lease *l,
	       struct fx_err *err)
{
	char ref[24];

	int rc;

	snprintf(ref, sizeof(ref), "%" PRId64, l->id);
	rc = fx_serial_pool_add_block(st, pool, (uint64_t)l->first, (uint64_t)l->last, "lease", ref,
				      fx_fleet_now_us(), NULL, err);
	return rc;
}

/* The server's leases of pool for this station that have no local block
 * (the station stopped between the server's commit and its own). */
static int recover(struct fx_fleet *f, struct fx_sync_db *db, struct fx_store *st,
		   const char *pool, unsigned *added, struct fx_err *err)
{
	struct fx_fleet_lease *l = NULL;
	char ref[24];
	size_t n, i;
	bool has;
	int rc = fx_fleet_leases(f, db, pool, &l, &n, err);

	for (i = 0; !rc && i < n; i++) {
		snprintf(ref, sizeof(ref), "%" PRId64, l[i].id);
		rc = fx_sync_db_has_lease(db, pool, ref, &has, err);
		if (!rc && !has) {
			rc = add(st, pool, &l[i], err);
			if (!rc)
				(*added)++;
		}
	}
	free(l);
	return rc;
}

int fx_fleet_refill(struct fx_fleet *f, struct fx_sync_db *db, struct fx_store *st, bool recovery,
		    unsigned *leased, struct fx_err *err)
{
	struct fx_sync_pool *p = NULL;
	struct fx_fleet_lease l;
	uint64_t left = 0;
	size_t n, i;
	unsigned k;
	int rc;

	*leased = 0;
	rc = fx_sync_db_pools(db, &p, &n, err);
	for (i = 0; !rc && i < n; i++) {
		if (recovery)
			rc = recover(f, db, st, p[i].pool, leased, err);
		/* the count on db's own connection: a store's statement left on
		 * a row would keep its old snapshot */
		if (!rc)
			rc = fx_sync_db_remaining(db, p[i].pool, &left, err);
		/* below half a lease: the next block comes while this one
		 * still serves the station */
		for (k = 0; !rc && k < MAX_LEASES &&
			    (left == 0 || left < (uint64_t)p[i].lease / 2 + p[i].lease % 2);
		     k++) {
			rc = fx_fleet_lease(f, db, p[i].pool, p[i].lease, p[i].first, p[i].last, &l, err);
			if (!rc)
				rc = add(st, p[i].pool, &l, err);
			if (!rc) {
				left += (uint64_t)(l.last - l.first + 1);
				(*leased)++;
			}
		}
	}
	free(p);
	return rc;
}

int fx_fleet_register_pools(const char *db_path, struct fx_store *st,
			    const struct fx_serial_conf *const *confs, size_t n, struct fx_err *err)
{
	struct fx_sync_db *db = fx_sync_db_open(db_path, err);
	uint64_t left;
	size_t i;
	int rc = 0;

	if (!db)
		return err && err->code ? err->code : FX_E_DB;
	for (i = 0; i < n && !rc; i++) {
		if (!confs[i]->enabled || !confs[i]->central)
			continue;
		/* the pool exists (no block of its own), the pusher knows its lease */
		rc = fx_serial_prepare(st, confs[i], fx_fleet_now_us(), &left, err);
		if (!rc)
			rc = fx_sync_db_set_pool(db, confs[i]->pool, confs[i]->lease,
						 (int64_t)confs[i]->first, (int64_t)confs[i]->last, err);
	}
	fx_sync_db_close(db);
	return rc;
}

/* every central pool of confs has values */
static bool supplied(struct fx_sync_db *db, const struct fx_serial_conf *const *confs, size_t n)
{
	uint64_t left;
	size_t i;

	for (i = 0; i < n; i++)
		if (confs[i]->enabled && confs[i]->central &&
		    (fx_sync_db_remaining(db, confs[i]->pool, &left, NULL) || !left))
			return false;
	return true;
}

bool fx_fleet_pools_wait(const char *db_path, const struct fx_serial_conf *const *confs, size_t n,
			 unsigned wait_ms)
{
	struct timespec ts = { 0, 50 * 1000000L };
	struct fx_sync_db *db = fx_sync_db_open(db_path, NULL);
	unsigned waited;
	bool ok = false;

	for (waited = 0; db; waited += 50) {
		ok = supplied(db, confs, n);
		if (ok || waited >= wait_ms)
			break;
		nanosleep(&ts, NULL);
	}
	fx_sync_db_close(db);
	return ok;
}

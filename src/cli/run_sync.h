/* run_sync.h - run --sync URI: the fleet pusher (fx/fleet.h) in a
 * background thread of the station, and the operator's backlog warning.
 * The station never waits for it. */
#ifndef FX_CLI_RUN_SYNC_H
#define FX_CLI_RUN_SYNC_H

#include <stdbool.h>
#include <stddef.h>

struct fx_cli_run_sync;

/* Start pushing db (the station's database, already open and migrated)
 * to uri. NULL: prints "fixturectl run: ..." (bad URI: a password in it)
 * and the caller exits 64. */
struct fx_cli_run_sync *fx_cli_run_sync_start(const char *db, const char *uri,
					      const char *station, const char *line,
					      unsigned warn_after_s);
/* After each board: true with the warning in buf (cap bytes) when the
 * oldest run not acknowledged by the fleet database is older than
 * warn_after_s; false (buf untouched) otherwise or for NULL. */
bool fx_cli_run_sync_warn(struct fx_cli_run_sync *s, char *buf, size_t cap);
/* Central serial pools (issue 12): register the lease parameters of the
 * central pools among confs (n recipes' [serial_number], others are
 * skipped) for the pusher, which leases a block whenever a pool has less
 * than half a lease left, and, before the first board, wait at most
 * wait_ms until each has values (the pusher's first lease; an unreachable
 * server: the station starts with what it has, and an empty pool stops it
 * as usual). st = the station's store. 0, or the error (printed as
 * "fixturectl run: ..."). NULL s: nothing to do. */
struct fx_store;
struct fx_serial_conf;
int fx_cli_run_sync_pools(struct fx_cli_run_sync *s, struct fx_store *st,
			  const struct fx_serial_conf *const *confs, size_t n, unsigned wait_ms);
/* Finish the current batch, stop, free. NULL accepted. */
void fx_cli_run_sync_stop(struct fx_cli_run_sync *s);

#endif

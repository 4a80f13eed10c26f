/* run_sync.h - run --sync URI: the fleet pusher (fx/fleet.h) in a
 * background thread of the station, and the operator's backlog warning.
 * The station never waits for it. */
#ifndef FX_CLI_RUN_SYNC_H
#define FX_CLI_RUN_SYNC_H

struct fx_cli_run_sync;

/* Start pushing db (the station's database, already open and migrated)
 * to uri. NULL: prints "fixturectl run: ..." (bad URI: a password in it)
 * and the caller exits 64. */
struct fx_cli_run_sync *fx_cli_run_sync_start(const char *db, const char *uri,
					      const char *station, const char *line,
					      unsigned warn_after_s);
/* After each board: a warning line when the oldest run not acknowledged
 * by the fleet database is older than warn_after_s. NULL: nothing. */
void fx_cli_run_sync_warn(struct fx_cli_run_sync *s);
/* Finish the current batch, stop, free. NULL accepted. */
void fx_cli_run_sync_stop(struct fx_cli_run_sync *s);

#endif

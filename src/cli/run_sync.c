/* run_sync.c - run --sync: the fleet pusher in the background (run_sync.h). */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "fx/fleet.h"
#include "run_sync.h"

struct fx_cli_run_sync {
	struct fx_fleet_pusher *p;
	unsigned warn_after_s;
	const char *db;
};

static void log_line(void *ctx, const char *msg)
{
	(void)ctx;
	/* the pusher's own thread: one whole line per call */
	fprintf(stderr, "fixturectl run: sync: %s\n", msg);
}

struct fx_cli_run_sync *fx_cli_run_sync_start(const char *db, const char *uri,
					      const char *station, const char *line,
					      unsigned warn_after_s)
{
	struct fx_fleet_pusher_opts o = {
		.db_path = db, .uri = uri, .follow = true, .station = station, .line = line && *line ? line : NULL,
		.log = log_line,
	};
	struct fx_cli_run_sync *s;
	struct fx_fleet *f;
	struct fx_err err;

	fx_err_clear(&err);
	if (!fx_fleet_is_uri(uri)) {
		fprintf(stderr, "fixturectl run: --sync: expected postgresql://... or service=NAME\n");
		return NULL;
	}
	/* refuse a password in the URI before the station starts; connect
	 * errors are the pusher's to retry */
	f = fx_fleet_connect(uri, &err);
	if (!f && err.code == FX_E_INVAL) {
		fprintf(stderr, "fixturectl run: --sync: %s\n", err.msg);
		return NULL;
	}
	fx_fleet_close(f);
	s = calloc(1, sizeof(*s));
	if (!s) {
		fprintf(stderr, "fixturectl run: out of memory\n");
		return NULL;
	}
	s->warn_after_s = warn_after_s;
	s->db = db;
	s->p = fx_fleet_pusher_start(&o, &err);
	if (!s->p) {
		fprintf(stderr, "fixturectl run: --sync: %s\n", err.msg);
		free(s);
		return NULL;
	}
	return s;
}

bool fx_cli_run_sync_warn(struct fx_cli_run_sync *s, char *buf, size_t cap)
{
	int64_t backlog, oldest, age;

	if (!s)
		return false;
	fx_fleet_pusher_backlog(s->p, &backlog, &oldest);
	if (!backlog || !oldest)
		return false;
	age = (fx_fleet_now_us() - oldest) / 1000000;
	if (age <= (int64_t)s->warn_after_s)
		return false;
	snprintf(buf, cap, "WARNING sync: %lld runs not in the fleet database, the oldest"
		 " for %lld min", (long long)backlog, (long long)(age / 60));
	return true;
}

void fx_cli_run_sync_stop(struct fx_cli_run_sync *s)
{
	if (!s)
		return;
	fx_fleet_pusher_stop(s->p, NULL);
	free(s);
}

int fx_cli_run_sync_pools(struct fx_cli_run_sync *s, struct fx_store *st,
			  const struct fx_serial_conf *const *confs, size_t n, unsigned wait_ms)
{
	struct fx_err err;
	int rc;

	if (!s)
		return 0;
	fx_err_clear(&err);
	rc = fx_fleet_register_pools(s->db, st, confs, n, &err);
	if (rc) {
		fprintf(stderr, "fixturectl run: serial numbers: %s\n", err.msg);
		return rc;
	}
	if (!fx_fleet_pools_wait(s->db, confs, n, wait_ms))
		fprintf(stderr, "fixturectl run: --sync: a central serial pool has no values yet"
			" (no lease from the fleet database): the station uses what it has\n");
	return 0;
}

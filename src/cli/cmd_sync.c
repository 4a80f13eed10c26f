/* cmd_sync.c - fixturectl sync: store-and-forward of a station database to
 * the central PostgreSQL (fx/fleet.h), once or --follow; --status; --init
 * of the central schema. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_common.h"
#include "cmd_sync.h"
#include "fx/fleet.h"
#include "fx/store_sync.h"

static const char sync_usage[] =
	"usage: fixturectl sync --db STATION.db --to URI [--follow] [--batch N] [--new-epoch]\n"
	"                       [--line NAME]\n"
	"       fixturectl sync --db STATION.db --status\n"
	"       fixturectl sync --init --to URI\n"
	"\n"
	"Push every run of the station database not yet acknowledged by the fleet\n"
	"database (with its unit and steps) and the serial allocation events in local\n"
	"commit order, in batched transactions; each arrives exactly once, whatever is\n"
	"replayed. The station never waits for it: it reads the database beside a\n"
	"running station. Central serial pools its station registered (run --sync)\n"
	"get a block leased whenever less than half a lease is left.\n"
	"\n"
	"  --db FILE     the station database\n"
	"  --to URI      the fleet database: a libpq URI (postgresql://host/db?\n"
	"                sslmode=verify-full) or service=NAME; passwords only from\n"
	"                ~/.pgpass, PGPASSFILE or the service file (a URI holding one\n"
	"                is refused)\n"
	"  --follow      keep running: wake on new local commits; on failure retry\n"
	"                after 1 s, doubling up to 5 min; SIGTERM/SIGINT finish the\n"
	"                current batch and exit 0\n"
	"  --batch N     runs per transaction (default 500)\n"
	"  --line NAME   the station's line, sent with its runs (else as last set)\n"
	"  --new-epoch   this database replaces the station's registered one on\n"
	"                purpose: new identity, epoch + 1 (the server keeps each run once)\n"
	"  --status      backlog (runs not acknowledged, oldest age), last success,\n"
	"                last error; no server contact\n"
	"  --init        create or migrate the central schema (owner role; roles from\n"
	"                scripts/fleet-roles.sql must exist)\n"
	"\n"
	"exit: 0 pushed everything (or stopped), 64 usage, 65 the station database was\n"
	"      refused (replaced, restored or copied; another station's key), 66 no\n"
	"      database, 74 server unreachable or error, schema version mismatch,\n"
	"      76 another process is pushing this database\n";

static volatile int stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void log_line(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "fixturectl sync: %s\n", msg);
}

static int fail(const struct fx_err *err)
{
	fprintf(stderr, "fixturectl sync: %s\n", err->msg[0] ? err->msg : fx_strerror(err->code));
	return err->code == FX_E_STATE ? FX_EXIT_DATAERR : fx_cli_exit_code(err->code);
}

static void fmt_time(int64_t us, char *buf, size_t len)
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	if (!us || !gmtime_r(&t, &tm)) {
		snprintf(buf, len, "never");
		return;
	}
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int status(const char *path)
{
	struct fx_sync_status s;
	struct fx_sync_db *db;
	struct fx_err err;
	char a[32], b[32];
	int64_t now = fx_fleet_now_us();

	fx_err_clear(&err);
	db = fx_sync_db_open(path, &err);
	if (!db)
		return fail(&err);
	if (fx_sync_db_status(db, &s, &err)) {
		fx_sync_db_close(db);
		return fail(&err);
	}
	fx_sync_db_close(db);
	fmt_time(s.last_ok_us, a, sizeof(a));
	fmt_time(s.last_err_us, b, sizeof(b));
	printf("database     %s\n", path);
	printf("station      %s (key %s, epoch %d)\n", s.id.station[0] ? s.id.station : "-",
	       s.id.station_key, s.id.epoch);
	printf("line         %s\n", s.id.line[0] ? s.id.line : "-");
	if (s.backlog)
		printf("backlog      %lld runs, oldest %lld s\n", (long long)s.backlog,
		       (long long)((now - s.oldest_queued_us) / 1000000));
	else
		printf("backlog      0 runs\n");
	printf("acknowledged %lld\n", (long long)s.id.acked_seq);
	printf("serials      %lld allocation events not pushed\n", (long long)s.events);
	printf("last success %s\n", a);
	if (s.last_err_us)
		printf("last error   %s %s\n", b, s.last_error);
	else
		printf("last error   none\n");
	return 0;
}

static int init(const char *uri)
{
	struct fx_fleet *f;
	struct fx_err err;
	int from, rc;

	fx_err_clear(&err);
	f = fx_fleet_connect(uri, &err);
	if (!f)
		return fail(&err);
	rc = fx_fleet_init(f, &from, &err);
	if (!rc)
		printf("server '%s': fleet schema version %d (was %d)\n", fx_fleet_uri(f),
		       FX_FLEET_SCHEMA_VERSION, from);
	fx_fleet_close(f);
	return rc ? fail(&err) : 0;
}

int fx_cmd_sync(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "to", required_argument, NULL, 't' },
		{ "follow", no_argument, NULL, 'f' },
		{ "status", no_argument, NULL, 's' },
		{ "init", no_argument, NULL, 'i' },
		{ "batch", required_argument, NULL, 'b' },
		{ "line", required_argument, NULL, 'l' },
		{ "new-epoch", no_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct fx_fleet_pusher_opts o = { .stop = &stop_flag, .log = log_line };
	bool do_status = false, do_init = false;
	struct sigaction sa;
	struct fx_err err;
	uint32_t batch = 0;
	size_t pushed = 0;
	int c, before, rc;

	optind = 1;
	while ((before = optind, c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o.db_path = optarg;
			break;
		case 't':
			o.uri = optarg;
			break;
		case 'f':
			o.follow = true;
			break;
		case 's':
			do_status = true;
			break;
		case 'i':
			do_init = true;
			break;
		case 'b':
			if (!fx_cli_parse_u32(optarg, 100000, &batch) || !batch)
				return fx_cli_usage_error("sync", "--batch '%s': expected 1 .. 100000",
							  optarg);
			break;
		case 'l':
			o.line = optarg;
			break;
		case 'e':
			o.new_epoch = true;
			break;
		case 'h':
			fputs(sync_usage, stdout);
			return 0;
		default:
			return fx_cli_option_error("sync", c, argv, before);
		}
	}
	if (optind < argc)
		return fx_cli_usage_error("sync", "unexpected argument '%s'", argv[optind]);
	if (do_status) {
		if (!o.db_path)
			return fx_cli_usage_error("sync", "--status needs --db FILE");
		return status(o.db_path);
	}
	if (!o.uri)
		return fx_cli_usage_error("sync", "--to URI is required");
	if (!fx_fleet_is_uri(o.uri))
		return fx_cli_usage_error("sync", "--to: expected postgresql://... or service=NAME");
	if (do_init)
		return init(o.uri);
	if (!o.db_path)
		return fx_cli_usage_error("sync", "--db FILE is required");
	o.batch = batch;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	fx_err_clear(&err);
	rc = fx_fleet_pusher_run(&o, &pushed, &err);
	if (rc)
		return fail(&err);
	printf("pushed %zu runs\n", pushed);
	return 0;
}

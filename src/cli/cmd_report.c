/* cmd_report.c - `fixturectl report yield|pareto|cycle`: quality figures
 * from a station database opened read-only. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"
#include "cmd_report.h"
#include "fx/fleet.h"
#include "fx/file.h"

static const char report_usage[] =
	"usage: fixturectl report yield|pareto|cycle|serials --db FILE [--from DATE] [--to DATE]\n"
	"                         [--by KEY]... [--station S] [--recipe NAME] [--operator ID]\n"
	"                         [--format text|csv|json|html] [-o FILE]\n"
	"\n"
	"Quality figures from a station database (opened read-only). Days are UTC\n"
	"days; a run counts on the day it started.\n"
	"\n"
	"  yield    runs, passed, failed, errors (ERROR + ABORTED), yield_pct;\n"
	"           units (counted once, in the group of their first run),\n"
	"           first_pass / fpy_pct (passed their first run), final_pass /\n"
	"           final_pct (passed their last run)\n"
	"  pareto   failed runs by failing step and error code: count, share_pct,\n"
	"           cum_pct\n"
	"  cycle    run and step durations: count, mean, p50, p95, max (seconds)\n"
	"  serials  serial number pools: values bound, reserved, released, voided,\n"
	"           remaining, blocks, the last value issued (station database)\n"
	"\n"
	"  --db FILE         the station database (required), or the fleet database:\n"
	"                    a libpq URI (postgresql://host/db?sslmode=verify-full)\n"
	"                    or service=NAME; passwords only from ~/.pgpass,\n"
	"                    PGPASSFILE or the service file\n"
	"  --from DATE       first day, YYYY-MM-DD (default: first day with data)\n"
	"  --to DATE         last day, inclusive (default: last day with data)\n"
	"  --by KEY          group by day, week, station, slot, recipe, operator or\n"
	"                    line (the station file's line: fleet database only);\n"
	"                    repeat to nest (--by station --by day)\n"
	"  --station S       only this station\n"
	"  --recipe NAME     only this recipe (any version)\n"
	"  --operator ID     only this operator\n"
	"  --format F        text (default), csv (RFC 4180), json, html (one file\n"
	"                    with SVG charts)\n"
	"  -o, --output FILE write there (atomically) instead of stdout\n"
	"\n"
	"The same figures are in the database's views (v_yield, v_yield_daily,\n"
	"v_first_pass, v_pareto, v_cycle, v_cycle_hist, v_runs, v_steps; serial\n"
	"numbers: v_serial_pools, v_serials, v_serial_events).\n"
	"\n"
	"exit codes: 0 ok, 64 usage, 66 database missing, 74 database error\n";

bool fx_cli_report_format(const char *s, enum fx_report_format *f)
{
	static const char *const names[] = { "text", "csv", "json", "html" };
	unsigned i;

	for (i = 0; i < 4; i++)
		if (!strcmp(s, names[i])) {
			*f = (enum fx_report_format)i;
			return true;
		}
	return false;
}

int fx_cli_report_emit(const char *cmd, const char *db, const struct fx_report_query *q,
		       enum fx_report_format f, const char *path)
{
	struct fx_store *st;
	struct fx_report *r;
	struct fx_err err;
	char *buf = NULL;
	size_t len = 0;
	FILE *mem;
	int rc;

	fx_err_clear(&err);
	if (fx_fleet_is_uri(db)) { /* the fleet database (fx/fleet.h) */
		r = fx_fleet_report(db, q, &err);
	} else {
		st = fx_store_open_readonly(db, &err);
		if (!st)
			return fx_cli_fail(cmd, &err);
		r = fx_report_run(st, q, &err);
		fx_store_close(st);
	}
	if (!r)
		return err.code == FX_E_NOTFOUND ? (fprintf(stderr, "fixturectl %s: %s\n", cmd, err.msg),
						    FX_EXIT_FAIL) : fx_cli_fail(cmd, &err);
	mem = open_memstream(&buf, &len);
	if (!mem) {
		fx_report_free(r);
		fprintf(stderr, "fixturectl %s: out of memory\n", cmd);
		return FX_EXIT_SOFTWARE;
	}
	rc = fx_report_write(r, f, mem, &err);
	fx_report_free(r);
	if (fclose(mem) && !rc)
		rc = fx_err_set(&err, FX_E_NOMEM, "out of memory");
	if (!rc)
		rc = fx_file_write_atomic(path ? path : "-", (const uint8_t *)buf, len, &err);
	free(buf);
	if (rc)
		return fx_cli_fail(cmd, &err);
	return 0;
}

int fx_cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "from", required_argument, NULL, 'F' },
		{ "to", required_argument, NULL, 'T' },
		{ "by", required_argument, NULL, 'b' },
		{ "station", required_argument, NULL, 's' },
		{ "recipe", required_argument, NULL, 'r' },
		{ "operator", required_argument, NULL, 'p' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct fx_report_query q = { 0 };
	enum fx_report_format fmt = FX_FMT_TEXT;
	const char *db = NULL, *out = NULL, *kind, *from_s = NULL, *to_s = NULL;
	struct fx_err err;
	int c, before;

	opterr = 0;
	optind = 1;
	while ((before = optind, c = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(report_usage, stdout);
			return 0;
		case 'd':
			db = optarg;
			break;
		case 'F':
		case 'T':
			if (fx_report_parse_date(optarg, c == 'F' ? &q.from_day : &q.to_day, &err))
				return fx_cli_usage_error("report", "%s: %s", c == 'F' ? "--from" : "--to",
							  err.msg);
			*(c == 'F' ? &q.has_from : &q.has_to) = true;
			*(c == 'F' ? &from_s : &to_s) = optarg;
			break;
		case 'b':
			if (q.nby == FX_BY__COUNT ||
			    fx_report_parse_by(optarg, &q.by[q.nby], &err))
				return fx_cli_usage_error("report", "%s", q.nby == FX_BY__COUNT ?
							  "too many --by" : err.msg);
			for (unsigned i = 0; i < q.nby; i++)
				if (q.by[i] == q.by[q.nby])
					return fx_cli_usage_error("report", "--by '%s' given twice", optarg);
			q.nby++;
			break;
		case 's':
			q.station = optarg;
			break;
		case 'r':
			q.recipe = optarg;
			break;
		case 'p':
			q.operator_id = optarg;
			break;
		case 'f':
			if (!fx_cli_report_format(optarg, &fmt))
				return fx_cli_usage_error("report", "--format '%s': expected text, csv, json or html",
							  optarg);
			break;
		case 'o':
			out = optarg;
			break;
		case ':':
		default:
			return fx_cli_option_error("report", c, argv, before);
		}
	}
	if (optind >= argc)
		return fx_cli_usage_error("report", "which report? expected yield, pareto or cycle (or serials)");
	kind = argv[optind];
	if (!strcmp(kind, "yield"))
		q.kind = FX_REPORT_YIELD;
	else if (!strcmp(kind, "pareto"))
		q.kind = FX_REPORT_PARETO;
	else if (!strcmp(kind, "cycle"))
		q.kind = FX_REPORT_CYCLE;
	else if (!strcmp(kind, "serials"))
		q.kind = FX_REPORT_SERIALS;
	else
		return fx_cli_usage_error("report",
					  "unknown report '%s': expected yield, pareto or cycle (or serials)",
					  kind);
	if (optind + 1 < argc)
		return fx_cli_usage_error("report", "unexpected argument '%s'", argv[optind + 1]);
	if (!db)
		return fx_cli_usage_error("report", "--db FILE is required");
	if (q.kind == FX_REPORT_SERIALS && fx_fleet_is_uri(db))
		return fx_cli_usage_error("report", "serials: a station database (the fleet keeps leases)");
	if (q.has_from && q.has_to && q.from_day > q.to_day)
		return fx_cli_usage_error("report", "--from %s is after --to %s", from_s, to_s);
	return fx_cli_report_emit("report", db, &q, fmt, out);
}

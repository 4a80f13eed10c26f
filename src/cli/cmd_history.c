/* cmd_history.c - `fixturectl history SERIAL|UID`: every run of one unit
 * with its steps, from a station database opened read-only. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli_common.h"
#include "cmd_history.h"
#include "cmd_report.h"

static const char history_usage[] =
	"usage: fixturectl history SERIAL|UID --db FILE [--format text|csv|json|html] [-o FILE]\n"
	"\n"
	"Every run of one unit (found by serial, by chip UID or by the serial\n"
	"number allocated to it, [serial_number]), oldest first,\n"
	"with its steps. Times are UTC.\n"
	"\n"
	"  --db FILE         the station database (required; opened read-only), or the\n"
	"                    fleet database (postgresql://... or service=NAME)\n"
	"  --format F        text (default), csv (one record per step), json, html\n"
	"  -o, --output FILE write there (atomically) instead of stdout\n"
	"\n"
	"exit codes: 0 ok, 1 no such unit, 64 usage, 66 database missing,\n"
	"            74 database error\n";

int fx_cmd_history(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct fx_report_query q = { .kind = FX_REPORT_HISTORY };
	enum fx_report_format fmt = FX_FMT_TEXT;
	const char *db = NULL, *out = NULL;
	int c, before;

	opterr = 0;
	optind = 1;
	while ((before = optind, c = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(history_usage, stdout);
			return 0;
		case 'd':
			db = optarg;
			break;
		case 'f':
			if (!fx_cli_report_format(optarg, &fmt))
				return fx_cli_usage_error("history", "--format '%s': expected text, csv, json or html",
							  optarg);
			break;
		case 'o':
			out = optarg;
			break;
		case ':':
		default:
			return fx_cli_option_error("history", c, argv, before);
		}
	}
	if (optind >= argc)
		return fx_cli_usage_error("history", "a serial or chip UID is required");
	if (optind + 1 < argc)
		return fx_cli_usage_error("history", "unexpected argument '%s'", argv[optind + 1]);
	if (!db)
		return fx_cli_usage_error("history", "--db FILE is required");
	q.unit = argv[optind];
	if (!*q.unit)
		return fx_cli_usage_error("history", "a serial or chip UID is required");
	return fx_cli_report_emit("history", db, &q, fmt, out);
}

/* cmd_report.h - `fixturectl report` and `fixturectl history`: quality
 * reports from a station database (read-only). */
#ifndef FX_CLI_CMD_REPORT_H
#define FX_CLI_CMD_REPORT_H

#include "fx/report.h"

int fx_cmd_report(int argc, char **argv);

/* Shared with cmd_history.c: parse --format's value (false if unknown). */
bool fx_cli_report_format(const char *s, enum fx_report_format *f);
/* Open db read-only, run q, write it in format f to path ("-" or NULL =
 * stdout, else atomically). Prints errors as "fixturectl CMD: ..." and
 * returns the exit code. */
int fx_cli_report_emit(const char *cmd, const char *db, const struct fx_report_query *q,
		       enum fx_report_format f, const char *path);

#endif

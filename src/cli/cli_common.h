/* cli_common.h - helpers shared by the commands: device opening with the
 * right clock, error reporting with one exit-code table, progress. */
#ifndef FX_CLI_CLI_COMMON_H
#define FX_CLI_CLI_COMMON_H

#include <stdbool.h>
#include <stdint.h>

#include "cli.h"
#include "fx/clock.h"
#include "fx/dfu.h"
#include "fx/err.h"
#include "fx/usb.h"

/* An opened device: transport + DFU engine + the clock they share.
 * emu: devices run on a virtual clock unless --realtime[=SCALE] is given;
 * usb: devices always run in real time. */
struct fx_cli_dev {
	struct fx_vclock vclock;
	struct fx_rclock rclock;
	const struct fx_clock *clock;
	struct fx_usb *usb;
	struct fx_dfu *dfu;
	const char *uri;
	bool progress;
};

/* Open uri and bring up DFU. realtime_scale <= 0 = virtual clock for emu:.
 * On failure prints the error ("fixturectl CMD: ...") and returns the exit
 * code; 0 on success. A malformed URI (fx_usb_open's FX_E_CONFIG: no
 * scheme, bad port path, empty serial, unknown emu: knob) is a usage
 * error, 64. */
int fx_cli_dev_open(struct fx_cli_dev *dev, const char *cmd, const char *uri,
		    double realtime_scale);
void fx_cli_dev_close(struct fx_cli_dev *dev);

/* Map an FX_E_* code to the exit code table (cli.h). */
int fx_cli_exit_code(int fx_code);
/* Print "fixturectl CMD: MSG" (or the code's text when msg is empty) to
 * stderr and return fx_cli_exit_code(err->code). */
int fx_cli_fail(const char *cmd, const struct fx_err *err);
/* Print "fixturectl CMD: ..." and return FX_EXIT_USAGE. */
int fx_cli_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* getopt_long (optstring starting with ':') returned c = ':' (missing value)
 * or '?' (unknown option): print the usage error naming the option as
 * written, also a short one inside a cluster ("-zq": argv[optind - 1] is
 * then another argument), and return FX_EXIT_USAGE. before = optind before
 * that getopt_long call. */
int fx_cli_option_error(const char *cmd, int c, char **argv, int before);

/* path is a regular file that opens and reads to its end: a load error
 * on it is bad data (65), not a missing or unreadable input (66). */
bool fx_cli_file_readable(const char *path);

/* Parse a number (decimal or 0x hex) into *out; false if malformed or
 * larger than max. */
bool fx_cli_parse_u32(const char *s, uint32_t max, uint32_t *out);
/* Parse --realtime[=SCALE]: NULL -> 1.0. false if malformed or <= 0. */
bool fx_cli_parse_scale(const char *s, double *out);

/* Progress reporter for fx_dfu_set_progress(): a bar on a TTY, nothing
 * otherwise (the command prints a summary line). user = struct fx_cli_dev. */
void fx_cli_progress(void *user, const char *what, size_t done, size_t total);

/* Install the stderr log handler; verbose: 0 warnings, 1 info, 2 debug. */
void fx_cli_log_init(int verbose);

#endif

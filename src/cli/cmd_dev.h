/* cmd_dev.h - option parsing shared by the device commands (info, ob,
 * flash, read) and helpers they share. */
#ifndef FX_CLI_CMD_DEV_H
#define FX_CLI_CMD_DEV_H

#include <getopt.h>

#include "cli_common.h"
#include "fx/stm32g4.h"

struct fx_cli_devopts {
	const char *device; /* --device URI (required) */
	double scale;       /* --realtime[=SCALE]; 0 = virtual time for emu: */
	int verbose;        /* -v count */
	int nargs;          /* positional arguments left */
	char **args;
};

/* Handles one extra option of a command: return 0 if handled, or an exit
 * code (> 0) to stop. */
typedef int (*fx_cli_extra_fn)(void *ctx, int c, const char *arg);

/* Parse --device, --realtime, -v, --help plus the command's extra options
 * (extra: getopt_long table terminated by a zero entry, may be NULL).
 * Returns -1 when the command should go on, or an exit code (0 after
 * --help, 64 on usage errors). Installs the log handler. */
int fx_cli_devopts_parse_ex(struct fx_cli_devopts *o, const char *cmd,
			    const char *usage, int argc, char **argv,
			    const struct option *extra, fx_cli_extra_fn fn,
			    void *ctx);
static inline int fx_cli_devopts_parse(struct fx_cli_devopts *o, const char *cmd,
				       const char *usage, int argc, char **argv)
{
	return fx_cli_devopts_parse_ex(o, cmd, usage, argc, argv, NULL, NULL, NULL);
}

/* Read and decode both option-byte blocks through alt 1. */
int fx_cli_read_ob(struct fx_cli_dev *dev, struct fx_g4_ob *ob, struct fx_err *err);
void fx_cli_print_ob(const struct fx_g4_ob *ob);
void fx_cli_print_layouts(const struct fx_dfu_info *in);

/* The device commands (argv[0] is the command name). */
int fx_cmd_info(int argc, char **argv);
int fx_cmd_read(int argc, char **argv);
int fx_cmd_flash(int argc, char **argv);
int fx_cmd_ob(int argc, char **argv);

#endif

/* main.c - fixturectl entry point: the subcommand table. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd_check.h"
#include "cmd_dev.h"
#include "cmd_devices.h"
#include "cmd_emu.h"
#include "cmd_history.h"
#include "cmd_report.h"
#include "cmd_run.h"
#include "cmd_sync.h"

static const struct fx_cmd commands[] = {
	{ "info", fx_cmd_info, "show chip, bootloader, memory map, option bytes" },
	{ "ob", fx_cmd_ob, "read or write option bytes (expects the reset)" },
	{ "flash", fx_cmd_flash, "erase, program, verify a firmware image, leave" },
	{ "read", fx_cmd_read, "read memory back into a file" },
	{ "emu", fx_cmd_emu, "create or show emulated board files" },
	{ "devices", fx_cmd_devices, "list USB DFU devices: port path, serial, memory layout" },
	{ "report", fx_cmd_report, "quality reports: yield, pareto, cycle (text/csv/json/html)" },
	{ "history", fx_cmd_history, "every run of one unit (serial or chip UID) with its steps" },
	{ "run", fx_cmd_run, "the station operator loop: program and record boards" },
	{ "sync", fx_cmd_sync, "push the station database to the fleet database (PostgreSQL)" },
	{ "check", fx_cmd_check, "validate station and recipe files (no hardware)" },
	{ NULL, NULL, NULL },
};

static void usage(FILE *f)
{
	const struct fx_cmd *c;

	fprintf(f, "usage: fixturectl COMMAND [ARGS]   (fixturectl COMMAND --help)\n\ncommands:\n");
	for (c = commands; c->name; c++)
		fprintf(f, "  %-9s %s\n", c->name, c->summary);
	fprintf(f, "\nexit codes: 0 ok, 1 unit failed, 64 usage, 65 bad data, 66 no input,\n"
		   "            69 no device, 70 internal, 74 I/O, 76 device error\n");
}

int main(int argc, char **argv)
{
	const struct fx_cmd *c;

	if (argc < 2) {
		usage(stderr);
		return FX_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("fixturectl %s\n", FX_VERSION);
		return 0;
	}
	for (c = commands; c->name; c++)
		if (!strcmp(c->name, argv[1]))
			return c->run(argc - 1, argv + 1);
	fprintf(stderr, "fixturectl: unknown command '%s' (see 'fixturectl --help')\n", argv[1]);
	return FX_EXIT_USAGE;
}

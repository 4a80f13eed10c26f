/* cmd_dev.c - option parsing and helpers shared by the device commands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_dev.h"
#include "fx/prog.h"

#define MAX_LONGOPTS 24

int fx_cli_devopts_parse_ex(struct fx_cli_devopts *o, const char *cmd,
			    const char *usage, int argc, char **argv,
			    const struct option *extra, fx_cli_extra_fn fn,
			    void *ctx)
{
	static const struct option common[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "realtime", optional_argument, NULL, 'R' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
	};
	struct option all[MAX_LONGOPTS];
	size_t n = 0, i;
	int c, rc, before;

	memset(o, 0, sizeof(*o));
	for (i = 0; i < sizeof(common) / sizeof(common[0]); i++)
		all[n++] = common[i];
	for (i = 0; extra && extra[i].name && n + 1 < MAX_LONGOPTS; i++)
		all[n++] = extra[i];
	memset(&all[n], 0, sizeof(all[n]));
	optind = 1;
	opterr = 0;
	while ((before = optind, c = getopt_long(argc, argv, ":vho:", all, NULL)) != -1) {
		switch (c) {
		case 'd':
			o->device = optarg;
			break;
		case 'R':
			if (!fx_cli_parse_scale(optarg, &o->scale))
				return fx_cli_usage_error(cmd, "--realtime: expected a scale > 0, got '%s'", optarg);
			break;
		case 'v':
			o->verbose++;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		case ':':
		case '?':
			return fx_cli_option_error(cmd, c, argv, before);
		default:
			if (!fn)
				return fx_cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
			rc = fn(ctx, c, optarg);
			if (rc)
				return rc;
			break;
		}
	}
	if (!o->device)
		return fx_cli_usage_error(cmd, "--device URI is required");
	o->nargs = argc - optind;
	o->args = argv + optind;
	fx_cli_log_init(o->verbose);
	return -1;
}

int fx_cli_read_ob(struct fx_cli_dev *dev, struct fx_g4_ob *ob, struct fx_err *err)
{
	return fx_prog_ob_read(dev->dfu, ob, err);
}

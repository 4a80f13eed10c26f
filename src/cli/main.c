/* main.c - fixturectl entry point: the subcommand table. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct fx_cmd commands[] = {
	{ NULL, NULL, NULL },
};

int main(int argc, char **argv)
{
	const struct fx_cmd *c;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		printf("usage: fixturectl COMMAND [ARGS]\n\ncommands:\n");
		for (c = commands; c->name; c++)
			printf("  %-10s %s\n", c->name, c->summary);
		return argc < 2 ? FX_EXIT_USAGE : 0;
	}
	for (c = commands; c->name; c++)
		if (!strcmp(c->name, argv[1]))
			return c->run(argc - 1, argv + 1);
	fprintf(stderr, "fixturectl: unknown command '%s' (see --help)\n", argv[1]);
	return FX_EXIT_USAGE;
}

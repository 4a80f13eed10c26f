/* ob_sets.h - the --set NAME=VALUE option-byte assignments of `fixturectl
 * ob` and `fixturectl flash`: collected while parsing, validated before the
 * device is touched (same rules and messages for both commands), applied
 * to what the chip holds. */
#ifndef FX_CLI_OB_SETS_H
#define FX_CLI_OB_SETS_H

#include "fx/stm32g4.h"

#define FX_CLI_OB_SETS_MAX 32

struct fx_cli_ob_sets {
	const char *set[FX_CLI_OB_SETS_MAX]; /* borrowed from argv */
	int n;
};

/* One --set of command cmd: 0, or exit 64 after the 32nd. */
int fx_cli_ob_sets_add(struct fx_cli_ob_sets *s, const char *cmd, const char *arg);

/* Every assignment valid (exit 65 naming the first unknown field, bad
 * value or NAME=VALUE missing) and no field set to two values (exit 64
 * naming both; a repeat of one value is fine). 0 when all is well. */
int fx_cli_ob_sets_check(const struct fx_cli_ob_sets *s, const char *cmd);

/* Apply the (checked) assignments to ob in order. */
void fx_cli_ob_sets_apply(const struct fx_cli_ob_sets *s, struct fx_g4_ob *ob);

#endif

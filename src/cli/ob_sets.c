/* ob_sets.c - option-byte assignments of `ob` and `flash` (ob_sets.h). */
#include <string.h>

#include "cli_common.h"
#include "ob_sets.h"

int fx_cli_ob_sets_add(struct fx_cli_ob_sets *s, const char *cmd, const char *arg)
{
	if (s->n == FX_CLI_OB_SETS_MAX)
		return fx_cli_usage_error(cmd, "at most %d --set options", FX_CLI_OB_SETS_MAX);
	s->set[s->n++] = arg;
	return 0;
}

/* The field an assignment names (it is valid: fx_g4_ob_apply passed). */
static const struct fx_g4_ob_field *set_field(const char *set)
{
	char name[32];
	size_t n = strcspn(set, "=");

	if (n >= sizeof(name))
		return NULL;
	memcpy(name, set, n);
	name[n] = '\0';
	return fx_g4_ob_field_find(name);
}

/* Two --set of one field with different values: which one was meant is
 * unknown, so neither wins (a repeat of the same value is harmless). */
static int check_conflicts(const struct fx_cli_ob_sets *s, const char *cmd)
{
	const struct fx_g4_ob_field *f;
	struct fx_g4_ob a, b;
	struct fx_err err;
	int i, j;

	for (i = 0; i < s->n; i++) {
		f = set_field(s->set[i]);
		for (j = i + 1; f && j < s->n; j++) {
			if (set_field(s->set[j]) != f)
				continue;
			fx_g4_ob_factory(&a);
			b = a;
			fx_g4_ob_apply(&a, s->set[i], &err);
			fx_g4_ob_apply(&b, s->set[j], &err);
			if (fx_g4_ob_get(&a, f) != fx_g4_ob_get(&b, f))
				return fx_cli_usage_error(cmd, "--set %s and --set %s conflict (%s set twice)",
							  s->set[i], s->set[j], f->name);
		}
	}
	return 0;
}

int fx_cli_ob_sets_check(const struct fx_cli_ob_sets *s, const char *cmd)
{
	struct fx_g4_ob ob;
	struct fx_err err;
	int i;

	fx_err_clear(&err);
	fx_g4_ob_factory(&ob);
	for (i = 0; i < s->n; i++)
		if (fx_g4_ob_apply(&ob, s->set[i], &err))
			return fx_cli_fail(cmd, &err);
	return check_conflicts(s, cmd);
}

void fx_cli_ob_sets_apply(const struct fx_cli_ob_sets *s, struct fx_g4_ob *ob)
{
	struct fx_err err;
	int i;

	for (i = 0; i < s->n; i++)
		fx_g4_ob_apply(ob, s->set[i], &err);
}

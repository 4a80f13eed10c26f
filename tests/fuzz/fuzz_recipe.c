/* fuzz_recipe.c - libFuzzer harness: recipe INI files through
 * fx_recipe_load() (our line reader, inih, every key's parser, the
 * firmware hash check). Errors are FX_E_CONFIG with diagnostics, or the
 * file/hash errors; never a crash. */
#include <stdlib.h>

#include "fuzz_util.h"
#include "fx/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fz_file("recipe.ini", data, size);
	struct fx_conf_diags d;
	struct fx_recipe *r = NULL;
	struct fx_err err;
	int rc;

	fz_quiet();
	fx_err_clear(&err);
	fx_conf_diags_init(&d);
	rc = fx_recipe_load(path, &r, &d, &err);
	if (rc == 0 && !r)
		abort();
	if (rc != 0 && r)
		abort();
	fx_recipe_free(r);
	fx_conf_diags_release(&d);
	return 0;
}

/* fuzz_serial_list.c - libFuzzer harness: a [serial_number] list CSV
 * through fx_serial_list_load(). Any input: a list or FX_E_CONFIG (with at
 * least one diagnostic) / FX_E_FILE / FX_E_NOMEM, never a crash; a loaded
 * list has its 'serial' column, every row n_cols fields, no empty serial. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "fx/serial.h"

static void diag(void *user, const char *msg)
{
	(void)msg;
	(*(unsigned *)user)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fz_file("serials.csv", data, size);
	struct fx_serial_list *l = NULL;
	struct fx_err err;
	unsigned ndiag = 0;
	size_t r, c;
	int rc;

	fz_quiet();
	fx_err_clear(&err);
	rc = fx_serial_list_load(path, &l, diag, &ndiag, &err);
	if (rc) {
		if (rc == FX_E_CONFIG && !ndiag)
			abort();
		if (rc != FX_E_CONFIG && rc != FX_E_FILE && rc != FX_E_NOMEM)
			abort();
		return 0;
	}
	if (!l || l->serial_col < 0 || (size_t)l->serial_col >= l->n_cols)
		abort();
	if (fx_serial_list_col(l, "serial") != l->serial_col)
		abort();
	for (r = 0; r < l->n_rows; r++) {
		for (c = 0; c < l->n_cols; c++)
			if (!l->rows[r][c])
				abort();
		if (!l->rows[r][l->serial_col][0])
			abort();
	}
	fx_serial_list_free(l);
	return 0;
}

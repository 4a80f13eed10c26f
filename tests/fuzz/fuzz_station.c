/* fuzz_station.c - libFuzzer harness: station INI files through
 * fx_station_load() (slots, GPIO line names, emu: URIs and their knobs,
 * timings). */
#include <stdlib.h>

#include "fuzz_util.h"
#include "fx/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fz_file("station.ini", data, size);
	struct fx_conf_diags d;
	struct fx_station *st = NULL;
	struct fx_err err;
	int rc;

	fz_quiet();
	fx_err_clear(&err);
	fx_conf_diags_init(&d);
	rc = fx_station_load(path, &st, &d, &err);
	if ((rc == 0) != (st != NULL))
		abort();
	fx_station_free(st);
	fx_conf_diags_release(&d);
	return 0;
}

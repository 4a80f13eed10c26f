/* fuzz_ihex.c - libFuzzer harness: Intel HEX through fx_image_load(). Any
 * input: an image or FX_E_IMAGE/FX_E_FILE, never a crash; a loaded image
 * keeps the fx/image.h invariants (segments sorted, not overlapping). */
#include <stdlib.h>

#include "fuzz_util.h"
#include "fx/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fz_file("in.hex", data, size);
	struct fx_image *img;
	struct fx_err err;
	size_t i;

	fz_quiet();
	fx_err_clear(&err);
	img = fx_image_load(path, FX_IMAGE_IHEX, false, 0, &err);
	if (!img) {
		if (err.code != FX_E_IMAGE && err.code != FX_E_FILE && err.code != FX_E_NOMEM)
			abort();
		return 0;
	}
	for (i = 1; i < img->nsegs; i++)
		if ((uint64_t)img->segs[i - 1].addr + img->segs[i - 1].len > img->segs[i].addr)
			abort();
	(void)fx_image_size(img);
	fx_image_free(img);
	return 0;
}

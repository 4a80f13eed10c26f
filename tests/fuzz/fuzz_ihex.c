/* fuzz_ihex.c - libFuzzer harness: Intel HEX through fx_image_load(). Any
 * input: an image or FX_E_IMAGE/FX_E_FILE, never a crash; a loaded image
 * keeps the fx/image.h invariants (fz_image()). */
#include "fuzz_util.h"
#include "fx/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_quiet();
	fz_image("in.hex", data, size, FX_IMAGE_IHEX);
	return 0;
}

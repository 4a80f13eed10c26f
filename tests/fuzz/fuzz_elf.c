/* fuzz_elf.c - libFuzzer harness: ELF through fx_image_load(). Any
 * input: an image or FX_E_IMAGE/FX_E_FILE, never a crash; a loaded image
 * keeps the fx/image.h invariants (fz_image()). */
#include "fuzz_util.h"
#include "fx/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_quiet();
	fz_image("in.elf", data, size, FX_IMAGE_ELF);
	return 0;
}

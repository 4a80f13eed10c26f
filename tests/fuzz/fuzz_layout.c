/* fuzz_layout.c - libFuzzer harness: DfuSe alternate-setting strings
 * ("@Internal Flash  /0x08000000/256*02Kg") through fx_dfuse_layout_parse()
 * and fx_dfuse_layout_find(). */
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "fx/dfu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fx_dfuse_layout l;
	struct fx_err err;
	char *s = malloc(size + 1);
	size_t i;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	fx_err_clear(&err);
	if (fx_dfuse_layout_parse(s, &l, &err) == 0) {
		if (l.nsegs > FX_DFU_MAX_SEGS)
			abort();
		for (i = 0; i < l.nsegs; i++)
			if (fx_dfuse_layout_find(&l, l.segs[i].start) == NULL)
				abort();
		(void)fx_dfuse_layout_find(&l, 0x08000000u);
	} else if (err.code != FX_E_PROTO) {
		abort();
	}
	free(s);
	return 0;
}

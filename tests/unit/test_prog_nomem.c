/* test_prog_nomem.c - fault injection for the allocations of the DFU
 * engine and the programming layer (STYLE 4, SQLite-style "fail the Nth
 * call"): the binary interposes malloc/calloc/realloc (tests/lib/nomem.h)
 * and fails the Nth call made inside fx_dfu_open() + fx_prog_flash() +
 * fx_prog_flash_blank() against an emulated board, for every N until the
 * run succeeds. Each failure must give FX_E_NOMEM with an "out of memory"
 * message and leak nothing; the run without a failed allocation must
 * verify. Interposing the allocator and ASan's interceptors exclude each
 * other, so the sanitizer build skips this suite. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fx/emu.h"
#include "fx/prog.h"
#include "host_fix.h"
#include "nomem.h"

#if !FXT_NOMEM_SUPPORTED

int main(void)
{
	return fxt_nomem_skip();
}

#else

FXT_NOMEM_INTERPOSE

static uint8_t data[3000];

static void test_every_allocation_fails_cleanly(void **state)
{
	struct fx_image_seg seg = { .addr = 0x08000000, .len = sizeof(data), .data = data };
	struct fx_image img = { .nsegs = 1, .segs = &seg };
	struct fx_prog_flash_opts o = { .verify = true };
	unsigned n, failures = 0;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 31 + 1);
	for (n = 1; n < 1000; n++) {
		struct fxt_host h;
		struct fx_dfu *d;
		struct fx_err err;
		bool blank = true;
		int rc;

		fxt_host_attach(&h, NULL, true);
		fx_err_clear(&err);
		fxt_nomem_arm(n);
		d = fx_dfu_open(h.usb, &err);
		rc = d ? fx_prog_flash(d, &img, &o, NULL, &err) : err.code;
		if (!rc)
			rc = fx_prog_flash_blank(d, &blank, &err);
		fx_dfu_free(d);
		if (fxt_nomem_end("open+flash+blank", n, rc)) {
			/* no allocation left to fail: the whole run succeeded */
			assert_false(blank);
			fxt_host_down(&h);
			break;
		}
		if (rc != FX_E_NOMEM)
			fail_msg("allocation %u failed: got %s (%s), expected FX_E_NOMEM",
				 n, fx_err_name(rc), err.msg);
		assert_non_null(strstr(err.msg, "out of memory"));
		failures++;
		fxt_host_down(&h);
	}
	print_message("%u allocations failed one by one, each with FX_E_NOMEM\n", failures);
	assert_true(failures >= 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_allocation_fails_cleanly),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

#endif

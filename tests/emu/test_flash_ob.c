/* test_flash_ob.c - fx_prog_flash with option bytes (issue 9 section 3,
 * "one command for the whole job"): DBANK 1 -> 0, the reset, then the
 * image checked against the single-bank layout, mass erase, program,
 * verify, leave, on one open handle; the option-byte failure stops the
 * job before anything is erased. Real host stack against the emulated
 * STM32G474 in virtual time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fx/emu.h"
#include "fx/prog.h"
#include "host_fix.h"

#define LEN 5000u

static uint8_t data[LEN];

static void image(struct fx_image *img, struct fx_image_seg *seg)
{
	fxt_fill(data, LEN, 77u);
	memset(seg, 0, sizeof(*seg));
	seg->addr = 0x08000000u;
	seg->len = LEN;
	seg->data = data;
	memset(img, 0, sizeof(*img));
	img->segs = seg;
	img->nsegs = 1;
}

static void test_dbank_then_flash(void **state)
{
	struct fxt_host h;
	struct fx_image img;
	struct fx_image_seg seg;
	struct fx_g4_ob have, want;
	struct fx_prog_flash_opts o = { .mass_erase = true, .verify = true, .leave = true };
	struct fx_prog_flash_result r;
	struct fx_err err;
	uint32_t reqs;

	(void)state;
	fx_err_clear(&err);
	image(&img, &seg);
	fxt_host_up(&h, NULL);
	assert_int_equal(fx_prog_ob_read(h.d, &have, &err), 0);
	want = have;
	assert_int_equal(fx_g4_ob_apply(&want, "DBANK=0", &err), 0);
	o.ob_want = &want;
	o.ob_have = &have;
	o.ob_timeout_ms = 5000;
	reqs = fx_emu_request_count(h.board);
	assert_int_equal(fx_prog_flash(h.d, &img, &o, &r, &err), 0);
	assert_int_equal(fx_g4_ob_optr(&r.ob.after), 0xFFAFF8AAu);
	/* the boot delay (spec 8: 300 + 100 ms) after the 40 ms reload */
	assert_true(r.ob.reenum_us >= 300000u && r.ob.reenum_us < 500000u);
	assert_true(r.ob_us >= r.ob.reenum_us);
	assert_true(r.program_us > 0 && r.verify_us > 0);
	assert_int_equal(r.bytes_written, LEN);
	/* the job saw the single-bank layout of the rebind */
	assert_int_equal(fx_dfu_get_info(h.d)->layout[0].segs[0].page_size, 4096);
	fxt_host_assert_flash(&h, 0x08000000u, data, LEN);
	assert_true(fx_emu_request_count(h.board) > reqs);
	fxt_host_down(&h);
}

static void test_ob_failure_erases_nothing(void **state)
{
	struct fxt_host h;
	struct fx_image img;
	struct fx_image_seg seg;
	struct fx_g4_ob want;
	struct fx_prog_flash_opts o = { .mass_erase = true, .verify = true };
	struct fx_prog_flash_result r;
	struct fx_err err;
	uint8_t keep[LEN];

	(void)state;
	fx_err_clear(&err);
	image(&img, &seg);
	/* BOOT0 released: after the reset the bootloader never comes back */
	fxt_host_up(&h, NULL);
	assert_int_equal(fx_emu_backdoor_flash_read(h.board, 0x08000000u, keep, LEN), 0);
	assert_int_equal(fx_prog_ob_read(h.d, &want, &err), 0);
	assert_int_equal(fx_g4_ob_apply(&want, "DBANK=0", &err), 0);
	o.ob_want = &want; /* ob_have NULL: read first */
	fx_emu_set_boot0(h.board, false);
	o.ob_timeout_ms = 2000;
	assert_int_equal(fx_prog_flash(h.d, &img, &o, &r, &err), FX_E_TIMEOUT);
	assert_string_equal(err.msg, "flash: option bytes written at 0x1FFF7800: the bootloader did not come back within 2000 ms (BOOT0 low? nothing or the application booted)");
	assert_int_equal(r.erase_us, 0);
	assert_int_equal(r.bytes_written, 0);
	fxt_host_assert_flash(&h, 0x08000000u, keep, LEN);
	/* no error object: the code still comes back */
	fxt_host_down(&h);
	fxt_host_up(&h, NULL);
	fx_emu_set_boot0(h.board, false);
	assert_int_equal(fx_prog_flash(h.d, &img, &o, NULL, NULL), FX_E_TIMEOUT);
	fxt_host_down(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dbank_then_flash),
		cmocka_unit_test(test_ob_failure_erases_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_host_faults.c - fault injection on the emulated board (SQLite
 * TestFaultInject style) against the real host stack: a STALL, a timeout,
 * a drop off the bus or an error status at many request numbers, a board
 * that never returns after a reset, slow erases. Every run ends either in
 * the error the fault calls for (code and a message naming the request),
 * or in a success that the board's own memory confirms: never in a false
 * success. Virtual time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fx/emu.h"
#include "fx/prog.h"
#include "host_fix.h"

/* Bring a board up with knobs (and, when kind != NONE, a fault armed at
 * the absolute request number nth) set before the first request, so the
 * count is the same whether the emulator counts since creation or since
 * the knobs were set. */
static void host_up_armed(struct fxt_host *h, const char *knobs,
			  enum fx_emu_fault_kind kind, uint32_t nth,
			  bool persistent, uint8_t status)
{
	struct fx_emu_knobs k;
	bool boot0;

	fxt_host_knobs(&k, &boot0, knobs);
	if (kind != FX_EMU_FAULT_NONE) {
		k.fault_kind = kind;
		k.fault_nth = nth;
		k.fault_persistent = persistent;
		k.fault_status = status;
		k.fault_request = -1;
	}
	fxt_host_open(h, &k, true);
}

#define IMG_LEN 5000u
static uint8_t image_data[IMG_LEN];

static void image(struct fx_image *img, struct fx_image_seg *seg)
{
	size_t i;

	for (i = 0; i < IMG_LEN; i++)
		image_data[i] = (uint8_t)(i * 13 + 7);
	memset(seg, 0, sizeof(*seg));
	seg->addr = 0x08000000;
	seg->len = IMG_LEN;
	seg->data = image_data;
	memset(img, 0, sizeof(*img));
	img->nsegs = 1;
	img->segs = seg;
}

static bool board_has_image(struct fxt_host *h)
{
	uint8_t got[IMG_LEN];

	if (fx_emu_backdoor_flash_read(h->board, 0x08000000, got, IMG_LEN))
		return false;
	return !memcmp(got, image_data, IMG_LEN);
}

static bool code_in(int rc, const int *ok)
{
	for (; *ok; ok++)
		if (rc == *ok)
			return true;
	return false;
}

/* Requests a clean flash cycle takes; *base gets the requests of open. */
static uint32_t clean_cycle_requests(uint32_t *base)
{
	struct fx_prog_flash_opts o = { .verify = true, .leave = true };
	struct fx_image img;
	struct fx_image_seg seg;
	struct fx_err err;
	struct fxt_host h;
	uint32_t n;

	fxt_host_up(&h, NULL);
	image(&img, &seg);
	fx_err_clear(&err);
	assert_int_equal(fx_prog_flash(h.d, &img, &o, NULL, &err), 0);
	n = fx_emu_request_count(h.board) - h.base_req;
	*base = h.base_req;
	fxt_host_down(&h);
	return n;
}

static void flash_with_fault(enum fx_emu_fault_kind kind, bool persistent,
			     uint8_t status, const int *allowed)
{
	struct fx_prog_flash_opts o = { .verify = true, .leave = true };
	uint32_t base, total = clean_cycle_requests(&base), n;
	int fails = 0, oks = 0;

	assert_true(total > 20);
	for (n = 1; n <= total + 1; n++) {
		struct fx_image img;
		struct fx_image_seg seg;
		struct fx_err err;
		struct fxt_host h;
		int rc;

		host_up_armed(&h, NULL, kind, base + n, persistent, status);
		assert_int_equal(h.base_req, base);
		image(&img, &seg);
		fx_err_clear(&err);
		rc = fx_prog_flash(h.d, &img, &o, NULL, &err);
		if (rc == 0) {
			/* success only if the board really holds the image */
			if (!board_has_image(&h))
				fail_msg("fault %d at request %u: success but the board does not hold the image",
					 kind, n);
			oks++;
		} else {
			if (!code_in(rc, allowed))
				fail_msg("fault %d at request %u: unexpected %s: %s", kind, n,
					 fx_err_name(rc), err.msg);
			assert_true(strlen(err.msg) > 0);
			/* the message names what failed */
			if (!strstr(err.msg, "DFU_") && !strstr(err.msg, "SET_INTERFACE") &&
			    !strstr(err.msg, "verify") && !strstr(err.msg, "option bytes"))
				fail_msg("fault %d at request %u: message names no request: %s",
					 kind, n, err.msg);
			fails++;
		}
		if (persistent && n <= total - 3 && rc == 0)
			fail_msg("persistent fault %d from request %u: success", kind, n);
		fxt_host_down(&h);
	}
	print_message("fault kind %d%s: %u positions, %d errors, %d verified successes\n",
		      kind, persistent ? " (persistent)" : "", total + 1, fails, oks);
	assert_true(fails > 0);
}

static void test_stall(void **state)
{
	static const int ok[] = { FX_E_STALL, FX_E_DFU, FX_E_PROTO, FX_E_RANGE, FX_E_STATE, 0 };

	(void)state;
	flash_with_fault(FX_EMU_FAULT_STALL, false, 0, ok);
	flash_with_fault(FX_EMU_FAULT_STALL, true, 0, ok);
}

static void test_timeout(void **state)
{
	static const int ok[] = { FX_E_TIMEOUT, 0 };

	(void)state;
	flash_with_fault(FX_EMU_FAULT_TIMEOUT, false, 0, ok);
}

static void test_drop(void **state)
{
	static const int ok[] = { FX_E_NODEV, 0 };

	(void)state;
	flash_with_fault(FX_EMU_FAULT_DROP, false, 0, ok);
}

static void test_status(void **state)
{
	static const int prog_ok[] = { FX_E_DFU, FX_E_STATE, 0 };
	static const int vendor_ok[] = { FX_E_PROTECTED, FX_E_STATE, 0 };

	(void)state;
	flash_with_fault(FX_EMU_FAULT_STATUS, false, DFU_STATUS_errPROG, prog_ok);
	flash_with_fault(FX_EMU_FAULT_STATUS, false, DFU_STATUS_errVENDOR, vendor_ok);
	flash_with_fault(FX_EMU_FAULT_STATUS, true, DFU_STATUS_errPROG, prog_ok);
}

/* Faults during the option-byte write and its reset. */
static void test_ob_write_faults(void **state)
{
	static const enum fx_emu_fault_kind kinds[] = {
		FX_EMU_FAULT_STALL, FX_EMU_FAULT_TIMEOUT, FX_EMU_FAULT_DROP,
		FX_EMU_FAULT_STATUS,
	};
	size_t ki;
	uint32_t n, base;

	(void)state;
	clean_cycle_requests(&base);
	for (ki = 0; ki < sizeof(kinds) / sizeof(kinds[0]); ki++) {
		for (n = 1; n <= 40; n++) {
			struct fx_prog_ob_result res;
			struct fx_g4_ob want;
			struct fx_err err;
			struct fxt_host h;
			int rc;

			host_up_armed(&h, NULL, kinds[ki], base + n, false, DFU_STATUS_errTARGET);
			fx_err_clear(&err);
			fx_g4_ob_factory(&want);
			assert_int_equal(fx_g4_ob_apply(&want, "DBANK=0", &err), 0);
			rc = fx_prog_ob_write(h.d, &want, 3000, &res, &err);
			if (rc == 0) {
				assert_int_equal(fx_emu_optr(h.board) & (1u << 22), 0);
				assert_int_equal(fx_g4_ob_get(&res.after, fx_g4_ob_field_find("DBANK")), 0);
			} else {
				assert_true(rc == FX_E_STALL || rc == FX_E_TIMEOUT ||
					    rc == FX_E_NODEV || rc == FX_E_RANGE ||
					    rc == FX_E_DFU || rc == FX_E_PROTO ||
					    rc == FX_E_STATE || rc == FX_E_VERIFY);
				assert_true(strlen(err.msg) > 0);
			}
			fxt_host_down(&h);
		}
	}
}

static void test_never_return(void **state)
{
	struct fx_prog_ob_result res;
	struct fx_g4_ob want;
	struct fx_err err;
	struct fxt_host h;

	(void)state;
	fxt_host_up(&h, "return=never");
	fx_err_clear(&err);
	fx_g4_ob_factory(&want);
	assert_int_equal(fx_g4_ob_apply(&want, "DBANK=0", &err), 0);
	assert_int_equal(fx_prog_ob_write(h.d, &want, 2000, &res, &err), FX_E_TIMEOUT);
	assert_string_equal(err.msg, "option bytes written at 0x1FFF7800: the bootloader did not come back within 2000 ms (BOOT0 low? nothing or the application booted)");
	fxt_host_down(&h);
	fxt_host_up(&h, "return=never");
	assert_int_equal(fx_prog_unprotect(h.d, 2000, &err), FX_E_TIMEOUT);
	assert_string_equal(err.msg, "read unprotect: the bootloader did not come back within 2000 ms (BOOT0 low? nothing or the application booted)");
	fxt_host_down(&h);
}

static void test_slow_erase(void **state)
{
	static const char *const modes[] = { "", "&busy=stall", "&busy=lying" };
	struct fx_prog_flash_opts o = { .verify = true };
	struct fx_image img;
	struct fx_image_seg seg;
	struct fx_err err;
	struct fxt_host h;
	char knobs[64];
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < 3; i++) {
		/* 3x slower: still fine */
		snprintf(knobs, sizeof(knobs), "erase_scale=3%s", modes[i]);
		fxt_host_up(&h, knobs);
		image(&img, &seg);
		fx_err_clear(&err);
		rc = fx_prog_flash(h.d, &img, &o, NULL, &err);
		if (rc)
			fail_msg("%s: %s", knobs, err.msg);
		assert_true(board_has_image(&h));
		fxt_host_down(&h);
		/* a 22 ms page erase taking 22 s with an honest poll timeout
		 * (busy=wait): waited for, under the 30 s poll cap */
		snprintf(knobs, sizeof(knobs), "erase_scale=1000%s", modes[i]);
		fxt_host_up(&h, knobs);
		fx_err_clear(&err);
		rc = fx_prog_flash(h.d, &img, &o, NULL, &err);
		print_message("%s: %s\n", knobs, rc ? err.msg : "verified");
		if (i == 0)
			assert_int_equal(rc, 0);
		if (rc == 0) {
			assert_true(board_has_image(&h));
		} else {
			assert_true(rc == FX_E_TIMEOUT || (i == 1 && rc == FX_E_STALL));
			assert_non_null(strstr(err.msg, "ERASE_PAGE 0x08000000"));
		}
		fxt_host_down(&h);
		/* 66 s: past the poll cap and the control timeout (busy=wait),
		 * the STALL retries (busy=stall); polling DNBUSY (busy=lying)
		 * may wait it out within the 60 s busy limit or give up */
		snprintf(knobs, sizeof(knobs), "erase_scale=3000%s", modes[i]);
		fxt_host_up(&h, knobs);
		fx_err_clear(&err);
		rc = fx_prog_flash(h.d, &img, &o, NULL, &err);
		print_message("%s: %s\n", knobs, rc ? err.msg : "verified");
		if (i == 0)
			assert_int_equal(rc, FX_E_TIMEOUT);
		if (rc == 0) {
			assert_true(board_has_image(&h));
		} else {
			assert_true(rc == FX_E_TIMEOUT || (i == 1 && rc == FX_E_STALL));
			assert_non_null(strstr(err.msg, "ERASE_PAGE 0x08000000"));
		}
		fxt_host_down(&h);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stall),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_drop),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_ob_write_faults),
		cmocka_unit_test(test_never_return),
		cmocka_unit_test(test_slow_erase),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

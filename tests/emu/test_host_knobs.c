/* test_host_knobs.c - every spec-8 knob setting of the emulated board
 * must work for a full cycle of the real host stack: option-byte change
 * (DBANK 1 -> 0, reset, bootloader back), erase, program, verify, leave.
 * Virtual time. */
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

/* pseudo-random content that starts with a bootable vector table */
static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	fxt_fill(p, n, seed);
	if (n >= 8)
		memcpy(p, "\x00\x00\x02\x20\x01\x01\x00\x08", 8); /* bootable */
}

/* One full cycle on a fresh board with the given knobs; safe_addressing:
 * the host sends SET_ADDRESS before every block (dfu-util style). */
static void cycle(const char *knobs, bool mass_erase, bool dbank_change,
		  bool safe_addressing)
{
	struct fx_prog_flash_opts o = { .verify = true, .leave = true,
					.mass_erase = mass_erase };
	struct fx_prog_flash_result r;
	struct fx_prog_ob_result res;
	struct fx_image_seg seg[2];
	struct fx_image img = { .nsegs = 2, .segs = seg };
	struct fx_emu_knobs k;
	struct fx_g4_ob want;
	struct fxt_host h;
	struct fx_err err;
	bool boot0;
	size_t i;

	print_message("knobs '%s'%s%s%s\n", knobs, mass_erase ? " mass-erase" : "",
		      dbank_change ? " DBANK=0" : "", safe_addressing ? " safe-addressing" : "");
	fxt_host_knobs(&k, &boot0, knobs);
	fxt_host_open(&h, &k, true);
	fx_err_clear(&err);
	fx_dfu_set_safe_addressing(h.d, safe_addressing);
	/* content from a previous life in the old bank mode */
	seg[0].addr = 0x08000000;
	seg[0].len = 9000;
	seg[1].addr = 0x08041100;
	seg[1].len = 3333;
	for (i = 0; i < 2; i++) {
		seg[i].alt = 0;
		seg[i].data = malloc(seg[i].len);
		assert_non_null(seg[i].data);
		fill(seg[i].data, seg[i].len, seg[i].addr);
	}
	if (dbank_change) {
		assert_int_equal(fx_emu_backdoor_flash_write(h.board, 0x08000000, seg[1].data, 2048), 0);
		if (fx_prog_ob_read(h.d, &want, &err))
			fail_msg("ob read: %s", err.msg);
		assert_int_equal(fx_g4_ob_apply(&want, "DBANK=0", &err), 0);
		if (fx_prog_ob_write(h.d, &want, 5000, &res, &err))
			fail_msg("ob write: %s", err.msg);
		assert_int_equal(fx_g4_ob_get(&res.after, fx_g4_ob_field_find("DBANK")), 0);
	}
	if (fx_prog_flash(h.d, &img, &o, &r, &err))
		fail_msg("flash: %s", err.msg);
	for (i = 0; i < 2; i++) {
		fxt_host_assert_flash(&h, seg[i].addr, seg[i].data, seg[i].len);
		free(seg[i].data);
	}
	/* leave: the application starts */
	assert_int_equal(fxt_host_settle(&h, 200), FX_EMU_BUS_APP);
	fxt_host_down(&h);
}

/* A cmocka test = a group of cycles (its initial state). */
struct knob_case {
	const char *knobs;
	bool mass_erase, dbank_change;
};

struct knob_group {
	bool safe_addressing;
	size_t n;
	const struct knob_case *cases;
};

static void run_group(void **state)
{
	const struct knob_group *g = *state;
	size_t i;

	for (i = 0; i < g->n; i++)
		cycle(g->cases[i].knobs, g->cases[i].mass_erase, g->cases[i].dbank_change,
		      g->safe_addressing);
}

#define GROUP(name, safe, ...)                                                \
	static const struct knob_case name##_cases[] = { __VA_ARGS__ };       \
	static struct knob_group name = {                                     \
		safe, sizeof(name##_cases) / sizeof(name##_cases[0]), name##_cases \
	}

GROUP(defaults, false,
      { "", false, false }, { "", true, true }, { "", false, true });
GROUP(transfer_size, false,
      { "xfer=1024", false, true }, { "xfer=2048", false, true },
      { "xfer=2048", true, false });
GROUP(iproduct, false,
      { "iproduct=dfu", false, false }, { "iproduct=stm32", false, true });
/* with alt0=constant the alt0 string keeps saying 2 KiB pages in
 * single-bank mode */
GROUP(alt0, false,
      { "alt0=dynamic", false, true }, { "alt0=constant", false, true },
      { "alt0=constant", true, true });
GROUP(obreset, false,
      { "obreset=answer", false, true }, { "obreset=stall", false, true });
GROUP(busy, false,
      { "busy=wait", false, true }, { "busy=stall", false, true },
      { "busy=lying", false, true }, { "busy=stall", true, false },
      { "busy=lying", true, false });
GROUP(malformed_and_oldread, false,
      { "malformed=error", false, true }, { "malformed=stall", false, true },
      { "oldread=error", false, true }, { "oldread=error", true, true });
/* errors=late (spec 1.4 step 3): refusals come after one dfuDNBUSY */
GROUP(errors, false,
      { "errors=early", false, true }, { "errors=late", false, true },
      { "errors=late", true, false },
      { "errors=late&busy=stall&malformed=stall", false, true });
GROUP(combined, false,
      { "xfer=2048&iproduct=stm32&alt0=constant&obreset=stall&busy=stall&malformed=stall", false, true },
      { "xfer=2048&alt0=constant&obreset=stall&busy=lying&malformed=stall&oldread=error", true, true },
      { "boot_delay_ms=1500&erase_scale=3", false, true });
GROUP(safe_addressing, true,
      { "", false, true }, { "xfer=2048&alt0=constant&busy=stall", false, true },
      { "busy=lying", true, false }, { "errors=late&busy=stall", false, true });

/* errors=early|late (spec 1.4 step 3 vs 5.1): a refused command is the
 * same error for the host either way, with a message, and the device
 * recovers for the next command */
static void test_errors_refusal(void **state)
{
	static const char *const knobs[] = { "errors=early", "errors=late",
					     "errors=late&busy=stall" };
	const struct fx_err *e;
	struct fx_err de;
	struct fx_emu_knobs k;
	struct fxt_host h;
	bool boot0;
	uint8_t b[8];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
		print_message("knobs '%s'\n", knobs[i]);
		fxt_host_knobs(&k, &boot0, knobs[i]);
		fxt_host_open(&h, &k, true);
		assert_int_equal(fx_dfuse_set_address(h.d, 0x30000000, &de), FX_E_RANGE);
		e = &de;
		assert_int_equal(e->code, FX_E_RANGE);
		assert_int_equal(e->dfu_status, DFU_STATUS_errTARGET);
		assert_non_null(strstr(e->msg, "errTARGET"));
		assert_int_equal(fx_dfu_recover(h.d, &de), 0);
		assert_int_equal(fx_dfuse_erase_page(h.d, 0x09000000, &de), FX_E_RANGE);
		assert_non_null(strstr(de.msg, "errTARGET"));
		assert_int_equal(fx_dfu_recover(h.d, &de), 0);
		assert_int_equal(fx_dfuse_read(h.d, 0x08000000, b, sizeof(b), &de), 0);
		fxt_host_down(&h);
	}
}

#define KNOB_TEST(name) { "test_" #name, run_group, NULL, NULL, &name }

int main(void)
{
	const struct CMUnitTest tests[] = {
		KNOB_TEST(defaults),
		KNOB_TEST(transfer_size),
		KNOB_TEST(iproduct),
		KNOB_TEST(alt0),
		KNOB_TEST(obreset),
		KNOB_TEST(busy),
		KNOB_TEST(malformed_and_oldread),
		KNOB_TEST(errors),
		KNOB_TEST(combined),
		cmocka_unit_test(test_errors_refusal),
		KNOB_TEST(safe_addressing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

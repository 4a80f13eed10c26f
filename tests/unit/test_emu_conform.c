/* test_emu_conform.c - spec-conformance fixes of the emulated ROM: busy
 * =stall (spec 4.2), errors=late (spec 1.4 step 3), request sizes (1.5),
 * OB programming of both blocks (3.2/3.4), DBANK vs PCROP (3.3/3.5), RDP 1
 * before range checks (1.5), the SRAM1 end (2.4), ABORT in dfuERROR and
 * DETACH (1.8, 1.1), the application's GET_STATUS. Virtual clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "emu_fix.h"
#include "fx/bytes.h"
#include "fx/dfu_wire.h"

#define RT_OUT (USB_TYPE_CLASS | USB_RECIP_INTERFACE)
#define RT_IN (USB_DIR_IN | USB_TYPE_CLASS | USB_RECIP_INTERFACE)

static void init_knobs(struct fxt_emu *f, const char *query)
{
	struct fx_emu_knobs k;
	struct fx_err err;

	fx_emu_knobs_default(&k);
	fx_err_clear(&err);
	assert_int_equal(fx_emu_knobs_parse(&k, NULL, query, &err), 0);
	fxt_emu_init(f, &k);
}

static void expect_status(struct fxt_emu *f, uint8_t status, uint32_t poll,
			  uint8_t state)
{
	assert_int_equal(fxt_getstatus(f), 0);
	assert_int_equal(FXT_STATUS(f), status);
	assert_int_equal(FXT_POLL(f), poll);
	assert_int_equal(FXT_STATE(f), state);
}

static void set_slot(uint8_t raw[48], int slot, uint32_t v)
{
	fx_put_le32(raw + 8 * slot, v);
	fx_put_le32(raw + 8 * slot + 4, ~v);
}

/* RDP level 1 through the back door (reload, no reset) */
static void rdp1(struct fxt_emu *f)
{
	uint8_t raw[48];

	assert_int_equal(fx_emu_backdoor_ob(f->e, 0, raw, false), 0);
	set_slot(raw, 0, 0xFFEFF8BB);
	assert_int_equal(fx_emu_backdoor_ob(f->e, 0, raw, true), 0);
	assert_int_equal(fx_emu_optr(f->e), 0xFFEFF8BB);
}

/* 1: busy=stall on a flash write: the true poll timeout (the short one
 * is for commands, test_emu_fault), a GETSTATUS before it is STALLed and
 * changes nothing, then the normal answer */
static void test_busy_stall_program(void **state)
{
	struct fxt_emu f;
	uint8_t d[1024], s, back[1024];

	(void)state;
	init_knobs(&f, "busy=stall");
	memset(d, 0x5A, sizeof(d));
	assert_int_equal(fxt_set_address(&f, 0x08000000), 0);
	assert_int_equal(FXT_STATE(&f), dfuDNLOAD_IDLE);
	assert_int_equal(fxt_dnload(&f, 2, d, 1024), 0);
	/* 128 double words x 81.7 us = 10.46 ms: 11 ms */
	expect_status(&f, DFU_STATUS_OK, 11, dfuDNBUSY);
	fxt_emu_sleep(&f, 5000);
	assert_int_equal(fxt_getstatus(&f), FX_E_STALL);
	assert_int_equal(fxt_getstate(&f, &s), 0);
	assert_int_equal(s, dfuDNBUSY);
	fxt_emu_sleep(&f, 6000);
	expect_status(&f, DFU_STATUS_OK, 0, dfuDNLOAD_IDLE);
	assert_int_equal(fxt_abort(&f), 0);
	assert_int_equal(fxt_read(&f, 0x08000000, back, 1024), 0);
	assert_memory_equal(back, d, 1024);
	fxt_emu_release(&f);
}

/* 2: errors=late: dfuDNBUSY (poll 1 ms), then dfuERROR with the code */
static void test_errors_late(void **state)
{
	static const uint8_t bad_addr[5] = { 0x21, 0x00, 0x00, 0x00, 0x30 };
	static const uint8_t bad_page[5] = { 0x41, 0x00, 0x00, 0x08, 0x09 };
	struct fxt_emu f;
	uint8_t raw[48];

	(void)state;
	/* default (early): the first GETSTATUS */
	fxt_emu_init(&f, NULL);
	assert_int_equal(fxt_dnload(&f, 0, bad_addr, 5), 0);
	expect_status(&f, DFU_STATUS_errTARGET, 0, dfuERROR);
	fxt_emu_release(&f);

	init_knobs(&f, "errors=late");
	/* Set Address outside memory */
	assert_int_equal(fxt_dnload(&f, 0, bad_addr, 5), 0);
	expect_status(&f, DFU_STATUS_OK, 1, dfuDNBUSY);
	fxt_emu_sleep(&f, 1000);
	expect_status(&f, DFU_STATUS_errTARGET, 0, dfuERROR);
	assert_int_equal(fxt_clrstatus(&f), 0);
	/* page erase outside flash */
	assert_int_equal(fxt_dnload(&f, 0, bad_page, 5), 0);
	expect_status(&f, DFU_STATUS_OK, 1, dfuDNBUSY);
	fxt_emu_sleep(&f, 1000);
	expect_status(&f, DFU_STATUS_errTARGET, 0, dfuERROR);
	assert_int_equal(fxt_clrstatus(&f), 0);
	/* misaligned flash write */
	assert_int_equal(fxt_set_address(&f, 0x08000004), 0);
	assert_int_equal(FXT_STATE(&f), dfuDNLOAD_IDLE);
	memset(raw, 0, 8);
	assert_int_equal(fxt_dnload(&f, 2, raw, 8), 0);
	expect_status(&f, DFU_STATUS_OK, 1, dfuDNBUSY);
	fxt_emu_sleep(&f, 1000);
	expect_status(&f, DFU_STATUS_errADDRESS, 0, dfuERROR);
	assert_int_equal(fxt_clrstatus(&f), 0);
	/* OB block with a bad complement: errTARGET, no reset */
	assert_int_equal(fx_emu_backdoor_ob(f.e, 0, raw, false), 0);
	fx_put_le32(raw, 0xFFAFF8AA);
	assert_int_equal(fxt_set_address(&f, G4_OB1_BASE), 0);
	assert_int_equal(fxt_dnload(&f, 2, raw, 48), 0);
	expect_status(&f, DFU_STATUS_OK, 1, dfuDNBUSY);
	fxt_emu_sleep(&f, 1000);
	expect_status(&f, DFU_STATUS_errTARGET, 0, dfuERROR);
	assert_int_equal(fxt_clrstatus(&f), 0);
	fxt_emu_sleep(&f, 1000000);
	assert_int_equal(fx_emu_poll(f.e), FX_EMU_BUS_DFU);
	assert_int_equal(fx_emu_enum_count(f.e), 1);
	/* RDP 1: mass erase refused with errVENDOR, late */
	rdp1(&f);
	assert_int_equal(fxt_dnload(&f, 0, (const uint8_t[]){ 0x41 }, 1), 0);
	expect_status(&f, DFU_STATUS_OK, 1, dfuDNBUSY);
	fxt_emu_sleep(&f, 1000);
	expect_status(&f, DFU_STATUS_errVENDOR, 0, dfuERROR);
	fxt_emu_release(&f);
}

/* 3: OB reads exactly 48 bytes at the block start; flash/RAM/system
 * memory uploads of 2..wTransferSize bytes (spec 1.5) */
static void test_request_sizes(void **state)
{
	struct fxt_emu f;
	uint8_t b[64];
	size_t n;

	(void)state;
	fxt_emu_init(&f, NULL);
	assert_int_equal(fx_emu_set_alt(f.e, 0, 1), 0);
	assert_int_equal(fxt_read(&f, G4_OB1_BASE, b, 48), 0);
	assert_int_equal(fx_get_le32(b), 0xFFEFF8AA);
	/* 40 bytes, 64 bytes at the start: STALL, dfuERROR/errTARGET */
	assert_int_equal(fxt_set_address(&f, G4_OB1_BASE), 0);
	assert_int_equal(fxt_abort(&f), 0);
	assert_int_equal(fxt_upload(&f, 2, b, 40, &n), FX_E_STALL);
	expect_status(&f, DFU_STATUS_errTARGET, 0, dfuERROR);
	assert_int_equal(fxt_clrstatus(&f), 0);
	assert_int_equal(fxt_upload(&f, 2, b, 64, &n), FX_E_STALL);
	expect_status(&f, DFU_STATUS_errTARGET, 0, dfuERROR);
	assert_int_equal(fxt_clrstatus(&f), 0);
	/* 48 bytes, but not at the start */
	assert_int_equal(fxt_set_address(&f, G4_OB2_BASE + 8), 0);
	assert_int_equal(fxt_abort(&f), 0);
	assert_int_equal(fxt_upload(&f, 2, b, 48, &n), FX_E_STALL);
	expect_status(&f, DFU_STATUS_errTARGET, 0, dfuERROR);
	assert_int_equal(fxt_clrstatus(&f), 0);
	/* 1-byte uploads refused (flash, system memory), 2 bytes work */
	assert_int_equal(fx_emu_set_alt(f.e, 0, 0), 0);
	assert_int_equal(fxt_set_address(&f, 0x08000000), 0);
	assert_int_equal(fxt_abort(&f), 0);
	assert_int_equal(fxt_upload(&f, 2, b, 1, &n), FX_E_STALL);
	expect_status(&f, DFU_STATUS_errTARGET, 0, dfuERROR);
	assert_int_equal(fxt_clrstatus(&f), 0);
	assert_int_equal(fxt_read(&f, G4_BL_ID_ADDR, b, 1), FX_E_STALL);
	expect_status(&f, DFU_STATUS_errTARGET, 0, dfuERROR);
	assert_int_equal(fxt_clrstatus(&f), 0);
	assert_int_equal(fxt_read(&f, G4_BL_ID_ADDR, b, 2), 0);
	assert_int_equal(b[0], 0xD5);
	/* RAM: a 1-byte write is refused too */
	assert_int_equal(fxt_set_address(&f, 0x20004000), 0);
	assert_int_equal(fxt_run(&f, 2, (const uint8_t[]){ 0x42 }, 1), 0);
	assert_int_equal(FXT_STATE(&f), dfuERROR);
	assert_int_equal(FXT_STATUS(&f), DFU_STATUS_errTARGET);
	fxt_emu_release(&f);
}

/* 4: writing one OB block reprograms both: the other block's reserved
 * bits read 1 afterwards too (spec 1.5, 3.2, 3.4) */
static void test_ob_write_reprograms_both(void **state)
{
	static const uint32_t bank2[6] = { 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFF8000,
					   0xFF80FFFF, 0xFF80FFFF, 0xFFFFFF00 };
	struct fxt_emu f;
	uint8_t raw[48];
	int i;

	(void)state;
	fxt_emu_init(&f, NULL);
	assert_int_equal(fx_emu_set_alt(f.e, 0, 1), 0);
	assert_int_equal(fxt_read(&f, G4_OB2_BASE, raw, 48), 0);
	assert_int_equal(fx_get_le32(raw + 16), 0x00FF0000); /* factory */
	assert_int_equal(fxt_read(&f, G4_OB1_BASE, raw, 48), 0);
	assert_int_equal(fxt_set_address(&f, G4_OB1_BASE), 0);
	assert_int_equal(fxt_dnload(&f, 2, raw, 48), 0);
	expect_status(&f, DFU_STATUS_OK, 50, dfuDNBUSY);
	fxt_emu_sleep(&f, 50000);
	assert_int_equal(fxt_emu_wait_bus(&f, 2000000), FX_EMU_BUS_DFU);
	assert_int_equal(fx_emu_set_alt(f.e, 0, 1), 0);
	assert_int_equal(fxt_read(&f, G4_OB2_BASE, raw, 48), 0);
	for (i = 0; i < 6; i++) {
		assert_int_equal(fx_get_le32(raw + 8 * i), bank2[i]);
		assert_int_equal(fx_get_le32(raw + 8 * i + 4), ~bank2[i]);
	}
	fxt_emu_release(&f);
}

/* 5: DBANK cannot change while PCROP1 or PCROP2 is enabled (spec 3.3,
 * 3.5): errTARGET, nothing written, no reset */
static void test_dbank_refused_with_pcrop(void **state)
{
	struct fxt_emu f;
	uint8_t raw[48], ob2[48], before[48];
	int bank;

	(void)state;
	for (bank = 0; bank < 2; bank++) {
		fxt_emu_init(&f, NULL);
		/* PCROPx_STRT 0 <= PCROPx_END 0x10: an area */
		assert_int_equal(fx_emu_backdoor_ob(f.e, bank, ob2, false), 0);
		set_slot(ob2, 1, 0xFFFF0000);
		set_slot(ob2, 2, 0x00000010);
		assert_int_equal(fx_emu_backdoor_ob(f.e, bank, ob2, true), 0);
		assert_int_equal(fx_emu_backdoor_ob(f.e, 0, before, false), 0);
		memcpy(raw, before, 48);
		set_slot(raw, 0, 0xFFAFF8AA); /* DBANK=0 */
		assert_int_equal(fx_emu_set_alt(f.e, 0, 1), 0);
		assert_int_equal(fxt_set_address(&f, G4_OB1_BASE), 0);
		assert_int_equal(fxt_dnload(&f, 2, raw, 48), 0);
		expect_status(&f, DFU_STATUS_errTARGET, 0, dfuERROR);
		fxt_emu_sleep(&f, 1000000);
		assert_int_equal(fx_emu_poll(f.e), FX_EMU_BUS_DFU);
		assert_int_equal(fx_emu_enum_count(f.e), 1);
		assert_int_equal(fx_emu_optr(f.e), 0xFFEFF8AA);
		assert_int_equal(fx_emu_backdoor_ob(f.e, 0, raw, false), 0);
		assert_memory_equal(raw, before, 48);
		/* the same block without the DBANK change is programmed */
		assert_int_equal(fxt_clrstatus(&f), 0);
		assert_int_equal(fxt_set_address(&f, G4_OB1_BASE), 0);
		assert_int_equal(fxt_dnload(&f, 2, before, 48), 0);
		expect_status(&f, DFU_STATUS_OK, 50, dfuDNBUSY);
		fxt_emu_release(&f);
	}
	/* PCROP1 enabled by the very block that flips DBANK: refused too */
	fxt_emu_init(&f, NULL);
	assert_int_equal(fx_emu_backdoor_ob(f.e, 0, raw, false), 0);
	set_slot(raw, 0, 0xFFAFF8AA);
	set_slot(raw, 1, 0xFFFF0000);
	set_slot(raw, 2, 0x00000010);
	assert_int_equal(fx_emu_set_alt(f.e, 0, 1), 0);
	assert_int_equal(fxt_set_address(&f, G4_OB1_BASE), 0);
	assert_int_equal(fxt_dnload(&f, 2, raw, 48), 0);
	expect_status(&f, DFU_STATUS_errTARGET, 0, dfuERROR);
	fxt_emu_release(&f);
}

/* 6: RDP 1: every read, write and erase is errVENDOR, checked before the
 * address; only the OB blocks stay readable (with the OB size rule) */
static void test_rdp1_before_range(void **state)
{
	static const uint8_t bad_page[5] = { 0x41, 0x00, 0x00, 0x00, 0x30 };
	struct fxt_emu f;
	uint8_t b[64];
	size_t n;

	(void)state;
	fxt_emu_init(&f, NULL);
	rdp1(&f);
	/* erase outside flash: errVENDOR, not errTARGET */
	assert_int_equal(fxt_dnload(&f, 0, bad_page, 5), 0);
	expect_status(&f, DFU_STATUS_errVENDOR, 0, dfuERROR);
	assert_int_equal(fxt_clrstatus(&f), 0);
	/* pointer at the OB block; block 3 = 0x1FFF7C00 (no memory) */
	assert_int_equal(fxt_set_address(&f, G4_OB1_BASE), 0);
	assert_int_equal(FXT_STATE(&f), dfuDNLOAD_IDLE);
	memset(b, 0, 8);
	assert_int_equal(fxt_dnload(&f, 3, b, 8), 0);
	expect_status(&f, DFU_STATUS_errVENDOR, 0, dfuERROR);
	assert_int_equal(fxt_clrstatus(&f), 0);
	assert_int_equal(fxt_upload(&f, 3, b, 64, &n), FX_E_STALL);
	expect_status(&f, DFU_STATUS_errVENDOR, 0, dfuERROR);
	assert_int_equal(fxt_clrstatus(&f), 0);
	/* a 1-byte read is errVENDOR too (RDP first) */
	assert_int_equal(fxt_upload(&f, 3, b, 1, &n), FX_E_STALL);
	expect_status(&f, DFU_STATUS_errVENDOR, 0, dfuERROR);
	assert_int_equal(fxt_clrstatus(&f), 0);
	/* the OB block: 48 bytes read, 40 bytes errTARGET */
	assert_int_equal(fxt_upload(&f, 2, b, 48, &n), 0);
	assert_int_equal(n, 48);
	assert_int_equal(fx_get_le32(b), 0xFFEFF8BB);
	assert_int_equal(fxt_abort(&f), 0);
	assert_int_equal(fxt_upload(&f, 2, b, 40, &n), FX_E_STALL);
	expect_status(&f, DFU_STATUS_errTARGET, 0, dfuERROR);
	fxt_emu_release(&f);
}

/* 7: RAM writes from 0x20004000 to the end of SRAM1 (0x20013FFF) */
static void test_ram_end_of_sram1(void **state)
{
	struct fxt_emu f;
	uint8_t d[16], back[8];
	size_t n;

	(void)state;
	fxt_emu_init(&f, NULL);
	memset(d, 0xA5, sizeof(d));
	assert_int_equal(fxt_write(&f, 0x20013FF8, d, 8), 0);
	assert_int_equal(fxt_read(&f, 0x20013FF8, back, 8), 0);
	assert_memory_equal(back, d, 8);
	/* across the end, past it (SRAM2 / CCM SRAM) */
	assert_int_equal(fxt_write(&f, 0x20013FF8, d, 16), DFU_STATUS_errTARGET);
	assert_int_equal(fxt_clrstatus(&f), 0);
	assert_int_equal(fxt_write(&f, 0x20014000, d, 8), DFU_STATUS_errTARGET);
	assert_int_equal(fxt_clrstatus(&f), 0);
	assert_int_equal(fxt_write(&f, 0x2001FFF8, d, 8), DFU_STATUS_errTARGET);
	assert_int_equal(fxt_clrstatus(&f), 0);
	/* a read is cut at the end of SRAM1 (short frame) */
	assert_int_equal(fxt_set_address(&f, 0x20013FF8), 0);
	assert_int_equal(fxt_abort(&f), 0);
	assert_int_equal(fxt_upload(&f, 2, d, 16, &n), 0);
	assert_int_equal(n, 8);
	assert_int_equal(fxt_set_address(&f, 0x20014000), 0);
	assert_int_equal(fxt_abort(&f), 0);
	assert_int_equal(fxt_upload(&f, 2, d, 16, &n), FX_E_STALL);
	expect_status(&f, DFU_STATUS_errTARGET, 0, dfuERROR);
	fxt_emu_release(&f);
}

/* 8: ABORT in dfuERROR is acknowledged and changes nothing; DETACH is
 * acknowledged and ignored (the functional descriptor says WillDetach) */
static void test_abort_in_error_detach(void **state)
{
	static const uint8_t bad_addr[5] = { 0x21, 0x00, 0x00, 0x00, 0x30 };
	struct fxt_emu f;
	uint8_t cfg[128];
	int n, i;

	(void)state;
	fxt_emu_init(&f, NULL);
	assert_int_equal(fxt_dnload(&f, 0, bad_addr, 5), 0);
	expect_status(&f, DFU_STATUS_errTARGET, 0, dfuERROR);
	assert_int_equal(fxt_abort(&f), 0);
	expect_status(&f, DFU_STATUS_errTARGET, 0, dfuERROR);
	assert_int_equal(fxt_clrstatus(&f), 0);
	expect_status(&f, DFU_STATUS_OK, 0, dfuIDLE);
	/* DETACH in dfuIDLE and in dfuDNLOAD-IDLE */
	assert_int_equal(fxt_ctl(&f, RT_OUT, DFU_DETACH, 1000, 0, NULL, 0, NULL), 0);
	expect_status(&f, DFU_STATUS_OK, 0, dfuIDLE);
	assert_int_equal(fxt_set_address(&f, 0x08000000), 0);
	assert_int_equal(fxt_ctl(&f, RT_OUT, DFU_DETACH, 1000, 0, NULL, 0, NULL), 0);
	expect_status(&f, DFU_STATUS_OK, 0, dfuDNLOAD_IDLE);
	assert_int_equal(fx_emu_poll(f.e), FX_EMU_BUS_DFU);
	assert_int_equal(fx_emu_enum_count(f.e), 1);
	/* wrong direction still STALLs */
	assert_int_equal(fxt_ctl(&f, RT_IN, DFU_DETACH, 0, 0, cfg, 0, NULL), FX_E_STALL);
	n = fx_emu_config_descriptor(f.e, cfg, sizeof(cfg));
	assert_true(n > 9);
	for (i = 0; i + 2 < n && cfg[i + 1] != 0x21; i += cfg[i])
		;
	assert_int_equal(cfg[i + 1], 0x21);
	assert_int_equal(cfg[i + 2], 0x0B);
	fxt_emu_release(&f);
}

/* 9: the application's GET_STATUS agrees with its configuration
 * descriptor (self powered) */
static void test_app_get_status(void **state)
{
	struct fxt_emu f;
	uint8_t vt[8], cfg[64], st[2];
	size_t n;

	(void)state;
	fxt_emu_init(&f, NULL);
	fx_put_le32(vt, 0x20020000);
	fx_put_le32(vt + 4, 0x080001C1);
	assert_int_equal(fx_emu_backdoor_flash_write(f.e, 0x08000000, vt, 8), 0);
	fx_emu_set_boot0(f.e, false);
	fx_emu_set_nrst(f.e, false);
	fx_emu_set_nrst(f.e, true);
	assert_int_equal(fxt_emu_wait_bus(&f, 1000000), FX_EMU_BUS_APP);
	assert_true(fx_emu_config_descriptor(f.e, cfg, sizeof(cfg)) >= 9);
	assert_int_equal(cfg[7] & 0x40, 0x40);
	assert_int_equal(fxt_ctl(&f, USB_DIR_IN | USB_RECIP_DEVICE, USB_REQ_GET_STATUS,
				 0, 0, st, 2, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(fx_get_le16(st), 1);
	assert_int_equal(fxt_ctl(&f, USB_DIR_IN | USB_RECIP_INTERFACE, USB_REQ_GET_STATUS,
				 0, 0, st, 2, &n), 0);
	assert_int_equal(fx_get_le16(st), 0);
	fxt_emu_release(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_busy_stall_program),
		cmocka_unit_test(test_errors_late),
		cmocka_unit_test(test_request_sizes),
		cmocka_unit_test(test_ob_write_reprograms_both),
		cmocka_unit_test(test_dbank_refused_with_pcrop),
		cmocka_unit_test(test_rdp1_before_range),
		cmocka_unit_test(test_ram_end_of_sram1),
		cmocka_unit_test(test_abort_in_error_detach),
		cmocka_unit_test(test_app_get_status),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_emu_ob.c - option bytes through the OB alt (spec 3.2, 3.3, 2.6, 8):
 * raw value/complement blocks, whole-block writes, the reload reset and
 * what boots afterwards, and the DBANK field failure (spec 3.5). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "emu_fix.h"
#include "fx/bytes.h"
#include "fx/dfu_wire.h"
#include "g4_fix.h"

#define RT_IN (USB_DIR_IN | USB_TYPE_CLASS | USB_RECIP_INTERFACE)


static void set_slot(uint8_t raw[48], int slot, uint32_t v)
{
	fx_put_le32(raw + 8 * slot, v);
	fx_put_le32(raw + 8 * slot + 4, ~v);
}

static void read_ob(struct fxt_emu *f, uint32_t addr, uint8_t raw[48])
{
	assert_int_equal(fx_emu_set_alt(f->e, 0, 1), 0);
	assert_int_equal(fxt_read(f, addr, raw, 48), 0);
}

/* Write a block the way dfu-util does (SET_ADDRESS, DNLOAD 48 B, first
 * GETSTATUS); returns that GETSTATUS's rc. */
static int write_ob(struct fxt_emu *f, uint32_t addr, const uint8_t raw[48])
{
	assert_int_equal(fx_emu_set_alt(f->e, 0, 1), 0);
	assert_int_equal(fxt_set_address(f, addr), 0);
	assert_int_equal(FXT_STATE(f), dfuDNLOAD_IDLE);
	assert_int_equal(fxt_dnload(f, 2, raw, 48), 0);
	return fxt_getstatus(f);
}

static void test_factory_read(void **state)
{
	struct fxt_emu f;
	uint8_t raw[48];

	(void)state;
	fxt_emu_init(&f, NULL);
	read_ob(&f, G4_OB1_BASE, raw);
	assert_memory_equal(raw, fxt_g4_factory_ob1, 48);
	assert_int_equal(fx_emu_optr(f.e), 0xFFEFF8AA);
	read_ob(&f, G4_OB2_BASE, raw);
	assert_int_equal(fx_get_le32(raw), 0xFFFFFFFF);
	assert_int_equal(fx_get_le32(raw + 4), 0);
	fxt_emu_release(&f);
}

/* DBANK 1 -> 0 with BOOT0 held high: DNBUSY, off the bus 10 ms later,
 * the bootloader returns after the boot delay with the 4 KiB layout. */
static void test_dbank_write_resets_into_rom(void **state)
{
	struct fxt_emu f;
	uint8_t raw[48], str[128];
	uint32_t enum0;
	uint64_t t0;
	size_t n;
	struct fx_emu_stats st;

	(void)state;
	fxt_emu_init(&f, NULL);
	enum0 = fx_emu_enum_count(f.e);
	read_ob(&f, G4_OB1_BASE, raw);
	set_slot(raw, 0, 0xFFAFF8AA); /* DBANK=0 (spec 3.3 example) */
	assert_int_equal(write_ob(&f, G4_OB1_BASE, raw), 0);
	assert_int_equal(FXT_STATE(&f), dfuDNBUSY);
	assert_int_equal(FXT_STATUS(&f), DFU_STATUS_OK);
	assert_int_equal(FXT_POLL(&f), 50);
	t0 = f.vc.t;
	/* a second GETSTATUS is not answered: the device vanishes */
	assert_int_equal(fxt_getstatus(&f), FX_E_NODEV);
	assert_int_equal(f.vc.t, t0 + 10000);
	assert_int_equal(fx_emu_poll(f.e), FX_EMU_BUS_NONE);
	assert_int_equal(fxt_emu_wait_bus(&f, 2000000), FX_EMU_BUS_DFU);
	/* reset at +40 ms, then 400 ms boot delay */
	assert_int_equal(f.vc.t, t0 + 40000 + 400000);
	assert_int_equal(fx_emu_enum_count(f.e), enum0 + 1);
	assert_int_equal(fx_emu_optr(f.e), 0xFFAFF8AA);
	fx_emu_get_stats(f.e, &st);
	assert_int_equal(st.resets, 2); /* power-on + OB reload */
	assert_int_equal(fxt_ctl(&f, USB_DIR_IN, USB_REQ_GET_DESCRIPTOR, 0x0304,
				 0x0409, str, 128, &n), 0);
	/* "@Internal Flash   /0x08000000/128*04Kg" */
	assert_int_equal(n, 2 + 2 * 38);
	assert_int_equal(str[2 + 2 * 30], '1');
	assert_int_equal(str[2 + 2 * 35], '4');
	fxt_emu_release(&f);
}

static void test_dbank_alt0_constant_knob(void **state)
{
	struct fx_emu_knobs k;
	struct fxt_emu f;
	uint8_t raw[48], str[128];
	size_t n;

	(void)state;
	fx_emu_knobs_default(&k);
	k.alt0_constant = true;
	fxt_emu_init(&f, &k);
	read_ob(&f, G4_OB1_BASE, raw);
	set_slot(raw, 0, 0xFFAFF8AA);
	assert_int_equal(write_ob(&f, G4_OB1_BASE, raw), 0);
	fxt_emu_sleep(&f, 20000);
	assert_int_equal(fx_emu_poll(f.e), FX_EMU_BUS_NONE);
	assert_int_equal(fxt_emu_wait_bus(&f, 2000000), FX_EMU_BUS_DFU);
	assert_int_equal(fxt_ctl(&f, USB_DIR_IN, USB_REQ_GET_DESCRIPTOR, 0x0304,
				 0x0409, str, 128, &n), 0);
	assert_int_equal(str[2 + 2 * 30], '2'); /* 256*02Kg */
	/* but the page erase is 4 KiB, 44.04 ms, poll 50 */
	assert_int_equal(fxt_dnload(&f, 0, (const uint8_t[]){ 0x41, 0, 0, 0, 8 }, 5), 0);
	assert_int_equal(fxt_getstatus(&f), 0);
	assert_int_equal(FXT_POLL(&f), 50);
	fxt_emu_sleep(&f, 50000);
	assert_int_equal(fxt_getstatus(&f), 0);
	assert_int_equal(FXT_STATE(&f), dfuDNLOAD_IDLE);
	/* spec 7.2 hazard (dfu-util 0.9 interleaving): erasing the advertised
	 * "2 KiB page" at 0x08000800 wipes the 2 KiB just written below it */
	{
		static uint8_t d[2048], back[2048];

		memset(d, 0x3C, sizeof(d));
		assert_int_equal(fxt_write(&f, 0x08000000, d, 2048), 0);
		assert_int_equal(fxt_erase_page(&f, 0x08000800), 0);
		assert_int_equal(FXT_STATE(&f), dfuDNLOAD_IDLE);
		assert_int_equal(fxt_read(&f, 0x08000000, back, 2048), 0);
		assert_int_equal(back[0], 0xFF);
		assert_int_equal(back[2047], 0xFF);
	}
	fxt_emu_release(&f);
}

/* the field failure: an image written in dual-bank mode reads back
 * scrambled (never as the image) after DBANK=0, and does not boot */
static void test_dbank_flip_scrambles_flash(void **state)
{
	struct fxt_emu f;
	static uint8_t img[2048], back[2048];
	uint8_t raw[48];
	size_t i, same = 0;

	(void)state;
	fxt_emu_init(&f, NULL);
	for (i = 0; i < sizeof(img); i++)
		img[i] = (uint8_t)(i ^ 0x5C);
	fx_put_le32(img, 0x20020000);
	fx_put_le32(img + 4, 0x08000199);
	assert_int_equal(fxt_write(&f, 0x08000000, img, 2048), 0);
	read_ob(&f, G4_OB1_BASE, raw);
	set_slot(raw, 0, 0xFFAFF8AA);
	assert_int_equal(write_ob(&f, G4_OB1_BASE, raw), 0);
	fxt_emu_sleep(&f, 20000);
	assert_int_equal(fxt_emu_wait_bus(&f, 2000000), FX_EMU_BUS_DFU);
	assert_int_equal(fx_emu_set_alt(f.e, 0, 0), 0);
	assert_int_equal(fxt_read(&f, 0x08000000, back, 2048), 0);
	for (i = 0; i < 2048; i += 8)
		same += !memcmp(img + i, back + i, 8);
	assert_int_equal(same, 0);
	/* deterministic */
	assert_int_equal(fxt_read(&f, 0x08000000, img, 2048), 0);
	assert_memory_equal(img, back, 2048);
	/* BOOT0 low + reset: nothing boots (ECC garbage) */
	fx_emu_set_boot0(f.e, false);
	fx_emu_set_nrst(f.e, false);
	fx_emu_set_nrst(f.e, true);
	assert_int_equal(fxt_emu_wait_bus(&f, 2000000), FX_EMU_BUS_NONE);
	fxt_emu_release(&f);
}

static void test_dbank_flip_read_error_knob(void **state)
{
	struct fx_emu_knobs k;
	struct fxt_emu f;
	uint8_t d[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, raw[48], back[8];
	size_t n;

	(void)state;
	fx_emu_knobs_default(&k);
	k.dbank_read_error = true;
	fxt_emu_init(&f, &k);
	assert_int_equal(fxt_write(&f, 0x08000100, d, 8), 0);
	read_ob(&f, G4_OB1_BASE, raw);
	set_slot(raw, 0, 0xFFAFF8AA);
	assert_int_equal(write_ob(&f, G4_OB1_BASE, raw), 0);
	fxt_emu_sleep(&f, 20000);
	assert_int_equal(fxt_emu_wait_bus(&f, 2000000), FX_EMU_BUS_DFU);
	assert_int_equal(fxt_set_address(&f, 0x08000100), 0);
	assert_int_equal(fxt_abort(&f), 0);
	assert_int_equal(fxt_upload(&f, 2, back, 8, &n), FX_E_STALL);
	assert_int_equal(fxt_getstatus(&f), 0);
	assert_int_equal(FXT_STATE(&f), dfuERROR);
	assert_int_equal(FXT_STATUS(&f), DFU_STATUS_errVERIFY);
	assert_int_equal(fx_emu_backdoor_flash_read(f.e, 0x08000100, back, 8),
			 FX_E_VERIFY);
	/* erased pages read fine; after an erase the page is usable again */
	assert_int_equal(fxt_clrstatus(&f), 0);
	assert_int_equal(fxt_mass_erase(&f), 0);
	assert_int_equal(FXT_STATE(&f), dfuDNLOAD_IDLE);
	assert_int_equal(fxt_write(&f, 0x08000100, d, 8), 0);
	assert_int_equal(fxt_read(&f, 0x08000100, back, 8), 0);
	assert_memory_equal(back, d, 8);
	fxt_emu_release(&f);
}

/* spec 8: complements must be right, else errTARGET; partial block or a
 * wrong address is refused as well; nothing changes */
static void test_ob_write_refused(void **state)
{
	struct fxt_emu f;
	uint8_t raw[48], back[48];

	(void)state;
	fxt_emu_init(&f, NULL);
	read_ob(&f, G4_OB1_BASE, raw);
	fx_put_le32(raw, 0xFFAFF8AA); /* complement left at the old value */
	assert_int_equal(write_ob(&f, G4_OB1_BASE, raw), 0);
	assert_int_equal(FXT_STATE(&f), dfuERROR);
	assert_int_equal(FXT_STATUS(&f), DFU_STATUS_errTARGET);
	assert_int_equal(fxt_clrstatus(&f), 0);
	/* 40 bytes */
	assert_int_equal(fxt_set_address(&f, G4_OB1_BASE), 0);
	assert_int_equal(fxt_run(&f, 2, fxt_g4_factory_ob1, 40), 0);
	assert_int_equal(FXT_STATUS(&f), DFU_STATUS_errTARGET);
	assert_int_equal(fxt_clrstatus(&f), 0);
	/* not at the block start */
	assert_int_equal(fxt_set_address(&f, G4_OB1_BASE + 8), 0);
	assert_int_equal(fxt_run(&f, 2, fxt_g4_factory_ob1, 40), 0);
	assert_int_equal(FXT_STATUS(&f), DFU_STATUS_errTARGET);
	assert_int_equal(fxt_clrstatus(&f), 0);
	read_ob(&f, G4_OB1_BASE, back);
	assert_memory_equal(back, fxt_g4_factory_ob1, 48);
	assert_int_equal(fx_emu_poll(f.e), FX_EMU_BUS_DFU);
	fxt_emu_release(&f);
}

/* RM0440: reserved bits read 1 after the first reprogramming
 * (WRP1AR 0xFF00FFFF -> 0xFF80FFFF, spec 3.2) */
static void test_reserved_bits_read_one(void **state)
{
	struct fxt_emu f;
	uint8_t raw[48];

	(void)state;
	fxt_emu_init(&f, NULL);
	memcpy(raw, fxt_g4_factory_ob1, 48);
	assert_int_equal(write_ob(&f, G4_OB1_BASE, raw), 0);
	assert_int_equal(FXT_STATE(&f), dfuDNBUSY);
	fxt_emu_sleep(&f, 50000);
	assert_int_equal(fxt_emu_wait_bus(&f, 2000000), FX_EMU_BUS_DFU);
	read_ob(&f, G4_OB1_BASE, raw);
	assert_int_equal(fx_get_le32(raw), 0xFFEFF8AA);
	assert_int_equal(fx_get_le32(raw + 24), 0xFF80FFFF);
	assert_int_equal(fx_get_le32(raw + 28), 0x007F0000);
	assert_int_equal(fx_get_le32(raw + 40), 0xFFFEFF00);
	fxt_emu_release(&f);
}

/* knob obreset=stall: the first GETSTATUS STALLs; the reset happens */
static void test_ob_reset_stall_knob(void **state)
{
	struct fx_emu_knobs k;
	struct fxt_emu f;
	uint8_t raw[48];

	(void)state;
	fx_emu_knobs_default(&k);
	k.ob_reset_stall = true;
	fxt_emu_init(&f, &k);
	read_ob(&f, G4_OB1_BASE, raw);
	set_slot(raw, 0, 0xF3EFF8AA); /* nSWBOOT0=0, nBOOT0=0 */
	assert_int_equal(write_ob(&f, G4_OB1_BASE, raw), FX_E_STALL);
	fxt_emu_sleep(&f, 11000);
	assert_int_equal(fx_emu_poll(f.e), FX_EMU_BUS_NONE);
	/* BOOT0 pin low now, but nSWBOOT0=0/nBOOT0=0 selects the ROM */
	fx_emu_set_boot0(f.e, false);
	assert_int_equal(fxt_emu_wait_bus(&f, 2000000), FX_EMU_BUS_DFU);
	assert_int_equal(fx_emu_optr(f.e), 0xF3EFF8AA);
	fxt_emu_release(&f);
}

/* nSWBOOT0=0 with nBOOT0=1: flash boot whatever the pin; blank flash ->
 * nothing (spec 2.3: no empty-flash check) */
static void test_ob_selects_blank_flash(void **state)
{
	struct fxt_emu f;
	uint8_t raw[48];

	(void)state;
	fxt_emu_init(&f, NULL);
	read_ob(&f, G4_OB1_BASE, raw);
	set_slot(raw, 0, 0xFBEFF8AA); /* nSWBOOT0=0, nBOOT0=1 */
	assert_int_equal(write_ob(&f, G4_OB1_BASE, raw), 0);
	fxt_emu_sleep(&f, 20000);
	assert_int_equal(fxt_emu_wait_bus(&f, 3000000), FX_EMU_BUS_NONE);
	assert_int_equal(fx_emu_next_event_us(f.e), UINT64_MAX);
	fxt_emu_release(&f);
}

static void test_ob_bank2_write(void **state)
{
	struct fxt_emu f;
	uint8_t raw[48];

	(void)state;
	fxt_emu_init(&f, NULL);
	read_ob(&f, G4_OB2_BASE, raw);
	set_slot(raw, 3, 0xFF05FF02); /* WRP2A pages 2..5 of bank 2 */
	assert_int_equal(write_ob(&f, G4_OB2_BASE, raw), 0);
	assert_int_equal(FXT_STATE(&f), dfuDNBUSY);
	fxt_emu_sleep(&f, 50000);
	assert_int_equal(fxt_emu_wait_bus(&f, 2000000), FX_EMU_BUS_DFU);
	read_ob(&f, G4_OB2_BASE, raw);
	assert_int_equal(fx_get_le32(raw + 24), 0xFF85FF82);
	fxt_emu_release(&f);
}

/* WRP pages: writes and erases silently ignored (AN3156) */
static void test_wrp_ignored(void **state)
{
	struct fxt_emu f;
	uint8_t raw[48], d[8] = { 9, 9, 9, 9, 9, 9, 9, 9 }, back[8];

	(void)state;
	fxt_emu_init(&f, NULL);
	assert_int_equal(fxt_write(&f, 0x08000800, d, 8), 0);
	read_ob(&f, G4_OB1_BASE, raw);
	set_slot(raw, 3, 0xFF01FF01); /* WRP1A: page 1 only */
	assert_int_equal(write_ob(&f, G4_OB1_BASE, raw), 0);
	fxt_emu_sleep(&f, 50000);
	assert_int_equal(fxt_emu_wait_bus(&f, 2000000), FX_EMU_BUS_DFU);
	assert_int_equal(fxt_erase_page(&f, 0x08000800), 0);
	assert_int_equal(FXT_STATE(&f), dfuDNLOAD_IDLE);
	assert_int_equal(fxt_mass_erase(&f), 0);
	assert_int_equal(fxt_write(&f, 0x08000808, d, 8), 0);
	assert_int_equal(fxt_read(&f, 0x08000800, back, 8), 0);
	assert_memory_equal(back, d, 8);
	assert_int_equal(fxt_read(&f, 0x08000808, back, 8), 0);
	assert_int_equal(back[0], 0xFF);
	fxt_emu_release(&f);
}

static void test_backdoor_ob(void **state)
{
	struct fxt_emu f;
	uint8_t raw[48];

	(void)state;
	fxt_emu_init(&f, NULL);
	assert_int_equal(fx_emu_backdoor_ob(f.e, 2, raw, false), FX_E_INVAL);
	assert_int_equal(fx_emu_backdoor_ob(f.e, 0, raw, false), 0);
	assert_memory_equal(raw, fxt_g4_factory_ob1, 48);
	set_slot(raw, 0, 0xFFAFF8AA);
	assert_int_equal(fx_emu_backdoor_ob(f.e, 0, raw, true), 0);
	assert_int_equal(fx_emu_optr(f.e), 0xFFAFF8AA);
	/* bad complement: OPTVERR, safe value (level 1) */
	fx_put_le32(raw + 4, 0);
	assert_int_equal(fx_emu_backdoor_ob(f.e, 0, raw, true), 0);
	assert_int_equal(fx_emu_optr(f.e), 0xFFFFFFFF);
	fxt_emu_release(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_factory_read),
		cmocka_unit_test(test_dbank_write_resets_into_rom),
		cmocka_unit_test(test_dbank_alt0_constant_knob),
		cmocka_unit_test(test_dbank_flip_scrambles_flash),
		cmocka_unit_test(test_dbank_flip_read_error_knob),
		cmocka_unit_test(test_ob_write_refused),
		cmocka_unit_test(test_reserved_bits_read_one),
		cmocka_unit_test(test_ob_reset_stall_knob),
		cmocka_unit_test(test_ob_selects_blank_flash),
		cmocka_unit_test(test_ob_bank2_write),
		cmocka_unit_test(test_wrp_ignored),
		cmocka_unit_test(test_backdoor_ob),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

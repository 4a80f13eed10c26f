/* test_host_basic.c - the real host stack (usb_emu -> dfu -> prog) against
 * the emulated STM32G474 (libfxemu) in virtual time: blank board, program
 * and verify, touched-page vs mass erase, DBANK 1->0 with BOOT0 high and
 * low (the field report), RDP 1 then Read Unprotect, a board file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fx/emu.h"
#include "fx/image.h"
#include "fx/prog.h"
#include "fx/usb_emu.h"
#include "host_fix.h"

/* An image: a plausible vector table at 0x08000000 (spec 8: SP in SRAM,
 * odd reset vector in flash) plus data segments. */
struct img {
	struct fx_image img;
	struct fx_image_seg segs[4];
};

static void img_make(struct img *m, const uint32_t *addr, const uint32_t *len,
		     size_t n)
{
	size_t i;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < n; i++) {
		m->segs[i].addr = addr[i];
		m->segs[i].len = len[i];
		m->segs[i].data = malloc(len[i]);
		assert_non_null(m->segs[i].data);
		fxt_fill(m->segs[i].data, len[i], addr[i]);
		if (addr[i] == 0x08000000u) {
			/* SP 0x20020000, reset handler 0x08000101 */
			memcpy(m->segs[i].data, "\x00\x00\x02\x20\x01\x01\x00\x08", 8);
		}
	}
	m->img.nsegs = n;
	m->img.segs = m->segs;
}

static void img_free(struct img *m)
{
	size_t i;

	for (i = 0; i < m->img.nsegs; i++)
		free(m->segs[i].data);
}

static void assert_board_has(struct fxt_host *h, const struct img *m)
{
	size_t i;

	for (i = 0; i < m->img.nsegs; i++)
		fxt_host_assert_flash(h, m->segs[i].addr, m->segs[i].data, m->segs[i].len);
}

static void test_blank_board(void **state)
{
	struct fxt_host h;
	const struct fx_dfu_info *in;
	struct fx_prog_ident id;
	struct fx_g4_ob ob, factory;
	struct fx_err err;
	uint8_t uid[12];
	char serial[16];
	bool blank = false;

	(void)state;
	fxt_host_up(&h, NULL);
	in = fx_dfu_get_info(h.d);
	assert_int_equal(in->vid, 0x0483);
	assert_int_equal(in->pid, 0xDF11);
	assert_int_equal(in->bcd_device, 0x0200);
	assert_int_equal(in->bcd_dfu, 0x011A);
	assert_int_equal(in->transfer_size, 1024);
	assert_int_equal(in->nalts, 3);
	assert_string_equal(in->alt_name[0], "@Internal Flash   /0x08000000/256*02Kg");
	assert_int_equal(in->layout[0].segs[0].page_size, 2048);
	assert_int_equal(in->layout[1].nsegs, 2);
	assert_int_equal(in->layout[2].segs[0].start, 0x1FFF7000u);
	fx_emu_uid(h.board, uid);
	fx_g4_serial_from_uid(uid, serial, sizeof(serial));
	assert_string_equal(in->serial, serial);
	fx_err_clear(&err);
	assert_int_equal(fx_prog_ob_read(h.d, &ob, &err), 0);
	fx_g4_ob_factory(&factory);
	assert_int_equal(ob.word[0][0], FX_G4_OPTR_FACTORY);
	assert_int_equal(fx_g4_ob_get(&ob, fx_g4_ob_field_find("DBANK")), 1);
	assert_int_equal(fx_g4_ob_get(&ob, fx_g4_ob_field_find("RDP")), 0xAA);
	assert_int_equal(fx_prog_identify(h.d, &id, &err), 0);
	assert_int_equal(id.optr, FX_G4_OPTR_FACTORY);
	assert_true(id.dual_bank);
	assert_int_equal(id.bl_id, 0xD5);
	assert_string_equal(id.bl_version, "13.5");
	assert_string_equal(id.serial, serial);
	assert_int_equal(id.flash_kib, 512);
	assert_int_equal(fx_prog_flash_blank(h.d, &blank, &err), 0);
	assert_true(blank);
	fxt_host_down(&h);
}

static void test_program_verify_leave(void **state)
{
	static const uint32_t a[] = { 0x08000000, 0x08010000, 0x08040FF0 };
	static const uint32_t l[] = { 5000, 2048, 4100 };
	struct fx_prog_flash_opts o = { .verify = true, .leave = true };
	struct fx_prog_flash_result r;
	struct fxt_host h;
	struct img m;
	struct fx_err err;
	bool blank = true;

	(void)state;
	fxt_host_up(&h, NULL);
	img_make(&m, a, l, 3);
	fx_err_clear(&err);
	o.leave = false;
	assert_int_equal(fx_prog_flash(h.d, &m.img, &o, &r, &err), 0);
	/* 3 + 1 + 3 pages of 2 KiB touched (the last run 0x08040800..0x08041FFF) */
	assert_int_equal(r.pages_erased, 3 + 1 + 3);
	assert_true(r.erase_us > 7 * 22000);
	assert_true(r.program_us > 0 && r.verify_us > 0);
	assert_board_has(&h, &m);
	assert_int_equal(fx_prog_verify(h.d, &m.img, &err), 0);
	assert_int_equal(fx_prog_flash_blank(h.d, &blank, &err), 0);
	assert_false(blank);
	/* a mismatch is named by its first address */
	m.segs[1].data[100] ^= 0x5A;
	assert_int_equal(fx_prog_verify(h.d, &m.img, &err), FX_E_VERIFY);
	assert_non_null(strstr(err.msg, "first difference at 0x08010064"));
	m.segs[1].data[100] ^= 0x5A;
	/* programming again over programmed flash works (pages erased) and
	 * leave starts the application */
	o.leave = true;
	assert_int_equal(fx_prog_flash(h.d, &m.img, &o, &r, &err), 0);
	assert_int_equal(fxt_host_settle(&h, 200), FX_EMU_BUS_APP);
	img_free(&m);
	fxt_host_down(&h);
}

static void test_touched_pages_vs_mass_erase(void **state)
{
	static const uint32_t a[] = { 0x08000000 };
	static const uint32_t l[] = { 3000 };
	struct fx_prog_flash_opts o = { .verify = true };
	struct fx_prog_flash_result r;
	uint8_t keep[64], got[64];
	struct fxt_host h;
	struct img m;
	struct fx_err err;

	(void)state;
	fxt_host_up(&h, NULL);
	img_make(&m, a, l, 1);
	memset(keep, 0x3C, sizeof(keep));
	/* content on a page the image does not touch */
	assert_int_equal(fx_emu_backdoor_flash_write(h.board, 0x08002000, keep, sizeof(keep)), 0);
	/* and on the tail of a touched page */
	assert_int_equal(fx_emu_backdoor_flash_write(h.board, 0x08000F00, keep, sizeof(keep)), 0);
	fx_err_clear(&err);
	assert_int_equal(fx_prog_flash(h.d, &m.img, &o, &r, &err), 0);
	assert_int_equal(r.pages_erased, 2);
	assert_int_equal(fx_emu_backdoor_flash_read(h.board, 0x08002000, got, sizeof(got)), 0);
	assert_memory_equal(got, keep, sizeof(keep));
	assert_board_has(&h, &m);
	o.mass_erase = true;
	assert_int_equal(fx_prog_flash(h.d, &m.img, &o, &r, &err), 0);
	assert_int_equal(r.pages_erased, 0);
	assert_int_equal(fx_emu_backdoor_flash_read(h.board, 0x08002000, got, sizeof(got)), 0);
	memset(keep, 0xFF, sizeof(keep));
	assert_memory_equal(got, keep, sizeof(keep));
	assert_board_has(&h, &m);
	img_free(&m);
	fxt_host_down(&h);
}

static void test_dbank_boot0_high(void **state)
{
	static const uint32_t a[] = { 0x08000000, 0x08043000 };
	static const uint32_t l[] = { 6000, 5000 };
	struct fx_prog_flash_opts o = { .verify = true, .leave = true };
	struct fx_prog_ob_result res;
	struct fx_g4_ob want;
	struct fxt_host h;
	struct img m;
	struct fx_err err;

	(void)state;
	fxt_host_up(&h, NULL);
	fx_err_clear(&err);
	assert_int_equal(fx_prog_ob_read(h.d, &want, &err), 0);
	assert_int_equal(fx_g4_ob_apply(&want, "DBANK=0", &err), 0);
	assert_int_equal(fx_prog_ob_write(h.d, &want, 5000, &res, &err), 0);
	assert_int_equal(fx_g4_ob_get(&res.after, fx_g4_ob_field_find("DBANK")), 0);
	assert_int_equal(res.after.word[0][0] & 0xFFFFFF, FX_G4_OPTR_FACTORY & 0xBFFFFF);
	assert_true(res.reenum_us >= 300000);
	assert_int_equal(fx_emu_optr(h.board) & (1u << 22), 0);
	/* the layout was re-read after the reset (spec 3.5) */
	assert_string_equal(fx_dfu_get_info(h.d)->alt_name[0], "@Internal Flash   /0x08000000/128*04Kg");
	/* program in single-bank mode: touched 4 KiB pages */
	img_make(&m, a, l, 2);
	assert_int_equal(fx_prog_flash(h.d, &m.img, &o, NULL, &err), 0);
	assert_board_has(&h, &m);
	assert_int_equal(fxt_host_settle(&h, 200), FX_EMU_BUS_APP);
	img_free(&m);
	fxt_host_down(&h);
}

#define NO_ROM_MSG "option bytes written at 0x1FFF7800: the bootloader did not come back within 3000 ms"

/* Apply change to the option bytes read back, release BOOT0, write: the
 * ROM must not come back (FX_E_TIMEOUT with msg); bus is what is on the
 * bus afterwards. */
static void ob_write_boot0_low(struct fxt_host *h, const char *change, const char *msg,
			       enum fx_emu_bus bus)
{
	struct fx_prog_ob_result res;
	struct fx_g4_ob want;
	struct fx_err err;

	fx_err_clear(&err);
	assert_int_equal(fx_prog_ob_read(h->d, &want, &err), 0);
	assert_int_equal(fx_g4_ob_apply(&want, change, &err), 0);
	fx_emu_set_boot0(h->board, false);
	assert_int_equal(fx_prog_ob_write(h->d, &want, 3000, &res, &err), FX_E_TIMEOUT);
	assert_string_equal(err.msg, msg);
	assert_int_equal(fx_emu_poll(h->board), bus);
}

static void test_dbank_boot0_low_field_report(void **state)
{
	static const uint32_t a[] = { 0x08000000 };
	static const uint32_t l[] = { 4096 };
	struct fx_prog_flash_opts o = { .verify = true };
	struct fxt_host h;
	struct img m;
	struct fx_err err;

	(void)state;
	/* blank board, BOOT0 released after entering the bootloader: after
	 * the option-byte reset nothing boots (G4: no empty-flash check) */
	fxt_host_up(&h, NULL);
	ob_write_boot0_low(&h, "DBANK=0",
			   NO_ROM_MSG " (BOOT0 low? nothing or the application booted)",
			   FX_EMU_BUS_NONE);
	/* the option bytes did change */
	assert_int_equal(fx_emu_optr(h.board) & (1u << 22), 0);
	fxt_host_down(&h);

	/* with an application in flash and a harmless option change: the
	 * application boots instead of the ROM */
	fxt_host_up(&h, NULL);
	img_make(&m, a, l, 1);
	fx_err_clear(&err);
	assert_int_equal(fx_prog_flash(h.d, &m.img, &o, NULL, &err), 0);
	ob_write_boot0_low(&h, "BOR_LEV=1",
			   NO_ROM_MSG ": 1209:0001 enumerated instead (the application booted; BOOT0 low?)",
			   FX_EMU_BUS_APP);
	fxt_host_down(&h);

	/* the field report: application programmed in dual-bank mode, DBANK
	 * changed with BOOT0 low: the image no longer boots, nothing comes */
	fxt_host_up(&h, NULL);
	assert_int_equal(fx_prog_flash(h.d, &m.img, &o, NULL, &err), 0);
	ob_write_boot0_low(&h, "DBANK=0",
			   NO_ROM_MSG " (BOOT0 low? nothing or the application booted)",
			   FX_EMU_BUS_NONE);
	img_free(&m);
	fxt_host_down(&h);
}

static void test_rdp1_then_unprotect(void **state)
{
	static const uint32_t a[] = { 0x08000000 };
	static const uint32_t l[] = { 2048 };
	struct fx_prog_flash_opts o = { .verify = true };
	struct fx_prog_ob_result res;
	struct fx_g4_ob want, ob;
	uint8_t buf[16];
	struct fxt_host h;
	struct img m;
	struct fx_err err;
	bool blank = false;

	(void)state;
	fxt_host_up(&h, NULL);
	img_make(&m, a, l, 1);
	fx_err_clear(&err);
	assert_int_equal(fx_prog_flash(h.d, &m.img, &o, NULL, &err), 0);
	assert_int_equal(fx_prog_ob_read(h.d, &want, &err), 0);
	assert_int_equal(fx_g4_ob_apply(&want, "RDP=0xBB", &err), 0);
	assert_int_equal(fx_prog_ob_write(h.d, &want, 5000, &res, &err), 0);
	assert_int_equal(fx_g4_rdp_level(res.after.word[0][0]), 1);
	/* level 1: flash refused with errVENDOR (spec 3.6, 8) */
	assert_int_equal(fx_prog_read(h.d, 0x08000000, buf, sizeof(buf), &err), FX_E_PROTECTED);
	assert_non_null(strstr(err.msg, "errVENDOR"));
	assert_int_equal(err.dfu_status, DFU_STATUS_errVENDOR);
	assert_int_equal(fx_prog_flash(h.d, &m.img, &o, NULL, &err), FX_E_PROTECTED);
	assert_int_equal(fx_prog_flash_blank(h.d, &blank, &err), FX_E_PROTECTED);
	/* the option bytes stay readable */
	assert_int_equal(fx_prog_ob_read(h.d, &ob, &err), 0);
	assert_int_equal(ob.word[0][0] & 0xFF, 0xBB);
	/* Read Unprotect: mass erase, factory option bytes, reset */
	assert_int_equal(fx_prog_unprotect(h.d, 5000, &err), 0);
	assert_int_equal(fx_prog_ob_read(h.d, &ob, &err), 0);
	assert_int_equal(ob.word[0][0], FX_G4_OPTR_FACTORY);
	assert_int_equal(fx_prog_flash_blank(h.d, &blank, &err), 0);
	assert_true(blank);
	assert_int_equal(fx_prog_flash(h.d, &m.img, &o, NULL, &err), 0);
	img_free(&m);
	fxt_host_down(&h);
}

static void test_board_file_uri(void **state)
{
	static const uint32_t a[] = { 0x08000000 };
	static const uint32_t l[] = { 3000 };
	struct fx_prog_flash_opts o = { .verify = true };
	char dir[] = "/tmp/fx-host-XXXXXX", uri[128], path[96];
	struct fx_vclock vc;
	struct fx_usb *u;
	struct fx_dfu *d;
	struct img m;
	struct fx_err err;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/b.fxb", dir);
	snprintf(uri, sizeof(uri), "emu:%s?xfer=2048", path);
	fx_vclock_init(&vc);
	fx_err_clear(&err);
	assert_int_equal(fx_usb_open(uri, &vc.base, NULL, &u, &err), 0);
	d = fx_dfu_open(u, &err);
	assert_non_null(d);
	assert_int_equal(fx_dfu_get_info(d)->transfer_size, 2048);
	img_make(&m, a, l, 1);
	assert_int_equal(fx_prog_flash(d, &m.img, &o, NULL, &err), 0);
	fx_dfu_free(d);
	fx_usb_close(u); /* saves the board */
	/* power cycle: the content is still there */
	assert_int_equal(fx_usb_open(uri, &vc.base, NULL, &u, &err), 0);
	d = fx_dfu_open(u, &err);
	assert_non_null(d);
	assert_int_equal(fx_prog_verify(d, &m.img, &err), 0);
	fx_dfu_free(d);
	fx_usb_close(u);
	img_free(&m);
	unlink(path);
	rmdir(dir);
}

/* Real image files through fx_image_load (tests/data/image/README). */
static void test_image_files(void **state)
{
	static const char *const files[] = {
		"tests/data/image/golden.hex", "tests/data/image/golden.srec",
		"tests/data/image/golden.elf", "tests/data/image/golden.dfu",
		"tests/data/image/multi.hex", "tests/data/image/multi.srec",
		"tests/data/image/multi.elf", "tests/data/image/multi.dfu",
		"config/demo-g474.hex",
	};
	struct fx_prog_flash_opts o = { .verify = true, .leave = true };
	struct fx_prog_flash_result r;
	struct fx_image *img;
	struct fx_err err;
	struct fxt_host h;
	size_t i, j;

	(void)state;
	if (access(files[0], R_OK)) {
		skip(); /* run from the source tree */
		return;
	}
	for (i = 0; i <= sizeof(files) / sizeof(files[0]); i++) {
		bool bin = i == sizeof(files) / sizeof(files[0]);
		const char *f = bin ? "tests/data/image/golden.bin" : files[i];

		fx_err_clear(&err);
		img = fx_image_load(f, FX_IMAGE_AUTO, bin, 0x08000000, &err);
		if (!img)
			fail_msg("%s: %s", f, err.msg);
		fxt_host_up(&h, NULL);
		if (fx_prog_flash(h.d, img, &o, &r, &err))
			fail_msg("%s: %s", f, err.msg);
		for (j = 0; j < img->nsegs; j++)
			fxt_host_assert_flash(&h, img->segs[j].addr, img->segs[j].data,
					      img->segs[j].len);
		assert_int_equal(r.bytes_written % 8, 0);
		print_message("%s: %zu segments, %zu bytes, %zu written, %zu pages\n", f, img->nsegs, fx_image_size(img), r.bytes_written, r.pages_erased);
		assert_true(r.bytes_written > 0);
		fxt_host_down(&h);
		fx_image_free(img);
	}
	/* a DfuSe file with an option-byte target is refused before any write */
	img = fx_image_load("tests/data/image/twotarget.dfu", FX_IMAGE_AUTO, false, 0, &err);
	assert_non_null(img);
	fxt_host_up(&h, NULL);
	assert_int_equal(fx_prog_flash(h.d, img, &o, NULL, &err), FX_E_RANGE);
	assert_string_equal(err.msg, "image segment at 0x1FFF7800 targets alt 1, only the flash (alt 0) can be programmed");
	fxt_host_down(&h);
	fx_image_free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blank_board),
		cmocka_unit_test(test_program_verify_leave),
		cmocka_unit_test(test_touched_pages_vs_mass_erase),
		cmocka_unit_test(test_dbank_boot0_high),
		cmocka_unit_test(test_dbank_boot0_low_field_report),
		cmocka_unit_test(test_rdp1_then_unprotect),
		cmocka_unit_test(test_board_file_uri),
		cmocka_unit_test(test_image_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

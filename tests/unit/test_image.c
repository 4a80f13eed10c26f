/* test_image.c - golden inputs (tests/data/image/): the same payload in
 * every format gives the identical segment list; detection, entry points,
 * alt settings, range checks, format names. Error paths: test_image_errors.c;
 * truncated/garbled inputs: test_image_fuzz.c. */
#include <zlib.h>

#include "fx/bytes.h"
#include "test_image_util.h"

struct want_seg {
	uint32_t addr, len;
	uint8_t first; /* data[i] == first + i, or the text below */
	const char *text;
};

static void check_segs(const struct fx_image *img, const struct want_seg *w, size_t n)
{
	size_t i, j;

	img_check_invariants(img);
	assert_int_equal(img->nsegs, n);
	for (i = 0; i < n; i++) {
		assert_int_equal(img->segs[i].addr, w[i].addr);
		assert_int_equal(img->segs[i].len, w[i].len);
		assert_int_equal(img->segs[i].alt, 0);
		if (w[i].text)
			assert_memory_equal(img->segs[i].data, w[i].text, w[i].len);
		else
			for (j = 0; j < w[i].len; j++)
				assert_int_equal(img->segs[i].data[j], (uint8_t)(w[i].first + j));
	}
}

/* Load path; the test fails with the loader's message (and code) if it
 * does not load, or if the image breaks the segment list invariants. */
static struct fx_image *load_path(const char *path, enum fx_image_format fmt,
				  bool have_addr, uint32_t addr)
{
	struct fx_image *img;
	struct fx_err err;

	fx_err_clear(&err);
	img = fx_image_load(path, fmt, have_addr, addr, &err);
	if (!img)
		fail_msg("%s: %s (%s)", path, err.msg, fx_err_name(err.code));
	img_check_invariants(img);
	return img;
}

/* The same for a golden input in tests/data/image/. */
static struct fx_image *load_ok(const char *name, enum fx_image_format fmt, bool have_addr,
				uint32_t addr)
{
	char path[256];

	snprintf(path, sizeof(path), IMG_DATA "/%s", name);
	return load_path(path, fmt, have_addr, addr);
}

static const struct want_seg golden_segs[] = { { 0x08000000, 40, 0, NULL } };
static const struct want_seg multi_segs[] = {
	{ 0x08000000, 24, 0x00, NULL },
	{ 0x0800fff8, 16, 0xa0, NULL },
	{ 0x08020000, 5, 0, "hello" },
};

static void test_golden_all_formats(void **state)
{
	static const struct {
		const char *name;
		enum fx_image_format fmt;
		uint32_t entry;
	} files[] = {
		{ "golden.bin", FX_IMAGE_BIN, 0 },          { "golden.hex", FX_IMAGE_IHEX, 0x08000009 },
		{ "golden.srec", FX_IMAGE_SREC, 0x08000009 }, { "golden.elf", FX_IMAGE_ELF, 0x08000009 },
		{ "golden.dfu", FX_IMAGE_DFUSE, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		bool bin = files[i].fmt == FX_IMAGE_BIN;
		struct fx_image *img = load_ok(files[i].name, FX_IMAGE_AUTO, bin, 0x08000000);

		assert_int_equal(img->format, files[i].fmt);
		assert_int_equal(img->entry, files[i].entry);
		check_segs(img, golden_segs, 1);
		assert_int_equal(fx_image_size(img), 40);
		fx_image_free(img);
		/* the explicit format gives the same */
		img = load_ok(files[i].name, files[i].fmt, bin, 0x08000000);
		check_segs(img, golden_segs, 1);
		fx_image_free(img);
	}
}

static void test_multi_all_formats(void **state)
{
	static const char *const names[] = { "multi.hex", "multi.srec", "multi.elf", "multi.dfu" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct fx_image *img = load_ok(names[i], FX_IMAGE_AUTO, false, 0);

		check_segs(img, multi_segs, 3);
		assert_int_equal(fx_image_size(img), 45);
		assert_int_equal(img->entry, strstr(names[i], ".dfu") ? 0 : 0x08000009);
		fx_image_free(img);
	}
}

static void test_srec_s1_s2(void **state)
{
	static const struct want_seg s1[] = { { 0x1000, 4, 1, NULL } };
	static const struct want_seg s2[] = { { 0x012000, 5, 0, "\xde\xad\xbe\xef\x55" } };
	struct fx_image *img;

	(void)state;
	img = load_ok("s1.srec", FX_IMAGE_AUTO, false, 0);
	check_segs(img, s1, 1);
	assert_int_equal(img->entry, 0x1001);
	fx_image_free(img);
	img = load_ok("s2.srec", FX_IMAGE_AUTO, false, 0);
	check_segs(img, s2, 1);
	assert_int_equal(img->entry, 0x012001);
	fx_image_free(img);
}

static void test_ihex_segment_address(void **state)
{
	/* 02 record 0x1000 -> base 0x10000; 03 record CS 0x1000 IP 0x0020 */
	static const struct want_seg w[] = { { 0x10010, 3, 0, "\x11\x22\x33" } };
	struct fx_image *img;

	(void)state;
	img = load_ok("segment.hex", FX_IMAGE_AUTO, false, 0);
	check_segs(img, w, 1);
	assert_int_equal(img->entry, 0x10020);
	fx_image_free(img);
}

static void test_dfuse_two_targets(void **state)
{
	static const uint8_t ob[8] = { 0xaa, 0xf8, 0xef, 0xff, 0x55, 0x07, 0x10, 0x00 };
	struct fx_image *img;
	struct fx_err err;

	(void)state;
	img = load_ok("twotarget.dfu", FX_IMAGE_AUTO, false, 0);
	assert_int_equal(img->nsegs, 2);
	assert_int_equal(img->segs[0].addr, 0x08000000);
	assert_int_equal(img->segs[0].len, 4);
	assert_int_equal(img->segs[0].alt, 0);
	assert_memory_equal(img->segs[0].data, "\x01\x02\x03\x04", 4);
	assert_int_equal(img->segs[1].addr, 0x1fff7800);
	assert_int_equal(img->segs[1].len, 8);
	assert_int_equal(img->segs[1].alt, 1);
	assert_memory_equal(img->segs[1].data, ob, 8);
	/* the flash window: the option bytes are on alt 1, so outside */
	fx_err_clear(&err);
	assert_int_equal(fx_image_check_range(img, 0x08000000, 0x08080000, &err), FX_E_RANGE);
	assert_string_equal(err.msg, "image data at 0x1fff7800 is for alt setting 1, outside "
				     "0x08000000-0x0807ffff");
	fx_image_free(img);
}

/* An unknown extension: the content decides. */
static void test_detect_by_content(void **state)
{
	static const struct {
		const char *name;
		enum fx_image_format fmt;
	} files[] = {
		{ "golden.hex", FX_IMAGE_IHEX }, { "golden.srec", FX_IMAGE_SREC },
		{ "golden.elf", FX_IMAGE_ELF },  { "golden.dfu", FX_IMAGE_DFUSE },
	};
	struct img_tmp *t = *state;
	size_t i, len;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char src[256];
		uint8_t *d;
		const char *p;
		struct fx_image *img;

		snprintf(src, sizeof(src), IMG_DATA "/%s", files[i].name);
		d = img_slurp(src, &len);
		p = img_tmp_write(t, "firmware.img", d, len);
		free(d);
		img = load_path(p, FX_IMAGE_AUTO, false, 0);
		assert_int_equal(img->format, files[i].fmt);
		check_segs(img, golden_segs, 1);
		fx_image_free(img);
	}
}

static void test_detect_raw_with_address(void **state)
{
	static const struct want_seg w[] = { { 0x08004000, 3, 0, "abc" } };
	struct img_tmp *t = *state;
	struct fx_image *img;
	const char *p;

	/* unknown extension, unknown content, an address: raw binary */
	p = img_tmp_str(t, "app.img", "abc");
	img = load_path(p, FX_IMAGE_AUTO, true, 0x08004000);
	assert_int_equal(img->format, FX_IMAGE_BIN);
	check_segs(img, w, 1);
	fx_image_free(img);
	/* upper-case extension */
	p = img_tmp_str(t, "APP.BIN", "abc");
	img = load_path(p, FX_IMAGE_AUTO, true, 0x08004000);
	assert_int_equal(img->format, FX_IMAGE_BIN);
	fx_image_free(img);
	/* the extension wins over content: a .bin starting with ':' is raw */
	p = img_tmp_str(t, "colon.bin", ":00000001FF\n");
	img = load_path(p, FX_IMAGE_AUTO, true, 0x08000000);
	assert_int_equal(img->format, FX_IMAGE_BIN);
	assert_int_equal(img->segs[0].len, 12);
	fx_image_free(img);
}

static void test_text_variants(void **state)
{
	static const struct want_seg w[] = { { 0x0, 2, 0, "\x12\x34" } };
	struct img_tmp *t = *state;
	struct fx_image *img;
	const char *p;

	/* lower-case digits, CRLF, trailing blanks, blank lines, no final
	 * newline, DOS ^Z after the EOF record */
	p = img_tmp_str(t, "v.hex", "\r\n:020000001234b8 \r\n\n:00000001ff\r\n\x1a");
	img = load_path(p, FX_IMAGE_AUTO, false, 0);
	check_segs(img, w, 1);
	fx_image_free(img);
	p = img_tmp_str(t, "v.s19", "S10500001234B4\r\nS9030000FC");
	img = load_path(p, FX_IMAGE_AUTO, false, 0);
	check_segs(img, w, 1);
	fx_image_free(img);
}

static void test_hex_adjacent_records_merge(void **state)
{
	/* 0x10 bytes then 0x10 bytes at +0x10 then 1 byte at +0x30 (gap) */
	struct img_tmp *t = *state;
	struct fx_image *img;
	const char *p;

	p = img_tmp_str(t, "m.hex",
			":10000000000102030405060708090A0B0C0D0E0F78\n"
			":10001000101112131415161718191A1B1C1D1E1F68\n"
			":01003000557A\n"
			":00000001FF\n");
	img = load_path(p, FX_IMAGE_AUTO, false, 0);
	assert_int_equal(img->nsegs, 2);
	assert_int_equal(img->segs[0].len, 32);
	assert_int_equal(img->segs[1].addr, 0x30);
	assert_int_equal(img->segs[1].data[0], 0x55);
	fx_image_free(img);
}

static void test_hex_edge_records(void **state)
{
	struct img_tmp *t = *state;
	struct fx_image *img;
	const char *p;

	/* a zero-length data record adds nothing; a record across a 64 KiB
	 * boundary continues linearly (0x0800fffe..0x08010001) */
	p = img_tmp_str(t, "e.hex",
			":020000040800F2\n:00001000F0\n:04FFFE0001020304F5\n:00000001FF\n");
	img = load_path(p, FX_IMAGE_AUTO, false, 0);
	assert_int_equal(img->nsegs, 1);
	assert_int_equal(img->segs[0].addr, 0x0800fffe);
	assert_int_equal(img->segs[0].len, 4);
	assert_memory_equal(img->segs[0].data, "\x01\x02\x03\x04", 4);
	assert_int_equal(img->entry, 0);
	fx_image_free(img);
}

/* Adjacent data of different alt settings stays in separate segments. */
static void test_dfuse_adjacent_alts_not_merged(void **state)
{
	struct img_tmp *t = *state;
	struct fx_image *img;
	uint8_t *d;
	size_t len;
	const char *p;

	d = img_slurp(IMG_DATA "/twotarget.dfu", &len);
	fx_put_le32(d + 571, 0x08000004); /* target 1's element right after target 0's */
	fx_put_le32(d + len - 4, ~(uint32_t)crc32(0L, d, (uInt)(len - 4)));
	p = img_tmp_write(t, "adj.dfu", d, len);
	free(d);
	img = load_path(p, FX_IMAGE_AUTO, false, 0);
	assert_int_equal(img->nsegs, 2);
	assert_int_equal(img->segs[0].alt, 0);
	assert_int_equal(img->segs[1].addr, 0x08000004);
	assert_int_equal(img->segs[1].alt, 1);
	fx_image_free(img);
}

/* Two PT_LOAD headers whose LMAs touch become one segment. */
static void test_elf_adjacent_loads_merge(void **state)
{
	struct img_tmp *t = *state;
	struct fx_image *img;
	uint8_t *d;
	size_t len, i;
	const char *p;

	d = img_slurp(IMG_DATA "/multi.elf", &len);
	fx_put_le32(d + 52 + 32 + 12, 0x08000018); /* phdr 1 p_paddr */
	p = img_tmp_write(t, "adj.elf", d, len);
	free(d);
	img = load_path(p, FX_IMAGE_AUTO, false, 0);
	assert_int_equal(img->nsegs, 2);
	assert_int_equal(img->segs[0].addr, 0x08000000);
	assert_int_equal(img->segs[0].len, 40);
	for (i = 0; i < 24; i++)
		assert_int_equal(img->segs[0].data[i], i);
	for (i = 24; i < 40; i++)
		assert_int_equal(img->segs[0].data[i], 0xa0 + i - 24);
	assert_int_equal(img->segs[1].addr, 0x08020000);
	fx_image_free(img);
}

static void test_bin_top_of_address_space(void **state)
{
	struct img_tmp *t = *state;
	struct fx_image *img;
	const char *p;

	/* the last 4 bytes of the address space: fits exactly */
	p = img_tmp_str(t, "top.bin", "abcd");
	img = load_path(p, FX_IMAGE_BIN, true, 0xfffffffc);
	assert_int_equal(img->segs[0].addr, 0xfffffffc);
	fx_image_free(img);
}

static void test_check_range(void **state)
{
	struct fx_image *img;
	struct fx_err err;

	(void)state;
	img = load_ok("multi.hex", FX_IMAGE_AUTO, false, 0);
	fx_err_clear(&err);
	assert_int_equal(fx_image_check_range(img, 0x08000000, 0x08080000, &err), 0);
	assert_int_equal(fx_image_check_range(img, 0x08000000, 0x08020005, &err), 0);
	/* the last segment ends one byte past the window */
	assert_int_equal(fx_image_check_range(img, 0x08000000, 0x08020004, &err), FX_E_RANGE);
	assert_string_equal(err.msg, "image data at 0x08020004 is outside 0x08000000-0x08020003");
	/* a segment straddles the end: the first byte outside is the end */
	assert_int_equal(fx_image_check_range(img, 0x08000000, 0x08010000, &err), FX_E_RANGE);
	assert_string_equal(err.msg, "image data at 0x08010000 is outside 0x08000000-0x0800ffff");
	/* a whole segment beyond the end */
	assert_int_equal(fx_image_check_range(img, 0x08000000, 0x08011000, &err), FX_E_RANGE);
	assert_string_equal(err.msg, "image data at 0x08020000 is outside 0x08000000-0x08010fff");
	/* below the start */
	assert_int_equal(fx_image_check_range(img, 0x08000010, 0x08080000, &err), FX_E_RANGE);
	assert_string_equal(err.msg, "image data at 0x08000000 is outside 0x08000010-0x0807ffff");
	/* an empty window is a programming error */
	assert_int_equal(fx_image_check_range(img, 0x08000000, 0x08000000, &err), FX_E_INVAL);
	assert_string_equal(err.msg, "bad window 0x08000000-0x08000000");
	assert_int_equal(fx_image_check_range(NULL, 0, 1, &err), FX_E_INVAL);
	fx_image_free(img);
}

static void test_format_names(void **state)
{
	(void)state;
	assert_int_equal(fx_image_format_parse("bin"), FX_IMAGE_BIN);
	assert_int_equal(fx_image_format_parse("hex"), FX_IMAGE_IHEX);
	assert_int_equal(fx_image_format_parse("ihex"), FX_IMAGE_IHEX);
	assert_int_equal(fx_image_format_parse("srec"), FX_IMAGE_SREC);
	assert_int_equal(fx_image_format_parse("elf"), FX_IMAGE_ELF);
	assert_int_equal(fx_image_format_parse("dfu"), FX_IMAGE_DFUSE);
	assert_int_equal(fx_image_format_parse("auto"), FX_IMAGE_AUTO);
	assert_int_equal(fx_image_format_parse("zip"), -1);
	assert_int_equal(fx_image_format_parse(""), -1);
	assert_int_equal(fx_image_format_parse(NULL), -1);
	assert_string_equal(fx_image_format_name(FX_IMAGE_BIN), "bin");
	assert_string_equal(fx_image_format_name(FX_IMAGE_IHEX), "ihex");
	assert_string_equal(fx_image_format_name(FX_IMAGE_SREC), "srec");
	assert_string_equal(fx_image_format_name(FX_IMAGE_ELF), "elf");
	assert_string_equal(fx_image_format_name(FX_IMAGE_DFUSE), "dfu");
	assert_string_equal(fx_image_format_name(FX_IMAGE_AUTO), "auto");
	assert_string_equal(fx_image_format_name((enum fx_image_format)99), "unknown");
	/* every name round-trips */
	for (int f = FX_IMAGE_AUTO; f <= FX_IMAGE_DFUSE; f++)
		assert_int_equal(fx_image_format_parse(fx_image_format_name((enum fx_image_format)f)), f);
}

/* config/demo-g474.hex (scripts/gen-demo-firmware): one 48 KiB segment at
 * 0x08000000 with a vector table the emulator accepts as an application,
 * the version string, and whole 0xFF blocks for skip-ff. */
static void test_demo_firmware(void **state)
{
	struct fx_image *img;
	struct fx_err err;
	const uint8_t *d;
	uint32_t sp, reset;
	size_t i;

	(void)state;
	img = load_path("config/demo-g474.hex", FX_IMAGE_AUTO, false, 0);
	assert_int_equal(img->format, FX_IMAGE_IHEX);
	assert_int_equal(img->nsegs, 1);
	assert_int_equal(img->segs[0].addr, 0x08000000);
	assert_int_equal(img->segs[0].len, 48 * 1024);
	d = img->segs[0].data;
	sp = fx_get_le32(d);
	reset = fx_get_le32(d + 4);
	assert_int_equal(sp, 0x20020000);
	assert_int_equal(reset, 0x080001d9);
	assert_int_equal(img->entry, reset);
	/* the reset handler is "b ." (Thumb 0xE7FE) */
	assert_int_equal(fx_get_le16(d + (reset & ~1u) - 0x08000000), 0xe7fe);
	assert_memory_equal(d + 0x200, "fixturectl demo 1.0", 20);
	for (i = 0x4000; i < 0x6000; i++)
		assert_int_equal(d[i], 0xff);
	for (i = 0x8800; i < 0x9000; i++)
		assert_int_equal(d[i], 0xff);
	/* no other 1 KiB block is erased-looking */
	for (i = 0; i < 48 * 1024; i += 1024) {
		size_t j, ff = 0;

		for (j = 0; j < 1024; j++)
			ff += d[i + j] == 0xff;
		if ((i >= 0x4000 && i < 0x6000) || (i >= 0x8800 && i < 0x9000))
			assert_int_equal(ff, 1024);
		else
			assert_true(ff < 1024);
	}
	assert_int_equal(fx_image_check_range(img, 0x08000000, 0x08080000, &err), 0);
	fx_image_free(img);
}

static void test_free_null(void **state)
{
	(void)state;
	fx_image_free(NULL);
	assert_int_equal(fx_image_size(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_all_formats),
		cmocka_unit_test(test_multi_all_formats),
		cmocka_unit_test(test_srec_s1_s2),
		cmocka_unit_test(test_ihex_segment_address),
		cmocka_unit_test(test_dfuse_two_targets),
		cmocka_unit_test(test_detect_by_content),
		cmocka_unit_test(test_detect_raw_with_address),
		cmocka_unit_test(test_text_variants),
		cmocka_unit_test(test_hex_adjacent_records_merge),
		cmocka_unit_test(test_hex_edge_records),
		cmocka_unit_test(test_dfuse_adjacent_alts_not_merged),
		cmocka_unit_test(test_elf_adjacent_loads_merge),
		cmocka_unit_test(test_bin_top_of_address_space),
		cmocka_unit_test(test_check_range),
		cmocka_unit_test(test_format_names),
		cmocka_unit_test(test_demo_firmware),
		cmocka_unit_test(test_free_null),
	};

	return cmocka_run_group_tests(tests, img_tmp_setup, img_tmp_teardown);
}

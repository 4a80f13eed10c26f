/* test_image_errors.c - one test per error path of the image readers:
 * the code AND the exact message, with FILE:LINE for the text formats. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <zlib.h>

#include "fx/bytes.h"
#include "test_image_util.h"

#define T(state) ((struct img_tmp *)*(state))

/* Write s as NAME and expect FX_E_IMAGE with "PATH" + suffix. */
#define EXPECT_TEXT(state, name, s, ...)                                          \
	do {                                                                      \
		const char *p_ = img_tmp_str(T(state), name, s);                  \
		img_expect_fail(p_, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE, "%s" __VA_ARGS__); \
	} while (0)

/* ---------------------------------------------------------- Intel HEX */

static void test_ihex_bad_checksum(void **state)
{
	const char *p = img_tmp_str(T(state), "e.hex",
				    ":020000040800F2\n:02000000123400\n:00000001FF\n");

	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s:2: bad checksum: expected 0xb8, got 0x00", p);
}

static void test_ihex_bad_hex_digit(void **state)
{
	const char *p = img_tmp_str(T(state), "e.hex", ":0200000012G4B8\n:00000001FF\n");

	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s:1: bad hex digit 'G' in column 12", p);
	p = img_tmp_str(T(state), "e.hex", ":020000040800F2\n:02000000\x01" "234B8\n:00000001FF\n");
	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s:2: bad hex digit 0x01 in column 10", p);
}

static void test_ihex_odd_digits(void **state)
{
	const char *p = img_tmp_str(T(state), "e.hex", ":020000001234B\n:00000001FF\n");

	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s:1: odd number of hex digits (13)", p);
}

static void test_ihex_bad_record_type(void **state)
{
	const char *p = img_tmp_str(T(state), "e.hex",
				    ":020000001234B8\n:00000006FA\n:00000001FF\n");

	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE, "%s:2: bad record type 0x06", p);
}

static void test_ihex_no_colon(void **state)
{
	const char *p = img_tmp_str(T(state), "e.hex", "020000001234B8\n");

	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s:1: expected ':' at the start of a record, got '0'", p);
	p = img_tmp_str(T(state), "e.hex", ":020000001234B8\n\x02\n");
	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s:2: expected ':' at the start of a record, got 0x02", p);
}

static void test_ihex_overlap(void **state)
{
	/* the later record (line 2) starts inside the earlier one */
	const char *p = img_tmp_str(T(state), "e.hex",
				    ":020000001234B8\n:02000100AABB98\n:00000001FF\n");

	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s:2: data at 0x00000001-0x00000002 overlaps data at "
			"0x00000000-0x00000001 from line 1", p);
	/* the later record (line 2) lies below the earlier one */
	p = img_tmp_str(T(state), "e.hex", ":02000100AABB98\n:020000001234B8\n:00000001FF\n");
	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s:2: data at 0x00000000-0x00000001 overlaps data at "
			"0x00000001-0x00000002 from line 1", p);
	/* a later record entirely inside an earlier one, and the reverse */
	p = img_tmp_str(T(state), "e.hex",
			":0400000001020304F2\n:01000100" "55A9\n:00000001FF\n");
	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s:2: data at 0x00000001-0x00000001 overlaps data at "
			"0x00000000-0x00000003 from line 1", p);
	p = img_tmp_str(T(state), "e.hex",
			":01000100" "55A9\n:0400000001020304F2\n:00000001FF\n");
	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s:2: data at 0x00000000-0x00000003 overlaps data at "
			"0x00000001-0x00000001 from line 1", p);
	/* the same 4 bytes twice, through extended linear addresses, with a
	 * record in between: the message names the second copy's line */
	p = img_tmp_str(T(state), "e.hex",
			":020000040800F2\n:0400000001020304F2\n:020000040801F1\n"
			":020000001234B8\n:020000040800F2\n:0400000001020304F2\n:00000001FF\n");
	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s:6: data at 0x08000000-0x08000003 overlaps data at "
			"0x08000000-0x08000003 from line 2", p);
}

static void test_ihex_truncated(void **state)
{
	const char *p = img_tmp_str(T(state), "e.hex", ":020000040800F2\n:10000000000102\n");

	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s:2: record truncated: byte count 16 needs 21 bytes, got 7", p);
	p = img_tmp_str(T(state), "e.hex", ":0000");
	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s:1: record truncated: 2 bytes, a record has at least 5", p);
	p = img_tmp_str(T(state), "e.hex", ":");
	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s:1: record truncated: 0 bytes, a record has at least 5", p);
}

static void test_ihex_longer_than_count(void **state)
{
	const char *p = img_tmp_str(T(state), "e.hex", ":01000000123400\n:00000001FF\n");

	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s:1: record longer than its byte count 1: 7 bytes, expected 6", p);
}

static void test_ihex_line_too_long(void **state)
{
	char line[1 + 2 * 300 + 2];
	const char *p;

	line[0] = ':';
	memset(line + 1, '0', 2 * 300);
	line[1 + 2 * 300] = '\n';
	line[2 + 2 * 300] = '\0';
	p = img_tmp_str(T(state), "e.hex", line);
	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s:1: record longer than 260 bytes", p);
}

static void test_ihex_missing_eof(void **state)
{
	const char *p = img_tmp_str(T(state), "e.hex", ":020000040800F2\n:020000001234B8\n\n");

	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s:3: missing end-of-file record (type 01)", p);
	p = img_tmp_str(T(state), "e.hex", "");
	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s: missing end-of-file record (type 01)", p);
}

static void test_ihex_eof_with_data(void **state)
{
	const char *p = img_tmp_str(T(state), "e.hex", ":020000001234B8\n:01000001AA54\n");

	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s:2: end-of-file record with 1 data bytes", p);
}

static void test_ihex_data_after_eof(void **state)
{
	const char *p = img_tmp_str(T(state), "e.hex",
				    ":020000001234B8\n:00000001FF\n\n:020000001234B8\n");

	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s:4: data after the end-of-file record", p);
}

static void test_ihex_address_record_sizes(void **state)
{
	const char *p = img_tmp_str(T(state), "e.hex", ":0100000408F3\n:00000001FF\n");

	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s:1: extended linear address record: expected 2 data bytes, got 1", p);
	p = img_tmp_str(T(state), "e.hex", ":0100000208F5\n:00000001FF\n");
	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s:1: extended segment address record: expected 2 data bytes, got 1", p);
	p = img_tmp_str(T(state), "e.hex", ":020000050800F1\n:00000001FF\n");
	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s:1: start linear address record: expected 4 data bytes, got 2", p);
	p = img_tmp_str(T(state), "e.hex", ":020000030800F3\n:00000001FF\n");
	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s:1: start segment address record: expected 4 data bytes, got 2", p);
}

static void test_ihex_wraparound(void **state)
{
	const char *p = img_tmp_str(T(state), "e.hex",
				    ":02000004FFFFFC\n"
				    ":10FFF800000102030405060708090A0B0C0D0E0F81\n"
				    ":00000001FF\n");

	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s:2: data at 0xfffffff8 (16 bytes) wraps past the end of the 32-bit "
			"address space", p);
}

static void test_ihex_no_data(void **state)
{
	const char *p = img_tmp_str(T(state), "e.hex", ":020000040800F2\n:00000001FF\n");

	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s: Intel HEX file holds no data", p);
}

/* ---------------------------------------------------------- S-record */

static void test_srec_bad_checksum(void **state)
{
	const char *p = img_tmp_str(T(state), "e.srec", "S10500001234B5\nS9030000FC\n");

	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s:1: bad checksum: expected 0xb4, got 0xb5", p);
}

static void test_srec_bad_hex_digit(void **state)
{
	const char *p = img_tmp_str(T(state), "e.srec", "S00600004844521B\nS10500001Z34B4\n");

	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s:2: bad hex digit 'Z' in column 10", p);
}

static void test_srec_bad_record_type(void **state)
{
	const char *p = img_tmp_str(T(state), "e.srec", "S4030000FC\n");

	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE, "%s:1: bad record type 'S4'", p);
	p = img_tmp_str(T(state), "e.srec", "S10500001234B4\nSX030000FC\n");
	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE, "%s:2: bad record type 'SX'", p);
	p = img_tmp_str(T(state), "e.srec", "S10500001234B4\nS\n");
	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s:2: record truncated: 'S' without a type", p);
	p = img_tmp_str(T(state), "e.srec", "S\x7f\n");
	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s:1: bad record type 'S' followed by 0x7f", p);
}

static void test_srec_no_s(void **state)
{
	const char *p = img_tmp_str(T(state), "e.srec", ":00000001FF\n");

	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s:1: expected 'S' at the start of a record, got ':'", p);
	p = img_tmp_str(T(state), "e.srec", "S10500001234B4\n\tS9030000FC\n");
	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s:2: expected 'S' at the start of a record, got 0x09", p);
}

static void test_srec_overlap(void **state)
{
	const char *p = img_tmp_str(T(state), "e.srec",
				    "S10500001234B4\nS1050001AABB94\nS9030000FC\n");

	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s:2: data at 0x00000001-0x00000002 overlaps data at "
			"0x00000000-0x00000001 from line 1", p);
}

static void test_srec_truncated(void **state)
{
	const char *p = img_tmp_str(T(state), "e.srec", "S1050000\n");

	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s:1: record truncated: byte count 5 needs 6 bytes, got 3", p);
	p = img_tmp_str(T(state), "e.srec", "S1");
	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s:1: record truncated: no byte count", p);
}

static void test_srec_longer_than_count(void **state)
{
	const char *p = img_tmp_str(T(state), "e.srec", "S10500001234B400\nS9030000FC\n");

	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s:1: record longer than its byte count 5: 7 bytes, expected 6", p);
}

static void test_srec_line_too_long(void **state)
{
	char line[2 + 2 * 300 + 2];
	const char *p;

	line[0] = 'S';
	line[1] = '1';
	memset(line + 2, 'F', 2 * 300);
	line[2 + 2 * 300] = '\n';
	line[3 + 2 * 300] = '\0';
	p = img_tmp_str(T(state), "e.srec", line);
	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s:1: record longer than 256 bytes", p);
}

static void test_srec_count_too_small(void **state)
{
	const char *p = img_tmp_str(T(state), "e.srec", "S304000000\n");

	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s:1: byte count 4 too small for an S3 record (at least 5)", p);
}

/* issue 9 section 2 item 3: data without S7/S8/S9 (srec_cat's output) is
 * accepted with a warning naming the file; a file with no data record and
 * no termination is not */
static void test_srec_missing_termination(void **state)
{
	const char *p = img_tmp_str(T(state), "e.srec", "S10500001234B4\n");
	struct fx_image *img;
	struct fx_err err;
	char want[640];

	fx_err_clear(&err);
	img = fx_image_load(p, FX_IMAGE_AUTO, false, 0, &err);
	assert_non_null(img);
	assert_int_equal(img->nsegs, 1);
	assert_int_equal(img->segs[0].addr, 0);
	assert_int_equal(img->segs[0].len, 2);
	assert_int_equal(img->entry, 0);
	snprintf(want, sizeof(want),
		 "%s: no termination record (S7, S8 or S9): accepted, no start address", p);
	assert_string_equal(img->warning, want);
	fx_image_free(img);
	p = img_tmp_str(T(state), "e2.srec", "S0030000FC\n");
	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s:1: missing termination record (S7, S8 or S9)", p);
}

static void test_srec_record_count(void **state)
{
	const char *p = img_tmp_str(T(state), "e.srec",
				    "S10500001234B4\nS5030002FA\nS9030000FC\n");

	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s:2: S5 record count says 2 data records, counted 1", p);
	p = img_tmp_str(T(state), "e.srec", "S10500001234B4\nS5040001AA50\nS9030000FC\n");
	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s:2: S5 count record with 1 data bytes", p);
}

static void test_srec_termination(void **state)
{
	const char *p = img_tmp_str(T(state), "e.srec",
				    "S10500001234B4\nS9030000FC\nS10500001234B4\n");

	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s:3: data after the termination record", p);
	p = img_tmp_str(T(state), "e.srec", "S10500001234B4\nS9040000AA51\n");
	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s:2: S9 termination record with 1 data bytes", p);
}

static void test_srec_wraparound(void **state)
{
	const char *p = img_tmp_str(T(state), "e.srec",
				    "S00600004844521B\nS308FFFFFFFE010203F6\nS70500000000FA\n");

	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s:2: data at 0xfffffffe (3 bytes) wraps past the end of the 32-bit "
			"address space", p);
}

static void test_srec_no_data(void **state)
{
	const char *p = img_tmp_str(T(state), "e.srec", "S00600004844521B\nS9030000FC\n");

	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s: S-record file holds no data", p);
}

/* ---------------------------------------------------------------- ELF */

/* golden.elf with one patch: 32-bit LE value v at offset off (n bytes) */
static const char *elf_patched(void **state, const char *src, size_t off, unsigned n,
			       uint32_t v, size_t cut)
{
	char in[256];
	uint8_t *d;
	size_t len;
	const char *p;

	snprintf(in, sizeof(in), IMG_DATA "/%s", src);
	d = img_slurp(in, &len);
	if (n == 1)
		d[off] = (uint8_t)v;
	else if (n == 2)
		fx_put_le16(d + off, (uint16_t)v);
	else if (n == 4)
		fx_put_le32(d + off, v);
	p = img_tmp_write(T(state), "e.elf", d, cut ? cut : len);
	free(d);
	return p;
}

static void test_elf_truncated_header(void **state)
{
	const char *p = elf_patched(state, "golden.elf", 0, 0, 0, 10);

	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s: ELF header truncated: 10 bytes, expected at least 16", p);
	/* the identification is there, the rest of the header is not */
	p = elf_patched(state, "golden.elf", 0, 0, 0, 30);
	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s: ELF header truncated: 30 bytes, expected at least 52", p);
}

static void test_elf_bad_magic(void **state)
{
	const char *p = img_tmp_str(T(state), "e.elf", "this is no ELF file");

	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE, "%s: not an ELF file (bad magic)",
			p);
}

static void test_elf_class64(void **state)
{
	const char *p = elf_patched(state, "golden.elf", 4, 1, 2, 0);

	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s: ELF class 2 (64-bit) not supported: expected a 32-bit ARM executable",
			p);
	p = elf_patched(state, "golden.elf", 4, 1, 7, 0);
	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s: ELF class 7 (unknown) not supported: expected a 32-bit ARM executable",
			p);
}

static void test_elf_big_endian(void **state)
{
	const char *p = elf_patched(state, "golden.elf", 5, 1, 2, 0);

	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s: ELF data encoding 2 (big-endian) not supported: expected a "
			"little-endian ARM executable", p);
}

static void test_elf_version(void **state)
{
	const char *p = elf_patched(state, "golden.elf", 6, 1, 0, 0);

	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s: ELF version 0 not supported: expected 1", p);
}

static void test_elf_machine(void **state)
{
	const char *p = elf_patched(state, "golden.elf", 18, 2, 3 /* EM_386 */, 0);

	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s: ELF machine 3 not supported: expected ARM (40)", p);
}

static void test_elf_type(void **state)
{
	const char *p = elf_patched(state, "golden.elf", 16, 2, 1 /* ET_REL */, 0);

	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s: ELF type 1 not supported: expected an executable (2)", p);
}

static void test_elf_no_phdrs(void **state)
{
	const char *p = elf_patched(state, "golden.elf", 44, 2, 0, 0);

	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s: ELF file has no program headers", p);
}

static void test_elf_phdr_table_truncated(void **state)
{
	const char *p = elf_patched(state, "golden.elf", 0, 0, 0, 60);

	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s: program header table at 0x34 (1 x 32 bytes) runs past the end of "
			"the file (60 bytes)", p);
	/* a program header size that is not Elf32_Phdr's */
	p = elf_patched(state, "golden.elf", 42, 2, 16, 0);
	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s: e_phentsize 16, expected 32", p);
}

static void test_elf_data_past_eof(void **state)
{
	const char *p = elf_patched(state, "golden.elf", 52 + 4, 4, 0x100, 0);

	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s: program header 0: data at file offset 0x100 (0x28 bytes) runs past "
			"the end of the file (124 bytes)", p);
}

static void test_elf_filesz_gt_memsz(void **state)
{
	const char *p = elf_patched(state, "golden.elf", 52 + 20, 4, 8, 0);

	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s: program header 0: p_filesz 0x28 larger than p_memsz 0x8", p);
}

static void test_elf_overlap(void **state)
{
	/* program header 4 ("hello") moved onto the text of header 0 */
	const char *p = elf_patched(state, "multi.elf", 52 + 4 * 32 + 12, 4, 0x08000010, 0);

	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s: program header 4 at 0x08000010-0x08000014 overlaps program header 0 "
			"at 0x08000000-0x08000017", p);
}

static void test_elf_no_data(void **state)
{
	const char *p = elf_patched(state, "golden.elf", 52, 4, 4 /* PT_NOTE */, 0);

	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE, "%s: ELF file holds no data", p);
}

static void test_elf_wraparound(void **state)
{
	const char *p = elf_patched(state, "golden.elf", 52 + 12, 4, 0xfffffff0, 0);

	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s: data at 0xfffffff0 (40 bytes) wraps past the end of the 32-bit "
			"address space", p);
}

/* -------------------------------------------------------------- DfuSe */

/* golden.dfu layout: prefix 0..10, target prefix 11..284 (size at 277,
 * element count at 281), element 285..292 (address, size), data 293..332,
 * suffix 333..348 (CRC at 345). */
#define GD_TSIZE 277
#define GD_NELEM 281
#define GD_ESIZE 289
#define GD_LEN 349
/* twotarget.dfu: target 0 at 11 (element 285, data 293..296), target 1 at
 * 297, its element header at 571 */
#define TT_T1_ADDR 571

static uint8_t *dfu_golden(const char *name, size_t *len)
{
	char in[256];

	snprintf(in, sizeof(in), IMG_DATA "/%s", name);
	return img_slurp(in, len);
}

static void dfu_fix_crc(uint8_t *d, size_t len)
{
	fx_put_le32(d + len - 4, ~(uint32_t)crc32(0L, d, (uInt)(len - 4)));
}

static const char *dfu_write(void **state, uint8_t *d, size_t len, bool fix)
{
	const char *p;

	if (fix)
		dfu_fix_crc(d, len);
	p = img_tmp_write(T(state), "e.dfu", d, len);
	free(d);
	return p;
}

static void test_dfuse_bad_crc(void **state)
{
	size_t len;
	uint8_t *d = dfu_golden("golden.dfu", &len);
	const char *p;

	assert_int_equal(len, GD_LEN);
	assert_int_equal(fx_get_le32(d + len - 4), 0xf7153322);
	d[len - 1] ^= 1;
	p = dfu_write(state, d, len, false);
	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s: DFU suffix CRC mismatch: file says 0xf6153322, computed 0xf7153322", p);
	/* a payload byte changed: the CRC catches it */
	d = dfu_golden("golden.dfu", &len);
	d[300] ^= 0x80;
	p = dfu_write(state, d, len, false);
	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s: DFU suffix CRC mismatch: file says 0xf7153322, computed 0x%08x", p,
			0xe2012f13u);
}

static void test_dfuse_suffix_fields(void **state)
{
	size_t len;
	uint8_t *d = dfu_golden("golden.dfu", &len);
	const char *p;

	d[len - 8] = 'X';
	p = dfu_write(state, d, len, false);
	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s: DFU suffix signature is not 'UFD'", p);
	d = dfu_golden("golden.dfu", &len);
	d[len - 5] = 17;
	p = dfu_write(state, d, len, false);
	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE, "%s: DFU suffix length 17, expected 16",
			p);
	d = dfu_golden("golden.dfu", &len);
	fx_put_le16(d + len - 10, 0x0100);
	p = dfu_write(state, d, len, true);
	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s: DFU suffix bcdDFU 0x0100, expected 0x011a (DfuSe)", p);
}

static void test_dfuse_prefix(void **state)
{
	size_t len;
	uint8_t *d = dfu_golden("golden.dfu", &len);
	const char *p;

	d[4] = 'x';
	p = dfu_write(state, d, len, true);
	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s: DfuSe prefix signature is not 'DfuSe'", p);
	d = dfu_golden("golden.dfu", &len);
	d[5] = 2;
	p = dfu_write(state, d, len, true);
	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE, "%s: DfuSe version 2, expected 1", p);
}

static void test_dfuse_truncated_file(void **state)
{
	size_t len;
	uint8_t *d = dfu_golden("golden.dfu", &len);
	const char *p = dfu_write(state, d, 20, false);

	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s: DfuSe file truncated: 20 bytes, expected at least 27", p);
}

static void test_dfuse_target(void **state)
{
	size_t len;
	uint8_t *d = dfu_golden("golden.dfu", &len);
	const char *p;

	d[11] = 't';
	p = dfu_write(state, d, len, true);
	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s: target 0: signature is not 'Target'", p);
	/* bTargets 2, but only one is there */
	d = dfu_golden("golden.dfu", &len);
	d[10] = 2;
	p = dfu_write(state, d, len, true);
	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s: target 1: prefix truncated (0 bytes left, expected 274)", p);
	/* dwTargetSize disagrees with the elements */
	d = dfu_golden("golden.dfu", &len);
	fx_put_le32(d + GD_TSIZE, 47);
	p = dfu_write(state, d, len, true);
	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s: target 0: dwTargetSize 47, but its 1 elements take 48 bytes", p);
}

static void test_dfuse_elements(void **state)
{
	size_t len;
	uint8_t *d = dfu_golden("golden.dfu", &len);
	const char *p;

	fx_put_le32(d + GD_NELEM, 2);
	p = dfu_write(state, d, len, true);
	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s: target 0 element 1: header truncated", p);
	d = dfu_golden("golden.dfu", &len);
	fx_put_le32(d + GD_ESIZE, 41);
	p = dfu_write(state, d, len, true);
	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s: target 0 element 0: 41 bytes at 0x08000000 run past the end of the "
			"data (40 bytes left)", p);
	/* a huge element count must not loop: the data runs out first */
	d = dfu_golden("golden.dfu", &len);
	fx_put_le32(d + GD_NELEM, 0xffffffff);
	p = dfu_write(state, d, len, true);
	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s: target 0 element 1: header truncated", p);
}

static void test_dfuse_trailing_bytes(void **state)
{
	size_t len;
	uint8_t *g = dfu_golden("golden.dfu", &len);
	uint8_t *d = malloc(len + 2);
	const char *p;

	assert_non_null(d);
	memcpy(d, g, len - 16);
	d[len - 16] = 0xaa;
	d[len - 15] = 0x55;
	memcpy(d + len - 14, g + len - 16, 16);
	free(g);
	p = dfu_write(state, d, len + 2, true);
	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s: 2 unexpected bytes after the last target", p);
}

static void test_dfuse_overlap(void **state)
{
	size_t len;
	uint8_t *d = dfu_golden("multi.dfu", &len);
	const char *p;

	/* element 3 ("hello") moved onto element 1 */
	fx_put_le32(d + 349, 0x08000004);
	p = dfu_write(state, d, len, true);
	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s: target 0 element 3 at 0x08000004-0x08000008 overlaps target 0 "
			"element 1 at 0x08000000-0x0800000f", p);
	/* alt settings share one address space: target 1 onto target 0 */
	d = dfu_golden("twotarget.dfu", &len);
	fx_put_le32(d + TT_T1_ADDR, 0x08000002);
	p = dfu_write(state, d, len, true);
	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s: target 1 element 0 at 0x08000002-0x08000009 overlaps target 0 "
			"element 0 at 0x08000000-0x08000003", p);
}

static void test_dfuse_no_targets(void **state)
{
	size_t len;
	uint8_t *g = dfu_golden("golden.dfu", &len);
	uint8_t *d = malloc(11 + 16);
	const char *p;

	assert_non_null(d);
	memcpy(d, g, 11);
	d[10] = 0;
	memcpy(d + 11, g + len - 16, 16);
	free(g);
	p = dfu_write(state, d, 27, true);
	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE, "%s: DfuSe file holds no data", p);
}

/* ------------------------------------------------------ files, binary */

static void test_file_missing(void **state)
{
	char path[512];
	struct fx_err err;

	snprintf(path, sizeof(path), "%s/nonexistent.hex", T(state)->dir);
	img_expect_fail(path, FX_IMAGE_AUTO, false, 0, FX_E_FILE,
			"cannot read '%s': No such file or directory", path);
	fx_err_clear(&err);
	assert_null(fx_image_load(path, FX_IMAGE_AUTO, false, 0, &err));
	assert_int_equal(err.sys_errno, ENOENT);
}

static void test_file_is_directory(void **state)
{
	img_expect_fail(T(state)->dir, FX_IMAGE_IHEX, false, 0, FX_E_FILE,
			"cannot read '%s': Is a directory", T(state)->dir);
}

static void test_file_unreadable(void **state)
{
	const char *p = img_tmp_str(T(state), "secret.hex", ":00000001FF\n");

	if (geteuid() == 0) {
		skip(); /* root reads anything */
		return;
	}
	assert_int_equal(chmod(p, 0), 0);
	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_FILE,
			"cannot read '%s': Permission denied", p);
}

static void test_file_too_large(void **state)
{
	const char *p = img_tmp_write(T(state), "huge.bin", "", 0);

	/* sparse: 64 MiB + 1 byte of zeros */
	assert_int_equal(truncate(p, 64 * 1024 * 1024 + 1), 0);
	img_expect_fail(p, FX_IMAGE_AUTO, true, 0, FX_E_IMAGE, "%s: file larger than 64 MiB", p);
}

static void test_bin_too_large(void **state)
{
	const char *p = img_tmp_write(T(state), "big.bin", "", 0);
	struct fx_image *img;
	struct fx_err err;

	assert_int_equal(truncate(p, 16 * 1024 * 1024 + 1), 0);
	img_expect_fail(p, FX_IMAGE_AUTO, true, 0, FX_E_IMAGE, "%s: image larger than 16 MiB", p);
	/* exactly 16 MiB is accepted */
	assert_int_equal(truncate(p, 16 * 1024 * 1024), 0);
	fx_err_clear(&err);
	img = fx_image_load(p, FX_IMAGE_AUTO, true, 0, &err);
	assert_non_null(img);
	assert_int_equal(fx_image_size(img), 16 * 1024 * 1024);
	fx_image_free(img);
}

static void test_bin_wraparound(void **state)
{
	char buf[40] = { 0 };
	const char *p = img_tmp_write(T(state), "w.bin", buf, sizeof(buf));

	img_expect_fail(p, FX_IMAGE_AUTO, true, 0xfffffff0, FX_E_IMAGE,
			"%s: data at 0xfffffff0 (40 bytes) wraps past the end of the 32-bit "
			"address space", p);
}

static void test_bin_empty(void **state)
{
	const char *p = img_tmp_write(T(state), "empty.bin", "", 0);

	img_expect_fail(p, FX_IMAGE_AUTO, true, 0x08000000, FX_E_IMAGE,
			"%s: raw binary file holds no data", p);
}

static void test_address_rules(void **state)
{
	const char *p = img_tmp_str(T(state), "a.bin", "abc");

	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_INVAL,
			"%s: a raw binary needs a load address", p);
	img_expect_fail(p, FX_IMAGE_BIN, false, 0, FX_E_INVAL,
			"%s: a raw binary needs a load address", p);
	p = img_tmp_str(T(state), "a.hex", ":00000001FF\n");
	img_expect_fail(p, FX_IMAGE_AUTO, true, 0x08000000, FX_E_INVAL,
			"%s: a load address is only for raw binaries, this is Intel HEX", p);
	p = img_tmp_str(T(state), "a.img", "S9030000FC\n");
	img_expect_fail(p, FX_IMAGE_AUTO, true, 0x08000000, FX_E_INVAL,
			"%s: a load address is only for raw binaries, this is S-record", p);
}

static void test_unknown_format(void **state)
{
	const char *p = img_tmp_str(T(state), "firmware", "\x01\x02\x03");

	img_expect_fail(p, FX_IMAGE_AUTO, false, 0, FX_E_IMAGE,
			"%s: unknown image format (not Intel HEX, S-record, ELF or DfuSe); a raw "
			"binary needs a load address", p);
	img_expect_fail(p, (enum fx_image_format)42, false, 0, FX_E_INVAL,
			"bad image path or format");
	img_expect_fail(NULL, FX_IMAGE_AUTO, false, 0, FX_E_INVAL, "bad image path or format");
}

/* The format forced by the caller wins over the content. */
static void test_forced_format(void **state)
{
	char in[256];
	size_t len;
	uint8_t *d;
	const char *p;

	snprintf(in, sizeof(in), IMG_DATA "/golden.elf");
	d = img_slurp(in, &len);
	p = img_tmp_write(T(state), "x.hex", d, len);
	free(d);
	img_expect_fail(p, FX_IMAGE_SREC, false, 0, FX_E_IMAGE,
			"%s:1: expected 'S' at the start of a record, got 0x7f", p);
}

static void test_err_may_be_null(void **state)
{
	const char *p = img_tmp_str(T(state), "n.hex", ":00000001FE\n");

	assert_null(fx_image_load(p, FX_IMAGE_AUTO, false, 0, NULL));
	assert_null(fx_image_load("/nonexistent/x.hex", FX_IMAGE_AUTO, false, 0, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ihex_bad_checksum),
		cmocka_unit_test(test_ihex_bad_hex_digit),
		cmocka_unit_test(test_ihex_odd_digits),
		cmocka_unit_test(test_ihex_bad_record_type),
		cmocka_unit_test(test_ihex_no_colon),
		cmocka_unit_test(test_ihex_overlap),
		cmocka_unit_test(test_ihex_truncated),
		cmocka_unit_test(test_ihex_longer_than_count),
		cmocka_unit_test(test_ihex_line_too_long),
		cmocka_unit_test(test_ihex_missing_eof),
		cmocka_unit_test(test_ihex_eof_with_data),
		cmocka_unit_test(test_ihex_data_after_eof),
		cmocka_unit_test(test_ihex_address_record_sizes),
		cmocka_unit_test(test_ihex_wraparound),
		cmocka_unit_test(test_ihex_no_data),
		cmocka_unit_test(test_srec_bad_checksum),
		cmocka_unit_test(test_srec_bad_hex_digit),
		cmocka_unit_test(test_srec_bad_record_type),
		cmocka_unit_test(test_srec_no_s),
		cmocka_unit_test(test_srec_overlap),
		cmocka_unit_test(test_srec_truncated),
		cmocka_unit_test(test_srec_longer_than_count),
		cmocka_unit_test(test_srec_line_too_long),
		cmocka_unit_test(test_srec_count_too_small),
		cmocka_unit_test(test_srec_missing_termination),
		cmocka_unit_test(test_srec_record_count),
		cmocka_unit_test(test_srec_termination),
		cmocka_unit_test(test_srec_wraparound),
		cmocka_unit_test(test_srec_no_data),
		cmocka_unit_test(test_elf_truncated_header),
		cmocka_unit_test(test_elf_bad_magic),
		cmocka_unit_test(test_elf_class64),
		cmocka_unit_test(test_elf_big_endian),
		cmocka_unit_test(test_elf_version),
		cmocka_unit_test(test_elf_machine),
		cmocka_unit_test(test_elf_type),
		cmocka_unit_test(test_elf_no_phdrs),
		cmocka_unit_test(test_elf_phdr_table_truncated),
		cmocka_unit_test(test_elf_data_past_eof),
		cmocka_unit_test(test_elf_filesz_gt_memsz),
		cmocka_unit_test(test_elf_overlap),
		cmocka_unit_test(test_elf_no_data),
		cmocka_unit_test(test_elf_wraparound),
		cmocka_unit_test(test_dfuse_bad_crc),
		cmocka_unit_test(test_dfuse_suffix_fields),
		cmocka_unit_test(test_dfuse_prefix),
		cmocka_unit_test(test_dfuse_truncated_file),
		cmocka_unit_test(test_dfuse_target),
		cmocka_unit_test(test_dfuse_elements),
		cmocka_unit_test(test_dfuse_trailing_bytes),
		cmocka_unit_test(test_dfuse_overlap),
		cmocka_unit_test(test_dfuse_no_targets),
		cmocka_unit_test(test_file_missing),
		cmocka_unit_test(test_file_is_directory),
		cmocka_unit_test(test_file_unreadable),
		cmocka_unit_test(test_file_too_large),
		cmocka_unit_test(test_bin_too_large),
		cmocka_unit_test(test_bin_wraparound),
		cmocka_unit_test(test_bin_empty),
		cmocka_unit_test(test_address_rules),
		cmocka_unit_test(test_unknown_format),
		cmocka_unit_test(test_forced_format),
		cmocka_unit_test(test_err_may_be_null),
	};

	return cmocka_run_group_tests(tests, img_tmp_setup, img_tmp_teardown);
}

/* test_stm32g4.c - option-byte fields, encode/decode, identification. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fx/dfu_wire.h"
#include "g4_fix.h"
#include "fx/stm32g4.h"


static void test_factory_encode_matches_spec(void **state)
{
	struct fx_g4_ob ob;
	uint8_t raw[48];

	(void)state;
	fx_g4_ob_factory(&ob);
	fx_g4_ob_encode(&ob, 0, raw);
	assert_memory_equal(raw, fxt_g4_factory_ob1, 48);
	assert_int_equal(ob.word[0][0], FX_G4_OPTR_FACTORY);
}

static void test_decode_roundtrip(void **state)
{
	struct fx_g4_ob ob, ob2;
	struct fx_err err;
	uint8_t raw[48];

	(void)state;
	fx_err_clear(&err);
	memset(&ob, 0, sizeof(ob));
	assert_int_equal(fx_g4_ob_decode(&ob, 0, fxt_g4_factory_ob1, &err), 0);
	assert_int_equal(ob.word[0][0], 0xFFEFF8AAu);
	assert_int_equal(ob.word[0][3], 0xFF00FFFFu);
	fx_g4_ob_factory(&ob2);
	ob2.word[1][3] = 0xFF80FFFFu;
	fx_g4_ob_encode(&ob2, 1, raw);
	assert_int_equal(fx_g4_ob_decode(&ob, 1, raw, &err), 0);
	assert_memory_equal(ob.word[1], ob2.word[1], sizeof(ob.word[1]));
}

static void test_decode_bad_complement(void **state)
{
	struct fx_g4_ob ob;
	struct fx_err err;
	uint8_t raw[48];

	(void)state;
	fx_err_clear(&err);
	memcpy(raw, fxt_g4_factory_ob1, 48);
	raw[24 + 4] ^= 0x01; /* complement of slot 3 (0x1FFF7818) */
	fx_g4_ob_factory(&ob);
	ob.word[0][0] = 0x12345678u;
	assert_int_equal(fx_g4_ob_decode(&ob, 0, raw, &err), FX_E_PROTO);
	assert_string_equal(err.msg,
			    "option bytes at 0x1FFF7818: value 0xFF00FFFF, complement 0x00FF0001, expected 0x00FF0000");
	assert_int_equal(ob.word[0][0], 0x12345678u); /* untouched on failure */
	/* bank 2 slot 0 is unused: not checked */
	memcpy(raw, fxt_g4_factory_ob1, 48);
	memset(raw, 0xFF, 8);
	assert_int_equal(fx_g4_ob_decode(&ob, 1, raw, &err), 0);
	assert_int_equal(fx_g4_ob_decode(&ob, 2, raw, &err), FX_E_INVAL);
}

static void test_fields_table(void **state)
{
	static const char *const want[] = {
		"RDP", "BOR_LEV", "nRST_STOP", "nRST_STDBY", "nRST_SHDW",
		"IWDG_SW", "IWDG_STOP", "IWDG_STDBY", "WWDG_SW", "BFB2",
		"DBANK", "nBOOT1", "SRAM_PE", "CCMSRAM_RST", "nSWBOOT0",
		"nBOOT0", "NRST_MODE", "IRHEN", "PCROP1_STRT", "PCROP1_END",
		"PCROP_RDP", "WRP1A_STRT", "WRP1A_END", "WRP1B_STRT",
		"WRP1B_END", "SEC_SIZE1", "BOOT_LOCK", "PCROP2_STRT",
		"PCROP2_END", "WRP2A_STRT", "WRP2A_END", "WRP2B_STRT",
		"WRP2B_END", "SEC_SIZE2",
	};
	const struct fx_g4_ob_field *f;
	uint32_t used[2][6] = { { 0 } };
	struct fx_g4_ob ob;
	size_t i, n = 0;

	(void)state;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_non_null(fx_g4_ob_field_find(want[i]));
	for (f = fx_g4_ob_fields(); f->name; f++) {
		uint32_t m = (f->width >= 32 ? 0xFFFFFFFFu : (1u << f->width) - 1u)
			     << f->shift;

		assert_true(f->help && f->help[0]);
		assert_int_equal(used[f->bank][f->slot] & m, 0); /* no overlap */
		used[f->bank][f->slot] |= m;
		n++;
	}
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
	/* OPTR reserved bits 11, 15, 21, 31 are not fields */
	assert_int_equal(used[0][0], 0xFFFFFFFFu & ~((1u << 11) | (1u << 15) | (1u << 21) | (1u << 31)));
	assert_ptr_equal(fx_g4_ob_field_find("dbank"), fx_g4_ob_field_find("DBANK"));
	assert_null(fx_g4_ob_field_find("NOPE"));
	assert_null(fx_g4_ob_field_find(NULL));
	/* factory values decoded by name (spec 3.3 table) */
	fx_g4_ob_factory(&ob);
	assert_int_equal(fx_g4_ob_get(&ob, fx_g4_ob_field_find("RDP")), 0xAA);
	assert_int_equal(fx_g4_ob_get(&ob, fx_g4_ob_field_find("DBANK")), 1);
	assert_int_equal(fx_g4_ob_get(&ob, fx_g4_ob_field_find("BFB2")), 0);
	assert_int_equal(fx_g4_ob_get(&ob, fx_g4_ob_field_find("BOR_LEV")), 0);
	assert_int_equal(fx_g4_ob_get(&ob, fx_g4_ob_field_find("NRST_MODE")), 3);
	assert_int_equal(fx_g4_ob_get(&ob, fx_g4_ob_field_find("WRP1A_STRT")), 0x7F);
	assert_int_equal(fx_g4_ob_get(&ob, fx_g4_ob_field_find("WRP1A_END")), 0);
}

static void test_apply(void **state)
{
	struct fx_g4_ob ob;
	struct fx_err err;

	(void)state;
	fx_err_clear(&err);
	fx_g4_ob_factory(&ob);
	assert_int_equal(fx_g4_ob_apply(&ob, "DBANK=0", &err), 0);
	assert_int_equal(ob.word[0][0], 0xFFAFF8AAu); /* spec 3.3 example */
	fx_g4_ob_factory(&ob);
	assert_int_equal(fx_g4_ob_apply(&ob, "nSWBOOT0=0", &err), 0);
	assert_int_equal(fx_g4_ob_apply(&ob, "nboot0=0x0", &err), 0);
	assert_int_equal(ob.word[0][0], 0xF3EFF8AAu);
	assert_int_equal(fx_g4_ob_apply(&ob, "RDP=0xBB", &err), 0);
	assert_int_equal(ob.word[0][0], 0xF3EFF8BBu);
	assert_int_equal(fx_g4_rdp_level(ob.word[0][0]), 1);
	assert_int_equal(fx_g4_ob_apply(&ob, "WRP2A_END=5", &err), 0);
	assert_int_equal(ob.word[1][3], 0xFF05FFFFu);

	assert_int_equal(fx_g4_ob_apply(&ob, "DBANK=2", &err), FX_E_CONFIG);
	assert_string_equal(err.msg, "option byte 'DBANK': expected a number 0 .. 1, got '2'");
	assert_int_equal(fx_g4_ob_apply(&ob, "DBANK=", &err), FX_E_CONFIG);
	assert_int_equal(fx_g4_ob_apply(&ob, "DBANK=-1", &err), FX_E_CONFIG);
	assert_int_equal(fx_g4_ob_apply(&ob, "DBANK=yes", &err), FX_E_CONFIG);
	assert_string_equal(err.msg, "option byte 'DBANK': expected a number 0 .. 1, got 'yes'");
	assert_int_equal(fx_g4_ob_apply(&ob, "FOO=1", &err), FX_E_CONFIG);
	assert_string_equal(err.msg, "option byte 'FOO': unknown field (see 'fixturectl info')");
	assert_int_equal(fx_g4_ob_apply(&ob, "DBANK", &err), FX_E_CONFIG);
	assert_string_equal(err.msg, "option byte assignment 'DBANK': expected NAME=VALUE");
	assert_int_equal(fx_g4_ob_apply(&ob, "=1", &err), FX_E_CONFIG);
	assert_int_equal(ob.word[0][0], 0xF3EFF8BBu); /* failures change nothing */

	assert_int_equal(fx_g4_ob_set(&ob, fx_g4_ob_field_find("BOR_LEV"), 8, &err), FX_E_RANGE);
	assert_string_equal(err.msg, "option byte 'BOR_LEV': expected 0 .. 7, got 8");
}

static void test_geometry_ident(void **state)
{
	/* UID bytes as at 0x1FFF7590: UID0 0x00380021, UID1 0x31385104, UID2 0x20333043 */
	static const uint8_t uid[12] = { 0x21, 0x00, 0x38, 0x00, 0x04, 0x51, 0x38, 0x31,
					 0x43, 0x30, 0x33, 0x20 };
	char buf[16];

	(void)state;
	assert_int_equal(fx_g4_rdp_level(0xFFEFF8AA), 0);
	assert_int_equal(fx_g4_rdp_level(0xFFEFF8CC), 2);
	assert_int_equal(fx_g4_rdp_level(0xFFEFF800), 1);
	assert_true(fx_g4_dual_bank(0xFFEFF8AA));
	assert_false(fx_g4_dual_bank(0xFFAFF8AA));
	assert_int_equal(fx_g4_page_size(0xFFEFF8AA), 2048);
	assert_int_equal(fx_g4_page_size(0xFFAFF8AA), 4096);
	fx_g4_serial_from_uid(uid, buf, sizeof(buf));
	assert_string_equal(buf, "206B30643138"); /* 0x00380021 + 0x20333043, 0x3138 */
	fx_g4_bl_version(0xD5, buf, sizeof(buf));
	assert_string_equal(buf, "13.5");
	fx_g4_bl_version(0xD3, buf, sizeof(buf));
	assert_string_equal(buf, "13.3");
}

/* the named accessors of FLASH_OPTR and RDP (issue 10 item 2) */
static void test_optr_rdp_accessors(void **state)
{
	struct fx_g4_ob ob;

	(void)state;
	fx_g4_ob_factory(&ob);
	assert_int_equal(fx_g4_ob_optr(&ob), FX_G4_OPTR_FACTORY);
	assert_int_equal(fx_g4_ob_rdp(&ob), FX_G4_RDP_LEVEL0);
	assert_int_equal(fx_g4_ob_rdp_level(&ob), 0);
	assert_int_equal(fx_g4_ob_apply(&ob, "RDP=0xBB", NULL), 0);
	assert_int_equal(fx_g4_ob_rdp(&ob), FX_G4_RDP_LEVEL1);
	assert_int_equal(fx_g4_ob_rdp_level(&ob), 1);
	assert_int_equal(fx_g4_rdp_level(0xFFEFF8CCu), 2);
	assert_int_equal(fx_g4_rdp(0xFFEFF812u), 0x12);
}

/* spec 8: what boots */
static void test_vectors_plausible(void **state)
{
	static const uint8_t sram[8] = { 0x00, 0x00, 0x02, 0x20, 0xC1, 0x01, 0x00, 0x08 };
	static const uint8_t ccm[8] = { 0x00, 0x80, 0x00, 0x10, 0xC1, 0x01, 0x00, 0x08 };
	static const uint8_t even[8] = { 0x00, 0x00, 0x02, 0x20, 0xC0, 0x01, 0x00, 0x08 };
	static const uint8_t sp_hi[8] = { 0x04, 0x00, 0x02, 0x20, 0xC1, 0x01, 0x00, 0x08 };
	static const uint8_t ccm_hi[8] = { 0x04, 0x80, 0x00, 0x10, 0xC1, 0x01, 0x00, 0x08 };
	static const uint8_t outside[8] = { 0x00, 0x00, 0x02, 0x20, 0x01, 0x00, 0x08, 0x08 };
	uint8_t blank[8];

	(void)state;
	memset(blank, 0xFF, sizeof(blank));
	assert_true(fx_g4_vectors_plausible(sram, G4_FLASH_BASE, G4_FLASH_SIZE));
	assert_true(fx_g4_vectors_plausible(ccm, G4_FLASH_BASE, G4_FLASH_SIZE));
	assert_false(fx_g4_vectors_plausible(even, G4_FLASH_BASE, G4_FLASH_SIZE));
	assert_false(fx_g4_vectors_plausible(sp_hi, G4_FLASH_BASE, G4_FLASH_SIZE));
	assert_false(fx_g4_vectors_plausible(ccm_hi, G4_FLASH_BASE, G4_FLASH_SIZE));
	assert_false(fx_g4_vectors_plausible(outside, G4_FLASH_BASE, G4_FLASH_SIZE));
	assert_false(fx_g4_vectors_plausible(blank, G4_FLASH_BASE, G4_FLASH_SIZE));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_factory_encode_matches_spec),
		cmocka_unit_test(test_decode_roundtrip),
		cmocka_unit_test(test_decode_bad_complement),
		cmocka_unit_test(test_fields_table),
		cmocka_unit_test(test_apply),
		cmocka_unit_test(test_geometry_ident),
		cmocka_unit_test(test_optr_rdp_accessors),
		cmocka_unit_test(test_vectors_plausible),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

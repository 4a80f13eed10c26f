/* stm32g4.c - STM32G474 target knowledge as data (include/fx/stm32g4.h).
 * Field table from spec 3.3 (FLASH_OPTR bit map, RM0440 3.7.8) and spec 3.2
 * (option-byte organisation, RM0440 Table 11). Pure functions, no I/O. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fx/bytes.h"
#include "fx/dfu_wire.h"
#include "fx/stm32g4.h"

/* Slot numbers inside a 48-byte block (spec 3.2): 8 bytes each. */
enum {
	SLOT_OPTR = 0,
	SLOT_PCROP_SR = 1,
	SLOT_PCROP_ER = 2,
	SLOT_WRPA = 3,
	SLOT_WRPB = 4,
	SLOT_SEC = 5,
};

#define F(n, b, s, sh, w, h) { n, b, s, sh, w, h }

static const struct fx_g4_ob_field fields[] = {
	/* FLASH_OPTR, bank 1 slot 0 (spec 3.3) */
	F("RDP", 0, SLOT_OPTR, 0, 8, "read protection: 0xAA level 0, 0xCC level 2, else level 1"),
	F("BOR_LEV", 0, SLOT_OPTR, 8, 3, "brown-out reset level 0..4 (1.7 V .. 2.8 V)"),
	F("nRST_STOP", 0, SLOT_OPTR, 12, 1, "0 = reset on Stop entry"),
	F("nRST_STDBY", 0, SLOT_OPTR, 13, 1, "0 = reset on Standby entry"),
	F("nRST_SHDW", 0, SLOT_OPTR, 14, 1, "0 = reset on Shutdown entry"),
	F("IWDG_SW", 0, SLOT_OPTR, 16, 1, "1 = software independent watchdog"),
	F("IWDG_STOP", 0, SLOT_OPTR, 17, 1, "1 = IWDG runs in Stop"),
	F("IWDG_STDBY", 0, SLOT_OPTR, 18, 1, "1 = IWDG runs in Standby"),
	F("WWDG_SW", 0, SLOT_OPTR, 19, 1, "1 = software window watchdog"),
	F("BFB2", 0, SLOT_OPTR, 20, 1, "1 = dual-bank boot"),
	F("DBANK", 0, SLOT_OPTR, 22, 1, "1 = dual bank 2 KiB pages, 0 = single bank 4 KiB pages"),
	F("nBOOT1", 0, SLOT_OPTR, 23, 1, "with BOOT0=1: 1 = system memory, 0 = SRAM1"),
	F("SRAM_PE", 0, SLOT_OPTR, 24, 1, "1 = SRAM parity check disabled"),
	F("CCMSRAM_RST", 0, SLOT_OPTR, 25, 1, "1 = CCM SRAM not erased on system reset"),
	F("nSWBOOT0", 0, SLOT_OPTR, 26, 1, "1 = BOOT0 from pin PB8, 0 = from nBOOT0"),
	F("nBOOT0", 0, SLOT_OPTR, 27, 1, "BOOT0 = NOT nBOOT0 when nSWBOOT0 = 0"),
	F("NRST_MODE", 0, SLOT_OPTR, 28, 2, "1 input only, 2 GPIO, 3 bidirectional reset"),
	F("IRHEN", 0, SLOT_OPTR, 30, 1, "1 = internal reset holder enabled"),
	/* bank 1 protection words (spec 3.2) */
	F("PCROP1_STRT", 0, SLOT_PCROP_SR, 0, 15, "PCROP area 1 start (double words)"),
	F("PCROP1_END", 0, SLOT_PCROP_ER, 0, 15, "PCROP area 1 end (double words)"),
	F("PCROP_RDP", 0, SLOT_PCROP_ER, 31, 1, "1 = PCROP erased on RDP 1 -> 0"),
	F("WRP1A_STRT", 0, SLOT_WRPA, 0, 7, "write protection 1A first page"),
	F("WRP1A_END", 0, SLOT_WRPA, 16, 7, "write protection 1A last page"),
	F("WRP1B_STRT", 0, SLOT_WRPB, 0, 7, "write protection 1B first page"),
	F("WRP1B_END", 0, SLOT_WRPB, 16, 7, "write protection 1B last page"),
	F("SEC_SIZE1", 0, SLOT_SEC, 0, 8, "securable area bank 1 size (pages)"),
	F("BOOT_LOCK", 0, SLOT_SEC, 16, 1, "1 = boot forced from main flash"),
	/* bank 2 protection words */
	F("PCROP2_STRT", 1, SLOT_PCROP_SR, 0, 15, "PCROP area 2 start (double words)"),
	F("PCROP2_END", 1, SLOT_PCROP_ER, 0, 15, "PCROP area 2 end (double words)"),
	F("WRP2A_STRT", 1, SLOT_WRPA, 0, 7, "write protection 2A first page"),
	F("WRP2A_END", 1, SLOT_WRPA, 16, 7, "write protection 2A last page"),
	F("WRP2B_STRT", 1, SLOT_WRPB, 0, 7, "write protection 2B first page"),
	F("WRP2B_END", 1, SLOT_WRPB, 16, 7, "write protection 2B last page"),
	F("SEC_SIZE2", 1, SLOT_SEC, 0, 8, "securable area bank 2 size (pages)"),
	{ NULL, 0, 0, 0, 0, NULL },
};

const struct fx_g4_ob_field *fx_g4_ob_fields(void)
{
	return fields;
}

const struct fx_g4_ob_field *fx_g4_ob_field_find(const char *name)
{
	const struct fx_g4_ob_field *f;

	if (!name)
		return NULL;
	for (f = fields; f->name; f++)
		if (!strcasecmp(f->name, name))
			return f;
	return NULL;
}

static uint32_t field_mask(const struct fx_g4_ob_field *f)
{
	return f->width >= 32 ? 0xFFFFFFFFu : ((1u << f->width) - 1u);
}

uint32_t fx_g4_ob_get(const struct fx_g4_ob *ob, const struct fx_g4_ob_field *f)
{
	return (ob->word[f->bank][f->slot] >> f->shift) & field_mask(f);
}

int fx_g4_ob_set(struct fx_g4_ob *ob, const struct fx_g4_ob_field *f,
		 uint32_t value, struct fx_err *err)
{
	uint32_t m = field_mask(f);

	if (value & ~m)
		return fx_err_set(err, FX_E_RANGE,
				  "option byte '%s': expected 0 .. %u, got %u",
				  f->name, m, value);
	ob->word[f->bank][f->slot] &= ~(m << f->shift);
	ob->word[f->bank][f->slot] |= value << f->shift;
	return 0;
}

int fx_g4_ob_apply(struct fx_g4_ob *ob, const char *assignment,
		   struct fx_err *err)
{
	const struct fx_g4_ob_field *f;
	const char *eq = assignment ? strchr(assignment, '=') : NULL;
	char name[32];
	unsigned long long v;
	char *end;
	size_t n;

	if (!eq || eq == assignment)
		return fx_err_set(err, FX_E_CONFIG,
				  "option byte assignment '%s': expected NAME=VALUE",
				  assignment ? assignment : "");
	n = (size_t)(eq - assignment);
	if (n >= sizeof(name))
		return fx_err_set(err, FX_E_CONFIG,
				  "option byte '%.*s': unknown field", (int)n,
				  assignment);
	memcpy(name, assignment, n);
	name[n] = '\0';
	f = fx_g4_ob_field_find(name);
	if (!f)
		return fx_err_set(err, FX_E_CONFIG,
				  "option byte '%s': unknown field (see 'fixturectl info')",
				  name);
	errno = 0;
	if (!eq[1] || eq[1] == '-' || eq[1] == '+' || eq[1] == ' ')
		goto bad_value;
	v = strtoull(eq + 1, &end, 0);
	if (errno || *end || v > field_mask(f))
		goto bad_value;
	return fx_g4_ob_set(ob, f, (uint32_t)v, err);
bad_value:
	return fx_err_set(err, FX_E_CONFIG,
			  "option byte '%s': expected a number 0 .. %u, got '%s'",
			  f->name, field_mask(f), eq + 1);
}

static uint32_t ob_base(int bank)
{
	return bank ? G4_OB2_BASE : G4_OB1_BASE;
}

int fx_g4_ob_decode(struct fx_g4_ob *ob, int bank, const uint8_t raw[48],
		    struct fx_err *err)
{
	uint32_t v[6];
	int i;

	if (bank != 0 && bank != 1)
		return fx_err_set(err, FX_E_INVAL, "option-byte bank %d: expected 0 or 1",
				  bank);
	for (i = 0; i < 6; i++) {
		uint32_t val = fx_get_le32(raw + 8 * i);
		uint32_t cpl = fx_get_le32(raw + 8 * i + 4);

		/* 0x1FFFF800 is unused (spec 3.2): nothing to check there */
		if (bank == 1 && i == SLOT_OPTR) {
			v[i] = val;
			continue;
		}
		if (cpl != (uint32_t)~val)
			return fx_err_set(err, FX_E_PROTO,
					  "option bytes at 0x%08X: value 0x%08X, complement 0x%08X, expected 0x%08X",
					  ob_base(bank) + 8u * (uint32_t)i, val, cpl,
					  (uint32_t)~val);
		v[i] = val;
	}
	memcpy(ob->word[bank], v, sizeof(v));
	return 0;
}

void fx_g4_ob_encode(const struct fx_g4_ob *ob, int bank, uint8_t raw[48])
{
	int i;

	for (i = 0; i < 6; i++) {
		fx_put_le32(raw + 8 * i, ob->word[bank][i]);
		fx_put_le32(raw + 8 * i + 4, ~ob->word[bank][i]);
	}
}

void fx_g4_ob_factory(struct fx_g4_ob *ob)
{
	/* ST production values, spec 3.2 (bank 2 "as bank 1") */
	static const uint32_t b[6] = { FX_G4_OPTR_FACTORY, 0xFFFFFFFFu, 0x00FF0000u,
				       0xFF00FFFFu, 0xFF00FFFFu, 0xFF00FF00u };
	int i;

	for (i = 0; i < 6; i++) {
		ob->word[0][i] = b[i];
		ob->word[1][i] = b[i];
	}
	ob->word[1][SLOT_OPTR] = 0xFFFFFFFFu; /* unused */
}

uint32_t fx_g4_ob_optr(const struct fx_g4_ob *ob)
{
	return ob->word[0][SLOT_OPTR];
}

uint8_t fx_g4_rdp(uint32_t optr)
{
	return (uint8_t)(optr & 0xFFu);
}

uint8_t fx_g4_ob_rdp(const struct fx_g4_ob *ob)
{
	return fx_g4_rdp(fx_g4_ob_optr(ob));
}

int fx_g4_rdp_level(uint32_t optr)
{
	uint8_t rdp = fx_g4_rdp(optr);

	if (rdp == FX_G4_RDP_LEVEL0)
		return 0;
	if (rdp == FX_G4_RDP_LEVEL2)
		return 2;
	return 1;
}

int fx_g4_ob_rdp_level(const struct fx_g4_ob *ob)
{
	return fx_g4_rdp_level(fx_g4_ob_optr(ob));
}

bool fx_g4_vectors_plausible(const uint8_t vt[8], uint32_t flash_base,
			     uint32_t flash_size)
{
	uint32_t sp = fx_get_le32(vt), rv = fx_get_le32(vt + 4);
	bool sram = sp > G4_SRAM_BASE && sp <= G4_SRAM_TOP;
	bool ccm = sp > FX_G4_CCM_BASE && sp <= FX_G4_CCM_TOP;

	return sp % 4u == 0 && (sram || ccm) && (rv & 1u) &&
	       rv >= flash_base && rv - flash_base < flash_size;
}

bool fx_g4_dual_bank(uint32_t optr)
{
	return (optr >> 22) & 1u;
}

uint32_t fx_g4_page_size(uint32_t optr)
{
	return fx_g4_dual_bank(optr) ? 2048u : 4096u;
}

void fx_g4_serial_from_uid(const uint8_t uid[12], char *buf, size_t cap)
{
	uint32_t u0 = fx_get_le32(uid), u1 = fx_get_le32(uid + 4),
		 u2 = fx_get_le32(uid + 8);

	if (!cap)
		return;
	snprintf(buf, cap, "%08X%04X", (unsigned)(u0 + u2),
		 (unsigned)(u1 >> 16));
}

void fx_g4_bl_version(uint8_t id, char *buf, size_t cap)
{
	if (!cap)
		return;
	snprintf(buf, cap, "%u.%u", (unsigned)(id >> 4), (unsigned)(id & 0xF));
}

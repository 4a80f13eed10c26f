/* stm32g4.h - STM32G474 target knowledge as data (spec 2, 3): option-byte
 * fields by name, the value/complement encoding of the raw OB blocks, DBANK
 * geometry, identification. Pure functions, no I/O. */
#ifndef FX_FX_STM32G4_H
#define FX_FX_STM32G4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fx/err.h"

#define FX_G4_DEVICE_ID 0x469u /* DBGMCU_IDCODE G47x/G48x (spec 2.4) */
#define FX_G4_OPTR_FACTORY 0xFFEFF8AAu
#define FX_G4_FLASHSIZE_ADDR 0x1FFF75E0u /* flash size register, KiB (RM0440) */
/* FLASH_OPTR RDP byte (spec 3.3, 3.6): 0xAA level 0, 0xCC level 2 (permanent,
 * no bootloader), any other value level 1; 0xBB is what a station writes. */
#define FX_G4_RDP_LEVEL0 0xAAu
#define FX_G4_RDP_LEVEL1 0xBBu
#define FX_G4_RDP_LEVEL2 0xCCu
/* DS12288 Table 47 maxima (spec 4.1, guaranteed by design): the longest
 * the ROM's flash operations take; its bwPollTimeout reports whole ms,
 * rounded up (spec 8: 11 ms for a 1 KiB block that takes 10.46 ms). */
#define FX_G4_T_PROG_DW_MAX_NS 83350u /* t_prog, one 64-bit double word */
#define FX_G4_T_ME_MAX_US 24600u      /* t_ME, mass erase */
/* CCM SRAM (spec 8: a valid initial stack at 0x10000001-0x10008000) */
#define FX_G4_CCM_BASE 0x10000000u
#define FX_G4_CCM_TOP 0x10008000u

/* The two raw 48-byte OB blocks (bank 1 at 0x1FFF7800, bank 2 at
 * 0x1FFFF800), 6 slots each: value in [31:0], complement in [63:32]. */
struct fx_g4_ob {
	uint32_t word[2][6]; /* values (complements are derived) */
};

/* One named field (spec 3.3 and 3.2). */
struct fx_g4_ob_field {
	const char *name;   /* "DBANK", "nSWBOOT0", "RDP", "WRP1A_STRT", ... */
	uint8_t bank;       /* 0 or 1 */
	uint8_t slot;       /* 0..5 */
	uint8_t shift;
	uint8_t width;
	const char *help;   /* one line */
};

/* Table of all fields, NULL-name terminated. */
const struct fx_g4_ob_field *fx_g4_ob_fields(void);
/* Case-insensitive lookup; NULL if unknown. */
const struct fx_g4_ob_field *fx_g4_ob_field_find(const char *name);

uint32_t fx_g4_ob_get(const struct fx_g4_ob *ob, const struct fx_g4_ob_field *f);
/* FX_E_RANGE if value does not fit the field width. */
int fx_g4_ob_set(struct fx_g4_ob *ob, const struct fx_g4_ob_field *f,
		 uint32_t value, struct fx_err *err);
/* "NAME=VALUE" with decimal, 0x hex or, for RDP, 0xAA/0xBB/0xCC. */
int fx_g4_ob_apply(struct fx_g4_ob *ob, const char *assignment,
		   struct fx_err *err);

/* Raw 48-byte block <-> values. decode checks every complement: a bad pair
 * gives FX_E_PROTO naming the address. encode writes value+complement. */
int fx_g4_ob_decode(struct fx_g4_ob *ob, int bank, const uint8_t raw[48],
		    struct fx_err *err);
void fx_g4_ob_encode(const struct fx_g4_ob *ob, int bank, uint8_t raw[48]);
void fx_g4_ob_factory(struct fx_g4_ob *ob);

/* FLASH_OPTR, the value of bank 1 slot 0 at 0x1FFF7800 (spec 3.2). */
uint32_t fx_g4_ob_optr(const struct fx_g4_ob *ob);
/* The RDP byte of FLASH_OPTR, and its level (below). */
uint8_t fx_g4_ob_rdp(const struct fx_g4_ob *ob);
int fx_g4_ob_rdp_level(const struct fx_g4_ob *ob);
/* RDP level from the OPTR byte: 0 (0xAA), 2 (0xCC), else 1. */
int fx_g4_rdp_level(uint32_t optr);
/* The RDP byte of an OPTR value. */
uint8_t fx_g4_rdp(uint32_t optr);
/* Does vt (the first 8 bytes at the flash base: initial SP, reset vector)
 * look like an application's vector table (spec 8): SP word-aligned in
 * 0x20000001-0x20020000 or 0x10000001-0x10008000, reset vector odd and in
 * [flash_base, flash_base + flash_size)? */
bool fx_g4_vectors_plausible(const uint8_t vt[8], uint32_t flash_base,
			     uint32_t flash_size);
bool fx_g4_dual_bank(uint32_t optr);
/* Page size for the bank mode: 2048 (DBANK=1) or 4096 (DBANK=0). */
uint32_t fx_g4_page_size(uint32_t optr);
/* Serial string of the ROM bootloader from the 96-bit UID (spec 2.1):
 * "%08X%04X" of (UID0 + UID2, UID1 >> 16). buf >= 13 bytes. */
void fx_g4_serial_from_uid(const uint8_t uid[12], char *buf, size_t cap);
/* Bootloader version text from the ID byte at 0x1FFF6FFE (0xD5 -> "13.5"). */
void fx_g4_bl_version(uint8_t id, char *buf, size_t cap);

#endif

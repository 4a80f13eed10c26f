/* emu_flash.c - the memory map behind the DfuSe address pointer (spec 2.5):
 * main flash with its DBANK geometry (spec 3.1), OTP, system memory, the
 * engineering area with the UID, option bytes (emu_optbytes.c), SRAM.
 *
 * Physical model of the flash (spec 3.5, 8 "DBANK flipped"): every double
 * word remembers the bank mode that programmed it (its ECC layout). Read in
 * the other mode it comes back scrambled: the cells XOR a non-zero mask
 * derived from the address, so the old image never reads back (or, with
 * knob oldread=error, the read fails with errVERIFY). Erasing clears it.
 */
#include <string.h>

#include "emu_priv.h"
#include "fx/bytes.h"

#define SYSMEM_END 0x1FFF7000u          /* 28 KiB ROM (spec 2.4) */
#define ENGI_BASE 0x1FFF7400u           /* engineering bytes, UID */
#define ENGI_END 0x1FFF7800u
/* DECISION: spec 2.4/2.5 name no flash-size register; RM0440/CMSIS-G4
 * FLASHSIZE_BASE is 0x1FFF75E0 (16-bit, KiB) and PACKAGE_BASE 0x1FFF7500. */
#define FLASHSIZE_ADDR 0x1FFF75E0u
#define PACKAGE_ADDR 0x1FFF7500u
#define SYSMEM_MIRROR 0x1FFF8000u

bool emu_dual_bank(const struct fx_emu *e)
{
	return (e->opt[0][0] >> 22) & 1u; /* OPTR.DBANK (spec 3.3) */
}

uint32_t emu_page_size(const struct fx_emu *e)
{
	return emu_dual_bank(e) ? 2048u : 4096u;
}

int emu_rdp_level(const struct fx_emu *e)
{
	uint8_t rdp = (uint8_t)e->opt[0][0];

	return rdp == 0xAA ? 0 : rdp == 0xCC ? 2 : 1;
}

static uint8_t cur_tag(const struct fx_emu *e)
{
	return emu_dual_bank(e) ? EMU_TAG_DUAL : EMU_TAG_SINGLE;
}

/* Non-zero 64-bit mask for a double word read in the wrong mode. */
static uint64_t scramble_mask(uint32_t dw, uint8_t tag)
{
	uint64_t z = (uint64_t)dw * 0x9e3779b97f4a7c15ull + tag;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return z ? z : 0x5a5a5a5a5a5a5a5aull;
}

bool emu_flash_logical(const struct fx_emu *e, uint32_t off, uint8_t *buf,
		       size_t len, bool for_boot)
{
	uint8_t mode = cur_tag(e);
	bool ok = true;
	size_t i = 0;

	while (i < len) {
		uint32_t a = off + (uint32_t)i, dw = a / 8u;
		size_t k = 8u - a % 8u;
		uint8_t t = e->tag[dw];

		if (k > len - i)
			k = len - i;
		memcpy(buf + i, e->flash + a, k);
		if (t != EMU_TAG_ERASED && t != mode) {
			uint64_t m = scramble_mask(dw, t);
			size_t j;

			for (j = 0; j < k; j++)
				buf[i + j] ^= (uint8_t)(m >> (8 * ((a + j) % 8u)));
			if (e->knobs.dbank_read_error || for_boot)
				ok = false;
		}
		i += k;
	}
	return ok;
}

void emu_flash_program_raw(struct fx_emu *e, uint32_t off,
			   const uint8_t *data, size_t len)
{
	uint8_t mode = cur_tag(e);
	size_t i;

	memcpy(e->flash + off, data, len);
	for (i = off / 8u; i <= (off + len - 1) / 8u && len; i++)
		e->tag[i] = mode;
}

static void erase_range(struct fx_emu *e, uint32_t off, uint32_t len)
{
	memset(e->flash + off, 0xFF, len);
	memset(e->tag + off / 8u, EMU_TAG_ERASED, len / 8u);
}

void emu_flash_erase_all(struct fx_emu *e)
{
	erase_range(e, 0, G4_FLASH_SIZE);
}

/* Write protection (spec 6.1: writes and erases to WRP pages are silently
 * ignored, AN3156). Each WRPxy register: STRT[6:0], END[22:16]; an area
 * with STRT > END is off. DECISION: dual bank: WRP1A/B cover 2 KiB pages of
 * bank 1, WRP2A/B of bank 2; single bank: WRP1A/B cover 4 KiB pages of the
 * whole flash, WRP2 is unused. */
static bool wrp_area(uint32_t reg, uint32_t page)
{
	uint32_t strt = reg & 0x7Fu, end = (reg >> 16) & 0x7Fu;

	return strt <= end && page >= strt && page <= end;
}

static bool page_protected(const struct fx_emu *e, uint32_t off)
{
	if (emu_dual_bank(e)) {
		uint32_t bank = off / (G4_FLASH_SIZE / 2u);
		uint32_t page = (off % (G4_FLASH_SIZE / 2u)) / 2048u;

		return wrp_area(e->opt[bank][3], page) ||
		       wrp_area(e->opt[bank][4], page);
	}
	return wrp_area(e->opt[0][3], off / 4096u) ||
	       wrp_area(e->opt[0][4], off / 4096u);
}

static uint32_t scaled(const struct fx_emu *e, uint32_t us)
{
	double v = (double)us * e->knobs.erase_scale;

	return v < 1.0 ? 1u : (uint32_t)(v + 0.5);
}

static uint32_t ms_up(uint32_t us)
{
	return (us + 999u) / 1000u;
}

/* Page erase: the page holding addr in the current geometry (spec 8:
 * DBANK=0 clears the 4 KiB page holding the address). */
void emu_mem_erase_page(struct fx_emu *e, uint32_t addr, struct emu_result *r)
{
	uint32_t ps = emu_page_size(e), off;
	bool dual = emu_dual_bank(e);

	/* spec 1.5: under RDP 1 every erase is errVENDOR, whatever the
	 * target, so RDP is checked before the address */
	if (emu_rdp_level(e)) {
		r->status = DFU_STATUS_errVENDOR;
		r->early = true;
		return;
	}
	if (addr < G4_FLASH_BASE || addr - G4_FLASH_BASE >= G4_FLASH_SIZE) {
		r->status = DFU_STATUS_errTARGET;
		r->early = true;
		return;
	}
	off = (addr - G4_FLASH_BASE) & ~(ps - 1u);
	if (!page_protected(e, off))
		erase_range(e, off, ps);
	r->dev_us = scaled(e, dual ? EMU_T_PAGE_ERASE_2K : EMU_T_PAGE_ERASE_4K);
	r->poll_ms = (uint32_t)((double)(dual ? EMU_POLL_PAGE_2K : EMU_POLL_PAGE_4K) *
				e->knobs.erase_scale + 0.999);
	if (r->poll_ms < ms_up(r->dev_us))
		r->poll_ms = ms_up(r->dev_us);
}

void emu_mem_mass_erase(struct fx_emu *e, struct emu_result *r)
{
	uint32_t ps = emu_page_size(e), off;

	if (emu_rdp_level(e)) {
		r->status = DFU_STATUS_errVENDOR;
		r->early = true;
		return;
	}
	for (off = 0; off < G4_FLASH_SIZE; off += ps)
		if (!page_protected(e, off))
			erase_range(e, off, ps);
	r->dev_us = scaled(e, EMU_T_MASS_ERASE);
	r->poll_ms = (uint32_t)((double)EMU_POLL_MASS * e->knobs.erase_scale + 0.999);
	if (r->poll_ms < ms_up(r->dev_us))
		r->poll_ms = ms_up(r->dev_us);
}

/* Generated ROM content: a vector table, filler, the ID byte. */
static uint8_t sysmem_byte(uint32_t a)
{
	static const uint8_t vt[8] = { 0xF0, 0x3F, 0x00, 0x20,  /* SP */
				       0x05, 0x0C, 0xFF, 0x1F }; /* reset */
	uint32_t x;

	if (a == G4_BL_ID_ADDR)
		return 0xD5; /* V13.5 (spec 2.4) */
	if (a == G4_BL_ID_ADDR + 1)
		return 0xFF;
	if (a - G4_SYSMEM_BASE < 8)
		return vt[a - G4_SYSMEM_BASE];
	x = a * 2654435761u;
	return (uint8_t)(x >> 24);
}

static uint8_t engi_byte(const struct fx_emu *e, uint32_t a)
{
	if (a >= G4_UID_BASE && a < G4_UID_BASE + 12)
		return e->id.uid[a - G4_UID_BASE];
	if (a == FLASHSIZE_ADDR)
		return (uint8_t)((G4_FLASH_SIZE / 1024u) & 0xFF);
	if (a == FLASHSIZE_ADDR + 1)
		return (uint8_t)((G4_FLASH_SIZE / 1024u) >> 8);
	if (a == PACKAGE_ADDR)
		return 0x03; /* LQFP64 */
	return 0xFF;
}

static bool in(uint32_t a, uint32_t base, uint32_t size)
{
	return a >= base && a - base < size;
}

bool emu_mem_pointer_ok(const struct fx_emu *e, uint32_t addr)
{
	/* DECISION (spec 1.4, 8 "RDP level 1"): under RDP 1 Set Address
	 * fails with errVENDOR except at the option-byte blocks, which stay
	 * readable */
	if (emu_rdp_level(e))
		return emu_ob_block(addr) >= 0;
	return in(addr, G4_FLASH_BASE, G4_FLASH_SIZE) ||
	       in(addr, G4_SYSMEM_BASE, ENGI_END - G4_SYSMEM_BASE) ||
	       (in(addr, SYSMEM_MIRROR, SYSMEM_END - G4_SYSMEM_BASE) &&
		emu_dual_bank(e)) ||
	       in(addr, G4_OB1_BASE, G4_OB_BLOCK_SIZE) ||
	       in(addr, G4_OB2_BASE, G4_OB_BLOCK_SIZE) ||
	       in(addr, G4_SRAM_BASE, G4_SRAM_TOP - G4_SRAM_BASE);
}

uint8_t emu_mem_read(struct fx_emu *e, uint32_t addr, uint8_t *buf,
		     size_t len, size_t *n)
{
	uint32_t base, size, i;
	int ob;

	*n = 0;
	ob = in(addr, G4_OB1_BASE, G4_OB_BLOCK_SIZE) ? 0 :
	     in(addr, G4_OB2_BASE, G4_OB_BLOCK_SIZE) ? 1 : -1;
	if (ob >= 0) {
		/* spec 8: 48 raw bytes per bank, value + complement; readable
		 * under RDP 1. Spec 1.5: "read size must be equal to the
		 * option byte block size". DECISION: any other size, or a
		 * read that does not start at the block start, is errTARGET
		 * (the upload STALLs), with or without RDP */
		base = ob ? G4_OB2_BASE : G4_OB1_BASE;
		if (addr != base || len != G4_OB_BLOCK_SIZE)
			return DFU_STATUS_errTARGET;
		*n = G4_OB_BLOCK_SIZE;
		memcpy(buf, e->ob[ob], *n);
		return DFU_STATUS_OK;
	}
	/* spec 1.5: under RDP 1 every read is errVENDOR "whatever the
	 * target", checked before the address (the OB blocks above are
	 * the documented exemption, spec 8) */
	if (emu_rdp_level(e))
		return DFU_STATUS_errVENDOR;
	/* spec 1.5: flash, RAM and system memory take 2 to 2048 bytes per
	 * request (the upload also caps at wTransferSize) */
	if (len < 2)
		return DFU_STATUS_errTARGET;
	if (in(addr, G4_FLASH_BASE, G4_FLASH_SIZE)) {
		base = G4_FLASH_BASE;
		size = G4_FLASH_SIZE;
	} else if (in(addr, G4_SYSMEM_BASE, ENGI_END - G4_SYSMEM_BASE)) {
		base = G4_SYSMEM_BASE;
		size = ENGI_END - G4_SYSMEM_BASE;
		if (in(addr, SYSMEM_END, ENGI_BASE - SYSMEM_END)) {
			base = SYSMEM_END; /* OTP: its own region */
			size = G4_OTP_SIZE;
		} else if (addr >= ENGI_BASE) {
			base = ENGI_BASE;
			size = ENGI_END - ENGI_BASE;
		} else {
			size = SYSMEM_END - G4_SYSMEM_BASE;
		}
	} else if (in(addr, EMU_RAM_BASE, EMU_RAM_SIZE)) {
		base = EMU_RAM_BASE;
		size = EMU_RAM_SIZE;
	} else if (in(addr, SYSMEM_MIRROR, SYSMEM_END - G4_SYSMEM_BASE) &&
		   emu_dual_bank(e)) {
		base = SYSMEM_MIRROR; /* spec 2.4: mirrored in dual-bank mode */
		size = SYSMEM_END - G4_SYSMEM_BASE;
	} else {
		return DFU_STATUS_errTARGET;
	}
	size = base + size - addr;
	*n = len < size ? len : size;
	if (base == G4_FLASH_BASE) {
		if (!emu_flash_logical(e, addr - G4_FLASH_BASE, buf, *n, false)) {
			*n = 0;
			return DFU_STATUS_errVERIFY; /* knob oldread=error */
		}
	} else if (base == EMU_RAM_BASE) {
		memcpy(buf, e->ram + (addr - base), *n);
	} else if (base == SYSMEM_END) {
		memcpy(buf, e->otp + (addr - base), *n);
	} else if (base == ENGI_BASE) {
		for (i = 0; i < *n; i++)
			buf[i] = engi_byte(e, addr + i);
	} else if (base == SYSMEM_MIRROR) {
		for (i = 0; i < *n; i++)
			buf[i] = sysmem_byte(addr + i - (SYSMEM_MIRROR - G4_SYSMEM_BASE));
	} else {
		for (i = 0; i < *n; i++)
			buf[i] = sysmem_byte(addr + i);
	}
	return DFU_STATUS_OK;
}

static uint32_t prog_us(size_t len)
{
	uint64_t ndw = (len + 7u) / 8u;

	return (uint32_t)((ndw * EMU_T_DW_PROG_X10 + 9u) / 10u);
}

/* Start programming len bytes at off, whole double words only: false
 * (errADDRESS, nothing written) if misaligned, else the programming
 * time of all of them set in r. DECISION (spec 2.4, 6.1): 64-bit
 * granularity; a misaligned address or length is errADDRESS. */
/* Start of a double-word write of len bytes at off: the programming time,
 * and how many bytes of whole double words to write (*whole) plus whether
 * a padded last double word follows (*pad). Spec 2.4 / 8 "write tail": a
 * length that is not a multiple of 8 is padded with 0xFF (default),
 * dropped (acknowledged, the partial double word is not written) or
 * rejected (errADDRESS, as a misaligned start always is). */
static bool dw_begin(const struct fx_emu *e, uint32_t off, size_t len,
		     size_t *whole, bool *pad, struct emu_result *r)
{
	bool tail = len % 8u != 0;

	if (off % 8u || (tail && e->knobs.write_tail == FX_EMU_TAIL_REJECT)) {
		r->status = DFU_STATUS_errADDRESS;
		r->early = true;
		return false;
	}
	*whole = len & ~(size_t)7u;
	*pad = tail && e->knobs.write_tail == FX_EMU_TAIL_PAD;
	r->dev_us = prog_us(*whole + (*pad ? 8u : 0u));
	r->poll_ms = ms_up(r->dev_us);
	return true;
}

/* The double word i (a multiple of 8) of a write: from data, or the tail
 * completed with 0xFF into tmp. */
static const uint8_t *dw_at(const uint8_t *data, size_t len, size_t i,
			    uint8_t tmp[8])
{
	if (i + 8u <= len)
		return data + i;
	memset(tmp, 0xFF, 8);
	memcpy(tmp, data + i, len - i);
	return tmp;
}

/* Whether the double word at p is eight bytes of v. */
static bool dw_all(const uint8_t *p, uint8_t v)
{
	size_t j;

	for (j = 0; j < 8; j++)
		if (p[j] != v)
			return false;
	return true;
}

static void flash_write(struct fx_emu *e, uint32_t off, const uint8_t *data,
			size_t len, struct emu_result *r)
{
	uint8_t mode = cur_tag(e), tmp[8];
	size_t i, whole;
	bool pad;

	if (!dw_begin(e, off, len, &whole, &pad, r))
		return;
	for (i = 0; i < whole + (pad ? 8u : 0u); i += 8) {
		uint32_t a = off + (uint32_t)i, dw = a / 8u;
		const uint8_t *p = dw_at(data, len, i, tmp);
		bool zero = dw_all(p, 0);

		if (page_protected(e, a & ~(emu_page_size(e) - 1u)))
			continue; /* WRP: ignored without error (AN3156) */
		/* RM0440 3.3.7: programming a non-erased double word gives
		 * PROGERR, an all-zero write is the only exception.
		 * DECISION (spec 6.1): reported as errPROG; the double words
		 * before it stay programmed, as on the chip */
		if (e->tag[dw] != EMU_TAG_ERASED && !zero) {
			r->status = DFU_STATUS_errPROG;
			r->dev_us = prog_us(i);
			return;
		}
		memcpy(e->flash + a, p, 8);
		e->tag[dw] = mode;
	}
}

static void otp_write(struct fx_emu *e, uint32_t off, const uint8_t *data,
		      size_t len, struct emu_result *r)
{
	uint8_t tmp[8];
	size_t i, whole;
	bool pad;

	if (!dw_begin(e, off, len, &whole, &pad, r))
		return;
	for (i = 0; i < whole + (pad ? 8u : 0u); i += 8) {
		bool blank = dw_all(e->otp + off + i, 0xFF);

		/* RM0440: once any bit of an OTP double word is 0 it cannot
		 * be written again. DECISION: errWRITE (write-once area) */
		if (!blank) {
			r->status = DFU_STATUS_errWRITE;
			r->dev_us = prog_us(i);
			return;
		}
		memcpy(e->otp + off + i, dw_at(data, len, i, tmp), 8);
	}
}

void emu_mem_write(struct fx_emu *e, uint32_t addr, const uint8_t *data,
		   size_t len, struct emu_result *r)
{
	r->dev_us = EMU_T_CMD;
	r->poll_ms = EMU_POLL_CMD;
	r->status = DFU_STATUS_OK;
	if (emu_ob_block(addr) >= 0 || in(addr, G4_OB1_BASE, G4_OB_BLOCK_SIZE) ||
	    in(addr, G4_OB2_BASE, G4_OB_BLOCK_SIZE)) {
		emu_ob_write(e, addr, data, len, r);
		return;
	}
	/* spec 1.5: under RDP 1 every write is errVENDOR "whatever the
	 * target", checked before the address (OB writes: emu_ob_write) */
	if (emu_rdp_level(e)) {
		r->status = DFU_STATUS_errVENDOR;
		r->early = true;
		return;
	}
	if (in(addr, G4_FLASH_BASE, G4_FLASH_SIZE) &&
	    len <= G4_FLASH_BASE + G4_FLASH_SIZE - addr) {
		flash_write(e, addr - G4_FLASH_BASE, data, len, r);
	} else if (in(addr, G4_OTP_BASE, G4_OTP_SIZE) &&
		   len <= G4_OTP_BASE + G4_OTP_SIZE - addr) {
		otp_write(e, addr - G4_OTP_BASE, data, len, r);
	} else if (in(addr, EMU_RAM_BASE, EMU_RAM_SIZE) && len >= 2 &&
		   len <= EMU_RAM_BASE + EMU_RAM_SIZE - addr) {
		/* spec 1.5: 2 to 2048 bytes; spec 2.4: up to the end of
		 * SRAM1 */
		memcpy(e->ram + (addr - EMU_RAM_BASE), data, len);
	} else {
		/* outside memory, across a region's end, into ROM or the
		 * bootloader's RAM: errTARGET (spec 1.5, 6.1) */
		r->status = DFU_STATUS_errTARGET;
		r->early = true;
	}
}

int fx_emu_backdoor_flash_write(struct fx_emu *e, uint32_t addr,
				const uint8_t *data, size_t len)
{
	if (!len)
		return 0;
	if (addr < G4_FLASH_BASE || addr - G4_FLASH_BASE >= G4_FLASH_SIZE ||
	    len > G4_FLASH_BASE + G4_FLASH_SIZE - addr)
		return FX_E_RANGE;
	emu_flash_program_raw(e, addr - G4_FLASH_BASE, data, len);
	return 0;
}

int fx_emu_backdoor_flash_read(struct fx_emu *e, uint32_t addr, uint8_t *data,
			       size_t len)
{
	if (!len)
		return 0;
	if (addr < G4_FLASH_BASE || addr - G4_FLASH_BASE >= G4_FLASH_SIZE ||
	    len > G4_FLASH_BASE + G4_FLASH_SIZE - addr)
		return FX_E_RANGE;
	if (!emu_flash_logical(e, addr - G4_FLASH_BASE, data, len, false))
		return FX_E_VERIFY;
	return 0;
}

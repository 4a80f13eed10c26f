/* emu_optbytes.c - option bytes (spec 3.2, 3.3, 3.4, 2.6): two raw 48-byte
 * NVM blocks of six value/complement slots, the option registers loaded
 * from them (OBL), and the OB write through the DFU OB alt. */
#include <string.h>

#include "emu_priv.h"
#include "fx/bytes.h"

/* ST production values (spec 3.2). DECISION: the unused bank-2 slot 0
 * reads 0xFFFFFFFF; bank-2 slots take bank 1's values ("as bank 1"). */
static const uint32_t factory[2][6] = {
	{ 0xFFEFF8AAu, 0xFFFFFFFFu, 0x00FF0000u, 0xFF00FFFFu, 0xFF00FFFFu,
	  0xFF00FF00u },
	{ 0xFFFFFFFFu, 0xFFFFFFFFu, 0x00FF0000u, 0xFF00FFFFu, 0xFF00FFFFu,
	  0xFF00FF00u },
};

/* Implemented bits per slot (spec 3.2/3.3); every other bit is reserved
 * and reads 1 after the first reprogramming (RM0440 note, spec 8). */
static const uint32_t defined[2][6] = {
	/* OPTR: all but bits 11, 15, 21, 31 */
	{ 0x7FDF77FFu, 0x00007FFFu, 0x80007FFFu, 0x007F007Fu, 0x007F007Fu,
	  0x000100FFu },
	{ 0x00000000u, 0x00007FFFu, 0x00007FFFu, 0x007F007Fu, 0x007F007Fu,
	  0x000000FFu },
};

static void encode(const uint32_t v[6], uint8_t raw[G4_OB_BLOCK_SIZE])
{
	int i;

	for (i = 0; i < 6; i++) {
		fx_put_le32(raw + 8 * i, v[i]);
		fx_put_le32(raw + 8 * i + 4, ~v[i]);
	}
}

void emu_ob_factory(uint8_t raw[2][G4_OB_BLOCK_SIZE])
{
	encode(factory[0], raw[0]);
	encode(factory[1], raw[1]);
}

/* OBL: load the option registers from NVM. A slot whose complement does
 * not match sets OPTVERR and loads a safe value (RM0440 3.4.2).
 * DECISION: the safe value is all ones, i.e. RDP level 1 for OPTR. */
void emu_ob_reload(struct fx_emu *e)
{
	int b, i;

	for (b = 0; b < 2; b++) {
		for (i = 0; i < 6; i++) {
			uint32_t v = fx_get_le32(e->ob[b] + 8 * i);
			uint32_t c = fx_get_le32(e->ob[b] + 8 * i + 4);

			e->opt[b][i] = (v == (uint32_t)~c) ? v : 0xFFFFFFFFu;
		}
	}
}

int emu_ob_block(uint32_t addr)
{
	return addr == G4_OB1_BASE ? 0 : addr == G4_OB2_BASE ? 1 : -1;
}

/* PCROPx enabled: DECISION (the spec gives the factory values only:
 * STRT 0x7FFF > END 0x0000 = no area) an area exists when
 * PCROPx_STRT[14:0] <= PCROPx_END[14:0]. */
static bool pcrop_on(uint32_t strt, uint32_t end)
{
	return (strt & 0x7FFFu) <= (end & 0x7FFFu);
}

/* DNLOAD to the OB alt (spec 1.5, 8 "OB write"): only the whole 48-byte
 * block at its start address, complements right, else errTARGET and
 * nothing changes. Spec 1.5 "all options are erased before writing the
 * new values" and 3.4 (the option registers are programmed as a whole):
 * the block is programmed, and the other bank's block is reprogrammed
 * from its loaded option registers; reserved bits of both become 1
 * (spec 3.2). The option registers reload at the reset that follows.
 * Spec 3.3/3.5: DBANK "can only be written when PCROP1/2 is disabled".
 * DECISION: a block that changes DBANK while PCROP1 or PCROP2 is enabled
 * (as loaded, or PCROP1 as written) is refused like a bad block:
 * errTARGET, nothing written, no reset. */
void emu_ob_write(struct fx_emu *e, uint32_t addr, const uint8_t *data,
		  size_t len, struct emu_result *r)
{
	int b = emu_ob_block(addr), i;
	uint32_t v[6], o[6];

	r->early = true;
	if (emu_rdp_level(e)) {
		/* DECISION (spec 8: write under RDP 1 -> errVENDOR, AN3156
		 * table 4); only Read Unprotect lowers the level */
		r->status = DFU_STATUS_errVENDOR;
		return;
	}
	if (b < 0 || len != G4_OB_BLOCK_SIZE) {
		r->status = DFU_STATUS_errTARGET;
		return;
	}
	for (i = 0; i < 6; i++) {
		uint32_t val = fx_get_le32(data + 8 * i);
		uint32_t cpl = fx_get_le32(data + 8 * i + 4);

		if (val != (uint32_t)~cpl) {
			r->status = DFU_STATUS_errTARGET;
			return;
		}
		v[i] = (val & defined[b][i]) | ~defined[b][i];
	}
	if (b == 0 && ((v[0] ^ e->opt[0][0]) & (1u << 22)) &&
	    (pcrop_on(e->opt[0][1], e->opt[0][2]) ||
	     pcrop_on(e->opt[1][1], e->opt[1][2]) || pcrop_on(v[1], v[2]))) {
		r->status = DFU_STATUS_errTARGET;
		return;
	}
	encode(v, e->ob[b]);
	for (i = 0; i < 6; i++)
		o[i] = (e->opt[!b][i] & defined[!b][i]) | ~defined[!b][i];
	encode(o, e->ob[!b]);
	r->early = false;
	r->status = DFU_STATUS_OK;
	r->dev_us = EMU_T_OB_PROG;
	r->poll_ms = EMU_POLL_OB;
	r->reset = true;
}

int fx_emu_backdoor_ob(struct fx_emu *e, int bank, uint8_t *raw48, bool write)
{
	if (bank < 0 || bank > 1 || !raw48)
		return FX_E_INVAL;
	if (!write) {
		memcpy(raw48, e->ob[bank], G4_OB_BLOCK_SIZE);
		return 0;
	}
	memcpy(e->ob[bank], raw48, G4_OB_BLOCK_SIZE);
	emu_ob_reload(e);
	return 0;
}

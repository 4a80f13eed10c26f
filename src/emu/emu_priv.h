/* emu_priv.h - libfxemu internals shared by the src/emu files only.
 *
 * Written from ../shared/spec/stm32g474-bootloader.md (cited as "spec N.N").
 * Section 8 of the spec fixes every default this model uses where the chip's
 * behaviour is UNVERIFIED; each such choice is marked "DECISION" here or in
 * the file that implements it.
 */
#ifndef FX_EMU_EMU_PRIV_H
#define FX_EMU_EMU_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fx/emu.h"

#define EMU_NDW (G4_FLASH_SIZE / 8u)          /* flash double words */
#define EMU_RAM_BASE 0x20004000u              /* spec 2.4: BL uses the first 16 KiB */
/* spec 2.4: "RAM writes are valid from 0x20004000 (up to end of SRAM1)";
 * SRAM1 of the G474 is 80 KiB, 0x20000000-0x20013FFF */
#define EMU_SRAM1_END 0x20014000u
#define EMU_RAM_SIZE (EMU_SRAM1_END - EMU_RAM_BASE)
#define EMU_MAX_XFER 2048u                    /* largest wTransferSize knob */
#define EMU_NEVER UINT64_MAX
#define EMU_NUM_CLASS_REQ 7u                  /* DFU_DETACH .. DFU_ABORT */

/* What programmed a flash double word (the physical storage model behind
 * the DBANK field failure, spec 3.5 / 8 "DBANK flipped"). */
enum emu_tag {
	EMU_TAG_ERASED = 0,
	EMU_TAG_DUAL = 1,   /* written with DBANK=1 (64-bit + ECC) */
	EMU_TAG_SINGLE = 2, /* written with DBANK=0 (128-bit + 2 ECC) */
};

/* Spec 8 timing table, microseconds (before erase_scale). */
#define EMU_T_PAGE_ERASE_2K 22020u
#define EMU_T_PAGE_ERASE_4K 44040u
#define EMU_T_MASS_ERASE 22130u
#define EMU_T_DW_PROG_X10 817u   /* 81.7 us per double word */
#define EMU_T_OB_PROG 40000u
#define EMU_T_CMD 100u           /* set address, leave, other commands */
#define EMU_T_DROP_AFTER 10000u  /* OB write: off the bus 10 ms after DNBUSY */
#define EMU_T_APP_BOOT 50000u    /* reset -> application enumerated */
#define EMU_POLL_PAGE_2K 25u
#define EMU_POLL_PAGE_4K 50u
#define EMU_POLL_MASS 25u
#define EMU_POLL_OB 50u
#define EMU_POLL_CMD 1u

/* The DNLOAD waiting in dfuDNLOAD-SYNC for the GETSTATUS that runs it. */
struct emu_pending {
	uint16_t block;  /* wValue */
	uint16_t len;
	uint8_t data[EMU_MAX_XFER];
};

/* Outcome of one DfuSe operation (spec 1.4, 1.5). */
struct emu_result {
	uint32_t dev_us;   /* modelled device time */
	uint32_t poll_ms;  /* bwPollTimeout to report with dfuDNBUSY */
	uint8_t status;    /* DFU_STATUS_* after the operation */
	bool early;        /* error found before starting: reported by the
			    * first GETSTATUS instead of dfuDNBUSY */
	bool reset;        /* the chip resets when done (OB write, 0x92) */
};

struct fx_emu {
	const struct fx_clock *clk;
	struct fx_emu_knobs knobs;
	struct fx_emu_identity id;

	/* non-volatile (saved in the board file) */
	uint8_t *flash;          /* physical cells, G4_FLASH_SIZE */
	uint8_t *tag;            /* enum emu_tag per double word, EMU_NDW */
	uint8_t ob[2][G4_OB_BLOCK_SIZE]; /* raw OB NVM, value + complement */
	uint8_t otp[G4_OTP_SIZE];

	/* volatile */
	uint8_t *ram;            /* EMU_RAM_BASE .. EMU_SRAM1_END */
	uint32_t opt[2][6];      /* option registers as loaded (OBL) */
	bool power, boot0, nrst;
	uint32_t boots_since_power;

	/* the USB port */
	enum fx_emu_bus bus;
	uint32_t enum_count;
	uint64_t t_drop;         /* scheduled: bus -> NONE */
	uint64_t t_reset;        /* scheduled: chip reset, then boot */
	uint64_t t_enum;         /* scheduled: enumerate as enum_bus */
	enum fx_emu_bus enum_bus;
	bool mute;               /* dropping off: answers nothing any more */
	uint64_t bus_free_at;    /* previous transfer's completion */

	/* USB device / DFU state of the ROM */
	uint8_t config;
	uint8_t alt;
	uint8_t state;           /* enum dfu_state */
	uint8_t status;          /* enum dfu_status */
	uint32_t ptr;            /* DfuSe address pointer */
	uint64_t busy_until;     /* operation in progress until then */
	uint8_t after_state, after_status; /* state/status once not busy */
	bool have_pending;
	struct emu_pending pending;

	/* fault injection and statistics */
	uint32_t requests;
	uint32_t class_requests[EMU_NUM_CLASS_REQ]; /* per DFU bRequest */
	bool status_fault_armed;
	struct fx_emu_stats stats;
};

/* emu.c */
uint64_t emu_usb_us(size_t bytes);

/* emu_desc.c: descriptors of what is on the bus; 0 < length or FX_E_* */
int emu_desc_device(const struct fx_emu *e, uint8_t *buf, size_t cap);
int emu_desc_config(const struct fx_emu *e, uint8_t *buf, size_t cap);
/* GET_DESCRIPTOR (type << 8 | index): length, or FX_E_STALL */
int emu_desc_get(const struct fx_emu *e, uint16_t wvalue, uint8_t *buf,
		 size_t cap);
const char *emu_alt_name(const struct fx_emu *e, unsigned alt);
void emu_serial(const struct fx_emu *e, char buf[13]);
#define EMU_NUM_ALTS 3u

/* emu_dfu.c: one DFU class request at model time t; returns 0 or
 * FX_E_STALL, fills *actual, may schedule events. */
void emu_dfu_usb_reset(struct fx_emu *e);
void emu_dfu_settle(struct fx_emu *e, uint64_t t);
int emu_dfu_request(struct fx_emu *e, const struct fx_usb_setup *s,
		    uint8_t *data, size_t *actual, uint64_t t);

/* emu_flash.c: memory map seen through the DfuSe address pointer */
bool emu_dual_bank(const struct fx_emu *e);
uint32_t emu_page_size(const struct fx_emu *e);
int emu_rdp_level(const struct fx_emu *e);
/* Read: status DFU_STATUS_OK with *n bytes (cut at the region's end). */
uint8_t emu_mem_read(struct fx_emu *e, uint32_t addr, uint8_t *buf,
		     size_t len, size_t *n);
void emu_mem_write(struct fx_emu *e, uint32_t addr, const uint8_t *data,
		   size_t len, struct emu_result *r);
void emu_mem_erase_page(struct fx_emu *e, uint32_t addr, struct emu_result *r);
void emu_mem_mass_erase(struct fx_emu *e, struct emu_result *r);
bool emu_mem_pointer_ok(const struct fx_emu *e, uint32_t addr);
void emu_flash_erase_all(struct fx_emu *e);
/* logical view of flash (scrambled where the bank mode differs);
 * false if any double word is unreadable (dbank_read_error knob) */
bool emu_flash_logical(const struct fx_emu *e, uint32_t off, uint8_t *buf,
		       size_t len, bool for_boot);
void emu_flash_program_raw(struct fx_emu *e, uint32_t off,
			   const uint8_t *data, size_t len);

/* emu_optbytes.c */
void emu_ob_factory(uint8_t raw[2][G4_OB_BLOCK_SIZE]);
void emu_ob_reload(struct fx_emu *e);
/* DNLOAD to an OB address: checks, programs NVM (reset comes later) */
void emu_ob_write(struct fx_emu *e, uint32_t addr, const uint8_t *data,
		  size_t len, struct emu_result *r);
int emu_ob_block(uint32_t addr); /* 0, 1, or -1 if not a block start */

/* emu_board.c: pins, resets, boot selection, the modelled application */
void emu_process_events(struct fx_emu *e, uint64_t now);
void emu_schedule_reset(struct fx_emu *e, uint64_t t_drop, uint64_t t_reset);
void emu_schedule_leave(struct fx_emu *e, uint64_t t_drop);
bool emu_app_plausible(const struct fx_emu *e, uint32_t addr);
int emu_app_request(struct fx_emu *e, const struct fx_usb_setup *s,
		    uint8_t *data, size_t *actual, uint64_t done_at);

/* emu_knobs.c helpers */
const char *emu_request_name(int breq);

void emu_uid_from_seed(const void *seed, size_t n, uint8_t uid[12]);
struct fx_emu *emu_alloc(const struct fx_emu_identity *id,
			 const struct fx_clock *clk, struct fx_err *err);

#endif

/* emu.h - libfxemu: an emulated STM32G474xE (512 KiB) and its ROM bootloader
 * in USB DFU mode, written from ../shared/spec/stm32g474-bootloader.md (never
 * from src/dfu/). A product feature: demos, training, recipe dry-runs, CI.
 *
 * Model
 * - One struct fx_emu is one board: flash, option bytes, OTP, UID, the
 *   BOOT0/NRST pins, power, and what is enumerated on its USB port now.
 * - Time comes from the injected clock (virtual in tests, scaled real time
 *   in demos). The emulator NEVER sleeps: fx_emu_control() answers at once
 *   and says when, in model time, the control transfer completes
 *   (done_at_us). A caller that wants realism waits until then; the usbfs
 *   bridge holds the URB until then. Operations in progress (erase, program)
 *   finish at their modelled time; a GETSTATUS that arrives early completes
 *   when the operation does (spec 8 "Busy").
 * - Scheduled events (drop off the bus after an option-byte write, appear
 *   after the boot delay) happen when their time has come; every call first
 *   processes the events that are due at fx_clock_now().
 *
 * Decisions where the spec is UNVERIFIED or ambiguous (spec 8 defaults;
 * each cited again where src/emu implements it):
 * - Address map is by address, not by alt: alt 0 can reach flash, OTP,
 *   system memory (ID byte 0xD5 at 0x1FFF6FFE, UID at 0x1FFF7590, flash
 *   size 0x0200 KiB at 0x1FFF75E0 as in RM0440/CMSIS), option bytes and
 *   SRAM1 0x20004000-0x20013FFF (spec 2.4: "up to end of SRAM1";
 *   0x20000000-0x20003FFF is the bootloader's, SRAM2/CCM are not
 *   reachable: errTARGET). An upload is cut at the end of the region it
 *   starts in (a short frame ends the upload, state dfuIDLE).
 * - Request sizes (spec 1.5): flash, RAM and system memory uploads and RAM
 *   writes take 2..wTransferSize bytes (1 byte: errTARGET). The OB blocks
 *   are read and written only whole: 48 bytes at 0x1FFF7800/0x1FFFF800;
 *   any other size or offset is errTARGET (a read STALLs).
 * - Errors found before an operation starts (bad or unreachable address:
 *   errTARGET; RDP 1: errVENDOR; misaligned flash/OTP write: errADDRESS;
 *   malformed command, bad OB block/complements: errTARGET) come with the
 *   first GETSTATUS (dfuERROR, not dfuDNBUSY). Errors found while working
 *   (flash double word not erased: errPROG; OTP double word already
 *   written: errWRITE) come with the GETSTATUS after the operation.
 * - A failed UPLOAD STALLs and leaves dfuERROR with the reason (errTARGET,
 *   errVENDOR, errVERIFY for old-bank-mode content with oldread=error).
 *   Requests illegal in the state STALL with dfuERROR/errSTALLEDPKT (the
 *   first error's status is kept when already in dfuERROR); DNLOAD/UPLOAD
 *   longer than wTransferSize and wBlockNum 1 as well.
 * - RDP 1: Set Address fails with errVENDOR except at the two OB block
 *   addresses; reads of the OB blocks work; OB writes fail (errVENDOR):
 *   only Read Unprotect (0x92) lowers the level. Every other read, write
 *   and erase is errVENDOR, checked before the address (spec 1.5
 *   "whatever the target").
 * - DBANK (spec 3.3/3.5: writable only with PCROP1/2 disabled): an OB
 *   block that changes DBANK while PCROP1 or PCROP2 is enabled (loaded, or
 *   PCROP1 in the block; enabled = STRT <= END) is errTARGET, nothing is
 *   written, no reset.
 * - ABORT in dfuERROR is acknowledged and changes nothing (ST Cube, spec
 *   1.8); DETACH (OUT) is acknowledged and ignored in every state (spec
 *   1.1 "not meaningful"), though the functional descriptor advertises
 *   bitWillDetach. 0x92 without protection
 *   clears RAM and resets all the same.
 * - OB write, 0x92: DNBUSY (poll 50 ms / 75 ms), every later request gets
 *   FX_E_NODEV at the drop 10 ms later; reset when the work is done (40 ms
 *   / 62.13 ms), re-enumerate after boot_delay_us (ROM) or 50 ms (app).
 * - WRP pages (spec 6.1): writes and erases skip them silently; dual bank:
 *   WRP1x = bank-1 2 KiB pages, WRP2x = bank 2; single bank: WRP1x = 4 KiB
 *   pages of the whole flash.
 * - busy=lying reports a tenth of the true poll timeout (at least 1 ms)
 *   and answers an early GETSTATUS with dfuDNBUSY again. busy=stall
 *   (spec 4.2, L4 ROM "page erase stalls") reports half the true poll
 *   timeout for DfuSe commands (at least 1 ms; dfu-util's at-most-3-
 *   STALLs workaround completes; writes report the true one) and STALLs
 *   a class request that arrives while busy (GETSTATE excepted); the
 *   STALL changes nothing, the operation goes on, and the first
 *   GETSTATUS after it has finished answers normally.
 * - errors=late moves the "first GETSTATUS" errors above to the second
 *   GETSTATUS, after one dfuDNBUSY (spec 1.4 step 3 vs 5.1).
 *
 * Threads: an fx_emu is not thread-safe; callers serialise.
 * Errors: int functions return 0 or a negative FX_E_* (fx/err.h).
 */
#ifndef FX_FX_EMU_H
#define FX_FX_EMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fx/clock.h"
#include "fx/dfu_wire.h"
#include "fx/err.h"

struct fx_emu;

/* What the board shows on USB right now. */
enum fx_emu_bus {
	FX_EMU_BUS_NONE = 0, /* powered off, in reset, booting, or nothing runs */
	FX_EMU_BUS_DFU = 1,  /* ROM bootloader, 0483:df11 */
	FX_EMU_BUS_APP = 2,  /* the modelled application's custom HID device */
};

/* Faults to inject (SQLite TestFaultInject style). */
enum fx_emu_fault_kind {
	FX_EMU_FAULT_NONE = 0,
	FX_EMU_FAULT_STALL,   /* the request STALLs */
	FX_EMU_FAULT_TIMEOUT, /* the request is never answered (done_at = UINT64_MAX) */
	FX_EMU_FAULT_DROP,    /* the board drops off the bus at that request and
			       * stays off until power cycle / NRST pulse */
	FX_EMU_FAULT_STATUS,  /* the GETSTATUS reports fault_status + dfuERROR */
};

enum fx_emu_busy_mode {
	FX_EMU_BUSY_WAIT = 0, /* default: early GETSTATUS completes late */
	FX_EMU_BUSY_STALL,    /* L4-style: STALL GETSTATUS while busy */
	FX_EMU_BUSY_LYING,    /* F405-style: bwPollTimeout shorter than the work */
};

/* Write tail (spec 2.4, 8): a flash/OTP DNLOAD whose length is not a
 * multiple of 8. */
enum fx_emu_write_tail {
	FX_EMU_TAIL_PAD = 0, /* default: the last double word completed with 0xFF */
	FX_EMU_TAIL_DROP,    /* acknowledged, the partial double word not written */
	FX_EMU_TAIL_REJECT,  /* dfuERROR + errADDRESS */
};

/* Knobs: spec section 8 alternatives and fault injection. Not board state:
 * they are not saved in the board file. fx_emu_knobs_default() gives the
 * spec-8 defaults. */
struct fx_emu_knobs {
	uint16_t transfer_size;      /* 1024 (default) or 2048 */
	bool iproduct_stm32;         /* iProduct "STM32  BOOTLOADER" instead of "DFU in FS Mode" */
	bool alt0_constant;          /* alt0 string stays 256*02Kg when DBANK=0 */
	bool ob_reset_stall;         /* first GETSTATUS after an OB write STALLs (default: answers DNBUSY) */
	bool never_return;           /* after any reset the board never enumerates again */
	bool dbank_read_error;       /* old-mode content reads fail with errVERIFY (default: scrambled) */
	enum fx_emu_busy_mode busy;  /* see enum */
	bool malformed_stall;        /* malformed command / CLRSTATUS outside dfuERROR STALL */
	double erase_scale;          /* slow erase: multiply erase times (default 1.0) */
	uint32_t boot_delay_us;      /* reset released -> enumerated (default 400000) */
	/* fault injection: counting control requests from 1 since the board
	 * was created or loaded (fx_emu_request_count()) */
	uint32_t fault_nth;          /* 0 = off */
	enum fx_emu_fault_kind fault_kind;
	bool fault_persistent;       /* every request from the Nth on */
	uint8_t fault_status;        /* with FX_EMU_FAULT_STATUS */
	/* only count requests of this bRequest (DFU class), -1 = all */
	int fault_request;
	/* leave (spec 1.7): default jumps to the code at the pointer (the
	 * application starts whatever BOOT0 says; a pointer without a
	 * plausible vector table resets and boots per pins); true: every
	 * leave is a system reset that boots per pins (spec 6.2 step 9) */
	bool leave_reset;
	/* errors found before an operation starts (bad address, RDP 1,
	 * misaligned write, malformed command, bad OB block): default
	 * (early, spec 5.1) the first GETSTATUS reports dfuERROR; true
	 * (late, spec 1.4 step 3): the first GETSTATUS says dfuDNBUSY (poll
	 * 1 ms) and the one after it dfuERROR with the code */
	bool errors_late;
	enum fx_emu_write_tail write_tail; /* see enum */
};

void fx_emu_knobs_default(struct fx_emu_knobs *k);
/* Parse "key=value&key=value" (the query of an emu: URI) into k, starting
 * from whatever k holds. Keys: xfer, iproduct=dfu|stm32, alt0=dynamic|constant,
 * obreset=answer|stall, return=yes|never, oldread=scramble|error,
 * busy=wait|stall|lying, malformed=error|stall, erase_scale=F,
 * boot_delay_ms=N, fault=stall|timeout|drop|status, fault_nth=N,
 * fault_req=dnload|upload|getstatus|..., fault_persistent=0|1,
 * fault_status=N, leave=jump|reset, errors=early|late, tail=pad|drop|reject,
 * boot0=0|1
 * (initial pin level, default 1). A key may repeat; the last one wins.
 * Errors: FX_E_CONFIG with "knob 'x': ..." in err. */
int fx_emu_knobs_parse(struct fx_emu_knobs *k, bool *boot0, const char *query,
		       struct fx_err *err);

/* Identity of a new board. */
struct fx_emu_identity {
	uint8_t uid[12];   /* 96-bit UID as the bytes at 0x1FFF7590.. */
	uint16_t app_vid;  /* HID VID/PID of the modelled application */
	uint16_t app_pid;  /* default 1209:0001 */
};

/* A factory-fresh chip: flash erased, factory option bytes (OPTR
 * 0xFFEFF8AA, DBANK=1), OTP erased, powered off, BOOT0 low, NRST high.
 * id may be NULL (UID derived from a fixed seed). clk is borrowed and must
 * outlive the board. Free with fx_emu_free(). */
struct fx_emu *fx_emu_new(const struct fx_emu_identity *id,
			  const struct fx_clock *clk, struct fx_err *err);
/* Load a board file written by fx_emu_save(); a path that does not exist
 * gives a factory-fresh board (with a UID derived from the path). A
 * corrupted or foreign file: NULL with FX_E_FILE. First removes what a
 * save killed before its rename left: "PATH.tmp" unless a save holds it,
 * and the "PATH.tmp.XXXXXX" of earlier versions. */
struct fx_emu *fx_emu_load(const char *path, const struct fx_clock *clk,
			   struct fx_err *err);
/* The UID fx_emu_load() gives a new board for path (FNV-1a of the path
 * bytes, spread by splitmix64): for tools that create a fresh board with
 * another identity but the same chip UID. */
void fx_emu_uid_from_path(const char *path, uint8_t uid[12]);
/* Write the board state (flash, OB, OTP, UID, identity) atomically: into
 * "PATH.tmp" (one fixed name, so killed saves cannot pile up; flock'ed
 * while written), fsync, rename over PATH, fsync the directory. Errors:
 * FX_E_FILE (strerror in the message), FX_E_BUSY "board file 'PATH':
 * being saved by another process", FX_E_NOMEM. */
int fx_emu_save(const struct fx_emu *e, const char *path, struct fx_err *err);
void fx_emu_free(struct fx_emu *e);

void fx_emu_set_knobs(struct fx_emu *e, const struct fx_emu_knobs *k);
const struct fx_emu_knobs *fx_emu_get_knobs(const struct fx_emu *e);

/* Pins and power. A change takes effect at fx_clock_now(). NRST low holds
 * the chip in reset (bus NONE); its rising edge (or power-on with NRST
 * high) boots: BOOT0/nSWBOOT0/nBOOT0/nBOOT1 select ROM, flash or SRAM
 * (spec 2.3, no empty-flash check). ROM enumerates boot_delay_us later,
 * the application 50 ms later (spec 8), nothing for SRAM/blank. */
void fx_emu_set_power(struct fx_emu *e, bool on);
void fx_emu_set_boot0(struct fx_emu *e, bool high);
void fx_emu_set_nrst(struct fx_emu *e, bool high);
bool fx_emu_get_boot0(const struct fx_emu *e);

/* Process due events and say what is on the bus now. */
enum fx_emu_bus fx_emu_poll(struct fx_emu *e);
/* Counts enumerations: a new value = a new USB device (new devnum). */
uint32_t fx_emu_enum_count(struct fx_emu *e);
/* Model time of the next scheduled event, UINT64_MAX if none. */
uint64_t fx_emu_next_event_us(struct fx_emu *e);

/* Descriptors of the device currently on the bus (DFU or APP): the 18-byte
 * device descriptor, and the whole configuration blob (config, interfaces
 * per alt setting, functional/HID descriptor). Return the length or a
 * negative FX_E_NODEV when nothing is on the bus; FX_E_INVAL if cap is too
 * small. */
int fx_emu_device_descriptor(struct fx_emu *e, uint8_t *buf, size_t cap);
int fx_emu_config_descriptor(struct fx_emu *e, uint8_t *buf, size_t cap);

/* One USB control request to the device on the bus, standard (descriptors,
 * SET_INTERFACE, GET_STATUS ...) or class (DFU/DfuSe, HID SET_REPORT).
 * data: wLength bytes, read for OUT, filled for IN; *actual gets the bytes
 * transferred. *done_at_us gets the model time at which the transfer
 * completes (UINT64_MAX = never: the host times out).
 * Returns 0, FX_E_STALL (the request is STALLed), FX_E_NODEV (nothing on
 * the bus, or the board dropped off during the request). */
int fx_emu_control(struct fx_emu *e, const struct fx_usb_setup *setup,
		   uint8_t *data, size_t *actual, uint64_t *done_at_us);
/* USB port reset (libusb_reset_device / USBDEVFS_RESET) of the device on
 * the bus: same enumeration, DFU state back to dfuIDLE, alt 0, pointer
 * 0x08000000. FX_E_NODEV when nothing answers. */
int fx_emu_usb_reset(struct fx_emu *e);
/* Same as SET_INTERFACE(intf, alt) through control. */
int fx_emu_set_alt(struct fx_emu *e, uint8_t intf, uint8_t alt);
/* Control requests seen since creation/load (fault_nth counts these). */
uint32_t fx_emu_request_count(const struct fx_emu *e);

/* Back doors for tests, demos and failure analysis (not reachable over
 * USB): write raw content into flash as if programmed in the current bank
 * mode, read the logical view, read/write the raw 48-byte OB blocks
 * (bank 0 = 0x1FFF7800, 1 = 0x1FFFF800; the write reloads the option
 * registers without a reset). */
int fx_emu_backdoor_flash_write(struct fx_emu *e, uint32_t addr,
				const uint8_t *data, size_t len);
int fx_emu_backdoor_flash_read(struct fx_emu *e, uint32_t addr, uint8_t *data,
			       size_t len);
int fx_emu_backdoor_ob(struct fx_emu *e, int bank, uint8_t *raw48, bool write);
/* Current FLASH_OPTR value as loaded (what the chip runs with). */
uint32_t fx_emu_optr(const struct fx_emu *e);
void fx_emu_uid(const struct fx_emu *e, uint8_t uid[12]);

/* Statistics for benchmarks: total modelled device-busy time (erase,
 * program, OB, commands) and USB transfer time, in us. */
struct fx_emu_stats {
	uint64_t device_us;
	uint64_t usb_us;
	uint32_t requests;
	uint32_t resets;
};
void fx_emu_get_stats(const struct fx_emu *e, struct fx_emu_stats *st);

#endif

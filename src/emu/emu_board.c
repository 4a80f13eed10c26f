/* emu_board.c - power, NRST and BOOT0, resets, boot selection (spec 2.3),
 * scheduled bus events, and the modelled application (spec 8). */
#include <string.h>

#include "emu_priv.h"
#include "fx/bytes.h"
#include "fx/log.h"

#define LOG_PREFIX "emu"

#define OPTR_BFB2 (1u << 20)
#define OPTR_nBOOT1 (1u << 23)
#define OPTR_nSWBOOT0 (1u << 26)
#define OPTR_nBOOT0 (1u << 27)
#define SEC1R_BOOT_LOCK (1u << 16)

static void cancel_events(struct fx_emu *e)
{
	e->t_drop = e->t_reset = e->t_enum = EMU_NEVER;
	e->mute = false;
}

static void off_bus(struct fx_emu *e)
{
	e->bus = FX_EMU_BUS_NONE;
	e->mute = false;
}

/* Spec 8: a plausible vector table in the logical view at addr: initial
 * SP word-aligned in 0x20000001..0x20020000 (SRAM or its top) or in CCM
 * SRAM 0x10000001..0x10008000 (a valid stack on a real G474, which checks
 * nothing at boot), reset vector odd and inside flash. Content that does
 * not read back in the current bank mode (ECC errors) never boots. */
#define EMU_CCM_BASE 0x10000000u
#define EMU_CCM_TOP 0x10008000u
bool emu_app_plausible(const struct fx_emu *e, uint32_t addr)
{
	uint8_t vt[8];
	uint32_t sp, rv;

	if (addr < G4_FLASH_BASE || addr - G4_FLASH_BASE > G4_FLASH_SIZE - 8)
		return false;
	if (!emu_flash_logical(e, addr - G4_FLASH_BASE, vt, sizeof(vt), true))
		return false;
	sp = fx_get_le32(vt);
	rv = fx_get_le32(vt + 4);
	return sp % 4 == 0 &&
	       ((sp > G4_SRAM_BASE && sp <= G4_SRAM_TOP) ||
		(sp > EMU_CCM_BASE && sp <= EMU_CCM_TOP)) &&
	       (rv & 1u) && rv >= G4_FLASH_BASE &&
	       rv < G4_FLASH_BASE + G4_FLASH_SIZE;
}

/* Reset released at time t: sample the boot pins and option bits
 * (spec 2.3: no empty-flash check on G4). */
static void boot(struct fx_emu *e, uint64_t t)
{
	uint32_t optr = e->opt[0][0];
	bool boot0, flash_boot;

	off_bus(e);
	cancel_events(e);
	e->stats.resets++;
	e->boots_since_power++;
	if (e->knobs.never_return && e->boots_since_power > 1) {
		fx_log(FX_LOG_DEBUG, LOG_PREFIX, "reset: never returns (knob)");
		return;
	}
	boot0 = (optr & OPTR_nSWBOOT0) ? e->boot0 : !(optr & OPTR_nBOOT0);
	flash_boot = !boot0 || (e->opt[0][5] & SEC1R_BOOT_LOCK) ||
		     emu_rdp_level(e) == 2; /* level 2: no bootloader */
	if (flash_boot && (optr & OPTR_BFB2) && emu_dual_bank(e) &&
	    !(e->opt[0][5] & SEC1R_BOOT_LOCK)) {
		/* spec 2.3 (AN2606): with BFB2 the ROM runs first, jumps to
		 * bank 2 or bank 1 if either holds a valid image, else stays */
		if (emu_app_plausible(e, G4_FLASH_BASE + G4_FLASH_SIZE / 2) ||
		    emu_app_plausible(e, G4_FLASH_BASE)) {
			e->t_enum = t + EMU_T_APP_BOOT;
			e->enum_bus = FX_EMU_BUS_APP;
		} else {
			e->t_enum = t + e->knobs.boot_delay_us;
			e->enum_bus = FX_EMU_BUS_DFU;
		}
	} else if (flash_boot) {
		if (emu_app_plausible(e, G4_FLASH_BASE)) {
			e->t_enum = t + EMU_T_APP_BOOT;
			e->enum_bus = FX_EMU_BUS_APP;
		}
		/* else: a blank or corrupted board, nothing enumerates */
	} else if (optr & OPTR_nBOOT1) {
		e->t_enum = t + e->knobs.boot_delay_us;
		e->enum_bus = FX_EMU_BUS_DFU;
	}
	/* nBOOT1 = 0 with BOOT0 = 1: SRAM1 boot, nothing enumerates */
}

void emu_process_events(struct fx_emu *e, uint64_t now)
{
	for (;;) {
		uint64_t t = e->t_drop;

		if (e->t_reset < t)
			t = e->t_reset;
		if (e->t_enum < t)
			t = e->t_enum;
		if (t == EMU_NEVER || t > now)
			return;
		if (t == e->t_drop) {
			e->t_drop = EMU_NEVER;
			off_bus(e);
		} else if (t == e->t_reset) {
			e->t_reset = EMU_NEVER;
			emu_ob_reload(e); /* OBL_LAUNCH (spec 3.4) */
			boot(e, t);
		} else {
			e->t_enum = EMU_NEVER;
			e->bus = e->enum_bus;
			e->enum_count++;
			e->bus_free_at = t;
			emu_dfu_usb_reset(e);
			fx_log(FX_LOG_DEBUG, LOG_PREFIX, "enumerated as %s",
			       e->bus == FX_EMU_BUS_DFU ? "bootloader" : "application");
		}
	}
}

void emu_schedule_reset(struct fx_emu *e, uint64_t t_drop, uint64_t t_reset)
{
	e->mute = true;
	e->t_drop = t_drop;
	e->t_reset = t_reset;
	e->t_enum = EMU_NEVER;
}

/* Leave (spec 1.7): jump to [pointer + 4] when the pointer holds code,
 * else reset and boot per pins. DECISION: the jump is not a reset, so the
 * application starts even with BOOT0 held high, as AN3156 describes; knob
 * leave=reset makes every leave a system reset that boots per pins (the
 * reading of spec 6.2 step 9). */
void emu_schedule_leave(struct fx_emu *e, uint64_t t_drop)
{
	e->mute = true;
	e->t_drop = t_drop;
	if (e->knobs.never_return) {
		e->t_reset = e->t_enum = EMU_NEVER;
	} else if (!e->knobs.leave_reset && emu_app_plausible(e, e->ptr)) {
		e->t_reset = EMU_NEVER;
		e->t_enum = t_drop + EMU_T_APP_BOOT;
		e->enum_bus = FX_EMU_BUS_APP;
	} else {
		e->t_reset = t_drop;
		e->t_enum = EMU_NEVER;
	}
}

uint64_t fx_emu_next_event_us(struct fx_emu *e)
{
	uint64_t t = e->t_drop;

	if (e->t_reset < t)
		t = e->t_reset;
	if (e->t_enum < t)
		t = e->t_enum;
	return t;
}

enum fx_emu_bus fx_emu_poll(struct fx_emu *e)
{
	emu_process_events(e, fx_clock_now(e->clk));
	return e->bus;
}

uint32_t fx_emu_enum_count(struct fx_emu *e)
{
	emu_process_events(e, fx_clock_now(e->clk));
	return e->enum_count;
}

bool fx_emu_get_boot0(const struct fx_emu *e)
{
	return e->boot0;
}

void fx_emu_set_boot0(struct fx_emu *e, bool high)
{
	emu_process_events(e, fx_clock_now(e->clk));
	e->boot0 = high; /* latched at the next reset (spec 2.3) */
}

void fx_emu_set_power(struct fx_emu *e, bool on)
{
	uint64_t now = fx_clock_now(e->clk);

	emu_process_events(e, now);
	if (on == e->power)
		return;
	e->power = on;
	off_bus(e);
	cancel_events(e);
	if (!on) {
		memset(e->ram, 0, EMU_RAM_SIZE);
		return;
	}
	e->boots_since_power = 0;
	emu_ob_reload(e); /* power-on reset loads the option bytes */
	if (e->nrst)
		boot(e, now);
}

void fx_emu_set_nrst(struct fx_emu *e, bool high)
{
	uint64_t now = fx_clock_now(e->clk);

	emu_process_events(e, now);
	if (high == e->nrst)
		return;
	e->nrst = high;
	if (!e->power)
		return;
	if (!high) {
		off_bus(e); /* held in reset */
		cancel_events(e);
		return;
	}
	boot(e, now); /* a system reset: no option-byte reload on G4 */
}

/* The modelled application's custom HID device: SET_REPORT(feature 0x01,
 * "BOOT") jumps to the ROM without a reset (the software entry). Accepted
 * payloads: "BOOT", or the report ID followed by "BOOT" (hidraw style). */
int emu_app_request(struct fx_emu *e, const struct fx_usb_setup *s,
		    uint8_t *data, size_t *actual, uint64_t done_at)
{
	static const char boot_payload[] = FX_APP_BOOT_PAYLOAD;
	const size_t bl = sizeof(boot_payload) - 1;
	uint8_t type = s->bmRequestType & 0x60;
	int n;

	if (type == USB_TYPE_STANDARD) {
		if (s->bRequest == USB_REQ_GET_DESCRIPTOR &&
		    (s->bmRequestType & USB_DIR_IN)) {
			n = emu_desc_get(e, s->wValue, data, s->wLength);
			if (n < 0)
				return FX_E_STALL;
			*actual = (size_t)n;
			return 0;
		}
		if (s->bRequest == USB_REQ_SET_CONFIGURATION) {
			e->config = (uint8_t)s->wValue;
			return s->wValue > 1 ? FX_E_STALL : 0;
		}
		if (s->bRequest == USB_REQ_GET_STATUS && s->wLength >= 2) {
			/* bit 0 self powered for the device, as the
			 * configuration descriptor says (bmAttributes 0xC0) */
			fx_put_le16(data, (s->bmRequestType & 0x1f) ==
						  USB_RECIP_DEVICE ? 1 : 0);
			*actual = 2;
			return 0;
		}
		if (s->bRequest == USB_REQ_SET_INTERFACE)
			return s->wValue == 0 && s->wIndex == 0 ? 0 : FX_E_STALL;
		if (s->bRequest == USB_REQ_GET_CONFIGURATION && s->wLength >= 1) {
			data[0] = e->config;
			*actual = 1;
			return 0;
		}
		return FX_E_STALL;
	}
	if (type != USB_TYPE_CLASS || s->wIndex != 0)
		return FX_E_STALL;
	if (s->bRequest == 0x0A) /* SET_IDLE */
		return 0;
	if (s->bRequest == HID_REQ_SET_REPORT && !(s->bmRequestType & USB_DIR_IN) &&
	    s->wValue == ((HID_REPORT_TYPE_FEATURE << 8) | FX_APP_BOOT_REPORT_ID)) {
		bool ok = (s->wLength == bl && !memcmp(data, boot_payload, bl)) ||
			  (s->wLength == bl + 1 && data[0] == FX_APP_BOOT_REPORT_ID &&
			   !memcmp(data + 1, boot_payload, bl));

		if (!ok)
			return FX_E_STALL;
		fx_log(FX_LOG_DEBUG, LOG_PREFIX, "application: jump to bootloader");
		/* the app drops USB and jumps to the ROM: no reset, the ROM
		 * connects after its USB start-up (boot delay) */
		e->mute = true;
		e->t_drop = done_at;
		e->t_reset = EMU_NEVER;
		e->t_enum = done_at + e->knobs.boot_delay_us;
		e->enum_bus = FX_EMU_BUS_DFU;
		return 0;
	}
	return FX_E_STALL;
}

/* USB port reset of the device on the bus (libusb_reset_device): the ROM
 * restarts its USB stack, the DFU state machine returns to dfuIDLE. */
int fx_emu_usb_reset(struct fx_emu *e)
{
	emu_process_events(e, fx_clock_now(e->clk));
	if (e->bus == FX_EMU_BUS_NONE || e->mute)
		return FX_E_NODEV;
	if (e->bus == FX_EMU_BUS_DFU && e->state == dfuDNBUSY &&
	    e->busy_until > fx_clock_now(e->clk))
		e->bus_free_at = e->busy_until; /* flash work is not interrupted */
	if (e->bus == FX_EMU_BUS_DFU)
		emu_dfu_usb_reset(e);
	e->config = 0;
	return 0;
}

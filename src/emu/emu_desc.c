/* emu_desc.c - USB descriptors of what the board shows on the bus: the ST
 * ROM bootloader (spec 2.1, 2.2, 1.10, 6.1) or the modelled application's
 * custom HID device (spec 8). */
#include <stdio.h>
#include <string.h>

#include "emu_priv.h"
#include "fx/bytes.h"

#define STR_LANGID 0
#define STR_MANUFACTURER 1
#define STR_PRODUCT 2
#define STR_SERIAL 3
#define STR_ALT0 4 /* iInterface of alt N is STR_ALT0 + N */

#define APP_BCD 0x0100
#define APP_REPORT_DESC_LEN 23

/* HID report descriptor of the modelled application: one vendor-defined
 * feature report, ID 0x01, 4 bytes ("BOOT"). */
static const uint8_t app_report_desc[APP_REPORT_DESC_LEN] = {
	0x06, 0x00, 0xFF, /* Usage Page (Vendor 0xFF00) */
	0x09, 0x01,       /* Usage (1) */
	0xA1, 0x01,       /* Collection (Application) */
	0x85, FX_APP_BOOT_REPORT_ID, /* Report ID */
	0x09, 0x02,       /* Usage (2) */
	0x15, 0x00,       /* Logical Minimum 0 */
	0x26, 0xFF, 0x00, /* Logical Maximum 255 */
	0x75, 0x08,       /* Report Size 8 */
	0x95, 0x04,       /* Report Count 4 */
	0xB1, 0x02,       /* Feature (Data, Var, Abs) */
	0xC0,             /* End Collection */
};

/* Spec 2.2 strings; alt0 follows DBANK (spec 8: "alt0 string with
 * DBANK=0" defaults to 128*04Kg, knob alt0=constant keeps 256*02Kg). */
const char *emu_alt_name(const struct fx_emu *e, unsigned alt)
{
	switch (alt) {
	case 0:
		if (!emu_dual_bank(e) && !e->knobs.alt0_constant)
			return "@Internal Flash   /0x08000000/128*04Kg";
		return "@Internal Flash   /0x08000000/256*02Kg";
	case 1:
		return "@Option Bytes   /0x1FFF7800/01*048 e/0x1FFFF800/01*048 e";
	case 2:
		return "@OTP Memory   /0x1FFF7000/01*1024 e";
	default:
		return NULL;
	}
}

/* Spec 2.1: "%08X%04X" of (UID0 + UID2, UID1[31:16]). */
void emu_serial(const struct fx_emu *e, char buf[13])
{
	uint32_t u0 = fx_get_le32(e->id.uid);
	uint32_t u1 = fx_get_le32(e->id.uid + 4);
	uint32_t u2 = fx_get_le32(e->id.uid + 8);

	snprintf(buf, 13, "%08X%04X", (unsigned)(u0 + u2),
		 (unsigned)(u1 >> 16));
}

int emu_desc_device(const struct fx_emu *e, uint8_t *buf, size_t cap)
{
	bool app = e->bus == FX_EMU_BUS_APP;

	if (e->bus == FX_EMU_BUS_NONE)
		return FX_E_NODEV;
	if (cap < 18)
		return FX_E_INVAL;
	buf[0] = 18;
	buf[1] = USB_DT_DEVICE;
	fx_put_le16(buf + 2, 0x0200);   /* bcdUSB 2.00, full speed */
	buf[4] = 0;                     /* class per interface */
	buf[5] = 0;
	buf[6] = 0;
	buf[7] = 64;                    /* bMaxPacketSize0 */
	fx_put_le16(buf + 8, app ? e->id.app_vid : ST_DFU_VID);
	fx_put_le16(buf + 10, app ? e->id.app_pid : ST_DFU_PID);
	fx_put_le16(buf + 12, app ? APP_BCD : 0x0200); /* spec 2.1 */
	buf[14] = STR_MANUFACTURER;
	buf[15] = STR_PRODUCT;
	buf[16] = STR_SERIAL;
	buf[17] = 1;                    /* one configuration */
	return 18;
}

static void put_config_head(uint8_t *p, uint16_t total, uint8_t nintf)
{
	p[0] = 9;
	p[1] = USB_DT_CONFIG;
	fx_put_le16(p + 2, total);
	p[4] = nintf;
	p[5] = 1;    /* bConfigurationValue */
	p[6] = 0;    /* iConfiguration */
	p[7] = 0xC0; /* self powered */
	p[8] = 50;   /* 100 mA */
}

/* The DFU functional descriptor (spec 1.10, 6.1). */
static void put_dfu_func(const struct fx_emu *e, uint8_t *p)
{
	p[0] = 9;
	p[1] = USB_DT_DFU_FUNCTIONAL;
	p[2] = DFU_ATTR_CAN_DNLOAD | DFU_ATTR_CAN_UPLOAD | DFU_ATTR_WILL_DETACH;
	fx_put_le16(p + 3, 255);        /* wDetachTimeout */
	fx_put_le16(p + 5, e->knobs.transfer_size);
	fx_put_le16(p + 7, DFU_VERSION_DFUSE);
}

int emu_desc_config(const struct fx_emu *e, uint8_t *buf, size_t cap)
{
	uint8_t *p = buf;
	unsigned alt;
	size_t total;

	if (e->bus == FX_EMU_BUS_NONE)
		return FX_E_NODEV;
	if (e->bus == FX_EMU_BUS_APP) {
		total = 9 + 9 + 9 + 7;
		if (cap < total)
			return FX_E_INVAL;
		put_config_head(p, (uint16_t)total, 1);
		p += 9;
		/* interface 0: HID, no boot subclass, one interrupt IN ep */
		p[0] = 9; p[1] = USB_DT_INTERFACE; p[2] = 0; p[3] = 0; p[4] = 1;
		p[5] = USB_CLASS_HID; p[6] = 0; p[7] = 0; p[8] = 0;
		p += 9;
		p[0] = 9; p[1] = USB_DT_HID;
		fx_put_le16(p + 2, 0x0111);
		p[4] = 0; p[5] = 1; p[6] = 0x22;
		fx_put_le16(p + 7, APP_REPORT_DESC_LEN);
		p += 9;
		p[0] = 7; p[1] = USB_DT_ENDPOINT; p[2] = 0x81; p[3] = 0x03;
		fx_put_le16(p + 4, 64);
		p[6] = 10;
		return (int)total;
	}
	total = 9 + 9 * EMU_NUM_ALTS + 9;
	if (cap < total)
		return FX_E_INVAL;
	put_config_head(p, (uint16_t)total, 1);
	p += 9;
	for (alt = 0; alt < EMU_NUM_ALTS; alt++) {
		p[0] = 9;
		p[1] = USB_DT_INTERFACE;
		p[2] = 0;                     /* bInterfaceNumber */
		p[3] = (uint8_t)alt;          /* bAlternateSetting */
		p[4] = 0;                     /* no endpoints besides ep0 */
		p[5] = USB_CLASS_APP_SPEC;
		p[6] = DFU_SUBCLASS;
		p[7] = DFU_PROTOCOL_DFU_MODE;
		p[8] = (uint8_t)(STR_ALT0 + alt);
		p += 9;
	}
	/* after the last alt: libusb gives it as that alt's `extra` */
	put_dfu_func(e, p);
	return (int)total;
}

static int put_string(const char *s, uint8_t *buf, size_t cap)
{
	uint8_t tmp[255];
	size_t n = strlen(s), i;

	if (n > 126)
		n = 126;
	tmp[0] = (uint8_t)(2 + 2 * n);
	tmp[1] = USB_DT_STRING;
	for (i = 0; i < n; i++) {
		tmp[2 + 2 * i] = (uint8_t)s[i];
		tmp[3 + 2 * i] = 0;
	}
	n = tmp[0] < cap ? tmp[0] : cap;
	memcpy(buf, tmp, n);
	return (int)n;
}

static int copy_out(const uint8_t *src, size_t len, uint8_t *buf, size_t cap)
{
	size_t n = len < cap ? len : cap;

	memcpy(buf, src, n);
	return (int)n;
}

int emu_desc_get(const struct fx_emu *e, uint16_t wvalue, uint8_t *buf,
		 size_t cap)
{
	uint8_t type = (uint8_t)(wvalue >> 8), index = (uint8_t)wvalue;
	bool app = e->bus == FX_EMU_BUS_APP;
	uint8_t tmp[128];
	char serial[13];
	const char *s;
	int n;

	switch (type) {
	case USB_DT_DEVICE:
		n = emu_desc_device(e, tmp, sizeof(tmp));
		return n < 0 ? FX_E_STALL : copy_out(tmp, (size_t)n, buf, cap);
	case USB_DT_CONFIG:
		if (index != 0)
			return FX_E_STALL;
		n = emu_desc_config(e, tmp, sizeof(tmp));
		return n < 0 ? FX_E_STALL : copy_out(tmp, (size_t)n, buf, cap);
	case USB_DT_STRING:
		switch (index) {
		case STR_LANGID:
			tmp[0] = 4;
			tmp[1] = USB_DT_STRING;
			fx_put_le16(tmp + 2, 0x0409);
			return copy_out(tmp, 4, buf, cap);
		case STR_MANUFACTURER:
			s = app ? "fixturectl" : "STMicroelectronics";
			break;
		case STR_PRODUCT:
			if (app)
				s = "fixturectl demo application";
			else
				s = e->knobs.iproduct_stm32 ? "STM32  BOOTLOADER"
							    : "DFU in FS Mode";
			break;
		case STR_SERIAL:
			emu_serial(e, serial);
			s = serial;
			break;
		default:
			if (app || index >= STR_ALT0 + EMU_NUM_ALTS)
				return FX_E_STALL;
			s = emu_alt_name(e, index - STR_ALT0);
			break;
		}
		return put_string(s, buf, cap);
	case 0x21: /* DFU functional (ROM) or HID (application) */
		if (app) {
			n = emu_desc_config(e, tmp, sizeof(tmp));
			return copy_out(tmp + 18, 9, buf, cap);
		}
		put_dfu_func(e, tmp);
		return copy_out(tmp, 9, buf, cap);
	case 0x22: /* HID report descriptor */
		if (!app)
			return FX_E_STALL;
		return copy_out(app_report_desc, sizeof(app_report_desc), buf, cap);
	default:
		return FX_E_STALL; /* device qualifier etc.: full-speed only */
	}
}

/* test_emu_desc.c - the emulated ROM's USB identity (spec 2.1, 2.2, 1.10,
 * 6.1) through raw standard requests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "emu_fix.h"
#include "fx/bytes.h"
#include "fx/dfu_wire.h"

#define RT_DEV_IN (USB_DIR_IN | USB_TYPE_STANDARD | USB_RECIP_DEVICE)
#define RT_INTF_OUT (USB_TYPE_STANDARD | USB_RECIP_INTERFACE)

static int get_desc(struct fxt_emu *f, uint8_t type, uint8_t idx,
		    uint8_t *buf, uint16_t len, size_t *n)
{
	return fxt_ctl(f, RT_DEV_IN, USB_REQ_GET_DESCRIPTOR,
		       (uint16_t)(type << 8 | idx), idx ? 0x0409 : 0, buf, len, n);
}

/* string descriptor -> ASCII */
static void get_string(struct fxt_emu *f, uint8_t idx, char *out, size_t cap)
{
	uint8_t raw[255];
	size_t n = 0, i, o = 0;

	assert_int_equal(get_desc(f, USB_DT_STRING, idx, raw, 255, &n), 0);
	assert_true(n >= 2);
	assert_int_equal(raw[0], n);
	assert_int_equal(raw[1], USB_DT_STRING);
	for (i = 2; i + 1 < n && o + 1 < cap; i += 2) {
		assert_int_equal(raw[i + 1], 0);
		out[o++] = (char)raw[i];
	}
	out[o] = '\0';
}

static void test_device_descriptor(void **state)
{
	static const uint8_t want[18] = {
		18, 1, 0x00, 0x02, 0, 0, 0, 64, 0x83, 0x04, 0x11, 0xDF,
		0x00, 0x02, 1, 2, 3, 1,
	};
	struct fxt_emu f;
	uint8_t buf[64];
	size_t n;

	(void)state;
	fxt_emu_init(&f, NULL);
	assert_int_equal(fx_emu_poll(f.e), FX_EMU_BUS_DFU);
	assert_int_equal(get_desc(&f, USB_DT_DEVICE, 0, buf, 64, &n), 0);
	assert_int_equal(n, 18);
	assert_memory_equal(buf, want, 18);
	/* short read: the first 8 bytes, like a host's first request */
	assert_int_equal(get_desc(&f, USB_DT_DEVICE, 0, buf, 8, &n), 0);
	assert_int_equal(n, 8);
	assert_int_equal(fx_emu_device_descriptor(f.e, buf, 18), 18);
	assert_memory_equal(buf, want, 18);
	assert_int_equal(fx_emu_device_descriptor(f.e, buf, 17), FX_E_INVAL);
	fxt_emu_release(&f);
}

static void test_config_descriptor(void **state)
{
	struct fxt_emu f;
	uint8_t buf[256], api[256];
	size_t n;
	int i;

	(void)state;
	fxt_emu_init(&f, NULL);
	assert_int_equal(get_desc(&f, USB_DT_CONFIG, 0, buf, 9, &n), 0);
	assert_int_equal(n, 9);
	assert_int_equal(fx_get_le16(buf + 2), 45);
	assert_int_equal(buf[4], 1); /* one interface */
	assert_int_equal(get_desc(&f, USB_DT_CONFIG, 0, buf, 255, &n), 0);
	assert_int_equal(n, 45);
	for (i = 0; i < 3; i++) {
		const uint8_t *p = buf + 9 + 9 * i;

		assert_int_equal(p[0], 9);
		assert_int_equal(p[1], USB_DT_INTERFACE);
		assert_int_equal(p[2], 0);
		assert_int_equal(p[3], i);
		assert_int_equal(p[4], 0);
		assert_int_equal(p[5], 0xFE);
		assert_int_equal(p[6], 0x01);
		assert_int_equal(p[7], 0x02);
		assert_int_equal(p[8], 4 + i);
	}
	/* functional descriptor {9, 0x21, 0x0B, 255, 1024, 0x011A} (spec 6.1) */
	{
		static const uint8_t fd[9] = { 9, 0x21, 0x0B, 0xFF, 0x00, 0x00,
					       0x04, 0x1A, 0x01 };

		assert_memory_equal(buf + 36, fd, 9);
		assert_int_equal(get_desc(&f, 0x21, 0, api, 9, &n), 0);
		assert_int_equal(n, 9);
		assert_memory_equal(api, fd, 9);
	}
	assert_int_equal(fx_emu_config_descriptor(f.e, api, sizeof(api)), 45);
	assert_memory_equal(api, buf, 45);
	assert_int_equal(fx_emu_config_descriptor(f.e, api, 44), FX_E_INVAL);
	fxt_emu_release(&f);
}

static void test_strings(void **state)
{
	struct fxt_emu f;
	uint8_t raw[8];
	char s[256];
	size_t n;

	(void)state;
	fxt_emu_init(&f, NULL);
	assert_int_equal(get_desc(&f, USB_DT_STRING, 0, raw, 255, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(raw[2], 0x09);
	assert_int_equal(raw[3], 0x04);
	get_string(&f, 1, s, sizeof(s));
	assert_string_equal(s, "STMicroelectronics");
	get_string(&f, 2, s, sizeof(s));
	assert_string_equal(s, "DFU in FS Mode");
	get_string(&f, 4, s, sizeof(s));
	assert_string_equal(s, "@Internal Flash   /0x08000000/256*02Kg");
	get_string(&f, 5, s, sizeof(s));
	assert_string_equal(s, "@Option Bytes   /0x1FFF7800/01*048 e/0x1FFFF800/01*048 e");
	get_string(&f, 6, s, sizeof(s));
	assert_string_equal(s, "@OTP Memory   /0x1FFF7000/01*1024 e");
	assert_int_equal(get_desc(&f, USB_DT_STRING, 7, raw, 255, &n), FX_E_STALL);
	/* device qualifier: a full-speed-only device STALLs */
	assert_int_equal(get_desc(&f, 6, 0, raw, 10, &n), FX_E_STALL);
	fxt_emu_release(&f);
}

/* Spec 2.1: "%08X%04X" of (UID0 + UID2, UID1[31:16]) */
static void test_serial_from_uid(void **state)
{
	struct fx_emu_identity id = {
		.uid = { 0x01, 0x00, 0x00, 0x80, 0x44, 0x33, 0x22, 0x11,
			 0xFF, 0xFF, 0xFF, 0x7F },
	};
	struct fxt_emu f;
	uint8_t buf[12];
	char s[64];

	(void)state;
	memset(&f, 0, sizeof(f));
	fx_vclock_init(&f.vc);
	f.e = fx_emu_new(&id, &f.vc.base, NULL);
	assert_non_null(f.e);
	fx_emu_set_boot0(f.e, true);
	fx_emu_set_power(f.e, true);
	assert_int_equal(fxt_emu_wait_bus(&f, 1000000), FX_EMU_BUS_DFU);
	get_string(&f, 3, s, sizeof(s));
	/* 0x80000001 + 0x7FFFFFFF = 0x00000000 (mod 2^32), 0x1122 */
	assert_string_equal(s, "000000001122");
	/* and the UID reads back at 0x1FFF7590 */
	assert_int_equal(fxt_read(&f, G4_UID_BASE, buf, 12), 0);
	assert_memory_equal(buf, id.uid, 12);
	fxt_emu_release(&f);
}

static void test_knob_strings(void **state)
{
	struct fx_emu_knobs k;
	struct fxt_emu f;
	uint8_t buf[64];
	char s[256];
	size_t n;

	(void)state;
	fx_emu_knobs_default(&k);
	k.iproduct_stm32 = true;
	k.transfer_size = 2048;
	fxt_emu_init(&f, &k);
	get_string(&f, 2, s, sizeof(s));
	assert_string_equal(s, "STM32  BOOTLOADER");
	assert_int_equal(get_desc(&f, 0x21, 0, buf, 9, &n), 0);
	assert_int_equal(fx_get_le16(buf + 5), 2048);
	fxt_emu_release(&f);
}

static void test_standard_requests(void **state)
{
	struct fxt_emu f;
	uint8_t b[4];
	size_t n;

	(void)state;
	fxt_emu_init(&f, NULL);
	assert_int_equal(fxt_ctl(&f, RT_DEV_IN, USB_REQ_GET_STATUS, 0, 0, b, 2, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(b[0], 1); /* self powered */
	assert_int_equal(fxt_ctl(&f, USB_TYPE_STANDARD, USB_REQ_SET_CONFIGURATION,
				 1, 0, NULL, 0, NULL), 0);
	assert_int_equal(fxt_ctl(&f, RT_DEV_IN, USB_REQ_GET_CONFIGURATION, 0, 0,
				 b, 1, &n), 0);
	assert_int_equal(b[0], 1);
	assert_int_equal(fxt_ctl(&f, USB_TYPE_STANDARD, USB_REQ_SET_CONFIGURATION,
				 2, 0, NULL, 0, NULL), FX_E_STALL);
	assert_int_equal(fxt_ctl(&f, RT_INTF_OUT, USB_REQ_SET_INTERFACE, 2, 0,
				 NULL, 0, NULL), 0);
	assert_int_equal(fxt_ctl(&f, USB_DIR_IN | RT_INTF_OUT, USB_REQ_GET_INTERFACE,
				 0, 0, b, 1, &n), 0);
	assert_int_equal(b[0], 2);
	assert_int_equal(fxt_ctl(&f, RT_INTF_OUT, USB_REQ_SET_INTERFACE, 3, 0,
				 NULL, 0, NULL), FX_E_STALL);
	assert_int_equal(fxt_ctl(&f, RT_INTF_OUT, USB_REQ_SET_INTERFACE, 0, 1,
				 NULL, 0, NULL), FX_E_STALL);
	assert_int_equal(fx_emu_set_alt(f.e, 0, 1), 0);
	assert_int_equal(fx_emu_set_alt(f.e, 0, 5), FX_E_STALL);
	/* an unknown standard request STALLs */
	assert_int_equal(fxt_ctl(&f, RT_DEV_IN, 0x33, 0, 0, b, 2, &n), FX_E_STALL);
	fxt_emu_release(&f);
}

static void test_nothing_on_bus(void **state)
{
	struct fx_vclock vc;
	struct fx_emu *e;
	struct fx_usb_setup s = { RT_DEV_IN, USB_REQ_GET_DESCRIPTOR, 0x0100, 0, 18 };
	uint8_t buf[18];
	uint64_t done;
	size_t n;

	(void)state;
	fx_vclock_init(&vc);
	e = fx_emu_new(NULL, &vc.base, NULL);
	assert_non_null(e);
	assert_int_equal(fx_emu_poll(e), FX_EMU_BUS_NONE); /* powered off */
	assert_int_equal(fx_emu_control(e, &s, buf, &n, &done), FX_E_NODEV);
	assert_int_equal(fx_emu_device_descriptor(e, buf, 18), FX_E_NODEV);
	assert_int_equal(fx_emu_config_descriptor(e, buf, 18), FX_E_NODEV);
	fx_emu_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_device_descriptor),
		cmocka_unit_test(test_config_descriptor),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_serial_from_uid),
		cmocka_unit_test(test_knob_strings),
		cmocka_unit_test(test_standard_requests),
		cmocka_unit_test(test_nothing_on_bus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_emu_fuzz.c - deterministic random requests, pin changes and clock
 * steps against the emulator (run under ASan/UBSan by make check): no
 * crash, no overrun, answers within wLength, consistent bus state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "emu_fix.h"
#include "fx/dfu_wire.h"

static uint32_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (uint32_t)(*s >> 11);
}

static unsigned cnt[3];

static void run(uint64_t seed, unsigned steps)
{
	static const uint8_t types[] = { 0x00, 0x80, 0x01, 0x81, 0x21, 0xA1,
					 0x20, 0xA0, 0x41, 0xC1 };
	static const uint16_t lens[] = { 0, 1, 5, 6, 8, 48, 255, 1024, 2048, 4096 };
	struct fxt_emu f;
	static uint8_t buf[4096];
	uint64_t s = seed;
	unsigned i;

	fxt_emu_init(&f, NULL);
	for (i = 0; i < steps; i++) {
		uint32_t r = rnd(&s);
		struct fx_usb_setup st;
		uint64_t done;
		size_t n = 0;
		unsigned j;
		int rc;

		switch (r % 16) {
		case 0:
			fxt_emu_sleep(&f, rnd(&s) % 100000);
			continue;
		case 1:
			if (rnd(&s) % 8 == 0) {
				fx_emu_set_nrst(f.e, false);
				fx_emu_set_boot0(f.e, rnd(&s) & 1);
				fx_emu_set_nrst(f.e, true);
			}
			fxt_emu_wait_bus(&f, 1000000);
			continue;
		case 2: /* a plausible DfuSe command */
			buf[0] = (uint8_t[]){ 0x21, 0x41, 0x92, 0x00 }[rnd(&s) % 4];
			if (buf[0] == 0x92 && rnd(&s) % 4)
				buf[0] = 0x41;
			r = 0x08000000u + (rnd(&s) % 0x90000u);
			memcpy(buf + 1, &r, 4);
			fxt_run(&f, 0, buf, (rnd(&s) & 1) ? 5 : 1);
			continue;
		default:
			break;
		}
		st.bmRequestType = types[rnd(&s) % sizeof(types)];
		st.bRequest = (uint8_t)(rnd(&s) % 12);
		if (r % 2) { /* mostly well-formed DFU class requests */
			st.bRequest = (uint8_t)(rnd(&s) % 7);
			st.bmRequestType = (st.bRequest == DFU_UPLOAD ||
					    st.bRequest == DFU_GETSTATUS ||
					    st.bRequest == DFU_GETSTATE) ? 0xA1 : 0x21;
		}
		st.wValue = (uint16_t)(rnd(&s) % 4 == 0 ? rnd(&s) : rnd(&s) % 8);
		st.wIndex = (uint16_t)(rnd(&s) % 8 == 0 ? rnd(&s) : 0);
		st.wLength = lens[rnd(&s) % (sizeof(lens) / sizeof(lens[0]))];
		for (j = 0; j < st.wLength; j++)
			buf[j] = (uint8_t)rnd(&s);
		rc = fx_emu_control(f.e, &st, buf, &n, &done);
		assert_true(n <= st.wLength);
		assert_true(rc == 0 || rc == FX_E_STALL || rc == FX_E_NODEV);
		cnt[rc == 0 ? 0 : rc == FX_E_STALL ? 1 : 2]++;
		if (done != UINT64_MAX && done > f.vc.t)
			f.vc.t = done;
		if (rc == FX_E_NODEV &&
		    fxt_emu_wait_bus(&f, 1000000) == FX_EMU_BUS_NONE) {
			/* dropped, never returning or nothing to boot: the
			 * jig pulls BOOT0 high and pulses NRST */
			fx_emu_set_boot0(f.e, true);
			fx_emu_set_nrst(f.e, false);
			fx_emu_set_nrst(f.e, true);
			fxt_emu_wait_bus(&f, 1000000);
		}
	}
	fxt_emu_release(&f);
}

static void test_fuzz(void **state)
{
	uint64_t seed;

	(void)state;
	for (seed = 1; seed <= 40; seed++)
		run(seed * 0x9E3779B97F4A7C15ull, 3000);
	print_message("ok %u, stall %u, nodev %u\n", cnt[0], cnt[1], cnt[2]);
	assert_true(cnt[0] > 10000 && cnt[1] > 10000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fuzz),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

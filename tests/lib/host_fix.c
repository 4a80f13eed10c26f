/* host_fix.c - see host_fix.h */
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "host_fix.h"
#include "fx/usb_emu.h"

void fxt_host_knobs(struct fx_emu_knobs *k, bool *boot0, const char *knobs)
{
	struct fx_err err;

	fx_err_clear(&err);
	fx_emu_knobs_default(k);
	*boot0 = true;
	if (knobs && knobs[0] && fx_emu_knobs_parse(k, boot0, knobs, &err))
		fail_msg("knobs '%s': %s", knobs, err.msg);
}

void fxt_host_attach(struct fxt_host *h, const struct fx_emu_knobs *k, bool boot0)
{
	struct fx_usb_open_opts o = { .wait_ms = 5000 };
	struct fx_err err;

	memset(h, 0, sizeof(*h));
	fx_vclock_init(&h->vc);
	fx_err_clear(&err);
	h->board = fx_emu_new(NULL, &h->vc.base, &err);
	if (!h->board)
		fail_msg("board: %s", err.msg);
	if (k)
		fx_emu_set_knobs(h->board, k);
	fx_emu_set_boot0(h->board, boot0);
	fx_emu_set_nrst(h->board, true);
	fx_emu_set_power(h->board, true);
	if (fx_usb_emu_attach(h->board, &h->vc.base, &o, &h->usb, &err))
		fail_msg("attach: %s", err.msg);
}

void fxt_host_open(struct fxt_host *h, const struct fx_emu_knobs *k, bool boot0)
{
	struct fx_err err;

	fxt_host_attach(h, k, boot0);
	fx_err_clear(&err);
	h->d = fx_dfu_open(h->usb, &err);
	if (!h->d)
		fail_msg("open: %s", err.msg);
	h->base_req = fx_emu_request_count(h->board);
}

void fxt_host_up(struct fxt_host *h, const char *knobs)
{
	struct fx_emu_knobs k;
	bool boot0;

	fxt_host_knobs(&k, &boot0, knobs);
	fxt_host_open(h, &k, boot0);
}

void fxt_host_down(struct fxt_host *h)
{
	fx_dfu_free(h->d);
	fx_usb_close(h->usb);
	fx_emu_free(h->board);
	memset(h, 0, sizeof(*h));
}

enum fx_emu_bus fxt_host_settle(struct fxt_host *h, unsigned ms)
{
	fx_clock_sleep(&h->vc.base, (uint64_t)ms * 1000u);
	return fx_emu_poll(h->board);
}

void fxt_host_assert_flash(struct fxt_host *h, uint32_t addr, const uint8_t *data,
			   size_t len)
{
	uint8_t *got = malloc(len ? len : 1);

	assert_non_null(got);
	assert_int_equal(fx_emu_backdoor_flash_read(h->board, addr, got, len), 0);
	assert_memory_equal(got, data, len);
	free(got);
}

void fxt_fill(uint8_t *p, size_t n, uint32_t seed)
{
	size_t i;

	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

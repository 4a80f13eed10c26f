/* test_conf_stubs.h - WEAK stand-ins for functions of layers that land on
 * main from other branches (src/target/stm32g4.c on `dfu`, src/emu/ on
 * `emu`), so the conf and gpio tests link and run today. Weak: once the
 * real objects are linked (libfxemu objects are linked directly, so they
 * win), the real code is used; the tests only assert behaviour both
 * share (the documented header contracts). The option-byte table follows
 * spec 3.2/3.3 (FLASH_OPTR in bank 0 slot 0, SEC1R in slot 5).
 *
 * Include once per test binary, after the fx headers. */
#ifndef FX_TEST_CONF_STUBS_H
#define FX_TEST_CONF_STUBS_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "fx/emu.h"
#include "fx/err.h"
#include "fx/stm32g4.h"

#define FX_WEAK __attribute__((weak))

static const struct fx_g4_ob_field stub_fields[] = {
	{ "RDP", 0, 0, 0, 8, "read protection" },
	{ "BOR_LEV", 0, 0, 8, 3, "brown-out level" },
	{ "nRST_STOP", 0, 0, 12, 1, "" },
	{ "nRST_STDBY", 0, 0, 13, 1, "" },
	{ "nRST_SHDW", 0, 0, 14, 1, "" },
	{ "IWDG_SW", 0, 0, 16, 1, "" },
	{ "IWDG_STOP", 0, 0, 17, 1, "" },
	{ "IWDG_STDBY", 0, 0, 18, 1, "" },
	{ "WWDG_SW", 0, 0, 19, 1, "" },
	{ "BFB2", 0, 0, 20, 1, "" },
	{ "DBANK", 0, 0, 22, 1, "dual bank" },
	{ "nBOOT1", 0, 0, 23, 1, "" },
	{ "SRAM_PE", 0, 0, 24, 1, "" },
	{ "CCMSRAM_RST", 0, 0, 25, 1, "" },
	{ "nSWBOOT0", 0, 0, 26, 1, "" },
	{ "nBOOT0", 0, 0, 27, 1, "" },
	{ "NRST_MODE", 0, 0, 28, 2, "" },
	{ "IRHEN", 0, 0, 30, 1, "" },
	{ "WRP1A_STRT", 0, 3, 0, 7, "" },
	{ "WRP1A_END", 0, 3, 16, 7, "" },
	{ "BOOT_LOCK", 0, 5, 16, 1, "" },
	{ NULL, 0, 0, 0, 0, NULL },
};

FX_WEAK const struct fx_g4_ob_field *fx_g4_ob_fields(void)
{
	return stub_fields;
}

FX_WEAK const struct fx_g4_ob_field *fx_g4_ob_field_find(const char *name)
{
	const struct fx_g4_ob_field *f;

	for (f = stub_fields; f->name; f++)
		if (!strcasecmp(f->name, name))
			return f;
	return NULL;
}

static uint32_t stub_mask(const struct fx_g4_ob_field *f)
{
	return (f->width >= 32 ? 0xFFFFFFFFu : ((1u << f->width) - 1)) << f->shift;
}

FX_WEAK uint32_t fx_g4_ob_get(const struct fx_g4_ob *ob,
			      const struct fx_g4_ob_field *f)
{
	return (ob->word[f->bank][f->slot] & stub_mask(f)) >> f->shift;
}

FX_WEAK int fx_g4_ob_set(struct fx_g4_ob *ob, const struct fx_g4_ob_field *f,
			 uint32_t value, struct fx_err *err)
{
	if (f->width < 32 && value >> f->width)
		return fx_err_set(err, FX_E_RANGE, "option byte '%s': %u does not fit",
				  f->name, value);
	ob->word[f->bank][f->slot] = (ob->word[f->bank][f->slot] & ~stub_mask(f)) |
				     (value << f->shift);
	return 0;
}

FX_WEAK void fx_g4_ob_factory(struct fx_g4_ob *ob)
{
	static const uint32_t b0[6] = { 0xFFEFF8AAu, 0xFFFFFFFFu, 0x00FF0000u,
					0xFF00FFFFu, 0xFF00FFFFu, 0xFF00FF00u };
	memset(ob, 0, sizeof(*ob));
	memcpy(ob->word[0], b0, sizeof(b0));
}

/* ---- emulated board: only pins, power and a bus state ------------------ */

struct fx_emu {
	bool power, boot0, nrst;
	const struct fx_clock *clk;
};

FX_WEAK struct fx_emu *fx_emu_new(const struct fx_emu_identity *id,
				  const struct fx_clock *clk, struct fx_err *err)
{
	static struct fx_emu boards[4];
	static int n;

	(void)id, (void)err;
	boards[n % 4].power = false;
	boards[n % 4].boot0 = false;
	boards[n % 4].nrst = true;
	boards[n % 4].clk = clk;
	return &boards[n++ % 4];
}

FX_WEAK void fx_emu_free(struct fx_emu *e)
{
	(void)e;
}

FX_WEAK void fx_emu_set_power(struct fx_emu *e, bool on)
{
	e->power = on;
}

FX_WEAK void fx_emu_set_boot0(struct fx_emu *e, bool high)
{
	e->boot0 = high;
}

FX_WEAK void fx_emu_set_nrst(struct fx_emu *e, bool high)
{
	e->nrst = high;
}

FX_WEAK bool fx_emu_get_boot0(const struct fx_emu *e)
{
	return e->boot0;
}

/* blank board: BOOT0 high -> ROM (after the boot delay), else nothing */
FX_WEAK enum fx_emu_bus fx_emu_poll(struct fx_emu *e)
{
	return e->power && e->nrst && e->boot0 ? FX_EMU_BUS_DFU : FX_EMU_BUS_NONE;
}

FX_WEAK void fx_emu_knobs_default(struct fx_emu_knobs *k)
{
	memset(k, 0, sizeof(*k));
}

FX_WEAK int fx_emu_knobs_parse(struct fx_emu_knobs *k, bool *boot0,
			       const char *query, struct fx_err *err)
{
	char key[32];
	size_t n = strcspn(query, "=&");

	(void)k, (void)boot0;
	if (n >= sizeof(key))
		n = sizeof(key) - 1;
	memcpy(key, query, n);
	key[n] = '\0';
	if (!strcmp(key, "boot_delay_ms") || !strcmp(key, "boot0") ||
	    !strcmp(key, "fault"))
		return 0;
	return fx_err_set(err, FX_E_CONFIG, "knob '%s': unknown", key);
}

#endif

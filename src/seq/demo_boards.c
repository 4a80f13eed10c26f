/* demo_boards.c - emulated boards in every state the station must tell
 * apart (issue 4: blank, programmed, corrupted, dual-bank, protected),
 * built by fx_board_build() (fx/board.h). */
#include <string.h>

#include "fx/board.h"
#include "fx/bytes.h"
#include "fx/emu.h"
#include "fx/seq.h"
#include "fx/stm32g4.h"

static const char *const demo_names[FX_SEQ_DEMO_COUNT] = {
	[FX_SEQ_DEMO_BLANK] = "blank",
	[FX_SEQ_DEMO_PROGRAMMED] = "programmed",
	[FX_SEQ_DEMO_CORRUPTED] = "corrupted",
	[FX_SEQ_DEMO_DUAL_BANK] = "dual-bank",
	[FX_SEQ_DEMO_PROTECTED] = "protected",
};

const char *fx_seq_demo_name(enum fx_seq_demo_board kind)
{
	if ((unsigned)kind >= FX_SEQ_DEMO_COUNT)
		return NULL;
	return demo_names[kind];
}

int fx_seq_demo_parse(const char *name)
{
	int i;

	for (i = 0; i < FX_SEQ_DEMO_COUNT; i++)
		if (name && !strcmp(name, demo_names[i]))
			return i;
	return -1;
}

struct fx_emu *fx_seq_demo_board_new(enum fx_seq_demo_board kind,
				     unsigned serial_no,
				     const struct fx_recipe *recipe,
				     const struct fx_image *img,
				     const struct fx_clock *clk,
				     struct fx_err *err)
{
	struct fx_board_spec spec = { 0 };
	struct fx_emu_identity id;
	struct fx_g4_ob factory, want;
	struct fx_emu *e;
	int i;

	if ((unsigned)kind >= FX_SEQ_DEMO_COUNT || !recipe || !img || !clk) {
		fx_err_set(err, FX_E_INVAL, "demo board: bad arguments");
		return NULL;
	}
	memset(&id, 0, sizeof(id));
	for (i = 0; i < 8; i++)
		id.uid[i] = (uint8_t)(0x30 + 7 * i + (int)kind);
	fx_put_le32(id.uid + 8, 0x47340000u + serial_no);
	id.app_vid = recipe->app.enabled ? recipe->app.vid : 0x1209;
	id.app_pid = recipe->app.enabled ? recipe->app.pid : 0x0001;
	spec.id = &id;
	/* dual-bank: the factory option bytes; the others: the recipe's */
	fx_g4_ob_factory(&factory);
	if (kind != FX_SEQ_DEMO_DUAL_BANK) {
		if (fx_recipe_ob_want(recipe, &factory, &want, NULL, NULL, err))
			return NULL;
		spec.ob = &want;
	}
	spec.img = kind == FX_SEQ_DEMO_BLANK ? NULL : img;
	spec.corrupt = kind == FX_SEQ_DEMO_CORRUPTED;
	spec.rdp1 = kind == FX_SEQ_DEMO_PROTECTED;
	e = fx_board_build(&spec, clk, err);
	if (!e)
		fx_err_prefix(err, "demo board");
	return e;
}

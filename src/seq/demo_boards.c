/* demo_boards.c - emulated boards in every state the station must tell
 * apart (issue 4: blank, programmed, corrupted, dual-bank, protected),
 * built through the emulator's back doors (fx/emu.h). */
#include <string.h>

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

static int write_ob(struct fx_emu *e, const struct fx_g4_ob *ob, struct fx_err *err)
{
	uint8_t raw[48];
	int bank, rc;

	for (bank = 0; bank < 2; bank++) {
		fx_g4_ob_encode(ob, bank, raw);
		rc = fx_emu_backdoor_ob(e, bank, raw, true);
		if (rc)
			return fx_err_set(err, rc, "demo board: option bytes of bank %d: %s",
					  bank + 1, fx_strerror(rc));
	}
	return 0;
}

static int write_image(struct fx_emu *e, const struct fx_image *img,
		       struct fx_err *err)
{
	size_t i;
	int rc;

	for (i = 0; i < img->nsegs; i++) {
		rc = fx_emu_backdoor_flash_write(e, img->segs[i].addr,
						 img->segs[i].data, img->segs[i].len);
		if (rc)
			return fx_err_set(err, rc, "demo board: flash at 0x%08X: %s",
					  (unsigned)img->segs[i].addr, fx_strerror(rc));
	}
	return 0;
}

struct fx_emu *fx_seq_demo_board_new(enum fx_seq_demo_board kind,
				     unsigned serial_no,
				     const struct fx_recipe *recipe,
				     const struct fx_image *img,
				     const struct fx_clock *clk,
				     struct fx_err *err)
{
	static const uint8_t broken_vectors[8]; /* SP 0, reset 0: never starts */
	struct fx_emu_identity id;
	struct fx_g4_ob ob, want;
	struct fx_emu *e;
	int i, rc = 0;

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
	e = fx_emu_new(&id, clk, err);
	if (!e)
		return NULL;
	fx_g4_ob_factory(&ob);
	want = ob;
	if (kind != FX_SEQ_DEMO_DUAL_BANK) {
		rc = fx_recipe_ob_want(recipe, &ob, &want, NULL, NULL, err);
		if (!rc)
			rc = write_ob(e, &want, err);
	}
	if (!rc && kind != FX_SEQ_DEMO_BLANK)
		rc = write_image(e, img, err);
	if (!rc && kind == FX_SEQ_DEMO_CORRUPTED) {
		rc = fx_emu_backdoor_flash_write(e, 0x08000000u, broken_vectors,
						 sizeof(broken_vectors));
		if (rc)
			fx_err_set(err, rc, "demo board: corrupting flash: %s",
				   fx_strerror(rc));
	}
	if (!rc && kind == FX_SEQ_DEMO_PROTECTED) {
		rc = fx_g4_ob_apply(&want, "RDP=0xBB", err);
		if (!rc)
			rc = write_ob(e, &want, err);
	}
	if (rc) {
		fx_emu_free(e);
		return NULL;
	}
	return e;
}

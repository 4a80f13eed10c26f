/* board_build.c - emulated boards built in code (fx/board.h). */
#include <stddef.h>
#include <stdint.h>

#include "fx/board.h"

#define NOISE_LEN 4096u

static int write_ob(struct fx_emu *e, const struct fx_g4_ob *ob, struct fx_err *err)
{
	uint8_t raw[48];
	int bank, rc;

	for (bank = 0; bank < 2; bank++) {
		fx_g4_ob_encode(ob, bank, raw);
		rc = fx_emu_backdoor_ob(e, bank, raw, true);
		if (rc)
			return fx_err_set(err, rc, "option bytes of bank %d: %s", bank + 1,
					  fx_strerror(rc));
	}
	return 0;
}

static int write_image(struct fx_emu *e, const struct fx_image *img,
		       const char *name, struct fx_err *err)
{
	size_t i;
	int rc;

	for (i = 0; i < img->nsegs; i++) {
		rc = fx_emu_backdoor_flash_write(e, img->segs[i].addr, img->segs[i].data,
						 img->segs[i].len);
		if (rc)
			return fx_err_set(err, rc, "image '%s': segment at 0x%08X cannot "
					  "be placed in flash", name ? name : "firmware",
					  (unsigned)img->segs[i].addr);
	}
	return 0;
}

/* xorshift32 noise; an even reset vector is never a plausible vector
 * table (Thumb code needs bit 0 set) */
static int write_noise(struct fx_emu *e, struct fx_err *err)
{
	uint8_t junk[NOISE_LEN];
	uint32_t x = 0x2545F491u;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(junk); i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		junk[i] = (uint8_t)x;
	}
	junk[4] &= 0xFE;
	rc = fx_emu_backdoor_flash_write(e, G4_FLASH_BASE, junk, sizeof(junk));
	if (rc)
		return fx_err_set(err, rc, "cannot write garbage into flash");
	return 0;
}

static int protect(struct fx_emu *e, const struct fx_g4_ob *ob, struct fx_err *err)
{
	struct fx_g4_ob p = *ob;
	int rc = fx_g4_ob_apply(&p, "RDP=0xBB", err);

	return rc ? rc : write_ob(e, &p, err);
}

struct fx_emu *fx_board_build(const struct fx_board_spec *spec,
			      const struct fx_clock *clk, struct fx_err *err)
{
	struct fx_g4_ob ob;
	struct fx_emu *e;
	int rc = 0;

	e = fx_emu_new(spec->id, clk, err);
	if (!e)
		return NULL;
	if (spec->ob)
		ob = *spec->ob;
	else
		fx_g4_ob_factory(&ob);
	if (spec->ob)
		rc = write_ob(e, &ob, err);
	if (!rc && spec->img)
		rc = write_image(e, spec->img, spec->img_name, err);
	if (!rc && spec->corrupt)
		rc = write_noise(e, err);
	if (!rc && spec->rdp1)
		rc = protect(e, &ob, err);
	if (rc) {
		fx_emu_free(e);
		return NULL;
	}
	return e;
}

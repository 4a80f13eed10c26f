/* prog.c - programming operations on an STM32G4 in its ROM bootloader
 * (include/fx/prog.h), built on the DfuSe engine and the target data.
 * Section numbers refer to ../shared/spec/stm32g474-bootloader.md. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fx/log.h"
#include "fx/prog.h"

#define LOG_PREFIX "prog"
#define BLANK_CHUNK (16u * 1024u)
#define PROGRAM_CHUNK (32u * 1024u) /* bytes between deadline checks */

/* The DFU layer filled err (fx/dfu.h: one error convention from dfu to
 * seq); say which operation it was. Returns rc. */
static int fail(int rc, struct fx_err *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(int rc, struct fx_err *err, const char *fmt, ...)
{
	char head[128];
	va_list ap;

	if (!err)
		return rc;
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	fx_err_prefix(err, "%s", head);
	return rc;
}

static const struct fx_clock *clk_of(struct fx_dfu *d)
{
	return fx_dfu_usb(d)->clock;
}

static int alt_or(const struct fx_dfu *d, uint32_t addr, int dflt)
{
	int a = fx_dfu_alt_for(d, addr);

	return a < 0 ? dflt : a;
}

/* --- option bytes ------------------------------------------------------ */

static const uint32_t ob_base[2] = { G4_OB1_BASE, G4_OB2_BASE };

/* Read and decode one option-byte block into ob (the other bank's words
 * untouched; ob unchanged on failure). */
static int ob_read_bank(struct fx_dfu *d, int bank, struct fx_g4_ob *ob,
			struct fx_err *err)
{
	uint8_t raw[G4_OB_BLOCK_SIZE];
	struct fx_g4_ob tmp = *ob;
	int alt = alt_or(d, ob_base[bank], 1), rc;

	if ((rc = fx_dfu_set_alt(d, (uint8_t)alt, err)) ||
	    (rc = fx_dfuse_read(d, ob_base[bank], raw, sizeof(raw), err)))
		return fail(rc, err, "read option bytes at 0x%08X", ob_base[bank]);
	if (fx_g4_ob_decode(&tmp, bank, raw, err))
		return err ? err->code : FX_E_PROTO;
	*ob = tmp;
	return 0;
}

int fx_prog_ob_read(struct fx_dfu *d, struct fx_g4_ob *ob, struct fx_err *err)
{
	struct fx_g4_ob tmp;
	int bank, rc;

	fx_g4_ob_factory(&tmp);
	for (bank = 0; bank < 2; bank++)
		if ((rc = ob_read_bank(d, bank, &tmp, err)))
			return rc;
	*ob = tmp;
	return 0;
}

/* Every named field of want equal in got? Else FX_E_VERIFY naming the
 * first field that differs (CubeProgrammer style, spec 5.2). */
static int ob_compare(const struct fx_g4_ob *want, const struct fx_g4_ob *got,
		      struct fx_err *err)
{
	const struct fx_g4_ob_field *f;

	for (f = fx_g4_ob_fields(); f->name; f++) {
		uint32_t w = fx_g4_ob_get(want, f), g = fx_g4_ob_get(got, f);

		if (w != g)
			return fx_err_set(err, FX_E_VERIFY,
					  "option byte '%s': expected 0x%X, found 0x%X after the reset",
					  f->name, w, g);
	}
	return 0;
}

/* Does any named field of bank differ? Reserved bits are not compared:
 * the chip sets them to 1 when it reprograms the option bytes (spec 3.2),
 * so they never say whether a block needs writing. */
static bool bank_differs(const struct fx_g4_ob *a, const struct fx_g4_ob *b,
			 int bank)
{
	const struct fx_g4_ob_field *f;

	for (f = fx_g4_ob_fields(); f->name; f++)
		if (f->bank == bank && fx_g4_ob_get(a, f) != fx_g4_ob_get(b, f))
			return true;
	return false;
}

/* Wait for the bootloader on the same slot and rebind (spec 2.6: a new
 * device, maybe a new address, same serial). */
static int wait_bootloader(struct fx_dfu *d, unsigned timeout_ms,
			   uint64_t *waited_us, const char *why,
			   struct fx_err *err)
{
	struct fx_usb *u = fx_dfu_usb(d);
	const struct fx_usb_info *in;
	uint64_t waited = 0;
	int rc;

	rc = fx_usb_reopen(u, timeout_ms, &waited, err);
	if (waited_us)
		*waited_us += waited;
	if (rc == FX_E_TIMEOUT)
		return fx_err_set(err, FX_E_TIMEOUT,
				  "%s: the bootloader did not come back within %u ms "
				  "(BOOT0 low? nothing or the application booted)",
				  why, timeout_ms);
	if (rc)
		return fx_err_prefix(err, "%s: waiting for the bootloader", why);
	in = fx_usb_get_info(u);
	if (!in->is_dfu)
		return fx_err_set(err, FX_E_TIMEOUT,
				  "%s: the bootloader did not come back within %u ms: "
				  "%04x:%04x enumerated instead (the application booted; BOOT0 low?)",
				  why, timeout_ms, in->vid, in->pid);
	if ((rc = fx_dfu_rebind(d, err)))
		return fail(rc, err, "%s: rebind after the reset", why);
	return 0;
}

int fx_prog_ob_write(struct fx_dfu *d, const struct fx_g4_ob *want,
		     unsigned timeout_ms, struct fx_prog_ob_result *res,
		     struct fx_err *err)
{
	struct fx_g4_ob cur;
	int rc;

	rc = fx_prog_ob_read(d, &cur, err);
	if (rc)
		return rc;
	return fx_prog_ob_write_from(d, &cur, want, timeout_ms, res, err);
}

int fx_prog_ob_write_from(struct fx_dfu *d, const struct fx_g4_ob *have,
			  const struct fx_g4_ob *want, unsigned timeout_ms,
			  struct fx_prog_ob_result *res, struct fx_err *err)
{
	struct fx_prog_ob_result r;
	struct fx_g4_ob cur = *have, next;
	uint8_t raw[G4_OB_BLOCK_SIZE];
	int bank, rc;

	memset(&r, 0, sizeof(r));
	/* RDP level 2 is permanent and disables the bootloader (spec 2.3,
	 * 3.6): no station job may set it by accident. */
	if (fx_g4_ob_rdp(want) == FX_G4_RDP_LEVEL2)
		return fx_err_set(err, FX_E_RANGE,
				  "RDP=0xCC (level 2) is permanent and disables the bootloader: refused");
	for (bank = 0; bank < 2; bank++) {
		char why[64];

		next = cur;
		memcpy(next.word[bank], want->word[bank], sizeof(next.word[bank]));
		if (bank == 1)
			next.word[1][0] = cur.word[1][0]; /* unused slot (spec 3.2) */
		if (!bank_differs(&next, &cur, bank))
			continue;
		/* the whole block, value + complement (spec 3.2 host rule) */
		fx_g4_ob_encode(&next, bank, raw);
		fx_log(FX_LOG_INFO, LOG_PREFIX, "writing option bytes at 0x%08X (OPTR 0x%08X -> 0x%08X)",
		       ob_base[bank], fx_g4_ob_optr(&cur), fx_g4_ob_optr(&next));
		if ((rc = fx_dfu_set_alt(d, (uint8_t)alt_or(d, ob_base[bank], 1), err)) ||
		    (rc = fx_dfuse_write_expect_reset(d, ob_base[bank], raw, sizeof(raw), err)))
			return fail(rc, err, "write option bytes at 0x%08X", ob_base[bank]);
		snprintf(why, sizeof(why), "option bytes written at 0x%08X", ob_base[bank]);
		rc = wait_bootloader(d, timeout_ms, &r.reenum_us, why, err);
		if (rc)
			return rc;
		/* the confirm read: only the block written changed (the reload
		 * loads both from the flash, the other one as it was) */
		rc = ob_read_bank(d, bank, &cur, err);
		if (rc)
			return rc;
	}
	r.after = cur;
	if (res)
		*res = r;
	return ob_compare(want, &cur, err);
}

/* --- flash ------------------------------------------------------------- */

/* The flash alt and its layout (alt 0 on the G474, found by address). */
static int flash_layout(struct fx_dfu *d, int *alt,
			const struct fx_dfuse_layout **l, struct fx_err *err)
{
	const struct fx_dfu_info *in = fx_dfu_get_info(d);
	int a = fx_dfu_alt_for(d, G4_FLASH_BASE);

	if (a < 0)
		return fx_err_set(err, FX_E_PROTO,
				  "no alt setting maps the flash at 0x%08X (alt 0 is \"%s\")",
				  G4_FLASH_BASE, in->nalts ? in->alt_name[0] : "");
	*alt = a;
	*l = &in->layout[a];
	return 0;
}

/* Is every byte of [addr, end) in segments with all of type bits? */
static int check_range(const struct fx_dfuse_layout *l, uint32_t addr,
		       uint64_t end, uint8_t type, struct fx_err *err)
{
	while (addr < end) {
		const struct fx_dfuse_seg *g = fx_dfuse_layout_find(l, addr);

		if (!g || (g->type & type) != type)
			return fx_err_set(err, FX_E_RANGE,
					  "image byte at 0x%08X is outside the writeable flash of the current bank mode (\"%s\": 0x%08X-0x%08X)",
					  addr, l->name, l->segs[0].start,
					  l->segs[l->nsegs - 1].end - 1);
		addr = g->end;
	}
	return 0;
}

/* Did the device answer and say no (RDP, a ROM that STALLs or errors on
 * the area)? Anything else (gone, timeout, I/O) is no refusal. */
static bool read_refused(int code)
{
	return code == FX_E_PROTECTED || code == FX_E_STALL ||
	       code == FX_E_DFU || code == FX_E_RANGE || code == FX_E_PROTO;
}

/* Erase granularity (OUT: *out): the layout's page size, but never less
 * than the page of the current bank mode from OPTR (spec 8 "alt0
 * constant": a 2 KiB string while single-bank erases clear 4 KiB, spec 7
 * item 2). OPTR from the job when the caller knows it, else read; the
 * layout's size alone only when the option bytes are refused. A device
 * that left the bus (or any other failure) is an error: the next request
 * on it must not run (libusb issue #1199). */
static int erase_page_size(struct fx_prog_job *j, const struct fx_dfuse_seg *g,
			   uint32_t *out, struct fx_err *err)
{
	struct fx_g4_ob ob;
	struct fx_err e;
	uint32_t ps = g->page_size, bank_ps;
	int rc = 0;

	fx_err_clear(&e);
	if (!j->have_optr) {
		rc = fx_prog_ob_read(j->dfu, &ob, &e);
		if (rc == 0) {
			j->optr = fx_g4_ob_optr(&ob);
			j->have_optr = true;
		} else if (read_refused(rc)) {
			fx_log(FX_LOG_WARN, LOG_PREFIX,
			       "option bytes not readable (%s), page size from the layout", e.msg);
		} else {
			fx_err_prefix(&e, "erase page size");
			if (err)
				*err = e;
			return rc;
		}
	}
	if (j->have_optr) {
		bank_ps = fx_g4_page_size(j->optr);
		if (bank_ps > ps) {
			fx_log(FX_LOG_INFO, LOG_PREFIX,
			       "layout says %u-byte pages, OPTR (DBANK=0) says %u: erasing %u",
			       ps, bank_ps, bank_ps);
			ps = bank_ps;
		}
	}
	*out = ps;
	return 0;
}

int fx_prog_flatten(const struct fx_image *img, uint32_t align, uint32_t *lo,
		    uint8_t **buf, size_t *len, struct fx_err *err)
{
	uint32_t start, end;
	size_t i;

	*buf = NULL;
	*len = 0;
	if (!img || !img->nsegs)
		return fx_err_set(err, FX_E_IMAGE, "flash: the image is empty");
	if (align < 8 || (align & (align - 1)))
		return fx_err_set(err, FX_E_INVAL, "flatten: alignment %u is not a power of two >= 8",
				  align);
	start = img->segs[0].addr & ~(align - 1);
	end = img->segs[img->nsegs - 1].addr + img->segs[img->nsegs - 1].len;
	if (end < start || end - start > FX_PROG_FLATTEN_MAX)
		return fx_err_set(err, FX_E_RANGE, "image spans 0x%08X-0x%08X: more than %u bytes",
				  start, end, FX_PROG_FLATTEN_MAX);
	*buf = malloc(end - start ? end - start : 1);
	if (!*buf)
		return fx_err_set(err, FX_E_NOMEM, "flash: out of memory");
	memset(*buf, 0xFF, end - start);
	for (i = 0; i < img->nsegs; i++)
		memcpy(*buf + (img->segs[i].addr - start), img->segs[i].data, img->segs[i].len);
	*lo = start;
	*len = end - start;
	return 0;
}

/* --- the flash job ----------------------------------------------------- */

/* The G474 ROM reports its busy times rounded up to whole ms (11 ms for a
 * 1 KiB block that takes 10.46 ms); the datasheet maxima are safe to wait
 * instead (fx_dfu_set_busy_times): 0.33 ms less per block. */
static void trust_datasheet_times(struct fx_dfu *d)
{
	static const struct fx_dfu_busy_times g4 = {
		.write_ns_per_dw = FX_G4_T_PROG_DW_MAX_NS,
		.mass_erase_us = FX_G4_T_ME_MAX_US,
	};

	fx_dfu_set_busy_times(d, &g4);
}

int fx_prog_job_init(struct fx_prog_job *j, struct fx_dfu *d,
		     const struct fx_image *img, bool mass_erase,
		     struct fx_err *err)
{
	const struct fx_dfuse_layout *l = NULL;
	uint32_t xfer = fx_dfu_get_info(d)->transfer_size & ~7u;
	size_t i;
	int alt = 0, rc;

	memset(j, 0, sizeof(*j));
	if (!img || !img->nsegs)
		return fx_err_set(err, FX_E_IMAGE, "flash: the image is empty");
	rc = flash_layout(d, &alt, &l, err);
	if (rc)
		return rc;
	if (!l->nsegs)
		return fx_err_set(err, FX_E_PROTO, "flash: memory layout of alt %d not understood: \"%s\"",
				  alt, fx_dfu_get_info(d)->alt_name[alt]);
	for (i = 0; i < img->nsegs; i++) {
		const struct fx_image_seg *sg = &img->segs[i];

		if (sg->alt != 0 && sg->alt != alt)
			return fx_err_set(err, FX_E_RANGE,
					  "image segment at 0x%08X targets alt %u, only the flash (alt %d) can be programmed",
					  sg->addr, sg->alt, alt);
		rc = check_range(l, sg->addr, (uint64_t)sg->addr + sg->len,
				 DFUSE_WRITEABLE, err);
		if (rc)
			return rc;
	}
	/* one 0xFF-filled run from the xfer-aligned start: chunks never cross
	 * a page, all-0xFF chunks are skipped (they are erased or untouched) */
	rc = fx_prog_flatten(img, xfer < 8 ? 8 : xfer, &j->lo, &j->buf, &j->len, err);
	if (rc)
		return rc;
	j->dfu = d;
	j->img = img;
	j->alt = alt;
	j->mass_erase = mass_erase;
	trust_datasheet_times(d);
	return 0;
}

void fx_prog_job_release(struct fx_prog_job *j)
{
	if (!j)
		return;
	free(j->buf);
	j->buf = NULL;
	j->len = 0;
}

/* FX_E_TIMEOUT once the clock is past deadline_us (0 = none). */
static int past_deadline(struct fx_prog_job *j, uint64_t t0, uint64_t deadline_us,
			 const char *what, struct fx_err *err)
{
	uint64_t now = fx_clock_now(clk_of(j->dfu));

	if (!deadline_us || now <= deadline_us)
		return 0;
	return fx_err_set(err, FX_E_TIMEOUT, "%s not done after %llu ms (limit %llu ms)",
			  what, (unsigned long long)((now - t0) / 1000u),
			  (unsigned long long)((deadline_us - t0) / 1000u));
}

static int select_flash(struct fx_prog_job *j, const char *what, struct fx_err *err)
{
	int rc;

	if ((rc = fx_dfu_set_alt(j->dfu, (uint8_t)j->alt, err)))
		return fail(rc, err, "%s: select the flash alternate setting", what);
	return 0;
}

/* Every page a segment touches, once (spec 6.2 step 5), all before any
 * write (dfu-util >= 0.10). */
static int erase_pages(struct fx_prog_job *j, uint64_t t0, uint64_t deadline_us,
		       struct fx_err *err)
{
	const struct fx_dfuse_layout *l = &fx_dfu_get_info(j->dfu)->layout[j->alt];
	uint32_t ps = 0, last_page = 0;
	bool have_last = false;
	size_t i;
	int rc;

	rc = erase_page_size(j, &l->segs[0], &ps, err);
	if (!rc)
		rc = select_flash(j, "page erase", err);
	for (i = 0; !rc && i < j->img->nsegs; i++) {
		const struct fx_image_seg *sg = &j->img->segs[i];
		uint64_t a;

		for (a = sg->addr; !rc && a < (uint64_t)sg->addr + sg->len;) {
			const struct fx_dfuse_seg *g = fx_dfuse_layout_find(l, (uint32_t)a);
			uint32_t gps, page;

			if (!g)
				return fx_err_set(err, FX_E_RANGE,
						  "page erase: 0x%08X is not in the flash layout any more",
						  (uint32_t)a);
			gps = g->page_size > ps ? g->page_size : ps;
			page = g->start + ((uint32_t)a - g->start) / gps * gps;
			if ((g->type & DFUSE_ERASABLE) && (!have_last || page != last_page)) {
				rc = past_deadline(j, t0, deadline_us, "page erase", err);
				if (!rc && (rc = fx_dfuse_erase_page(j->dfu, page, err)))
					rc = fail(rc, err, "page erase");
				j->pages_erased++;
				last_page = page;
				have_last = true;
			}
			a = (uint64_t)page + gps;
		}
	}
	if (!rc)
		rc = past_deadline(j, t0, deadline_us, "page erase", err);
	return rc;
}

int fx_prog_job_erase(struct fx_prog_job *j, uint64_t deadline_us,
		      struct fx_err *err)
{
	uint64_t t0 = fx_clock_now(clk_of(j->dfu));
	int rc;

	j->pages_erased = 0;
	if (!j->mass_erase)
		return erase_pages(j, t0, deadline_us, err);
	rc = select_flash(j, "mass erase", err);
	if (rc)
		return rc;
	if ((rc = fx_dfuse_mass_erase(j->dfu, err)))
		return fail(rc, err, "mass erase");
	return past_deadline(j, t0, deadline_us, "mass erase", err);
}

int fx_prog_job_program(struct fx_prog_job *j, uint64_t deadline_us,
			struct fx_err *err)
{
	uint64_t t0 = fx_clock_now(clk_of(j->dfu));
	size_t off, chunk;
	int rc;

	j->bytes_sent = 0;
	rc = select_flash(j, "program", err);
	/* with a deadline, in chunks with the deadline checked between them
	 * (each chunk starts with its own SET_ADDRESS) */
	chunk = deadline_us ? PROGRAM_CHUNK : j->len;
	for (off = 0; !rc && off < j->len; off += chunk) {
		size_t n = j->len - off < chunk ? j->len - off : chunk;
		size_t sent = 0;

		rc = past_deadline(j, t0, deadline_us, "program", err);
		if (!rc && (rc = fx_dfuse_write_ex(j->dfu, j->lo + (uint32_t)off, j->buf + off,
					     n, true, &sent, err)))
			rc = fail(rc, err, "program");
		j->bytes_sent += sent;
	}
	if (!rc)
		rc = past_deadline(j, t0, deadline_us, "program", err);
	return rc;
}

/* fx_prog_flash()'s steps, each one phase of the job on the job's board. */
static int step_erase(struct fx_prog_job *j, struct fx_err *err)
{
	return fx_prog_job_erase(j, 0, err);
}

static int step_program(struct fx_prog_job *j, struct fx_err *err)
{
	return fx_prog_job_program(j, 0, err);
}

static int step_verify(struct fx_prog_job *j, struct fx_err *err)
{
	return fx_prog_verify(j->dfu, j->img, err);
}

static int step_leave(struct fx_prog_job *j, struct fx_err *err)
{
	int rc = fx_dfuse_leave(j->dfu, G4_FLASH_BASE, err);

	return rc ? fail(rc, err, "flash: leave") : 0;
}

/* Run step; OUT: *us, the clock time it took (also when it failed). */
static int timed(struct fx_prog_job *j,
		 int (*step)(struct fx_prog_job *, struct fx_err *), uint64_t *us,
		 struct fx_err *err)
{
	const struct fx_clock *clk = clk_of(j->dfu);
	uint64_t t0 = fx_clock_now(clk);
	int rc = step(j, err);

	*us = fx_clock_now(clk) - t0;
	return rc;
}

/* The option bytes of opts (before the job exists: the reset changes the
 * layout the job is checked against). OUT: r->ob, r->ob_us. */
static int step_option_bytes(struct fx_dfu *d, const struct fx_prog_flash_opts *o,
			     struct fx_prog_flash_result *r, struct fx_err *err)
{
	const struct fx_clock *clk = clk_of(d);
	uint64_t t0 = fx_clock_now(clk);
	struct fx_g4_ob have;
	int rc = 0;

	if (o->ob_have)
		have = *o->ob_have;
	else
		rc = fx_prog_ob_read(d, &have, err);
	if (!rc)
		rc = fx_prog_ob_write_from(d, &have, o->ob_want, o->ob_timeout_ms,
					   &r->ob, err);
	r->ob_us = fx_clock_now(clk) - t0;
	return rc ? fail(rc, err, "flash") : 0;
}

/* The CLI's flash: option bytes, check and flatten, erase, program,
 * verify, leave. */
int fx_prog_flash(struct fx_dfu *d, const struct fx_image *img,
		  const struct fx_prog_flash_opts *opts,
		  struct fx_prog_flash_result *res, struct fx_err *err)
{
	static const struct fx_prog_flash_opts dflt = { .verify = true };
	struct fx_prog_flash_result r;
	struct fx_prog_job j;
	int rc;

	if (!opts)
		opts = &dflt;
	memset(&r, 0, sizeof(r));
	rc = opts->ob_want ? step_option_bytes(d, opts, &r, err) : 0;
	if (!rc)
		rc = fx_prog_job_init(&j, d, img, opts->mass_erase, err);
	if (rc) {
		if (res)
			*res = r;
		return rc;
	}
	/* the option bytes known (re-read after the reset, or what the
	 * caller read): the page size without another read */
	if (opts->ob_want || opts->ob_have) {
		j.optr = fx_g4_ob_optr(opts->ob_want ? &r.ob.after : opts->ob_have);
		j.have_optr = true;
	}
	rc = timed(&j, step_erase, &r.erase_us, err);
	if (!rc)
		rc = timed(&j, step_program, &r.program_us, err);
	if (rc)
		fx_err_prefix(err, "flash");
	if (!rc && opts->verify)
		rc = timed(&j, step_verify, &r.verify_us, err);
	if (!rc && opts->leave)
		rc = step_leave(&j, err);
	r.pages_erased = j.pages_erased;
	r.bytes_written = j.bytes_sent;
	fx_prog_job_release(&j);
	if (res)
		*res = r;
	return rc;
}

int fx_prog_verify(struct fx_dfu *d, const struct fx_image *img,
		   struct fx_err *err)
{
	size_t i, j;
	int rc = 0;

	for (i = 0; img && i < img->nsegs && !rc; i++) {
		const struct fx_image_seg *s = &img->segs[i];
		uint8_t *got = malloc(s->len ? s->len : 1);

		if (!got)
			return fx_err_set(err, FX_E_NOMEM, "verify: out of memory");
		rc = fx_prog_read(d, s->addr, got, s->len, err);
		if (rc) {
			fx_err_prefix(err, "verify");
		} else {
			for (j = 0; j < s->len; j++)
				if (got[j] != s->data[j])
					break;
			if (j < s->len)
				rc = fx_err_set(err, FX_E_VERIFY,
						"verify: first difference at 0x%08X: expected 0x%02X, read 0x%02X",
						s->addr + (uint32_t)j, s->data[j], got[j]);
		}
		free(got);
	}
	return rc;
}

int fx_prog_read(struct fx_dfu *d, uint32_t addr, uint8_t *buf, size_t len,
		 struct fx_err *err)
{
	int alt, alt_end, rc;

	if (!len)
		return 0;
	if ((uint64_t)addr + len > 0x100000000ull)
		return fx_err_set(err, FX_E_RANGE, "read at 0x%08X: %zu bytes run past 0xFFFFFFFF",
				  addr, len);
	alt = fx_dfu_alt_for(d, addr);
	alt_end = fx_dfu_alt_for(d, addr + (uint32_t)(len - 1));
	if (alt >= 0 && alt_end != alt)
		return fx_err_set(err, FX_E_RANGE,
				  "read 0x%08X-0x%08X: not inside one memory area of the device",
				  addr, addr + (uint32_t)(len - 1));
	if (alt < 0)
		alt = 0; /* system memory, UID: not in any alt string (spec 2.5) */
	if ((rc = fx_dfu_set_alt(d, (uint8_t)alt, err)) || (rc = fx_dfuse_read(d, addr, buf, len, err)))
		return fail(rc, err, "read %zu bytes at 0x%08X (alt %d)", len, addr, alt);
	return 0;
}

int fx_prog_identify(struct fx_dfu *d, struct fx_prog_ident *id,
		     struct fx_err *err)
{
	const struct fx_dfu_info *in = fx_dfu_get_info(d);
	struct fx_prog_ident r;
	struct fx_g4_ob ob;
	struct fx_err e;
	uint8_t b[2];
	size_t s;
	int rc, a;

	memset(&r, 0, sizeof(r));
	rc = fx_prog_ob_read(d, &ob, err);
	if (rc)
		return rc;
	r.ob = ob;
	r.optr = fx_g4_ob_optr(&ob);
	r.dual_bank = fx_g4_dual_bank(r.optr);
	/* best effort: under RDP 1 or on a ROM that refuses these areas the
	 * USB serial and the memory map stand in (spec 2.1, 2.5) */
	fx_err_clear(&e);
	if (fx_prog_read(d, G4_BL_ID_ADDR, b, 2, &e) == 0) {
		r.bl_id = b[0];
		fx_g4_bl_version(r.bl_id, r.bl_version, sizeof(r.bl_version));
	} else {
		snprintf(r.bl_version, sizeof(r.bl_version), "?");
	}
	fx_err_clear(&e);
	if (fx_prog_read(d, G4_UID_BASE, r.uid, sizeof(r.uid), &e) == 0) {
		r.uid_valid = true;
		fx_g4_serial_from_uid(r.uid, r.serial, sizeof(r.serial));
	} else {
		memset(r.uid, 0, sizeof(r.uid));
		snprintf(r.serial, sizeof(r.serial), "%.15s", in->serial);
	}
	fx_err_clear(&e);
	if (fx_prog_read(d, FX_G4_FLASHSIZE_ADDR, b, 2, &e) == 0 &&
	    (b[0] | b[1] << 8) != 0xFFFF && (b[0] | b[1] << 8) != 0) {
		r.flash_kib = (uint32_t)(b[0] | b[1] << 8);
	} else {
		a = fx_dfu_alt_for(d, G4_FLASH_BASE);
		for (s = 0; a >= 0 && s < in->layout[a].nsegs; s++)
			r.flash_kib += (in->layout[a].segs[s].end -
					in->layout[a].segs[s].start) / 1024u;
	}
	*id = r;
	return 0;
}

static bool all_ff(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++ != 0xFF)
			return false;
	return true;
}

int fx_prog_flash_blank(struct fx_dfu *d, bool *blank, struct fx_err *err)
{
	const struct fx_dfuse_layout *l = NULL;
	uint8_t *buf;
	size_t s;
	int alt = 0, rc = 0;

	rc = flash_layout(d, &alt, &l, err);
	if (rc)
		return rc;
	buf = malloc(BLANK_CHUNK);
	if (!buf)
		return fx_err_set(err, FX_E_NOMEM, "blank check: out of memory");
	*blank = true;
	for (s = 0; s < l->nsegs && *blank; s++) {
		uint64_t a;

		for (a = l->segs[s].start; a < l->segs[s].end && *blank; a += BLANK_CHUNK) {
			size_t n = l->segs[s].end - a < BLANK_CHUNK ?
					   (size_t)(l->segs[s].end - a) : BLANK_CHUNK;

			if ((rc = fx_dfu_set_alt(d, (uint8_t)alt, err)) ||
			    (rc = fx_dfuse_read(d, (uint32_t)a, buf, n, err))) {
				rc = fail(rc, err, "blank check");
				goto out;
			}
			if (!all_ff(buf, n))
				*blank = false;
		}
	}
out:
	free(buf);
	return rc;
}

int fx_prog_unprotect(struct fx_dfu *d, unsigned timeout_ms, struct fx_err *err)
{
	struct fx_g4_ob ob;
	int rc;

	if ((rc = fx_dfu_set_alt(d, (uint8_t)alt_or(d, G4_FLASH_BASE, 0), err)) ||
	    (rc = fx_dfuse_read_unprotect(d, err)))
		return fail(rc, err, "read unprotect");
	/* spec 3.6: mass erase, option bytes to default, reset */
	rc = wait_bootloader(d, timeout_ms, NULL, "read unprotect", err);
	if (rc)
		return rc;
	rc = fx_prog_ob_read(d, &ob, err);
	if (rc)
		return fx_err_prefix(err, "read unprotect");
	if (fx_g4_ob_rdp_level(&ob) != 0)
		return fx_err_set(err, FX_E_VERIFY,
				  "read unprotect: RDP is 0x%02X after the reset, expected 0xAA (level 0)",
				  fx_g4_ob_rdp(&ob));
	return 0;
}

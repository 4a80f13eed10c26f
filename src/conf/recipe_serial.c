/* recipe_serial.c - the [serial_number] section of a recipe (format and
 * rules in fx/serial.h): every key checked on its line, then the checks
 * that need the whole file (format vs encoding, addresses vs the bank mode
 * and the image, OTP space, the list file with its own PATH:LINE errors). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fx/dfu_wire.h"
#include "fx/image.h"
#include "fx/serial.h"
#include "conf_priv.h"
#include "recipe_serial.h"

#define SEC "serial_number"
#define DBANK_SPLIT 0x08040000u /* bank 2 in dual-bank mode (spec 3.1) */

static const char *const source_names[] = { "counter", "list", "scan", NULL };
static const char *const on_fail_names[] = { "reuse", "void", NULL };

void fx_recipe_serial_defaults(struct fx_recipe *r)
{
	struct fx_serial_conf *c = &r->serial_number;

	memset(c, 0, sizeof(*c));
	c->first = 1;
	c->lease = 1000;
	c->n_fields = 1;
	snprintf(c->fields[0].column, sizeof(c->fields[0].column), "serial");
	c->fields[0].col = -1;
	c->fields[0].enc.kind = FX_SERIAL_ASCII;
	c->fields[0].enc.size = 32;
}

/* The field of column name (write.NAME / encoding.NAME), added if new. */
static struct fx_serial_field *column_field(struct fx_ini *ini, struct fx_serial_conf *c,
					    const char *key, const char *name)
{
	size_t i;

	if (!*name) {
		fx_ini_error(ini, key, "expected a column name after the dot");
		return NULL;
	}
	if (!strcmp(name, "serial")) {
		fx_ini_error(ini, key, "the serial column is written by 'write' and 'encoding'");
		return NULL;
	}
	for (i = 1; i < c->n_fields; i++)
		if (!strcmp(c->fields[i].column, name))
			return &c->fields[i];
	if (c->n_fields == 1 + FX_SERIAL_MAX_FIELDS) {
		fx_ini_error(ini, key, "more than %d columns written", FX_SERIAL_MAX_FIELDS);
		return NULL;
	}
	if (strlen(name) >= sizeof(c->fields[0].column)) {
		fx_ini_error(ini, key, "column name longer than %d characters",
			     (int)sizeof(c->fields[0].column) - 1);
		return NULL;
	}
	memset(&c->fields[c->n_fields], 0, sizeof(c->fields[0]));
	snprintf(c->fields[c->n_fields].column, sizeof(c->fields[0].column), "%s", name);
	c->fields[c->n_fields].col = -1;
	return &c->fields[c->n_fields++];
}

static void key_write(struct fx_ini *ini, const char *key, const char *value,
		      struct fx_serial_field *f)
{
	uint64_t a;

	f->write_line = ini->line;
	if (!strcmp(value, "none")) {
		f->where = FX_SERIAL_WRITE_NONE;
	} else if (!strcmp(value, "otp")) {
		f->where = FX_SERIAL_WRITE_OTP;
	} else if (!strncmp(value, "flash:", 6) && fx_conf_parse_u64(value + 6, 0xFFFFFFFFu, &a)) {
		f->where = FX_SERIAL_WRITE_FLASH;
		f->addr = (uint32_t)a;
	} else {
		f->write_line = 0;
		fx_ini_error(ini, key, "expected flash:ADDR, otp or none, got '%s'", value);
	}
}

static void key_encoding(struct fx_ini *ini, const char *key, const char *value,
			 struct fx_serial_field *f)
{
	struct fx_err e;

	fx_err_clear(&e);
	if (fx_serial_enc_parse(value, &f->enc, &e)) {
		fx_ini_error(ini, key, "%s", e.msg);
		return;
	}
	f->enc_line = ini->line;
}

void fx_recipe_serial_key(struct fx_ini *ini, struct fx_recipe *r,
			  const char *key, const char *value)
{
	struct fx_serial_conf *c = &r->serial_number;
	struct fx_err e;
	uint64_t v;
	int k;

	fx_err_clear(&e);
	if (!strcmp(key, "source")) {
		if (fx_ini_enum(ini, key, value, source_names, &k))
			c->source = (enum fx_serial_source)k;
	} else if (!strcmp(key, "format")) {
		if (fx_serial_fmt_parse(value, &c->fmt, &e))
			fx_ini_error(ini, key, "%s", e.msg);
	} else if (!strcmp(key, "first") || !strcmp(key, "last")) {
		if (!fx_conf_parse_u64(value, INT64_MAX, &v))
			fx_ini_error(ini, key, "expected a number from 0 to %lld, got '%s'",
				     (long long)INT64_MAX, value);
		else if (key[0] == 'f')
			c->first = v;
		else
			c->last = v;
	} else if (!strcmp(key, "pool")) {
		fx_ini_ident(ini, key, value, c->pool, sizeof(c->pool));
	} else if (!strcmp(key, "list")) {
		fx_ini_path(ini, key, value, c->list, sizeof(c->list));
	} else if (!strcmp(key, "write")) {
		key_write(ini, key, value, &c->fields[0]);
	} else if (!strcmp(key, "encoding")) {
		key_encoding(ini, key, value, &c->fields[0]);
	} else if (!strcmp(key, "on_fail")) {
		if (fx_ini_enum(ini, key, value, on_fail_names, &k))
			c->on_fail = (enum fx_serial_on_fail)k;
	} else if (!strcmp(key, "warn_below")) {
		fx_ini_uint(ini, key, value, 0, 1000000000u, &c->warn_below);
	} else if (!strcmp(key, "central")) {
		fx_ini_bool(ini, key, value, &c->central);
	} else if (!strcmp(key, "lease")) {
		fx_ini_uint(ini, key, value, 1, 1000000u, &c->lease);
	} else if (!strncmp(key, "write.", 6)) {
		struct fx_serial_field *f = column_field(ini, c, key, key + 6);

		if (f)
			key_write(ini, key, value, f);
	} else if (!strncmp(key, "encoding.", 9)) {
		struct fx_serial_field *f = column_field(ini, c, key, key + 9);

		if (f)
			key_encoding(ini, key, value, f);
	} else {
		fx_ini_error(ini, key, "unknown key in [%s]", SEC);
	}
}

/* ---- whole-file checks ----------------------------------------------- */

/* A message of the list file (already "PATH:LINE: ..."). */
static void list_diag(void *user, const char *msg)
{
	struct fx_ini *ini = user;

	if (!ini->errors)
		fx_err_set(ini->err, FX_E_CONFIG, "%s", msg);
	ini->errors++;
	if (!fx_conf_diags_add(ini->diags, msg))
		ini->nomem = true;
}

static unsigned key_line(struct fx_ini *ini, const char *key)
{
	unsigned l = fx_ini_key_line(ini, SEC, key);

	return l ? l : fx_ini_section_line(ini, SEC);
}

static const char *field_key(const struct fx_serial_field *f, bool enc, char *buf, size_t cap)
{
	if (!strcmp(f->column, "serial"))
		snprintf(buf, cap, "%s", enc ? "encoding" : "write");
	else
		snprintf(buf, cap, "%s.%s", enc ? "encoding" : "write", f->column);
	return buf;
}

/* The recipe's bank mode: DBANK = 0 in [option_bytes] = single bank. */
static bool single_bank(const struct fx_recipe *r)
{
	const struct fx_recipe_ob *ob = fx_recipe_ob_find(r, "DBANK");

	return ob && ob->value == 0;
}

static void check_encoding_fits(struct fx_ini *ini, struct fx_serial_conf *c)
{
	struct fx_serial_field *f = &c->fields[0];
	unsigned l = f->enc_line ? f->enc_line : key_line(ini, "format");
	char en[16];

	fx_serial_enc_name(&f->enc, en, sizeof(en));
	switch (f->enc.kind) {
	case FX_SERIAL_ASCII: {
		size_t n = fx_serial_fmt_max_len(&c->fmt, c->last, 0);

		if (n > f->enc.size)
			fx_ini_error_at(ini, l, "encoding",
					"values of format '%s' up to last = %llu have %zu characters%s, %s holds %u",
					c->fmt.text, (unsigned long long)c->last, n,
					c->fmt.station ? " without {station}" : "", en, f->enc.size);
		break;
	}
	case FX_SERIAL_U32LE:
	case FX_SERIAL_U64LE: {
		uint64_t max = f->enc.kind == FX_SERIAL_U32LE ? 0xFFFFFFFFull : UINT64_MAX - 1;
		uint64_t mv;

		if (!fx_serial_fmt_numeric(&c->fmt)) {
			fx_ini_error_at(ini, l, "encoding",
					"format '%s' makes values that are not only digits: %s needs a decimal number",
					c->fmt.text, en);
			break;
		}
		mv = fx_serial_fmt_max_value(&c->fmt, c->last);
		if (mv > max)
			fx_ini_error_at(ini, l, "encoding",
					"values of format '%s' up to last = %llu do not fit %s (largest %llu)",
					c->fmt.text, (unsigned long long)c->last, en,
					(unsigned long long)max);
		break;
	}
	case FX_SERIAL_BYTES:
		fx_ini_error_at(ini, l, "encoding",
				"%s takes hex values: not for a counter (use ascii:N, u32le or u64le)", en);
		break;
	}
}

static void check_flash(struct fx_ini *ini, const struct fx_recipe *r,
			const struct fx_serial_field *f)
{
	uint64_t end = (uint64_t)f->addr + f->enc.size;
	char k[80];

	field_key(f, false, k, sizeof(k));
	if (f->addr & 7u) {
		fx_ini_error_at(ini, f->write_line, k,
				"0x%08X is not double-word aligned (a multiple of 8)", f->addr);
		return;
	}
	if (f->addr < G4_FLASH_BASE || end > (uint64_t)G4_FLASH_BASE + G4_FLASH_SIZE) {
		fx_ini_error_at(ini, f->write_line, k,
				"0x%08X..0x%08llX (%u bytes) is outside the flash 0x%08X..0x%08X",
				f->addr, (unsigned long long)(end - 1), f->enc.size,
				G4_FLASH_BASE, G4_FLASH_BASE + G4_FLASH_SIZE - 1);
		return;
	}
	if (!single_bank(r) && f->addr < DBANK_SPLIT && end > DBANK_SPLIT)
		fx_ini_error_at(ini, f->write_line, k,
				"0x%08X..0x%08llX crosses the bank boundary 0x%08X (dual-bank mode: the recipe does not set DBANK = 0)",
				f->addr, (unsigned long long)(end - 1), DBANK_SPLIT);
}

/* Image bytes that are not 0xFF under a flash field. */
static void check_image(struct fx_ini *ini, const struct fx_recipe *r,
			const struct fx_serial_conf *c)
{
	struct fx_image *img;
	struct fx_err e;
	size_t i, s;

	fx_err_clear(&e);
	img = fx_image_load(r->firmware, FX_IMAGE_AUTO, r->firmware_raw, r->address, &e);
	if (!img) {
		/* reported by whoever loads the image; only the overlap is ours */
		if (e.code == FX_E_NOMEM)
			ini->nomem = true;
		return;
	}
	for (i = 0; i < c->n_fields; i++) {
		const struct fx_serial_field *f = &c->fields[i];
		uint32_t a0 = f->addr, a1 = f->addr + f->enc.size;
		char k[80];

		if (f->where != FX_SERIAL_WRITE_FLASH || !f->write_line)
			continue;
		for (s = 0; s < img->nsegs; s++) {
			const struct fx_image_seg *g = &img->segs[s];
			uint32_t lo = g->addr > a0 ? g->addr : a0;
			uint32_t hi = g->addr + g->len < a1 ? g->addr + g->len : a1;
			uint32_t a;

			for (a = lo; a < hi; a++)
				if (g->data[a - g->addr] != 0xFF) {
					fx_ini_error_at(ini, f->write_line, field_key(f, false, k, sizeof(k)),
							"0x%08X..0x%08X overlaps the image '%s' (0x%08X holds 0x%02X, not 0xFF)",
							a0, a1 - 1, r->firmware, a, g->data[a - g->addr]);
					s = img->nsegs - 1;
					break;
				}
		}
	}
	fx_image_free(img);
}

static void check_list(struct fx_ini *ini, struct fx_serial_conf *c)
{
	struct fx_serial_list *l = NULL;
	struct fx_err e;
	size_t i, j;
	int rc;

	fx_err_clear(&e);
	rc = fx_serial_list_load(c->list, &l, list_diag, ini, &e);
	if (rc == FX_E_NOMEM) {
		ini->nomem = true;
		return;
	}
	if (rc == FX_E_FILE) {
		fx_ini_error_at(ini, key_line(ini, "list"), "list", "%s", e.msg);
		return;
	}
	if (rc)
		return;
	snprintf(c->list_sha256, sizeof(c->list_sha256), "%s", l->sha256);
	c->list_rows = l->n_rows;
	c->fields[0].col = l->serial_col;
	for (i = 1; i < c->n_fields; i++) {
		struct fx_serial_field *f = &c->fields[i];
		char k[80];

		f->col = fx_serial_list_col(l, f->column);
		if (f->col < 0)
			fx_ini_error_at(ini, f->write_line ? f->write_line : f->enc_line,
					field_key(f, f->write_line == 0, k, sizeof(k)),
					"no column '%s' in '%s'", f->column, c->list);
	}
	for (j = 0; j < l->n_rows; j++)
		for (i = 0; i < c->n_fields; i++) {
			const struct fx_serial_field *f = &c->fields[i];
			uint8_t buf[FX_SERIAL_ASCII_MAX];
			char msg[FX_SERIAL_PATH_MAX + 400];

			if (f->col < 0)
				continue;
			fx_err_clear(&e);
			if (fx_serial_encode(&f->enc, l->rows[j][f->col], buf, &e)) {
				snprintf(msg, sizeof(msg), "%s:%u: column '%s': %s", c->list,
					 l->lines[j], f->column, e.msg);
				list_diag(ini, msg);
			}
		}
	fx_serial_list_free(l);
}

void fx_recipe_serial_check(struct fx_ini *ini, struct fx_recipe *r, bool firmware_ok)
{
	struct fx_serial_conf *c = &r->serial_number;
	unsigned sl = fx_ini_section_line(ini, SEC), l;
	size_t i, j;

	if (!sl)
		return;
	c->enabled = true;
	c->line = sl;
	if (!fx_ini_key_line(ini, SEC, "source"))
		fx_ini_error_at(ini, sl, "source", "missing in [%s]", SEC);
	if (!c->pool[0])
		snprintf(c->pool, sizeof(c->pool), "%s", r->name);

	/* what the source needs, and what it does not take */
	if (c->source == FX_SERIAL_COUNTER) {
		if (!fx_ini_key_line(ini, SEC, "format"))
			fx_ini_error_at(ini, sl, "format", "missing in [%s] (source = counter)", SEC);
		else if (c->fmt.text[0] && c->fmt.n_count != 1)
			fx_ini_error_at(ini, key_line(ini, "format"), "format",
					"'%s' must hold {n} or {n:0W} exactly once (it has %u)",
					c->fmt.text, c->fmt.n_count);
		if (!fx_ini_key_line(ini, SEC, "last"))
			fx_ini_error_at(ini, sl, "last", "missing in [%s] (source = counter)", SEC);
		else if (c->first > c->last)
			fx_ini_error_at(ini, key_line(ini, "first"), "first",
					"%llu is greater than last = %llu",
					(unsigned long long)c->first, (unsigned long long)c->last);
		else if (c->fmt.n_count == 1 && fx_ini_key_line(ini, SEC, "format"))
			check_encoding_fits(ini, c);
	} else {
		static const char *const counter_only[] = { "format", "first", "last" };

		for (i = 0; i < 3; i++)
			if ((l = fx_ini_key_line(ini, SEC, counter_only[i])) != 0)
				fx_ini_error_at(ini, l, counter_only[i], "only with source = counter (source = %s)",
						fx_serial_source_name(c->source));
	}
	if (c->source != FX_SERIAL_COUNTER) {
		static const char *const central_only[] = { "central", "lease" };

		for (i = 0; i < 2; i++)
			if ((l = fx_ini_key_line(ini, SEC, central_only[i])) != 0)
				fx_ini_error_at(ini, l, central_only[i],
						"only with source = counter (source = %s)",
						fx_serial_source_name(c->source));
	} else if (!c->central && (l = fx_ini_key_line(ini, SEC, "lease")) != 0) {
		fx_ini_error_at(ini, l, "lease", "only with central = yes");
	}
	if (c->source == FX_SERIAL_LIST) {
		if (!fx_ini_key_line(ini, SEC, "list"))
			fx_ini_error_at(ini, sl, "list", "missing in [%s] (source = list)", SEC);
	} else if ((l = fx_ini_key_line(ini, SEC, "list")) != 0) {
		fx_ini_error_at(ini, l, "list", "only with source = list (source = %s)",
				fx_serial_source_name(c->source));
	}
	for (i = 1; i < c->n_fields; i++) {
		struct fx_serial_field *f = &c->fields[i];
		char k[80];

		if (c->source != FX_SERIAL_LIST)
			fx_ini_error_at(ini, f->write_line ? f->write_line : f->enc_line,
					field_key(f, f->write_line == 0, k, sizeof(k)),
					"columns are written only with source = list");
		else if (!f->write_line)
			fx_ini_error_at(ini, f->enc_line, field_key(f, true, k, sizeof(k)),
					"without write.%s", f->column);
		else if (!f->enc_line)
			fx_ini_error_at(ini, f->write_line, field_key(f, false, k, sizeof(k)),
					"needs encoding.%s", f->column);
	}

	/* the unit serial: uid for numbers we give, the scan for scan */
	l = fx_ini_key_line(ini, "program", "serial");
	if (c->source == FX_SERIAL_SCAN && r->serial == FX_RECIPE_SERIAL_UID)
		fx_ini_error_at(ini, key_line(ini, "source"), "source",
				"scan needs [program] serial = scan or both (the operator scans the label)");
	else if (c->source != FX_SERIAL_SCAN && r->serial != FX_RECIPE_SERIAL_UID)
		fx_ini_error_at(ini, l, "serial",
				"'%s' with [serial_number] source = %s: the unit serial is the allocated one (use serial = uid)",
				fx_recipe_serial_name(r->serial), fx_serial_source_name(c->source));

	/* where the bytes go */
	for (i = 0; i < c->n_fields; i++)
		if (c->fields[i].where == FX_SERIAL_WRITE_FLASH && c->fields[i].write_line)
			check_flash(ini, r, &c->fields[i]);
	for (i = 0; i < c->n_fields; i++)
		for (j = 0; j < i; j++) {
			const struct fx_serial_field *a = &c->fields[i], *b = &c->fields[j];
			char k[80];

			if (a->where != FX_SERIAL_WRITE_FLASH || b->where != FX_SERIAL_WRITE_FLASH)
				continue;
			if (a->addr < b->addr + b->enc.size && b->addr < a->addr + a->enc.size)
				fx_ini_error_at(ini, a->write_line, field_key(a, false, k, sizeof(k)),
						"0x%08X..0x%08X overlaps '%s' at 0x%08X..0x%08X",
						a->addr, a->addr + a->enc.size - 1, b->column, b->addr,
						b->addr + b->enc.size - 1);
		}
	{
		unsigned need = fx_serial_otp_record_size(c);

		if (need > FX_SERIAL_OTP_SIZE) {
			const struct fx_serial_field *f = &c->fields[0];
			char k[80];

			for (i = 0; i < c->n_fields; i++)
				if (c->fields[i].where == FX_SERIAL_WRITE_OTP)
					f = &c->fields[i];
			fx_ini_error_at(ini, f->write_line, field_key(f, false, k, sizeof(k)),
					"the OTP record takes %u bytes (every field rounded up to 8), the OTP has %u",
					need, FX_SERIAL_OTP_SIZE);
		}
	}
	if (firmware_ok)
		check_image(ini, r, c);
	if (c->source == FX_SERIAL_LIST && c->list[0])
		check_list(ini, c);
}

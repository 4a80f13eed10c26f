/* recipe.c - recipe files (format in fx/conf.h): what to program and how.
 * Strict: every unknown, duplicate, missing or bad item is an error with
 * its file and line; the firmware must exist and match its SHA-256. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fx/bytes.h"
#include "fx/conf.h"
#include "fx/dfu_wire.h"
#include "fx/stm32g4.h"
#include "conf_priv.h"
#include "ini_reader.h"
#include "recipe_serial.h"

#define TIMEOUT_MAX 600000u

static const char *const erase_names[] = { "pages", "mass", NULL };
static const char *const verify_names[] = { "readback", "none", NULL };
static const char *const entry_names[] = { "gpio", "app", NULL };
static const char *const serial_names[] = { "uid", "scan", "both", NULL };
static const char *const target_names[] = { "stm32g474xe", NULL };

/* names[i] of a NULL-terminated list, "?" past its end */
static const char *name_at(const char *const *names, unsigned i)
{
	unsigned k;

	for (k = 0; names[k]; k++)
		if (k == i)
			return names[k];
	return "?";
}

const char *fx_recipe_erase_name(enum fx_recipe_erase e)
{
	return name_at(erase_names, (unsigned)e);
}

const char *fx_recipe_verify_name(enum fx_recipe_verify v)
{
	return name_at(verify_names, (unsigned)v);
}

const char *fx_recipe_entry_name(enum fx_recipe_entry e)
{
	return name_at(entry_names, (unsigned)e);
}

const char *fx_recipe_serial_name(enum fx_recipe_serial s)
{
	return name_at(serial_names, (unsigned)s);
}

struct rparse {
	struct fx_recipe *r;
	bool have_sha;
	bool firmware_ok; /* file key parsed into r->firmware */
	bool probe_explicit; /* probe = flash|app (not on/off) */
};

/* A word fx_ini_bool() accepts. */
static bool is_bool_word(const char *v)
{
	static const char *const w[] = { "on", "off", "yes", "no", "true", "false",
					 "1", "0" };
	size_t i;

	for (i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		if (!strcasecmp(v, w[i]))
			return true;
	return false;
}

static const char *const sections[] = {
	"recipe", "firmware", "option_bytes", "program", "timeouts", "app_check",
	"serial_number", NULL,
};

static bool on_section(struct fx_ini *ini, const char *section, void *user)
{
	size_t i;

	(void)user;
	for (i = 0; sections[i]; i++)
		if (!strcmp(section, sections[i]))
			return true;
	fx_ini_error(ini, NULL,
		     "section '%s': unknown section (expected recipe, firmware, option_bytes, program, timeouts, app_check or serial_number)",
		     section);
	return false;
}

static bool parse_u32(const char *s, uint32_t *out)
{
	uint64_t v;

	if (!fx_conf_parse_u64(s, 0xFFFFFFFFu, &v))
		return false;
	*out = (uint32_t)v;
	return true;
}

static void key_option_byte(struct fx_ini *ini, struct fx_recipe *r,
			    const char *key, const char *value)
{
	const struct fx_g4_ob_field *f;
	struct fx_recipe_ob *ob;
	uint32_t v, max;

	if (!strcasecmp(key, "RDP")) {
		fx_ini_error(ini, key, "set read protection with 'rdp' in [program] (it is written last)");
		return;
	}
	f = fx_g4_ob_field_find(key);
	if (!f) {
		fx_ini_error(ini, key, "unknown option byte");
		return;
	}
	max = f->width >= 32 ? 0xFFFFFFFFu : (uint32_t)((1ull << f->width) - 1);
	if (!parse_u32(value, &v) || v > max) {
		fx_ini_error(ini, key, "expected a number from 0 to %lu (%u-bit field), got '%s'",
			     (unsigned long)max, (unsigned)f->width, value);
		return;
	}
	if (r->n_ob == FX_RECIPE_MAX_OB) {
		fx_ini_error(ini, key, "too many option bytes (limit %d)", FX_RECIPE_MAX_OB);
		return;
	}
	ob = &r->ob[r->n_ob++];
	snprintf(ob->name, sizeof(ob->name), "%s", f->name);
	ob->value = v;
	snprintf(ob->text, sizeof(ob->text), "%s=%lu", f->name, (unsigned long)v);
	ob->line = ini->line;
}

static bool parse_vidpid(const char *s, uint16_t *vid, uint16_t *pid)
{
	unsigned v = 0, p = 0;
	size_t i;

	if (strlen(s) != 9 || s[4] != ':')
		return false;
	for (i = 0; i < 9; i++) {
		int d;

		if (i == 4)
			continue;
		d = fx_hex_digit(s[i]);
		if (d < 0)
			return false;
		if (i < 4)
			v = v * 16 + (unsigned)d;
		else
			p = p * 16 + (unsigned)d;
	}
	*vid = (uint16_t)v;
	*pid = (uint16_t)p;
	return true;
}

static void unknown_key(struct fx_ini *ini, const char *section, const char *key)
{
	fx_ini_error(ini, key, "unknown key in [%s]", section);
}

static void on_key(struct fx_ini *ini, const char *section, const char *key,
		   const char *value, void *user)
{
	struct rparse *rp = user;
	struct fx_recipe *r = rp->r;
	int e;

	if (!strcmp(section, "recipe")) {
		if (!strcmp(key, "name"))
			fx_ini_ident(ini, key, value, r->name, sizeof(r->name));
		else if (!strcmp(key, "version"))
			fx_ini_ident(ini, key, value, r->version, sizeof(r->version));
		else if (!strcmp(key, "target")) {
			if (fx_ini_enum(ini, key, value, target_names, &e))
				snprintf(r->target, sizeof(r->target), "%s", value);
		} else
			unknown_key(ini, section, key);
	} else if (!strcmp(section, "firmware")) {
		if (!strcmp(key, "file")) {
			rp->firmware_ok = fx_ini_path(ini, key, value, r->firmware,
						      sizeof(r->firmware));
		} else if (!strcmp(key, "sha256")) {
			size_t i, n = strlen(value);

			for (i = 0; i < n; i++)
				if (!strchr("0123456789abcdefABCDEF", value[i]))
					break;
			if (n != 64 || i != n) {
				fx_ini_error(ini, key, "expected 64 hex digits, got '%s'", value);
				return;
			}
			for (i = 0; i < 64; i++)
				r->firmware_sha256[i] = (char)(value[i] >= 'A' && value[i] <= 'F'
							       ? value[i] - 'A' + 'a' : value[i]);
			r->firmware_sha256[64] = '\0';
			rp->have_sha = true;
		} else if (!strcmp(key, "address")) {
			if (!parse_u32(value, &r->address) || (r->address & 7u))
				fx_ini_error(ini, key, "expected an 8-byte aligned address (decimal or 0x hex), got '%s'",
					     value);
		} else
			unknown_key(ini, section, key);
	} else if (!strcmp(section, "option_bytes")) {
		key_option_byte(ini, r, key, value);
	} else if (!strcmp(section, "program")) {
		if (!strcmp(key, "erase")) {
			if (fx_ini_enum(ini, key, value, erase_names, &e))
				r->erase = (enum fx_recipe_erase)e;
		} else if (!strcmp(key, "verify")) {
			if (fx_ini_enum(ini, key, value, verify_names, &e))
				r->verify = (enum fx_recipe_verify)e;
		} else if (!strcmp(key, "entry")) {
			if (fx_ini_enum(ini, key, value, entry_names, &e))
				r->entry = (enum fx_recipe_entry)e;
		} else if (!strcmp(key, "probe")) {
			/* flash|app, or on/off: on = the entry's default */
			if (!strcmp(value, "flash") || !strcmp(value, "app")) {
				r->probe = true;
				r->probe_mode = value[0] == 'f' ? FX_RECIPE_PROBE_FLASH :
								  FX_RECIPE_PROBE_APP;
				rp->probe_explicit = true;
			} else if (is_bool_word(value)) {
				fx_ini_bool(ini, key, value, &r->probe);
				rp->probe_explicit = false;
			} else {
				fx_ini_error(ini, key, "expected flash, app, on or off, got '%s'",
					     value);
			}
		} else if (!strcmp(key, "skip_identical")) {
			fx_ini_bool(ini, key, value, &r->skip_identical);
		} else if (!strcmp(key, "serial")) {
			if (fx_ini_enum(ini, key, value, serial_names, &e))
				r->serial = (enum fx_recipe_serial)e;
		} else if (!strcmp(key, "rdp")) {
			unsigned v;

			if (!strcmp(value, "2"))
				fx_ini_error(ini, key, "level 2 is permanent (the chip can never be reprogrammed): refused");
			else if (fx_ini_uint(ini, key, value, 0, 1, &v))
				r->rdp = (int)v;
		} else
			unknown_key(ini, section, key);
	} else if (!strcmp(section, "timeouts")) {
		const struct fx_conf_uint_key t[] = {
			{ "probe_ms", &r->timeouts.probe_ms },
			{ "enter_ms", &r->timeouts.enter_ms },
			{ "option_bytes_ms", &r->timeouts.option_bytes_ms },
			{ "erase_ms", &r->timeouts.erase_ms },
			{ "program_ms", &r->timeouts.program_ms },
			{ "verify_ms", &r->timeouts.verify_ms },
			{ "rdp_ms", &r->timeouts.rdp_ms },
		};

		if (!fx_conf_uint_key_set(ini, t, sizeof(t) / sizeof(t[0]), key, value, 1,
					  TIMEOUT_MAX))
			unknown_key(ini, section, key);
	} else if (!strcmp(section, "app_check")) {
		if (!strcmp(key, "usb")) {
			if (!parse_vidpid(value, &r->app.vid, &r->app.pid))
				fx_ini_error(ini, key, "expected VID:PID in hex (e.g. 1209:0001), got '%s'",
					     value);
			else if (r->app.vid == ST_DFU_VID && r->app.pid == ST_DFU_PID)
				fx_ini_error(ini, key, "%s is the ROM bootloader, not an application", value);
		} else if (!strcmp(key, "within_ms")) {
			fx_ini_uint(ini, key, value, 1, TIMEOUT_MAX, &r->app.within_ms);
		} else
			unknown_key(ini, section, key);
	} else if (!strcmp(section, "serial_number")) {
		fx_recipe_serial_key(ini, r, key, value);
	}
}

void fx_recipe_defaults(struct fx_recipe *r)
{
	memset(r, 0, sizeof(*r));
	r->erase = FX_RECIPE_ERASE_PAGES;
	r->verify = FX_RECIPE_VERIFY_READBACK;
	r->entry = FX_RECIPE_ENTRY_GPIO;
	r->probe = true;
	r->serial = FX_RECIPE_SERIAL_UID;
	r->timeouts.probe_ms = 1500;
	r->timeouts.enter_ms = 3000;
	r->timeouts.option_bytes_ms = 5000;
	r->timeouts.erase_ms = 30000;
	r->timeouts.program_ms = 60000;
	r->timeouts.verify_ms = 60000;
	r->timeouts.rdp_ms = 5000;
	r->app.within_ms = 1000;
	fx_recipe_serial_defaults(r);
}

static void require(struct fx_ini *ini, const char *section, const char *key)
{
	unsigned sl = fx_ini_section_line(ini, section);

	if (sl && !fx_ini_key_line(ini, section, key))
		fx_ini_error_at(ini, sl, key, "missing in [%s]", section);
}

/* Checks that need the whole file. */
static void check_whole(struct fx_ini *ini, void *user)
{
	struct rparse *rp = user;
	struct fx_recipe *r = rp->r;
	static const char *const required[] = { "recipe", "firmware" };
	bool fw_ok = false; /* the firmware file exists (for [serial_number]) */
	unsigned l;
	size_t i;

	for (i = 0; i < 2; i++)
		if (!fx_ini_section_line(ini, required[i]))
			fx_ini_error_at(ini, 0, NULL, "section '%s': missing", required[i]);
	require(ini, "recipe", "name");
	require(ini, "recipe", "version");
	require(ini, "recipe", "target");
	require(ini, "firmware", "file");
	require(ini, "firmware", "sha256");
	if (fx_ini_section_line(ini, "app_check")) {
		require(ini, "app_check", "usb");
		r->app.enabled = fx_ini_key_line(ini, "app_check", "usb") != 0;
	}

	/* the firmware must exist and be the one the recipe names */
	if (rp->firmware_ok) {
		char hex[65];
		struct fx_err e;

		l = fx_ini_key_line(ini, "firmware", "file");
		fx_err_clear(&e);
		if (fx_conf_sha256_file(r->firmware, hex, &e)) {
			if (e.sys_errno == ENOMEM)
				ini->nomem = true;
			else
				fx_ini_error_at(ini, l, "file", "%s", e.msg);
		}
		else if ((fw_ok = true) && rp->have_sha && strcmp(hex, r->firmware_sha256))
			fx_ini_error_at(ini, fx_ini_key_line(ini, "firmware", "sha256"),
					"sha256", "does not match '%s' (its sha256 is %s)",
					r->firmware, hex);
	}

	/* a raw .bin has no addresses of its own: [firmware] address, by
	 * default the flash base; other formats carry theirs */
	{
		size_t n = strlen(r->firmware);

		r->firmware_raw = n > 4 && !strcasecmp(r->firmware + n - 4, ".bin");
		l = fx_ini_key_line(ini, "firmware", "address");
		if (l && !r->firmware_raw)
			fx_ini_error_at(ini, l, "address",
					"only a raw .bin takes a load address ('%s' carries its own)",
					r->firmware);
		if (!l)
			r->address = 0x08000000u;
	}

	/* entry = app talks to the application's HID interface */
	l = fx_ini_key_line(ini, "program", "entry");
	if (r->entry == FX_RECIPE_ENTRY_APP && !r->app.enabled)
		fx_ini_error_at(ini, l, "entry",
				"'app' needs the application's USB ID ([app_check] usb = VID:PID)");
	/* probe: flash (classify in the bootloader) is the default with entry
	 * = gpio; entry = app needs the application running: probe = app */
	if (!rp->probe_explicit)
		r->probe_mode = r->entry == FX_RECIPE_ENTRY_APP ? FX_RECIPE_PROBE_APP :
								  FX_RECIPE_PROBE_FLASH;
	else if (r->probe_mode == FX_RECIPE_PROBE_FLASH && r->entry == FX_RECIPE_ENTRY_APP)
		fx_ini_error_at(ini, fx_ini_key_line(ini, "program", "probe"), "probe",
				"'flash' needs entry = gpio (entry = app asks the running application to jump: probe = app)");

	/* Option bytes that would lock the station out of the bootloader:
	 * it enters by holding BOOT0 high (spec 2.3). */
	for (i = 0; i < r->n_ob; i++) {
		const struct fx_recipe_ob *ob = &r->ob[i];

		if (!strcasecmp(ob->name, "nSWBOOT0") && ob->value == 0)
			fx_ini_error_at(ini, ob->line, ob->name,
					"0 takes BOOT0 from the nBOOT0 bit and ignores the BOOT0 pin: the station could not enter the bootloader again");
		else if (!strcasecmp(ob->name, "nBOOT1") && ob->value == 0)
			fx_ini_error_at(ini, ob->line, ob->name,
					"0 boots SRAM instead of the bootloader when BOOT0 is high: the station could not enter the bootloader again");
		else if (!strcasecmp(ob->name, "BOOT_LOCK") && ob->value == 1)
			fx_ini_error_at(ini, ob->line, ob->name,
					"1 always boots main flash: the station could not enter the bootloader again");
		else if (!strcasecmp(ob->name, "NRST_MODE") && (ob->value == 0 || ob->value == 2))
			fx_ini_error_at(ini, ob->line, ob->name,
					"%u %s: the station resets the board through NRST",
					(unsigned)ob->value,
					ob->value == 2 ? "turns the NRST pin into a GPIO" : "is reserved");
	}
	fx_recipe_serial_check(ini, r, fw_ok);
}

int fx_recipe_load(const char *path, struct fx_recipe **out,
		   struct fx_conf_diags *diags, struct fx_err *err)
{
	struct rparse rp = { NULL, false, false, false };
	int rc;

	rp.r = malloc(sizeof(*rp.r));
	if (!rp.r)
		return fx_err_set(err, FX_E_NOMEM, "out of memory loading '%s'", path);
	fx_recipe_defaults(rp.r);
	snprintf(rp.r->path, sizeof(rp.r->path), "%s", path);
	rc = fx_conf_ini_load(path, on_section, on_key, check_whole, &rp, rp.r->sha256,
			      diags, err);
	if (rc)
		goto err_free;
	*out = rp.r;
	return 0;

err_free:
	free(rp.r);
	return rc;
}

void fx_recipe_free(struct fx_recipe *r)
{
	free(r);
}

const struct fx_recipe_ob *fx_recipe_ob_find(const struct fx_recipe *r,
					     const char *name)
{
	size_t i;

	for (i = 0; i < r->n_ob; i++)
		if (!strcasecmp(r->ob[i].name, name))
			return &r->ob[i];
	return NULL;
}

int fx_recipe_ob_want(const struct fx_recipe *r, const struct fx_g4_ob *cur,
		      struct fx_g4_ob *want, bool *differs, bool *dbank_changes,
		      struct fx_err *err)
{
	struct fx_g4_ob w = *cur;
	bool diff = false, dbank = false;
	size_t i;
	int rc;

	for (i = 0; i < r->n_ob; i++) {
		const struct fx_g4_ob_field *f = fx_g4_ob_field_find(r->ob[i].name);

		if (!f)
			return fx_err_set(err, FX_E_CONFIG, "option byte '%s': unknown",
					  r->ob[i].name);
		if (fx_g4_ob_get(cur, f) != r->ob[i].value) {
			diff = true;
			if (!strcasecmp(f->name, "DBANK"))
				dbank = true;
		}
		rc = fx_g4_ob_set(&w, f, r->ob[i].value, err);
		if (rc)
			return rc;
	}
	*want = w;
	if (differs)
		*differs = diff;
	if (dbank_changes)
		*dbank_changes = dbank;
	return 0;
}

int fx_recipe_check_firmware(const struct fx_recipe *r, const uint8_t *data,
			     size_t len, struct fx_err *err)
{
	char hex[65];

	fx_conf_sha256_buf(data, len, hex);
	if (strcmp(hex, r->firmware_sha256))
		return fx_err_set(err, FX_E_HASH, "firmware '%s': sha256 %s, recipe says %s",
				  r->firmware, hex, r->firmware_sha256);
	return 0;
}

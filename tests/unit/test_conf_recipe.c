/* test_conf_recipe.c - recipe parsing: the golden recipe, defaults, every
 * error path with its exact message, and the ini reader's own checks
 * (line numbers, long lines, syntax, duplicates) that recipes share with
 * stations. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf_fix.h"
#include "fx/conf.h"
#include "fx/stm32g4.h"


static char dir[256];
static char rpath[512];

static int setup(void **state)
{
	(void)state;
	return fxt_conf_recipe_dir(dir, sizeof(dir), "/tmp/fx-test-recipe-XXXXXX", rpath, sizeof(rpath));
}

static int teardown(void **state)
{
	(void)state;
	return fxt_conf_rmdir(dir);
}

/* A valid recipe with `extra` appended (sections or keys). */
static void write_recipe(const char *extra)
{
	char text[8192];

	snprintf(text, sizeof(text),
		 "[recipe]\n"
		 "name = demo\n"
		 "version = 1.0\n"
		 "target = stm32g474xe\n"
		 "[firmware]\n"
		 "file = fw.bin\n"
		 "sha256 = " FXT_ABC_SHA "\n"
		 "%s",
		 extra);
	fxt_conf_write(rpath, text);
}

/* Load rpath and expect FX_E_CONFIG whose first message is
 * "<rpath>:<where>". */
static void expect_error(const char *where)
{
	fxt_conf_expect_error(FX_CONF_RECIPE, rpath, where);
}

/* A valid recipe with `extra` appended, loaded (it must load). */
static struct fx_recipe *load_with(const char *extra)
{
	struct fx_recipe *r = NULL;
	struct fx_err err;

	write_recipe(extra);
	if (fx_recipe_load(rpath, &r, NULL, &err))
		fail_msg("load: %s", err.msg);
	return r;
}

static void error_for(const char *extra, const char *where)
{
	write_recipe(extra);
	expect_error(where);
}

static void raw_error(const char *text, const char *where)
{
	fxt_conf_write(rpath, text);
	expect_error(where);
}

/* What [program] and [timeouts] set (timeouts in struct order). */
struct program_want {
	enum fx_recipe_erase erase;
	enum fx_recipe_verify verify;
	enum fx_recipe_entry entry;
	bool probe;
	enum fx_recipe_serial serial;
	int rdp;
	struct fx_recipe_timeouts t;
};

static void assert_program(const struct fx_recipe *r, const struct program_want *w)
{
	assert_int_equal(r->erase, w->erase);
	assert_int_equal(r->verify, w->verify);
	assert_int_equal(r->entry, w->entry);
	assert_int_equal(r->probe, w->probe);
	assert_int_equal(r->serial, w->serial);
	assert_int_equal(r->rdp, w->rdp);
	assert_int_equal(r->timeouts.probe_ms, w->t.probe_ms);
	assert_int_equal(r->timeouts.enter_ms, w->t.enter_ms);
	assert_int_equal(r->timeouts.option_bytes_ms, w->t.option_bytes_ms);
	assert_int_equal(r->timeouts.erase_ms, w->t.erase_ms);
	assert_int_equal(r->timeouts.program_ms, w->t.program_ms);
	assert_int_equal(r->timeouts.verify_ms, w->t.verify_ms);
	assert_int_equal(r->timeouts.rdp_ms, w->t.rdp_ms);
}

static void test_golden(void **state)
{
	const char *path = "tests/data/conf/recipe-full.ini";
	struct fx_recipe *r = NULL;
	struct fx_err err;
	char sha[65];

	(void)state;
	assert_int_equal(fx_recipe_load(path, &r, NULL, &err), 0);
	assert_string_equal(r->path, path);
	assert_string_equal(r->name, "full-recipe");
	assert_string_equal(r->version, "2.3.1-rc1");
	assert_string_equal(r->target, "stm32g474xe");
	assert_string_equal(r->firmware, "tests/data/conf/fw-abc.bin");
	assert_string_equal(r->firmware_sha256, FXT_ABC_SHA); /* given in upper case */
	assert_int_equal(r->n_ob, 3);
	assert_string_equal(r->ob[0].name, "DBANK");   /* canonical spelling */
	assert_int_equal(r->ob[0].value, 0);
	assert_string_equal(r->ob[0].text, "DBANK=0");
	assert_string_equal(r->ob[1].name, "BOR_LEV");
	assert_int_equal(r->ob[1].value, 4);
	assert_string_equal(r->ob[2].text, "nRST_STOP=1"); /* 0x1 */
	assert_int_equal(r->ob[2].line, 17);
	assert_program(r, &(const struct program_want){
		FX_RECIPE_ERASE_MASS, FX_RECIPE_VERIFY_NONE, FX_RECIPE_ENTRY_APP, false,
		FX_RECIPE_SERIAL_BOTH, 1, { 2000, 4000, 6000, 1000, 2000, 3000, 7000 } });
	assert_true(r->app.enabled);
	assert_int_equal(r->app.vid, 0x1209);
	assert_int_equal(r->app.pid, 0xABCD);
	assert_int_equal(r->app.within_ms, 750);
	/* the recipe's own hash, for the run records */
	assert_int_equal(fx_conf_sha256_file(path, sha, &err), 0);
	assert_string_equal(r->sha256, sha);
	assert_non_null(fx_recipe_ob_find(r, "dbank"));
	assert_null(fx_recipe_ob_find(r, "nBOOT0"));
	assert_string_equal(fx_recipe_erase_name(r->erase), "mass");
	assert_string_equal(fx_recipe_verify_name(r->verify), "none");
	assert_string_equal(fx_recipe_entry_name(r->entry), "app");
	assert_string_equal(fx_recipe_serial_name(r->serial), "both");
	fx_recipe_free(r);
}

static void test_defaults(void **state)
{
	struct fx_recipe *r;
	char fw[600];

	(void)state;
	r = load_with("");
	snprintf(fw, sizeof(fw), "%s/fw.bin", dir); /* relative to the recipe */
	assert_string_equal(r->firmware, fw);
	assert_int_equal(r->n_ob, 0);
	assert_program(r, &(const struct program_want){
		FX_RECIPE_ERASE_PAGES, FX_RECIPE_VERIFY_READBACK, FX_RECIPE_ENTRY_GPIO, true,
		FX_RECIPE_SERIAL_UID, 0, { 1500, 3000, 5000, 30000, 60000, 60000, 5000 } });
	assert_false(r->app.enabled);
	assert_int_equal(r->app.within_ms, 1000);
	fx_recipe_free(r);
	fx_recipe_free(NULL);
}

static void test_absolute_firmware_and_formats(void **state)
{
	struct fx_recipe *r = NULL;
	struct fx_err err;
	char text[2048];

	(void)state;
	/* BOM, CRLF, comments, inline comment, blank-indented keys, ':' */
	snprintf(text, sizeof(text),
		 "\xEF\xBB\xBF; a comment\r\n"
		 "# another\r\n"
		 "[recipe]\r\n"
		 "  name = demo\r\n"
		 "\tversion: 7\r\n"
		 "target = stm32g474xe ; the only one\r\n"
		 "\r\n"
		 "[ firmware ]\r\n"
		 "file = %s/fw.bin\r\n"
		 "sha256 = " FXT_ABC_SHA "\r\n"
		 "[program]\r\n"
		 "probe = YES\r\n"
		 "erase = mass;not a comment without a blank\r\n",
		 dir);
	fxt_conf_write(rpath, text);
	assert_int_equal(fx_recipe_load(rpath, &r, NULL, &err), FX_E_CONFIG);
	snprintf(text, sizeof(text),
		 "%s:13: key 'erase': expected pages or mass, got 'mass;not a comment without a blank'",
		 rpath);
	assert_string_equal(err.msg, text);

	snprintf(text, sizeof(text),
		 "\xEF\xBB\xBF; a comment\r\n[recipe]\r\n  name = demo\r\n\tversion: 7\r\n"
		 "target = stm32g474xe ; the only one\r\n[ firmware ]\r\n"
		 "file = %s/fw.bin\r\nsha256 = " FXT_ABC_SHA "\r\n[program]\r\nprobe = off\r\n",
		 dir);
	fxt_conf_write(rpath, text);
	assert_int_equal(fx_recipe_load(rpath, &r, NULL, &err), 0);
	assert_string_equal(r->version, "7");
	assert_false(r->probe);
	snprintf(text, sizeof(text), "%s/fw.bin", dir);
	assert_string_equal(r->firmware, text);
	fx_recipe_free(r);
}

static void test_errors_sections(void **state)
{
	(void)state;
	error_for("[programme]\nerase = mass\n",
		  ":8: section 'programme': unknown section (expected recipe, firmware, option_bytes, program, timeouts, app_check or serial_number)");
	error_for("[recipe]\n",
		  ":8: section 'recipe': duplicate (first at line 1)");
	raw_error("name = x\n[recipe]\n", ":1: key 'name': outside any section");
	raw_error("[recipe]\nname = x\nversion = 1\ntarget = stm32g474xe\n",
		  ": section 'firmware': missing");
	raw_error("[firmware]\nfile = fw.bin\nsha256 = " FXT_ABC_SHA "\n",
		  ": section 'recipe': missing");
	raw_error("[recipe]\nversion = 1\ntarget = stm32g474xe\n[firmware]\nfile = fw.bin\nsha256 = " FXT_ABC_SHA "\n",
		  ":1: key 'name': missing in [recipe]");
	raw_error("[recipe]\nname = a\nversion = 1\ntarget = stm32g474xe\n\n[firmware]\nsha256 = " FXT_ABC_SHA "\n",
		  ":6: key 'file': missing in [firmware]");
	raw_error("[recipe]\nname = a\nversion = 1\ntarget = stm32g474xe\n[firmware]\nfile = fw.bin\n",
		  ":5: key 'sha256': missing in [firmware]");
	error_for("[app_check]\nwithin_ms = 10\n", ":8: key 'usb': missing in [app_check]");
}

static void test_errors_syntax(void **state)
{
	char text[512];

	(void)state;
	error_for("[program]\nerase mass\n",
		  ":9: syntax error: expected 'key = value' or '[section]'");
	error_for("[program\n", ":8: syntax error: section header without ']'");
	error_for("[program] x\n", ":8: syntax error: text after ']'");
	error_for("[program] ; fine\n= mass\n", ":9: syntax error: empty key");
	error_for("[ ]\n", ":8: syntax error: empty section name");
	/* a value continued on an indented line (inih multi-line) is refused */
	error_for("[program]\nerase = mass\n  pages\n",
		  ":10: syntax error: expected 'key = value' or '[section]'");
	/* long lines: refused, never split */
	snprintf(text, sizeof(text), "[program]\n; %0*d\n", FX_CONF_LINE_MAX - 1, 0);
	error_for(text, ":9: line too long (191 characters, limit 190)");
	/* exactly the limit is fine */
	snprintf(text, sizeof(text), "[program]\n; %0*d\nerase = bad\n", FX_CONF_LINE_MAX - 2, 0);
	error_for(text, ":10: key 'erase': expected pages or mass, got 'bad'");
	/* a NUL byte */
	write_recipe("");
	{
		FILE *f = fopen(rpath, "ab");

		assert_non_null(f);
		fwrite("[program]\nerase = m\0ss\n", 1, 23, f);
		fclose(f);
	}
	expect_error(":9: NUL byte in line");
}

static void test_errors_keys(void **state)
{
	(void)state;
	error_for("[recipe]\n", ":8: section 'recipe': duplicate (first at line 1)");
	/* 40 bytes: the text and its NUL */
	fxt_conf_write_bytes(rpath, "[recipe]\nname = a\nversion = 1\nname = b\n", 40);
	expect_error(":4: key 'name': duplicate (first set at line 2)");
	error_for("[program]\ncolour = red\n", ":9: key 'colour': unknown key in [program]");
	raw_error("[recipe]\nname = a b\n",
		  ":2: key 'name': expected letters, digits, '.', '_' or '-', got 'a b'");
	raw_error("[recipe]\nname =\n",
		  ":2: key 'name': expected letters, digits, '.', '_' or '-', got ''");
	raw_error("[recipe]\nname = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
		  ":2: key 'name': too long (64 characters, limit 63)");
	raw_error("[recipe]\ntarget = stm32f405\n",
		  ":2: key 'target': expected stm32g474xe, got 'stm32f405'");
	error_for("[program]\nprobe = maybe\n",
		  ":9: key 'probe': expected flash, app, on or off, got 'maybe'");
	error_for("[program]\nverify = crc\n",
		  ":9: key 'verify': expected readback or none, got 'crc'");
	error_for("[program]\nentry = swd\n", ":9: key 'entry': expected gpio or app, got 'swd'");
	error_for("[program]\nserial = label\n",
		  ":9: key 'serial': expected uid, scan or both, got 'label'");
	error_for("[program]\nrdp = 2\n",
		  ":9: key 'rdp': level 2 is permanent (the chip can never be reprogrammed): refused");
	error_for("[program]\nrdp = 5\n", ":9: key 'rdp': expected a number from 0 to 1, got '5'");
	error_for("[timeouts]\nerase_ms = 0\n",
		  ":9: key 'erase_ms': expected a number from 1 to 600000, got '0'");
	error_for("[timeouts]\nerase_ms = 600001\n",
		  ":9: key 'erase_ms': expected a number from 1 to 600000, got '600001'");
	error_for("[timeouts]\nprobe_ms = 1s\n",
		  ":9: key 'probe_ms': expected a number from 1 to 600000, got '1s'");
	error_for("[timeouts]\nprobe_ms = 99999999999999999999\n",
		  ":9: key 'probe_ms': expected a number from 1 to 600000, got '99999999999999999999'");
	error_for("[timeouts]\nwait_ms = 5\n", ":9: key 'wait_ms': unknown key in [timeouts]");
	error_for("[app_check]\nusb = 0483:DF11\n",
		  ":9: key 'usb': 0483:DF11 is the ROM bootloader, not an application");
	error_for("[app_check]\nusb = 1209-0001\n",
		  ":9: key 'usb': expected VID:PID in hex (e.g. 1209:0001), got '1209-0001'");
	error_for("[app_check]\nusb = 1209:00g1\n",
		  ":9: key 'usb': expected VID:PID in hex (e.g. 1209:0001), got '1209:00g1'");
	error_for("[app_check]\nusb = 1209:0001\nwithin_ms = -1\n",
		  ":10: key 'within_ms': expected a number from 1 to 600000, got '-1'");
	error_for("[app_check]\nusb = 1209:0001\nvid = 1\n",
		  ":10: key 'vid': unknown key in [app_check]");
	error_for("[program]\nentry = app\n",
		  ":9: key 'entry': 'app' needs the application's USB ID ([app_check] usb = VID:PID)");
}

static void test_errors_firmware_messages(void **state)
{
	struct fx_recipe *r = NULL;
	struct fx_err err;
	char want[1200];

	(void)state;
	fxt_conf_write(rpath,
		       "[recipe]\nname = a\nversion = 1\ntarget = stm32g474xe\n[firmware]\nfile = nope.bin\nsha256 = " FXT_ABC_SHA "\n");
	assert_int_equal(fx_recipe_load(rpath, &r, NULL, &err), FX_E_CONFIG);
	snprintf(want, sizeof(want),
		 "%s:6: key 'file': cannot read '%s/nope.bin': No such file or directory",
		 rpath, dir);
	assert_string_equal(err.msg, want);

	/* the file exists but is another one */
	{
		const char *t = "[recipe]\nname = a\nversion = 1\ntarget = stm32g474xe\n[firmware]\nfile = fw.bin\n"
				"sha256 = 0000000000000000000000000000000000000000000000000000000000000000\n";

		fxt_conf_write(rpath, t);
	}
	assert_int_equal(fx_recipe_load(rpath, &r, NULL, &err), FX_E_CONFIG);
	snprintf(want, sizeof(want),
		 "%s:7: key 'sha256': does not match '%s/fw.bin' (its sha256 is " FXT_ABC_SHA ")",
		 rpath, dir);
	assert_string_equal(err.msg, want);

	{
		const char *t = "[recipe]\nname = a\nversion = 1\ntarget = stm32g474xe\n[firmware]\nfile = fw.bin\nsha256 = abc\n";

		fxt_conf_write(rpath, t);
	}
	expect_error(":7: key 'sha256': expected 64 hex digits, got 'abc'");
	{
		const char *t = "[recipe]\nname = a\nversion = 1\ntarget = stm32g474xe\n[firmware]\nfile = fw.bin\n"
				"sha256 = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015aZ\n"
				"size = 3\n";

		fxt_conf_write(rpath, t);
	}
	expect_error(":7: key 'sha256': expected 64 hex digits, got 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015aZ'");
	{
		struct fx_conf_diags d;
		char want2[1024];

		fx_conf_diags_init(&d);
		assert_int_equal(fx_recipe_load(rpath, &r, &d, &err), FX_E_CONFIG);
		assert_true(d.n >= 2);
		snprintf(want2, sizeof(want2), "%s:8: key 'size': unknown key in [firmware]", rpath);
		assert_string_equal(d.msgs[1], want2);
		fx_conf_diags_release(&d);
	}
	{
		const char *t = "[recipe]\nname = a\nversion = 1\ntarget = stm32g474xe\n[firmware]\nfile =\nsha256 = " FXT_ABC_SHA "\n";

		fxt_conf_write(rpath, t);
	}
	expect_error(":6: key 'file': expected a file path, got ''");
}

static void test_errors_option_bytes(void **state)
{
	(void)state;
	error_for("[option_bytes]\nDBANK = 2\n",
		  ":9: key 'DBANK': expected a number from 0 to 1 (1-bit field), got '2'");
	error_for("[option_bytes]\nBOR_LEV = 0x8\n",
		  ":9: key 'BOR_LEV': expected a number from 0 to 7 (3-bit field), got '0x8'");
	error_for("[option_bytes]\nDBANK = zero\n",
		  ":9: key 'DBANK': expected a number from 0 to 1 (1-bit field), got 'zero'");
	error_for("[option_bytes]\nDBANK = 0x\n",
		  ":9: key 'DBANK': expected a number from 0 to 1 (1-bit field), got '0x'");
	error_for("[option_bytes]\nFOO = 1\n", ":9: key 'FOO': unknown option byte");
	error_for("[option_bytes]\nWRP1A_STRT = 0x80\n",
		  ":9: key 'WRP1A_STRT': expected a number from 0 to 127 (7-bit field), got '0x80'");
	error_for("[option_bytes]\nDBANK = 0x100000000\n",
		  ":9: key 'DBANK': expected a number from 0 to 1 (1-bit field), got '0x100000000'");
	error_for("[option_bytes]\nDBANK = 0x1g\n",
		  ":9: key 'DBANK': expected a number from 0 to 1 (1-bit field), got '0x1g'");
	{
		struct fx_recipe *r = NULL;
		struct fx_err err;

		write_recipe("[option_bytes]\nWRP1A_STRT = 0x7f\nWRP1A_END = 0X7E\nBOR_LEV = 0xA\n");
		assert_int_equal(fx_recipe_load(rpath, &r, NULL, &err), FX_E_CONFIG);
		r = load_with("[option_bytes]\nWRP1A_STRT = 0x7f\nWRP1A_END = 0X7E\n");
		assert_int_equal(r->ob[0].value, 0x7F);
		assert_int_equal(r->ob[1].value, 0x7E);
		assert_string_equal(r->ob[1].text, "WRP1A_END=126");
		fx_recipe_free(r);
	}
	error_for("[option_bytes]\nRDP = 0xBB\n",
		  ":9: key 'RDP': set read protection with 'rdp' in [program] (it is written last)");
	error_for("[option_bytes]\nDBANK = 0\ndbank = 0\n",
		  ":10: key 'dbank': duplicate (first set at line 9)");
	error_for("[option_bytes]\nnSWBOOT0 = 0\n",
		  ":9: key 'nSWBOOT0': 0 takes BOOT0 from the nBOOT0 bit and ignores the BOOT0 pin: the station could not enter the bootloader again");
	error_for("[option_bytes]\nnboot1 = 0\n",
		  ":9: key 'nBOOT1': 0 boots SRAM instead of the bootloader when BOOT0 is high: the station could not enter the bootloader again");
	error_for("[option_bytes]\nBOOT_LOCK = 1\n",
		  ":9: key 'BOOT_LOCK': 1 always boots main flash: the station could not enter the bootloader again");
	error_for("[option_bytes]\nNRST_MODE = 2\n",
		  ":9: key 'NRST_MODE': 2 turns the NRST pin into a GPIO: the station resets the board through NRST");
	error_for("[option_bytes]\nNRST_MODE = 0\n",
		  ":9: key 'NRST_MODE': 0 is reserved: the station resets the board through NRST");
}

static void test_errors_limits(void **state)
{
	const struct fx_g4_ob_field *f;
	char text[2048], where[1200], longpath[1100];
	size_t len = 0, n = 0, i;
	struct fx_recipe *r = NULL;
	struct fx_err err;
	FILE *fp;

	(void)state;
	/* a section name longer than any we know */
	snprintf(text, sizeof(text), "[S%063d]\n", 0);
	error_for(text, ":8: section name too long (64 characters, limit 63)");

	/* more option bytes than a recipe holds */
	text[0] = '\0';
	for (f = fx_g4_ob_fields(); f->name && n <= FX_RECIPE_MAX_OB; f++) {
		int w;

		if (!strcmp(f->name, "RDP"))
			continue;
		w = snprintf(text + len, sizeof(text) - len, "%s = %d\n", f->name,
			     !strcmp(f->name, "nSWBOOT0") || !strcmp(f->name, "nBOOT1"));
		len += (size_t)w;
		n++;
	}
	assert_int_equal(n, FX_RECIPE_MAX_OB + 1);
	{
		char extra[2100];

		snprintf(extra, sizeof(extra), "[option_bytes]\n%s", text);
		snprintf(where, sizeof(where), ":%d: key '%s': too many option bytes (limit %d)",
			 8 + FX_RECIPE_MAX_OB + 1, f[-1].name, FX_RECIPE_MAX_OB);
		error_for(extra, where);
	}

	/* a file larger than any recipe (1 MiB) */
	fp = fopen(rpath, "wb");
	assert_non_null(fp);
	for (i = 0; i <= 1024 * 1024 / 64; i++)
		fputs("; 3456789012345678901234567890123456789012345678901234567890123\n", fp);
	fclose(fp);
	assert_int_equal(fx_recipe_load(rpath, &r, NULL, &err), FX_E_FILE);
	snprintf(where, sizeof(where), "%s: file too large (1048640 bytes, limit 1048576)", rpath);
	assert_string_equal(err.msg, where);

	/* a resolved firmware path longer than FX_CONF_PATH_MAX */
	fxt_conf_long_path(longpath, sizeof(longpath), dir, "r.ini");
	snprintf(text, sizeof(text),
		 "[recipe]\nname = a\nversion = 1\ntarget = stm32g474xe\n[firmware]\nfile = %0150d\nsha256 = " FXT_ABC_SHA "\n",
		 0);
	fxt_conf_write(longpath, text);
	{
		struct fx_conf_diags d;

		fx_conf_diags_init(&d);
		assert_int_equal(fx_recipe_load(longpath, &r, &d, &err), FX_E_CONFIG);
		snprintf(where, sizeof(where),
			 "%s:6: key 'file': path too long (limit 1023 characters)", longpath);
		/* err->msg holds 255 characters (fx/err.h): the list has it all */
		assert_string_equal(d.msgs[0], where);
		assert_int_equal(strlen(err.msg), sizeof(err.msg) - 1);
		assert_memory_equal(err.msg, where, sizeof(err.msg) - 1);
		fx_conf_diags_release(&d);
	}
}

static void test_many_errors_collected(void **state)
{
	struct fx_recipe *r = NULL;
	struct fx_conf_diags d;
	struct fx_err err;
	char want[3][1024];

	(void)state;
	write_recipe("[program]\nerase = all\nverify = crc\n[nope]\nx = 1\n[timeouts]\nenter_ms = x\n");
	fx_conf_diags_init(&d);
	assert_int_equal(fx_recipe_load(rpath, &r, &d, &err), FX_E_CONFIG);
	assert_int_equal(d.n, 4); /* keys inside [nope] are not reported again */
	snprintf(want[0], sizeof(want[0]), "%s:9: key 'erase': expected pages or mass, got 'all'", rpath);
	snprintf(want[1], sizeof(want[1]), "%s:10: key 'verify': expected readback or none, got 'crc'", rpath);
	snprintf(want[2], sizeof(want[2]), "%s:14: key 'enter_ms': expected a number from 1 to 600000, got 'x'", rpath);
	assert_string_equal(d.msgs[0], want[0]);
	assert_string_equal(d.msgs[1], want[1]);
	assert_string_equal(d.msgs[3], want[2]);
	assert_string_equal(err.msg, want[0]);
	fx_conf_diags_release(&d);
	fx_conf_diags_release(&d); /* twice is fine */
	fx_conf_diags_release(NULL);
}

static void test_missing_file(void **state)
{
	struct fx_recipe *r = NULL;
	struct fx_conf_diags d;
	struct fx_err err;

	(void)state;
	fx_conf_diags_init(&d);
	assert_int_equal(fx_recipe_load("tests/data/conf/does-not-exist.ini", &r, &d, &err),
			 FX_E_FILE);
	assert_int_equal(err.code, FX_E_FILE);
	assert_int_equal(err.sys_errno, ENOENT);
	assert_string_equal(err.msg,
			    "tests/data/conf/does-not-exist.ini: cannot read: No such file or directory");
	assert_int_equal(d.n, 1);
	assert_null(r);
	fx_conf_diags_release(&d);
	/* a directory is not a recipe */
	assert_int_equal(fx_recipe_load(dir, &r, NULL, &err), FX_E_FILE);
}

static void test_ob_want(void **state)
{
	struct fx_recipe *r = NULL;
	struct fx_g4_ob cur, want;
	struct fx_err err;
	bool differs, dbank;

	(void)state;
	fx_g4_ob_factory(&cur);
	r = load_with("[option_bytes]\nDBANK = 0\nnSWBOOT0 = 1\n");
	assert_int_equal(fx_recipe_ob_want(r, &cur, &want, &differs, &dbank, &err), 0);
	assert_true(differs);
	assert_true(dbank);
	assert_int_equal(want.word[0][0], 0xFFAFF8AAu); /* spec 3.3 example */
	/* applied: nothing differs any more */
	assert_int_equal(fx_recipe_ob_want(r, &want, &cur, &differs, &dbank, &err), 0);
	assert_false(differs);
	assert_false(dbank);
	assert_int_equal(cur.word[0][0], 0xFFAFF8AAu);
	assert_int_equal(fx_recipe_ob_want(r, &want, &cur, NULL, NULL, &err), 0);
	fx_recipe_free(r);

	fx_g4_ob_factory(&cur);
	r = load_with("[option_bytes]\nBOR_LEV = 3\n");
	assert_int_equal(fx_recipe_ob_want(r, &cur, &want, &differs, &dbank, &err), 0);
	assert_true(differs);
	assert_false(dbank);
	assert_int_equal(want.word[0][0], 0xFFEFFBAAu);
	fx_recipe_free(r);
}

static void test_check_firmware(void **state)
{
	struct fx_recipe *r = NULL;
	struct fx_err err;
	char want[1200];

	(void)state;
	r = load_with("");
	assert_int_equal(fx_recipe_check_firmware(r, (const uint8_t *)"abc", 3, &err), 0);
	assert_int_equal(fx_recipe_check_firmware(r, (const uint8_t *)"abd", 3, &err), FX_E_HASH);
	snprintf(want, sizeof(want),
		 "firmware '%s/fw.bin': sha256 a52d159f262b2c6ddb724a61840befc36eb30c88877a4030b65cbe86298449c9, recipe says " FXT_ABC_SHA,
		 dir);
	assert_string_equal(err.msg, want);
	fx_recipe_free(r);
}

static void test_sha256_file(void **state)
{
	struct fx_err err;
	char hex[65];

	(void)state;
	assert_int_equal(fx_conf_sha256_file("tests/data/conf/fw-abc.bin", hex, &err), 0);
	assert_string_equal(hex, FXT_ABC_SHA);
	assert_int_equal(fx_conf_sha256_file("tests/data/conf/nope", hex, &err), FX_E_FILE);
	assert_string_equal(err.msg, "cannot read 'tests/data/conf/nope': No such file or directory");
	assert_int_equal(err.sys_errno, ENOENT);
}

static void test_detect(void **state)
{
	enum fx_conf_kind k = 0;
	struct fx_err err;
	char want[1024];

	(void)state;
	assert_int_equal(fx_conf_detect("tests/data/conf/recipe-full.ini", &k, &err), 0);
	assert_int_equal(k, FX_CONF_RECIPE);
	assert_int_equal(fx_conf_detect("tests/data/conf/station-real.ini", &k, &err), 0);
	assert_int_equal(k, FX_CONF_STATION);
	fxt_conf_write(rpath, "[foo]\na=1\n");
	assert_int_equal(fx_conf_detect(rpath, &k, &err), FX_E_CONFIG);
	snprintf(want, sizeof(want), "%s: neither a recipe ([recipe]) nor a station ([station]) file", rpath);
	assert_string_equal(err.msg, want);
	fxt_conf_write(rpath, "[recipe]\n[station]\n");
	assert_int_equal(fx_conf_detect(rpath, &k, &err), FX_E_CONFIG);
	snprintf(want, sizeof(want), "%s: both [recipe] and [station]: a file is either a recipe or a station", rpath);
	assert_string_equal(err.msg, want);
	assert_int_equal(fx_conf_detect("tests/data/conf/nope.ini", &k, &err), FX_E_FILE);
	assert_string_equal(err.msg, "tests/data/conf/nope.ini: cannot read: No such file or directory");
}

static void test_golden_errors(void **state)
{
	(void)state;
	/* every message, compared with its golden .err file */
	fxt_conf_golden_errors(FX_CONF_RECIPE, "tests/data/conf/recipe-bad.ini",
			       "tests/data/conf/recipe-bad.err");
}

/* [firmware] address: a raw .bin loads at the flash base unless told
 * otherwise; formats that carry addresses refuse it. */
static void test_firmware_address(void **state)
{
	static const char head[] = "[recipe]\nname = a\nversion = 1\ntarget = stm32g474xe\n[firmware]\n";
	char text[512], hex[600];
	struct fx_recipe *r = NULL;
	struct fx_err err;

	(void)state;
	snprintf(text, sizeof(text), "%sfile = fw.bin\nsha256 = " FXT_ABC_SHA "\n", head);
	fxt_conf_write(rpath, text);
	assert_int_equal(fx_recipe_load(rpath, &r, NULL, &err), 0);
	assert_true(r->firmware_raw);
	assert_int_equal(r->address, 0x08000000u);
	fx_recipe_free(r);

	snprintf(text, sizeof(text), "%sfile = fw.bin\nsha256 = " FXT_ABC_SHA "\naddress = 0x08004000\n", head);
	fxt_conf_write(rpath, text);
	assert_int_equal(fx_recipe_load(rpath, &r, NULL, &err), 0);
	assert_int_equal(r->address, 0x08004000u);
	fx_recipe_free(r);

	snprintf(text, sizeof(text), "%sfile = fw.bin\nsha256 = " FXT_ABC_SHA "\naddress = 0x08000004\n", head);
	raw_error(text, ":8: key 'address': expected an 8-byte aligned address (decimal or 0x hex), got '0x08000004'");

	/* same bytes as fw.bin, but named .hex: carries its own addresses */
	snprintf(hex, sizeof(hex), "%s/fw.hex", dir);
	fxt_conf_write(hex, "abc");
	snprintf(text, sizeof(text), "%sfile = fw.hex\nsha256 = " FXT_ABC_SHA "\naddress = 0x08000000\n", head);
	snprintf(hex, sizeof(hex), ":8: key 'address': only a raw .bin takes a load address ('%s/fw.hex' carries its own)", dir);
	raw_error(text, hex);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_absolute_firmware_and_formats),
		cmocka_unit_test(test_firmware_address),
		cmocka_unit_test(test_errors_sections),
		cmocka_unit_test(test_errors_syntax),
		cmocka_unit_test(test_errors_keys),
		cmocka_unit_test(test_errors_firmware_messages),
		cmocka_unit_test(test_errors_option_bytes),
		cmocka_unit_test(test_errors_limits),
		cmocka_unit_test(test_many_errors_collected),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_ob_want),
		cmocka_unit_test(test_check_firmware),
		cmocka_unit_test(test_sha256_file),
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_golden_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

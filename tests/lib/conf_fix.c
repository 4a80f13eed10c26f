/* conf_fix.c - see conf_fix.h */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conf_fix.h"

int fxt_conf_mkdir(char *dir, size_t cap, const char *tmpl)
{
	snprintf(dir, cap, "%s", tmpl);
	return mkdtemp(dir) ? 0 : -1;
}

int fxt_conf_recipe_dir(char *dir, size_t cap, const char *tmpl, char *rpath, size_t rcap)
{
	char fw[600];

	if (fxt_conf_mkdir(dir, cap, tmpl))
		return -1;
	snprintf(fw, sizeof(fw), "%s/fw.bin", dir);
	fxt_conf_write(fw, "abc");
	snprintf(rpath, rcap, "%s/r.ini", dir);
	return 0;
}

void fxt_station_line(struct fx_gpio_line_cfg *c, const char *name,
		      enum fx_gpio_dir dir, int initial)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->dir = dir;
	c->initial = initial;
	c->debounce_ms = dir == FX_GPIO_INPUT ? 30 : 0;
}

int fxt_conf_rmdir(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

void fxt_conf_write_bytes(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

void fxt_conf_write(const char *path, const char *text)
{
	fxt_conf_write_bytes(path, text, strlen(text));
}

size_t fxt_conf_long_path(char *out, size_t cap, const char *dir, const char *file)
{
	size_t len = (size_t)snprintf(out, cap, "%s", dir);

	while (len < 900)
		len += (size_t)snprintf(out + len, cap - len, "/.");
	snprintf(out + len, cap - len, "/%s", file);
	return len;
}

/* Load path as kind, expecting it to fail: true when the out pointer was
 * left as it was. */
static bool load_failing(enum fx_conf_kind kind, const char *path, int *rc,
			 struct fx_conf_diags *d, struct fx_err *err)
{
	if (kind == FX_CONF_RECIPE) {
		struct fx_recipe *r = (struct fx_recipe *)0x1;

		*rc = fx_recipe_load(path, &r, d, err);
		return r == (struct fx_recipe *)0x1;
	} else {
		struct fx_station *st = (struct fx_station *)0x1;

		*rc = fx_station_load(path, &st, d, err);
		return st == (struct fx_station *)0x1;
	}
}

void fxt_conf_expect_error(enum fx_conf_kind kind, const char *path, const char *where)
{
	struct fx_conf_diags d;
	struct fx_err err;
	char want[1024];
	bool untouched;
	int rc;

	fx_conf_diags_init(&d);
	untouched = load_failing(kind, path, &rc, &d, &err);
	snprintf(want, sizeof(want), "%s%s", path, where);
	if (rc != FX_E_CONFIG || strcmp(err.msg, want))
		print_error("got %d '%s'\nwant '%s'\n", rc, err.msg, want);
	assert_int_equal(rc, FX_E_CONFIG);
	assert_int_equal(err.code, FX_E_CONFIG);
	assert_string_equal(err.msg, want);
	assert_true(d.n >= 1);
	assert_string_equal(d.msgs[0], want);
	assert_true(untouched); /* out written only on success */
	fx_conf_diags_release(&d);
}

void fxt_conf_golden_errors(enum fx_conf_kind kind, const char *ini, const char *errfile)
{
	struct fx_conf_diags d;
	struct fx_err err;
	char got[8192], want[8192];
	size_t len = 0, i, n;
	FILE *f;
	int rc;

	fx_conf_diags_init(&d);
	load_failing(kind, ini, &rc, &d, &err);
	assert_int_equal(rc, FX_E_CONFIG);
	got[0] = '\0';
	for (i = 0; i < d.n; i++) {
		int w = snprintf(got + len, sizeof(got) - len, "%s\n", d.msgs[i]);

		assert_true(w > 0 && (size_t)w < sizeof(got) - len);
		len += (size_t)w;
	}
	assert_string_equal(err.msg, d.msgs[0]);
	fx_conf_diags_release(&d);
	f = fopen(errfile, "rb");
	assert_non_null(f);
	n = fread(want, 1, sizeof(want) - 1, f);
	fclose(f);
	want[n] = '\0';
	assert_string_equal(got, want);
}

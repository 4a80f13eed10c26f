/* conf_fix.h - fixture for the recipe and station file tests: a scratch
 * directory, files written into it, and the checks every error test of
 * both makes (first message in err and diags, golden .err files).
 * Failures end the running cmocka test. */
#ifndef FX_TESTS_CONF_FIX_H
#define FX_TESTS_CONF_FIX_H

#include <stddef.h>

#include "fx/conf.h"

/* A new scratch directory from tmpl ("/tmp/fx-test-x-XXXXXX") into dir
 * (cap bytes). 0, or -1 when it cannot be made (cmocka group setup). */
int fxt_conf_mkdir(char *dir, size_t cap, const char *tmpl);
/* sha256("abc"), the firmware of fxt_conf_recipe_dir() */
#define FXT_ABC_SHA "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

/* The scratch directory of the recipe tests: fxt_conf_mkdir(dir, cap,
 * tmpl), DIR/fw.bin holding "abc" (FXT_ABC_SHA), and rpath (rcap bytes)
 * set to DIR/r.ini (not written). 0, or -1 (cmocka group setup). */
int fxt_conf_recipe_dir(char *dir, size_t cap, const char *tmpl, char *rpath, size_t rcap);
/* Remove dir and all in it. 0 or -1 (cmocka group teardown). */
int fxt_conf_rmdir(const char *dir);

/* A station line config built in code: name ("sim:START"), direction,
 * initial level, and 30 ms debounce for inputs (the station default). */
void fxt_station_line(struct fx_gpio_line_cfg *c, const char *name,
		      enum fx_gpio_dir dir, int initial);

/* Write len bytes of data to path (created or truncated). */
void fxt_conf_write_bytes(const char *path, const char *data, size_t len);
/* The same for a string, without its NUL. */
void fxt_conf_write(const char *path, const char *text);

/* "DIR/./././..." of at least 900 characters into out (cap bytes, at
 * least 1024), then "/file". Returns the length before "/file", where a
 * caller may put another file name. */
size_t fxt_conf_long_path(char *out, size_t cap, const char *dir, const char *file);

/* Load path as a recipe or station (kind) and assert FX_E_CONFIG whose
 * first message, in err and in the diagnostics list, is path + where
 * (e.g. ":9: key 'x': ..."), and that the out pointer was not written. */
void fxt_conf_expect_error(enum fx_conf_kind kind, const char *path, const char *where);

/* Load ini as kind and assert FX_E_CONFIG with every message, one a line,
 * equal to the golden file errfile, and err holding the first (inih-style
 * golden files, failing inside make check). */
void fxt_conf_golden_errors(enum fx_conf_kind kind, const char *ini, const char *errfile);

#endif

/* test_image_util.h - helpers shared by the test_image*.c suites: a
 * temporary directory per suite, writing inputs, exact error checks. */
#ifndef FX_TESTS_TEST_IMAGE_UTIL_H
#define FX_TESTS_TEST_IMAGE_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "fx/image.h"

/* golden inputs, relative to the source tree (make check runs there) */
#define IMG_DATA "tests/data/image"

struct img_tmp {
	char dir[256];
	char path[512];
};

static inline int img_tmp_setup(void **state)
{
	struct img_tmp *t = calloc(1, sizeof(*t));
	const char *base = getenv("TMPDIR");

	if (!t)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "%s/fx-image-XXXXXX", base ? base : "/tmp");
	if (!mkdtemp(t->dir)) {
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

static inline int img_tmp_teardown(void **state)
{
	struct img_tmp *t = *state;
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", t->dir);
	free(t);
	return 0;
}

/* Write len bytes to DIR/name; returns the path (valid until the next call). */
static inline const char *img_tmp_write(struct img_tmp *t, const char *name,
					const void *data, size_t len)
{
	FILE *f;

	snprintf(t->path, sizeof(t->path), "%s/%s", t->dir, name);
	f = fopen(t->path, "wb");
	assert_non_null(f);
	if (len)
		assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return t->path;
}

static inline const char *img_tmp_str(struct img_tmp *t, const char *name, const char *s)
{
	return img_tmp_write(t, name, s, strlen(s));
}

/* Whole file into a malloc'd buffer. */
static inline uint8_t *img_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Load and expect failure with exactly code and the formatted message. */
static inline void img_expect_fail(const char *path, enum fx_image_format fmt,
				   bool have_addr, uint32_t addr, int code,
				   const char *fmt_msg, ...)
	__attribute__((format(printf, 6, 7)));
static inline void img_expect_fail(const char *path, enum fx_image_format fmt,
				   bool have_addr, uint32_t addr, int code,
				   const char *fmt_msg, ...)
{
	struct fx_image *img;
	struct fx_err err;
	char want[512];
	va_list ap;

	va_start(ap, fmt_msg);
	vsnprintf(want, sizeof(want), fmt_msg, ap);
	va_end(ap);
	fx_err_clear(&err);
	img = fx_image_load(path, fmt, have_addr, addr, &err);
	if (img)
		fx_image_free(img);
	assert_null(img);
	assert_string_equal(fx_err_name(err.code), fx_err_name(code));
	assert_string_equal(err.msg, want);
}

/* Structural invariants every loaded image must hold. */
static inline void img_check_invariants(const struct fx_image *img)
{
	size_t i, total = 0;

	assert_non_null(img);
	assert_true(img->nsegs > 0);
	for (i = 0; i < img->nsegs; i++) {
		const struct fx_image_seg *s = &img->segs[i];

		assert_true(s->len > 0);
		assert_non_null(s->data);
		assert_true((uint64_t)s->addr + s->len <= 0x100000000ull);
		total += s->len;
		if (i) {
			const struct fx_image_seg *p = &img->segs[i - 1];
			uint64_t pend = (uint64_t)p->addr + p->len;

			assert_true(pend <= s->addr);
			/* adjacent runs of the same alt are merged */
			assert_false(pend == s->addr && p->alt == s->alt);
		}
	}
	assert_int_equal(fx_image_size(img), total);
}

#endif

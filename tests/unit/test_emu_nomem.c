/* test_emu_nomem.c - out-of-memory paths of libfxemu (STYLE 4, SQLite-style
 * "fail the Nth call"): the binary interposes malloc/calloc/realloc/free
 * and fails the Nth allocation inside fx_emu_new(), fx_emu_load() and
 * fx_emu_save(), for every N until the call succeeds. Each failure gives
 * the documented error and leaks nothing. Allocator interposition and
 * ASan's interceptors exclude each other: the sanitizer build skips. */
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

#if defined(__SANITIZE_ADDRESS__)

int main(void)
{
	printf("skip: allocator interposition is not possible under ASan\n");
	return 77;
}

#else

#include <cmocka.h>

#include "fx/emu.h"

void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t m);
void *__libc_realloc(void *p, size_t n);
void __libc_free(void *p);

static struct {
	bool armed;
	unsigned calls, fail_at;
	long live;
} fi;

static bool fi_fail(void)
{
	if (fi.armed && ++fi.calls == fi.fail_at) {
		errno = ENOMEM; /* as the real allocator does */
		return true;
	}
	return false;
}

void *malloc(size_t n)
{
	void *p;

	if (fi_fail())
		return NULL;
	p = __libc_malloc(n);
	if (p && fi.armed)
		fi.live++;
	return p;
}

void *calloc(size_t n, size_t m)
{
	void *p;

	if (fi_fail())
		return NULL;
	p = __libc_calloc(n, m);
	if (p && fi.armed)
		fi.live++;
	return p;
}

void *realloc(void *old, size_t n)
{
	void *p;

	if (fi_fail())
		return NULL;
	p = __libc_realloc(old, n);
	if (p && !old && fi.armed)
		fi.live++;
	return p;
}

void free(void *p)
{
	if (p && fi.armed)
		fi.live--;
	__libc_free(p);
}

static void arm(unsigned n)
{
	fi.calls = 0;
	fi.fail_at = n;
	fi.live = 0;
	fi.armed = true;
}

static void disarm(void)
{
	fi.armed = false;
}

static void test_new(void **state)
{
	struct fx_vclock vc;
	struct fx_emu *e;
	struct fx_err err;
	unsigned n;

	(void)state;
	fx_vclock_init(&vc);
	for (n = 1; n < 100; n++) {
		fx_err_clear(&err);
		arm(n);
		e = fx_emu_new(NULL, &vc.base, &err);
		if (e) {
			fx_emu_free(e);
			disarm();
			assert_int_equal(fi.live, 0);
			break;
		}
		disarm();
		assert_int_equal(err.code, FX_E_NOMEM);
		assert_string_equal(err.msg, "emulated board: out of memory");
		assert_int_equal(fi.live, 0);
	}
	assert_true(n > 1 && n < 100);
}

static void test_load_and_save(void **state)
{
	char dir[] = "/tmp/fxemu-nomem-XXXXXX", path[64], want[128];
	struct fx_vclock vc;
	struct fx_emu *e;
	struct fx_err err;
	unsigned n;
	int rc;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/b.fxb", dir);
	fx_vclock_init(&vc);
	e = fx_emu_new(NULL, &vc.base, NULL);
	assert_int_equal(fx_emu_save(e, path, NULL), 0);
	/* save: each allocation failing */
	snprintf(want, sizeof(want), "board file '%s': out of memory", path);
	for (n = 1; n < 100; n++) {
		fx_err_clear(&err);
		arm(n);
		rc = fx_emu_save(e, path, &err);
		disarm();
		assert_int_equal(fi.live, 0);
		if (!rc)
			break;
		assert_int_equal(rc, FX_E_NOMEM);
		assert_string_equal(err.msg, want);
	}
	assert_true(n > 1 && n < 100);
	fx_emu_free(e);
	/* load: the file's buffer, the stdio stream, the board */
	for (n = 1; n < 100; n++) {
		fx_err_clear(&err);
		arm(n);
		e = fx_emu_load(path, &vc.base, &err);
		disarm();
		if (e) {
			fx_emu_free(e);
			break;
		}
		assert_int_equal(fi.live, 0);
		assert_true(err.code == FX_E_NOMEM || err.code == FX_E_FILE);
		if (!strstr(err.msg, "memory"))
			fail_msg("allocation %u: %s", n, err.msg);
	}
	assert_true(n > 1 && n < 100);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new),
		cmocka_unit_test(test_load_and_save),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

#endif

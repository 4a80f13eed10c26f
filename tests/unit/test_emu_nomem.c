/* test_emu_nomem.c - out-of-memory paths of libfxemu (STYLE 4, SQLite-style
 * "fail the Nth call"): the binary interposes malloc/calloc/realloc/free
 * (tests/lib/nomem.h) and fails the Nth allocation inside fx_emu_new(),
 * fx_emu_load() and fx_emu_save(), for every N until the call makes fewer
 * than N allocations (a failure stdio recovers from is counted, not an
 * end). Each failure gives the documented error and leaks nothing.
 * Allocator interposition and ASan's interceptors exclude each other: the
 * sanitizer build skips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nomem.h"

#if !FXT_NOMEM_SUPPORTED

int main(void)
{
	return fxt_nomem_skip();
}

#else

#include <cmocka.h>

#include "fx/emu.h"

FXT_NOMEM_INTERPOSE

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
		fxt_nomem_arm(n);
		e = fx_emu_new(NULL, &vc.base, &err);
		fx_emu_free(e);
		if (fxt_nomem_end("fx_emu_new", n, e ? 0 : err.code))
			break;
		assert_int_equal(err.code, FX_E_NOMEM);
		assert_string_equal(err.msg, "emulated board: out of memory");
	}
	assert_true(n > 1 && n < 100);
}

static void test_load_and_save(void **state)
{
	char dir[] = "/tmp/fxemu-nomem-XXXXXX", path[64], want[128];
	struct fx_vclock vc;
	struct fx_emu *e;
	struct fx_err err;
	unsigned n, recovered = 0;
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
		fxt_nomem_arm(n);
		rc = fx_emu_save(e, path, &err);
		if (fxt_nomem_end("fx_emu_save", n, rc))
			break;
		assert_int_equal(rc, FX_E_NOMEM);
		assert_string_equal(err.msg, want);
	}
	assert_true(n > 1 && n < 100);
	fx_emu_free(e);
	/* load: the file's buffer, the stdio stream, the board */
	for (n = 1; n < 100; n++) {
		fx_err_clear(&err);
		fxt_nomem_arm(n);
		e = fx_emu_load(path, &vc.base, &err);
		fx_emu_free(e);
		if (fxt_nomem_end_recoverable("fx_emu_load", n, e ? 0 : err.code))
			break;
		if (e) {
			/* stdio went on without its buffer */
			recovered++;
			continue;
		}
		assert_true(err.code == FX_E_NOMEM || err.code == FX_E_FILE);
		if (!strstr(err.msg, "memory"))
			fail_msg("allocation %u: %s", n, err.msg);
	}
	assert_true(n > 1 && n < 100);
	print_message("load: %u allocation failure points, %u recovered\n", n - 1, recovered);
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

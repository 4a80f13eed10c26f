/* test_image_nomem.c - fault injection for the allocations of the image
 * loader (STYLE 4, SQLite-style "fail the Nth call"): the test binary
 * interposes malloc/calloc/realloc (tests/lib/nomem.h) and fails the Nth
 * call made inside fx_image_load(), for every N until a load succeeds.
 * Each failure must give NULL with FX_E_NOMEM (libelf's own allocations:
 * its error text) and leak nothing. Interposing the allocator and ASan's
 * interceptors exclude each other, so the sanitizer build skips this suite
 * (the normal build runs it; leaks are counted by the wrapper instead of
 * LSan). */
#include "test_image_util.h"
#include "nomem.h"

#if !FXT_NOMEM_SUPPORTED

int main(void)
{
	return fxt_nomem_skip();
}

#else

FXT_NOMEM_INTERPOSE

static void run_all_failures(const char *name, bool bin)
{
	char path[256];
	unsigned n;

	snprintf(path, sizeof(path), IMG_DATA "/%s", name);
	for (n = 1; n < 1000; n++) {
		struct fx_image *img;
		struct fx_err err;

		fx_err_clear(&err);
		fxt_nomem_arm(n);
		img = fx_image_load(path, FX_IMAGE_AUTO, bin, 0x08000000, &err);
		fx_image_free(img);
		if (fxt_nomem_end(name, n, img ? 0 : err.code)) {
			assert_true(n > 1);
			printf("%s: %u allocation failure points, all clean\n", name, n - 1);
			return;
		}
		if (err.code == FX_E_NOMEM) {
			char want[300];

			snprintf(want, sizeof(want), "%s: out of memory", path);
			assert_string_equal(err.msg, want);
		} else {
			/* inside libelf: it reports its own "out of memory" */
			assert_string_equal(fx_err_name(err.code), "FX_E_IMAGE");
			if (!strstr(err.msg, "out of memory"))
				fail_msg("%s: allocation %u: %s", name, n, err.msg);
		}
	}
	fail_msg("%s: still failing after 1000 allocations", name);
}

static void test_nomem_every_format(void **state)
{
	static const char *const names[] = { "multi.hex", "multi.srec", "multi.elf", "multi.dfu",
					     "golden.bin", "twotarget.dfu" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		run_all_failures(names[i], !strcmp(names[i], "golden.bin"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nomem_every_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

#endif

/* test_util.c - src/util: error handling, byte order, cursor, virtual
 * clock, atomic file writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fx/bytes.h"
#include "fx/clock.h"
#include "fx/err.h"
#include "fx/file.h"

static void test_err_set_and_prefix(void **state)
{
	struct fx_err e;

	(void)state;
	fx_err_clear(&e);
	assert_int_equal(e.code, FX_OK);
	assert_string_equal(e.msg, "");
	assert_int_equal(fx_err_set(&e, FX_E_TIMEOUT, "waited %u ms", 5u), FX_E_TIMEOUT);
	assert_string_equal(e.msg, "waited 5 ms");
	assert_int_equal(fx_err_prefix(&e, "enter_boot"), FX_E_TIMEOUT);
	assert_string_equal(e.msg, "enter_boot: waited 5 ms");
	/* NULL err: the code still comes back */
	assert_int_equal(fx_err_set(NULL, FX_E_IO, "x"), FX_E_IO);
}

/* The message may be built from the old message (a wrapper adding
 * context): formatting must not read what it is overwriting. */
static void test_err_set_aliasing(void **state)
{
	struct fx_err e;

	(void)state;
	fx_err_clear(&e);
	fx_err_set(&e, FX_E_NOTFOUND, "no device on port 1-1");
	fx_err_set(&e, FX_E_NODEV, "no DFU bootloader within %u ms (%s)", 3000u, e.msg);
	assert_int_equal(e.code, FX_E_NODEV);
	assert_string_equal(e.msg, "no DFU bootloader within 3000 ms (no device on port 1-1)");
}

static void test_err_long_message_cut(void **state)
{
	struct fx_err e;
	char big[600];

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	fx_err_set(&e, FX_E_PROTO, "%s", big);
	assert_int_equal(strlen(e.msg), sizeof(e.msg) - 1);
	fx_err_prefix(&e, "ctx");
	assert_int_equal(strlen(e.msg), sizeof(e.msg) - 1);
	assert_memory_equal(e.msg, "ctx: aaa", 8);
}

static void test_err_names(void **state)
{
	(void)state;
	assert_string_equal(fx_err_name(FX_E_TIMEOUT), "FX_E_TIMEOUT");
	assert_string_equal(fx_err_name(FX_OK), "FX_OK");
	assert_non_null(fx_strerror(FX_E_NODEV));
	assert_true(strlen(fx_strerror(FX_E_NODEV)) > 0);
	/* an unknown code still gives printable text */
	assert_non_null(fx_err_name(-9999));
	assert_non_null(fx_strerror(-9999));
}

static void test_bytes(void **state)
{
	uint8_t b[4] = { 0 };

	(void)state;
	fx_put_le32(b, 0x11223344u);
	assert_int_equal(b[0], 0x44);
	assert_int_equal(b[3], 0x11);
	assert_int_equal(fx_get_le32(b), 0x11223344u);
	assert_int_equal(fx_get_be32(b), 0x44332211u);
	fx_put_le16(b, 0xA1B2);
	assert_int_equal(fx_get_le16(b), 0xA1B2);
	fx_put_le24(b, 0x0C0B0A);
	assert_int_equal(fx_get_le24(b), 0x0C0B0A);
}

static void test_vclock(void **state)
{
	struct fx_vclock vc;
	uint64_t t0;

	(void)state;
	fx_vclock_init(&vc);
	t0 = fx_clock_now(&vc.base);
	fx_clock_sleep(&vc.base, 1500);
	assert_int_equal(fx_clock_now(&vc.base) - t0, 1500);
	fx_clock_sleep_until(&vc.base, t0 + 1000); /* in the past: no-op */
	assert_int_equal(fx_clock_now(&vc.base) - t0, 1500);
	fx_clock_sleep_until(&vc.base, t0 + 4000);
	assert_int_equal(fx_clock_now(&vc.base) - t0, 4000);
}

static char dir[64];

static int mkdir_setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/fxutil.XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int rm_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_file_write_atomic(void **state)
{
	char path[128], sub[128], buf[16];
	struct fx_err e;
	struct stat sb;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/out.bin", dir);
	fx_err_clear(&e);
	assert_int_equal(fx_file_write_atomic(path, (const uint8_t *)"hello", 5, &e), 0);
	assert_int_equal(fx_file_write_atomic(path, (const uint8_t *)"bye", 3, &e), 0);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(buf, 1, sizeof(buf), f), 3);
	fclose(f);
	assert_memory_equal(buf, "bye", 3);
	/* a directory is an error naming the path, never replaced */
	assert_int_equal(fx_file_write_atomic(dir, (const uint8_t *)"x", 1, &e), FX_E_FILE);
	assert_non_null(strstr(e.msg, dir));
	assert_int_equal(stat(dir, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));
	/* a missing directory: FX_E_FILE with the path and the reason */
	snprintf(sub, sizeof(sub), "%s/nodir/out.bin", dir);
	assert_int_equal(fx_file_write_atomic(sub, (const uint8_t *)"x", 1, &e), FX_E_FILE);
	assert_non_null(strstr(e.msg, "nodir/out.bin"));
	assert_non_null(strstr(e.msg, "No such file"));
	/* no temporary file is left behind */
	snprintf(sub, sizeof(sub), "ls -A '%s' | grep -q tmp", dir);
	assert_int_not_equal(system(sub), 0);
}

/* An existing FIFO (like /dev/null or a pipe given as -o) is written in
 * place: renaming a temporary file over it would replace the node. */
static void test_file_write_fifo_in_place(void **state)
{
	char path[128], buf[16];
	struct fx_err e;
	struct stat sb;
	int rfd;

	(void)state;
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	rfd = open(path, O_RDONLY | O_NONBLOCK);
	assert_true(rfd >= 0);
	fx_err_clear(&e);
	assert_int_equal(fx_file_write_atomic(path, (const uint8_t *)"data", 4, &e), 0);
	assert_int_equal(read(rfd, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "data", 4);
	close(rfd);
	assert_int_equal(stat(path, &sb), 0);
	assert_true(S_ISFIFO(sb.st_mode));
}

static void test_cursor(void **state)
{
	static const uint8_t d[7] = { 1, 0x34, 0x12, 0x78, 0x56, 0x34, 0x12 };
	struct fx_cursor c;

	(void)state;
	fx_cursor_init(&c, d, sizeof(d));
	assert_int_equal(fx_cursor_u8(&c), 1);
	assert_int_equal(fx_cursor_le16(&c), 0x1234);
	assert_int_equal(fx_cursor_le32(&c), 0x12345678u);
	assert_false(c.bad);
	/* past the end: NULL / 0 and sticky bad */
	assert_null(fx_cursor_take(&c, 1));
	assert_true(c.bad);
	assert_int_equal(fx_cursor_le16(&c), 0);
	assert_true(c.bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_err_set_and_prefix),
		cmocka_unit_test(test_err_set_aliasing),
		cmocka_unit_test(test_err_long_message_cut),
		cmocka_unit_test(test_err_names),
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_vclock),
		cmocka_unit_test_setup_teardown(test_file_write_atomic, mkdir_setup, rm_teardown),
		cmocka_unit_test_setup_teardown(test_file_write_fifo_in_place, mkdir_setup, rm_teardown),
		cmocka_unit_test(test_cursor),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

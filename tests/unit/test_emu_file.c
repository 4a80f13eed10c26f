/* test_emu_file.c - board file persistence: atomic save, versioned format
 * with magic and CRC, factory-fresh board for a missing path, clear errors
 * for corrupted or foreign files; knobs are not saved. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "emu_fix.h"
#include "fx/bytes.h"
#include "fx/dfu_wire.h"

struct tmp {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));

	snprintf(t->dir, sizeof(t->dir), "/tmp/fxemu-test-XXXXXX");
	if (!mkdtemp(t->dir))
		return -1;
	snprintf(t->path, sizeof(t->path), "%s/board.fxb", t->dir);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tmp *t = *state;
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	if (system(cmd) != 0)
		return -1;
	free(t);
	return 0;
}

static void test_missing_is_fresh_uid_from_path(void **state)
{
	struct tmp *t = *state;
	struct fx_vclock vc;
	struct fx_emu *a, *b, *c;
	uint8_t ua[12], ub[12], uc[12], raw[48];
	struct fx_err err;

	fx_vclock_init(&vc);
	fx_err_clear(&err);
	a = fx_emu_load(t->path, &vc.base, &err);
	b = fx_emu_load(t->path, &vc.base, &err);
	c = fx_emu_load("/tmp/some/other/path.fxb", &vc.base, &err);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	fx_emu_uid(a, ua);
	fx_emu_uid(b, ub);
	fx_emu_uid(c, uc);
	assert_memory_equal(ua, ub, 12);
	assert_memory_not_equal(ua, uc, 12);
	fx_emu_uid_from_path(t->path, ub);
	assert_memory_equal(ua, ub, 12);
	assert_int_equal(fx_emu_optr(a), 0xFFEFF8AA);
	assert_int_equal(fx_emu_backdoor_ob(a, 0, raw, false), 0);
	assert_int_equal(fx_get_le32(raw), 0xFFEFF8AA);
	assert_int_equal(access(t->path, F_OK), -1); /* loading creates nothing */
	fx_emu_free(a);
	fx_emu_free(b);
	fx_emu_free(c);
}

static void test_save_load_roundtrip(void **state)
{
	struct tmp *t = *state;
	struct fx_emu_identity id = { .uid = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 },
				      .app_vid = 0x1234, .app_pid = 0x5678 };
	struct fx_emu_knobs k;
	struct fxt_emu f;
	struct fx_emu *e;
	struct fx_err err;
	uint8_t d[16], back[16], raw[48], uid[12], dd[18];
	struct stat sb;

	memset(&f, 0, sizeof(f));
	fx_vclock_init(&f.vc);
	f.e = fx_emu_new(&id, &f.vc.base, NULL);
	fx_emu_knobs_default(&k);
	k.transfer_size = 2048;
	fx_emu_set_knobs(f.e, &k);
	fx_emu_set_boot0(f.e, true);
	fx_emu_set_power(f.e, true);
	assert_int_equal(fxt_emu_wait_bus(&f, 1000000), FX_EMU_BUS_DFU);
	memset(d, 0x77, sizeof(d));
	assert_int_equal(fxt_write(&f, 0x08000100, d, 16), 0);
	assert_int_equal(fxt_write(&f, G4_OTP_BASE + 8, d, 8), 0);
	fx_emu_backdoor_ob(f.e, 0, raw, false);
	fx_put_le32(raw, 0xFFAFF8AA);
	fx_put_le32(raw + 4, ~0xFFAFF8AAu);
	fx_emu_backdoor_ob(f.e, 0, raw, true);
	fx_err_clear(&err);
	assert_int_equal(fx_emu_save(f.e, t->path, &err), 0);
	assert_int_equal(stat(t->path, &sb), 0);
	assert_int_equal(sb.st_size, 590980);
	fxt_emu_release(&f);

	e = fx_emu_load(t->path, &f.vc.base, &err);
	assert_non_null(e);
	fx_emu_uid(e, uid);
	assert_memory_equal(uid, id.uid, 12);
	assert_int_equal(fx_emu_optr(e), 0xFFAFF8AA);
	/* knobs are not saved */
	assert_int_equal(fx_emu_get_knobs(e)->transfer_size, 1024);
	/* the content was written in dual-bank mode, the board is now single:
	 * the physical model survives the file */
	assert_int_equal(fx_emu_backdoor_flash_read(e, 0x08000100, back, 16), 0);
	assert_memory_not_equal(back, d, 16);
	fx_emu_backdoor_ob(e, 0, raw, false);
	fx_put_le32(raw, 0xFFEFF8AA);
	fx_put_le32(raw + 4, ~0xFFEFF8AAu);
	fx_emu_backdoor_ob(e, 0, raw, true);
	assert_int_equal(fx_emu_backdoor_flash_read(e, 0x08000100, back, 16), 0);
	assert_memory_equal(back, d, 16);
	/* app identity kept */
	fx_emu_set_power(e, true);
	fx_emu_free(e);
	(void)dd;
}

static void corrupt_and_expect(const char *path, long off, uint8_t x,
			       const char *want)
{
	struct fx_vclock vc;
	struct fx_err err;
	FILE *fp;
	int c;

	fp = fopen(path, "r+b");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, off, SEEK_SET), 0);
	c = fgetc(fp);
	assert_int_equal(fseek(fp, off, SEEK_SET), 0);
	fputc(c ^ x, fp);
	fclose(fp);
	fx_vclock_init(&vc);
	fx_err_clear(&err);
	assert_null(fx_emu_load(path, &vc.base, &err));
	assert_int_equal(err.code, FX_E_FILE);
	assert_string_equal(err.msg, want);
}

static void save_fresh(const char *path)
{
	struct fx_vclock vc;
	struct fx_emu *e;

	fx_vclock_init(&vc);
	e = fx_emu_new(NULL, &vc.base, NULL);
	assert_int_equal(fx_emu_save(e, path, NULL), 0);
	fx_emu_free(e);
}

static void test_corrupted_files(void **state)
{
	struct tmp *t = *state;
	char want[256];

	save_fresh(t->path);
	snprintf(want, sizeof(want),
		 "board file '%s': checksum mismatch (corrupted)", t->path);
	corrupt_and_expect(t->path, 300000, 0x01, want);

	save_fresh(t->path);
	snprintf(want, sizeof(want),
		 "board file '%s': not an emulated board file (bad magic)", t->path);
	corrupt_and_expect(t->path, 0, 0x20, want);

	save_fresh(t->path);
	snprintf(want, sizeof(want),
		 "board file '%s': unsupported version 3, expected 1", t->path);
	corrupt_and_expect(t->path, 8, 0x02, want);
}

static void test_truncated_and_foreign(void **state)
{
	struct tmp *t = *state;
	struct fx_vclock vc;
	struct fx_err err;
	char want[256];
	FILE *fp;

	save_fresh(t->path);
	assert_int_equal(truncate(t->path, 1000), 0);
	fx_vclock_init(&vc);
	fx_err_clear(&err);
	assert_null(fx_emu_load(t->path, &vc.base, &err));
	assert_int_equal(err.code, FX_E_FILE);
	snprintf(want, sizeof(want),
		 "board file '%s': truncated: 1000 bytes, expected 590980", t->path);
	assert_string_equal(err.msg, want);

	fp = fopen(t->path, "wb");
	fputs("[station]\nname = not a board\n", fp);
	fclose(fp);
	fx_err_clear(&err);
	assert_null(fx_emu_load(t->path, &vc.base, &err));
	assert_int_equal(err.code, FX_E_FILE);
	snprintf(want, sizeof(want),
		 "board file '%s': not an emulated board file (bad magic)", t->path);
	assert_string_equal(err.msg, want);

	/* a directory cannot be opened as a board */
	fx_err_clear(&err);
	assert_null(fx_emu_load(t->dir, &vc.base, &err));
	assert_int_equal(err.code, FX_E_FILE);
}

static void test_save_errors_and_atomicity(void **state)
{
	struct tmp *t = *state;
	struct fx_vclock vc;
	struct fx_emu *e;
	struct fx_err err;
	char bad[200], want[300], cmd[200];
	FILE *p;
	char line[64] = "";

	fx_vclock_init(&vc);
	e = fx_emu_new(NULL, &vc.base, NULL);
	snprintf(bad, sizeof(bad), "%s/no/such/dir/b.fxb", t->dir);
	fx_err_clear(&err);
	assert_int_equal(fx_emu_save(e, bad, &err), FX_E_FILE);
	snprintf(want, sizeof(want),
		 "board file '%s': cannot write: No such file or directory", bad);
	assert_string_equal(err.msg, want);
	/* save replaces the file; no temporary is left behind */
	assert_int_equal(fx_emu_save(e, t->path, &err), 0);
	assert_int_equal(fx_emu_save(e, t->path, &err), 0);
	snprintf(cmd, sizeof(cmd), "ls '%s' | wc -l", t->dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(line, sizeof(line), p));
	pclose(p);
	assert_int_equal(atoi(line), 1);
	fx_emu_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
		T(test_missing_is_fresh_uid_from_path),
		T(test_save_load_roundtrip),
		T(test_corrupted_files),
		T(test_truncated_and_foreign),
		T(test_save_errors_and_atomicity),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

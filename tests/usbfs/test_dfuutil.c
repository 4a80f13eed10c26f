/* test_dfuutil.c - Debian's dfu-util 0.11, a peer no one here wrote,
 * against the emulated board through build/fxemu; every run is checked
 * against the board state afterwards (the board file read with
 * fx_emu_load() and the back doors of include/fx/emu.h).
 *
 * Where dfu-util and the emulator disagree, the emulator is wrong until the
 * spec (../shared/spec/stm32g474-bootloader.md) proves otherwise.
 * Boards run 20 times faster than the spec's timings (--realtime=0.05;
 * fxemu scales the bwPollTimeout dfu-util sleeps).
 */
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fx/bytes.h"
#include "fx/emu.h"
#include "fx/log.h"

#define DFU_UTIL "/usr/bin/dfu-util"
#define FLASH_SIZE (512u * 1024u)

static char fxemu[PATH_MAX + 16];
static char dir[] = "/tmp/fx-dfuutil-XXXXXX";
static struct fx_vclock vclock;
static char out[1 << 16]; /* output of the last run */

static const struct fx_clock *clk(void)
{
	return &vclock.base;
}

static void path_of(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s", dir, name);
}

/* Run fxemu --realtime=0.05 --board BOARD -- dfu-util ARGS...; returns the
 * exit status, output (stdout + stderr) in out. */
static int run_dfu_util(const char *board, ...)
{
	char bopt[PATH_MAX + 16], *argv[32];
	int k = 0, pipefd[2], st;
	size_t o = 0;
	ssize_t n;
	va_list ap;
	pid_t pid;

	snprintf(bopt, sizeof(bopt), "--board=%s/%s", dir, board);
	argv[k++] = fxemu;
	argv[k++] = (char *)"--realtime=0.05";
	argv[k++] = bopt;
	argv[k++] = (char *)"--";
	argv[k++] = (char *)DFU_UTIL;
	va_start(ap, board);
	while (k < 31 && (argv[k] = va_arg(ap, char *)) != NULL)
		k++;
	va_end(ap);
	argv[k] = NULL;
	if (pipe(pipefd))
		fail_msg("pipe");
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		close(pipefd[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pipefd[1]);
	while ((n = read(pipefd[0], out + o, sizeof(out) - 1 - o)) > 0)
		o += (size_t)n;
	out[o] = '\0';
	close(pipefd[0]);
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static struct fx_emu *load(const char *name)
{
	char p[PATH_MAX], *q;
	struct fx_err err;
	struct fx_emu *e;

	path_of(p, sizeof(p), name);
	q = strchr(p, '?'); /* knobs are not board state */
	if (q)
		*q = '\0';
	fx_err_clear(&err);
	e = fx_emu_load(p, clk(), &err);
	if (!e)
		fail_msg("load %s: %s", p, err.msg);
	return e;
}

static void save(struct fx_emu *e, const char *name)
{
	char p[PATH_MAX];
	struct fx_err err;

	path_of(p, sizeof(p), name);
	fx_err_clear(&err);
	assert_int_equal(fx_emu_save(e, p, &err), 0);
	fx_emu_free(e);
}

static void write_file(const char *name, const uint8_t *d, size_t n)
{
	char p[PATH_MAX];
	FILE *f;

	path_of(p, sizeof(p), name);
	f = fopen(p, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(d, 1, n, f), n);
	fclose(f);
}

static size_t read_file(const char *name, uint8_t *d, size_t cap)
{
	char p[PATH_MAX];
	size_t n;
	FILE *f;

	path_of(p, sizeof(p), name);
	f = fopen(p, "rb");
	if (!f)
		fail_msg("%s not written; dfu-util said:\n%s", p, out);
	n = fread(d, 1, cap, f);
	fclose(f);
	return n;
}

static void expect_output(const char *text)
{
	if (!strstr(out, text))
		fail_msg("dfu-util output lacks '%s':\n%s", text, out);
}

static uint8_t pattern_at(size_t i, unsigned seed)
{
	return (uint8_t)((i * 131u + seed) ^ (i >> 9));
}

static void pattern(uint8_t *d, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		d[i] = pattern_at(i, seed);
}

/* A board whose whole flash holds pattern(seed) (programmed through the
 * back door, as if by an earlier session). */
static void prefill(const char *name, unsigned seed)
{
	static uint8_t img[FLASH_SIZE];
	struct fx_emu *e = load(name);

	pattern(img, sizeof(img), seed);
	assert_int_equal(fx_emu_backdoor_flash_write(e, G4_FLASH_BASE, img, sizeof(img)), 0);
	save(e, name);
}

/* -l lists the three alternate settings exactly as dfu-util 0.11 lists a
 * real STM32G474 (spec 2.2), with the serial of spec 2.1. */
static void test_list(void **state)
{
	struct fx_emu *e = load("list.fxb");
	uint8_t uid[12];
	char line[256], serial[16];

	(void)state;
	fx_emu_uid(e, uid);
	save(e, "list.fxb");
	snprintf(serial, sizeof(serial), "%08X%04X",
		 fx_get_le32(uid) + fx_get_le32(uid + 8), fx_get_le16(uid + 6));
	assert_int_equal(run_dfu_util("list.fxb", "-l", NULL), 0);
	snprintf(line, sizeof(line), "Found DFU: [0483:df11] ver=0200, devnum=2, cfg=1, "
		 "intf=0, path=\"1-1\", alt=0, name=\"@Internal Flash   "
		 "/0x08000000/256*02Kg\", serial=\"%s\"", serial);
	expect_output(line);
	snprintf(line, sizeof(line), "alt=1, name=\"@Option Bytes   /0x1FFF7800/01*048 "
		 "e/0x1FFFF800/01*048 e\", serial=\"%s\"", serial);
	expect_output(line);
	snprintf(line, sizeof(line), "alt=2, name=\"@OTP Memory   /0x1FFF7000/01*1024 e\", "
		 "serial=\"%s\"", serial);
	expect_output(line);
	assert_null(strstr(out, "alt=3"));
}

/* -U of the whole flash and of both option-byte blocks. */
static void test_upload(void **state)
{
	static uint8_t want[FLASH_SIZE], got[FLASH_SIZE + 16];
	uint8_t ob[48], fob[64];
	struct fx_emu *e;

	(void)state;
	prefill("up.fxb", 3);
	pattern(want, sizeof(want), 3);
	assert_int_equal(run_dfu_util("up.fxb", "-a", "0", "-s", "0x08000000:524288",
				      "-U", "flash.bin", NULL), 0);
	expect_output("Upload done.");
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(read_file("flash.bin", got, sizeof(got)), FLASH_SIZE);
	assert_memory_equal(got, want, FLASH_SIZE);

	for (int bank = 0; bank < 2; bank++) {
		assert_int_equal(run_dfu_util("up.fxb", "-a", "1", "-s",
					      bank ? "0x1FFFF800:48" : "0x1FFF7800:48",
					      "-U", "ob.bin", NULL), 0);
		assert_int_equal(read_file("ob.bin", fob, sizeof(fob)), 48);
		e = load("up.fxb");
		assert_int_equal(fx_emu_backdoor_ob(e, bank, ob, false), 0);
		fx_emu_free(e);
		assert_memory_equal(fob, ob, 48);
		if (bank == 0) { /* factory OPTR with its complement (spec 3.2) */
			assert_int_equal(fx_get_le32(fob), 0xFFEFF8AAu);
			assert_int_equal(fx_get_le32(fob + 4), ~0xFFEFF8AAu);
		}
		unlink("ob.bin");
	}
}

/* -D with :leave: erase, program, leave; the image is in flash afterwards
 * and dfu-util saw dfuMANIFEST (spec 1.7). */
static void test_download_leave(void **state)
{
	static uint8_t img[65536 + 512], back[sizeof(img)];
	struct fx_emu *e;

	(void)state;
	prefill("dl.fxb", 5); /* old content: dfu-util must erase it */
	pattern(img, sizeof(img), 11);
	write_file("img.bin", img, sizeof(img));
	assert_int_equal(run_dfu_util("dl.fxb", "-a", "0", "-s", "0x08000000:leave",
				      "-D", "img.bin", NULL), 0);
	expect_output("File downloaded successfully");
	expect_output("Transitioning to dfuMANIFEST state");
	e = load("dl.fxb");
	assert_int_equal(fx_emu_backdoor_flash_read(e, G4_FLASH_BASE, back, sizeof(back)), 0);
	assert_memory_equal(back, img, sizeof(img));
	/* pages past the image keep the old content (page erase only) */
	assert_int_equal(fx_emu_backdoor_flash_read(e, G4_FLASH_BASE + 0x12000, back, 16), 0);
	for (size_t i = 0; i < 16; i++)
		assert_int_equal(back[i], pattern_at(0x12000 + i, 5));
	fx_emu_free(e);
}

/* :mass-erase:force erases everything (DfuSe 41), then programs. */
static void test_mass_erase(void **state)
{
	static uint8_t img[4096], back[FLASH_SIZE];
	struct fx_emu *e;
	size_t i;

	(void)state;
	prefill("me.fxb", 9);
	pattern(img, sizeof(img), 21);
	write_file("small.bin", img, sizeof(img));
	assert_int_equal(run_dfu_util("me.fxb", "-a", "0", "-s",
				      "0x08000000:mass-erase:force", "-D", "small.bin",
				      NULL), 0);
	expect_output("Performing mass erase");
	e = load("me.fxb");
	assert_int_equal(fx_emu_backdoor_flash_read(e, G4_FLASH_BASE, back, sizeof(back)), 0);
	fx_emu_free(e);
	assert_memory_equal(back, img, sizeof(img));
	for (i = sizeof(img); i < sizeof(back); i++)
		if (back[i] != 0xFF)
			fail_msg("flash at 0x%08zx is 0x%02x after mass erase",
				 G4_FLASH_BASE + i, back[i]);
}

/* Option bytes with :will-reset (spec 2.6, 5.1): DBANK 1 -> 0 sticks, and
 * dfu-util does not fail on the reset. */
static void test_ob_will_reset(void **state)
{
	uint8_t ob[48];
	struct fx_emu *e;
	uint32_t optr;

	(void)state;
	e = load("ob.fxb");
	assert_int_equal(fx_emu_backdoor_ob(e, 0, ob, false), 0);
	save(e, "ob.fxb");
	optr = fx_get_le32(ob) & ~(1u << 22);
	fx_put_le32(ob, optr);
	fx_put_le32(ob + 4, ~optr);
	write_file("ob-dbank0.bin", ob, sizeof(ob));
	assert_int_equal(run_dfu_util("ob.fxb", "-a", "1", "-s", "0x1FFF7800:will-reset",
				      "-D", "ob-dbank0.bin", NULL), 0);
	e = load("ob.fxb");
	assert_int_equal(fx_emu_optr(e), 0xFFAFF8AAu);
	fx_emu_free(e);
	/* the re-enumerated ROM shows the single-bank map (spec 8) */
	assert_int_equal(run_dfu_util("ob.fxb", "-l", NULL), 0);
	expect_output("name=\"@Internal Flash   /0x08000000/128*04Kg\"");
}

/* Without :will-reset dfu-util 0.11 reports the reset as an error: exit
 * 74 "Error during download get_status" (spec 2.6); the OB are written. */
static void test_ob_without_will_reset(void **state)
{
	uint8_t ob[48];
	struct fx_emu *e;
	uint32_t optr;
	int rc;

	(void)state;
	e = load("ob2.fxb");
	assert_int_equal(fx_emu_backdoor_ob(e, 0, ob, false), 0);
	save(e, "ob2.fxb");
	optr = fx_get_le32(ob) & ~(1u << 22);
	fx_put_le32(ob, optr);
	fx_put_le32(ob + 4, ~optr);
	write_file("ob2.bin", ob, sizeof(ob));
	rc = run_dfu_util("ob2.fxb", "-a", "1", "-s", "0x1FFF7800", "-D", "ob2.bin", NULL);
	assert_int_equal(rc, 74);
	expect_output("Error during download get_status");
	e = load("ob2.fxb");
	assert_int_equal(fx_emu_optr(e), 0xFFAFF8AAu);
	fx_emu_free(e);
}

/* Section-8 alternatives: 2 KiB transfers and an F405-style ROM whose
 * bwPollTimeout is shorter than the work (spec 4.2): dfu-util polls early
 * and fxemu holds that GETSTATUS until the board has finished. */
static void test_knobs_xfer2048_busy_lying(void **state)
{
	static uint8_t img[20000], back[sizeof(img)];
	struct fx_emu *e;

	(void)state;
	pattern(img, sizeof(img), 33);
	write_file("k.bin", img, sizeof(img));
	assert_int_equal(run_dfu_util("k.fxb?xfer=2048&busy=lying&erase_scale=4", "-a", "0", "-s",
				      "0x08040000", "-D", "k.bin", NULL), 0);
	expect_output("Device returned transfer size 2048");
	expect_output("File downloaded successfully");
	e = load("k.fxb");
	assert_int_equal(fx_emu_backdoor_flash_read(e, 0x08040000, back, sizeof(back)), 0);
	fx_emu_free(e);
	assert_memory_equal(back, img, sizeof(img));
}

/* RDP level 1 (spec 3.6): reads fail with errVENDOR; :unprotect:force
 * sends Read Unprotect, the chip mass-erases, resets the OB and leaves. */
static void test_rdp1_unprotect(void **state)
{
	static const uint8_t secret[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t ob[48], back[8];
	struct fx_emu *e;
	uint32_t optr;

	(void)state;
	e = load("rdp.fxb");
	assert_int_equal(fx_emu_backdoor_flash_write(e, G4_FLASH_BASE, secret, 8), 0);
	assert_int_equal(fx_emu_backdoor_ob(e, 0, ob, false), 0);
	optr = (fx_get_le32(ob) & ~0xFFu) | 0xBB;
	fx_put_le32(ob, optr);
	fx_put_le32(ob + 4, ~optr);
	assert_int_equal(fx_emu_backdoor_ob(e, 0, ob, true), 0);
	save(e, "rdp.fxb");
	assert_int_equal(run_dfu_util("rdp.fxb", "-a", "0", "-s", "0x08000000:1024",
				      "-U", "rdp.bin", NULL), 76);
	expect_output("DFU state(10) = dfuERROR, status(11)");
	expect_output("Wrong state after command \"SET_ADDRESS\" download");
	write_file("any.bin", secret, 8);
	assert_int_equal(run_dfu_util("rdp.fxb", "-a", "0", "-s",
				      "0x08000000:unprotect:force", "-D", "any.bin", NULL), 0);
	expect_output("Device disconnects, erases flash and resets now");
	e = load("rdp.fxb");
	assert_int_equal(fx_emu_optr(e), 0xFFEFF8AAu);
	assert_int_equal(fx_emu_backdoor_flash_read(e, G4_FLASH_BASE, back, 8), 0);
	fx_emu_free(e);
	for (int i = 0; i < 8; i++)
		assert_int_equal(back[i], 0xFF);
}

static int spawn_quiet(char *const argv[])
{
	pid_t pid;
	int st, fd;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		fd = open("/dev/null", O_WRONLY);
		dup2(fd, 1);
		dup2(fd, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_upload),
		cmocka_unit_test(test_download_leave),
		cmocka_unit_test(test_mass_erase),
		cmocka_unit_test(test_ob_will_reset),
		cmocka_unit_test(test_ob_without_will_reset),
		cmocka_unit_test(test_knobs_xfer2048_busy_lying),
		cmocka_unit_test(test_rdp1_unprotect),
	};
	char self[PATH_MAX], cmd[PATH_MAX + 32];
	char *probe[] = { (char *)DFU_UTIL, (char *)"-V", NULL };
	ssize_t n;
	int rc;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return 1;
	self[n] = '\0';
	snprintf(fxemu, sizeof(fxemu), "%s", self);
	for (int up = 0; up < 3; up++) /* BUILD/tests/usbfs/x -> BUILD */
		*strrchr(fxemu, '/') = '\0';
	snprintf(fxemu + strlen(fxemu), sizeof(fxemu) - strlen(fxemu), "/fxemu");
	if (access(fxemu, X_OK) != 0) {
		printf("SKIP: %s not built\n", fxemu);
		return 77;
	}
	if (access(DFU_UTIL, X_OK) != 0 || spawn_quiet(probe) != 0) {
		printf("SKIP: %s (Debian package dfu-util 0.11) not installed\n", DFU_UTIL);
		return 77;
	}
	if (!mkdtemp(dir))
		return 1;
	if (chdir(dir))
		return 1;
	fx_vclock_init(&vclock);
	/* libfxemu logs through fx_log (this also links util/log.o: the
	 * Makefile puts libfx.a before the emulator objects) */
	fx_log_set_handler(NULL, NULL, FX_LOG_ERR);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (chdir("/") || system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return rc;
}

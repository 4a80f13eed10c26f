/* test_emu_file_tmp.c - issue 8 defect 2: temporary board files must not
 * pile up when saves are killed. fx_emu_save() writes one fixed
 * "PATH.tmp" (at most one per board file, whatever happens), and
 * fx_emu_load() removes a stale one and the "PATH.tmp.XXXXXX" files of
 * earlier versions, but never a temp file a live save holds. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf_fix.h"

#include "fx/clock.h"
#include "fx/emu.h"

struct fix {
	char dir[64], board[128];
	struct fx_vclock vc;
	struct fx_err err;
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/fxtmp-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->board, sizeof(f->board), "%s/b.fxb", f->dir);
	fx_vclock_init(&f->vc);
	fx_err_clear(&f->err);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	assert_int_equal(fxt_conf_rmdir(f->dir), 0);
	free(f);
	return 0;
}

static void touch(struct fix *f, const char *name)
{
	char p[256];
	FILE *fp;

	snprintf(p, sizeof(p), "%s/%s", f->dir, name);
	fp = fopen(p, "w");
	assert_non_null(fp);
	fputs("half a board", fp);
	fclose(fp);
}

static bool exists(struct fix *f, const char *name)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", f->dir, name);
	return access(p, F_OK) == 0;
}

/* Files in the directory whose name starts with "b.fxb.tmp". */
static unsigned count_tmp(struct fix *f)
{
	DIR *d = opendir(f->dir);
	struct dirent *de;
	unsigned n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (!strncmp(de->d_name, "b.fxb.tmp", 9))
			n++;
	closedir(d);
	return n;
}

static void save_fresh(struct fix *f)
{
	struct fx_emu *e = fx_emu_new(NULL, &f->vc.base, &f->err);

	assert_non_null(e);
	assert_int_equal(fx_emu_save(e, f->board, &f->err), 0);
	fx_emu_free(e);
}

/* Left by killed saves (this version's and earlier ones'): removed at
 * load; other boards' temp files and look-alikes stay. */
static void test_load_sweeps_stale(void **state)
{
	struct fix *f = *state;
	struct fx_emu *e;

	save_fresh(f);
	touch(f, "b.fxb.tmp");
	touch(f, "b.fxb.tmp.AbC123");
	touch(f, "b.fxb.tmp.zzzzzz");
	touch(f, "b.fxb.tmp.toolong7");
	touch(f, "c.fxb.tmp.ABCDEF");
	e = fx_emu_load(f->board, &f->vc.base, &f->err);
	assert_non_null(e);
	fx_emu_free(e);
	assert_false(exists(f, "b.fxb.tmp"));
	assert_false(exists(f, "b.fxb.tmp.AbC123"));
	assert_false(exists(f, "b.fxb.tmp.zzzzzz"));
	assert_true(exists(f, "b.fxb.tmp.toolong7"));
	assert_true(exists(f, "c.fxb.tmp.ABCDEF"));
}

/* A missing board file (a kill during the very first save) still gets
 * its temp file removed. */
static void test_load_sweeps_without_board(void **state)
{
	struct fix *f = *state;
	struct fx_emu *e;

	touch(f, "b.fxb.tmp");
	e = fx_emu_load(f->board, &f->vc.base, &f->err);
	assert_non_null(e);
	fx_emu_free(e);
	assert_int_equal(count_tmp(f), 0);
}

/* A temp file a live save holds (its flock) is neither removed by a load
 * nor written by a second save. */
static void test_live_save_respected(void **state)
{
	struct fix *f = *state;
	struct fx_emu *e;
	char p[256], want[256];
	int fd;

	save_fresh(f);
	snprintf(p, sizeof(p), "%s.tmp", f->board);
	fd = open(p, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	e = fx_emu_load(f->board, &f->vc.base, &f->err);
	assert_non_null(e);
	assert_true(exists(f, "b.fxb.tmp"));
	assert_int_equal(fx_emu_save(e, f->board, &f->err), FX_E_BUSY);
	snprintf(want, sizeof(want), "board file '%s': being saved by another process",
		 f->board);
	assert_string_equal(f->err.msg, want);
	close(fd);
	/* released: the next save goes through and leaves no temp file */
	assert_int_equal(fx_emu_save(e, f->board, &f->err), 0);
	fx_emu_free(e);
	assert_int_equal(count_tmp(f), 0);
}

/* SIGKILL a process saving in a loop, 25 times at pseudo-random moments:
 * at most one temp file exists after any kill, the board file always
 * loads (the rename is atomic), and a load leaves none. */
static void test_kills_do_not_accumulate(void **state)
{
	struct fix *f = *state;
	struct fx_emu *e;
	unsigned i, most = 0, seed = 8;
	pid_t pid;

	save_fresh(f);
	for (i = 0; i < 25; i++) {
		struct timespec ts;
		int status;

		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			struct fx_vclock vc;
			struct fx_emu *c;

			fx_vclock_init(&vc);
			c = fx_emu_new(NULL, &vc.base, NULL);
			for (;;)
				if (!c || fx_emu_save(c, f->board, NULL))
					_exit(3);
		}
		seed = seed * 1103515245u + 12345u;
		ts.tv_sec = 0;
		ts.tv_nsec = 2000000L + (long)((seed >> 8) % 20000000u);
		nanosleep(&ts, NULL);
		assert_int_equal(kill(pid, SIGKILL), 0);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status));
		if (count_tmp(f) > most)
			most = count_tmp(f);
	}
	assert_true(most <= 1);
	e = fx_emu_load(f->board, &f->vc.base, &f->err);
	assert_non_null(e);
	fx_emu_free(e);
	assert_int_equal(count_tmp(f), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_load_sweeps_stale, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_sweeps_without_board, setup, teardown),
		cmocka_unit_test_setup_teardown(test_live_save_respected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kills_do_not_accumulate, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

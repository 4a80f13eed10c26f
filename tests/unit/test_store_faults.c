/* test_store_faults.c - issue 8: the store against a damaged, read-only,
 * locked, moved or deleted database. Exact codes and messages; nothing
 * committed is ever lost; a damaged file is never written.
 *   defect 3: quick_check at open (small files before returning, large
 *             ones in the background), damaged pages and header refused
 *   defect 4: a database renamed under the station keeps every commit (the
 *             open connection checkpoints into the moved file); a -wal
 *             left without its database is never started over
 *   defect 5: a read-only database is refused at open
 * Tests that need root (to act as another user) SKIP with the reason. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "fx/store.h"

#define T0 1772409600000000LL /* 2026-03-02T00:00:00Z */
#define NOBODY 65534

struct fix {
	char dir[64], db[128], side[160];
	struct fx_err err;
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/fxstf-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/st.db", f->dir);
	fx_err_clear(&f->err);
	unsetenv("FX_STORE_CHECK_SYNC_MAX");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	char cmd[256];

	unsetenv("FX_STORE_CHECK_SYNC_MAX");
	snprintf(cmd, sizeof(cmd), "chmod -R u+w '%s'; rm -rf '%s'", f->dir, f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static const char *side(struct fix *f, const char *suffix)
{
	snprintf(f->side, sizeof(f->side), "%s%s", f->db, suffix);
	return f->side;
}

/* One whole run: begin, a step, end (PASS). 0 or the failing call's rc. */
static int record(struct fx_store *st, int64_t t, struct fx_err *err)
{
	struct fx_run_start s = {
		.station = "faults", .slot = 1, .port_path = "emu:b", .recipe_name = "r",
		.recipe_version = "1", .recipe_sha256 = "aa", .firmware_sha256 = "bb",
		.software_version = "t", .start_utc_us = t,
	};
	struct fx_store_step step = { "program", t, 1000, FX_STORE_PASS, "bytes 4096" };
	struct fx_run_end end = { FX_STORE_PASS, t + 2000, NULL, 0, NULL };
	struct fx_store_run run;
	int rc;

	rc = fx_store_run_begin(st, &s, &run, err);
	if (!rc)
		rc = fx_store_step(st, &run, &step, err);
	if (!rc)
		rc = fx_store_run_end(st, &run, &end, err);
	return rc;
}

static void record_n(struct fx_store *st, int n, int64_t t0)
{
	struct fx_err err;
	int i;

	for (i = 0; i < n; i++)
		if (record(st, t0 + (int64_t)i * 10000000, &err))
			fail_msg("record %d: %s", i, err.msg);
}

/* Runs with a result in the file at path (its own connection), -1 if it
 * cannot be read. */
static int count_runs(const char *path, const char *where)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	char sql[128];
	int n = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return -1;
	}
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM runs WHERE %s", where);
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW)
			n = sqlite3_column_int(s, 0);
		sqlite3_finalize(s);
	}
	sqlite3_close(db);
	return n;
}

static bool quick_check_ok(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	bool ok = false;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &s, NULL) == SQLITE_OK) {
		ok = sqlite3_step(s) == SQLITE_ROW &&
		     !strcmp((const char *)sqlite3_column_text(s, 0), "ok");
		sqlite3_finalize(s);
	}
	sqlite3_close(db);
	return ok;
}

static off_t file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) ? -1 : sb.st_size;
}

/* A closed database of n runs. */
static void make_db(struct fix *f, int n)
{
	struct fx_store *st = fx_store_open(f->db, &f->err);

	assert_non_null(st);
	record_n(st, n, T0);
	fx_store_close(st);
	assert_int_equal(access(side(f, "-wal"), F_OK), -1);
}

/* Garbage over len bytes at off. */
static void smash(const char *path, off_t off, size_t len)
{
	unsigned char buf[8192];
	uint32_t x = 99;
	size_t i;
	int fd = open(path, O_WRONLY);

	assert_true(fd >= 0 && len <= sizeof(buf));
	for (i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (unsigned char)(x >> 16);
	}
	assert_int_equal(pwrite(fd, buf, len, off), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

static void expect_damaged(struct fix *f, const char *what)
{
	char want[512];

	snprintf(want, sizeof(want), "database '%s' is damaged (%s): not recording into it; "
		 "restore the last backup, or rescue the records: sqlite3 '%s' .recover | "
		 "sqlite3 NEW.db", f->db, what, f->db);
	assert_int_equal(f->err.code, FX_E_DB);
	assert_string_equal(f->err.msg, want);
}

/* ---- defect 3: damaged files ---------------------------------------- */

/* 4096 garbage bytes in the pages of a 300-run database (the reliability
 * run's case): refused at open, nothing written (the file is unchanged). */
static void test_damaged_pages_refused(void **state)
{
	struct fix *f = *state;
	off_t size;
	char before[64], after[64], cmd[256];
	FILE *p;

	make_db(f, 300);
	size = file_size(f->db);
	assert_true(size > 16 * 4096);
	smash(f->db, (size / 4096 / 2) * 4096, 4096);
	assert_false(quick_check_ok(f->db));
	snprintf(cmd, sizeof(cmd), "sha256sum < '%s'", f->db);
	p = popen(cmd, "r");
	assert_non_null(fgets(before, sizeof(before), p));
	pclose(p);
	assert_null(fx_store_open(f->db, &f->err));
	assert_int_equal(f->err.code, FX_E_DB);
	assert_int_equal(strncmp(f->err.msg, "database '", 10), 0);
	assert_non_null(strstr(f->err.msg, "' is damaged (quick_check: "));
	assert_non_null(strstr(f->err.msg, "): not recording into it; restore the last backup, "
			       "or rescue the records: sqlite3 '"));
	p = popen(cmd, "r");
	assert_non_null(fgets(after, sizeof(after), p));
	pclose(p);
	assert_string_equal(before, after);
	assert_int_equal(access(side(f, "-wal"), F_OK), -1);
}

/* A smashed header: "file is not a database", with the way out. */
static void test_damaged_header_refused(void **state)
{
	struct fix *f = *state;

	make_db(f, 5);
	smash(f->db, 0, 100);
	assert_null(fx_store_open(f->db, &f->err));
	expect_damaged(f, "file is not a database");
}

/* A large file is checked in the background: open returns at once, the
 * station records until the check finds the damage, then every recording
 * call fails with the same message (the station stops). Forced here with
 * FX_STORE_CHECK_SYNC_MAX=0 on a small file. */
static void test_damaged_found_in_background(void **state)
{
	struct fix *f = *state;
	struct fx_store *st;
	struct timespec ts = { 0, 20000000 };
	off_t size;
	int i, rc = 0;

	make_db(f, 300);
	size = file_size(f->db);
	smash(f->db, (size / 4096 / 2) * 4096, 4096);
	setenv("FX_STORE_CHECK_SYNC_MAX", "0", 1);
	st = fx_store_open(f->db, &f->err);
	if (!st) {
		/* the check was quicker than the rest of the open */
		assert_non_null(strstr(f->err.msg, "' is damaged ("));
		return;
	}
	for (i = 0; i < 500; i++) {
		rc = record(st, T0 + 86400000000LL + i, &f->err);
		if (rc)
			break;
		nanosleep(&ts, NULL);
	}
	assert_int_equal(rc, FX_E_DB);
	assert_non_null(strstr(f->err.msg, "' is damaged ("));
	assert_non_null(strstr(f->err.msg, "restore the last backup"));
	/* and it stays refused */
	assert_int_equal(record(st, T0 + 2 * 86400000000LL, &f->err), FX_E_DB);
	assert_non_null(strstr(f->err.msg, "' is damaged ("));
	fx_store_close(st);
}

/* A sound large file checked in the background records normally, and a
 * close while the check runs stops it. */
static void test_background_check_sound(void **state)
{
	struct fix *f = *state;
	struct fx_store *st;

	make_db(f, 50);
	setenv("FX_STORE_CHECK_SYNC_MAX", "0", 1);
	st = fx_store_open(f->db, &f->err);
	assert_non_null(st);
	fx_store_close(st); /* at once: the check may still run */
	st = fx_store_open(f->db, &f->err);
	assert_non_null(st);
	record_n(st, 20, T0 + 86400000000LL);
	fx_store_close(st);
	assert_int_equal(count_runs(f->db, "result = 'PASS'"), 70);
}

/* ---- defect 4: moved or deleted while open ------------------------------ */

/* mv D D.old while the station runs: the next record fails, and D.old
 * holds every run committed before (they were only in D-wal); the next
 * start on D is a new, empty database. */
static void test_renamed_keeps_commits(void **state)
{
	struct fix *f = *state;
	struct fx_store *st;
	char old[160], want[256];

	snprintf(old, sizeof(old), "%s.old", f->db);
	st = fx_store_open(f->db, &f->err);
	assert_non_null(st);
	record_n(st, 3, T0);
	assert_true(file_size(side(f, "-wal")) > 0);
	assert_int_equal(rename(f->db, old), 0);
	assert_int_equal(record(st, T0 + 3600000000LL, &f->err), FX_E_DB);
	snprintf(want, sizeof(want), "database '%s' was removed or replaced while open", f->db);
	assert_string_equal(f->err.msg, want);
	/* already before the close */
	assert_int_equal(count_runs(old, "result = 'PASS'"), 3);
	fx_store_close(st);
	assert_int_equal(count_runs(old, "result = 'PASS'"), 3);
	assert_int_equal(count_runs(old, "result IS NULL"), 0);
	assert_true(quick_check_ok(old));
	st = fx_store_open(f->db, &f->err);
	assert_non_null(st);
	fx_store_close(st);
	assert_int_equal(count_runs(f->db, "1"), 0);
	assert_int_equal(count_runs(old, "result = 'PASS'"), 3);
}

/* A commit that slipped in after the last check (renamed between the
 * check and the commit) is checkpointed into the moved file at close. */
static void test_renamed_then_closed(void **state)
{
	struct fix *f = *state;
	struct fx_store *st;
	char old[160];

	snprintf(old, sizeof(old), "%s.old", f->db);
	st = fx_store_open(f->db, &f->err);
	assert_non_null(st);
	record_n(st, 4, T0);
	assert_int_equal(rename(f->db, old), 0);
	fx_store_close(st);
	assert_int_equal(count_runs(old, "result = 'PASS'"), 4);
	assert_true(file_size(side(f, "-wal")) <= 0);
}

/* The station is killed after the rename (no checkpoint): D-wal holds the
 * commits and D is gone. The next start refuses to begin a new database
 * over that -wal; with D.old moved back, every record is there. */
static void test_orphan_wal_refused(void **state)
{
	struct fix *f = *state;
	struct fx_store *st;
	char old[160], want[512];
	off_t wal;
	pid_t pid;
	int status;

	snprintf(old, sizeof(old), "%s.old", f->db);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct fx_err e;
		struct fx_store *c = fx_store_open(f->db, &e);

		if (!c)
			_exit(2);
		for (int i = 0; i < 3; i++)
			if (record(c, T0 + i * 1000000LL, &e))
				_exit(3);
		_exit(0); /* killed: no close, no checkpoint */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	wal = file_size(side(f, "-wal"));
	assert_true(wal > 0);
	assert_int_equal(rename(f->db, old), 0);
	assert_null(fx_store_open(f->db, &f->err));
	snprintf(want, sizeof(want),
		 "database '%s' is missing but '%s-wal' holds %lld bytes of its records (moved "
		 "or deleted while recording?): put the database back, or move the -wal away to "
		 "start a new one", f->db, f->db, (long long)wal);
	assert_int_equal(f->err.code, FX_E_DB);
	assert_string_equal(f->err.msg, want);
	assert_int_equal(file_size(side(f, "-wal")), wal);
	assert_int_equal(access(f->db, F_OK), -1);
	/* put back: the station recovers every commit */
	assert_int_equal(rename(old, f->db), 0);
	st = fx_store_open(f->db, &f->err);
	assert_non_null(st);
	fx_store_close(st);
	assert_int_equal(count_runs(f->db, "result = 'PASS'"), 3);
}

/* rm D while the station runs: the records since the last checkpoint are
 * only in D-wal; the close keeps it and the next start refuses. */
static void test_deleted_keeps_wal(void **state)
{
	struct fix *f = *state;
	struct fx_store *st;
	char want[256];

	st = fx_store_open(f->db, &f->err);
	assert_non_null(st);
	record_n(st, 2, T0);
	assert_int_equal(unlink(f->db), 0);
	assert_int_equal(record(st, T0 + 3600000000LL, &f->err), FX_E_DB);
	snprintf(want, sizeof(want), "database '%s' was removed or replaced while open", f->db);
	assert_string_equal(f->err.msg, want);
	fx_store_close(st);
	assert_true(file_size(side(f, "-wal")) > 0);
	assert_null(fx_store_open(f->db, &f->err));
	assert_non_null(strstr(f->err.msg, "' is missing but '"));
}

/* ---- defect 5: read-only ------------------------------------------------ */

/* As another user (root bypasses file modes): exit 0 when fx_store_open
 * failed with exactly want, 1 otherwise (the message on stderr). */
static int open_as_nobody(const char *path, const char *want)
{
	pid_t pid;
	int status;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct fx_err e;
		struct fx_store *st;

		if (setgid(NOBODY) || setuid(NOBODY))
			_exit(4);
		fx_err_clear(&e);
		st = fx_store_open(path, &e);
		if (st) {
			fprintf(stderr, "opened for recording\n");
			_exit(1);
		}
		if (e.code != FX_E_DB || strcmp(e.msg, want)) {
			fprintf(stderr, "got %d '%s'\n     want '%s'\n", e.code, e.msg, want);
			_exit(1);
		}
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 9;
}

static void test_readonly_file_refused(void **state)
{
	struct fix *f = *state;
	char want[256], lock[160];

	if (geteuid() != 0) {
		/* without root the file mode itself works */
		make_db(f, 2);
		assert_int_equal(chmod(f->db, 0444), 0);
		assert_null(fx_store_open(f->db, &f->err));
		snprintf(want, sizeof(want), "database '%s' is read-only (file permissions or a "
			 "read-only mount): the station cannot record into it", f->db);
		assert_string_equal(f->err.msg, want);
		return;
	}
	make_db(f, 2);
	snprintf(lock, sizeof(lock), "%s.lock", f->db);
	assert_int_equal(chmod(f->dir, 0777), 0);
	assert_int_equal(chmod(lock, 0666), 0);
	assert_int_equal(chmod(f->db, 0444), 0);
	snprintf(want, sizeof(want), "database '%s' is read-only (file permissions or a "
		 "read-only mount): the station cannot record into it", f->db);
	assert_int_equal(open_as_nobody(f->db, want), 0);
}

/* The file is writable but its directory is not: the -wal cannot be
 * made, found at open. */
static void test_readonly_dir_refused(void **state)
{
	struct fix *f = *state;
	char want[256], lock[160];

	if (geteuid() != 0) {
		print_message("skipped: needs root to act as another user\n");
		return;
	}
	make_db(f, 2);
	snprintf(lock, sizeof(lock), "%s.lock", f->db);
	assert_int_equal(chmod(lock, 0666), 0);
	assert_int_equal(chmod(f->db, 0666), 0);
	assert_int_equal(chmod(f->dir, 0555), 0);
	snprintf(want, sizeof(want), "database '%s' cannot be written (attempt to write a "
		 "readonly database): the station cannot record into it", f->db);
	assert_int_equal(open_as_nobody(f->db, want), 0);
	assert_int_equal(chmod(f->dir, 0700), 0);
}

/* ---- locked --------------------------------------------------------- */

struct holder {
	const char *path;
	unsigned hold_ms;
	int ready[2];
};

/* Another program holding the write lock for hold_ms. */
static void *hold_lock(void *arg)
{
	struct holder *h = arg;
	struct timespec ts = { h->hold_ms / 1000, (long)(h->hold_ms % 1000) * 1000000L };
	sqlite3 *db;

	if (sqlite3_open(h->path, &db) != SQLITE_OK ||
	    sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("holder: %s", sqlite3_errmsg(db));
	if (write(h->ready[1], "x", 1) != 1)
		fail_msg("holder: pipe");
	nanosleep(&ts, NULL);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	return NULL;
}

static void locked_for(struct fix *f, struct fx_store *st, unsigned ms, int want_rc)
{
	struct holder h = { f->db, ms, { -1, -1 } };
	pthread_t t;
	char c, want[256];

	assert_int_equal(pipe(h.ready), 0);
	assert_int_equal(pthread_create(&t, NULL, hold_lock, &h), 0);
	assert_int_equal(read(h.ready[0], &c, 1), 1);
	assert_int_equal(record(st, T0 + 86400000000LL + ms, &f->err), want_rc);
	if (want_rc) {
		snprintf(want, sizeof(want), "database '%s': database is locked", f->db);
		assert_string_equal(f->err.msg, want);
	}
	pthread_join(t, NULL);
	close(h.ready[0]);
	close(h.ready[1]);
}

/* Locked for 1 s: the busy timeout waits it out. Locked beyond the busy
 * timeout (5 s): FX_E_DB "database is locked", nothing half-written, and
 * the next record goes through. */
static void test_locked(void **state)
{
	struct fix *f = *state;
	struct fx_store *st = fx_store_open(f->db, &f->err);

	assert_non_null(st);
	record_n(st, 1, T0);
	locked_for(f, st, 1000, 0);
	locked_for(f, st, FX_STORE_BUSY_TIMEOUT_MS + 1500, FX_E_DB);
	assert_int_equal(record(st, T0 + 2 * 86400000000LL, &f->err), 0);
	fx_store_close(st);
	assert_int_equal(count_runs(f->db, "result = 'PASS'"), 3);
	/* the run whose begin was locked out was never written */
	assert_int_equal(count_runs(f->db, "1"), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_damaged_pages_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_header_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_found_in_background, setup, teardown),
		cmocka_unit_test_setup_teardown(test_background_check_sound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_renamed_keeps_commits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_renamed_then_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_orphan_wal_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deleted_keeps_wal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly_file_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly_dir_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_locked, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

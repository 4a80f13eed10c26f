/* store.c - open (read-write with migrations and recovery, or read-only),
 * statement cache, transactions, close. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fx/log.h"
#include "store_int.h"

#define LOG_PREFIX "store"

/* State of the quick_check of a recording open (issue 8 defect 3). */
enum st_check {
	CHK_NONE = 0, /* not checked (read-only stores) */
	CHK_RUNNING,  /* the background check runs */
	CHK_OK,
	CHK_BAD,      /* damaged: check_msg says how; recording refused */
	CHK_FAILED,   /* the check could not run (logged); recording goes on */
};

/* The refusal for a damaged file, with the way out. */
static int damaged(const struct fx_store *st, const char *what, struct fx_err *err)
{
	return fx_err_set(err, FX_E_DB,
			  "database '%s' is damaged (%.70s): not recording into it; restore the last "
			  "backup, or rescue the records: sqlite3 '%s' .recover | sqlite3 NEW.db",
			  st->path, what, st->path);
}

int fx_store_dberr(struct fx_store *st, struct fx_err *err)
{
	int ec = st->db ? sqlite3_extended_errcode(st->db) & 0xff : SQLITE_OK;

	/* a recording store says how to get out of a damaged file */
	if (!st->readonly && (ec == SQLITE_CORRUPT || ec == SQLITE_NOTADB))
		return damaged(st, sqlite3_errmsg(st->db), err);
	if (!st->readonly && ec == SQLITE_READONLY)
		return fx_err_set(err, FX_E_DB, "database '%s' cannot be written (%s): the station "
				  "cannot record into it", st->path, sqlite3_errmsg(st->db));
	return fx_err_set(err, FX_E_DB, "database '%s': %s", st->path,
			  st->db ? sqlite3_errmsg(st->db) : "cannot allocate a connection");
}

sqlite3_stmt *fx_store_stmt(struct fx_store *st, enum st_stmt which,
			    struct fx_err *err)
{
	sqlite3_stmt *s = st->stmt[which];

	if (!s) {
		if (sqlite3_prepare_v3(st->db, fx_store_stmt_sql[which], -1,
				       SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK) {
			fx_store_dberr(st, err);
			return NULL;
		}
		st->stmt[which] = s;
		return s;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

int fx_store_exec(struct fx_store *st, const char *sql, struct fx_err *err)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return fx_store_dberr(st, err);
	return 0;
}

static int step_cached(struct fx_store *st, enum st_stmt which, struct fx_err *err)
{
	sqlite3_stmt *s = fx_store_stmt(st, which, err);
	int rc;

	if (!s)
		return FX_E_DB;
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : fx_store_dberr(st, err);
}

/* The file at path is still the one opened: a database deleted or renamed
 * while open would take the records to an orphaned inode (its -wal) and
 * the station would show PASS for a record nobody can read. */
static bool moved(const struct fx_store *st)
{
	struct stat sb;

	return stat(st->path, &sb) || sb.st_dev != st->dev || sb.st_ino != st->ino;
}

/* The file was renamed (or replaced) under the open connection (issue 8
 * defect 4): the commits since the last checkpoint are only in PATH-wal,
 * which stays behind at the old name, SQLite's close does not checkpoint
 * a moved file, and the next start on PATH would lose them. Checkpoint
 * them now into the file we have open (wherever it went): it then holds
 * every commit and the -wal is empty. A file that was deleted (no link
 * left) is not checkpointed: its records stay in PATH-wal, and the next
 * fx_store_open(PATH) refuses to start over them. */
static void rescue_moved(struct fx_store *st)
{
	struct stat sb;
	int nlog = -1, nckpt = -1, rc;

	if (st->db_fd < 0 || fstat(st->db_fd, &sb) || sb.st_nlink == 0) {
		fx_log(FX_LOG_WARN, LOG_PREFIX, "'%s' was deleted while open: the records "
		       "since its last checkpoint are only in '%s-wal': keep that file",
		       st->path, st->path);
		return;
	}
	rc = sqlite3_wal_checkpoint_v2(st->db, "main", SQLITE_CHECKPOINT_TRUNCATE, &nlog,
				       &nckpt);
	if (rc == SQLITE_OK)
		fx_log(FX_LOG_WARN, LOG_PREFIX, "'%s' was moved while open: every committed "
		       "record (%d WAL frames) is now in the moved file", st->path, nckpt);
	else
		fx_log(FX_LOG_ERR, LOG_PREFIX, "'%s' was moved while open and its records could "
		       "not be checkpointed into the moved file (%s): keep '%s-wal'",
		       st->path, sqlite3_errmsg(st->db), st->path);
}

static int check_same_file(struct fx_store *st, struct fx_err *err)
{
	if (moved(st)) {
		rescue_moved(st);
		return fx_err_set(err, FX_E_DB, "database '%s' was removed or replaced while open",
				  st->path);
	}
	return 0;
}

int fx_store_txn_begin(struct fx_store *st, struct fx_err *err)
{
	int rc;

	if (st->readonly)
		return fx_err_set(err, FX_E_DB, "database '%s': opened read-only", st->path);
	/* not inside a bulk load: checked once at its start (a stat per
	 * call would slow the generators down) */
	if (!st->bulk && (rc = check_same_file(st, err)) != 0)
		return rc;
	if (st->bulk)
		return st->bulk_failed ? fx_err_set(err, FX_E_STATE,
						    "database '%s': bulk load failed earlier", st->path) : 0;
	/* the background quick_check found damage: no more records into it */
	if (__atomic_load_n(&st->check_state, __ATOMIC_ACQUIRE) == CHK_BAD)
		return damaged(st, st->check_msg, err);
	return step_cached(st, SQ_BEGIN, err);
}

int fx_store_txn_end(struct fx_store *st, bool ok, struct fx_err *err)
{
	if (st->bulk) {
		if (!ok)
			st->bulk_failed = true;
		return 0;
	}
	if (ok)
		return step_cached(st, SQ_COMMIT, err);
	/* keep the first error: the rollback's own result does not matter */
	if (sqlite3_get_autocommit(st->db) == 0)
		step_cached(st, SQ_ROLLBACK, NULL);
	return 0;
}

static int get_int(struct fx_store *st, const char *sql, int *out,
		   struct fx_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return fx_store_dberr(st, err);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		fx_store_dberr(st, err);
		sqlite3_finalize(s);
		return FX_E_DB;
	}
	*out = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return 0;
}

static struct fx_store *store_new(const char *path, struct fx_err *err)
{
	struct fx_store *st = calloc(1, sizeof(*st));

	if (!st) {
		fx_err_set(err, FX_E_NOMEM, "database '%s': out of memory", path);
		return NULL;
	}
	st->path = strdup(path);
	if (!st->path) {
		free(st);
		fx_err_set(err, FX_E_NOMEM, "database '%s': out of memory", path);
		return NULL;
	}
	st->lock_fd = -1;
	st->db_fd = -1;
	pthread_mutex_init(&st->lock, NULL);
	return st;
}

/* One recording process per database: an exclusive flock() on PATH.lock
 * (a side file, not the database: SQLite's own POSIX locks on the database
 * must stay independent, and flock is emulated with POSIX locks on NFS),
 * held until fx_store_close(). The file keeps the holder's pid for the
 * message and is never removed (removing would let two processes lock two
 * different files of the same name). flock belongs to the open file
 * description, so a second fx_store_open() in the same process is refused
 * too. */
static int take_lock(struct fx_store *st, struct fx_err *err)
{
	size_t n = strlen(st->path) + sizeof(".lock");
	char *lp = malloc(n), buf[32];
	long pid = 0;
	ssize_t got;
	int fd, e;

	if (!lp)
		return fx_err_set(err, FX_E_NOMEM, "database '%s': out of memory", st->path);
	snprintf(lp, n, "%s.lock", st->path);
	fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	/* left by another user (e.g. a first start as root), or on a
	 * read-only mount (refused below, with the database's own message):
	 * flock works on a read-only descriptor too; only the pid is not
	 * written then */
	if (fd < 0 && (errno == EACCES || errno == EROFS))
		fd = open(lp, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		fx_err_set(err, FX_E_DB, "database '%s': cannot open lock file '%s': %s",
			   st->path, lp, strerror(e));
		free(lp);
		return FX_E_DB;
	}
	free(lp);
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		e = errno;
		if (e != EWOULDBLOCK) {
			close(fd);
			return fx_err_set(err, FX_E_DB, "database '%s': cannot lock: %s",
					  st->path, strerror(e));
		}
		got = pread(fd, buf, sizeof(buf) - 1, 0);
		close(fd);
		if (got > 0) {
			buf[got] = '\0';
			pid = strtol(buf, NULL, 10);
		}
		/* a pid left by an earlier holder that could not write its own */
		if (pid > 0 && kill((pid_t)pid, 0) && errno == ESRCH)
			pid = 0;
		if (pid > 0)
			return fx_err_set(err, FX_E_BUSY,
					  "database '%s' is in use by another station process (pid %ld)",
					  st->path, pid);
		return fx_err_set(err, FX_E_BUSY,
				  "database '%s' is in use by another station process (pid unknown)",
				  st->path);
	}
	n = (size_t)snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	/* the pid is only for the message: a failure here is not fatal */
	if (ftruncate(fd, 0) || pwrite(fd, buf, n, 0) != (ssize_t)n)
		fx_log(FX_LOG_DEBUG, LOG_PREFIX, "'%s': cannot write the pid to the lock file",
		       st->path);
	st->lock_fd = fd;
	return 0;
}

/* "file:PATH?immutable=1" with PATH percent-escaped where a URI needs it
 * (sqlite3_free the result). An absolute path gets an empty authority
 * ("file:///...") so that "//x" is not read as a host. */
static char *immutable_uri(const char *path)
{
	sqlite3_str *u = sqlite3_str_new(NULL);
	const unsigned char *p;

	sqlite3_str_appendall(u, path[0] == '/' ? "file://" : "file:");
	for (p = (const unsigned char *)path; *p; p++) {
		if (*p == '%' || *p == '?' || *p == '#' || *p <= ' ' || *p >= 0x7f)
			sqlite3_str_appendf(u, "%%%02X", *p);
		else
			sqlite3_str_appendchar(u, 1, (char)*p);
	}
	sqlite3_str_appendall(u, "?immutable=1");
	return sqlite3_str_finish(u);
}

/* Check user_version against what this software knows. */
static int check_version(struct fx_store *st, int *version, struct fx_err *err)
{
	int rc, ntables;

	/* the first read: a non-database file fails here ("file is not a
	 * database") */
	rc = get_int(st, "PRAGMA user_version", version, err);
	if (rc)
		return rc;
	if (*version > FX_STORE_SCHEMA_VERSION)
		return fx_err_set(err, FX_E_DB,
				  "database '%s': schema version %d is newer than this software (%d); upgrade fixturectl",
				  st->path, *version, FX_STORE_SCHEMA_VERSION);
	if (*version == 0) {
		rc = get_int(st, "SELECT count(*) FROM sqlite_schema", &ntables, err);
		if (rc)
			return rc;
		if (ntables)
			return fx_err_set(err, FX_E_DB,
					  "database '%s': not a fixturectl database (user_version 0 but %d schema objects)",
					  st->path, ntables);
	}
	return 0;
}

/* PRAGMA quick_check on db: 0 = ok, 1 = damaged (the first complaint in
 * msg), -1 = it could not run (interrupted, busy, no memory: msg = why). */
static int quick_check(sqlite3 *db, char *msg, size_t cap)
{
	sqlite3_stmt *s = NULL;
	int rc, ec, res;

	rc = sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &s, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(s, 0);

		static const char main_hdr[] = "*** in database main ***\n";
		char *p;

		res = t && !strcmp(t, "ok") ? 0 : 1;
		if (res && t && !strncmp(t, main_hdr, sizeof(main_hdr) - 1))
			t += sizeof(main_hdr) - 1;
		if (res)
			snprintf(msg, cap, "quick_check: %s", t ? t : "no answer");
		/* one line: the message ends up on the operator's screen */
		for (p = msg; res && *p; p++)
			if (*p == '\n' || *p == '\r')
				*p = ' ';
	} else {
		ec = sqlite3_extended_errcode(db) & 0xff;
		res = ec == SQLITE_CORRUPT || ec == SQLITE_NOTADB ? 1 : -1;
		snprintf(msg, cap, "%s", sqlite3_errmsg(db));
	}
	sqlite3_finalize(s);
	return res;
}

/* fx_store_close() asks the background check to stop. */
static int check_progress(void *user)
{
	struct fx_store *st = user;

	return __atomic_load_n(&st->check_stop, __ATOMIC_RELAXED);
}

static void *check_main(void *arg)
{
	struct fx_store *st = arg;
	char msg[sizeof(st->check_msg)];
	struct timespec t0, t1;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = quick_check(st->check_db, msg, sizeof(msg));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* the message first: a reader that sees CHK_BAD reads it */
	if (r > 0)
		snprintf(st->check_msg, sizeof(st->check_msg), "%s", msg);
	__atomic_store_n(&st->check_state, r == 0 ? CHK_OK : r > 0 ? CHK_BAD : CHK_FAILED,
			 __ATOMIC_RELEASE);
	if (r > 0)
		fx_log(FX_LOG_ERR, LOG_PREFIX, "'%s' is damaged (%s): recording stops", st->path,
		       msg);
	else if (r < 0 && !__atomic_load_n(&st->check_stop, __ATOMIC_RELAXED))
		fx_log(FX_LOG_WARN, LOG_PREFIX, "'%s': quick_check could not run: %s", st->path,
		       msg);
	else if (r == 0)
		fx_log(FX_LOG_DEBUG, LOG_PREFIX, "'%s': quick_check ok in %.1f s", st->path,
		       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return NULL;
}

/* Files up to this size are checked before fx_store_open() returns
 * (quick_check reads ~80 MB/s: ~0.4 s); larger ones in the background. */
static uint64_t check_sync_max(void)
{
	const char *e = getenv("FX_STORE_CHECK_SYNC_MAX");
	char *end;
	unsigned long long v;

	if (e && *e) {
		errno = 0;
		v = strtoull(e, &end, 10);
		if (!errno && !*end)
			return v;
	}
	return FX_STORE_CHECK_SYNC_MAX;
}

/* issue 8 defect 3: never record into a damaged file. */
static int check_at_open(struct fx_store *st, struct fx_err *err)
{
	struct stat sb;
	uint64_t size = 0;
	char msg[sizeof(st->check_msg)];
	size_t n = strlen(st->path) + sizeof("-wal");
	char *wal = malloc(n);
	int r;

	if (!wal)
		return fx_err_set(err, FX_E_NOMEM, "database '%s': out of memory", st->path);
	snprintf(wal, n, "%s-wal", st->path);
	if (stat(st->path, &sb) == 0)
		size += (uint64_t)sb.st_size;
	if (stat(wal, &sb) == 0)
		size += (uint64_t)sb.st_size;
	free(wal);
	if (size <= check_sync_max()) {
		r = quick_check(st->db, msg, sizeof(msg));
		if (r > 0)
			return damaged(st, msg, err);
		if (r < 0)
			return fx_err_set(err, FX_E_DB, "database '%s': quick_check: %s", st->path,
					  msg);
		st->check_state = CHK_OK;
		return 0;
	}
	/* large: a second, read-only connection checks it while the station
	 * records; the first recording call after it finds damage fails */
	if (sqlite3_open_v2(st->path, &st->check_db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		fx_log(FX_LOG_WARN, LOG_PREFIX, "'%s': quick_check not started: %s", st->path,
		       st->check_db ? sqlite3_errmsg(st->check_db) : "out of memory");
		st->check_state = CHK_FAILED;
		return 0;
	}
	sqlite3_busy_timeout(st->check_db, FX_STORE_BUSY_TIMEOUT_MS);
	sqlite3_progress_handler(st->check_db, 10000, check_progress, st);
	st->check_state = CHK_RUNNING;
	if (pthread_create(&st->check_thread, NULL, check_main, st)) {
		fx_log(FX_LOG_WARN, LOG_PREFIX, "'%s': quick_check not started: no thread",
		       st->path);
		st->check_state = CHK_FAILED;
		return 0;
	}
	st->check_started = true;
	fx_log(FX_LOG_INFO, LOG_PREFIX, "'%s': %llu MB, quick_check runs in the background",
	       st->path, (unsigned long long)(size >> 20));
	return 0;
}

/* issue 8 defect 4: PATH missing while PATH-wal holds frames = the
 * database was moved or deleted while a station recorded into it (and
 * that station was killed before it could checkpoint). Creating a new
 * database there would apply or delete those frames: refuse. */
static int check_orphan_wal(struct fx_store *st, struct fx_err *err)
{
	size_t n = strlen(st->path) + sizeof("-wal");
	char *wal;
	struct stat sb;
	int rc = 0;

	if (stat(st->path, &sb) == 0 || errno != ENOENT)
		return 0;
	wal = malloc(n);
	if (!wal)
		return fx_err_set(err, FX_E_NOMEM, "database '%s': out of memory", st->path);
	snprintf(wal, n, "%s-wal", st->path);
	if (stat(wal, &sb) == 0 && sb.st_size > 0)
		rc = fx_err_set(err, FX_E_DB,
				"database '%s' is missing but '%s' holds %lld bytes of its records "
				"(moved or deleted while recording?): put the database back, or move "
				"the -wal away to start a new one",
				st->path, wal, (long long)sb.st_size);
	free(wal);
	return rc;
}

struct fx_store *fx_store_open(const char *path, struct fx_err *err)
{
	struct fx_store *st;
	int version, rc;

	if (!path || !*path) {
		fx_err_set(err, FX_E_INVAL, "database path is empty");
		return NULL;
	}
	st = store_new(path, err);
	if (!st)
		return NULL;
	/* before anything is read, migrated or recovered: the runs a live
	 * station is recording must not be marked ABORTED under it */
	if (take_lock(st, err))
		goto err_close;
	if (check_orphan_wal(st, err))
		goto err_close;
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		fx_store_dberr(st, err);
		goto err_close;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, FX_STORE_BUSY_TIMEOUT_MS);
	/* issue 8 defect 5: SQLite falls back to read-only silently; the
	 * station must know now, not after START */
	if (sqlite3_db_readonly(st->db, "main") == 1) {
		fx_err_set(err, FX_E_DB, "database '%s' is read-only (file permissions or a "
			   "read-only mount): the station cannot record into it", path);
		goto err_close;
	}
	rc = check_version(st, &version, err);
	if (rc)
		goto err_close;
	if (check_at_open(st, err))
		goto err_close;
	/* WAL is persistent in the file; FULL makes every COMMIT durable;
	 * then writable indeed: the -wal and -shm can be made, no other
	 * writer holds the lock beyond the busy timeout (issue 8 defect 5) */
	if (sqlite3_exec(st->db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
			 " PRAGMA foreign_keys = ON; BEGIN IMMEDIATE; ROLLBACK",
			 NULL, NULL, NULL) != SQLITE_OK) {
		fx_store_dberr(st, err);
		goto err_close;
	}
	/* kept open until after the connection closes (closing another
	 * descriptor of the file would drop SQLite's POSIX locks) */
	st->db_fd = open(path, O_RDONLY | O_CLOEXEC);
	/* the file now exists (check_version read it) */
	{
		struct stat sb;

		if (stat(path, &sb)) {
			fx_err_set(err, FX_E_DB, "database '%s': %s", path, strerror(errno));
			goto err_close;
		}
		st->dev = sb.st_dev;
		st->ino = sb.st_ino;
	}
	if (version < FX_STORE_SCHEMA_VERSION) {
		if (fx_store_exec(st, "BEGIN IMMEDIATE", err))
			goto err_close;
		/* re-read under the write lock: another process may have
		 * migrated meanwhile */
		rc = check_version(st, &version, err);
		if (!rc)
			rc = fx_store_schema_migrate(st, version, err);
		if (rc) {
			fx_store_txn_end(st, false, NULL);
			goto err_close;
		}
		if (fx_store_exec(st, "COMMIT", err))
			goto err_close;
		if (version < FX_STORE_SCHEMA_VERSION)
			fx_log(FX_LOG_INFO, LOG_PREFIX, "'%s': schema migrated %d -> %d",
			       path, version, FX_STORE_SCHEMA_VERSION);
	}
	if (fx_store_recover(st, &st->recovered, err))
		goto err_close;
	if (st->recovered)
		fx_log(FX_LOG_WARN, LOG_PREFIX, "'%s': %u unfinished run(s) marked ABORTED",
		       path, st->recovered);
	return st;
err_close:
	fx_store_close(st);
	return NULL;
}

struct fx_store *fx_store_open_readonly(const char *path, struct fx_err *err)
{
	struct fx_store *st;
	struct stat sb;
	int version;

	if (!path || !*path) {
		fx_err_set(err, FX_E_INVAL, "database path is empty");
		return NULL;
	}
	if (stat(path, &sb)) {
		fx_err_set(err, FX_E_FILE, "database '%s': %s", path, strerror(errno));
		return NULL;
	}
	st = store_new(path, err);
	if (!st)
		return NULL;
	st->readonly = true;
	/* No -wal: no station has the database open and the last one
	 * checkpointed it at close. Open it immutable, so that SQLite creates
	 * no -wal/-shm (they would belong to the report's user, and fail in a
	 * read-only directory). With a -wal (a station is recording, or it
	 * crashed), open normally: the WAL must be read; the same with a
	 * rollback -journal (a file left in another journal mode), which may
	 * be hot. */
	{
		size_t n = strlen(path) + sizeof("-journal");
		char *side = malloc(n), *uri = NULL;
		bool immutable;
		int rc;

		if (!side) {
			fx_err_set(err, FX_E_NOMEM, "database '%s': out of memory", path);
			goto err_close;
		}
		snprintf(side, n, "%s-wal", path);
		immutable = access(side, F_OK) != 0 && errno == ENOENT;
		snprintf(side, n, "%s-journal", path);
		immutable = immutable && access(side, F_OK) != 0 && errno == ENOENT;
		free(side);
		if (immutable) {
			uri = immutable_uri(path);
			if (!uri) {
				fx_err_set(err, FX_E_NOMEM, "database '%s': out of memory", path);
				goto err_close;
			}
		}
		rc = sqlite3_open_v2(uri ? uri : path, &st->db,
				     SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX |
				     (uri ? SQLITE_OPEN_URI : 0), NULL);
		sqlite3_free(uri);
		if (rc != SQLITE_OK) {
			fx_store_dberr(st, err);
			goto err_close;
		}
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, FX_STORE_BUSY_TIMEOUT_MS);
	if (check_version(st, &version, err))
		goto err_close;
	if (version < FX_STORE_SCHEMA_VERSION) {
		fx_err_set(err, FX_E_DB,
			   "database '%s': schema version %d is older than this software (%d); open it once with the station to migrate it",
			   path, version, FX_STORE_SCHEMA_VERSION);
		goto err_close;
	}
	return st;
err_close:
	fx_store_close(st);
	return NULL;
}

void fx_store_close(struct fx_store *st)
{
	int i;

	if (!st)
		return;
	if (st->check_started) {
		__atomic_store_n(&st->check_stop, 1, __ATOMIC_RELAXED);
		pthread_join(st->check_thread, NULL);
	}
	sqlite3_close(st->check_db);
	for (i = 0; i < SQ__COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	if (st->bulk)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	/* commits made after the last check (SQLite's close would not
	 * checkpoint a moved file) */
	if (!st->readonly && st->db && st->db_fd >= 0 && moved(st))
		rescue_moved(st);
	sqlite3_close(st->db);
	if (st->db_fd >= 0)
		close(st->db_fd);
	/* after the close (and its checkpoint): the next station may start */
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	pthread_mutex_destroy(&st->lock);
	free(st->path);
	free(st);
}

unsigned fx_store_recovered(const struct fx_store *st)
{
	return st->recovered;
}

const char *fx_store_path(const struct fx_store *st)
{
	return st->path;
}

void fx_store_set_uuid_seed(struct fx_store *st, uint64_t seed)
{
	pthread_mutex_lock(&st->lock);
	st->seeded = true;
	st->seed = seed;
	pthread_mutex_unlock(&st->lock);
}

struct sqlite3 *fx_store_sqlite(struct fx_store *st)
{
	return st->db;
}

int fx_store_bulk_begin(struct fx_store *st, struct fx_err *err)
{
	int rc;

	pthread_mutex_lock(&st->lock);
	if (st->bulk)
		rc = fx_err_set(err, FX_E_STATE, "database '%s': bulk load already open", st->path);
	else if (st->readonly)
		rc = fx_err_set(err, FX_E_DB, "database '%s': opened read-only", st->path);
	else if ((rc = check_same_file(st, err)) == 0)
		rc = fx_store_exec(st, "PRAGMA synchronous = OFF; BEGIN IMMEDIATE", err);
	if (!rc)
		st->bulk = true;
	pthread_mutex_unlock(&st->lock);
	return rc;
}

int fx_store_bulk_end(struct fx_store *st, struct fx_err *err)
{
	int rc;

	pthread_mutex_lock(&st->lock);
	if (!st->bulk) {
		rc = fx_err_set(err, FX_E_STATE, "database '%s': no bulk load open", st->path);
	} else if (st->bulk_failed) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		st->bulk = st->bulk_failed = false;
		fx_store_exec(st, "PRAGMA synchronous = FULL", NULL);
		rc = fx_err_set(err, FX_E_STATE, "database '%s': bulk load rolled back after an error",
				st->path);
	} else {
		rc = fx_store_exec(st, "COMMIT", err);
		if (!rc) {
			st->bulk = false;
			rc = fx_store_exec(st, "PRAGMA synchronous = FULL", err);
		}
	}
	pthread_mutex_unlock(&st->lock);
	return rc;
}

int fx_store_latest_start_us(struct fx_store *st, int64_t *us, struct fx_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if (!us)
		return fx_err_set(err, FX_E_INVAL, "latest start: no output");
	*us = 0;
	pthread_mutex_lock(&st->lock);
	if (sqlite3_prepare_v2(st->db, "SELECT max(start_us) FROM runs", -1, &s, NULL) != SQLITE_OK) {
		rc = fx_store_dberr(st, err);
		goto out;
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*us = sqlite3_column_int64(s, 0); /* NULL (no runs) reads as 0 */
		rc = 0;
	} else {
		rc = fx_store_dberr(st, err);
	}
	sqlite3_finalize(s);
out:
	pthread_mutex_unlock(&st->lock);
	return rc;
}

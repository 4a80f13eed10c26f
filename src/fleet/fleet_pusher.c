/* fleet_pusher.c - the push loop: connect, attach, drain in batches, wait
 * for new local commits (PRAGMA data_version, polled), back off on
 * failure (1 s doubling to 5 min), stop between batches. Also as a
 * background thread for run --sync (fx/fleet.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "fleet_int.h"
#include "fx/log.h"
#include "fx/store.h"

static void say(const struct fx_fleet_pusher_opts *o, const char *fmt, const char *msg)
{
	char buf[512];

	if (!o->log)
		return;
	snprintf(buf, sizeof(buf), fmt, msg);
	o->log(o->ctx, buf);
}

static bool stopped(const struct fx_fleet_pusher_opts *o)
{
	return o->stop && *o->stop;
}

/* sleep ms in steps of at most 50 ms, ending early on stop */
static void nap(const struct fx_fleet_pusher_opts *o, unsigned ms)
{
	struct timespec ts;
	unsigned step;

	while (ms && !stopped(o)) {
		step = ms < 50 ? ms : 50;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)step * 1000000L;
		nanosleep(&ts, NULL);
		ms -= step;
	}
}

/* A shared snapshot of the backlog for fx_fleet_pusher_backlog(). */
struct snap {
	pthread_mutex_t lock;
	int64_t backlog, oldest_us;
};

static void publish(struct snap *sn, struct fx_sync_db *db)
{
	struct fx_sync_status st;

	if (!sn || fx_sync_db_status(db, &st, NULL))
		return;
	pthread_mutex_lock(&sn->lock);
	sn->backlog = st.backlog;
	sn->oldest_us = st.oldest_queued_us;
	pthread_mutex_unlock(&sn->lock);
}

/* One pusher per station database: two would race for the same batch and
 * the loser would look like a copied database. flock() on "PATH.sync"
 * (holding the pusher's pid), kept while pushing. Returns the fd or -1. */
static int lock_pusher(const char *db, struct fx_err *err)
{
	char path[4096], pid[24];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s.sync", db);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		fx_err_set(err, FX_E_FILE, "cannot open lock file '%s': %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		fx_err_set(err, FX_E_BUSY, "database '%s' is already being pushed by another"
			   " process (pid %d)", db, atoi(pid));
		close(fd);
		return -1;
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	/* the pid is a hint for the message above only */
	if (ftruncate(fd, 0) == 0 && pwrite(fd, pid, (size_t)n, 0) != n)
		fx_log(FX_LOG_DEBUG, "fleet", "cannot write the pid into '%s'", path);
	return fd;
}

static bool fatal(int code)
{
	return code != FX_E_IO;
}

/* The central serial pools' leasing (fleet_lease.c) on the pusher's
 * connection, before each batch: never on a cycle's path. */
struct leasing {
	struct fx_store *st;      /* own connection, opened for the first pool */
	bool recovery;            /* look for lost leases (after a connect) */
	int64_t pause_until_us;   /* after a non-server error: retry later */
};

#define LEASE_PAUSE_US (60 * 1000000LL)

/* 0, or FX_E_IO for the failure path (reconnect, back off); any other
 * trouble is logged and pauses the leasing only: the station allocates
 * from what it has, and stops as usual when that is used up. */
static int supply(const struct fx_fleet_pusher_opts *o, struct fx_fleet *f,
		  struct fx_sync_db *db, struct leasing *ls, struct fx_err *e)
{
	struct fx_sync_pool *p = NULL;
	int64_t now = fx_fleet_now_us();
	unsigned leased = 0;
	char msg[64];
	size_t n = 0;
	int rc = 0;

	if (now < ls->pause_until_us)
		return 0;
	if (!ls->st) {
		rc = fx_sync_db_pools(db, &p, &n, e);
		free(p);
		if (!rc && !n)
			return 0;
		if (!rc && !(ls->st = fx_sync_store_open(o->db_path, e)))
			rc = e->code ? e->code : FX_E_DB;
	}
	if (!rc)
		rc = fx_fleet_refill(f, db, ls->st, ls->recovery, &leased, e);
	if (leased) {
		snprintf(msg, sizeof(msg), "%u serial block%s leased", leased, leased == 1 ? "" : "s");
		say(o, "%s", msg);
	}
	if (rc == FX_E_IO) {
		ls->recovery = true;
		return rc;
	}
	if (rc) {
		fx_sync_db_note_error(db, now, e->msg);
		say(o, "%s", e->msg);
		fx_err_clear(e);
		ls->recovery = true;
		ls->pause_until_us = now + LEASE_PAUSE_US;
		return 0;
	}
	ls->recovery = false;
	return 0;
}

static int loop(const struct fx_fleet_pusher_opts *o, struct snap *sn, size_t *pushed,
		struct fx_err *err)
{
	unsigned poll = o->poll_ms ? o->poll_ms : 200;
	unsigned bmin = o->backoff_min_ms ? o->backoff_min_ms : 1000;
	unsigned bmax = o->backoff_max_ms ? o->backoff_max_ms : 300000;
	unsigned backoff = bmin;
	struct fx_sync_db *db;
	struct fx_fleet *f = NULL;
	struct leasing ls = { .recovery = true };
	struct fx_err e;
	bool ready = false, changed, new_epoch = o->new_epoch;
	size_t n, nev;
	int rc = 0, lock_fd;

	*pushed = 0;
	db = fx_sync_db_open(o->db_path, err);
	if (!db)
		return err ? err->code : FX_E_DB;
	lock_fd = lock_pusher(o->db_path, err);
	if (lock_fd < 0) {
		fx_sync_db_close(db);
		return err ? err->code : FX_E_BUSY;
	}
	if (o->line && fx_sync_db_set_line(db, o->line, err)) {
		fx_sync_db_close(db);
		close(lock_fd);
		return err->code;
	}
	fx_sync_db_changed(db, &changed, NULL);
	publish(sn, db);
	while (!stopped(o)) {
		fx_err_clear(&e);
		if (!f) {
			f = fx_fleet_connect(o->uri, &e);
			if (!f)
				goto failed;
			ready = false;
			ls.recovery = true;
		}
		if (!ready) {
			rc = fx_fleet_attach(f, db, o->station, new_epoch, &ready, &e);
			if (rc)
				goto failed;
			new_epoch = false;
		}
		n = nev = 0;
		if (ready) {
			rc = supply(o, f, db, &ls, &e);
			if (rc)
				goto failed;
			rc = fx_fleet_push(f, db, o->batch, &n, &nev, fx_fleet_now_us(), &e);
			if (rc)
				goto failed;
			*pushed += n;
			backoff = bmin;
		}
		publish(sn, db);
		if (n || nev)
			continue;
		/* drained */
		if (!o->follow) {
			rc = 0;
			break;
		}
		for (changed = false; !changed && !stopped(o);) {
			nap(o, poll);
			if (fx_sync_db_changed(db, &changed, &e))
				break;
		}
		continue;
failed:
		rc = e.code ? e.code : FX_E_IO;
		fx_sync_db_note_error(db, fx_fleet_now_us(), e.msg);
		if (o->follow)
			say(o, "%s", e.msg); /* else the caller reports it */
		fx_fleet_close(f);
		f = NULL;
		publish(sn, db);
		if (fatal(rc) || !o->follow)
			break;
		nap(o, backoff);
		backoff = backoff > bmax / 2 ? bmax : backoff * 2;
		rc = 0;
	}
	if (rc && err)
		*err = e;
	fx_fleet_close(f);
	fx_store_close(ls.st);
	fx_sync_db_close(db);
	close(lock_fd);
	return rc;
}

int fx_fleet_pusher_run(const struct fx_fleet_pusher_opts *o, size_t *pushed,
			struct fx_err *err)
{
	return loop(o, NULL, pushed, err);
}

struct fx_fleet_pusher {
	struct fx_fleet_pusher_opts o;
	volatile int stop;
	struct snap sn;
	pthread_t thread;
	int rc;
	size_t pushed;
	struct fx_err err;
};

static void *thread_main(void *arg)
{
	struct fx_fleet_pusher *p = arg;

	p->rc = loop(&p->o, &p->sn, &p->pushed, &p->err);
	return NULL;
}

struct fx_fleet_pusher *fx_fleet_pusher_start(const struct fx_fleet_pusher_opts *o,
					      struct fx_err *err)
{
	struct fx_fleet_pusher *p = calloc(1, sizeof(*p));

	if (!p) {
		fx_err_set(err, FX_E_NOMEM, "sync: out of memory");
		return NULL;
	}
	p->o = *o;
	p->o.stop = &p->stop;
	p->o.follow = true;
	pthread_mutex_init(&p->sn.lock, NULL);
	if (pthread_create(&p->thread, NULL, thread_main, p)) {
		pthread_mutex_destroy(&p->sn.lock);
		free(p);
		fx_err_set(err, FX_E_NOMEM, "sync: cannot start the pusher thread");
		return NULL;
	}
	return p;
}

void fx_fleet_pusher_backlog(struct fx_fleet_pusher *p, int64_t *backlog, int64_t *oldest_us)
{
	pthread_mutex_lock(&p->sn.lock);
	*backlog = p->sn.backlog;
	*oldest_us = p->sn.oldest_us;
	pthread_mutex_unlock(&p->sn.lock);
}

int fx_fleet_pusher_stop(struct fx_fleet_pusher *p, struct fx_err *err)
{
	int rc;

	if (!p)
		return 0;
	p->stop = 1;
	pthread_join(p->thread, NULL);
	rc = p->rc;
	if (rc && err)
		*err = p->err;
	pthread_mutex_destroy(&p->sn.lock);
	free(p);
	return rc;
}

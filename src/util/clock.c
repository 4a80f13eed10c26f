/* clock.c - virtual and scaled real-time clocks. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "fx/clock.h"
#include "fx/err.h"

static uint64_t vclock_now(const struct fx_clock *clk)
{
	const struct fx_vclock *vc = (const struct fx_vclock *)clk;

	return vc->t;
}

static void vclock_sleep(const struct fx_clock *clk, uint64_t us)
{
	/* the only mutation of a virtual clock: casting away const is the
	 * documented contract of fx_vclock (not thread-safe) */
	struct fx_vclock *vc = (struct fx_vclock *)(void *)clk;

	vc->t += us;
}

void fx_vclock_init(struct fx_vclock *vc)
{
	memset(&vc->base, 0, sizeof(vc->base));
	vc->base.now_us = vclock_now;
	vc->base.sleep_us = vclock_sleep;
	vc->t = 0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t rclock_now(const struct fx_clock *clk)
{
	const struct fx_rclock *rc = (const struct fx_rclock *)clk;
	double ns = (double)(mono_ns() - rc->t0_ns);

	return (uint64_t)(ns / 1000.0 / rc->scale);
}

static void rclock_sleep(const struct fx_clock *clk, uint64_t us)
{
	const struct fx_rclock *rc = (const struct fx_rclock *)clk;
	double real_ns = (double)us * 1000.0 * rc->scale;
	struct timespec ts;

	ts.tv_sec = (time_t)(real_ns / 1e9);
	ts.tv_nsec = (long)(real_ns - (double)ts.tv_sec * 1e9);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

void fx_rclock_init(struct fx_rclock *rc, double scale)
{
	/* Linux delays a sleep or poll timeout by up to the thread's timer
	 * slack (50 us by default) to batch wake-ups; a flash job sleeps
	 * hundreds of times (bwPollTimeout, resets, port waits), so 1 ns.
	 * A thread's setting, inherited by the threads made after it (the
	 * slot threads, libusb's event thread); harmless to repeat. */
#ifdef PR_SET_TIMERSLACK
	(void)prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
#endif
	memset(&rc->base, 0, sizeof(rc->base));
	rc->base.now_us = rclock_now;
	rc->base.sleep_us = rclock_sleep;
	rc->scale = scale > 0 ? scale : 1.0;
	rc->t0_ns = mono_ns();
}

/* ---- shared discrete-event clock --------------------------------------- */

static struct fx_dclock *to_dc(const struct fx_clock *clk)
{
	/* the clock's state is behind its mutex: casting away const is the
	 * documented contract of fx_dclock (thread-safe) */
	return (struct fx_dclock *)(void *)clk;
}

/* With the lock held: when every member sleeps and none is due yet,
 * advance to the earliest wake time and wake the sleepers. An entry whose
 * wake time has come belongs to a thread that runs (it just has not taken
 * its entry out yet), so time stays. */
static void dclock_advance(struct fx_dclock *dc)
{
	uint64_t min = UINT64_MAX;
	size_t i;

	if (dc->n_sleep < dc->members || dc->n_sleep == 0)
		return;
	for (i = 0; i < dc->n_sleep; i++) {
		if (dc->wake[i] <= dc->t)
			return;
		if (dc->wake[i] < min)
			min = dc->wake[i];
	}
	dc->t = min;
	pthread_cond_broadcast(&dc->cond);
}

static uint64_t dclock_now(const struct fx_clock *clk)
{
	struct fx_dclock *dc = to_dc(clk);
	uint64_t t;

	pthread_mutex_lock(&dc->lock);
	t = dc->t;
	pthread_mutex_unlock(&dc->lock);
	return t;
}

static void dclock_sleep(const struct fx_clock *clk, uint64_t us)
{
	struct fx_dclock *dc = to_dc(clk);
	uint64_t wake;
	bool guest;
	size_t i;

	pthread_mutex_lock(&dc->lock);
	/* a full table: wait (at this model time) for a sleeper to leave */
	while (dc->n_sleep == FX_DCLOCK_MAX_SLEEPERS)
		pthread_cond_wait(&dc->cond, &dc->lock);
	/* not a member (none joined, or every member already asleep): one
	 * for the time of this sleep */
	guest = dc->members == 0 || dc->n_sleep >= dc->members;
	if (guest)
		dc->members++;
	wake = dc->t + us;
	dc->wake[dc->n_sleep++] = wake;
	dclock_advance(dc);
	while (dc->t < wake)
		pthread_cond_wait(&dc->cond, &dc->lock);
	for (i = 0; i < dc->n_sleep; i++) {
		if (dc->wake[i] == wake) {
			dc->wake[i] = dc->wake[--dc->n_sleep];
			break;
		}
	}
	if (guest)
		dc->members--;
	/* the others may now all be asleep (a guest left), or wait for a
	 * place in the table */
	dclock_advance(dc);
	pthread_cond_broadcast(&dc->cond);
	pthread_mutex_unlock(&dc->lock);
}

static void dclock_join(const struct fx_clock *clk)
{
	struct fx_dclock *dc = to_dc(clk);

	pthread_mutex_lock(&dc->lock);
	dc->members++;
	pthread_mutex_unlock(&dc->lock);
}

static void dclock_leave(const struct fx_clock *clk)
{
	struct fx_dclock *dc = to_dc(clk);

	pthread_mutex_lock(&dc->lock);
	if (dc->members)
		dc->members--;
	dclock_advance(dc); /* the rest may all be asleep now */
	pthread_mutex_unlock(&dc->lock);
}

int fx_dclock_init(struct fx_dclock *dc)
{
	memset(dc, 0, sizeof(*dc));
	if (pthread_mutex_init(&dc->lock, NULL))
		return FX_E_NOMEM;
	if (pthread_cond_init(&dc->cond, NULL)) {
		pthread_mutex_destroy(&dc->lock);
		return FX_E_NOMEM;
	}
	dc->base.now_us = dclock_now;
	dc->base.sleep_us = dclock_sleep;
	dc->base.join = dclock_join;
	dc->base.leave = dclock_leave;
	return 0;
}

void fx_dclock_release(struct fx_dclock *dc)
{
	if (!dc || !dc->base.now_us)
		return;
	pthread_cond_destroy(&dc->cond);
	pthread_mutex_destroy(&dc->lock);
	dc->base.now_us = NULL;
}

void fx_clock_sleep_until(const struct fx_clock *clk, uint64_t t)
{
	uint64_t now = clk->now_us(clk);

	if (t > now)
		clk->sleep_us(clk, t - now);
}

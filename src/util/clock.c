/* clock.c - virtual and scaled real-time clocks. */
#include <errno.h>
#include <time.h>

#include "fx/clock.h"

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
	rc->base.now_us = rclock_now;
	rc->base.sleep_us = rclock_sleep;
	rc->scale = scale > 0 ? scale : 1.0;
	rc->t0_ns = mono_ns();
}

void fx_clock_sleep_until(const struct fx_clock *clk, uint64_t t)
{
	uint64_t now = clk->now_us(clk);

	if (t > now)
		clk->sleep_us(clk, t - now);
}

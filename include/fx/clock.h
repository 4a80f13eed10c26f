/* clock.h - injected time (STYLE 2: never a hard-wired sleep).
 *
 * All times are microseconds of *model* time. The virtual clock advances only
 * when somebody sleeps, so a full programming cycle runs in milliseconds of
 * CPU time. The real clock maps model time to CLOCK_MONOTONIC with a scale:
 * scale 1.0 = real time, 0.1 = ten times faster than the device would be.
 * The host and the emulator always share one clock.
 */
#ifndef FX_FX_CLOCK_H
#define FX_FX_CLOCK_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct fx_clock {
	/* current model time in microseconds; monotonic, never blocks */
	uint64_t (*now_us)(const struct fx_clock *clk);
	/* block for us microseconds of model time */
	void (*sleep_us)(const struct fx_clock *clk, uint64_t us);
	/* Optional (NULL = nothing to do, as for the virtual and real
	 * clocks): a thread starts / stops taking part in a shared clock
	 * (fx_dclock). Called through fx_clock_join()/fx_clock_leave(). */
	void (*join)(const struct fx_clock *clk);
	void (*leave)(const struct fx_clock *clk);
};

/* Virtual clock: sleeping advances t. Not thread-safe. */
struct fx_vclock {
	struct fx_clock base;
	uint64_t t;
};

/* Shared virtual clock for several threads (the slots of a gang station):
 * a conservative discrete-event scheduler. Each participating thread
 * ("member") that sleeps registers its wake time and blocks; model time
 * advances to the earliest wake time only when every member is blocked in
 * a sleep, so no member ever sees time jump while it computes, and N slots
 * running at once take the model time of the slowest, not the sum (the
 * emulator's timing stays the spec's). Membership is a count, not a
 * thread identity: a thread may join on behalf of a thread it is about to
 * start (so that time cannot run ahead before that thread got going),
 * and that thread leaves when done. A thread that sleeps without being a
 * member is one for the duration of its sleep, which is right only while
 * no member runs (a single thread then behaves as with fx_vclock). A member must not block on anything but
 * the clock (a join, a condition, stdin) without leaving first: time
 * would stop for everyone. Thread-safe; at most FX_DCLOCK_MAX_SLEEPERS
 * threads sleep at once (more wait for a free place, at the same time). */
#define FX_DCLOCK_MAX_SLEEPERS 64
struct fx_dclock {
	struct fx_clock base;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t t;
	unsigned members;
	size_t n_sleep;                          /* entries in wake[] */
	uint64_t wake[FX_DCLOCK_MAX_SLEEPERS];   /* wake times of sleepers */
};

/* Real clock with a scale factor (> 0). */
struct fx_rclock {
	struct fx_clock base;
	double scale;
	uint64_t t0_ns;
};

void fx_vclock_init(struct fx_vclock *vc);
/* scale <= 0 is treated as 1.0. Also sets the calling thread's timer
 * slack to 1 ns (Linux): threads and processes made afterwards inherit it,
 * so sleeps and poll timeouts are not rounded up by up to 50 us. */
void fx_rclock_init(struct fx_rclock *rc, double scale);
/* Time 0, no member. 0 or FX_E_NOMEM (pthread init failed). Release with
 * fx_dclock_release() when no thread uses it any more. */
int fx_dclock_init(struct fx_dclock *dc);
void fx_dclock_release(struct fx_dclock *dc);

static inline uint64_t fx_clock_now(const struct fx_clock *clk)
{
	return clk->now_us(clk);
}

static inline void fx_clock_sleep(const struct fx_clock *clk, uint64_t us)
{
	clk->sleep_us(clk, us);
}

/* Take part in / leave a shared clock (no-op for other clocks). */
static inline void fx_clock_join(const struct fx_clock *clk)
{
	if (clk->join)
		clk->join(clk);
}

static inline void fx_clock_leave(const struct fx_clock *clk)
{
	if (clk->leave)
		clk->leave(clk);
}

/* Sleep until model time t (no-op if t is already past). */
void fx_clock_sleep_until(const struct fx_clock *clk, uint64_t t);

#endif

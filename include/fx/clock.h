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

#include <stdint.h>

struct fx_clock {
	/* current model time in microseconds; monotonic, never blocks */
	uint64_t (*now_us)(const struct fx_clock *clk);
	/* block for us microseconds of model time */
	void (*sleep_us)(const struct fx_clock *clk, uint64_t us);
};

/* Virtual clock: sleeping advances t. Not thread-safe. */
struct fx_vclock {
	struct fx_clock base;
	uint64_t t;
};

/* Real clock with a scale factor (> 0). */
struct fx_rclock {
	struct fx_clock base;
	double scale;
	uint64_t t0_ns;
};

void fx_vclock_init(struct fx_vclock *vc);
/* scale <= 0 is treated as 1.0 */
void fx_rclock_init(struct fx_rclock *rc, double scale);

static inline uint64_t fx_clock_now(const struct fx_clock *clk)
{
	return clk->now_us(clk);
}

static inline void fx_clock_sleep(const struct fx_clock *clk, uint64_t us)
{
	clk->sleep_us(clk, us);
}

/* Sleep until model time t (no-op if t is already past). */
void fx_clock_sleep_until(const struct fx_clock *clk, uint64_t t);

#endif

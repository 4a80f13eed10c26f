/* dfuse.c - ST DfuSe extensions over DFU 1.1 (include/fx/dfu.h): commands
 * (spec 1.4), read (1.6), write (1.5), the option-byte write that resets
 * the chip (2.6), leave (1.7). Every wait is bounded: bwPollTimeout is
 * honoured and capped, busy polling stops after FX_DFU_BUSY_LIMIT_MS,
 * STALLs while busy (STM32L4-style ROMs, spec 4.2) are retried a few times. */
#include <stdlib.h>
#include <string.h>

#include "dfu_internal.h"
#include "fx/bytes.h"
#include "fx/log.h"

#define LOG_PREFIX "dfuse"
#define MAX_BUSY_STALLS 16
#define STALL_BACKOFF_CAP_MS 1000u
#define READ_QUEUE 16         /* UPLOADs queued at once (fx_usb_control_batch) */

static void progress(struct fx_dfu *d, const char *what, size_t done,
		     size_t total)
{
	if (d->progress)
		d->progress(d->progress_user, what, done, total);
}

static int status_error(struct fx_dfu *d, const struct fx_dfu_status *st,
			const char *req, struct fx_err *err)
{
	d->need_recover = true;
	if (st->bState == dfuERROR)
		return fx_err_set(err, fx_dfu_status_code(st->bStatus),
				  "%s: device reports %s, status %s", req,
				  fx_dfu_state_name(st->bState),
				  fx_dfu_status_name(st->bStatus));
	return fx_err_set(err, FX_E_PROTO,
			  "%s: unexpected state %s, status %s", req,
			  fx_dfu_state_name(st->bState),
			  fx_dfu_status_name(st->bStatus));
}

static int getstatus(struct fx_dfu *d, struct fx_dfu_status *st, struct fx_err *err)
{
	return fx_dfu_get_status_raw(d, st, err);
}

/* After a STALLed DNLOAD/UPLOAD: ask why (STYLE 3: a STALL triggers
 * GETSTATUS). A device error replaces the STALL in the result. */
static int explain_stall(struct fx_dfu *d, int rc, struct fx_err *err)
{
	struct fx_err keep = *err;
	struct fx_dfu_status st;

	if (rc != FX_E_STALL)
		return rc;
	if (getstatus(d, &st, err) == 0 && st.bState == dfuERROR) {
		char *cut = strstr(keep.msg, " (last reply");

		if (cut)
			*cut = '\0'; /* the new reply says more */
		d->need_recover = true;
		return fx_err_set(err, fx_dfu_status_code(st.bStatus),
				  "%s; device reports %s, status %s", keep.msg,
				  fx_dfu_state_name(st.bState),
				  fx_dfu_status_name(st.bStatus));
	}
	*err = keep;
	d->need_recover = true;
	return rc;
}

/* Is poll_ms the device's rounding up of a busy time of at most first_us
 * (less than 1 ms longer)? Only then is first_us the better wait: a
 * device reporting much more is slower than the target's figures say
 * (a scaled or faulty board), and an early GETSTATUS could be held past
 * the transfer timeout. */
static bool rounded_up(uint64_t first_us, uint32_t poll_ms)
{
	uint64_t poll_us = (uint64_t)poll_ms * 1000u;

	return first_us && first_us < poll_us && poll_us - first_us < 1000u;
}

/* The GETSTATUS loop after a DNLOAD (spec 1.4 two-step execution, 6.2
 * step 5): DNBUSY -> sleep bwPollTimeout -> again, until DNLOAD-IDLE/OK.
 * first_us: the operation's worst-case device time when the target says
 * so (fx_dfu_set_busy_times), the first wait if shorter; 0 = none.
 * first: the first GETSTATUS reply when the caller has it, else NULL. */
static int wait_idle(struct fx_dfu *d, uint64_t first_us,
		     const struct fx_dfu_status *first, struct fx_err *err)
{
	const struct fx_clock *clk = d->usb->clock;
	uint64_t t0 = fx_clock_now(clk);
	uint64_t limit = (uint64_t)FX_DFU_BUSY_LIMIT_MS * 1000u;
	struct fx_dfu_status st = { 0 };
	uint32_t poll = 1;
	bool busy_seen = false;
	int stalls = 0, rc;

	for (;;) {
		if (first) {
			st = *first; /* the reply queued with the DNLOAD */
			first = NULL;
			rc = 0;
		} else {
			rc = getstatus(d, &st, err);
		}
		if (rc == FX_E_STALL && busy_seen && stalls < MAX_BUSY_STALLS &&
		    fx_clock_now(clk) - t0 < limit) {
			/* STM32L4 ROM: STALLs GETSTATUS while busy; dfu-util
			 * reuses the last poll timeout. Back off, bounded. */
			uint32_t wait = stalls < 16 ? poll << stalls : STALL_BACKOFF_CAP_MS;

			if (wait > STALL_BACKOFF_CAP_MS || wait < poll)
				wait = STALL_BACKOFF_CAP_MS;
			fx_log(FX_LOG_INFO, LOG_PREFIX,
			       "GETSTATUS stalled while busy, retrying in %u ms", wait);
			fx_dfu_poll_sleep(d, wait);
			stalls++;
			continue;
		}
		if (rc)
			return rc;
		switch (st.bState) {
		case dfuDNLOAD_IDLE:
			if (st.bStatus == DFU_STATUS_OK) {
				d->need_recover = false; /* a STALL on the way was survived */
				return 0;
			}
			return status_error(d, &st, "DFU_GETSTATUS", err);
		case dfuDNBUSY:
		case dfuDNLOAD_SYNC:
			if (fx_clock_now(clk) - t0 >= limit) {
				d->need_recover = true;
				return fx_err_set(err, FX_E_TIMEOUT,
						  "DFU_GETSTATUS: still %s after %u ms",
						  fx_dfu_state_name(st.bState),
						  FX_DFU_BUSY_LIMIT_MS);
			}
			if (st.bwPollTimeout)
				poll = st.bwPollTimeout;
			if (!busy_seen && rounded_up(first_us, st.bwPollTimeout))
				fx_clock_sleep(clk, first_us);
			else
				fx_dfu_poll_sleep(d, st.bwPollTimeout ? st.bwPollTimeout : 1);
			busy_seen = true;
			break;
		case appIDLE:
		case appDETACH:
		case dfuIDLE:
		case dfuMANIFEST_SYNC:
		case dfuMANIFEST:
		case dfuMANIFEST_WAIT_RESET:
		case dfuUPLOAD_IDLE:
		case dfuERROR:
		default:
			return status_error(d, &st, "DFU_GETSTATUS", err);
		}
	}
}

/* DNLOAD, then wait_idle(). first_us as there. */
static int dnload_wait(struct fx_dfu *d, uint16_t wValue, const uint8_t *data,
		       uint16_t len, uint64_t first_us, struct fx_err *err)
{
	struct fx_usb_xfer x[2];
	uint8_t reply[DFU_GETSTATUS_LEN];
	struct fx_dfu_status st;
	size_t ok = 0;
	int rc;

	/* the DNLOAD and the GETSTATUS that must follow it (spec 1.4) queued
	 * together: one host round trip less per block */
	memset(x, 0, sizeof(x));
	x[0].setup.bRequest = DFU_DNLOAD;
	x[0].setup.wValue = wValue;
	x[0].setup.wLength = len;
	x[0].data = (uint8_t *)(uintptr_t)data;
	x[1].setup.bRequest = DFU_GETSTATUS;
	x[1].setup.wLength = sizeof(reply);
	x[1].data = reply;
	rc = fx_dfu_request_batch(d, x, 2, &ok, err);
	if (rc && ok == 0)
		return explain_stall(d, rc, err);
	if (rc)
		return rc;
	rc = fx_dfu_status_parse(d, reply, x[1].actual, &st, err);
	if (rc)
		return rc;
	return wait_idle(d, first_us, &st, err);
}

/* Worst-case programming time of a len-byte memory write, 0 = unknown. */
static uint64_t write_us(const struct fx_dfu *d, size_t len)
{
	uint64_t ns = (uint64_t)(len + 7u) / 8u * d->busy.write_ns_per_dw;

	return (ns + 999u) / 1000u;
}

static int begin(struct fx_dfu *d, struct fx_err *err)
{
	fx_err_clear(err);
	if (d->need_recover)
		return fx_dfu_recover(d, err);
	return 0;
}

#define RANGE_EMPTY 1

/* begin() for a read or write ("what") of len bytes at addr that touches
 * the device up to end (exclusive): FX_E_RANGE past 4 GiB, RANGE_EMPTY
 * (nothing to do, no recovery) for len 0. */
static int begin_range(struct fx_dfu *d, const char *what, uint32_t addr, uint64_t end,
		       size_t len, struct fx_err *err)
{
	fx_err_clear(err);
	if (end > 0x100000000ull)
		return fx_err_set(err, FX_E_RANGE, "%s at 0x%08X: %zu bytes run past 0xFFFFFFFF",
				  what, addr, len);
	if (len == 0)
		return RANGE_EMPTY;
	return begin(d, err);
}

/* DfuSe command with a 32-bit address (spec 1.4). */
static int cmd_addr(struct fx_dfu *d, uint8_t cmd, uint32_t addr, struct fx_err *err)
{
	uint8_t b[5];

	b[0] = cmd;
	fx_put_le32(b + 1, addr);
	return dnload_wait(d, 0, b, sizeof(b), 0, err);
}

static int set_address(struct fx_dfu *d, uint32_t addr, struct fx_err *err)
{
	int rc = cmd_addr(d, DFUSE_CMD_SET_ADDRESS, addr, err);

	if (rc)
		fx_err_prefix(err, "SET_ADDRESS 0x%08X", addr);
	return rc;
}

int fx_dfuse_get_commands(struct fx_dfu *d, uint8_t *cmds, size_t cap,
			  size_t *n, struct fx_err *err)
{
	struct fx_err local;
	uint8_t buf[64];
	size_t got = 0;
	int rc;

	DFU_ERR_LOCAL(err, local);
	rc = begin(d, err);
	if (rc)
		return rc;
	rc = fx_dfu_request(d, DFU_UPLOAD, 0, buf, sizeof(buf), &got, err);
	if (rc)
		return fx_err_prefix(err, "GET_COMMANDS"), explain_stall(d, rc, err);
	if (got > cap)
		got = cap;
	memcpy(cmds, buf, got);
	*n = got;
	rc = fx_dfu_request(d, DFU_ABORT, 0, NULL, 0, NULL, err);
	if (rc)
		return fx_err_prefix(err, "GET_COMMANDS");
	return 0;
}

int fx_dfuse_set_address(struct fx_dfu *d, uint32_t addr, struct fx_err *err)
{
	struct fx_err local;
	int rc;

	DFU_ERR_LOCAL(err, local);
	rc = begin(d, err);
	return rc ? rc : set_address(d, addr, err);
}

int fx_dfuse_erase_page(struct fx_dfu *d, uint32_t addr, struct fx_err *err)
{
	struct fx_err local;
	int rc;

	DFU_ERR_LOCAL(err, local);
	rc = begin(d, err);
	if (rc)
		return rc;
	rc = cmd_addr(d, DFUSE_CMD_ERASE, addr, err);
	if (rc)
		fx_err_prefix(err, "ERASE_PAGE 0x%08X", addr);
	return rc;
}

int fx_dfuse_mass_erase(struct fx_dfu *d, struct fx_err *err)
{
	struct fx_err local;
	uint8_t b = DFUSE_CMD_ERASE;
	int rc;

	DFU_ERR_LOCAL(err, local);
	rc = begin(d, err);
	if (rc)
		return rc;
	rc = dnload_wait(d, 0, &b, 1, d->busy.mass_erase_us, err);
	if (rc)
		fx_err_prefix(err, "MASS_ERASE");
	return rc;
}

/* A transport failure that means "the device went away": the result of
 * a reset we asked for (spec 2.6, 3.6, 1.7). */
static bool gone(int rc)
{
	return rc == FX_E_NODEV || rc == FX_E_STALL || rc == FX_E_TIMEOUT ||
	       rc == FX_E_IO || rc == FX_E_PROTO;
}

int fx_dfuse_read_unprotect(struct fx_dfu *d, struct fx_err *err)
{
	struct fx_err local;
	uint8_t b = DFUSE_CMD_READ_UNPROTECT;
	struct fx_dfu_status st;
	int rc;

	DFU_ERR_LOCAL(err, local);
	rc = begin(d, err);
	if (rc)
		return rc;
	fx_usb_expect_reset(d->usb, true); /* spec 3.6: erases, then resets */
	rc = fx_dfu_request(d, DFU_DNLOAD, 0, &b, 1, NULL, err);
	if (rc)
		return fx_err_prefix(err, "READ_UNPROTECT"), explain_stall(d, rc, err);
	/* the first GETSTATUS executes it; the device then erases and resets */
	rc = getstatus(d, &st, err);
	if (rc) {
		fx_log(FX_LOG_INFO, LOG_PREFIX,
		       "READ_UNPROTECT: device gone as expected (%s)", err->msg);
		fx_err_clear(err);
		return 0;
	}
	if (st.bState == dfuERROR) {
		fx_usb_expect_reset(d->usb, false);
		status_error(d, &st, "DFU_GETSTATUS", err);
		return fx_err_prefix(err, "READ_UNPROTECT");
	}
	return 0;
}

int fx_dfuse_read(struct fx_dfu *d, uint32_t addr, uint8_t *buf, size_t len, struct fx_err *err)
{
	struct fx_err local;
	uint32_t xfer = d->info.transfer_size;
	size_t done = 0;
	int rc;

	DFU_ERR_LOCAL(err, local);
	rc = begin_range(d, "read", addr, (uint64_t)addr + len, len, err);
	if (rc)
		return rc == RANGE_EMPTY ? 0 : rc;
	while (done < len) {
		uint16_t blk = 2;

		/* a short tail after full blocks: leave dfuUPLOAD-IDLE first,
		 * DNLOAD (SET_ADDRESS) is illegal there (DFU 1.1 state table) */
		if (done > 0) {
			rc = fx_dfu_request(d, DFU_ABORT, 0, NULL, 0, NULL, err);
			if (rc)
				goto fail;
		}
		rc = set_address(d, addr + (uint32_t)done, err);
		if (rc)
			goto fail;
		rc = fx_dfu_request(d, DFU_ABORT, 0, NULL, 0, NULL, err);
		if (rc)
			goto fail;
		/* full blocks with rising wBlockNum; a shorter block only
		 * right after SET_ADDRESS (spec 1.5 ambiguity) */
		while (done < len) {
			struct fx_usb_xfer x[READ_QUEUE];
			size_t k = 0, ok = 0, off = done, i;
			uint16_t b = blk;

			/* up to READ_QUEUE UPLOADs queued at once: the bus
			 * runs them back to back (each one still a whole
			 * request the ROM answers on its own) */
			while (k < READ_QUEUE && off < len) {
				size_t n = len - off < xfer ? len - off : xfer;

				if (b != 2 && (n < xfer || !d->blocknum_increment ||
					       b == 0xFFFF))
					break;
				x[k].setup.bRequest = DFU_UPLOAD;
				x[k].setup.wValue = b;
				x[k].setup.wLength = (uint16_t)n;
				x[k].data = buf + off;
				k++;
				off += n;
				b++;
				if (n < xfer)
					break; /* a short block ends the upload */
			}
			if (!k)
				break;
			rc = fx_dfu_request_batch(d, x, k, &ok, err);
			for (i = 0; i < ok; i++) {
				uint32_t at = addr + (uint32_t)done;

				if (x[i].actual != x[i].setup.wLength) {
					d->need_recover = true;
					return fx_err_set(err, FX_E_PROTO,
							  "read at 0x%08X: DFU_UPLOAD block %u: short reply, %zu of %u bytes",
							  at, x[i].setup.wValue, x[i].actual,
							  x[i].setup.wLength);
				}
				done += x[i].actual;
				blk++;
				progress(d, "read", done, len);
			}
			if (rc) {
				rc = explain_stall(d, rc, err);
				fx_err_prefix(err, "read at 0x%08X", addr + (uint32_t)done);
				return rc;
			}
		}
	}
	rc = fx_dfu_request(d, DFU_ABORT, 0, NULL, 0, NULL, err);
	if (rc)
		return fx_err_prefix(err, "read at 0x%08X", addr);
	return 0;
fail:
	fx_err_prefix(err, "read at 0x%08X", addr + (uint32_t)done);
	return rc;
}

static bool all_ff(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0xFF)
			return false;
	return true;
}

int fx_dfuse_write(struct fx_dfu *d, uint32_t addr, const uint8_t *buf,
		   size_t len, bool skip_ff, struct fx_err *err)
{
	return fx_dfuse_write_ex(d, addr, buf, len, skip_ff, NULL, err);
}

int fx_dfuse_write_ex(struct fx_dfu *d, uint32_t addr, const uint8_t *buf,
		      size_t len, bool skip_ff, size_t *sent, struct fx_err *err)
{
	struct fx_err local;
	uint32_t xfer = d->info.transfer_size & ~7u; /* whole double words */
	uint32_t start = addr & ~7u, lead = addr - start;
	uint64_t total = ((uint64_t)lead + len + 7u) & ~(uint64_t)7u;
	uint8_t *chunk;
	uint64_t off;
	bool run_open = false;
	uint16_t blk = 2;
	int rc;

	DFU_ERR_LOCAL(err, local);
	if (sent)
		*sent = 0;
	rc = begin_range(d, "write", addr, (uint64_t)start + total, len, err);
	if (rc)
		return rc == RANGE_EMPTY ? 0 : rc;
	chunk = malloc(xfer);
	if (!chunk)
		return fx_err_set(err, FX_E_NOMEM, "write at 0x%08X: out of memory",
				  addr);
	for (off = 0; off < total; off += xfer) {
		uint32_t n = total - off < xfer ? (uint32_t)(total - off) : xfer;
		uint32_t at = start + (uint32_t)off;
		uint64_t lo = off, hi = off + n; /* chunk window in [0,total) */
		uint64_t dlo = lead, dhi = (uint64_t)lead + len; /* data window */

		/* 8-byte aligned, 0xFF padded (spec 2.4 host rule) */
		memset(chunk, 0xFF, n);
		if (dlo < hi && dhi > lo) {
			uint64_t a = dlo > lo ? dlo : lo, b = dhi < hi ? dhi : hi;

			memcpy(chunk + (a - lo), buf + (a - lead), (size_t)(b - a));
		}
		if (skip_ff) {
			/* the flash is erased: leading and trailing all-0xFF
			 * double words need no programming */
			uint32_t f = 0, l = n;

			while (f < n && all_ff(chunk + f, 8))
				f += 8;
			while (l > f && all_ff(chunk + l - 8, 8))
				l -= 8;
			if (f == l) {
				run_open = false;
				continue;
			}
			if (f) {
				memmove(chunk, chunk + f, l - f);
				at += f;
			}
			n = l - f;
		}
		if (!run_open || !d->blocknum_increment || n != xfer ||
		    blk == 0xFFFF) {
			rc = set_address(d, at, err);
			if (rc)
				goto err_free;
			blk = 2;
		} else {
			blk++;
		}
		rc = dnload_wait(d, blk, chunk, (uint16_t)n, write_us(d, n), err);
		if (rc) {
			fx_err_prefix(err, "write at 0x%08X (block %u)", at, blk);
			goto err_free;
		}
		run_open = n == xfer;
		if (sent)
			*sent += n;
		progress(d, "write", (size_t)(hi < lead ? 0 : (hi - lead > len ? len : hi - lead)),
			 len);
	}
	free(chunk);
	return 0;
err_free:
	free(chunk);
	return rc;
}

int fx_dfuse_write_expect_reset(struct fx_dfu *d, uint32_t addr,
				const uint8_t *buf, size_t len, struct fx_err *err)
{
	struct fx_err local;
	const struct fx_clock *clk = d->usb->clock;
	uint64_t t0;
	struct fx_dfu_status st;
	int rc;

	DFU_ERR_LOCAL(err, local);
	fx_err_clear(err);
	if (len == 0 || len > d->info.transfer_size)
		return fx_err_set(err, FX_E_INVAL,
				  "write with reset at 0x%08X: %zu bytes, expected 1 .. %u",
				  addr, len, d->info.transfer_size);
	rc = begin(d, err);
	if (rc)
		return rc;
	rc = set_address(d, addr, err);
	if (rc)
		return rc;
	fx_usb_expect_reset(d->usb, true); /* spec 2.6: OB reload resets */
	rc = fx_dfu_request(d, DFU_DNLOAD, 2, (uint8_t *)(uintptr_t)buf,
			    (uint16_t)len, NULL, err);
	if (rc) {
		rc = explain_stall(d, rc, err);
		return fx_err_prefix(err, "write with reset at 0x%08X", addr);
	}
	/* spec 2.6: the first GETSTATUS executes the write and answers
	 * dfuDNBUSY (or is never answered); then the chip resets. Only an
	 * explicit dfuERROR is a failure. */
	t0 = fx_clock_now(clk);
	for (;;) {
		rc = getstatus(d, &st, err);
		if (rc) {
			if (!gone(rc))
				return fx_err_prefix(err, "write with reset at 0x%08X", addr);
			fx_log(FX_LOG_INFO, LOG_PREFIX,
			       "write with reset at 0x%08X: device gone as expected (%s)",
			       addr, err->msg);
			fx_err_clear(err);
			d->need_recover = false;
			return 0;
		}
		if (st.bState == dfuERROR) {
			fx_usb_expect_reset(d->usb, false);
			status_error(d, &st, "DFU_GETSTATUS", err);
			return fx_err_prefix(err, "write with reset at 0x%08X", addr);
		}
		if (st.bState != dfuDNBUSY && st.bState != dfuDNLOAD_SYNC) {
			fx_usb_expect_reset(d->usb, false);
			/* done without a reset: the caller's reopen will tell */
			fx_log(FX_LOG_WARN, LOG_PREFIX,
			       "write with reset at 0x%08X: device answered %s without resetting",
			       addr, fx_dfu_state_name(st.bState));
			return 0;
		}
		if (fx_clock_now(clk) - t0 >= (uint64_t)FX_DFU_BUSY_LIMIT_MS * 1000u)
			return fx_err_set(err, FX_E_TIMEOUT,
					  "write with reset at 0x%08X: still %s after %u ms",
					  addr, fx_dfu_state_name(st.bState),
					  FX_DFU_BUSY_LIMIT_MS);
		fx_dfu_poll_sleep(d, st.bwPollTimeout ? st.bwPollTimeout : 1);
	}
}

int fx_dfuse_leave(struct fx_dfu *d, uint32_t addr, struct fx_err *err)
{
	struct fx_err local;
	struct fx_dfu_status st;
	int rc;

	DFU_ERR_LOCAL(err, local);
	rc = begin(d, err);
	if (rc)
		return fx_err_prefix(err, "leave");
	rc = set_address(d, addr, err);
	if (rc)
		return fx_err_prefix(err, "leave");
	/* zero-length DNLOAD, wValue 2 as dfu-util does (spec 1.7) */
	fx_usb_expect_reset(d->usb, true);
	rc = fx_dfu_request(d, DFU_DNLOAD, 2, NULL, 0, NULL, err);
	if (rc == FX_E_NODEV) {
		fx_err_clear(err);
		return 0;
	}
	if (rc) {
		rc = explain_stall(d, rc, err);
		return fx_err_prefix(err, "leave to 0x%08X", addr);
	}
	rc = getstatus(d, &st, err);
	if (rc) {
		/* not manifestation tolerant: no answer is normal (spec 1.7) */
		fx_log(FX_LOG_INFO, LOG_PREFIX, "leave: %s (expected)", err->msg);
		fx_err_clear(err);
		d->need_recover = false;
		return 0;
	}
	if (st.bState == dfuERROR) {
		fx_usb_expect_reset(d->usb, false);
		status_error(d, &st, "DFU_GETSTATUS", err);
		return fx_err_prefix(err, "leave to 0x%08X", addr);
	}
	return 0;
}

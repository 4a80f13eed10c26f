/* emu_knobs.c - spec-8 defaults and the "key=value&..." knob syntax of an
 * emu: URI (include/fx/emu.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "emu_priv.h"

void fx_emu_knobs_default(struct fx_emu_knobs *k)
{
	memset(k, 0, sizeof(*k));
	k->transfer_size = 1024;           /* spec 1.10, 8 */
	k->busy = FX_EMU_BUSY_WAIT;
	k->erase_scale = 1.0;
	k->boot_delay_us = 400000;         /* 300 ms + 100 ms (spec 8) */
	k->fault_kind = FX_EMU_FAULT_NONE;
	k->fault_request = -1;
}

static const char *const req_names[] = {
	"detach", "dnload", "upload", "getstatus", "clrstatus", "getstate",
	"abort",
};

const char *emu_request_name(int breq)
{
	if (breq < 0)
		return "all";
	if ((size_t)breq < sizeof(req_names) / sizeof(req_names[0]))
		return req_names[breq];
	return "?";
}

/* One of `n` words; its index, or -1. */
static int pick(const char *v, const char *const *words, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(v, words[i]))
			return i;
	return -1;
}

static int bad(struct fx_err *err, const char *key, const char *expect,
	       const char *got)
{
	return fx_err_set(err, FX_E_CONFIG, "knob '%s': expected %s, got '%s'",
			  key, expect, got);
}

static int parse_u32(const char *v, unsigned long max, uint32_t *out)
{
	char *end;
	unsigned long x;

	if (!*v || *v == '-' || *v == '+')
		return -1;
	errno = 0;
	x = strtoul(v, &end, 0);
	if (errno || *end || x > max)
		return -1;
	*out = (uint32_t)x;
	return 0;
}

static int one(struct fx_emu_knobs *k, bool *boot0, const char *key,
	       const char *v, struct fx_err *err)
{
	static const char *const onoff[] = { "0", "1" };
	uint32_t u;
	int i;

	if (!strcmp(key, "xfer")) {
		if (parse_u32(v, 65535, &u) || (u != 1024 && u != 2048))
			return bad(err, key, "1024 or 2048", v);
		k->transfer_size = (uint16_t)u;
	} else if (!strcmp(key, "iproduct")) {
		static const char *const w[] = { "dfu", "stm32" };

		if ((i = pick(v, w, 2)) < 0)
			return bad(err, key, "dfu or stm32", v);
		k->iproduct_stm32 = i == 1;
	} else if (!strcmp(key, "alt0")) {
		static const char *const w[] = { "dynamic", "constant" };

		if ((i = pick(v, w, 2)) < 0)
			return bad(err, key, "dynamic or constant", v);
		k->alt0_constant = i == 1;
	} else if (!strcmp(key, "obreset")) {
		static const char *const w[] = { "answer", "stall" };

		if ((i = pick(v, w, 2)) < 0)
			return bad(err, key, "answer or stall", v);
		k->ob_reset_stall = i == 1;
	} else if (!strcmp(key, "return")) {
		static const char *const w[] = { "yes", "never" };

		if ((i = pick(v, w, 2)) < 0)
			return bad(err, key, "yes or never", v);
		k->never_return = i == 1;
	} else if (!strcmp(key, "oldread")) {
		static const char *const w[] = { "scramble", "error" };

		if ((i = pick(v, w, 2)) < 0)
			return bad(err, key, "scramble or error", v);
		k->dbank_read_error = i == 1;
	} else if (!strcmp(key, "busy")) {
		static const char *const w[] = { "wait", "stall", "lying" };

		if ((i = pick(v, w, 3)) < 0)
			return bad(err, key, "wait, stall or lying", v);
		k->busy = (enum fx_emu_busy_mode)i;
	} else if (!strcmp(key, "malformed")) {
		static const char *const w[] = { "error", "stall" };

		if ((i = pick(v, w, 2)) < 0)
			return bad(err, key, "error or stall", v);
		k->malformed_stall = i == 1;
	} else if (!strcmp(key, "erase_scale")) {
		char *end;
		double d;

		errno = 0;
		d = strtod(v, &end);
		if (!*v || errno || *end || !(d > 0) || d > 1e6)
			return bad(err, key, "a number in (0, 1000000]", v);
		k->erase_scale = d;
	} else if (!strcmp(key, "boot_delay_ms")) {
		if (parse_u32(v, 60000, &u))
			return bad(err, key, "milliseconds 0..60000", v);
		k->boot_delay_us = u * 1000u;
	} else if (!strcmp(key, "fault")) {
		static const char *const w[] = { "none", "stall", "timeout",
						 "drop", "status" };

		if ((i = pick(v, w, 5)) < 0)
			return bad(err, key, "stall, timeout, drop, status or none", v);
		k->fault_kind = (enum fx_emu_fault_kind)i;
	} else if (!strcmp(key, "fault_nth")) {
		if (parse_u32(v, 0xFFFFFFFFul, &u))
			return bad(err, key, "a request number (0 = off)", v);
		k->fault_nth = u;
	} else if (!strcmp(key, "fault_req")) {
		if (!strcmp(v, "all") || !strcmp(v, "any")) {
			k->fault_request = -1;
		} else if ((i = pick(v, req_names, 7)) >= 0) {
			k->fault_request = i;
		} else {
			return bad(err, key,
				   "all, detach, dnload, upload, getstatus, "
				   "clrstatus, getstate or abort", v);
		}
	} else if (!strcmp(key, "fault_persistent")) {
		if ((i = pick(v, onoff, 2)) < 0)
			return bad(err, key, "0 or 1", v);
		k->fault_persistent = i == 1;
	} else if (!strcmp(key, "fault_status")) {
		if (parse_u32(v, 0x0F, &u))
			return bad(err, key, "a DFU status 0..15", v);
		k->fault_status = (uint8_t)u;
	} else if (!strcmp(key, "leave")) {
		static const char *const w[] = { "jump", "reset" };

		if ((i = pick(v, w, 2)) < 0)
			return bad(err, key, "jump or reset", v);
		k->leave_reset = i == 1;
	} else if (!strcmp(key, "errors")) {
		static const char *const w[] = { "early", "late" };

		if ((i = pick(v, w, 2)) < 0)
			return bad(err, key, "early or late", v);
		k->errors_late = i == 1;
	} else if (!strcmp(key, "boot0")) {
		if ((i = pick(v, onoff, 2)) < 0)
			return bad(err, key, "0 or 1", v);
		if (boot0)
			*boot0 = i == 1;
	} else {
		return fx_err_set(err, FX_E_CONFIG, "knob '%s': unknown knob", key);
	}
	return 0;
}

int fx_emu_knobs_parse(struct fx_emu_knobs *k, bool *boot0, const char *query,
		       struct fx_err *err)
{
	const char *p = query;

	if (!query)
		return 0;
	while (*p) {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		char item[128], *eq;
		int rc;

		if (len == 0) {
			p += 1;
			continue;
		}
		if (len >= sizeof(item))
			return fx_err_set(err, FX_E_CONFIG,
					  "knob '%.20s...': too long", p);
		memcpy(item, p, len);
		item[len] = '\0';
		eq = strchr(item, '=');
		if (!eq)
			return fx_err_set(err, FX_E_CONFIG,
					  "knob '%s': expected key=value", item);
		*eq = '\0';
		rc = one(k, boot0, item, eq + 1, err);
		if (rc)
			return rc;
		p += len;
		if (*p == '&')
			p++;
	}
	return 0;
}

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

/* The knobs, one parser each: 0 or bad(). A choice knob's index is the
 * position of its value in its word list. */
struct knob_ctx {
	struct fx_emu_knobs *k;
	bool *boot0;
	const char *key;
	struct fx_err *err;
};

/* A knob whose value is one of words: its index, else bad(expect). */
static int choice(struct knob_ctx *c, const char *v, const char *const *words,
		  int n, const char *expect, int *out)
{
	*out = pick(v, words, n);
	return *out < 0 ? bad(c->err, c->key, expect, v) : 0;
}

#define CHOICE(fn, expect, assign, ...)                                      \
	static int fn(struct knob_ctx *c, const char *v)                     \
	{                                                                    \
		static const char *const w[] = { __VA_ARGS__ };              \
		int i, rc = choice(c, v, w, (int)(sizeof(w) / sizeof(w[0])), \
				   expect, &i);                              \
		if (!rc) {                                                   \
			assign;                                              \
		}                                                            \
		return rc;                                                   \
	}

CHOICE(k_iproduct, "dfu or stm32", c->k->iproduct_stm32 = i == 1, "dfu", "stm32")
CHOICE(k_alt0, "dynamic or constant", c->k->alt0_constant = i == 1, "dynamic", "constant")
CHOICE(k_obreset, "answer or stall", c->k->ob_reset_stall = i == 1, "answer", "stall")
CHOICE(k_return, "yes or never", c->k->never_return = i == 1, "yes", "never")
CHOICE(k_oldread, "scramble or error", c->k->dbank_read_error = i == 1, "scramble", "error")
CHOICE(k_busy, "wait, stall or lying", c->k->busy = (enum fx_emu_busy_mode)i,
       "wait", "stall", "lying")
CHOICE(k_malformed, "error or stall", c->k->malformed_stall = i == 1, "error", "stall")
CHOICE(k_fault, "stall, timeout, drop, status or none",
       c->k->fault_kind = (enum fx_emu_fault_kind)i,
       "none", "stall", "timeout", "drop", "status")
CHOICE(k_fault_persistent, "0 or 1", c->k->fault_persistent = i == 1, "0", "1")
CHOICE(k_leave, "jump or reset", c->k->leave_reset = i == 1, "jump", "reset")
CHOICE(k_errors, "early or late", c->k->errors_late = i == 1, "early", "late")
CHOICE(k_tail, "pad, drop or reject", c->k->write_tail = (enum fx_emu_write_tail)i,
       "pad", "drop", "reject")
CHOICE(k_boot0, "0 or 1", if (c->boot0) *c->boot0 = i == 1, "0", "1")

static int k_xfer(struct knob_ctx *c, const char *v)
{
	uint32_t u;

	if (parse_u32(v, 65535, &u) || (u != 1024 && u != 2048))
		return bad(c->err, c->key, "1024 or 2048", v);
	c->k->transfer_size = (uint16_t)u;
	return 0;
}

static int k_erase_scale(struct knob_ctx *c, const char *v)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(v, &end);
	if (!*v || errno || *end || !(d > 0) || d > 1e6)
		return bad(c->err, c->key, "a number in (0, 1000000]", v);
	c->k->erase_scale = d;
	return 0;
}

static int k_boot_delay(struct knob_ctx *c, const char *v)
{
	uint32_t u;

	if (parse_u32(v, 60000, &u))
		return bad(c->err, c->key, "milliseconds 0..60000", v);
	c->k->boot_delay_us = u * 1000u;
	return 0;
}

static int k_fault_nth(struct knob_ctx *c, const char *v)
{
	uint32_t u;

	if (parse_u32(v, 0xFFFFFFFFul, &u))
		return bad(c->err, c->key, "a request number (0 = off)", v);
	c->k->fault_nth = u;
	return 0;
}

static int k_fault_req(struct knob_ctx *c, const char *v)
{
	int i;

	if (!strcmp(v, "all") || !strcmp(v, "any")) {
		c->k->fault_request = -1;
		return 0;
	}
	i = pick(v, req_names, (int)(sizeof(req_names) / sizeof(req_names[0])));
	if (i < 0)
		return bad(c->err, c->key,
			   "all, detach, dnload, upload, getstatus, "
			   "clrstatus, getstate or abort", v);
	c->k->fault_request = i;
	return 0;
}

static int k_fault_status(struct knob_ctx *c, const char *v)
{
	uint32_t u;

	if (parse_u32(v, 0x0F, &u))
		return bad(c->err, c->key, "a DFU status 0..15", v);
	c->k->fault_status = (uint8_t)u;
	return 0;
}

static const struct {
	const char *key;
	int (*parse)(struct knob_ctx *c, const char *v);
} knobs[] = {
	{ "xfer", k_xfer },
	{ "iproduct", k_iproduct },
	{ "alt0", k_alt0 },
	{ "obreset", k_obreset },
	{ "return", k_return },
	{ "oldread", k_oldread },
	{ "busy", k_busy },
	{ "malformed", k_malformed },
	{ "erase_scale", k_erase_scale },
	{ "boot_delay_ms", k_boot_delay },
	{ "fault", k_fault },
	{ "fault_nth", k_fault_nth },
	{ "fault_req", k_fault_req },
	{ "fault_persistent", k_fault_persistent },
	{ "fault_status", k_fault_status },
	{ "leave", k_leave },
	{ "errors", k_errors },
	{ "tail", k_tail },
	{ "boot0", k_boot0 },
};

static int one(struct fx_emu_knobs *k, bool *boot0, const char *key,
	       const char *v, struct fx_err *err)
{
	struct knob_ctx c = { k, boot0, key, err };
	size_t i;

	for (i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++)
		if (!strcmp(key, knobs[i].key))
			return knobs[i].parse(&c, v);
	return fx_err_set(err, FX_E_CONFIG, "knob '%s': unknown knob", key);
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

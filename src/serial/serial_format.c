/* serial_format.c - serial value formats ({n}, {n:0W}, {yyyy}, {yy},
 * {ww}, {station}) and their byte encodings (ascii:N, u32le, u64le,
 * bytes:N), fx/serial.h. Pure functions, no I/O. */
#include <stdio.h>
#include <string.h>

#include "fx/bytes.h"
#include "fx/serial.h"

static const char *const source_names[] = { "counter", "list", "scan" };
static const char *const on_fail_names[] = { "reuse", "void" };
static const char *const where_names[] = { "none", "flash", "otp" };
static const char *const state_names[] = { "reserved", "bound", "released", "voided" };

const char *fx_serial_source_name(enum fx_serial_source s)
{
	return (unsigned)s < 3 ? source_names[s] : "?";
}

const char *fx_serial_on_fail_name(enum fx_serial_on_fail f)
{
	return (unsigned)f < 2 ? on_fail_names[f] : "?";
}

const char *fx_serial_where_name(enum fx_serial_where w)
{
	return (unsigned)w < 3 ? where_names[w] : "?";
}

const char *fx_serial_state_name(enum fx_serial_state s)
{
	return (unsigned)s < 4 ? state_names[s] : "?";
}

/* ---- formats ----------------------------------------------------------- */

static int add_tok(struct fx_serial_fmt *f, enum fx_serial_tok_kind k,
		   unsigned off, unsigned len, unsigned width, struct fx_err *err)
{
	struct fx_serial_tok *t;

	if (f->n_toks == FX_SERIAL_MAX_TOKS)
		return fx_err_set(err, FX_E_CONFIG, "more than %d fields and literals",
				  FX_SERIAL_MAX_TOKS);
	t = &f->toks[f->n_toks++];
	t->kind = k;
	t->off = off;
	t->len = len;
	t->width = width;
	return 0;
}

int fx_serial_fmt_parse(const char *s, struct fx_serial_fmt *out,
			struct fx_err *err)
{
	struct fx_serial_fmt f;
	size_t n = strlen(s), i = 0, nl = 0;
	unsigned lit_start = 0;
	int rc;

	memset(&f, 0, sizeof(f));
	if (n > FX_SERIAL_FORMAT_MAX)
		return fx_err_set(err, FX_E_CONFIG, "longer than %d characters",
				  FX_SERIAL_FORMAT_MAX);
	if (n == 0)
		return fx_err_set(err, FX_E_CONFIG, "empty format");
	memcpy(f.text, s, n + 1);
	while (i < n) {
		const char *p = s + i, *close;
		char field[FX_SERIAL_FORMAT_MAX + 1];
		size_t fl;

		if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
			f.lit[nl++] = p[0];
			i += 2;
			continue;
		}
		if (p[0] == '}')
			return fx_err_set(err, FX_E_CONFIG, "'}' without '{' (write '}}' for a brace)");
		if (p[0] != '{') {
			if ((unsigned char)p[0] < 0x20 || (unsigned char)p[0] > 0x7E)
				return fx_err_set(err, FX_E_CONFIG,
						  "character 0x%02X is not printable ASCII",
						  (unsigned char)p[0]);
			f.lit[nl++] = p[0];
			i++;
			continue;
		}
		close = strchr(p, '}');
		if (!close)
			return fx_err_set(err, FX_E_CONFIG, "'{' without '}' (write '{{' for a brace)");
		fl = (size_t)(close - p - 1);
		memcpy(field, p + 1, fl);
		field[fl] = '\0';
		if (nl > lit_start) {
			rc = add_tok(&f, FX_SERIAL_TOK_LIT, lit_start, (unsigned)nl - lit_start, 0, err);
			if (rc)
				return rc;
		}
		if (!strcmp(field, "n")) {
			rc = add_tok(&f, FX_SERIAL_TOK_N, 0, 0, 0, err);
			f.n_count++;
		} else if (!strncmp(field, "n:0", 3)) {
			unsigned w = 0;
			size_t k;

			for (k = 3; field[k] >= '0' && field[k] <= '9' && w <= 20; k++)
				w = w * 10 + (unsigned)(field[k] - '0');
			if (k == 3 || field[k] || w > 20 || w == 0)
				return fx_err_set(err, FX_E_CONFIG,
						  "field '{%s}': expected {n:0W} with W = 1..20", field);
			rc = add_tok(&f, FX_SERIAL_TOK_N, 0, 0, w, err);
			f.n_count++;
		} else if (!strcmp(field, "yyyy")) {
			rc = add_tok(&f, FX_SERIAL_TOK_YYYY, 0, 0, 4, err);
		} else if (!strcmp(field, "yy")) {
			rc = add_tok(&f, FX_SERIAL_TOK_YY, 0, 0, 2, err);
		} else if (!strcmp(field, "ww")) {
			rc = add_tok(&f, FX_SERIAL_TOK_WW, 0, 0, 2, err);
		} else if (!strcmp(field, "station")) {
			rc = add_tok(&f, FX_SERIAL_TOK_STATION, 0, 0, 0, err);
			f.station = true;
		} else {
			return fx_err_set(err, FX_E_CONFIG,
					  "unknown field '{%s}' (expected {n}, {n:0W}, {yyyy}, {yy}, {ww} or {station})",
					  field);
		}
		if (rc)
			return rc;
		lit_start = (unsigned)nl;
		i += fl + 2;
	}
	if (nl > lit_start) {
		rc = add_tok(&f, FX_SERIAL_TOK_LIT, lit_start, (unsigned)nl - lit_start, 0, err);
		if (rc)
			return rc;
	}
	f.lit[nl] = '\0';
	*out = f;
	return 0;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if ((a % b) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

/* days since 1970-01-01 -> civil date (Howard Hinnant's algorithm) */
static void civil(int64_t z, int *y, unsigned *m, unsigned *d)
{
	int64_t era, yy;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = floor_div(z, 146097);
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	yy = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yy + (*m <= 2));
}

/* days since 1970-01-01 of year-01-01 */
static int64_t days_from_civil(int y, unsigned m, unsigned d)
{
	int64_t era, yy = y - (m <= 2);
	unsigned yoe, doy, doe;

	era = floor_div(yy, 400);
	yoe = (unsigned)(yy - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

void fx_serial_iso_week(int64_t utc_us, int *year, int *week)
{
	int64_t day = floor_div(utc_us, 86400000000LL), thu, jan1;
	unsigned m, d;
	int y;
	/* 1970-01-01 was a Thursday: weekday 0 = Monday */
	int wd = (int)(((day % 7) + 7 + 3) % 7);

	thu = day - wd + 3; /* the Thursday of this ISO week */
	civil(thu, &y, &m, &d);
	jan1 = days_from_civil(y, 1, 1);
	*year = y;
	*week = (int)((thu - jan1) / 7 + 1);
}

static size_t digits(uint64_t v)
{
	size_t n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

int fx_serial_fmt_render(const struct fx_serial_fmt *f, uint64_t n,
			 int64_t utc_us, const char *station, char *out,
			 size_t cap, struct fx_err *err)
{
	size_t i, len = 0;
	int year, week;

	fx_serial_iso_week(utc_us, &year, &week);
	if (!station)
		station = "";
	if (cap)
		out[0] = '\0';
	for (i = 0; i < f->n_toks; i++) {
		const struct fx_serial_tok *t = &f->toks[i];
		int w = 0;

		switch (t->kind) {
		case FX_SERIAL_TOK_LIT:
			w = snprintf(out + len, cap - len, "%.*s", (int)t->len, f->lit + t->off);
			break;
		case FX_SERIAL_TOK_N:
			w = snprintf(out + len, cap - len, "%0*llu", (int)t->width,
				     (unsigned long long)n);
			break;
		case FX_SERIAL_TOK_YYYY:
			w = snprintf(out + len, cap - len, "%04d", year % 10000);
			break;
		case FX_SERIAL_TOK_YY:
			w = snprintf(out + len, cap - len, "%02d", year % 100);
			break;
		case FX_SERIAL_TOK_WW:
			w = snprintf(out + len, cap - len, "%02d", week);
			break;
		case FX_SERIAL_TOK_STATION:
			w = snprintf(out + len, cap - len, "%s", station);
			break;
		}
		if (w < 0 || (size_t)w >= cap - len)
			return fx_err_set(err, FX_E_RANGE, "format '%s': value for %llu longer than %zu characters",
					  f->text, (unsigned long long)n, cap ? cap - 1 : 0);
		len += (size_t)w;
	}
	return 0;
}

size_t fx_serial_fmt_max_len(const struct fx_serial_fmt *f, uint64_t last,
			     size_t station_len)
{
	size_t i, len = 0;

	for (i = 0; i < f->n_toks; i++) {
		const struct fx_serial_tok *t = &f->toks[i];
		size_t d;

		switch (t->kind) {
		case FX_SERIAL_TOK_LIT:
			len += t->len;
			break;
		case FX_SERIAL_TOK_N:
			d = digits(last);
			len += d > t->width ? d : t->width;
			break;
		case FX_SERIAL_TOK_YYYY:
		case FX_SERIAL_TOK_YY:
		case FX_SERIAL_TOK_WW:
			len += t->width;
			break;
		case FX_SERIAL_TOK_STATION:
			len += station_len;
			break;
		}
	}
	return len;
}

bool fx_serial_fmt_numeric(const struct fx_serial_fmt *f)
{
	size_t i, k;

	for (i = 0; i < f->n_toks; i++) {
		const struct fx_serial_tok *t = &f->toks[i];

		if (t->kind == FX_SERIAL_TOK_STATION)
			return false;
		if (t->kind == FX_SERIAL_TOK_LIT)
			for (k = 0; k < t->len; k++)
				if (f->lit[t->off + k] < '0' || f->lit[t->off + k] > '9')
					return false;
	}
	return true;
}

uint64_t fx_serial_fmt_max_value(const struct fx_serial_fmt *f, uint64_t last)
{
	/* the largest digit string: n = last, year 9999/99, week 53, literal
	 * digits as they are; compare as a decimal number with saturation */
	char buf[128];
	struct fx_err e;
	uint64_t v = 0;
	size_t i;

	/* week 53 of year 9999 does not exist; 2026-12-31 is week 53 of
	 * 2026: the widths are fixed, so the maximum is taken field by field */
	if (fx_serial_fmt_render(f, last, 0, "", buf, sizeof(buf), &e))
		return UINT64_MAX;
	{
		size_t pos = 0, t;

		for (t = 0; t < f->n_toks; t++) {
			const struct fx_serial_tok *tk = &f->toks[t];
			size_t w;

			switch (tk->kind) {
			case FX_SERIAL_TOK_YYYY:
				memcpy(buf + pos, "9999", 4);
				w = 4;
				break;
			case FX_SERIAL_TOK_YY:
				memcpy(buf + pos, "99", 2);
				w = 2;
				break;
			case FX_SERIAL_TOK_WW:
				memcpy(buf + pos, "53", 2);
				w = 2;
				break;
			case FX_SERIAL_TOK_N: {
				size_t d = digits(last);

				w = d > tk->width ? d : tk->width;
				break;
			}
			case FX_SERIAL_TOK_LIT:
				w = tk->len;
				break;
			case FX_SERIAL_TOK_STATION:
			default:
				w = 0;
				break;
			}
			pos += w;
		}
	}
	for (i = 0; buf[i]; i++) {
		unsigned d = (unsigned)(buf[i] - '0');

		if (d > 9)
			return UINT64_MAX;
		if (v > (UINT64_MAX - d) / 10)
			return UINT64_MAX;
		v = v * 10 + d;
	}
	return v;
}

/* match value[pos..] against toks[i..]; OUT *n */
static bool match_from(const struct fx_serial_fmt *f, size_t i, const char *v,
		       const char *station, bool have_n, uint64_t nv, uint64_t *n)
{
	const struct fx_serial_tok *t;
	size_t k;

	if (i == f->n_toks) {
		if (*v)
			return false;
		if (have_n)
			*n = nv;
		return true;
	}
	t = &f->toks[i];
	switch (t->kind) {
	case FX_SERIAL_TOK_LIT:
		if (strncmp(v, f->lit + t->off, t->len))
			return false;
		return match_from(f, i + 1, v + t->len, station, have_n, nv, n);
	case FX_SERIAL_TOK_STATION:
		k = strlen(station);
		if (strncmp(v, station, k))
			return false;
		return match_from(f, i + 1, v + k, station, have_n, nv, n);
	case FX_SERIAL_TOK_YYYY:
	case FX_SERIAL_TOK_YY:
	case FX_SERIAL_TOK_WW:
		for (k = 0; k < t->width; k++)
			if (v[k] < '0' || v[k] > '9')
				return false;
		return match_from(f, i + 1, v + t->width, station, have_n, nv, n);
	case FX_SERIAL_TOK_N: {
		/* at least width digits (or 1); try every length, shortest
		 * first is wrong for "{n}{ww}": try longest first */
		size_t maxd = 0, min = t->width ? t->width : 1, len;

		while (v[maxd] >= '0' && v[maxd] <= '9' && maxd < 20)
			maxd++;
		for (len = maxd; len >= min && len > 0; len--) {
			uint64_t x = 0;
			bool ok = true;

			if (t->width && len > t->width && v[0] == '0')
				continue; /* %0*llu never pads beyond the width */
			if (!t->width && len > 1 && v[0] == '0')
				continue;
			for (k = 0; k < len; k++) {
				unsigned d = (unsigned)(v[k] - '0');

				if (x > (UINT64_MAX - d) / 10) {
					ok = false;
					break;
				}
				x = x * 10 + d;
			}
			if (ok && match_from(f, i + 1, v + len, station, true, x, n))
				return true;
		}
		return false;
	}
	}
	return false;
}

bool fx_serial_fmt_match(const struct fx_serial_fmt *f, const char *value,
			 const char *station, uint64_t *n)
{
	uint64_t dummy;

	return match_from(f, 0, value, station ? station : "", false, 0, n ? n : &dummy);
}

/* ---- encodings --------------------------------------------------------- */

static bool parse_size(const char *s, unsigned max, unsigned *out)
{
	unsigned v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (unsigned)(*s - '0');
		if (v > max)
			return false;
	}
	if (v == 0)
		return false;
	*out = v;
	return true;
}

int fx_serial_enc_parse(const char *s, struct fx_serial_enc *out,
			struct fx_err *err)
{
	struct fx_serial_enc e;

	memset(&e, 0, sizeof(e));
	if (!strncmp(s, "ascii:", 6) && parse_size(s + 6, FX_SERIAL_ASCII_MAX, &e.size)) {
		e.kind = FX_SERIAL_ASCII;
	} else if (!strcmp(s, "u32le")) {
		e.kind = FX_SERIAL_U32LE;
		e.size = 4;
	} else if (!strcmp(s, "u64le")) {
		e.kind = FX_SERIAL_U64LE;
		e.size = 8;
	} else if (!strncmp(s, "bytes:", 6) && parse_size(s + 6, FX_SERIAL_BYTES_MAX, &e.size)) {
		e.kind = FX_SERIAL_BYTES;
	} else {
		return fx_err_set(err, FX_E_CONFIG,
				  "expected ascii:N (N = 1..%d), u32le, u64le or bytes:N (N = 1..%d), got '%s'",
				  FX_SERIAL_ASCII_MAX, FX_SERIAL_BYTES_MAX, s);
	}
	*out = e;
	return 0;
}

void fx_serial_enc_name(const struct fx_serial_enc *e, char *buf, size_t cap)
{
	switch (e->kind) {
	case FX_SERIAL_ASCII:
		snprintf(buf, cap, "ascii:%u", e->size);
		break;
	case FX_SERIAL_U32LE:
		snprintf(buf, cap, "u32le");
		break;
	case FX_SERIAL_U64LE:
		snprintf(buf, cap, "u64le");
		break;
	case FX_SERIAL_BYTES:
		snprintf(buf, cap, "bytes:%u", e->size);
		break;
	}
}

int fx_serial_encode(const struct fx_serial_enc *e, const char *value,
		     uint8_t *out, struct fx_err *err)
{
	size_t n = strlen(value), i;
	char en[16];

	fx_serial_enc_name(e, en, sizeof(en));
	switch (e->kind) {
	case FX_SERIAL_ASCII:
		if (n > e->size)
			return fx_err_set(err, FX_E_RANGE, "'%s' has %zu characters, %s holds %u",
					  value, n, en, e->size);
		for (i = 0; i < n; i++)
			if ((unsigned char)value[i] < 0x20 || (unsigned char)value[i] > 0x7E)
				return fx_err_set(err, FX_E_RANGE,
						  "'%s' has a character that is not printable ASCII",
						  value);
		memset(out, 0xFF, e->size);
		memcpy(out, value, n);
		return 0;
	case FX_SERIAL_U32LE:
	case FX_SERIAL_U64LE: {
		uint64_t v = 0, max = e->kind == FX_SERIAL_U32LE ? 0xFFFFFFFFull : UINT64_MAX;

		if (n == 0)
			return fx_err_set(err, FX_E_RANGE, "'%s' is not a decimal number", value);
		for (i = 0; i < n; i++) {
			unsigned d = (unsigned)(value[i] - '0');

			if (d > 9)
				return fx_err_set(err, FX_E_RANGE, "'%s' is not a decimal number",
						  value);
			if (v > (max - d) / 10)
				return fx_err_set(err, FX_E_RANGE, "'%s' does not fit %s", value, en);
			v = v * 10 + d;
		}
		if (e->kind == FX_SERIAL_U32LE)
			fx_put_le32(out, (uint32_t)v);
		else {
			fx_put_le32(out, (uint32_t)v);
			fx_put_le32(out + 4, (uint32_t)(v >> 32));
		}
		return 0;
	}
	case FX_SERIAL_BYTES: {
		size_t got = 0;
		char sep = 0;

		for (i = 0; i < n;) {
			int hi = fx_hex_digit(value[i]), lo = i + 1 < n ? fx_hex_digit(value[i + 1]) : -1;

			if (hi < 0 || lo < 0 || got == e->size)
				goto bad_bytes;
			out[got++] = (uint8_t)(hi << 4 | lo);
			i += 2;
			if (i < n) {
				if (value[i] != ':' && value[i] != '-') {
					if (sep)
						goto bad_bytes;
					continue; /* plain hex digits */
				}
				if (sep && value[i] != sep)
					goto bad_bytes;
				if (!sep && got > 1)
					goto bad_bytes; /* separators from the start or never */
				sep = value[i];
				i++;
				if (i == n)
					goto bad_bytes;
			}
		}
		if (got != e->size)
			goto bad_bytes;
		return 0;
bad_bytes:
		return fx_err_set(err, FX_E_RANGE,
				  "'%s' is not %u hex bytes (e.g. 00:11:22, 00-11-22 or 001122)",
				  value, e->size);
	}
	}
	return fx_err_set(err, FX_E_INVAL, "unknown encoding");
}

bool fx_serial_decode(const struct fx_serial_enc *e, const uint8_t *in,
		      unsigned min_digits, char *out, size_t cap)
{
	size_t i, n;

	switch (e->kind) {
	case FX_SERIAL_ASCII:
		for (n = 0; n < e->size && in[n] != 0xFF; n++)
			if (in[n] < 0x20 || in[n] > 0x7E)
				return false;
		if (n == 0 || n + 1 > cap)
			return false;
		for (i = n; i < e->size; i++)
			if (in[i] != 0xFF)
				return false;
		memcpy(out, in, n);
		out[n] = '\0';
		return true;
	case FX_SERIAL_U32LE:
	case FX_SERIAL_U64LE: {
		uint64_t v = fx_get_le32(in);

		if (e->kind == FX_SERIAL_U64LE)
			v |= (uint64_t)fx_get_le32(in + 4) << 32;
		if ((e->kind == FX_SERIAL_U32LE && v == 0xFFFFFFFFull) || v == UINT64_MAX)
			return false; /* erased */
		return snprintf(out, cap, "%0*llu", (int)min_digits,
				(unsigned long long)v) < (int)cap;
	}
	case FX_SERIAL_BYTES:
		for (i = 0; i < e->size && in[i] == 0xFF; i++)
			;
		if (i == e->size || cap < (size_t)e->size * 3)
			return false;
		for (i = 0; i < e->size; i++)
			snprintf(out + 3 * i, cap - 3 * i, i + 1 < e->size ? "%02X:" : "%02X", in[i]);
		return true;
	}
	return false;
}

/* store_hist.c - the cycle-time histogram codec: bucket arithmetic, the
 * BLOB of fixed-width entries in sum_cycle.hist (store_sql.h), adding one
 * duration to it, and reading the JSON text of schema version 1 for the
 * migration. Nothing else in the tree knows the encoding. */
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

int fx_store_hist_bucket(int64_t us)
{
	int e = 0;
	uint64_t v;

	if (us < 32)
		return us < 0 ? 0 : (int)us;
	v = (uint64_t)us;
	while ((v >> e) > 1)
		e++;
	/* e = floor(log2(us)) >= 5: 32 linear sub-buckets per octave */
	return e * 32 + (int)((v >> (e - 5)) & 31);
}

bool fx_store_hist_valid(int hb)
{
	return (hb >= 0 && hb < 32) || (hb >= 5 * 32 && hb <= FX_STORE_HB_LAST);
}

int64_t fx_store_hist_mid(int hb)
{
	unsigned e, m;

	if (!fx_store_hist_valid(hb))
		return -1;
	if (hb < 32)
		return hb;
	e = (unsigned)hb / 32; /* 5 .. 62: the shifts below stay inside 64 bits */
	m = (unsigned)hb % 32;
	return (int64_t)(((uint64_t)(32 + m) << (e - 5)) + (((uint64_t)1 << (e - 5)) / 2));
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* One decoded entry; false when out of range. */
static bool get_entry(const uint8_t *p, int *hb, int64_t *n, int64_t *sum)
{
	uint64_t un = get_be64(p + 2), us = get_be64(p + 10);

	*hb = p[0] << 8 | p[1];
	if (!fx_store_hist_valid(*hb) || un > INT64_MAX || us > INT64_MAX)
		return false;
	*n = (int64_t)un;
	*sum = (int64_t)us;
	return true;
}

static void put_entry(uint8_t *p, int hb, int64_t n, int64_t sum)
{
	p[0] = (uint8_t)(hb >> 8);
	p[1] = (uint8_t)hb;
	put_be64(p + 2, (uint64_t)n);
	put_be64(p + 10, (uint64_t)sum);
}

bool fx_store_hist_decode(const void *blob, size_t len, fx_store_hist_fn *fn, void *ctx)
{
	const uint8_t *p = blob;
	int64_t n, sum;
	int hb, prev = -1;
	size_t i;

	if (len % FX_STORE_HIST_ENTRY || (len && !p))
		return false;
	for (i = 0; i < len; i += FX_STORE_HIST_ENTRY) {
		if (!get_entry(p + i, &hb, &n, &sum) || hb <= prev)
			return false;
		fn(ctx, hb, n, sum);
		prev = hb;
	}
	return true;
}

bool fx_store_hist_each(sqlite3_value *v, fx_store_hist_fn *fn, void *ctx)
{
	if (!v || sqlite3_value_type(v) != SQLITE_BLOB)
		return false;
	/* the length after the pointer (sqlite3_value_blob may convert) */
	{
		const void *p = sqlite3_value_blob(v);

		return fx_store_hist_decode(p, (size_t)sqlite3_value_bytes(v), fn, ctx);
	}
}

static void count_entry(void *ctx, int hb, int64_t n, int64_t sum)
{
	(void)hb;
	(void)n;
	(void)sum;
	++*(size_t *)ctx;
}

enum fx_hist_rc fx_store_hist_add_one(const void *blob, size_t len, int64_t us,
				      uint8_t **out, size_t *outlen)
{
	const uint8_t *p = blob;
	int hb = fx_store_hist_bucket(us), ehb;
	size_t lo = 0, hi, mid, count = 0;
	int64_t n, sum;
	uint8_t *o;

	if (us < 0 || !fx_store_hist_decode(blob, len, count_entry, &count))
		return FX_HIST_MALFORMED;
	/* binary search for the first entry with a bucket >= hb */
	hi = count;
	while (lo < hi) {
		mid = (lo + hi) / 2;
		get_entry(p + mid * FX_STORE_HIST_ENTRY, &ehb, &n, &sum);
		if (ehb < hb)
			lo = mid + 1;
		else
			hi = mid;
	}
	ehb = -1;
	if (lo < count)
		get_entry(p + lo * FX_STORE_HIST_ENTRY, &ehb, &n, &sum);
	o = malloc(len + FX_STORE_HIST_ENTRY);
	if (!o)
		return FX_HIST_NOMEM;
	if (len)
		memcpy(o, p, lo * FX_STORE_HIST_ENTRY);
	if (ehb == hb) {
		if (__builtin_add_overflow(n, 1, &n) || __builtin_add_overflow(sum, us, &sum)) {
			free(o);
			return FX_HIST_OVERFLOW;
		}
		put_entry(o + lo * FX_STORE_HIST_ENTRY, hb, n, sum);
		lo++;
		*outlen = len;
	} else {
		put_entry(o + lo * FX_STORE_HIST_ENTRY, hb, 1, us);
		*outlen = len + FX_STORE_HIST_ENTRY;
	}
	if (len > lo * FX_STORE_HIST_ENTRY)
		memcpy(o + *outlen - (len - lo * FX_STORE_HIST_ENTRY), p + lo * FX_STORE_HIST_ENTRY,
		       len - lo * FX_STORE_HIST_ENTRY);
	*out = o;
	return FX_HIST_OK;
}

/* A non-negative decimal of at most 18 digits; false if none or longer. */
static bool get_u63(const char **sp, int64_t *v)
{
	const char *s = *sp;
	int64_t x = 0;
	int n = 0;

	while (*s >= '0' && *s <= '9') {
		if (++n > 18)
			return false;
		x = x * 10 + (*s++ - '0');
	}
	*sp = s;
	*v = x;
	return n > 0;
}

enum fx_hist_rc fx_store_hist_from_json(const char *s, uint8_t **out, size_t *outlen)
{
	size_t len = 0, cap = 0;
	uint8_t *o = NULL, *no;
	int64_t v[3];
	int k;

	if (!s)
		return FX_HIST_MALFORMED;
	while (*s == ' ')
		s++;
	if (*s++ != '[')
		return FX_HIST_MALFORMED;
	while (*s == ' ')
		s++;
	if (*s == ']')
		goto done;
	for (;;) {
		if (*s++ != '[')
			goto err_bad;
		for (k = 0; k < 3; k++)
			if (!get_u63(&s, &v[k]) || *s++ != (k < 2 ? ',' : ']'))
				goto err_bad;
		/* version 1 wrote each bucket once, ascending */
		if (v[0] > FX_STORE_HB_LAST || !fx_store_hist_valid((int)v[0]) ||
		    (len && (int)v[0] <= (o[len - FX_STORE_HIST_ENTRY] << 8 |
					  o[len - FX_STORE_HIST_ENTRY + 1])))
			goto err_bad;
		if (len == cap) {
			cap = cap ? 2 * cap : 16 * FX_STORE_HIST_ENTRY;
			no = realloc(o, cap);
			if (!no) {
				free(o);
				return FX_HIST_NOMEM;
			}
			o = no;
		}
		put_entry(o + len, (int)v[0], v[1], v[2]);
		len += FX_STORE_HIST_ENTRY;
		if (*s == ']')
			break;
		if (*s++ != ',')
			goto err_bad;
	}
done:
	*out = o;
	*outlen = len;
	return FX_HIST_OK;
err_bad:
	free(o);
	return FX_HIST_MALFORMED;
}

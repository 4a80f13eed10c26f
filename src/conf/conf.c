/* conf.c - what recipes and stations share: diagnostics list, file kind
 * detection, SHA-256 (nettle). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nettle/sha2.h>

#include "fx/bytes.h"
#include "fx/conf.h"
#include "conf_priv.h"
#include "ini_reader.h"

bool fx_conf_uint_key_set(struct fx_ini *ini, const struct fx_conf_uint_key *keys,
			  size_t n, const char *key, const char *value,
			  unsigned min, unsigned max)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!strcmp(key, keys[i].name)) {
			fx_ini_uint(ini, key, value, min, max, keys[i].field);
			return true;
		}
	}
	return false;
}

int fx_conf_ini_load(const char *path, fx_ini_section_fn sfn, fx_ini_key_fn kfn,
		     fx_conf_whole_fn whole, void *user, char sha256[65],
		     struct fx_conf_diags *diags, struct fx_err *err)
{
	struct fx_ini ini;
	int rc;

	fx_err_clear(err);
	rc = fx_ini_parse(&ini, path, sfn, kfn, user, diags, err);
	if (!rc) {
		whole(&ini, user);
		if (sha256)
			memcpy(sha256, ini.sha256, sizeof(ini.sha256));
		if (ini.nomem)
			rc = fx_err_set(err, FX_E_NOMEM, "out of memory loading '%s'", path);
		else if (ini.errors)
			rc = FX_E_CONFIG;
	}
	fx_ini_release(&ini);
	return rc;
}

void fx_conf_diags_init(struct fx_conf_diags *d)
{
	d->msgs = NULL;
	d->n = d->cap = 0;
}

void fx_conf_diags_release(struct fx_conf_diags *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->n; i++)
		free(d->msgs[i]);
	free(d->msgs);
	fx_conf_diags_init(d);
}

bool fx_conf_diags_add(struct fx_conf_diags *d, const char *msg)
{
	char *copy;

	if (!d)
		return true;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		char **n = realloc(d->msgs, cap * sizeof(*n));

		if (!n)
			return false;
		d->msgs = n;
		d->cap = cap;
	}
	copy = strdup(msg);
	if (!copy)
		return false;
	d->msgs[d->n++] = copy;
	return true;
}

static void to_hex(const uint8_t *d, size_t n, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		hex[2 * i] = digits[d[i] >> 4];
		hex[2 * i + 1] = digits[d[i] & 15];
	}
	hex[2 * n] = '\0';
}

void fx_conf_sha256_buf(const uint8_t *data, size_t len, char hex[65])
{
	struct sha256_ctx ctx;
	uint8_t digest[SHA256_DIGEST_SIZE];

	sha256_init(&ctx);
	sha256_update(&ctx, len, data);
	sha256_digest(&ctx, sizeof(digest), digest);
	to_hex(digest, sizeof(digest), hex);
}

int fx_conf_sha256_file(const char *path, char hex[65], struct fx_err *err)
{
	struct sha256_ctx ctx;
	uint8_t digest[SHA256_DIGEST_SIZE];
	uint8_t buf[16384];
	ssize_t n;
	int fd, e;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto err_errno;
	sha256_init(&ctx);
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		sha256_update(&ctx, (size_t)n, buf);
	}
	e = errno;
	close(fd);
	if (n < 0) {
		errno = e;
		goto err_errno;
	}
	sha256_digest(&ctx, sizeof(digest), digest);
	to_hex(digest, sizeof(digest), hex);
	return 0;

err_errno:
	e = errno ? errno : EIO;
	fx_err_set(err, FX_E_FILE, "cannot read '%s': %s", path, strerror(e));
	if (err)
		err->sys_errno = e;
	return FX_E_FILE;
}

struct detect {
	bool recipe, station;
};

static bool detect_section(struct fx_ini *ini, const char *section, void *user)
{
	struct detect *d = user;

	(void)ini;
	if (!strcmp(section, "recipe"))
		d->recipe = true;
	else if (!strcmp(section, "station") || !strncmp(section, "slot", 4))
		d->station = true;
	return false; /* no keys needed */
}

static void detect_key(struct fx_ini *ini, const char *section,
		       const char *key, const char *value, void *user)
{
	(void)ini, (void)section, (void)key, (void)value, (void)user;
}

int fx_conf_detect(const char *path, enum fx_conf_kind *kind,
		   struct fx_err *err)
{
	struct detect d = { false, false };
	struct fx_err scratch;
	struct fx_ini ini;
	int rc;

	fx_err_clear(&scratch);
	rc = fx_ini_parse(&ini, path, detect_section, detect_key, &d, NULL,
			  &scratch);
	if (!rc && ini.nomem)
		rc = fx_err_set(&scratch, FX_E_NOMEM, "out of memory reading '%s'", path);
	fx_ini_release(&ini);
	if (rc) {
		if (err)
			*err = scratch;
		return rc;
	}
	if (d.recipe && d.station)
		return fx_err_set(err, FX_E_CONFIG,
				  "%s: both [recipe] and [station]: a file is either a recipe or a station",
				  path);
	if (!d.recipe && !d.station)
		return fx_err_set(err, FX_E_CONFIG,
				  "%s: neither a recipe ([recipe]) nor a station ([station]) file",
				  path);
	*kind = d.recipe ? FX_CONF_RECIPE : FX_CONF_STATION;
	return 0;
}

bool fx_conf_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	unsigned base = 10;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return false;
	for (; *s; s++) {
		int d = fx_hex_digit(*s);

		if (d < 0 || (unsigned)d >= base)
			return false;
		if (v > (max - (unsigned)d) / base)
			return false;
		v = v * base + (unsigned)d;
	}
	*out = v;
	return true;
}

/* test_image_fuzz.c - every golden input truncated at every length and
 * garbled at every byte (and by seeded random multi-byte edits) must load
 * cleanly or fail cleanly: a NULL image with FX_E_IMAGE and a message
 * naming the file, never a crash (run under ASan+UBSan by make check).
 * Checksums (HEX, S-record, DfuSe CRC) are also recomputed after the edit
 * so the garbage reaches the parsing behind them. */
#include <fcntl.h>
#include <zlib.h>

#include "fx/bytes.h"
#include "test_image_util.h"

struct golden {
	const char *name;
	bool bin;
};

static const struct golden goldens[] = {
	{ "golden.bin", true },  { "golden.hex", false },  { "golden.srec", false },
	{ "golden.elf", false }, { "golden.dfu", false },  { "multi.hex", false },
	{ "multi.srec", false }, { "multi.elf", false },   { "multi.dfu", false },
	{ "s1.srec", false },    { "s2.srec", false },     { "segment.hex", false },
	{ "twotarget.dfu", false },
};

struct stats {
	unsigned ok, failed;
};

static const char *ext_of(const char *name)
{
	return strrchr(name, '.');
}

/* Recompute the checksum of every well-formed-looking text record. */
static void fix_text_checksums(uint8_t *d, size_t len, bool srec)
{
	size_t i = 0;

	while (i < len) {
		size_t s = i, e, nd, k;
		unsigned sum = 0;
		size_t first = srec ? 2 : 1;

		while (i < len && d[i] != '\n')
			i++;
		e = i;
		i++;
		while (e > s && (d[e - 1] == '\r' || d[e - 1] == ' '))
			e--;
		if (e - s < first + 4 || (srec ? d[s] != 'S' : d[s] != ':'))
			continue;
		nd = e - s - first;
		if (nd & 1)
			continue;
		for (k = 0; k < nd; k++)
			if (fx_hex_digit((char)d[s + first + k]) < 0)
				break;
		if (k < nd)
			continue;
		for (k = 0; k + 2 < nd; k += 2)
			sum += (unsigned)(fx_hex_digit((char)d[s + first + k]) << 4 |
					  fx_hex_digit((char)d[s + first + k + 1]));
		sum = srec ? (~sum & 0xff) : ((0x100 - (sum & 0xff)) & 0xff);
		d[e - 2] = (uint8_t)"0123456789ABCDEF"[sum >> 4];
		d[e - 1] = (uint8_t)"0123456789ABCDEF"[sum & 15];
	}
}

static void fix_checksums(const char *name, uint8_t *d, size_t len)
{
	const char *ext = ext_of(name);

	if (!strcmp(ext, ".dfu") && len >= 4)
		fx_put_le32(d + len - 4, ~(uint32_t)crc32(0L, d, (uInt)(len - 4)));
	else if (!strcmp(ext, ".hex"))
		fix_text_checksums(d, len, false);
	else if (!strcmp(ext, ".srec"))
		fix_text_checksums(d, len, true);
}

static void try_load(struct img_tmp *t, const struct golden *g, const uint8_t *d, size_t len,
		     struct stats *st)
{
	char name[64];
	const char *p;
	struct fx_image *img;
	struct fx_err err;
	int fd;

	/* rewrite in place without O_TRUNC: ext4 flushes a file truncated to
	 * zero on close (auto_da_alloc), which made this test 10x slower */
	snprintf(name, sizeof(name), "fuzz%s", ext_of(g->name));
	snprintf(t->path, sizeof(t->path), "%s/%s", t->dir, name);
	p = t->path;
	fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_true(len == 0 || pwrite(fd, d, len, 0) == (ssize_t)len);
	assert_int_equal(ftruncate(fd, (off_t)len), 0);
	assert_int_equal(close(fd), 0);
	fx_err_clear(&err);
	img = fx_image_load(p, FX_IMAGE_AUTO, g->bin, 0x08000000, &err);
	if (img) {
		img_check_invariants(img);
		assert_int_equal(err.code, FX_OK);
		fx_image_free(img);
		st->ok++;
		return;
	}
	if (err.code != FX_E_IMAGE)
		fail_msg("%s (%zu bytes): %s: %s", g->name, len, fx_err_name(err.code), err.msg);
	/* "PATH: ..." or "PATH:LINE: ..." */
	assert_true(strncmp(err.msg, p, strlen(p)) == 0);
	assert_true(err.msg[strlen(p)] == ':');
	assert_true(strlen(err.msg) > strlen(p) + 2);
	st->failed++;
}

static uint8_t *load_golden(const struct golden *g, size_t *len)
{
	char path[256];

	snprintf(path, sizeof(path), IMG_DATA "/%s", g->name);
	return img_slurp(path, len);
}

static void test_truncated(void **state)
{
	struct stats st = { 0, 0 };
	size_t i, n, len;

	for (i = 0; i < sizeof(goldens) / sizeof(goldens[0]); i++) {
		uint8_t *d = load_golden(&goldens[i], &len);
		uint8_t *c = malloc(len + 1);

		assert_non_null(c);
		for (n = 0; n <= len; n++) {
			try_load(*state, &goldens[i], d, n, &st);
			/* cut, then checksums made right again */
			memcpy(c, d, n);
			fix_checksums(goldens[i].name, c, n);
			try_load(*state, &goldens[i], c, n, &st);
		}
		free(c);
		free(d);
	}
	/* the whole files load; most cut ones do not */
	assert_true(st.ok >= sizeof(goldens) / sizeof(goldens[0]));
	assert_true(st.failed > st.ok);
}

static void test_garbled_bytes(void **state)
{
	static const uint8_t set_to[] = { 0x00, 0xff, '\n', ':', 'S', '0', '9', 'F' };
	static const uint8_t xor_with[] = { 0x01, 0x02, 0x10, 0x80 };
	struct stats st = { 0, 0 };
	size_t i, pos, k, len;

	for (i = 0; i < sizeof(goldens) / sizeof(goldens[0]); i++) {
		uint8_t *d = load_golden(&goldens[i], &len);
		uint8_t *c = malloc(len);

		assert_non_null(c);
		for (pos = 0; pos < len; pos++) {
			for (k = 0; k < sizeof(set_to) + sizeof(xor_with); k++) {
				memcpy(c, d, len);
				if (k < sizeof(set_to))
					c[pos] = set_to[k];
				else
					c[pos] ^= xor_with[k - sizeof(set_to)];
				try_load(*state, &goldens[i], c, len, &st);
				fix_checksums(goldens[i].name, c, len);
				try_load(*state, &goldens[i], c, len, &st);
			}
		}
		free(c);
		free(d);
	}
	assert_true(st.ok > 0);
	assert_true(st.failed > 0);
}

static uint32_t xorshift32(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*s = x;
	return x;
}

/* Seeded multi-byte edits: several random bytes, little-endian 32-bit
 * fields set to edge values (sizes, offsets, addresses), random cuts. */
static void test_random_edits(void **state)
{
	static const uint32_t edge[] = { 0, 1, 0x7fffffff, 0x80000000, 0xfffffff0, 0xffffffff,
					 0x08000000, 0x100, 0x10000 };
	struct stats st = { 0, 0 };
	uint32_t seed = 0x2545f491u;
	size_t i, it, len;

	for (i = 0; i < sizeof(goldens) / sizeof(goldens[0]); i++) {
		uint8_t *d = load_golden(&goldens[i], &len);
		uint8_t *c = malloc(len);

		assert_non_null(c);
		for (it = 0; it < 400; it++) {
			unsigned edits = 1 + xorshift32(&seed) % 4, e;
			size_t n = len;

			memcpy(c, d, len);
			for (e = 0; e < edits; e++) {
				size_t pos = xorshift32(&seed) % len;

				if (xorshift32(&seed) & 1)
					c[pos] = (uint8_t)xorshift32(&seed);
				else if (pos + 4 <= len)
					fx_put_le32(c + pos, edge[xorshift32(&seed) %
								  (sizeof(edge) / sizeof(edge[0]))]);
			}
			if (!(xorshift32(&seed) % 4))
				n = xorshift32(&seed) % (len + 1);
			if (xorshift32(&seed) & 1)
				fix_checksums(goldens[i].name, c, n);
			try_load(*state, &goldens[i], c, n, &st);
		}
		free(c);
		free(d);
	}
	assert_true(st.failed > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_garbled_bytes),
		cmocka_unit_test(test_random_edits),
	};

	return cmocka_run_group_tests(tests, img_tmp_setup, img_tmp_teardown);
}

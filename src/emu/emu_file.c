/* emu_file.c - the board file: flash (cells and the bank mode that wrote
 * each double word), option-byte NVM, OTP, UID and application identity.
 * Knobs and volatile state (pins, RAM, bus) are not saved.
 *
 * Format, version 1, all integers little endian:
 *   0   "FXEMUBRD"            magic (8)
 *   8   u32 version           1
 *   12  u32 reserved          0
 *   16  uid[12]
 *   28  u16 app_vid, u16 app_pid
 *   32  ob bank 1 [48], ob bank 2 [48]
 *   128 otp[1024]
 *   1152 tag[65536]           enum emu_tag per flash double word
 *   66688 flash[524288]
 *   590976 u32 crc32 (zlib) of every byte before it
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "emu_priv.h"
#include "fx/bytes.h"
#include "fx/file.h"

#define FILE_MAGIC "FXEMUBRD"
#define FILE_VERSION 1u
#define OFF_UID 16u
#define OFF_APP 28u
#define OFF_OB 32u
#define OFF_OTP (OFF_OB + 2u * G4_OB_BLOCK_SIZE)
#define OFF_TAG (OFF_OTP + G4_OTP_SIZE)
#define OFF_FLASH (OFF_TAG + EMU_NDW)
#define OFF_CRC (OFF_FLASH + G4_FLASH_SIZE)
#define FILE_SIZE (OFF_CRC + 4u)
#define TMP_SUFFIX ".tmp"

static uint32_t crc(const uint8_t *p, size_t n)
{
	uLong c = crc32(0L, Z_NULL, 0);

	while (n) {
		uInt k = n > 0x40000000u ? 0x40000000u : (uInt)n;

		c = crc32(c, p, k);
		p += k;
		n -= k;
	}
	return (uint32_t)c;
}

/* The one temporary file of a board file: "PATH.tmp" (issue 8: the
 * mkstemp names "PATH.tmp.XXXXXX" of earlier versions piled up, one per
 * kill during a save). A writer holds flock(LOCK_EX) on it from open to
 * rename, so a second writer is refused instead of writing into the same
 * file, and fx_emu_load() can tell a stale one (its writer was killed)
 * from one being written. Returns the fd, or -errno. */
static int open_tmp(const char *tmp)
{
	struct stat a, b;
	int fd, tries, e;

	for (tries = 0; tries < 8; tries++) {
		fd = open(tmp, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd < 0)
			return -errno;
		if (flock(fd, LOCK_EX | LOCK_NB)) {
			e = errno;
			close(fd);
			return e == EWOULDBLOCK ? -EBUSY : -e;
		}
		/* the holder before us may have renamed it between our open
		 * and our lock: then the name is someone else's (or nobody's) */
		if (fstat(fd, &a) == 0 && stat(tmp, &b) == 0 && a.st_dev == b.st_dev &&
		    a.st_ino == b.st_ino)
			return fd;
		close(fd);
	}
	return -EBUSY;
}

/* fsync the directory holding the file p names, so the rename survives
 * a power loss (a kill needs nothing more than the rename). p is scratch:
 * cut at its last '/'. */
static int sync_dir(char *p)
{
	char *slash = strrchr(p, '/');
	int fd, rc = 0;

	if (slash == p)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	fd = open(slash ? p : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* some file systems cannot sync a directory: nothing to do there */
	if (fsync(fd) && errno != EINVAL && errno != EROFS)
		rc = -errno;
	close(fd);
	return rc;
}

int fx_emu_save(const struct fx_emu *e, const char *path, struct fx_err *err)
{
	uint8_t *buf;
	char *tmp;
	size_t plen = strlen(path);
	struct stat sb;
	int fd, saved;

	/* rename() over a device node or FIFO would replace it */
	if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
		return fx_err_set(err, FX_E_FILE, "board file '%s': not a regular file",
				  path);

	buf = calloc(1, FILE_SIZE);
	tmp = malloc(plen + sizeof(TMP_SUFFIX));
	if (!buf || !tmp) {
		free(buf);
		free(tmp);
		return fx_err_set(err, FX_E_NOMEM, "board file '%s': out of memory",
				  path);
	}
	memcpy(buf, FILE_MAGIC, 8);
	fx_put_le32(buf + 8, FILE_VERSION);
	memcpy(buf + OFF_UID, e->id.uid, 12);
	fx_put_le16(buf + OFF_APP, e->id.app_vid);
	fx_put_le16(buf + OFF_APP + 2, e->id.app_pid);
	memcpy(buf + OFF_OB, e->ob[0], G4_OB_BLOCK_SIZE);
	memcpy(buf + OFF_OB + G4_OB_BLOCK_SIZE, e->ob[1], G4_OB_BLOCK_SIZE);
	memcpy(buf + OFF_OTP, e->otp, G4_OTP_SIZE);
	memcpy(buf + OFF_TAG, e->tag, EMU_NDW);
	memcpy(buf + OFF_FLASH, e->flash, G4_FLASH_SIZE);
	fx_put_le32(buf + OFF_CRC, crc(buf, OFF_CRC));

	snprintf(tmp, plen + sizeof(TMP_SUFFIX), "%s" TMP_SUFFIX, path);
	fd = open_tmp(tmp);
	if (fd == -EBUSY) {
		free(buf);
		free(tmp);
		return fx_err_set(err, FX_E_BUSY,
				  "board file '%s': being saved by another process", path);
	}
	if (fd < 0) {
		saved = -fd;
		goto err_free;
	}
	/* a stale temp file of a killed save may be longer; the mode too may
	 * be another's: a board file is an ordinary data file */
	if (ftruncate(fd, 0) || fchmod(fd, 0644) || fx_write_all(fd, buf, FILE_SIZE) ||
	    fsync(fd)) {
		saved = errno;
		goto err_unlink;
	}
	/* still holding the lock: nobody else writes the file before it is
	 * renamed */
	if (rename(tmp, path)) {
		saved = errno;
		goto err_unlink;
	}
	saved = -sync_dir(tmp);
	close(fd);
	free(buf);
	free(tmp);
	if (saved) {
		fx_err_set(err, FX_E_FILE, "board file '%s': cannot sync its directory: %s",
			   path, strerror(saved));
		if (err)
			err->sys_errno = saved;
		return FX_E_FILE;
	}
	return 0;

err_unlink:
	unlink(tmp);
	close(fd);
err_free:
	free(buf);
	free(tmp);
	fx_err_set(err, FX_E_FILE, "board file '%s': cannot write: %s", path,
		   strerror(saved));
	if (err)
		err->sys_errno = saved;
	return FX_E_FILE;
}

/* Remove what killed saves left next to path: "PATH.tmp" unless a writer
 * holds its lock, and the "PATH.tmp.XXXXXX" (6 characters) of earlier
 * versions. Best effort: a file that cannot be removed stays. */
static void sweep_tmp(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	size_t blen = strlen(base), plen = strlen(path);
	char *tmp, *dir, *full;
	struct stat a, b;
	struct dirent *de;
	DIR *d;
	int fd;

	tmp = malloc(plen + sizeof(TMP_SUFFIX));
	if (!tmp)
		return;
	snprintf(tmp, plen + sizeof(TMP_SUFFIX), "%s" TMP_SUFFIX, path);
	fd = open(tmp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd >= 0) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &a) == 0 &&
		    S_ISREG(a.st_mode) && lstat(tmp, &b) == 0 && a.st_dev == b.st_dev &&
		    a.st_ino == b.st_ino)
			unlink(tmp);
		close(fd);
	}
	free(tmp);

	dir = slash ? (slash == path ? strdup("/") : strndup(path, (size_t)(slash - path)))
		    : strdup(".");
	if (!dir)
		return;
	d = opendir(dir);
	while (d && (de = readdir(d)) != NULL) {
		const char *n = de->d_name;

		if (strncmp(n, base, blen) || strncmp(n + blen, TMP_SUFFIX ".",
						      sizeof(TMP_SUFFIX)) ||
		    strlen(n + blen + sizeof(TMP_SUFFIX)) != 6)
			continue;
		full = malloc(strlen(dir) + strlen(n) + 2);
		if (!full)
			break;
		snprintf(full, strlen(dir) + strlen(n) + 2, "%s/%s", dir, n);
		if (lstat(full, &a) == 0 && S_ISREG(a.st_mode))
			unlink(full);
		free(full);
	}
	if (d)
		closedir(d);
	free(dir);
}

void fx_emu_uid_from_path(const char *path, uint8_t uid[12])
{
	emu_uid_from_seed(path, strlen(path), uid);
}

static struct fx_emu *fresh(const char *path, const struct fx_clock *clk,
			    struct fx_err *err)
{
	struct fx_emu_identity id = { .app_vid = 0x1209, .app_pid = 0x0001 };

	fx_emu_uid_from_path(path, id.uid);
	return emu_alloc(&id, clk, err);
}

static int read_all(FILE *f, uint8_t *buf, size_t cap, size_t *n)
{
	*n = fread(buf, 1, cap, f);
	return ferror(f) ? -1 : 0;
}

struct fx_emu *fx_emu_load(const char *path, const struct fx_clock *clk,
			   struct fx_err *err)
{
	struct fx_emu_identity id;
	struct fx_emu *e = NULL;
	uint8_t *buf;
	size_t n;
	FILE *f;
	uint32_t i, ver;
	struct stat sb;

	/* a save killed before its rename left a temp file: remove it */
	sweep_tmp(path);
	/* a FIFO would block the open, a device is not a board */
	if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
		fx_err_set(err, FX_E_FILE, "board file '%s': not a regular file", path);
		return NULL;
	}
	f = fopen(path, "rb");
	if (!f) {
		if (errno == ENOENT)
			return fresh(path, clk, err);
		if (errno == ENOMEM) {
			fx_err_set(err, FX_E_NOMEM, "board file '%s': out of memory", path);
			return NULL;
		}
		fx_err_set(err, FX_E_FILE, "board file '%s': cannot open: %s", path,
			   strerror(errno));
		return NULL;
	}
	buf = malloc(FILE_SIZE + 1);
	if (!buf) {
		fclose(f);
		fx_err_set(err, FX_E_NOMEM, "board file '%s': out of memory", path);
		return NULL;
	}
	if (read_all(f, buf, FILE_SIZE + 1, &n)) {
		fx_err_set(err, FX_E_FILE, "board file '%s': read error", path);
		goto out;
	}
	if (n < 12 || memcmp(buf, FILE_MAGIC, 8)) {
		fx_err_set(err, FX_E_FILE,
			   "board file '%s': not an emulated board file (bad magic)",
			   path);
		goto out;
	}
	ver = fx_get_le32(buf + 8);
	if (ver != FILE_VERSION) {
		fx_err_set(err, FX_E_FILE,
			   "board file '%s': unsupported version %u, expected %u",
			   path, (unsigned)ver, FILE_VERSION);
		goto out;
	}
	if (n != FILE_SIZE) {
		if (n > FILE_SIZE)
			fx_err_set(err, FX_E_FILE,
				   "board file '%s': too long, expected %u bytes",
				   path, (unsigned)FILE_SIZE);
		else
			fx_err_set(err, FX_E_FILE,
				   "board file '%s': truncated: %zu bytes, expected %u",
				   path, n, (unsigned)FILE_SIZE);
		goto out;
	}
	if (crc(buf, OFF_CRC) != fx_get_le32(buf + OFF_CRC)) {
		fx_err_set(err, FX_E_FILE,
			   "board file '%s': checksum mismatch (corrupted)", path);
		goto out;
	}
	for (i = 0; i < EMU_NDW; i++) {
		if (buf[OFF_TAG + i] > EMU_TAG_SINGLE) {
			fx_err_set(err, FX_E_FILE,
				   "board file '%s': bad bank-mode tag %u at 0x%08x",
				   path, buf[OFF_TAG + i],
				   (unsigned)(G4_FLASH_BASE + 8u * i));
			goto out;
		}
	}
	memset(&id, 0, sizeof(id));
	memcpy(id.uid, buf + OFF_UID, 12);
	id.app_vid = fx_get_le16(buf + OFF_APP);
	id.app_pid = fx_get_le16(buf + OFF_APP + 2);
	e = emu_alloc(&id, clk, err);
	if (!e)
		goto out;
	memcpy(e->ob[0], buf + OFF_OB, G4_OB_BLOCK_SIZE);
	memcpy(e->ob[1], buf + OFF_OB + G4_OB_BLOCK_SIZE, G4_OB_BLOCK_SIZE);
	memcpy(e->otp, buf + OFF_OTP, G4_OTP_SIZE);
	memcpy(e->tag, buf + OFF_TAG, EMU_NDW);
	memcpy(e->flash, buf + OFF_FLASH, G4_FLASH_SIZE);
	emu_ob_reload(e);
out:
	free(buf);
	fclose(f);
	return e;
}

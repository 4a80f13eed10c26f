/* file.c - whole-file helpers. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fx/file.h"

int fx_write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int fx_file_write_atomic(const char *path, const uint8_t *data, size_t len,
			 struct fx_err *err)
{
	char tmp[4096];
	struct stat sb;
	int fd, e;

	if (!strcmp(path, "-")) {
		if (fx_write_all(STDOUT_FILENO, data, len))
			return fx_err_set(err, FX_E_FILE, "stdout: %s", strerror(errno));
		return 0;
	}
	/* an existing non-regular target (/dev/null, a FIFO, a terminal) is
	 * written in place: renaming over it would replace the device node */
	if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
		if (S_ISDIR(sb.st_mode))
			return fx_err_set(err, FX_E_FILE, "'%s': is a directory", path);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			goto err_open;
		if (fx_write_all(fd, data, len)) {
			e = errno;
			close(fd);
			errno = e;
			goto err_open;
		}
		if (close(fd))
			goto err_open;
		return 0;
	}
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp))
		return fx_err_set(err, FX_E_FILE, "'%s': path too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		goto err_open;
	if (fx_write_all(fd, data, len) || fsync(fd))
		goto err_close;
	if (close(fd))
		goto err_unlink;
	if (rename(tmp, path))
		goto err_unlink;
	return 0;
err_close:
	e = errno;
	close(fd);
	errno = e;
err_unlink:
	e = errno;
	unlink(tmp);
	errno = e;
err_open:
	if (err)
		err->sys_errno = errno;
	return fx_err_set(err, FX_E_FILE, "'%s': %s", path, strerror(errno));
}

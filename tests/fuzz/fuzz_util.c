/* fuzz_util.c - see fuzz_util.h. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "fx/file.h"
#include "fx/image.h"
#include "fx/log.h"

static char dir[128];

static void cleanup(void)
{
	char cmd[160];

	if (dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd))
			fprintf(stderr, "fuzz: cannot remove %s\n", dir);
	}
}

const char *fz_dir(void)
{
	if (!dir[0]) {
		const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

		snprintf(dir, sizeof(dir), "%s/fxfuzz.XXXXXX", base);
		if (!mkdtemp(dir)) {
			perror("fuzz: mkdtemp");
			abort();
		}
		atexit(cleanup);
	}
	return dir;
}

const char *fz_file(const char *name, const void *data, size_t n)
{
	static char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", fz_dir(), name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || fx_write_all(fd, (const uint8_t *)data, n) || close(fd)) {
		perror("fuzz: write input");
		abort();
	}
	return path;
}

void fz_quiet(void)
{
	fx_log_set_handler(NULL, NULL, FX_LOG_ERR); /* discard */
}

void fz_image(const char *name, const void *data, size_t n, int fmt)
{
	const char *path = fz_file(name, data, n);
	struct fx_image *img;
	struct fx_err err;
	size_t i;

	fx_err_clear(&err);
	img = fx_image_load(path, (enum fx_image_format)fmt, false, 0, &err);
	if (!img) {
		if (err.code != FX_E_IMAGE && err.code != FX_E_FILE && err.code != FX_E_NOMEM)
			abort();
		return;
	}
	for (i = 1; i < img->nsegs; i++)
		if ((uint64_t)img->segs[i - 1].addr + img->segs[i - 1].len > img->segs[i].addr)
			abort();
	(void)fx_image_size(img);
	fx_image_free(img);
}

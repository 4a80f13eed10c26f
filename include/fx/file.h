/* file.h - whole-file helpers. */
#ifndef FX_FX_FILE_H
#define FX_FX_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "fx/err.h"

/* Write len bytes to path atomically (PATH.tmp.PID + fsync + rename), or
 * to stdout when path is "-". An existing non-regular path (/dev/null, a
 * FIFO) is written in place, never replaced; a directory is an error.
 * FX_E_FILE naming the path on failure. */
int fx_file_write_atomic(const char *path, const uint8_t *data, size_t len,
			 struct fx_err *err);

/* write(2) all of p to fd, retrying short writes and EINTR. 0, or -1 with
 * errno set. */
int fx_write_all(int fd, const uint8_t *p, size_t n);

#endif

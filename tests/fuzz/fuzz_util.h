/* fuzz_util.h - shared by the libFuzzer harnesses in tests/fuzz/ (issue 8).
 * Each harness defines LLVMFuzzerTestOneInput(); built two ways:
 *   make fuzz    clang -fsanitize=fuzzer,address,undefined (the fuzzer)
 *   make check   the normal compiler + replay.c: replays the corpus in
 *                tests/data/fuzz/<harness>/ (tests/cli/tfuzz.sh)
 * The loaders take paths, so inputs are written to a file in a private
 * directory (on /dev/shm when there: the board saves fsync). */
#ifndef FX_TESTS_FUZZ_UTIL_H
#define FX_TESTS_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The private directory (made at the first call, removed at exit). */
const char *fz_dir(void);
/* Write n bytes to fz_dir()/name (replaced); returns the path (static
 * buffer, valid until the next call). Aborts when it cannot. */
const char *fz_file(const char *name, const void *data, size_t n);
/* Silence fx_log (parsers log warnings for bad input). */
void fz_quiet(void);

/* Write n bytes to fz_dir()/name and load them as an image of format fmt
 * (an enum fx_image_format): either FX_E_IMAGE/FX_E_FILE/FX_E_NOMEM or an
 * image that keeps the fx/image.h invariants (segments sorted, not
 * overlapping); anything else aborts. */
void fz_image(const char *name, const void *data, size_t n, int fmt);

#endif

/* nomem.h - opt-in allocation failure injection for out-of-memory tests
 * (STYLE 4, SQLite "fail the Nth call"): count the allocations a piece of
 * code makes, fail the Nth (NULL, errno ENOMEM), and count the blocks it
 * leaves behind.
 *
 * Every tests/lib/ object is linked into every test binary, so this does
 * NOT define malloc: a test that wants injection writes FXT_NOMEM_INTERPOSE
 * once at file scope, which defines malloc/calloc/realloc/free as shims
 * over fxt_nomem_*(). Unarmed, the shims only pass through to glibc.
 *
 * Interposing the allocator and ASan's interceptors exclude each other:
 * under ASan FXT_NOMEM_SUPPORTED is 0, the engine is not built, and the
 * test's main() should return fxt_nomem_skip() (exit 77 with the reason).
 *
 * Typical loop:
 *	for (n = 1; n < LIMIT; n++) {
 *		fxt_nomem_arm(n);
 *		rc = code_under_test();   (frees what it made on success)
 *		if (fxt_nomem_end("what", n, rc))
 *			break;            (ran to the end, nothing failed)
 *		... assert the out-of-memory error ...
 *	}
 */
#ifndef FX_TESTS_NOMEM_H
#define FX_TESTS_NOMEM_H

#include <stdbool.h>
#include <stddef.h>

#if defined(__SANITIZE_ADDRESS__)
#define FXT_NOMEM_SUPPORTED 0
#else
#define FXT_NOMEM_SUPPORTED 1
#endif

/* Print why the suite is skipped; returns 77 (the harness's skip code). */
int fxt_nomem_skip(void);

#if FXT_NOMEM_SUPPORTED

/* Start counting allocations (malloc, calloc, realloc) from zero and fail
 * the nth one (1-based); the live block count starts at zero too. */
void fxt_nomem_arm(unsigned n);
/* Disarm and judge one run armed with fxt_nomem_arm(n) that returned rc
 * (0 = success): fails the test when a block made while armed is still
 * live, or when the run succeeded although allocation n failed, or failed
 * although no allocation did. Returns true when the run made fewer than n
 * allocations (it ran to the end: every failure point has been seen). */
bool fxt_nomem_end(const char *what, unsigned n, int rc);
/* The same, but a run that succeeded although allocation n failed is
 * accepted (the code recovered, e.g. stdio going on unbuffered); the
 * caller tells it from a failed run by its rc. */
bool fxt_nomem_end_recoverable(const char *what, unsigned n, int rc);

/* The engine behind the shims. */
void *fxt_nomem_malloc(size_t n);
void *fxt_nomem_calloc(size_t n, size_t m);
void *fxt_nomem_realloc(void *old, size_t n);
void fxt_nomem_free(void *p);

#define FXT_NOMEM_INTERPOSE                                                  \
	void *malloc(size_t n) { return fxt_nomem_malloc(n); }               \
	void *calloc(size_t n, size_t m) { return fxt_nomem_calloc(n, m); }  \
	void *realloc(void *p, size_t n) { return fxt_nomem_realloc(p, n); } \
	void free(void *p) { fxt_nomem_free(p); }

#endif /* FXT_NOMEM_SUPPORTED */

#endif

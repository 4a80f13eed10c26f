/* nomem.c - allocation failure injection engine (tests/lib/nomem.h). No
 * malloc is defined here: only binaries that write FXT_NOMEM_INTERPOSE
 * route their allocations through it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "nomem.h"

int fxt_nomem_skip(void)
{
	printf("skip: allocator interposition is not possible under ASan\n");
	return 77;
}

#if FXT_NOMEM_SUPPORTED

void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t m);
void *__libc_realloc(void *p, size_t n);
void __libc_free(void *p);

static struct {
	bool armed;
	unsigned calls, fail_at;
	long live; /* allocations minus frees while armed */
} fi;

void fxt_nomem_arm(unsigned n)
{
	fi.calls = 0;
	fi.fail_at = n;
	fi.live = 0;
	fi.armed = true;
}

static bool end(const char *what, unsigned n, int rc, bool may_recover)
{
	bool failed = fi.calls >= n;

	fi.armed = false;
	if (fi.live != 0)
		fail_msg("%s: allocation %u %s: %ld blocks leaked", what, n,
			 failed ? "failed" : "not reached", fi.live);
	if (!failed && rc != 0)
		fail_msg("%s: no allocation failed (%u made) but the run gave %d",
			 what, fi.calls, rc);
	if (failed && rc == 0 && !may_recover)
		fail_msg("%s: allocation %u failed but the run succeeded", what, n);
	return !failed;
}

bool fxt_nomem_end(const char *what, unsigned n, int rc)
{
	return end(what, n, rc, false);
}

bool fxt_nomem_end_recoverable(const char *what, unsigned n, int rc)
{
	return end(what, n, rc, true);
}

static bool fi_fail(void)
{
	if (fi.armed && ++fi.calls == fi.fail_at) {
		errno = ENOMEM; /* as the real allocator does */
		return true;
	}
	return false;
}

void *fxt_nomem_malloc(size_t n)
{
	void *p;

	if (fi_fail())
		return NULL;
	p = __libc_malloc(n);
	if (p && fi.armed)
		fi.live++;
	return p;
}

void *fxt_nomem_calloc(size_t n, size_t m)
{
	void *p;

	if (fi_fail())
		return NULL;
	p = __libc_calloc(n, m);
	if (p && fi.armed)
		fi.live++;
	return p;
}

void *fxt_nomem_realloc(void *old, size_t n)
{
	void *p;

	if (fi_fail())
		return NULL;
	p = __libc_realloc(old, n);
	if (p && !old && fi.armed)
		fi.live++;
	return p;
}

void fxt_nomem_free(void *p)
{
	if (p && fi.armed)
		fi.live--;
	__libc_free(p);
}

#endif /* FXT_NOMEM_SUPPORTED */

/* report_fix.c - helpers of the report tests (report_fix.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "report_fix.h"

char *fxt_report_render(const struct fx_report *r, enum fx_report_format f)
{
	struct fx_err err;
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	assert_non_null(m);
	fx_err_clear(&err);
	if (fx_report_write(r, f, m, &err))
		fail_msg("report write: %s", err.msg);
	fclose(m);
	return buf;
}

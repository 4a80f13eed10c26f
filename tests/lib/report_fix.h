/* report_fix.h - helpers of the report tests (tests/unit/test_report*.c). */
#ifndef FX_TESTS_REPORT_FIX_H
#define FX_TESTS_REPORT_FIX_H

#include "fx/report.h"

/* r written in format f (fx_report_write into a memory stream); the
 * caller frees the text. A write error fails the running cmocka test. */
char *fxt_report_render(const struct fx_report *r, enum fx_report_format f);

#endif

/*
 * test_compare_html.c — the comparison table of the HTML page (run and find
 * comparisons share it): a row one side lacks shows "-" for that side, its
 * change and its interval, never 0, "+0.0%" or "nan"; a complete row shows
 * its values, change and interval.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "report/compare_html.h"

/* The table, in a static buffer (a few rows fit). */
static char *table_of(const struct cmp_result *r)
{
    static char buf[16384];
    memset(buf, 0, sizeof(buf));
    FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");
    assert_non_null(f);
    cmp_html_table(f, r);
    fclose(f);
    return buf;
}

static void a_missing_side_prints_dashes(void **state)
{
    (void)state;
    static struct cmp_result r; /* large: not on the stack */
    memset(&r, 0, sizeof(r));
    r.nrows = 2;
    struct cmp_row *ok = &r.rows[0], *half = &r.rows[1];
    *ok = (struct cmp_row){
        .fig = CMP_LAT_P50, .base = 2000, .cand = 2400, .diff = 20, .lo = 15, .hi = 25, .verdict = CMP_REGRESSED};
    snprintf(ok->scope, sizeof(ok->scope), "/a");
    *half = (struct cmp_row){
        .fig = CMP_SVC_P50, .base = NAN, .cand = 2400, .diff = 0, .lo = 0, .hi = 0, .verdict = CMP_INCONCLUSIVE};
    snprintf(half->scope, sizeof(half->scope), "/b");
    snprintf(half->why, sizeof(half->why), "no service time per name in the baseline base.json");
    char *t = table_of(&r);
    char *b = strstr(t, "<td>/b</td>");
    assert_non_null(b);
    *strstr(b, "</tr>") = 0;
    assert_null(strstr(b, "nan"));
    assert_null(strstr(b, "+0.0"));
    /* baseline, change and interval: three dashes; the candidate has its value */
    int dashes = 0;
    for (char *p = b; (p = strstr(p, "<td>-</td>")); p++)
        dashes++;
    assert_int_equal(dashes, 3);
    assert_non_null(strstr(b, "inconclusive (no service time per name in the baseline base.json)"));
    char *a = strstr(t, "<td>/a</td>");
    assert_non_null(a);
    assert_non_null(strstr(a, "<td>+20.0%</td><td>[+15.0%, +25.0%]</td>"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_missing_side_prints_dashes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

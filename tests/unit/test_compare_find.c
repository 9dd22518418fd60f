/*
 * test_compare_find.c — tests for src/report/compare_find.c: the capacity
 * of two find results judged from their brackets, for every way a search
 * can stop, and the pairing of steps at the same rate.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <string.h>

#include "report/compare_find.h"

/* A find result: capacity (<= 0: null), bracket ends (<= 0: null), how it stopped, steps' (rate, confirm). */
static json_t *find_doc(double capacity, double pass, double fail, const char *stopped_by, const double *rates,
                        const int *confirms, size_t n)
{
    json_t *steps = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(steps, json_pack("{s:{s:f,s:b}}", "find", "rate", rates[i], "confirm", confirms[i]));
    return json_pack("{s:s,s:o,s:[o,o],s:s,s:f,s:o}", "tool", "salvo", "capacity",
                     capacity > 0 ? json_real(capacity) : json_null(), "bracket",
                     pass > 0 ? json_real(pass) : json_null(), fail > 0 ? json_real(fail) : json_null(), "stopped_by",
                     stopped_by, "from", 100.0, "steps", steps);
}

static void test_capacity_verdicts(void **state)
{
    (void)state;
    static const struct {
        double bc, bp, bf;
        const char *bs;
        double cc, cp, cf;
        const char *cs;
        enum cmp_verdict want;
    } cases[] = {
        {1900, 1900, 2000, "found", 1500, 1500, 1600, "found", CMP_REGRESSED},
        {1500, 1500, 1600, "found", 1900, 1900, 2000, "found", CMP_IMPROVED},
        {1900, 1900, 2000, "found", 1950, 1950, 2050, "found", CMP_NO_CHANGE},
        /* A generator limit above the baseline's failure: the candidate is at least that fast. */
        {1900, 1900, 2000, "found", 0, 5000, 0, "generator_limit", CMP_IMPROVED},
        /* A generator limit below the baseline's capacity: it may still be as fast. */
        {1900, 1900, 2000, "found", 0, 1000, 0, "generator_limit", CMP_NO_CHANGE},
        /* The candidate fails at --from (100/s): below the baseline's range. */
        {1900, 1900, 2000, "found", 0, 0, 0, "lowest_rate_fails", CMP_REGRESSED},
        /* Every confirmation failed: only an upper bound (its lowest fail). */
        {1900, 1900, 2000, "found", 0, 1800, 1850, "confirmation_fails", CMP_REGRESSED},
        /* Interrupted before anything passed or failed: no range at all. */
        {1900, 1900, 2000, "found", 0, 0, 0, "interrupted", CMP_INCONCLUSIVE},
        /* Both bounded from below only (a generator limit, --max sustained): either may be the faster. */
        {0, 5000, 0, "generator_limit", 10000, 10000, 0, "max", CMP_NO_CHANGE},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *b = find_doc(cases[i].bc, cases[i].bp, cases[i].bf, cases[i].bs, NULL, NULL, 0);
        json_t *c = find_doc(cases[i].cc, cases[i].cp, cases[i].cf, cases[i].cs, NULL, NULL, 0);
        struct cmp_capacity cap;
        cmp_capacity_judge(b, c, &cap);
        if (cap.verdict != cases[i].want) print_message("case %zu: verdict %s\n", i, cmp_verdict_name(cap.verdict));
        assert_int_equal(cap.verdict, cases[i].want);
        if (cases[i].bc > 0 && cases[i].cc > 0)
            assert_true(fabs(cap.diff - 100 * (cases[i].cc / cases[i].bc - 1)) < 1e-9);
        else
            assert_true(isnan(cap.diff));
        assert_true(cap.lo <= cap.hi);
        json_t *j = cmp_capacity_json(&cap);
        assert_non_null(j);
        json_decref(j);
        json_decref(b);
        json_decref(c);
    }
}

static void test_pairs_same_rate_and_confirmation(void **state)
{
    (void)state;
    static const double br[] = {100, 400, 1600, 1000, 1000}, cr[] = {100, 1000, 400, 1000, 250};
    static const int bc[] = {0, 0, 0, 0, 1}, cc[] = {0, 1, 0, 0, 0};
    json_t *b = find_doc(1000, 1000, 1600, "found", br, bc, 5), *c = find_doc(1000, 1000, 1600, "found", cr, cc, 5);
    size_t pairs[8][2];
    size_t n = cmp_find_pairs(b, c, pairs, 8);
    /* 100 with 100; 400 with 400 (out of order); 1000 with the unconfirmed 1000; the confirmation with the
     * confirmation. */
    assert_int_equal(n, 4);
    static const size_t want[4][2] = {{0, 0}, {1, 2}, {3, 3}, {4, 1}};
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(pairs[i][0], want[i][0]);
        assert_int_equal(pairs[i][1], want[i][1]);
    }
    assert_int_equal(cmp_find_pairs(b, c, pairs, 2), 2);
    json_decref(b);
    json_decref(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capacity_verdicts),
        cmocka_unit_test(test_pairs_same_rate_and_confirmation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_series.c — the one table of exported gauges (report/series.c) that
 * --metrics and --remote-write both read: every row is a valid,
 * distinct Prometheus name with help text, each reads its own field of a
 * second, p99 send lag has no value in a second without arrivals, and a
 * remote-write snapshot holds exactly the table's values in its order.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "report/rw_series.h"
#include "report/series.h"

/* Names match [a-zA-Z_:][a-zA-Z0-9_:]*, start salvo_, differ; help is one non-empty line. */
static void names_and_help(void **state)
{
    (void)state;
    for (size_t i = 0; i < SERIES_NGAUGES; i++) {
        const char *n = SERIES_GAUGES[i].name;
        if (strncmp(n, "salvo_", 6) != 0) fail_msg("gauge %zu: '%s' lacks salvo_", i, n);
        for (const char *c = n; *c; c++)
            if (!(*c == '_' || *c == ':' || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9')))
                fail_msg("gauge '%s': bad character '%c'", n, *c);
        const char *h = SERIES_GAUGES[i].help;
        if (!h || !*h || strchr(h, '\n')) fail_msg("gauge '%s': help must be one non-empty line", n);
        for (size_t j = 0; j < i; j++)
            if (strcmp(n, SERIES_GAUGES[j].name) == 0) fail_msg("gauge '%s' listed twice", n);
        assert_non_null(SERIES_GAUGES[i].value);
    }
    assert_int_equal(RW_NGAUGES, SERIES_NGAUGES);
}

/* Looks a gauge up by name; fails the test when it is missing. */
static const struct series_gauge *gauge(const char *name)
{
    for (size_t i = 0; i < SERIES_NGAUGES; i++)
        if (strcmp(SERIES_GAUGES[i].name, name) == 0) return &SERIES_GAUGES[i];
    fail_msg("no gauge '%s'", name);
    return NULL;
}

/* Each gauge reads its own field, in the unit its name says. */
static void values_from_a_second(void **state)
{
    (void)state;
    struct timeline_row row = {
        .t = 4, .inflight = 3, .conns = 5, .backlog = 7, .lag_max_us = 2500, .lag_p99_us = 1500, .arrivals = 10};
    static const struct {
        const char *name;
        double want;
    } cases[] = {
        {"salvo_inflight", 3},
        {"salvo_connections", 5},
        {"salvo_backlog", 7},
        {"salvo_send_lag_max_seconds", 0.0025},
        {"salvo_send_lag_p99_seconds", 0.0015},
        {"salvo_elapsed_seconds", 5},
        {"salvo_valid", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        double got = gauge(cases[i].name)->value(&row, 0);
        if (fabs(got - cases[i].want) > 1e-12) fail_msg("%s: got %g, want %g", cases[i].name, got, cases[i].want);
    }
    row.arrivals = 0;
    assert_true(isnan(gauge("salvo_send_lag_p99_seconds")->value(&row, 1)));
    assert_true(gauge("salvo_valid")->value(&row, 1) == 1);
}

/* A remote-write snapshot's first RW_NGAUGES values are the table's, row by row. */
static void snapshot_follows_table(void **state)
{
    (void)state;
    struct timeline_row row = {
        .t = 1, .inflight = 11, .conns = 12, .backlog = 13, .lag_max_us = 14, .lag_p99_us = 15, .arrivals = 1};
    struct rw_totals t;
    rw_totals_init(&t);
    struct rw_snap s;
    rw_totals_snap(&t, &row, 1, 1000, &s);
    for (size_t i = 0; i < SERIES_NGAUGES; i++)
        if (s.values[i] != SERIES_GAUGES[i].value(&row, 1))
            fail_msg("snapshot[%zu] = %g, %s = %g", i, s.values[i], SERIES_GAUGES[i].name,
                     SERIES_GAUGES[i].value(&row, 1));
    rw_snap_release(&s);
    rw_totals_release(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names_and_help),
        cmocka_unit_test(values_from_a_second),
        cmocka_unit_test(snapshot_follows_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

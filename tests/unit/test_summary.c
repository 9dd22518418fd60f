/*
 * test_summary.c — tests for src/report/summary.c (the text summary) and
 * src/report/analysis.c (derived figures and the verdict).
 *
 * The summary is rendered from fixture results JSON (result_fixtures.h)
 * into memory and checked line by line: the verdict line first and in its
 * format, colour only when asked, the per-name table, the rows a closed
 * model leaves out, and no crash on a document with keys missing. The
 * verdict is checked against architecture.md's table, precedence
 * included. The analysis is checked on synthetic timelines, runs longer
 * than 4096 s among them (the old baseline kept 4096 seconds only).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/analysis.h"
#include "report/summary.h"
#include "result_fixtures.h"

/* ------------------------------------------------------------ helpers */

/* The summary of r (stolen) as a malloc'd string. */
static char *render(json_t *r, unsigned flags)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    summary_print(f, r, flags);
    fclose(f);
    json_decref(r);
    return text;
}

/* The line of text starting with prefix (a malloc'd copy), or NULL. */
static char *line_with(const char *text, const char *prefix)
{
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        while (*p == ' ')
            p++;
        if (!strncmp(p, prefix, strlen(prefix))) return strndup(p, strcspn(p, "\n"));
    }
    return NULL;
}

static char *first_line(const char *text)
{
    return strndup(text, strcspn(text, "\n"));
}

static int verdict_code(json_t *r)
{
    int code = verdict_of(r).exit_code;
    json_decref(r);
    return code;
}

/* ------------------------------------------------------- the renderer */

/* The verdict line comes first, in the format. */
static void test_verdict_line_first(void **state)
{
    (void)state;
    char *text = render(fixture_result(), 0);
    char *first = first_line(text);
    assert_string_equal(first, "PASS  300/s × 5s  p50 9.8ms  p99 75ms  errors 1.00%  thresholds 2/2");
    free(first);
    free(text);
}

/* A failed threshold makes it FAIL with the count of those that passed. */
static void test_verdict_line_failed_threshold(void **state)
{
    (void)state;
    json_t *r = fixture_result();
    json_object_set_new(json_object_get(json_object_get(r, "thresholds"), "errors.rate < 1%"), "pass", json_false());
    char *text = render(r, 0);
    char *first = first_line(text);
    assert_string_equal(first, "FAIL  300/s × 5s  p50 9.8ms  p99 75ms  errors 1.00%  thresholds 1/2");
    free(first);
    free(text);
}

/* Colour only when asked (the caller decides from isatty and NO_COLOR). */
static void test_colour_only_when_asked(void **state)
{
    (void)state;
    char *plain = render(fixture_result(), 0), *colour = render(fixture_result(), SUMMARY_COLOR);
    assert_null(strchr(plain, '\033'));
    assert_true(!strncmp(colour, "\033[1;32mPASS\033[0m  300/s", strlen("\033[1;32mPASS\033[0m  300/s")));
    free(plain);
    free(colour);
}

/* NO_COLOR set and not empty turns colour off, even on a terminal. */
static void test_no_color_env(void **state)
{
    (void)state;
    FILE *f = fopen("/dev/null", "w");
    assert_non_null(f);
    setenv("NO_COLOR", "1", 1);
    assert_int_equal(summary_color_flags(f), 0); /* not a terminal, and NO_COLOR */
    unsetenv("NO_COLOR");
    assert_int_equal(summary_color_flags(f), 0); /* not a terminal */
    fclose(f);
}

/* An interrupted run shows the seconds it ran of the planned ones, and INTERRUPTED. */
static void test_verdict_line_interrupted(void **state)
{
    (void)state;
    json_t *r = fixture_result();
    json_object_set_new(r, "interrupted", json_true());
    json_object_set_new(r, "duration_s", json_real(2.04));
    char *text = render(r, 0);
    char *first = first_line(text);
    assert_string_equal(first, "INTERRUPTED  300/s × 2.0s of 5s  p50 9.8ms  p99 75ms  errors 1.00%  thresholds 2/2");
    free(first);
    free(text);
}

/* One row per name: requests, error share, p50, p99 and the top status with its share. */
static void test_per_name_table(void **state)
{
    (void)state;
    char *text = render(fixture_result(), 0);
    char *head = line_with(text, "name "), *a = line_with(text, "GET /a"), *b = line_with(text, "GET /b");
    assert_non_null(head);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(strstr(head, "requests"));
    assert_non_null(strstr(head, "top status"));
    char want_a[128], want_b[128];
    snprintf(want_a, sizeof want_a, "%-6s %10d %7.2f%% %10s %10s  %s", "GET /a", 1000, 1.0, "9.00ms", "50.00ms",
             "200 (99%)");
    snprintf(want_b, sizeof want_b, "%-6s %10d %7.2f%% %10s %10s  %s", "GET /b", 500, 1.0, "12.00ms", "90.00ms",
             "200 (100%)");
    assert_string_equal(a, want_a);
    assert_string_equal(b, want_b);
    free(head);
    free(a);
    free(b);
    free(text);
}

/* Outcomes add up and carry the error share; bytes in and out are shown. */
static void test_outcomes_and_bytes(void **state)
{
    (void)state;
    char *text = render(fixture_result(), 0);
    char *req = line_with(text, "requests "), *bytes = line_with(text, "bytes ");
    assert_string_equal(req, "requests    1500 scheduled = 1485 ok + 10 http_error + 0 failed + 5 timeout + 0 unsent; "
                             "errors 1.00%");
    assert_string_equal(bytes, "bytes       in 1.23 MB, out 98.8 kB");
    free(req);
    free(bytes);
    free(text);
}

/* The closed model drops the rows that repeat latency or are zero. */
static void test_closed_model_rows(void **state)
{
    (void)state;
    json_t *r = fixture_result();
    json_object_set_new(r, "model", json_string("closed"));
    char *text = render(r, 0);
    char *lat = line_with(text, "latency*"), *svc = line_with(text, "service time"), *wait = line_with(text, "wait ");
    char *lag = line_with(text, "send lag"), *ttfb = line_with(text, "ttfb");
    assert_non_null(lat);
    assert_non_null(ttfb);
    assert_null(svc);
    assert_null(wait);
    assert_null(lag);
    assert_non_null(strstr(text, "coordinated omission"));
    char *first = first_line(text);
    assert_string_equal(first, "PASS  closed 64 conns × 5s  p50 9.8ms  p99 75ms  errors 1.00%  thresholds 2/2");
    free(first);
    free(lat);
    free(ttfb);
    free(text);
}

/* Hints and invalid reasons come from the JSON, as written there. */
static void test_hints_and_reasons_from_json(void **state)
{
    (void)state;
    json_t *r = fixture_result();
    json_array_append_new(json_object_get(r, "hints"), json_string("some hint"));
    json_object_set_new(r, "valid", json_false());
    json_array_append_new(json_object_get(r, "invalid_reasons"), json_string("generator fell behind"));
    char *text = render(r, 0);
    char *hint = line_with(text, "hint "), *verdict = line_with(text, "verdict ");
    assert_string_equal(hint, "hint        some hint");
    assert_string_equal(verdict, "verdict     INVALID: generator fell behind");
    assert_true(!strncmp(text, "INVALID  ", 9));
    free(hint);
    free(verdict);
    free(text);
}

/* Missing and mistyped keys print as n/a or not at all: never a crash. */
static void test_missing_keys(void **state)
{
    (void)state;
    char *text = render(json_object(), 0);
    assert_true(!strncmp(text, "PASS  0/s × 0s  p50 -  p99 -  errors 0.00%\n", 43));
    free(text);
    json_t *r = fixture_result();
    json_object_set_new(r, "latency_us", json_string("nonsense"));
    json_object_set_new(r, "groups", json_array());
    json_object_set_new(r, "requests", json_null());
    json_object_set_new(json_object_get(r, "service_time_us"), "p50", json_null()); /* a merge without histograms */
    text = render(r, 0);
    char *svc = line_with(text, "service time");
    assert_non_null(strstr(svc, "n/a"));
    free(svc);
    free(text);
}

/* -------------------------------------------------------- the verdict */

/* architecture.md's table, with its precedence. */
static void test_verdict_table(void **state)
{
    (void)state;
    assert_int_equal(verdict_code(fixture_result()), 0);
    json_t *r = fixture_result();
    json_object_set_new(json_object_get(json_object_get(r, "thresholds"), "errors.rate < 1%"), "pass", json_false());
    assert_int_equal(verdict_code(r), 99);
    r = fixture_result();
    json_object_set_new(r, "valid", json_false());
    json_object_set_new(json_object_get(json_object_get(r, "thresholds"), "errors.rate < 1%"), "pass", json_false());
    assert_int_equal(verdict_code(r), 98); /* INVALID before FAIL */
    r = fixture_result();
    json_object_set_new(r, "valid", json_false());
    json_object_set_new(json_object_get(r, "config"), "allow_invalid", json_true());
    assert_int_equal(verdict_code(r), 0);
    r = fixture_result();
    json_object_set_new(r, "valid", json_false());
    json_object_set_new(r, "requests",
                        json_pack("{s:i,s:i,s:i,s:i}", "scheduled", 10, "ok", 0, "http_error", 0, "failed", 10));
    assert_int_equal(verdict_code(r), 1); /* no response at all: ERROR before INVALID */
    r = fixture_result();
    json_object_set_new(r, "requests", json_pack("{s:i,s:i,s:i}", "scheduled", 10, "ok", 0, "http_error", 10));
    assert_int_equal(verdict_code(r), 0); /* all 503: responses, judged by thresholds */
    r = fixture_result();
    json_object_set_new(r, "runtime_error", json_string("cannot resolve 'x'"));
    assert_int_equal(verdict_code(r), 1);
    r = fixture_result();
    json_object_set_new(r, "interrupted", json_true());
    json_object_set_new(r, "valid", json_false());
    assert_int_equal(verdict_code(r), 130); /* INTERRUPTED first */
    r = fixture_result();
    json_object_set_new(r, "interrupted", json_true());
    json_object_set_new(r, "interrupted_by", json_string("SIGTERM"));
    assert_int_equal(verdict_code(r), 143);
    assert_string_equal(verdict_word(0), "PASS");
    assert_string_equal(verdict_word(1), "ERROR");
    assert_string_equal(verdict_word(98), "INVALID");
    assert_string_equal(verdict_word(99), "FAIL");
    assert_string_equal(verdict_word(143), "INTERRUPTED");
}

/* ------------------------------------------------------- the analysis */

/* A timeline of n seconds: p99 slow_us for the first nslow, fast_us after; 100 responses each. */
static struct timeline_row *timeline(size_t n, size_t nslow, int64_t slow_us, int64_t fast_us)
{
    struct timeline_row *rows = calloc(n, sizeof(*rows));
    assert_non_null(rows);
    for (size_t i = 0; i < n; i++)
        rows[i] =
            (struct timeline_row){.t = (uint32_t)i, .sent = 100, .done = 100, .p99_us = i < nslow ? slow_us : fast_us};
    return rows;
}

/*
 * A window at 10 000 s: the baseline is the median of all 10 000 seconds
 * before it (4 096 slow ones, then 5 904 fast: median fast). Keeping only
 * the first 4096 seconds, as json.c did, gives the slow figure.
 */
static void test_baseline_beyond_4096_seconds(void **state)
{
    (void)state;
    size_t n = 10030;
    struct timeline_row *rows = timeline(n, 4096, 50000, 1000);
    for (size_t i = 10000; i < 10010; i++)
        rows[i].p99_us = 900000, rows[i].errors = 50; /* the fault */
    double spans[1][2] = {{10000, 10010}};
    struct window_figures f = analysis_window(rows, n, (const double(*)[2])spans, 1, 0);
    assert_true(f.has_baseline);
    assert_true(f.baseline_p99_us == 1000);
    assert_true(f.baseline_error_share == 0);
    assert_true(f.recovered);
    assert_true(f.recovery_s == 0); /* second 10010 is back at once */
    free(rows);
}

/* Recovery waits for latency and errors; earlier windows are not part of the baseline. */
static void test_recovery_and_earlier_windows(void **state)
{
    (void)state;
    size_t n = 60;
    struct timeline_row *rows = timeline(n, 0, 0, 2000);
    for (size_t i = 10; i < 20; i++)
        rows[i].p99_us = 800000; /* an earlier window, slow */
    for (size_t i = 30; i < 40; i++)
        rows[i].p99_us = 500000; /* the window */
    for (size_t i = 40; i < 43; i++)
        rows[i].p99_us = 9000; /* still above 2x + 1 ms */
    rows[43].errors = 30;      /* fast but failing: not back */
    double spans[2][2] = {{10, 20}, {30, 40}};
    struct window_figures f = analysis_window(rows, n, (const double(*)[2])spans, 2, 1);
    assert_true(f.has_baseline);
    assert_true(f.baseline_p99_us == 2000); /* the slow earlier window left out */
    assert_true(f.recovered);
    assert_true(f.recovery_s == 4); /* second 44 is the first back */
    rows[59].p99_us = 1;
    for (size_t i = 40; i < n; i++)
        rows[i].errors = 100; /* never back */
    f = analysis_window(rows, n, (const double(*)[2])spans, 2, 1);
    assert_false(f.recovered);
    f = analysis_window(rows, n, (const double(*)[2])spans, 2, 0);
    assert_true(f.has_baseline);
    free(rows);
    double first[1][2] = {{0, 5}};
    rows = timeline(10, 0, 0, 1000);
    f = analysis_window(rows, 10, (const double(*)[2])first, 1, 0);
    assert_false(f.has_baseline); /* nothing before it */
    assert_false(f.recovered);
    free(rows);
}

/* run_analyse writes the hints once; the closed-model hint is there, the cache hint needs responses. */
static void test_run_analyse_hints(void **state)
{
    (void)state;
    struct run_config cfg = {.closed = true, .rate = 0};
    struct run_result r;
    memset(&r, 0, sizeof r);
    run_analyse(&cfg, &r);
    assert_int_equal(r.nhints, 1);
    assert_non_null(strstr(r.hints[0], "closed loop"));
    run_analyse(&cfg, &r); /* idempotent */
    assert_int_equal(r.nhints, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verdict_line_first),
        cmocka_unit_test(test_verdict_line_failed_threshold),
        cmocka_unit_test(test_colour_only_when_asked),
        cmocka_unit_test(test_no_color_env),
        cmocka_unit_test(test_verdict_line_interrupted),
        cmocka_unit_test(test_per_name_table),
        cmocka_unit_test(test_outcomes_and_bytes),
        cmocka_unit_test(test_closed_model_rows),
        cmocka_unit_test(test_hints_and_reasons_from_json),
        cmocka_unit_test(test_missing_keys),
        cmocka_unit_test(test_verdict_table),
        cmocka_unit_test(test_baseline_beyond_4096_seconds),
        cmocka_unit_test(test_recovery_and_earlier_windows),
        cmocka_unit_test(test_run_analyse_hints),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

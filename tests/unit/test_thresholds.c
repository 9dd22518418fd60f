/*
 * test_thresholds.c — threshold grammar and evaluation on a results JSON:
 * units must fit the metric, a per-name rate is the name's own, and a
 * figure that timed-out requests make only a lower bound cannot pass `<`.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/hist.h"
#include "core/hist_codec.h"
#include "report/thresholds.h"
#include "result_fixtures.h"

static const char result_text[] =
    "{\"requests\":{\"scheduled\":1000,\"ok\":990,\"http_error\":4,\"failed\":3,\"timeout\":3,\"unsent\":0},"
    "\"rate\":{\"intended\":100,\"achieved\":99.5},\"duration_s\":10,"
    "\"latency_us\":{\"min\":10,\"mean\":300,\"p50\":200,\"p90\":500,\"p99\":900,\"p99_9\":2000,\"p99_99\":3000,"
    "\"max\":4000,\"count\":1000,\"timeout_us\":10000000,\"lower_bounds\":true},"
    "\"service_time_us\":{\"min\":5,\"mean\":100,\"p50\":90,\"p90\":150,\"p99\":300,\"p99_9\":400,\"p99_99\":500,"
    "\"max\":600,\"count\":1000},"
    "\"connect_us\":{\"count\":0},"
    "\"groups\":{\"route\":{\"requests\":1000,\"ok\":990,\"http_error\":4,\"failed\":3,\"timeout\":3,"
    "\"latency_us\":{\"p50\":200,\"p99\":900,\"count\":1000}},"
    "\"small\":{\"requests\":200,\"ok\":200,\"latency_us\":{\"p50\":200,\"count\":200}}}}";

struct row {
    const char *expr;
    int parses;      /* 1: parses */
    int passes;      /* 1: passes, 0: fails (no data or false) */
    double observed; /* NAN: no data */
};

static const struct row rows[] = {
    {"latency.p99 < 1ms", 1, 1, 900},
    {"latency.p99 < 900us", 1, 0, 900},
    {"latency.p99 <= 900us", 1, 1, 900},
    {"latency.p(99) < 0.5s", 1, 1, 900},
    {"latency.med == 200us", 1, 1, 200},
    {"latency.avg > 299us", 1, 1, 300},
    {"latency.max < 4s", 1, 1, 4000},
    /* 3 timed-out requests are missing from service_time: its p99.9 may be one of them */
    {"service_time.p99.9 < 1ms", 1, 0, 400},
    {"service_time.p99.9 > 100us", 1, 1, 400},
    {"service_time.min < 1ms", 1, 1, 5},
    {"errors.rate < 1.5%", 1, 1, 0.01},
    {"errors.rate < 1%", 1, 0, 0.01},
    {"errors.rate < 0.5%", 1, 0, 0.01},
    {"errors.count <= 10", 1, 1, 10},
    {"rate.achieved >= 99%", 1, 1, 0.995},
    {"rate.achieved >= 100/s", 1, 0, 99.5},
    {"requests.count == 1000", 1, 1, 1000},
    {"requests.rate > 90/s", 1, 1, 99.5},
    /* a name's rate is its own requests over the run's duration, not the run's rate */
    {"requests{name=small}.rate < 30/s", 1, 1, 20},
    {"requests{name=small}.rate >= 20", 1, 1, 20},
    {"errors.rate < 0.015", 1, 1, 0.01},
    {"rate.intended == 100/s", 1, 1, 100},
    {"latency{name=route}.p99 < 1s", 1, 1, 900},
    {"errors{name=route}.rate < 2%", 1, 1, 0.01},
    {"latency{name=missing}.p99 < 1s", 1, 0, NAN},
    {"connect.p99 < 1s", 1, 0, NAN},
    {"latency.p99", 0, 0, 0},
    {"latency < 1s", 0, 0, 0},
    {"bogus.p99 < 1s", 0, 0, 0},
    {"latency.p99 < 1 parsec", 0, 0, 0},
    {"errors.p99 < 1", 0, 0, 0},
    {"latency.p101 < 1s", 0, 0, 0},
    {"latency{nam=x}.p99 < 1s", 0, 0, 0},
    {"latency.p99 < abc", 0, 0, 0},
    /* units that do not fit the metric */
    {"latency.p99 < 10%", 0, 0, 0},
    {"latency.p99 < 5/s", 0, 0, 0},
    {"latency.count > 5ms", 0, 0, 0},
    {"errors.rate < 1/s", 0, 0, 0},
    {"errors.rate < 1ms", 0, 0, 0},
    {"errors.count < 1%", 0, 0, 0},
    {"requests.count > 50%", 0, 0, 0},
    {"requests.count > 50/s", 0, 0, 0},
    {"requests.rate > 50%", 0, 0, 0},
    {"rate.intended >= 50%", 0, 0, 0},
    {"rate.achieved >= 1s", 0, 0, 0},
    /* a bare number is no duration (k6 would read ms, salvo's figures are µs) */
    {"latency.p99 < 250", 0, 0, 0},
    {"service_time.p(99) <= 1e3", 0, 0, 0},
    {"latency.count > 5", 1, 1, 1000},
    /* a share of the requests lies between 0 and 100 % */
    {"errors.rate < 150%", 0, 0, 0},
    {"errors.rate < -1%", 0, 0, 0},
    {"errors.rate < 1.5", 0, 0, 0},
    {"errors.rate <= 100%", 1, 1, 0.01},
};

static void test_table(void **state)
{
    (void)state;
    json_t *result = json_loads(result_text, 0, NULL);
    assert_non_null(result);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct threshold t;
        const char *why = NULL;
        int rc = threshold_parse(&t, rows[i].expr, &why);
        if (!rows[i].parses) {
            if (rc == 0) fail_msg("'%s' should not parse", rows[i].expr);
            assert_non_null(why);
            continue;
        }
        if (rc != 0) fail_msg("'%s' should parse: %s", rows[i].expr, why);
        double observed;
        bool pass = threshold_judge(&t, result, &observed, NULL, 0);
        if (pass != (rows[i].passes == 1)) fail_msg("'%s': pass=%d observed=%g", rows[i].expr, pass, observed);
        if (isnan(rows[i].observed))
            assert_true(isnan(observed));
        else
            assert_true(fabs(observed - rows[i].observed) < 1e-9);
    }
    json_decref(result);
}

static void test_apply_counts_failures(void **state)
{
    (void)state;
    json_t *result = json_loads(result_text, 0, NULL);
    struct threshold t[3];
    const char *why;
    assert_int_equal(threshold_parse(&t[0], "latency.p99 < 1ms", &why), 0);
    assert_int_equal(threshold_parse(&t[1], "latency{name=nope}.p50 < 1ms", &why), 0);
    assert_int_equal(threshold_parse(&t[2], "errors.rate < 0.1%", &why), 0);
    assert_int_equal(thresholds_apply(t, 3, result), 2);
    json_t *th = json_object_get(result, "thresholds");
    assert_true(json_is_true(json_object_get(json_object_get(th, "latency.p99 < 1ms"), "pass")));
    assert_true(json_is_null(json_object_get(json_object_get(th, "latency{name=nope}.p50 < 1ms"), "observed")));
    json_decref(result);
}

/* A refused unit is named in the reason, with the units that fit. */
static void test_unit_reason_names_the_unit(void **state)
{
    (void)state;
    struct threshold t;
    const char *why = NULL;
    assert_int_equal(threshold_parse(&t, "latency.p99 < 10%", &why), -EINVAL);
    assert_non_null(strstr(why, "'%'"));
    assert_non_null(strstr(why, "latency.p99"));
    assert_int_equal(threshold_parse(&t, "errors.rate < 1/s", &why), -EINVAL);
    assert_non_null(strstr(why, "'/s'"));
    assert_int_equal(threshold_parse(&t, "rate.achieved >= 99%", &why), 0);
    assert_true(t.percent_of_intended);
    assert_true(fabs(t.limit - 0.99) < 1e-12);
}

/* A bare latency limit is refused with the unit to add; a share over 100 % names itself. */
static void test_bare_duration_hint(void **state)
{
    (void)state;
    struct threshold t;
    const char *why = NULL;
    assert_int_equal(threshold_parse(&t, "latency.p99 < 250", &why), -EINVAL);
    assert_non_null(strstr(why, "250ms"));
    assert_int_equal(threshold_parse(&t, "errors.rate < 150%", &why), -EINVAL);
    assert_non_null(strstr(why, "150%"));
}

/* The printed line gives observed value and limit with their units. */
static void test_print_shows_units(void **state)
{
    (void)state;
    json_t *result = json_loads(result_text, 0, NULL);
    struct threshold t[3];
    const char *why;
    assert_int_equal(threshold_parse(&t[0], "latency.p99 < 1ms", &why), 0);
    assert_int_equal(threshold_parse(&t[1], "errors.rate < 0.05%", &why), 0);
    assert_int_equal(threshold_parse(&t[2], "requests.rate > 90/s", &why), 0);
    thresholds_apply(t, 3, result);
    char text[1024] = "";
    FILE *f = fmemopen(text, sizeof(text) - 1, "w");
    assert_non_null(f);
    thresholds_print(f, result);
    fclose(f);
    assert_non_null(strstr(text, "limit 1.00ms"));
    assert_non_null(strstr(text, "limit 0.05%"));
    assert_non_null(strstr(text, "observed 99.5/s, limit 90/s"));
    json_decref(result);
}

/* ------------------------------------------------ timed-out requests */

#define TIMEOUT_US 500000

/*
 * A run like the acceptance tester's frozen server: of 1000 requests 700
 * answered in about 10 ms (TTFB 5 ms) and 300 timed out at 500 ms, recorded
 * in latency at the timeout and missing from TTFB; all under one name.
 */
static json_t *timed_out_run(void)
{
    struct hist lat, ttfb;
    assert_int_equal(hist_init(&lat, HIST_STD_LOWEST, HIST_STD_HIGHEST, HIST_STD_SIGFIG), 0);
    assert_int_equal(hist_init(&ttfb, HIST_STD_LOWEST, HIST_STD_HIGHEST, HIST_STD_SIGFIG), 0);
    for (int i = 0; i < 700; i++) {
        hist_record(&lat, 10000 + i);
        hist_record(&ttfb, 5000 + i);
    }
    hist_record_n(&lat, TIMEOUT_US, 300);
    json_t *l = percentiles(&lat);
    json_object_set_new(l, "timeout_us", json_integer(TIMEOUT_US));
    json_object_set_new(l, "lower_bounds", json_true());
    json_t *g = json_pack("{s:i,s:i,s:i,s:i,s:i,s:o,s:o}", "requests", 1000, "ok", 700, "http_error", 0, "failed", 0,
                          "timeout", 300, "latency_us", percentiles(&lat), "hdr_latency_us", b64(&lat));
    json_t *r =
        json_pack("{s:{s:i,s:i,s:i,s:i,s:i},s:f,s:o,s:o,s:{s:o,s:o},s:{s:o}}", "requests", "scheduled", 1000, "ok", 700,
                  "http_error", 0, "failed", 0, "timeout", 300, "duration_s", 5.0, "latency_us", l, "ttfb_us",
                  percentiles(&ttfb), "hdr", "latency_us", b64(&lat), "ttfb_us", b64(&ttfb), "groups", "slow", g);
    hist_release(&lat);
    hist_release(&ttfb);
    return r;
}

/* Judges expr on result; fails unless it passes as want. Returns the note. */
static const char *judge(json_t *result, const char *expr, bool want, char *note, size_t cap)
{
    struct threshold t;
    const char *why;
    if (threshold_parse(&t, expr, &why) != 0) fail_msg("'%s' should parse: %s", expr, why);
    double observed;
    bool pass = threshold_judge(&t, result, &observed, note, cap);
    if (pass != want) fail_msg("'%s': pass=%d observed=%g note '%s'", expr, pass, observed, note);
    return note;
}

/* A percentile at or above the timeout is a lower bound: `<` fails, `>` may pass. */
static void test_timed_out_latency_is_a_lower_bound(void **state)
{
    (void)state;
    json_t *r = timed_out_run();
    char note[256];
    judge(r, "latency.p99 < 1s", false, note, sizeof(note));
    assert_non_null(strstr(note, "p99 >= "));
    assert_non_null(strstr(note, "timed out"));
    assert_non_null(strstr(note, "may exceed 1.000s"));
    judge(r, "latency.max < 2s", false, note, sizeof(note));
    judge(r, "latency.p99.9 <= 10s", false, note, sizeof(note));
    judge(r, "latency.mean < 1s", false, note, sizeof(note)); /* counts the timeouts at 500 ms */
    judge(r, "latency.p99 == 500223us", false, note, sizeof(note));
    judge(r, "latency.p99 > 100ms", true, note, sizeof(note));
    judge(r, "latency.max >= 500ms", true, note, sizeof(note));
    judge(r, "latency.p50 < 1s", true, note, sizeof(note)); /* 10 ms: below the timeout, exact */
    assert_string_equal(note, "");
    judge(r, "latency.count == 1000", true, note, sizeof(note));
    /* one name: the group's own timeouts censor its latency */
    judge(r, "latency{name=slow}.p99 < 1s", false, note, sizeof(note));
    assert_non_null(strstr(note, "timed out"));
    judge(r, "latency{name=slow}.p50 < 1s", true, note, sizeof(note));
    judge(r, "latency{name=slow}.p99 > 100ms", true, note, sizeof(note));
    /* the same figures without timeouts are exact */
    json_object_set_new(json_object_get(r, "latency_us"), "lower_bounds", json_false());
    json_object_set_new(json_object_get(r, "requests"), "timeout", json_integer(0));
    judge(r, "latency.p99 < 1s", true, note, sizeof(note));
    json_decref(r);
}

/* Timed-out requests are missing from TTFB: a percentile is judged at its rank among all requests. */
static void test_timed_out_requests_missing_from_ttfb(void **state)
{
    (void)state;
    json_t *r = timed_out_run();
    char note[256];
    struct threshold t;
    const char *why;
    double observed;
    /* p50 of 1000 requests is at most p71.4 of the 700 responses: 5 ms + 500 µs */
    assert_int_equal(threshold_parse(&t, "ttfb.p50 < 1s", &why), 0);
    assert_true(threshold_judge(&t, r, &observed, note, sizeof(note)));
    assert_true(observed > 5400 && observed < 5600);
    assert_non_null(strstr(note, "p71.43"));
    /* p99 of all may be a request that never got a first byte */
    judge(r, "ttfb.p99 < 1s", false, note, sizeof(note));
    assert_non_null(strstr(note, "300 requests timed out with no ttfb"));
    judge(r, "ttfb.max < 1s", false, note, sizeof(note));
    judge(r, "ttfb.mean < 1s", false, note, sizeof(note));
    judge(r, "ttfb.min < 1s", true, note, sizeof(note));
    judge(r, "ttfb.p99 > 1ms", true, note, sizeof(note));
    json_decref(r);
}

/* thresholds_apply keeps the entry's shape and adds the note. */
static void test_apply_notes_the_censoring(void **state)
{
    (void)state;
    json_t *r = timed_out_run();
    struct threshold t[2];
    const char *why;
    assert_int_equal(threshold_parse(&t[0], "latency.p99 < 1s", &why), 0);
    assert_int_equal(threshold_parse(&t[1], "latency.p99 > 100ms", &why), 0);
    assert_int_equal(thresholds_apply(t, 2, r), 1);
    json_t *e = json_object_get(json_object_get(r, "thresholds"), "latency.p99 < 1s");
    assert_true(json_is_false(json_object_get(e, "pass")));
    assert_true(json_number_value(json_object_get(e, "observed")) >= TIMEOUT_US);
    assert_true(json_number_value(json_object_get(e, "limit")) == 1e6);
    assert_string_equal(json_string_value(json_object_get(e, "unit")), "us");
    assert_non_null(strstr(json_string_value(json_object_get(e, "note")), "may exceed"));
    json_decref(r);
}

/* checks.rate is passed / all evaluations; {name=} picks one check; check_failed is an error. */
static void test_checks_rate(void **state)
{
    (void)state;
    json_t *r = json_loads("{\"requests\": {\"scheduled\": 100, \"ok\": 90, \"check_failed\": 10},"
                           " \"checks\": {\"a\": {\"pass\": 90, \"fail\": 10}, \"b\": {\"pass\": 100, \"fail\": 0}}}",
                           0, NULL);
    assert_non_null(r);
    static const struct {
        const char *text;
        double observed;
        bool pass;
    } cases[] = {
        {"checks.rate > 94%", 0.95, true},        {"checks.rate > 99%", 0.95, false},
        {"checks{name=a}.rate > 89%", 0.9, true}, {"checks{name=b}.rate >= 100%", 1.0, true},
        {"errors.rate < 5%", 0.1, false},         {"errors.count == 10", 10, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct threshold t;
        const char *why;
        assert_int_equal(threshold_parse(&t, cases[i].text, &why), 0);
        double observed;
        bool pass = threshold_judge(&t, r, &observed, NULL, 0);
        if (pass != cases[i].pass || fabs(observed - cases[i].observed) > 1e-9)
            fail_msg("%s: pass %d observed %g", cases[i].text, pass, observed);
    }
    /* No such check, or no checks at all: no data, the gate fails. */
    struct threshold t;
    const char *why;
    double observed;
    assert_int_equal(threshold_parse(&t, "checks{name=zzz}.rate > 0%", &why), 0);
    assert_false(threshold_judge(&t, r, &observed, NULL, 0));
    assert_true(isnan(observed));
    assert_int_not_equal(threshold_parse(&t, "checks.rate < 150%", &why), 0);
    assert_int_not_equal(threshold_parse(&t, "checks.p99 < 1ms", &why), 0);
    json_decref(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_apply_counts_failures),
        cmocka_unit_test(test_unit_reason_names_the_unit),
        cmocka_unit_test(test_bare_duration_hint),
        cmocka_unit_test(test_print_shows_units),
        cmocka_unit_test(test_timed_out_latency_is_a_lower_bound),
        cmocka_unit_test(test_timed_out_requests_missing_from_ttfb),
        cmocka_unit_test(test_apply_notes_the_censoring),
        cmocka_unit_test(test_checks_rate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

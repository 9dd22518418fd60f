/*
 * test_thresholds.c — threshold grammar and evaluation on a results JSON.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <string.h>

#include "report/thresholds.h"

static const char result_text[] =
    "{\"requests\":{\"scheduled\":1000,\"ok\":990,\"http_error\":4,\"failed\":3,\"timeout\":3,\"unsent\":0},"
    "\"rate\":{\"intended\":100,\"achieved\":99.5},"
    "\"latency_us\":{\"min\":10,\"mean\":300,\"p50\":200,\"p90\":500,\"p99\":900,\"p99_9\":2000,\"p99_99\":3000,"
    "\"max\":4000,\"count\":1000},"
    "\"service_time_us\":{\"min\":5,\"mean\":100,\"p50\":90,\"p90\":150,\"p99\":300,\"p99_9\":400,\"p99_99\":500,"
    "\"max\":600,\"count\":1000},"
    "\"connect_us\":{\"count\":0},"
    "\"groups\":{\"route\":{\"requests\":1000,\"ok\":990,\"http_error\":4,\"failed\":3,\"timeout\":3,"
    "\"latency_us\":{\"p50\":200,\"p99\":900,\"count\":1000}}}}";

struct row {
    const char *expr;
    int parses;  /* 1: parses */
    int passes;  /* 1: passes, 0: fails (no data or false) */
    double observed; /* NAN: no data */
};

static const struct row rows[] = {
    {"latency.p99 < 1ms", 1, 1, 900},
    {"latency.p99 < 900us", 1, 0, 900},
    {"latency.p99 <= 900us", 1, 1, 900},
    {"latency.p(99) < 0.5s", 1, 1, 900},
    {"latency.med == 200", 1, 1, 200},
    {"latency.avg > 299", 1, 1, 300},
    {"latency.max < 4s", 1, 1, 4000},
    {"service_time.p99.9 < 1ms", 1, 1, 400},
    {"errors.rate < 1.5%", 1, 1, 0.01},
    {"errors.rate < 1%", 1, 0, 0.01},
    {"errors.rate < 0.5%", 1, 0, 0.01},
    {"errors.count <= 10", 1, 1, 10},
    {"rate.achieved >= 99%", 1, 1, 0.995},
    {"rate.achieved >= 100/s", 1, 0, 99.5},
    {"requests.count == 1000", 1, 1, 1000},
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
        bool pass = threshold_eval(&t, result, &observed);
        if (pass != (rows[i].passes == 1)) fail_msg("'%s': pass=%d observed=%g", rows[i].expr, pass, observed);
        if (isnan(rows[i].observed)) assert_true(isnan(observed));
        else assert_true(fabs(observed - rows[i].observed) < 1e-9);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_apply_counts_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * result_fixtures.h — pieces of a results JSON built from histograms, as
 * `salvo run` writes them, for the unit tests of code that reads results
 * (thresholds, merge, the summary). Include after <cmocka.h> and <jansson.h>.
 */
#ifndef SALVO_TEST_RESULT_FIXTURES_H
#define SALVO_TEST_RESULT_FIXTURES_H

#include <stdlib.h>

#include "core/hist.h"
#include "core/hist_codec.h"

/* {min, mean, p50, ..., count} of h, as a run writes it. */
static inline json_t *percentiles(const struct hist *h)
{
    return json_pack("{s:I,s:f,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "min", (json_int_t)hist_min(h), "mean",
                     h->total_count ? hist_mean(h) : 0.0, "p50", (json_int_t)hist_value_at_percentile(h, 50), "p90",
                     (json_int_t)hist_value_at_percentile(h, 90), "p99", (json_int_t)hist_value_at_percentile(h, 99),
                     "p99_9", (json_int_t)hist_value_at_percentile(h, 99.9), "p99_99",
                     (json_int_t)hist_value_at_percentile(h, 99.99), "max", (json_int_t)hist_max(h), "count",
                     (json_int_t)h->total_count);
}

/* h as the base64 HdrHistogram a run embeds under "hdr". */
static inline json_t *b64(const struct hist *h)
{
    char *s = hist_encode_base64(h);
    assert_non_null(s);
    json_t *v = json_string(s);
    free(s);
    return v;
}

/* A trend with chosen figures: p90 between p50 and p99, the tail at p99. */
static inline json_t *fixture_trend(json_int_t p50, json_int_t p99, json_int_t count)
{
    return json_pack("{s:I,s:f,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "min", p50 / 2, "mean", (double)p50 * 1.2, "p50", p50,
                     "p90", (p50 + p99) / 2, "p99", p99, "p99_9", p99, "p99_99", p99, "max", p99, "count", count);
}

/*
 * A whole open-model result as `salvo run -r 300 -d 5s` writes it: 1500
 * requests of two names ("GET /a" 1000 with 10 http_error, "GET /b" 500
 * with 5 timeouts), latency p50 9.8 ms and p99 75 ms, two thresholds that
 * passed, valid. Tests change what they need.
 */
static inline json_t *fixture_result(void)
{
    json_t *r = json_object();
    json_object_set_new(r, "tool", json_string("salvo"));
    json_object_set_new(r, "run_id", json_string("0123456789abcdef"));
    json_object_set_new(r, "config",
                        json_pack("{s:s,s:s,s:f,s:s,s:f,s:f,s:i,s:i,s:i,s:i,s:[],s:f,s:b}", "url", "http://127.0.0.1/",
                                  "method", "GET", "rate", 300.0, "arrival", "constant", "duration_s", 5.0, "timeout_s",
                                  10.0, "connections", 64, "threads", 1, "shard", 0, "shards", 1, "stages",
                                  "start_rate", 0.0, "allow_invalid", 0));
    json_object_set_new(r, "model", json_string("open"));
    json_object_set_new(r, "valid", json_true());
    json_object_set_new(r, "invalid_reasons", json_array());
    json_object_set_new(r, "interrupted", json_false());
    json_object_set_new(r, "duration_s", json_real(5.0));
    json_object_set_new(r, "rate", json_pack("{s:f,s:f,s:i}", "intended", 300.0, "achieved", 300.0, "sent", 1500));
    json_object_set_new(r, "requests",
                        json_pack("{s:i,s:i,s:i,s:i,s:i,s:i}", "scheduled", 1500, "ok", 1485, "http_error", 10,
                                  "failed", 0, "timeout", 5, "unsent", 0));
    json_object_set_new(r, "bytes", json_pack("{s:i,s:i}", "in", 1234567, "out", 98765));
    json_t *lat = fixture_trend(9800, 75000, 1500);
    json_object_set_new(lat, "timeout_us", json_integer(10000000));
    json_object_set_new(lat, "lower_bounds", json_true());
    json_object_set_new(r, "latency_us", lat);
    json_object_set_new(r, "service_time_us", fixture_trend(9000, 70000, 1500));
    json_object_set_new(r, "wait_us", fixture_trend(50, 900, 1500));
    json_object_set_new(r, "ttfb_us", fixture_trend(8000, 60000, 1500));
    json_object_set_new(r, "connect_us", fixture_trend(100, 300, 64));
    json_object_set_new(r, "status", json_pack("{s:i,s:i}", "200", 1485, "503", 10));
    json_object_set_new(r, "errors", json_pack("{s:i}", "timeout", 5));
    json_object_set_new(r, "first_error", json_string(""));
    json_t *a =
        json_pack("{s:i,s:i,s:i,s:i,s:i,s:o,s:{s:i,s:i}}", "requests", 1000, "ok", 990, "http_error", 10, "failed", 0,
                  "timeout", 0, "latency_us", fixture_trend(9000, 50000, 1000), "status", "200", 990, "503", 10);
    json_t *b = json_pack("{s:i,s:i,s:i,s:i,s:i,s:o,s:{s:i}}", "requests", 500, "ok", 495, "http_error", 0, "failed", 0,
                          "timeout", 5, "latency_us", fixture_trend(12000, 90000, 500), "status", "200", 495);
    json_object_set_new(r, "groups", json_pack("{s:o,s:o}", "GET /a", a, "GET /b", b));
    json_object_set_new(r, "pool", json_pack("{s:i,s:i}", "opened", 8, "closed", 8));
    json_object_set_new(r, "generator",
                        json_pack("{s:f,s:f,s:i,s:o,s:n}", "cpu_pct", 3.0, "cpu_pct_max_thread", 3.0, "max_rss_kb",
                                  8000, "send_lag_us", fixture_trend(40, 80, 1500), "machine_cpu"));
    json_object_set_new(r, "kernel", json_pack("{s:i}", "TcpExt.ListenOverflows", 0));
    json_object_set_new(r, "hints", json_array());
    json_object_set_new(r, "thresholds",
                        json_pack("{s:{s:b,s:f,s:s},s:{s:b,s:f,s:s}}", "latency.p99 < 100ms", "pass", 1, "observed",
                                  75000.0, "unit", "us", "errors.rate < 1%", "pass", 1, "observed", 0.01, "unit",
                                  "ratio"));
    json_object_set_new(r, "chaos", json_array());
    json_object_set_new(r, "knee", json_null());
    return r;
}

#endif

/*
 * test_merge.c — tests for src/report/merge.c (salvo merge).
 *
 * Shard results are built here from known values: each shard records its
 * own share of the values into histograms, embeds them as a run would, and
 * the merge must then give exactly what one histogram holding every value
 * gives (percentiles, min, max, mean, count), which is the point of merging
 * histograms instead of percentiles. Counts must add, timelines line up on
 * wall-clock seconds, and results of another run, a shard given twice or
 * anything that is not a salvo result must be refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/hist.h"
#include "core/hist_codec.h"
#include "report/merge.h"
#include "report/thresholds.h"
#include "result_fixtures.h"

#define NSHARDS 3
#define PER_SHARD 5000
#define START_MS 1700000000000LL

/* ------------------------------------------------------------ helpers */

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* A latency-like value: mostly around scale µs, with a long tail. */
static int64_t sample(uint64_t *seed, int64_t scale)
{
    double u = (double)(xorshift(seed) % 1000000) / 1e6;
    int64_t v = (int64_t)(scale * (0.5 + u));
    if (xorshift(seed) % 100 == 0) v *= 40; /* one in a hundred is slow */
    return v;
}

static void std_hist(struct hist *h)
{
    assert_int_equal(hist_init(h, HIST_STD_LOWEST, HIST_STD_HIGHEST, HIST_STD_SIGFIG), 0);
}

/* The configuration every shard of the test run shares. */
static json_t *config(int shard, int nshards)
{
    return json_pack("{s:s,s:s,s:s,s:f,s:s,s:f,s:f,s:i,s:i,s:i,s:I,s:s,s:[],s:b,s:i,s:i,s:s}", "url",
                     "http://127.0.0.1:1/", "method", "GET", "name", "/", "rate", 300.0, "arrival", "constant",
                     "duration_s", 10.0, "timeout_s", 2.0, "seed", 1, "shard", shard, "shards", nshards,
                     "start_at_unix_ms", (json_int_t)START_MS, "model", "open", "stages", "keepalive", 1, "threads", 2,
                     "connections", 100, "command", "salvo run");
}

/* Two timeline rows of a shard, scaled by k so that sums are recognisable. */
static json_t *timeline(int k)
{
    json_t *a = json_array();
    for (int t = 0; t < 2; t++)
        json_array_append_new(a, json_pack("{s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i}", "t", t, "sent", 100 + k,
                                           "done", 90 + k, "errors", k, "p50_us", 1000 * (k + 1), "p99_us",
                                           5000 * (k + 1), "max_us", 9000 + k, "inflight", 10, "conns", 5, "backlog", 0,
                                           "send_lag_max_us", 50 * k));
    return a;
}

/* Two request names; shard 0 never saw "b". */
static json_t *make_groups(int k, const struct hist *ga, const struct hist *gb)
{
    json_t *groups = json_object();
    json_object_set_new(groups, "a",
                        json_pack("{s:I,s:o,s:{s:I},s:o}", "requests", (json_int_t)ga->total_count, "latency_us",
                                  percentiles(ga), "status", "200", (json_int_t)ga->total_count, "hdr_latency_us",
                                  b64(ga)));
    if (k != 0) /* a name shard 0 never saw */
        json_object_set_new(groups, "b",
                            json_pack("{s:I,s:o,s:{s:I},s:o}", "requests", (json_int_t)gb->total_count, "latency_us",
                                      percentiles(gb), "status", "200", (json_int_t)gb->total_count, "hdr_latency_us",
                                      b64(gb)));
    return groups;
}

/*
 * Shard k of nshards: PER_SHARD latencies (scale depends on k), recorded
 * into the shard's histograms and, when all is not NULL, also into *all.
 */
static json_t *make_shard(int k, int nshards, struct hist *all)
{
    struct hist lat, svc, lag, ga, gb;
    struct hist *const hs[] = {&lat, &svc, &lag, &ga, &gb};
    for (size_t i = 0; i < 5; i++)
        std_hist(hs[i]);
    uint64_t seed = 0x9e3779b97f4a7c15ull * (uint64_t)(k + 1);
    for (int i = 0; i < PER_SHARD; i++) {
        int64_t v = sample(&seed, 800 * (k + 1));
        hist_record(&lat, v);
        hist_record(&svc, v / 2 + 1);
        hist_record(&lag, v % 97);
        hist_record(i % 3 || k == 0 ? &ga : &gb, v);
        if (all) hist_record(all, v);
    }
    json_t *r = json_pack("{s:s,s:s,s:s,s:o,s:s,s:b,s:[],s:b,s:b,s:I,s:f,s:f}", "tool", "salvo", "version", "0.1.0",
                          "run_id", "00112233aabbccdd", "config", config(k, nshards), "model", "open", "valid", 1,
                          "invalid_reasons", "interrupted", 0, "data_exhausted", 0, "start_unix_ms",
                          (json_int_t)START_MS, "duration_s", 10.0 + k, "elapsed_s", 12.0);
    json_object_set_new(r, "rate", json_pack("{s:f,s:f,s:i}", "intended", 300.0, "achieved", 100.0, "sent", PER_SHARD));
    json_object_set_new(r, "requests",
                        json_pack("{s:i,s:i,s:i,s:i,s:i,s:i}", "scheduled", PER_SHARD, "ok", PER_SHARD - 3 - k,
                                  "http_error", 3, "failed", k, "timeout", 0, "unsent", 0));
    json_t *latency = percentiles(&lat);
    json_object_set_new(latency, "timeout_us", json_integer(2000000));
    json_object_set_new(latency, "lower_bounds", json_boolean(k == 1));
    json_object_set_new(r, "latency_us", latency);
    json_object_set_new(r, "service_time_us", percentiles(&svc));
    json_object_set_new(r, "ttfb_us", percentiles(&svc)); /* like a run: no histogram for TTFB */
    json_object_set_new(r, "status", json_pack("{s:i,s:i}", "200", PER_SHARD - 3 - k, "503", 3));
    json_object_set_new(r, "errors", json_pack("{s:i}", "connect_refused", k));
    json_object_set_new(r, "connect_errors", json_object());
    json_object_set_new(r, "first_error", json_string(k == 2 ? "connection refused" : ""));
    json_object_set_new(r, "groups", make_groups(k, &ga, &gb));
    json_object_set_new(r, "pool",
                        json_pack("{s:i,s:i,s:{s:i,s:i,s:i},s:f}", "opened", 10 + k, "closed", 10 + k, "closed_by",
                                  "server", k, "us", 10, "error", 0, "wait_duration_us", 1.5));
    json_object_set_new(r, "generator",
                        json_pack("{s:f,s:f,s:f,s:[f,f],s:i,s:o}", "cpu_pct", 10.0 * (k + 1), "cpu_pct_max_thread",
                                  5.0 * (k + 1), "busy_pct_max_thread", 4.0, "cpu_pct_per_thread", 1.0, 2.0,
                                  "max_rss_kb", 1000 * (k + 1), "send_lag_us", percentiles(&lag)));
    json_object_set_new(r, "kernel", json_pack("{s:i}", "TcpExt.ListenDrops", k));
    json_object_set_new(r, "timeline", timeline(k));
    json_object_set_new(r, "thresholds", json_object());
    json_object_set_new(r, "chaos", json_array());
    json_object_set_new(
        r, "hdr",
        json_pack("{s:o,s:o,s:o}", "latency_us", b64(&lat), "service_time_us", b64(&svc), "send_lag_us", b64(&lag)));
    for (size_t i = 0; i < 5; i++)
        hist_release(hs[i]);
    return r;
}

/* Adds result (stealing the reference) and returns merge_add's code. */
static int add(struct merge *m, json_t *result, const char *name, char *why, size_t cap)
{
    int rc = merge_add(m, result, name, why, cap);
    json_decref(result);
    return rc;
}

static double num(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    assert_true(json_is_number(v));
    return json_number_value(v);
}

/* ------------------------------------------------------------- tests */

/* The merged percentiles are those of one histogram holding every value. */
static void test_percentiles_equal_single_histogram(void **state)
{
    (void)state;
    struct hist all;
    std_hist(&all);
    struct merge m;
    merge_init(&m);
    char why[256];
    for (int k = NSHARDS - 1; k >= 0; k--)
        assert_int_equal(add(&m, make_shard(k, NSHARDS, &all), "s", why, 256), 0);
    json_t *merged = merge_result(&m), *lat = json_object_get(merged, "latency_us");
    json_t *expect = percentiles(&all);
    const char *key;
    json_t *v;
    json_object_foreach(expect, key, v) assert_true(fabs(num(lat, key) - json_number_value(v)) < 1e-6);
    assert_int_equal(num(lat, "count"), NSHARDS * PER_SHARD);
    assert_int_equal(num(lat, "timeout_us"), 2000000);
    assert_true(json_is_true(json_object_get(lat, "lower_bounds")));
    /* The merged histogram is embedded and is the same histogram. */
    struct hist back;
    assert_int_equal(
        hist_decode_base64(json_string_value(json_object_get(json_object_get(merged, "hdr"), "latency_us")), &back), 0);
    assert_int_equal(back.total_count, all.total_count);
    for (int32_t i = 0; i < all.counts_len; i++)
        assert_int_equal(hist_count_at_index(&back, i), hist_count_at_index(&all, i));
    /* Averaging the shards' p99 would not give this: the shards differ in scale. */
    assert_true(num(lat, "p50") > 800 && num(lat, "p50") < 3 * 800 * 1.5);
    hist_release(&back);
    hist_release(&all);
    json_decref(expect);
    json_decref(merged);
    merge_release(&m);
}

/* Counters add; per-process peaks take the max; the rate is over the longest shard. */
static void test_counts_add(void **state)
{
    (void)state;
    struct merge m;
    merge_init(&m);
    char why[256];
    for (int k = 0; k < NSHARDS; k++)
        assert_int_equal(add(&m, make_shard(k, NSHARDS, NULL), "s", why, 256), 0);
    json_t *o = merge_result(&m), *req = json_object_get(o, "requests");
    assert_int_equal(num(req, "scheduled"), 3 * PER_SHARD);
    assert_int_equal(num(req, "failed"), 0 + 1 + 2);
    assert_int_equal(num(req, "http_error"), 9);
    assert_int_equal(num(json_object_get(o, "status"), "503"), 9);
    assert_int_equal(num(json_object_get(o, "errors"), "connect_refused"), 3);
    json_t *pool = json_object_get(o, "pool");
    assert_int_equal(num(pool, "opened"), 33);
    assert_int_equal(num(json_object_get(pool, "closed_by"), "us"), 30);
    assert_true(fabs(num(pool, "wait_duration_us") - 4.5) < 1e-9);
    assert_int_equal(num(json_object_get(o, "kernel"), "TcpExt.ListenDrops"), 3);
    json_t *rate = json_object_get(o, "rate");
    assert_int_equal(num(rate, "sent"), 3 * PER_SHARD);
    assert_true(fabs(num(rate, "intended") - 300) < 1e-9);
    assert_true(fabs(num(rate, "achieved") - 3.0 * PER_SHARD / 12.0) < 1e-9);
    assert_true(fabs(num(o, "duration_s") - 12.0) < 1e-9);
    json_t *gen = json_object_get(o, "generator");
    assert_true(fabs(num(gen, "cpu_pct") - 60) < 1e-9);
    assert_true(fabs(num(gen, "cpu_pct_max_thread") - 15) < 1e-9);
    assert_int_equal(num(gen, "max_rss_kb"), 3000);
    assert_int_equal(json_array_size(json_object_get(gen, "cpu_pct_per_thread")), 6);
    assert_int_equal(num(json_object_get(gen, "send_lag_us"), "count"), 3 * PER_SHARD);
    json_t *groups = json_object_get(o, "groups");
    json_t *ga = json_object_get(groups, "a"), *gb = json_object_get(groups, "b");
    assert_int_equal(num(ga, "requests") + num(gb, "requests"), 3 * PER_SHARD);
    assert_int_equal(num(json_object_get(ga, "latency_us"), "count"), num(ga, "requests"));
    assert_int_equal(num(json_object_get(gb, "status"), "200"), num(gb, "requests"));
    assert_true(json_is_string(json_object_get(gb, "hdr_latency_us")));
    json_t *config = json_object_get(o, "config");
    assert_true(json_is_null(json_object_get(config, "shard")));
    assert_int_equal(num(config, "threads"), 6);
    assert_string_equal(json_string_value(json_object_get(o, "first_error")), "shard 2: connection refused");
    assert_true(json_is_true(json_object_get(o, "valid")));
    assert_int_equal(json_array_size(json_object_get(o, "shards_merged")), 3);
    assert_int_equal(json_array_size(json_object_get(o, "missing_shards")), 0);
    json_decref(o);
    merge_release(&m);
}

/* Without a histogram (TTFB), min/max/count/mean merge and percentiles are null;
 * a threshold on such a percentile fails instead of reading 0. */
static void test_trend_without_histogram(void **state)
{
    (void)state;
    struct merge m;
    merge_init(&m);
    char why[256];
    json_t *shards[2] = {make_shard(0, 2, NULL), make_shard(1, 2, NULL)};
    for (int k = 0; k < 2; k++)
        assert_int_equal(merge_add(&m, shards[k], "s", why, 256), 0);
    json_t *o = merge_result(&m), *ttfb = json_object_get(o, "ttfb_us");
    json_t *t0 = json_object_get(shards[0], "ttfb_us"), *t1 = json_object_get(shards[1], "ttfb_us");
    assert_true(json_is_null(json_object_get(ttfb, "p50")));
    assert_true(json_is_null(json_object_get(ttfb, "p99_99")));
    assert_int_equal(num(ttfb, "min"), fmin(num(t0, "min"), num(t1, "min")));
    assert_int_equal(num(ttfb, "max"), fmax(num(t0, "max"), num(t1, "max")));
    assert_int_equal(num(ttfb, "count"), 2 * PER_SHARD);
    assert_true(fabs(num(ttfb, "mean") - (num(t0, "mean") + num(t1, "mean")) / 2) < 1e-6);
    assert_null(json_object_get(json_object_get(o, "hdr"), "ttfb_us"));
    struct threshold t[3];
    const char *why_parse;
    assert_int_equal(threshold_parse(&t[0], "ttfb.p99 < 3600s", &why_parse), 0);
    assert_int_equal(threshold_parse(&t[1], "ttfb.max < 3600s", &why_parse), 0);
    assert_int_equal(threshold_parse(&t[2], "latency.p99 < 3600s", &why_parse), 0);
    assert_int_equal(merge_apply_thresholds(o, t, 3), 1);
    json_t *th = json_object_get(o, "thresholds");
    assert_true(json_is_false(json_object_get(json_object_get(th, "ttfb.p99 < 3600s"), "pass")));
    assert_true(json_is_null(json_object_get(json_object_get(th, "ttfb.p99 < 3600s"), "observed")));
    assert_true(json_is_true(json_object_get(json_object_get(th, "ttfb.max < 3600s"), "pass")));
    assert_true(json_is_true(json_object_get(json_object_get(th, "latency.p99 < 3600s"), "pass")));
    json_decref(shards[0]);
    json_decref(shards[1]);
    json_decref(o);
    merge_release(&m);
}

/* Rows of the same wall-clock second add up; µs figures take the max. */
static void test_timeline_aligned(void **state)
{
    (void)state;
    struct merge m;
    merge_init(&m);
    char why[256];
    json_t *late = make_shard(1, 2, NULL);
    json_object_set_new(late, "start_unix_ms", json_integer(START_MS + 1000)); /* started one second later */
    assert_int_equal(add(&m, make_shard(0, 2, NULL), "s0", why, 256), 0);
    assert_int_equal(add(&m, late, "s1", why, 256), 0);
    json_t *o = merge_result(&m), *tl = json_object_get(o, "timeline");
    assert_int_equal(json_array_size(tl), 3);
    json_t *r0 = json_array_get(tl, 0), *r1 = json_array_get(tl, 1), *r2 = json_array_get(tl, 2);
    assert_int_equal(num(o, "start_unix_ms"), START_MS);
    assert_int_equal(num(r0, "t"), 0);
    assert_int_equal(num(r0, "sent"), 100);
    assert_null(json_object_get(r0, "approx"));
    assert_int_equal(num(r1, "t"), 1);
    assert_int_equal(num(r1, "sent"), 100 + 101);
    assert_int_equal(num(r1, "conns"), 10);
    assert_int_equal(num(r1, "p99_us"), 10000);
    assert_int_equal(num(r1, "max_us"), 9001);
    assert_int_equal(num(r1, "send_lag_max_us"), 50);
    assert_true(json_is_true(json_object_get(r1, "approx")));
    assert_int_equal(num(r2, "t"), 2);
    assert_int_equal(num(r2, "errors"), 1);
    json_decref(o);
    merge_release(&m);
}

/* A missing shard is listed; an invalid shard makes the merge invalid with its reason tagged. */
static void test_missing_and_invalid(void **state)
{
    (void)state;
    struct merge m;
    merge_init(&m);
    char why[256];
    json_t *bad = make_shard(2, 3, NULL);
    json_object_set_new(bad, "valid", json_false());
    json_object_set_new(bad, "invalid_reasons", json_pack("[s]", "generator fell behind"));
    json_object_set_new(bad, "invalid_rules", json_pack("[s]", "late_sends"));
    assert_int_equal(add(&m, bad, "s2", why, 256), 0);
    json_t *bad0 = make_shard(0, 3, NULL);
    json_object_set_new(bad0, "invalid_rules", json_pack("[ss]", "late_sends", "saturated"));
    assert_int_equal(add(&m, bad0, "s0", why, 256), 0);
    json_t *o = merge_result(&m);
    assert_true(json_is_false(json_object_get(o, "valid")));
    assert_string_equal(json_string_value(json_array_get(json_object_get(o, "invalid_reasons"), 0)),
                        "shard 2: generator fell behind");
    /* The rules that failed, each once, in the order first met (shards sorted by index). */
    json_t *rules = json_object_get(o, "invalid_rules");
    assert_int_equal(json_array_size(rules), 2);
    assert_string_equal(json_string_value(json_array_get(rules, 0)), "late_sends");
    assert_string_equal(json_string_value(json_array_get(rules, 1)), "saturated");
    json_t *missing = json_object_get(o, "missing_shards"), *merged = json_object_get(o, "shards_merged");
    assert_int_equal(json_array_size(missing), 1);
    assert_int_equal(json_integer_value(json_array_get(missing, 0)), 1);
    assert_int_equal(json_integer_value(json_array_get(merged, 0)), 0);
    assert_int_equal(json_integer_value(json_array_get(merged, 1)), 2);
    json_decref(o);
    merge_release(&m);
}

/* The order in which shards are given does not change the merged result. */
static void test_order_independent(void **state)
{
    (void)state;
    struct merge a, b;
    merge_init(&a);
    merge_init(&b);
    char why[256];
    static const int order[] = {2, 0, 1};
    for (int k = 0; k < NSHARDS; k++) {
        assert_int_equal(add(&a, make_shard(k, NSHARDS, NULL), "s", why, 256), 0);
        assert_int_equal(add(&b, make_shard(order[k], NSHARDS, NULL), "s", why, 256), 0);
    }
    json_t *ra = merge_result(&a), *rb = merge_result(&b);
    assert_true(json_equal(ra, rb));
    json_decref(ra);
    json_decref(rb);
    merge_release(&a);
    merge_release(&b);
    assert_null(merge_result(&a)); /* released: empty */
}

/* A way to spoil shard 1 and the words the refusal must contain. */
struct refusal {
    const char *what;
    void (*spoil)(json_t *r);
    const char *expect;
};

static void other_run_id(json_t *r)
{
    json_object_set_new(r, "run_id", json_string("ffffffffffffffff"));
}
static void other_shards(json_t *r)
{
    json_object_set_new(json_object_get(r, "config"), "shards", json_integer(4));
}
static void same_index(json_t *r)
{
    json_object_set_new(json_object_get(r, "config"), "shard", json_integer(0));
}
static void other_rate(json_t *r)
{
    json_object_set_new(json_object_get(r, "config"), "rate", json_real(301));
}
static void other_timeout(json_t *r)
{
    json_object_set_new(json_object_get(r, "config"), "timeout_s", json_real(9));
}
static void other_intended(json_t *r)
{
    json_object_set_new(json_object_get(r, "rate"), "intended", json_real(150));
}
static void not_salvo(json_t *r)
{
    json_object_del(r, "tool");
}
static void no_run_id(json_t *r)
{
    json_object_del(r, "run_id");
}
static void no_config(json_t *r)
{
    json_object_del(r, "config");
}
static void index_out_of_range(json_t *r)
{
    json_object_set_new(json_object_get(r, "config"), "shard", json_integer(3));
}
static void merged_input(json_t *r)
{
    json_object_set_new(json_object_get(r, "config"), "shard", json_null());
}
static void corrupt_hdr(json_t *r)
{
    json_object_set_new(json_object_get(r, "hdr"), "latency_us", json_string("HISTFAAAAnotbase64!"));
}
static void corrupt_group_hdr(json_t *r)
{
    json_object_set_new(json_object_get(json_object_get(r, "groups"), "a"), "hdr_latency_us", json_integer(3));
}

static const struct refusal refusals[] = {
    {"other run", other_run_id, "run_id ffffffffffffffff differs from 00112233aabbccdd of 'first.json'"},
    {"other shard count", other_shards, "config.shards 4 differs from 3 of 'first.json'"},
    {"shard twice", same_index, "shard 0 given twice (also 'first.json')"},
    {"other rate", other_rate, "config.rate differs"},
    {"other timeout", other_timeout, "config.timeout_s differs"},
    {"other intended rate", other_intended, "rate.intended 150 differs from 300"},
    {"not salvo", not_salvo, "not a salvo result"},
    {"no run id", no_run_id, "no run_id"},
    {"no config", no_config, "not a salvo result"},
    {"index out of range", index_out_of_range, "config.shard"},
    {"a merged result", merged_input, "config.shard"},
    {"corrupt histogram", corrupt_hdr, "hdr.latency_us is not a valid HdrHistogram"},
    {"corrupt group histogram", corrupt_group_hdr, "groups.a.hdr_latency_us"},
};

static void test_refusals(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
        struct merge m;
        merge_init(&m);
        char why[256] = "";
        assert_int_equal(add(&m, make_shard(0, NSHARDS, NULL), "first.json", why, sizeof(why)), 0);
        json_t *r = make_shard(1, NSHARDS, NULL);
        refusals[i].spoil(r);
        int rc = add(&m, r, "second.json", why, sizeof(why));
        if (rc != -EINVAL || !strstr(why, refusals[i].expect))
            fail_msg("%s: rc %d, why '%s' (expected '%s')", refusals[i].what, rc, why, refusals[i].expect);
        assert_int_equal(m.n, 1); /* a refused result is not kept */
        merge_release(&m);
    }
    struct merge m;
    merge_init(&m);
    char why[64];
    json_t *not_object = json_array();
    assert_int_equal(merge_add(&m, not_object, "x", why, sizeof(why)), -EINVAL);
    assert_int_equal(merge_add(&m, not_object, "x", NULL, 0), -EINVAL);
    json_decref(not_object);
    merge_release(&m);
    merge_release(NULL);
}

/* Threads and connections may differ between shards (other machines). */
static void test_machine_keys_may_differ(void **state)
{
    (void)state;
    struct merge m;
    merge_init(&m);
    char why[256];
    json_t *r = make_shard(1, 2, NULL);
    json_object_set_new(json_object_get(r, "config"), "threads", json_integer(8));
    json_object_set_new(json_object_get(r, "config"), "command", json_string("salvo run elsewhere"));
    assert_int_equal(add(&m, make_shard(0, 2, NULL), "s0", why, 256), 0);
    assert_int_equal(add(&m, r, "s1", why, 256), 0);
    json_t *o = merge_result(&m);
    assert_int_equal(num(json_object_get(o, "config"), "threads"), 10);
    json_decref(o);
    merge_release(&m);
}

/* Found by fuzz_results: huge counts and times overflowed (undefined behaviour);
 * they saturate now. Before the fix "sent" summed to INT64_MIN. */
static void test_huge_numbers_saturate(void **state)
{
    (void)state;
    struct merge m;
    merge_init(&m);
    char why[256];
    for (int k = 0; k < 2; k++) {
        json_t *r = make_shard(k, 2, NULL);
        json_object_set_new(json_object_get(r, "rate"), "sent", json_integer(INT64_MAX));
        json_object_set_new(json_object_get(r, "requests"), "scheduled", json_integer(INT64_MAX));
        json_object_set_new(r, "start_unix_ms", json_integer(k ? INT64_MAX : INT64_MIN));
        json_object_set_new(json_array_get(json_object_get(r, "timeline"), 0), "t", json_integer(INT64_MAX));
        assert_int_equal(add(&m, r, "s", why, sizeof(why)), 0);
    }
    json_t *o = merge_result(&m);
    assert_non_null(o);
    assert_true(json_integer_value(json_object_get(json_object_get(o, "rate"), "sent")) == INT64_MAX);
    assert_true(json_integer_value(json_object_get(json_object_get(o, "requests"), "scheduled")) == INT64_MAX);
    json_decref(o);
    merge_release(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percentiles_equal_single_histogram),
        cmocka_unit_test(test_counts_add),
        cmocka_unit_test(test_trend_without_histogram),
        cmocka_unit_test(test_timeline_aligned),
        cmocka_unit_test(test_missing_and_invalid),
        cmocka_unit_test(test_order_independent),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_machine_keys_may_differ),
        cmocka_unit_test(test_huge_numbers_saturate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

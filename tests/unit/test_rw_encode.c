/*
 * test_rw_encode.c — remote write's bytes: the protobuf encoder against
 * bytes computed by hand from the wire format, label order, multi-byte
 * varints, the snappy block round trip, and the series a batch of
 * snapshots becomes (read back by the independent decoder of rw_decode.h):
 * names, labels, buckets, samples in time order, no sample for NAN.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "report/rw_encode.h"
#include "report/rw_series.h"
#include "rw_decode.h"

/* {__name__="up", job="a"} with one sample 1.0 at 1000 ms, labels given out of order. */
static void one_series_bytes(void **state)
{
    (void)state;
    static const uint8_t want[] = {
        0x0a, 0x28,                                                                      /* timeseries, 40 bytes */
        0x0a, 0x0e,                                                                      /* label, 14 bytes */
        0x0a, 0x08, '_',  '_',  'n',  'a',  'm',  'e',  '_',  '_', 0x12, 0x02, 'u', 'p', /* name, value */
        0x0a, 0x08,                                                                      /* label, 8 bytes */
        0x0a, 0x03, 'j',  'o',  'b',  0x12, 0x01, 'a',                                   /* name, value */
        0x12, 0x0c,                                                                      /* sample, 12 bytes */
        0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x3f,                            /* value 1.0, fixed64 LE */
        0x10, 0xe8, 0x07,                                                                /* timestamp 1000, varint */
    };
    struct rw_request r;
    rw_request_init(&r);
    struct rw_label labels[] = {{"job", "a"}, {"__name__", "up"}};
    struct rw_sample s = {1.0, 1000};
    assert_int_equal(rw_request_add(&r, labels, 2, &s, 1), 0);
    assert_int_equal(r.len, sizeof(want));
    assert_memory_equal(r.data, want, sizeof(want));
    assert_int_equal(r.nseries, 1);
    assert_int_equal(r.nsamples, 1);
    rw_request_release(&r);
}

/* A real timestamp takes a 6-byte varint; 0.25 its IEEE bytes; two samples follow in order. */
static void varints_and_samples(void **state)
{
    (void)state;
    struct rw_request r;
    rw_request_init(&r);
    struct rw_label l = {"__name__", "x"};
    struct rw_sample s[2] = {{0.25, 1700000000123LL}, {0.5, 1700000001123LL}};
    assert_int_equal(rw_request_add(&r, &l, 1, s, 2), 0);
    static const uint8_t ts[] = {0x10, 0xfb, 0xd0, 0x95, 0xff, 0xbc, 0x31};
    static const uint8_t quarter[] = {0x09, 0, 0, 0, 0, 0, 0, 0xd0, 0x3f};
    const uint8_t *first = memmem(r.data, r.len, quarter, sizeof(quarter));
    assert_non_null(first);
    assert_memory_equal(first + sizeof(quarter), ts, sizeof(ts));
    struct dec_request *d = calloc(1, sizeof(*d));
    assert_int_equal(dec_request(r.data, r.len, d), 0);
    assert_int_equal(d->nseries, 1);
    assert_int_equal(d->series[0].nsamples, 2);
    assert_true(d->series[0].v[0] == 0.25 && d->series[0].v[1] == 0.5);
    assert_true(d->series[0].ts[0] == 1700000000123LL && d->series[0].ts[1] == 1700000001123LL);
    free(d);
    rw_request_release(&r);
}

/* Labels come out sorted by name in byte order: __name__ before lower-case names. */
static void labels_sorted(void **state)
{
    (void)state;
    struct rw_request r;
    rw_request_init(&r);
    struct rw_label l[] = {{"shard", "0/1"}, {"le", "+Inf"}, {"name", "a"}, {"__name__", "m"}, {"run_id", "r"}};
    struct rw_sample s = {3, 5};
    assert_int_equal(rw_request_add(&r, l, 5, &s, 1), 0);
    struct dec_request *d = calloc(1, sizeof(*d));
    assert_int_equal(dec_request(r.data, r.len, d), 0);
    const char *order[] = {"__name__", "le", "name", "run_id", "shard"};
    assert_int_equal(d->series[0].nlabels, 5);
    for (int i = 0; i < 5; i++)
        assert_string_equal(d->series[0].names[i], order[i]);
    assert_string_equal(d->series[0].values[1], "+Inf");
    free(d);
    /* Refused: no sample, too many labels. */
    assert_int_equal(rw_request_add(&r, l, 5, &s, 0), -EINVAL);
    struct rw_label many[RW_MAX_LABELS + 1];
    for (int i = 0; i <= RW_MAX_LABELS; i++)
        many[i] = (struct rw_label){"a", "b"};
    assert_int_equal(rw_request_add(&r, many, RW_MAX_LABELS + 1, &s, 1), -EINVAL);
    rw_request_release(&r);
}

/* The snappy block uncompresses to the protobuf bytes, and is smaller for repetitive series. */
static void snappy_round_trip(void **state)
{
    (void)state;
    struct rw_request r;
    rw_request_init(&r);
    for (int i = 0; i < 200; i++) {
        char v[16];
        snprintf(v, sizeof v, "%d", i);
        struct rw_label l[] = {{"__name__", "salvo_latency_seconds_bucket"}, {"le", v}, {"run_id", "abcdef0123456789"}};
        struct rw_sample s = {i, 1700000000000LL + i};
        assert_int_equal(rw_request_add(&r, l, 3, &s, 1), 0);
    }
    char *body;
    size_t len;
    assert_int_equal(rw_request_compress(&r, &body, &len), 0);
    assert_true(len < r.len / 2);
    size_t n;
    assert_int_equal(snappy_uncompressed_length(body, len, &n), SNAPPY_OK);
    assert_int_equal(n, r.len);
    char *raw = malloc(n);
    assert_int_equal(snappy_uncompress(body, len, raw, &n), SNAPPY_OK);
    assert_memory_equal(raw, r.data, r.len);
    free(raw);
    struct dec_request *d = calloc(1, sizeof(*d));
    assert_int_equal(dec_body(body, len, d), 0);
    assert_int_equal(d->nseries, 200);
    free(d);
    free(body);
    rw_request_release(&r);
}

/* A merged second with latencies for name 0 only (values in µs). */
static void second(struct interval *iv, uint32_t ngroups, const int64_t *lat_us, size_t n)
{
    assert_int_equal(interval_init(iv, ngroups), 0);
    for (size_t i = 0; i < n; i++) {
        interval_sent(iv, 0);
        interval_done(iv, 0, lat_us[i], lat_us[i] > 2000000);
    }
}

/*
 * Two snapshots: the first of one name, the second of two (the second name
 * without latency yet). The batch holds every series once, the first
 * name's samples in time order, the new name's counters with one sample and
 * no latency series, buckets cumulative at their bounds.
 */
static void snapshots_to_series(void **state)
{
    (void)state;
    struct rw_totals t;
    rw_totals_init(&t);
    struct interval iv;
    static const int64_t lat1[] = {400, 1000, 3000000};
    second(&iv, 1, lat1, 3);
    rw_totals_add(&t, &iv);
    struct timeline_row row = {.t = 0, .inflight = 7, .conns = 3, .lag_max_us = 250, .lag_p99_us = 100, .arrivals = 3};
    struct rw_snap snaps[2];
    rw_totals_snap(&t, &row, 1, 1000, &snaps[0]);
    interval_release(&iv);
    static const int64_t lat2[] = {20000};
    second(&iv, 2, lat2, 1);
    interval_sent(&iv, 1);
    rw_totals_add(&t, &iv);
    row.t = 1;
    row.inflight = 2;
    rw_totals_snap(&t, &row, 0, 2000, &snaps[1]);
    interval_release(&iv);

    const char *names[] = {"alpha", "beta"};
    struct rw_common c = {.names = names, .run_id = "r1", .shard = "0/1"};
    struct rw_request r;
    rw_request_init(&r);
    size_t nseries = rw_snaps_encode(&r, snaps, 2, &c);
    /* 7 gauges + alpha's 24 + beta's 3 counters. */
    assert_int_equal(nseries, RW_NGAUGES + RW_PER_NAME + 3);
    struct dec_request *d = calloc(1, sizeof(*d));
    assert_int_equal(dec_request(r.data, r.len, d), 0);
    assert_int_equal(d->nseries, (int)nseries);
    for (int i = 0; i < d->nseries; i++) {
        assert_string_equal(dec_label_value(&d->series[i], "run_id"), "r1");
        assert_string_equal(dec_label_value(&d->series[i], "shard"), "0/1");
        assert_string_equal(d->series[i].names[0], "__name__");
        for (int k = 1; k < d->series[i].nsamples; k++)
            assert_true(d->series[i].ts[k] > d->series[i].ts[k - 1]);
    }
    const struct dec_series *s = dec_find(d, "salvo_inflight", NULL, NULL);
    assert_non_null(s);
    assert_int_equal(s->nsamples, 2);
    assert_true(s->v[0] == 7 && s->v[1] == 2 && s->ts[0] == 1000 && s->ts[1] == 2000);
    s = dec_find(d, "salvo_valid", NULL, NULL);
    assert_true(s && s->v[0] == 1 && s->v[1] == 0);
    s = dec_find(d, "salvo_send_lag_max_seconds", NULL, NULL);
    assert_true(s && fabs(s->v[0] - 0.00025) < 1e-12);
    /* Outcomes of alpha: cumulative. */
    int found = 0;
    for (int i = 0; i < d->nseries; i++) {
        const struct dec_series *x = &d->series[i];
        if (strcmp(dec_label_value(x, "__name__"), "salvo_requests_total")) continue;
        const char *name = dec_label_value(x, "name"), *outcome = dec_label_value(x, "outcome");
        if (!strcmp(name, "alpha") && !strcmp(outcome, "sent")) {
            assert_int_equal(x->nsamples, 2);
            assert_true(x->v[0] == 3 && x->v[1] == 4), found++;
        }
        if (!strcmp(name, "alpha") && !strcmp(outcome, "error")) assert_true(x->v[1] == 1), found++;
        if (!strcmp(name, "beta") && !strcmp(outcome, "sent")) {
            assert_int_equal(x->nsamples, 1);
            assert_true(x->v[0] == 1 && x->ts[0] == 2000), found++;
        }
    }
    assert_int_equal(found, 3);
    /* Buckets of alpha at the last snapshot: 400 µs, 1 ms, 20 ms, 3 s. */
    static const struct {
        const char *le;
        double count;
    } want[] = {{"0.0005", 1}, {"0.001", 2}, {"0.0025", 2}, {"0.01", 2},
                {"0.025", 3},  {"2.5", 3},   {"5", 4},      {"+Inf", 4}};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const struct dec_series *b = NULL;
        for (int k = 0; k < d->nseries && !b; k++) {
            const struct dec_series *x = &d->series[k];
            const char *le = dec_label_value(x, "le");
            if (le && !strcmp(le, want[i].le) && !strcmp(dec_label_value(x, "name"), "alpha")) b = x;
        }
        assert_non_null(b);
        assert_int_equal(b->nsamples, 2);
        if (b->v[1] != want[i].count) fail_msg("le=%s: %g, expected %g", want[i].le, b->v[1], want[i].count);
    }
    s = dec_find(d, "salvo_latency_seconds_count", "name", "alpha");
    assert_true(s && s->v[0] == 3 && s->v[1] == 4);
    assert_null(dec_find(d, "salvo_latency_seconds_count", "name", "beta"));
    s = dec_find(d, "salvo_latency_seconds", "quantile", "0.5");
    assert_non_null(s);
    assert_true(fabs(s->v[0] - 0.001) < 1e-9 && fabs(s->v[1] - 0.001) < 1e-9); /* rank 2 of 3, then of 4 */
    free(d);
    rw_request_release(&r);
    rw_snap_release(&snaps[0]);
    rw_snap_release(&snaps[1]);
    rw_totals_release(&t);
}

/*
 * The one-walk figures of a snapshot against the histogram's own queries
 * and a naive model: random latencies from 1 µs to 30 s, over three
 * seconds; quantiles equal hist_value_at_percentile, the sum hist_mean x
 * count, each bucket the number of values whose HDR counter starts at or
 * below its bound.
 */
static void snapshot_matches_reference(void **state)
{
    (void)state;
    enum { N = 3000 };
    static int64_t values[N];
    struct rw_totals t;
    rw_totals_init(&t);
    struct hist all;
    hist_init(&all, HIST_STD_LOWEST, HIST_STD_HIGHEST, HIST_STD_SIGFIG);
    srandom(7);
    for (int sec = 0; sec < 3; sec++) {
        struct interval iv;
        assert_int_equal(interval_init(&iv, 1), 0);
        for (int i = sec * N / 3; i < (sec + 1) * N / 3; i++) {
            values[i] = (int64_t)exp(log(30e6) * (double)random() / RAND_MAX);
            interval_sent(&iv, 0);
            interval_done(&iv, 0, values[i], false);
            hist_record(&all, values[i]);
        }
        rw_totals_add(&t, &iv);
        interval_release(&iv);
    }
    struct timeline_row row = {0};
    struct rw_snap s;
    rw_totals_snap(&t, &row, 1, 1, &s);
    const double *v = s.values + RW_NGAUGES;
    static const double pct[RW_NQUANTILES] = {50, 90, 99, 99.9};
    for (int q = 0; q < RW_NQUANTILES; q++)
        assert_true(v[3 + RW_NBUCKETS + 2 + q] == (double)hist_value_at_percentile(&all, pct[q]) / 1e6);
    double sum = hist_mean(&all) * (double)all.total_count / 1e6;
    assert_true(fabs(v[3 + RW_NBUCKETS] - sum) <= 1e-9 * sum);
    assert_true(v[3 + RW_NBUCKETS + 1] == N);
    for (int b = 0; b < RW_NBUCKETS; b++) {
        int64_t le = b < RW_NBUCKETS - 1 ? (int64_t)llround(RW_BUCKETS_S[b] * 1e6) : INT64_MAX, n = 0;
        for (int i = 0; i < N; i++)
            n += hist_lowest_equivalent(&all, values[i]) <= le;
        if (v[3 + b] != (double)n) fail_msg("bucket %d: %g, expected %lld", b, v[3 + b], (long long)n);
    }
    rw_snap_release(&s);
    rw_totals_release(&t);
    hist_release(&all);
}

/* The live validity of a second: only a second with arrivals whose lag p99 is over --max-lag is 0. */
static void second_validity(void **state)
{
    (void)state;
    static const struct {
        uint64_t arrivals;
        int64_t lag_p99_us;
        uint64_t max_lag_ns;
        double valid;
    } cases[] = {
        {0, 5000, 1000000, 1}, {10, 1000, 1000000, 1}, {10, 1001, 1000000, 0}, {10, 0, 0, 1}, {10, 1, 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct timeline_row row = {.arrivals = cases[i].arrivals, .lag_p99_us = cases[i].lag_p99_us};
        if (rw_second_valid(&row, cases[i].max_lag_ns) != cases[i].valid) fail_msg("case %zu", i);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_series_bytes),    cmocka_unit_test(varints_and_samples),
        cmocka_unit_test(labels_sorted),       cmocka_unit_test(snappy_round_trip),
        cmocka_unit_test(snapshots_to_series), cmocka_unit_test(snapshot_matches_reference),
        cmocka_unit_test(second_validity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

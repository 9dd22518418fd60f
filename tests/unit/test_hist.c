/*
 * test_hist.c — tests for src/core/hist.c, the HDR latency histogram.
 *
 * The histogram is checked two ways: against the exact answer (a sort of the
 * recorded samples), where HDR promises 0.1% relative error at 3 significant
 * figures; and differentially against a naive model of HdrHistogram's bucket
 * layout (division and loops, nothing shared with hist.c), where the answers
 * must agree exactly. Random inputs come from a fixed-seed splitmix64, so any
 * failure reproduces. The 1M-sample runs stay well under a few seconds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/hist.h"

/* ------------------------------------------------------------ helpers */

/* splitmix64: tiny, fast and good enough for test inputs. */
struct rng {
    uint64_t state;
};

static uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Uniform in the open interval (0, 1), so log() of it is finite. */
static double rng_open_unit(struct rng *r)
{
    return ((double)(rng_next(r) >> 11) + 0.5) * 0x1.0p-53;
}

/* Standard normal by Box-Muller. */
static double rng_normal(struct rng *r)
{
    return sqrt(-2.0 * log(rng_open_unit(r))) * cos(2.0 * M_PI * rng_open_unit(r));
}

static int64_t clamp_latency(double v)
{
    if (v < 1.0) return 1;
    if (v > (double)HIST_STD_HIGHEST) return HIST_STD_HIGHEST;
    return (int64_t)v;
}

/* The latency-like distributions the percentile tests draw from (in µs). */
static int64_t draw_uniform(struct rng *r)
{
    return 1 + (int64_t)(rng_next(r) % 10000000);
}

static int64_t draw_exponential(struct rng *r)
{
    return clamp_latency(1.0 - 2000.0 * log(rng_open_unit(r)));
}

static int64_t draw_lognormal(struct rng *r)
{
    return clamp_latency(exp(log(800.0) + 1.2 * rng_normal(r)));
}

static int64_t draw_bimodal(struct rng *r)
{
    /* 90% fast cache hits, 10% slow database trips. */
    if (rng_next(r) % 10 != 0) return clamp_latency(250.0 + 30.0 * rng_normal(r));
    return clamp_latency(80000.0 + 15000.0 * rng_normal(r));
}

static int64_t draw_log_uniform(struct rng *r)
{
    return clamp_latency(exp(rng_open_unit(r) * log((double)HIST_STD_HIGHEST)));
}

struct distribution {
    const char *name;
    int64_t (*draw)(struct rng *r);
};

static const struct distribution distributions[] = {
    {"uniform", draw_uniform}, {"exponential", draw_exponential}, {"lognormal", draw_lognormal},
    {"bimodal", draw_bimodal}, {"log-uniform", draw_log_uniform},
};
#define N_DISTRIBUTIONS (sizeof(distributions) / sizeof(distributions[0]))

/* Percentiles asked for, in parts per million so ranks are exact integers. */
static const int64_t percentiles_ppm[] = {0,      1,      10000,  250000, 500000, 750000,
                                          900000, 990000, 999000, 999900, 999990, 1000000};
#define N_PERCENTILES (sizeof(percentiles_ppm) / sizeof(percentiles_ppm[0]))

/* 1-based rank of the ppm-th percentile among n sorted samples. */
static int64_t rank_of(int64_t ppm, int64_t n)
{
    int64_t rank = (ppm * n + 999999) / 1000000;
    return rank < 1 ? 1 : rank;
}

static int cmp_int64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void init_std(struct hist *h)
{
    assert_int_equal(hist_init(h, HIST_STD_LOWEST, HIST_STD_HIGHEST, HIST_STD_SIGFIG), 0);
}

/* --------------------------------------------------- the naive model */

/* HdrHistogram's bucket of v computed the slow, obvious way: counters are
 * 2^unit wide up to sub_bucket_count of them, then double in width. */
struct naive {
    int64_t unit_width, sub_bucket_count;
};

static struct naive naive_of(int64_t lowest, int sigfig)
{
    struct naive m = {1, 1};
    int64_t single_unit_limit = 2;
    for (int i = 0; i < sigfig; i++)
        single_unit_limit *= 10;
    while (m.unit_width * 2 <= lowest)
        m.unit_width *= 2;
    while (m.sub_bucket_count < single_unit_limit)
        m.sub_bucket_count *= 2;
    return m;
}

static int64_t naive_width(struct naive m, int64_t v)
{
    int64_t width = m.unit_width;
    while (v / width >= m.sub_bucket_count)
        width *= 2;
    return width;
}

static int64_t naive_lo(struct naive m, int64_t v)
{
    return v - v % naive_width(m, v);
}

static int64_t naive_hi(struct naive m, int64_t v)
{
    return naive_lo(m, v) + (naive_width(m, v) - 1);
}

/* ------------------------------------------------------- the tests */

static void test_init_rejects_bad_config(void **state)
{
    static const struct {
        int64_t lowest, highest;
        int sigfig;
    } bad[] = {
        {0, 100, 3},
        {-1, 100, 3},
        {1, 1, 3},
        {10, 19, 3},
        {1, 100, 0},
        {1, 100, 6},
        {1, 100, -3},
        {INT64_MAX / 2 + 1, INT64_MAX, 3},
        {INT64_C(1) << 60, INT64_MAX, 5},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct hist h;
        assert_int_equal(hist_init(&h, bad[i].lowest, bad[i].highest, bad[i].sigfig), -EINVAL);
        assert_null(h.counts);
        hist_release(&h);
    }
    hist_release(NULL);
}

static void test_standard_layout(void **state)
{
    struct hist h;
    (void)state;
    init_std(&h);
    assert_int_equal(h.counts_len, 23552);
    assert_int_equal(h.sub_bucket_count, 2048);
    assert_int_equal(h.sub_bucket_half_count, 1024);
    assert_int_equal(h.bucket_count, 22);
    assert_int_equal(h.unit_magnitude, 0);
    assert_int_equal(h.min_value, INT64_MAX);
    assert_int_equal(h.total_count, 0);
    hist_release(&h);
    hist_release(&h); /* release twice is harmless */
}

static void test_empty(void **state)
{
    struct hist h;
    struct hist_iter it;
    (void)state;
    init_std(&h);
    assert_int_equal(hist_value_at_percentile(&h, 50.0), 0);
    assert_int_equal(hist_min(&h), 0);
    assert_int_equal(hist_max(&h), 0);
    assert_true(hist_mean(&h) == 0.0);
    assert_true(hist_stddev(&h) == 0.0);
    hist_iter_init(&it, &h);
    assert_false(hist_iter_next(&it));
    hist_release(&h);
}

static void test_record_out_of_range(void **state)
{
    static const int64_t rejected[] = {-1, INT64_MIN, HIST_STD_HIGHEST + 1, INT64_MAX};
    struct hist h;
    (void)state;
    init_std(&h);
    for (size_t i = 0; i < sizeof(rejected) / sizeof(rejected[0]); i++)
        assert_false(hist_record(&h, rejected[i]));
    assert_false(hist_record_n(&h, 5, -1));
    assert_true(hist_record_n(&h, 5, 0));
    assert_int_equal(h.total_count, 0);
    assert_int_equal(h.min_value, INT64_MAX);

    assert_true(hist_record(&h, 0));
    assert_true(hist_record(&h, HIST_STD_HIGHEST));
    assert_int_equal(h.total_count, 2);
    assert_int_equal(hist_min(&h), 0);
    assert_int_equal(hist_max(&h), hist_highest_equivalent(&h, HIST_STD_HIGHEST));
    hist_release(&h);
}

static void test_record_clamped(void **state)
{
    struct hist h;
    (void)state;
    init_std(&h);
    hist_record_clamped(&h, -42);
    hist_record_clamped(&h, HIST_STD_HIGHEST * 10);
    hist_record_clamped(&h, INT64_MAX);
    hist_record_clamped(&h, 777);
    assert_int_equal(h.total_count, 4);
    assert_int_equal(hist_count_at_index(&h, 0), 1);
    assert_int_equal(h.max_value, HIST_STD_HIGHEST);
    assert_int_equal(hist_value_at_percentile(&h, 100.0), hist_highest_equivalent(&h, HIST_STD_HIGHEST));
    assert_int_equal(hist_value_at_percentile(&h, 50.0), 777);
    hist_release(&h);
}

static void test_min_max_mean_count(void **state)
{
    static const int64_t values[] = {1, 2, 3, 1000, 2047, 2048, 5001, 100000, 123456789};
    struct naive m = naive_of(1, 3);
    struct hist h;
    double sum = 0, sum_sq = 0;
    size_t n = sizeof(values) / sizeof(values[0]);
    (void)state;
    init_std(&h);
    for (size_t i = 0; i < n; i++) {
        assert_true(hist_record_n(&h, values[i], (int64_t)i + 1));
        sum += (double)(i + 1) * (double)(naive_lo(m, values[i]) + naive_width(m, values[i]) / 2);
    }
    double mean = sum / (double)(n * (n + 1) / 2);
    for (size_t i = 0; i < n; i++) {
        double dev = (double)(naive_lo(m, values[i]) + naive_width(m, values[i]) / 2) - mean;
        sum_sq += (double)(i + 1) * dev * dev;
    }
    assert_int_equal(h.total_count, (int64_t)(n * (n + 1) / 2));
    assert_int_equal(h.min_value, 1);
    assert_int_equal(h.max_value, 123456789);
    assert_int_equal(hist_min(&h), 1);
    assert_int_equal(hist_max(&h), naive_hi(m, 123456789));
    assert_true(fabs(hist_mean(&h) - mean) <= 1e-9 * mean);
    double stddev = sqrt(sum_sq / (double)h.total_count);
    assert_true(fabs(hist_stddev(&h) - stddev) <= 1e-9 * stddev);

    hist_reset(&h);
    assert_int_equal(h.total_count, 0);
    assert_int_equal(hist_max(&h), 0);
    for (int32_t i = 0; i < h.counts_len; i++)
        assert_int_equal(h.counts[i], 0);
    assert_true(hist_record(&h, 9));
    assert_int_equal(hist_min(&h), 9);
    assert_int_equal(hist_max(&h), 9);
    hist_release(&h);
}

/* Walks the whole histogram and checks the iterator's promises. */
static void check_iterator(const struct hist *h)
{
    struct hist_iter it;
    int64_t seen = 0, prev = -1;

    hist_iter_init(&it, h);
    while (hist_iter_next(&it)) {
        assert_true(it.count > 0);
        assert_true(it.value_lo > prev);
        assert_int_equal(it.value_lo, hist_lowest_equivalent(h, it.value));
        assert_int_equal(it.value, hist_highest_equivalent(h, it.value_lo));
        assert_int_equal(it.count, hist_count_at_index(h, it.index));
        seen += it.count;
        assert_int_equal(it.cumulative, seen);
        prev = it.value;
    }
    assert_int_equal(seen, h->total_count);
    assert_false(hist_iter_next(&it));
}

static void test_percentiles_vs_exact_sort(void **state)
{
    enum { N = 1000000 };
    int64_t *samples = malloc(N * sizeof(*samples));
    (void)state;
    assert_non_null(samples);
    for (size_t d = 0; d < N_DISTRIBUTIONS; d++) {
        struct rng r = {0x5a17 + d};
        struct hist h;
        init_std(&h);
        for (int i = 0; i < N; i++) {
            samples[i] = distributions[d].draw(&r);
            assert_true(hist_record(&h, samples[i]));
        }
        qsort(samples, N, sizeof(*samples), cmp_int64);
        for (size_t p = 0; p < N_PERCENTILES; p++) {
            int64_t exact = samples[rank_of(percentiles_ppm[p], N) - 1];
            int64_t got = hist_value_at_percentile(&h, (double)percentiles_ppm[p] / 10000.0);
            if (got < exact || (got - exact) * 1000 > exact)
                fail_msg("%s p%g: hist %lld, exact %lld", distributions[d].name, (double)percentiles_ppm[p] / 10000.0,
                         (long long)got, (long long)exact);
            assert_int_equal(got, hist_highest_equivalent(&h, exact));
        }
        assert_int_equal(hist_min(&h), samples[0]);
        assert_int_equal(h.max_value, samples[N - 1]);
        check_iterator(&h);
        hist_release(&h);
    }
    free(samples);
}

/* Records the same draws into one histogram and, split, into several. */
static void test_merge_equals_single(void **state)
{
    enum { PARTS = 5, PER_PART = 100000 };
    struct hist all, merged, parts[PARTS];
    (void)state;
    init_std(&all);
    init_std(&merged);
    for (int p = 0; p < PARTS; p++) {
        struct rng r = {0xadd0 + (uint64_t)p};
        init_std(&parts[p]);
        for (int i = 0; i < PER_PART; i++) {
            int64_t v = distributions[p % N_DISTRIBUTIONS].draw(&r);
            assert_true(hist_record(&parts[p], v));
            assert_true(hist_record(&all, v));
        }
    }
    for (int p = 0; p < PARTS; p++)
        assert_int_equal(hist_add(&merged, &parts[p]), 0);
    assert_memory_equal(merged.counts, all.counts, (size_t)all.counts_len * sizeof(int64_t));
    assert_int_equal(merged.total_count, all.total_count);
    assert_int_equal(merged.min_value, all.min_value);
    assert_int_equal(merged.max_value, all.max_value);
    assert_int_equal(hist_value_at_percentile(&merged, 99.9), hist_value_at_percentile(&all, 99.9));
    for (int p = 0; p < PARTS; p++)
        hist_release(&parts[p]);
    hist_release(&all);
    hist_release(&merged);
}

/* Merging across configurations: what fits is re-recorded at its lowest
 * equivalent value, what does not is counted as dropped. */
static void test_merge_across_configs(void **state)
{
    static const struct {
        int64_t src_lowest, src_highest;
        int src_sigfig;
        int64_t dst_lowest, dst_highest;
        int dst_sigfig;
    } cases[] = {
        {1, 1000000, 3, 1, HIST_STD_HIGHEST, 3},             /* same layout, fits */
        {1, HIST_STD_HIGHEST, 3, 1, 1000000, 3},             /* same layout, too small */
        {1, HIST_STD_HIGHEST, 3, 1, 1000000, 2},             /* coarser and smaller */
        {1000, HIST_STD_HIGHEST, 2, 1, HIST_STD_HIGHEST, 4}, /* finer */
    };
    (void)state;
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        struct hist src, dst, expected;
        struct rng r = {0xc0f + c};
        int64_t expected_dropped = 0;
        assert_int_equal(hist_init(&src, cases[c].src_lowest, cases[c].src_highest, cases[c].src_sigfig), 0);
        assert_int_equal(hist_init(&dst, cases[c].dst_lowest, cases[c].dst_highest, cases[c].dst_sigfig), 0);
        assert_int_equal(hist_init(&expected, cases[c].dst_lowest, cases[c].dst_highest, cases[c].dst_sigfig), 0);
        for (int i = 0; i < 50000; i++) {
            int64_t v = draw_log_uniform(&r);
            if (!hist_record(&src, v)) continue;
            if (!hist_record(&expected, hist_lowest_equivalent(&src, v))) expected_dropped++;
        }
        assert_int_equal(hist_add(&dst, &src), expected_dropped);
        assert_memory_equal(dst.counts, expected.counts, (size_t)dst.counts_len * sizeof(int64_t));
        assert_int_equal(dst.total_count, src.total_count - expected_dropped);
        hist_release(&src);
        hist_release(&dst);
        hist_release(&expected);
    }
}

/* Edge values worth recording in any configuration: zero, the limits and
 * both sides of every power of two in range. */
static size_t edge_values(int64_t highest, int64_t *out)
{
    size_t n = 0;
    out[n++] = 0;
    out[n++] = highest;
    out[n++] = highest - 1;
    for (int bit = 0; bit < 63 && (INT64_C(1) << bit) <= highest; bit++) {
        int64_t p = INT64_C(1) << bit;
        out[n++] = p;
        out[n++] = p - 1;
        if (p + 1 <= highest) out[n++] = p + 1;
    }
    return n;
}

/* Compares hist with the naive model over a set of recorded samples. */
static void check_against_model(const struct hist *h, struct naive m, int64_t *samples, size_t n)
{
    struct hist_iter it;
    double sum = 0;

    qsort(samples, n, sizeof(*samples), cmp_int64);
    hist_iter_init(&it, h);
    for (size_t i = 0; i < n;) {
        /* One naive bucket: all sorted samples sharing a lowest value. */
        int64_t lo = naive_lo(m, samples[i]);
        size_t j = i;
        while (j < n && naive_lo(m, samples[j]) == lo)
            j++;
        assert_true(hist_iter_next(&it));
        assert_int_equal(it.value_lo, lo);
        assert_int_equal(it.value, naive_hi(m, samples[i]));
        assert_int_equal(it.count, (int64_t)(j - i));
        sum += (double)(j - i) * (double)(lo + naive_width(m, lo) / 2);
        i = j;
    }
    assert_false(hist_iter_next(&it));
    for (size_t p = 0; p < N_PERCENTILES; p++) {
        int64_t want = naive_hi(m, samples[rank_of(percentiles_ppm[p], (int64_t)n) - 1]);
        assert_int_equal(hist_value_at_percentile(h, (double)percentiles_ppm[p] / 10000.0), want);
    }
    double mean = sum / (double)n;
    assert_true(fabs(hist_mean(h) - mean) <= 1e-9 * mean);
    assert_int_equal(hist_min(h), naive_lo(m, samples[0]));
    assert_int_equal(hist_max(h), naive_hi(m, samples[n - 1]));
}

static void test_differential_vs_naive_model(void **state)
{
    static const struct {
        int64_t lowest, highest;
        int sigfig;
    } configs[] = {
        {1, HIST_STD_HIGHEST, 3},
        {1, 1000, 1},
        {1000, INT64_C(3600000000000), 2},
        {7, INT64_C(1) << 40, 4},
        {1, INT64_MAX, 3},
        {2, INT64_C(10000000000), 5},
        {1, 2, 1},
        {INT64_C(1) << 40, INT64_MAX, 1},
    };
    enum { RANDOM = 20000, MAX_EDGES = 3 + 3 * 63 };
    int64_t *samples = malloc((RANDOM + MAX_EDGES) * sizeof(*samples));
    (void)state;
    assert_non_null(samples);
    for (size_t c = 0; c < sizeof(configs) / sizeof(configs[0]); c++) {
        struct naive m = naive_of(configs[c].lowest, configs[c].sigfig);
        struct rng r = {0xd1ff + c};
        struct hist h;
        assert_int_equal(hist_init(&h, configs[c].lowest, configs[c].highest, configs[c].sigfig), 0);
        size_t n = edge_values(configs[c].highest, samples);
        double log_highest = log((double)configs[c].highest);
        for (int i = 0; i < RANDOM; i++) {
            double v = exp(rng_open_unit(&r) * log_highest);
            samples[n++] = v >= (double)configs[c].highest ? configs[c].highest : (int64_t)v;
        }
        for (size_t i = 0; i < n; i++) {
            assert_true(hist_record(&h, samples[i]));
            assert_int_equal(hist_lowest_equivalent(&h, samples[i]), naive_lo(m, samples[i]));
            assert_int_equal(hist_highest_equivalent(&h, samples[i]), naive_hi(m, samples[i]));
        }
        assert_int_equal(h.total_count, (int64_t)n);
        check_against_model(&h, m, samples, n);
        hist_release(&h);
    }
    free(samples);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_rejects_bad_config),
        cmocka_unit_test(test_standard_layout),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_record_out_of_range),
        cmocka_unit_test(test_record_clamped),
        cmocka_unit_test(test_min_max_mean_count),
        cmocka_unit_test(test_percentiles_vs_exact_sort),
        cmocka_unit_test(test_merge_equals_single),
        cmocka_unit_test(test_merge_across_configs),
        cmocka_unit_test(test_differential_vs_naive_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

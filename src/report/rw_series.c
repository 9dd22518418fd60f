/*
 * rw_series.c — remote write's series: totals, snapshots, encoding (see
 * rw_series.h).
 *
 * The layout of a snapshot, index by index: the RW_NGAUGES gauges of
 * SERIES_GAUGES (report/series.h, shared with --metrics), then per
 * request name g at RW_NGAUGES + g * RW_PER_NAME: the three outcomes, the RW_NBUCKETS cumulative bucket counts, sum,
 * count, the RW_NQUANTILES quantiles. series_labels turns an index back
 * into the series' labels, so the layout lives in these two places only.
 */
#include "report/rw_series.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/series.h"

const double RW_BUCKETS_S[RW_NBUCKETS - 1] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                              0.1,    0.25,  0.5,    1,     2.5,  5,     10};
static const char *const bucket_le[RW_NBUCKETS] = {"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
                                                   "0.25",   "0.5",   "1",      "2.5",   "5",    "10",    "+Inf"};
static const double quantiles[RW_NQUANTILES] = {0.5, 0.9, 0.99, 0.999};
static const char *const quantile_text[RW_NQUANTILES] = {"0.5", "0.9", "0.99", "0.999"};
static const char *const outcomes[3] = {"sent", "done", "error"};
enum { P_OUTCOME = 0, P_BUCKET = 3, P_SUM = 3 + RW_NBUCKETS, P_COUNT, P_QUANTILE };

double rw_second_valid(const struct timeline_row *row, uint64_t max_lag_ns)
{
    return row->arrivals && row->lag_p99_us > 0 && (uint64_t)row->lag_p99_us > (uint64_t)ns_to_us(max_lag_ns) ? 0 : 1;
}

size_t rw_snap_len(uint32_t ngroups)
{
    return RW_NGAUGES + (size_t)ngroups * RW_PER_NAME;
}

void rw_snap_release(struct rw_snap *s)
{
    if (!s) return;
    free(s->values);
    s->values = NULL;
}

void rw_totals_init(struct rw_totals *t)
{
    memset(t, 0, sizeof(*t));
}

void rw_totals_release(struct rw_totals *t)
{
    if (!t) return;
    for (uint32_t g = 0; g < t->ngroups; g++)
        if (t->has_hist[g]) hist_release(&t->latency[g]);
    free(t->sent);
    free(t->done);
    free(t->errors);
    free(t->latency);
    free(t->has_hist);
    rw_totals_init(t);
}

/* Grows the per-name totals to n names. */
static void totals_grow(struct rw_totals *t, uint32_t n)
{
    if (n <= t->ngroups) return;
    t->sent = realloc(t->sent, n * sizeof(*t->sent));
    t->done = realloc(t->done, n * sizeof(*t->done));
    t->errors = realloc(t->errors, n * sizeof(*t->errors));
    t->latency = realloc(t->latency, n * sizeof(*t->latency));
    t->has_hist = realloc(t->has_hist, n * sizeof(*t->has_hist));
    if (!t->sent || !t->done || !t->errors || !t->latency || !t->has_hist) abort();
    for (uint32_t g = t->ngroups; g < n; g++) {
        t->sent[g] = t->done[g] = t->errors[g] = 0;
        t->has_hist[g] = false;
    }
    t->ngroups = n;
}

void rw_totals_add(struct rw_totals *t, const struct interval *merged)
{
    totals_grow(t, merged->ngroups);
    for (uint32_t g = 0; g < merged->ngroups; g++) {
        const struct interval_group *ig = &merged->groups[g];
        t->sent[g] += ig->sent;
        t->done[g] += ig->done;
        t->errors[g] += ig->errors;
        const struct hist *h = interval_group_latency(merged, g);
        if (!h || !h->total_count) continue;
        if (!t->has_hist[g]) {
            hist_init(&t->latency[g], HIST_STD_LOWEST, HIST_STD_HIGHEST, HIST_STD_SIGFIG);
            t->has_hist[g] = true;
        }
        hist_add(&t->latency[g], h);
    }
}

/*
 * Buckets, sum, count and quantiles of h (µs) in one walk over its
 * non-empty counters (a walk per figure cost six: this runs per name every
 * second). A counter counts under `le` when its lowest value is at most le
 * (an error of at most the histogram's resolution, 0.1 %); quantiles are
 * hist_value_at_percentile's (the same rank, the counter's highest value),
 * the sum weighs each counter at its middle value as hist_mean does.
 */
static void fill_latency(const struct hist *h, double *v)
{
    int64_t le_us[RW_NBUCKETS - 1], rank[RW_NQUANTILES], below = 0;
    for (int b = 0; b < RW_NBUCKETS - 1; b++)
        le_us[b] = (int64_t)llround(RW_BUCKETS_S[b] * 1e6);
    for (int q = 0; q < RW_NQUANTILES; q++)
        rank[q] = hist_rank_at_percentile(h, quantiles[q] * 100);
    double sum_us = 0;
    int b = 0, q = 0;
    struct hist_iter it;
    hist_iter_init(&it, h);
    while (hist_iter_next(&it)) {
        for (; b < RW_NBUCKETS - 1 && it.value_lo > le_us[b]; b++)
            v[P_BUCKET + b] = (double)below;
        below += it.count;
        sum_us += (double)it.count * (double)(it.value_lo + ((it.value - it.value_lo + 1) >> 1));
        for (; q < RW_NQUANTILES && it.cumulative >= rank[q]; q++)
            v[P_QUANTILE + q] = (double)it.value / 1e6;
    }
    for (; b < RW_NBUCKETS; b++)
        v[P_BUCKET + b] = (double)below;
    v[P_SUM] = sum_us / 1e6;
    v[P_COUNT] = (double)h->total_count;
}

/* The RW_PER_NAME values of name g. */
static void fill_name(const struct rw_totals *t, uint32_t g, double *v)
{
    v[P_OUTCOME] = (double)t->sent[g];
    v[P_OUTCOME + 1] = (double)t->done[g];
    v[P_OUTCOME + 2] = (double)t->errors[g];
    if (!t->has_hist[g] || !t->latency[g].total_count) {
        for (int i = P_BUCKET; i < RW_PER_NAME; i++)
            v[i] = NAN;
        return;
    }
    fill_latency(&t->latency[g], v);
}

void rw_totals_snap(const struct rw_totals *t, const struct timeline_row *row, double valid, int64_t timestamp_ms,
                    struct rw_snap *s)
{
    s->timestamp_ms = timestamp_ms;
    s->ngroups = t->ngroups;
    s->values = malloc(rw_snap_len(t->ngroups) * sizeof(double));
    if (!s->values) abort();
    double *v = s->values;
    for (size_t i = 0; i < RW_NGAUGES; i++)
        v[i] = SERIES_GAUGES[i].value(row, valid);
    for (uint32_t g = 0; g < t->ngroups; g++)
        fill_name(t, g, v + RW_NGAUGES + (size_t)g * RW_PER_NAME);
}

/* The labels of series index i; returns their number. */
static size_t series_labels(size_t i, const struct rw_common *c, struct rw_label *l)
{
    size_t n = 0;
    if (i < RW_NGAUGES) {
        l[n++] = (struct rw_label){"__name__", SERIES_GAUGES[i].name};
    } else {
        size_t g = (i - RW_NGAUGES) / RW_PER_NAME, k = (i - RW_NGAUGES) % RW_PER_NAME;
        l[n++] = (struct rw_label){"name", c->names[g]};
        if (k < P_BUCKET) {
            l[n++] = (struct rw_label){"__name__", SERIES_REQUESTS};
            l[n++] = (struct rw_label){"outcome", outcomes[k - P_OUTCOME]};
        } else if (k < P_SUM) {
            l[n++] = (struct rw_label){"__name__", SERIES_LATENCY "_bucket"};
            l[n++] = (struct rw_label){"le", bucket_le[k - P_BUCKET]};
        } else if (k == P_SUM) {
            l[n++] = (struct rw_label){"__name__", SERIES_LATENCY "_sum"};
        } else if (k == P_COUNT) {
            l[n++] = (struct rw_label){"__name__", SERIES_LATENCY "_count"};
        } else {
            l[n++] = (struct rw_label){"__name__", SERIES_LATENCY};
            l[n++] = (struct rw_label){"quantile", quantile_text[k - P_QUANTILE]};
        }
    }
    l[n++] = (struct rw_label){"run_id", c->run_id};
    l[n++] = (struct rw_label){"shard", c->shard};
    return n;
}

size_t rw_snaps_encode(struct rw_request *req, const struct rw_snap *snaps, size_t n, const struct rw_common *c)
{
    if (n == 0) return 0;
    size_t len = rw_snap_len(snaps[n - 1].ngroups), written = 0;
    struct rw_sample *samples = malloc(n * sizeof(*samples));
    if (!samples) abort();
    for (size_t i = 0; i < len; i++) {
        size_t ns = 0;
        for (size_t s = 0; s < n; s++) {
            if (i >= rw_snap_len(snaps[s].ngroups) || isnan(snaps[s].values[i])) continue;
            samples[ns++] = (struct rw_sample){snaps[s].values[i], snaps[s].timestamp_ms};
        }
        if (!ns) continue;
        struct rw_label labels[RW_MAX_LABELS];
        size_t nl = series_labels(i, c, labels);
        if (rw_request_add(req, labels, nl, samples, ns) == 0) written++;
    }
    free(samples);
    return written;
}

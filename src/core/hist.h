/*
 * hist.h — salvo's HDR histogram of latencies (HdrHistogram-compatible).
 *
 * Every worker records each response latency into its own histogram, and the
 * reporter adds the workers' (and shards') histograms together before asking
 * for percentiles. A sorted sample list would grow without bound and a linear
 * histogram either wastes memory or loses the tail, so values are kept in
 * HdrHistogram's log-linear layout: exponentially growing buckets, each split
 * into sub-buckets fine enough that any value is known to within a relative
 * error of 10^-significant_figures. The layout (and so the counts array) is
 * exactly HdrHistogram's, which is what lets hist_codec.c write histograms
 * that HdrHistogram's own tools read.
 *
 * Invariants:
 *   - counts_len == (bucket_count + 1) * sub_bucket_half_count, and
 *     counts[i] >= 0 for every index; total_count is their sum.
 *   - min_value is the smallest value recorded (INT64_MAX when empty) and
 *     max_value the largest (0 when empty); the accessors hist_min/hist_max
 *     report them as the lowest/highest equivalent value, as HdrHistogram does.
 *   - A value is recorded only if 0 <= value <= highest_trackable; the index of
 *     such a value is always < counts_len.
 *
 * Performance: hist_record is O(1): one count-leading-zeros, a few shifts, one
 * increment and two compares, no division and no allocation, so it is safe on
 * the hot path. Queries (percentiles, mean, iteration) walk the counts array,
 * O(counts_len): 23552 counters for the standard 1 µs .. 1 h, 3-digit config.
 * A histogram is not thread-safe; each thread records into its own.
 *
 * Ownership: the caller owns struct hist (and struct hist_iter); hist_init
 * allocates the counts array, which hist_release frees. hist_init aborts on
 * out of memory, like every allocation in salvo.
 */
#ifndef SALVO_HIST_H
#define SALVO_HIST_H

#include <stdbool.h>
#include <stdint.h>

/* The one configuration salvo records latencies with, in µs: 1 µs .. 1 h.
 * Every histogram that is merged or compared must use it. */
#define HIST_STD_LOWEST 1
#define HIST_STD_HIGHEST 3600000000LL
#define HIST_STD_SIGFIG 3

/* A histogram and its HdrHistogram-compatible layout parameters. */
struct hist {
    int64_t lowest_trackable, highest_trackable;
    int32_t significant_figures, unit_magnitude, sub_bucket_half_count_magnitude, sub_bucket_count,
        sub_bucket_half_count, bucket_count, counts_len;
    int64_t sub_bucket_mask;
    int64_t total_count, min_value, max_value; /* min_value = INT64_MAX when empty */
    int64_t *counts;                           /* calloc'd by hist_init */
};

/*
 * Sets up an empty histogram tracking lowest..highest with sigfig significant
 * decimal digits. Returns 0, or -EINVAL when lowest < 1, highest < 2 * lowest,
 * sigfig is outside 1..5, or the layout would not fit in 64-bit values.
 * On error *h is zeroed, so hist_release(h) is still safe.
 */
int hist_init(struct hist *h, int64_t lowest, int64_t highest, int sigfig);

/*
 * hist_init without the counts array: fills only the layout (counts stays
 * NULL), so that indices and values can be converted without allocating.
 * Same checks and return values as hist_init. Nothing may be recorded into
 * it; hist_release on it is harmless.
 */
int hist_layout(struct hist *h, int64_t lowest, int64_t highest, int sigfig);

/* Frees the counts array; h may be NULL or already released. */
void hist_release(struct hist *h);

/* Records one value; false (nothing recorded) if value < 0 or > highest. */
bool hist_record(struct hist *h, int64_t value);

/* Records n occurrences of value; false if the value is out of range or n < 0. */
bool hist_record_n(struct hist *h, int64_t value, int64_t n);

/* Records value, clamped into 0..highest_trackable; never fails. */
void hist_record_clamped(struct hist *h, int64_t value);

/*
 * Adds every count of src into dst (they may have different configurations).
 * Returns how many counts were dropped because dst cannot hold their value.
 * When the layouts match and src's range fits in dst's, the counts arrays are
 * added element by element and min/max stay exact; otherwise each bucket of
 * src is re-recorded at its lowest equivalent value, as HdrHistogram does.
 */
int64_t hist_add(struct hist *dst, const struct hist *src);

/* Forgets every recorded value, keeping the configuration. */
void hist_reset(struct hist *h);

/*
 * The value below or at which pct percent (0..100, clamped) of recorded
 * values fall: the highest equivalent value of the first bucket at which the
 * cumulative count reaches ceil(pct / 100 * total_count) (at least 1; the
 * product is first shaved by a few ulps so that decimal percentages such as
 * 99.9 name the rank they mean). Returns 0 when empty.
 */
int64_t hist_value_at_percentile(const struct hist *h, double pct);

/* The rank (1 .. total_count) hist_value_at_percentile looks for; 0 when empty. */
int64_t hist_rank_at_percentile(const struct hist *h, double pct);

/* Mean and population standard deviation, each bucket counted at its median
 * equivalent value (as HdrHistogram); 0 when empty. */
double hist_mean(const struct hist *h);
double hist_stddev(const struct hist *h);

/* Lowest equivalent value of the smallest recorded value; 0 when empty. */
int64_t hist_min(const struct hist *h);

/* Highest equivalent value of the largest recorded value; 0 when empty. */
int64_t hist_max(const struct hist *h);

/* The smallest and largest values that share v's bucket (v >= 0). */
int64_t hist_lowest_equivalent(const struct hist *h, int64_t v);
int64_t hist_highest_equivalent(const struct hist *h, int64_t v);

/* Count at a counts-array index (0 <= index < counts_len). */
int64_t hist_count_at_index(const struct hist *h, int32_t index);

/* Lowest value counted at a counts-array index (0 <= index < counts_len). */
int64_t hist_value_at_index(const struct hist *h, int32_t index);

/*
 * Caller-owned iterator over the non-empty buckets, in value order. After a
 * successful hist_iter_next: value is the bucket's highest equivalent value,
 * value_lo its lowest, count its count and cumulative the running total.
 * The histogram must not change while it is iterated.
 */
struct hist_iter {
    const struct hist *h;
    int32_t index, last; /* last: the highest index that may hold a count */
    int64_t value /*highest equiv*/, value_lo, count, cumulative;
};

/* Positions it before the first bucket of h. */
void hist_iter_init(struct hist_iter *it, const struct hist *h);

/* Advances to the next non-empty bucket; false when there is none. */
bool hist_iter_next(struct hist_iter *it);

#endif

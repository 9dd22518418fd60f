/*
 * hist.c — salvo's HDR histogram of latencies (see hist.h for the contract).
 *
 * The layout is HdrHistogram's. Bucket 0 covers 0 .. sub_bucket_count units
 * with one counter per unit; every further bucket covers twice the range of
 * the one before with the same number of counters, of which only the upper
 * half is stored (the lower half would duplicate the previous bucket). A
 * value's bucket is therefore found from the position of its highest set bit
 * and its counter by a shift, so recording needs no division and no loop.
 *
 * Invariants: every index computed from a value in 0..highest_trackable is
 * below counts_len (hist_init sizes the array to make it so), and min_value /
 * max_value are exact recorded values except after a re-recording merge.
 *
 * Performance: hist_record is a handful of integer instructions. Merges and
 * queries walk only the counters between the indexes of min_value and
 * max_value (used_range): --metrics and --remote-write merge and query a
 * histogram per request name every second, and a second's latencies fill a
 * few hundred of the 23552 counters.
 */
#include "core/hist.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- layout */

/* Bucket of a value: how many doublings above bucket 0 its top bit lies. The
 * mask guarantees a non-zero argument to clz and puts small values in 0. */
static inline int32_t bucket_of(const struct hist *h, int64_t value)
{
    int32_t pow2_ceiling = 64 - __builtin_clzll((uint64_t)(value | h->sub_bucket_mask));
    return pow2_ceiling - h->unit_magnitude - (h->sub_bucket_half_count_magnitude + 1);
}

/* Counts-array index of a value known to be in 0..highest_trackable. */
static inline int32_t index_of(const struct hist *h, int64_t value)
{
    int32_t bucket = bucket_of(h, value);
    int32_t sub_bucket = (int32_t)(value >> (bucket + h->unit_magnitude));
    int32_t bucket_base = (bucket + 1) << h->sub_bucket_half_count_magnitude;
    return bucket_base + (sub_bucket - h->sub_bucket_half_count);
}

/* Bucket of a counts-array index; the first half-bucket of indices is part
 * of bucket 0 too. */
static inline int32_t bucket_of_index(const struct hist *h, int32_t index)
{
    int32_t bucket = (index >> h->sub_bucket_half_count_magnitude) - 1;
    return bucket < 0 ? 0 : bucket;
}

/* Width, in values, of the counter at an index. */
static inline int64_t width_at_index(const struct hist *h, int32_t index)
{
    return INT64_C(1) << (h->unit_magnitude + bucket_of_index(h, index));
}

/* Middle value of the counter at an index, the value mean/stddev weigh it at. */
static inline int64_t median_at_index(const struct hist *h, int32_t index)
{
    return hist_value_at_index(h, index) + (width_at_index(h, index) >> 1);
}

/* How many buckets it takes for the top one to hold highest. The doubling
 * stops before it would overflow: the last bucket then reaches INT64_MAX. */
static int32_t buckets_to_cover(int64_t smallest_untrackable, int64_t highest)
{
    int32_t buckets = 1;

    while (smallest_untrackable <= highest) {
        if (smallest_untrackable > INT64_MAX / 2) return buckets + 1;
        smallest_untrackable <<= 1;
        buckets++;
    }
    return buckets;
}

/* ------------------------------------------------------------- lifecycle */

int hist_layout(struct hist *h, int64_t lowest, int64_t highest, int sigfig)
{
    memset(h, 0, sizeof(*h));
    if (lowest < 1 || sigfig < 1 || sigfig > 5 || lowest > INT64_MAX / 2 || highest < 2 * lowest) return -EINVAL;

    /* Values below 2 * 10^sigfig units must be told apart one by one, so a
     * bucket needs at least that many counters, rounded up to a power of 2. */
    int64_t single_unit_limit = 2;
    for (int i = 0; i < sigfig; i++)
        single_unit_limit *= 10;
    int32_t sub_bucket_count_magnitude = 64 - __builtin_clzll((uint64_t)(single_unit_limit - 1));
    int32_t half_magnitude = sub_bucket_count_magnitude - 1;
    int32_t unit_magnitude = 63 - __builtin_clzll((uint64_t)lowest);

    /* The top bucket's sub-bucket values must fit in an int64. */
    if (unit_magnitude + half_magnitude > 61) return -EINVAL;

    h->lowest_trackable = lowest;
    h->highest_trackable = highest;
    h->significant_figures = sigfig;
    h->unit_magnitude = unit_magnitude;
    h->sub_bucket_half_count_magnitude = half_magnitude;
    h->sub_bucket_count = INT32_C(1) << (half_magnitude + 1);
    h->sub_bucket_half_count = h->sub_bucket_count / 2;
    h->sub_bucket_mask = (int64_t)(h->sub_bucket_count - 1) << unit_magnitude;
    h->bucket_count = buckets_to_cover((int64_t)h->sub_bucket_count << unit_magnitude, highest);
    h->counts_len = (h->bucket_count + 1) * h->sub_bucket_half_count;
    h->total_count = 0;
    h->min_value = INT64_MAX;
    h->max_value = 0;
    return 0;
}

int hist_init(struct hist *h, int64_t lowest, int64_t highest, int sigfig)
{
    if (hist_layout(h, lowest, highest, sigfig) != 0) return -EINVAL;
    h->counts = calloc((size_t)h->counts_len, sizeof(*h->counts));
    if (!h->counts) abort();
    return 0;
}

void hist_release(struct hist *h)
{
    if (!h) return;
    free(h->counts);
    memset(h, 0, sizeof(*h));
}

void hist_reset(struct hist *h)
{
    memset(h->counts, 0, (size_t)h->counts_len * sizeof(*h->counts));
    h->total_count = 0;
    h->min_value = INT64_MAX;
    h->max_value = 0;
}

/* ------------------------------------------------------------- recording */

bool hist_record(struct hist *h, int64_t value)
{
    return hist_record_n(h, value, 1);
}

bool hist_record_n(struct hist *h, int64_t value, int64_t n)
{
    /* One unsigned compare rejects negative values and values above range. */
    if ((uint64_t)value > (uint64_t)h->highest_trackable || n < 0) return false;
    if (n == 0) return true;
    h->counts[index_of(h, value)] += n;
    h->total_count += n;
    if (value < h->min_value) h->min_value = value;
    if (value > h->max_value) h->max_value = value;
    return true;
}

void hist_record_clamped(struct hist *h, int64_t value)
{
    if (value < 0)
        value = 0;
    else if (value > h->highest_trackable)
        value = h->highest_trackable;
    hist_record_n(h, value, 1);
}

/*
 * The index range [*lo, *hi] outside which every count is zero; false when
 * empty. min_value and max_value lie in the buckets of the lowest and the
 * highest recorded value (exact, or their bucket's bounds after a
 * re-recording merge or a decode), which is all this needs.
 */
static bool used_range(const struct hist *h, int32_t *lo, int32_t *hi)
{
    if (h->total_count == 0 || h->min_value > h->max_value) return false;
    *lo = index_of(h, h->min_value);
    *hi = index_of(h, h->max_value);
    return true;
}

/* True when src's counters map one to one onto dst's. */
static bool same_layout(const struct hist *dst, const struct hist *src)
{
    return dst->unit_magnitude == src->unit_magnitude &&
           dst->sub_bucket_half_count_magnitude == src->sub_bucket_half_count_magnitude &&
           src->counts_len <= dst->counts_len && src->highest_trackable <= dst->highest_trackable;
}

int64_t hist_add(struct hist *dst, const struct hist *src)
{
    if (src->total_count == 0) return 0;
    int32_t lo, hi;
    if (same_layout(dst, src) && used_range(src, &lo, &hi)) {
        for (int32_t i = lo; i <= hi; i++)
            dst->counts[i] += src->counts[i];
        dst->total_count += src->total_count;
        if (src->min_value < dst->min_value) dst->min_value = src->min_value;
        if (src->max_value > dst->max_value) dst->max_value = src->max_value;
        return 0;
    }

    int64_t dropped = 0;
    for (int32_t i = 0; i < src->counts_len; i++) {
        int64_t count = src->counts[i];
        if (count > 0 && !hist_record_n(dst, hist_value_at_index(src, i), count)) dropped += count;
    }
    return dropped;
}

/* --------------------------------------------------------------- queries */

int64_t hist_lowest_equivalent(const struct hist *h, int64_t v)
{
    if (v < 0) v = 0;
    int32_t bucket = bucket_of(h, v);
    int32_t shift = bucket + h->unit_magnitude;
    return (v >> shift) << shift;
}

int64_t hist_highest_equivalent(const struct hist *h, int64_t v)
{
    if (v < 0) v = 0;
    int32_t shift = bucket_of(h, v) + h->unit_magnitude;
    /* Adding width - 1 (not width, then - 1) cannot overflow at INT64_MAX. */
    return ((v >> shift) << shift) + ((INT64_C(1) << shift) - 1);
}

int64_t hist_count_at_index(const struct hist *h, int32_t index)
{
    if (index < 0 || index >= h->counts_len) return 0;
    return h->counts[index];
}

int64_t hist_value_at_index(const struct hist *h, int32_t index)
{
    int32_t bucket = (index >> h->sub_bucket_half_count_magnitude) - 1;
    int64_t sub_bucket = (index & (h->sub_bucket_half_count - 1)) + h->sub_bucket_half_count;

    if (bucket < 0) {
        sub_bucket -= h->sub_bucket_half_count;
        bucket = 0;
    }
    return sub_bucket << (bucket + h->unit_magnitude);
}

int64_t hist_min(const struct hist *h)
{
    return h->total_count == 0 ? 0 : hist_lowest_equivalent(h, h->min_value);
}

int64_t hist_max(const struct hist *h)
{
    return h->total_count == 0 ? 0 : hist_highest_equivalent(h, h->max_value);
}

int64_t hist_rank_at_percentile(const struct hist *h, double pct)
{
    if (h->total_count == 0) return 0;
    if (!(pct > 0.0)) /* also catches NaN */
        pct = 0.0;
    if (pct > 100.0) pct = 100.0;
    /* A decimal percentage is rarely exact in binary (99.9 is stored a hair
     * above 99.9), so the product can land a few ulps above the integer rank
     * a person means: 99.9% of 1000 must name the 999th value, not the
     * 1000th. HdrHistogram shaves one ulp off pct for this; shaving four ulps
     * of the product also absorbs the rounding of the division and product. */
    double exact_rank = pct / 100.0 * (double)h->total_count;
    int64_t wanted = (int64_t)ceil(exact_rank - exact_rank * 4 * DBL_EPSILON);
    if (wanted < 1) wanted = 1;
    if (wanted > h->total_count) wanted = h->total_count;
    return wanted;
}

int64_t hist_value_at_percentile(const struct hist *h, double pct)
{
    int64_t wanted = hist_rank_at_percentile(h, pct), cumulative = 0;
    int32_t lo, hi;
    if (!used_range(h, &lo, &hi)) return 0;
    for (int32_t i = lo; i <= hi; i++) {
        cumulative += h->counts[i];
        if (cumulative >= wanted) return hist_highest_equivalent(h, hist_value_at_index(h, i));
    }
    return 0; /* unreachable while total_count is the sum of the counts */
}

double hist_mean(const struct hist *h)
{
    int32_t lo, hi;
    if (!used_range(h, &lo, &hi)) return 0.0;
    double sum = 0.0;
    for (int32_t i = lo; i <= hi; i++)
        if (h->counts[i] > 0) sum += (double)h->counts[i] * (double)median_at_index(h, i);
    return sum / (double)h->total_count;
}

double hist_stddev(const struct hist *h)
{
    if (h->total_count == 0) return 0.0;
    double mean = hist_mean(h);
    double sum_sq = 0.0;
    for (int32_t i = 0; i < h->counts_len; i++) {
        if (h->counts[i] > 0) {
            double dev = (double)median_at_index(h, i) - mean;
            sum_sq += dev * dev * (double)h->counts[i];
        }
    }
    return sqrt(sum_sq / (double)h->total_count);
}

/* ------------------------------------------------------------- iteration */

void hist_iter_init(struct hist_iter *it, const struct hist *h)
{
    memset(it, 0, sizeof(*it));
    it->h = h;
    it->index = -1;
    int32_t lo;
    if (!used_range(h, &lo, &it->last)) it->last = -1;
    it->index = it->last >= 0 ? lo - 1 : -1;
}

bool hist_iter_next(struct hist_iter *it)
{
    const struct hist *h = it->h;
    for (int32_t i = it->index + 1; i <= it->last; i++) {
        if (h->counts[i] != 0) {
            it->index = i;
            it->count = h->counts[i];
            it->cumulative += it->count;
            it->value_lo = hist_value_at_index(h, i);
            it->value = it->value_lo + (width_at_index(h, i) - 1);
            return true;
        }
    }
    it->index = h->counts_len;
    it->count = 0;
    return false;
}

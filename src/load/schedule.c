/*
 * schedule.c — the arrival schedule of the open model (see schedule.h).
 *
 * Invariants: a share's global index grows by nshards·nthreads per arrival;
 * u (the cumulative intensity of the next arrival) never decreases, so the
 * segment cursor only moves forward and the search for the segment holding
 * u is O(1) amortised. Poisson draws are a pure function of (seed, index)
 * and are summed strictly in index order in long double, which is what
 * makes every share agree with the whole schedule bit for bit.
 *
 * Performance: schedule_next runs on the hot path, once per request. The
 * constant case costs one 128-bit division; stages cost a sqrt and a few
 * long double operations; Poisson adds one hash and one log per arrival of
 * the whole run (nshards·nthreads per arrival of the share).
 */
#include "load/schedule.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "core/clock.h"
#include "core/hash.h"
#include "core/units.h"

/* 10^9 = 5^9 · 2^9: the odd part of a nanosecond count per second. */
#define FIVE_POW_9 1953125u
/* Longest field of a stage spec ("1h30m15.5s", "1000.5/s" and so on). */
#define STAGE_FIELD_MAX 64

/* ---- Unit-exponential draws, a pure function of (seed, index) --------- */

/* E_index = -ln U with U uniform in (0, 1), never 0 or 1. */
static double exponential_draw(uint64_t key, uint64_t index)
{
    uint64_t bits = hash_mix64(key + (index + 1) * HASH_GAMMA);
    double uniform = ((double)(bits >> 11) + 0.5) * 0x1p-53;

    return -log(uniform);
}

/* ---- Due times --------------------------------------------------------- */

/*
 * Constant rate, constant arrivals: due = floor(i · 10^9 / rate) with rate =
 * odd · 2^exp2, i.e. floor(i · 5^9 · 2^(9 - exp2) / odd), exact in 128 bits
 * when it fits, else in long double. Returns false at or after the end.
 */
static bool exact_due(const struct schedule *s, uint64_t index, uint64_t *due_ns)
{
    int shift = 9 - s->rate_exp2;
    unsigned __int128 numerator = (unsigned __int128)index * FIVE_POW_9;
    unsigned __int128 quotient;

    /* index · 5^9 < 2^85, so numerator << shift fits while this holds. */
    if (shift >= 0 && (shift <= 42 || (shift <= 106 && (index >> (106 - shift)) == 0)))
        quotient = (numerator << shift) / s->rate_odd;
    else if (shift < 0 && shift >= -74)
        quotient = numerator / ((unsigned __int128)s->rate_odd << -shift);
    else {
        long double t_ns = floorl((long double)index * 1e9L / s->rate);
        quotient = t_ns < 0x1p64L ? (unsigned __int128)t_ns : (unsigned __int128)UINT64_MAX;
    }
    if (quotient >= s->duration_ns) return false;
    *due_ns = (uint64_t)quotient;
    return true;
}

/* Offset in seconds into a segment where its Λ reaches v (0 <= v < its area). */
static long double segment_inverse(const struct schedule_segment *seg, long double v)
{
    long double a = seg->rate_start, disc;

    if (v <= 0) return 0;
    if (seg->slope == 0) return v / a;
    /* Root of slope/2 τ² + a τ - v = 0 in the form that does not cancel. */
    disc = a * a + 2 * seg->slope * v;
    if (disc < 0) disc = 0;
    return 2 * v / (a + sqrtl(disc));
}

/* due = floor(Λ⁻¹(u)) in ns; returns false when u >= Λ(D). */
static bool lambda_due(struct schedule *s, long double u, uint64_t *due_ns)
{
    const struct schedule_segment *seg;
    long double lambda_start, offset_ns;
    uint64_t offset;

    if (!(u < s->lambda_total)) return false;
    /*
     * The first segment whose end is beyond u; it exists because the last
     * one ends at lambda_total. Zero-rate stretches are skipped here.
     */
    while (u >= s->segments[s->cursor].lambda_end)
        s->cursor++;
    seg = &s->segments[s->cursor];
    lambda_start = s->cursor == 0 ? 0 : s->segments[s->cursor - 1].lambda_end;
    offset_ns = floorl(segment_inverse(seg, u - lambda_start) * 1e9L);
    /* Mathematically inside the segment; keep rounding from leaving it. */
    offset = offset_ns < (long double)seg->duration_ns ? (uint64_t)offset_ns : seg->duration_ns - 1;
    *due_ns = seg->start_ns + offset;
    return true;
}

/* u_index: the index itself, or E_0 + ... + E_index summed in order. */
static long double cumulative_draw(struct schedule *s, uint64_t index)
{
    if (s->arrival == ARRIVAL_CONSTANT) return (long double)index;
    while (s->summed <= index) {
        s->u_sum += exponential_draw(s->hash_key, s->summed);
        s->summed++;
    }
    return s->u_sum;
}

/* ---- Set-up ------------------------------------------------------------ */

static bool rate_ok(double rate)
{
    return isfinite(rate) && rate >= 0;
}

/* Checks everything but the stages themselves. */
static bool cfg_shape_ok(const struct schedule_cfg *cfg)
{
    if (cfg->arrival != ARRIVAL_CONSTANT && cfg->arrival != ARRIVAL_POISSON) return false;
    if (cfg->nshards == 0 || cfg->shard >= cfg->nshards || cfg->nthreads == 0 || cfg->thread >= cfg->nthreads)
        return false;
    if (cfg->nstages == 0) return rate_ok(cfg->rate) && cfg->rate > 0 && cfg->duration_ns > 0;
    return cfg->stages != NULL && cfg->nstages <= SCHEDULE_MAX_STAGES && rate_ok(cfg->start_rate);
}

/* Appends a segment from rate_start to rate_end; zero-length ones add nothing. */
static void add_segment(struct schedule *s, uint64_t start_ns, uint64_t duration_ns, double rate_start, double rate_end)
{
    struct schedule_segment *seg = &s->segments[s->nsegments];
    long double seconds = (long double)duration_ns / 1e9L;

    if (duration_ns == 0) return;
    seg->start_ns = start_ns;
    seg->duration_ns = duration_ns;
    seg->rate_start = rate_start;
    seg->slope = ((long double)rate_end - rate_start) / seconds;
    s->lambda_total += ((long double)rate_start + rate_end) / 2 * seconds;
    seg->lambda_end = s->lambda_total;
    s->nsegments++;
}

/* Builds the segments from the stages; false on a bad rate or duration. */
static bool build_stages(struct schedule *s, const struct schedule_cfg *cfg)
{
    double rate = cfg->start_rate;
    uint64_t t_ns = 0;

    for (size_t k = 0; k < cfg->nstages; k++) {
        const struct stage *st = &cfg->stages[k];
        if (!rate_ok(st->target_rate)) return false;
        add_segment(s, t_ns, st->duration_ns, rate, st->target_rate);
        if (__builtin_add_overflow(t_ns, st->duration_ns, &t_ns)) return false;
        rate = st->target_rate;
    }
    s->duration_ns = t_ns;
    return t_ns > 0;
}

/* Splits the constant rate into odd · 2^exp2 for exact_due. */
static void prepare_exact(struct schedule *s, double rate)
{
    int exp2;
    double mantissa = frexp(rate, &exp2);

    s->rate_odd = (uint64_t)ldexp(mantissa, 53);
    s->rate_exp2 = exp2 - 53;
    while ((s->rate_odd & 1) == 0) {
        s->rate_odd >>= 1;
        s->rate_exp2++;
    }
    s->rate = rate;
    s->exact = true;
}

int schedule_init(struct schedule *s, const struct schedule_cfg *cfg)
{
    uint64_t first;

    if (s == NULL || cfg == NULL || !cfg_shape_ok(cfg)) return -EINVAL;
    memset(s, 0, sizeof *s);
    s->arrival = cfg->arrival;
    s->hash_key = hash_mix64(cfg->seed);
    s->stride = (uint64_t)cfg->nshards * cfg->nthreads;
    if (cfg->nstages == 0) {
        s->duration_ns = cfg->duration_ns;
        add_segment(s, 0, cfg->duration_ns, cfg->rate, cfg->rate);
        if (cfg->arrival == ARRIVAL_CONSTANT) prepare_exact(s, cfg->rate);
    } else if (!build_stages(s, cfg)) {
        return -EINVAL;
    }
    first = (uint64_t)cfg->thread * cfg->nshards;
    s->done = __builtin_add_overflow(first, cfg->shard, &s->next_index);
    return 0;
}

bool schedule_next(struct schedule *s, uint64_t *due_ns, uint64_t *index)
{
    uint64_t i = s->next_index, due;
    bool exists;

    if (s->done) return false;
    if (s->exact)
        exists = exact_due(s, i, &due);
    else
        exists = lambda_due(s, cumulative_draw(s, i), &due);
    if (!exists) {
        s->done = true;
        return false;
    }
    *due_ns = due;
    *index = i;
    s->done = __builtin_add_overflow(i, s->stride, &s->next_index);
    return true;
}

/* ---- Questions about a configuration ----------------------------------- */

uint64_t schedule_duration_ns(const struct schedule_cfg *cfg)
{
    uint64_t total = 0;

    if (cfg->nstages == 0) return cfg->duration_ns;
    for (size_t k = 0; k < cfg->nstages; k++)
        if (__builtin_add_overflow(total, cfg->stages[k].duration_ns, &total)) return UINT64_MAX;
    return total;
}

double schedule_rate_at(const struct schedule_cfg *cfg, uint64_t t_ns)
{
    double rate = cfg->start_rate;
    uint64_t start_ns = 0;

    if (cfg->nstages == 0) return t_ns < cfg->duration_ns ? cfg->rate : 0;
    for (size_t k = 0; k < cfg->nstages; k++) {
        const struct stage *st = &cfg->stages[k];
        if (t_ns - start_ns < st->duration_ns) {
            double progress = (double)(t_ns - start_ns) / (double)st->duration_ns;
            return rate + (st->target_rate - rate) * progress;
        }
        start_ns += st->duration_ns;
        rate = st->target_rate;
    }
    return 0;
}

double schedule_expected_count(const struct schedule_cfg *cfg)
{
    long double total = 0, rate = cfg->start_rate;

    if (cfg->nstages == 0) return (double)((long double)cfg->rate * cfg->duration_ns / 1e9L);
    for (size_t k = 0; k < cfg->nstages; k++) {
        const struct stage *st = &cfg->stages[k];
        total += (rate + st->target_rate) / 2 * st->duration_ns / 1e9L;
        rate = st->target_rate;
    }
    return (double)total;
}

/* The integral of a linear rate from r0 at s0 to r1 at s1 over [lo, hi] within it. */
static long double ramp_area(double r0, double r1, uint64_t s0, uint64_t s1, uint64_t lo, uint64_t hi)
{
    long double span = (long double)(s1 - s0);
    long double at_lo = r0 + (r1 - r0) * (long double)(lo - s0) / span;
    long double at_hi = r0 + (r1 - r0) * (long double)(hi - s0) / span;
    return (at_lo + at_hi) / 2 * (long double)(hi - lo) / 1e9L;
}

double schedule_expected_between(const struct schedule_cfg *cfg, uint64_t from_ns, uint64_t to_ns)
{
    uint64_t end = schedule_duration_ns(cfg);
    if (to_ns > end) to_ns = end;
    if (to_ns <= from_ns) return 0;
    if (cfg->nstages == 0) return (double)((long double)cfg->rate * (long double)(to_ns - from_ns) / 1e9L);
    long double total = 0;
    double rate = cfg->start_rate;
    uint64_t s0 = 0;
    for (size_t k = 0; k < cfg->nstages && s0 < to_ns; k++) {
        const struct stage *st = &cfg->stages[k];
        uint64_t s1 = s0 + st->duration_ns;
        uint64_t lo = from_ns > s0 ? from_ns : s0, hi = to_ns < s1 ? to_ns : s1;
        if (hi > lo) total += ramp_area(rate, st->target_rate, s0, s1, lo, hi);
        s0 = s1;
        rate = st->target_rate;
    }
    return (double)total;
}

/* ---- Parsing ----------------------------------------------------------- */

/* Copies [begin, end) without surrounding spaces into buf; false if too long. */
static bool copy_field(const char *begin, const char *end, char buf[STAGE_FIELD_MAX])
{
    while (begin < end && *begin == ' ')
        begin++;
    while (end > begin && end[-1] == ' ')
        end--;
    if ((size_t)(end - begin) >= STAGE_FIELD_MAX) return false;
    memcpy(buf, begin, (size_t)(end - begin));
    buf[end - begin] = '\0';
    return true;
}

/* Parses one "duration:target" item held in [begin, end). */
static int parse_stage(const char *begin, const char *end, struct stage *out)
{
    const char *colon = memchr(begin, ':', (size_t)(end - begin));
    char duration[STAGE_FIELD_MAX], target[STAGE_FIELD_MAX];

    if (colon == NULL || !copy_field(begin, colon, duration) || !copy_field(colon + 1, end, target)) return -EINVAL;
    if (parse_duration_ns(duration, &out->duration_ns) < 0 || parse_rate_or_zero(target, &out->target_rate) < 0)
        return -EINVAL;
    return 0;
}

int schedule_parse_stages(const char *spec, struct stage *out, size_t max, size_t *n)
{
    const char *item = spec;
    size_t count = 0;

    if (spec == NULL || out == NULL || n == NULL) return -EINVAL;
    for (;;) {
        const char *comma = strchr(item, ',');
        const char *end = comma != NULL ? comma : item + strlen(item);
        int rc;

        if (count == max) return -E2BIG;
        rc = parse_stage(item, end, &out[count]);
        if (rc < 0) return rc;
        count++;
        if (comma == NULL) break;
        item = comma + 1;
    }
    *n = count;
    return 0;
}

/* True when the share has an arrival m steps after its next one (constant arrivals only). */
static bool share_has(const struct schedule *s, uint64_t m)
{
    struct schedule probe = *s;
    uint64_t due, index;
    if (m > (UINT64_MAX - s->next_index) / s->stride) return false;
    probe.next_index = s->next_index + m * s->stride;
    return schedule_next(&probe, &due, &index);
}

/*
 * How many arrivals s has left, consuming them. With constant arrivals
 * (u_i = i) an arrival exists exactly for the indices below a bound, and a
 * copy of the schedule moved to any later index of the share says whether
 * that one exists; so galloping and bisecting find the count in O(log n)
 * probes even for billions of arrivals. Poisson draws must be summed in
 * index order, so those arrivals are stepped through (~20 ns each per
 * thread), checking *stop now and then: after Ctrl-C, arrivals not yet
 * due are not scheduled (docs/measurement.md).
 */
uint64_t schedule_rest(struct schedule *s, atomic_bool *stop)
{
    uint64_t due, index, lo = 0, hi = 1;
    if (s->arrival == ARRIVAL_POISSON) {
        uint64_t n = 0;
        while (schedule_next(s, &due, &index))
            if ((++n & 0xffff) == 0 && atomic_load_explicit(stop, memory_order_relaxed)) break;
        return n;
    }
    if (s->done || !share_has(s, 0)) return 0;
    while (hi < UINT64_MAX / 2 && share_has(s, hi))
        lo = hi, hi *= 2; /* has(lo), !has(hi) */
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (share_has(s, mid))
            lo = mid;
        else
            hi = mid;
    }
    s->done = true;
    return hi;
}

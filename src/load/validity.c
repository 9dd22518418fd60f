/*
 * validity.c — the late-sends rule (see validity.h, docs/measurement.md).
 *
 * Two checks, each relative to the latency the lag inflates:
 * - tail: enough arrivals later than --max-lag (a count and a share, so one
 *   scheduler hiccup in a 50-arrival run is not a verdict) while the lag
 *   p99 is more than a tenth of the latency p99;
 * - median: the typical arrival left late by more than a quarter of the
 *   typical latency (the epoll wake-up floor against a fast server).
 */
#include "load/validity.h"

#include <stdio.h>

void validity_figures(struct lag_figures *f, const struct hist *lag, const struct hist *latency, uint64_t max_lag_us,
                      enum validity_spin spin)
{
    *f = (struct lag_figures){.max_lag_us = max_lag_us, .spin = spin};
    if (lag && lag->total_count > 0) {
        f->arrivals = (uint64_t)lag->total_count;
        f->lag_p50_us = hist_value_at_percentile(lag, 50);
        f->lag_p99_us = hist_value_at_percentile(lag, 99);
        struct hist_iter it;
        hist_iter_init(&it, lag);
        /* A bucket counts as late when its lowest value is: never over-counts. */
        while (hist_iter_next(&it))
            if (it.value_lo > (int64_t)max_lag_us) f->late += (uint64_t)it.count;
    }
    if (latency && latency->total_count > 0) {
        f->lat_p50_us = hist_value_at_percentile(latency, 50);
        f->lat_p99_us = hist_value_at_percentile(latency, 99);
    }
}

/* Microseconds as "850 us" or "4.1 ms". */
static const char *fmt_us(char *buf, size_t n, int64_t us)
{
    if (us < 1000)
        snprintf(buf, n, "%lld us", (long long)us);
    else
        snprintf(buf, n, "%.1f ms", (double)us / 1e3);
    return buf;
}

/* The fix for a median lag: spin (or spin longer) before each deadline. */
static const char *median_fix(const struct lag_figures *f, char *buf, size_t n)
{
    /* Twice the median lag, in tens of µs, covers most wake-ups. */
    long long spin = ((2 * f->lag_p50_us + 9) / 10) * 10;
    if (f->spin == VALIDITY_SPIN_OFF)
        snprintf(buf, n, "drop --spin 0 so salvo spins before each send, or give --spin %lldus", spin);
    else if (f->spin == VALIDITY_SPIN_FIXED)
        snprintf(buf, n, "raise --spin to about %lldus, or spread the rate over more threads (-t)", spin);
    else
        snprintf(buf, n,
                 "the automatic spin ran out of its CPU budget: give --spin %lldus (costs CPU) or more "
                 "threads (-t)",
                 spin);
    return buf;
}

bool validity_lag(const struct lag_figures *f, char *reason, size_t n)
{
    char a[32], b[32], fix[160];
    if (f->arrivals == 0) return true;
    double share_min = VALIDITY_LATE_SHARE * (double)f->arrivals;
    bool many_late = f->late >= VALIDITY_LATE_MIN && (double)f->late >= share_min;
    if (many_late && (double)f->lag_p99_us > VALIDITY_TAIL_SHARE * (double)f->lat_p99_us) {
        double pct = f->lat_p99_us > 0 ? 100.0 * (double)f->lag_p99_us / (double)f->lat_p99_us : 100.0;
        snprintf(reason, n,
                 "generator fell behind its schedule: %llu of %llu arrivals (%.0f%%) left more than %s late; send lag "
                 "p99 %s is %.0f%% of latency p99 %s (the machine is busy or the rate too high for the threads: "
                 "quiet the machine, add threads with -t, or lower the rate)",
                 (unsigned long long)f->late, (unsigned long long)f->arrivals,
                 100.0 * (double)f->late / (double)f->arrivals, fmt_us(fix, sizeof(fix), (int64_t)f->max_lag_us),
                 fmt_us(a, sizeof(a), f->lag_p99_us), pct, fmt_us(b, sizeof(b), f->lat_p99_us));
        return false;
    }
    if (f->arrivals >= VALIDITY_LATE_MIN && f->lag_p50_us >= VALIDITY_P50_FLOOR_US &&
        (double)f->lag_p50_us > VALIDITY_MEDIAN_SHARE * (double)f->lat_p50_us) {
        double pct = f->lat_p50_us > 0 ? 100.0 * (double)f->lag_p50_us / (double)f->lat_p50_us : 100.0;
        snprintf(reason, n,
                 "generator late at the median: send lag p50 %s is %.0f%% of latency p50 %s, so the typical latency "
                 "is the generator's wake-up, not the server (%s)",
                 fmt_us(a, sizeof(a), f->lag_p50_us), pct, fmt_us(b, sizeof(b), f->lat_p50_us),
                 median_fix(f, fix, sizeof(fix)));
        return false;
    }
    return true;
}

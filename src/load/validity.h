/*
 * validity.h — rule 1 of docs/measurement.md: was the generator late enough
 * to shape the latencies it reports?
 *
 * Every latency includes the generator's own lateness (latency >= send
 * lag), so lag matters in proportion to the figures it inflates. The rule
 * is pure: it takes counts and percentiles of one window (a whole run, or
 * one second of it) and returns a verdict with its reason. The verdict of a
 * run and the per-second warnings both come from validity_lag, so a run
 * whose every second warned is never called valid, and the reverse.
 */
#ifndef SALVO_VALIDITY_H
#define SALVO_VALIDITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/hist.h"

#define VALIDITY_LATE_MIN 5        /* fewer late arrivals than this are stragglers, not a pattern */
#define VALIDITY_LATE_SHARE 0.01   /* ... and so are fewer than 1 %: the p99 is not touched */
#define VALIDITY_TAIL_SHARE 0.10   /* lag p99 above a tenth of latency p99 shapes the tail */
#define VALIDITY_MEDIAN_SHARE 0.25 /* lag p50 above a quarter of latency p50 shapes the median */
#define VALIDITY_P50_FLOOR_US 20   /* a median lag below this is clock-read and syscall noise */

/* How the generator was told to spin before deadlines: chooses the fix it suggests. */
enum validity_spin { VALIDITY_SPIN_AUTO, VALIDITY_SPIN_FIXED, VALIDITY_SPIN_OFF };

/* The figures the rule reads, for one window. */
struct lag_figures {
    uint64_t arrivals; /* send-lag samples (arrivals that came due) */
    uint64_t late;     /* of them, later than max_lag_us */
    int64_t lag_p50_us, lag_p99_us;
    int64_t lat_p50_us, lat_p99_us; /* latency (responses and timeouts) in the same window */
    uint64_t max_lag_us;            /* --max-lag */
    enum validity_spin spin;
};

/*
 * Fills f from a send-lag and a latency histogram (either may be empty);
 * the late count is every lag sample above max_lag_us.
 */
void validity_figures(struct lag_figures *f, const struct hist *lag, const struct hist *latency, uint64_t max_lag_us,
                      enum validity_spin spin);

/*
 * True when the generator's lateness did not shape the window's latency.
 * Otherwise writes why, with the figures and the fix, to reason (n bytes).
 */
bool validity_lag(const struct lag_figures *f, char *reason, size_t n);

#endif

/*
 * rw_series.h — the series remote write pushes, and their values second by
 * second: the running totals a run's merged seconds add up to, a snapshot
 * of every series' value at one instant, and the encoding of a batch of
 * snapshots into one WriteRequest.
 *
 * Series (their names and the gauges come from report/series.h, as for
 * --metrics; labels run_id and shard on every one; `name` on the per-name ones):
 *   salvo_requests_total{name,outcome=sent|done|error}    counters, as --metrics
 *   salvo_latency_seconds_bucket{name,le}                 classic histogram, cumulative
 *   salvo_latency_seconds_sum{name}, _count{name}
 *   salvo_latency_seconds{name,quantile=0.5|0.9|0.99|0.999}  since the start, as --metrics
 *   salvo_inflight, salvo_connections, salvo_backlog       gauges at the end of the second
 *   salvo_send_lag_max_seconds, salvo_send_lag_p99_seconds
 *   salvo_elapsed_seconds, salvo_valid (1/0)
 *
 * A snapshot is a flat array of doubles in a fixed layout (the gauges,
 * then RW_PER_NAME values per request name); names only ever get added, so
 * a later snapshot's layout extends an earlier one's. NAN marks a series
 * without a value (a name with no latency yet): it gets no sample.
 *
 * Ownership: struct rw_totals is caller-owned (rw_totals_release frees
 * its arrays); a snapshot's values are malloc'd by rw_totals_snap and freed
 * by rw_snap_release.
 */
#ifndef SALVO_RW_SERIES_H
#define SALVO_RW_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/hist.h"
#include "load/recorder.h"
#include "load/run.h"
#include "report/rw_encode.h"
#include "report/series.h"

#define RW_NBUCKETS 15 /* latency histogram buckets, +Inf included */
#define RW_NQUANTILES 4
#define RW_NGAUGES SERIES_NGAUGES /* report/series.h */
#define RW_PER_NAME (3 + RW_NBUCKETS + 2 + RW_NQUANTILES)

/* Upper bounds of the latency buckets in seconds, below +Inf. */
extern const double RW_BUCKETS_S[RW_NBUCKETS - 1];

/* One instant's value of every series. */
struct rw_snap {
    int64_t timestamp_ms;
    uint32_t ngroups;
    double *values; /* rw_snap_len(ngroups) values */
};

/* The run's totals per request name since its start (main thread). */
struct rw_totals {
    uint32_t ngroups;
    uint64_t *sent, *done, *errors;
    struct hist *latency; /* allocated at the first latency of a name */
    bool *has_hist;
};

/*
 * The live validity of one second, for salvo_valid here and in --metrics:
 * 0 when its arrivals' send-lag p99 exceeded --max-lag, else 1 (the
 * run's verdict, which weighs more, comes with the final push).
 */
double rw_second_valid(const struct timeline_row *row, uint64_t max_lag_ns);

/* Values in a snapshot of ngroups names. */
size_t rw_snap_len(uint32_t ngroups);
void rw_snap_release(struct rw_snap *s);

void rw_totals_init(struct rw_totals *t);
void rw_totals_release(struct rw_totals *t);
/* Adds one merged second. */
void rw_totals_add(struct rw_totals *t, const struct interval *merged);
/*
 * Fills s with the totals, the gauges of row and valid (1 or 0), stamped
 * timestamp_ms.
 */
void rw_totals_snap(const struct rw_totals *t, const struct timeline_row *row, double valid, int64_t timestamp_ms,
                    struct rw_snap *s);

/* The labels every series carries besides its own. */
struct rw_common {
    const char *const *names; /* request names, at least the newest snapshot's ngroups */
    const char *run_id, *shard;
};

/*
 * Appends to req every series with at least one value in snaps[0..n)
 * (oldest first), each with its samples in that order. Returns the number
 * of series written.
 */
size_t rw_snaps_encode(struct rw_request *req, const struct rw_snap *snaps, size_t n, const struct rw_common *c);

#endif

/*
 * metrics.h — the counters behind GET /metrics, in Prometheus text format.
 *
 * A demo of coordinated omission needs the server's own view to compare
 * with the load generator's: how many requests were answered with which
 * code, how often the cache answered, how deep the queue was, and how long
 * the real computations took. Counters live in the event thread (workers
 * hand their compute times back with each finished job), so nothing here is
 * atomic or locked, and recording is a few additions.
 *
 * Rendering writes into a caller-owned buffer (no allocation) and fails
 * with -ENOSPC rather than send a truncated page.
 */
#ifndef SALVO_TARGET_METRICS_H
#define SALVO_TARGET_METRICS_H

#include <stddef.h>
#include <stdint.h>

#define METRICS_CODES 12           /* the status codes the target sends, plus "other" */
#define METRICS_COMPUTE_BUCKETS 14 /* finite upper bounds of the compute-time histogram */

/* Values owned by other modules, sampled at render time. */
struct metrics_gauges {
    uint64_t cache_hits, cache_misses, cache_evictions;
    uint32_t cache_entries, cache_capacity;
    uint32_t queue_depth, queue_capacity, inflight, workers;
    uint32_t connections;
};

/* The event thread's counters. */
struct target_metrics {
    uint64_t requests[METRICS_CODES];                 /* by status code, see metrics.c */
    uint64_t compute_le[METRICS_COMPUTE_BUCKETS + 1]; /* non-cumulative; the last is +Inf */
    uint64_t compute_count, compute_sum_ns, settled_total;
    uint64_t connections_total, connections_refused;
    uint64_t connections_evicted; /* closed to make room for a new one (server.c: evict) */
};

/* Zeroes every counter. */
void target_metrics_init(struct target_metrics *m);
/* Counts one response with status code `code`. */
void target_metrics_count(struct target_metrics *m, int code);
/* Records one route computation: its duration and the nodes A* settled. */
void target_metrics_compute(struct target_metrics *m, uint64_t compute_ns, uint32_t settled);

/* Writes the exposition into buf. Returns its length, or -ENOSPC if cap is too small. */
int target_metrics_render(const struct target_metrics *m, const struct metrics_gauges *g, char *buf, size_t cap);

#endif

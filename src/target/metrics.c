/*
 * metrics.c — counting and Prometheus rendering; see metrics.h for the why.
 *
 * Histogram buckets are kept non-cumulative (one increment per sample) and
 * summed into Prometheus's cumulative "le" form only when rendered, which
 * is rare compared with recording. Bucket bounds run from 100 µs to 1 s: a
 * route miss on the default map takes one to tens of milliseconds.
 */
#include "target/metrics.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* The codes with their own series; index METRICS_CODES - 1 is "other". */
static const int codes[METRICS_CODES - 1] = {200, 400, 401, 404, 405, 413, 422, 431, 500, 501, 503};

/* Bucket upper bounds in nanoseconds, with their label text. */
static const uint64_t bucket_ns[METRICS_COMPUTE_BUCKETS] = {100000,    250000,    500000,     1000000,   2500000,
                                                            5000000,   10000000,  25000000,   50000000,  100000000,
                                                            250000000, 500000000, 1000000000, 2500000000};
static const char *const bucket_label[METRICS_COMPUTE_BUCKETS] = {"0.0001", "0.00025", "0.0005", "0.001", "0.0025",
                                                                  "0.005",  "0.01",    "0.025",  "0.05",  "0.1",
                                                                  "0.25",   "0.5",     "1",      "2.5"};

/* The counter index of a status code. */
static int code_index(int code)
{
    for (int i = 0; i < METRICS_CODES - 1; i++)
        if (codes[i] == code) return i;
    return METRICS_CODES - 1;
}

void target_metrics_init(struct target_metrics *m)
{
    memset(m, 0, sizeof(*m));
}

void target_metrics_count(struct target_metrics *m, int code)
{
    m->requests[code_index(code)]++;
}

void target_metrics_compute(struct target_metrics *m, uint64_t compute_ns, uint32_t settled)
{
    int i = 0;
    while (i < METRICS_COMPUTE_BUCKETS && compute_ns > bucket_ns[i])
        i++;
    m->compute_le[i]++;
    m->compute_count++;
    m->compute_sum_ns += compute_ns;
    m->settled_total += settled;
}

/* An append-only view of the output buffer; `failed` once anything did not fit. */
struct out {
    char *buf;
    size_t cap, len;
    bool failed;
};

/* Appends formatted text. */
__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...)
{
    if (o->failed) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->cap - o->len)
        o->failed = true;
    else
        o->len += (size_t)n;
}

/* Appends a metric's HELP and TYPE lines. */
static void head(struct out *o, const char *name, const char *type, const char *help)
{
    put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Requests by code, and the compute-time histogram. */
static void render_counters(const struct target_metrics *m, struct out *o)
{
    head(o, "salvo_target_requests_total", "counter", "Responses sent, by HTTP status code.");
    for (int i = 0; i < METRICS_CODES - 1; i++)
        put(o, "salvo_target_requests_total{code=\"%d\"} %llu\n", codes[i], (unsigned long long)m->requests[i]);
    put(o, "salvo_target_requests_total{code=\"other\"} %llu\n", (unsigned long long)m->requests[METRICS_CODES - 1]);
    head(o, "salvo_target_route_compute_seconds", "histogram", "Time spent computing routes (cache misses) in A*.");
    uint64_t cumulative = 0;
    for (int i = 0; i < METRICS_COMPUTE_BUCKETS; i++) {
        cumulative += m->compute_le[i];
        put(o, "salvo_target_route_compute_seconds_bucket{le=\"%s\"} %llu\n", bucket_label[i],
            (unsigned long long)cumulative);
    }
    put(o, "salvo_target_route_compute_seconds_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)m->compute_count);
    put(o, "salvo_target_route_compute_seconds_sum %.9f\n", (double)m->compute_sum_ns / 1e9);
    put(o, "salvo_target_route_compute_seconds_count %llu\n", (unsigned long long)m->compute_count);
    head(o, "salvo_target_route_settled_nodes_total", "counter", "Intersections settled by A*, summed over routes.");
    put(o, "salvo_target_route_settled_nodes_total %llu\n", (unsigned long long)m->settled_total);
    head(o, "salvo_target_connections_total", "counter", "Connections accepted.");
    put(o, "salvo_target_connections_total %llu\n", (unsigned long long)m->connections_total);
    head(o, "salvo_target_connections_refused_total", "counter", "Connections closed at once: too many open.");
    put(o, "salvo_target_connections_refused_total %llu\n", (unsigned long long)m->connections_refused);
    head(o, "salvo_target_connections_evicted_total", "counter",
         "Connections closed to make room: the longest without an answer went first.");
    put(o, "salvo_target_connections_evicted_total %llu\n", (unsigned long long)m->connections_evicted);
}

/* One gauge or counter with a single unlabelled sample. */
static void single(struct out *o, const char *name, const char *type, const char *help, unsigned long long v)
{
    head(o, name, type, help);
    put(o, "%s %llu\n", name, v);
}

int target_metrics_render(const struct target_metrics *m, const struct metrics_gauges *g, char *buf, size_t cap)
{
    struct out o = {.buf = buf, .cap = cap};
    if (cap == 0) return -ENOSPC;
    render_counters(m, &o);
    single(&o, "salvo_target_cache_hits_total", "counter", "Route requests answered from the cache.", g->cache_hits);
    single(&o, "salvo_target_cache_misses_total", "counter", "Route requests the cache could not answer.",
           g->cache_misses);
    single(&o, "salvo_target_cache_evictions_total", "counter", "Cache entries evicted to make room.",
           g->cache_evictions);
    single(&o, "salvo_target_cache_entries", "gauge", "Routes in the cache.", g->cache_entries);
    single(&o, "salvo_target_cache_capacity", "gauge", "Capacity of the cache (--cache).", g->cache_capacity);
    single(&o, "salvo_target_queue_depth", "gauge", "Route jobs waiting for a worker.", g->queue_depth);
    single(&o, "salvo_target_queue_capacity", "gauge", "Size of the job queue (--queue).", g->queue_capacity);
    single(&o, "salvo_target_inflight", "gauge", "Route jobs queued or being computed.", g->inflight);
    single(&o, "salvo_target_workers", "gauge", "Worker threads (--workers).", g->workers);
    single(&o, "salvo_target_connections", "gauge", "Open client connections.", g->connections);
    return o.failed ? -ENOSPC : (int)o.len;
}

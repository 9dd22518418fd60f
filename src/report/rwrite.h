/*
 * rwrite.h — `--remote-write URL`: push the run's per-second figures to a
 * Prometheus remote-write receiver (Prometheus, Mimir, Thanos, VictoriaMetrics,
 * Grafana Cloud) while the run lasts, and once more when it ends.
 *
 * The series are those of `--metrics` (report/prom.c), with the same names
 * and labels plus run_id and shard, and the latency also as a classic
 * histogram (report/rw_series.h lists them; docs/remote-write.md too).
 *
 * Threads: the main thread calls rwrite_second once a second (after the
 * merge; it turns the second into a snapshot of every series, O(names x
 * histogram) work that the workers never see) and queues it; a pusher
 * thread of its own encodes whatever is queued into one request and POSTs
 * it with the internal client (http/client.h). A push that fails is retried
 * once, with the same bytes, before anything newer is sent; failing again,
 * its samples are dropped and counted. Samples therefore reach the
 * receiver in time order, as Prometheus requires. The queue is bounded
 * (RW_QUEUE_MAX seconds; the oldest are dropped first, counted), so a slow
 * receiver costs bounded memory, and each push has a deadline, so a
 * receiver that hangs delays the run's end by at most RW_FINAL_BUDGET_NS.
 *
 * Errors never end the run: they are counted (rwrite_stats) and the first
 * one is kept for one warning (rwrite_take_warning). This module prints
 * nothing.
 */
#ifndef SALVO_RWRITE_H
#define SALVO_RWRITE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "http/tls.h"
#include "http/url.h"
#include "load/config.h"
#include "load/recorder.h"
#include "load/run.h"
#include "report/rw_series.h"

#define RW_MAX_HEADERS 16
#define RW_QUEUE_MAX 120                 /* seconds of snapshots waiting for the receiver */
#define RW_PUSH_TIMEOUT_NS 2000000000ull /* one push while the run lasts */
#define RW_FINAL_BUDGET_NS 4000000000ull /* from rwrite_finish until everything is sent or dropped */

/* What --remote-write and --remote-write-header said; checked before the run. */
struct rwrite_opts {
    const char *url_text;
    struct url url; /* parsed and resolved by rwrite_opts_url */
    const char *headers[RW_MAX_HEADERS];
    int nheaders;
};

/*
 * Checks URL (http:// or https://, a host that resolves). Returns 0, or
 * -EINVAL / -EHOSTUNREACH with *why set to a static reason.
 */
int rwrite_opts_url(struct rwrite_opts *o, const char *url, const char **why);
/*
 * Checks one 'Name: value' header and keeps it (borrowed). Returns 0, or
 * -EINVAL / -E2BIG with *why set: no name, a space or control byte in it, a
 * CR/LF in the value, or a header salvo sets itself (Content-Type, ...).
 */
int rwrite_opts_header(struct rwrite_opts *o, const char *kv, const char **why);

/* Counters of the pushes, for the results JSON (remote_write). */
struct rwrite_stats {
    uint64_t pushes;          /* POSTs attempted, retries included */
    uint64_t pushes_ok;       /* answered 2xx */
    uint64_t pushes_failed;   /* attempts that failed (error or non-2xx) */
    uint64_t pushes_dropped;  /* requests given up (after the retry, or a 4xx): their samples are lost */
    uint64_t seconds_sent;    /* snapshots the receiver accepted */
    uint64_t seconds_dropped; /* snapshots lost: in dropped pushes, over the queue cap, or not sent in time */
    uint64_t series;          /* series in the last push */
    char first_error[256];    /* "" when none */
};

/* The pusher; caller-owned, zero it or rwrite_start it. */
struct rwrite {
    bool started;
    const struct rwrite_opts *opts;
    const char *const *names; /* request names (the frozen config's), borrowed */
    char run_id[24], shard[32];
    char *headers; /* the request's extra header lines */
    struct tls tls;
    bool has_tls;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    /* guarded by mu */
    struct rw_snap queue[RW_QUEUE_MAX];
    uint32_t qhead, qlen;
    bool finishing;
    uint64_t final_deadline_ns;
    bool warned;
    struct rwrite_stats stats;
    /* main thread only */
    struct rw_totals totals;
    struct timeline_row last_row; /* its numbers only: the final snapshot's gauges */
    bool has_row;
    int64_t last_ms;     /* the newest snapshot's timestamp: each next one is later */
    uint64_t max_lag_ns; /* --max-lag, for salvo_valid's live rule */
};

/* Starts the pusher thread for cfg's run. Returns 0 or -errno (*why set). */
int rwrite_start(struct rwrite *w, const struct rwrite_opts *o, const struct run_config *cfg, const char **why);
/* Queues one merged second (main thread). */
void rwrite_second(struct rwrite *w, const struct timeline_row *row, const struct interval *merged);
/*
 * Queues the final snapshot (valid: the run's verdict on its generator),
 * then waits until the queue is sent or dropped: at most
 * RW_FINAL_BUDGET_NS (a push already under way ends within it, as its own
 * deadline, RW_PUSH_TIMEOUT_NS, is shorter). Stops the thread; w keeps its
 * stats.
 */
void rwrite_finish(struct rwrite *w, bool valid);
/* Copies the counters (any thread). */
void rwrite_stats(struct rwrite *w, struct rwrite_stats *out);
/* True once, after the first failed push, with the warning's text in buf. */
bool rwrite_take_warning(struct rwrite *w, char *buf, size_t n);
/* Frees everything; safe on a zeroed or finished w. */
void rwrite_release(struct rwrite *w);

#endif

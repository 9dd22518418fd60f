/*
 * scrape.h — `salvo run --scrape URL`: a server's Prometheus metrics,
 * read once a second while the load runs, kept per second of the run.
 *
 * Each target has its own thread (never a worker's: a slow /metrics must
 * not shape the load) that reads the endpoint with the internal client
 * (http/client.h) under a deadline of SCRAPE_TIMEOUT_NS (an answer later than its own second is a gap). A first
 * "baseline" round is read when the thread starts, before the load; then a round in the middle of every second k of the
 * run (t0 + k s + 0.5 s), so round k is row k of the run's timeline; a last round follows the run's end (unless the
 * endpoint is failing, which would only delay the exit). A failed, late or missed round is a gap: NAN, never 0.
 *
 * What a round keeps per series (one double per series and round, two for
 * a histogram: SCRAPE_BYTES_PER_SERIES_SECOND):
 *   - counter: the per-second rate since the previous good round; a value
 *     below the previous one is a reset and counts from 0 (as rate() does);
 *   - gauge, untyped, summary quantile: the value;
 *   - histogram (its _bucket lines, le dropped from the key): the p99 and
 *     p50 of the observations between two rounds, from the bucket deltas
 *     (as histogram_quantile() interpolates); its _sum and _count are counters.
 * Series are picked by a POSIX extended regex on `name{labels}`; at most
 * cap series are kept over all targets, the others are counted, not kept.
 *
 * Threads: scrape_start starts them; until scrape_stop returns, only the
 * threads touch the targets' state; after it the caller reads it freely.
 */
#ifndef SALVO_SCRAPE_H
#define SALVO_SCRAPE_H

#include <pthread.h>
#include <regex.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/prom_text.h"
#include "http/tls.h"
#include "http/url.h"

#define SCRAPE_MAX_TARGETS 8
#define SCRAPE_CAP_DEFAULT 200
#define SCRAPE_TIMEOUT_NS (500 * 1000000ull) /* a round at k + 0.5 s must answer within its own second k */
#define SCRAPE_MAX_BODY (16u << 20)
#define SCRAPE_HIST_BUCKETS 64           /* more distinct le values: the extra ones are ignored */
#define SCRAPE_MAX_ERRORS 8              /* distinct causes kept per target; more are counted under the last */
#define SCRAPE_BYTES_PER_SERIES_SECOND 8 /* 16 for a histogram (p99 and p50) */
#define SCRAPE_LIVE_SERIES 16            /* series in the live snapshot (the dashboard's charts), over all targets */
#define SCRAPE_LIVE_POINTS 600           /* the last seconds of each in it */

/* A histogram's bucket state between two rounds. */
struct scrape_hist {
    uint32_t nb;
    double le[SCRAPE_HIST_BUCKETS];
    double cur[SCRAPE_HIST_BUCKETS], prev[SCRAPE_HIST_BUCKETS];
    bool has_prev;
};

/* One kept series. */
struct scrape_series {
    char *key;       /* name{labels} as exposed (label values escaped), owned */
    size_t name_len; /* key[0..name_len) is the metric name */
    enum prom_text_kind kind;
    double *val;        /* per round: rate, value or p99; NAN for a gap */
    double *p50;        /* histograms only */
    double prev;        /* counters: the last good raw value */
    uint64_t prev_ns;   /* when it was read (0: none yet) */
    double first, last; /* the first and last raw value read (counters, gauges) or p99 (histograms) */
    bool has_first;
    double increase; /* counters: total increase over the rounds read, resets handled */
    uint32_t seen;   /* the round (+1) it was last read in */
    struct scrape_hist *hist;
    uint32_t chain; /* next index in its hash bucket + 1 (0: end) */
    uint64_t hash;
};

/* A distinct cause of failed or partial rounds. */
struct scrape_error {
    char cause[200];
    uint32_t count;
    int32_t first_round;
};

struct scrape;

/* One endpoint and what was read from it. */
struct scrape_target {
    struct scrape *owner;
    const char *url_text;
    struct url url;
    pthread_t thread;
    bool started;
    /* Rounds: round 0 is the baseline; round i > 0 is row k[i] of the timeline (k beyond the run: after it). */
    uint64_t *round_ns;
    int32_t *round_row;
    bool *round_ok;
    uint32_t nrounds, cap_rounds;
    struct scrape_series *series;
    uint32_t nseries, cap_series;
    uint32_t *buckets; /* hash of key -> series index + 1 */
    uint32_t nbuckets;
    uint32_t dropped; /* most series one round matched but could not keep (the cap) */
    struct scrape_error errors[SCRAPE_MAX_ERRORS];
    uint32_t nerrors;
    uint32_t failed_rounds;
    bool warned;
    char *live;     /* its part of the live snapshot (scrape_live), under owner->mu; NULL until a round ended */
    uint32_t nlive; /* the series in it */
};

/* All targets of one run and what they share. */
struct scrape {
    struct scrape_target targets[SCRAPE_MAX_TARGETS];
    size_t ntargets;
    const char *match; /* the regex as given; NULL: every series */
    regex_t re;
    bool has_re;
    uint32_t cap;
    atomic_uint kept; /* series kept over all targets */
    struct tls tls;   /* for https targets */
    bool has_tls;
    uint64_t timeout_ns;
    uint32_t planned_rounds;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    uint64_t start_ns; /* the run's t=0 (monotonic), 0 until known */
    bool live;         /* set before scrape_start: each round also refreshes its target's live snapshot */
    bool stop;
    /* Called from a scrape thread once per target when its first failure happens (may be NULL). */
    void (*warn)(void *ctx, const struct scrape_target *t, const char *cause);
    void *warn_ctx;
};

/*
 * Parses urls and the regex into s. Returns 0, or -EINVAL with a one-line
 * message in why naming the culprit (a bad URL, an unresolvable host, a
 * bad regex, too many targets). s is usable by scrape_release either way.
 */
int scrape_init(struct scrape *s, const char *const *urls, size_t nurls, const char *match, uint32_t cap,
                bool tls_verify, char *why, size_t whylen);

/* Starts one thread per target (baseline round now); planned_ns sizes the per-round arrays. */
int scrape_start(struct scrape *s, uint64_t planned_ns);

/* The run's t=0 (monotonic ns): rounds are timed from it. */
void scrape_set_start(struct scrape *s, uint64_t start_ns);

/* Asks for the last round and joins the threads. */
void scrape_stop(struct scrape *s);

/*
 * The live snapshot of every target (s->live set before scrape_start), for
 * the dashboard while the run goes on: a malloc'd JSON array of
 * {"name": "name{labels}", "unit": "/s" (counters) | "p99" (histograms)?,
 * "points": [[t_s, value|null], ...]}, the first SCRAPE_LIVE_SERIES series
 * over all targets, their last SCRAPE_LIVE_POINTS seconds. NULL when no
 * round ended yet. Any thread.
 */
char *scrape_live(struct scrape *s);

/* Rebuilds t's part of the live snapshot (its thread calls it after each round when s->live). */
void scrape_live_refresh(struct scrape_target *t);

/* Frees everything; a NULL or never-started s is fine. */
void scrape_release(struct scrape *s);

/*
 * Reads one /metrics body into round of t (exposed for tests and the fuzz
 * target: the threads call it). now_ns stamps counters' rates. Returns the
 * number of samples read, or -1 when no line was usable; *bad counts
 * malformed lines and *why is the first one's reason.
 */
int scrape_ingest(struct scrape_target *t, uint32_t round, uint64_t now_ns, const char *body, size_t len, int *bad,
                  const char **why);

/* Adds a round to t (grows the arrays, new slots NAN) and returns its index. */
uint32_t scrape_add_round(struct scrape_target *t, int32_t row, uint64_t now_ns);

#endif

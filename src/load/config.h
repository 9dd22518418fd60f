/*
 * config.h — the frozen configuration of one `salvo run`.
 *
 * Built by the command line front-end before any thread starts and never
 * written afterwards, so workers read it without locks.
 */
#ifndef SALVO_CONFIG_H
#define SALVO_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "http/tls.h"
#include "http/url.h"
#include "load/check.h"
#include "load/reqgen.h"
#include "load/schedule.h"

#include "load/validity.h"

/* The automatic spin's default CPU budget: a quarter of one core per worker thread. */
#define RUN_SPIN_BUDGET 0.25

#define PIPELINE_MAX 256 /* --pipeline cap: requests in flight per connection */

struct script; /* load/script.h */

/* Everything a run needs to know. */
struct run_config {
    struct url url;
    const struct reqgen *gen;                 /* what each arrival sends */
    struct tls tls;                           /* ctx is NULL for http:// */
    bool closed;                              /* closed model (coordinated omission!) */
    bool no_keepalive;                        /* a new connection per request; salvo closes first */
    bool conn_ramp;                           /* closed model with stages: they ramp the connection count */
    double rate;                              /* requests/s; 0 = unpaced (closed model only); with stages: the mean */
    struct stage stages[SCHEDULE_MAX_STAGES]; /* piecewise-linear rate, when nstages > 0 */
    size_t nstages;
    double start_rate;
    uint64_t start_at_wall_ns; /* common wall-clock start of all shards (0: now) */
    enum arrival arrival;
    uint64_t duration_ns;
    uint64_t timeout_ns;
    uint64_t session_timeout_ns; /* --session-timeout: a session's bound from its scheduled start (0: none) */
    uint64_t spin_ns;            /* --spin: fixed busy-poll before each deadline (when !spin_auto) */
    bool spin_auto;              /* no --spin: spin as long as wake-ups are late, within spin_budget */
    double spin_budget;          /* auto spin: share of one core per thread it may burn (0: RUN_SPIN_BUDGET) */
    uint64_t max_lag_ns;         /* an arrival later than this is late (rule 1, docs/measurement.md) */
    uint32_t connections;        /* open: cap; closed: number of connections */
    uint32_t threads;
    uint32_t pipeline; /* HTTP/1.1 requests in flight per connection (1: no pipelining) */
    enum http_mode {
        HTTP_AUTO, /* https: ALPN offers h2 and http/1.1; http: HTTP/1.1 */
        HTTP_1,    /* --http1.1 */
        HTTP_2,    /* --http2: h2 by ALPN, or fail */
        HTTP_2C,   /* --h2c: h2 with prior knowledge over http:// */
    } http_mode;
    uint32_t streams;   /* --streams: HTTP/2 streams in flight per connection (0: the server's limit, at most 100) */
    uint32_t h2_window; /* --h2-window: SETTINGS_INITIAL_WINDOW_SIZE sent (0: the protocol's 65 535) */
    uint32_t h2_conn_window;  /* --h2-conn-window: the connection's receive window (0: the protocol's 65 535) */
    uint32_t h2_header_table; /* --h2-header-table: SETTINGS_HEADER_TABLE_SIZE sent (when h2_header_table_set) */
    bool h2_header_table_set;
    uint64_t seed;
    uint32_t shard, nshards;
    const char *name;     /* the request name figures are grouped under */
    const char *url_text; /* the URL as given */
    const char *method;
    const uint64_t (*chaos_spans)[2]; /* chaos windows [from, to) ns from the start */
    uint32_t nchaos_spans;
    const struct check *checks; /* --check, judged on every complete response */
    uint32_t nchecks;
    bool check_body;       /* a check or response() reads bodies: keep up to max_body of each */
    bool keep_resp;        /* --check or response(): keep each response's bytes (check_stream.h) */
    struct script *script; /* --script (load/script.h), NULL without */
    const char *script_path;
    bool script_response; /* the script defines response() */
    bool script_delay;    /* the script defines delay() (closed model only) */
    bool script_sessions; /* the script defines session(): each arrival is a session (open model) */
    size_t max_body;      /* --max-body */
    size_t body_budget;   /* --body-budget: kept bodies of all workers together (body_budget.h) */
    const char *json_path;
    bool quiet;
    bool allow_invalid;
    char command_line[4096]; /* shell-quoted, secret header values redacted (cli/provenance.h) */
    struct run_provenance {  /* what the results say was run; workers never read it */
        const char *data_path, *targets_path, *pick; /* pick: NULL without --data */
        const char *const *headers;                  /* as sent, but secret values already "<redacted>" */
        size_t nheaders;
        const char *body, *body_file; /* body: the inline --body as given */
        const char *const *thresholds;
        size_t nthresholds;
        const char *const *redact; /* the --redact names */
        size_t nredact;
    } prov;
    char run_id[20]; /* shared by every shard of one run */
};

/* The spin mode, as the validity rule names its fix. */
static inline enum validity_spin validity_spin_of(const struct run_config *cfg)
{
    if (cfg->spin_auto) return VALIDITY_SPIN_AUTO;
    return cfg->spin_ns ? VALIDITY_SPIN_FIXED : VALIDITY_SPIN_OFF;
}

#endif

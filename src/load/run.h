/*
 * run.h — one `salvo run`: start the workers, merge each second, collect.
 *
 * The main thread starts cfg->threads workers on a common start instant,
 * then once a second merges the intervals they published into the
 * timeline. Ctrl-C (SIGINT/SIGTERM, blocked in every worker and taken here
 * with sigtimedwait) stops the workers, which still give every arrival an
 * outcome, so partial results are complete results of a shorter run.
 */
#ifndef SALVO_RUN_H
#define SALVO_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "load/config.h"
#include "load/engine.h"
#include "load/recorder.h"
#include "load/window.h"
#include "sys/cpustat.h"
#include "sys/kernel.h"

/* One second of the merged timeline. */
struct timeline_row {
    uint32_t t;
    uint64_t sent, done, errors, inflight, conns, backlog;
    int64_t p50_us, p99_us, max_us, lag_max_us;
    uint64_t late;
    double intended;                /* arrivals this process's schedule meant to send in it (run_analyse; 0 closed) */
    int64_t lag_p50_us, lag_p99_us; /* send lag of this second's arrivals */
    uint64_t arrivals;
    /* The second's histograms as HdrHistogram V2 base64 (for `salvo compare`), owned by the row:
     * latency and service time of all names, and per name (ngroups > 1 only; NULL: none that second). */
    char *hdr_latency, *hdr_service, **hdr_names;
    char **hdr_names_svc; /* per name, with hdr_names: its service time (2 digits, recorder.h); NULL: none */
    uint32_t *name_done, *name_errors; /* per name, with hdr_names: the second's responses and errors */
};

/* Called by the main thread after each merged second (may be NULL). */
struct run_hooks {
    void (*second)(void *ctx, const struct run_config *cfg, const struct timeline_row *row,
                   const struct interval *merged); /* merged: all workers' second, per name too */
    void *ctx;
    struct chaos_window *chaos; /* fired by the main thread; may be NULL */
    size_t nchaos;
    /* The first SIGINT/SIGTERM: the run stops and drains; a second one kills the process. May be NULL. */
    void (*interrupted)(void *ctx, int sig);
    /* The run's t=0 (monotonic ns), once chosen and before any worker starts: side jobs time from it. May be NULL. */
    void (*started)(void *ctx, uint64_t start_ns);
};

/* How many chaos windows a result derives figures for (the CLI's cap). */
#define RUN_MAX_WINDOWS 16
#define RUN_MAX_HINTS 4
#define RUN_HDR_NAMES 10 /* names whose per-second histograms a run keeps (memory: ~0.3 KB/s each) */

/*
 * Figures derived from one chaos window and the timeline around it (by
 * report/analysis.c, once, after the run is judged; every renderer reads
 * them from the results JSON).
 */
struct window_figures {
    double start_s, end_s;       /* the seconds the window covers */
    bool has_baseline;           /* some second before it qualified */
    double baseline_p99_us;      /* median per-second p99 before the window */
    double baseline_error_share; /* errors / responses over those seconds */
    bool recovered;              /* p99 and error share came back within the run */
    double recovery_s;           /* seconds from the window's end until they did */
};

/* The validity rules (docs/measurement.md), as bits of run_result.invalid_rules and names in the JSON. */
enum run_rule {
    RUN_RULE_LATE_SENDS = 1,  /* rule 1: sends left late (only adds to latency) */
    RUN_RULE_SATURATED = 2,   /* rule 2: the generator could not send the intended rate */
    RUN_RULE_OVERWHELMED = 4, /* rule 4: arrivals dropped unsent, backlog full */
    RUN_RULE_OVERLOADED = 8,  /* rule 3: a worker waited for a CPU (sent and read late: adds to latency) */
};
#define RUN_NRULES 4
static inline const char *run_rule_name(unsigned bit)
{
    switch (bit) {
    case RUN_RULE_LATE_SENDS: return "late_sends";
    case RUN_RULE_SATURATED: return "saturated";
    case RUN_RULE_OVERWHELMED: return "overwhelmed";
    case RUN_RULE_OVERLOADED: return "overloaded";
    default: return "?";
    }
}

/* Everything a finished run measured; owned by the caller after run_execute. */
struct run_result {
    struct recorder total;
    struct pool_stats pool;
    struct h2_stats h2;   /* HTTP/2 aggregates over every worker's connections */
    const char *protocol; /* what was spoken: "http/1.1", "h2", "h2c", "mixed" (ALPN differed); NULL: no connection */
    struct timeline_row *timeline;
    size_t nrows, cap_rows;
    uint64_t wall_start_ns;
    double duration_s; /* sending phase: start until the last send (≥ D unless interrupted) */
    double elapsed_s;  /* start until every outcome was known */
    uint64_t sent;
    double rate_intended, rate_achieved;
    double cpu_pct_max, cpu_pct_total;
    double busy_pct_max;      /* busiest worker's CPU minus its spinning */
    double spin_cpu_pct;      /* CPU spent busy-polling before deadlines, summed over workers (in cpu_pct) */
    double wake_late_us;      /* the latest worker's p90 epoll wake-up lateness (automatic spin; 0 otherwise) */
    double runq_wait_pct_max; /* worst worker's share of time waiting for a CPU */
    double *cpu_pct;          /* per worker thread */
    uint32_t nthreads;
    long max_rss_kb;
    bool interrupted;
    int stop_signal; /* SIGINT or SIGTERM that stopped the run, 0 if none did */
    bool data_exhausted;
    struct kernel_counters kernel_before, kernel_after;
    struct cpu_times machine_before, machine_after; /* whole machine, /proc/stat */
    struct cpu_share machine;                       /* shares between the two */
    bool valid;
    unsigned invalid_rules; /* RUN_RULE_* bits: which validity rules failed */
    char reasons[4][512];
    int nreasons;
    char first_error[256];
    char script_error[256]; /* --script: the first error of request()/response()/delay() */
    char script_hang[300];
    bool has_sessions; /* session(): the arrivals were sessions */
    struct session_counts sessions;
    struct hist session_us; /* --script: the watchdog ended the run: "FILE:LINE: request() did not return ..." */
    bool *hdr_kept;         /* per name: its per-second histograms are kept (run.c keep_second_hists) */
    uint32_t nhdr_kept;     /* at most RUN_HDR_NAMES */
    struct {
        bool found;
        uint32_t t;
        double rate_intended;
        uint64_t rate_sent;
        int64_t p99_us, floor_p99_us;
    } knee;                           /* ramps only: where latency left its floor (run.c find_knee) */
    const struct chaos_window *chaos; /* borrowed from the hooks */
    size_t nchaos;
    /* Filled by run_analyse (report/analysis.h) after run_execute. */
    struct window_figures windows[RUN_MAX_WINDOWS]; /* one per chaos window (the first RUN_MAX_WINDOWS) */
    char hints[RUN_MAX_HINTS][320];                 /* what the user may want to change, most important first */
    int nhints;
};

/* Runs cfg to the end (or Ctrl-C). Returns 0 or -errno; *out is filled either way. */
int run_execute(const struct run_config *cfg, const struct run_hooks *hooks, struct run_result *out);
/* Frees what run_execute allocated; NULL is fine. */
void run_result_release(struct run_result *r);

/*
 * The hint for a run during which the hypervisor took a noticeable share of
 * the machine's CPU (steal >= 5 %): writes it into buf and returns true.
 */
bool run_steal_hint(const struct run_result *r, char *buf, size_t n);

#endif

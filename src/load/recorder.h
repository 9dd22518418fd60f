/*
 * recorder.h — what one worker thread measured: histograms and counters.
 *
 * Each worker owns one recorder for the whole run and one per-second
 * interval; nothing here is shared while the run goes on. The main thread
 * adds recorders together only after the workers are joined (or, for
 * intervals, after a worker has published a finished second).
 *
 * Memory is fixed: histograms are HDR (1 µs … 1 h, 3 significant digits),
 * per-name groups are capped (max_names + 1 for "other") and allocate their
 * histogram pages only when touched. Nothing grows with the number of
 * requests or distinct URLs.
 */
#ifndef SALVO_RECORDER_H
#define SALVO_RECORDER_H

#include <stdint.h>

#include "core/errors.h"
#include "core/hist.h"
#include "load/check.h"

/* Latency histograms use the standard range of core/hist.h (HIST_STD_*). */
#define REC_MAX_STATUS 1000
#define REC_MAX_ERRNO 160

/* Figures of one request name. */
struct group_rec {
    uint64_t requests, ok, http_error, check_failed, failed, timeout;
    struct hist latency;
    uint64_t *status; /* REC_MAX_STATUS counters, allocated on first use */
};

/* Requests whose intended send time fell inside one chaos window. */
struct window_rec {
    uint64_t from_ns, to_ns; /* relative to the run start */
    uint64_t requests, errors;
    struct hist latency;
};

/* Everything one worker measured. */
struct recorder {
    struct hist latency;  /* t_done - t_intended (timeouts at the timeout value) */
    struct hist service;  /* t_done - t_send */
    struct hist wait;     /* t_send - t_intended */
    struct hist ttfb;     /* t_first - t_send */
    struct hist connect;  /* per new connection, TLS handshake included */
    struct hist send_lag; /* generator lateness: dispatch - t_intended */
    uint64_t scheduled, ok, http_error, check_failed, failed, timeout, unsent;
    uint64_t check_pass[CHECK_MAX], check_fail[CHECK_MAX];     /* per --check, every complete response */
    uint64_t check_too_large[CHECK_MAX];                       /* of check_fail: the body was over --max-body */
    uint64_t body_waits, body_wait_ns_total, body_wait_ns_max; /* responses that waited for kept-body room */
    uint64_t body_not_kept;       /* h2 bodies read and not kept: no room (docs/http2.md) */
    uint64_t body_kept_peak;      /* most kept-body bytes reserved at once (a sum of workers' peaks once added) */
    uint64_t bytes_in, bytes_out; /* HTTP bytes read and written (after TLS decryption, before encryption) */
    uint64_t status[REC_MAX_STATUS];
    uint64_t errors[ERR_COUNT];
    uint64_t connect_errno[REC_MAX_ERRNO]; /* failed connects by errno */
    struct group_rec *groups;
    uint32_t ngroups;
    struct window_rec *windows; /* see recorder_windows */
    uint32_t nwindows;
    uint64_t start_ns; /* run start, to place requests in windows */
};

/*
 * Per-name service time per second is kept at 2 significant digits (1 µs ..
 * 1 h: 3 328 counters, 26 KB, against 184 KB at 3 digits): a worker has
 * WORKER_SLOTS seconds of every name in flight, so 10 names at 3 digits
 * would add ~7 MB per worker. `salvo compare` reads percentiles off a 1 %
 * grid, which 2 digits (≤ 1 % per bucket) still fills.
 */
#define REC_NAME_SVC_SIGFIG 2

/* One second of one request name. */
struct interval_group {
    uint64_t sent, done, errors;
    bool has_hist; /* latency allocated (first use of the name in this slot) */
    bool has_svc;  /* service allocated (first complete response of the name in this slot) */
    struct hist latency;
    struct hist service; /* t_done - t_send, REC_NAME_SVC_SIGFIG digits */
};

/* One second of the timeline as seen by one worker. */
struct interval {
    uint64_t sent, done, errors;
    uint32_t ngroups;
    struct interval_group *groups;     /* per request name */
    uint64_t inflight, conns, backlog; /* snapshots at the end of the second */
    uint64_t lag_max_us;               /* the generator's worst lateness this second */
    uint64_t late;                     /* arrivals dispatched later than --max-lag */
    struct hist latency;
    struct hist send_lag; /* this second's arrivals, for the late-sends rule */
    struct hist service;  /* t_done - t_send of complete responses, for `salvo compare` */
};

/* Allocates the histograms and ngroups groups. Returns 0 or -errno. */
int recorder_init(struct recorder *r, uint32_t ngroups);
/* Frees everything; NULL is fine. */
void recorder_release(struct recorder *r);
/* Adds n chaos windows ([from, to) ns relative to start_ns) to account requests in. */
void recorder_windows(struct recorder *r, uint64_t start_ns, const uint64_t (*spans)[2], uint32_t n);
/* Adds src into dst (same ngroups). */
void recorder_add(struct recorder *dst, const struct recorder *src);

/* Nanoseconds to whole microseconds, rounded to nearest. */
static inline int64_t ns_to_us(uint64_t ns)
{
    return (int64_t)((ns + 500) / 1000);
}

/* A complete response (2xx/3xx: ok; 4xx/5xx: http_error). */
void recorder_response(struct recorder *r, uint32_t group, int status, uint64_t t_intended_ns, uint64_t t_send_ns,
                       uint64_t t_first_ns, uint64_t t_done_ns);
/*
 * The same, with the verdict of the run's checks: check_failed turns a
 * status < 400 into the outcome check_failed (a 4xx/5xx stays http_error).
 */
void recorder_response_checked(struct recorder *r, uint32_t group, int status, bool check_failed,
                               uint64_t t_intended_ns, uint64_t t_send_ns, uint64_t t_first_ns, uint64_t t_done_ns);
/* Counts one check's verdict on one response. */
void recorder_check(struct recorder *r, uint32_t check, enum check_result result);
/* A request that ended without a response. */
void recorder_failure(struct recorder *r, uint32_t group, enum salvo_err err, uint64_t t_intended_ns);
/* A request that got no complete response within timeout_ns of t_intended. */
void recorder_timeout(struct recorder *r, uint32_t group, uint64_t timeout_ns, uint64_t t_intended_ns);

/* Allocates the interval's histogram and ngroups per-name slots. */
int interval_init(struct interval *iv, uint32_t ngroups);
/* The latency histogram of group g this second, or NULL when it has none. */
const struct hist *interval_group_latency(const struct interval *iv, uint32_t g);
/* A request of group g was sent. */
void interval_sent(struct interval *iv, uint32_t g);
/* A request of group g ended: latency_us < 0 when there is none to record. */
void interval_done(struct interval *iv, uint32_t g, int64_t latency_us, bool error);
/* A complete response of group g took service_us from its first byte sent (also per name when ngroups > 1). */
void interval_service(struct interval *iv, uint32_t g, int64_t service_us);
/* The service-time histogram of group g this second (the interval's with one name), or NULL when it has none. */
const struct hist *interval_group_service(const struct interval *iv, uint32_t g);
/* Zeroes counters and histogram. */
void interval_reset(struct interval *iv);
/* Adds src into dst. */
void interval_add(struct interval *dst, const struct interval *src);
/* Frees; NULL is fine. */
void interval_release(struct interval *iv);

#endif

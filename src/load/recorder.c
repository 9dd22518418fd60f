/*
 * recorder.c — per-worker measurements (see recorder.h).
 *
 * Hot path: recorder_response is a handful of O(1) histogram records and
 * counter increments; it never allocates except the first time a group
 * sees a status code (one calloc per group per run).
 */
#include "load/recorder.h"

#include <stdlib.h>
#include <string.h>

/* Initialises a histogram with salvo's standard range (aborts if invalid). */
static void std_hist(struct hist *h)
{
    if (hist_init(h, HIST_STD_LOWEST, HIST_STD_HIGHEST, HIST_STD_SIGFIG) != 0) abort();
}

int recorder_init(struct recorder *r, uint32_t ngroups)
{
    memset(r, 0, sizeof(*r));
    std_hist(&r->latency);
    std_hist(&r->service);
    std_hist(&r->wait);
    std_hist(&r->ttfb);
    std_hist(&r->connect);
    std_hist(&r->send_lag);
    r->ngroups = ngroups;
    r->groups = calloc(ngroups ? ngroups : 1, sizeof(*r->groups));
    if (!r->groups) abort();
    for (uint32_t g = 0; g < ngroups; g++)
        std_hist(&r->groups[g].latency);
    return 0;
}

void recorder_release(struct recorder *r)
{
    if (!r) return;
    hist_release(&r->latency);
    hist_release(&r->service);
    hist_release(&r->wait);
    hist_release(&r->ttfb);
    hist_release(&r->connect);
    hist_release(&r->send_lag);
    for (uint32_t g = 0; r->groups && g < r->ngroups; g++) {
        hist_release(&r->groups[g].latency);
        free(r->groups[g].status);
    }
    free(r->groups);
    r->groups = NULL;
    for (uint32_t i = 0; r->windows && i < r->nwindows; i++)
        hist_release(&r->windows[i].latency);
    free(r->windows);
    r->windows = NULL;
}

void recorder_windows(struct recorder *r, uint64_t start_ns, const uint64_t (*spans)[2], uint32_t n)
{
    r->start_ns = start_ns;
    r->nwindows = n;
    r->windows = calloc(n ? n : 1, sizeof(*r->windows));
    if (!r->windows) abort();
    for (uint32_t i = 0; i < n; i++) {
        r->windows[i].from_ns = spans[i][0];
        r->windows[i].to_ns = spans[i][1];
        std_hist(&r->windows[i].latency);
    }
}

/* Accounts one request in every window its intended time falls in. */
static void window_note(struct recorder *r, uint64_t t_intended_ns, int64_t latency_us, bool error)
{
    if (!r->nwindows || t_intended_ns < r->start_ns) return;
    uint64_t rel = t_intended_ns - r->start_ns;
    for (uint32_t i = 0; i < r->nwindows; i++) {
        struct window_rec *w = &r->windows[i];
        if (rel < w->from_ns || rel >= w->to_ns) continue;
        w->requests++;
        w->errors += error;
        if (latency_us >= 0) hist_record_clamped(&w->latency, latency_us);
    }
}

/* Adds the group counters and histogram of src into dst. */
static void group_add(struct group_rec *dst, const struct group_rec *src)
{
    dst->requests += src->requests;
    dst->ok += src->ok;
    dst->http_error += src->http_error;
    dst->check_failed += src->check_failed;
    dst->failed += src->failed;
    dst->timeout += src->timeout;
    hist_add(&dst->latency, &src->latency);
    if (!src->status) return;
    if (!dst->status && !(dst->status = calloc(REC_MAX_STATUS, sizeof(uint64_t)))) abort();
    for (int i = 0; i < REC_MAX_STATUS; i++)
        dst->status[i] += src->status[i];
}

void recorder_add(struct recorder *dst, const struct recorder *src)
{
    hist_add(&dst->latency, &src->latency);
    hist_add(&dst->service, &src->service);
    hist_add(&dst->wait, &src->wait);
    hist_add(&dst->ttfb, &src->ttfb);
    hist_add(&dst->connect, &src->connect);
    hist_add(&dst->send_lag, &src->send_lag);
    dst->scheduled += src->scheduled;
    dst->ok += src->ok;
    dst->http_error += src->http_error;
    dst->check_failed += src->check_failed;
    dst->failed += src->failed;
    dst->timeout += src->timeout;
    dst->unsent += src->unsent;
    for (int i = 0; i < CHECK_MAX; i++) {
        dst->check_pass[i] += src->check_pass[i];
        dst->check_fail[i] += src->check_fail[i];
        dst->check_too_large[i] += src->check_too_large[i];
    }
    dst->body_waits += src->body_waits;
    dst->body_not_kept += src->body_not_kept;
    dst->body_wait_ns_total += src->body_wait_ns_total;
    if (src->body_wait_ns_max > dst->body_wait_ns_max) dst->body_wait_ns_max = src->body_wait_ns_max;
    dst->body_kept_peak += src->body_kept_peak;
    dst->bytes_in += src->bytes_in;
    dst->bytes_out += src->bytes_out;
    for (int i = 0; i < REC_MAX_STATUS; i++)
        dst->status[i] += src->status[i];
    for (int i = 0; i < ERR_COUNT; i++)
        dst->errors[i] += src->errors[i];
    for (int i = 0; i < REC_MAX_ERRNO; i++)
        dst->connect_errno[i] += src->connect_errno[i];
    for (uint32_t g = 0; g < dst->ngroups && g < src->ngroups; g++)
        group_add(&dst->groups[g], &src->groups[g]);
    for (uint32_t i = 0; i < dst->nwindows && i < src->nwindows; i++) {
        dst->windows[i].requests += src->windows[i].requests;
        dst->windows[i].errors += src->windows[i].errors;
        hist_add(&dst->windows[i].latency, &src->windows[i].latency);
    }
}

/* Elapsed b - a in µs, 0 when the clock order is inverted. */
static int64_t span_us(uint64_t a, uint64_t b)
{
    return b > a ? ns_to_us(b - a) : 0;
}

void recorder_response(struct recorder *r, uint32_t group, int status, uint64_t t_intended_ns, uint64_t t_send_ns,
                       uint64_t t_first_ns, uint64_t t_done_ns)
{
    recorder_response_checked(r, group, status, false, t_intended_ns, t_send_ns, t_first_ns, t_done_ns);
}

void recorder_check(struct recorder *r, uint32_t check, enum check_result result)
{
    if (check >= CHECK_MAX) return;
    if (result == CHECK_PASS) {
        r->check_pass[check]++;
        return;
    }
    r->check_fail[check]++;
    r->check_too_large[check] += result == CHECK_BODY_TOO_LARGE;
}

void recorder_response_checked(struct recorder *r, uint32_t group, int status, bool check_failed,
                               uint64_t t_intended_ns, uint64_t t_send_ns, uint64_t t_first_ns, uint64_t t_done_ns)
{
    int64_t latency = span_us(t_intended_ns, t_done_ns);
    hist_record_clamped(&r->latency, latency);
    hist_record_clamped(&r->service, span_us(t_send_ns, t_done_ns));
    hist_record_clamped(&r->wait, span_us(t_intended_ns, t_send_ns));
    hist_record_clamped(&r->ttfb, span_us(t_send_ns, t_first_ns));
    bool ok = status < 400 && !check_failed, checked_out = status < 400 && check_failed;
    if (ok)
        r->ok++;
    else if (checked_out)
        r->check_failed++;
    else
        r->http_error++;
    if (status >= 0 && status < REC_MAX_STATUS) r->status[status]++;
    struct group_rec *g = &r->groups[group < r->ngroups ? group : 0];
    g->requests++;
    if (ok)
        g->ok++;
    else if (checked_out)
        g->check_failed++;
    else
        g->http_error++;
    hist_record_clamped(&g->latency, latency);
    if (!g->status && !(g->status = calloc(REC_MAX_STATUS, sizeof(uint64_t)))) abort();
    if (status >= 0 && status < REC_MAX_STATUS) g->status[status]++;
    window_note(r, t_intended_ns, latency, !ok);
}

void recorder_failure(struct recorder *r, uint32_t group, enum salvo_err err, uint64_t t_intended_ns)
{
    window_note(r, t_intended_ns, -1, true);
    r->failed++;
    r->errors[err < ERR_COUNT ? err : ERR_CONNECT_OTHER]++;
    struct group_rec *g = &r->groups[group < r->ngroups ? group : 0];
    g->requests++;
    g->failed++;
}

void recorder_timeout(struct recorder *r, uint32_t group, uint64_t timeout_ns, uint64_t t_intended_ns)
{
    window_note(r, t_intended_ns, ns_to_us(timeout_ns), true);
    r->timeout++;
    r->errors[ERR_TIMEOUT]++;
    hist_record_clamped(&r->latency, ns_to_us(timeout_ns));
    struct group_rec *g = &r->groups[group < r->ngroups ? group : 0];
    g->requests++;
    g->timeout++;
    hist_record_clamped(&g->latency, ns_to_us(timeout_ns));
}

int interval_init(struct interval *iv, uint32_t ngroups)
{
    memset(iv, 0, sizeof(*iv));
    std_hist(&iv->latency);
    /* Touch the pages now, so RSS is flat from the first second on. */
    memset(iv->latency.counts, 0, (size_t)iv->latency.counts_len * sizeof(*iv->latency.counts));
    std_hist(&iv->send_lag);
    memset(iv->send_lag.counts, 0, (size_t)iv->send_lag.counts_len * sizeof(*iv->send_lag.counts));
    std_hist(&iv->service);
    memset(iv->service.counts, 0, (size_t)iv->service.counts_len * sizeof(*iv->service.counts));
    iv->ngroups = ngroups;
    iv->groups = calloc(ngroups ? ngroups : 1, sizeof(*iv->groups));
    if (!iv->groups) abort();
    return 0;
}

/* The slot of group g (out-of-range names count as the first). */
static struct interval_group *interval_group(struct interval *iv, uint32_t g)
{
    return &iv->groups[g < iv->ngroups ? g : 0];
}

void interval_sent(struct interval *iv, uint32_t g)
{
    iv->sent++;
    interval_group(iv, g)->sent++;
}

void interval_done(struct interval *iv, uint32_t g, int64_t latency_us, bool error)
{
    struct interval_group *ig = interval_group(iv, g);
    iv->done++;
    ig->done++;
    iv->errors += error;
    ig->errors += error;
    if (latency_us < 0) return;
    hist_record_clamped(&iv->latency, latency_us);
    if (iv->ngroups <= 1) return; /* one name: its histogram is the interval's */
    if (!ig->has_hist) {
        std_hist(&ig->latency); /* once per name and slot for the whole run */
        ig->has_hist = true;
    }
    hist_record_clamped(&ig->latency, latency_us);
}

/* The lower-precision histogram of a name's service time (aborts if invalid). */
static void name_svc_hist(struct hist *h)
{
    if (hist_init(h, HIST_STD_LOWEST, HIST_STD_HIGHEST, REC_NAME_SVC_SIGFIG) != 0) abort();
}

void interval_service(struct interval *iv, uint32_t g, int64_t service_us)
{
    hist_record_clamped(&iv->service, service_us);
    if (iv->ngroups <= 1) return; /* one name: its histogram is the interval's */
    struct interval_group *ig = interval_group(iv, g);
    if (!ig->has_svc) {
        name_svc_hist(&ig->service); /* once per name and slot for the whole run */
        ig->has_svc = true;
    }
    hist_record_clamped(&ig->service, service_us);
}

const struct hist *interval_group_service(const struct interval *iv, uint32_t g)
{
    if (iv->ngroups <= 1) return &iv->service;
    if (g >= iv->ngroups || !iv->groups[g].has_svc) return NULL;
    return &iv->groups[g].service;
}

const struct hist *interval_group_latency(const struct interval *iv, uint32_t g)
{
    if (iv->ngroups <= 1) return &iv->latency;
    if (g >= iv->ngroups || !iv->groups[g].has_hist) return NULL;
    return &iv->groups[g].latency;
}

void interval_reset(struct interval *iv)
{
    iv->sent = iv->done = iv->errors = iv->inflight = iv->conns = iv->backlog = iv->lag_max_us = iv->late = 0;
    if (iv->latency.total_count) hist_reset(&iv->latency);
    if (iv->send_lag.total_count) hist_reset(&iv->send_lag);
    if (iv->service.total_count) hist_reset(&iv->service);
    for (uint32_t g = 0; g < iv->ngroups; g++) {
        struct interval_group *ig = &iv->groups[g];
        ig->sent = ig->done = ig->errors = 0;
        if (ig->has_hist && ig->latency.total_count) hist_reset(&ig->latency);
        if (ig->has_svc && ig->service.total_count) hist_reset(&ig->service);
    }
}

void interval_add(struct interval *dst, const struct interval *src)
{
    for (uint32_t g = 0; g < dst->ngroups && g < src->ngroups; g++) {
        const struct interval_group *s = &src->groups[g];
        struct interval_group *d = &dst->groups[g];
        d->sent += s->sent;
        d->done += s->done;
        d->errors += s->errors;
        if (s->has_svc && s->service.total_count) {
            if (!d->has_svc) {
                name_svc_hist(&d->service);
                d->has_svc = true;
            }
            hist_add(&d->service, &s->service);
        }
        if (!s->has_hist || !s->latency.total_count) continue;
        if (!d->has_hist) {
            std_hist(&d->latency);
            d->has_hist = true;
        }
        hist_add(&d->latency, &s->latency);
    }
    dst->sent += src->sent;
    dst->done += src->done;
    dst->errors += src->errors;
    dst->inflight += src->inflight;
    dst->conns += src->conns;
    dst->backlog += src->backlog;
    dst->late += src->late;
    if (src->lag_max_us > dst->lag_max_us) dst->lag_max_us = src->lag_max_us;
    if (src->latency.total_count) hist_add(&dst->latency, &src->latency);
    if (src->send_lag.total_count) hist_add(&dst->send_lag, &src->send_lag);
    if (src->service.total_count) hist_add(&dst->service, &src->service);
}

void interval_release(struct interval *iv)
{
    if (!iv) return;
    hist_release(&iv->latency);
    hist_release(&iv->send_lag);
    hist_release(&iv->service);
    for (uint32_t g = 0; iv->groups && g < iv->ngroups; g++) {
        if (iv->groups[g].has_hist) hist_release(&iv->groups[g].latency);
        if (iv->groups[g].has_svc) hist_release(&iv->groups[g].service);
    }
    free(iv->groups);
    iv->groups = NULL;
}

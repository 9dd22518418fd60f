/*
 * scrape.c — the scrape threads: one per target, a round per second of the
 * run, each under a deadline shorter than the period (scrape.h says what a
 * round keeps). The main thread only starts, times and stops them.
 */
#include "load/scrape.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "http/client.h"

#define ROUND_OFFSET_NS (NS_PER_S / 2) /* a round in the middle of its second: far from both edges */

int scrape_init(struct scrape *s, const char *const *urls, size_t nurls, const char *match, uint32_t cap,
                bool tls_verify, char *why, size_t whylen)
{
    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cond, &ca);
    pthread_condattr_destroy(&ca);
    atomic_init(&s->kept, 0);
    s->cap = cap ? cap : SCRAPE_CAP_DEFAULT;
    s->timeout_ns = SCRAPE_TIMEOUT_NS;
    if (nurls > SCRAPE_MAX_TARGETS) {
        snprintf(why, whylen, "too many --scrape targets (at most %d)", SCRAPE_MAX_TARGETS);
        return -EINVAL;
    }
    if (match) {
        int rc = regcomp(&s->re, match, REG_EXTENDED | REG_NOSUB);
        if (rc) {
            char msg[160];
            regerror(rc, &s->re, msg, sizeof(msg));
            snprintf(why, whylen, "bad --scrape-match '%s': %s", match, msg);
            return -EINVAL;
        }
        s->has_re = true;
        s->match = match;
    }
    for (size_t i = 0; i < nurls; i++) {
        struct scrape_target *t = &s->targets[s->ntargets];
        const char *bad;
        t->owner = s;
        t->url_text = urls[i];
        if (url_parse(&t->url, urls[i], &bad) < 0 || url_resolve(&t->url, &bad) < 0) {
            char shown[512];
            url_mask_password(shown, sizeof(shown), urls[i]);
            snprintf(why, whylen, "bad --scrape '%s': %s", shown, bad);
            return -EINVAL;
        }
        s->ntargets++;
        if (t->url.tls && !s->has_tls) {
            if (tls_init(&s->tls, tls_verify, &bad) < 0 || tls_set_alpn(&s->tls, false) < 0) {
                snprintf(why, whylen, "bad --scrape '%s': %s", urls[i], bad ? bad : "TLS setup failed");
                return -EINVAL;
            }
            s->has_tls = true;
        }
    }
    return 0;
}

/* Counts a failed or partial round under its cause; warns once per target. */
static void note_error(struct scrape_target *t, uint32_t round, const char *cause)
{
    struct scrape_error *e = NULL;
    for (uint32_t i = 0; i < t->nerrors && !e; i++)
        if (!strcmp(t->errors[i].cause, cause)) e = &t->errors[i];
    if (!e && t->nerrors < SCRAPE_MAX_ERRORS) {
        e = &t->errors[t->nerrors++];
        snprintf(e->cause, sizeof(e->cause), "%s", cause);
        e->first_round = (int32_t)round;
    }
    if (!e) e = &t->errors[SCRAPE_MAX_ERRORS - 1];
    e->count++;
    if (!t->warned && t->owner->warn) t->owner->warn(t->owner->warn_ctx, t, cause);
    t->warned = true;
}

/* One round: fetch, parse, keep. Returns true when it was good. */
static bool do_round(struct scrape_target *t, int32_t row)
{
    struct scrape *s = t->owner;
    uint64_t now = clock_now_ns();
    uint32_t round = scrape_add_round(t, row, now);
    struct http_client_req req = {
        .method = "GET",
        .url = &t->url,
        .headers = "Accept: text/plain;version=0.0.4\r\n",
        .deadline_ns = now + s->timeout_ns,
        .max_body = SCRAPE_MAX_BODY,
        .tls = s->has_tls ? &s->tls : NULL,
    };
    struct http_client_resp resp = {0};
    char err[256], cause[300];
    int rc = http_client_do(&req, &resp, err, sizeof(err));
    if (rc < 0) {
        snprintf(cause, sizeof(cause), "%s", err);
        goto fail;
    }
    uint64_t took = clock_now_ns() - now;
    if (took > s->timeout_ns) { /* answered, but after its second: its values are not that second's */
        snprintf(cause, sizeof(cause), "late: answered after %llu ms (more than %llu)",
                 (unsigned long long)(took / 1000000), (unsigned long long)(s->timeout_ns / 1000000));
        goto fail;
    }
    if (resp.status != 200) {
        snprintf(cause, sizeof(cause), "HTTP %d", resp.status);
        goto fail;
    }
    int bad;
    const char *why;
    int n = scrape_ingest(t, round, now, resp.body, resp.body_len, &bad, &why);
    if (n < 0) {
        snprintf(cause, sizeof(cause), "not Prometheus text: %s", why ? why : "no sample");
        goto fail;
    }
    if (bad) {
        snprintf(cause, sizeof(cause), "malformed lines skipped (first: %s)", why);
        note_error(t, round, cause);
    }
    http_client_resp_free(&resp);
    t->round_ok[round] = true;
    if (s->live) scrape_live_refresh(t);
    return true;
fail:
    http_client_resp_free(&resp);
    t->failed_rounds++;
    note_error(t, round, cause);
    if (s->live) scrape_live_refresh(t);
    return false;
}

/* Waits on s->cond until deadline (monotonic) or stop; returns true when stopped. */
static bool wait_until(struct scrape *s, uint64_t deadline_ns)
{
    struct timespec ts = clock_ns_to_timespec(deadline_ns);
    pthread_mutex_lock(&s->mu);
    while (!s->stop && clock_now_ns() < deadline_ns)
        pthread_cond_timedwait(&s->cond, &s->mu, &ts);
    bool stop = s->stop;
    pthread_mutex_unlock(&s->mu);
    return stop;
}

static uint64_t start_of(struct scrape *s)
{
    pthread_mutex_lock(&s->mu);
    uint64_t v = s->start_ns;
    pthread_mutex_unlock(&s->mu);
    return v;
}

/*
 * The thread: the baseline round, then round k at t0 + k s + 0.5 s (a
 * round whose time passed while the previous one ran is skipped: a gap),
 * then a last round once stopped, unless the endpoint is failing.
 */
static void *scrape_thread(void *arg)
{
    struct scrape_target *t = arg;
    struct scrape *s = t->owner;
    bool ok = do_round(t, -1);
    uint64_t start;
    while (!(start = start_of(s)))
        if (wait_until(s, clock_now_ns() + 20 * NS_PER_MS)) break;
    int32_t k = 0;
    while (start) {
        uint64_t at = start + (uint64_t)k * NS_PER_S + ROUND_OFFSET_NS, now = clock_now_ns();
        if (now > at + NS_PER_S / 4) { /* late (the thread was starved): that second is a gap */
            k = (int32_t)((now - start - ROUND_OFFSET_NS) / NS_PER_S) + 1;
            continue;
        }
        if (wait_until(s, at)) break;
        ok = do_round(t, k++);
    }
    if (ok && start) do_round(t, k);
    return NULL;
}

int scrape_start(struct scrape *s, uint64_t planned_ns)
{
    s->planned_rounds = (uint32_t)(planned_ns / NS_PER_S) + 16;
    for (size_t i = 0; i < s->ntargets; i++) {
        struct scrape_target *t = &s->targets[i];
        int rc = pthread_create(&t->thread, NULL, scrape_thread, t);
        if (rc) return -rc;
        t->started = true;
    }
    return 0;
}

void scrape_set_start(struct scrape *s, uint64_t start_ns)
{
    pthread_mutex_lock(&s->mu);
    s->start_ns = start_ns ? start_ns : 1;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->mu);
}

void scrape_stop(struct scrape *s)
{
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->mu);
    for (size_t i = 0; i < s->ntargets; i++)
        if (s->targets[i].started) {
            pthread_join(s->targets[i].thread, NULL);
            s->targets[i].started = false;
        }
}

void scrape_release(struct scrape *s)
{
    if (!s) return;
    scrape_stop(s);
    for (size_t i = 0; i < s->ntargets; i++) {
        struct scrape_target *t = &s->targets[i];
        for (uint32_t j = 0; j < t->nseries; j++) {
            free(t->series[j].key);
            free(t->series[j].val);
            free(t->series[j].p50);
            free(t->series[j].hist);
        }
        free(t->series);
        free(t->buckets);
        free(t->round_ns);
        free(t->round_row);
        free(t->round_ok);
        free(t->live);
        memset(t, 0, sizeof(*t));
    }
    if (s->has_re) regfree(&s->re);
    if (s->has_tls) tls_release(&s->tls);
    s->has_re = s->has_tls = false;
    s->ntargets = 0;
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->mu);
}

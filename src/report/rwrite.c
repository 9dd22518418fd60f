/*
 * rwrite.c — the remote-write pusher (see rwrite.h): options, the queue
 * of snapshots between the main thread and the pusher, and the pushes.
 *
 * Order is the invariant: snapshots leave the queue oldest first, a batch
 * that failed is retried alone (same bytes) before any newer one is
 * encoded, and a batch given up is never sent again. So the receiver sees
 * every series' samples in increasing time, also across a failure.
 */
#include "report/rwrite.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "http/client.h"
#include "report/rw_encode.h"

#define RW_MAX_HEADER_BYTES 4096

int rwrite_opts_url(struct rwrite_opts *o, const char *url, const char **why)
{
    if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) {
        *why = "expected an http:// or https:// URL, e.g. http://127.0.0.1:9090/api/v1/write";
        return -EINVAL;
    }
    int rc = url_parse(&o->url, url, why);
    if (rc < 0) return rc;
    rc = url_resolve(&o->url, why);
    if (rc < 0) return rc;
    o->url_text = url;
    return 0;
}

/* Headers the pusher writes itself (or the client does): a second copy would contradict it. */
static const char *const own_headers[] = {
    "host",       "content-length", "content-type",      "content-encoding",
    "connection", "user-agent",     "transfer-encoding", "x-prometheus-remote-write-version"};

int rwrite_opts_header(struct rwrite_opts *o, const char *kv, const char **why)
{
    const char *colon = strchr(kv, ':');
    if (!colon || colon == kv) return *why = "expected 'Name: value'", -EINVAL;
    for (const char *p = kv; p < colon; p++)
        if (*p <= ' ' || *p >= 127 || strchr("()<>@,;\\\"/[]?={}", *p))
            return *why = "the header name has a space or a character HTTP does not allow", -EINVAL;
    for (const char *p = colon + 1; *p; p++)
        if ((unsigned char)*p < ' ' && *p != '\t') return *why = "the value has a control character", -EINVAL;
    for (size_t i = 0; i < sizeof(own_headers) / sizeof(own_headers[0]); i++)
        if ((size_t)(colon - kv) == strlen(own_headers[i]) && !strncasecmp(kv, own_headers[i], strlen(own_headers[i])))
            return *why = "salvo sets this header itself", -EINVAL;
    if (o->nheaders == RW_MAX_HEADERS) return *why = "too many headers (at most 16)", -E2BIG;
    size_t total = strlen(kv);
    for (int i = 0; i < o->nheaders; i++)
        total += strlen(o->headers[i]) + 2;
    if (total > RW_MAX_HEADER_BYTES) return *why = "the headers are over 4096 bytes together", -E2BIG;
    o->headers[o->nheaders++] = kv;
    return 0;
}

/* The extra header lines of every push. */
static char *build_headers(const struct rwrite_opts *o)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) abort();
    fputs("Content-Encoding: snappy\r\nContent-Type: application/x-protobuf\r\n"
          "X-Prometheus-Remote-Write-Version: 0.1.0\r\n",
          f);
    for (int i = 0; i < o->nheaders; i++) {
        const char *colon = strchr(o->headers[i], ':'), *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        fprintf(f, "%.*s: %s\r\n", (int)(colon - o->headers[i]), o->headers[i], v);
    }
    fclose(f);
    return buf;
}

/* Notes a failed attempt (mu held). */
static void note_failure(struct rwrite *w, const char *err)
{
    w->stats.pushes_failed++;
    if (!w->stats.first_error[0]) snprintf(w->stats.first_error, sizeof(w->stats.first_error), "%s", err);
}

/*
 * One POST of body; returns 1 (accepted), 0 (failed, worth the retry) or
 * -1 (refused as bad data, 4xx but 429: the same bytes would be refused
 * again). err says why.
 */
static int post(struct rwrite *w, const char *body, size_t len, uint64_t deadline_ns, char *err, size_t errlen)
{
    struct http_client_req req = {.method = "POST",
                                  .url = &w->opts->url,
                                  .headers = w->headers,
                                  .body = body,
                                  .body_len = len,
                                  .deadline_ns = deadline_ns,
                                  .max_body = 65536,
                                  .tls = w->has_tls ? &w->tls : NULL};
    struct http_client_resp resp;
    int rc = http_client_do(&req, &resp, err, errlen);
    if (rc < 0) return 0;
    int status = resp.status, verdict = status >= 200 && status < 300                    ? 1
                                        : status >= 400 && status < 500 && status != 429 ? -1
                                                                                         : 0;
    if (verdict != 1) {
        size_t n = strcspn(resp.body ? resp.body : "", "\r\n");
        snprintf(err, errlen, "HTTP %d%s%.*s", status, n ? ": " : "", (int)(n > 120 ? 120 : n),
                 resp.body ? resp.body : "");
    }
    http_client_resp_free(&resp);
    return verdict;
}

/* The batch a push carries: its compressed bytes and how many seconds are in it. */
struct batch {
    char *body;
    size_t len;
    uint32_t seconds;
    bool retried;
};

/* Takes every queued snapshot (mu held) and encodes them into b (mu released meanwhile). */
static void take_batch(struct rwrite *w, struct batch *b)
{
    uint32_t n = w->qlen;
    struct rw_snap *snaps = malloc(n * sizeof(*snaps));
    if (!snaps) abort();
    for (uint32_t i = 0; i < n; i++)
        snaps[i] = w->queue[(w->qhead + i) % RW_QUEUE_MAX];
    w->qhead = (w->qhead + n) % RW_QUEUE_MAX;
    w->qlen = 0;
    pthread_mutex_unlock(&w->mu);
    struct rw_request req;
    rw_request_init(&req);
    struct rw_common c = {.names = w->names, .run_id = w->run_id, .shard = w->shard};
    size_t series = rw_snaps_encode(&req, snaps, n, &c);
    for (uint32_t i = 0; i < n; i++)
        rw_snap_release(&snaps[i]);
    free(snaps);
    *b = (struct batch){.seconds = n};
    if (rw_request_compress(&req, &b->body, &b->len) < 0) b->body = NULL;
    rw_request_release(&req);
    pthread_mutex_lock(&w->mu);
    w->stats.series = series;
}

/* Drops what is queued (mu held): the final budget is spent. */
static void drop_queue(struct rwrite *w)
{
    while (w->qlen) {
        rw_snap_release(&w->queue[w->qhead]);
        w->qhead = (w->qhead + 1) % RW_QUEUE_MAX;
        w->qlen--;
        w->stats.seconds_dropped++;
    }
}

/* Pushes b once; on failure keeps it for its one retry, or drops it (mu held, released during the POST). */
static bool push_batch(struct rwrite *w, struct batch *b)
{
    uint64_t now = clock_now_ns(), deadline = now + RW_PUSH_TIMEOUT_NS;
    if (w->finishing && deadline > w->final_deadline_ns) deadline = w->final_deadline_ns;
    w->stats.pushes++;
    pthread_mutex_unlock(&w->mu);
    char err[256] = "could not compress the push";
    int verdict = b->body ? post(w, b->body, b->len, deadline, err, sizeof(err)) : -1;
    pthread_mutex_lock(&w->mu);
    if (verdict == 1) {
        w->stats.pushes_ok++;
        w->stats.seconds_sent += b->seconds;
    } else {
        note_failure(w, err);
        if (verdict == 0 && !b->retried) {
            b->retried = true;
            return true; /* keep it: the retry goes first */
        }
        w->stats.pushes_dropped++;
        w->stats.seconds_dropped += b->seconds;
    }
    free(b->body);
    b->body = NULL;
    return false;
}

/* The pusher thread: a push whenever seconds are queued, until finished and empty (or out of time). */
static void *rwrite_main(void *arg)
{
    struct rwrite *w = arg;
    /* A TLS receiver that resets mid-push makes SSL_write raise SIGPIPE: blocked here, it is an EPIPE. */
    sigset_t sigpipe;
    sigemptyset(&sigpipe);
    sigaddset(&sigpipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &sigpipe, NULL);
    struct batch retry = {0};
    bool has_retry = false;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->finishing && w->qlen == 0)
            pthread_cond_wait(&w->cond, &w->mu);
        bool late = w->finishing && clock_now_ns() >= w->final_deadline_ns;
        if (late || (w->finishing && w->qlen == 0 && !has_retry)) {
            if (has_retry) {
                w->stats.pushes_dropped++;
                w->stats.seconds_dropped += retry.seconds;
                free(retry.body);
            }
            drop_queue(w);
            break;
        }
        if (has_retry) {
            has_retry = push_batch(w, &retry);
            continue;
        }
        struct batch b;
        take_batch(w, &b);
        if (push_batch(w, &b)) retry = b, has_retry = true;
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int rwrite_start(struct rwrite *w, const struct rwrite_opts *o, const struct run_config *cfg, const char **why)
{
    memset(w, 0, sizeof(*w));
    if (o->url.tls) {
        if (tls_init(&w->tls, true, why) < 0) return -EINVAL; /* tls_init leaves nothing to free on failure */
        w->has_tls = true;
    }
    w->names = (const char *const *)cfg->gen->names; /* fixed by reqgen_init for the whole run */
    snprintf(w->run_id, sizeof(w->run_id), "%s", cfg->run_id);
    snprintf(w->shard, sizeof(w->shard), "%u/%u", cfg->shard, cfg->nshards ? cfg->nshards : 1);
    w->max_lag_ns = cfg->max_lag_ns;
    w->headers = build_headers(o);
    rw_totals_init(&w->totals);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cond, NULL);
    w->opts = o; /* from here rwrite_release has something to free */
    int rc = pthread_create(&w->thread, NULL, rwrite_main, w);
    if (rc) {
        *why = "cannot start its thread";
        rwrite_release(w);
        return -rc;
    }
    w->started = true;
    return 0;
}

/* Queues s (main thread); over the cap the oldest snapshot is dropped. */
static void enqueue(struct rwrite *w, struct rw_snap *s)
{
    pthread_mutex_lock(&w->mu);
    if (w->qlen == RW_QUEUE_MAX) {
        rw_snap_release(&w->queue[w->qhead]);
        w->qhead = (w->qhead + 1) % RW_QUEUE_MAX;
        w->qlen--;
        w->stats.seconds_dropped++;
        if (!w->stats.first_error[0]) snprintf(w->stats.first_error, sizeof(w->stats.first_error), "queue full");
    }
    w->queue[(w->qhead + w->qlen) % RW_QUEUE_MAX] = *s;
    w->qlen++;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->mu);
}

/* A timestamp for a new snapshot: now, and always after the previous one. */
static int64_t next_ms(struct rwrite *w)
{
    int64_t ms = (int64_t)(clock_wall_ns() / 1000000);
    if (ms <= w->last_ms) ms = w->last_ms + 1;
    return w->last_ms = ms;
}

void rwrite_second(struct rwrite *w, const struct timeline_row *row, const struct interval *merged)
{
    if (!w->started) return;
    rw_totals_add(&w->totals, merged);
    w->last_row = *row;
    w->has_row = true;
    struct rw_snap s;
    rw_totals_snap(&w->totals, row, rw_second_valid(row, w->max_lag_ns), next_ms(w), &s);
    enqueue(w, &s);
}

void rwrite_finish(struct rwrite *w, bool valid)
{
    if (!w->started) return;
    struct timeline_row zero = {0};
    struct rw_snap s;
    rw_totals_snap(&w->totals, w->has_row ? &w->last_row : &zero, valid ? 1 : 0, next_ms(w), &s);
    pthread_mutex_lock(&w->mu);
    w->final_deadline_ns = clock_now_ns() + RW_FINAL_BUDGET_NS;
    pthread_mutex_unlock(&w->mu);
    enqueue(w, &s);
    pthread_mutex_lock(&w->mu);
    w->finishing = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    w->started = false;
}

void rwrite_stats(struct rwrite *w, struct rwrite_stats *out)
{
    pthread_mutex_lock(&w->mu);
    *out = w->stats;
    pthread_mutex_unlock(&w->mu);
}

bool rwrite_take_warning(struct rwrite *w, char *buf, size_t n)
{
    pthread_mutex_lock(&w->mu);
    bool now = w->stats.first_error[0] && !w->warned;
    if (now) {
        w->warned = true;
        snprintf(buf, n,
                 "remote write to '%s' failed (%s): a failed push is retried once, then dropped and counted "
                 "(remote_write in the JSON); the run goes on",
                 w->opts->url_text, w->stats.first_error);
    }
    pthread_mutex_unlock(&w->mu);
    return now;
}

void rwrite_release(struct rwrite *w)
{
    if (w && !w->opts && w->has_tls) tls_release(&w->tls), w->has_tls = false;
    if (!w || !w->opts) return;
    if (w->started) rwrite_finish(w, false);
    rw_totals_release(&w->totals);
    free(w->headers);
    w->headers = NULL;
    if (w->has_tls) tls_release(&w->tls);
    w->has_tls = false;
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cond);
    w->opts = NULL;
}

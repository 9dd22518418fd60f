/*
 * exchange.c — pairing requests with responses for the HTTP toxics; see
 * exchange.h.
 *
 * Invariants: fifo[first .. first+len) (mod cap) are the requests without a
 * complete response, oldest first; the newest is the request being read.
 * A synthesized answer leaves only from the front of the FIFO, so it never
 * overtakes a response the server still owes.
 */
#include "chaos/exchange.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CUT_NONE (-2)

void exchange_init(struct exchange *ex)
{
    memset(ex, 0, sizeof *ex);
    http_frame_init(&ex->req, false);
    http_frame_init(&ex->resp, true);
    ex->cut_bytes = CUT_NONE;
}

void exchange_release(struct exchange *ex)
{
    if (!ex) return;
    free(ex->fifo);
    ex->fifo = NULL;
    ex->cap = ex->len = 0;
}

/* The i-th request in flight (0 = oldest). */
static struct exchange_entry *entry_at(struct exchange *ex, uint32_t i)
{
    return &ex->fifo[(ex->first + i) % ex->cap];
}

/* Appends a request; false when the pipeline is too deep. */
static bool fifo_push(struct exchange *ex, const struct exchange_entry *e)
{
    if (ex->len == EXCHANGE_MAX_PIPELINE) return false;
    if (ex->len == ex->cap) {
        uint32_t cap = ex->cap ? ex->cap * 2 : 4;
        struct exchange_entry *grown = malloc(cap * sizeof *grown);
        if (!grown) abort();
        for (uint32_t i = 0; i < ex->len; i++)
            grown[i] = *entry_at(ex, i);
        free(ex->fifo);
        ex->fifo = grown;
        ex->cap = cap;
        ex->first = 0;
    }
    ex->fifo[(ex->first + ex->len) % ex->cap] = *e;
    ex->len++;
    return true;
}

static void fifo_pop(struct exchange *ex)
{
    ex->first = (ex->first + 1) % ex->cap;
    ex->len--;
}

/* The first toxic of this type that hits request seq, or NULL. */
static const struct toxic *pick(const struct exchange_dice *d, enum toxic_type type, uint64_t seq)
{
    for (size_t i = 0; i < d->count; i++) {
        const struct toxic *t = &d->toxics[i];
        if (t->type == type && toxic_hits(t, d->seed, d->conn_id, seq)) return t;
    }
    return NULL;
}

/* Forward everything from now on, untouched. */
static void go_opaque(struct exchange *ex, size_t len, struct exchange_step *out)
{
    ex->opaque = true;
    ex->req_dropping = false;
    *out = (struct exchange_step){.len = len, .forward = true};
}

/* Client to server: frame requests and decide which ones we answer. */
static void step_request(struct exchange *ex, const char *buf, size_t len, const struct exchange_dice *d,
                         struct exchange_step *out)
{
    if (http_frame_idle(&ex->req)) {
        struct exchange_entry e = {.seq = ex->next_seq};
        const struct toxic *t = pick(d, TOXIC_HTTP_STATUS, e.seq);
        if (t) {
            e.synth = true;
            e.status = (uint16_t)t->attr[ATTR_STATUS];
        }
        if (!fifo_push(ex, &e)) { /* full: nothing consumed until a response completes */
            *out = (struct exchange_step){.len = 0};
            return;
        }
        ex->next_seq++;
        ex->req_dropping = e.synth;
    }
    bool dropping = ex->req_dropping;
    ssize_t n = http_frame_feed(&ex->req, buf, len);
    if (n < 0) return go_opaque(ex, len, out);
    struct exchange_entry *cur = entry_at(ex, ex->len - 1);
    if (ex->req.events & HTTP_FRAME_HEAD) {
        cur->head_request = ex->req.method_head;
        cur->close = !ex->req.keep_alive;
    }
    if (ex->req.events & HTTP_FRAME_DONE) {
        cur->complete = true;
        ex->req_dropping = false;
        if (ex->req.upgrade && !cur->synth) ex->opaque = true; /* a tunnel follows */
    }
    *out = (struct exchange_step){.len = (size_t)n, .forward = !dropping};
}

/* A response starts: find its request and roll the response toxics. */
static bool response_start(struct exchange *ex, const struct exchange_dice *d)
{
    if (ex->len == 0 || entry_at(ex, 0)->synth) return false; /* nobody asked for it */
    const struct exchange_entry *e = entry_at(ex, 0);
    http_frame_expect(&ex->resp, e->head_request);
    ex->resp_delay_ns = 0;
    const struct toxic *t = pick(d, TOXIC_HTTP_LATENCY, e->seq);
    if (t) {
        double u = toxic_dice(d->seed ^ 0x5bd1e995u, t->id ^ d->conn_id, e->seq);
        ex->resp_delay_ns = toxic_latency_ns(t->attr[ATTR_LATENCY], t->attr[ATTR_JITTER], u);
    }
    t = pick(d, TOXIC_HTTP_CUT, e->seq);
    ex->cut_bytes = t ? t->attr[ATTR_BYTES] : CUT_NONE;
    ex->cutting = false;
    return true;
}

/* Server to client: frame responses, delay or cut the picked ones. */
static void step_response(struct exchange *ex, const char *buf, size_t len, const struct exchange_dice *d,
                          struct exchange_step *out)
{
    if (http_frame_idle(&ex->resp) && !response_start(ex, d)) return go_opaque(ex, len, out);
    size_t want = len;
    if (ex->cutting && want > ex->cut_left) want = (size_t)ex->cut_left;
    ssize_t n = http_frame_feed(&ex->resp, buf, want);
    if (n < 0) return go_opaque(ex, len, out);
    *out = (struct exchange_step){.len = (size_t)n, .forward = true, .delay_ns = ex->resp_delay_ns};
    unsigned ev = ex->resp.events;
    if (ev & HTTP_FRAME_DONE) {
        if (ex->resp.upgrade) ex->opaque = true;
        fifo_pop(ex);
        ex->cut_bytes = CUT_NONE;
        ex->cutting = false;
        return;
    }
    if (ex->cutting) {
        ex->cut_left -= (size_t)n;
    } else if ((ev & HTTP_FRAME_HEAD) && ex->cut_bytes != CUT_NONE) {
        int64_t cl = ex->resp.content_length;
        ex->cut_left = ex->cut_bytes >= 0 ? (uint64_t)ex->cut_bytes : cl > 0 ? (uint64_t)cl / 2 : 0;
        ex->cutting = true;
    }
    if (ex->cutting && ex->cut_left == 0) {
        out->close_after = true;
        ex->finished = true;
    }
}

void exchange_step(struct exchange *ex, int dir, const char *buf, size_t len, const struct exchange_dice *dice,
                   struct exchange_step *out)
{
    if (ex->finished) {
        *out = (struct exchange_step){.len = len, .forward = false};
        return;
    }
    if (ex->opaque) {
        *out = (struct exchange_step){.len = len, .forward = true};
        return;
    }
    if (dir == STREAM_UPSTREAM)
        step_request(ex, buf, len, dice, out);
    else
        step_response(ex, buf, len, dice, out);
}

void exchange_upstream_eof(struct exchange *ex)
{
    if (ex->opaque || ex->finished) return;
    if (http_frame_eof(&ex->resp) == 1 && ex->len > 0) fifo_pop(ex);
}

bool exchange_quiet(const struct exchange *ex)
{
    return !ex->opaque && !ex->finished && ex->len == 0 && http_frame_idle(&ex->req) && http_frame_idle(&ex->resp);
}

void exchange_restart(struct exchange *ex)
{
    uint64_t next_seq = ex->next_seq;
    exchange_release(ex);
    exchange_init(ex);
    ex->next_seq = next_seq;
}

/* The reason phrase of a status we synthesize. */
static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 408: return "Request Timeout";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Chaos";
    }
}

bool exchange_synth_due(const struct exchange *ex)
{
    if (ex->len == 0) return false;
    const struct exchange_entry *e = &ex->fifo[ex->first % ex->cap];
    return e->synth && e->complete;
}

size_t exchange_next_synth(struct exchange *ex, char *buf, bool *close)
{
    if (!exchange_synth_due(ex)) return 0;
    struct exchange_entry *e = entry_at(ex, 0);
    static const char body[] = "injected by salvo chaos\n";
    bool no_body = e->head_request || e->status == 204 || e->status == 304;
    char length[48] = ""; /* a 204 or 304 carries no content-length (RFC 9110 8.6) */
    if (e->status != 204 && e->status != 304)
        snprintf(length, sizeof length, "content-length: %zu\r\n", sizeof body - 1);
    int n = snprintf(buf, EXCHANGE_SYNTH_MAX, "HTTP/1.1 %u %s\r\ncontent-type: text/plain\r\n%s%s\r\n%s",
                     (unsigned)e->status, reason(e->status), length, e->close ? "connection: close\r\n" : "",
                     no_body ? "" : body);
    *close = e->close;
    if (e->close) ex->finished = true;
    fifo_pop(ex);
    return (size_t)n;
}

/*
 * conn.c — one connection's state machine (see conn.h; its sockets and
 * byte transports are in transport.c): connect, TLS handshake, the deadline of the oldest stream,
 * exactly one outcome per stream, and the connection handed back to the
 * pool and the engine. What is written and read in between is the
 * protocol's (proto.h); this file never parses a byte.
 *
 * Connections are registered edge-triggered for both directions once, so
 * every handler reads or writes until EAGAIN and tolerates spurious
 * events. Requests the server closed on without answering (the keep-alive
 * race, or pipelined requests behind a Connection: close) are sent again
 * once, keeping their intended times, so the server's close is not
 * counted as the client's failure.
 */
#include "load/conn.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "load/script.h"
#include "load/check_stream.h"
#include "load/engine.h"
#include "load/h2.h"
#include "load/http1.h"

#define CLOSED_BACKOFF_NS (10 * NS_PER_MS) /* closed model: pause after a failed connect */

/*
 * Deadline of stream s: from its intended time (open) or its send or
 * connect start (closed). An HTTP/2 stream not written yet (waiting for a
 * stream slot of the server's) counts from when it was asked for.
 */
uint64_t conn_stream_deadline(const struct conn *c, const struct stream *s)
{
    const struct run_config *cfg = c->w->cfg;
    uint64_t sent = s->t_send_ns ? s->t_send_ns : s->req.t_intended_ns;
    uint64_t from = cfg->closed ? (c->state == CONN_BUSY ? sent : c->t_open_ns) : s->req.t_intended_ns;
    return from + cfg->timeout_ns;
}

/* Deadline of c's oldest stream. */
static uint64_t req_deadline(const struct conn *c)
{
    return conn_stream_deadline(c, conn_stream(c, 0));
}

void conn_arm_deadline(struct conn *c)
{
    if (c->nstreams)
        timer_arm(&c->w->loop, &c->timer, req_deadline(c));
    else
        timer_disarm(&c->w->loop, &c->timer);
}

/* Remembers the first failure description for the summary. */
static void note_error(struct worker *w, const char *what)
{
    if (!w->first_error[0]) snprintf(w->first_error, sizeof(w->first_error), "%s", what);
}

void conn_setup(struct conn *c, struct worker *w)
{
    c->w = w;
    c->proto = w->proto;
    c->pipeline = w->cfg->pipeline > 1 ? w->cfg->pipeline : 1;
    c->io.fd = -1;
    c->io.on_event = conn_on_event;
    timer_init(&c->timer, conn_on_timer);
}

void conn_push(struct conn *c, const struct pending *p)
{
    struct stream *s = conn_stream(c, c->nstreams);
    s->req = *p;
    s->t_send_ns = s->t_first_ns = 0;
    s->h2_id = 0;
    s->h2_status = 0;
    s->h2_closed = s->h2_end = false;
    s->h2_fc_since = s->h2_fc_ns = 0;
    c->nstreams++;
    c->w->pool.nbusy++;
}

void conn_drop_stream(struct conn *c)
{
    if (!c->nstreams) return;
    if (c->budget_held || c->budget_wait.queued) http1_budget_drop(c);
    struct stream *s = conn_stream(c, 0);
    if (s->kept_held) {
        body_budget_release(&c->w->budget, s->kept_held);
        s->kept_held = 0;
        if (c->w->budget.head) timer_arm(&c->w->loop, &c->w->budget_timer, 0);
    }
    c->first = c->first + 1 == c->depth ? 0 : c->first + 1;
    c->nstreams--;
    if (c->nwritten)
        c->nwritten--;
    else
        c->written = 0; /* the oldest was cut off mid-write */
    c->w->pool.nbusy--;
}

uint32_t conn_room(const struct conn *c)
{
    return c->proto ? c->proto->free_slots(c) : 0;
}

bool conn_takes_retry(const struct conn *c)
{
    if (c->proto && c->proto->multiplexed) return h2_takes_retry(c);
    if (c->nstreams == 0) return true;
    return c->served == 0 && conn_stream(c, c->nstreams - 1)->req.retries > 0;
}

/* Records the one outcome of request p that got no response: err, or a timeout. */
static void record_lost(struct worker *w, const struct pending *p, enum salvo_err err)
{
    engine_record_lost(w, p, err);
}

/*
 * Takes the streams behind c's oldest off it: they were sent (or queued)
 * but the server never answered them. Each not retried before is kept in
 * out for its one retry; the others get err as their outcome. Returns how
 * many are in out, oldest first.
 */
static uint32_t take_unanswered(struct conn *c, enum salvo_err err, struct pending *out)
{
    struct worker *w = c->w;
    uint32_t n = 0;
    for (uint32_t i = 1; i < c->nstreams; i++) {
        struct pending p = conn_stream(c, i)->req;
        if (p.retries > 0) {
            record_lost(w, &p, err);
            continue;
        }
        p.retries++;
        w->pool.stats.retries++;
        out[n++] = p;
    }
    if (c->nstreams > 1) {
        w->pool.nbusy -= c->nstreams - 1;
        c->nstreams = 1;
        if (c->nwritten > 1) c->nwritten = 1;
    }
    return n;
}

/* Closed model: gives request p a fresh connection slot, which connects. */
static void reopen_for(struct worker *w, const struct pending *p)
{
    struct conn *n = pool_take_free(&w->pool);
    conn_push(n, p);
    engine_closed_next(w, n); /* n is FREE with a request: it connects */
}

/*
 * Sends requests the server never answered back for their one retry, in
 * their order and with their intended times: to the head of the backlog
 * (open model) or, in the closed model, the first to a fresh connection
 * and the rest to the backlog, which the closed model drains first.
 */
static void resubmit(struct worker *w, const struct pending *ps, uint32_t n)
{
    if (n == 0) return;
    uint32_t from = 0;
    if (w->cfg->closed && w->pool.nfree > 0) from = 1;
    for (uint32_t i = n; i-- > from;)
        backlog_push_front(&w->backlog, &ps[i]);
    if (from)
        reopen_for(w, &ps[0]);
    else if (!w->cfg->closed)
        engine_pump(w, clock_now_ns());
}

/* What to do after c's request ended: next arrival (closed) or backlog (open). */
static void after_request(struct worker *w, struct conn *c)
{
    if (w->cfg->closed) {
        bool reusable = c && (c->state == CONN_IDLE || (c->state == CONN_BUSY && conn_room(c) > 0));
        engine_closed_next(w, reusable ? c : NULL);
    } else {
        engine_pump(w, clock_now_ns());
    }
}

/* Counts a failed connect by its errno, then fails c's request. */
static void conn_fail_connect(struct conn *c, int err)
{
    if (err > 0 && err < REC_MAX_ERRNO) c->w->rec.connect_errno[err]++;
    conn_fail(c, salvo_err_from_connect(err));
}

void conn_fail(struct conn *c, enum salvo_err err)
{
    struct worker *w = c->w;
    bool connecting = c->state == CONN_CONNECTING || c->state == CONN_HANDSHAKE;
    struct pending again[PIPELINE_MAX];
    uint32_t nagain = take_unanswered(c, err, again);
    if (c->nstreams) {
        record_lost(w, &conn_stream(c, 0)->req, err);
        conn_drop_stream(c);
    }
    note_error(w, salvo_err_name(err));
    if (connecting) w->pool.stats.connect_errors++;
    if (w->cfg->closed && connecting && !atomic_load_explicit(&w->stop, memory_order_relaxed)) {
        /* Back off briefly so a dead server is not hammered in a tight loop. */
        pool_close(&w->pool, c, BY_ERROR, true);
        c->state = CONN_BACKOFF;
        timer_arm(&w->loop, &c->timer, clock_now_ns() + CLOSED_BACKOFF_NS);
        resubmit(w, again, nagain);
        return;
    }
    pool_close(&w->pool, c, BY_ERROR, false);
    resubmit(w, again, nagain);
    after_request(w, NULL);
}

/*
 * Retries c's oldest request once after a keep-alive race: the server
 * closed a connection it had answered on before, and this request got no
 * byte back. The streams behind it go back once too.
 */
static bool try_retry(struct conn *c)
{
    struct worker *w = c->w;
    struct stream *s = conn_stream(c, 0);
    if (!c->nstreams || c->served == 0 || s->t_first_ns || s->req.retries > 0) return false;
    struct pending again[PIPELINE_MAX + 1];
    again[0] = s->req;
    again[0].retries++;
    w->pool.stats.retries++;
    uint32_t n = 1 + take_unanswered(c, ERR_EOF_EARLY, again + 1);
    conn_drop_stream(c);
    pool_close(&w->pool, c, BY_SERVER, false);
    resubmit(w, again, n);
    return true;
}

void conn_lost(struct conn *c, enum salvo_err err)
{
    if (!try_retry(c)) conn_fail(c, err);
}

int conn_render(struct conn *c, struct stream *s, bool *head)
{
    const struct reqgen *gen = c->w->cfg->gen;
    if (c->w->script) {
        /* The bytes request() returned at the arrival's due time, kept in the worker's Lua state. */
        if (script_bytes(c->w->script, s->req.index, &s->wbytes, &s->wlen) < 0) return -ENOENT;
        *head = s->wlen > 5 && !memcmp(s->wbytes, "HEAD ", 5);
        return 0;
    }
    /* The stream's buffer is made on its first dynamic request and kept: later renders allocate nothing. */
    if (!reqgen_is_static(gen) && !s->wbuf && !(s->wbuf = malloc(gen->max_len))) abort();
    return reqgen_render(gen, s->req.index, s->wbuf, gen->max_len, &s->wbytes, &s->wlen, head);
}

bool conn_stream_done(struct conn *c, int status)
{
    struct worker *w = c->w;
    uint64_t now = clock_now_ns();
    struct stream *s = conn_stream(c, 0);
    bool check_failed = false;
    bool script_failed = w->cfg->script_response && engine_script_response(w, s, status, &check_failed);
    bool step = w->cfg->script_sessions && script_is_step(s->req.index);
    if (step) {
        /* The session reads this response now; its next step goes to the backlog. */
        struct stream copy = *s;
        check_failed |= engine_session_answered(w, &copy, status, script_failed);
    }
    if (w->cfg->nchecks)
        check_failed |= check_stream_judge(w->cfg, &w->rec, s, status);
    else if (step)
        check_stream_reset(s);
    if (script_failed) {
        recorder_failure(&w->rec, s->req.group, ERR_SCRIPT, s->req.t_intended_ns);
        interval_done(cur_interval(w), s->req.group, -1, true);
    } else {
        recorder_response_checked(&w->rec, s->req.group, status, check_failed, s->req.t_intended_ns, s->t_send_ns,
                                  s->t_first_ns, now);
        interval_done(cur_interval(w), s->req.group, ns_to_us(now - s->req.t_intended_ns),
                      status >= 400 || check_failed);
        interval_service(cur_interval(w), s->req.group, ns_to_us(now - s->t_send_ns));
    }
    c->served++;
    if (s->req.nreq > 1) {
        /* One of a script's pipelined requests: the stream waits for the next answer; never retried now. */
        s->req.nreq--;
        s->req.retries = 1;
        return true;
    }
    if (w->script) script_forget(w->script, s->req.index);
    conn_drop_stream(c);
    timer_disarm(&w->loop, &c->timer);
    return false;
}

/* Moves stream i of c to the oldest place; the streams before it keep their order behind it. */
static void rotate_to_front(struct conn *c, uint32_t i)
{
    if (i == 0) return;
    struct stream tmp = *conn_stream(c, i);
    for (uint32_t k = i; k > 0; k--)
        *conn_stream(c, k) = *conn_stream(c, k - 1);
    *conn_stream(c, 0) = tmp;
}

void conn_stream_done_at(struct conn *c, uint32_t i, int status)
{
    rotate_to_front(c, i);
    (void)conn_stream_done(c, status); /* h2 streams carry one request each (--script refuses h2) */
}

void conn_stream_end_at(struct conn *c, uint32_t i, enum salvo_err err, bool retry)
{
    struct worker *w = c->w;
    rotate_to_front(c, i);
    struct pending p = conn_stream(c, 0)->req;
    conn_drop_stream(c);
    if (!retry || p.retries > 0) {
        record_lost(w, &p, err);
        note_error(w, salvo_err_name(err));
        return;
    }
    p.retries++;
    w->pool.stats.retries++;
    backlog_push_front(&w->backlog, &p);
}

/*
 * c closes after a response: requests pipelined behind the last answer
 * were not answered and go back once. Kept out of the keep-alive path,
 * which must not pay for this function's array.
 */
static __attribute__((noinline)) void close_after_response(struct conn *c, enum close_reason why)
{
    struct worker *w = c->w;
    struct pending again[PIPELINE_MAX];
    uint32_t n = 0;
    if (c->nstreams) {
        n = take_unanswered(c, ERR_EOF_EARLY, again + 1) + 1;
        again[0] = conn_stream(c, 0)->req;
        if (again[0].retries > 0) {
            record_lost(w, &again[0], ERR_EOF_EARLY);
            n--;
            memmove(again, again + 1, n * sizeof(*again));
        } else {
            again[0].retries++;
            w->pool.stats.retries++;
        }
        conn_drop_stream(c);
    }
    pool_close(&w->pool, c, why, false);
    resubmit(w, again, n);
    after_request(w, NULL);
}

void conn_after_response(struct conn *c, bool close, enum close_reason why)
{
    struct worker *w = c->w;
    if (close || w->cfg->no_keepalive || atomic_load_explicit(&w->stop, memory_order_relaxed)) {
        close_after_response(c, why);
        return;
    }
    if (c->nstreams) timer_arm(&w->loop, &c->timer, req_deadline(c)); /* the next pipelined answer */
    pool_give_back(&w->pool, c);
    after_request(w, c);
}

void conn_stamp_send(struct conn *c, struct stream *s)
{
    struct worker *w = c->w;
    s->t_send_ns = clock_now_ns();
    if (w->cfg->closed) s->req.t_intended_ns = s->t_send_ns;
    s->t_first_ns = 0;
    c->state = CONN_BUSY;
    for (uint32_t i = 0; i < pending_nreq(&s->req); i++)
        interval_sent(cur_interval(w), s->req.group);
    w->sent += pending_nreq(&s->req);
    w->last_send_ns = s->t_send_ns;
    /* The oldest stream owns the deadline; later ones get it when they are the oldest. */
    if (s == conn_stream(c, 0)) timer_arm(&w->loop, &c->timer, req_deadline(c));
}

void conn_send(struct conn *c)
{
    c->proto->start(c, conn_stream(c, c->nstreams - 1));
}

/* Connected (and TLS done): record connect time and send or go idle. */
static void conn_ready(struct conn *c)
{
    struct worker *w = c->w;
    uint64_t now = clock_now_ns();
    hist_record_clamped(&w->rec.connect, ns_to_us(now - c->t_open_ns));
    w->pool.stats.opened++;
    w->pool.nconnecting--;
    c->established = true;
    timer_disarm(&w->loop, &c->timer);
    if (!c->nstreams) {
        pool_give_back(&w->pool, c);
        after_request(w, c);
    } else if (w->cfg->closed && w->cfg->rate > 0 && conn_stream(c, 0)->req.t_intended_ns > now) {
        c->state = CONN_PACING;
        timer_arm(&w->loop, &c->timer, conn_stream(c, 0)->req.t_intended_ns);
    } else {
        conn_send(c);
        if (c->state == CONN_BUSY && conn_room(c) > 0) {
            /* Pipelining: the connection takes more while its first answer is on the way. */
            pool_give_back(&w->pool, c);
            after_request(w, c);
        }
    }
}

/*
 * The protocol the server picked in ALPN: h2, else HTTP/1.1 (also when it
 * picked nothing), or NULL when --http2 requires h2 and it was not picked.
 */
static const struct proto_ops *alpn_proto(const struct conn *c)
{
    const unsigned char *p = NULL;
    unsigned len = 0;
    SSL_get0_alpn_selected(c->ssl, &p, &len);
    if (len == 2 && memcmp(p, "h2", 2) == 0) return &h2_proto;
    return c->w->cfg->http_mode == HTTP_2 ? NULL : &http1_proto;
}

/* Advances the TLS handshake of c. */
static void conn_handshake_step(struct conn *c)
{
    struct worker *w = c->w;
    char why[200];
    bool verify;
    int rc = conn_handshake(c, &w->cfg->tls, w->cfg->url.host, why, sizeof(why), &verify);
    if (rc == 0) return;
    if (rc > 0) {
        c->proto = alpn_proto(c);
        if (!c->proto) {
            note_error(w, "the server did not negotiate h2 (ALPN) and --http2 requires it");
            conn_fail(c, ERR_H2_NOT_NEGOTIATED);
            return;
        }
        conn_ready(c);
        return;
    }
    note_error(w, why);
    conn_fail(c, verify ? ERR_TLS_VERIFY : ERR_TLS);
}

/*
 * The server closed the connection a paced request was waiting on (closed
 * model with -r): the request was never sent, so it takes a new connection
 * and keeps its intended time; it is not a retry.
 */
static void repace(struct conn *c, enum close_reason why)
{
    struct pending p = conn_stream(c, 0)->req;
    conn_drop_stream(c);
    pool_close(&c->w->pool, c, why, false);
    reopen_for(c->w, &p);
}

/* Drains an idle connection: anything but "no data" means it is closed. */
static void conn_idle_event(struct conn *c)
{
    char buf[512];
    ssize_t n = c->w->transport->read(c, buf, sizeof(buf));
    if (n == CONN_AGAIN) return;
    struct worker *w = c->w;
    if (c->state == CONN_PACING && c->nstreams) return repace(c, n > 0 ? BY_ERROR : BY_SERVER);
    pool_close(&w->pool, c, n > 0 ? BY_ERROR : BY_SERVER, false);
    if (w->cfg->closed) engine_closed_next(w, NULL);
}

void conn_on_event(struct loop_io *io, uint32_t events)
{
    struct conn *c = container_of(io, struct conn, io);
    if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) c->peer_hup = true;
    switch (c->state) {
    case CONN_CONNECTING: {
        if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
        int rc = conn_connect_result(c);
        if (rc < 0) {
            conn_fail_connect(c, -rc);
            return;
        }
        if (c->w->cfg->url.tls) {
            c->state = CONN_HANDSHAKE;
            conn_handshake_step(c);
        } else {
            conn_ready(c);
        }
        return;
    }
    case CONN_HANDSHAKE: conn_handshake_step(c); return;
    case CONN_BUSY:
        c->proto->writable(c);
        if (c->state == CONN_BUSY) c->proto->readable(c);
        return;
    case CONN_IDLE:
        if (c->proto->multiplexed) {
            /* An idle HTTP/2 connection still gets frames: SETTINGS, PING, GOAWAY. */
            c->proto->writable(c);
            if (c->state == CONN_IDLE) c->proto->readable(c);
            return;
        }
        /* fall through */
    case CONN_PACING:
        if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) conn_idle_event(c);
        return;
    default: return;
    }
}

void conn_on_timer(struct timer *t, uint64_t now)
{
    struct conn *c = container_of(t, struct conn, timer);
    struct worker *w = c->w;
    if (c->state == CONN_PACING) {
        conn_send(c);
        return;
    }
    if (c->state == CONN_BACKOFF) {
        c->state = CONN_FREE;
        if (c->nstreams)
            engine_closed_next(w, c);
        else {
            pool_give_slot(&w->pool, c);
            engine_closed_next(w, NULL);
        }
        return;
    }
    if (!c->nstreams) return;
    if (c->state == CONN_BUSY && c->proto->expire) {
        c->proto->expire(c, now);
        return;
    }
    /* The oldest request timed out; those behind it on this connection were not answered either. */
    struct pending again[PIPELINE_MAX];
    uint32_t n = take_unanswered(c, ERR_TIMEOUT, again);
    record_lost(w, &conn_stream(c, 0)->req, ERR_TIMEOUT);
    conn_drop_stream(c);
    pool_close(&w->pool, c, BY_US, false);
    resubmit(w, again, n);
    after_request(w, NULL);
}

bool conn_start(struct worker *w, struct conn *c)
{
    int rc = conn_socket_open(c, w->url);
    c->t_open_ns = clock_now_ns();
    if (rc == 0 && (rc = loop_add(&w->loop, &c->io, EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP)) < 0) conn_close_fd(c);
    if (rc < 0) {
        c->state = CONN_CONNECTING; /* so conn_fail counts a connect error */
        c->io.fd = -1;
        conn_fail_connect(c, -rc);
        return false;
    }
    c->state = CONN_CONNECTING;
    c->served = 0;
    c->peer_hup = false;
    c->write_errno = 0;
    pool_opening(&w->pool, c);
    timer_arm(&w->loop, &c->timer, req_deadline(c));
    return true;
}

/*
 * exchange.c — one request and its response on one connection (see
 * exchange.h): connect, TLS handshake, write, read and parse, then exactly
 * one outcome recorded, and the connection handed back to the worker.
 *
 * Connections are registered edge-triggered for both directions once, so
 * every handler reads or writes until EAGAIN and tolerates spurious
 * events. A due request never waits for a read buffer: reads land in the
 * worker's shared scratch and only a partial head is carried.
 */
#include "load/exchange.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "core/clock.h"

#define CLOSED_BACKOFF_NS (10 * NS_PER_MS) /* closed model: pause after a failed connect */

static void conn_fail(struct conn *c, enum salvo_err err);

/* Deadline of the request on c: from its intended time (open) or send/connect start (closed). */
static uint64_t req_deadline(const struct conn *c)
{
    const struct run_config *cfg = c->w->cfg;
    uint64_t from = cfg->closed ? (c->state == CONN_BUSY ? c->t_send_ns : c->t_open_ns) : c->req.t_intended_ns;
    return from + cfg->timeout_ns;
}

/* Remembers the first failure description for the summary. */
static void note_error(struct worker *w, const char *what)
{
    if (!w->first_error[0]) snprintf(w->first_error, sizeof(w->first_error), "%s", what);
}

/* Takes c's request off it (the caller records its outcome). */
void exchange_drop_req(struct conn *c)
{
    if (!c->has_req) return;
    c->has_req = false;
    c->w->nbusy--;
}

/* Puts c at the head of the idle list (LIFO keeps few connections warm). */
static void idle_push(struct worker *w, struct conn *c)
{
    c->state = CONN_IDLE;
    c->prev = NULL;
    c->next = w->idle_head;
    if (w->idle_head) w->idle_head->prev = c;
    w->idle_head = c;
}

/* Unlinks c from the idle list. */
void exchange_idle_unlink(struct worker *w, struct conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        w->idle_head = c->next;
    if (c->next) c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

/* Closes c's socket; the slot goes back to the free stack unless keep_slot. */
void exchange_close(struct conn *c, enum close_reason why, bool keep_slot)
{
    struct worker *w = c->w;
    if (c->state == CONN_IDLE) exchange_idle_unlink(w, c);
    timer_disarm(&w->loop, &c->timer);
    if (c->io.fd >= 0) {
        loop_del(&w->loop, &c->io);
        conn_close_fd(c);
        w->nopen--;
    }
    if (c->established) {
        if (why == BY_SERVER)
            w->pool.closed_by_server++;
        else if (why == BY_US)
            w->pool.closed_by_us++;
        else
            w->pool.closed_by_error++;
        c->established = false;
    }
    c->state = CONN_FREE;
    if (!keep_slot) w->free_stack[w->nfree++] = c;
}

/* What to do after c's request ended: next arrival (closed) or backlog (open). */
static void after_request(struct worker *w, struct conn *c)
{
    if (w->cfg->closed)
        engine_closed_next(w, c && c->state == CONN_IDLE ? c : NULL);
    else
        engine_pump(w, clock_now_ns());
}

/* Counts a failed connect by its errno, then fails c's request. */
static void conn_fail_connect(struct conn *c, int err)
{
    if (err > 0 && err < REC_MAX_ERRNO) c->w->rec.connect_errno[err]++;
    conn_fail(c, salvo_err_from_connect(err));
}

/* Records a failure for c's request, closes c and moves on. */
static void conn_fail(struct conn *c, enum salvo_err err)
{
    struct worker *w = c->w;
    bool connecting = c->state == CONN_CONNECTING || c->state == CONN_HANDSHAKE;
    if (c->has_req) {
        recorder_failure(&w->rec, c->req.group, err, c->req.t_intended_ns);
        interval_done(cur_interval(w), c->req.group, -1, true);
        exchange_drop_req(c);
    }
    note_error(w, salvo_err_name(err));
    if (connecting) w->pool.connect_errors++;
    if (w->cfg->closed && connecting && !atomic_load_explicit(&w->stop, memory_order_relaxed)) {
        /* Back off briefly so a dead server is not hammered in a tight loop. */
        exchange_close(c, BY_ERROR, true);
        c->state = CONN_BACKOFF;
        timer_arm(&w->loop, &c->timer, clock_now_ns() + CLOSED_BACKOFF_NS);
        return;
    }
    exchange_close(c, BY_ERROR, false);
    after_request(w, NULL);
}

/* Closed model: gives request p a fresh connection slot, which connects. */
static void reopen_for(struct worker *w, const struct pending *p)
{
    struct conn *n = w->free_stack[--w->nfree];
    n->req = *p;
    n->has_req = true;
    w->nbusy++;
    engine_closed_next(w, n); /* n is FREE with a request: it connects */
}

/* Retries c's request once after a keep-alive race (server closed a reused connection). */
static bool try_retry(struct conn *c)
{
    struct worker *w = c->w;
    if (!c->has_req || c->served == 0 || c->t_first_ns || c->req.retries > 0) return false;
    struct pending p = c->req;
    p.retries++;
    w->pool.retries++;
    exchange_drop_req(c);
    exchange_close(c, BY_SERVER, false);
    if (w->cfg->closed) {
        reopen_for(w, &p);
    } else {
        backlog_push_front(&w->backlog, &p);
        engine_pump(w, clock_now_ns());
    }
    return true;
}

/* The response on c is complete: record it and reuse or close c (always when bytes followed it). */
static void conn_complete(struct conn *c, bool leftover)
{
    struct worker *w = c->w;
    uint64_t now = clock_now_ns();
    int status = c->resp.status;
    recorder_response(&w->rec, c->req.group, status, c->req.t_intended_ns, c->t_send_ns, c->t_first_ns, now);
    interval_done(cur_interval(w), c->req.group, ns_to_us(now - c->req.t_intended_ns), status >= 400);
    c->served++;
    exchange_drop_req(c);
    timer_disarm(&w->loop, &c->timer);
    if (c->resp.close || leftover || w->cfg->no_keepalive || atomic_load_explicit(&w->stop, memory_order_relaxed)) {
        exchange_close(c, c->resp.close ? BY_SERVER : BY_US, false);
        after_request(w, NULL);
    } else {
        idle_push(w, c);
        after_request(w, c);
    }
}

/*
 * Keeps the unconsumed tail of data (a head that is not complete yet) in c's
 * own carry buffer, allocated the first time a connection needs one: most
 * responses arrive whole, so idle connections cost no buffer at all.
 */
static bool conn_carry(struct conn *c, const char *data, size_t left)
{
    if (left >= CONN_RBUF_SIZE) return false;
    if (!c->rbuf && !(c->rbuf = malloc(CONN_RBUF_SIZE))) abort();
    memmove(c->rbuf, data, left);
    c->rlen = left;
    return true;
}

/* Reads and parses until the socket is drained or the response is complete. */
static void conn_read(struct conn *c)
{
    struct worker *w = c->w;
    for (;;) {
        /* Read after the carried bytes, or into the worker's shared scratch. */
        bool carried = c->rlen > 0;
        char *buf = carried ? c->rbuf + c->rlen : w->scratch;
        size_t cap = carried ? CONN_RBUF_SIZE - c->rlen : WORKER_SCRATCH_SIZE;
        ssize_t n = w->transport->read(c, buf, cap);
        if (n == CONN_AGAIN) return;
        if (n < 0) {
            /* -EPROTO: the TLS layer refused a record (bad MAC, garbage), not the socket. */
            if (!try_retry(c)) conn_fail(c, n == -ECONNRESET ? ERR_CONN_RESET : n == -EPROTO ? ERR_TLS : ERR_READ);
            return;
        }
        if (n == 0) {
            if (c->resp.head_done && http_resp_eof(&c->resp) == 0) {
                c->resp.close = true;
                conn_complete(c, false);
            } else if (!try_retry(c)) {
                conn_fail(c, ERR_EOF_EARLY);
            }
            return;
        }
        if (!c->t_first_ns) c->t_first_ns = clock_now_ns();
        w->rec.bytes_in += (uint64_t)n;
        const char *data = carried ? c->rbuf : w->scratch;
        size_t len = carried ? c->rlen + (size_t)n : (size_t)n;
        ssize_t used = http_resp_feed(&c->resp, data, len);
        if (used < 0) {
            conn_fail(c, ERR_PARSE);
            return;
        }
        size_t left = len - (size_t)used;
        c->rlen = 0;
        if (c->resp.done) {
            conn_complete(c, left > 0);
            return;
        }
        if (left && !conn_carry(c, data + used, left)) {
            conn_fail(c, ERR_PARSE);
            return;
        }
        /*
         * A short plain read drained the socket: more data will come with a
         * new edge (every arrival wakes an edge-triggered epoll), so skip the
         * read that would only say EAGAIN. Not when the peer's FIN or RST
         * came in the same edge as the data: no edge follows, and the next
         * read is the one that says how the response ended. TLS may hold
         * decrypted bytes, so it reads on until the transport says so.
         */
        if ((size_t)n < cap && !c->ssl && !c->peer_hup) return;
    }
}

/* Writes what is left of the request; reads once it is all out. */
static void conn_write(struct conn *c)
{
    struct worker *w = c->w;
    while (c->written < c->wlen) {
        ssize_t n = w->transport->write(c, c->wbytes + c->written, c->wlen - c->written);
        if (n == CONN_AGAIN) return;
        if (n <= 0) {
            if (!try_retry(c)) conn_fail(c, n == -ECONNRESET || n == -EPIPE ? ERR_CONN_RESET : ERR_WRITE);
            return;
        }
        c->written += (size_t)n;
        w->rec.bytes_out += (uint64_t)n;
    }
}

/* Sends c's request now (c is connected and c->req is set). */
void exchange_send(struct conn *c)
{
    struct worker *w = c->w;
    const struct reqgen *gen = w->cfg->gen;
    bool head;
    if (!reqgen_is_static(gen) && !c->wbuf && !(c->wbuf = malloc(gen->max_len))) abort();
    if (reqgen_render(gen, c->req.index, c->wbuf, gen->max_len, &c->wbytes, &c->wlen, &head) < 0) {
        /* Cannot happen: exhaustion is checked at dispatch, buffers are sized to max_len. */
        conn_fail(c, ERR_WRITE);
        return;
    }
    c->t_send_ns = clock_now_ns();
    if (w->cfg->closed) c->req.t_intended_ns = c->t_send_ns;
    c->t_first_ns = 0;
    c->written = 0;
    c->rlen = 0;
    http_resp_init(&c->resp, head);
    c->state = CONN_BUSY;
    interval_sent(cur_interval(w), c->req.group);
    w->sent++;
    w->last_send_ns = c->t_send_ns;
    timer_arm(&w->loop, &c->timer, req_deadline(c));
    /* No read here: the response cannot be there yet, and its arrival is an edge. */
    conn_write(c);
}

/* Connected (and TLS done): record connect time and send or go idle. */
static void conn_ready(struct conn *c)
{
    struct worker *w = c->w;
    uint64_t now = clock_now_ns();
    hist_record_clamped(&w->rec.connect, ns_to_us(now - c->t_open_ns));
    w->pool.opened++;
    c->established = true;
    timer_disarm(&w->loop, &c->timer);
    if (!c->has_req) {
        idle_push(w, c);
        after_request(w, c);
    } else if (w->cfg->closed && w->cfg->rate > 0 && c->req.t_intended_ns > now) {
        c->state = CONN_PACING;
        timer_arm(&w->loop, &c->timer, c->req.t_intended_ns);
    } else {
        exchange_send(c);
    }
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
        conn_ready(c);
        return;
    }
    note_error(w, why);
    conn_fail(c, verify ? ERR_TLS_VERIFY : ERR_TLS);
}

/* Drains an idle connection: anything but "no data" means it is closed. */
/*
 * The server closed the connection a paced request was waiting on (closed
 * model with -r): the request was never sent, so it takes a new connection
 * and keeps its intended time; it is not a retry.
 */
static void repace(struct conn *c, enum close_reason why)
{
    struct pending p = c->req;
    exchange_drop_req(c);
    exchange_close(c, why, false);
    reopen_for(c->w, &p);
}

static void conn_idle_event(struct conn *c)
{
    char buf[512];
    ssize_t n = c->w->transport->read(c, buf, sizeof(buf));
    if (n == CONN_AGAIN) return;
    struct worker *w = c->w;
    if (c->state == CONN_PACING && c->has_req) return repace(c, n > 0 ? BY_ERROR : BY_SERVER);
    exchange_close(c, n > 0 ? BY_ERROR : BY_SERVER, false);
    if (w->cfg->closed) engine_closed_next(w, NULL);
}

/* epoll callback of every connection. */
void exchange_on_event(struct loop_io *io, uint32_t events)
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
        if (c->written < c->wlen) conn_write(c);
        if (c->state == CONN_BUSY && c->written == c->wlen) conn_read(c);
        return;
    case CONN_IDLE:
    case CONN_PACING:
        if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) conn_idle_event(c);
        return;
    default: return;
    }
}

/* A connection's timer: request deadline, pacing or backoff. */
void exchange_on_timer(struct timer *t, uint64_t now)
{
    struct conn *c = container_of(t, struct conn, timer);
    struct worker *w = c->w;
    (void)now;
    if (c->state == CONN_PACING) {
        exchange_send(c);
        return;
    }
    if (c->state == CONN_BACKOFF) {
        c->state = CONN_FREE;
        if (c->has_req)
            engine_closed_next(w, c);
        else {
            w->free_stack[w->nfree++] = c;
            engine_closed_next(w, NULL);
        }
        return;
    }
    if (!c->has_req) return;
    recorder_timeout(&w->rec, c->req.group, w->cfg->timeout_ns, c->req.t_intended_ns);
    interval_done(cur_interval(w), c->req.group, ns_to_us(w->cfg->timeout_ns), true);
    exchange_drop_req(c);
    exchange_close(c, BY_US, false);
    after_request(w, NULL);
}

/* Opens connection slot c for its request (or none). False if it failed at once. */
bool exchange_start(struct worker *w, struct conn *c)
{
    int rc = conn_socket_open(c, &w->cfg->url);
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
    w->nopen++;
    if (w->nopen > w->pool.max_open) w->pool.max_open = w->nopen;
    timer_arm(&w->loop, &c->timer, req_deadline(c));
    return true;
}

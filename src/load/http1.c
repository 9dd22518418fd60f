/*
 * http1.c — HTTP/1.1 on a connection (see http1.h).
 *
 * Everything here runs inside the connection state machine's callbacks and
 * reports each end through it (conn.h): a complete response with
 * conn_stream_done and conn_after_response, a broken transport with
 * conn_lost (which retries the keep-alive race), a bad response with
 * conn_fail. The hot path is one read into the worker's scratch buffer,
 * one parse, one record; nothing is copied unless a head is split.
 *
 * With a body check, the parser stops after each final head so the body's
 * room can be reserved in the worker's kept-body budget before any body
 * byte is consumed; a response that must wait leaves the bytes read after
 * its head in the carry buffer (reads are capped to its size then) and its
 * connection reads nothing until http1_budget_grant resumes it.
 */
#include "load/http1.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "load/check_stream.h"
#include "load/conn.h"
#include "load/engine.h"

/*
 * Keeps the unconsumed tail of data (a head that is not complete yet) in c's
 * own carry buffer, allocated the first time a connection needs one: most
 * responses arrive whole, so idle connections cost no buffer at all.
 */
static bool http1_carry(struct conn *c, const char *data, size_t left)
{
    if (left >= CONN_RBUF_SIZE) return false;
    if (!c->rbuf && !(c->rbuf = malloc(CONN_RBUF_SIZE))) abort();
    memmove(c->rbuf, data, left);
    c->rlen = left;
    return true;
}

/* The error kind of a failed write. */
static enum salvo_err http1_write_kind(int err)
{
    return err == ECONNRESET || err == EPIPE ? ERR_CONN_RESET : ERR_WRITE;
}

/*
 * After a failed write, once no request written in full is left waiting
 * for its answer: the connection is lost under the rest (never written in
 * full, so never answered), which conn_lost retries. True when it was.
 */
static bool http1_write_lost(struct conn *c)
{
    if (!c->write_errno || c->state != CONN_BUSY || c->nwritten > 0) return false;
    conn_lost(c, http1_write_kind(c->write_errno));
    return true;
}

/*
 * The oldest response on c is complete; leftover says bytes followed it.
 * Those bytes are the next pipelined response when one is outstanding;
 * otherwise nobody asked for them and the connection closes. True when c
 * still expects responses, so the caller parses on.
 */
static bool http1_complete(struct conn *c, bool leftover)
{
    struct stream *s = conn_stream(c, 0);
    bool close = s->resp.close;
    if (conn_stream_done(c, s->resp.status)) {
        /* More of one script's pipelined requests are answered on this stream. */
        if (close) {
            conn_fail(c, ERR_EOF_EARLY); /* the server will not answer the rest */
            return false;
        }
        http_resp_init(&s->resp, s->resp.head_request);
        check_stream_reset(s);
        s->t_first_ns = leftover ? clock_now_ns() : 0;
        return true;
    }
    if (leftover && c->nwritten == 0) {
        /* Bytes after the response, and no request of ours fully written for them. */
        conn_after_response(c, true, close ? BY_SERVER : BY_US);
        return false;
    }
    if (leftover && !close) conn_stream(c, 0)->t_first_ns = clock_now_ns();
    conn_after_response(c, close, close ? BY_SERVER : BY_US);
    if (http1_write_lost(c)) return false;
    return c->state == CONN_BUSY && c->nwritten > 0;
}

/*
 * s's head just completed and its body is to be kept: reserves the body's
 * room, or queues c for it. True when the body may be read now.
 */
static bool http1_reserve(struct conn *c, struct stream *s)
{
    struct worker *w = c->w;
    size_t need = check_stream_body_need(w->cfg, s);
    if (need == 0) return true;
    if (!body_budget_reserve(&w->budget, &c->budget_wait, need, clock_now_ns())) return false;
    c->budget_held = c->budget_wait.need;
    return true;
}

/*
 * Parses data[0..len) into the responses of c in order. Returns 0 when it
 * is all consumed or carried (read on), 1 when c expects no more bytes
 * now (closed, idle, failed, or waiting for kept-body room).
 */
static int http1_feed(struct conn *c, const char *data, size_t len)
{
    for (;;) {
        struct stream *s = conn_stream(c, 0);
        bool had_head = s->resp.head_done;
        ssize_t used = http_resp_feed(&s->resp, data, len);
        if (used < 0) {
            conn_fail(c, ERR_PARSE);
            return 1;
        }
        if ((c->w->cfg->nchecks || c->w->cfg->keep_resp) && used > 0) {
            check_stream_keep(c->w->cfg, s, data, (size_t)used);
            /* With a body check the parser stopped at the head's end: the body starts here. */
            if (!had_head && s->resp.head_done) check_stream_mark_body(s);
        }
        data += used;
        len -= (size_t)used;
        if (s->resp.stop_after_head && !had_head && s->resp.head_done && !s->resp.done) {
            if (!http1_reserve(c, s)) {
                if (len && !http1_carry(c, data, len)) conn_fail(c, ERR_PARSE);
                return 1;
            }
            if (len) continue;
        }
        if (!s->resp.done) {
            if (len && !http1_carry(c, data, len)) {
                conn_fail(c, ERR_PARSE);
                return 1;
            }
            return 0;
        }
        if (!http1_complete(c, len > 0)) return 1;
        if (len == 0) return 0;
    }
}

/* Reads and parses until the socket is drained or no response is expected. */
static void http1_readable(struct conn *c)
{
    struct worker *w = c->w;
    if (c->nwritten == 0) {
        /* Nothing fully written: no answer can be due (after a failed write, the loss is decided). */
        http1_write_lost(c);
        return;
    }
    if (c->budget_wait.queued) return; /* no room for the body yet: the bytes wait in the socket */
    for (;;) {
        /* Read after the carried bytes, or into the worker's shared scratch. */
        bool carried = c->rlen > 0;
        char *buf = carried ? c->rbuf + c->rlen : w->scratch;
        /* With kept bodies, what follows a head that must wait has to fit the carry buffer. */
        size_t cap = carried ? CONN_RBUF_SIZE - c->rlen : w->cfg->check_body ? CONN_RBUF_SIZE : WORKER_SCRATCH_SIZE;
        ssize_t n = w->transport->read(c, buf, cap);
        if (n == CONN_AGAIN) return;
        if (n < 0 || (n == 0 && c->write_errno)) {
            /*
             * -EPROTO: the TLS layer refused a record (bad MAC, garbage), not the socket.
             * After a failed write the read's end is that failure's (a reset reads as EOF
             * once the write took its error); everything the peer sent first was read.
             */
            conn_lost(c, c->write_errno     ? http1_write_kind(c->write_errno)
                         : n == -ECONNRESET ? ERR_CONN_RESET
                         : n == -EPROTO     ? ERR_TLS
                                            : ERR_READ);
            return;
        }
        struct stream *s = conn_stream(c, 0);
        if (n == 0) {
            if (s->resp.head_done && http_resp_eof(&s->resp) == 0) {
                /* A close-delimited body ends here. */
                s->resp.close = true;
                http1_complete(c, false);
            } else {
                conn_lost(c, ERR_EOF_EARLY);
            }
            return;
        }
        if (!s->t_first_ns) s->t_first_ns = clock_now_ns();
        w->rec.bytes_in += (uint64_t)n;
        const char *data = carried ? c->rbuf : w->scratch;
        size_t len = carried ? c->rlen + (size_t)n : (size_t)n;
        c->rlen = 0;
        if (http1_feed(c, data, len)) return;
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

/*
 * Writes what is left of the queued requests, oldest first.
 *
 * A write can fail while answers to the requests written before it are
 * already in the socket: a server that closes with pipelined requests
 * unread (nginx at keepalive_requests) resets the connection right after
 * its last answer, and a reset fails the next write at once but leaves
 * what was received readable. So a failed write only stops the writing;
 * the reads that follow take those answers, and the connection is lost
 * (conn_lost) under what is left when they end or nothing written in
 * full is left to answer. Never read from here: a response being parsed
 * may be what sent this request.
 */
static void http1_writable(struct conn *c)
{
    struct worker *w = c->w;
    if (c->write_errno) return;
    while (c->nwritten < c->nstreams) {
        struct stream *s = conn_stream(c, c->nwritten);
        while (c->written < s->wlen) {
            ssize_t n = w->transport->write(c, s->wbytes + c->written, s->wlen - c->written);
            if (n == CONN_AGAIN) return;
            if (n <= 0) {
                c->write_errno = n < 0 ? (int)-n : EIO;
                if (c->nwritten == 0) {
                    conn_lost(c, http1_write_kind(c->write_errno));
                    return;
                }
                /* No answer is lost unread; nothing more goes on c; what its pending events say is read. */
                c->peer_hup = true;
                pool_unlist(&w->pool, c);
                return;
            }
            c->written += (size_t)n;
            w->rec.bytes_out += (uint64_t)n;
        }
        c->nwritten++;
        c->written = 0;
    }
}

/* Renders s (the newest stream on c), stamps it and writes what can go now. */
static void http1_start(struct conn *c, struct stream *s)
{
    bool head;
    if (conn_render(c, s, &head) < 0) {
        /* Cannot happen: exhaustion is checked at dispatch, buffers are sized to max_len. */
        conn_fail(c, ERR_WRITE);
        return;
    }
    conn_stamp_send(c, s);
    if (c->nstreams == 1) {
        c->written = 0;
        c->nwritten = 0;
        c->rlen = 0;
    }
    http_resp_init(&s->resp, head);
    s->resp.stop_after_head = c->w->cfg->check_body;
    check_stream_reset(s);
    /* No read here: the response cannot be there yet, and its arrival is an edge. */
    if (c->nwritten == c->nstreams - 1) http1_writable(c);
}

/* Pipelining: room while fewer than depth requests are in flight on a kept-alive connection. */
static uint32_t http1_free_slots(const struct conn *c)
{
    if (c->state != CONN_BUSY && c->state != CONN_IDLE) return 0;
    /* The server's FIN or RST is in: what is pipelined now would only be retried. */
    if (c->state == CONN_BUSY && c->peer_hup) return 0;
    uint32_t depth = c->pipeline ? c->pipeline : c->depth; /* the ring may be deeper, for h2 */
    return depth > c->nstreams ? depth - c->nstreams : 0;
}

void http1_budget_drop(struct conn *c)
{
    struct worker *w = c->w;
    if (c->budget_wait.queued) body_budget_cancel(&w->budget, &c->budget_wait, clock_now_ns());
    body_budget_release(&w->budget, c->budget_held);
    c->budget_held = 0;
    /* Room came back, or the head of the queue left: whoever fits now goes on, from the loop. */
    if (w->budget.head) timer_arm(&w->loop, &w->budget_timer, 0);
}

void http1_budget_grant(struct worker *w, uint64_t now_ns)
{
    struct budget_waiter *bw;
    while ((bw = body_budget_grant(&w->budget, now_ns))) {
        struct conn *c = container_of(bw, struct conn, budget_wait);
        c->budget_held = bw->need;
        /* The body bytes read with its head first, then the socket. */
        size_t len = c->rlen;
        c->rlen = 0;
        if (len && http1_feed(c, c->rbuf, len)) continue;
        if (c->state == CONN_BUSY) http1_readable(c);
    }
}

/* The socket is closing: a carried partial head belongs to nobody now. */
static void http1_close(struct conn *c)
{
    if (c->budget_held || c->budget_wait.queued) http1_budget_drop(c);
    c->rlen = 0;
    c->nwritten = 0;
    c->written = 0;
}

const struct proto_ops http1_proto = {
    .name = "http/1.1",
    .start = http1_start,
    .readable = http1_readable,
    .writable = http1_writable,
    .free_slots = http1_free_slots,
    .close = http1_close,
};

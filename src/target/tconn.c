/*
 * tconn.c — the per-connection state machine; see tconn.h for the why.
 *
 * drive() is the only place that moves bytes: it reads (unless the last
 * recv said EAGAIN), answers what is complete, writes what is pending, and
 * repeats while any of the three made progress. Every exit path either
 * leaves the connection waiting for an event, a job or a timer, or closes
 * it; nothing touches a connection after tconn_close.
 *
 * Invariant: a request is answered only while at least TCONN_RESPONSE_MAX
 * bytes of the write buffer are free, so a response always fits, also the
 * one a route job delivers later (nothing else is written meanwhile).
 */
#include "target/tconn.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/container.h"
#include "target/http_req.h"
#include "target/metrics.h"

#define IDLE_NS (30 * NS_PER_S)
#define LINGER_NS (2 * NS_PER_S)

static void on_event(struct loop_io *io, uint32_t events);
static void on_timer(struct timer *t, uint64_t now_ns);

int tconn_new(const struct tconn_host *host, int fd, uint32_t slot, struct tconn **out)
{
    struct tconn *c = malloc(sizeof(*c));
    if (!c) abort();
    /* Only the header fields need zeroing; the buffers are written before they are read. */
    memset(c, 0, offsetof(struct tconn, rbuf));
    c->io.fd = fd;
    c->io.on_event = on_event;
    c->host = host;
    c->slot = slot;
    c->state = TCONN_READING;
    c->active_ns = clock_now_ns();
    c->answered_ns = c->active_ns;
    timer_init(&c->timer, on_timer);
    int rc = loop_add(host->loop, &c->io, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET);
    if (rc < 0) {
        free(c);
        return rc;
    }
    timer_arm(host->loop, &c->timer, c->active_ns + IDLE_NS);
    *out = c;
    return 0;
}

void tconn_free(struct tconn *c)
{
    free(c);
}

bool tconn_evictable(const struct tconn *c)
{
    return (c->state == TCONN_READING || c->state == TCONN_LINGERING) && c->woff == c->wlen;
}

void tconn_close(struct tconn *c)
{
    if (c->state == TCONN_CLOSED) return;
    c->state = TCONN_CLOSED;
    timer_disarm(c->host->loop, &c->timer);
    loop_del(c->host->loop, &c->io);
    close(c->io.fd);
    c->host->retire(c->host->ctx, c);
}

/* The reason phrase of the codes the target sends. */
static const char *reason(int code)
{
    switch (code) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Content Too Large";
    case 422: return "Unprocessable Content";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "Internal Server Error";
    }
}

void tconn_respond(struct tconn *c, int code, const char *content_type, const char *extra_headers, const char *body,
                   size_t body_len)
{
    target_metrics_count(c->host->metrics, code);
    c->answered_ns = clock_now_ns();
    if (!c->keep_alive) c->close_after = true;
    if (c->woff > 0 && c->wlen + TCONN_RESPONSE_MAX > TCONN_WBUF) {
        memmove(c->wbuf, c->wbuf + c->woff, c->wlen - c->woff);
        c->wlen -= c->woff;
        c->woff = 0;
    }
    size_t room = TCONN_WBUF - c->wlen;
    int n = snprintf(c->wbuf + c->wlen, room,
                     "HTTP/1.1 %d %s\r\nServer: salvo-target\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s%s\r\n",
                     code, reason(code), content_type ? content_type : "application/json", body_len,
                     c->close_after ? "Connection: close\r\n" : "", extra_headers ? extra_headers : "");
    size_t send_len = c->head_only ? 0 : body_len;
    if (n < 0 || (size_t)n + send_len > room) {
        /* Broken invariant (see the top of the file): end the connection rather than send half a response. */
        c->close_after = true;
        return;
    }
    memcpy(c->wbuf + c->wlen + n, body, send_len);
    c->wlen += (uint32_t)n + (uint32_t)send_len;
}

/* Answers a request that cannot be followed by another on this connection. */
static void fail(struct tconn *c, int code, const char *message)
{
    char body[160];
    int n = snprintf(body, sizeof(body), "{\"error\":\"%s\"}", message);
    c->keep_alive = false;
    c->head_only = false;
    c->roff = c->rlen = 0; /* what follows a broken request cannot be trusted */
    tconn_respond(c, code, NULL, NULL, body, (size_t)n);
}

/* Answers the next buffered request if it is complete; true if one was consumed. */
static bool answer_next(struct tconn *c)
{
    size_t avail = c->rlen - c->roff;
    struct http_req req;
    int n = http_req_parse(&req, c->rbuf + c->roff, avail < TCONN_HEAD_MAX ? avail : TCONN_HEAD_MAX);
    if (n == HTTP_REQ_INCOMPLETE) {
        if (avail >= TCONN_HEAD_MAX) fail(c, 431, "request head larger than 8 KiB");
        return false;
    }
    const char *refusal = NULL;
    int code = 400;
    if (n < 0)
        refusal = "malformed request";
    else if (req.transfer_encoding)
        code = 501, refusal = "transfer-encoding is not supported";
    else if (req.content_length > TCONN_BODY_MAX)
        code = 413, refusal = "request body larger than 1 KiB";
    if (refusal) {
        fail(c, code, refusal);
        return false;
    }
    size_t total = (size_t)n + (size_t)(req.content_length > 0 ? req.content_length : 0);
    if (avail < total) return false;
    c->keep_alive = http_req_keep_alive(&req);
    c->head_only = req.method_len == 4 && memcmp(req.method, "HEAD", 4) == 0;
    req.body = c->rbuf + c->roff + n;
    bool pending = c->host->handle(c->host->ctx, c, &req);
    c->roff += (uint32_t)total;
    if (c->roff == c->rlen) c->roff = c->rlen = 0;
    if (pending) c->state = TCONN_WAITING;
    return true;
}

/* Answers buffered requests while nothing blocks; returns how many. */
static int process(struct tconn *c)
{
    int answered = 0;
    while (c->state == TCONN_READING && !c->close_after && c->roff < c->rlen &&
           TCONN_WBUF - (c->wlen - c->woff) >= TCONN_RESPONSE_MAX && answer_next(c))
        answered++;
    return answered;
}

/* Reads what the socket has into rbuf. Returns bytes read, or -1 if the connection was closed. */
static int fill(struct tconn *c)
{
    if (c->read_blocked || c->peer_eof || c->close_after || c->state == TCONN_CLOSED) return 0;
    if (c->roff > 0) {
        memmove(c->rbuf, c->rbuf + c->roff, c->rlen - c->roff);
        c->rlen -= c->roff;
        c->roff = 0;
    }
    int total = 0;
    while (c->rlen < TCONN_RBUF) {
        ssize_t n = recv(c->io.fd, c->rbuf + c->rlen, TCONN_RBUF - c->rlen, 0);
        if (n > 0) {
            c->rlen += (uint32_t)n;
            total += (int)n;
        } else if (n == 0) {
            c->peer_eof = true;
            break;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            c->read_blocked = true;
            break;
        } else if (errno != EINTR) {
            tconn_close(c);
            return -1;
        }
    }
    return total;
}

/* Writes pending output. Returns bytes written, or -1 if the connection was closed. */
static int flush(struct tconn *c)
{
    int total = 0;
    while (c->woff < c->wlen) {
        ssize_t n = send(c->io.fd, c->wbuf + c->woff, c->wlen - c->woff, MSG_NOSIGNAL);
        if (n > 0) {
            c->woff += (uint32_t)n;
            total += (int)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return total;
        } else if (n == 0 || errno != EINTR) {
            tconn_close(c);
            return -1;
        }
    }
    c->woff = c->wlen = 0;
    return total;
}

/* Reads and discards input until EOF, an error, or EAGAIN. */
static void drain(struct tconn *c)
{
    char sink[4096];
    for (;;) {
        ssize_t n = recv(c->io.fd, sink, sizeof(sink), 0);
        if (n > 0 || (n < 0 && errno == EINTR)) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        tconn_close(c);
        return;
    }
}

/* Shuts the write side and gives the client a moment to read before the close. */
static void start_linger(struct tconn *c)
{
    shutdown(c->io.fd, SHUT_WR);
    c->state = TCONN_LINGERING;
    timer_arm(c->host->loop, &c->timer, clock_now_ns() + LINGER_NS);
    drain(c);
}

/* Moves bytes until nothing more can happen without an event; see the top of the file. */
static void drive(struct tconn *c)
{
    bool progress = true;
    while (progress) {
        int got = fill(c);
        if (got < 0) return;
        int answered = process(c);
        int sent = flush(c);
        if (sent < 0) return;
        progress = got > 0 || answered > 0 || sent > 0;
        if (progress) c->active_ns = clock_now_ns();
    }
    if (c->state != TCONN_READING || c->wlen > 0) return;
    if (c->close_after)
        start_linger(c);
    else if (c->peer_eof)
        tconn_close(c);
}

void tconn_resume(struct tconn *c)
{
    c->state = TCONN_READING;
    drive(c);
}

/* Epoll callback: note what became possible, then drive. */
static void on_event(struct loop_io *io, uint32_t events)
{
    struct tconn *c = container_of(io, struct tconn, io);
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) c->read_blocked = false;
    if (c->state == TCONN_LINGERING)
        drain(c);
    else
        drive(c);
}

/* Timer callback: closes a lingering or idle connection, else re-arms for the next idle deadline. */
static void on_timer(struct timer *t, uint64_t now_ns)
{
    struct tconn *c = container_of(t, struct tconn, timer);
    bool idle = c->state != TCONN_WAITING && now_ns - c->active_ns >= IDLE_NS;
    if (c->state == TCONN_LINGERING || idle)
        tconn_close(c);
    else
        timer_arm(c->host->loop, &c->timer, (c->state == TCONN_WAITING ? now_ns : c->active_ns) + IDLE_NS);
}

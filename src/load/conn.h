/*
 * conn.h — one client connection: its byte transport and its state machine.
 *
 * A connection is a non-blocking socket registered edge-triggered for both
 * directions once (EPOLLIN|EPOLLOUT|EPOLLET), so the hot path never calls
 * epoll_ctl. Plain TCP and TLS are two transport tables chosen once per run,
 * as in wrk: the protocol calls transport->read/write and sees the same
 * contract for both (bytes, 0 for EOF, CONN_AGAIN, or -errno). What the
 * bytes mean is the protocol table's (proto.h), chosen beside it.
 *
 * The state machine here is what every protocol shares: connect, TLS,
 * request deadlines, recording each stream's one outcome, retrying a
 * request the server never answered, and handing the connection back to
 * the pool (pool.h) and the engine (the next request).
 *
 * The struct conn itself belongs to its worker's pool (an array sized by
 * the connection cap) and is reused after close; its stream ring is
 * allocated with it, the read buffer on first use and kept.
 */
#ifndef SALVO_CONN_H
#define SALVO_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/errors.h"
#include "core/container.h"
#include "core/loop.h"
#include "http/parser.h"
#include "http/tls.h"
#include "http/url.h"
#include "load/backlog.h"
#include "load/body_budget.h"
#include "load/proto.h"
#include "load/stream.h"

#define CONN_AGAIN (-100000)
#define CONN_RBUF_SIZE (HTTP_MAX_HEAD + 16384)

enum conn_state {
    CONN_FREE,       /* no socket */
    CONN_CONNECTING, /* TCP connect in progress */
    CONN_HANDSHAKE,  /* TLS handshake in progress */
    CONN_IDLE,       /* open, no request */
    CONN_BUSY,       /* requests being written or responses being read */
    CONN_PACING,     /* closed model with a rate: waiting for the next due time */
    CONN_BACKOFF,    /* closed model: waiting before reconnecting after an error */
};

/* Which pool list a connection is on (pool.h). */
enum conn_list { LIST_NONE, LIST_IDLE, LIST_ROOM };

/* Why a connection was closed (pool statistics). */
enum close_reason { BY_SERVER, BY_US, BY_ERROR };

struct worker;

/* One connection with up to depth streams in flight, answered in order. */
struct conn {
    struct loop_io io;
    struct timer timer; /* the oldest stream's deadline, pacing or backoff */
    struct worker *w;
    const struct proto_ops *proto;
    enum conn_state state;
    enum conn_list list;
    SSL *ssl;
    struct conn *prev, *next; /* pool list links */
    uint64_t t_open_ns;
    uint32_t served;  /* responses completed on this connection */
    bool established; /* counted in pool.opened, so its close is counted too */
    bool peer_hup;    /* epoll said the peer closed or reset: no further edge will come */
    int write_errno;  /* HTTP/1.1: a write failed (errno): nothing more is written, the answers already in are read */
    struct stream *streams; /* ring of depth; [first, first + nstreams) in flight, oldest first */
    uint32_t depth, first, nstreams;
    uint32_t pipeline;  /* HTTP/1.1 requests in flight at most (0: depth); the ring is deeper when h2 may be spoken */
    uint32_t nwritten;  /* streams from first whose bytes are all written */
    size_t written;     /* bytes written of the stream after those */
    struct h2_conn *h2; /* HTTP/2 state (h2.c), allocated on first use and kept */
    char *rbuf;         /* carried bytes of a response head not complete yet, or of a body waiting for room */
    size_t rlen;
    struct budget_waiter budget_wait; /* queued: the oldest response waits for kept-body room, nothing is read */
    size_t budget_held;               /* kept-body bytes reserved for the oldest response (body_budget.h) */
};

/* Byte transport: plain TCP or TLS. */
struct transport {
    ssize_t (*read)(struct conn *c, char *buf, size_t len);
    ssize_t (*write)(struct conn *c, const char *buf, size_t len);
};

extern const struct transport transport_plain;
extern const struct transport transport_tls;

/* The i-th stream in flight on c, oldest first (i < c->nstreams or the next free one). */
static inline struct stream *conn_stream(const struct conn *c, uint32_t i)
{
    uint32_t k = c->first + i;
    return &c->streams[k >= c->depth ? k - c->depth : k];
}

/* ---- sockets and transports ---- */

/*
 * Creates a non-blocking socket for u and starts connecting. Returns 0
 * (connect in progress or done) or -errno; on error no fd is left open.
 */
int conn_socket_open(struct conn *c, const struct url *u);
/* The pending connect's outcome: 0 or -errno (from SO_ERROR). */
int conn_connect_result(struct conn *c);
/*
 * Advances the TLS handshake. Returns 1 when done, 0 to wait for I/O, or -1
 * on failure with a description in why (verify set for certificate errors).
 */
int conn_handshake(struct conn *c, const struct tls *tls, const char *host, char *why, size_t cap, bool *verify);
/* Closes the socket and frees the TLS session; the struct stays reusable. */
void conn_close_fd(struct conn *c);

/* ---- the state machine (conn.c), on the worker's thread ---- */

/* Makes pool slot c of worker w ready for use (callbacks, no socket). */
void conn_setup(struct conn *c, struct worker *w);
/* Adds request p as c's newest stream (c has a free slot); counts it busy. */
void conn_push(struct conn *c, const struct pending *p);
/* Takes c's oldest stream off it (the caller records its outcome). */
void conn_drop_stream(struct conn *c);
/* Opens connection slot c for its stream (or none). False if it failed at once. */
bool conn_start(struct worker *w, struct conn *c);
/* Sends c's newest stream now (c is connected). */
void conn_send(struct conn *c);
/* How many more streams c can take now. */
uint32_t conn_room(const struct conn *c);
/*
 * True when a retried request may go on c: as its first stream, or
 * pipelined only behind other retries on a connection that has answered
 * nothing yet. Behind requests a server may leave unanswered again (it
 * closed after k answers before) a retry would be lost a second time.
 */
bool conn_takes_retry(const struct conn *c);
/* The epoll callback of every connection. */
void conn_on_event(struct loop_io *io, uint32_t events);
/* A connection's timer: request deadline, pacing or backoff. */
void conn_on_timer(struct timer *t, uint64_t now);

/* ---- called by protocols ---- */

/* Stream s is about to be written: stamp it, mark c busy, arm the deadline. */
void conn_stamp_send(struct conn *c, struct stream *s);
/* Renders stream s's request into its own buffer (made once, on demand). Returns reqgen_render's result. */
int conn_render(struct conn *c, struct stream *s, bool *head);

/*
 * The oldest stream's response is complete with this status: record it,
 * drop it. True when the stream stays: it holds more of a script's
 * pipelined requests, whose answers follow on c.
 */
bool conn_stream_done(struct conn *c, int status);
/*
 * After a response, the protocol says what becomes of c: closed (why) with
 * the streams behind it sent back once, or kept (idle or with more
 * streams in flight), then the engine gives out the next request.
 */
void conn_after_response(struct conn *c, bool close, enum close_reason why);
/*
 * Multiplexed protocols: stream i (0 = oldest) completed with this status
 * out of order. The streams keep their order; record, drop, like
 * conn_stream_done.
 */
void conn_stream_done_at(struct conn *c, uint32_t i, int status);
/*
 * Multiplexed protocols: stream i ended without a response. With retry and
 * if it was never retried, it goes to the head of the backlog once with
 * its intended time (pool.retries); otherwise err (or a timeout) is its
 * outcome. Nothing is pumped: conn_after_response does that.
 */
void conn_stream_end_at(struct conn *c, uint32_t i, enum salvo_err err, bool retry);
/* When stream s of c times out. */
uint64_t conn_stream_deadline(const struct conn *c, const struct stream *s);
/* Arms c's timer for its oldest stream's deadline (none: disarms). */
void conn_arm_deadline(struct conn *c);
/* The transport failed or hit EOF under c's streams: retry what the server never answered, fail the rest. */
void conn_lost(struct conn *c, enum salvo_err err);
/* Records err for c's oldest stream, sends the rest back once, closes c and moves on. */
void conn_fail(struct conn *c, enum salvo_err err);

#endif

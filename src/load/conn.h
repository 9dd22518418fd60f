/*
 * conn.h — one client connection and its byte transport.
 *
 * A connection is a non-blocking socket registered edge-triggered for both
 * directions once (EPOLLIN|EPOLLOUT|EPOLLET), so the hot path never calls
 * epoll_ctl. Plain TCP and TLS are two transport tables chosen once per run,
 * as in wrk: the engine calls transport->read/write and sees the same
 * contract for both (bytes, 0 for EOF, CONN_AGAIN, or -errno).
 *
 * The struct conn itself is owned by its worker (an array sized by the
 * connection cap) and reused after close; the read buffer is allocated on
 * first use and kept.
 */
#ifndef SALVO_CONN_H
#define SALVO_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/loop.h"
#include "http/parser.h"
#include "http/tls.h"
#include "http/url.h"
#include "load/backlog.h"

#define CONN_AGAIN (-100000)
#define CONN_RBUF_SIZE (HTTP_MAX_HEAD + 16384)

enum conn_state {
    CONN_FREE,       /* no socket */
    CONN_CONNECTING, /* TCP connect in progress */
    CONN_HANDSHAKE,  /* TLS handshake in progress */
    CONN_IDLE,       /* open, no request */
    CONN_BUSY,       /* request being written or response being read */
    CONN_PACING,     /* closed model with a rate: waiting for the next due time */
    CONN_BACKOFF,    /* closed model: waiting before reconnecting after an error */
};

struct worker;

/* One connection with at most one request in flight. */
struct conn {
    struct loop_io io;
    struct timer timer; /* request deadline, pacing or backoff */
    struct worker *w;
    enum conn_state state;
    SSL *ssl;
    struct conn *prev, *next; /* idle list links */
    uint64_t t_open_ns;
    uint32_t served;  /* responses completed on this connection */
    bool established; /* counted in pool.opened, so its close is counted too */
    bool has_req;
    bool peer_hup; /* epoll said the peer closed or reset: no further edge will come */
    struct pending req;
    uint64_t t_send_ns, t_first_ns;
    size_t written;
    const char *wbytes; /* the request being written: wbuf or shared static bytes */
    size_t wlen;
    char *wbuf; /* this connection's render buffer (gen->max_len), on demand */
    struct http_resp resp;
    char *rbuf;
    size_t rlen;
};

/* Byte transport: plain TCP or TLS. */
struct transport {
    ssize_t (*read)(struct conn *c, char *buf, size_t len);
    ssize_t (*write)(struct conn *c, const char *buf, size_t len);
};

extern const struct transport transport_plain;
extern const struct transport transport_tls;

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

#endif

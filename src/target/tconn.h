/*
 * tconn.h — one client connection of `salvo target`.
 *
 * A target for load tests must keep thousands of keep-alive connections on
 * one thread and answer pipelined requests in order, so a connection is a
 * small state machine driven by edge-triggered epoll events: read what is
 * there, answer every complete request (or hand a route to the workers and
 * wait), write what is pending, and stop at the first EAGAIN. At most one
 * request per connection is with the workers; requests pipelined behind it
 * wait in the read buffer, which keeps responses in order for free.
 *
 * Limits: a request head may be 8 KiB (else 431), a body 1 KiB (else 413;
 * a body is handed to the handler in req->body, only /api/login reads one). After any response that ends the
 * connection, the write side is shut and unread input is drained for up to
 * two seconds before the close, so the client sees the response instead of
 * a reset. An idle connection is closed after 30 s.
 *
 * Ownership: tconn_new allocates the connection with its buffers (no
 * further allocation while it lives); tconn_close closes the socket and
 * hands the memory to the server, which calls tconn_free once the event
 * loop can no longer deliver events for it. Event-thread only.
 */
#ifndef SALVO_TARGET_TCONN_H
#define SALVO_TARGET_TCONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/loop.h"

#define TCONN_HEAD_MAX 8192
#define TCONN_BODY_MAX 1024
#define TCONN_RBUF (TCONN_HEAD_MAX + TCONN_BODY_MAX)
#define TCONN_WBUF 16384
#define TCONN_RESPONSE_MAX 8192 /* no single response is larger, head included */

struct target_server;

struct tconn;
struct target_metrics;
struct http_req;

/*
 * What the owner of the connections gives each of them when it is made;
 * must outlive them. A connection knows nothing else of the server.
 */
struct tconn_host {
    struct loop *loop;
    struct target_metrics *metrics; /* responses counted by status */
    /* Answers one complete request (req points into c's buffer); true when the answer comes later (tconn_resume). */
    bool (*handle)(void *ctx, struct tconn *c, const struct http_req *req);
    /* Takes a connection that just closed; its memory is the owner's to tconn_free after the event batch. */
    void (*retire)(void *ctx, struct tconn *c);
    void *ctx;
};

/* Where a connection is in its life. */
enum tconn_state {
    TCONN_READING,   /* answering requests as they arrive */
    TCONN_WAITING,   /* a route job is with the workers */
    TCONN_LINGERING, /* write side shut, draining input before the close */
    TCONN_CLOSED,    /* socket closed, memory not yet freed */
};

/* A client connection and its buffers. */
struct tconn {
    struct loop_io io;
    struct timer timer; /* idle or linger deadline */
    const struct tconn_host *host;
    struct tconn *next_zombie; /* the server's list of closed connections */
    uint64_t active_ns;        /* last time bytes moved */
    uint64_t answered_ns;      /* accepted, or the last response queued: the server evicts the smallest */
    uint32_t slot;             /* index in the server's slot table */
    enum tconn_state state;
    bool keep_alive;     /* the request being answered allows another one */
    bool head_only;      /* the request being answered is a HEAD */
    bool close_after;    /* end the connection once the pending output is written */
    bool peer_eof;       /* the client shut its write side */
    bool read_blocked;   /* recv said EAGAIN since the last readable event */
    uint32_t roff, rlen; /* unparsed input is rbuf[roff .. rlen) */
    uint32_t woff, wlen; /* pending output is wbuf[woff .. wlen) */
    char rbuf[TCONN_RBUF];
    char wbuf[TCONN_WBUF];
};

/* Wraps an accepted non-blocking socket and starts watching it. Returns 0 or -errno. */
int tconn_new(const struct tconn_host *host, int fd, uint32_t slot, struct tconn **out);
/* Frees a closed connection's memory; NULL is fine. */
void tconn_free(struct tconn *c);
/*
 * True when closing c now loses nothing the client is owed: no route job
 * in flight and no response waiting to be written. Only such connections
 * may be evicted to make room for a new one.
 */
bool tconn_evictable(const struct tconn *c);

/* Closes the socket now and retires the connection to the server. */
void tconn_close(struct tconn *c);

/*
 * Queues a response to the request being answered. The connection ends
 * after it if the request did not allow keep-alive or close_after is set.
 * content_type NULL means application/json; extra_headers are whole
 * "Name: value\r\n" lines or NULL. body_len must leave the whole response
 * within TCONN_RESPONSE_MAX.
 */
void tconn_respond(struct tconn *c, int code, const char *content_type, const char *extra_headers, const char *body,
                   size_t body_len);
/* Ends the wait for a route job (its response already queued) and goes on. */
void tconn_resume(struct tconn *c);

#endif

/*
 * exchange.h — the HTTP/1.1 conversation on one proxied connection, so that
 * HTTP toxics hit a share of *requests* rather than of connections.
 *
 * Requests (client to server) and responses (server to client) are framed
 * by two http_frame framers; a FIFO pairs each request with its response in
 * order, which is what keep-alive and pipelining need. When a request is
 * picked by an http_status toxic its bytes are swallowed and the proxy
 * answers it itself; the answer is released only when every earlier request
 * has had its response, so the client still sees responses in order and the
 * connection stays usable. http_latency delays the bytes of a picked
 * response; http_cut lets the head and part of the body through, then asks
 * for the connection to be closed.
 *
 * The exchange never touches a socket: the link feeds it bytes and gets
 * back, step by step, what to do with them (forward or drop, extra delay,
 * close afterwards), plus synthesized responses to send downstream. Input
 * it cannot frame (not HTTP, an upgrade, a confused peer) turns it opaque:
 * from then on every byte is forwarded untouched and no HTTP toxic applies.
 *
 * Ownership: the exchange owns its FIFO (grown on demand, capped at
 * EXCHANGE_MAX_PIPELINE requests in flight: beyond that it takes no more
 * request bytes until a response completes, and the link holds them).
 */
#ifndef SALVO_CHAOS_EXCHANGE_H
#define SALVO_CHAOS_EXCHANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chaos/http_frame.h"
#include "chaos/toxic.h"

#define EXCHANGE_MAX_PIPELINE 1024
#define EXCHANGE_SYNTH_MAX 256 /* a synthesized response fits in this many bytes */

/* The toxics in force and the dice of this connection (borrowed for one call). */
struct exchange_dice {
    const struct toxic *toxics;
    size_t count;
    uint64_t seed, conn_id;
};

/* What to do with the next stretch of input. */
struct exchange_step {
    size_t len;        /* input bytes this step covers (> 0 when input was given) */
    bool forward;      /* write them on (else swallow them) */
    uint64_t delay_ns; /* extra delay for them (http_latency) */
    bool close_after;  /* close the connection once they are written (http_cut) */
};

/* One request in flight. */
struct exchange_entry {
    uint64_t seq;      /* 0, 1, 2 … on this connection */
    bool synth;        /* answered by the proxy */
    bool complete;     /* the whole request has been read */
    bool head_request; /* its response has no body */
    bool close;        /* the client wants the connection closed after it */
    uint16_t status;   /* synth: the status to answer */
};

/* The conversation state of one connection; caller-owned. */
struct exchange {
    struct http_frame req, resp;
    bool opaque;
    struct exchange_entry *fifo;
    uint32_t cap, first, len;
    uint64_t next_seq;
    bool req_dropping;      /* the request being read is being answered by us */
    bool finished;          /* we answered a request with Connection: close: swallow the rest */
    uint64_t resp_delay_ns; /* http_latency of the response being read */
    int64_t cut_bytes;      /* http_cut of the response being read: -2 none, -1 half, else body bytes */
    uint64_t cut_left;      /* body bytes still let through before the cut */
    bool cutting;           /* the head of a cut response has passed */
};

/* Prepares ex. Never fails. */
void exchange_init(struct exchange *ex);
/* Frees the FIFO. NULL is fine. */
void exchange_release(struct exchange *ex);

/*
 * Looks at input bytes read from the client (dir STREAM_UPSTREAM) or from
 * the server (STREAM_DOWNSTREAM) and fills *out for the first out->len of
 * them; call again with the rest. len must be > 0. out->len is 0 only for
 * client bytes that start a request while EXCHANGE_MAX_PIPELINE requests
 * are in flight: offer them again after a response has completed.
 */
void exchange_step(struct exchange *ex, int dir, const char *buf, size_t len, const struct exchange_dice *dice,
                   struct exchange_step *out);

/* The server closed its side: completes a response delimited by the end of the stream. */
void exchange_upstream_eof(struct exchange *ex);

/*
 * True when no request or response is in flight and nothing is being
 * swallowed or tunnelled: the link may stop feeding the exchange here
 * (no HTTP toxic left) and start again later with a fresh exchange.
 */
bool exchange_quiet(const struct exchange *ex);

/*
 * Starts over at what the caller believes is a request boundary, keeping
 * the request numbering (so the dice of later requests stay fresh).
 */
void exchange_restart(struct exchange *ex);

/* True when exchange_next_synth has a response to give. */
bool exchange_synth_due(const struct exchange *ex);

/*
 * Writes the next synthesized response that is due (every earlier request
 * has had its response) into buf (at least EXCHANGE_SYNTH_MAX bytes) and
 * returns its length, or 0 when none is due. *close is set when the client
 * asked to close after it: the connection should then be closed once the
 * bytes are written.
 */
size_t exchange_next_synth(struct exchange *ex, char *buf, bool *close);

#endif

/*
 * h2.h — HTTP/2 as a connection protocol (proto.h), driven through
 * libnghttp2's callback API with salvo's own buffers and event loop.
 *
 * nghttp2 does the framing, HPACK and flow control; salvo owns the
 * schedule, the streams (the connection's ring, stream.h) and every
 * outcome. A connection carries up to its limit of streams at once:
 * --streams, else the server's SETTINGS_MAX_CONCURRENT_STREAMS, at most
 * H2_DEFAULT_STREAMS, and one stream until the server's first SETTINGS.
 * Responses end in any order; each stream keeps its own stamps: t_send
 * when its HEADERS bytes went to the socket, t_first at its first
 * HEADERS or DATA frame. See docs/http2.md for the model and its choices.
 *
 * The per-connection state (struct h2_conn, private to h2.c) is allocated
 * on a connection's first HTTP/2 stream and kept with the pool slot; the
 * nghttp2 session lives as long as the socket.
 */
#ifndef SALVO_H2_H
#define SALVO_H2_H

#include <stdint.h>

#include "load/proto.h"

#define H2_DEFAULT_STREAMS 100 /* streams per connection when neither --streams nor a lower server limit says */
#define H2_CODES 15            /* error codes 0..13 of RFC 9113, then "other" */
#define H2_SETTING_IDS 9       /* SETTINGS ids 1..9 (RFC 9113, 8441, 9218); others count as unknown */
#define H2_SETTING_VALUES 8    /* distinct values kept per setting; later ones count as other */

/* The distinct values servers sent for one SETTINGS id, with how many SETTINGS entries carried each. */
struct h2_setting_hist {
    uint32_t n;
    uint32_t value[H2_SETTING_VALUES];
    uint64_t count[H2_SETTING_VALUES];
    uint64_t other; /* entries whose value came after H2_SETTING_VALUES distinct ones */
};

/* A worker's HTTP/2 figures: aggregates over its connections, never one entry per connection. */
struct h2_stats {
    uint64_t conns;                /* connections that spoke h2 */
    uint64_t streams_max;          /* most streams in flight on one connection at once */
    uint64_t goaways;              /* GOAWAY frames received */
    uint64_t resets[H2_CODES];     /* RST_STREAM frames received, by error code */
    uint64_t cancels;              /* streams salvo reset with CANCEL at --timeout */
    uint64_t settings_min_streams; /* lowest MAX_CONCURRENT_STREAMS a server sent (0 with none: see settings_seen) */
    uint64_t settings_seen;        /* SETTINGS frames that set MAX_CONCURRENT_STREAMS */
    struct h2_setting_hist settings[H2_SETTING_IDS]; /* by id - 1 */
    uint64_t settings_unknown;                       /* entries with an id above H2_SETTING_IDS */
    uint64_t flow_waits;       /* streams whose request body waited for the server's flow-control window */
    uint64_t flow_wait_ns;     /* their total wait */
    uint64_t flow_wait_max_ns; /* the longest wait of one stream */
    uint64_t zero_limit;       /* SETTINGS that allowed 0 streams (MAX_CONCURRENT_STREAMS = 0) */
    uint64_t zero_holds;       /* times a due request opened no connection because of the zero-limit back-off */
};

/*
 * What a worker learnt from servers across its connections. The back-off
 * from servers that allow 0 streams: while delay_ns
 * is set, the open model opens at most one connection per delay (from
 * 10 ms, doubling to 1 s at each such SETTINGS; a SETTINGS allowing
 * streams ends it). See docs/http2.md, Streams. And the lowest
 * last-stream-id of a GOAWAY, for where retries go (h2_takes_retry).
 */
struct h2_backoff {
    uint64_t until_ns;      /* no new connection before this */
    uint64_t delay_ns;      /* 0: not backing off */
    int32_t goaway_last_id; /* the lowest last-stream-id above 0 a GOAWAY carried (0: none yet), for h2_takes_retry */
    uint32_t draining;      /* connections open after a GOAWAY: each frees its slot soon */
    uint32_t unsettled;     /* h2 connections waiting for the server's first SETTINGS: each has room soon */
    uint32_t retiring;      /* connections h2_retire took off a --conn-stages ramp, closing once their streams end */
};
#define H2_BACKOFF_MIN_NS 10000000ull   /* 10 ms */
#define H2_BACKOFF_MAX_NS 1000000000ull /* 1 s */

extern const struct proto_ops h2_proto;

/* The streams a connection may carry at most with this --streams (0: default). */
uint32_t h2_stream_cap(uint32_t streams);
struct h2_conn;
/*
 * True when a retried request may go on c: it will not be refused again
 * by the next GOAWAY, as far as GOAWAYs so far tell: c is new, or its
 * next stream id is at most the lowest last-stream-id a GOAWAY carried
 * (servers that end a connection after N requests process the same N on
 * each). The request was already refused once; a second refusal fails it.
 */
bool h2_takes_retry(const struct conn *c);
/*
 * Closed model ramped by --conn-stages, above its target: c (busy, speaking
 * h2) takes no new stream and closes (closed_by.us) once its last stream
 * ends, so nothing in flight is lost; until then it is counted in the
 * worker's h2_backoff.retiring, which the ramp does not count as one of its
 * connections. HTTP/1.1 needs none of this: it retires an idle connection.
 */
void h2_retire(struct conn *c);
/* Frees a connection's HTTP/2 state (pool_release); NULL is fine. */
void h2_conn_free(struct h2_conn *h);
/* Adds b into a. */
void h2_stats_add(struct h2_stats *a, const struct h2_stats *b);
/* Counts n entries of SETTINGS id with this value into st's histogram. */
void h2_setting_note(struct h2_stats *st, uint32_t id, uint32_t value, uint64_t n);
/* The JSON key of SETTINGS id (1..H2_SETTING_IDS), or NULL for an id RFC 9113 and its extensions do not define. */
const char *h2_setting_name(uint32_t id);

#endif

/*
 * proto.h — the protocol of a connection, as a table of operations.
 *
 * The connection state machine (conn.c) does what every protocol shares:
 * connect, TLS, deadlines, outcomes, the hand-back to the pool. What the
 * bytes mean is the protocol's: HTTP/1.1 (http1.c) or HTTP/2 (h2.c).
 * The table is chosen once per connection, next to the byte transport
 * (plain or TLS), exactly as wrk chooses its transport; over TLS the
 * server's ALPN choice may replace it after the handshake (conn.c). The
 * engine never looks inside a protocol.
 *
 * Every operation runs on the worker's own thread. A protocol reports back
 * through the state machine's functions in conn.h (conn_stamp_send,
 * conn_stream_done, conn_lost, conn_fail), never by touching the pool.
 */
#ifndef SALVO_PROTO_H
#define SALVO_PROTO_H

#include <stdbool.h>
#include <stdint.h>

struct conn;
struct stream;

/* One protocol. */
struct proto_ops {
    const char *name;
    /* Starts stream s, the newest on connected c: render, stamp, write. */
    void (*start)(struct conn *c, struct stream *s);
    /* The socket may have bytes: read and parse until it is drained. */
    void (*readable)(struct conn *c);
    /* The socket may take bytes: write what is queued. */
    void (*writable)(struct conn *c);
    /* How many more streams c can take now (0: none until one ends). */
    uint32_t (*free_slots)(const struct conn *c);
    /* c's socket is closing: forget the protocol's per-connection state. */
    void (*close)(struct conn *c);
    /*
     * Multiplexed protocols (HTTP/2) only, NULL otherwise: the deadline of
     * c's oldest stream passed at now; end the streams that are due and
     * keep the connection. Without it the connection closes.
     */
    void (*expire)(struct conn *c, uint64_t now);
    /* Streams are independent: answered in any order, a retry may join any of them, idle frames are read. */
    bool multiplexed;
};

#endif

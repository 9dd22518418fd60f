/*
 * link.h — one proxied connection: a client socket, an upstream socket and
 * the two directions of bytes between them, with the proxy's toxics applied.
 *
 * Each direction (upstream = client to server, downstream = back, as in
 * toxiproxy) reads from its source, lets the HTTP exchange look at the bytes
 * (HTTP toxics), applies the byte toxics (timeout, reset_peer, limit_data,
 * latency) and queues what is left with a release time; its writer sends
 * queued bytes once released, paced by bandwidth and slicer, and passes the
 * FIN on (after slow_close). With no toxic and a ready peer, bytes go from
 * read() straight to write() without being queued.
 *
 * HTTP framing costs CPU on every read, so a link feeds its exchange only
 * while the proxy has an HTTP toxic. A link that did not frame starts at
 * the next point that is a request boundary for a client that does not
 * pipeline: the first client bytes, or client bytes that follow a response
 * with nothing queued. Should that guess be wrong, the framer turns the
 * exchange opaque and the HTTP toxics skip that connection. A link stops
 * framing when the last HTTP toxic is gone and no message is in flight.
 *
 * Toxics are not copied into the link: every decision reads the proxy's
 * current list, so a toxic added, changed or removed through the API takes
 * effect on live connections at once, and connections it does not hit are
 * not disturbed (every change of the proxy's toxic list calls link_refresh on each link).
 *
 * Ownership: a link knows nothing of proxies or of the server. What it
 * needs it is given when it is made: a struct link_group, embedded in its
 * proxy, holding the loop, the read scratch, the dice seed, the upstream,
 * the toxic list and the list of live links. link_close unlinks a link and
 * puts it on the group's graveyard (the server's list), which the server
 * frees after the current loop iteration, because the loop may still hold
 * an event for it. Single-threaded: everything runs on one loop.
 */
#ifndef SALVO_CHAOS_LINK_H
#define SALVO_CHAOS_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include "core/endpoint.h"
#include "chaos/exchange.h"
#include "chaos/queue.h"
#include "chaos/toxic.h"
#include "core/loop.h"

struct link;

/*
 * What the links of one proxy share, lent by the proxy (which embeds it and
 * outlives its links) and the server. The proxy writes the toxic fields and
 * the upstream; links only read them, at every decision.
 */
struct link_group {
    struct loop *loop;
    char *scratch;           /* the server's read buffer, CHAOS_SCRATCH bytes */
    uint64_t seed;           /* dice seed */
    uint64_t *next_id;       /* the server's id counter: link ids key the dice */
    struct link **graveyard; /* the server's list of closed links to free */
    struct endpoint upstream;
    struct toxic *toxics;
    size_t ntoxics;
    size_t nhttp_toxics;              /* HTTP toxics at toxicity > 0: links frame HTTP only while > 0 */
    struct toxic_pace shared_pace[2]; /* bandwidth_shared, per direction: every link draws from it */
    struct link *links;               /* live connections */
    size_t nlinks;
};

#define CHAOS_SCRATCH (64u * 1024) /* one read() of one connection */

/* Stop reading a source while this many bytes wait for its destination. */
#define LINK_QUEUE_CAP (256u * 1024)

/* One socket of the pair. */
struct link_side {
    struct loop_io io;
    bool watched;  /* added to the loop */
    bool readable; /* edge-triggered: read until EAGAIN (or a short read) before waiting again */
    bool hup;      /* the peer closed or failed: read until EOF, a short read proves nothing */
    bool writable;
};

/* One direction: the bytes from one side to the other. */
struct link_dir {
    struct chaos_queue queue;
    struct timer timer;   /* release time, pacing, or "continue reading" */
    uint64_t pace_ns;     /* the next write may not start before this (bandwidth, slicer) */
    uint64_t bytes_in;    /* bytes let into this direction (limit_data) */
    uint64_t reset_at_ns; /* reset_peer: the connection resets then (0: not triggered) */
    uint64_t eof_at_ns;   /* slow_close: the FIN may pass then (0: not yet due) */
    uint64_t rolls;       /* dice thrown in this direction (jitter, slice sizes) */
    bool src_eof;         /* the source sent its FIN */
    bool dst_shut;        /* the FIN was passed on */
    bool close_after;     /* close the connection once the queue is empty */
    bool lost_last;       /* packet_loss dropped the previous chunk (burst correlation) */
};

/* How a connection is closed. */
enum link_close_how { LINK_CLOSE_FIN, LINK_CLOSE_RESET };

/* One proxied connection. */
struct link {
    struct link_group *group;
    struct link *prev, *next; /* in the group's list, or the server's dead list */
    uint64_t id;              /* unique in the process: keys the dice */
    uint64_t start_ns;        /* accepted (toxic timeouts count from here or from the toxic's arrival) */
    uint64_t start_at_ns;     /* handshake: when the proxy takes the connection up (0: at once) */
    struct link_side client, server;
    struct link_dir dir[2]; /* indexed by enum toxic_stream */
    struct timer tox_timer; /* handshake start, timeout close, reset_peer */
    struct exchange ex;
    bool framing; /* bytes go through the exchange (the proxy has an HTTP toxic) */
    char *held;   /* client bytes read but not yet taken by a full exchange (malloc'd) */
    size_t held_len;
    int8_t last_in; /* direction of the last bytes read, -1 before any */
    bool connected; /* the upstream connect completed */
    bool closed;
};

/*
 * Takes over an accepted client fd: allocates the link, links it into the
 * proxy and starts it (or parks it for a handshake toxic). On failure the
 * fd is closed and -errno returned.
 */
int link_new(struct link_group *group, int client_fd);

/* Closes both sockets and hands the link to the server for freeing. Idempotent. */
void link_close(struct link *l, enum link_close_how how);

/* The proxy's toxics changed: re-arm deadlines and let held bytes move. */
void link_refresh(struct link *l);

/* Frees a closed link (called by the server after the loop iteration). */
void link_free(struct link *l);

#endif

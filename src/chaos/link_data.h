/*
 * link_data.h — a proxied connection's data structures and its data path
 * (link_data.c): what link.c (the lifecycle) builds on. See link.h for the
 * model. The data path never closes a link itself: it marks it closed
 * (closed, close_how) and stops; link.c closes the sockets once the pump
 * returns, so calls point one way, from link.c down to here.
 */
#ifndef SALVO_CHAOS_LINK_DATA_H
#define SALVO_CHAOS_LINK_DATA_H

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
    int8_t last_in;                /* direction of the last bytes read, -1 before any */
    bool connected;                /* the upstream connect completed */
    bool closed;                   /* decided: the data path stops; link.c closes the sockets */
    bool released;                 /* sockets closed, in the graveyard */
    enum link_close_how close_how; /* how the data path asked to close */
};

enum { UP = STREAM_UPSTREAM, DOWN = STREAM_DOWNSTREAM };

/* What the byte toxics that hit one direction of one link add up to. */
struct link_effects {
    bool timeout; /* swallow data (timeout toxic) */
    bool reset;   /* reset_peer: reset reset_ms after data */
    int64_t reset_ms;
    int64_t limit;       /* limit_data: bytes, -1 none */
    int64_t rate;        /* bandwidth KB/s, 0 unpaced */
    int64_t shared_rate; /* bandwidth_shared KB/s: drawn from the proxy's bucket, 0 none */
    int64_t slow_close_ms;
    int64_t latency_ms, jitter_ms;
    const struct toxic *slicer;
    const struct toxic *loss; /* packet_loss: drops a share of chunks */
};

/* True when toxic t hits this connection. */
bool link_hits(const struct link *l, const struct toxic *t);
/* Adds up the byte toxics that hit direction d of l. */
void link_effects(const struct link *l, int d, struct link_effects *e);
/* Moves bytes until nothing moves (bounded), then arms what it waits on. */
void link_pump(struct link *l);
/* The earliest timeout-toxic deadline of l, or UINT64_MAX. */
uint64_t link_timeout_deadline(const struct link *l);
/* Arms tox_timer for the next handshake start, timeout close or reset. */
void link_tox_arm(struct link *l);

#endif

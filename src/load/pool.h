/*
 * pool.h — the connections of one worker thread.
 *
 * An open-model run must never let a slow server slow the schedule down, so
 * a due request takes an idle connection, else opens one (up to the cap),
 * else (with --pipeline) joins a busy connection that has a free stream
 * slot, else waits in the backlog with its intended time intact. The pool
 * is the one owner of that bookkeeping: the slots (a free stack), the idle
 * set (LIFO, so few connections stay warm), the busy connections with room
 * for another pipelined stream, the open and busy counts and the
 * statistics reported like Go's sql.DBStats. The engine and the
 * connection state machine change them only through these functions.
 *
 * Everything here runs on the worker's own thread; nothing is shared.
 * The pool allocates its connections and their stream rings in pool_init
 * and frees them in pool_release.
 */
#ifndef SALVO_POOL_H
#define SALVO_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/loop.h"
#include "load/conn.h"

/* Connection pool statistics, after Go's sql.DBStats. */
struct pool_stats {
    uint64_t opened;           /* connections established */
    uint64_t connect_errors;   /* connection attempts that failed */
    uint64_t closed_by_server; /* EOF or Connection: close */
    uint64_t closed_by_us;     /* timeouts, end of run */
    uint64_t closed_by_error;  /* resets, parse errors */
    uint64_t max_open;         /* high-water mark of open + connecting */
    uint64_t idle;             /* idle at the end */
    uint64_t wait_count;       /* requests that found no idle connection */
    uint64_t wait_ns;          /* total time those requests waited for one */
    uint64_t retries;          /* requests retried after a keep-alive race or a close under pipelined requests */
    uint64_t backlog_max;      /* high-water mark of the backlog */
};

/* The connections of one worker; caller-owned, set up by pool_init. */
struct pool {
    struct loop *loop;    /* borrowed: the worker's loop, for closing sockets */
    struct conn *conns;   /* cap entries */
    uint32_t cap, depth;  /* depth: streams per connection (--pipeline) */
    uint32_t nopen;       /* open + connecting sockets */
    uint32_t nconnecting; /* of those, connecting or in their TLS handshake */
    uint32_t nbusy;       /* streams in flight (requests held by connections) */
    uint32_t nfree;
    struct conn **free_stack;
    struct conn *idle_head; /* open, no stream */
    struct conn *room_head; /* busy, with a free stream slot (pipelining only) */
    struct pool_stats stats;
};

/* Allocates cap connections with depth stream slots each; all start free. */
void pool_init(struct pool *p, struct loop *loop, uint32_t cap, uint32_t depth);
/*
 * Makes c's stream ring hold depth streams (never shrinks), keeping those
 * in flight in their order: an HTTP/2 connection grows its ring when it
 * starts speaking h2, so a run over https that may negotiate h2 does not
 * allocate 100 streams for each of its -c connections up front. Pointers
 * to c's streams are invalid afterwards.
 */
void pool_grow_ring(struct conn *c, uint32_t depth);
/* Frees the connections and their buffers; the sockets must be closed. NULL is fine. */
void pool_release(struct pool *p);

/* An idle keep-alive connection, off the idle set, or NULL. */
struct conn *pool_take_idle(struct pool *p);
/* A free slot (no socket), or NULL. */
struct conn *pool_take_free(struct pool *p);
/* A busy connection with a free stream slot, off its list, or NULL. */
struct conn *pool_take_room(struct pool *p);
/* Puts connected c where it belongs now: idle (no stream), room (a free slot) or nowhere. */
void pool_give_back(struct pool *p, struct conn *c);
/* Takes c off whichever list it is on (none is fine). */
void pool_unlist(struct pool *p, struct conn *c);
/* A slot without a socket goes back to the free stack. */
void pool_give_slot(struct pool *p, struct conn *c);
/* Counts c's socket as open (connect started). */
void pool_opening(struct pool *p, struct conn *c);
/* Closes c's socket and counts why; the slot goes back to the free stack unless keep_slot. */
void pool_close(struct pool *p, struct conn *c, enum close_reason why, bool keep_slot);

#endif

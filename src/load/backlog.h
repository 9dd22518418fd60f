/*
 * backlog.h — requests that are due but have no connection yet.
 *
 * A FIFO ring of pending requests, each carrying its intended send time, so
 * that a request that waits for a connection is still measured from when it
 * should have left. The ring doubles when full (rare: only while the server
 * is slower than the schedule); entries older than --timeout leave it as
 * timeouts, which bounds its size by rate × timeout. That bound can be
 * gigabytes (10M/s × 10 s), so appends also stop at BACKLOG_LIMIT entries:
 * the caller fails what does not fit (docs/measurement.md, "Backlog
 * overflow") rather than the process running out of memory.
 */
#ifndef SALVO_BACKLOG_H
#define SALVO_BACKLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Most entries backlog_push accepts: 32 MiB of pending requests per worker. */
#define BACKLOG_LIMIT ((size_t)1 << 20)

/* A request that is due: when it should be sent and which arrival it is. */
struct pending {
    uint64_t t_intended_ns; /* schedule time (closed model: set at send) */
    uint64_t t_ready_ns;    /* when the generator got to it (send lag reference) */
    uint64_t index;         /* global arrival index */
    uint32_t group;         /* request name */
    uint16_t retries;       /* keep-alive race retries so far */
    uint16_t nreq;          /* --script: requests its bytes hold, pipelined (0: one) */
};

/* How many requests p stands for: a script's request() may return several. */
static inline uint32_t pending_nreq(const struct pending *p)
{
    return p->nreq ? p->nreq : 1;
}

/* The FIFO; owns its items array. */
struct backlog {
    struct pending *items;
    size_t cap, head, len;
    size_t max_len; /* high-water mark */
};

/* Allocates an initial ring of cap entries (a power of two). */
void backlog_init(struct backlog *b, size_t cap);
/* Frees the ring; NULL is fine. */
void backlog_release(struct backlog *b);
/* Appends p at the tail; false (p not stored) when BACKLOG_LIMIT entries wait. */
bool backlog_push(struct backlog *b, const struct pending *p);
/*
 * Puts p back at the head (a retried request keeps its place). Never
 * refuses: p left the backlog before, and retries are bounded by the
 * connections, so this may exceed BACKLOG_LIMIT only by that many.
 */
void backlog_push_front(struct backlog *b, const struct pending *p);
/* Removes the head into *out; false when empty. */
bool backlog_pop(struct backlog *b, struct pending *out);
/* The head, or NULL when empty. */
static inline const struct pending *backlog_peek(const struct backlog *b)
{
    return b->len ? &b->items[b->head] : NULL;
}

#endif

/*
 * queue.h — the bytes of one direction of a proxied connection that were
 * read but not yet written, each stretch with the time it may leave.
 *
 * Latency toxics stamp every read with its own release time, so the queue
 * is a FIFO of segments, each with a release time; bytes leave in order and
 * a later segment never overtakes an earlier one. Appending to the tail
 * segment reuses its room when the release time is the same (the common
 * case without latency), so a slow reader costs one segment per 16 KiB,
 * not one per read.
 *
 * Ownership: the queue owns its segments (malloc'd; the proxy is not the
 * load generator's hot path, and with no toxic and a ready reader bytes go
 * straight from read to write without entering a queue). Single-threaded.
 */
#ifndef SALVO_CHAOS_QUEUE_H
#define SALVO_CHAOS_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#define QUEUE_SEG_SIZE 16384

/* One stretch of bytes with its release time. */
struct queue_seg {
    struct queue_seg *next;
    uint64_t release_ns;
    size_t off, len, cap; /* data[off..len) is pending */
    char data[];
};

/* A FIFO of segments. */
struct chaos_queue {
    struct queue_seg *head, *tail;
    size_t bytes; /* pending bytes in all segments */
};

/* Makes q empty. */
void chaos_queue_init(struct chaos_queue *q);
/* Frees every segment; q is empty afterwards. NULL is fine. */
void chaos_queue_release(struct chaos_queue *q);

/* Appends len bytes that may leave at release_ns. Out of memory aborts. */
void chaos_queue_push(struct chaos_queue *q, const void *data, size_t len, uint64_t release_ns);

/*
 * The oldest pending bytes: sets *data and *release_ns and returns their
 * length (contiguous, from one segment), or 0 when the queue is empty.
 */
size_t chaos_queue_peek(const struct chaos_queue *q, const char **data, uint64_t *release_ns);

/* Drops the n oldest bytes (n <= what peek returned). */
void chaos_queue_consume(struct chaos_queue *q, size_t n);

/* The release time of the newest segment, or 0 when empty. */
uint64_t chaos_queue_last_release(const struct chaos_queue *q);

#endif

/*
 * jobq.h — a bounded FIFO of route jobs between the event thread and the
 * workers, in both directions.
 *
 * The target must shed load visibly (503) instead of queueing without
 * bound, so the queue has a fixed capacity and push fails fast when full.
 * The same type carries finished jobs back: workers push, the event thread
 * pops without blocking after an eventfd wake-up. A mutex and a condition
 * variable are plenty: a job costs milliseconds of A*, so a lock costs
 * nothing in comparison, and cache hits never come here.
 *
 * Ownership: jobq_init allocates the ring, jobq_release frees it (after
 * every thread using it has stopped). Jobs are copied in and out.
 */
#ifndef SALVO_TARGET_JOBQ_H
#define SALVO_TARGET_JOBQ_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "target/astar.h"

/* One route computation: the question, who waits for it, and the answer. */
struct route_job {
    uint32_t slot, gen;         /* the waiting connection (see target_server) */
    uint32_t from, to;          /* snapped nodes */
    uint64_t queued_ns;         /* when the event thread queued it */
    int status;                 /* set by the worker: 0 or -ENOENT (no route) */
    uint64_t compute_ns;        /* set by the worker: time spent in A* */
    uint64_t hold_ns;           /* non-zero: hold a worker this long instead (hold.h) */
    struct route_result result; /* set by the worker when status is 0 */
};

/* A bounded, closable FIFO of jobs. */
struct jobq {
    pthread_mutex_t lock;
    pthread_cond_t nonempty;
    struct route_job *ring;
    uint32_t cap, head, len;
    bool closed;
};

/* Allocates room for cap (>= 1) jobs. Returns 0 or -errno. */
int jobq_init(struct jobq *q, uint32_t cap);
/* Frees the ring; NULL is fine. No thread may use the queue any more. */
void jobq_release(struct jobq *q);

/* Appends a copy of job. Returns 0, -EAGAIN when full, -EPIPE when closed. */
int jobq_push(struct jobq *q, const struct route_job *job);
/* Takes the oldest job, waiting for one. Returns 0, or -EPIPE once closed. */
int jobq_pop(struct jobq *q, struct route_job *out);
/* Takes the oldest job if any. Returns 0 or -EAGAIN. */
int jobq_try_pop(struct jobq *q, struct route_job *out);
/* The number of jobs waiting. */
uint32_t jobq_len(struct jobq *q);
/* Wakes every waiter; pops fail from now on. */
void jobq_close(struct jobq *q);

#endif

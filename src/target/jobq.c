/*
 * jobq.c — a ring under a mutex; see jobq.h for why that is enough.
 *
 * Invariant: the jobs waiting are ring[(head + i) % cap] for i < len.
 */
#include "target/jobq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int jobq_init(struct jobq *q, uint32_t cap)
{
    memset(q, 0, sizeof(*q));
    if (cap == 0) return -EINVAL;
    int rc = pthread_mutex_init(&q->lock, NULL);
    if (rc) return -rc;
    if ((rc = pthread_cond_init(&q->nonempty, NULL))) {
        pthread_mutex_destroy(&q->lock);
        return -rc;
    }
    q->ring = calloc(cap, sizeof(*q->ring));
    if (!q->ring) abort();
    q->cap = cap;
    return 0;
}

void jobq_release(struct jobq *q)
{
    if (!q || !q->ring) return;
    pthread_cond_destroy(&q->nonempty);
    pthread_mutex_destroy(&q->lock);
    free(q->ring);
    q->ring = NULL;
}

int jobq_push(struct jobq *q, const struct route_job *job)
{
    int rc = 0;
    pthread_mutex_lock(&q->lock);
    if (q->closed)
        rc = -EPIPE;
    else if (q->len == q->cap)
        rc = -EAGAIN;
    else {
        q->ring[(q->head + q->len) % q->cap] = *job;
        q->len++;
        pthread_cond_signal(&q->nonempty);
    }
    pthread_mutex_unlock(&q->lock);
    return rc;
}

/* Takes the oldest job; the lock is held and len > 0. */
static void take(struct jobq *q, struct route_job *out)
{
    *out = q->ring[q->head];
    q->head = (q->head + 1) % q->cap;
    q->len--;
}

int jobq_pop(struct jobq *q, struct route_job *out)
{
    pthread_mutex_lock(&q->lock);
    while (!q->closed && q->len == 0)
        pthread_cond_wait(&q->nonempty, &q->lock);
    int rc = q->closed ? -EPIPE : 0;
    if (rc == 0) take(q, out);
    pthread_mutex_unlock(&q->lock);
    return rc;
}

int jobq_try_pop(struct jobq *q, struct route_job *out)
{
    pthread_mutex_lock(&q->lock);
    int rc = q->len > 0 ? 0 : -EAGAIN;
    if (rc == 0) take(q, out);
    pthread_mutex_unlock(&q->lock);
    return rc;
}

uint32_t jobq_len(struct jobq *q)
{
    pthread_mutex_lock(&q->lock);
    uint32_t len = q->len;
    pthread_mutex_unlock(&q->lock);
    return len;
}

void jobq_close(struct jobq *q)
{
    pthread_mutex_lock(&q->lock);
    q->closed = true;
    pthread_cond_broadcast(&q->nonempty);
    pthread_mutex_unlock(&q->lock);
}

/*
 * queue.c — a FIFO of timestamped byte segments; see queue.h.
 *
 * Invariant: head is NULL iff tail is NULL iff bytes == 0; no segment in
 * the list is empty (a consumed segment is freed at once).
 */
#include "chaos/queue.h"

#include <stdlib.h>
#include <string.h>

void chaos_queue_init(struct chaos_queue *q)
{
    q->head = q->tail = NULL;
    q->bytes = 0;
}

void chaos_queue_release(struct chaos_queue *q)
{
    if (!q) return;
    struct queue_seg *s = q->head;
    while (s) {
        struct queue_seg *next = s->next;
        free(s);
        s = next;
    }
    chaos_queue_init(q);
}

void chaos_queue_push(struct chaos_queue *q, const void *data, size_t len, uint64_t release_ns)
{
    const char *p = data;
    struct queue_seg *t = q->tail;
    if (t && t->release_ns == release_ns && t->len < t->cap) {
        size_t room = t->cap - t->len;
        size_t n = len < room ? len : room;
        memcpy(t->data + t->len, p, n);
        t->len += n;
        q->bytes += n;
        p += n;
        len -= n;
    }
    if (len == 0) return;
    size_t cap = len > QUEUE_SEG_SIZE ? len : QUEUE_SEG_SIZE;
    struct queue_seg *s = malloc(sizeof *s + cap);
    if (!s) abort();
    s->next = NULL;
    s->release_ns = release_ns;
    s->off = 0;
    s->len = len;
    s->cap = cap;
    memcpy(s->data, p, len);
    if (q->tail)
        q->tail->next = s;
    else
        q->head = s;
    q->tail = s;
    q->bytes += len;
}

size_t chaos_queue_peek(const struct chaos_queue *q, const char **data, uint64_t *release_ns)
{
    const struct queue_seg *s = q->head;
    if (!s) return 0;
    *data = s->data + s->off;
    *release_ns = s->release_ns;
    return s->len - s->off;
}

void chaos_queue_consume(struct chaos_queue *q, size_t n)
{
    struct queue_seg *s = q->head;
    s->off += n;
    q->bytes -= n;
    if (s->off < s->len) return;
    q->head = s->next;
    if (!q->head) q->tail = NULL;
    free(s);
}

uint64_t chaos_queue_last_release(const struct chaos_queue *q)
{
    return q->tail ? q->tail->release_ns : 0;
}

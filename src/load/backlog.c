/*
 * backlog.c — FIFO ring of due requests (see backlog.h).
 */
#include "load/backlog.h"

#include <stdlib.h>
#include <string.h>

void backlog_init(struct backlog *b, size_t cap)
{
    size_t c = 16;
    while (c < cap)
        c *= 2;
    b->items = malloc(c * sizeof(*b->items));
    if (!b->items) abort();
    b->cap = c;
    b->head = b->len = b->max_len = 0;
}

void backlog_release(struct backlog *b)
{
    if (!b) return;
    free(b->items);
    b->items = NULL;
    b->cap = b->len = 0;
}

/* Doubles the ring, unwrapping it so the head is at slot 0. */
static void backlog_grow(struct backlog *b)
{
    struct pending *items = malloc(2 * b->cap * sizeof(*items));
    if (!items) abort();
    size_t first = b->cap - b->head;
    if (first > b->len) first = b->len;
    memcpy(items, b->items + b->head, first * sizeof(*items));
    memcpy(items + first, b->items, (b->len - first) * sizeof(*items));
    free(b->items);
    b->items = items;
    b->cap *= 2;
    b->head = 0;
}

bool backlog_push(struct backlog *b, const struct pending *p)
{
    if (b->len >= BACKLOG_LIMIT) return false;
    if (b->len == b->cap) backlog_grow(b);
    b->items[(b->head + b->len) & (b->cap - 1)] = *p;
    if (++b->len > b->max_len) b->max_len = b->len;
    return true;
}

void backlog_push_front(struct backlog *b, const struct pending *p)
{
    if (b->len == b->cap) backlog_grow(b);
    b->head = (b->head + b->cap - 1) & (b->cap - 1);
    b->items[b->head] = *p;
    if (++b->len > b->max_len) b->max_len = b->len;
}

bool backlog_pop(struct backlog *b, struct pending *out)
{
    if (!b->len) return false;
    *out = b->items[b->head];
    b->head = (b->head + 1) & (b->cap - 1);
    b->len--;
    return true;
}

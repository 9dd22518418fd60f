/*
 * pool.c — the connections of one worker thread (see pool.h).
 *
 * The idle set and the room list are intrusive doubly linked lists through
 * the connections themselves (c->prev, c->next, c->list says which), so
 * taking, parking and closing are O(1) and allocate nothing.
 */
#include "load/pool.h"

#include <stdlib.h>

#include "load/h2.h"

void pool_init(struct pool *p, struct loop *loop, uint32_t cap, uint32_t depth)
{
    *p = (struct pool){.loop = loop, .cap = cap, .depth = depth ? depth : 1};
    p->conns = calloc(cap ? cap : 1, sizeof(*p->conns));
    p->free_stack = calloc(cap ? cap : 1, sizeof(*p->free_stack));
    if (!p->conns || !p->free_stack) abort();
    /* Pushed in reverse so the first slots are taken first. */
    for (uint32_t i = cap; i-- > 0;) {
        struct conn *c = &p->conns[i];
        c->io.fd = -1;
        timer_init(&c->timer, NULL); /* disarmed; conn_setup gives it its callback */
        c->depth = p->depth;
        if (!(c->streams = calloc(p->depth, sizeof(*c->streams)))) abort();
        p->free_stack[p->nfree++] = c;
    }
}

void pool_grow_ring(struct conn *c, uint32_t depth)
{
    if (depth <= c->depth) return;
    struct stream *ring = calloc(depth, sizeof(*ring));
    if (!ring) abort();
    /* In flight first, oldest at 0; then the free slots, whose render buffers are kept. */
    for (uint32_t i = 0; i < c->depth; i++)
        ring[i] = *conn_stream(c, i);
    free(c->streams);
    c->streams = ring;
    c->first = 0;
    c->depth = depth;
}

void pool_release(struct pool *p)
{
    if (!p) return;
    for (uint32_t i = 0; p->conns && i < p->cap; i++) {
        struct conn *c = &p->conns[i];
        for (uint32_t k = 0; c->streams && k < c->depth; k++) {
            free(c->streams[k].wbuf);
            free(c->streams[k].kept);
        }
        free(c->streams);
        free(c->rbuf);
        h2_conn_free(c->h2);
    }
    free(p->conns);
    free(p->free_stack);
    p->conns = NULL;
    p->free_stack = NULL;
}

/* The head of list l. */
static struct conn **list_head(struct pool *p, enum conn_list l)
{
    return l == LIST_IDLE ? &p->idle_head : &p->room_head;
}

/* Pushes c at the head of list l (LIFO keeps few connections warm). */
static void list_push(struct pool *p, struct conn *c, enum conn_list l)
{
    struct conn **head = list_head(p, l);
    c->list = l;
    c->prev = NULL;
    c->next = *head;
    if (*head) (*head)->prev = c;
    *head = c;
}

void pool_unlist(struct pool *p, struct conn *c)
{
    if (c->list == LIST_NONE) return;
    if (c->prev)
        c->prev->next = c->next;
    else
        *list_head(p, c->list) = c->next;
    if (c->next) c->next->prev = c->prev;
    c->prev = c->next = NULL;
    c->list = LIST_NONE;
}

struct conn *pool_take_idle(struct pool *p)
{
    struct conn *c = p->idle_head;
    if (c) pool_unlist(p, c);
    return c;
}

struct conn *pool_take_free(struct pool *p)
{
    return p->nfree ? p->free_stack[--p->nfree] : NULL;
}

struct conn *pool_take_room(struct pool *p)
{
    struct conn *c = p->room_head;
    if (c) pool_unlist(p, c);
    return c;
}

void pool_give_back(struct pool *p, struct conn *c)
{
    pool_unlist(p, c);
    if (c->nstreams == 0) {
        c->state = CONN_IDLE;
        /* An HTTP/2 server that allows 0 streams gets none: the connection waits unlisted for its next SETTINGS. */
        if (!c->proto || !c->proto->multiplexed || conn_room(c) > 0) list_push(p, c, LIST_IDLE);
    } else if (c->state == CONN_BUSY && conn_room(c) > 0) {
        list_push(p, c, LIST_ROOM);
    }
}

void pool_give_slot(struct pool *p, struct conn *c)
{
    p->free_stack[p->nfree++] = c;
}

void pool_opening(struct pool *p, struct conn *c)
{
    (void)c;
    p->nopen++;
    p->nconnecting++;
    if (p->nopen > p->stats.max_open) p->stats.max_open = p->nopen;
}

void pool_close(struct pool *p, struct conn *c, enum close_reason why, bool keep_slot)
{
    pool_unlist(p, c);
    timer_disarm(p->loop, &c->timer);
    if (c->io.fd >= 0) {
        loop_del(p->loop, &c->io);
        conn_close_fd(c);
        p->nopen--;
        if (!c->established) p->nconnecting--;
    }
    if (c->proto) c->proto->close(c);
    if (c->established) {
        if (why == BY_SERVER)
            p->stats.closed_by_server++;
        else if (why == BY_US)
            p->stats.closed_by_us++;
        else
            p->stats.closed_by_error++;
        c->established = false;
    }
    c->state = CONN_FREE;
    if (!keep_slot) pool_give_slot(p, c);
}

/*
 * engine_pick.c — which connection a due request takes (see engine.h,
 * engine_pick_open and engine_pick_closed): idle first, then a new
 * connection (unless the zero-stream back-off holds it), then a free
 * stream slot; a free HTTP/2 stream comes before a new connection in the
 * open model, after it in the paced closed one. A retried request goes
 * only where it will be answered (retry_target).
 */
#include <stdatomic.h>

#include "load/engine.h"

/*
 * True when the zero-stream back-off keeps w from opening a connection
 * now (h2.h, struct h2_backoff): *held is set and the hold counted once
 * per pump. Past the hold, one connection may open and the next waits a
 * whole delay again.
 */
static bool h2_held_off(struct worker *w, uint64_t now, bool *held)
{
    struct h2_backoff *b = &w->h2_backoff;
    if (!b->delay_ns || w->pool.nfree == 0) return false;
    if (now < b->until_ns) {
        if (!*held) w->h2.zero_holds++;
        *held = true;
        return true;
    }
    b->until_ns = now + b->delay_ns;
    return false;
}

/* The first connection of list head (idle or room) that may take a retry, off its list, or NULL. */
static struct conn *take_for_retry(struct pool *pool, struct conn *head)
{
    for (struct conn *c = head; c; c = c->next)
        if (conn_takes_retry(c)) {
            pool_unlist(pool, c);
            return c;
        }
    return NULL;
}

/*
 * Where a retried request goes: an idle connection, a new one, or a
 * stream slot, each only where conn_takes_retry says it will be answered
 * (an HTTP/2 connection past the stream ids servers have processed
 * before their GOAWAYs would refuse it again). With no such connection
 * and no free slot, an HTTP/2 retry waits while a connection that got a
 * GOAWAY is still closing (its slot frees soon, and a new connection
 * takes the retry) or a new one is connecting or waiting for its first
 * SETTINGS (it has room soon); with none, it takes any stream rather
 * than hold the backlog up behind it (a reload's GOAWAY may say little
 * about the other connections). NULL: it waits.
 */
static struct conn *retry_target(struct worker *w, uint64_t now, bool *held)
{
    struct pool *pool = &w->pool;
    struct conn *c = take_for_retry(pool, pool->idle_head);
    if (!c && !atomic_load_explicit(&w->stop, memory_order_relaxed) && !h2_held_off(w, now, held))
        c = pool_take_free(pool);
    if (!c) c = take_for_retry(pool, pool->room_head);
    if (c || w->h2_backoff.draining || w->h2_backoff.unsettled || pool->nconnecting) return c;
    if (pool->idle_head && pool->idle_head->proto->multiplexed) c = pool_take_idle(pool);
    if (!c && pool->room_head && pool->room_head->proto->multiplexed) c = pool_take_room(pool);
    return c;
}

struct conn *engine_pick_open(struct worker *w, const struct pending *p, uint64_t now, bool *held)
{
    if (p->retries > 0) return retry_target(w, now, held);
    struct pool *pool = &w->pool;
    struct conn *c = pool_take_idle(pool);
    if (!c && pool->room_head && pool->room_head->proto->multiplexed) c = pool_take_room(pool);
    if (!c && !atomic_load_explicit(&w->stop, memory_order_relaxed) && !h2_held_off(w, now, held))
        c = pool_take_free(pool);
    if (!c) c = pool_take_room(pool);
    return c;
}

struct conn *engine_pick_closed(struct worker *w, const struct pending *p, uint64_t now, bool *held)
{
    if (p->retries > 0) return retry_target(w, now, held);
    struct conn *c = pool_take_idle(&w->pool);
    if (!c) c = pool_take_free(&w->pool);
    if (!c) c = pool_take_room(&w->pool);
    return c;
}

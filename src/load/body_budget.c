/*
 * body_budget.c — kept-body accounting and the FIFO of waiting responses
 * (see body_budget.h).
 *
 * The queue is a singly linked list with a tail: reserve appends, grant
 * pops the head. Cancel (a waiting response timed out or its connection
 * closed) scans the list, which is rare and short next to the responses
 * it holds back.
 */
#include "load/body_budget.h"

void body_budget_init(struct body_budget *b, size_t cap)
{
    *b = (struct body_budget){.cap = cap};
}

/* Counts the end of w's wait at now_ns. */
static void end_wait(struct body_budget *b, struct budget_waiter *w, uint64_t now_ns)
{
    uint64_t waited = now_ns > w->since_ns ? now_ns - w->since_ns : 0;
    b->wait_ns_total += waited;
    if (waited > b->wait_ns_max) b->wait_ns_max = waited;
    w->queued = false;
    w->next = NULL;
}

/* Reserves n bytes (they fit). */
static void take(struct body_budget *b, size_t n)
{
    b->used += n;
    if (b->used > b->peak) b->peak = b->used;
}

bool body_budget_reserve(struct body_budget *b, struct budget_waiter *w, size_t need, uint64_t now_ns)
{
    if (need > b->cap) need = b->cap;
    w->need = need;
    if (!b->head && b->used + need <= b->cap) {
        take(b, need);
        return true;
    }
    w->since_ns = now_ns;
    w->queued = true;
    w->next = NULL;
    if (b->tail)
        b->tail->next = w;
    else
        b->head = w;
    b->tail = w;
    b->waits++;
    return false;
}

bool body_budget_take(struct body_budget *b, size_t need)
{
    if (b->head || b->used + need > b->cap) {
        b->not_kept++;
        return false;
    }
    take(b, need);
    return true;
}

void body_budget_release(struct body_budget *b, size_t bytes)
{
    b->used = bytes < b->used ? b->used - bytes : 0;
}

struct budget_waiter *body_budget_grant(struct body_budget *b, uint64_t now_ns)
{
    struct budget_waiter *w = b->head;
    if (!w || b->used + w->need > b->cap) return NULL;
    b->head = w->next;
    if (!b->head) b->tail = NULL;
    take(b, w->need);
    end_wait(b, w, now_ns);
    return w;
}

void body_budget_cancel(struct body_budget *b, struct budget_waiter *w, uint64_t now_ns)
{
    if (!w->queued) return;
    struct budget_waiter *prev = NULL;
    for (struct budget_waiter *p = b->head; p; prev = p, p = p->next) {
        if (p != w) continue;
        if (prev)
            prev->next = w->next;
        else
            b->head = w->next;
        if (b->tail == w) b->tail = prev;
        break;
    }
    end_wait(b, w, now_ns);
}

/*
 * body_budget.h — the bytes of response bodies that checks may keep at
 * once, and the responses waiting for room.
 *
 * A body or json check keeps each response's body (up to --max-body), so
 * a run with thousands of slow, large responses in flight could hold
 * gigabytes. --body-budget bounds them all together: each worker owns an
 * equal share (no atomics on the hot path; the shares add up to the
 * budget). A response reserves what it may keep when its head is complete
 * — its Content-Length, or what is left of the per-response cap when the
 * length is unknown (chunked, close-delimited) — and gives it back when it
 * is judged or dropped. Reserving all at once at the head is what keeps
 * this free of deadlock: a response that holds a reservation never needs
 * more room to finish, so room always comes back. A response that does not
 * fit waits in FIFO order (no overtaking, so a large body is not starved by
 * small ones), and its connection reads nothing meanwhile; the waits are
 * counted, with their total and longest duration.
 *
 * Pure accounting: no I/O, no clock (callers pass the time), nothing
 * allocated; waiters are embedded in what waits (struct conn). Worker
 * thread only.
 */
#ifndef SALVO_BODY_BUDGET_H
#define SALVO_BODY_BUDGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BODY_BUDGET_DEFAULT (64u * 1024 * 1024)

/* Something waiting for room, embedded in its owner. */
struct budget_waiter {
    struct budget_waiter *next;
    uint64_t since_ns; /* when it started waiting */
    size_t need;       /* bytes it asked for; granted ones are reserved */
    bool queued;
};

/* One worker's share of the budget. */
struct body_budget {
    size_t cap;  /* this share, bytes (0: no body is kept, nothing is accounted) */
    size_t used; /* reserved by responses being read */
    size_t peak; /* the most ever reserved at once */
    struct budget_waiter *head, *tail;
    uint64_t waits;                      /* responses that had to wait (granted or not) */
    uint64_t not_kept;                   /* h2 responses body_budget_take found no room for */
    uint64_t wait_ns_total, wait_ns_max; /* over the waits that ended */
};

/* An empty share of cap bytes. */
void body_budget_init(struct body_budget *b, size_t cap);

/*
 * Asks for need bytes for w (not queued). True: reserved at once, because
 * they fit and nobody waits before w. False: w is queued from now_ns until
 * body_budget_grant hands it out or body_budget_cancel takes it back. A
 * need above cap is cut to cap (the caller sizes cap so that it never is).
 */
bool body_budget_reserve(struct body_budget *b, struct budget_waiter *w, size_t need, uint64_t now_ns);

/*
 * Takes need bytes when they fit now and nobody waits (no queueing: an h2
 * stream cannot wait alone, see docs/http2.md). True when taken.
 */
bool body_budget_take(struct body_budget *b, size_t need);
/* Gives back bytes reserved before. */
void body_budget_release(struct body_budget *b, size_t bytes);

/*
 * The oldest waiter if its need fits now: reserved, dequeued and its wait
 * counted; else NULL (also when nobody waits). Call it until NULL after
 * room came back.
 */
struct budget_waiter *body_budget_grant(struct body_budget *b, uint64_t now_ns);

/* Takes a queued w out (its response is gone); its wait so far is counted. A w not queued is left alone. */
void body_budget_cancel(struct body_budget *b, struct budget_waiter *w, uint64_t now_ns);

#endif

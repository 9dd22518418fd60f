/*
 * loop.c — epoll plus a timer min-heap; see loop.h for the why.
 *
 * Invariants: heap[i]->heap_index == i for every armed timer; the heap is
 * ordered by deadline_ns. Dispatch order per iteration: expired timers (so
 * a due send is not delayed by a batch of reads), fd events, then timers
 * again. Each pass reads the clock once, so a timer a callback arms for
 * "now" fires in the next pass.
 */
#include "core/loop.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "core/clock.h"

/* Small batches let due timers run between bursts of completions. */
#define LOOP_MAX_EVENTS 64

int loop_init(struct loop *loop, uint64_t spin_ns)
{
    *loop = (struct loop){.spin_ns = spin_ns};
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->epfd < 0) return -errno;
    loop->heap_cap = 64;
    loop->heap = calloc(loop->heap_cap, sizeof(*loop->heap));
    if (!loop->heap) abort();
    return 0;
}

void loop_release(struct loop *loop)
{
    if (!loop) return;
    if (loop->epfd >= 0) close(loop->epfd);
    free(loop->heap);
    loop->heap = NULL;
    loop->epfd = -1;
}

int loop_add(struct loop *loop, struct loop_io *io, uint32_t events)
{
    /* x86-64 user pointers fit in 48 bits; the top 16 carry the generation. */
    struct epoll_event ev = {.events = events, .data.u64 = (uint64_t)(uintptr_t)io | ((uint64_t)io->gen << 48)};
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, io->fd, &ev) < 0) return -errno;
    return 0;
}

void loop_del(struct loop *loop, struct loop_io *io)
{
    epoll_ctl(loop->epfd, EPOLL_CTL_DEL, io->fd, NULL);
    io->gen++;
}

void timer_init(struct timer *t, timer_fn *on_fire)
{
    t->deadline_ns = 0;
    t->heap_index = UINT32_MAX;
    t->on_fire = on_fire;
}

/* Puts t at slot i and records the slot in t. */
static void heap_set(struct loop *loop, uint32_t i, struct timer *t)
{
    loop->heap[i] = t;
    t->heap_index = i;
}

/* Moves the timer at slot i towards the root while it is earlier than its parent. */
static void heap_up(struct loop *loop, uint32_t i)
{
    struct timer *t = loop->heap[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (loop->heap[parent]->deadline_ns <= t->deadline_ns) break;
        heap_set(loop, i, loop->heap[parent]);
        i = parent;
    }
    heap_set(loop, i, t);
}

/* Moves the timer at slot i towards the leaves while a child is earlier. */
static void heap_down(struct loop *loop, uint32_t i)
{
    struct timer *t = loop->heap[i];
    for (;;) {
        uint32_t child = 2 * i + 1;
        if (child >= loop->heap_len) break;
        if (child + 1 < loop->heap_len && loop->heap[child + 1]->deadline_ns < loop->heap[child]->deadline_ns) child++;
        if (t->deadline_ns <= loop->heap[child]->deadline_ns) break;
        heap_set(loop, i, loop->heap[child]);
        i = child;
    }
    heap_set(loop, i, t);
}

void timer_disarm(struct loop *loop, struct timer *t)
{
    if (!timer_armed(t)) return;
    uint32_t i = t->heap_index;
    struct timer *last = loop->heap[--loop->heap_len];
    t->heap_index = UINT32_MAX;
    if (last == t) return;
    heap_set(loop, i, last);
    heap_up(loop, i);
    heap_down(loop, last->heap_index);
}

void timer_arm(struct loop *loop, struct timer *t, uint64_t deadline_ns)
{
    if (timer_armed(t)) {
        uint64_t old = t->deadline_ns;
        t->deadline_ns = deadline_ns;
        if (deadline_ns < old)
            heap_up(loop, t->heap_index);
        else
            heap_down(loop, t->heap_index);
        return;
    }
    if (loop->heap_len == loop->heap_cap) {
        loop->heap_cap *= 2;
        loop->heap = realloc(loop->heap, loop->heap_cap * sizeof(*loop->heap));
        if (!loop->heap) abort();
    }
    t->deadline_ns = deadline_ns;
    heap_set(loop, loop->heap_len++, t);
    heap_up(loop, t->heap_index);
}

void loop_spin_auto(struct loop *loop, double budget)
{
    loop->spin_auto = true;
    loop->spin_budget = budget;
    loop->wake_late_ns = LOOP_WAKE_LATE_INIT_NS;
    loop->spin_credit_ns = 0;
    loop->credit_at_ns = clock_now_ns();
}

/*
 * A stochastic 90th percentile: up 9 steps when a sample is above, down 1
 * when below, so it settles where 10 % of wake-ups are later. A step is
 * 1/80 of the estimate (at least 100 ns): it rises 11 % per late sample and
 * falls 1.25 % per early one, so it follows a changing machine within a few
 * dozen sleeps, and one 2 ms outlier moves it by only 11 %.
 */
void loop_note_wake(struct loop *loop, uint64_t late_ns)
{
    uint64_t step = loop->wake_late_ns / 80;
    if (step < 100) step = 100;
    if (late_ns > loop->wake_late_ns)
        loop->wake_late_ns += 9 * step;
    else
        loop->wake_late_ns = loop->wake_late_ns > step ? loop->wake_late_ns - step : 0;
    loop->wake_samples++;
}

uint64_t loop_spin_now(struct loop *loop, uint64_t now_ns)
{
    if (!loop->spin_auto) return loop->spin_ns;
    if (now_ns > loop->credit_at_ns) {
        loop->spin_credit_ns += (int64_t)(loop->spin_budget * (double)(now_ns - loop->credit_at_ns));
        if (loop->spin_credit_ns > (int64_t)LOOP_SPIN_CREDIT_MAX_NS) loop->spin_credit_ns = LOOP_SPIN_CREDIT_MAX_NS;
        loop->credit_at_ns = now_ns;
    }
    if (loop->spin_credit_ns <= 0) return 0;
    uint64_t want = loop->wake_late_ns;
    return want < (uint64_t)loop->spin_credit_ns ? want : (uint64_t)loop->spin_credit_ns;
}

/*
 * Busy-polls until until_ns or an event; the thread's CPU time it took goes
 * to the spin's account (CPU, not wall time: a spin the hypervisor or the
 * scheduler preempted cost no CPU meanwhile, and the budget is CPU).
 */
static int loop_spin(struct loop *loop, struct epoll_event *events, uint64_t until_ns)
{
    uint64_t cpu_start = clock_thread_cpu_ns();
    for (;;) {
        int n = epoll_wait(loop->epfd, events, LOOP_MAX_EVENTS, 0);
        if (n != 0 || clock_now_ns() >= until_ns) {
            uint64_t spent = clock_thread_cpu_ns() - cpu_start;
            loop->spin_total_ns += spent;
            if (loop->spin_auto) loop->spin_credit_ns -= (int64_t)spent;
            return n;
        }
    }
}

/* Waits up to until_ns (monotonic) for events; busy-polls near the deadline. */
static int loop_wait(struct loop *loop, struct epoll_event *events, uint64_t until_ns)
{
    uint64_t now = clock_now_ns();
    if (until_ns <= now) return epoll_wait(loop->epfd, events, LOOP_MAX_EVENTS, 0);
    uint64_t left = until_ns - now, spin = loop_spin_now(loop, now);
    if (left > spin) {
        uint64_t wake_at = until_ns - spin;
        struct timespec ts = clock_ns_to_timespec(left - spin);
        int n = epoll_pwait2(loop->epfd, events, LOOP_MAX_EVENTS, &ts, NULL);
        if (n != 0) return n;
        /* A sleep that ran out: how late it woke is what the spin must cover. */
        uint64_t woke = clock_now_ns();
        if (loop->spin_auto) loop_note_wake(loop, woke > wake_at ? woke - wake_at : 0);
        if (spin == 0 || woke >= until_ns) return 0;
    }
    return loop_spin(loop, events, until_ns);
}

/* Fires every timer whose deadline has passed. */
static void fire_timers(struct loop *loop)
{
    uint64_t now = clock_now_ns();
    while (loop->heap_len > 0 && loop->heap[0]->deadline_ns <= now) {
        struct timer *t = loop->heap[0];
        timer_disarm(loop, t);
        t->on_fire(t, now);
    }
}

int loop_run_once(struct loop *loop, uint64_t limit_ns)
{
    struct epoll_event events[LOOP_MAX_EVENTS];
    uint64_t until = limit_ns;
    if (loop->heap_len > 0 && loop->heap[0]->deadline_ns < until) until = loop->heap[0]->deadline_ns;
    int n = loop_wait(loop, events, until);
    if (n < 0) return errno == EINTR ? 0 : -errno;
    /* Deadlines first: a due send must not wait behind a batch of reads. */
    fire_timers(loop);
    for (int i = 0; i < n; i++) {
        uint64_t tag = events[i].data.u64;
        struct loop_io *io = (struct loop_io *)(uintptr_t)(tag & ((1ull << 48) - 1));
        if (io->gen != (uint16_t)(tag >> 48)) continue; /* closed earlier in this batch */
        io->on_event(io, events[i].events);
    }
    fire_timers(loop);
    return 0;
}

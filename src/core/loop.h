/*
 * loop.h — the event loop of one worker thread.
 *
 * A small fd-based epoll loop in the spirit of redis's ae.c, with two
 * differences that matter for a load generator: timers live in a binary
 * min-heap (each connection has a deadline, so an unsorted list would cost
 * O(n) per wake-up), and sleeping uses epoll_pwait2 with a nanosecond
 * timeout, so a request due in 37 µs is woken for in ~37 µs, not rounded up
 * to the next millisecond. A spin before each deadline trades CPU for
 * microsecond precision: fixed (loop_init's spin_ns), or automatic
 * (loop_spin_auto): the loop learns how late its epoll sleeps wake up (a
 * running 90th percentile) and spins that long before each deadline, as far
 * as a CPU budget allows. The budget is a bucket that fills at `budget` ns
 * per ns of wall time and holds at most LOOP_SPIN_CREDIT_MAX_NS, so the spin
 * per deadline follows the instantaneous rate of deadlines (about budget /
 * rate), and a burst of short gaps spends what long gaps saved, then spins
 * less.
 *
 * Ownership: the loop owns its epoll fd and its heap array; loop_io and
 * timer structs are embedded in their owners (arming a timer allocates
 * nothing, except when the heap has to grow). Single-threaded.
 */
#ifndef SALVO_LOOP_H
#define SALVO_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct loop_io;
struct timer;

/* Called with the epoll event mask (EPOLLIN, EPOLLOUT, EPOLLERR, ...). */
typedef void loop_io_fn(struct loop_io *io, uint32_t events);
/* Called once when the deadline has passed; the timer is already unarmed. */
typedef void timer_fn(struct timer *t, uint64_t now_ns);

/* A file descriptor watched by the loop. */
struct loop_io {
    int fd;
    uint16_t gen; /* bumped by loop_del so stale events of a reused io are dropped */
    loop_io_fn *on_event;
};

/* A one-shot deadline; heap_index is UINT32_MAX while unarmed. */
struct timer {
    uint64_t deadline_ns;
    uint32_t heap_index;
    timer_fn *on_fire;
};

/* The loop: an epoll set plus a min-heap of armed timers. */
struct loop {
    int epfd;
    struct timer **heap;
    uint32_t heap_len, heap_cap;
    uint64_t spin_ns;       /* busy-poll this long before a deadline (0: never) */
    uint64_t spin_total_ns; /* thread CPU spent busy-polling (CPU that is not work) */
    /* Automatic spin (spin_auto): see the file comment. */
    bool spin_auto;
    double spin_budget;     /* share of one core it may spend spinning */
    uint64_t wake_late_ns;  /* running p90 of how late a timed-out epoll sleep woke */
    uint64_t wake_samples;  /* sleeps measured */
    int64_t spin_credit_ns; /* budget left; negative after a spin overran it */
    uint64_t credit_at_ns;  /* when the credit was last topped up */
};

#define LOOP_SPIN_CREDIT_MAX_NS 2000000ull /* 2 ms: what long gaps may save for short ones */
#define LOOP_WAKE_LATE_INIT_NS 30000ull    /* a first guess until sleeps are measured */

/* Creates the epoll set. Returns 0 or -errno. */
int loop_init(struct loop *loop, uint64_t spin_ns);
/* Switches to the automatic spin with budget (0..1 of one core; 0.25 by default). */
void loop_spin_auto(struct loop *loop, double budget);
/* The spin the loop would use now before a deadline (auto: within the credit). */
uint64_t loop_spin_now(struct loop *loop, uint64_t now_ns);
/* Feeds one measured wake-up lateness to the auto spin's estimate (exposed for tests). */
void loop_note_wake(struct loop *loop, uint64_t late_ns);
/* Closes the epoll set and frees the heap; NULL is fine. */
void loop_release(struct loop *loop);

/* Watches io->fd for events (EPOLLIN|EPOLLOUT|EPOLLET...). 0 or -errno. */
int loop_add(struct loop *loop, struct loop_io *io, uint32_t events);
/* Stops watching io->fd (call before closing it). */
void loop_del(struct loop *loop, struct loop_io *io);

/* Makes t unarmed; call once before first use. */
void timer_init(struct timer *t, timer_fn *on_fire);
/* Arms (or re-arms) t for deadline_ns (monotonic). */
void timer_arm(struct loop *loop, struct timer *t, uint64_t deadline_ns);
/* Disarms t if armed. */
void timer_disarm(struct loop *loop, struct timer *t);
/* True while t is armed. */
static inline bool timer_armed(const struct timer *t)
{
    return t->heap_index != UINT32_MAX;
}

/*
 * Waits for events or the earliest deadline, but no longer than until
 * limit_ns (monotonic), then dispatches ready fds and expired timers.
 * Returns 0 or -errno (EINTR is not an error).
 */
int loop_run_once(struct loop *loop, uint64_t limit_ns);

#endif

/*
 * loop.h — the event loop of one worker thread.
 *
 * A small fd-based epoll loop in the spirit of redis's ae.c, with two
 * differences that matter for a load generator: timers live in a binary
 * min-heap (each connection has a deadline, so an unsorted list would cost
 * O(n) per wake-up), and sleeping uses epoll_pwait2 with a nanosecond
 * timeout, so a request due in 37 µs is woken for in ~37 µs, not rounded up
 * to the next millisecond. An optional spin before each deadline trades CPU
 * for microsecond precision.
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
    uint64_t spin_total_ns; /* time spent busy-polling (CPU that is not work) */
};

/* Creates the epoll set. Returns 0 or -errno. */
int loop_init(struct loop *loop, uint64_t spin_ns);
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

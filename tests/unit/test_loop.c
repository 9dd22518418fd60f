/*
 * test_loop.c — the event loop: timer heap order, disarming from the middle
 * of the heap, re-arming, growth past the initial heap, and events of a
 * closed-and-reused io dropped within one batch.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/loop.h"

#define NTIMERS 200 /* more than the heap's initial 64 slots */

/* A timer that notes the order it fired in. */
struct probe {
    struct timer t;
    int id;
};

static int fired[NTIMERS];
static int nfired;

static void on_fire(struct timer *t, uint64_t now_ns)
{
    struct probe *p = (struct probe *)t;
    assert_false(timer_armed(t)); /* unarmed before its callback */
    assert_true(now_ns >= t->deadline_ns);
    assert_true(nfired < NTIMERS);
    fired[nfired++] = p->id;
}

/* The heap invariant: every slot knows its index and no child is earlier than its parent. */
static void check_heap(const struct loop *loop)
{
    for (uint32_t i = 0; i < loop->heap_len; i++) {
        assert_int_equal(loop->heap[i]->heap_index, i);
        if (i > 0) assert_true(loop->heap[(i - 1) / 2]->deadline_ns <= loop->heap[i]->deadline_ns);
    }
}

/* Runs the loop until every armed timer fired (bounded: 2 s). */
static void drain(struct loop *loop)
{
    uint64_t stop = clock_now_ns() + 2 * NS_PER_S;
    while (loop->heap_len > 0 && clock_now_ns() < stop)
        assert_int_equal(loop_run_once(loop, stop), 0);
    assert_int_equal(loop->heap_len, 0);
}

/* Deadlines in a scrambled order fire sorted; which of them are disarmed, from where. */
struct order_case {
    const char *name;
    unsigned disarm_every; /* 0: none; k: every k-th probe (by id) */
    bool rearm_later;      /* re-arm every 3rd probe 1 ms later before running */
};

static void test_heap_order(void **state)
{
    static const struct order_case cases[] = {
        {"all fire in deadline order", 0, false}, {"every 7th disarmed from the middle", 7, false},
        {"every 2nd disarmed", 2, false},         {"every 3rd re-armed later", 0, true},
        {"re-armed and disarmed", 5, true},
    };
    static struct probe probes[NTIMERS];
    (void)state;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct loop loop;
        assert_int_equal(loop_init(&loop, 0), 0);
        uint64_t base = clock_now_ns() + 2 * NS_PER_MS;
        nfired = 0;
        for (int i = 0; i < NTIMERS; i++) {
            probes[i].id = i;
            timer_init(&probes[i].t, on_fire);
        }
        for (int i = 0; i < NTIMERS; i++) {
            /* (i * 73) % NTIMERS scrambles the arming order; deadlines are distinct. */
            int k = (i * 73) % NTIMERS;
            timer_arm(&loop, &probes[k].t, base + (uint64_t)k * 10000);
            check_heap(&loop);
        }
        assert_int_equal(loop.heap_len, NTIMERS);
        bool gone[NTIMERS] = {false};
        for (int i = 0; cases[c].rearm_later && i < NTIMERS; i += 3) {
            timer_arm(&loop, &probes[i].t, probes[i].t.deadline_ns + NS_PER_MS * 3);
            check_heap(&loop);
        }
        for (int i = 0; cases[c].disarm_every && i < NTIMERS; i += (int)cases[c].disarm_every) {
            timer_disarm(&loop, &probes[i].t);
            timer_disarm(&loop, &probes[i].t); /* twice is harmless */
            assert_false(timer_armed(&probes[i].t));
            gone[i] = true;
            check_heap(&loop);
        }
        drain(&loop);
        int want = 0;
        for (int i = 0; i < NTIMERS; i++)
            want += !gone[i];
        if (nfired != want) fail_msg("%s: %d fired, want %d", cases[c].name, nfired, want);
        for (int i = 1; i < nfired; i++)
            if (probes[fired[i - 1]].t.deadline_ns > probes[fired[i]].t.deadline_ns)
                fail_msg("%s: %d fired before %d, which is due earlier", cases[c].name, fired[i - 1], fired[i]);
        for (int i = 0; i < nfired; i++)
            if (gone[fired[i]]) fail_msg("%s: disarmed timer %d fired", cases[c].name, fired[i]);
        loop_release(&loop);
    }
}

/* A timer is not fired before its deadline: loop_run_once waits for it. */
static void test_timer_waits(void **state)
{
    struct loop loop;
    struct probe p = {.id = 0};
    (void)state;
    assert_int_equal(loop_init(&loop, 0), 0);
    timer_init(&p.t, on_fire);
    nfired = 0;
    uint64_t due = clock_now_ns() + 20 * NS_PER_MS;
    timer_arm(&loop, &p.t, due);
    assert_int_equal(loop_run_once(&loop, due - 10 * NS_PER_MS), 0); /* limit before the deadline */
    assert_int_equal(nfired, 0);
    assert_true(timer_armed(&p.t));
    drain(&loop);
    assert_int_equal(nfired, 1);
    assert_true(clock_now_ns() >= due);
    loop_release(&loop);
}

/* Two ios ready in one batch: the first closes the second and reuses its slot. */
struct pipe_io {
    struct loop_io io;
    int wr;
    int calls;
};

static struct loop *cur_loop;
static struct pipe_io pios[2];

static void on_first(struct loop_io *io, uint32_t events)
{
    (void)events;
    ((struct pipe_io *)io)->calls++;
    /* Whichever fires first closes the other and re-adds it: its queued event is stale. */
    struct pipe_io *other = &pios[(struct pipe_io *)io == &pios[0] ? 1 : 0];
    loop_del(cur_loop, &other->io);
    assert_int_equal(loop_add(cur_loop, &other->io, EPOLLIN | EPOLLET), 0);
}

static void test_stale_events_dropped(void **state)
{
    struct loop loop;
    int fds[2][2];
    (void)state;
    assert_int_equal(loop_init(&loop, 0), 0);
    cur_loop = &loop;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pipe(fds[i]), 0);
        pios[i] = (struct pipe_io){.io = {.fd = fds[i][0], .on_event = on_first}, .wr = fds[i][1]};
        assert_int_equal(loop_add(&loop, &pios[i].io, EPOLLIN), 0);
        assert_int_equal(write(fds[i][1], "x", 1), 1);
    }
    assert_int_equal(loop_run_once(&loop, clock_now_ns() + 100 * NS_PER_MS), 0);
    /* Both were ready; the one that ran second had its event made stale by the first. */
    assert_int_equal(pios[0].calls + pios[1].calls, 1);
    for (int i = 0; i < 2; i++) {
        loop_del(&loop, &pios[i].io);
        close(fds[i][0]);
        close(fds[i][1]);
    }
    loop_release(&loop);
    loop_release(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heap_order),
        cmocka_unit_test(test_timer_waits),
        cmocka_unit_test(test_stale_events_dropped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

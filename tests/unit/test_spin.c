/*
 * test_spin.c — the loop's automatic spin: its wake-up estimate, its CPU
 * budget, and (on a real epoll loop) that it spins at most its budget.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "core/clock.h"
#include "core/loop.h"

/* The estimate settles near the 90th percentile of what it is fed. */
static void test_estimate_is_p90(void **state)
{
    (void)state;
    struct loop l;
    assert_int_equal(loop_init(&l, 0), 0);
    loop_spin_auto(&l, 0.25);
    /* Wake-ups late by 10..109 µs, uniformly in a fixed shuffled order: p90 is ~100 µs. */
    uint64_t seed = 7;
    for (int i = 0; i < 20000; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        loop_note_wake(&l, 10000 + (seed >> 33) % 100 * 1000);
    }
    assert_in_range(l.wake_late_ns, 90000, 110000);
    /* One huge outlier moves it by at most ~11 %. */
    uint64_t before = l.wake_late_ns;
    loop_note_wake(&l, 2000000);
    assert_true(l.wake_late_ns <= before + before / 8);
    loop_release(&l);
}

/* The spin per deadline is the estimate while credit lasts, then what the budget earns. */
static void test_budget_limits_spin(void **state)
{
    (void)state;
    struct loop l;
    assert_int_equal(loop_init(&l, 0), 0);
    loop_spin_auto(&l, 0.25);
    l.wake_late_ns = 60000;
    uint64_t t = l.credit_at_ns;
    /* 10 ms idle: the bucket fills to its cap, and the estimate is spun. */
    assert_int_equal(loop_spin_now(&l, t + 10000000), 60000);
    /* Deadlines every 200 µs (5000/s), each spending what it was given: the cap drains, then 50 µs each. */
    t += 10000000;
    uint64_t last = 0;
    for (int i = 0; i < 1000; i++) {
        t += 200000;
        last = loop_spin_now(&l, t);
        l.spin_credit_ns -= (int64_t)last;
    }
    assert_in_range(last, 49000, 51000);
    /* A fixed spin ignores the budget. */
    struct loop f;
    assert_int_equal(loop_init(&f, 300000), 0);
    assert_int_equal(loop_spin_now(&f, clock_now_ns()), 300000);
    loop_release(&f);
    loop_release(&l);
}

static uint64_t fired, late_sum_ns;
static uint64_t period_ns = 500000;

static void on_tick(struct timer *t, uint64_t now)
{
    fired++;
    late_sum_ns += now - t->deadline_ns;
}

/* A real loop with a deadline every 500 µs for 300 ms spends at most its budget spinning. */
static void test_real_loop_within_budget(void **state)
{
    (void)state;
    struct loop l;
    assert_int_equal(loop_init(&l, 0), 0);
    loop_spin_auto(&l, 0.25);
    struct timer tick;
    timer_init(&tick, on_tick);
    uint64_t start = clock_now_ns(), end = start + 300000000ull, next = start + period_ns;
    timer_arm(&l, &tick, next);
    while (clock_now_ns() < end) {
        assert_int_equal(loop_run_once(&l, end), 0);
        if (!timer_armed(&tick)) {
            next += period_ns;
            timer_arm(&l, &tick, next);
        }
    }
    uint64_t wall = clock_now_ns() - start;
    assert_true(fired >= 100);
    assert_true(l.wake_samples > 0);
    /* Budget: 25 % of the wall time, plus the bucket's cap and one spin of slack. */
    assert_true((double)l.spin_total_ns <= 0.25 * (double)wall + LOOP_SPIN_CREDIT_MAX_NS + 1000000);
    loop_release(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_estimate_is_p90),
        cmocka_unit_test(test_budget_limits_spin),
        cmocka_unit_test(test_real_loop_within_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

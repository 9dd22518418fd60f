/*
 * test_body_budget.c — the kept-body budget's accounting (src/load/body_budget.c):
 * immediate grants, FIFO waits without overtaking, cancels anywhere in the
 * queue, the wait statistics, and a random differential run against a
 * naive model (an array scanned in order) that checks used <= cap after
 * every step.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "load/body_budget.h"
#include "target/rng.h"

static void test_grants_at_once(void **state)
{
    (void)state;
    struct body_budget b;
    struct budget_waiter w[3] = {0};
    body_budget_init(&b, 100);
    assert_true(body_budget_reserve(&b, &w[0], 60, 10));
    assert_true(body_budget_reserve(&b, &w[1], 40, 11)); /* exactly full */
    assert_int_equal(b.used, 100);
    assert_int_equal(b.peak, 100);
    assert_false(w[0].queued || w[1].queued);
    body_budget_release(&b, 60);
    assert_int_equal(b.used, 40);
    assert_true(body_budget_reserve(&b, &w[2], 0, 12)); /* nothing to keep: never waits */
    assert_null(body_budget_grant(&b, 13));             /* nobody waits */
    assert_int_equal(b.waits, 0);
    assert_int_equal(b.peak, 100);
}

static void test_fifo_without_overtaking(void **state)
{
    (void)state;
    struct body_budget b;
    struct budget_waiter a = {0}, big = {0}, small = {0}, late = {0};
    body_budget_init(&b, 100);
    assert_true(body_budget_reserve(&b, &a, 80, 0));
    assert_false(body_budget_reserve(&b, &big, 50, 1000));
    /* 10 bytes would fit, but big waits first: small must not overtake it. */
    assert_false(body_budget_reserve(&b, &small, 10, 2000));
    assert_true(big.queued && small.queued);
    assert_int_equal(b.waits, 2);
    assert_null(body_budget_grant(&b, 3000)); /* 80 + 50 > 100 */
    body_budget_release(&b, 80);
    assert_ptr_equal(body_budget_grant(&b, 5000), &big);
    assert_ptr_equal(body_budget_grant(&b, 5000), &small);
    assert_null(body_budget_grant(&b, 5000));
    assert_int_equal(b.used, 60);
    assert_false(big.queued || small.queued);
    assert_int_equal(b.wait_ns_total, 4000 + 3000);
    assert_int_equal(b.wait_ns_max, 4000);
    /* The queue is empty again: a reservation that fits is granted at once. */
    assert_true(body_budget_reserve(&b, &late, 40, 6000));
    assert_int_equal(b.used, 100);
    assert_int_equal(b.peak, 100);
}

/* h2 streams take room or go without: never queued, never ahead of a waiter, and each refusal counted. */
static void test_take_never_waits(void **state)
{
    (void)state;
    struct body_budget b;
    struct budget_waiter w = {0};
    body_budget_init(&b, 100);
    assert_true(body_budget_take(&b, 70));
    assert_false(body_budget_take(&b, 40)); /* does not fit */
    assert_true(body_budget_take(&b, 30));  /* exactly full */
    assert_int_equal(b.used, 100);
    assert_int_equal(b.peak, 100);
    body_budget_release(&b, 70);
    assert_false(body_budget_reserve(&b, &w, 80, 0)); /* an HTTP/1.1 response waits */
    assert_false(body_budget_take(&b, 10));           /* fits, but does not overtake the waiter */
    assert_int_equal(b.not_kept, 2);
    assert_int_equal(b.waits, 1);
    assert_null(b.head->next);
}

static void test_cancel_anywhere(void **state)
{
    (void)state;
    struct body_budget b;
    struct budget_waiter hold = {0}, w[4] = {0};
    body_budget_init(&b, 10);
    assert_true(body_budget_reserve(&b, &hold, 10, 0));
    for (int i = 0; i < 4; i++)
        assert_false(body_budget_reserve(&b, &w[i], 5, 100 * (uint64_t)i));
    body_budget_cancel(&b, &w[1], 1000); /* middle */
    body_budget_cancel(&b, &w[0], 1000); /* head */
    body_budget_cancel(&b, &w[3], 1000); /* tail */
    body_budget_cancel(&b, &w[3], 2000); /* not queued any more: nothing happens */
    assert_false(w[0].queued || w[1].queued || w[3].queued);
    assert_true(w[2].queued);
    assert_int_equal(b.wait_ns_total, 900 + 1000 + 700);
    assert_int_equal(b.wait_ns_max, 1000);
    body_budget_release(&b, 10);
    assert_ptr_equal(body_budget_grant(&b, 1200), &w[2]);
    assert_null(body_budget_grant(&b, 1200));
    assert_null(b.head);
    assert_null(b.tail);
    /* The tail was cancelled: a new waiter still goes behind the right one. */
    struct budget_waiter x = {0}, y = {0};
    assert_false(body_budget_reserve(&b, &x, 10, 1300));
    assert_false(body_budget_reserve(&b, &y, 1, 1300));
    body_budget_cancel(&b, &y, 1400);
    body_budget_release(&b, 5);
    assert_ptr_equal(body_budget_grant(&b, 1500), &x);
    assert_int_equal(b.used, 10);
    assert_int_equal(b.waits, 4 + 2);
}

static void test_need_above_cap_is_cut(void **state)
{
    (void)state;
    struct body_budget b;
    struct budget_waiter w = {0};
    body_budget_init(&b, 64);
    assert_true(body_budget_reserve(&b, &w, 1000, 0));
    assert_int_equal(w.need, 64);
    assert_int_equal(b.used, 64);
    body_budget_release(&b, w.need);
    body_budget_release(&b, 5); /* more than is held never wraps */
    assert_int_equal(b.used, 0);
}

/* Random reserve/release/cancel/grant steps against a naive model. */
static void test_against_a_model(void **state)
{
    (void)state;
    enum { N = 32, CAP = 1000 };
    struct body_budget b;
    struct budget_waiter w[N];
    size_t held[N];  /* model: bytes each waiter holds */
    int order[4096]; /* model: the queue, in arrival order */
    size_t qlen = 0;
    struct rng rng;
    rng_init(&rng, 7);
    memset(w, 0, sizeof(w));
    memset(held, 0, sizeof(held));
    body_budget_init(&b, CAP);
    uint64_t now = 0, waits = 0;
    for (int step = 0; step < 200000; step++) {
        now += rng_next(&rng) % 100;
        int i = (int)(rng_next(&rng) % N);
        uint64_t op = rng_next(&rng) % 4;
        if (op == 0 && !w[i].queued && !held[i]) {
            size_t need = rng_next(&rng) % 400;
            size_t used = 0;
            for (int k = 0; k < N; k++)
                used += held[k];
            bool fits = qlen == 0 && used + need <= CAP;
            assert_int_equal(body_budget_reserve(&b, &w[i], need, now), fits);
            if (fits)
                held[i] = need;
            else
                order[qlen++] = i, waits++;
        } else if (op == 1 && held[i]) {
            body_budget_release(&b, held[i]);
            held[i] = 0;
        } else if (op == 2 && w[i].queued) {
            body_budget_cancel(&b, &w[i], now);
            size_t k = 0;
            while (order[k] != i)
                k++;
            memmove(order + k, order + k + 1, (qlen - k - 1) * sizeof(order[0]));
            qlen--;
        } else if (op == 3) {
            struct budget_waiter *g;
            while ((g = body_budget_grant(&b, now))) {
                assert_true(qlen > 0);
                assert_ptr_equal(g, &w[order[0]]); /* oldest first */
                held[order[0]] = g->need;
                memmove(order, order + 1, (qlen - 1) * sizeof(order[0]));
                qlen--;
            }
        }
        size_t used = 0;
        for (int k = 0; k < N; k++)
            used += held[k];
        assert_int_equal(b.used, used);
        assert_true(b.used <= CAP && b.peak <= CAP && b.peak >= b.used);
        assert_int_equal(b.waits, waits);
        assert_true(qlen < sizeof(order) / sizeof(order[0]));
    }
    assert_true(waits > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grants_at_once),  cmocka_unit_test(test_fifo_without_overtaking),
        cmocka_unit_test(test_take_never_waits),
        cmocka_unit_test(test_cancel_anywhere), cmocka_unit_test(test_need_above_cap_is_cut),
        cmocka_unit_test(test_against_a_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

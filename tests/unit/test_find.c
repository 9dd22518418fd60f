/*
 * test_find.c — the rate search of `salvo find` on a simulated service
 * (a step passes when its rate is at most the capacity, and is invalid
 * above the generator's limit), and the trend statistic on synthetic
 * in-flight series.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "load/find.h"

/* Runs a search against a service of capacity cap and a generator limited to gen; returns the steps. */
static int simulate(struct find_search *s, double from, double max, double cap, double gen, int confirm_fails)
{
    assert_int_equal(find_init(s, from, max, 0.05), 0);
    double rate;
    bool confirm;
    int guard = 0;
    while (find_next(s, &rate, &confirm) && guard++ < 100) {
        enum find_verdict v = rate > gen ? FIND_INVALID : rate <= cap ? FIND_PASS : FIND_FAIL;
        /* A service that passes short steps near its capacity but queues up when held longer. */
        if (confirm && v == FIND_PASS && confirm_fails > 0) confirm_fails--, v = FIND_FAIL;
        find_record(s, v);
    }
    assert_true(guard < 100);
    return s->steps;
}

static void budget_over_capacities(void **state)
{
    (void)state;
    int worst = 0;
    for (double cap = 100; cap <= 100000 * 1.0001; cap *= 1.07) {
        struct find_search s;
        int steps = simulate(&s, 100, 1e9, cap, INFINITY, 0);
        if (steps > worst) worst = steps;
        assert_int_equal(s.stop, FIND_STOP_FOUND);
        assert_true(s.capacity <= cap);
        assert_true(s.capacity >= cap / 1.05);
        assert_true(s.hi > cap && s.hi <= s.capacity * 1.05 + 1e-9);
    }
    /* Also the edges exactly. */
    struct find_search s;
    int a = simulate(&s, 100, 1e9, 100, INFINITY, 0), b = simulate(&s, 100, 1e9, 100000, INFINITY, 0);
    if (a > worst) worst = a;
    if (b > worst) worst = b;
    assert_true(worst <= 12);
}

/* A knee anywhere from a third to three times the capacity: found to 5 %, within 9 steps after the ramp. */
static void seeded_by_a_knee(void **state)
{
    (void)state;
    int worst = 0;
    for (double cap = 150; cap <= 50000; cap *= 1.37)
        for (double knee = cap / 3; knee <= cap * 3; knee *= 1.5) {
            struct find_search s;
            assert_int_equal(find_init(&s, 100, 1e9, 0.05), 0);
            find_seed(&s, knee);
            double rate;
            bool confirm;
            int guard = 0;
            while (find_next(&s, &rate, &confirm) && guard++ < 100)
                find_record(&s, rate <= cap ? FIND_PASS : FIND_FAIL);
            assert_int_equal(s.stop, FIND_STOP_FOUND);
            assert_true(s.capacity <= cap && s.capacity >= cap / 1.05);
            if (s.steps > worst) worst = s.steps;
        }
    print_message("worst steps after a knee: %d\n", worst);
    assert_true(worst <= 9);
    /* A knee above a service that fails even at --from: down to --from, then the lowest rate fails. */
    struct find_search s;
    assert_int_equal(find_init(&s, 100, 1e9, 0.05), 0);
    find_seed(&s, 1000);
    double rate;
    bool confirm;
    while (find_next(&s, &rate, &confirm))
        find_record(&s, FIND_FAIL);
    assert_int_equal(s.stop, FIND_STOP_LOWEST_FAILS);
    assert_int_equal(s.steps, 5); /* 1000, 500, 250, 125, 100 */
}

static void lowest_rate_fails(void **state)
{
    (void)state;
    struct find_search s;
    assert_int_equal(simulate(&s, 100, 1e6, 50, INFINITY, 0), 1);
    assert_int_equal(s.stop, FIND_STOP_LOWEST_FAILS);
}

static void generator_is_the_limit(void **state)
{
    (void)state;
    struct find_search s;
    simulate(&s, 100, 1e9, 1e6, 30000, 0);
    assert_int_equal(s.stop, FIND_STOP_GENERATOR);
    assert_true(s.hi_invalid);
    assert_true(s.hi > 30000 && s.lo <= 30000);
    assert_true(s.capacity == 0);
    /* The generator failing below a service failure: no capacity, the gap between the two is reported. */
    assert_int_equal(find_init(&s, 100, 1e9, 0.05), 0);
    double rate;
    bool confirm;
    while (find_next(&s, &rate, &confirm))
        find_record(&s, rate >= 3000 ? FIND_FAIL : rate > 1700 ? FIND_INVALID : FIND_PASS);
    assert_int_equal(s.stop, FIND_STOP_GENERATOR_GAP);
    assert_true(s.fail >= 3000 && s.lo <= 1700 && s.capacity == 0);
    /* A service failure below the generator's limit is a real answer. */
    simulate(&s, 100, 1e9, 5000, 30000, 0);
    assert_int_equal(s.stop, FIND_STOP_FOUND);
    assert_true(s.capacity <= 5000 && s.capacity >= 5000 / 1.05);
}

static void confirmation_steps_down(void **state)
{
    (void)state;
    struct find_search s;
    simulate(&s, 100, 1e9, 2000, INFINITY, 1);
    assert_int_equal(s.stop, FIND_STOP_FOUND);
    assert_true(s.capacity < 2000 / 1.05 && s.capacity >= 2000 / 1.05 / 1.05 - 1e-9);
    simulate(&s, 100, 1e9, 2000, INFINITY, FIND_MAX_CONFIRMS);
    assert_int_equal(s.stop, FIND_STOP_CONFIRM_FAILS);
}

static void max_caps_the_search(void **state)
{
    (void)state;
    struct find_search s;
    simulate(&s, 100, 1000, 1e6, INFINITY, 0);
    assert_int_equal(s.stop, FIND_STOP_MAX);
    assert_true(s.capacity == 1000);
    assert_int_equal(find_init(&s, 1000, 100, 0.05), -EINVAL);
    assert_int_equal(find_init(&s, 0, 100, 0.05), -EINVAL);
}

static void trend_flat_noisy_is_not_growing(void **state)
{
    (void)state;
    double y[18];
    /* Steady in-flight around 4 with a deterministic wobble. */
    for (int i = 0; i < 18; i++)
        y[i] = 4 + ((i * 7) % 5) - 2;
    struct find_trend t;
    find_trend(y, 18, 1.0, &t);
    assert_false(t.growing);
    assert_true(fabs(t.mean - 4) < 1);
    /* Idle: all zero. */
    for (int i = 0; i < 18; i++)
        y[i] = 0;
    find_trend(y, 18, 1.0, &t);
    assert_false(t.growing);
}

static void trend_queue_building_is_growing(void **state)
{
    (void)state;
    double y[18];
    /* 2 % over capacity at 2000/s: 40 more requests queue every second. */
    for (int i = 0; i < 18; i++)
        y[i] = 4 + 40.0 * i + ((i * 7) % 5) - 2;
    struct find_trend t;
    find_trend(y, 18, 1.0, &t);
    assert_true(t.growing);
    assert_true(fabs(t.slope_per_s - 40) < 2);
    /* A slope that is significant but small next to the mean (< 5 % per 10 s) is not a queue. */
    for (int i = 0; i < 18; i++)
        y[i] = 1000 + 0.2 * i;
    find_trend(y, 18, 1.0, &t);
    assert_false(t.growing);
    /* Falling in-flight (draining after a burst) is not growing. */
    for (int i = 0; i < 18; i++)
        y[i] = 100 - 5.0 * i;
    find_trend(y, 18, 1.0, &t);
    assert_false(t.growing);
}

static void trend_three_points_need_a_huge_t(void **state)
{
    (void)state;
    /* Three seconds of a short step: a steal burst leaves 10, 16, 23 in flight. Its t (about 40) has one
     * degree of freedom, far from significant; a clean 40/s rise over 15 points is. */
    double y[15] = {10, 16, 23};
    struct find_trend t;
    find_trend(y, 3, 1.0, &t);
    assert_true(t.t > 3.0);
    assert_false(t.growing);
    for (int i = 0; i < 15; i++)
        y[i] = 4 + 40.0 * i + ((i * 7) % 5) - 2;
    find_trend(y, 15, 1.0, &t);
    assert_true(t.growing);
    /* The bar falls towards the normal 3 as the points grow, never below it. */
    assert_true(find_t_critical(0) == INFINITY);
    assert_true(fabs(find_t_critical(1) - 235.8) < 0.1);
    assert_true(fabs(find_t_critical(13) - 3.69) < 0.01);
    for (size_t d = 1; d < 200; d++)
        assert_true(find_t_critical(d) >= find_t_critical(d + 1) && find_t_critical(d + 1) > 3.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(budget_over_capacities),
        cmocka_unit_test(seeded_by_a_knee),
        cmocka_unit_test(lowest_rate_fails),
        cmocka_unit_test(generator_is_the_limit),
        cmocka_unit_test(confirmation_steps_down),
        cmocka_unit_test(max_caps_the_search),
        cmocka_unit_test(trend_flat_noisy_is_not_growing),
        cmocka_unit_test(trend_queue_building_is_growing),
        cmocka_unit_test(trend_three_points_need_a_huge_t),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

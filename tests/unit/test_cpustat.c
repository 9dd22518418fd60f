/*
 * test_cpustat.c — /proc/stat parsing and the machine's CPU shares.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sys/cpustat.h"

static void test_parse_full_line(void **state)
{
    (void)state;
    struct cpu_times t;
    assert_int_equal(cpu_times_parse("cpu  10 2 30 400 5 6 7 80 9 1\ncpu0 1 2 3 4\n", &t), 0);
    assert_true(t.ok);
    assert_int_equal(t.user, 10);
    assert_int_equal(t.nice, 2);
    assert_int_equal(t.system, 30);
    assert_int_equal(t.idle, 400);
    assert_int_equal(t.iowait, 5);
    assert_int_equal(t.irq, 6);
    assert_int_equal(t.softirq, 7);
    assert_int_equal(t.steal, 80);
}

static void test_parse_rejects(void **state)
{
    (void)state;
    struct cpu_times t;
    assert_int_equal(cpu_times_parse("cpu0 1 2 3 4\n", &t), -EINVAL);
    assert_false(t.ok);
    assert_int_equal(cpu_times_parse("cpu  1 2\n", &t), -EINVAL);
    assert_false(t.ok);
    assert_int_equal(cpu_times_parse("", &t), -EINVAL);
}

static void test_share(void **state)
{
    (void)state;
    struct cpu_times b = {.ok = true, .user = 100, .system = 50, .idle = 1000, .softirq = 10, .steal = 5};
    /* +30 user, +10 system, +40 idle, +10 softirq, +10 steal: 100 ticks in all. */
    struct cpu_times a = {.ok = true, .user = 130, .system = 60, .idle = 1040, .softirq = 20, .steal = 15};
    struct cpu_share s = cpu_times_share(&b, &a);
    assert_true(s.ok);
    assert_float_equal(s.busy_pct, 50.0, 1e-9);
    assert_float_equal(s.softirq_pct, 10.0, 1e-9);
    assert_float_equal(s.steal_pct, 10.0, 1e-9);
    assert_float_equal(s.iowait_pct, 0.0, 1e-9);
}

/* The ticks missed salvo's short bursts: its precise CPU time replaces its
 * tick-sampled share, so the machine is never less busy than salvo itself. */
static void test_share_counts_own_cpu_precisely(void **state)
{
    (void)state;
    /* 2 s on 2 CPUs at 100 ticks/s: 400 ticks; the ticks saw 2 busy, 1 of them ours. */
    struct cpu_times b = {.ok = true, .user = 100, .idle = 1000, .self_ticks = 5, .self_cpu_ns = 0, .ticks_per_s = 100};
    struct cpu_times a = {
        .ok = true, .user = 102, .idle = 1398, .self_ticks = 6, .self_cpu_ns = 260000000, .ticks_per_s = 100};
    struct cpu_share s = cpu_times_share(&b, &a);
    assert_true(s.ok);
    /* 0.26 s of our CPU = 26 ticks, plus the 1 tick of others: 27 of 400. */
    assert_float_equal(s.busy_pct, 100.0 * 27 / 400, 1e-9);
    /* Without the self figures the tick-sampled share stays as it was. */
    b.ticks_per_s = a.ticks_per_s = 0;
    assert_float_equal(cpu_times_share(&b, &a).busy_pct, 100.0 * 2 / 400, 1e-9);
    /* Our precise time can never push busy above all that was not stolen. */
    b.ticks_per_s = a.ticks_per_s = 100;
    a.self_cpu_ns = 10 * 1000000000ull;
    assert_float_equal(cpu_times_share(&b, &a).busy_pct, 100.0, 1e-9);
}

static void test_share_degenerate(void **state)
{
    (void)state;
    struct cpu_times b = {.ok = true, .idle = 10}, bad = {0};
    assert_false(cpu_times_share(&b, &b).ok);                    /* no time passed */
    assert_false(cpu_times_share(&bad, &b).ok);                  /* a failed reading */
    struct cpu_times back = {.ok = true, .idle = 5, .user = 20}; /* idle stepped back: counted as 0 */
    struct cpu_share s = cpu_times_share(&b, &back);
    assert_true(s.ok);
    assert_float_equal(s.busy_pct, 100.0, 1e-9);
}

static void test_read_this_machine(void **state)
{
    (void)state;
    struct cpu_times t;
    assert_int_equal(cpu_times_read(&t), 0);
    assert_true(t.ok);
    assert_true(t.user + t.system + t.idle > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_full_line),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_share),
        cmocka_unit_test(test_share_counts_own_cpu_precisely),
        cmocka_unit_test(test_share_degenerate),
        cmocka_unit_test(test_read_this_machine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_find_judge.c — how one step of `salvo find` is judged when its run
 * was invalid: late sends or late reads (rules 1 and 3) only add to every
 * latency, so a step that passes its SLOs with them counted is a pass;
 * one that fails is an upper bound; a step that could not send its rate
 * (rules 2 and 4) is an upper bound whatever its latencies were.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "report/find_judge.h"

/* A 4 s step at 100/s whose every second completed 100 requests with the latency lat_us, in-flight flat. */
static void fill(struct find_window *w, int64_t lat_us)
{
    assert_int_equal(find_window_init(w, 4), 0);
    for (uint32_t t = 0; t < 4; t++) {
        struct interval iv;
        memset(&iv, 0, sizeof(iv));
        assert_int_equal(hist_init(&iv.latency, HIST_STD_LOWEST, HIST_STD_HIGHEST, HIST_STD_SIGFIG), 0);
        for (int i = 0; i < 100; i++)
            hist_record(&iv.latency, lat_us);
        iv.sent = iv.done = 100;
        iv.inflight = 1;
        find_window_second(w, t, &iv);
        hist_release(&iv.latency);
    }
}

/* The step's results: valid, or invalid by the given rule names. */
static json_t *step_of(const char *rule1, const char *rule2)
{
    json_t *s = json_pack("{s:b, s:[s], s:[]}", "valid", rule1 == NULL, "invalid_reasons",
                          "generator fell behind its schedule: 9 of 300 arrivals (3%) left more than 1.0 ms late",
                          "invalid_rules");
    if (rule1) json_array_append_new(json_object_get(s, "invalid_rules"), json_string(rule1));
    if (rule2) json_array_append_new(json_object_get(s, "invalid_rules"), json_string(rule2));
    return s;
}

static enum find_verdict judge(const char *slo_text, int64_t lat_us, json_t *step, char *why, size_t cap)
{
    struct threshold slo;
    const char *err = NULL;
    assert_int_equal(threshold_parse(&slo, slo_text, &err), 0);
    struct find_window w;
    fill(&w, lat_us);
    enum find_verdict v = find_judge(&slo, 1, step, &w, 100, why, cap);
    find_window_release(&w);
    return v;
}

static void late_sends_that_still_pass_are_a_pass(void **state)
{
    (void)state;
    char why[600];
    json_t *step = step_of("late_sends", NULL);
    assert_int_equal(judge("latency.p99 < 50ms", 3000, step, why, sizeof(why)), FIND_PASS);
    assert_non_null(strstr(why, "lateness"));
    json_t *f = json_object_get(step, "find");
    assert_true(json_is_true(json_object_get(f, "despite_lateness")));
    assert_string_equal(json_string_value(json_object_get(f, "verdict")), "pass");
    json_decref(step);
    /* Late reads (a worker waiting for a CPU) with late sends: the same. */
    step = step_of("late_sends", "overloaded");
    assert_int_equal(judge("latency.p99 < 50ms", 3000, step, why, sizeof(why)), FIND_PASS);
    json_decref(step);
}

static void late_sends_that_fail_are_an_upper_bound(void **state)
{
    (void)state;
    char why[600];
    json_t *step = step_of("late_sends", NULL);
    assert_int_equal(judge("latency.p99 < 50ms", 80000, step, why, sizeof(why)), FIND_INVALID);
    assert_non_null(strstr(why, "generator invalid"));
    assert_true(json_is_false(json_object_get(json_object_get(step, "find"), "despite_lateness")));
    json_decref(step);
}

static void a_rate_not_sent_is_never_a_pass(void **state)
{
    (void)state;
    char why[600];
    const char *rules[] = {"saturated", "overwhelmed"};
    for (int i = 0; i < 2; i++) {
        json_t *step = step_of(rules[i], NULL);
        assert_int_equal(judge("latency.p99 < 50ms", 3000, step, why, sizeof(why)), FIND_INVALID);
        json_decref(step);
        step = step_of("late_sends", rules[i]);
        assert_int_equal(judge("latency.p99 < 50ms", 3000, step, why, sizeof(why)), FIND_INVALID);
        json_decref(step);
    }
    /* A result without invalid_rules (written before they existed) is not known to be lateness only. */
    json_t *step = step_of("late_sends", NULL);
    json_object_del(step, "invalid_rules");
    assert_int_equal(judge("latency.p99 < 50ms", 3000, step, why, sizeof(why)), FIND_INVALID);
    json_decref(step);
}

static void a_valid_step_is_judged_as_before(void **state)
{
    (void)state;
    char why[600];
    json_t *step = step_of(NULL, NULL);
    assert_int_equal(judge("latency.p99 < 50ms", 3000, step, why, sizeof(why)), FIND_PASS);
    assert_string_equal(why, "");
    assert_int_equal(judge("latency.p99 < 2ms", 3000, step, why, sizeof(why)), FIND_FAIL);
    assert_non_null(strstr(why, "latency.p99 < 2ms"));
    json_decref(step);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(late_sends_that_still_pass_are_a_pass),
        cmocka_unit_test(late_sends_that_fail_are_an_upper_bound),
        cmocka_unit_test(a_rate_not_sent_is_never_a_pass),
        cmocka_unit_test(a_valid_step_is_judged_as_before),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

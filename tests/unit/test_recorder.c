/*
 * test_recorder.c — per-worker measurements: which counter and histogram
 * each kind of ending lands in, per name, per chaos window, added across
 * workers, and the per-second intervals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdbool.h>

#include "load/recorder.h"

#define US 1000ull /* ns */

/* One request's ending: a response (status > 0), a failure (err) or a timeout. */
struct event {
    char kind; /* 'r' response, 'f' failure, 't' timeout */
    uint32_t group;
    int status;
    enum salvo_err err;
    uint64_t intended_us, send_us, first_us, done_us;
};

static void apply(struct recorder *r, const struct event *e, uint64_t timeout_ns)
{
    if (e->kind == 'r')
        recorder_response(r, e->group, e->status, e->intended_us * US, e->send_us * US, e->first_us * US,
                          e->done_us * US);
    else if (e->kind == 'f')
        recorder_failure(r, e->group, e->err, e->intended_us * US);
    else
        recorder_timeout(r, e->group, timeout_ns, e->intended_us * US);
}

static const struct event events[] = {
    /* group 0: two ok responses (one waited 100 us for a connection), one 503 */
    {'r', 0, 200, 0, 1000, 1000, 1300, 1500},
    {'r', 0, 204, 0, 2000, 2100, 2400, 2700},
    {'r', 0, 503, 0, 3000, 3000, 3010, 3020},
    /* group 1: a reset, a parse error, a timeout; a redirect is ok */
    {'f', 1, 0, ERR_CONN_RESET, 4000, 0, 0, 0},
    {'f', 1, 0, ERR_PARSE, 5000, 0, 0, 0},
    {'t', 1, 0, 0, 6000, 0, 0, 0},
    {'r', 1, 301, 0, 7000, 7000, 7100, 7200},
    /* out-of-range group and error kind fold into group 0 and connect_error */
    {'f', 99, 0, ERR_COUNT + 5, 8000, 0, 0, 0},
    /* a clock that went backwards records 0, not a huge value */
    {'r', 0, 200, 0, 9000, 9000, 8990, 8900},
};

#define TIMEOUT_NS (1500 * US)

static void record_all(struct recorder *r)
{
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++)
        apply(r, &events[i], TIMEOUT_NS);
}

static void check_totals(const struct recorder *r, uint64_t times)
{
    assert_int_equal(r->ok, 4 * times);
    assert_int_equal(r->http_error, 1 * times);
    assert_int_equal(r->failed, 3 * times);
    assert_int_equal(r->timeout, 1 * times);
    assert_int_equal(r->status[200], 2 * times);
    assert_int_equal(r->status[204], times);
    assert_int_equal(r->status[301], times);
    assert_int_equal(r->status[503], times);
    assert_int_equal(r->errors[ERR_CONN_RESET], times);
    assert_int_equal(r->errors[ERR_PARSE], times);
    assert_int_equal(r->errors[ERR_CONNECT_OTHER], times);
    assert_int_equal(r->errors[ERR_TIMEOUT], times);
    /* latency: every response and the timeout (at the timeout value); failures have none */
    assert_int_equal(r->latency.total_count, 6 * times);
    assert_int_equal(r->service.total_count, 5 * times);
    assert_int_equal(hist_max(&r->latency), 1500); /* the timeout, as a lower bound */
    assert_int_equal(hist_min(&r->latency), 0);    /* the backwards clock */
    assert_int_equal(hist_max(&r->wait), 100);
    assert_int_equal(hist_max(&r->ttfb), 300);
    assert_int_equal(hist_max(&r->service), 600);
}

struct group_want {
    uint64_t requests, ok, http_error, failed, timeout, latency_count;
};

static void test_outcomes(void **state)
{
    static const struct group_want want[2] = {
        {5, 3, 1, 1, 0, 4}, /* incl. the folded group 99 failure */
        {4, 1, 0, 2, 1, 2},
    };
    struct recorder r;
    (void)state;
    assert_int_equal(recorder_init(&r, 2), 0);
    record_all(&r);
    check_totals(&r, 1);
    for (int g = 0; g < 2; g++) {
        const struct group_rec *gr = &r.groups[g];
        const struct group_want *w = &want[g];
        if (gr->requests != w->requests || gr->ok != w->ok || gr->http_error != w->http_error ||
            gr->failed != w->failed || gr->timeout != w->timeout ||
            (uint64_t)gr->latency.total_count != w->latency_count)
            fail_msg("group %d: %llu req %llu ok %llu http %llu failed %llu timeout %lld lat", g,
                     (unsigned long long)gr->requests, (unsigned long long)gr->ok, (unsigned long long)gr->http_error,
                     (unsigned long long)gr->failed, (unsigned long long)gr->timeout,
                     (long long)gr->latency.total_count);
        assert_int_equal(gr->requests, gr->ok + gr->http_error + gr->failed + gr->timeout);
    }
    assert_non_null(r.groups[1].status);
    assert_int_equal(r.groups[1].status[301], 1);
    recorder_release(&r);
    recorder_release(NULL);
}

/* Windows count requests by intended time, [from, to), relative to the run start. */
static void test_windows(void **state)
{
    static const uint64_t spans[][2] = {
        {0, 3500 * US},         /* the first three responses */
        {3500 * US, 6500 * US}, /* reset, parse error, timeout */
        {0, 100000 * US},       /* everything */
        {9000 * US, 9000 * US}, /* empty: to is exclusive */
    };
    static const uint64_t want_requests[] = {3, 3, 9, 0}, want_errors[] = {1, 3, 5, 0}, want_lat[] = {3, 1, 6, 0};
    struct recorder r;
    (void)state;
    assert_int_equal(recorder_init(&r, 2), 0);
    recorder_windows(&r, 0, spans, 4);
    record_all(&r);
    for (int i = 0; i < 4; i++) {
        if (r.windows[i].requests != want_requests[i] || r.windows[i].errors != want_errors[i] ||
            (uint64_t)r.windows[i].latency.total_count != want_lat[i])
            fail_msg("window %d: %llu requests %llu errors %lld latencies", i,
                     (unsigned long long)r.windows[i].requests, (unsigned long long)r.windows[i].errors,
                     (long long)r.windows[i].latency.total_count);
    }
    recorder_release(&r);
}

/* Adding workers sums every counter, histogram, group and window. */
static void test_add(void **state)
{
    static const uint64_t spans[][2] = {{0, 100000 * US}};
    struct recorder a, b, sum;
    (void)state;
    assert_int_equal(recorder_init(&a, 2), 0);
    assert_int_equal(recorder_init(&b, 2), 0);
    assert_int_equal(recorder_init(&sum, 2), 0);
    recorder_windows(&a, 0, spans, 1);
    recorder_windows(&b, 0, spans, 1);
    recorder_windows(&sum, 0, spans, 1);
    record_all(&a);
    record_all(&b);
    a.scheduled = 9, b.scheduled = 10, a.unsent = 0, b.unsent = 1;
    recorder_add(&sum, &a);
    recorder_add(&sum, &b);
    check_totals(&sum, 2);
    assert_int_equal(sum.scheduled, 19);
    assert_int_equal(sum.unsent, 1);
    assert_int_equal(sum.groups[0].requests, 10);
    assert_int_equal(sum.groups[1].timeout, 2);
    assert_int_equal(sum.groups[0].status[200], 4);
    assert_int_equal(sum.windows[0].requests, 18);
    recorder_release(&a);
    recorder_release(&b);
    recorder_release(&sum);
}

/* Service time per name: only names that answered get a histogram (2 digits); add and reset keep it per name. */
static void test_interval_service_per_name(void **state)
{
    (void)state;
    struct interval iv, total;
    assert_int_equal(interval_init(&iv, 3), 0);
    assert_int_equal(interval_init(&total, 3), 0);
    for (uint32_t round = 0; round < 2; round++) {
        for (int i = 0; i < 100; i++)
            interval_service(&iv, 1, 2000 + i); /* 2.000 .. 2.099 ms */
        interval_service(&iv, 2, 50000);
        assert_int_equal(iv.service.total_count, 101);
        assert_null(interval_group_service(&iv, 0)); /* no answer: no histogram */
        assert_null(interval_group_service(&iv, 7));
        const struct hist *h = interval_group_service(&iv, 1);
        assert_non_null(h);
        assert_int_equal(h->significant_figures, REC_NAME_SVC_SIGFIG);
        assert_int_equal(h->total_count, 100);
        int64_t p50 = hist_value_at_percentile(h, 50);
        assert_true(p50 >= 2049 && p50 <= 2049 * 1.01); /* the 50th value, 2049, within one 2-digit bucket (< 1 %) */
        assert_int_equal(interval_group_service(&iv, 2)->total_count, 1);
        interval_add(&total, &iv);
        interval_reset(&iv);
        assert_int_equal(interval_group_service(&iv, 1)->total_count, 0);
    }
    assert_null(interval_group_service(&total, 0));
    assert_int_equal(interval_group_service(&total, 1)->total_count, 200);
    assert_int_equal(interval_group_service(&total, 2)->total_count, 2);
    assert_int_equal(total.service.total_count, 202);
    interval_release(&iv);
    interval_release(&total);

    struct interval one;
    assert_int_equal(interval_init(&one, 1), 0);
    interval_service(&one, 0, 300);
    assert_ptr_equal(interval_group_service(&one, 0), &one.service); /* one name: the interval's */
    interval_release(&one);
}

/* Intervals: one name uses the interval's histogram, several get their own, reset keeps them. */
static void test_intervals(void **state)
{
    static const uint32_t names[] = {1, 3};
    (void)state;
    for (size_t c = 0; c < 2; c++) {
        struct interval iv, total;
        uint32_t n = names[c];
        assert_int_equal(interval_init(&iv, n), 0);
        assert_int_equal(interval_init(&total, n), 0);
        for (uint32_t round = 0; round < 2; round++) {
            for (uint32_t g = 0; g < n; g++) {
                interval_sent(&iv, g);
                interval_done(&iv, g, 100 + g, false);
            }
            interval_sent(&iv, n + 7);           /* out of range: counts as the first */
            interval_done(&iv, n + 7, -1, true); /* an ending with no latency */
            iv.lag_max_us = 50 + round;
            assert_int_equal(iv.sent, n + 1);
            assert_int_equal(iv.done, n + 1);
            assert_int_equal(iv.errors, 1);
            assert_int_equal(iv.latency.total_count, n);
            assert_int_equal(iv.groups[0].done, 2);
            for (uint32_t g = 0; g < n; g++) {
                const struct hist *h = interval_group_latency(&iv, g);
                assert_non_null(h);
                assert_int_equal(hist_max(h), n == 1 ? 100 : 100 + g);
            }
            assert_true(n == 1 || interval_group_latency(&iv, n) == NULL);
            interval_add(&total, &iv);
            interval_reset(&iv);
            assert_int_equal(iv.sent + iv.done + iv.errors + iv.lag_max_us, 0);
            assert_int_equal(iv.latency.total_count, 0);
        }
        assert_int_equal(total.sent, 2 * (n + 1));
        assert_int_equal(total.errors, 2);
        assert_int_equal(total.lag_max_us, 51); /* the worst, not the sum */
        assert_int_equal(total.latency.total_count, 2 * n);
        if (n > 1) assert_int_equal(interval_group_latency(&total, 2)->total_count, 2);
        interval_release(&iv);
        interval_release(&total);
    }
    interval_release(NULL);
}

/* A failed check turns a status < 400 into check_failed, never a 4xx/5xx; verdicts are counted and added. */
static void test_check_failed(void **state)
{
    (void)state;
    struct recorder r, sum;
    assert_int_equal(recorder_init(&r, 2), 0);
    assert_int_equal(recorder_init(&sum, 2), 0);
    recorder_response_checked(&r, 1, 200, true, 1000 * US, 1000 * US, 1100 * US, 1200 * US);
    recorder_response_checked(&r, 1, 500, true, 2000 * US, 2000 * US, 2100 * US, 2200 * US);
    recorder_response_checked(&r, 1, 200, false, 3000 * US, 3000 * US, 3100 * US, 3200 * US);
    recorder_check(&r, 0, CHECK_PASS);
    recorder_check(&r, 0, CHECK_FAIL);
    recorder_check(&r, 1, CHECK_BODY_TOO_LARGE);
    recorder_check(&r, CHECK_MAX + 3, CHECK_FAIL); /* out of range: ignored */
    assert_int_equal(r.ok, 1);
    assert_int_equal(r.check_failed, 1);
    assert_int_equal(r.http_error, 1);
    assert_int_equal(r.groups[1].check_failed, 1);
    assert_int_equal(r.groups[1].requests, 3);
    assert_int_equal(r.latency.total_count, 3); /* check_failed latency is recorded */
    recorder_add(&sum, &r);
    recorder_add(&sum, &r);
    assert_int_equal(sum.check_failed, 2);
    assert_int_equal(sum.groups[1].check_failed, 2);
    assert_int_equal(sum.check_pass[0], 2);
    assert_int_equal(sum.check_fail[0], 2);
    assert_int_equal(sum.check_fail[1], 2);
    assert_int_equal(sum.check_too_large[1], 2);
    recorder_release(&r);
    recorder_release(&sum);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outcomes),
        cmocka_unit_test(test_windows),
        cmocka_unit_test(test_add),
        cmocka_unit_test(test_intervals),
        cmocka_unit_test(test_interval_service_per_name),
        cmocka_unit_test(test_check_failed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

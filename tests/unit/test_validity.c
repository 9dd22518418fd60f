/*
 * test_validity.c — the late-sends rule on tables of synthetic send lags.
 *
 * Each case builds a send-lag and a latency histogram from a few groups of
 * (count, value) samples and checks the verdict and what its reason names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "load/validity.h"

/* n samples of v µs. */
struct run_of {
    int64_t n, v;
};

struct lag_case {
    const char *name;
    struct run_of lag[4];     /* send lag samples */
    struct run_of latency[4]; /* latency samples */
    uint64_t max_lag_us;
    enum validity_spin spin;
    bool valid;
    const char *reason_has; /* a substring of the reason, when invalid */
};

static const struct lag_case cases[] = {
    /* The flake: 50/s for 1 s, 1–4 arrivals 3–6 ms late among on-time ones. */
    {"50/s, one straggler", {{49, 5}, {1, 6000}}, {{49, 80}, {1, 6080}}, 1000, VALIDITY_SPIN_AUTO, true, NULL},
    {"50/s, four stragglers", {{46, 5}, {4, 3000}}, {{46, 80}, {4, 3080}}, 1000, VALIDITY_SPIN_AUTO, true, NULL},
    /* 1 s at 40/s: five late of forty is a pattern, and they are the latency p99. */
    {"40/s, five late",
     {{35, 5}, {5, 4000}},
     {{35, 80}, {5, 4080}},
     1000,
     VALIDITY_SPIN_AUTO,
     false,
     "5 of 40 arrivals (12%) left more than 1.0 ms late"},
    /* Many arrivals, under 1 % late: the p99 is not touched. */
    {"10k, 0.5% late", {{9950, 5}, {50, 5000}}, {{9950, 80}, {50, 5080}}, 1000, VALIDITY_SPIN_AUTO, true, NULL},
    {"10k, 3% late",
     {{9700, 5}, {300, 5000}},
     {{9700, 80}, {300, 5080}},
     1000,
     VALIDITY_SPIN_AUTO,
     false,
     "300 of 10000 arrivals (3%)"},
    /* A 2 s server stall: 2 ms late while draining, but latency p99 ~1.9 s. */
    {"server stall", {{9000, 5}, {1000, 2000}}, {{9000, 80}, {1000, 1900000}}, 1000, VALIDITY_SPIN_AUTO, true, NULL},
    /* Behind every second with a slowish server: 3 ms of lag in a 6 ms p99 is half of it. */
    {"behind, slow server",
     {{900, 300}, {100, 3000}},
     {{900, 2000}, {100, 6000}},
     1000,
     VALIDITY_SPIN_AUTO,
     false,
     "is 50% of latency p99 6.0 ms"},
    /* Late by 2 ms with a 15 ms p99 (13 %): too much; with a 30 ms p99 (7 %): fine. */
    {"tail share above a tenth",
     {{900, 5}, {100, 2000}},
     {{900, 500}, {100, 15000}},
     1000,
     VALIDITY_SPIN_AUTO,
     false,
     "is 13% of latency p99 15.0 ms"},
    {"tail share below a tenth",
     {{900, 5}, {100, 2000}},
     {{900, 500}, {100, 30000}},
     1000,
     VALIDITY_SPIN_AUTO,
     true,
     NULL},
    /* The epoll floor against a fast server: 120 µs of a 200 µs median. */
    {"wake-up floor, spin off", {{100, 120}}, {{100, 200}}, 1000, VALIDITY_SPIN_OFF, false, "drop --spin 0"},
    {"wake-up floor, spin fixed", {{100, 120}}, {{100, 200}}, 1000, VALIDITY_SPIN_FIXED, false, "raise --spin"},
    {"wake-up floor, auto", {{100, 120}}, {{100, 200}}, 1000, VALIDITY_SPIN_AUTO, false, "send lag p50 120 us is 60%"},
    /* Spun: a few µs of a 70 µs median. */
    {"spun, fast server", {{100, 3}}, {{100, 70}}, 1000, VALIDITY_SPIN_AUTO, true, NULL},
    /* Below the 20 µs floor the median check stays quiet even for a 30 µs server. */
    {"tiny lag, tiny latency", {{100, 15}}, {{100, 30}}, 1000, VALIDITY_SPIN_AUTO, true, NULL},
    /* 60 µs of lag in a 10 ms median is noise. */
    {"lag small vs slow server", {{100, 60}}, {{100, 10000}}, 1000, VALIDITY_SPIN_AUTO, true, NULL},
    /* A stricter --max-lag counts more arrivals late. */
    {"strict max-lag",
     {{90, 5}, {10, 400}},
     {{90, 80}, {10, 480}},
     200,
     VALIDITY_SPIN_AUTO,
     false,
     "more than 200 us late"},
    {"same, default max-lag", {{90, 5}, {10, 400}}, {{90, 80}, {10, 480}}, 1000, VALIDITY_SPIN_AUTO, true, NULL},
    /* No arrivals (closed model, or nothing came due): nothing to judge. */
    {"empty", {{0, 0}}, {{0, 0}}, 1000, VALIDITY_SPIN_AUTO, true, NULL},
};

/* Fills h with the groups of rows. */
static void fill(struct hist *h, const struct run_of *rows)
{
    assert_int_equal(hist_init(h, 1, 3600000000LL, 3), 0);
    for (int i = 0; i < 4 && rows[i].n; i++)
        assert_true(hist_record_n(h, rows[i].v, rows[i].n));
}

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct lag_case *c = &cases[i];
        struct hist lag, lat;
        fill(&lag, c->lag);
        fill(&lat, c->latency);
        struct lag_figures f;
        validity_figures(&f, &lag, &lat, c->max_lag_us, c->spin);
        char reason[512] = "";
        bool ok = validity_lag(&f, reason, sizeof(reason));
        if (ok != c->valid || (c->reason_has && !strstr(reason, c->reason_has)))
            fail_msg("case '%s': valid %d, reason '%s'", c->name, ok, reason);
        hist_release(&lag);
        hist_release(&lat);
    }
}

/* The late count is exact at the bar: a lag equal to --max-lag is on time. */
static void test_late_count_at_bar(void **state)
{
    (void)state;
    struct hist lag;
    struct run_of rows[4] = {{10, 1000}, {3, 1001}, {2, 250000}};
    fill(&lag, rows);
    struct lag_figures f;
    validity_figures(&f, &lag, NULL, 1000, VALIDITY_SPIN_AUTO);
    assert_int_equal(f.arrivals, 15);
    assert_int_equal(f.late, 5);
    hist_release(&lag);
}

/* Every second that warns makes the run invalid: twenty such seconds merged. */
static void test_seconds_agree_with_run(void **state)
{
    (void)state;
    struct hist run_lag, run_lat;
    assert_int_equal(hist_init(&run_lag, 1, 3600000000LL, 3), 0);
    assert_int_equal(hist_init(&run_lat, 1, 3600000000LL, 3), 0);
    for (int s = 0; s < 20; s++) {
        struct hist lag, lat;
        struct run_of l[4] = {{34, 10}, {6, 2500 + 100 * s}}, t[4] = {{34, 400}, {6, 2900 + 100 * s}};
        fill(&lag, l);
        fill(&lat, t);
        struct lag_figures f;
        char reason[512];
        validity_figures(&f, &lag, &lat, 1000, VALIDITY_SPIN_AUTO);
        assert_false(validity_lag(&f, reason, sizeof(reason)));
        hist_add(&run_lag, &lag);
        hist_add(&run_lat, &lat);
        hist_release(&lag);
        hist_release(&lat);
    }
    struct lag_figures f;
    char reason[512];
    validity_figures(&f, &run_lag, &run_lat, 1000, VALIDITY_SPIN_AUTO);
    assert_false(validity_lag(&f, reason, sizeof(reason)));
    hist_release(&run_lag);
    hist_release(&run_lat);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_late_count_at_bar),
        cmocka_unit_test(test_seconds_agree_with_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

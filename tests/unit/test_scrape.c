/*
 * test_scrape.c — what a scrape round keeps (src/load/scrape_ingest.c),
 * fed bodies directly, rounds a second apart: a counter's rate and a
 * reset counted from 0 (as rate() does), a gauge's value, a series absent
 * from a round is a gap (NAN), a histogram's p50/p99 from bucket deltas
 * against a hand computation of histogram_quantile(), summary quantiles
 * and _sum/_count, the cap (kept vs dropped), --scrape-match, and the
 * bad-input errors of scrape_init.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "load/scrape.h"

#define S 1000000000ull

static struct scrape sc;

static struct scrape_target *fresh(const char *match, uint32_t cap)
{
    char why[256];
    assert_int_equal(scrape_init(&sc, NULL, 0, match, cap, true, why, sizeof(why)), 0);
    sc.ntargets = 1;
    sc.targets[0].owner = &sc;
    sc.planned_rounds = 4;
    return &sc.targets[0];
}

static const struct scrape_series *find(const struct scrape_target *t, const char *key)
{
    for (uint32_t i = 0; i < t->nseries; i++)
        if (!strcmp(t->series[i].key, key)) return &t->series[i];
    return NULL;
}

static uint32_t feed(struct scrape_target *t, uint64_t at_ns, const char *body)
{
    int bad;
    const char *why;
    uint32_t r = scrape_add_round(t, (int32_t)t->nrounds - 1, at_ns);
    assert_true(scrape_ingest(t, r, at_ns, body, strlen(body), &bad, &why) > 0);
    assert_int_equal(bad, 0);
    return r;
}

static void test_counter_gauge_and_gaps(void **state)
{
    (void)state;
    struct scrape_target *t = fresh(NULL, 0);
    const char *fmt = "# TYPE req_total counter\nreq_total{code=\"200\"} %d\n# TYPE q gauge\nq %d\n";
    char b[256];
    int counts[] = {100, 300, 350, 40, 90}, depth[] = {1, 5, 9, 2, 0};
    for (int i = 0; i < 5; i++) {
        snprintf(b, sizeof(b), fmt, counts[i], depth[i]);
        feed(t, (uint64_t)(i + 1) * S, i == 2 ? "# TYPE q gauge\nq 9\n" : b); /* round 2: the counter is absent */
    }
    const struct scrape_series *c = find(t, "req_total{code=\"200\"}"), *g = find(t, "q");
    assert_non_null(c);
    assert_non_null(g);
    assert_int_equal(c->kind, PROM_COUNTER);
    assert_true(isnan(c->val[0])); /* no rate from one read */
    assert_true(fabs(c->val[1] - 200) < 1e-9);
    assert_true(isnan(c->val[2]));            /* absent: a gap, never 0 */
    assert_true(fabs(c->val[3] - 20) < 1e-9); /* 300 -> 40 over 2 s is a reset: 40 / 2 s */
    assert_true(fabs(c->val[4] - 50) < 1e-9);
    assert_true(fabs(c->increase - (200 + 40 + 50)) < 1e-9);
    assert_true(c->first == 100 && c->last == 90);
    for (int i = 0; i < 5; i++)
        assert_true(g->val[i] == depth[i] || (i == 2 && g->val[i] == 9));
    scrape_release(&sc);
}

static void test_histogram_quantiles(void **state)
{
    (void)state;
    struct scrape_target *t = fresh(NULL, 0);
    feed(t, 1 * S,
         "# TYPE lat histogram\nlat_bucket{le=\"0.1\"} 10\nlat_bucket{le=\"0.5\"} 10\nlat_bucket{le=\"1\"} 10\n"
         "lat_bucket{le=\"+Inf\"} 10\nlat_sum 0.5\nlat_count 10\n");
    /* In the next second: 50 at <= 0.1, 40 in (0.1, 0.5], 10 in (0.5, 1]. */
    feed(t, 2 * S,
         "# TYPE lat histogram\nlat_bucket{le=\"0.1\"} 60\nlat_bucket{le=\"0.5\"} 100\nlat_bucket{le=\"1\"} 110\n"
         "lat_bucket{le=\"+Inf\"} 110\nlat_sum 20.5\nlat_count 110\n");
    const struct scrape_series *h = find(t, "lat"), *n = find(t, "lat_count");
    assert_non_null(h);
    assert_non_null(n);
    assert_int_equal(h->kind, PROM_HISTOGRAM);
    assert_int_equal(n->kind, PROM_COUNTER);
    assert_true(isnan(h->val[0]));
    /* p50: rank 50 is the last of the first bucket: 0 + 0.1 * 50/50 = 0.1. */
    assert_true(fabs(h->p50[1] - 0.1) < 1e-9);
    /* p99: rank 99 in (0.5, 1]: 0.5 + 0.5 * (99 - 90) / 10 = 0.95. */
    assert_true(fabs(h->val[1] - 0.95) < 1e-9);
    assert_true(fabs(n->val[1] - 100) < 1e-9);
    /* Nothing observed in a second: no quantile (a gap, not 0). */
    feed(t, 3 * S,
         "# TYPE lat histogram\nlat_bucket{le=\"0.1\"} 60\nlat_bucket{le=\"0.5\"} 100\nlat_bucket{le=\"1\"} 110\n"
         "lat_bucket{le=\"+Inf\"} 110\n");
    assert_true(isnan(h->val[2]));
    scrape_release(&sc);
}

static void test_summary_and_untyped(void **state)
{
    (void)state;
    struct scrape_target *t = fresh(NULL, 0);
    feed(t, S, "# TYPE rpc summary\nrpc{quantile=\"0.99\"} 0.25\nrpc_sum 3\nrpc_count 7\nloose 4\n");
    const struct scrape_series *q = find(t, "rpc{quantile=\"0.99\"}"), *l = find(t, "loose");
    assert_non_null(q);
    assert_non_null(l);
    assert_int_equal(q->kind, PROM_SUMMARY);
    assert_true(q->val[0] == 0.25);
    assert_int_equal(find(t, "rpc_sum")->kind, PROM_COUNTER);
    assert_int_equal(l->kind, PROM_UNTYPED);
    assert_true(l->val[0] == 4);
    scrape_release(&sc);
}

static void test_cap_and_match(void **state)
{
    (void)state;
    char body[4096] = "";
    for (int i = 0; i < 30; i++)
        snprintf(body + strlen(body), sizeof(body) - strlen(body), "m{i=\"%d\"} %d\nother_%d 1\n", i, i, i);
    struct scrape_target *t = fresh("^m\\{", 10);
    feed(t, S, body);
    assert_int_equal(t->nseries, 10);
    assert_int_equal(t->dropped, 20); /* matched but over the cap; other_* never matched */
    for (uint32_t i = 0; i < t->nseries; i++)
        assert_true(!strncmp(t->series[i].key, "m{", 2));
    scrape_release(&sc);
    char why[256];
    assert_int_equal(scrape_init(&sc, NULL, 0, "(", 0, true, why, sizeof(why)), -EINVAL);
    assert_non_null(strstr(why, "--scrape-match '('"));
    scrape_release(&sc);
    const char *urls[] = {"ftp://x/metrics"};
    assert_int_equal(scrape_init(&sc, urls, 1, NULL, 0, true, why, sizeof(why)), -EINVAL);
    assert_non_null(strstr(why, "--scrape 'ftp://x/metrics'"));
    scrape_release(&sc);
}

/* The per-round arrays grow beyond the planned rounds and new slots are gaps. */
static void test_rounds_grow(void **state)
{
    (void)state;
    struct scrape_target *t = fresh(NULL, 0);
    for (int i = 0; i < 50; i++) {
        char b[64];
        snprintf(b, sizeof(b), "g %d\n", i);
        feed(t, (uint64_t)(i + 1) * S, b);
    }
    const struct scrape_series *g = find(t, "g");
    assert_true(t->cap_rounds >= 50 && t->cap_rounds <= 64);
    for (int i = 0; i < 50; i++)
        assert_true(g->val[i] == i);
    for (uint32_t i = 50; i < t->cap_rounds; i++)
        assert_true(isnan(g->val[i]));
    scrape_release(&sc);
}

/* A one-hour run at the cap: the arrays are sized once and hold the stated bytes per series-second. */
static void test_one_hour_budget(void **state)
{
    (void)state;
    static char body[200 * 24];
    size_t n = 0;
    for (int i = 0; i < 200; i++)
        n += (size_t)snprintf(body + n, sizeof(body) - n, "g{i=\"%d\"} %d\n", i, i);
    struct scrape_target *t = fresh(NULL, 0);
    sc.planned_rounds = 3600 + 10 + 16; /* what scrape_start plans for -d 1h with the default --timeout */
    for (uint32_t r = 0; r < sc.planned_rounds; r++) {
        int bad;
        const char *why;
        uint32_t round = scrape_add_round(t, (int32_t)r - 1, (uint64_t)(r + 1) * S);
        assert_int_equal(scrape_ingest(t, round, (uint64_t)(r + 1) * S, body, n, &bad, &why), 200);
    }
    assert_int_equal(t->nseries, 200);
    assert_int_equal(t->cap_rounds, sc.planned_rounds); /* never grown */
    size_t per_round_bytes = (size_t)t->nseries * t->cap_rounds * sizeof(double);
    assert_true(per_round_bytes <= (size_t)200 * 3626 * SCRAPE_BYTES_PER_SERIES_SECOND);
    scrape_release(&sc);
}

/* The dashboard's live snapshot: valid JSON, rows only (no baseline), escaped keys, at most SCRAPE_LIVE_SERIES. */
static void test_live_snapshot(void **state)
{
    (void)state;
    struct scrape_target *t = fresh(NULL, 0);
    assert_null(scrape_live(&sc)); /* no round yet */
    char b[4096];
    for (int r = 0; r < 3; r++) {
        size_t n = (size_t)snprintf(b, sizeof(b), "# TYPE a_total counter\na_total{p=\"x\\\"y\"} %d\n", 10 * r * r);
        for (int g = 0; g < 20; g++)
            n += (size_t)snprintf(b + n, sizeof(b) - n, "g%d %d\n", g, g + r);
        feed(t, (uint64_t)(r + 1) * S, b); /* rows -1 (the baseline), 0, 1 */
        scrape_live_refresh(t);
    }
    char *live = scrape_live(&sc);
    assert_non_null(live);
    json_error_t err;
    json_t *a = json_loads(live, 0, &err);
    assert_non_null(a);
    assert_int_equal(json_array_size(a), SCRAPE_LIVE_SERIES);
    json_t *c = json_array_get(a, 0);
    assert_string_equal(json_string_value(json_object_get(c, "name")), "a_total{p=\"x\\\"y\"}");
    assert_string_equal(json_string_value(json_object_get(c, "unit")), "/s");
    json_t *pts = json_object_get(c, "points");
    assert_int_equal(json_array_size(pts), 2);
    assert_int_equal(json_integer_value(json_array_get(json_array_get(pts, 0), 0)), 0);
    assert_true(fabs(json_number_value(json_array_get(json_array_get(pts, 0), 1)) - 10) < 1e-9);
    assert_true(fabs(json_number_value(json_array_get(json_array_get(pts, 1), 1)) - 30) < 1e-9);
    json_t *g = json_array_get(a, 1);
    assert_null(json_object_get(g, "unit"));
    assert_true(fabs(json_number_value(json_array_get(json_array_get(json_object_get(g, "points"), 1), 1)) - 2) < 1e-9);
    json_decref(a);
    free(live);
    scrape_release(&sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter_gauge_and_gaps),
        cmocka_unit_test(test_histogram_quantiles),
        cmocka_unit_test(test_summary_and_untyped),
        cmocka_unit_test(test_cap_and_match),
        cmocka_unit_test(test_rounds_grow),
        cmocka_unit_test(test_one_hour_budget),
        cmocka_unit_test(test_live_snapshot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

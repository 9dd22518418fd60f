/*
 * test_compare.c — tests for src/report/compare*.c on synthetic results.
 *
 * Runs are made second by second from a fixed-seed generator with a known
 * distribution (a lognormal-ish spread around a median), so the truth of
 * each comparison is known: two runs of one distribution must not differ
 * significantly; a candidate 20 % slower must regress p50..p99 with an
 * interval around +20 %; too few requests beyond p99.9 must make it
 * inconclusive. The loader and the comparability check get synthetic
 * results JSON; the --fail-if parser a table of good and bad gates.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/hist.h"
#include "core/hist_codec.h"
#include "report/compare.h"
#include "report/compare_load.h"
#include "report/compare_out.h"

/* A small deterministic generator (xorshift64*). */
static double unit_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (double)((*s * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

/* A latency around median_us: exp of a sum of uniforms (close to lognormal). */
static int64_t draw(uint64_t *s, double median_us)
{
    double z = unit_rand(s) + unit_rand(s) + unit_rand(s) + unit_rand(s) - 2; /* mean 0, sd ~0.58 */
    return (int64_t)(median_us * exp(0.5 * z));
}

/*
 * A run of nsec seconds of per_sec requests around median_us, into the
 * whole-run scope; every tail-th request (0: none) 10x longer; the seconds
 * added as base64 text (the loader's way) when b64.
 */
static void make_run_ex(struct cmp_run *r, size_t nsec, int per_sec, double median_us, uint64_t seed, int tail,
                        bool b64)
{
    memset(r, 0, sizeof(*r));
    r->nscopes = 1;
    struct cmp_scope *s = &r->scopes[0];
    hist_init(&s->lat, HIST_STD_LOWEST, HIST_STD_HIGHEST, HIST_STD_SIGFIG);
    hist_init(&s->svc, HIST_STD_LOWEST, HIST_STD_HIGHEST, HIST_STD_SIGFIG);
    s->has_svc = true;
    struct hist lat, svc;
    hist_init(&lat, HIST_STD_LOWEST, HIST_STD_HIGHEST, HIST_STD_SIGFIG);
    hist_init(&svc, HIST_STD_LOWEST, HIST_STD_HIGHEST, HIST_STD_SIGFIG);
    uint64_t rng = seed;
    for (size_t k = 0; k < nsec; k++) {
        hist_reset(&lat);
        hist_reset(&svc);
        for (int i = 0; i < per_sec; i++) {
            int64_t v = draw(&rng, median_us) * (tail && i % tail == 0 ? 10 : 1);
            hist_record(&lat, v + 50);
            hist_record(&svc, v);
        }
        hist_add(&s->lat, &lat);
        hist_add(&s->svc, &svc);
        if (!b64) {
            cmp_scope_add_second(s, &lat, &svc, (uint64_t)per_sec, 0, true);
            continue;
        }
        char *tl = hist_encode_base64(&lat), *ts = hist_encode_base64(&svc);
        assert_int_equal(cmp_scope_add_second_b64(s, tl, ts, (uint64_t)per_sec, 0, true), 0);
        free(tl);
        free(ts);
    }
    hist_release(&lat);
    hist_release(&svc);
}

static void make_run(struct cmp_run *r, size_t nsec, int per_sec, double median_us, uint64_t seed)
{
    make_run_ex(r, nsec, per_sec, median_us, seed, 0, false);
}

/* Compares one run against one other with the default options. */
static void compare_pair(const struct cmp_run *a, const struct cmp_run *b, struct cmp_result *out)
{
    struct cmp_options opt;
    cmp_options_default(&opt);
    const struct cmp_run *base[1] = {a}, *cand[1] = {b};
    assert_int_equal(cmp_compute(base, 1, cand, 1, &opt, out), 0);
}

static void test_equal_runs_no_change(void **state)
{
    (void)state;
    struct cmp_run a, b;
    make_run(&a, 60, 500, 2000, 1);
    make_run(&b, 60, 500, 2000, 2);
    struct cmp_result *r = calloc(1, sizeof(*r));
    compare_pair(&a, &b, r);
    assert_true(r->within_run_only);
    for (int f = 0; f < CMP_NFIG; f++) {
        const struct cmp_row *row = cmp_result_row(r, f);
        assert_non_null(row);
        assert_int_not_equal(row->verdict, CMP_REGRESSED);
        assert_int_not_equal(row->verdict, CMP_IMPROVED);
        if (f <= CMP_LAT_P99) assert_true(row->lo <= 0 && row->hi >= 0); /* the interval holds the truth, 0 */
    }
    free(r);
    cmp_run_release(&a);
    cmp_run_release(&b);
}

static void test_slower_candidate_regresses(void **state)
{
    (void)state;
    struct cmp_run a, b;
    make_run(&a, 60, 500, 2000, 1);
    make_run(&b, 60, 500, 2400, 2);
    struct cmp_result *r = calloc(1, sizeof(*r));
    compare_pair(&a, &b, r);
    for (int f = CMP_LAT_P50; f <= CMP_LAT_P99; f++) {
        const struct cmp_row *row = cmp_result_row(r, f);
        assert_int_equal(row->verdict, CMP_REGRESSED);
        assert_true(row->diff > 15 && row->diff < 25);
        assert_true(row->lo < row->diff && row->diff < row->hi);
        assert_true(row->lo > 10 && row->hi < 30);
    }
    struct cmp_failif g;
    char why[128];
    assert_int_equal(cmp_failif_parse("latency.p99 > +10%", &g, why, sizeof(why)), 0);
    bool inconclusive;
    assert_true(cmp_failif_fails(&g, r, &inconclusive));
    assert_int_equal(cmp_failif_parse("latency.p99 > +40%", &g, why, sizeof(why)), 0);
    assert_false(cmp_failif_fails(&g, r, &inconclusive));
    assert_int_equal(cmp_failif_parse("latency.p50 > 200us", &g, why, sizeof(why)), 0);
    assert_true(cmp_failif_fails(&g, r, &inconclusive)); /* +400 µs, interval well above 200 */
    /* The other way round: improved, and no gate fails. */
    compare_pair(&b, &a, r);
    assert_int_equal(cmp_result_row(r, CMP_LAT_P50)->verdict, CMP_IMPROVED);
    assert_int_equal(cmp_failif_parse("latency.p99 > +10%", &g, why, sizeof(why)), 0);
    assert_false(cmp_failif_fails(&g, r, &inconclusive));
    free(r);
    cmp_run_release(&a);
    cmp_run_release(&b);
}

static void test_noise_floor_hides_small_change(void **state)
{
    (void)state;
    struct cmp_run a, b;
    make_run(&a, 120, 2000, 2000, 1);
    make_run(&b, 120, 2000, 2060, 2); /* +3 %: significant with this many samples, below the 5 % floor */
    struct cmp_result *r = calloc(1, sizeof(*r));
    compare_pair(&a, &b, r);
    const struct cmp_row *row = cmp_result_row(r, CMP_LAT_P50);
    assert_true(row->lo > 0);
    assert_int_equal(row->verdict, CMP_NO_CHANGE);
    free(r);
    cmp_run_release(&a);
    cmp_run_release(&b);
}

static void test_too_few_samples_inconclusive(void **state)
{
    (void)state;
    struct cmp_run a, b;
    make_run(&a, 30, 100, 2000, 1); /* 3000 requests: p99.9 has 3 samples beyond it */
    make_run(&b, 30, 100, 2400, 2);
    struct cmp_result *r = calloc(1, sizeof(*r));
    compare_pair(&a, &b, r);
    const struct cmp_row *row = cmp_result_row(r, CMP_LAT_P999);
    assert_int_equal(row->verdict, CMP_INCONCLUSIVE);
    assert_non_null(strstr(row->why, "3 samples beyond p99.9"));
    assert_int_not_equal(cmp_result_row(r, CMP_LAT_P99)->verdict, CMP_INCONCLUSIVE);
    struct cmp_failif g;
    char why[128];
    bool inconclusive;
    assert_int_equal(cmp_failif_parse("latency.p99.9 > +1%", &g, why, sizeof(why)), 0);
    assert_false(cmp_failif_fails(&g, r, &inconclusive));
    assert_true(inconclusive);
    /* Fewer than CMP_MIN_SECONDS seconds: nothing can be judged. */
    cmp_run_release(&a);
    make_run(&a, 3, 5000, 2000, 1);
    compare_pair(&a, &b, r);
    assert_int_equal(cmp_result_row(r, CMP_LAT_P50)->verdict, CMP_INCONCLUSIVE);
    free(r);
    cmp_run_release(&a);
    cmp_run_release(&b);
}

static void test_same_seed_same_intervals(void **state)
{
    (void)state;
    struct cmp_run a, b;
    make_run(&a, 40, 300, 2000, 1);
    make_run(&b, 40, 300, 2100, 2);
    struct cmp_result *r1 = calloc(1, sizeof(*r1)), *r2 = calloc(1, sizeof(*r2));
    compare_pair(&a, &b, r1);
    compare_pair(&a, &b, r2);
    for (size_t i = 0; i < r1->nrows; i++) {
        assert_true(r1->rows[i].lo == r2->rows[i].lo);
        assert_true(r1->rows[i].hi == r2->rows[i].hi);
    }
    /* Several runs per side: intervals over the runs too, and said so. */
    const struct cmp_run *base[2] = {&a, &a}, *cand[2] = {&b, &b};
    struct cmp_options opt;
    cmp_options_default(&opt);
    assert_int_equal(cmp_compute(base, 2, cand, 2, &opt, r1), 0);
    assert_false(r1->within_run_only);
    free(r1);
    free(r2);
    cmp_run_release(&a);
    cmp_run_release(&b);
}

/* Every interval of two results is the same, bit for bit. */
static void assert_same_rows(const struct cmp_result *x, const struct cmp_result *y)
{
    assert_int_equal(x->nrows, y->nrows);
    for (size_t i = 0; i < x->nrows; i++) {
        assert_true(x->rows[i].lo == y->rows[i].lo && x->rows[i].hi == y->rows[i].hi);
        assert_true(x->rows[i].abs_lo == y->rows[i].abs_lo && x->rows[i].abs_hi == y->rows[i].abs_hi);
        assert_int_equal(x->rows[i].verdict, y->rows[i].verdict);
    }
}

/*
 * The percentile windows (compare_boot.h) are a shortcut, never a change:
 * every interval equals the one computed the full way, for a narrow
 * service, a heavy tail (every 25th request 10x), short runs whose
 * resamples often leave the windows, and several runs per side. And the
 * base64 path of the loader reduces a second exactly as the histogram path.
 */
static void test_windows_match_full_way(void **state)
{
    (void)state;
    static const struct {
        size_t nsec;
        int per_sec, tail;
        bool fallbacks; /* some resamples must go the full way */
    } cases[] = {{120, 300, 0, false}, {60, 250, 25, false}, {8, 60, 7, true}};
    struct cmp_result *fast = calloc(1, sizeof(*fast)), *full = calloc(1, sizeof(*full));
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        struct cmp_run a, b, a2, b64;
        make_run_ex(&a, cases[c].nsec, cases[c].per_sec, 2000, 1, cases[c].tail, false);
        make_run_ex(&b, cases[c].nsec, cases[c].per_sec, 2300, 2, cases[c].tail, false);
        make_run_ex(&a2, cases[c].nsec, cases[c].per_sec, 2000, 3, cases[c].tail, false);
        make_run_ex(&b64, cases[c].nsec, cases[c].per_sec, 2000, 1, cases[c].tail, true);
        struct cmp_options opt;
        cmp_options_default(&opt);
        const struct cmp_run *base[2] = {&a, &a2}, *cand[1] = {&b}, *base64[1] = {&b64};
        for (size_t nb = 1; nb <= 2; nb++) {
            opt.full_resamples = false;
            assert_int_equal(cmp_compute(base, nb, cand, 1, &opt, fast), 0);
            opt.full_resamples = true;
            assert_int_equal(cmp_compute(base, nb, cand, 1, &opt, full), 0);
            assert_same_rows(fast, full);
            assert_int_equal(full->full_resamples, 2 * 2 * opt.resamples);
            if (cases[c].fallbacks)
                assert_true(fast->full_resamples > 0);
            else
                assert_int_equal(fast->full_resamples, 0);
        }
        opt.full_resamples = false;
        assert_int_equal(cmp_compute(base, 1, cand, 1, &opt, fast), 0);
        assert_int_equal(cmp_compute(base64, 1, cand, 1, &opt, full), 0);
        assert_same_rows(fast, full);
        cmp_run_release(&a);
        cmp_run_release(&b);
        cmp_run_release(&a2);
        cmp_run_release(&b64);
    }
    free(fast);
    free(full);
}

/*
 * Calibration: two 10-second runs of one service are "different" (the p50,
 * p90 or p99 interval excludes 0) in about 5 % of pairs, not the 17 % the
 * bootstrap gave before its small-sample correction (compare.c widen) and
 * circular blocks. 100 fixed-seed pairs, so the count is reproducible; the
 * bound leaves room for the 2.2 % binomial noise of 100 pairs.
 */
static void test_intervals_calibrated_on_short_runs(void **state)
{
    (void)state;
    struct cmp_result *r = calloc(1, sizeof(*r));
    int excluded[3] = {0, 0, 0};
    for (uint64_t p = 0; p < 100; p++) {
        struct cmp_run a, b;
        make_run(&a, 10, 250, 2000, 1000 + 2 * p);
        make_run(&b, 10, 250, 2000, 1001 + 2 * p);
        struct cmp_options opt;
        cmp_options_default(&opt);
        opt.seed = p + 1;
        const struct cmp_run *base[1] = {&a}, *cand[1] = {&b};
        assert_int_equal(cmp_compute(base, 1, cand, 1, &opt, r), 0);
        for (int f = CMP_LAT_P50; f <= CMP_LAT_P99; f++) {
            const struct cmp_row *row = cmp_result_row(r, f);
            excluded[f] += row->lo > 0 || row->hi < 0;
        }
        cmp_run_release(&a);
        cmp_run_release(&b);
    }
    print_message("intervals excluding 0 in 100 same-service pairs: p50 %d, p90 %d, p99 %d\n", excluded[0], excluded[1],
                  excluded[2]);
    for (int f = 0; f < 3; f++)
        assert_true(excluded[f] <= 12);
    free(r);
}

/* A minimal results document with n seconds of per-second histograms. */
static json_t *result_doc(double rate, const char *url, size_t n)
{
    struct hist h;
    hist_init(&h, HIST_STD_LOWEST, HIST_STD_HIGHEST, HIST_STD_SIGFIG);
    hist_record_n(&h, 2000, 100);
    char *b64 = hist_encode_base64(&h);
    json_t *tl = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(tl,
                              json_pack("{s:I,s:I,s:I,s:s,s:s}", "t", (json_int_t)i, "done", (json_int_t)100, "errors",
                                        (json_int_t)0, "hdr_latency_us", b64, "hdr_service_time_us", b64));
    json_t *doc = json_pack("{s:s,s:f,s:{s:s,s:s,s:f,s:i,s:i,s:f},s:{s:s,s:s},s:{s:{}},s:o}", "tool", "salvo",
                            "duration_s", (double)n, "config", "url", url, "method", "GET", "rate", rate, "threads", 2,
                            "connections", 100, "duration_s", (double)n, "hdr", "latency_us", b64, "service_time_us",
                            b64, "groups", "/x", "timeline", tl);
    free(b64);
    hist_release(&h);
    return doc;
}

static void test_loader_and_comparability(void **state)
{
    (void)state;
    char why[256];
    bool host;
    struct cmp_run r;
    json_t *a = result_doc(100, "http://127.0.0.1:8080/x", 10), *b = result_doc(200, "http://127.0.0.1:8080/x", 10);
    assert_int_equal(cmp_run_from_json(a, "a.json", &r, why, sizeof(why)), 0);
    assert_int_equal(r.scopes[0].nsec, 10);
    assert_int_equal(r.scopes[0].lat.total_count, 100);
    cmp_run_release(&r);
    assert_int_equal(cmp_comparable(a, b, &host, why, sizeof(why)), -EINVAL);
    assert_non_null(strstr(why, "rate differs"));
    json_t *c = result_doc(100, "http://10.0.0.1:9090/x", 10), *d = result_doc(100, "http://127.0.0.1:8080/y", 10);
    assert_int_equal(cmp_comparable(a, c, &host, why, sizeof(why)), 0);
    assert_true(host);
    assert_int_equal(cmp_comparable(a, d, &host, why, sizeof(why)), -EINVAL);
    assert_non_null(strstr(why, "path differs"));
    json_object_set_new(json_object_get(d, "groups"), "/y", json_object());
    json_object_set_new(json_object_get(c, "config"), "threads", json_integer(4));
    assert_int_equal(cmp_comparable(a, c, &host, why, sizeof(why)), -EINVAL);
    assert_non_null(strstr(why, "threads differs"));
    /* Not salvo; no per-second histograms. */
    json_t *k6 = json_pack("{s:s}", "tool", "k6");
    assert_int_equal(cmp_run_from_json(k6, "k6.json", &r, why, sizeof(why)), -EINVAL);
    assert_non_null(strstr(why, "not a salvo result"));
    json_object_del(json_array_get(json_object_get(b, "timeline"), 3), "hdr_latency_us");
    assert_int_equal(cmp_run_from_json(b, "b.json", &r, why, sizeof(why)), -EINVAL);
    assert_non_null(strstr(why, "per-second histograms"));
    json_decref(a);
    json_decref(b);
    json_decref(c);
    json_decref(d);
    json_decref(k6);
}

/* A two-name result: per second, each name 100 responses around 2 ms, of which errors_b of "/b" failed. */
static json_t *two_name_doc(size_t n, int errors_b, uint64_t seed)
{
    struct hist h, all;
    hist_init(&h, HIST_STD_LOWEST, HIST_STD_HIGHEST, HIST_STD_SIGFIG);
    hist_init(&all, HIST_STD_LOWEST, HIST_STD_HIGHEST, HIST_STD_SIGFIG);
    json_t *tl = json_array(), *groups = json_object();
    json_t *lat[2] = {json_array(), json_array()}, *done[2] = {json_array(), json_array()};
    json_t *errs[2] = {json_array(), json_array()};
    uint64_t rng = seed;
    for (size_t i = 0; i < n; i++) {
        struct hist sec;
        hist_init(&sec, HIST_STD_LOWEST, HIST_STD_HIGHEST, HIST_STD_SIGFIG);
        for (int g = 0; g < 2; g++) {
            hist_reset(&h);
            for (int k = 0; k < 100; k++)
                hist_record(&h, draw(&rng, 2000));
            hist_add(&sec, &h);
            char *b64 = hist_encode_base64(&h);
            json_array_append_new(lat[g], json_string(b64));
            free(b64);
            json_array_append_new(done[g], json_integer(100));
            json_array_append_new(errs[g], json_integer(g ? errors_b : 0));
        }
        hist_add(&all, &sec);
        char *b64 = hist_encode_base64(&sec);
        json_array_append_new(tl,
                              json_pack("{s:I,s:I,s:I,s:s,s:s}", "t", (json_int_t)i, "done", (json_int_t)200, "errors",
                                        (json_int_t)errors_b, "hdr_latency_us", b64, "hdr_service_time_us", b64));
        free(b64);
        hist_release(&sec);
    }
    char *b64 = hist_encode_base64(&all);
    for (int g = 0; g < 2; g++)
        json_object_set_new(groups, g ? "/b" : "/a",
                            json_pack("{s:s,s:o,s:o,s:o}", "hdr_latency_us", b64, "timeline_hdr_latency_us", lat[g],
                                      "timeline_done", done[g], "timeline_errors", errs[g]));
    json_t *doc = json_pack("{s:s,s:f,s:{s:s},s:{s:s,s:s},s:o,s:o}", "tool", "salvo", "duration_s", (double)n, "config",
                            "url", "http://127.0.0.1:1/", "hdr", "latency_us", b64, "service_time_us", b64, "groups",
                            groups, "timeline", tl);
    free(b64);
    hist_release(&h);
    hist_release(&all);
    return doc;
}

/* The row of figure f for name, or NULL. */
static const struct cmp_row *name_row(const struct cmp_result *r, const char *name, enum cmp_fig f)
{
    for (size_t i = 0; i < r->nrows; i++)
        if (strcmp(r->rows[i].scope, name) == 0 && r->rows[i].fig == f) return &r->rows[i];
    return NULL;
}

/* Per-name counts make errors.rate and rate.achieved per name: the name that fails regresses, the other not. */
static void test_per_name_errors(void **state)
{
    (void)state;
    char why[256];
    json_t *a = two_name_doc(30, 0, 1), *b = two_name_doc(30, 10, 2);
    struct cmp_run ra, rb;
    assert_int_equal(cmp_run_from_json(a, "a.json", &ra, why, sizeof(why)), 0);
    assert_int_equal(cmp_run_from_json(b, "b.json", &rb, why, sizeof(why)), 0);
    assert_int_equal(ra.nscopes, 3);
    struct cmp_result *r = calloc(1, sizeof(*r));
    compare_pair(&ra, &rb, r);
    const struct cmp_row *eb = name_row(r, "/b", CMP_ERR_RATE), *ea = name_row(r, "/a", CMP_ERR_RATE);
    assert_non_null(eb);
    assert_non_null(ea);
    assert_int_equal(eb->verdict, CMP_REGRESSED);
    assert_true(fabs(eb->diff - 10) < 1e-9); /* 10 of 100: +10 percentage points */
    assert_int_equal(ea->verdict, CMP_NO_CHANGE);
    assert_non_null(name_row(r, "/a", CMP_RATE));
    assert_int_equal(name_row(r, "/a", CMP_RATE)->verdict, CMP_NO_CHANGE);
    assert_null(name_row(r, "/a", CMP_SVC_P50)); /* neither side has service time per name: no row */
    cmp_run_release(&ra);
    cmp_run_release(&rb);
    /* Counts that do not match the timeline are refused, naming the name. */
    json_array_remove(json_object_get(json_object_get(json_object_get(b, "groups"), "/b"), "timeline_done"), 0);
    assert_int_equal(cmp_run_from_json(b, "b.json", &rb, why, sizeof(why)), -EINVAL);
    assert_non_null(strstr(why, "'/b'"));
    free(r);
    json_decref(a);
    json_decref(b);
}

/*
 * One side carries a name's per-second service time, the other not (an
 * older JSON): an inconclusive row naming the side and its file, never a
 * silent gap and never a verdict; the lacking side's value is NAN (no
 * figure: "-" and null), no change is claimed, the JSON says so, and a
 * gate on the figure is not judged. Neither side: no row.
 */
static void test_per_name_service_time_on_one_side(void **state)
{
    (void)state;
    char why[256];
    json_t *a = two_name_doc(30, 0, 1), *b = two_name_doc(30, 0, 2);
    json_t *gb = json_object_get(json_object_get(b, "groups"), "/a");
    json_object_set(gb, "timeline_hdr_service_time_us", json_object_get(gb, "timeline_hdr_latency_us"));
    struct cmp_run ra, rb;
    assert_int_equal(cmp_run_from_json(a, "base.json", &ra, why, sizeof(why)), 0);
    assert_int_equal(cmp_run_from_json(b, "cand.json", &rb, why, sizeof(why)), 0);
    struct cmp_result *r = calloc(1, sizeof(*r));
    compare_pair(&ra, &rb, r);
    for (int f = CMP_SVC_P50; f <= CMP_SVC_P999; f++) {
        const struct cmp_row *row = name_row(r, "/a", f);
        assert_non_null(row);
        assert_int_equal(row->verdict, CMP_INCONCLUSIVE);
        assert_string_equal(row->why, "no service time per name in the baseline base.json");
        assert_true(isnan(row->base));
        assert_true(row->cand > 1000 && row->cand < 5000); /* around 2 ms: the candidate's own figure */
        assert_true(row->diff == 0 && row->lo == 0 && row->hi == 0);
    }
    assert_int_equal(name_row(r, "/a", CMP_LAT_P50)->verdict, CMP_NO_CHANGE); /* latency is on both sides */
    assert_null(name_row(r, "/b", CMP_SVC_P50));                              /* neither side has it for /b: no row */
    /* JSON: null values and no change; the overall verdict is not moved by it. */
    json_t *j = cmp_result_json(r);
    size_t i;
    json_t *fig;
    int seen = 0;
    json_array_foreach(json_object_get(j, "figures"), i, fig)
    {
        const char *fname = json_string_value(json_object_get(fig, "figure"));
        if (!json_is_string(json_object_get(fig, "name")) || strncmp(fname, "service_time.", 13) != 0) continue;
        seen++;
        assert_string_equal(json_string_value(json_object_get(fig, "name")), "/a");
        assert_true(json_is_null(json_object_get(fig, "baseline")));
        assert_true(json_is_real(json_object_get(fig, "candidate")));
        assert_true(json_is_null(json_object_get(fig, "change")));
        assert_true(json_is_null(json_object_get(fig, "ci95")));
        assert_string_equal(json_string_value(json_object_get(fig, "verdict")), "inconclusive");
        assert_string_equal(json_string_value(json_object_get(fig, "why")),
                            "no service time per name in the baseline base.json");
    }
    assert_int_equal(seen, 4);
    json_decref(j);
    /* The table prints "-" for the missing value and change. */
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    cmp_print(mem, r);
    fclose(mem);
    const char *line = strstr(text, "  service_time.p50");
    assert_non_null(line);
    char want[160];
    snprintf(want, sizeof(want), "%.*s", (int)(strchr(line, '\n') - line), line);
    if (!strstr(want, " - ") || !strstr(want, "inconclusive (no service time per name in the baseline base.json)"))
        fail_msg("table row: '%s'", want);
    free(text);
    compare_pair(&rb, &ra, r); /* the other way round */
    const struct cmp_row *row = name_row(r, "/a", CMP_SVC_P99);
    assert_non_null(row);
    assert_int_equal(row->verdict, CMP_INCONCLUSIVE);
    assert_string_equal(row->why, "no service time per name in the candidate base.json");
    assert_true(isnan(row->cand) && !isnan(row->base));
    cmp_run_release(&ra);
    cmp_run_release(&rb);
    free(r);
    json_decref(a);
    json_decref(b);
}

/*
 * A name outside one run's top 10 has no per-second histograms in it: its
 * latency and service-time rows are inconclusive, naming the side and its
 * file, whichever side lacks it; per-name counts get no row. A gate never
 * looks at a name's rows (gates are about the whole run), so such a row
 * cannot fail one; a whole-run figure that is inconclusive is not judged.
 */
static void test_name_outside_top10_on_one_side(void **state)
{
    (void)state;
    char why[256];
    json_t *a = two_name_doc(30, 0, 1), *b = two_name_doc(30, 0, 2);
    json_t *ga = json_object_get(json_object_get(a, "groups"), "/b");
    json_object_set(ga, "timeline_hdr_service_time_us", json_object_get(ga, "timeline_hdr_latency_us"));
    json_t *gb = json_object_get(json_object_get(b, "groups"), "/b");
    json_object_del(gb, "timeline_hdr_latency_us"); /* what a name outside the top 10 looks like */
    json_object_del(gb, "timeline_done");
    json_object_del(gb, "timeline_errors");
    struct cmp_run ra, rb;
    assert_int_equal(cmp_run_from_json(a, "base.json", &ra, why, sizeof(why)), 0);
    assert_int_equal(cmp_run_from_json(b, "cand.json", &rb, why, sizeof(why)), 0);
    assert_int_equal(rb.nscopes, 2);
    struct cmp_result *r = calloc(1, sizeof(*r));
    for (int way = 0; way < 2; way++) {
        compare_pair(way ? &rb : &ra, way ? &ra : &rb, r);
        const char *want = way ? "no per-second histograms for this name in the baseline cand.json"
                               : "no per-second histograms for this name in the candidate cand.json";
        for (int f = CMP_LAT_P50; f <= CMP_SVC_P999; f++) {
            const struct cmp_row *row = name_row(r, "/b", f);
            if (!row) fail_msg("way %d: no row for /b %s", way, cmp_fig_name(f));
            assert_int_equal(row->verdict, CMP_INCONCLUSIVE);
            if (strcmp(row->why, want) != 0) fail_msg("way %d %s: '%s'", way, cmp_fig_name(f), row->why);
            assert_true(isnan(way ? row->base : row->cand));
            assert_false(isnan(way ? row->cand : row->base));
        }
        assert_null(name_row(r, "/b", CMP_ERR_RATE));
        assert_int_equal(name_row(r, "/a", CMP_LAT_P50)->verdict, CMP_NO_CHANGE);
        struct cmp_failif g;
        bool inconclusive;
        assert_int_equal(cmp_failif_parse("latency.p50 > -100%", &g, why, sizeof(why)), 0);
        assert_true(cmp_failif_fails(&g, r, &inconclusive)); /* the whole run's row: judged */
        assert_false(inconclusive);
    }
    /* A whole-run service time that one side lacks: inconclusive, and its gate is not judged. */
    cmp_run_release(&ra);
    json_t *tl = json_object_get(a, "timeline");
    for (size_t k = 0; k < json_array_size(tl); k++)
        json_object_del(json_array_get(tl, k), "hdr_service_time_us");
    assert_int_equal(cmp_run_from_json(a, "base.json", &ra, why, sizeof(why)), 0);
    compare_pair(&ra, &rb, r);
    assert_int_equal(cmp_result_row(r, CMP_SVC_P50)->verdict, CMP_INCONCLUSIVE);
    struct cmp_failif g;
    bool inconclusive;
    assert_int_equal(cmp_failif_parse("service_time.p50 > -100%", &g, why, sizeof(why)), 0);
    assert_false(cmp_failif_fails(&g, r, &inconclusive));
    assert_true(inconclusive);
    cmp_run_release(&ra);
    cmp_run_release(&rb);
    free(r);
    json_decref(a);
    json_decref(b);
}

static void test_failif_parser(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int ok;
        enum cmp_fig fig;
        char op;
        double value;
        bool percent;
    } cases[] = {
        {"latency.p99 > +10%", 1, CMP_LAT_P99, '>', 10, true},
        {"  latency.p99.9>5%", 1, CMP_LAT_P999, '>', 5, true},
        {"latency.p99_9 > 2ms", 1, CMP_LAT_P999, '>', 2000, false},
        {"service_time.p50 > 1.5 s", 1, CMP_SVC_P50, '>', 1.5e6, false},
        {"errors.rate > +1%", 1, CMP_ERR_RATE, '>', 1, true},
        {"rate.achieved < -5%", 1, CMP_RATE, '<', -5, true},
        {"latency.p99 >= 10%", 0, 0, 0, 0, false},
        {"latency.p98 > 10%", 0, 0, 0, 0, false},
        {"latency.p99 > ", 0, 0, 0, 0, false},
        {"latency.p99 > 10%%", 0, 0, 0, 0, false},
        {"latency.p99 > nan%", 0, 0, 0, 0, false},
        {"latency.p99 > 1e9%", 0, 0, 0, 0, false},
        {"errors.rate > 2ms", 0, 0, 0, 0, false},
        {"latency.p99 10%", 0, 0, 0, 0, false},
        {"", 0, 0, 0, 0, false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct cmp_failif g;
        char why[128] = "";
        int rc = cmp_failif_parse(cases[i].text, &g, why, sizeof(why));
        if (!cases[i].ok) {
            assert_int_equal(rc, -EINVAL);
            assert_true(why[0] != '\0');
            continue;
        }
        assert_int_equal(rc, 0);
        assert_int_equal(g.fig, cases[i].fig);
        assert_int_equal(g.op, cases[i].op);
        assert_true(fabs(g.value - cases[i].value) < 1e-9);
        assert_int_equal(g.percent, cases[i].percent);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_equal_runs_no_change),
        cmocka_unit_test(test_slower_candidate_regresses),
        cmocka_unit_test(test_noise_floor_hides_small_change),
        cmocka_unit_test(test_too_few_samples_inconclusive),
        cmocka_unit_test(test_same_seed_same_intervals),
        cmocka_unit_test(test_windows_match_full_way),
        cmocka_unit_test(test_intervals_calibrated_on_short_runs),
        cmocka_unit_test(test_loader_and_comparability),
        cmocka_unit_test(test_per_name_errors),
        cmocka_unit_test(test_per_name_service_time_on_one_side),
        cmocka_unit_test(test_name_outside_top10_on_one_side),
        cmocka_unit_test(test_failif_parser),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

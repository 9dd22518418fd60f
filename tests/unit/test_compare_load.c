/*
 * test_compare_load.c — the loader of `salvo compare` (compare_load.c)
 * on results JSON built here, and the CLI's exit-2 path on files.
 *
 * A valid result with run and per-name per-second histograms must load
 * with the right counts in every second (each second has its own count,
 * so a shifted or dropped second shows). Everything else a file can be —
 * truncated, not salvo's, without per-second histograms (an older salvo),
 * a histogram that does not decode, a name whose seconds do not line up
 * with the run's, wrong types — must be a one-line error naming what is
 * wrong (and, through `salvo compare`, the file, exit 2 before any output),
 * never a crash, a leak or a silently empty run. `make asan` runs this
 * under ASan/UBSan.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/hist.h"
#include "core/hist_codec.h"
#include "report/compare.h"
#include "report/compare_load.h"

#define NSEC 8

/* Requests of name g (0: "/a", 1: "/b") in second i: every second differs. */
static int count_of(int g, size_t i)
{
    return g ? 20 + 2 * (int)i : 10 + (int)i;
}

static json_t *b64_of(const struct hist *h)
{
    char *s = hist_encode_base64(h);
    assert_non_null(s);
    json_t *v = json_string(s);
    free(s);
    return v;
}

/*
 * A result of NSEC seconds (duration NSEC - 1: the last second is the
 * drain) with two names: "/a" around 2 ms, "/b" around 3 ms, service time
 * 100 µs below latency, per second count_of() requests and i % 3 errors of
 * "/b"; the run, and both names, keep latency and service time per second.
 */
static json_t *good_doc(void)
{
    struct hist all_lat, all_svc, nlat[2], nsvc[2];
    struct hist *hs[] = {&all_lat, &all_svc, &nlat[0], &nlat[1], &nsvc[0], &nsvc[1]};
    for (size_t k = 0; k < 6; k++)
        hist_init(hs[k], HIST_STD_LOWEST, HIST_STD_HIGHEST, HIST_STD_SIGFIG);
    json_t *tl = json_array(), *gl[2] = {json_array(), json_array()}, *gs[2] = {json_array(), json_array()};
    json_t *gd[2] = {json_array(), json_array()}, *ge[2] = {json_array(), json_array()};
    for (size_t i = 0; i < NSEC; i++) {
        struct hist sl, ss, l, s;
        hist_init(&sl, HIST_STD_LOWEST, HIST_STD_HIGHEST, HIST_STD_SIGFIG);
        hist_init(&ss, HIST_STD_LOWEST, HIST_STD_HIGHEST, HIST_STD_SIGFIG);
        int done = 0, errors = 0;
        for (int g = 0; g < 2; g++) {
            hist_init(&l, HIST_STD_LOWEST, HIST_STD_HIGHEST, HIST_STD_SIGFIG);
            hist_init(&s, HIST_STD_LOWEST, HIST_STD_HIGHEST, HIST_STD_SIGFIG);
            for (int k = 0; k < count_of(g, i); k++) {
                int64_t v = (g ? 3000 : 2000) + 10 * k;
                hist_record(&l, v);
                hist_record(&s, v - 100);
            }
            json_array_append_new(gl[g], b64_of(&l));
            json_array_append_new(gs[g], b64_of(&s));
            json_array_append_new(gd[g], json_integer(count_of(g, i)));
            json_array_append_new(ge[g], json_integer(g ? (json_int_t)(i % 3) : 0));
            hist_add(&sl, &l);
            hist_add(&ss, &s);
            hist_add(&nlat[g], &l);
            hist_add(&nsvc[g], &s);
            done += count_of(g, i);
            errors += g ? (int)(i % 3) : 0;
            hist_release(&l);
            hist_release(&s);
        }
        hist_add(&all_lat, &sl);
        hist_add(&all_svc, &ss);
        json_t *row = json_pack("{s:I,s:i,s:i}", "t", (json_int_t)i, "done", done, "errors", errors);
        json_object_set_new(row, "hdr_latency_us", b64_of(&sl));
        json_object_set_new(row, "hdr_service_time_us", b64_of(&ss));
        json_array_append_new(tl, row);
        hist_release(&sl);
        hist_release(&ss);
    }
    json_t *groups = json_object();
    for (int g = 0; g < 2; g++) {
        json_t *o = json_pack("{s:o,s:o,s:o,s:o}", "timeline_hdr_latency_us", gl[g], "timeline_hdr_service_time_us",
                              gs[g], "timeline_done", gd[g], "timeline_errors", ge[g]);
        json_object_set_new(o, "hdr_latency_us", b64_of(&nlat[g]));
        json_object_set_new(groups, g ? "/b" : "/a", o);
    }
    json_t *doc = json_pack("{s:s,s:f,s:{s:s,s:s,s:f,s:f},s:{},s:o,s:o}", "tool", "salvo", "duration_s",
                            (double)(NSEC - 1), "config", "url", "http://127.0.0.1:1/", "method", "GET", "rate", 60.0,
                            "duration_s", (double)(NSEC - 1), "hdr", "groups", groups, "timeline", tl);
    json_object_set_new(json_object_get(doc, "hdr"), "latency_us", b64_of(&all_lat));
    json_object_set_new(json_object_get(doc, "hdr"), "service_time_us", b64_of(&all_svc));
    for (size_t k = 0; k < 6; k++)
        hist_release(hs[k]);
    return doc;
}

/* The requests a second's grid histogram holds. */
static uint64_t sparse_total(const struct cmp_sparse *s)
{
    uint64_t n = 0;
    for (uint32_t i = 0; i < s->n; i++)
        n += s->count[i];
    return n;
}

/* The scope called name in r, or NULL. */
static const struct cmp_scope *scope_of(const struct cmp_run *r, const char *name)
{
    for (size_t i = 0; i < r->nscopes; i++)
        if (strcmp(r->scopes[i].name, name) == 0) return &r->scopes[i];
    return NULL;
}

static void test_valid_result_loads_every_second(void **state)
{
    (void)state;
    char why[256] = "";
    struct cmp_run r;
    json_t *doc = good_doc();
    int rc = cmp_run_from_json(doc, "good.json", &r, why, sizeof(why));
    if (rc != 0) fail_msg("a valid result was refused: %s", why);
    assert_string_equal(r.path, "good.json");
    assert_int_equal(r.nscopes, 3);
    uint64_t total = 0;
    const struct cmp_scope *run = scope_of(&r, "");
    assert_non_null(run);
    assert_int_equal(run->nsec, NSEC);
    assert_true(run->has_svc && run->has_counts);
    for (size_t i = 0; i < NSEC; i++) {
        uint64_t want = (uint64_t)(count_of(0, i) + count_of(1, i));
        if (sparse_total(&run->sec[i].lat) != want || sparse_total(&run->sec[i].svc) != want ||
            run->sec[i].done != want || run->sec[i].errors != i % 3)
            fail_msg("run second %zu: lat %llu svc %llu done %llu errors %llu, want %llu and %zu errors", i,
                     (unsigned long long)sparse_total(&run->sec[i].lat),
                     (unsigned long long)sparse_total(&run->sec[i].svc), (unsigned long long)run->sec[i].done,
                     (unsigned long long)run->sec[i].errors, (unsigned long long)want, i % 3);
        assert_int_equal(run->sec[i].in_rate, i + 1 < NSEC); /* the last second is past duration_s: the drain */
        total += want;
    }
    assert_int_equal(run->lat.total_count, total);
    assert_int_equal(run->svc.total_count, total);
    for (int g = 0; g < 2; g++) {
        const struct cmp_scope *s = scope_of(&r, g ? "/b" : "/a");
        assert_non_null(s);
        assert_int_equal(s->nsec, NSEC);
        assert_true(s->has_svc && s->has_counts);
        uint64_t sum = 0;
        for (size_t i = 0; i < NSEC; i++) {
            uint64_t want = (uint64_t)count_of(g, i);
            if (sparse_total(&s->sec[i].lat) != want || sparse_total(&s->sec[i].svc) != want ||
                s->sec[i].done != want || s->sec[i].errors != (g ? i % 3 : 0))
                fail_msg("%s second %zu: lat %llu svc %llu done %llu, want %llu", s->name, i,
                         (unsigned long long)sparse_total(&s->sec[i].lat),
                         (unsigned long long)sparse_total(&s->sec[i].svc), (unsigned long long)s->sec[i].done,
                         (unsigned long long)want);
            assert_int_equal(s->sec[i].in_rate, run->sec[i].in_rate);
            sum += want;
        }
        assert_int_equal(s->lat.total_count, sum);
        assert_int_equal(s->svc.total_count, sum); /* the sum of the name's seconds */
        int64_t p50 = hist_value_at_percentile(&s->svc, 50);
        assert_true(p50 > (g ? 2900 : 1900) && p50 < (g ? 3300 : 2300));
    }
    cmp_run_release(&r);
    cmp_run_release(&r); /* twice is harmless */
    json_decref(doc);
}

/* Each way to spoil good_doc, and what the refusal must say. */
static void spoil(json_t *d, int c)
{
    json_t *tl = json_object_get(d, "timeline"), *groups = json_object_get(d, "groups");
    json_t *a = json_object_get(groups, "/a"), *b = json_object_get(groups, "/b");
    switch (c) {
    case 0: json_object_del(json_array_get(tl, 3), "hdr_latency_us"); break;
    case 1: json_object_set_new(d, "tool", json_string("k6")); break;
    case 2: json_object_del(d, "tool"); break;
    case 3: json_array_set_new(tl, 0, json_integer(1)); break;
    case 4: json_object_set_new(json_array_get(tl, 5), "hdr_latency_us", json_string("HISTFAAA!!not base64")); break;
    case 5: json_object_set_new(json_array_get(tl, 2), "hdr_service_time_us", json_string("AAAA")); break;
    case 6: json_array_set_new(json_object_get(a, "timeline_hdr_latency_us"), 6, json_string("@@@@")); break;
    case 7: json_array_set_new(json_object_get(b, "timeline_hdr_service_time_us"), 1, json_string("%%%")); break;
    case 8: json_array_remove(json_object_get(b, "timeline_hdr_latency_us"), 0); break; /* one second short */
    case 9:
        json_array_append(json_object_get(a, "timeline_hdr_service_time_us"),
                          json_array_get(json_object_get(a, "timeline_hdr_service_time_us"), 0));
        break; /* one second long */
    case 10: json_array_remove(json_object_get(b, "timeline_errors"), 3); break;
    case 11: json_array_set_new(json_object_get(a, "timeline_hdr_latency_us"), 2, json_integer(7)); break;
    case 12: json_object_set_new(json_object_get(d, "hdr"), "latency_us", json_string("not base64")); break;
    case 13: json_object_set_new(d, "timeline", json_array()); break;
    case 14: json_object_set_new(d, "steps", json_array()); break;
    case 15: json_object_set_new(a, "hdr_latency_us", json_integer(3)); break;
    }
}

static const struct {
    const char *what, *want;
} refusals[] = {
    {"no per-second histograms", "no per-second histograms (timeline[3].hdr_latency_us"},
    {"another tool", "not a salvo result"},
    {"no tool", "not a salvo result"},
    {"a second that is not an object", "no per-second histograms (timeline[0]"},
    {"corrupt run second", "timeline[5]: a per-second histogram does not decode"},
    {"corrupt run service second", "timeline[2]: a per-second histogram does not decode"},
    {"corrupt name second", "name '/a': timeline histogram 6 does not decode"},
    {"corrupt name service second", "name '/b': timeline histogram 1 does not decode"},
    {"name latency a second short",
     "name '/b': per-second histograms do not match the timeline (7 seconds, the run has 8)"},
    {"name service a second long",
     "name '/a': per-second service-time histograms do not match the timeline (9 seconds, the run has 8)"},
    {"name counts a second short", "name '/b': per-second counts do not match the timeline"},
    {"name second not a string", "name '/a': timeline histogram 2 does not decode"},
    {"run histogram corrupt", "no histograms ('hdr.latency_us'"},
    {"empty timeline", "no timeline"},
    {"a find result", "a find result, not a run"},
    {"name total not a histogram", "name '/a': its histogram ('hdr_latency_us') does not decode"},
};

static void test_refusals_name_what_is_wrong(void **state)
{
    (void)state;
    json_t *good = good_doc();
    for (int c = 0; c < (int)(sizeof(refusals) / sizeof(refusals[0])); c++) {
        char why[256] = "";
        struct cmp_run r;
        json_t *d = json_deep_copy(good);
        spoil(d, c);
        int rc = cmp_run_from_json(d, "bad.json", &r, why, sizeof(why));
        if (rc != -EINVAL) fail_msg("%s: loaded (rc %d)", refusals[c].what, rc);
        if (!strstr(why, refusals[c].want)) fail_msg("%s: '%s', want '%s'", refusals[c].what, why, refusals[c].want);
        if (strchr(why, '\n')) fail_msg("%s: not one line: '%s'", refusals[c].what, why);
        assert_int_equal(r.nscopes, 0); /* released on the way out: nothing to free, nothing half-loaded */
        json_decref(d);
    }
    /* Not an object at all. */
    char why[256];
    struct cmp_run r;
    json_t *arr = json_array();
    assert_int_equal(cmp_run_from_json(arr, "arr.json", &r, why, sizeof(why)), -EINVAL);
    assert_non_null(strstr(why, "not a salvo result"));
    json_decref(arr);
    json_decref(good);
}

/* ------------------------------------------------ through salvo compare */

struct captured {
    int code;
    char out[4096], err[4096];
};

/* Reads fd (a file at offset 0..end) into buf. */
static void slurp(int fd, char *buf, size_t cap)
{
    lseek(fd, 0, SEEK_SET);
    ssize_t n = read(fd, buf, cap - 1);
    buf[n > 0 ? n : 0] = '\0';
}

/* Runs `salvo compare ARGS…` in this process, stdout and stderr captured. */
static void run_compare(struct captured *c, int argc, const char **args)
{
    char *argv[8];
    argv[0] = (char *)"compare";
    for (int i = 0; i < argc; i++)
        argv[i + 1] = (char *)args[i];
    argv[argc + 1] = NULL;
    FILE *fo = tmpfile(), *fe = tmpfile();
    assert_non_null(fo);
    assert_non_null(fe);
    fflush(stdout);
    fflush(stderr);
    int so = dup(1), se = dup(2);
    dup2(fileno(fo), 1);
    dup2(fileno(fe), 2);
    c->code = cli_compare(argc + 1, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(so);
    close(se);
    slurp(fileno(fo), c->out, sizeof(c->out));
    slurp(fileno(fe), c->err, sizeof(c->err));
    fclose(fo);
    fclose(fe);
}

/* Writes text to dir/name; returns the path (static slot k). */
static const char *write_file(const char *dir, const char *name, const char *text, size_t len, int k)
{
    static char paths[8][512];
    snprintf(paths[k], sizeof(paths[k]), "%s/%s", dir, name);
    FILE *f = fopen(paths[k], "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
    return paths[k];
}

static const char *write_doc(const char *dir, const char *name, const json_t *doc, int k)
{
    char *s = json_dumps(doc, JSON_COMPACT);
    assert_non_null(s);
    const char *p = write_file(dir, name, s, strlen(s), k);
    free(s);
    return p;
}

static void test_cli_exit_2_names_the_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/salvo-test-compare-load-XXXXXX";
    assert_non_null(mkdtemp(dir));
    json_t *good = good_doc();
    const char *gp = write_doc(dir, "good.json", good, 0);
    char *text = json_dumps(good, JSON_COMPACT);
    struct {
        const char *file, *want;
        int spoil; /* -1: the truncated text instead */
    } cases[] = {
        {"truncated.json", "not a salvo result (invalid JSON", -1},
        {"k6.json", "not a salvo result", 1},
        {"old.json", "no per-second histograms", 0},
        {"corrupt.json", "name '/a': timeline histogram 6 does not decode", 6},
        {"shifted.json", "name '/b': per-second histograms do not match the timeline", 8},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        const char *bp;
        if (cases[c].spoil < 0) {
            bp = write_file(dir, cases[c].file, text, strlen(text) / 2, 1);
        } else {
            json_t *d = json_deep_copy(good);
            spoil(d, cases[c].spoil);
            bp = write_doc(dir, cases[c].file, d, 1);
            json_decref(d);
        }
        for (int side = 0; side < 2; side++) { /* as the baseline, then as the candidate */
            struct captured cap;
            const char *args[] = {side ? gp : bp, side ? bp : gp, "-q"};
            run_compare(&cap, 3, args);
            char want[600];
            snprintf(want, sizeof(want), "'%s': %s", bp, cases[c].want);
            if (cap.code != 2 || !strstr(cap.err, want) || cap.out[0])
                fail_msg("%s (side %d): exit %d, stderr '%s', stdout '%s'; want exit 2, '%s', no output", cases[c].file,
                         side, cap.code, cap.err, cap.out, want);
            char *nl = strchr(cap.err, '\n');
            if (!nl || nl[1]) fail_msg("%s: not one line: '%s'", cases[c].file, cap.err);
        }
        unlink(bp);
    }
    /* The good file against itself goes through: exit 0. */
    struct captured cap;
    const char *args[] = {gp, gp, "-q"};
    run_compare(&cap, 3, args);
    if (cap.code != 0) fail_msg("good against good: exit %d, stderr '%s'", cap.code, cap.err);
    unlink(gp);
    rmdir(dir);
    free(text);
    json_decref(good);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_result_loads_every_second),
        cmocka_unit_test(test_refusals_name_what_is_wrong),
        cmocka_unit_test(test_cli_exit_2_names_the_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

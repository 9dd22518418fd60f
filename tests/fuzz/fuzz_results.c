/*
 * fuzz_results.c — reading results JSON, as `salvo report` and `salvo
 * merge` do (src/report/merge.c, merge_sum.c, html*.c, thresholds.c).
 *
 * The input is any JSON: missing keys, wrong types, huge numbers, deep
 * nesting, histograms that do not decode. It is read the way report_cli
 * reads a file (a demo's {"experiments": [{"name", "result"}]} or a single
 * result with a "config" object) and rendered to HTML; and the way
 * merge_cli reads shards (a top-level array here stands for several shard
 * files): each is offered to merge_add, and when any is taken the merged
 * result is built, gated by thresholds, rendered and serialised. A
 * single result is gated by the same ten thresholds (every metric kind).
 * Every result (and the merged one) is also loaded the way `salvo compare`
 * loads one (compare_load.c, its per-second and per-name arrays), and a
 * document with "steps" is judged as a find result against itself
 * (compare_find.c). Nothing may crash, leak or loop; refusals say why.
 */
#include <string.h>

#include <jansson.h>

#include "common.h"
#include "report/compare_find.h"
#include "report/compare_load.h"
#include "report/html.h"
#include "report/merge.h"
#include "report/thresholds.h"

static FILE *devnull;
#define NGATES 10
static struct threshold gates[NGATES];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    static const char *const text[NGATES] = {
        "latency.p99 < 250ms", "errors.rate < 1%",        "rate.achieved >= 99%", "latency{name=/health}.p99.9 <= 1s",
        "ttfb.p50 > 1us",      "service_time.max != 0us", "wait.mean == 0us",     "connect.p90 < 1ms",
        "send_lag.p99 < 1ms",  "requests.count >= 1",
    };
    const char *why;
    for (int i = 0; i < NGATES; i++)
        CHECK(threshold_parse(&gates[i], text[i], &why) == 0);
    devnull = fopen("/dev/null", "w");
    CHECK(devnull);
    return 0;
}

/* What report_cli makes of one file. */
static void report(json_t *doc)
{
    json_t *results[16];
    const char *titles[16];
    size_t n = 0, i;
    json_t *e;
    json_array_foreach(json_object_get(doc, "experiments"), i, e)
    {
        json_t *r = json_object_get(e, "result");
        if (!json_is_object(r) || n == 16) continue;
        titles[n] = json_string_value(json_object_get(e, "name"));
        results[n++] = r;
    }
    if (n == 0 && json_is_object(doc) && json_is_object(json_object_get(doc, "config"))) {
        titles[0] = NULL;
        results[n++] = doc;
    }
    if (n > 0) CHECK(report_html_write(devnull, results, titles, n) == 0);
    /* `run --threshold` and `report` judge a result as it is: a copy, as apply writes into it. */
    if (json_is_object(doc)) {
        json_t *copy = json_deep_copy(doc);
        CHECK(copy);
        int failed = thresholds_apply(gates, NGATES, copy);
        CHECK(failed >= 0 && failed <= NGATES);
        thresholds_print(devnull, copy);
        json_decref(copy);
    }
}

/* What `salvo compare` makes of doc: a run loaded (and compared with itself), or a find result judged. */
static void compare(const json_t *doc)
{
    char why[256] = "";
    if (cmp_is_find(doc)) {
        struct cmp_capacity cap;
        size_t pairs[8][2];
        cmp_capacity_judge(doc, doc, &cap);
        CHECK(cap.verdict == CMP_NO_CHANGE || cap.verdict == CMP_INCONCLUSIVE);
        CHECK(cmp_find_pairs(doc, doc, pairs, 8) <= 8);
        json_decref(cmp_capacity_json(&cap));
        return;
    }
    static struct cmp_run run;
    if (cmp_run_from_json(doc, "a.json", &run, why, sizeof(why)) < 0) {
        CHECK(why[0] && memchr(why, '\0', sizeof(why)));
        return;
    }
    /* A short run compares quickly; a long fuzzed timeline is loaded only. */
    if (run.scopes[0].nsec <= 64) {
        static struct cmp_result r;
        struct cmp_options opt;
        cmp_options_default(&opt);
        opt.resamples = 50; /* the arithmetic is what is fuzzed, not the statistics */
        const struct cmp_run *side[1] = {&run};
        CHECK(cmp_compute(side, 1, side, 1, &opt, &r) == 0);
    }
    cmp_run_release(&run);
}

/* What merge_cli makes of the shards in doc (an array) or of doc alone. */
static void merge(json_t *doc)
{
    struct merge m;
    char why[512];
    merge_init(&m);
    size_t count = json_is_array(doc) ? json_array_size(doc) : 1;
    for (size_t i = 0; i < count && i < 16; i++) {
        json_t *shard = json_is_array(doc) ? json_array_get(doc, i) : doc;
        why[0] = '\0';
        if (merge_add(&m, shard, "shard.json", why, sizeof why) < 0) CHECK(why[0] && memchr(why, '\0', sizeof why));
    }
    json_t *merged = merge_result(&m);
    if (merged) {
        compare(merged);
        int failed = merge_apply_thresholds(merged, gates, NGATES);
        CHECK(failed >= 0 && failed <= NGATES);
        CHECK(report_html_write(devnull, &merged, NULL, 1) == 0);
        char *text = json_dumps(merged, 0);
        CHECK(text);
        free(text);
        json_decref(merged);
    }
    merge_release(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *doc = json_loadb((const char *)data, size, 0, NULL);
    if (!doc) return 0;
    report(doc);
    compare(doc);
    merge(doc);
    json_decref(doc);
    return 0;
}

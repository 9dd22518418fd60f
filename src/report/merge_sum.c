/*
 * merge_sum.c — add the shards' figures: counters, trends and timelines
 * (see merge_sum.h; merge.c assembles the document from them).
 *
 * Counts add and are exact (far below 2^53 even as doubles). A trend's
 * percentiles come only from the sum of the shards' histograms, built with
 * report_json_percentiles so that they read exactly like a single run's;
 * when a shard has the trend but no histogram for it, min, max, count and
 * mean are still exact and the percentiles are null rather than guessed.
 * Per-second rows cannot be summed that way (a row holds no histogram), so
 * a second made from several shards is marked "approx".
 *
 * Report time, not the hot path: every histogram is decoded here once
 * more, to be added.
 */
#include "report/merge_sum.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/hist.h"
#include "core/hist_codec.h"
#include "report/json.h"

/* Top-level trend objects, each with its histogram under "hdr". */
static const char *const trend_keys[] = {"latency_us", "service_time_us", "wait_us", "ttfb_us", "connect_us"};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* calloc that aborts on out of memory, as every allocation in salvo. */
static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) abort();
    return p;
}

/* ------------------------------------------------------------- counts */

/* Adds the number v into dst[key]; integers stay integers. */
json_int_t merge_int(double v)
{
    if (isnan(v)) return 0;
    if (v >= 0x1p63) return INT64_MAX;
    if (v < -0x1p63) return INT64_MIN;
    return (json_int_t)v;
}

json_int_t merge_int_add(json_int_t a, json_int_t b)
{
    json_int_t r;
    if (!__builtin_add_overflow(a, b, &r)) return r;
    return b > 0 ? INT64_MAX : INT64_MIN;
}

static void add_number(json_t *dst, const char *key, json_t *v)
{
    json_t *d = json_object_get(dst, key);
    if (json_is_integer(v) && (!d || json_is_integer(d)))
        json_object_set_new(dst, key, json_integer(merge_int_add(json_integer_value(d), json_integer_value(v))));
    else
        json_object_set_new(dst, key, json_real(json_number_value(d) + json_number_value(v)));
}

/* Adds every number of src into dst under the same key; with deep, nested
 * objects are added the same way. */
static void add_numbers(json_t *dst, json_t *src, bool deep)
{
    const char *key;
    json_t *v;
    json_object_foreach(src, key, v)
    {
        json_t *d = json_object_get(dst, key);
        if (json_is_number(v)) {
            add_number(dst, key, v);
        } else if (deep && json_is_object(v)) {
            if (!json_is_object(d)) json_object_set_new(dst, key, d = json_object());
            add_numbers(d, v, true);
        }
    }
}

/* The sum over shards of the counters in result[key]. */
json_t *merge_sum_member(const struct merge_shards *m, const char *key, bool deep)
{
    json_t *o = json_object();
    for (size_t i = 0; i < m->n; i++)
        add_numbers(o, json_object_get(m->results[i], key), deep);
    return o;
}

/* The sum, max or min over shards of the number result[parent][key]
 * (parent NULL: the top level). Counts stay exact: they are far below 2^53. */
double merge_over_shards(const struct merge_shards *m, const char *parent, const char *key, enum merge_fold fold)
{
    double acc = 0;
    for (size_t i = 0; i < m->n; i++) {
        json_t *p = parent ? json_object_get(m->results[i], parent) : m->results[i];
        double v = json_number_value(json_object_get(p, key));
        if (fold == FOLD_SUM)
            acc += v;
        else if (i == 0 || (fold == FOLD_MAX ? v > acc : v < acc))
            acc = v;
    }
    return acc;
}

/* ------------------------------------------------------------- trends */

/* What can be merged exactly without histograms: min, max, count and the
 * count-weighted mean. The percentiles are null, because any value made up
 * from the shards' percentiles would be a guess presented as a measurement. */
static json_t *trend_without_histograms(json_t *const *objs, size_t n)
{
    json_int_t count = 0, lo = 0, hi = 0;
    double weighted = 0;
    for (size_t i = 0; i < n; i++) {
        json_int_t c = objs[i] ? json_integer_value(json_object_get(objs[i], "count")) : 0;
        if (c <= 0) continue;
        json_int_t mn = merge_int(json_number_value(json_object_get(objs[i], "min")));
        json_int_t mx = merge_int(json_number_value(json_object_get(objs[i], "max")));
        if (count == 0 || mn < lo) lo = mn;
        if (count == 0 || mx > hi) hi = mx;
        weighted += json_number_value(json_object_get(objs[i], "mean")) * (double)c;
        count = merge_int_add(count, c);
    }
    json_t *o = json_pack("{s:I,s:f}", "min", lo, "mean", count ? weighted / (double)count : 0.0);
    static const char *const pct[] = {"p50", "p90", "p99", "p99_9", "p99_99"};
    for (size_t i = 0; i < NELEM(pct); i++)
        json_object_set_new(o, pct[i], json_null());
    json_object_set_new(o, "max", json_integer(hi));
    json_object_set_new(o, "count", json_integer(count));
    return o;
}

/*
 * Merges the trend objects objs[0..n) (NULL where a shard has none) using
 * their histograms hdrs[]. Returns NULL when no shard has the trend. Sets
 * *hdr_out to the summed histogram (base64) when every shard that has the
 * trend carries a histogram for it, else to NULL and the percentiles are null.
 */
static json_t *merge_trend(json_t *const *objs, json_t *const *hdrs, size_t n, json_t **hdr_out)
{
    struct hist sum = {0};
    bool any = false, exact = true;
    *hdr_out = NULL;
    for (size_t i = 0; i < n && exact; i++) {
        if (!objs[i]) continue;
        struct hist one = {0};
        exact = json_is_string(hdrs[i]) && hist_decode_base64(json_string_value(hdrs[i]), &one) == 0;
        if (exact && !any) {
            sum = one; /* the first histogram becomes the sum, layout and all */
            any = true;
            continue;
        }
        /* Counts the sum cannot hold would be missing from every percentile. */
        if (exact && hist_add(&sum, &one) != 0) exact = false;
        hist_release(&one);
        any = true;
    }
    json_t *out = NULL;
    if (any && exact) {
        out = report_json_percentiles(&sum);
        char *b64 = hist_encode_base64(&sum);
        if (b64) *hdr_out = json_string(b64);
        free(b64);
    } else if (any) {
        out = trend_without_histograms(objs, n);
    }
    hist_release(&sum);
    return out;
}

/* Merges result[parent][key] (parent NULL: the top level) with result.hdr[key]. */
static json_t *merge_named_trend(const struct merge_shards *m, const char *parent, const char *key, json_t *hdr_out)
{
    json_t **objs = xcalloc(m->n, sizeof(*objs)), **hdrs = xcalloc(m->n, sizeof(*hdrs)), *hdr = NULL;
    for (size_t i = 0; i < m->n; i++) {
        json_t *r = m->results[i];
        objs[i] = json_object_get(parent ? json_object_get(r, parent) : r, key);
        if (!json_is_object(objs[i])) objs[i] = NULL;
        hdrs[i] = json_object_get(json_object_get(r, "hdr"), key);
    }
    json_t *out = merge_trend(objs, hdrs, m->n, &hdr);
    if (hdr) json_object_set_new(hdr_out, key, hdr);
    free(objs);
    free(hdrs);
    return out;
}

/* The top-level trends; latency keeps its timeout and lower-bound flag. */
void merge_trends(const struct merge_shards *m, json_t *o, json_t *hdr)
{
    for (size_t i = 0; i < NELEM(trend_keys); i++) {
        json_t *t = merge_named_trend(m, NULL, trend_keys[i], hdr);
        if (t) json_object_set_new(o, trend_keys[i], t);
    }
    json_t *lat = json_object_get(o, "latency_us");
    if (!lat) return;
    bool lower = false;
    for (size_t i = 0; i < m->n; i++)
        lower |= json_is_true(json_object_get(json_object_get(m->results[i], "latency_us"), "lower_bounds"));
    /* config.timeout_s is the same in every shard (checked), so is timeout_us. */
    json_t *timeout = json_object_get(json_object_get(m->results[0], "latency_us"), "timeout_us");
    if (timeout) json_object_set(lat, "timeout_us", timeout);
    json_object_set_new(lat, "lower_bounds", json_boolean(lower));
}

/* One request name: its counters added, its latency from its histograms. */
static json_t *merge_group(const struct merge_shards *m, const char *name, json_t **objs, json_t **hdrs)
{
    json_t *e = json_object(), *status = json_object(), *hdr = NULL;
    for (size_t i = 0; i < m->n; i++) {
        json_t *g = json_object_get(json_object_get(m->results[i], "groups"), name);
        objs[i] = json_object_get(g, "latency_us");
        hdrs[i] = json_object_get(g, "hdr_latency_us");
        add_numbers(e, g, false);
        add_numbers(status, json_object_get(g, "status"), false);
    }
    json_t *lat = merge_trend(objs, hdrs, m->n, &hdr);
    if (lat) json_object_set_new(e, "latency_us", lat);
    json_object_set_new(e, "status", status);
    if (hdr) json_object_set_new(e, "hdr_latency_us", hdr);
    return e;
}

/* groups: the union of the shards' request names. */
json_t *merge_groups(const struct merge_shards *m)
{
    json_t *out = json_object(), *g;
    json_t **objs = xcalloc(m->n, sizeof(*objs)), **hdrs = xcalloc(m->n, sizeof(*hdrs));
    const char *name;
    for (size_t i = 0; i < m->n; i++) {
        json_object_foreach(json_object_get(m->results[i], "groups"), name, g)
        {
            if (!json_object_get(out, name)) json_object_set_new(out, name, merge_group(m, name, objs, hdrs));
        }
    }
    free(objs);
    free(hdrs);
    return out;
}

/* machine_cpu: the worst shard's share of each kind (shards may share a
 * machine or not, so shares neither add up nor average); null when none has it. */
static json_t *merge_machine_cpu(const struct merge_shards *m)
{
    static const char *const keys[] = {"busy_pct", "softirq_pct", "iowait_pct", "steal_pct"};
    json_t *out = NULL;
    for (size_t i = 0; i < m->n; i++) {
        json_t *mc = json_object_get(json_object_get(m->results[i], "generator"), "machine_cpu");
        if (!json_is_object(mc)) continue;
        if (!out) out = json_object();
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            json_t *v = json_object_get(mc, keys[k]), *have = json_object_get(out, keys[k]);
            if (json_is_number(v) && (!have || json_number_value(v) > json_number_value(have)))
                json_object_set_new(out, keys[k], json_real(json_number_value(v)));
        }
    }
    return out ? out : json_null();
}

/* generator: CPU adds up over processes, per-process peaks take the max,
 * threads are listed shard after shard, send lag comes from its histograms. */
json_t *merge_generator(const struct merge_shards *m, json_t *hdr)
{
    json_t *o = json_object(), *per = json_array();
    for (size_t i = 0; i < m->n; i++) {
        json_t *threads = json_object_get(json_object_get(m->results[i], "generator"), "cpu_pct_per_thread");
        if (json_is_array(threads)) json_array_extend(per, threads);
    }
    json_object_set_new(o, "cpu_pct", json_real(merge_over_shards(m, "generator", "cpu_pct", FOLD_SUM)));
    json_object_set_new(o, "cpu_pct_max_thread",
                        json_real(merge_over_shards(m, "generator", "cpu_pct_max_thread", FOLD_MAX)));
    json_object_set_new(o, "busy_pct_max_thread",
                        json_real(merge_over_shards(m, "generator", "busy_pct_max_thread", FOLD_MAX)));
    json_object_set_new(o, "runq_wait_pct_max_thread",
                        json_real(merge_over_shards(m, "generator", "runq_wait_pct_max_thread", FOLD_MAX)));
    json_object_set_new(o, "cpu_pct_per_thread", per);
    json_object_set_new(o, "max_rss_kb",
                        json_integer(merge_int(merge_over_shards(m, "generator", "max_rss_kb", FOLD_MAX))));
    json_t *lag = merge_named_trend(m, "generator", "send_lag_us", hdr);
    if (lag) json_object_set_new(o, "send_lag_us", lag);
    json_object_set_new(o, "machine_cpu", merge_machine_cpu(m));
    return o;
}

/* ----------------------------------------------------------- timeline */

/* One shard's timeline row placed on the merged wall-clock second. */
struct placed_row {
    int64_t t;
    size_t shard_pos, index; /* the shard, and the row's index in its timeline */
    json_t *row;
};

/* Orders rows by merged second, then by shard. */
static int placed_row_cmp(const void *a, const void *b)
{
    const struct placed_row *x = a, *y = b;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    return x->shard_pos < y->shard_pos ? -1 : x->shard_pos > y->shard_pos;
}

/* Adds row into out: a per-second figure in µs (a max or a percentile)
 * takes the max over shards, every other number (counts and gauges) adds. */
static void add_row(json_t *out, json_t *row)
{
    const char *key;
    json_t *v;
    json_object_foreach(row, key, v)
    {
        size_t len = strlen(key);
        if (!strcmp(key, "t") || !json_is_number(v)) continue;
        json_t *d = json_object_get(out, key);
        if (len <= 3 || strcmp(key + len - 3, "_us") != 0)
            add_number(out, key, v);
        else if (!d || json_number_value(v) > json_number_value(d))
            json_object_set(out, key, v);
    }
}

/* Adds the histogram v (base64) into sum; false when v is not a string that decodes. */
static bool add_b64(struct hist *sum, const json_t *v)
{
    struct hist h = {0};
    bool ok = json_is_string(v) && hist_decode_base64(json_string_value(v), &h) == 0;
    if (ok) hist_add(sum, &h);
    hist_release(&h);
    return ok;
}

/*
 * The per-second histograms (hdr_latency_us, hdr_service_time_us) of the
 * rows placed on one merged second, added: `salvo compare` bootstraps over
 * them. A key is written only when every row of the second has it (a shard
 * of an older salvo lacks it: a partial sum would pass for the whole).
 */
static void add_row_hists(json_t *out, const struct placed_row *rows, size_t n)
{
    static const char *const keys[] = {"hdr_latency_us", "hdr_service_time_us"};
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
        struct hist sum;
        hist_init(&sum, HIST_STD_LOWEST, HIST_STD_HIGHEST, HIST_STD_SIGFIG);
        bool all = true;
        for (size_t i = 0; i < n && all; i++)
            all = add_b64(&sum, json_object_get(rows[i].row, keys[k]));
        char *b64 = all ? hist_encode_base64(&sum) : NULL;
        if (b64) json_object_set_new(out, keys[k], json_string(b64));
        free(b64);
        hist_release(&sum);
    }
}

/*
 * Where shard i keeps name's per-second data: its arrays (groups[name].
 * timeline_*), or, for a shard of one name, its timeline (that name's).
 * False when the shard has the name without either: a sum without it
 * would pass for the whole.
 */
static bool name_source(const json_t *result, const char *name, const json_t **g)
{
    const json_t *groups = json_object_get(result, "groups");
    *g = json_object_get(groups, name);
    return !*g || json_is_array(json_object_get(*g, "timeline_hdr_latency_us")) || json_object_size(groups) == 1;
}

/*
 * Adds shard row r's service time for name (g its group there) into svc;
 * false when the shard does not keep it per name (an older salvo) or it
 * does not decode: the merged name then has none rather than a part.
 */
static bool add_name_service(const json_t *g, const struct placed_row *r, struct hist *svc)
{
    const json_t *tl = json_object_get(g, "timeline_hdr_latency_us");
    const json_t *stl = json_object_get(g, "timeline_hdr_service_time_us");
    if (tl && !json_is_array(stl)) return false;
    const json_t *v = tl ? json_array_get(stl, r->index) : json_object_get(r->row, "hdr_service_time_us");
    if (json_is_null(v) || (!tl && !v)) return true;
    return add_b64(svc, v);
}

/* Adds shard row r's data for name (g its group there) into sum, done and errors; false if it does not decode. */
static bool add_name_second(const json_t *g, const struct placed_row *r, struct hist *sum, json_int_t *done,
                            json_int_t *errors, bool *counts)
{
    const json_t *tl = json_object_get(g, "timeline_hdr_latency_us");
    const json_t *v = tl ? json_array_get(tl, r->index) : json_object_get(r->row, "hdr_latency_us");
    const json_t *d =
        tl ? json_array_get(json_object_get(g, "timeline_done"), r->index) : json_object_get(r->row, "done");
    const json_t *e =
        tl ? json_array_get(json_object_get(g, "timeline_errors"), r->index) : json_object_get(r->row, "errors");
    *counts &= json_is_integer(d) && json_is_integer(e);
    *done = merge_int_add(*done, json_integer_value(d));
    *errors = merge_int_add(*errors, json_integer_value(e));
    if (json_is_null(v) || !v) return true;
    return add_b64(sum, v);
}

/*
 * groups[name].timeline_hdr_latency_us, timeline_hdr_service_time_us (when every shard keeps it), timeline_done and
 * timeline_errors of the merged seconds, for every name each shard that has it keeps them for (a one-name shard: its
 * timeline), so `salvo compare` of a merged result compares per name too. A second without traffic of the name is null;
 * a histogram that does not decode drops the name's arrays.
 */
static void add_name_timelines(const struct merge_shards *m, json_t *groups, const struct placed_row *rows, size_t k)
{
    const char *name;
    json_t *merged_g;
    json_object_foreach(groups, name, merged_g)
    {
        const json_t *g[64];
        bool ok = m->n <= 64, counts = true;
        for (size_t i = 0; i < m->n && ok; i++)
            ok = name_source(m->results[i], name, &g[i]);
        if (!ok) continue;
        json_t *lat = json_array(), *svc = json_array(), *done = json_array(), *errors = json_array();
        bool has_svc = true;
        for (size_t a = 0, b; ok && a < k; a = b) {
            struct hist sum, ssum;
            hist_init(&sum, HIST_STD_LOWEST, HIST_STD_HIGHEST, HIST_STD_SIGFIG);
            hist_init(&ssum, HIST_STD_LOWEST, HIST_STD_HIGHEST, HIST_STD_SIGFIG);
            json_int_t d = 0, e = 0;
            for (b = a; b < k && rows[b].t == rows[a].t; b++) {
                const json_t *gb = g[rows[b].shard_pos];
                if (!gb) continue;
                ok &= add_name_second(gb, &rows[b], &sum, &d, &e, &counts);
                has_svc = has_svc && add_name_service(gb, &rows[b], &ssum);
            }
            char *b64 = sum.total_count ? hist_encode_base64(&sum) : NULL;
            json_array_append_new(lat, b64 ? json_string(b64) : json_null());
            free(b64);
            b64 = has_svc && ssum.total_count ? hist_encode_base64(&ssum) : NULL;
            json_array_append_new(svc, b64 ? json_string(b64) : json_null());
            free(b64);
            hist_release(&ssum);
            json_array_append_new(done, json_integer(d));
            json_array_append_new(errors, json_integer(e));
            hist_release(&sum);
        }
        if (ok) json_object_set(merged_g, "timeline_hdr_latency_us", lat);
        if (ok && has_svc) json_object_set(merged_g, "timeline_hdr_service_time_us", svc);
        json_decref(svc);
        if (ok && counts) {
            json_object_set(merged_g, "timeline_done", done);
            json_object_set(merged_g, "timeline_errors", errors);
        }
        json_decref(lat);
        json_decref(done);
        json_decref(errors);
    }
}

/*
 * The timelines on wall-clock seconds since start_ms: a shard's row t covers
 * [its start + t, +1 s), and shards started with --start-at share the start,
 * so rows line up exactly; other offsets are rounded to the nearest second.
 * A row made from two or more shards gets "approx": true, because its
 * p50_us/p99_us are the max over the shards, not percentiles of the second.
 */
json_t *merge_timeline(const struct merge_shards *m, json_int_t start_ms, json_t *groups)
{
    size_t nrows = 0, k = 0;
    for (size_t i = 0; i < m->n; i++)
        nrows += json_array_size(json_object_get(m->results[i], "timeline"));
    struct placed_row *rows = xcalloc(nrows, sizeof(*rows));
    for (size_t i = 0; i < m->n; i++) {
        json_t *r = m->results[i], *row;
        size_t j;
        double offset_s = ((double)json_integer_value(json_object_get(r, "start_unix_ms")) - (double)start_ms) / 1000.0;
        json_array_foreach(json_object_get(r, "timeline"), j, row)
        {
            if (!json_is_object(row)) continue;
            double t = round(offset_s) + (double)json_integer_value(json_object_get(row, "t"));
            rows[k++] = (struct placed_row){merge_int(t), i, j, row};
        }
    }
    qsort(rows, k, sizeof(*rows), placed_row_cmp);
    json_t *out = json_array();
    for (size_t a = 0, b; a < k; a = b) {
        json_t *merged = json_pack("{s:I}", "t", (json_int_t)rows[a].t);
        for (b = a; b < k && rows[b].t == rows[a].t; b++)
            add_row(merged, rows[b].row);
        add_row_hists(merged, &rows[a], b - a);
        if (b - a > 1) json_object_set_new(merged, "approx", json_true());
        json_array_append_new(out, merged);
    }
    /* Per name only when the merge has several names: one name's seconds are the timeline's. */
    if (json_object_size(groups) > 1) add_name_timelines(m, groups, rows, k);
    free(rows);
    return out;
}

/*
 * merge.c — add the results of a run's shards into one result (see merge.h).
 *
 * The merged document is built section by section in the order json.c
 * writes a single run. Three rules hold throughout: counts add; percentiles
 * come only from summed histograms, never from the shards' percentiles; a
 * figure that cannot be combined exactly is either marked ("approx" on
 * timeline rows) or null (percentiles without a histogram), never passed off
 * as exact. Inputs are read tolerantly where the contract allows a section
 * to be missing, but refused when they are not salvo results of one run.
 */
#include "report/merge.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hist.h"
#include "core/hist_codec.h"

/* The configuration keys that define a run's schedule and measurement: the
 * shards of one run share them (threads and connections may differ). */
static const char *const run_keys[] = {
    "url",    "method",           "name",  "rate",   "arrival",   "duration_s", "timeout_s", "seed",
    "shards", "start_at_unix_ms", "model", "stages", "keepalive",
};

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

/* A member's string value, "" when it is missing or not a string. */
static const char *str_of(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* ------------------------------------------------------- checking inputs */

/* Formats a refusal into why and returns -EINVAL. */
static int refuse(char *why, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int refuse(char *why, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (cap) vsnprintf(why, cap, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* True when v is a string holding a histogram hist_codec can decode. */
static bool decodes(const json_t *v)
{
    struct hist h = {0};
    bool ok = json_is_string(v) && hist_decode_base64(json_string_value(v), &h) == 0;
    hist_release(&h);
    return ok;
}

/* Refuses a result whose embedded histograms do not decode: merging would
 * otherwise silently drop that shard's share of every percentile. */
static int check_histograms(json_t *result, char *why, size_t cap)
{
    json_t *hdr = json_object_get(result, "hdr"), *v;
    const char *key;
    if (hdr && !json_is_object(hdr)) return refuse(why, cap, "\"hdr\" is not an object");
    json_object_foreach(hdr, key, v) {
        if (!decodes(v)) return refuse(why, cap, "hdr.%s is not a valid HdrHistogram", key);
    }
    json_object_foreach(json_object_get(result, "groups"), key, v) {
        json_t *g = json_object_get(v, "hdr_latency_us");
        if (g && !decodes(g)) return refuse(why, cap, "groups.%s.hdr_latency_us is not a valid HdrHistogram", key);
    }
    return 0;
}

/* Checks that result is a salvo result of a (possibly sharded) run and
 * reads its shard index and shard count. */
static int check_identity(json_t *result, uint32_t *shard, uint32_t *nshards, char *why, size_t cap)
{
    if (!json_is_object(result) || strcmp(str_of(result, "tool"), "salvo") != 0)
        return refuse(why, cap, "not a salvo result (no \"tool\": \"salvo\")");
    json_t *config = json_object_get(result, "config");
    if (!json_is_object(config) || !json_is_object(json_object_get(result, "requests")))
        return refuse(why, cap, "not a salvo result (no \"config\" or \"requests\" object)");
    if (!*str_of(result, "run_id")) return refuse(why, cap, "no run_id (written by a salvo without sharding?)");
    json_t *k = json_object_get(config, "shard"), *n = json_object_get(config, "shards");
    if (!json_is_integer(n) || json_integer_value(n) < 1 || json_integer_value(n) > UINT32_MAX)
        return refuse(why, cap, "config.shards is not a positive integer");
    if (!json_is_integer(k) || json_integer_value(k) < 0 || json_integer_value(k) >= json_integer_value(n))
        return refuse(why, cap, "config.shard is not an index below config.shards (a merged result?)");
    *shard = (uint32_t)json_integer_value(k);
    *nshards = (uint32_t)json_integer_value(n);
    return 0;
}

/* Checks that result belongs to the same run as the first result added. */
static int check_same_run(const struct merge *m, json_t *result, uint32_t nshards, char *why, size_t cap)
{
    json_t *first = m->results[0];
    const char *other = m->names[0];
    if (strcmp(str_of(result, "run_id"), str_of(first, "run_id")) != 0)
        return refuse(why, cap, "run_id %s differs from %s of '%s' (not the same run)", str_of(result, "run_id"),
                      str_of(first, "run_id"), other);
    if (nshards != m->nshards)
        return refuse(why, cap, "config.shards %u differs from %u of '%s'", nshards, m->nshards, other);
    json_t *ca = json_object_get(result, "config"), *cb = json_object_get(first, "config");
    for (size_t i = 0; i < NELEM(run_keys); i++) {
        json_t *a = json_object_get(ca, run_keys[i]), *b = json_object_get(cb, run_keys[i]);
        if ((a || b) && !json_equal(a, b))
            return refuse(why, cap, "config.%s differs from that of '%s' (not the same run)", run_keys[i], other);
    }
    /* The intended rate is the whole run's in every shard (-r describes the
     * run, not the shard); a difference means the results are not one run. */
    double ra = json_number_value(json_object_get(json_object_get(result, "rate"), "intended"));
    double rb = json_number_value(json_object_get(json_object_get(first, "rate"), "intended"));
    if (ra != rb) return refuse(why, cap, "rate.intended %g differs from %g of '%s'", ra, rb, other);
    return 0;
}

void merge_init(struct merge *m)
{
    memset(m, 0, sizeof(*m));
}

void merge_release(struct merge *m)
{
    if (!m) return;
    for (size_t i = 0; i < m->n; i++)
        json_decref(m->results[i]);
    free(m->results);
    free(m->names);
    free(m->index);
    free(m->seen);
    memset(m, 0, sizeof(*m));
}

/* Inserts result at its place in shard order (the first shard leads the merged configuration). */
static void insert_sorted(struct merge *m, json_t *result, const char *name, uint32_t shard)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 8;
        m->results = realloc(m->results, m->cap * sizeof(*m->results));
        m->names = realloc(m->names, m->cap * sizeof(*m->names));
        m->index = realloc(m->index, m->cap * sizeof(*m->index));
        if (!m->results || !m->names || !m->index) abort();
    }
    size_t at = m->n;
    for (; at > 0 && m->index[at - 1] > shard; at--) {
        m->results[at] = m->results[at - 1];
        m->names[at] = m->names[at - 1];
        m->index[at] = m->index[at - 1];
    }
    m->results[at] = json_incref(result);
    m->names[at] = name;
    m->index[at] = shard;
    m->n++;
    m->seen[shard] = 1;
}

int merge_add(struct merge *m, json_t *result, const char *name, char *why, size_t why_cap)
{
    uint32_t shard = 0, nshards = 0;
    int rc = check_identity(result, &shard, &nshards, why, why_cap);
    if (rc == 0 && m->n) rc = check_same_run(m, result, nshards, why, why_cap);
    if (rc == 0 && m->n && m->seen[shard]) {
        const char *other = "";
        for (size_t i = 0; i < m->n; i++)
            if (m->index[i] == shard) other = m->names[i];
        rc = refuse(why, why_cap, "shard %u given twice (also '%s')", shard, other);
    }
    if (rc == 0) rc = check_histograms(result, why, why_cap);
    if (rc < 0) return rc;
    if (!m->n) {
        m->nshards = nshards;
        m->seen = xcalloc(nshards, 1);
    }
    insert_sorted(m, result, name, shard);
    return 0;
}

/* ------------------------------------------------------------- counts */

/* Adds the number v into dst[key]; integers stay integers. */
static void add_number(json_t *dst, const char *key, json_t *v)
{
    json_t *d = json_object_get(dst, key);
    if (json_is_integer(v) && (!d || json_is_integer(d)))
        json_object_set_new(dst, key, json_integer(json_integer_value(d) + json_integer_value(v)));
    else
        json_object_set_new(dst, key, json_real(json_number_value(d) + json_number_value(v)));
}

/* Adds every number of src into dst under the same key; with deep, nested
 * objects are added the same way. */
static void add_numbers(json_t *dst, json_t *src, bool deep)
{
    const char *key;
    json_t *v;
    json_object_foreach(src, key, v) {
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
static json_t *sum_member(const struct merge *m, const char *key, bool deep)
{
    json_t *o = json_object();
    for (size_t i = 0; i < m->n; i++)
        add_numbers(o, json_object_get(m->results[i], key), deep);
    return o;
}

/* How over_shards combines the shards' values. */
enum fold { FOLD_SUM, FOLD_MAX, FOLD_MIN };

/* The sum, max or min over shards of the number result[parent][key]
 * (parent NULL: the top level). Counts stay exact: they are far below 2^53. */
static double over_shards(const struct merge *m, const char *parent, const char *key, enum fold fold)
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

/* {min, mean, p50, ..., max, count} of a histogram, exactly as json.c writes a run's. */
static json_t *percentiles(const struct hist *h)
{
    json_t *o = json_object();
    json_object_set_new(o, "min", json_integer(hist_min(h)));
    json_object_set_new(o, "mean", json_real(h->total_count ? hist_mean(h) : 0));
    json_object_set_new(o, "p50", json_integer(hist_value_at_percentile(h, 50)));
    json_object_set_new(o, "p90", json_integer(hist_value_at_percentile(h, 90)));
    json_object_set_new(o, "p99", json_integer(hist_value_at_percentile(h, 99)));
    json_object_set_new(o, "p99_9", json_integer(hist_value_at_percentile(h, 99.9)));
    json_object_set_new(o, "p99_99", json_integer(hist_value_at_percentile(h, 99.99)));
    json_object_set_new(o, "max", json_integer(hist_max(h)));
    json_object_set_new(o, "count", json_integer(h->total_count));
    return o;
}

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
        json_int_t mn = (json_int_t)json_number_value(json_object_get(objs[i], "min"));
        json_int_t mx = (json_int_t)json_number_value(json_object_get(objs[i], "max"));
        if (count == 0 || mn < lo) lo = mn;
        if (count == 0 || mx > hi) hi = mx;
        weighted += json_number_value(json_object_get(objs[i], "mean")) * (double)c;
        count += c;
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
        out = percentiles(&sum);
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
static json_t *merge_named_trend(const struct merge *m, const char *parent, const char *key, json_t *hdr_out)
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
static void merge_trends(const struct merge *m, json_t *o, json_t *hdr)
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
static json_t *merge_group(const struct merge *m, const char *name, json_t **objs, json_t **hdrs)
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
static json_t *merge_groups(const struct merge *m)
{
    json_t *out = json_object(), *g;
    json_t **objs = xcalloc(m->n, sizeof(*objs)), **hdrs = xcalloc(m->n, sizeof(*hdrs));
    const char *name;
    for (size_t i = 0; i < m->n; i++) {
        json_object_foreach(json_object_get(m->results[i], "groups"), name, g) {
            if (!json_object_get(out, name)) json_object_set_new(out, name, merge_group(m, name, objs, hdrs));
        }
    }
    free(objs);
    free(hdrs);
    return out;
}

/* generator: CPU adds up over processes, per-process peaks take the max,
 * threads are listed shard after shard, send lag comes from its histograms. */
static json_t *merge_generator(const struct merge *m, json_t *hdr)
{
    json_t *o = json_object(), *per = json_array();
    for (size_t i = 0; i < m->n; i++) {
        json_t *threads = json_object_get(json_object_get(m->results[i], "generator"), "cpu_pct_per_thread");
        if (json_is_array(threads)) json_array_extend(per, threads);
    }
    json_object_set_new(o, "cpu_pct", json_real(over_shards(m, "generator", "cpu_pct", FOLD_SUM)));
    json_object_set_new(o, "cpu_pct_max_thread",
                        json_real(over_shards(m, "generator", "cpu_pct_max_thread", FOLD_MAX)));
    json_object_set_new(o, "busy_pct_max_thread",
                        json_real(over_shards(m, "generator", "busy_pct_max_thread", FOLD_MAX)));
    json_object_set_new(o, "cpu_pct_per_thread", per);
    json_object_set_new(o, "max_rss_kb", json_integer((json_int_t)over_shards(m, "generator", "max_rss_kb", FOLD_MAX)));
    json_t *lag = merge_named_trend(m, "generator", "send_lag_us", hdr);
    if (lag) json_object_set_new(o, "send_lag_us", lag);
    return o;
}

/* ----------------------------------------------------------- timeline */

/* One shard's timeline row placed on the merged wall-clock second. */
struct placed_row {
    int64_t t;
    size_t shard_pos;
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
    json_object_foreach(row, key, v) {
        size_t len = strlen(key);
        if (!strcmp(key, "t") || !json_is_number(v)) continue;
        json_t *d = json_object_get(out, key);
        if (len <= 3 || strcmp(key + len - 3, "_us") != 0)
            add_number(out, key, v);
        else if (!d || json_number_value(v) > json_number_value(d))
            json_object_set(out, key, v);
    }
}

/*
 * The timelines on wall-clock seconds since start_ms: a shard's row t covers
 * [its start + t, +1 s), and shards started with --start-at share the start,
 * so rows line up exactly; other offsets are rounded to the nearest second.
 * A row made from two or more shards gets "approx": true, because its
 * p50_us/p99_us are the max over the shards, not percentiles of the second.
 */
static json_t *merge_timeline(const struct merge *m, json_int_t start_ms)
{
    size_t nrows = 0, k = 0;
    for (size_t i = 0; i < m->n; i++)
        nrows += json_array_size(json_object_get(m->results[i], "timeline"));
    struct placed_row *rows = xcalloc(nrows, sizeof(*rows));
    for (size_t i = 0; i < m->n; i++) {
        json_t *r = m->results[i], *row;
        size_t j;
        double offset_s = (double)(json_integer_value(json_object_get(r, "start_unix_ms")) - start_ms) / 1000.0;
        json_array_foreach(json_object_get(r, "timeline"), j, row) {
            if (!json_is_object(row)) continue;
            rows[k++] = (struct placed_row){llround(offset_s) + json_integer_value(json_object_get(row, "t")), i, row};
        }
    }
    qsort(rows, k, sizeof(*rows), placed_row_cmp);
    json_t *out = json_array();
    for (size_t a = 0, b; a < k; a = b) {
        json_t *merged = json_pack("{s:I}", "t", (json_int_t)rows[a].t);
        for (b = a; b < k && rows[b].t == rows[a].t; b++)
            add_row(merged, rows[b].row);
        if (b - a > 1) json_object_set_new(merged, "approx", json_true());
        json_array_append_new(out, merged);
    }
    free(rows);
    return out;
}

/* ------------------------------------------------------ merged result */

/* tool, version, run_id, config (shard null; threads and connections are
 * totals over the merged shards), model and the closed-model warning. */
static void merge_identity(const struct merge *m, json_t *o)
{
    json_t *first = m->results[0];
    json_object_set_new(o, "tool", json_string("salvo"));
    json_object_set(o, "version", json_object_get(first, "version"));
    json_object_set(o, "run_id", json_object_get(first, "run_id"));
    json_t *config = json_deep_copy(json_object_get(first, "config"));
    json_object_set_new(config, "shard", json_null());
    json_object_set_new(config, "threads", json_integer((json_int_t)over_shards(m, "config", "threads", FOLD_SUM)));
    json_object_set_new(config, "connections",
                        json_integer((json_int_t)over_shards(m, "config", "connections", FOLD_SUM)));
    json_object_set_new(o, "config", config);
    static const char *const copied[] = {"model", "warning"};
    for (size_t i = 0; i < NELEM(copied); i++) {
        json_t *v = json_object_get(first, copied[i]);
        if (v) json_object_set(o, copied[i], v);
    }
}

/* "shard K: text" as a JSON string. */
static json_t *tagged(uint32_t shard, const char *text)
{
    char *s = NULL;
    if (asprintf(&s, "shard %u: %s", shard, text ? text : "?") < 0) abort();
    json_t *v = json_string(s);
    free(s);
    return v;
}

/* valid only if every shard was; each reason names its shard. */
static void merge_verdict(const struct merge *m, json_t *o)
{
    bool valid = true, interrupted = false, exhausted = false;
    json_t *reasons = json_array(), *reason;
    for (size_t i = 0; i < m->n; i++) {
        json_t *r = m->results[i];
        size_t j;
        valid &= json_is_true(json_object_get(r, "valid"));
        interrupted |= json_is_true(json_object_get(r, "interrupted"));
        exhausted |= json_is_true(json_object_get(r, "data_exhausted"));
        json_array_foreach(json_object_get(r, "invalid_reasons"), j, reason) {
            json_array_append_new(reasons, tagged(m->index[i], json_string_value(reason)));
        }
    }
    json_object_set_new(o, "valid", json_boolean(valid));
    json_object_set_new(o, "invalid_reasons", reasons);
    json_object_set_new(o, "interrupted", json_boolean(interrupted));
    json_object_set_new(o, "data_exhausted", json_boolean(exhausted));
}

/* Start, durations and rates. The run lasts as long as its longest shard,
 * so the achieved rate is all that was sent over that. Returns the start. */
static json_int_t merge_timing(const struct merge *m, json_t *o)
{
    json_int_t start = (json_int_t)over_shards(m, NULL, "start_unix_ms", FOLD_MIN);
    json_int_t sent = (json_int_t)over_shards(m, "rate", "sent", FOLD_SUM);
    double duration = over_shards(m, NULL, "duration_s", FOLD_MAX);
    json_t *intended = json_object_get(json_object_get(m->results[0], "rate"), "intended");
    json_object_set_new(o, "start_unix_ms", json_integer(start));
    json_object_set_new(o, "duration_s", json_real(duration));
    json_object_set_new(o, "elapsed_s", json_real(over_shards(m, NULL, "elapsed_s", FOLD_MAX)));
    json_object_set_new(o, "rate",
                        json_pack("{s:f,s:f,s:I}", "intended", json_number_value(intended), "achieved",
                                  duration > 0 ? (double)sent / duration : 0.0, "sent", sent));
    return start;
}

/* The first shard's first error, tagged with its shard. */
static json_t *merge_first_error(const struct merge *m)
{
    for (size_t i = 0; i < m->n; i++) {
        const char *e = str_of(m->results[i], "first_error");
        if (*e) return tagged(m->index[i], e);
    }
    return json_string("");
}

/* chaos: every shard's windows, each tagged with its shard (a window's
 * figures are the shard's own and cannot be added without histograms). */
static json_t *merge_chaos(const struct merge *m)
{
    json_t *out = json_array(), *w;
    for (size_t i = 0; i < m->n; i++) {
        size_t j;
        json_array_foreach(json_object_get(m->results[i], "chaos"), j, w) {
            json_t *copy = json_deep_copy(w);
            if (json_is_object(copy)) json_object_set_new(copy, "shard", json_integer(m->index[i]));
            json_array_append_new(out, copy);
        }
    }
    return out;
}

/* shards_merged and missing_shards, as lists of indices. */
static void merge_coverage(const struct merge *m, json_t *o)
{
    json_t *merged = json_array(), *missing = json_array();
    for (size_t i = 0; i < m->n; i++)
        json_array_append_new(merged, json_integer(m->index[i]));
    for (uint32_t k = 0; k < m->nshards; k++)
        if (!m->seen[k]) json_array_append_new(missing, json_integer(k));
    json_object_set_new(o, "shards_merged", merged);
    json_object_set_new(o, "missing_shards", missing);
}

json_t *merge_result(const struct merge *m)
{
    if (!m->n) return NULL;
    json_t *o = json_object(), *hdr = json_object();
    merge_identity(m, o);
    merge_verdict(m, o);
    json_int_t start_ms = merge_timing(m, o);
    json_object_set_new(o, "requests", sum_member(m, "requests", false));
    merge_trends(m, o, hdr);
    json_object_set_new(o, "status", sum_member(m, "status", false));
    json_object_set_new(o, "errors", sum_member(m, "errors", false));
    json_object_set_new(o, "connect_errors", sum_member(m, "connect_errors", false));
    json_object_set_new(o, "first_error", merge_first_error(m));
    json_object_set_new(o, "groups", merge_groups(m));
    json_object_set_new(o, "pool", sum_member(m, "pool", true));
    json_object_set_new(o, "generator", merge_generator(m, hdr));
    /* System-wide counters: right for shards on separate hosts, counted
     * once per shard for shards sharing one (docs/distributed.md). */
    json_object_set_new(o, "kernel", sum_member(m, "kernel", false));
    json_object_set_new(o, "timeline", merge_timeline(m, start_ms));
    json_object_set_new(o, "thresholds", json_object());
    json_object_set_new(o, "chaos", merge_chaos(m));
    json_object_set_new(o, "hdr", hdr);
    merge_coverage(m, o);
    return o;
}

/* ---------------------------------------------------------- thresholds */

/* True when t reads a stored percentile that the merge left null. */
static bool reads_null_percentile(const struct threshold *t, json_t *merged)
{
    if (strcmp(t->agg, "med") != 0 && t->agg[0] != 'p') return false;
    json_t *obj;
    if (t->name[0]) {
        obj = json_object_get(json_object_get(json_object_get(merged, "groups"), t->name), "latency_us");
    } else {
        char key[64];
        snprintf(key, sizeof(key), "%s_us", t->metric);
        obj = json_object_get(merged, key);
        if (!obj) obj = json_object_get(json_object_get(merged, "generator"), key);
    }
    return json_is_object(obj) && json_is_null(json_object_get(obj, "p50"));
}

int merge_apply_thresholds(json_t *merged, const struct threshold *t, int n)
{
    int failed = thresholds_apply(t, n, merged);
    json_t *out = json_object_get(merged, "thresholds");
    for (int i = 0; i < n; i++) {
        json_t *e = json_object_get(out, t[i].text);
        if (!json_is_object(e) || !reads_null_percentile(&t[i], merged)) continue;
        if (json_is_true(json_object_get(e, "pass"))) failed++;
        json_object_set_new(e, "pass", json_false());
        json_object_set_new(e, "observed", json_null());
        json_object_set_new(e, "note",
                            json_string("percentile not recomputable: a shard result has no histogram "
                                        "for this metric"));
    }
    return failed;
}

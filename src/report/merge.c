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
 *
 * This file checks the inputs and assembles the document; the adding of
 * counters, trends and timelines is in merge_sum.c.
 */
#include "report/merge.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hist.h"
#include "core/hist_codec.h"
#include "report/merge_sum.h"

/* The configuration keys that define a run's schedule and measurement: the
 * shards of one run share them (threads and connections may differ). */
static const char *const run_keys[] = {
    "url",
    "method",
    "name",
    "rate",
    "arrival",
    "duration_s",
    "timeout_s",
    "seed",
    "shards",
    "start_at_unix_ms",
    "model",
    "stages",
    "keepalive",
    "protocol",
    "streams",
    "h2_window",
    "h2_conn_window",
    "h2_header_table",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

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
    json_object_foreach(hdr, key, v)
    {
        if (!decodes(v)) return refuse(why, cap, "hdr.%s is not a valid HdrHistogram", key);
    }
    json_object_foreach(json_object_get(result, "groups"), key, v)
    {
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
        m->seen = calloc(nshards, 1); /* nshards >= 1: check_identity */
        if (!m->seen) abort();
    }
    insert_sorted(m, result, name, shard);
    return 0;
}

/* ------------------------------------------------------ merged result */

/* The checked results, as merge_sum.c reads them. */
static struct merge_shards shards_of(const struct merge *m)
{
    return (struct merge_shards){m->results, m->n};
}

/* tool, version, run_id, config (shard null; threads and connections are
 * totals over the merged shards), model and the closed-model warning. */
static void merge_identity(const struct merge *m, json_t *o)
{
    const struct merge_shards s = shards_of(m);
    json_t *first = m->results[0];
    json_object_set_new(o, "tool", json_string("salvo"));
    json_object_set(o, "version", json_object_get(first, "version"));
    json_object_set(o, "run_id", json_object_get(first, "run_id"));
    json_t *config = json_deep_copy(json_object_get(first, "config"));
    json_object_set_new(config, "shard", json_null());
    json_object_set_new(config, "threads",
                        json_integer(merge_int(merge_over_shards(&s, "config", "threads", FOLD_SUM))));
    json_object_set_new(config, "connections",
                        json_integer(merge_int(merge_over_shards(&s, "config", "connections", FOLD_SUM))));
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
    json_t *reasons = json_array(), *reason, *rules = json_array(), *rule, *kept;
    for (size_t i = 0; i < m->n; i++) {
        json_t *r = m->results[i];
        size_t j, k;
        valid &= json_is_true(json_object_get(r, "valid"));
        interrupted |= json_is_true(json_object_get(r, "interrupted"));
        exhausted |= json_is_true(json_object_get(r, "data_exhausted"));
        json_array_foreach(json_object_get(r, "invalid_reasons"), j, reason)
        {
            json_array_append_new(reasons, tagged(m->index[i], json_string_value(reason)));
        }
        json_array_foreach(json_object_get(r, "invalid_rules"), j, rule)
        {
            bool seen = false;
            json_array_foreach(rules, k, kept) seen |= json_equal(kept, rule);
            if (!seen && json_is_string(rule)) json_array_append(rules, rule);
        }
    }
    json_object_set_new(o, "valid", json_boolean(valid));
    json_object_set_new(o, "invalid_reasons", reasons);
    json_object_set_new(o, "invalid_rules", rules);
    json_object_set_new(o, "interrupted", json_boolean(interrupted));
    json_object_set_new(o, "data_exhausted", json_boolean(exhausted));
}

/* Start, durations and rates. The run lasts as long as its longest shard,
 * so the achieved rate is all that was sent over that. Returns the start. */
static json_int_t merge_timing(const struct merge *m, json_t *o)
{
    const struct merge_shards s = shards_of(m);
    json_int_t start = merge_int(merge_over_shards(&s, NULL, "start_unix_ms", FOLD_MIN));
    json_int_t sent = merge_int(merge_over_shards(&s, "rate", "sent", FOLD_SUM));
    double duration = merge_over_shards(&s, NULL, "duration_s", FOLD_MAX);
    json_t *intended = json_object_get(json_object_get(m->results[0], "rate"), "intended");
    json_object_set_new(o, "start_unix_ms", json_integer(start));
    json_object_set_new(o, "duration_s", json_real(duration));
    json_object_set_new(o, "elapsed_s", json_real(merge_over_shards(&s, NULL, "elapsed_s", FOLD_MAX)));
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
        json_array_foreach(json_object_get(m->results[i], "chaos"), j, w)
        {
            json_t *copy = json_deep_copy(w);
            if (json_is_object(copy)) json_object_set_new(copy, "shard", json_integer(m->index[i]));
            json_array_append_new(out, copy);
        }
    }
    return out;
}

/* hints: every distinct hint of the shards, in the order first seen. */
static json_t *merge_hints(const struct merge *m)
{
    json_t *out = json_array(), *h, *seen;
    for (size_t i = 0; i < m->n; i++) {
        size_t j, k;
        json_array_foreach(json_object_get(m->results[i], "hints"), j, h)
        {
            bool dup = !json_is_string(h);
            json_array_foreach(out, k, seen) dup |= json_equal(seen, h);
            if (!dup) json_array_append(out, h);
        }
    }
    return out;
}

/*
 * protocol: what the shards spoke. Shards asked the same (config.protocol
 * is a run key) may still speak different ones when ALPN answers differ
 * (https:// without --http2 or --http1.1): the result says "mixed" and a
 * hint names each shard's, since its latencies then mix two protocols.
 */
static json_t *merge_protocol(const struct merge *m, json_t *hints)
{
    const json_t *first = NULL;
    bool mixed = false;
    for (size_t i = 0; i < m->n; i++) {
        const json_t *v = json_object_get(m->results[i], "protocol");
        if (!json_is_string(v)) continue;
        if (!first)
            first = v;
        else
            mixed |= !json_equal(first, v);
    }
    if (!mixed) return first ? json_copy((json_t *)first) : json_null();
    char text[512];
    size_t len = (size_t)snprintf(text, sizeof text, "the shards spoke different protocols (");
    for (size_t i = 0; i < m->n && len < sizeof text; i++)
        len += (size_t)snprintf(text + len, sizeof text - len, "%sshard %u: %s", i ? ", " : "", m->index[i],
                                str_of(m->results[i], "protocol")[0] ? str_of(m->results[i], "protocol") : "none");
    if (len < sizeof text)
        snprintf(text + len, sizeof text - len, "): the merged latencies mix them; rerun with --http2 or --http1.1");
    json_array_append_new(hints, json_string(text));
    return json_string("mixed");
}

/* h2: counts added; streams_max, flow_wait.max_ms the largest of a shard, settings_max_streams_min the lowest. */
static json_t *merge_h2(const struct merge *m)
{
    const struct merge_shards s = shards_of(m);
    json_t *o = merge_sum_member(&s, "h2", true);
    if (!json_object_size(o)) return o;
    json_object_set_new(o, "streams_max",
                        json_integer(merge_int(merge_over_shards(&s, "h2", "streams_max", FOLD_MAX))));
    json_t *lowest = json_null(), *longest = json_real(0);
    for (size_t i = 0; i < m->n; i++) {
        json_t *h = json_object_get(m->results[i], "h2");
        json_t *v = json_object_get(h, "settings_max_streams_min");
        if (json_is_integer(v) && (json_is_null(lowest) || json_integer_value(v) < json_integer_value(lowest))) {
            json_decref(lowest);
            lowest = json_copy(v);
        }
        double w = json_number_value(json_object_get(json_object_get(h, "flow_wait"), "max_ms"));
        if (w > json_real_value(longest)) json_real_set(longest, w);
    }
    json_object_set_new(o, "settings_max_streams_min", lowest);
    json_t *fw = json_object_get(o, "flow_wait");
    if (json_is_object(fw))
        json_object_set_new(fw, "max_ms", longest);
    else
        json_decref(longest);
    return o;
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

/* body_budget of shards that kept bodies: budgets, peaks, waits and wait totals add up; the longest wait is the max. */
static void merge_body_budget(const struct merge_shards *s, json_t *o)
{
    bool any = false;
    for (size_t i = 0; i < s->n && !any; i++)
        any = json_object_get(s->results[i], "body_budget") != NULL;
    if (!any) return;
    json_t *b = merge_sum_member(s, "body_budget", false);
    json_object_set_new(b, "wait_us_max",
                        json_integer((json_int_t)merge_over_shards(s, "body_budget", "wait_us_max", FOLD_MAX)));
    json_object_set_new(o, "body_budget", b);
}

json_t *merge_result(const struct merge *m)
{
    if (!m->n) return NULL;
    const struct merge_shards s = shards_of(m);
    json_t *o = json_object(), *hdr = json_object();
    merge_identity(m, o);
    merge_verdict(m, o);
    json_int_t start_ms = merge_timing(m, o);
    json_object_set_new(o, "requests", merge_sum_member(&s, "requests", false));
    json_object_set_new(o, "checks", merge_sum_member(&s, "checks", true));
    merge_body_budget(&s, o);
    json_object_set_new(o, "bytes", merge_sum_member(&s, "bytes", false));
    merge_trends(&s, o, hdr);
    json_object_set_new(o, "status", merge_sum_member(&s, "status", false));
    json_object_set_new(o, "errors", merge_sum_member(&s, "errors", false));
    json_object_set_new(o, "connect_errors", merge_sum_member(&s, "connect_errors", false));
    json_object_set_new(o, "first_error", merge_first_error(m));
    json_object_set_new(o, "groups", merge_groups(&s));
    json_object_set_new(o, "pool", merge_sum_member(&s, "pool", true));
    json_object_set_new(o, "generator", merge_generator(&s, hdr));
    /* System-wide counters: right for shards on separate hosts, counted
     * once per shard for shards sharing one (docs/distributed.md). */
    json_object_set_new(o, "kernel", merge_sum_member(&s, "kernel", false));
    json_object_set_new(o, "timeline", merge_timeline(&s, start_ms, json_object_get(o, "groups")));
    json_object_set_new(o, "thresholds", json_object());
    json_object_set_new(o, "chaos", merge_chaos(m));
    json_t *hints = merge_hints(m);
    json_object_set_new(o, "protocol", merge_protocol(m, hints));
    json_object_set_new(o, "h2", merge_h2(m));
    json_object_set_new(o, "hints", hints);
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

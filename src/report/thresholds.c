/*
 * thresholds.c — parse and evaluate thresholds (see thresholds.h).
 */
#include "report/thresholds.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hist.h"
#include "core/hist_codec.h"

/* Metrics measured in µs, with their JSON keys. */
static const char *const trend_metrics[][2] = {
    {"latency", "latency_us"}, {"service_time", "service_time_us"}, {"wait", "wait_us"},
    {"ttfb", "ttfb_us"},       {"connect", "connect_us"},           {"send_lag", "send_lag_us"},
};

/* The JSON key of a trend metric, or NULL. */
static const char *trend_key(const char *metric)
{
    for (size_t i = 0; i < sizeof(trend_metrics) / sizeof(trend_metrics[0]); i++)
        if (strcmp(metric, trend_metrics[i][0]) == 0) return trend_metrics[i][1];
    return NULL;
}

/* Parses the operator at *p, advancing past it. */
static int parse_op(const char **p)
{
    static const struct { const char *s; int op; } ops[] = {
        {"<=", THR_LE}, {">=", THR_GE}, {"==", THR_EQ}, {"!=", THR_NE}, {"<", THR_LT}, {">", THR_GT}, {"=", THR_EQ},
    };
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        size_t n = strlen(ops[i].s);
        if (strncmp(*p, ops[i].s, n) == 0) {
            *p += n;
            return ops[i].op;
        }
    }
    return -1;
}

/* Parses "250ms", "0.1%", "99%", "1e3" into t->limit (µs for trends, ratio for %). */
static int parse_value(struct threshold *t, const char *s, const char **why)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || !isfinite(v)) return *why = "expected a number after the operator", -EINVAL;
    while (*end == ' ') end++;
    bool trend = trend_key(t->metric) != NULL;
    if (!*end) t->limit = v;
    else if (strcmp(end, "%") == 0) {
        t->limit = v / 100.0;
        if (strcmp(t->metric, "rate") == 0) t->percent_of_intended = true;
    } else if (trend && strcmp(end, "us") == 0) t->limit = v;
    else if (trend && strcmp(end, "\xc2\xb5s") == 0) t->limit = v;
    else if (trend && strcmp(end, "ms") == 0) t->limit = v * 1e3;
    else if (trend && strcmp(end, "s") == 0) t->limit = v * 1e6;
    else if (strcmp(end, "/s") == 0 && !trend) t->limit = v;
    else return *why = "unknown unit (use us, ms, s, % or a plain number)", -EINVAL;
    return 0;
}

/* Checks that the aggregate fits the metric. */
static bool agg_valid(const char *metric, const char *agg)
{
    if (trend_key(metric)) {
        if (!strcmp(agg, "min") || !strcmp(agg, "max") || !strcmp(agg, "mean") || !strcmp(agg, "avg") ||
            !strcmp(agg, "med") || !strcmp(agg, "count"))
            return true;
        if (agg[0] != 'p') return false;
        char *end;
        const char *num = agg[1] == '(' ? agg + 2 : agg + 1;
        double p = strtod(num, &end);
        if (agg[1] == '(' && strcmp(end, ")") != 0) return false;
        if (agg[1] != '(' && *end) return false;
        return end != num && p >= 0 && p <= 100;
    }
    if (!strcmp(metric, "errors") || !strcmp(metric, "requests")) return !strcmp(agg, "rate") || !strcmp(agg, "count");
    if (!strcmp(metric, "rate")) return !strcmp(agg, "achieved") || !strcmp(agg, "intended");
    return false;
}

/* Splits "metric{name=x}.agg" (before the operator) into t's fields. */
static int parse_lhs(struct threshold *t, const char *s, size_t n, const char **why)
{
    char lhs[256];
    while (n && s[n - 1] == ' ') n--;
    if (n >= sizeof(lhs)) return *why = "expression too long", -EINVAL;
    memcpy(lhs, s, n);
    lhs[n] = '\0';
    char *brace = strchr(lhs, '{'), *dot;
    if (brace) {
        char *close = strchr(brace, '}');
        if (!close || strncmp(brace + 1, "name=", 5) != 0) return *why = "a selector must be {name=NAME}", -EINVAL;
        int len = (int)(close - brace - 6);
        if (len <= 0 || len >= (int)sizeof(t->name)) return *why = "bad name in {name=NAME}", -EINVAL;
        memcpy(t->name, brace + 6, (size_t)len);
        t->name[len] = '\0';
        *brace = '\0';
        dot = close + 1;
        if (*dot != '.') return *why = "expected .AGGREGATE after the selector", -EINVAL;
    } else {
        dot = strchr(lhs, '.');
        if (!dot) return *why = "expected METRIC.AGGREGATE, e.g. latency.p99", -EINVAL;
        *dot = '\0';
    }
    if (strlen(lhs) >= sizeof(t->metric) || strlen(dot + 1) >= sizeof(t->agg))
        return *why = "unknown metric or aggregate", -EINVAL;
    memcpy(t->metric, lhs, strlen(lhs) + 1);
    memcpy(t->agg, dot + 1, strlen(dot + 1) + 1);
    if (!trend_key(t->metric) && strcmp(t->metric, "errors") && strcmp(t->metric, "requests") && strcmp(t->metric, "rate"))
        return *why = "unknown metric (latency, service_time, wait, ttfb, connect, send_lag, errors, requests, rate)", -EINVAL;
    if (t->name[0] && strcmp(t->metric, "latency") && strcmp(t->metric, "errors") && strcmp(t->metric, "requests"))
        return *why = "{name=…} applies to latency, errors and requests", -EINVAL;
    if (!agg_valid(t->metric, t->agg)) return *why = "aggregate does not fit the metric", -EINVAL;
    return 0;
}

int threshold_parse(struct threshold *t, const char *text, const char **why)
{
    memset(t, 0, sizeof(*t));
    snprintf(t->text, sizeof(t->text), "%s", text);
    const char *p = text;
    while (*p == ' ') p++;
    const char *close = strchr(p, '}'); /* "{name=x}" holds an '=' that is not the operator */
    const char *from = close ? close + 1 : p;
    const char *opstart = from + strcspn(from, "<>=!");
    if (!*opstart) return *why = "missing comparison operator (< <= > >= == !=)", -EINVAL;
    int rc = parse_lhs(t, p, (size_t)(opstart - p), why);
    if (rc < 0) return rc;
    const char *q = opstart;
    if ((t->op = parse_op(&q)) < 0) return *why = "bad comparison operator", -EINVAL;
    while (*q == ' ') q++;
    return parse_value(t, q, why);
}

/* A JSON number's value; NaN (no data) for null or anything else. */
static double number_or_nan(json_t *v)
{
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* A percentile aggregate's value from the stored figures or the embedded histogram. */
static double trend_percentile(json_t *obj, json_t *hdr_b64, double pct)
{
    static const struct { double p; const char *key; } stored[] = {
        {50, "p50"}, {90, "p90"}, {99, "p99"}, {99.9, "p99_9"}, {99.99, "p99_99"},
    };
    for (size_t i = 0; i < sizeof(stored) / sizeof(stored[0]); i++) {
        if (fabs(stored[i].p - pct) >= 1e-9) continue;
        json_t *v = json_object_get(obj, stored[i].key);
        if (json_is_number(v)) return json_number_value(v);
        break; /* null (e.g. a merged figure without histograms): try the histogram, else no data */
    }
    struct hist h;
    if (!json_is_string(hdr_b64) || hist_decode_base64(json_string_value(hdr_b64), &h) < 0) return NAN;
    double v = (double)hist_value_at_percentile(&h, pct);
    hist_release(&h);
    return v;
}

/* Value of a trend aggregate (µs), NaN when there is no data. */
static double trend_value(const struct threshold *t, json_t *result)
{
    json_t *obj, *hdr;
    if (t->name[0]) {
        json_t *g = json_object_get(json_object_get(result, "groups"), t->name);
        obj = json_object_get(g, "latency_us");
        hdr = json_object_get(g, "hdr_latency_us");
    } else {
        const char *key = trend_key(t->metric);
        obj = json_object_get(result, key);
        if (!obj) obj = json_object_get(json_object_get(result, "generator"), key);
        hdr = json_object_get(json_object_get(result, "hdr"), key);
    }
    double count = json_number_value(json_object_get(obj, "count"));
    if (!obj || count <= 0) return NAN;
    const char *a = t->agg;
    if (!strcmp(a, "count")) return count;
    if (!strcmp(a, "min") || !strcmp(a, "max")) return number_or_nan(json_object_get(obj, a));
    if (!strcmp(a, "mean") || !strcmp(a, "avg")) return number_or_nan(json_object_get(obj, "mean"));
    if (!strcmp(a, "med")) return trend_percentile(obj, hdr, 50);
    return trend_percentile(obj, hdr, strtod(a[1] == '(' ? a + 2 : a + 1, NULL));
}

/* Value of errors/requests/rate aggregates, NaN when there is no data. */
static double count_value(const struct threshold *t, json_t *result)
{
    json_t *src = t->name[0] ? json_object_get(json_object_get(result, "groups"), t->name)
                             : json_object_get(result, "requests");
    if (!strcmp(t->metric, "rate")) {
        json_t *rate = json_object_get(result, "rate");
        double achieved = json_number_value(json_object_get(rate, "achieved"));
        double intended = json_number_value(json_object_get(rate, "intended"));
        if (!strcmp(t->agg, "intended")) return intended > 0 ? intended : NAN;
        if (t->percent_of_intended) return intended > 0 ? achieved / intended : NAN;
        return achieved;
    }
    if (!src) return NAN;
    double total = json_number_value(json_object_get(src, t->name[0] ? "requests" : "scheduled"));
    if (total <= 0) return NAN;
    if (!strcmp(t->metric, "requests"))
        return !strcmp(t->agg, "count") ? total : json_number_value(json_object_get(json_object_get(result, "rate"), "achieved"));
    double errors = json_number_value(json_object_get(src, "failed")) + json_number_value(json_object_get(src, "timeout")) +
                    json_number_value(json_object_get(src, "http_error"));
    return !strcmp(t->agg, "count") ? errors : errors / total;
}

bool threshold_eval(const struct threshold *t, json_t *result, double *observed)
{
    double v = trend_key(t->metric) ? trend_value(t, result) : count_value(t, result);
    *observed = v;
    if (isnan(v)) return false;
    switch (t->op) {
    case THR_LT: return v < t->limit;
    case THR_LE: return v <= t->limit;
    case THR_GT: return v > t->limit;
    case THR_GE: return v >= t->limit;
    case THR_EQ: return v == t->limit;
    default: return v != t->limit;
    }
}

/* The unit the observed value and limit are expressed in. */
static const char *unit_of(const struct threshold *t)
{
    if (trend_key(t->metric)) return strcmp(t->agg, "count") ? "us" : "count";
    if (!strcmp(t->metric, "rate")) return t->percent_of_intended ? "ratio_of_intended" : "req/s";
    if (!strcmp(t->agg, "count")) return "count";
    return !strcmp(t->metric, "requests") ? "req/s" : "ratio";
}

int thresholds_apply(const struct threshold *t, int n, json_t *result)
{
    json_t *out = json_object();
    int failed = 0;
    for (int i = 0; i < n; i++) {
        double observed;
        bool pass = threshold_eval(&t[i], result, &observed);
        failed += !pass;
        json_t *e = json_object();
        json_object_set_new(e, "pass", json_boolean(pass));
        json_object_set_new(e, "observed", isnan(observed) ? json_null() : json_real(observed));
        json_object_set_new(e, "limit", json_real(t[i].limit));
        json_object_set_new(e, "unit", json_string(unit_of(&t[i])));
        if (isnan(observed)) json_object_set_new(e, "note", json_string("no data for this metric or name"));
        json_object_set_new(out, t[i].text, e);
    }
    json_object_set_new(result, "thresholds", out);
    return failed;
}

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
#include "report/fmt.h"

/*
 * A metric measured in µs, with its JSON key. latency records a timed-out
 * request at the timeout, a lower bound of its true latency; service_time,
 * wait and ttfb record responses only, so timed-out requests are missing
 * from them (misses_timeouts).
 */
struct trend_metric {
    const char *metric, *key;
    bool misses_timeouts;
};

static const struct trend_metric trend_metrics[] = {
    {"latency", "latency_us", false}, {"service_time", "service_time_us", true}, {"wait", "wait_us", true},
    {"ttfb", "ttfb_us", true},        {"connect", "connect_us", false},          {"send_lag", "send_lag_us", false},
    {"session", "session_us", true}, /* session(): completed sessions, from their scheduled start */
};

/* The trend metric called metric, or NULL. */
static const struct trend_metric *trend_of(const char *metric)
{
    for (size_t i = 0; i < sizeof(trend_metrics) / sizeof(trend_metrics[0]); i++)
        if (strcmp(metric, trend_metrics[i].metric) == 0) return &trend_metrics[i];
    return NULL;
}

/* The JSON key of a trend metric, or NULL. */
static const char *trend_key(const char *metric)
{
    const struct trend_metric *m = trend_of(metric);
    return m ? m->key : NULL;
}

/* Parses the operator at *p, advancing past it. */
static int parse_op(const char **p)
{
    static const struct {
        const char *s;
        int op;
    } ops[] = {
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

/* Kinds of unit after the number. A bare number is a count, a ratio or a rate, never a duration. */
enum { UNIT_BARE = 1, UNIT_DURATION = 2, UNIT_PERCENT = 4, UNIT_PER_S = 8 };

/* The kind of unit text u and the factor to the stored unit; 0 when unknown. */
static int unit_kind(const char *u, double *scale)
{
    static const struct {
        const char *s;
        int kind;
        double scale;
    } units[] = {
        {"", UNIT_BARE, 1},         {"us", UNIT_DURATION, 1},  {"\xc2\xb5s", UNIT_DURATION, 1},
        {"ms", UNIT_DURATION, 1e3}, {"s", UNIT_DURATION, 1e6}, {"%", UNIT_PERCENT, 0.01},
        {"/s", UNIT_PER_S, 1},
    };
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strcmp(u, units[i].s) == 0) return *scale = units[i].scale, units[i].kind;
    return 0;
}

/*
 * The units that mean something for t's figure, and a hint naming them. A
 * unit that does not fit is refused rather than ignored: `latency.p99 <
 * 10%` would otherwise be 0.1 µs and `rate.intended >= 50%` compare 100/s
 * with 0.5, a gate that looks strict and always passes.
 */
static int units_allowed(const struct threshold *t, const char **hint)
{
    bool count = !strcmp(t->agg, "count");
    if (count) return *hint = "a count takes a plain number", UNIT_BARE;
    if (trend_key(t->metric)) return *hint = "use us, ms or s", UNIT_DURATION;
    if (!strcmp(t->metric, "errors") || !strcmp(t->metric, "checks"))
        return *hint = "a ratio: use % or a plain fraction (0.01 = 1%)", UNIT_BARE | UNIT_PERCENT;
    if (!strcmp(t->metric, "rate") && !strcmp(t->agg, "achieved"))
        return *hint = "use /s, % of the intended rate or a plain number of requests/s",
               UNIT_BARE | UNIT_PER_S | UNIT_PERCENT;
    return *hint = "a rate: use /s or a plain number of requests/s", UNIT_BARE | UNIT_PER_S;
}

/*
 * Parses "250ms", "0.1%", "99%", "1e3" into t->limit (µs for trends, ratio
 * for %). *why may point to a static buffer, valid until the next call
 * (thresholds are parsed once, from the command line).
 */
static int parse_value(struct threshold *t, const char *s, const char **why)
{
    static char msg[160];
    char *end;
    double v = strtod(s, &end), scale = 1;
    if (end == s || !isfinite(v)) return *why = "expected a number after the operator", -EINVAL;
    while (*end == ' ')
        end++;
    const char *hint;
    int kind = unit_kind(end, &scale), allowed = units_allowed(t, &hint);
    if (!kind) return *why = "unknown unit (use us, ms, s, %, /s or a plain number)", -EINVAL;
    if (kind == UNIT_BARE && (allowed & UNIT_DURATION)) {
        /* k6 reads `p(99) < 250` as 250 ms, salvo's figures are µs: a bare number would mean either. */
        snprintf(msg, sizeof(msg), "a bare number is not a duration: give %s.%s a unit, e.g. %.6gms", t->metric, t->agg,
                 v);
        return *why = msg, -EINVAL;
    }
    if (!(kind & allowed)) {
        snprintf(msg, sizeof(msg), "unit '%s' does not fit %s.%s (%s)", end, t->metric, t->agg, hint);
        return *why = msg, -EINVAL;
    }
    t->limit = v * scale;
    if ((!strcmp(t->metric, "errors") || !strcmp(t->metric, "checks")) && !strcmp(t->agg, "rate") &&
        (t->limit < 0 || t->limit > 1)) {
        snprintf(msg, sizeof(msg), "%s.rate is a share: give 0%% to 100%% (or 0 to 1), not %s", t->metric, s);
        return *why = msg, -EINVAL;
    }
    t->percent_of_intended = kind == UNIT_PERCENT && !strcmp(t->metric, "rate");
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
    if (!strcmp(metric, "checks")) return !strcmp(agg, "rate");
    return false;
}

/* Splits "metric{name=x}.agg" (before the operator) into t's fields. */
static int parse_lhs(struct threshold *t, const char *s, size_t n, const char **why)
{
    char lhs[256];
    while (n && s[n - 1] == ' ')
        n--;
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
    if (!trend_key(t->metric) && strcmp(t->metric, "errors") && strcmp(t->metric, "requests") &&
        strcmp(t->metric, "rate") && strcmp(t->metric, "checks"))
        return *why = "unknown metric (latency, service_time, wait, ttfb, connect, send_lag, session, errors, "
                      "requests, rate, "
                      "checks)",
               -EINVAL;
    if (t->name[0] && strcmp(t->metric, "latency") && strcmp(t->metric, "errors") && strcmp(t->metric, "requests") &&
        strcmp(t->metric, "checks"))
        return *why = "{name=…} applies to latency, errors, requests and checks", -EINVAL;
    if (!agg_valid(t->metric, t->agg)) return *why = "aggregate does not fit the metric", -EINVAL;
    return 0;
}

int threshold_parse(struct threshold *t, const char *text, const char **why)
{
    memset(t, 0, sizeof(*t));
    snprintf(t->text, sizeof(t->text), "%s", text);
    const char *p = text;
    while (*p == ' ')
        p++;
    const char *close = strchr(p, '}'); /* "{name=x}" holds an '=' that is not the operator */
    const char *from = close ? close + 1 : p;
    const char *opstart = from + strcspn(from, "<>=!");
    if (!*opstart) return *why = "missing comparison operator (< <= > >= == !=)", -EINVAL;
    int rc = parse_lhs(t, p, (size_t)(opstart - p), why);
    if (rc < 0) return rc;
    const char *q = opstart;
    if ((t->op = parse_op(&q)) < 0) return *why = "bad comparison operator", -EINVAL;
    while (*q == ' ')
        q++;
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
    static const struct {
        double p;
        const char *key;
    } stored[] = {
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

/* True for pN, p(N) and med. */
static bool is_percentile(const char *agg)
{
    return agg[0] == 'p' || !strcmp(agg, "med");
}

/* The N of a percentile aggregate (50 for med). */
static double agg_percentile(const char *agg)
{
    if (!strcmp(agg, "med")) return 50;
    return strtod(agg[1] == '(' ? agg + 2 : agg + 1, NULL);
}

/* An aggregate other than count of a trend object, NaN when absent. */
static double trend_aggregate(json_t *obj, json_t *hdr, const char *agg)
{
    if (!strcmp(agg, "min") || !strcmp(agg, "max")) return number_or_nan(json_object_get(obj, agg));
    if (!strcmp(agg, "mean") || !strcmp(agg, "avg")) return number_or_nan(json_object_get(obj, "mean"));
    return trend_percentile(obj, hdr, agg_percentile(agg));
}

/* The figure a threshold is judged on. */
struct figure {
    double v;       /* NaN: no data */
    bool censored;  /* the true value may exceed v by an unknown amount */
    char note[224]; /* why it is censored or how v was obtained; "" when v is plainly the figure */
};

/* True for the operators a lower bound cannot prove (all but > and >=). */
static bool needs_upper_bound(int op)
{
    return op != THR_GT && op != THR_GE;
}

/* The timeout in µs that censors latency, from the JSON; 0 when unknown. */
static double timeout_us_of(json_t *result)
{
    double us = number_or_nan(json_object_get(json_object_get(result, "latency_us"), "timeout_us"));
    if (us > 0) return us;
    us = number_or_nan(json_object_get(json_object_get(result, "config"), "timeout_s")) * 1e6;
    return us > 0 ? us : 0;
}

/*
 * Marks a latency figure censored when timed-out requests, recorded at the
 * timeout, make it only a lower bound: a mean that counts them, or any
 * other aggregate at or above the timeout (within the histogram's 3-digit
 * precision; an unknown timeout censors all). Such a figure cannot prove
 * `latency.p99 < 1s` however low it is: the true p99 is unknown.
 */
static void censor_latency(const struct threshold *t, json_t *result, double timeouts, struct figure *f)
{
    bool lower = timeouts > 0 ||
                 (!t->name[0] && json_is_true(json_object_get(json_object_get(result, "latency_us"), "lower_bounds")));
    if (!lower || isnan(f->v)) return;
    double cut = timeout_us_of(result);
    bool mean = !strcmp(t->agg, "mean") || !strcmp(t->agg, "avg");
    if (!mean && f->v < cut * (1 - 1.0 / 1024)) return;
    f->censored = true;
    char v[32], lim[32];
    report_fmt_us(v, sizeof(v), f->v);
    report_fmt_us(lim, sizeof(lim), t->limit);
    if (!needs_upper_bound(t->op))
        snprintf(f->note, sizeof(f->note), "%s >= %s: requests timed out, so this is a lower bound of the true value",
                 t->agg, v);
    else if (mean)
        snprintf(f->note, sizeof(f->note),
                 "mean >= %s: it counts timed-out requests at the timeout, so the true value is unknown and may "
                 "exceed %s",
                 v, lim);
    else
        snprintf(f->note, sizeof(f->note),
                 "%s >= %s: requests timed out, so the true value is unknown and may exceed %s", t->agg, v, lim);
}

/*
 * An aggregate of a metric that timed-out requests are missing from (ttfb,
 * service_time, wait): each of the n may have been slower than every
 * response. The responses' min still bounds the true min from above; max
 * and mean are unknown; pN of all requests is at most p(N·(count+n)/count)
 * of the responses, which exists while that is <= 100. A `>` is judged on
 * the responses as measured.
 */
static void missing_timeouts(const struct threshold *t, json_t *obj, json_t *hdr, double count, double n,
                             struct figure *f)
{
    char lim[32];
    f->v = trend_aggregate(obj, hdr, t->agg);
    if (!needs_upper_bound(t->op) || isnan(f->v) || (!strcmp(t->agg, "min") && t->op != THR_EQ && t->op != THR_NE))
        return;
    double pct = is_percentile(t->agg) ? agg_percentile(t->agg) * (count + n) / count : INFINITY;
    if (pct <= 100) {
        f->v = trend_percentile(obj, hdr, pct);
        snprintf(f->note, sizeof(f->note),
                 "judged at p%.4g of the responses: %.0f timed-out requests have no %s and may all have been slower",
                 pct, n, t->metric);
        if (!isnan(f->v)) return;
    }
    f->censored = true;
    report_fmt_us(lim, sizeof(lim), t->limit);
    snprintf(f->note, sizeof(f->note),
             "%.0f requests timed out with no %s, so the true %s is unknown and may exceed %s", n, t->metric, t->agg,
             lim);
}

/* The figure of a trend aggregate (µs). */
static void trend_value(const struct threshold *t, json_t *result, struct figure *f)
{
    json_t *obj, *hdr, *counts; /* counts: where this figure's timeouts are counted */
    if (t->name[0]) {
        json_t *g = json_object_get(json_object_get(result, "groups"), t->name);
        obj = json_object_get(g, "latency_us");
        hdr = json_object_get(g, "hdr_latency_us");
        counts = g;
    } else {
        const char *key = trend_key(t->metric);
        obj = json_object_get(result, key);
        if (!obj) obj = json_object_get(json_object_get(result, "generator"), key);
        hdr = json_object_get(json_object_get(result, "hdr"), key);
        counts = json_object_get(result, "requests");
    }
    double count = json_number_value(json_object_get(obj, "count"));
    double timeouts = json_number_value(json_object_get(counts, "timeout"));
    f->v = NAN;
    if (!obj || count <= 0) return;
    if (!strcmp(t->agg, "count")) {
        f->v = count;
        return;
    }
    if (trend_of(t->metric)->misses_timeouts && timeouts > 0) {
        missing_timeouts(t, obj, hdr, count, timeouts, f);
        return;
    }
    f->v = trend_aggregate(obj, hdr, t->agg);
    if (!strcmp(t->metric, "latency")) censor_latency(t, result, timeouts, f);
}

/* Requests per second: the run's achieved rate, or one name's requests over the run's duration. */
static double request_rate(const struct threshold *t, json_t *result, double requests)
{
    if (!t->name[0]) return json_number_value(json_object_get(json_object_get(result, "rate"), "achieved"));
    double duration = number_or_nan(json_object_get(result, "duration_s"));
    return duration > 0 ? requests / duration : NAN;
}

/*
 * checks.rate: passed evaluations over all, of one check ({name=}) or of
 * every check; NaN (a failure) when nothing was judged, or the name is not
 * a check of the run.
 */
static double checks_rate(const struct threshold *t, json_t *result)
{
    json_t *checks = json_object_get(result, "checks"), *c;
    const char *key;
    double pass = 0, all = 0;
    json_object_foreach(checks, key, c)
    {
        if (t->name[0] && strcmp(key, t->name)) continue;
        double p = json_number_value(json_object_get(c, "pass"));
        pass += p;
        all += p + json_number_value(json_object_get(c, "fail"));
    }
    return all > 0 ? pass / all : NAN;
}

/* Value of errors/requests/rate aggregates, NaN when there is no data. */
static double count_value(const struct threshold *t, json_t *result)
{
    json_t *src =
        t->name[0] ? json_object_get(json_object_get(result, "groups"), t->name) : json_object_get(result, "requests");
    if (!strcmp(t->metric, "rate")) {
        json_t *rate = json_object_get(result, "rate");
        double achieved = json_number_value(json_object_get(rate, "achieved"));
        double intended = json_number_value(json_object_get(rate, "intended"));
        if (!strcmp(t->agg, "intended")) return intended > 0 ? intended : NAN;
        if (t->percent_of_intended) return intended > 0 ? achieved / intended : NAN;
        return achieved;
    }
    if (!strcmp(t->metric, "checks")) return checks_rate(t, result);
    if (!src) return NAN;
    double total = json_number_value(json_object_get(src, t->name[0] ? "requests" : "scheduled"));
    if (total <= 0) return NAN;
    if (!strcmp(t->metric, "requests")) return !strcmp(t->agg, "count") ? total : request_rate(t, result, total);
    double errors =
        json_number_value(json_object_get(src, "failed")) + json_number_value(json_object_get(src, "timeout")) +
        json_number_value(json_object_get(src, "http_error")) + json_number_value(json_object_get(src, "check_failed"));
    return !strcmp(t->agg, "count") ? errors : errors / total;
}

/* Compares v with the limit. */
static bool compare(const struct threshold *t, double v)
{
    switch (t->op) {
    case THR_LT: return v < t->limit;
    case THR_LE: return v <= t->limit;
    case THR_GT: return v > t->limit;
    case THR_GE: return v >= t->limit;
    case THR_EQ: return v == t->limit;
    default: return v != t->limit;
    }
}

bool threshold_judge(const struct threshold *t, json_t *result, double *observed, char *note, size_t cap)
{
    struct figure f = {.v = NAN};
    if (trend_key(t->metric))
        trend_value(t, result, &f);
    else
        f.v = count_value(t, result);
    *observed = f.v;
    if (cap) snprintf(note, cap, "%s", f.note);
    if (isnan(f.v)) return false;
    /* A censored figure is a lower bound: it can show the value is high, never that it is low. */
    if (f.censored && needs_upper_bound(t->op)) return false;
    return compare(t, f.v);
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
        char note[256];
        bool pass = threshold_judge(&t[i], result, &observed, note, sizeof(note));
        failed += !pass;
        json_t *e = json_object();
        json_object_set_new(e, "pass", json_boolean(pass));
        json_object_set_new(e, "observed", isnan(observed) ? json_null() : json_real(observed));
        json_object_set_new(e, "limit", json_real(t[i].limit));
        json_object_set_new(e, "unit", json_string(unit_of(&t[i])));
        if (!note[0] && isnan(observed)) snprintf(note, sizeof(note), "no data for this metric or name");
        if (note[0]) json_object_set_new(e, "note", json_string(note));
        json_object_set_new(out, t[i].text, e);
    }
    json_object_set_new(result, "thresholds", out);
    return failed;
}

void threshold_format(char *buf, size_t cap, json_t *value, const char *unit)
{
    double v = json_number_value(value);
    if (!json_is_number(value))
        snprintf(buf, cap, "no data");
    else if (unit && !strcmp(unit, "us"))
        report_fmt_us(buf, cap, v);
    else if (unit && (!strcmp(unit, "ratio") || !strcmp(unit, "ratio_of_intended")))
        snprintf(buf, cap, "%.4g%%", 100 * v); /* 0.0123%, not 0.012% or 0.000% */
    else if (unit && !strcmp(unit, "req/s"))
        snprintf(buf, cap, v >= 1000 ? "%.0f/s" : "%.4g/s", v);
    else
        snprintf(buf, cap, "%.0f", v);
}

void thresholds_print(FILE *out, json_t *result)
{
    const char *expr;
    json_t *e;
    json_object_foreach(json_object_get(result, "thresholds"), expr, e)
    {
        json_t *obs = json_object_get(e, "observed");
        const char *unit = json_string_value(json_object_get(e, "unit"));
        const char *note = json_string_value(json_object_get(e, "note"));
        char val[48];
        threshold_format(val, sizeof(val), obs, unit);
        char lim[48];
        threshold_format(lim, sizeof(lim), json_object_get(e, "limit"), unit);
        fprintf(out, "threshold   %-4s %s (observed %s, limit %s)%s%s\n",
                json_is_true(json_object_get(e, "pass")) ? "ok" : "FAIL", expr, val, lim, note ? ": " : "",
                note ? note : "");
    }
}

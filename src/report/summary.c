/*
 * summary.c — the text summary, from the results JSON (see summary.h).
 *
 * Every figure is read from the document; nothing is computed here that a
 * renderer of the same JSON (the HTML page) would have to compute again,
 * beyond shares and sums of the counts printed next to them.
 */
#include "report/fmt.h"
#include "report/summary.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report/analysis.h"
#include "report/evidence.h"
#include "report/thresholds.h"
#include "sys/kernel.h"

#define NAME_WIDTH_MAX 40 /* longer request names are cut in the per-name table */

static const char co_text[] = "latency is measured from the send time and is subject to coordinated omission: "
                              "a slow server made this tool send less, so slow periods are under-sampled";

/* ------------------------------------------------------------ reading */

static json_t *get(const json_t *o, const char *key)
{
    return json_object_get(o, key);
}

/* A number member, or 0 when missing, null or not a number. */
static double num(const json_t *o, const char *key)
{
    json_t *v = get(o, key);
    return json_is_number(v) ? json_number_value(v) : 0;
}

/* A string member, or "" when missing. */
static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(get(o, key));
    return s ? s : "";
}

static long long cnt(const json_t *o, const char *key)
{
    return (long long)num(o, key);
}

/* A trend's figure in µs, "n/a" when missing or null (a merge without histograms). */
static const char *fmt_trend(char *buf, size_t cap, const json_t *trend, const char *key)
{
    json_t *v = get(trend, key);
    if (!json_is_number(v)) return snprintf(buf, cap, "n/a"), buf;
    return report_fmt_us(buf, cap, json_number_value(v));
}

/* Seconds as "5s", "2.5s" or "1h2m3s". */
static const char *fmt_secs(char *buf, size_t cap, double s)
{
    if (s >= 60) {
        long t = lround(s);
        if (t >= 3600)
            snprintf(buf, cap, "%ldh%ldm%lds", t / 3600, t / 60 % 60, t % 60);
        else
            snprintf(buf, cap, "%ldm%lds", t / 60, t % 60);
    } else if (fabs(s - round(s)) < 0.005) {
        snprintf(buf, cap, "%.0fs", s);
    } else {
        snprintf(buf, cap, "%.1fs", s);
    }
    return buf;
}

/* A byte count as "812 B", "12.3 kB", "4.56 MB", "1.23 GB" (SI, as k6 prints data). */
static const char *fmt_bytes(char *buf, size_t cap, double b)
{
    if (b < 1e3)
        snprintf(buf, cap, "%.0f B", b);
    else if (b < 1e6)
        snprintf(buf, cap, "%.1f kB", b / 1e3);
    else if (b < 1e9)
        snprintf(buf, cap, "%.2f MB", b / 1e6);
    else
        snprintf(buf, cap, "%.2f GB", b / 1e9);
    return buf;
}

/* A duration in µs with three significant digits, for the verdict line: "310us", "9.8ms", "75ms", "1.94s". */
static const char *fmt_us_short(char *buf, size_t cap, double us)
{
    if (us < 1000)
        snprintf(buf, cap, "%.0fus", us);
    else if (us < 999500)
        snprintf(buf, cap, "%.3gms", us / 1e3);
    else
        snprintf(buf, cap, "%.3gs", us / 1e6);
    return buf;
}

/* A percentile of latency, with ">=" when the timeout censored it (a lower bound); short for the verdict line. */
static const char *fmt_latency_as(char *buf, size_t cap, const json_t *lat, const char *key, bool short_form)
{
    json_t *v = get(lat, key);
    if (!json_is_number(v) || (get(lat, "count") && num(lat, "count") == 0)) return snprintf(buf, cap, "-"), buf;
    char b[24];
    double us = json_number_value(v), censor = num(lat, "timeout_us");
    bool lower = json_is_true(get(lat, "lower_bounds")) && censor > 0 && us >= censor;
    snprintf(buf, cap, "%s%s", lower ? ">=" : "",
             short_form ? fmt_us_short(b, sizeof b, us) : report_fmt_us(b, sizeof b, us));
    return buf;
}

static const char *fmt_latency(char *buf, size_t cap, const json_t *lat, const char *key)
{
    return fmt_latency_as(buf, cap, lat, key, false);
}

/* requests that did not end ok: http_error + check_failed + failed + timeout. */
static double errors_of(const json_t *req)
{
    return num(req, "http_error") + num(req, "check_failed") + num(req, "failed") + num(req, "timeout");
}

static bool is_closed(const json_t *r)
{
    return !strcmp(str(r, "model"), "closed");
}

/* -------------------------------------------------------- verdict line */

unsigned summary_color_flags(FILE *out)
{
    const char *no = getenv("NO_COLOR");
    return isatty(fileno(out)) && !(no && *no) ? SUMMARY_COLOR : 0;
}

/* The ANSI colour of a verdict word. */
static const char *word_color(const char *word)
{
    if (!strcmp(word, "PASS")) return "\033[1;32m";
    if (!strcmp(word, "INVALID") || !strcmp(word, "INTERRUPTED")) return "\033[1;33m";
    return "\033[1;31m";
}

/* "300/s × 5s", "ramp 10→300/s × 30s", "closed 8 conns × 5s", "… × 2.0s of 5s" (interrupted). */
static void print_load(FILE *out, const json_t *r)
{
    const json_t *cfg = get(r, "config");
    char b1[32], b2[32];
    size_t nstages = json_array_size(get(cfg, "stages"));
    if (is_closed(r)) {
        fprintf(out, "closed %lld conns", cnt(cfg, "connections"));
    } else if (nstages) {
        const json_t *last = json_array_get(get(cfg, "stages"), nstages - 1);
        fprintf(out, "ramp %s→%s/s", report_fmt_rate(b1, sizeof b1, num(cfg, "start_rate")),
                report_fmt_rate(b2, sizeof b2, num(last, "target_rate")));
    } else {
        double rate = get(get(r, "rate"), "intended") ? num(get(r, "rate"), "intended") : num(cfg, "rate");
        fprintf(out, "%s/s", report_fmt_rate(b1, sizeof b1, rate));
    }
    double planned = num(cfg, "duration_s");
    if (json_is_true(get(r, "interrupted")))
        fprintf(out, " × %s of %s", fmt_secs(b1, sizeof b1, num(r, "duration_s")), fmt_secs(b2, sizeof b2, planned));
    else
        fprintf(out, " × %s", fmt_secs(b1, sizeof b1, planned > 0 ? planned : num(r, "duration_s")));
}

void summary_print_verdict(FILE *out, const json_t *r, const char *word, unsigned flags)
{
    if (!word) word = verdict_of(r).word;
    char b[32];
    if (flags & SUMMARY_COLOR)
        fprintf(out, "%s%s\033[0m  ", word_color(word), word);
    else
        fprintf(out, "%s  ", word);
    print_load(out, r);
    /* HTTP/1.1 is the default and goes unsaid; anything else is part of what was measured. */
    const char *proto = str(r, "protocol");
    if (*proto && strcmp(proto, "http/1.1") != 0) fprintf(out, "  %s", proto);
    const json_t *lat = get(r, "latency_us"), *req = get(r, "requests");
    fprintf(out, "  p50 %s", fmt_latency_as(b, sizeof b, lat, "p50", true));
    fprintf(out, "  p99 %s", fmt_latency_as(b, sizeof b, lat, "p99", true));
    double scheduled = num(req, "scheduled");
    fprintf(out, "  errors %.2f%%", scheduled > 0 ? 100 * errors_of(req) / scheduled : 0.0);
    size_t total = json_object_size(get(r, "thresholds")), passed = 0;
    const char *expr;
    json_t *e;
    json_object_foreach(get(r, "thresholds"), expr, e) passed += json_is_true(get(e, "pass"));
    if (total) fprintf(out, "  thresholds %zu/%zu", passed, total);
    fputc('\n', out);
}

/* ---------------------------------------------------------------- detail */

/* What was run: model, arrivals, rate, duration, threads, connections; shards of a merge. */
static void print_header(FILE *out, const json_t *r)
{
    const json_t *cfg = get(r, "config");
    long long threads = cnt(cfg, "threads"), conns = cnt(cfg, "connections");
    bool poisson = !strcmp(str(cfg, "arrival"), "poisson");
    const json_t *stages = get(cfg, "stages");
    char b[32];
    if (is_closed(r)) {
        fprintf(out, "salvo: closed model with %lld connections%s — WARNING: %s\n", conns,
                num(cfg, "rate") > 0 ? " (rate capped)" : "", co_text);
    } else {
        if (json_array_size(stages))
            fprintf(out, "salvo: open model, %s arrivals ramped over %zu stage%s from %s/s (mean %s/s)",
                    poisson ? "poisson" : "evenly spaced", json_array_size(stages),
                    json_array_size(stages) == 1 ? "" : "s", report_fmt_rate(b, sizeof b, num(cfg, "start_rate")),
                    report_fmt_rate(b + 16, 16, num(cfg, "rate")));
        else
            fprintf(out, "salvo: open model, %s arrivals at %s/s", poisson ? "poisson" : "constant",
                    report_fmt_rate(b, sizeof b, num(cfg, "rate")));
        fprintf(out, " for %.1fs, %lld thread%s, up to %lld connections\n", num(cfg, "duration_s"), threads,
                threads == 1 ? "" : "s", conns);
        fprintf(out, "latency = done - intended send time (what a user arriving on schedule waited)\n");
    }
    json_t *merged = get(r, "shards_merged"), *v;
    if (merged) {
        size_t i;
        fprintf(out, "salvo merge: run %s, %zu of %lld shards (", str(r, "run_id"), json_array_size(merged),
                cnt(cfg, "shards"));
        json_array_foreach(merged, i, v) fprintf(out, "%s%lld", i ? ", " : "", (long long)json_integer_value(v));
        fputs(")\n", out);
    }
    if (json_array_size(get(r, "missing_shards"))) {
        size_t i;
        fputs("missing     shards", out);
        json_array_foreach(get(r, "missing_shards"), i, v)
            fprintf(out, "%s %lld", i ? "," : "", (long long)json_integer_value(v));
        fputs(" (the merged result covers part of the run only)\n", out);
    }
    if (json_is_true(get(r, "interrupted")))
        fprintf(out, "interrupted: partial results of %.2fs\n", num(r, "duration_s"));
    if (json_is_true(get(r, "data_exhausted")))
        fprintf(out, "data        --pick once used every row: the run ended early, the rest of the schedule "
                     "counts as unsent\n");
    if (json_array_size(stages)) {
        size_t i;
        bool conn_ramp = !strcmp(str(cfg, "stages_ramp"), "connections");
        fputs("stages     ", out);
        json_array_foreach(stages, i, v)
            fprintf(out, " %.0fs->%.0f%s", num(v, "duration_s"), num(v, "target_rate"), conn_ramp ? " conns" : "/s");
        fputc('\n', out);
    }
}

/* One row of percentiles of a trend; lower bounds (censored by the timeout) get ">=". */
static void trend_row(FILE *out, const char *label, const json_t *trend, double censor_us)
{
    static const char *const keys[] = {"p50", "p90", "p99", "p99_9", "p99_99"};
    char b[32];
    fprintf(out, "  %-13s", label);
    if (!json_is_object(trend) || num(trend, "count") == 0) {
        fputs("  (none)\n", out);
        return;
    }
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        json_t *v = get(trend, keys[i]);
        bool lower = censor_us > 0 && json_is_number(v) && json_number_value(v) >= censor_us;
        fprintf(out, " %s%9s", lower ? ">=" : "  ", fmt_trend(b, sizeof b, trend, keys[i]));
    }
    fprintf(out, "  %10s", fmt_trend(b, sizeof b, trend, "max"));
    fprintf(out, "  %10s", fmt_trend(b, sizeof b, trend, "mean"));
    fprintf(out, "  %9lld\n", cnt(trend, "count"));
}

/*
 * The percentile table. In the closed model the intended time is the send
 * time: latency and service time are the same figure, wait and send lag
 * are nothing, so only latency (starred), TTFB and connect are shown.
 */
static void print_trends(FILE *out, const json_t *r)
{
    const json_t *lat = get(r, "latency_us");
    bool closed = is_closed(r);
    double censor = json_is_true(get(lat, "lower_bounds")) ? num(lat, "timeout_us") : 0;
    fprintf(out, "  %-13s %11s %11s %11s %11s %11s  %10s  %10s  %9s\n", "", "p50", "p90", "p99", "p99.9", "p99.99",
            "max", "mean", "count");
    trend_row(out, closed ? "latency*" : "latency", lat, censor);
    if (!closed) {
        trend_row(out, "service time", get(r, "service_time_us"), 0);
        trend_row(out, "wait", get(r, "wait_us"), 0);
    }
    trend_row(out, "ttfb", get(r, "ttfb_us"), 0);
    trend_row(out, "connect", get(r, "connect_us"), 0);
    if (!closed) trend_row(out, "send lag", get(get(r, "generator"), "send_lag_us"), 0);
    if (censor > 0) fprintf(out, "  (>= : at or above the %.1fs timeout, a lower bound)\n", censor / 1e6);
}

/* The most frequent status of a status object as "200 (98%)", or "-". */
static const char *top_status(char *buf, size_t cap, const json_t *status)
{
    const char *code, *best = NULL;
    json_t *v;
    double top = 0, all = 0;
    json_object_foreach((json_t *)status, code, v)
    {
        double n = json_is_number(v) ? json_number_value(v) : 0;
        all += n;
        if (n > top) top = n, best = code;
    }
    if (!best) return snprintf(buf, cap, "-"), buf;
    snprintf(buf, cap, "%s (%.0f%%)", best, 100 * top / all);
    return buf;
}

/* One row per request name: requests, error share, p50, p99, top status. */
static void print_names(FILE *out, const json_t *r)
{
    const json_t *groups = get(r, "groups");
    const char *name;
    json_t *g;
    int width = 4;
    json_object_foreach((json_t *)groups, name, g)
    {
        int len = (int)strlen(name);
        if (len > width) width = len > NAME_WIDTH_MAX ? NAME_WIDTH_MAX : len;
    }
    if (!json_object_size(groups)) return;
    fprintf(out, "  %-*s %10s %8s %10s %10s  %s\n", width, "name", "requests", "errors", "p50", "p99", "top status");
    json_object_foreach((json_t *)groups, name, g)
    {
        char p50[32], p99[32], st[48];
        double n = num(g, "requests");
        const json_t *lat = get(g, "latency_us");
        fprintf(out, "  %-*.*s %10.0f %7.2f%% %10s %10s  %s\n", width, width, name, n,
                n > 0 ? 100 * errors_of(g) / n : 0.0, fmt_latency(p50, sizeof p50, lat, "p50"),
                fmt_latency(p99, sizeof p99, lat, "p99"), top_status(st, sizeof st, get(g, "status")));
    }
}

/* Outcome counts (they add up), error share, status codes, error kinds, bytes. */
static void print_outcomes(FILE *out, const json_t *r)
{
    const json_t *req = get(r, "requests"), *bytes = get(r, "bytes");
    double scheduled = num(req, "scheduled");
    fprintf(out, "requests    %lld scheduled = %lld ok + %lld http_error", cnt(req, "scheduled"), cnt(req, "ok"),
            cnt(req, "http_error"));
    /* Runs without --check always count 0 check_failed: say it only when it can be non-zero. */
    if (cnt(req, "check_failed") > 0 || json_object_size(get(r, "checks")))
        fprintf(out, " + %lld check_failed", cnt(req, "check_failed"));
    fprintf(out, " + %lld failed + %lld timeout + %lld unsent; errors %.2f%%\n", cnt(req, "failed"),
            cnt(req, "timeout"), cnt(req, "unsent"), scheduled > 0 ? 100 * errors_of(req) / scheduled : 0.0);
    const char *key;
    json_t *v;
    fputs("status     ", out);
    json_object_foreach(get(r, "status"), key, v) fprintf(out, " %s: %lld", key, (long long)json_number_value(v));
    fputs(json_object_size(get(r, "status")) ? "\n" : " (no responses)\n", out);
    int shown = 0;
    json_object_foreach(get(r, "errors"), key, v)
        fprintf(out, "%s %s: %lld", shown++ ? "," : "errors     ", key, (long long)json_number_value(v));
    if (shown) fputc('\n', out);
    if (*str(r, "first_error")) fprintf(out, "first error %s\n", str(r, "first_error"));
    if (json_is_object(bytes)) {
        char in[32], outb[32];
        fprintf(out, "bytes       in %s, out %s\n", fmt_bytes(in, sizeof in, num(bytes, "in")),
                fmt_bytes(outb, sizeof outb, num(bytes, "out")));
    }
}

/* The SETTINGS servers sent (value (count) each), the flow-control wait and the zero-stream back-off. */
static void print_h2_more(FILE *out, const json_t *h)
{
    const char *name, *value;
    const json_t *values, *n;
    bool first = true;
    json_object_foreach((json_t *)get(h, "settings"), name, values)
    {
        if (!json_is_object(values)) continue;
        fprintf(out, "%s%s", first ? "            server SETTINGS: " : "; ", name);
        json_object_foreach((json_t *)values, value, n)
            fprintf(out, " %s (%lld)", value, (long long)json_integer_value(n));
        first = false;
    }
    if (!first) fputc('\n', out);
    const json_t *fw = get(h, "flow_wait");
    if (cnt(fw, "streams") > 0)
        fprintf(out, "            flow-control wait: %lld request bodies waited, %.1f ms in all, longest %.1f ms\n",
                cnt(fw, "streams"), num(fw, "total_ms"), num(fw, "max_ms"));
    if (cnt(h, "zero_limit") > 0)
        fprintf(out, "            servers allowed 0 streams %lld times: new connections held back %lld times\n",
                cnt(h, "zero_limit"), cnt(h, "zero_holds"));
}

/* The HTTP/2 aggregates, when some connection spoke h2. */
static void print_h2(FILE *out, const json_t *r)
{
    const json_t *h = get(r, "h2");
    if (!json_is_object(h) || cnt(h, "conns") == 0) return;
    fprintf(out,
            "h2          %s on %lld connections, streams in flight max %lld, GOAWAYs %lld, cancelled at timeout %lld",
            str(r, "protocol"), cnt(h, "conns"), cnt(h, "streams_max"), cnt(h, "goaways"), cnt(h, "cancels"));
    if (json_is_integer(get(h, "settings_max_streams_min")))
        fprintf(out, ", server stream limit min %lld", cnt(h, "settings_max_streams_min"));
    const char *code;
    const json_t *n;
    bool first = true;
    json_object_foreach((json_t *)get(h, "resets"), code, n)
    {
        fprintf(out, "%s %s %lld", first ? "; resets received:" : ",", code, (long long)json_integer_value(n));
        first = false;
    }
    fputc('\n', out);
    print_h2_more(out, h);
}

/* The kept-body budget of a run with body checks: its peak and the responses that waited for room. */
static void print_body_budget(FILE *out, const json_t *r)
{
    const json_t *b = get(r, "body_budget");
    if (!b) return;
    char budget[32], peak[32], total[32], max[32];
    fprintf(out, "bodies      kept within %s (peak %s); %lld responses waited for room",
            fmt_bytes(budget, sizeof(budget), num(b, "budget_bytes")),
            fmt_bytes(peak, sizeof(peak), num(b, "peak_bytes")), cnt(b, "waits"));
    if (cnt(b, "waits") > 0)
        fprintf(out, " (total %s, max %s)", report_fmt_us(total, sizeof(total), num(b, "wait_us_total")),
                report_fmt_us(max, sizeof(max), num(b, "wait_us_max")));
    if (cnt(b, "not_kept") > 0) fprintf(out, "; %lld h2 bodies found no room: not kept", cnt(b, "not_kept"));
    fputs("\n", out);
}

/* One line per check: its pass share and counts (only for runs with checks). */
static void print_checks(FILE *out, const json_t *r)
{
    const char *name;
    json_t *c;
    json_object_foreach(get(r, "checks"), name, c)
    {
        double pass = num(c, "pass"), fail = num(c, "fail"), large = num(c, "body_too_large");
        fprintf(out, "check       %s: %.2f%% passed (%.0f pass, %.0f fail", name,
                pass + fail > 0 ? 100 * pass / (pass + fail) : 0.0, pass, fail);
        if (large > 0) fprintf(out, ", %.0f body_too_large", large);
        fputs(")\n", out);
    }
}

/* --script: the sessions line and the script's first error (only for runs that have them). */
static void print_script(FILE *out, const json_t *r)
{
    const json_t *s = get(r, "sessions"), *sc = get(r, "script");
    if (s) {
        char p50[32], p99[32];
        const json_t *su = get(r, "session_us");
        fprintf(out, "sessions    %.0f scheduled: %.0f completed, %.0f failed, %.0f timeout, %.0f unsent",
                num(s, "scheduled"), num(s, "completed"), num(s, "failed"), num(s, "timeout"), num(s, "unsent"));
        if (num(su, "count") > 0)
            fprintf(out, "; session p50 %s, p99 %s (from the scheduled start)",
                    report_fmt_us(p50, sizeof p50, num(su, "p50")), report_fmt_us(p99, sizeof p99, num(su, "p99")));
        fputc('\n', out);
    }
    const char *e = json_string_value(json_object_get(sc, "first_error"));
    if (e && *e) fprintf(out, "script      first error: %s\n", e);
}

/* Rates, pool and generator. */
static void print_health(FILE *out, const json_t *r)
{
    const json_t *cfg = get(r, "config"), *rate = get(r, "rate"), *p = get(r, "pool"), *g = get(r, "generator");
    char b1[32], b2[32];
    double intended = num(rate, "intended"), shards = num(cfg, "shards");
    bool merged = get(r, "shards_merged") != NULL;
    if (intended > 0 && shards > 1 && !merged)
        fprintf(out, "rate        intended %s/s for the whole run, %s/s for this shard (%lld of %.0f); ",
                report_fmt_rate(b1, sizeof b1, intended), report_fmt_rate(b2, sizeof b2, intended / shards),
                cnt(cfg, "shard"), shards);
    else if (intended > 0)
        fprintf(out, "rate        intended %s/s, ", report_fmt_rate(b1, sizeof b1, intended));
    else
        fputs("rate        ", out);
    fprintf(out, "achieved %s/s (%lld sent in %.2fs%s)\n", report_fmt_rate(b1, sizeof b1, num(rate, "achieved")),
            cnt(rate, "sent"), num(r, "duration_s"), intended > 0 ? "" : "; closed loop, no intended rate");
    if (json_is_object(p))
        fprintf(out,
                "pool        opened %lld, closed %lld (server %lld, us %lld, error %lld), connect errors %lld, "
                "max open %lld, waited %lld (total %s), backlog max %lld, %.1f requests/connection\n",
                cnt(p, "opened"), cnt(p, "closed"), cnt(get(p, "closed_by"), "server"), cnt(get(p, "closed_by"), "us"),
                cnt(get(p, "closed_by"), "error"), cnt(p, "connect_errors"), cnt(p, "max_open"), cnt(p, "wait_count"),
                report_fmt_us(b1, sizeof b1, num(p, "wait_duration_us")), cnt(p, "backlog_max"),
                num(p, "requests_per_conn"));
    print_h2(out, r);
    if (!json_is_object(g)) return;
    fprintf(out, "generator   cpu %.0f%% (busiest thread %.0f%%", num(g, "cpu_pct"), num(g, "cpu_pct_max_thread"));
    if (num(g, "spin_cpu_pct") > 0) fprintf(out, "; spinning %.0f%%", num(g, "spin_cpu_pct"));
    fprintf(out, "), max RSS %.1f MB", num(g, "max_rss_kb") / 1024.0);
    if (!is_closed(r)) fprintf(out, ", send lag p99 %s", fmt_trend(b2, sizeof b2, get(g, "send_lag_us"), "p99"));
    const json_t *m = get(g, "machine_cpu");
    if (json_is_object(m))
        fprintf(out, "; machine busy %.0f%% (softirq %.0f%%), steal %.0f%%", num(m, "busy_pct"), num(m, "softirq_pct"),
                num(m, "steal_pct"));
    fputc('\n', out);
}

/* What a kernel counter's growth means, by name ("" when unknown). */
static const char *counter_meaning(const char *name)
{
    for (int i = 0; i < KERNEL_NCOUNTERS; i++)
        if (!strcmp(kernel_counter_name(i), name)) return kernel_counter_meaning(i);
    return "";
}

/* Non-zero kernel counter deltas, then what each means (TIME_WAIT churn and our own resets are routine). */
static void print_kernel(FILE *out, const json_t *r)
{
    const char *name;
    json_t *v;
    int shown = 0;
    json_object_foreach(get(r, "kernel"), name, v)
    {
        long long d = (long long)json_number_value(v);
        if (!d || !strcmp(name, "TcpExt.TW")) continue;
        fprintf(out, "%s %s %+lld", shown++ ? "," : "kernel     ", name, d);
    }
    if (!shown) return;
    fputs("  (deltas for this network namespace, all processes)\n", out);
    json_object_foreach(get(r, "kernel"), name, v)
    {
        if (!json_number_value(v) || !strcmp(name, "TcpExt.TW") || !strcmp(name, "Tcp.OutRsts")) continue;
        if (*counter_meaning(name)) fprintf(out, "  %-27s %s\n", name, counter_meaning(name));
    }
}

/* The knee of a ramp, and each chaos window with its baseline and recovery. */
static void print_findings(FILE *out, const json_t *r)
{
    char b1[32], b2[32];
    const json_t *knee = get(r, "knee");
    if (json_array_size(get(get(r, "config"), "stages")) && !is_closed(r) && get(r, "knee")) {
        if (!json_is_object(knee))
            fputs("knee        none: latency stayed near its floor for the whole ramp\n", out);
        else
            fprintf(out, "knee        latency left its floor at %.0f/s (second %lld: p99 %s, floor %s)\n",
                    num(knee, "rate_intended"), cnt(knee, "t"), report_fmt_us(b1, sizeof b1, num(knee, "p99_us")),
                    report_fmt_us(b2, sizeof b2, num(knee, "floor_p99_us")));
    }
    size_t i;
    json_t *w;
    json_array_foreach(get(r, "chaos"), i, w)
    {
        fprintf(out, "chaos       '%s' %.1f-%.1fs%s: %lld requests, %lld errors, p99 %s", str(w, "spec"),
                num(w, "start_s"), num(w, "end_s"), json_is_true(get(w, "fired")) ? "" : " (did not fire)",
                cnt(w, "requests"), cnt(w, "errors"), report_fmt_us(b1, sizeof b1, num(w, "p99_us")));
        if (!json_is_number(get(w, "baseline_p99_us")))
            fputs("; no baseline before it\n", out);
        else if (!json_is_number(get(w, "recovery_s")))
            fprintf(out, " (baseline %s); not recovered by the end of the run\n",
                    report_fmt_us(b2, sizeof b2, num(w, "baseline_p99_us")));
        else
            fprintf(out, " (baseline %s); recovered %.0fs after it\n",
                    report_fmt_us(b2, sizeof b2, num(w, "baseline_p99_us")), num(w, "recovery_s"));
    }
}

/* Hints, validity and thresholds: what to make of the figures. */
static void print_judgement(FILE *out, const json_t *r)
{
    size_t i;
    json_t *v;
    if (is_closed(r)) fprintf(out, "note        * %s\n", co_text);
    json_array_foreach(get(r, "hints"), i, v) fprintf(out, "hint        %s\n", json_string_value(v));
    /* The run's verdict word leads; validity (the generator's) follows it, so an ERROR or
     * INTERRUPTED run never ends on "valid" alone. */
    struct verdict vd = verdict_of(r);
    const char *cause = json_string_value(get(r, "runtime_error"));
    if (strcmp(vd.word, "ERROR") == 0 && cause && *cause)
        fprintf(out, "verdict     ERROR: %s\n", cause);
    else if (strcmp(vd.word, "INTERRUPTED") == 0)
        fputs("verdict     INTERRUPTED\n", out);
    if (!json_is_false(get(r, "valid")))
        fputs("verdict     valid measurement (the generator kept its schedule)\n", out);
    json_array_foreach(get(r, "invalid_reasons"), i, v) fprintf(out, "verdict     INVALID: %s\n", json_string_value(v));
    if (json_is_false(get(r, "valid")) && !json_array_size(get(r, "invalid_reasons")))
        fputs("verdict     INVALID\n", out);
    thresholds_print(out, (json_t *)r);
}

void summary_print(FILE *out, const json_t *result, unsigned flags)
{
    summary_print_verdict(out, result, NULL, flags);
    print_header(out, result);
    print_trends(out, result);
    print_names(out, result);
    print_outcomes(out, result);
    print_checks(out, result);
    print_body_budget(out, result);
    print_script(out, result);
    print_health(out, result);
    print_kernel(out, result);
    print_findings(out, result);
    evidence_summary_print(out, result);
    print_judgement(out, result);
}

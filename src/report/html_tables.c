/*
 * html_tables.c — the tables of the HTML report: percentiles, outcomes,
 * status codes and errors, per-name figures, thresholds, chaos windows, and
 * the health of the pool, the generator and the kernel.
 *
 * Tables read the result tolerantly (html_fmt.h): an absent section is
 * skipped or says so, so a result written by another salvo version, or a
 * merged one, still renders. Numbers are right-aligned in tabular figures
 * (CSS) so that columns of percentiles compare at a glance. Kernel counters
 * are listed only when their delta is non-zero: twenty zeros would hide the
 * one drop that matters.
 */
#include "report/html_sections.h"

#include <math.h>
#include <string.h>

#include "report/html_fmt.h"

/* The percentile columns, as keys of a latency object and as headings. */
static const char *const pct_keys[] = {"p50", "p90", "p99", "p99_9", "p99_99", "max", "mean", "min"};
static const char *const pct_heads[] = {"p50", "p90", "p99", "p99.9", "p99.99", "max", "mean", "min"};
#define NPCT (sizeof(pct_keys) / sizeof(pct_keys[0]))

/* Opens a titled table with the given header cells (the first left-aligned;
 * heads NULL: no header row). */
static void table_open(FILE *out, const char *caption, const char *const *heads, size_t n)
{
    fprintf(out, "<table>\n<caption>%s</caption>\n", caption);
    if (heads) {
        fputs("<thead><tr>", out);
        for (size_t i = 0; i < n; i++)
            fprintf(out, "<th%s>%s</th>", i ? " class=\"num\"" : "", heads[i]);
        fputs("</tr></thead>\n", out);
    }
    fputs("<tbody>\n", out);
}

static void table_close(FILE *out)
{
    fputs("</tbody>\n</table>\n", out);
}

/* A right-aligned cell holding a count. */
static void count_cell(FILE *out, double n)
{
    char b[HTML_FMT_MAX];
    fprintf(out, "<td class=\"num\">%s</td>", html_fmt_count(b, sizeof(b), n));
}

/* A right-aligned cell holding n as a share of total. */
static void share_cell(FILE *out, double n, double total)
{
    if (total > 0)
        fprintf(out, "<td class=\"num\">%.2f%%</td>", 100 * n / total);
    else
        fputs("<td class=\"num\">—</td>", out);
}

/* One row of percentiles; values at or above censor_us (if > 0) are lower bounds. */
static void pct_row(FILE *out, const char *label, const json_t *lat, double censor_us)
{
    char b[HTML_FMT_MAX];
    fprintf(out, "<tr><th>%s</th>", label);
    if (html_num(lat, "count") <= 0) {
        fprintf(out, "<td colspan=\"%zu\" class=\"muted\">none recorded</td><td class=\"num\">0</td></tr>\n", NPCT);
        return;
    }
    for (size_t i = 0; i < NPCT; i++) {
        double v = html_num(lat, pct_keys[i]);
        bool bound = censor_us > 0 && v >= censor_us && strcmp(pct_keys[i], "mean") != 0;
        fprintf(out, "<td class=\"num\">%s%s</td>", bound ? "≥" : "", html_fmt_us(b, sizeof(b), v));
    }
    count_cell(out, html_num(lat, "count"));
    fputs("</tr>\n", out);
}

void html_table_percentiles(FILE *out, const json_t *result)
{
    const char *heads[NPCT + 2] = {""};
    for (size_t i = 0; i < NPCT; i++)
        heads[i + 1] = pct_heads[i];
    heads[NPCT + 1] = "count";
    table_open(out, "Percentiles", heads, NPCT + 2);
    json_t *lat = html_obj(result, "latency_us");
    bool closed = strcmp(html_str(result, "model"), "closed") == 0;
    double censor = json_is_true(json_object_get(lat, "lower_bounds")) ? html_num(lat, "timeout_us") : 0;
    pct_row(out, closed ? "latency*" : "latency", lat, censor);
    pct_row(out, "service time", html_obj(result, "service_time_us"), 0);
    if (!closed) pct_row(out, "wait", html_obj(result, "wait_us"), 0);
    pct_row(out, "TTFB", html_obj(result, "ttfb_us"), 0);
    pct_row(out, "connect", html_obj(result, "connect_us"), 0);
    if (!closed) pct_row(out, "send lag", html_obj(html_obj(result, "generator"), "send_lag_us"), 0);
    table_close(out);
    fputs("<p class=\"note\">Latency runs from the intended send time; service time from the actual send; wait is "
          "the difference (pool wait, connect and generator lateness).",
          out);
    if (closed) fputs(" *Closed model: latency is measured from the actual send, so it hides queueing.", out);
    if (censor > 0) fputs(" ≥: at or above the timeout, a lower bound.", out);
    fputs("</p>\n", out);
}

/* The outcome bar: one coloured segment per non-zero outcome. */
static void outcome_bar(FILE *out, const char *const *keys, size_t n, const json_t *requests, double total)
{
    if (total <= 0) return;
    fputs("<div class=\"bar\" aria-hidden=\"true\">", out);
    for (size_t i = 0; i < n; i++) {
        double v = html_num(requests, keys[i]);
        if (v > 0) fprintf(out, "<span class=\"o-%s\" style=\"width:%.3f%%\"></span>", keys[i], 100 * v / total);
    }
    fputs("</div>\n", out);
}

/* A two-column table of an object's numeric members: key, count, share. */
static void count_table(FILE *out, const char *caption, const char *head, const json_t *obj, double total)
{
    if (json_object_size(obj) == 0) return;
    const char *heads[] = {head, "count", "share"};
    table_open(out, caption, heads, 3);
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        const char *cls = key[0] == '2' ? "ok" : key[0] == '4' || key[0] == '5' ? "bad" : "";
        fprintf(out, "<tr><th class=\"%s\">", strcmp(head, "status") == 0 ? cls : "");
        html_esc(out, key);
        fputs("</th>", out);
        count_cell(out, json_number_value(v));
        share_cell(out, json_number_value(v), total);
        fputs("</tr>\n", out);
    }
    table_close(out);
}

void html_table_outcomes(FILE *out, const json_t *result)
{
    static const char *const keys[] = {"ok", "http_error", "check_failed", "failed", "timeout", "unsent"};
    json_t *requests = html_obj(result, "requests");
    double total = html_num(requests, "scheduled");
    fputs("<div class=\"cols\">\n<div>\n", out);
    const char *heads[] = {"outcome", "requests", "share"};
    table_open(out, "Every scheduled request ends in one outcome", heads, 3);
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        fprintf(out, "<tr><th><i class=\"key o-%s\"></i>%s</th>", keys[i], keys[i]);
        count_cell(out, html_num(requests, keys[i]));
        share_cell(out, html_num(requests, keys[i]), total);
        fputs("</tr>\n", out);
    }
    fputs("<tr class=\"total\"><th>scheduled</th>", out);
    count_cell(out, total);
    share_cell(out, total, total);
    fputs("</tr>\n", out);
    table_close(out);
    outcome_bar(out, keys, sizeof(keys) / sizeof(keys[0]), requests, total);
    fputs("</div>\n<div>\n", out);
    json_t *status = html_obj(result, "status");
    double responses = html_num(requests, "ok") + html_num(requests, "http_error") + html_num(requests, "check_failed");
    if (json_object_size(status))
        count_table(out, "Status codes", "status", status, responses);
    else
        fputs("<p class=\"muted\">No HTTP responses.</p>\n", out);
    count_table(out, "Errors", "kind", html_obj(result, "errors"), total);
    count_table(out, "Connect errors", "errno", html_obj(result, "connect_errors"), total);
    const char *first = html_str(result, "first_error");
    if (*first) {
        fputs("<p class=\"note\">First error: <code>", out);
        html_esc(out, first);
        fputs("</code></p>\n", out);
    }
    fputs("</div>\n</div>\n", out);
}

/* "200: 9 990, 503: 10" for one name's status object. */
static void status_list(FILE *out, const json_t *status)
{
    char b[HTML_FMT_MAX];
    const char *code;
    json_t *n;
    size_t i = 0;
    json_object_foreach((json_t *)status, code, n)
    {
        fputs(i++ ? ", " : "", out);
        html_esc(out, code);
        fprintf(out, ": %s", html_fmt_count(b, sizeof(b), json_number_value(n)));
    }
}

void html_table_checks(FILE *out, const json_t *result)
{
    json_t *checks = html_obj(result, "checks");
    if (json_object_size(checks) == 0) return;
    static const char *const heads[] = {"check", "pass", "fail", "rate", "body_too_large"};
    table_open(out, "Checks (a response below 400 that fails one is check_failed)", heads, 5);
    const char *name;
    json_t *c;
    json_object_foreach(checks, name, c)
    {
        double pass = html_num(c, "pass"), fail = html_num(c, "fail");
        fputs("<tr><th class=\"name\"><code>", out);
        html_esc(out, name);
        fputs("</code></th>", out);
        count_cell(out, pass);
        count_cell(out, fail);
        if (pass + fail > 0)
            fprintf(out, "<td class=\"num %s\">%.2f%%</td>", fail > 0 ? "bad" : "ok", 100 * pass / (pass + fail));
        else
            fputs("<td class=\"num muted\">—</td>", out);
        count_cell(out, html_num(c, "body_too_large"));
        fputs("</tr>\n", out);
    }
    table_close(out);
    json_t *budget = html_obj(result, "body_budget");
    if (html_num(budget, "waits") > 0) {
        char n[HTML_FMT_MAX], total[HTML_FMT_MAX], max[HTML_FMT_MAX];
        fprintf(out,
                "<p class=\"note\">%s responses waited for room in the kept-body budget (total %s, longest %s): "
                "the budget (<code>--body-budget</code>), not the server, added that to their latency.</p>\n",
                html_fmt_count(n, sizeof(n), html_num(budget, "waits")),
                html_fmt_us(total, sizeof(total), html_num(budget, "wait_us_total")),
                html_fmt_us(max, sizeof(max), html_num(budget, "wait_us_max")));
    }
    if (html_num(budget, "not_kept") > 0) {
        char n[HTML_FMT_MAX];
        fprintf(out,
                "<p class=\"note bad\">%s h2 response bodies found no room in the kept-body budget and were not kept: "
                "their body and json checks say <code>body_too_large</code>. Raise <code>--body-budget</code> (or "
                "lower <code>--max-body</code> or <code>--streams</code>).</p>\n",
                html_fmt_count(n, sizeof(n), html_num(budget, "not_kept")));
    }
}

void html_table_groups(FILE *out, const json_t *result)
{
    json_t *groups = html_obj(result, "groups");
    if (json_object_size(groups) == 0) {
        fputs("<p class=\"muted\">No per-name figures in this result.</p>\n", out);
        return;
    }
    static const char *const heads[] = {"name", "requests", "ok",  "http_error", "failed", "timeout",
                                        "p50",  "p90",      "p99", "p99.9",      "max",    "status"};
    static const char *const counts[] = {"requests", "ok", "http_error", "failed", "timeout"};
    static const char *const pcts[] = {"p50", "p90", "p99", "p99_9", "max"};
    table_open(out, "Figures per request name", heads, sizeof(heads) / sizeof(heads[0]));
    const char *name;
    json_t *g;
    char b[HTML_FMT_MAX];
    json_object_foreach(groups, name, g)
    {
        fputs("<tr><th class=\"name\">", out);
        html_esc(out, name);
        fputs("</th>", out);
        for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
            count_cell(out, html_num(g, counts[i]));
        json_t *lat = html_obj(g, "latency_us");
        for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
            if (html_num(lat, "count") > 0)
                fprintf(out, "<td class=\"num\">%s</td>", html_fmt_us(b, sizeof(b), html_num(lat, pcts[i])));
            else
                fputs("<td class=\"num muted\">—</td>", out);
        }
        fputs("<td class=\"num\">", out);
        status_list(out, html_obj(g, "status"));
        fputs("</td></tr>\n", out);
    }
    table_close(out);
}

/* A threshold's observed value or limit in its unit. */
static void threshold_value(FILE *out, const json_t *v, const char *unit)
{
    char b[HTML_FMT_MAX];
    if (!json_is_number(v)) {
        fputs("<span class=\"muted\">no data</span>", out);
        return;
    }
    double x = json_number_value(v);
    if (strcmp(unit, "us") == 0)
        fputs(html_fmt_us(b, sizeof(b), x), out);
    else if (strcmp(unit, "ratio") == 0)
        fprintf(out, "%.3g%%", 100 * x);
    else if (strcmp(unit, "ratio_of_intended") == 0)
        fprintf(out, "%.3g%% of intended", 100 * x);
    else if (strcmp(unit, "req/s") == 0)
        fprintf(out, "%s/s", html_fmt_num(b, sizeof(b), x));
    else
        fputs(html_fmt_num(b, sizeof(b), x), out);
}

void html_table_thresholds(FILE *out, const json_t *result)
{
    json_t *thresholds = html_obj(result, "thresholds");
    if (json_object_size(thresholds) == 0) return;
    static const char *const heads[] = {"threshold", "observed", "limit", "verdict"};
    table_open(out, "Thresholds", heads, 4);
    const char *expr;
    json_t *t;
    json_object_foreach(thresholds, expr, t)
    {
        /* Either {"pass": bool, "observed", "limit", "unit"} or a bare boolean. */
        bool pass = json_is_true(json_is_object(t) ? json_object_get(t, "pass") : t);
        const char *unit = html_str(t, "unit");
        fputs("<tr><th><code>", out);
        html_esc(out, expr);
        fputs("</code></th><td class=\"num\">", out);
        threshold_value(out, json_object_get(t, "observed"), unit);
        fputs("</td><td class=\"num\">", out);
        threshold_value(out, json_object_get(t, "limit"), unit);
        fprintf(out, "</td><td class=\"num %s\">%s", pass ? "ok" : "bad", pass ? "✓ passed" : "✗ failed");
        if (*html_str(t, "note")) {
            fputs(" <span class=\"muted\">(", out);
            html_esc(out, html_str(t, "note"));
            fputs(")</span>", out);
        }
        fputs("</td></tr>\n", out);
    }
    table_close(out);
}

void html_table_chaos(FILE *out, const json_t *result)
{
    json_t *chaos = html_arr(result, "chaos"), *w;
    if (json_array_size(chaos) == 0) return;
    static const char *const heads[] = {"action", "from", "to", "figures during the window"};
    table_open(out, "Chaos windows (shaded on the timelines)", heads, 4);
    size_t i;
    json_array_foreach(chaos, i, w)
    {
        char b[HTML_FMT_MAX];
        fputs("<tr><th>", out);
        html_esc(out, html_str(w, "action"));
        fprintf(out, "</th><td class=\"num\">%ss</td>", html_fmt_num(b, sizeof(b), html_num(w, "start_s")));
        fprintf(out, "<td class=\"num\">%ss</td><td class=\"num\">", html_fmt_num(b, sizeof(b), html_num(w, "end_s")));
        const char *key;
        json_t *v;
        size_t shown = 0;
        json_object_foreach(w, key, v)
        {
            if (!strcmp(key, "action") || !strcmp(key, "start_s") || !strcmp(key, "end_s")) continue;
            fputs(shown++ ? ", " : "", out);
            html_esc(out, key);
            fputs(": ", out);
            html_value(out, key, v);
        }
        fputs("</td></tr>\n", out);
    }
    table_close(out);
}

/* Rows "key value" for an object, one level of nested objects as "a.b". */
static void kv_rows(FILE *out, const json_t *obj, const char *prefix)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        if (json_is_object(v) && !prefix) {
            kv_rows(out, v, key);
            continue;
        }
        fputs("<tr><th>", out);
        if (prefix) html_esc(out, prefix), fputs(".", out);
        html_esc(out, key);
        fputs("</th><td class=\"num\">", out);
        html_value(out, key, v);
        fputs("</td></tr>\n", out);
    }
}

/* The generator's CPU per thread, RSS and send lag. */
static void generator_rows(FILE *out, const json_t *gen)
{
    char b[HTML_FMT_MAX];
    fprintf(out, "<tr><th>CPU (whole process)</th><td class=\"num\">%.1f%%</td></tr>\n", html_num(gen, "cpu_pct"));
    json_t *threads = html_arr(gen, "cpu_pct_per_thread"), *v;
    size_t i;
    if (json_array_size(threads)) {
        fputs("<tr><th>CPU per thread</th><td class=\"num\">", out);
        json_array_foreach(threads, i, v) fprintf(out, "%s%.1f%%", i ? ", " : "", json_number_value(v));
        fputs("</td></tr>\n", out);
    }
    fprintf(out, "<tr><th>max RSS</th><td class=\"num\">");
    html_value(out, "max_rss_kb", json_object_get(gen, "max_rss_kb"));
    fputs("</td></tr>\n", out);
    json_t *lag = html_obj(gen, "send_lag_us");
    if (html_num(lag, "count") > 0) {
        fprintf(out, "<tr><th>send lag p50</th><td class=\"num\">%s</td></tr>\n",
                html_fmt_us(b, sizeof(b), html_num(lag, "p50")));
        fprintf(out, "<tr><th>send lag p99</th><td class=\"num\">%s</td></tr>\n",
                html_fmt_us(b, sizeof(b), html_num(lag, "p99")));
        fprintf(out, "<tr><th>send lag max</th><td class=\"num\">%s</td></tr>\n",
                html_fmt_us(b, sizeof(b), html_num(lag, "max")));
    }
}

/* Kernel counters whose delta is not zero, or a line saying there are none. */
static void kernel_rows(FILE *out, const json_t *kernel)
{
    const char *key;
    json_t *v;
    size_t shown = 0;
    json_object_foreach((json_t *)kernel, key, v)
    {
        if (!json_is_number(v) || json_number_value(v) == 0) continue;
        fputs("<tr><th>", out);
        html_esc(out, key);
        fputs("</th>", out);
        count_cell(out, json_number_value(v));
        fputs("</tr>\n", out);
        shown++;
    }
    if (!shown)
        fprintf(out, "<tr><td colspan=\"2\" class=\"muted\">all %zu counters unchanged</td></tr>\n",
                json_object_size(kernel));
}

void html_table_health(FILE *out, const json_t *result)
{
    static const char *const kernel_heads[] = {"kernel counter", "delta"};
    fputs("<div class=\"cols three\">\n<div>\n", out);
    json_t *pool = html_obj(result, "pool");
    table_open(out, "Connection pool", NULL, 2);
    if (pool)
        kv_rows(out, pool, NULL);
    else
        fputs("<tr><td colspan=\"2\" class=\"muted\">not in this result</td></tr>\n", out);
    table_close(out);
    fputs("</div>\n<div>\n", out);
    table_open(out, "Generator", NULL, 2);
    generator_rows(out, html_obj(result, "generator"));
    table_close(out);
    fputs("</div>\n<div>\n", out);
    table_open(out, "Kernel counter deltas (non-zero)", kernel_heads, 2);
    kernel_rows(out, html_obj(result, "kernel"));
    table_close(out);
    fputs("</div>\n</div>\n", out);
}

/*
 * html.c — the HTML report page (see html.h): head and style sheet, the
 * comparison of several results, and each result's verdict, headline
 * figures and configuration; charts and tables come from html_charts.c and
 * html_tables.c.
 *
 * The verdict comes first and a closed-model warning is as loud as an
 * invalid run, because both mean "do not quote these percentiles as what
 * users saw". Failed thresholds lead the verdict box: validity says the
 * generator measured faithfully, not that the server passed its gate. The
 * style sheet is inline and uses only the system font stack and a handful
 * of colours, so the page looks the same offline, printed or served from
 * any static host. Write errors are checked once, at the end,
 * through the stream's error flag.
 */
#include "report/html.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report/html_fmt.h"
#include "report/html_sections.h"

const char html_style_sheet[] =
    ":root{--fg:#1f2933;--muted:#616e7c;--line:#e4e7eb;--bg:#f5f7fa;--card:#fff;--ok:#047857;--bad:#b91c1c;"
    "--warn:#b45309}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.45 system-ui,-apple-system,'Segoe UI',"
    "Roboto,'Helvetica Neue',Arial,sans-serif}\n"
    "main{max-width:1360px;margin:0 auto;padding:24px 28px 48px}\n"
    "h1{font-size:26px;margin:0 0 2px}h2{font-size:22px;margin:0 0 12px}"
    "p.run{margin:-6px 0 12px;color:var(--muted)}h3{font-size:15px;margin:26px 0 "
    "8px;color:var(--muted);text-transform:uppercase;letter-spacing:.06em}\n"
    "header p,.muted,.note{color:var(--muted)}.note{font-size:13px;margin:6px 0 0}\n"
    "section.result,section.compare{background:var(--card);border:1px solid var(--line);border-radius:10px;"
    "padding:22px 24px;margin:22px 0}\n"
    "nav ol{margin:6px 0 0;padding-left:22px}a{color:#1d4ed8}\n"
    ".verdict,.warning{border-radius:8px;padding:12px 16px;margin:0 0 12px;border:1px solid}\n"
    ".verdict.valid{background:#ecfdf5;border-color:#a7f3d0}.verdict.invalid,.verdict.failed,.verdict.unhealthy{"
    "background:#fef2f2;"
    "border-color:#fecaca}\n"
    ".verdict strong{font-size:17px}.verdict.valid strong{color:var(--ok)}"
    ".verdict.invalid strong,.verdict.failed strong,.verdict.unhealthy strong{color:var(--bad)}"
    "\n.verdict ul{margin:6px 0 0;padding-left:20px}\n"
    ".warning{background:#fffbeb;border-color:#fcd34d}.warning strong{color:var(--warn)}\n"
    ".cards{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}\n"
    ".card{flex:1 1 120px;border:1px solid var(--line);border-radius:8px;padding:8px 12px}\n"
    ".card b{display:block;font-size:20px;font-variant-numeric:tabular-nums;white-space:nowrap}"
    ".card span{font-size:12px;color:var(--muted)}.card.bad{border-color:#fecaca;background:#fef2f2}"
    ".card.bad b{color:var(--bad)}\n"
    ".grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:18px 26px}\n"
    ".cols{display:flex;flex-wrap:wrap;gap:8px 32px;align-items:flex-start}.cols>div{flex:1 1 300px}\n"
    "figure{margin:0}figcaption{font-weight:600;margin:0 0 4px}\n"
    "svg.chart{width:100%;height:auto;display:block;font-size:11px}\n"
    "table{border-collapse:collapse;margin:8px 0;font-size:14px}"
    "caption{text-align:left;font-weight:600;padding:0 0 4px}\n"
    "th,td{padding:4px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}"
    "thead th{font-size:12px;color:var(--muted);font-weight:600}\n"
    "tbody th{font-weight:500}.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    "tr.total th,tr.total td{font-weight:600}th.name{max-width:340px;overflow-wrap:anywhere}\n"
    ".ok{color:var(--ok)}.bad{color:var(--bad)}\n"
    "dl.config{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:4px 18px;margin:6px 0}"
    "dl.config div{border-bottom:1px solid var(--line);padding:2px 0;overflow-wrap:anywhere}"
    "dt{font-size:12px;color:var(--muted)}dd{margin:0}\n"
    "pre{background:#f1f3f6;border-radius:6px;padding:8px 12px;white-space:pre-wrap;overflow-wrap:anywhere;"
    "margin:8px 0;font-size:13px}\n"
    ".bar{display:flex;height:12px;border-radius:6px;overflow:hidden;background:var(--line);max-width:420px}\n"
    "i.key{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}\n"
    ".o-ok{background:#10b981}.o-http_error{background:#f59e0b}.o-failed{background:#dc2626}"
    ".o-check_failed{background:#db2777}"
    ".o-timeout{background:#7c3aed}.o-unsent{background:#9ca3af}\n"
    ".plot-bg{fill:#fff}.frame{fill:none;stroke:#9aa5b1}.grid{stroke:#e4e7eb}.grid.minor{stroke:#f1f3f6}\n"
    ".tick,.legend,.band-label,.hline-label{fill:#52606d}.axis-title{fill:#616e7c;font-size:12px}\n"
    ".band-label,.hline-label{paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}\n"
    ".line{fill:none;stroke:var(--c);stroke-width:2;stroke-linejoin:round}.dot{fill:var(--c);stroke:#fff}\n"
    ".s-p50{--c:#2563eb}.s-p99{--c:#d97706}.s-max{--c:#b91c1c;stroke-width:1.25;stroke-dasharray:4 2}\n"
    ".s-sent{--c:#2563eb}.s-done{--c:#10b981;stroke-dasharray:5 3}.s-err{--c:#dc2626}"
    ".s-intended{--c:#6b7280;stroke-dasharray:6 4}\n"
    ".s-inflight{--c:#7c3aed}.s-conns{--c:#0891b2}.s-latency{--c:#dc2626;stroke-width:2.5}\n"
    ".s-service{--c:#2563eb;stroke-width:1.5;stroke-dasharray:5 3}\n"
    ".c1{--c:#2563eb}.c2{--c:#d97706}.c3{--c:#dc2626}.c4{--c:#059669}.c5{--c:#7c3aed}.c6{--c:#0891b2}"
    ".c7{--c:#db2777}.c8{--c:#4b5563}\n"
    ".band-chaos{fill:#f59e0b;fill-opacity:.16}\n"
    "line.thr-pass,line.thr-fail,line.ref-timeout,line.ref-intended{stroke-width:1.5;stroke-dasharray:6 4}\n"
    "line.thr-pass{stroke:#059669}line.thr-fail{stroke:#dc2626}line.ref-timeout{stroke:#6b7280;"
    "stroke-dasharray:2 3}line.ref-intended{stroke:#374151}\n"
    "text.thr-pass{fill:#047857}text.thr-fail{fill:#b91c1c}\n"
    ".hover{fill:transparent}.hover:hover{fill:#2563eb;fill-opacity:.07}\n"
    "footer{color:var(--muted);font-size:13px;text-align:center}\n"
    "@media print{body{background:#fff}section.result,section.compare{border:0;padding:0}}\n";

/* The title of result i: the caller's, else the request name, else "result i". */
static void result_title(char *buf, size_t cap, const json_t *result, const char *const *titles, size_t i)
{
    const char *name = html_str(html_obj(result, "config"), "name");
    if (titles && titles[i] && *titles[i])
        snprintf(buf, cap, "%s", titles[i]);
    else if (*name)
        snprintf(buf, cap, "%s", name);
    else
        snprintf(buf, cap, "result %zu", i + 1);
}

/* The run's start as "2026-11-27 14:02:38 UTC", or "" when unknown. */
static const char *start_time(char *buf, size_t cap, const json_t *result)
{
    double ms = html_num(result, "start_unix_ms");
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    buf[0] = '\0';
    if (ms > 0 && gmtime_r(&t, &tm)) strftime(buf, cap, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

/* True when threshold entry t (an object, or a bare boolean) passed. */
static bool threshold_passed(const json_t *t)
{
    return json_is_true(json_is_object(t) ? json_object_get(t, "pass") : t);
}

/* Counts the thresholds that passed and failed. */
static void threshold_counts(const json_t *result, size_t *passed, size_t *failed)
{
    const char *expr;
    json_t *t;
    *passed = *failed = 0;
    json_object_foreach(html_obj(result, "thresholds"), expr, t)
    {
        if (threshold_passed(t))
            (*passed)++;
        else
            (*failed)++;
    }
}

/*
 * The failed thresholds, first and loud: a run can be valid (the generator
 * measured faithfully) and still fail its gate (exit 99), and a green
 * "valid" alone would read as "passed".
 */
static void failed_thresholds(FILE *out, const json_t *result, size_t failed)
{
    const char *expr;
    json_t *t;
    fprintf(out, "<strong>✗ %zu threshold%s failed</strong><ul>", failed, failed == 1 ? "" : "s");
    json_object_foreach(html_obj(result, "thresholds"), expr, t)
    {
        if (threshold_passed(t)) continue;
        fputs("<li><code>", out);
        html_esc(out, expr);
        fputs("</code>", out);
        if (*html_str(t, "note")) {
            fputs(" — ", out);
            html_esc(out, html_str(t, "note"));
        }
        fputs("</li>", out);
    }
    fputs("</ul>", out);
}

/*
 * Valid or invalid and why. Validity is about the generator and its host
 * only (did salvo keep its schedule?), never about the server's health, so
 * the label says so: a valid run can have every request fail.
 */
static void validity(FILE *out, const json_t *result, bool headline)
{
    bool valid = json_is_true(json_object_get(result, "valid"));
    const char *label = valid ? "✓ Valid measurement" : "✗ Invalid measurement";
    /* Under failed thresholds or a sick run, validity is the second verdict: a line, not the heading. */
    if (headline)
        fprintf(out, "<strong>%s</strong> ", label);
    else
        fprintf(out, "<div><b class=\"%s\">%s</b> ", valid ? "ok" : "bad", label);
    fputs(valid ? "— the generator kept its schedule and its host was not starved: the figures are the server's."
                : "— these figures describe the load generator as much as the server:",
          out);
    json_t *reasons = html_arr(result, "invalid_reasons"), *r;
    size_t i;
    if (json_array_size(reasons)) fputs("<ul>", out);
    json_array_foreach(reasons, i, r)
    {
        fputs("<li>", out);
        html_esc(out, json_string_value(r));
        fputs("</li>", out);
    }
    if (json_array_size(reasons)) fputs("</ul>", out);
    if (!headline) fputs("</div>", out);
}

/* The share of scheduled requests that did not end ok, in percent (0 without requests). */
static double not_ok_pct(const json_t *result)
{
    json_t *requests = html_obj(result, "requests");
    double scheduled = html_num(requests, "scheduled"), ok = html_num(requests, "ok");
    return scheduled > 0 ? 100 * (scheduled - ok) / scheduled : 0;
}

/*
 * The run's own health, as loud as validity: the share of requests that did
 * not end ok (by outcome) and an interruption. "Interrupted after" reads the
 * send phase against the configured duration, not two figures of the run.
 */
static void run_health(FILE *out, const json_t *result, bool headline)
{
    bool interrupted = json_is_true(json_object_get(result, "interrupted"));
    double pct = not_ok_pct(result);
    if (!interrupted && pct <= 0) return;
    json_t *requests = html_obj(result, "requests");
    if (headline)
        fputs("<strong>", out);
    else
        fputs("<div class=\"bad\"><b>", out);
    if (interrupted)
        fprintf(out, "✗ Interrupted after %.1f s of the planned %.1f s", html_num(result, "duration_s"),
                html_num(html_obj(result, "config"), "duration_s"));
    if (interrupted && pct > 0) fputs(" · ", out);
    if (pct > 0) fprintf(out, "%s%.2f %% of requests not ok", interrupted ? "" : "✗ ", pct);
    fputs(headline ? "</strong>" : "</b>", out);
    static const char *const outcomes[] = {"http_error", "check_failed", "failed", "timeout", "unsent"};
    const char *sep = " — ";
    for (size_t i = 0; i < sizeof(outcomes) / sizeof(outcomes[0]); i++) {
        double n = html_num(requests, outcomes[i]);
        if (n <= 0) continue;
        char b[HTML_FMT_MAX];
        fprintf(out, "%s%s %s", sep, html_fmt_count(b, sizeof(b), n), outcomes[i]);
        sep = ", ";
    }
    if (!headline) fputs("</div>", out);
}

/*
 * The verdict box: failed thresholds first, then the run's health, then
 * validity; the first that applies is the heading and sets the colour.
 */
static void verdict(FILE *out, const json_t *result)
{
    bool valid = json_is_true(json_object_get(result, "valid"));
    bool sick = json_is_true(json_object_get(result, "interrupted")) || not_ok_pct(result) > 0;
    size_t passed, failed;
    threshold_counts(result, &passed, &failed);
    /* "failed" and "unhealthy" are styled like "invalid", named apart for readers of the page. */
    fprintf(out, "<div class=\"verdict %s\">", !valid ? "invalid" : failed ? "failed" : sick ? "unhealthy" : "valid");
    if (failed) failed_thresholds(out, result, failed);
    run_health(out, result, failed == 0);
    validity(out, result, failed == 0 && !sick);
    if (passed + failed)
        fprintf(out,
                "<div>Thresholds: <span class=\"ok\">%zu passed</span>, <span class=\"%s\">%zu failed</span>"
                "</div>",
                passed, failed ? "bad" : "muted", failed);
    fputs("</div>\n", out);
    const char *warning = html_str(result, "warning");
    if (*warning || strcmp(html_str(result, "model"), "closed") == 0) {
        fputs("<div class=\"warning\"><strong>⚠ Coordinated omission</strong> — ", out);
        html_esc(out, *warning ? warning : "closed model: latency is subject to coordinated omission");
        fputs(". Each connection waits for its response before sending again, so when the server stalls the "
              "load stops too and the stall barely reaches the percentiles. Only an open-model run (the default) "
              "measures the latency users would see.</div>\n",
              out);
    }
}

/* One headline figure; a bad one is coloured. */
static void card_of(FILE *out, const char *label, const char *value, bool bad)
{
    fprintf(out, "<div class=\"card%s\"><span>%s</span><b>%s</b></div>\n", bad ? " bad" : "", label, value);
}

/* One headline figure. */
static void card(FILE *out, const char *label, const char *value)
{
    card_of(out, label, value, false);
}

/* The figures one reads first: tail latency, rate, errors. */
static void headline(FILE *out, const json_t *result)
{
    static const char *const keys[] = {"p50", "p99", "p99_9", "max"};
    static const char *const names[] = {"latency p50", "latency p99", "latency p99.9", "latency max"};
    json_t *lat = html_obj(result, "latency_us"), *rate = html_obj(result, "rate");
    json_t *requests = html_obj(result, "requests");
    char v[2 * HTML_FMT_MAX], a[HTML_FMT_MAX], b[HTML_FMT_MAX];
    double censor = json_is_true(json_object_get(lat, "lower_bounds")) ? html_num(lat, "timeout_us") : 0;
    fputs("<div class=\"cards\">\n", out);
    for (size_t i = 0; i < 4; i++) {
        double x = html_num(lat, keys[i]);
        snprintf(v, sizeof(v), "%s%s", censor > 0 && x >= censor ? "≥" : "", html_fmt_us(a, sizeof(a), x));
        card(out, names[i], html_num(lat, "count") > 0 ? v : "—");
    }
    double intended = html_num(rate, "intended");
    snprintf(v, sizeof(v), "%s/s", html_fmt_rate(a, sizeof(a), html_num(rate, "achieved")));
    if (intended > 0)
        snprintf(v + strlen(v), sizeof(v) - strlen(v), " <span>of %s</span>", html_fmt_rate(b, sizeof(b), intended));
    card(out, "achieved rate", v);
    double scheduled = html_num(requests, "scheduled");
    card(out, "requests", html_fmt_count(a, sizeof(a), scheduled));
    if (scheduled > 0)
        snprintf(v, sizeof(v), "%.2f%%", not_ok_pct(result));
    else
        snprintf(v, sizeof(v), "—");
    card_of(out, "not ok", v, not_ok_pct(result) > 0);
    fputs("</div>\n", out);
}

/* One line saying what was run: "GET url · open model at 1 000/s constant · 10 s · …". */
static void run_line(FILE *out, const json_t *result)
{
    json_t *config = html_obj(result, "config");
    char b[HTML_FMT_MAX];
    fputs("<p class=\"run\"><code>", out);
    html_esc(out, html_str(config, "method"));
    fputs(" ", out);
    html_esc(out, html_str(config, "url"));
    fputs("</code> · ", out);
    if (strcmp(html_str(result, "model"), "closed") == 0) {
        fprintf(out, "closed model, %s connections", html_fmt_count(b, sizeof(b), html_num(config, "connections")));
    } else {
        fprintf(out, "open model at %s/s ", html_fmt_rate(b, sizeof(b), html_num(config, "rate")));
        html_esc(out, html_str(config, "arrival"));
        fprintf(out, ", up to %s connections", html_fmt_count(b, sizeof(b), html_num(config, "connections")));
    }
    char t[HTML_FMT_MAX];
    fprintf(out, " · %s s · %s thread%s</p>\n", html_fmt_num(b, sizeof(b), html_num(result, "duration_s")),
            html_fmt_count(t, sizeof(t), html_num(config, "threads")), html_num(config, "threads") == 1 ? "" : "s");
}

/* The configuration as a grid of key/value pairs, then the command line. */
static void configuration(FILE *out, const json_t *result)
{
    json_t *config = html_obj(result, "config"), *v;
    const char *key;
    char b[64];
    fputs("<h3>Configuration</h3>\n<dl class=\"config\">\n", out);
    fputs("<div><dt>model</dt><dd>", out);
    html_esc(out, html_str(result, "model"));
    fputs("</dd></div>\n", out);
    if (*start_time(b, sizeof(b), result)) fprintf(out, "<div><dt>started</dt><dd>%s</dd></div>\n", b);
    json_object_foreach(config, key, v)
    {
        if (strcmp(key, "command") == 0) continue;
        fputs("<div><dt>", out);
        html_esc(out, key);
        fputs("</dt><dd>", out);
        html_value(out, key, v);
        fputs("</dd></div>\n", out);
    }
    fputs("</dl>\n", out);
    const char *command = html_str(config, "command");
    if (*command) {
        fputs("<pre><code>", out);
        html_esc(out, command);
        fputs("</code></pre>\n", out);
    }
}

/* A chart in a figure with a caption. */
static void figure(FILE *out, const char *caption, void (*draw)(FILE *, const json_t *), const json_t *result)
{
    fprintf(out, "<figure>\n<figcaption>%s</figcaption>\n", caption);
    draw(out, result);
    fputs("</figure>\n", out);
}

/* Everything about one result. */
static void result_section(FILE *out, const json_t *result, const char *title, size_t index)
{
    fprintf(out, "<section class=\"result\" id=\"result-%zu\">\n<h2>", index + 1);
    html_esc(out, title);
    fputs("</h2>\n", out);
    run_line(out, result);
    verdict(out, result);
    headline(out, result);
    fputs("<h3>Over time</h3>\n<div class=\"grid2\">\n", out);
    figure(out, "Latency per second", html_chart_latency, result);
    figure(out, "Rate: achieved vs intended", html_chart_rate, result);
    figure(out, "Percentile spectrum", html_chart_spectrum, result);
    figure(out, "Concurrency", html_chart_concurrency, result);
    fputs("</div>\n<p class=\"note\">Gaps in the latency lines are seconds in which no response completed. "
          "In the spectrum each “nine” gets the same width; where latency rises above service time, requests "
          "waited to be sent — the queueing a closed-loop test would omit.</p>\n",
          out);
    html_section_server(out, result);
    fputs("<h3>Latency</h3>\n", out);
    html_table_percentiles(out, result);
    html_table_thresholds(out, result);
    html_table_chaos(out, result);
    fputs("<h3>Outcomes</h3>\n", out);
    html_table_outcomes(out, result);
    html_table_checks(out, result);
    fputs("<h3>Per name</h3>\n", out);
    html_table_groups(out, result);
    fputs("<h3>Health</h3>\n", out);
    html_table_health(out, result);
    configuration(out, result);
    fputs("</section>\n", out);
}

/* Formats one figure of the comparison table. */
typedef const char *figure_fn(char *buf, size_t cap, double v);

/* An intended rate; 0 means there is none (closed model). */
static const char *intended_rate(char *buf, size_t cap, double v)
{
    return v > 0 ? html_fmt_rate(buf, cap, v) : (snprintf(buf, cap, "— (closed)"), buf);
}

/* One row of the comparison table: a label and a figure from each result. */
static void compare_row(FILE *out, json_t *const *results, size_t n, const char *label, const char *section,
                        const char *key, figure_fn *format)
{
    char b[HTML_FMT_MAX];
    fprintf(out, "<tr><th>%s</th>", label);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "<td class=\"num\">%s</td>", format(b, sizeof(b), html_num(html_obj(results[i], section), key)));
    fputs("</tr>\n", out);
}

/* The thresholds row of the comparison, when any result has thresholds: a
 * valid run that failed its gate must not read as a pass. */
static void compare_thresholds(FILE *out, json_t *const *results, size_t n)
{
    size_t any = 0;
    for (size_t i = 0; i < n; i++)
        any += json_object_size(html_obj(results[i], "thresholds"));
    if (!any) return;
    fputs("<tr><th>thresholds</th>", out);
    for (size_t i = 0; i < n; i++) {
        size_t passed, failed;
        threshold_counts(results[i], &passed, &failed);
        if (!(passed + failed))
            fputs("<td class=\"num muted\">—</td>", out);
        else if (failed)
            fprintf(out, "<td class=\"num bad\">✗ %zu of %zu failed</td>", failed, passed + failed);
        else
            fprintf(out, "<td class=\"num ok\">✓ %zu passed</td>", passed);
    }
    fputs("</tr>\n", out);
}

/* The results side by side: a table of key figures and one overlaid spectrum. */
static void comparison(FILE *out, json_t *const *results, const char *const *titles, size_t n)
{
    fputs("<section class=\"compare\">\n<h2>Side by side</h2>\n<table>\n<thead><tr><th></th>", out);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "<th class=\"num\"><a href=\"#result-%zu\">%zu. ", i + 1, i + 1);
        html_esc(out, titles[i]);
        fputs("</a></th>", out);
    }
    fputs("</tr></thead>\n<tbody>\n<tr><th>model</th>", out);
    for (size_t i = 0; i < n; i++) {
        fputs("<td class=\"num\">", out);
        html_esc(out, html_str(results[i], "model"));
        fputs("</td>", out);
    }
    fputs("</tr>\n<tr><th>verdict</th>", out);
    for (size_t i = 0; i < n; i++) {
        bool valid = json_is_true(json_object_get(results[i], "valid"));
        fprintf(out, "<td class=\"num %s\">%s</td>", valid ? "ok" : "bad", valid ? "valid" : "invalid");
    }
    fputs("</tr>\n", out);
    compare_thresholds(out, results, n);
    compare_row(out, results, n, "intended rate /s", "rate", "intended", intended_rate);
    compare_row(out, results, n, "achieved rate /s", "rate", "achieved", html_fmt_rate);
    compare_row(out, results, n, "requests", "requests", "scheduled", html_fmt_count);
    compare_row(out, results, n, "latency p50", "latency_us", "p50", html_fmt_us);
    compare_row(out, results, n, "latency p99", "latency_us", "p99", html_fmt_us);
    compare_row(out, results, n, "latency p99.9", "latency_us", "p99_9", html_fmt_us);
    compare_row(out, results, n, "latency max", "latency_us", "max", html_fmt_us);
    compare_row(out, results, n, "service time p99", "service_time_us", "p99", html_fmt_us);
    fputs("</tbody>\n</table>\n<figure>\n<figcaption>Latency percentile spectrum</figcaption>\n", out);
    html_chart_spectrum_compare(out, (const json_t *const *)results, titles, n);
    fputs("</figure>\n</section>\n", out);
}

/* The document head, the style sheet and the page header. */
static void page_head(FILE *out, const json_t *first, const char *title, size_t n)
{
    char b[64];
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>salvo report — ",
          out);
    html_esc(out, title);
    fprintf(out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<main>\n<header>\n<h1>salvo report</h1>\n<p>",
            html_style_sheet);
    if (n > 1)
        fprintf(out, "%zu results", n);
    else
        html_esc(out, title);
    if (*start_time(b, sizeof(b), first)) fprintf(out, " · started %s", b);
    fputs(" · ", out);
    html_esc(out, html_str(first, "tool"));
    fputs(" ", out);
    html_esc(out, html_str(first, "version"));
    fputs("</p>\n</header>\n", out);
}

int report_html_write(FILE *out, json_t *const *results, const char *const *titles, size_t n)
{
    if (!out || !results || n == 0) return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!json_is_object(results[i])) return -EINVAL;
    char(*names)[160] = calloc(n, sizeof(*names));
    const char **name_ptrs = calloc(n, sizeof(*name_ptrs));
    if (!names || !name_ptrs) abort();
    for (size_t i = 0; i < n; i++) {
        result_title(names[i], sizeof(names[i]), results[i], titles, i);
        name_ptrs[i] = names[i];
    }
    page_head(out, results[0], names[0], n);
    if (n > 1) comparison(out, results, name_ptrs, n);
    for (size_t i = 0; i < n; i++)
        result_section(out, results[i], names[i], i);
    fputs("<footer>Written by salvo. One self-contained file: no scripts, no external resources; hover over a "
          "chart for the figures of each second.</footer>\n</main>\n</body>\n</html>\n",
          out);
    free(name_ptrs);
    free(names);
    return fflush(out) == 0 && !ferror(out) ? 0 : -EIO;
}

int report_html_file(const char *path, json_t *const *results, const char *const *titles, size_t n)
{
    if (!path || !results || n == 0) return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!json_is_object(results[i])) return -EINVAL;
    FILE *out = fopen(path, "w");
    if (!out) return -errno;
    int rc = report_html_write(out, results, titles, n);
    if (fclose(out) != 0 && rc == 0) rc = errno ? -errno : -EIO;
    return rc;
}

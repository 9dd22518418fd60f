/*
 * html_charts.c — the charts of the HTML report: latency, rate and
 * concurrency over time, and the percentile spectrum.
 *
 * The timeline charts read the result's per-second rows; a second in which
 * no response completed has no latency, so its p50/p99/max leave a gap in
 * the line instead of dropping to zero (a server freeze shows as a hole
 * followed by a spike, which is what happened). Chaos windows are shaded on
 * every timeline so cause and effect line up vertically.
 *
 * The spectrum is drawn from the full HdrHistogram embedded in the result
 * ("hdr"), as a step line over x = 1/(1-p) on a log axis, which gives each
 * "nine" the same width. Latency (from the intended send time) next to
 * service time (from the actual send) is where coordinated omission shows:
 * in a closed-model run the two coincide, in an open-model run with a stall
 * latency rises decades above service time. When a result has no histogram
 * the summary percentiles are joined instead, and the legend says so.
 *
 * Cost: one pass over the timeline per line and one hist decode and
 * iteration (O(counts_len)) per spectrum line; a one-hour run is a few
 * thousand points per line, so the page stays well under a megabyte.
 */
#include "report/html_sections.h"

#include <math.h>
#include <string.h>

#include "core/hist.h"
#include "core/hist_codec.h"
#include "report/html_fmt.h"
#include "report/svg.h"

#define CHART_W 640.0
#define CHART_H 300.0
#define COMPARE_W 960.0
#define MAX_TICKS 40
#define MAX_REFS 16
#define MAX_LINES 8
/* Beyond this many seconds, per-second hover strips would bloat the page. */
#define MAX_HOVER_ROWS 900

/* A horizontal reference line: a threshold, the timeout, the intended rate. */
struct ref_line {
    double y;
    const char *cls;
    char label[200];
};

/* One per-second series of the timeline and how it is drawn. */
struct tl_series {
    const char *key, *cls, *label;
};

/* A timeline chart: what it plots and the reference lines drawn across it. */
struct tl_chart {
    const char *name, *ytitle;
    double height;
    enum svg_scale yscale;
    svg_label_fn *tick_label, *value_label;
    const struct tl_series *series;
    size_t nseries;
    struct ref_line refs[MAX_REFS];
    size_t nrefs;
    bool per_second_counts; /* the series are counts per second: drain rows are not seconds */
};

/* "12s" for the time axis. */
static const char *seconds_label(char *buf, size_t cap, double s)
{
    snprintf(buf, cap, "%gs", s);
    return buf;
}

/* The largest 1, 2 or 5 times a power of ten that is <= v (v > 0). */
static double nice_floor(double v)
{
    double decade = pow(10, floor(log10(v)));
    if (v >= 5 * decade) return 5 * decade;
    if (v >= 2 * decade) return 2 * decade;
    return decade;
}

/* Copies src into dst, cut at a UTF-8 character boundary with "…" if too long. */
static void clip_label(char *dst, size_t cap, const char *src, size_t max_bytes)
{
    size_t len = strlen(src);
    if (max_bytes + 4 > cap) max_bytes = cap - 4;
    if (len <= max_bytes) {
        memcpy(dst, src, len + 1);
        return;
    }
    while (max_bytes > 0 && ((unsigned char)src[max_bytes] & 0xC0) == 0x80)
        max_bytes--;
    memcpy(dst, src, max_bytes);
    memcpy(dst + max_bytes, "\xe2\x80\xa6", 4);
}

/* The seconds the time axis covers: the run, its last row and any chaos window. */
static double timeline_span(const json_t *result, const json_t *rows)
{
    double span = html_num(json_array_get(rows, json_array_size(rows) - 1), "t") + 1;
    double duration = html_num(result, "duration_s");
    if (duration > span) span = duration;
    json_t *chaos = html_arr(result, "chaos"), *w;
    size_t i;
    json_array_foreach(chaos, i, w) if (html_num(w, "end_s") > span) span = html_num(w, "end_s");
    return ceil(span);
}

/* The y range that holds every plotted value and reference line. */
static struct svg_axis y_axis(const struct tl_chart *c, const json_t *rows)
{
    double lo = INFINITY, hi = 0;
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        for (size_t s = 0; s < c->nseries; s++) {
            double v = html_num(row, c->series[s].key);
            if (v > 0 && v < lo) lo = v;
            if (v > hi) hi = v;
        }
    }
    for (size_t r = 0; r < c->nrefs; r++) {
        if (c->refs[r].y > 0 && c->refs[r].y < lo) lo = c->refs[r].y;
        if (c->refs[r].y > hi) hi = c->refs[r].y;
    }
    if (c->yscale == SVG_LOG) {
        if (!(hi > 0)) lo = 1, hi = 1000;
        lo = nice_floor(lo);
        hi = svg_nice_ceil(hi * 1.05);
        if (hi < lo * 10) hi = lo * 10;
        return (struct svg_axis){SVG_LOG, lo, hi};
    }
    if (!(hi > 0)) hi = 1;
    double step = svg_nice_ceil(hi / 5);
    return (struct svg_axis){SVG_LINEAR, 0, ceil(hi * 1.05 / step) * step};
}

/* Shades each chaos window and names its action. */
static void draw_chaos(struct svg_plot *p, const json_t *result)
{
    json_t *chaos = html_arr(result, "chaos"), *w;
    size_t i;
    json_array_foreach(chaos, i, w)
        svg_plot_band(p, html_num(w, "start_s"), html_num(w, "end_s"), "band-chaos", html_str(w, "action"));
}

/* One invisible strip per second whose tooltip lists that second's values. */
static void draw_hover(struct svg_plot *p, const struct tl_chart *c, const json_t *rows, double end)
{
    if (json_array_size(rows) > MAX_HOVER_ROWS) return;
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        char text[512], v[HTML_FMT_MAX];
        double t = html_num(row, "t");
        if (c->per_second_counts && t >= end) break;
        int at = snprintf(text, sizeof(text), "%g–%gs", t, t + 1);
        for (size_t s = 0; s < c->nseries && at > 0 && (size_t)at < sizeof(text); s++)
            at += snprintf(text + at, sizeof(text) - (size_t)at, "  ·  %s %s", c->series[s].label,
                           c->value_label(v, sizeof(v), html_num(row, c->series[s].key)));
        svg_plot_hover(p, t, t + 1, text);
    }
}

/*
 * The end of the send phase in whole seconds: rows from there on are the
 * drain after the schedule ended, when nothing is sent and only the last
 * responses come in. Their counts are not a rate, so count charts stop
 * there; otherwise every run would seem to collapse to 0/s at its end.
 */
static double send_phase_end(const json_t *result)
{
    double d = html_num(result, "duration_s");
    return d > 0 ? ceil(d - 1e-9) : INFINITY;
}

/* Draws a timeline chart of rows over result's seconds, or says why there is none. */
static void rows_chart(FILE *out, const json_t *result, json_t *rows, const struct tl_chart *c)
{
    if (json_array_size(rows) == 0) {
        fputs("<p class=\"empty\">No per-second data in this result.</p>\n", out);
        return;
    }
    struct svg_axis x = {SVG_LINEAR, 0, timeline_span(result, rows)};
    struct svg_axis y = y_axis(c, rows);
    struct svg_tick xt[MAX_TICKS], yt[MAX_TICKS];
    size_t nx = svg_ticks_linear(x.lo, x.hi, 8, seconds_label, xt, MAX_TICKS);
    size_t ny = c->yscale == SVG_LOG ? svg_ticks_log(y.lo, y.hi, c->tick_label, yt, MAX_TICKS)
                                     : svg_ticks_linear(y.lo, y.hi, 5, c->tick_label, yt, MAX_TICKS);
    struct svg_plot p;
    svg_plot_begin(&p, out, CHART_W, c->height, x, y, c->name);
    svg_plot_axes(&p, xt, nx, yt, ny, "seconds since start", c->ytitle);
    draw_chaos(&p, result);
    double end = send_phase_end(result);
    for (size_t r = 0; r < c->nrefs; r++)
        svg_plot_hline(&p, c->refs[r].y, c->refs[r].cls, c->refs[r].label);
    for (size_t s = 0; s < c->nseries; s++) {
        size_t i;
        json_t *row;
        svg_plot_line_begin(&p, c->series[s].cls);
        json_array_foreach(rows, i, row)
        {
            if (c->per_second_counts && html_num(row, "t") >= end) break;
            json_t *v = json_object_get(row, c->series[s].key);
            svg_plot_line_to(&p, html_num(row, "t") + 0.5, json_is_number(v) ? json_number_value(v) : NAN);
        }
        svg_plot_line_end(&p);
        svg_plot_legend(&p, c->series[s].cls, c->series[s].label);
    }
    draw_hover(&p, c, rows, end);
    svg_plot_end(&p);
}

/* Draws a timeline chart of result's own rows. */
static void timeline_chart(FILE *out, const json_t *result, const struct tl_chart *c)
{
    rows_chart(out, result, html_arr(result, "timeline"), c);
}

void html_chart_rows(FILE *out, const json_t *result, const json_t *rows, const char *name, const char *ytitle,
                     const struct html_series *series, size_t n)
{
    struct tl_series lines[MAX_LINES];
    if (n > MAX_LINES) n = MAX_LINES;
    for (size_t i = 0; i < n; i++)
        lines[i] = (struct tl_series){series[i].key, series[i].cls, series[i].label};
    struct tl_chart c = {.name = name,
                         .ytitle = ytitle,
                         .height = 200,
                         .yscale = SVG_LINEAR,
                         .tick_label = html_fmt_si,
                         .value_label = html_fmt_si,
                         .series = lines,
                         .nseries = n};
    rows_chart(out, result, (json_t *)rows, &c);
}

/* Adds a reference line unless the chart has no room left for one. */
static struct ref_line *add_ref(struct tl_chart *c, double y, const char *cls)
{
    if (c->nrefs == MAX_REFS || !(y > 0) || !isfinite(y)) return NULL;
    struct ref_line *r = &c->refs[c->nrefs++];
    r->y = y;
    r->cls = cls;
    r->label[0] = '\0';
    return r;
}

/* True when a threshold expression is about metric (e.g. "latency"). */
static bool threshold_on(const char *expr, const char *metric)
{
    size_t n = strlen(metric);
    return strncmp(expr, metric, n) == 0 && (expr[n] == '.' || expr[n] == '{');
}

/* A line per threshold on metric whose limit is in unit (scaled by scale). */
static void add_threshold_refs(struct tl_chart *c, const json_t *result, const char *metric, const char *unit,
                               double scale)
{
    json_t *thresholds = html_obj(result, "thresholds"), *t;
    const char *expr;
    json_object_foreach(thresholds, expr, t)
    {
        if (!threshold_on(expr, metric) || strcmp(html_str(t, "unit"), unit) != 0) continue;
        json_t *pass = json_object_get(t, "pass");
        struct ref_line *r = add_ref(c, html_num(t, "limit") * scale, json_is_true(pass) ? "thr-pass" : "thr-fail");
        if (r) snprintf(r->label, sizeof(r->label), "%s %s", expr, json_is_true(pass) ? "✓ passed" : "✗ failed");
    }
}

void html_chart_latency(FILE *out, const json_t *result)
{
    static const struct tl_series series[] = {
        {"p50_us", "s-p50", "p50"}, {"p99_us", "s-p99", "p99"}, {"max_us", "s-max", "max"}};
    struct tl_chart c = {.name = "Latency per second: p50, p99 and max (log scale)",
                         .ytitle = "latency",
                         .height = CHART_H,
                         .yscale = SVG_LOG,
                         .tick_label = html_fmt_us_short,
                         .value_label = html_fmt_us,
                         .series = series,
                         .nseries = 3};
    add_threshold_refs(&c, result, "latency", "us", 1);
    json_t *requests = html_obj(result, "requests"), *latency = html_obj(result, "latency_us");
    double timeout_us = html_num(latency, "timeout_us");
    if (!(timeout_us > 0)) timeout_us = html_num(html_obj(result, "config"), "timeout_s") * 1e6;
    if (html_num(requests, "timeout") > 0) {
        struct ref_line *r = add_ref(&c, timeout_us, "ref-timeout");
        char b[HTML_FMT_MAX];
        if (r) snprintf(r->label, sizeof(r->label), "timeout %s", html_fmt_us(b, sizeof(b), timeout_us));
    }
    timeline_chart(out, result, &c);
}

/* Formats a per-second count for a tooltip. */
static const char *per_second(char *buf, size_t cap, double v)
{
    char n[HTML_FMT_MAX];
    snprintf(buf, cap, "%s/s", html_fmt_count(n, sizeof(n), v));
    return buf;
}

/* True when any row of the timeline has a positive value at key. */
static bool timeline_has(const json_t *result, const char *key)
{
    size_t i;
    json_t *row;
    json_array_foreach(html_arr(result, "timeline"), i, row) if (html_num(row, key) > 0) return true;
    return false;
}

void html_chart_rate(FILE *out, const json_t *result)
{
    struct tl_series series[4];
    size_t n = 0;
    series[n++] = (struct tl_series){"sent", "s-sent", "sent"};
    series[n++] = (struct tl_series){"done", "s-done", "completed"};
    if (timeline_has(result, "errors")) series[n++] = (struct tl_series){"errors", "s-err", "errors"};
    /* A ramp gives each row its own intended rate; a constant rate is a line. */
    bool per_row = timeline_has(result, "intended");
    if (per_row) series[n++] = (struct tl_series){"intended", "s-intended", "intended"};
    struct tl_chart c = {.name = "Requests per second: sent and completed against the intended rate",
                         .ytitle = "requests per second",
                         .height = CHART_H,
                         .yscale = SVG_LINEAR,
                         .tick_label = html_fmt_si,
                         .value_label = per_second,
                         .series = series,
                         .nseries = n,
                         .per_second_counts = true};
    double intended = html_num(html_obj(result, "rate"), "intended");
    if (!(intended > 0)) intended = html_num(html_obj(result, "config"), "rate");
    if (!per_row) {
        struct ref_line *r = add_ref(&c, intended, "ref-intended");
        char b[HTML_FMT_MAX];
        if (r) snprintf(r->label, sizeof(r->label), "intended %s", per_second(b, sizeof(b), intended));
    }
    add_threshold_refs(&c, result, "rate", "req/s", 1);
    add_threshold_refs(&c, result, "rate", "ratio_of_intended", intended);
    timeline_chart(out, result, &c);
}

void html_chart_concurrency(FILE *out, const json_t *result)
{
    static const struct tl_series series[] = {{"inflight", "s-inflight", "in flight"},
                                              {"conns", "s-conns", "open connections"}};
    struct tl_chart c = {.name = "Requests in flight and open connections, per second",
                         .ytitle = "count",
                         .height = 220,
                         .yscale = SVG_LINEAR,
                         .tick_label = html_fmt_si,
                         .value_label = html_fmt_count,
                         .series = series,
                         .nseries = 2};
    timeline_chart(out, result, &c);
}

/* ------------------------------------------------------------ spectrum */

/* One line of a spectrum chart: a decoded histogram, else summary percentiles. */
struct spectrum_line {
    struct hist h;
    bool have_hist;
    const json_t *summary;
    const char *cls;
    char label[96];
};

/* Percentiles marked with a dot (and tooltip) on each line. */
static const double spectrum_marks[] = {50, 90, 99, 99.9, 99.99, 99.999, 99.9999};

/* Loads line from result's hdr[key], falling back to result[key]'s percentiles. */
static void spectrum_load(struct spectrum_line *l, const json_t *result, const char *key, const char *cls,
                          const char *label)
{
    memset(l, 0, sizeof(*l));
    l->summary = html_obj(result, key);
    l->cls = cls;
    const char *b64 = html_str(html_obj(result, "hdr"), key);
    l->have_hist = *b64 && hist_decode_base64(b64, &l->h) == 0;
    clip_label(l->label, sizeof(l->label), label, 48);
    if (!l->have_hist && html_num(l->summary, "count") > 0)
        strncat(l->label, " (summary)", sizeof(l->label) - strlen(l->label) - 1);
}

/* Count, smallest and largest value of a line (from the histogram if any). */
static double line_count(const struct spectrum_line *l)
{
    return l->have_hist ? (double)l->h.total_count : html_num(l->summary, "count");
}

static double line_min(const struct spectrum_line *l)
{
    return l->have_hist ? (double)hist_min(&l->h) : html_num(l->summary, "min");
}

static double line_max(const struct spectrum_line *l)
{
    return l->have_hist ? (double)hist_max(&l->h) : html_num(l->summary, "max");
}

/* The value at percentile pct of a line; from the summary only at its keys. */
static double line_at(const struct spectrum_line *l, double pct)
{
    if (l->have_hist) return (double)hist_value_at_percentile(&l->h, pct);
    static const struct {
        double pct;
        const char *key;
    } keys[] = {{50, "p50"}, {90, "p90"}, {99, "p99"}, {99.9, "p99_9"}, {99.99, "p99_99"}};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (fabs(keys[i].pct - pct) < 1e-9) return html_num(l->summary, keys[i].key);
    return NAN;
}

/* The line itself: steps from the histogram, or the summary points joined. */
static void spectrum_path(struct svg_plot *p, const struct spectrum_line *l, double x_max)
{
    svg_plot_line_begin(p, l->cls);
    if (l->have_hist) {
        struct hist_iter it;
        double total = (double)l->h.total_count, before = 0;
        hist_iter_init(&it, &l->h);
        while (hist_iter_next(&it)) {
            double after = (double)it.cumulative;
            svg_plot_line_to(p, 1 / (1 - before / total), (double)it.value);
            svg_plot_line_to(p, after >= total ? x_max : 1 / (1 - after / total), (double)it.value);
            before = after;
        }
    } else {
        svg_plot_line_to(p, 1, line_min(l));
        for (size_t i = 0; i < 5; i++)
            svg_plot_line_to(p, 1 / (1 - spectrum_marks[i] / 100), line_at(l, spectrum_marks[i]));
        svg_plot_line_to(p, x_max, line_max(l));
    }
    svg_plot_line_end(p);
}

/* Dots with tooltips at the marked percentiles and at the maximum. */
static void spectrum_dots(struct svg_plot *p, const struct spectrum_line *l, double x_max)
{
    char tip[200], v[HTML_FMT_MAX];
    for (size_t i = 0; i < sizeof(spectrum_marks) / sizeof(spectrum_marks[0]); i++) {
        double x = 1 / (1 - spectrum_marks[i] / 100), value = line_at(l, spectrum_marks[i]);
        if (x > x_max * 1.001 || !isfinite(value)) continue;
        snprintf(tip, sizeof(tip), "%s p%g: %s", l->label, spectrum_marks[i], html_fmt_us(v, sizeof(v), value));
        svg_plot_dot(p, x, value, l->cls, tip);
    }
    snprintf(tip, sizeof(tip), "%s max: %s", l->label, html_fmt_us(v, sizeof(v), line_max(l)));
    svg_plot_dot(p, x_max, line_max(l), l->cls, tip);
}

/* x ticks at 0%, 50% and each "nine" up to x_max. */
static size_t spectrum_xticks(double x_max, struct svg_tick *t)
{
    static const char *const nines[] = {"0%", "90%", "99%", "99.9%", "99.99%", "99.999%", "99.9999%"};
    size_t n = 0;
    for (size_t d = 0; d < sizeof(nines) / sizeof(nines[0]) && pow(10, (double)d) <= x_max * 1.001; d++) {
        t[n].value = pow(10, (double)d);
        snprintf(t[n].label, sizeof(t[n].label), "%s", nines[d]);
        n++;
        if (d == 0) {
            t[n].value = 2;
            snprintf(t[n].label, sizeof(t[n].label), "50%%");
            n++;
        }
    }
    return n;
}

/* Draws the spectrum of n loaded lines; lat_summary gives the timeout, if any. */
static void spectrum_draw(FILE *out, struct spectrum_line *lines, size_t n, double width, const char *name,
                          const json_t *timeout_from)
{
    double count = 0, lo = INFINITY, hi = 0;
    for (size_t i = 0; i < n; i++) {
        if (line_count(&lines[i]) <= 0) continue;
        count = fmax(count, line_count(&lines[i]));
        if (line_min(&lines[i]) > 0) lo = fmin(lo, line_min(&lines[i]));
        hi = fmax(hi, line_max(&lines[i]));
    }
    if (count <= 0 || !(hi > 0)) {
        fputs("<p class=\"empty\">No latency recorded: nothing to draw.</p>\n", out);
        return;
    }
    /* Show at least up to 99.99% and at most to 99.9999%, as the count allows. */
    double x_max = fmin(fmax(pow(10, ceil(log10(count))), 1e4), 1e6);
    double timeout_us = html_num(timeout_from, "timeout_us");
    bool censored = json_is_true(json_object_get(timeout_from, "lower_bounds")) && timeout_us > 0;
    if (censored) hi = fmax(hi, timeout_us);
    lo = nice_floor(lo < INFINITY ? lo : 1);
    struct svg_axis x = {SVG_LOG, 1, x_max}, y = {SVG_LOG, lo, fmax(svg_nice_ceil(hi * 1.05), lo * 10)};
    struct svg_tick xt[MAX_TICKS], yt[MAX_TICKS];
    size_t nx = spectrum_xticks(x_max, xt), ny = svg_ticks_log(y.lo, y.hi, html_fmt_us_short, yt, MAX_TICKS);
    struct svg_plot p;
    svg_plot_begin(&p, out, width, CHART_H, x, y, name);
    svg_plot_axes(&p, xt, nx, yt, ny, "percentile (axis: 1/(1−p), log scale)", "latency");
    if (censored) svg_plot_hline(&p, timeout_us, "ref-timeout", "timeout: values at or above are lower bounds");
    for (size_t i = 0; i < n; i++) {
        if (line_count(&lines[i]) <= 0) continue;
        spectrum_path(&p, &lines[i], x_max);
        spectrum_dots(&p, &lines[i], x_max);
        svg_plot_legend(&p, lines[i].cls, lines[i].label);
    }
    svg_plot_end(&p);
}

void html_chart_spectrum(FILE *out, const json_t *result)
{
    struct spectrum_line lines[2];
    bool closed = strcmp(html_str(result, "model"), "closed") == 0;
    spectrum_load(&lines[0], result, "latency_us", "s-latency",
                  closed ? "latency (= service time: closed model)" : "latency (from intended send)");
    spectrum_load(&lines[1], result, "service_time_us", "s-service", "service time (from actual send)");
    spectrum_draw(out, lines, 2, CHART_W, "Percentile spectrum of latency and service time",
                  html_obj(result, "latency_us"));
    hist_release(&lines[0].h);
    hist_release(&lines[1].h);
}

void html_chart_spectrum_compare(FILE *out, const json_t *const *results, const char *const *titles, size_t n)
{
    static const char *const classes[MAX_LINES] = {"c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8"};
    struct spectrum_line lines[MAX_LINES];
    if (n > MAX_LINES) n = MAX_LINES;
    for (size_t i = 0; i < n; i++) {
        char label[160];
        snprintf(label, sizeof(label), "%zu. %s", i + 1, titles[i]);
        spectrum_load(&lines[i], results[i], "latency_us", classes[i], label);
    }
    spectrum_draw(out, lines, n, COMPARE_W, "Latency percentile spectrum of every result", NULL);
    for (size_t i = 0; i < n; i++)
        hist_release(&lines[i].h);
}

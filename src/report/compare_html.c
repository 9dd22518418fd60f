/*
 * compare_html.c — the HTML page of `salvo compare` (see compare_html.h).
 *
 * The spectra reuse the report's chart (html_chart_spectrum_compare); the
 * per-second p99 chart is drawn here with svg.c from each run's timeline.
 * With several runs per side only the first of each side is drawn, and the
 * page says so; the table covers them all.
 */
#include "report/compare_html.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "report/compare_out.h"
#include "report/html_find.h"
#include "report/html_fmt.h"
#include "report/html_sections.h"
#include "report/svg.h"

#define P99_W 960.0
#define P99_H 300.0
#define MAX_TICKS 40

/* One table cell of a figure's value; "-" for the side that does not keep it (NaN, compare.c). */
static void cell_value(FILE *out, enum cmp_fig f, double v)
{
    char b[HTML_FMT_MAX];
    if (isnan(v))
        fputs("<td>-</td>", out);
    else if (f == CMP_ERR_RATE)
        fprintf(out, "<td>%.2f%%</td>", 100 * v);
    else if (f == CMP_RATE)
        fprintf(out, "<td>%s/s</td>", html_fmt_rate(b, sizeof(b), v));
    else
        fprintf(out, "<td>%s</td>", html_fmt_us(b, sizeof(b), v));
}

void cmp_html_table(FILE *out, const struct cmp_result *r)
{
    fputs("<table>\n<tr><th>name</th><th>figure</th><th>baseline</th><th>candidate</th><th>change</th>"
          "<th>95% interval</th><th>verdict</th></tr>\n",
          out);
    for (size_t i = 0; i < r->nrows; i++) {
        const struct cmp_row *row = &r->rows[i];
        const char *unit = row->fig == CMP_ERR_RATE ? "pp" : "%";
        fputs("<tr><td>", out);
        html_esc(out, row->scope[0] ? row->scope : "(whole run)");
        fprintf(out, "</td><td>%s</td>", cmp_fig_name(row->fig));
        cell_value(out, row->fig, row->base);
        cell_value(out, row->fig, row->cand);
        if (isnan(row->base) || isnan(row->cand)) /* a side lacks the figure: no change to show */
            fputs("<td>-</td><td>-</td>", out);
        else
            fprintf(out, "<td>%+.1f%s</td><td>[%+.1f%s, %+.1f%s]</td>", row->diff, unit, row->lo, unit, row->hi, unit);
        bool bad = row->verdict == CMP_REGRESSED;
        fprintf(out, "<td class=\"%s\">%s", bad ? "bad" : "", cmp_verdict_name(row->verdict));
        if (row->why[0]) {
            fputs(" (", out);
            html_esc(out, row->why);
            fputs(")", out);
        }
        fputs("</td></tr>\n", out);
    }
    fputs("</table>\n", out);
}

/* Largest per-second p99 of a result's timeline, 0 when none. */
static double p99_max(const json_t *result)
{
    double hi = 0;
    size_t i;
    json_t *row;
    json_array_foreach(html_arr(result, "timeline"), i, row) hi = fmax(hi, html_num(row, "p99_us"));
    return hi;
}

/* One line of per-second p99. */
static void p99_line(struct svg_plot *p, const json_t *result, const char *cls, const char *label)
{
    size_t i;
    json_t *row;
    svg_plot_line_begin(p, cls);
    json_array_foreach(html_arr(result, "timeline"), i, row)
    {
        double v = html_num(row, "p99_us");
        svg_plot_line_to(p, html_num(row, "t") + 0.5, html_num(row, "done") > 0 ? v : NAN);
    }
    svg_plot_line_end(p);
    svg_plot_legend(p, cls, label);
}

/* The per-second p99 of the baseline and the candidate, overlaid. */
static void p99_chart(FILE *out, const json_t *base, const json_t *cand)
{
    double hi = fmax(p99_max(base), p99_max(cand));
    double span = fmax(json_array_size(html_arr(base, "timeline")), json_array_size(html_arr(cand, "timeline")));
    if (!(hi > 0) || span < 1) {
        fputs("<p class=\"empty\">No per-second latency to draw.</p>\n", out);
        return;
    }
    struct svg_axis x = {SVG_LINEAR, 0, span}, y = {SVG_LOG, 1, svg_nice_ceil(hi * 1.05)};
    double lo = fmin(p99_max(base), p99_max(cand)) / 10;
    y.lo = lo >= 1 ? pow(10, floor(log10(lo))) : 1;
    if (y.hi <= y.lo * 10) y.hi = y.lo * 10;
    struct svg_tick xt[MAX_TICKS], yt[MAX_TICKS];
    size_t nx = svg_ticks_linear(x.lo, x.hi, 8, html_fmt_num, xt, MAX_TICKS);
    size_t ny = svg_ticks_log(y.lo, y.hi, html_fmt_us_short, yt, MAX_TICKS);
    struct svg_plot p;
    svg_plot_begin(&p, out, P99_W, P99_H, x, y, "Per-second latency p99, baseline and candidate");
    svg_plot_axes(&p, xt, nx, yt, ny, "seconds since start", "latency p99");
    p99_line(&p, base, "c1", "baseline");
    p99_line(&p, cand, "c2", "candidate");
    svg_plot_end(&p);
}

/* The page's head, with title (escaped) as its heading. */
static void page_begin(FILE *out, const char *title)
{
    fprintf(out,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<title>salvo compare</title>\n<style>\n%s</style>\n</head>\n<body>\n<main>\n<header>\n<h1>",
            html_style_sheet);
    html_esc(out, title);
    fputs("</h1>\n", out);
}

static int page_end(FILE *out)
{
    fputs("</section>\n<footer>Written by salvo. One self-contained file: no scripts, no external "
          "resources.</footer>\n</main>\n</body>\n</html>\n",
          out);
    return fflush(out) == 0 && !ferror(out) ? 0 : -EIO;
}

void cmp_html_find_begin(FILE *out, json_t *base, json_t *cand, const char *capacity)
{
    page_begin(out, "salvo compare: two find results");
    fputs("<p>The capacities, then every rate both searches ran (same rate, same confirmation flag), compared as "
          "runs.</p>\n</header>\n<section class=\"compare\">\n<h2>Capacity</h2>\n<pre>",
          out);
    html_esc(out, capacity);
    fputs("</pre>\n<h2>Latency against rate (judged window of each step; hollow: failed)</h2>\n<figure>\n", out);
    report_html_find_curves(out, base, cand);
    fputs("</figure>\n", out);
}

void cmp_html_find_rate(FILE *out, const struct cmp_result *r, double rate, bool confirm, const char *skipped)
{
    fprintf(out, "<h2>At %.0f/s%s</h2>\n", rate, confirm ? ", confirmation" : "");
    if (r)
        cmp_html_table(out, r);
    else {
        fputs("<p>Not compared: ", out);
        html_esc(out, skipped);
        fputs("</p>\n", out);
    }
}

int cmp_html_find_end(FILE *out, size_t npairs)
{
    if (!npairs) fputs("<p>No rate was run by both searches: only the capacities compare.</p>\n", out);
    return page_end(out);
}

int cmp_html_write(FILE *out, const struct cmp_result *r, json_t *const *base, size_t nb, json_t *const *cand,
                   size_t nc)
{
    char title[96];
    snprintf(title, sizeof(title), "salvo compare: %s", cmp_overall(r));
    page_begin(out, title);
    fprintf(out,
            "<p>%zu baseline and %zu candidate result(s), %u bootstrap resamples, 95%% intervals</p>\n</header>\n"
            "<section class=\"compare\">\n",
            nb, nc, r->resamples);
    if (r->within_run_only)
        fputs("<p>One run per side: the intervals see the noise within each run only, not how much a rerun would "
              "differ.</p>\n",
              out);
    cmp_html_table(out, r);
    if (nb > 1 || nc > 1) fputs("<p>The charts show the first result of each side.</p>\n", out);
    const json_t *pair[2] = {base[0], cand[0]};
    static const char *const titles[2] = {"baseline", "candidate"};
    fputs("<figure>\n", out);
    html_chart_spectrum_compare(out, pair, titles, 2);
    fputs("</figure>\n<figure>\n", out);
    p99_chart(out, base[0], cand[0]);
    fputs("</figure>\n", out);
    return page_end(out);
}

int cmp_html_file(const char *path, const struct cmp_result *r, json_t *const *base, size_t nb, json_t *const *cand,
                  size_t nc)
{
    FILE *out = fopen(path, "w");
    if (!out) return -errno;
    int rc = cmp_html_write(out, r, base, nb, cand, nc);
    if (fclose(out) != 0 && rc == 0) rc = -EIO;
    return rc;
}

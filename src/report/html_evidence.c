/*
 * html_evidence.c — the server side in the HTML report: what --scrape read,
 * charted on the run's own seconds (chaos windows shaded, as on the
 * latency chart, so a queue rising with p99 lines up vertically), and links
 * to the profiles --profile saved.
 *
 * A chart per series whose values moved (a flat line says nothing), at most
 * MAX_CHARTS; histograms draw their per-second p50 and p99. A null value
 * (a failed, late or missed scrape) is a gap in the line, never a 0. The
 * rest of the series are in the JSON.
 */
#include <math.h>
#include <string.h>

#include "report/html_fmt.h"
#include "report/html_sections.h"

#define MAX_CHARTS 8

/* True when the non-null values of a differ (a flat line with a gap says nothing new). */
static bool moved(const json_t *a)
{
    double lo = INFINITY, hi = -INFINITY;
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        if (!json_is_number(v)) continue;
        double x = json_number_value(v);
        lo = x < lo ? x : lo;
        hi = x > hi ? x : hi;
    }
    return hi > lo;
}

/* name{k="v",...} of a series, escaped, into out. */
static void series_title(FILE *out, const json_t *s)
{
    html_esc(out, html_str(s, "name"));
    const char *k;
    json_t *v;
    int n = 0;
    json_object_foreach(html_obj(s, "labels"), k, v)
    {
        fputs(n++ ? "," : "{", out);
        html_esc(out, k);
        fputs("=\"", out);
        html_esc(out, json_string_value(v));
        fputs("\"", out);
    }
    if (n) fputs("}", out);
}

/* Rows {t, v, p50} of one series, for html_chart_rows. */
static json_t *series_rows(const json_t *s)
{
    json_t *rows = json_array(), *v, *p50 = html_arr(s, "p50");
    size_t i;
    json_array_foreach(html_arr(s, "values"), i, v)
    {
        json_t *row = json_object();
        json_object_set_new(row, "t", json_integer((json_int_t)i));
        json_object_set(row, "v", v);
        if (json_array_get(p50, i)) json_object_set(row, "p50", json_array_get(p50, i));
        json_array_append_new(rows, row);
    }
    return rows;
}

static void server_chart(FILE *out, const json_t *result, const json_t *s)
{
    const char *kind = html_str(s, "kind");
    bool hist = !strcmp(kind, "histogram"), counter = !strcmp(kind, "counter");
    static const struct html_series one[] = {{"v", "s-inflight", "value"}};
    static const struct html_series rate[] = {{"v", "s-sent", "per second"}};
    static const struct html_series quantiles[] = {{"p50", "s-p50", "p50"}, {"v", "s-p99", "p99"}};
    fputs("<figure>\n<figcaption>", out);
    series_title(out, s);
    fprintf(out, " <small>(%s%s)</small></figcaption>\n", kind, counter ? ", rate per second" : "");
    json_t *rows = series_rows(s);
    html_chart_rows(out, result, rows, html_str(s, "name"),
                    counter ? "per second"
                    : hist  ? "quantile"
                            : "value",
                    hist      ? quantiles
                    : counter ? rate
                              : one,
                    hist ? 2 : 1);
    json_decref(rows);
    fputs("</figure>\n", out);
}

static void profile_links(FILE *out, const json_t *profiles)
{
    size_t i;
    json_t *p;
    fputs("<ul class=\"profiles\">\n", out);
    json_array_foreach(profiles, i, p)
    {
        if (json_is_false(json_object_get(p, "kept"))) continue; /* a ramp's, away from the knee: deleted */
        fputs("<li>", out);
        if (json_is_true(json_object_get(p, "ok"))) {
            fputs("<a href=\"", out);
            html_esc(out, html_str(p, "file"));
            fputs("\">", out);
            html_esc(out, html_str(p, "file"));
            fprintf(out, "</a> — %.0f s from %.1f s (<code>go tool pprof -http=: FILE</code>)", html_num(p, "for_s"),
                    html_num(p, "at_s"));
        } else {
            html_esc(out, html_str(p, "url"));
            fputs(": not saved: ", out);
            html_esc(out, html_str(p, "error"));
        }
        fputs("</li>\n", out);
    }
    fputs("</ul>\n", out);
}

void html_section_server(FILE *out, const json_t *result)
{
    const json_t *sc = json_object_get(result, "scrape"), *profiles = json_object_get(result, "profiles");
    if (!json_is_object(sc) && !json_array_size(profiles)) return;
    fputs("<h3>Server side</h3>\n", out);
    size_t i, charts = 0, quiet = 0;
    json_t *s, *t;
    json_array_foreach(html_arr(sc, "targets"), i, t)
    {
        fputs("<p class=\"note\">Scraped ", out);
        html_esc(out, html_str(t, "url"));
        fprintf(out, ": %.0f series kept, %.0f dropped by the cap, %.0f of %.0f rounds good", html_num(t, "series"),
                html_num(t, "dropped_series"), html_num(t, "good_rounds"), html_num(t, "rounds"));
        json_t *e = json_array_get(html_arr(t, "errors"), 0);
        if (e) {
            fputs(" (", out);
            html_esc(out, html_str(e, "cause"));
            fputs(")", out);
        }
        fputs(". Gaps in these lines are seconds without a good scrape.</p>\n", out);
    }
    fputs("<div class=\"grid2\">\n", out);
    json_array_foreach(html_arr(sc, "series"), i, s)
    {
        if (!moved(html_arr(s, "values"))) continue;
        if (charts++ < MAX_CHARTS)
            server_chart(out, result, s);
        else
            quiet++;
    }
    fputs("</div>\n", out);
    if (quiet)
        fprintf(out, "<p class=\"note\">%zu more series moved; they are in the JSON's scrape.series.</p>\n", quiet);
    if (json_array_size(profiles)) profile_links(out, profiles);
}

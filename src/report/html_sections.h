/*
 * html_sections.h — the parts of the HTML report page, shared by html.c
 * (page, verdict, configuration, comparison), html_charts.c (the SVG charts)
 * and html_tables.c (the tables). Internal to src/report/.
 *
 * Every writer takes a result in the results contract (architecture.md) and
 * renders what it finds: a missing key, an empty timeline or zero counts
 * give an explanatory line instead of a chart or table, never a crash. They
 * write to out and leave write errors in its error flag, which
 * report_html_write checks once at the end.
 */
#ifndef SALVO_HTML_SECTIONS_H
#define SALVO_HTML_SECTIONS_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

/* The page's CSS (html.c), for other pages of the same look (compare_html.c). */
extern const char html_style_sheet[];

/* Latency p50/p99/max per second (log axis), with latency thresholds, the
 * timeout when requests timed out, and chaos windows shaded. */
void html_chart_latency(FILE *out, const json_t *result);

/* Requests sent, completed and failed per second against the intended rate. */
void html_chart_rate(FILE *out, const json_t *result);

/* Requests in flight and open connections per second. */
void html_chart_concurrency(FILE *out, const json_t *result);

/* Percentile spectrum of latency next to service time, on a 1/(1-p) axis. */
void html_chart_spectrum(FILE *out, const json_t *result);

/* The latency spectra of n results on one chart, labelled by titles. */
void html_chart_spectrum_compare(FILE *out, const json_t *const *results, const char *const *titles, size_t n);

/* A line of html_chart_rows: the key it reads in each row, its CSS class, its legend label. */
struct html_series {
    const char *key, *cls, *label;
};

/*
 * A linear timeline chart of rows shaped like result's "timeline" (each
 * with "t"), drawn over result's seconds with its chaos windows shaded;
 * a missing or null value is a gap in the line. At most 8 series.
 */
void html_chart_rows(FILE *out, const json_t *result, const json_t *rows, const char *name, const char *ytitle,
                     const struct html_series *series, size_t n);

/* The server side (html_evidence.c): a chart per scraped series that moved, links to saved profiles. */
void html_section_server(FILE *out, const json_t *result);

/* Percentiles of latency, service time, wait, TTFB, connect and send lag. */
void html_table_percentiles(FILE *out, const json_t *result);

/* Outcome counts (they add up to scheduled), status codes and error kinds. */
void html_table_outcomes(FILE *out, const json_t *result);

/* One row per check (--check or a script's check()): pass, fail, pass rate
 * and body_too_large (part of fail), then a note when responses waited for
 * kept-body room; nothing when the run had no checks. */
void html_table_checks(FILE *out, const json_t *result);

/* One row per request name. */
void html_table_groups(FILE *out, const json_t *result);

/* Each threshold's expression, observed value, limit and verdict; nothing
 * when the run had none. */
void html_table_thresholds(FILE *out, const json_t *result);

/* Each chaos window with its figures; nothing when the run had none. */
void html_table_chaos(FILE *out, const json_t *result);

/* Connection pool, generator health and non-zero kernel counter deltas. */
void html_table_health(FILE *out, const json_t *result);

#endif

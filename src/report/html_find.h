/*
 * html_find.h — the HTML page of a `salvo find` result: the latency
 * against rate curve (judged p50 and p99 of every step, the SLO lines)
 * and the table of steps.
 */
#ifndef SALVO_REPORT_HTML_FIND_H
#define SALVO_REPORT_HTML_FIND_H

#include <jansson.h>
#include <stdio.h>

/* Writes the page for find result doc to out. Returns 0 or -errno. */
int report_html_find_write(FILE *out, json_t *doc);
/* The same into path. Returns 0 or -errno. */
int report_html_find_file(const char *path, json_t *doc);
/*
 * The latency-against-rate curves of two find results overlaid (baseline
 * solid, candidate dashed; SLO lines from base), as one inline SVG, for
 * `salvo compare`'s page. Returns 0 or -errno.
 */
int report_html_find_curves(FILE *out, json_t *base, json_t *cand);

#endif

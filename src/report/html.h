/*
 * html.h — the HTML report: one or more results on one self-contained page.
 *
 * People would rather look than read, and a report is worth most when it can
 * be mailed or published as is. So the page is a single file with inline CSS
 * and inline SVG charts: no script, no font, no image and no link to fetch,
 * readable offline, without JavaScript, on any static host. It shows the
 * verdict (valid or not, why, and the closed-model warning), the
 * configuration, latency/rate/concurrency over time with thresholds and
 * chaos windows, the latency and service-time percentile spectrum on a
 * 1/(1-p) axis (where coordinated omission becomes visible), outcomes and
 * status codes, the per-name table, and pool, generator and kernel health.
 * Several results (salvo demo's experiments) get a comparison table and one
 * overlaid spectrum first, then a section each.
 *
 * Input is the results contract (architecture.md, "Results JSON"), read
 * tolerantly: missing sections are skipped, never fatal. Every string taken
 * from a result is HTML-escaped. The renderer never prints and never exits.
 */
#ifndef SALVO_HTML_H
#define SALVO_HTML_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

/*
 * Writes the page for results[0..n-1] to out. titles may be NULL, and so may
 * any titles[i]: the result's request name (or "result i") is used instead.
 * The results are borrowed and not modified. Returns 0; -EINVAL when n is 0
 * or a result is not a JSON object (nothing is written then); -EIO when
 * writing to out failed.
 */
int report_html_write(FILE *out, json_t *const *results, const char *const *titles, size_t n);

/*
 * Like report_html_write, into the file at path (created or truncated).
 * Returns 0, -EINVAL as above, or the -errno of opening, writing or closing.
 */
int report_html_file(const char *path, json_t *const *results, const char *const *titles, size_t n);

#endif

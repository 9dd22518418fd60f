/*
 * compare_html.h — a comparison as one self-contained HTML page: the table
 * with intervals and verdicts, both latency percentile spectra overlaid,
 * and the per-second p99 of both runs overlaid. Same look and the same
 * no-script, no-network rules as the report (html.h). Renders a struct
 * cmp_result and the results it came from (borrowed); judges nothing.
 */
#ifndef SALVO_COMPARE_HTML_H
#define SALVO_COMPARE_HTML_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "report/compare.h"

/* Writes the page to out. Returns 0, or -EIO when writing failed. */
int cmp_html_write(FILE *out, const struct cmp_result *r, json_t *const *base, size_t nb, json_t *const *cand,
                   size_t nc);
/* Like cmp_html_write into the file at path. Returns 0 or -errno. */
int cmp_html_file(const char *path, const struct cmp_result *r, json_t *const *base, size_t nb, json_t *const *cand,
                  size_t nc);

/* The comparison's table: every row with its interval and verdict. */
void cmp_html_table(FILE *out, const struct cmp_result *r);

/*
 * The page of two find results compared, in three parts: the head with
 * the capacity block (capacity: the terminal's text) and both searches'
 * latency-against-rate curves; one section per rate both ran (r NULL:
 * not compared, skipped says why); the end. Returns 0 or -EIO (end).
 */
void cmp_html_find_begin(FILE *out, json_t *base, json_t *cand, const char *capacity);
void cmp_html_find_rate(FILE *out, const struct cmp_result *r, double rate, bool confirm, const char *skipped);
int cmp_html_find_end(FILE *out, size_t npairs);

#endif

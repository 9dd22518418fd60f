/*
 * compare_out.c — a comparison as a terminal table and as JSON (see
 * compare_out.h). Both read the struct cmp_result only: the verdicts are
 * computed once, in compare.c.
 */
#include "report/compare_out.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/fmt.h"

/* A figure's value in its unit: "2.41ms", "0.12%", "300/s". */
static const char *fmt_value(char *buf, size_t cap, enum cmp_fig f, double v)
{
    if (isnan(v)) { /* the side does not keep this figure (compare.c) */
        snprintf(buf, cap, "-");
        return buf;
    }
    if (f == CMP_ERR_RATE) {
        snprintf(buf, cap, "%.2f%%", 100 * v);
        return buf;
    }
    if (f == CMP_RATE) {
        char r[32];
        snprintf(buf, cap, "%s/s", report_fmt_rate(r, sizeof(r), v));
        return buf;
    }
    return report_fmt_us(buf, cap, v);
}

/* "+12.3%" (errors.rate: "+0.10pp"). */
static const char *fmt_diff(char *buf, size_t cap, enum cmp_fig f, double d)
{
    snprintf(buf, cap, "%+.1f%s", fabs(d) < 0.05 ? 0.0 : d, f == CMP_ERR_RATE ? "pp" : "%");
    return buf;
}

/* One table row. */
static void print_row(FILE *out, const struct cmp_row *r, const char *indent)
{
    char b[32], c[32], d[32], lo[32], hi[32], iv[80];
    bool none = isnan(r->base) || isnan(r->cand); /* a side lacks the figure: no change to show */
    snprintf(iv, sizeof(iv), "[%s, %s]", fmt_diff(lo, sizeof(lo), r->fig, r->lo),
             fmt_diff(hi, sizeof(hi), r->fig, r->hi));
    if (none) {
        snprintf(d, sizeof(d), "-");
        snprintf(iv, sizeof(iv), "-");
    }
    fprintf(out, "%s%-*s %10s %10s %9s  %-20s %s", indent, 20 - (int)strlen(indent), cmp_fig_name(r->fig),
            fmt_value(b, sizeof(b), r->fig, r->base), fmt_value(c, sizeof(c), r->fig, r->cand),
            none ? d : fmt_diff(d, sizeof(d), r->fig, r->diff), iv, cmp_verdict_name(r->verdict));
    if (r->why[0]) fprintf(out, " (%s)", r->why);
    fputc('\n', out);
}

void cmp_print(FILE *out, const struct cmp_result *r)
{
    if (r->within_run_only)
        fprintf(out, "note: one run per side: the intervals see the noise within each run only, not how much a\n"
                     "      rerun would differ; give several runs with --baseline F… --candidate F… for that\n");
    fprintf(out, "\n%-20s %10s %10s %9s  %-20s %s\n", "figure", "baseline", "candidate", "change", "95% interval",
            "verdict");
    const char *scope = "";
    for (size_t i = 0; i < r->nrows; i++) {
        const struct cmp_row *row = &r->rows[i];
        if (strcmp(row->scope, scope) != 0) {
            scope = row->scope;
            fprintf(out, "name '%s'\n", scope);
        }
        print_row(out, row, scope[0] ? "  " : "");
    }
}

/* The counts of each verdict over all rows. */
static void tally(const struct cmp_result *r, size_t count[4])
{
    memset(count, 0, 4 * sizeof(count[0]));
    for (size_t i = 0; i < r->nrows; i++)
        count[r->rows[i].verdict]++;
}

const char *cmp_overall(const struct cmp_result *r)
{
    size_t n[4];
    tally(r, n);
    if (n[CMP_REGRESSED]) return "regressed";
    if (n[CMP_IMPROVED]) return "improved";
    return "no significant change";
}

void cmp_print_verdict(FILE *out, const struct cmp_result *r)
{
    size_t n[4];
    tally(r, n);
    fprintf(out, "\ncompare: %s (%zu regressed, %zu improved, %zu unchanged, %zu inconclusive; %u resamples)\n",
            cmp_overall(r), n[CMP_REGRESSED], n[CMP_IMPROVED], n[CMP_NO_CHANGE], n[CMP_INCONCLUSIVE], r->resamples);
}

/* One row as JSON. */
static json_t *row_json(const struct cmp_row *r)
{
    json_t *o = json_object();
    bool none = isnan(r->base) || isnan(r->cand); /* a side lacks the figure: null values, no change */
    json_object_set_new(o, "figure", json_string(cmp_fig_name(r->fig)));
    json_object_set_new(o, "name", r->scope[0] ? json_string(r->scope) : json_null());
    json_object_set_new(o, "baseline", isnan(r->base) ? json_null() : json_real(r->base));
    json_object_set_new(o, "candidate", isnan(r->cand) ? json_null() : json_real(r->cand));
    json_object_set_new(o, "change", none ? json_null() : json_real(r->diff));
    json_object_set_new(o, "change_unit", json_string(r->fig == CMP_ERR_RATE ? "pp" : "%"));
    json_object_set_new(o, "ci95", none ? json_null() : json_pack("[f,f]", r->lo, r->hi));
    json_object_set_new(o, "difference", none ? json_null() : json_real(r->abs_diff));
    json_object_set_new(o, "difference_ci95", none ? json_null() : json_pack("[f,f]", r->abs_lo, r->abs_hi));
    json_object_set_new(o, "verdict", json_string(cmp_verdict_name(r->verdict)));
    json_object_set_new(o, "why", r->why[0] ? json_string(r->why) : json_null());
    return o;
}

json_t *cmp_result_json(const struct cmp_result *r)
{
    json_t *o = json_object(), *rows = json_array();
    json_object_set_new(o, "tool", json_string("salvo"));
    json_object_set_new(o, "kind", json_string("compare"));
    json_object_set_new(o, "verdict", json_string(cmp_overall(r)));
    json_object_set_new(o, "resamples", json_integer(r->resamples));
    /* How often a resample's percentile fell outside its window (docs/compare.md, "Speed"). */
    json_object_set_new(o, "resamples_full_way", json_integer((json_int_t)r->full_resamples));
    json_object_set_new(o, "confidence_pct", json_integer(95));
    json_object_set_new(o, "within_run_noise_only", json_boolean(r->within_run_only));
    for (size_t i = 0; i < r->nrows; i++)
        json_array_append_new(rows, row_json(&r->rows[i]));
    json_object_set_new(o, "figures", rows);
    return o;
}

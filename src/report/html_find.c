/*
 * html_find.c — the HTML page of a `salvo find` result (see html_find.h).
 * Self-contained: one inline SVG, no script. The x axis is logarithmic in
 * the rate because the bracket grows by a factor; y is linear in ms.
 */
#include "report/html_find.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define W 720.0
#define H 360.0
#define PAD 50.0

static double num(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

struct point {
    double rate, p50, p99;
    const char *verdict;
};

static int by_rate(const void *a, const void *b)
{
    double x = ((const struct point *)a)->rate, y = ((const struct point *)b)->rate;
    return (x > y) - (x < y);
}

/* The latency limits of the SLOs ("latency.pNN < Xms"), in ms, to draw as lines. */
static size_t slo_lines(json_t *doc, double *ms, const char **text, size_t cap)
{
    size_t n = 0;
    json_t *v;
    size_t i;
    json_array_foreach(json_object_get(doc, "slo"), i, v)
    {
        const char *t = json_string_value(v);
        const char *op = t ? strpbrk(t, "<") : NULL;
        if (!op || strncmp(t, "latency.", 8) || n == cap) continue;
        char *end;
        double x = strtod(op + 1 + (op[1] == '='), &end);
        while (*end == ' ')
            end++;
        double scale = !strncmp(end, "ms", 2) ? 1 : !strncmp(end, "us", 2) ? 1e-3 : *end == 's' ? 1e3 : NAN;
        if (isnan(scale)) continue;
        ms[n] = x * scale, text[n++] = t;
    }
    return n;
}

/* One search's points on the curve: its steps, sorted by rate, and how its lines are drawn. */
struct series {
    struct point *p;
    size_t n;
    const char *label; /* "" for a single search */
    const char *colors[2], *dash;
};

/* The judged p50 and p99 of every step of find result doc, sorted by rate (caller frees; NULL when out of memory). */
static struct point *points_of(json_t *doc, size_t *n)
{
    json_t *steps = json_object_get(doc, "steps"), *s;
    size_t i;
    *n = json_array_size(steps);
    struct point *p = calloc(*n ? *n : 1, sizeof(*p));
    if (!p) return NULL;
    json_array_foreach(steps, i, s)
    {
        json_t *f = json_object_get(s, "find"), *j = json_object_get(f, "judged");
        p[i] = (struct point){num(f, "rate"), num(j, "p50_us") / 1e3, num(j, "p99_us") / 1e3,
                              json_string_value(json_object_get(f, "verdict"))};
    }
    qsort(p, *n, sizeof(*p), by_rate);
    return p;
}

/* Latency against rate for each series (x: rate, log; y: ms), with doc's SLO lines. */
static void plot(FILE *out, const struct series *sr, size_t ns, json_t *doc)
{
    double rmin = INFINITY, rmax = 0, lmax = 0, slo[8];
    const char *slo_text[8];
    size_t nslo = slo_lines(doc, slo, slo_text, 8);
    for (size_t k = 0; k < ns; k++)
        for (size_t i = 0; i < sr[k].n; i++) {
            rmin = fmin(rmin, sr[k].p[i].rate), rmax = fmax(rmax, sr[k].p[i].rate);
            if (!isnan(sr[k].p[i].p99)) lmax = fmax(lmax, sr[k].p[i].p99);
        }
    for (size_t i = 0; i < nslo; i++)
        lmax = fmax(lmax, slo[i]);
    if (!(lmax > 0)) lmax = 1;
    lmax *= 1.1;
    if (!(rmax > rmin)) rmax = rmin * 2;
    double lx0 = log(rmin), lx1 = log(rmax);
#define X(r) (PAD + (log(r) - lx0) / (lx1 - lx0) * (W - 2 * PAD))
#define Y(ms) (H - PAD - (ms) / lmax * (H - 2 * PAD))
    fprintf(out, "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' font-size='11'>\n", W + 90, H);
    fprintf(out, "<line x1='%.0f' y1='%.0f' x2='%.0f' y2='%.0f' stroke='#888'/>", PAD, H - PAD, W - PAD, H - PAD);
    fprintf(out, "<line x1='%.0f' y1='%.0f' x2='%.0f' y2='%.0f' stroke='#888'/>\n", PAD, PAD, PAD, H - PAD);
    fprintf(out, "<text x='%.0f' y='%.0f'>%.0f/s</text><text x='%.0f' y='%.0f' text-anchor='end'>%.0f/s</text>\n", PAD,
            H - PAD + 15, rmin, W - PAD, H - PAD + 15, rmax);
    fprintf(out, "<text x='%.0f' y='%.0f' text-anchor='end'>%.1f ms</text><text x='%.0f' y='%.0f'>rate (log)</text>\n",
            PAD - 4, PAD + 4, lmax, W / 2, H - 10);
    for (size_t i = 0; i < nslo; i++)
        fprintf(out,
                "<line x1='%.0f' y1='%.1f' x2='%.0f' y2='%.1f' stroke='#c00' stroke-dasharray='4 3'/>"
                "<text x='%.0f' y='%.1f' fill='#c00' text-anchor='end'>SLO %s</text>\n",
                PAD, Y(slo[i]), W - PAD, Y(slo[i]), W - PAD, Y(slo[i]) - 3, slo_text[i]);
    const char *names[2] = {"p50", "p99"};
    for (size_t s = 0; s < ns; s++) {
        const struct point *p = sr[s].p;
        for (int k = 0; k < 2; k++) {
            const char *color = sr[s].colors[k];
            fprintf(out, "<polyline fill='none' stroke='%s'%s%s%s points='", color,
                    sr[s].dash ? " stroke-dasharray='" : "", sr[s].dash ? sr[s].dash : "", sr[s].dash ? "'" : "");
            for (size_t i = 0; i < sr[s].n; i++) {
                double ms = k ? p[i].p99 : p[i].p50;
                if (!isnan(ms)) fprintf(out, "%.1f,%.1f ", X(p[i].rate), Y(ms));
            }
            fprintf(out, "'/>\n<text x='%.0f' y='%.0f' fill='%s'>%s%s%s</text>\n", W - PAD + 4,
                    PAD + 14.0 * (double)(2 * s + (size_t)k), color, sr[s].label, sr[s].label[0] ? " " : "", names[k]);
            for (size_t i = 0; i < sr[s].n; i++) {
                double ms = k ? p[i].p99 : p[i].p50;
                bool pass = p[i].verdict && !strcmp(p[i].verdict, "pass");
                if (!isnan(ms))
                    fprintf(out,
                            "<circle cx='%.1f' cy='%.1f' r='3' stroke='%s' fill='%s'><title>%s%s%.0f/s %s: %.2f "
                            "ms</title></circle>\n",
                            X(p[i].rate), Y(ms), color, pass ? color : "#fff", sr[s].label, sr[s].label[0] ? " " : "",
                            p[i].rate, names[k], ms);
            }
        }
    }
    fputs("</svg>\n", out);
#undef X
#undef Y
}

int report_html_find_curves(FILE *out, json_t *base, json_t *cand)
{
    struct series sr[2] = {{.label = "baseline", .colors = {"#36c", "#e80"}},
                           {.label = "candidate", .colors = {"#36c", "#e80"}, .dash = "6 3"}};
    sr[0].p = points_of(base, &sr[0].n);
    sr[1].p = points_of(cand, &sr[1].n);
    int rc = sr[0].p && sr[1].p ? 0 : -ENOMEM;
    if (!rc && (sr[0].n || sr[1].n)) plot(out, sr, 2, base);
    free(sr[0].p);
    free(sr[1].p);
    return rc ? rc : ferror(out) ? -EIO : 0;
}

int report_html_find_write(FILE *out, json_t *doc)
{
    json_t *steps = json_object_get(doc, "steps"), *s;
    size_t i;
    fputs("<!doctype html><html><head><meta charset='utf-8'><title>salvo find</title>"
          "<style>body{font:14px sans-serif;margin:2em}td,th{padding:2px 8px;text-align:right}</style></head><body>\n",
          out);
    double cap = num(doc, "capacity");
    if (isnan(cap))
        fprintf(out, "<h1>salvo find: no capacity (%s)</h1>\n", json_string_value(json_object_get(doc, "stopped_by")));
    else
        fprintf(out, "<h1>salvo find: %.0f/s sustained within the SLOs</h1>\n", cap);
    fputs("<table><tr><th>step</th><th>rate/s</th><th>verdict</th><th>p50 ms</th><th>p99 ms</th><th>why</th></tr>\n",
          out);
    json_array_foreach(steps, i, s)
    {
        json_t *f = json_object_get(s, "find"), *j = json_object_get(f, "judged");
        const char *verdict = json_string_value(json_object_get(f, "verdict"));
        const char *why = json_string_value(json_object_get(f, "why"));
        fprintf(out, "<tr><td>%zu</td><td>%.0f</td><td>%s</td><td>%.2f</td><td>%.2f</td><td>%s</td></tr>\n", i + 1,
                num(f, "rate"), verdict ? verdict : "?", num(j, "p50_us") / 1e3, num(j, "p99_us") / 1e3,
                why ? why : "");
    }
    fputs("</table>\n<h2>Latency against rate (judged window of each step; hollow: failed)</h2>\n", out);
    struct series one = {.label = "", .colors = {"#36c", "#e80"}};
    if (!(one.p = points_of(doc, &one.n))) return -ENOMEM;
    if (one.n) plot(out, &one, 1, doc);
    free(one.p);
    fputs("</body></html>\n", out);
    return ferror(out) ? -EIO : 0;
}

int report_html_find_file(const char *path, json_t *doc)
{
    FILE *f = fopen(path, "w");
    if (!f) return -errno;
    int rc = report_html_find_write(f, doc);
    if (fclose(f) != 0 && rc == 0) rc = -errno;
    return rc;
}

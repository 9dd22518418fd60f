/*
 * svg.c — a small SVG plotter for the HTML report (see svg.h).
 *
 * Coordinates are written with one decimal: charts are at most ~1000 px wide,
 * so a tenth of a pixel is finer than any screen and keeps the page small
 * (a one-hour timeline is a few thousand points per line).
 */
#include "report/svg.h"

#include <math.h>
#include <string.h>

#include "report/html_fmt.h"

/* Room around the plot area for tick labels, axis titles and the legend. */
#define MARGIN_LEFT 64.0
#define MARGIN_RIGHT 30.0
#define MARGIN_TOP 30.0
#define MARGIN_BOTTOM 44.0
/* Approximate advance of one character of 11 px system sans-serif. */
#define CHAR_PX 6.2

double svg_nice_ceil(double v)
{
    if (!(v > 0) || !isfinite(v)) return 1;
    double decade = pow(10, floor(log10(v)));
    static const double steps[] = {1, 2, 5, 10};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
        if (steps[i] * decade >= v * (1 - 1e-12)) return steps[i] * decade;
    return 10 * decade;
}

size_t svg_ticks_linear(double lo, double hi, int target, svg_label_fn *label, struct svg_tick *out, size_t cap)
{
    if (!(hi > lo) || target < 1) return 0;
    double step = svg_nice_ceil((hi - lo) / target);
    size_t n = 0;
    for (double k = ceil(lo / step - 1e-9); n < cap; k++) {
        double v = k * step;
        if (v > hi + step * 1e-9) break;
        out[n].value = v;
        label(out[n].label, sizeof(out[n].label), fabs(v) < step * 1e-9 ? 0 : v);
        n++;
    }
    return n;
}

size_t svg_ticks_log(double lo, double hi, svg_label_fn *label, struct svg_tick *out, size_t cap)
{
    if (!(lo > 0) || !(hi > lo)) return 0;
    static const double mult[] = {1, 2, 5};
    int first = (int)floor(log10(lo) + 1e-9), last = (int)ceil(log10(hi) - 1e-9);
    bool few = last - first < 3;
    size_t n = 0;
    for (int d = first; d <= last; d++) {
        for (size_t m = 0; m < 3 && n < cap; m++) {
            double v = mult[m] * pow(10, d);
            if (v < lo * (1 - 1e-9) || v > hi * (1 + 1e-9)) continue;
            out[n].value = v;
            out[n].label[0] = '\0';
            if (m == 0 || few) label(out[n].label, sizeof(out[n].label), v);
            n++;
        }
    }
    return n;
}

void svg_plot_begin(struct svg_plot *p, FILE *out, double width, double height, struct svg_axis x, struct svg_axis y,
                    const char *name)
{
    memset(p, 0, sizeof(*p));
    p->out = out;
    p->width = width;
    p->height = height;
    p->left = MARGIN_LEFT;
    p->top = MARGIN_TOP;
    p->right = width - MARGIN_RIGHT;
    p->bottom = height - MARGIN_BOTTOM;
    p->x = x;
    p->y = y;
    p->legend_x = p->left;
    fprintf(out,
            "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
            "aria-label=\"",
            width, height);
    html_esc(out, name);
    fputs("\"><title>", out);
    html_esc(out, name);
    fprintf(out, "</title>\n<rect class=\"plot-bg\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>\n", p->left,
            p->top, p->right - p->left, p->bottom - p->top);
}

/* Where v falls on axis a, as a fraction 0..1 of its length (clamped). */
static double axis_frac(const struct svg_axis *a, double v)
{
    double f;
    if (a->scale == SVG_LOG) {
        if (!(v > 0)) return 0;
        f = (log10(v) - log10(a->lo)) / (log10(a->hi) - log10(a->lo));
    } else {
        f = (v - a->lo) / (a->hi - a->lo);
    }
    if (!isfinite(f)) return 0;
    return f < 0 ? 0 : f > 1 ? 1 : f;
}

double svg_plot_px(const struct svg_plot *p, double x)
{
    return p->left + axis_frac(&p->x, x) * (p->right - p->left);
}

double svg_plot_py(const struct svg_plot *p, double y)
{
    return p->bottom - axis_frac(&p->y, y) * (p->bottom - p->top);
}

/* A text element at (x, y) with the given class and anchor. */
static void text_at(struct svg_plot *p, double x, double y, const char *cls, const char *anchor, const char *s)
{
    fprintf(p->out, "<text class=\"%s\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">", cls, x, y, anchor);
    html_esc(p->out, s);
    fputs("</text>\n", p->out);
}

void svg_plot_axes(struct svg_plot *p, const struct svg_tick *xt, size_t nx, const struct svg_tick *yt, size_t ny,
                   const char *xtitle, const char *ytitle)
{
    FILE *out = p->out;
    for (size_t i = 0; i < nx; i++) {
        double x = svg_plot_px(p, xt[i].value);
        fprintf(out, "<line class=\"grid%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
                xt[i].label[0] ? "" : " minor", x, p->top, x, p->bottom);
        if (xt[i].label[0]) text_at(p, x, p->bottom + 15, "tick", "middle", xt[i].label);
    }
    for (size_t i = 0; i < ny; i++) {
        double y = svg_plot_py(p, yt[i].value);
        fprintf(out, "<line class=\"grid%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
                yt[i].label[0] ? "" : " minor", p->left, y, p->right, y);
        if (yt[i].label[0]) text_at(p, p->left - 6, y + 4, "tick", "end", yt[i].label);
    }
    fprintf(out, "<rect class=\"frame\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>\n", p->left, p->top,
            p->right - p->left, p->bottom - p->top);
    if (xtitle) text_at(p, (p->left + p->right) / 2, p->height - 8, "axis-title", "middle", xtitle);
    if (ytitle) {
        double cx = 14, cy = (p->top + p->bottom) / 2;
        fprintf(out, "<g transform=\"rotate(-90 %.1f %.1f)\">", cx, cy);
        text_at(p, cx, cy, "axis-title", "middle", ytitle);
        fputs("</g>\n", out);
    }
}

void svg_plot_band(struct svg_plot *p, double x0, double x1, const char *cls, const char *label)
{
    double a = svg_plot_px(p, x0), b = svg_plot_px(p, x1);
    if (b - a < 1) b = a + 1;
    fprintf(p->out, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>\n", cls, a, p->top,
            b - a, p->bottom - p->top);
    if (label && *label) text_at(p, a + 3, p->top + 12, "band-label", "start", label);
}

/* True when a label spanning x0..x1 on baseline y would overlap a placed one. */
static bool label_collides(const struct svg_plot *p, double x0, double x1, double y)
{
    for (size_t i = 0; i < p->nlabels; i++) {
        const struct svg_box *b = &p->labels[i];
        if (fabs(b->y - y) < 12 && x0 < b->x1 + 8 && x1 > b->x0 - 8) return true;
    }
    return false;
}

/* Where a line label goes: above the line at the right end if free, else
 * further left, else below the line; returns its right end and baseline. */
static void place_label(struct svg_plot *p, double line_y, double width, double *x_end, double *y)
{
    double above = line_y < p->top + 14 ? line_y + 13 : line_y - 4;
    double below = line_y > p->bottom - 14 ? line_y - 4 : line_y + 13;
    const double baselines[2] = {above, below};
    for (int side = 0; side < 2; side++) {
        for (double x = p->right - 4; x - width >= p->left; x -= 16) {
            if (label_collides(p, x - width, x, baselines[side])) continue;
            *x_end = x, *y = baselines[side];
            goto found;
        }
    }
    *x_end = p->right - 4, *y = above;
found:
    if (p->nlabels < SVG_MAX_LABELS) p->labels[p->nlabels++] = (struct svg_box){*x_end - width, *x_end, *y};
}

void svg_plot_hline(struct svg_plot *p, double y, const char *cls, const char *label)
{
    double py = svg_plot_py(p, y);
    fprintf(p->out, "<line class=\"%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", cls, p->left, py,
            p->right, py);
    if (!label || !*label) return;
    char cls_label[64];
    double x_end, ty;
    place_label(p, py, CHAR_PX * (double)strlen(label), &x_end, &ty);
    snprintf(cls_label, sizeof(cls_label), "hline-label %s", cls);
    text_at(p, x_end, ty, cls_label, "end", label);
}

void svg_plot_line_begin(struct svg_plot *p, const char *cls)
{
    fprintf(p->out, "<path class=\"line %s\" d=\"", cls);
    p->pen_down = false;
}

void svg_plot_line_to(struct svg_plot *p, double x, double y)
{
    if (!isfinite(x) || !isfinite(y) || (p->y.scale == SVG_LOG && !(y > 0))) {
        p->pen_down = false;
        return;
    }
    fprintf(p->out, "%c%.1f %.1f ", p->pen_down ? 'L' : 'M', svg_plot_px(p, x), svg_plot_py(p, y));
    p->pen_down = true;
}

void svg_plot_line_end(struct svg_plot *p)
{
    /* An empty "d" is valid SVG and draws nothing, so no special case. */
    fputs("\"/>\n", p->out);
    p->pen_down = false;
}

void svg_plot_dot(struct svg_plot *p, double x, double y, const char *cls, const char *tooltip)
{
    if (p->y.scale == SVG_LOG && !(y > 0)) return;
    fprintf(p->out, "<circle class=\"dot %s\" cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\">", cls, svg_plot_px(p, x),
            svg_plot_py(p, y));
    if (tooltip) {
        fputs("<title>", p->out);
        html_esc(p->out, tooltip);
        fputs("</title>", p->out);
    }
    fputs("</circle>\n", p->out);
}

void svg_plot_hover(struct svg_plot *p, double x0, double x1, const char *text)
{
    double a = svg_plot_px(p, x0), b = svg_plot_px(p, x1);
    fprintf(p->out, "<rect class=\"hover\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"><title>", a, p->top,
            b - a, p->bottom - p->top);
    html_esc(p->out, text);
    fputs("</title></rect>\n", p->out);
}

void svg_plot_legend(struct svg_plot *p, const char *cls, const char *label)
{
    double x = p->legend_x, y = p->top - 12;
    fprintf(p->out, "<line class=\"line %s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", cls, x, y, x + 18,
            y);
    text_at(p, x + 23, y + 4, "legend", "start", label);
    p->legend_x = x + 23 + CHAR_PX * (double)strlen(label) + 16;
}

void svg_plot_end(struct svg_plot *p)
{
    fputs("</svg>\n", p->out);
}

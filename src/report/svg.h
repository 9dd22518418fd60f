/*
 * svg.h — a small SVG plotter for the HTML report.
 *
 * The report must be one file that reads without JavaScript and without the
 * network, so its charts are inline SVG written straight to the page. A
 * struct svg_plot is one chart: a plot area with a linear or logarithmic x
 * and y axis, grid lines with tick labels, lines that may have gaps (a
 * second in which nothing completed has no latency, and drawing it as 0
 * would lie), shaded x ranges, labelled horizontal reference lines, a legend
 * and hover targets whose <title> the browser shows as a tooltip.
 *
 * The plotter writes geometry and class names only; colours, line styles and
 * fonts come from the page's CSS (html.c), so one palette governs every
 * chart. Points outside the axis ranges are clamped to the plot area rather
 * than clipped, which keeps a spike visible as a line hitting the frame.
 * Text passed in (labels, titles) is escaped here. Drawing calls between
 * svg_plot_begin and svg_plot_end are written in order: later ones on top.
 *
 * Ownership: the caller owns struct svg_plot; out is borrowed until
 * svg_plot_end. Nothing allocates; write errors stay in out's error flag.
 */
#ifndef SALVO_SVG_H
#define SALVO_SVG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* How an axis maps data values to positions. */
enum svg_scale { SVG_LINEAR, SVG_LOG };

/* One axis: its scale and data range (for SVG_LOG, 0 < lo < hi). */
struct svg_axis {
    enum svg_scale scale;
    double lo, hi;
};

/* A tick: where it is, and what it says (an empty label draws only a grid line). */
struct svg_tick {
    double value;
    char label[24];
};

/* Reference-line labels kept apart from each other; more are drawn unmoved. */
#define SVG_MAX_LABELS 16

/* The label of a tick value, written into buf. */
typedef const char *svg_label_fn(char *buf, size_t cap, double value);

/* One chart being written. */
struct svg_plot {
    FILE *out;
    double width, height;            /* the viewBox, in CSS px */
    double left, top, right, bottom; /* edges of the plot area */
    struct svg_axis x, y;
    bool pen_down;   /* a path segment is open */
    double legend_x; /* where the next legend item goes */
    struct svg_box {
        double x0, x1, y; /* a placed line label: extent and baseline */
    } labels[SVG_MAX_LABELS];
    size_t nlabels;
};

/*
 * Up to cap ticks at "nice" steps (1, 2 or 5 times a power of ten) covering
 * lo..hi with about `target` intervals; labels made by label. Returns the count.
 */
size_t svg_ticks_linear(double lo, double hi, int target, svg_label_fn *label, struct svg_tick *out, size_t cap);

/*
 * Ticks at every power of ten in lo..hi (lo > 0), plus unlabelled grid lines
 * at 2× and 5× (labelled too when the range spans fewer than three decades).
 * Returns the count.
 */
size_t svg_ticks_log(double lo, double hi, svg_label_fn *label, struct svg_tick *out, size_t cap);

/* The smallest 1, 2 or 5 times a power of ten that is >= v (v > 0). */
double svg_nice_ceil(double v);

/*
 * Starts a chart of width x height px on out, with the axes x and y, and an
 * accessible name. Margins leave room for tick labels and a legend on top.
 */
void svg_plot_begin(struct svg_plot *p, FILE *out, double width, double height, struct svg_axis x, struct svg_axis y,
                    const char *name);

/* Position of a data value on the page (clamped to the plot area). */
double svg_plot_px(const struct svg_plot *p, double x);
double svg_plot_py(const struct svg_plot *p, double y);

/* Grid, tick labels, frame and the axis titles (either may be NULL). */
void svg_plot_axes(struct svg_plot *p, const struct svg_tick *xt, size_t nx, const struct svg_tick *yt, size_t ny,
                   const char *xtitle, const char *ytitle);

/* Shades x0..x1 over the plot's full height, with label at its top (may be NULL). */
void svg_plot_band(struct svg_plot *p, double x0, double x1, const char *cls, const char *label);

/* A horizontal line at y across the plot with label (may be NULL) at its right
 * end, or moved left or below the line when an earlier label is in the way. */
void svg_plot_hline(struct svg_plot *p, double y, const char *cls, const char *label);

/*
 * A line through points in order: begin, then one svg_plot_line_to per
 * point, then end. A point whose y is not finite, or <= 0 on a log axis,
 * leaves a gap.
 */
void svg_plot_line_begin(struct svg_plot *p, const char *cls);
void svg_plot_line_to(struct svg_plot *p, double x, double y);
void svg_plot_line_end(struct svg_plot *p);

/* A dot at (x, y) with a tooltip (may be NULL). */
void svg_plot_dot(struct svg_plot *p, double x, double y, const char *cls, const char *tooltip);

/* An invisible full-height strip over x0..x1 whose tooltip is text. */
void svg_plot_hover(struct svg_plot *p, double x0, double x1, const char *text);

/* Adds "— label" to the legend row above the plot, drawn with class cls. */
void svg_plot_legend(struct svg_plot *p, const char *cls, const char *label);

/* Closes the chart. */
void svg_plot_end(struct svg_plot *p);

#endif

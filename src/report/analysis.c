/*
 * analysis.c — derived figures and verdicts (see analysis.h).
 *
 * A chaos window is judged against the run's own normal: the median of the
 * per-second p99 of the seconds before it that were outside every window,
 * and their error share. Recovery is the first second after the window
 * whose p99 and error share are back near that normal. Both read only the
 * merged timeline (one row per second), so their cost is linear in the
 * run's length and they hold no fixed-size buffers: a run of any length is
 * judged whole.
 */
#include "report/analysis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "load/schedule.h"

/* The seconds window w covers: [start, end); an instant action (kill) counts the second after it. */
static void window_span(const struct chaos_window *w, double span[2])
{
    span[0] = (double)w->at_ns / 1e9;
    span[1] = span[0] + (double)(w->for_ns ? w->for_ns : NS_PER_S) / 1e9;
}

/* True when second t overlaps any of the spans. */
static bool in_any_span(const double (*spans)[2], size_t n, uint32_t t)
{
    for (size_t i = 0; i < n; i++)
        if ((double)t < spans[i][1] && (double)t + 1 > spans[i][0]) return true;
    return false;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/*
 * The baseline of a window starting at at_s: the seconds that ended before
 * it, had responses, and were not inside any chaos window (an earlier
 * fault is not the normal the service should come back to).
 */
static void baseline_of(struct window_figures *f, const struct timeline_row *rows, size_t nrows,
                        const double (*spans)[2], size_t nspans)
{
    int64_t *vals = malloc((nrows ? nrows : 1) * sizeof(*vals));
    if (!vals) abort();
    size_t n = 0;
    uint64_t done = 0, errors = 0;
    for (size_t i = 0; i < nrows; i++) {
        const struct timeline_row *row = &rows[i];
        if ((double)row->t + 1 > f->start_s || !row->done || in_any_span(spans, nspans, row->t)) continue;
        vals[n++] = row->p99_us;
        done += row->done;
        errors += row->errors;
    }
    if (n) {
        qsort(vals, n, sizeof(*vals), cmp_i64);
        f->has_baseline = true;
        f->baseline_p99_us = (double)vals[n / 2];
        f->baseline_error_share = (double)errors / (double)done;
    }
    free(vals);
}

/*
 * Seconds from the end of a window until the per-second p99 is back within
 * 2x the baseline (or 1 ms above it for sub-millisecond baselines: noise).
 * Failed requests have no latency, so a second only counts as back when its
 * error share is back too (within 2x the baseline's, or 1 %): a dead server
 * is not a fast one.
 */
static void recovery_of(struct window_figures *f, const struct timeline_row *rows, size_t nrows)
{
    if (!f->has_baseline) return;
    double base = f->baseline_p99_us;
    double error_bar = 2 * f->baseline_error_share > 0.01 ? 2 * f->baseline_error_share : 0.01;
    double bar = 2 * base > base + 1000 ? 2 * base : base + 1000;
    for (size_t i = 0; i < nrows; i++) {
        const struct timeline_row *row = &rows[i];
        if ((double)row->t + 1 <= f->end_s || !row->done) continue;
        if ((double)row->p99_us <= bar && (double)row->errors <= error_bar * (double)row->done) {
            /* Recovered by the start of this second (1 s resolution). */
            double rec = (double)row->t - f->end_s;
            f->recovered = true;
            f->recovery_s = rec > 0 ? rec : 0;
            return;
        }
    }
}

struct window_figures analysis_window(const struct timeline_row *rows, size_t nrows, const double (*spans)[2],
                                      size_t nspans, size_t index)
{
    struct window_figures f = {.start_s = spans[index][0], .end_s = spans[index][1]};
    baseline_of(&f, rows, nrows, spans, nspans);
    recovery_of(&f, rows, nrows);
    return f;
}

/* Appends one hint (dropped beyond RUN_MAX_HINTS). */
static void add_hint(struct run_result *r, const char *text)
{
    if (r->nhints < RUN_MAX_HINTS) snprintf(r->hints[r->nhints++], sizeof(r->hints[0]), "%s", text);
}

/* The hints: what the user may want to change about the test itself. */
static void hints_of(const struct run_config *cfg, struct run_result *r)
{
    const struct recorder *t = &r->total;
    if (cfg->closed)
        add_hint(r, "a closed loop's latency excludes the queueing users would see; run the open model (-r N)");
    /* Only when responses came back: a run that got none says nothing about caches. */
    if (cfg->gen && !cfg->script && reqgen_is_static(cfg->gen) && t->scheduled > 1 && t->ok + t->http_error > 0)
        add_hint(r,
                 "every request was identical: a cache may have answered them all; feed varied requests with --data");
    char steal[256];
    if (run_steal_hint(r, steal, sizeof steal)) add_hint(r, steal);
}

double analysis_intended_in(const struct run_config *cfg, uint32_t t)
{
    if (cfg->closed) return 0;
    struct schedule_cfg sc = {.rate = cfg->rate,
                              .duration_ns = cfg->duration_ns,
                              .stages = cfg->stages,
                              .nstages = cfg->nstages,
                              .start_rate = cfg->start_rate,
                              .nshards = 1,
                              .nthreads = 1};
    double share = cfg->nshards > 1 ? 1.0 / cfg->nshards : 1.0;
    uint64_t from = (uint64_t)t * NS_PER_S;
    return share * schedule_expected_between(&sc, from, from + NS_PER_S);
}

/* The arrivals this process's schedule meant to send in each second (a shard sends its share). */
static void intended_of(const struct run_config *cfg, struct run_result *r)
{
    for (size_t i = 0; i < r->nrows; i++)
        r->timeline[i].intended = analysis_intended_in(cfg, r->timeline[i].t);
}

void run_analyse(const struct run_config *cfg, struct run_result *r)
{
    intended_of(cfg, r);
    size_t n = r->nchaos < RUN_MAX_WINDOWS ? r->nchaos : RUN_MAX_WINDOWS;
    double spans[RUN_MAX_WINDOWS][2];
    for (size_t i = 0; i < n; i++)
        window_span(&r->chaos[i], spans[i]);
    for (size_t i = 0; i < n; i++)
        r->windows[i] = analysis_window(r->timeline, r->nrows, (const double(*)[2])spans, n, i);
    r->nhints = 0;
    hints_of(cfg, r);
}

/* ------------------------------------------------------------- verdict */

/* An integer member of o, 0 when missing or not a number. */
static double num_of(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : 0;
}

/* True when some threshold of the result did not pass. */
static bool any_threshold_failed(const json_t *result)
{
    const char *expr;
    json_t *e;
    json_object_foreach(json_object_get(result, "thresholds"), expr, e)
    {
        (void)expr;
        if (!json_is_true(json_object_get(e, "pass"))) return true;
    }
    return false;
}

struct verdict verdict_of(const json_t *result)
{
    if (json_is_true(json_object_get(result, "interrupted"))) {
        const char *by = json_string_value(json_object_get(result, "interrupted_by"));
        return (struct verdict){"INTERRUPTED", by && !strcmp(by, "SIGTERM") ? 143 : 130};
    }
    const char *err = json_string_value(json_object_get(result, "runtime_error"));
    const json_t *req = json_object_get(result, "requests");
    double responses = num_of(req, "ok") + num_of(req, "http_error") + num_of(req, "check_failed");
    if ((err && *err) || (num_of(req, "scheduled") > 0 && responses == 0)) return (struct verdict){"ERROR", 1};
    bool allow = json_is_true(json_object_get(json_object_get(result, "config"), "allow_invalid"));
    if (json_is_false(json_object_get(result, "valid")) && !allow) return (struct verdict){"INVALID", 98};
    if (any_threshold_failed(result)) return (struct verdict){"FAIL", 99};
    return (struct verdict){"PASS", 0};
}

const char *verdict_word(int exit_code)
{
    switch (exit_code) {
    case 0: return "PASS";
    case 2: return "USAGE";
    case 98: return "INVALID";
    case 99: return "FAIL";
    case 130:
    case 143: return "INTERRUPTED";
    default: return "ERROR";
    }
}

/*
 * dash_feed.c — what the dashboard serves (see dash.h): the run's
 * description, one JSON row per merged second, and the state (totals, the
 * live verdict), built on the main thread and published under the mutex.
 *
 * A row is formatted once, when its second is merged, and appended to one
 * buffer; the server thread copies the rows a request asks for. The live
 * verdict judges the thresholds the per-second data carries (latency,
 * errors, requests and rate of the whole run, as find's window does) on
 * the run so far; the others are shown as judged at the end. The final
 * state comes from the results JSON, so the page ends on the verdict the
 * summary and the exit code give.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/clock.h"
#include "load/schedule.h"
#include "load/validity.h"
#include "report/analysis.h"
#include "report/dash.h"
#include "report/json.h"
#include "report/progress.h"

/* Wakes the server thread (the eventfd it watches). */
static void wake(struct dash *d)
{
    uint64_t one = 1;
    if (d->wake_io.fd >= 0 && write(d->wake_io.fd, &one, sizeof(one)) < 0) {
        /* a full counter still wakes the thread */
    }
}

/* json_dumps that aborts on out of memory. */
static char *dump(json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
    if (!s) abort();
    return s;
}

/* Replaces *slot by text (owned) under the mutex. */
static void publish(struct dash *d, char **slot, char *text)
{
    pthread_mutex_lock(&d->mu);
    free(*slot);
    *slot = text;
    pthread_mutex_unlock(&d->mu);
}

/* The run's description: what does not change while it lasts. */
static char *dash_run_json(const struct dash_info *in)
{
    const struct run_config *cfg = in->cfg;
    json_t *chaos = json_array(), *thr = json_array();
    for (size_t i = 0; i < in->nchaos; i++)
        json_array_append_new(chaos,
                              json_pack("{s:f, s:f, s:s}", "start_s", in->chaos[i][0], "end_s", in->chaos[i][1],
                                        "action", in->chaos_action && in->chaos_action[i] ? in->chaos_action[i] : ""));
    for (int i = 0; i < in->nthresholds; i++)
        json_array_append_new(thr, json_string(in->thresholds[i].text));
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:f, s:f, s:b, s:i, s:i, s:f, s:o, s:o, s:I}", "tool", "salvo", "url",
                          cfg->url_text ? cfg->url_text : "", "method", cfg->method ? cfg->method : "GET", "model",
                          cfg->closed ? "closed" : "open", "rate", cfg->rate, "duration_s",
                          (double)cfg->duration_ns / 1e9, "stages", cfg->nstages > 0, "threads", (int)cfg->threads,
                          "connections", (int)cfg->connections, "timeout_us", (double)cfg->timeout_ns / 1e3, "chaos",
                          chaos, "thresholds", thr, "started_unix_ms", (json_int_t)(clock_wall_ns() / 1000000));
    if (!o) abort();
    char *s = dump(o);
    json_decref(o);
    return s;
}

/* Appends one row's text (and its comma) to the rows buffer. */
static void append_row(struct dash *d, const char *text)
{
    size_t n = strlen(text);
    pthread_mutex_lock(&d->mu);
    if (d->nrows < DASH_MAX_ROWS) {
        if (d->nrows == d->row_cap) {
            d->row_cap = d->row_cap ? 2 * d->row_cap : 256;
            d->row_end = realloc(d->row_end, d->row_cap * sizeof(*d->row_end));
            if (!d->row_end) abort();
        }
        if (d->rows_len + n + 1 > d->rows_cap) {
            d->rows_cap = (d->rows_len + n + 1) * 2;
            d->rows = realloc(d->rows, d->rows_cap);
            if (!d->rows) abort();
        }
        memcpy(d->rows + d->rows_len, text, n);
        d->rows_len += n;
        d->rows[d->rows_len++] = ',';
        d->row_end[d->nrows++] = d->rows_len;
    }
    pthread_mutex_unlock(&d->mu);
}

/* Whether the per-second data carries what t needs (find_judge's rule). */
static bool live_judged(const struct threshold *t)
{
    if (t->name[0]) return false;
    return !strcmp(t->metric, "latency") || !strcmp(t->metric, "errors") || !strcmp(t->metric, "requests") ||
           !strcmp(t->metric, "rate");
}

/* A results-shaped object of the run so far, enough for the live thresholds. */
static json_t *so_far(const struct dash *d, double elapsed_s)
{
    uint64_t ok = d->done > d->errors ? d->done - d->errors : 0;
    return json_pack("{s:o, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I}, s:{s:f, s:f}, s:f}", "latency_us",
                     report_json_percentiles(&d->latency), "requests", "scheduled", (json_int_t)d->sent, "ok",
                     (json_int_t)ok, "http_error", (json_int_t)0, "check_failed", (json_int_t)0, "failed",
                     (json_int_t)d->errors, "timeout", (json_int_t)0, "unsent", (json_int_t)0, "rate", "intended",
                     elapsed_s > 0 ? d->intended_total / elapsed_s : 0.0, "achieved",
                     elapsed_s > 0 ? (double)d->done / elapsed_s : 0.0, "duration_s", elapsed_s);
}

/* The live state after second t. */
static char *live_state(struct dash *d, uint32_t t)
{
    double elapsed = (double)(t + 1);
    json_t *doc = so_far(d, elapsed), *thr = json_array();
    bool failing = false;
    for (int i = 0; i < d->nthresholds; i++) {
        const struct threshold *th = &d->thresholds[i];
        double obs = NAN;
        json_t *pass = json_null();
        if (live_judged(th) && d->done > 0) {
            bool ok = threshold_judge(th, doc, &obs, NULL, 0);
            failing |= !ok;
            pass = json_boolean(ok);
        }
        json_array_append_new(thr, json_pack("{s:s, s:o, s:o, s:b}", "expr", th->text, "pass", pass, "observed",
                                             isfinite(obs) ? json_real(obs) : json_null(), "live", 1));
    }
    json_t *lat = json_object_get(doc, "latency_us");
    json_t *st =
        json_pack("{s:f, s:{s:I, s:I, s:I}, s:{s:O?, s:O?, s:O?}, s:o, s:I, s:s, s:s, s:b}", "elapsed_s", elapsed,
                  "totals", "sent", (json_int_t)d->sent, "done", (json_int_t)d->done, "errors", (json_int_t)d->errors,
                  "latency_us", "p50", json_object_get(lat, "p50"), "p99", json_object_get(lat, "p99"), "max",
                  json_object_get(lat, "max"), "thresholds", thr, "late_seconds", (json_int_t)d->late_seconds,
                  "verdict", "RUNNING", "so_far", failing ? "failing" : "passing", "ended", 0);
    if (!st) abort();
    char *s = dump(st);
    json_decref(st);
    json_decref(doc);
    return s;
}

/* Whether this second's generator lateness shaped its latency (the progress line's rule). */
static bool second_late(const struct run_config *cfg, const struct timeline_row *row)
{
    char why[256];
    return !progress_second_valid(cfg, row, why, sizeof(why));
}

void dash_second(struct dash *d, const struct run_config *cfg, const struct timeline_row *row,
                 const struct interval *merged)
{
    if (!d->started) return;
    bool has_latency = merged->latency.total_count > 0;
    double intended = analysis_intended_in(cfg, row->t);
    d->sent += row->sent, d->done += row->done, d->errors += row->errors;
    d->intended_total += intended;
    if (has_latency) hist_add(&d->latency, &merged->latency);
    if (second_late(cfg, row)) d->late_seconds++;
    char text[512];
    char p50[24] = "null", p99[24] = "null", max[24] = "null";
    if (has_latency) {
        snprintf(p50, sizeof(p50), "%lld", (long long)row->p50_us);
        snprintf(p99, sizeof(p99), "%lld", (long long)row->p99_us);
        snprintf(max, sizeof(max), "%lld", (long long)row->max_us);
    }
    snprintf(text, sizeof(text),
             "{\"t\":%u,\"sent\":%llu,\"done\":%llu,\"errors\":%llu,\"p50_us\":%s,\"p99_us\":%s,\"max_us\":%s,"
             "\"inflight\":%llu,\"conns\":%llu,\"backlog\":%llu,\"intended\":%.6g,\"lag_p99_us\":%lld}",
             row->t, (unsigned long long)row->sent, (unsigned long long)row->done, (unsigned long long)row->errors, p50,
             p99, max, (unsigned long long)row->inflight, (unsigned long long)row->conns,
             (unsigned long long)row->backlog, intended, (long long)row->lag_p99_us);
    append_row(d, text);
    publish(d, &d->state_json, live_state(d, row->t));
    wake(d);
}

void dash_scrape(struct dash *d, const char *json_array)
{
    if (!d->started || !json_array) return;
    char *copy = strdup(json_array);
    if (!copy) abort();
    publish(d, &d->scrape_json, copy);
    wake(d);
}

void dash_finish(struct dash *d, json_t *result, int exit_code)
{
    if (!d->started) return;
    json_t *thr = json_array(), *req = json_object_get(result, "requests");
    const char *expr;
    json_t *v;
    json_object_foreach(json_object_get(result, "thresholds"), expr, v)
    {
        json_t *obs = json_object_get(v, "observed");
        json_array_append_new(thr, json_pack("{s:s, s:b, s:O?, s:O?, s:O?}", "expr", expr, "pass",
                                             json_is_true(json_object_get(v, "pass")), "observed", obs, "limit",
                                             json_object_get(v, "limit"), "unit", json_object_get(v, "unit")));
    }
    json_int_t sched = json_integer_value(json_object_get(req, "scheduled"));
    json_int_t ok = json_integer_value(json_object_get(req, "ok"));
    json_t *lat = json_object_get(result, "latency_us");
    json_t *st =
        json_pack("{s:O?, s:{s:I, s:I, s:I}, s:O?, s:{s:O?, s:O?, s:O?}, s:o, s:I, s:s, s:i, s:O?, s:O?, "
                  "s:b}",
                  "elapsed_s", json_object_get(result, "duration_s"), "totals", "sent", sched, "done",
                  (json_int_t)d->done, "errors", sched - ok, "requests", req, "latency_us", "p50",
                  json_object_get(lat, "p50"), "p99", json_object_get(lat, "p99"), "max", json_object_get(lat, "max"),
                  "thresholds", thr, "late_seconds", (json_int_t)d->late_seconds, "verdict", verdict_word(exit_code),
                  "exit_code", exit_code, "invalid_reasons", json_object_get(result, "invalid_reasons"),
                  "runtime_error", json_object_get(result, "runtime_error"), "ended", 1);
    if (!st) abort();
    publish(d, &d->state_json, dump(st));
    json_decref(st);
    pthread_mutex_lock(&d->mu);
    d->ended = true;
    pthread_mutex_unlock(&d->mu);
    wake(d);
}

int dash_feed_init(struct dash *d, const struct dash_info *in)
{
    d->thresholds = in->thresholds;
    d->nthresholds = in->nthresholds;
    int rc = hist_init(&d->latency, HIST_STD_LOWEST, HIST_STD_HIGHEST, HIST_STD_SIGFIG);
    if (rc < 0) return rc;
    d->run_json = dash_run_json(in);
    json_t *st = json_pack("{s:f, s:s, s:b}", "elapsed_s", 0.0, "verdict", "STARTING", "ended", 0);
    d->state_json = dump(st);
    json_decref(st);
    return 0;
}

void dash_feed_release(struct dash *d)
{
    free(d->run_json), free(d->state_json), free(d->scrape_json), free(d->rows), free(d->row_end);
    d->run_json = d->state_json = d->scrape_json = d->rows = NULL;
    d->row_end = NULL;
    hist_release(&d->latency);
}

/*
 * find_judge.c — the sustainability rule of `salvo find` (see find_judge.h).
 */
#include "report/find_judge.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/json.h"

int find_window_init(struct find_window *w, uint32_t step_s)
{
    memset(w, 0, sizeof(*w));
    w->warm_s = (uint32_t)(step_s * FIND_WARMUP_SHARE);
    w->end_s = step_s;
    w->half_s = w->warm_s + (step_s - w->warm_s) / 2;
    for (int i = 0; i < 2; i++)
        if (hist_init(&w->latency[i], HIST_STD_LOWEST, HIST_STD_HIGHEST, HIST_STD_SIGFIG) < 0) {
            find_window_release(w);
            return -ENOMEM;
        }
    return 0;
}

void find_window_second(struct find_window *w, uint32_t t, const struct interval *iv)
{
    if (t < w->warm_s || t >= w->end_s) return;
    for (int i = 0; i < 2; i++) {
        if (i == 1 && t < w->half_s) continue;
        hist_add(&w->latency[i], &iv->latency);
        w->sent[i] += iv->sent, w->done[i] += iv->done, w->errors[i] += iv->errors;
    }
    if (w->ninflight < sizeof(w->inflight) / sizeof(w->inflight[0])) w->inflight[w->ninflight++] = (double)iv->inflight;
}

void find_window_release(struct find_window *w)
{
    for (int i = 0; i < 2; i++)
        hist_release(&w->latency[i]);
}

/* A results-shaped object of part 0 (judged window) or 1 (second half), enough for the window's SLOs. */
static json_t *window_doc(const struct find_window *w, int part, double rate)
{
    double secs = (double)(w->end_s - (part ? w->half_s : w->warm_s));
    uint64_t ok = w->done[part] - w->errors[part];
    json_t *lat = report_json_percentiles(&w->latency[part]);
    return json_pack("{s:o, s:{s:I, s:I, s:I, s:I, s:I, s:I}, s:{s:f, s:f}, s:f}", "latency_us", lat, "requests",
                     "scheduled", (json_int_t)w->sent[part], "ok", (json_int_t)ok, "http_error", (json_int_t)0,
                     "failed", (json_int_t)w->errors[part], "timeout", (json_int_t)0, "unsent", (json_int_t)0, "rate",
                     "intended", rate, "achieved", secs > 0 ? (double)w->done[part] / secs : 0.0, "duration_s", secs);
}

/* Whether the window carries what t needs (see find_judge.h). */
static bool windowed(const struct threshold *t)
{
    if (t->name[0]) return false;
    return !strcmp(t->metric, "latency") || !strcmp(t->metric, "errors") || !strcmp(t->metric, "requests") ||
           !strcmp(t->metric, "rate");
}

/* The first SLO failing on part (or on the step for figures the window lacks); -1 when all hold. */
static int first_failing(const struct threshold *slo, int nslo, json_t *step, json_t *part, double *observed)
{
    for (int i = 0; i < nslo; i++)
        if (!threshold_judge(&slo[i], windowed(&slo[i]) ? part : step, observed, NULL, 0)) return i;
    return -1;
}

/*
 * Every SLO's own verdict, {EXPR: {pass, observed, on}} with on "judged",
 * "second_half" or "step" (the part that decided it): what the JUnit report
 * of a search shows per SLO.
 */
static json_t *slo_verdicts(const struct threshold *slo, int nslo, json_t *step, json_t *const part[2])
{
    json_t *o = json_object();
    for (int i = 0; i < nslo; i++) {
        bool win = windowed(&slo[i]);
        double obs;
        const char *on = win ? "judged" : "step";
        bool pass = threshold_judge(&slo[i], win ? part[0] : step, &obs, NULL, 0);
        if (pass && win) {
            double obs2;
            if (!threshold_judge(&slo[i], part[1], &obs2, NULL, 0)) pass = false, obs = obs2, on = "second_half";
        }
        json_object_set_new(o, slo[i].text,
                            json_pack("{s:b, s:o, s:s}", "pass", pass, "observed",
                                      isfinite(obs) ? json_real(obs) : json_null(), "on", on));
    }
    return o;
}

/*
 * Whether the step's only validity faults were late sends (rule 1) and a
 * worker waiting for a CPU (rule 3): both only add to every latency
 * (latency counts from the intended send time, so it includes the send lag
 * and any late read), never hide load. A step that lost arrivals or could
 * not send its rate (rules 2 and 4) did not offer its rate at all.
 */
static bool only_lateness(json_t *step)
{
    json_t *rules = json_object_get(step, "invalid_rules"), *r;
    size_t i;
    if (!json_array_size(rules)) return false;
    json_array_foreach(rules, i, r)
    {
        const char *n = json_string_value(r);
        if (!n || (strcmp(n, "late_sends") && strcmp(n, "overloaded"))) return false;
    }
    return true;
}

static void put_window(json_t *find, const char *key, json_t *doc)
{
    json_t *lat = json_object_get(doc, "latency_us");
    json_object_set_new(find, key,
                        json_pack("{s:O?, s:O?, s:O?, s:O, s:O}", "p50_us", json_object_get(lat, "p50"), "p99_us",
                                  json_object_get(lat, "p99"), "p99_9_us", json_object_get(lat, "p99_9"), "requests",
                                  json_object_get(doc, "requests"), "rate", json_object_get(doc, "rate")));
}

enum find_verdict find_judge(const struct threshold *slo, int nslo, json_t *step, const struct find_window *w,
                             double rate, char *why, size_t cap)
{
    json_t *find = json_object();
    json_t *doc[2] = {window_doc(w, 0, rate), window_doc(w, 1, rate)};
    struct find_trend tr;
    find_trend(w->inflight, w->ninflight, 1.0, &tr);
    put_window(find, "judged", doc[0]);
    put_window(find, "second_half", doc[1]);
    json_object_set_new(find, "inflight_trend",
                        json_pack("{s:f, s:f, s:f, s:b}", "slope_per_s", tr.slope_per_s, "t",
                                  isfinite(tr.t) ? tr.t : 1e9, "mean", tr.mean, "growing", tr.growing));
    json_object_set_new(find, "warmup_s", json_integer(w->warm_s));
    json_object_set_new(find, "slo", slo_verdicts(slo, nslo, step, doc));
    enum find_verdict v = FIND_PASS;
    double obs;
    int bad = -1;
    why[0] = 0;
    if ((bad = first_failing(slo, nslo, step, doc[0], &obs)) >= 0) {
        v = FIND_FAIL;
        snprintf(why, cap, "slo '%s' (observed %g)", slo[bad].text, obs);
    } else if ((bad = first_failing(slo, nslo, step, doc[1], &obs)) >= 0) {
        v = FIND_FAIL;
        snprintf(why, cap, "slo '%s' in the second half (observed %g)", slo[bad].text, obs);
    } else if (tr.growing) {
        v = FIND_FAIL;
        snprintf(why, cap, "in-flight growing %+.1f/s (t = %.1f)", tr.slope_per_s, isfinite(tr.t) ? tr.t : 1e9);
    }
    bool despite = false;
    if (!json_is_true(json_object_get(step, "valid"))) {
        const char *r0 = json_string_value(json_array_get(json_object_get(step, "invalid_reasons"), 0));
        bool late_only = only_lateness(step);
        /* Lateness does not change a response's body: a checks SLO failed by a late generator still failed. */
        bool body_failed = v == FIND_FAIL && bad >= 0 && !strcmp(slo[bad].metric, "checks");
        despite = v == FIND_PASS && late_only;
        if (despite) {
            snprintf(why, cap, "passed with the generator's lateness in its latencies: %s",
                     r0 ? r0 : "see the step's invalid_reasons");
        } else if (!(late_only && body_failed)) {
            v = FIND_INVALID;
            snprintf(why, cap, "generator invalid: %s", r0 ? r0 : "see the step's invalid_reasons");
        }
    }
    json_object_set_new(find, "despite_lateness", json_boolean(despite));
    json_object_set_new(find, "rate", json_real(rate));
    json_object_set_new(find, "verdict", json_string(v == FIND_PASS ? "pass" : v == FIND_FAIL ? "fail" : "invalid"));
    json_object_set_new(find, "why", json_string(why));
    json_object_set_new(step, "find", find);
    json_decref(doc[0]);
    json_decref(doc[1]);
    return v;
}

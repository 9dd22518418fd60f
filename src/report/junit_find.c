/*
 * junit_find.c — the JUnit cases of a `salvo find` document (see junit.h).
 *
 * A search fails SLOs on purpose: every bracketing step above the capacity
 * breaks one. What CI needs to know is whether the SLOs held at the rate
 * the search stands on, so each SLO is one case judged at the step that
 * decided the search: the confirmation at the capacity when one was found,
 * else the step that ended it (the lowest rate, the last confirmation), or
 * for a generator-bound search the highest step that passed.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/junit.h"
#include "report/thresholds.h"

static double num_at(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static const char *verdict_at(json_t *step)
{
    const char *v = json_string_value(json_object_get(json_object_get(step, "find"), "verdict"));
    return v ? v : "";
}

/* The step whose SLO verdicts the report gives (NULL: no step ran). */
static json_t *deciding_step(json_t *doc, const char *stop, size_t *index)
{
    json_t *steps = json_object_get(doc, "steps");
    size_t n = json_array_size(steps);
    if (!n) return NULL;
    bool found = !strcmp(stop, "found") || !strcmp(stop, "max");
    bool generator = !strncmp(stop, "generator_limit", 15);
    double cap = num_at(doc, "capacity");
    for (size_t i = n; i-- > 0;) {
        json_t *s = json_array_get(steps, i), *f = json_object_get(s, "find");
        bool pass = !strcmp(verdict_at(s), "pass");
        if (found && pass && json_is_true(json_object_get(f, "confirm")) && num_at(f, "rate") == cap) {
            *index = i;
            return s;
        }
        if (generator && pass) {
            *index = i;
            return s;
        }
    }
    *index = n - 1;
    return json_array_get(steps, n - 1);
}

/* One SLO at the deciding step. */
static void add_slo(struct junit *j, const char *expr, json_t *step, size_t index)
{
    const char *cls = "salvo.find.slo";
    json_t *f = json_object_get(step, "find");
    json_t *v = json_object_get(json_object_get(f, "slo"), expr);
    if (!step || !v) {
        junit_case(j, cls, expr, JUNIT_SKIPPED, NULL, step ? "not judged at the deciding step" : "no step ran", NULL);
        return;
    }
    if (json_is_true(json_object_get(v, "pass"))) {
        junit_case(j, cls, expr, JUNIT_PASS, NULL, NULL, NULL);
        return;
    }
    json_t *thr = json_object_get(json_object_get(step, "thresholds"), expr);
    const char *unit = json_string_value(json_object_get(thr, "unit"));
    char obs[64], lim[64] = "?", msg[1200];
    threshold_format(obs, sizeof(obs), json_object_get(v, "observed"), unit);
    if (thr) threshold_format(lim, sizeof(lim), json_object_get(thr, "limit"), unit);
    const char *on = json_string_value(json_object_get(v, "on"));
    const char *where = on && !strcmp(on, "second_half") ? "the second half of the judged window"
                        : on && !strcmp(on, "step")      ? "the whole step"
                                                         : "the judged window";
    const char *why = json_string_value(json_object_get(f, "why"));
    snprintf(msg, sizeof(msg), "%s at %.0f/s (step %zu): observed %s on %s, limit %s; the step %s%s%s", expr,
             num_at(f, "rate"), index + 1, obs, where, lim, strcmp(verdict_at(step), "pass") ? "failed" : "passed",
             why && *why ? ": " : "", why ? why : "");
    junit_case(j, cls, expr, JUNIT_FAILURE, "slo", msg, NULL);
}

/* The search's own outcome: capacity, validity, interruption, answers. */
static void add_outcome(struct junit *j, json_t *doc, const char *stop, json_t *last, int exit_code)
{
    const char *cls = "salvo.find";
    char msg[1200];
    const char *why = json_string_value(json_object_get(json_object_get(last, "find"), "why"));
    json_t *br = json_object_get(doc, "bracket");
    double b0 = json_number_value(json_array_get(br, 0)), b1 = json_number_value(json_array_get(br, 1));
    const char *name = "sustainable rate within the SLOs";
    if (!strcmp(stop, "found") || !strcmp(stop, "max")) {
        junit_case(j, cls, name, JUNIT_PASS, NULL, NULL, NULL);
    } else if (!strcmp(stop, "lowest_rate_fails") || !strcmp(stop, "confirmation_fails")) {
        snprintf(msg, sizeof(msg), "%s at %.0f/s%s%s",
                 !strcmp(stop, "lowest_rate_fails") ? "even the lowest rate is not sustainable"
                                                    : "no confirmation held within the SLOs",
                 num_at(json_object_get(last, "find"), "rate"), why && *why ? ": " : "", why ? why : "");
        junit_case(j, cls, name, JUNIT_FAILURE, stop, msg, NULL);
    } else {
        junit_case(j, cls, name, JUNIT_SKIPPED, NULL, "no capacity claimed (see the other cases)", NULL);
    }
    if (!strcmp(stop, "generator_limit")) {
        snprintf(msg, sizeof(msg), "the generator, not the service, is the limit at %.0f/s: add threads or shards", b1);
        junit_case(j, cls, "valid measurement", JUNIT_ERROR, "invalid", msg, NULL);
    } else if (!strcmp(stop, "generator_limit_below_failure")) {
        snprintf(msg, sizeof(msg),
                 "the generator could not produce more than %.0f/s, below the rate the service failed at: the "
                 "capacity lies between them",
                 b0);
        junit_case(j, cls, "valid measurement", JUNIT_ERROR, "invalid", msg, NULL);
    } else {
        junit_case(j, cls, "valid measurement", JUNIT_PASS, NULL, NULL, NULL);
    }
    if (!strcmp(stop, "interrupted"))
        junit_case(j, cls, "not interrupted", JUNIT_ERROR, "interrupted", "the search was interrupted by a signal",
                   NULL);
    else
        junit_case(j, cls, "not interrupted", JUNIT_PASS, NULL, NULL, NULL);
    if (exit_code == 1)
        junit_case(j, cls, "got responses", JUNIT_ERROR, "no_response",
                   "the service does not answer (no HTTP response in the first step), or a step failed to run", NULL);
    else
        junit_case(j, cls, "got responses", JUNIT_PASS, NULL, NULL, NULL);
}

void junit_add_find(struct junit *j, json_t *doc, int exit_code)
{
    const char *stop = json_string_value(json_object_get(doc, "stopped_by"));
    if (!stop) stop = "";
    json_t *steps = json_object_get(doc, "steps");
    double total = 0;
    size_t i;
    json_t *s;
    json_array_foreach(steps, i, s)
    {
        double d = num_at(s, "elapsed_s");
        total += isfinite(d) ? d : 0;
    }
    j->time_s = total;
    j->timestamp_ms = (long long)(isfinite(num_at(json_array_get(steps, 0), "start_unix_ms"))
                                      ? num_at(json_array_get(steps, 0), "start_unix_ms")
                                      : 0);
    char cap[64] = "none";
    if (json_is_number(json_object_get(doc, "capacity"))) snprintf(cap, sizeof(cap), "%.1f", num_at(doc, "capacity"));
    junit_property(j, "capacity_per_s", cap);
    junit_property(j, "stopped_by", stop);
    size_t index = 0;
    json_t *ref = deciding_step(doc, stop, &index);
    json_t *v;
    json_array_foreach(json_object_get(doc, "slo"), i, v) add_slo(j, json_string_value(v), ref, index);
    add_outcome(j, doc, stop, json_array_get(steps, json_array_size(steps) ? json_array_size(steps) - 1 : 0),
                exit_code);
}

/*
 * find.c — the rate search and the trend statistic of `salvo find` (see
 * find.h). Pure: no clock, no I/O, so tests run it on a simulated service.
 */
#include "load/find.h"

#include <errno.h>
#include <math.h>

int find_init(struct find_search *s, double from, double max, double precision)
{
    if (!(from > 0) || !(max >= from) || !(precision > 0)) return -EINVAL;
    *s = (struct find_search){
        .from = from, .max = max, .precision = precision, .phase = FIND_BRACKET, .next = from, .growth = FIND_GROWTH};
    return 0;
}

void find_seed(struct find_search *s, double rate)
{
    s->next = fmin(fmax(rate, s->from), s->max);
    s->growth = FIND_SEED_GROWTH;
    s->seeded = true;
}

bool find_next(const struct find_search *s, double *rate, bool *confirm)
{
    if (s->phase == FIND_DONE) return false;
    *rate = s->next;
    *confirm = s->phase == FIND_CONFIRM;
    return true;
}

static void finish(struct find_search *s, enum find_stop stop)
{
    s->phase = FIND_DONE;
    s->stop = stop;
    if (stop == FIND_STOP_FOUND || stop == FIND_STOP_MAX) s->capacity = s->lo;
}

/* After the bracket or a bisection: bisect again, or confirm the highest pass. */
static void plan_after_bound(struct find_search *s)
{
    if (s->hi > 0 && s->hi > s->lo * (1 + s->precision)) {
        s->phase = FIND_BISECT;
        s->next = sqrt(s->lo * s->hi);
        return;
    }
    /* The bound ahead of the highest pass is the generator's: salvo is the limit, not the service. */
    if (s->hi_invalid) {
        finish(s, s->fail > 0 ? FIND_STOP_GENERATOR_GAP : FIND_STOP_GENERATOR);
        return;
    }
    s->phase = FIND_CONFIRM;
    s->next = s->lo;
}

static void record_confirm(struct find_search *s, enum find_verdict v)
{
    if (v == FIND_PASS) {
        finish(s, s->hi == 0 && s->lo >= s->max ? FIND_STOP_MAX : FIND_STOP_FOUND);
        return;
    }
    if (v == FIND_INVALID) {
        s->hi = s->lo, s->hi_invalid = true;
        finish(s, s->fail > 0 ? FIND_STOP_GENERATOR_GAP : FIND_STOP_GENERATOR);
        return;
    }
    /* Held twice as long it queued up: it was not sustainable, step down and confirm again. */
    s->hi = s->lo, s->hi_invalid = false, s->fail = s->lo;
    s->lo = s->lo / (1 + s->precision);
    if (++s->confirms >= FIND_MAX_CONFIRMS || s->lo < s->from) {
        s->lo = 0;
        finish(s, FIND_STOP_CONFIRM_FAILS);
        return;
    }
    s->next = s->lo;
}

void find_record(struct find_search *s, enum find_verdict v)
{
    if (s->phase == FIND_DONE) return;
    s->steps++;
    double rate = s->next;
    if (s->phase == FIND_CONFIRM) {
        record_confirm(s, v);
        return;
    }
    if (v == FIND_PASS) {
        s->lo = rate;
        if (s->phase == FIND_BRACKET && s->hi == 0) {
            if (rate >= s->max) {
                s->phase = FIND_CONFIRM;
                s->next = rate;
                return;
            }
            s->next = fmin(rate * s->growth, s->max);
            return;
        }
    } else {
        if (s->lo == 0 && s->seeded && rate > s->from) {
            /* The proposed start was too high: a bound, and down by the growth (not below --from). */
            if (s->hi == 0 || rate < s->hi) s->hi = rate, s->hi_invalid = v == FIND_INVALID;
            if (v == FIND_FAIL) s->fail = rate;
            s->next = fmax(rate / s->growth, s->from);
            return;
        }
        if (s->lo == 0 && v == FIND_FAIL) {
            finish(s, FIND_STOP_LOWEST_FAILS);
            return;
        }
        /* A service failure bounds tighter than a generator bound above it; an invalid step below a failure too. */
        s->hi = rate;
        s->hi_invalid = v == FIND_INVALID;
        if (v == FIND_FAIL) s->fail = rate;
        if (s->lo == 0) {
            /* Not even --from could be generated: nothing valid passed. */
            finish(s, FIND_STOP_GENERATOR);
            return;
        }
    }
    plan_after_bound(s);
}

void find_abort(struct find_search *s, enum find_stop stop)
{
    finish(s, stop);
}

const char *find_stop_name(enum find_stop stop)
{
    switch (stop) {
    case FIND_STOP_FOUND: return "found";
    case FIND_STOP_MAX: return "max";
    case FIND_STOP_LOWEST_FAILS: return "lowest_rate_fails";
    case FIND_STOP_GENERATOR: return "generator_limit";
    case FIND_STOP_GENERATOR_GAP: return "generator_limit_below_failure";
    case FIND_STOP_CONFIRM_FAILS: return "confirmation_fails";
    case FIND_STOP_NO_ANSWER: return "no_answer";
    case FIND_STOP_RUN_FAILED: return "run_failed";
    case FIND_STOP_NONE: break;
    }
    return "running";
}

double find_t_critical(size_t dof)
{
    /* One-sided Student t quantiles at the normal 3-sigma tail (p = 0.00135), dof 1..30, computed once
     * by integrating the t density; beyond 30 the Cornish-Fisher term z + (z^3 + z) / (4 dof) is within 0.02. */
    static const double q[30] = {235.80, 19.21, 9.22, 6.62, 5.51, 4.90, 4.53, 4.28, 4.09, 3.96,
                                 3.85,   3.76,  3.69, 3.64, 3.59, 3.54, 3.51, 3.48, 3.45, 3.42,
                                 3.40,   3.38,  3.36, 3.34, 3.33, 3.32, 3.30, 3.29, 3.28, 3.27};
    if (dof == 0) return INFINITY;
    if (dof <= 30) return q[dof - 1];
    return 3.0 + 30.0 / (4.0 * (double)dof);
}

void find_trend(const double *y, size_t n, double dt, struct find_trend *out)
{
    *out = (struct find_trend){0};
    if (n == 0) return;
    double sy = 0, sx = 0;
    for (size_t i = 0; i < n; i++)
        sy += y[i], sx += (double)i * dt;
    double my = sy / (double)n, mx = sx / (double)n;
    out->mean = my;
    if (n < 3) return;
    double sxx = 0, sxy = 0;
    for (size_t i = 0; i < n; i++) {
        double dx = (double)i * dt - mx;
        sxx += dx * dx, sxy += dx * (y[i] - my);
    }
    double b = sxy / sxx, a = my - b * mx, sse = 0;
    for (size_t i = 0; i < n; i++) {
        double r = y[i] - (a + b * (double)i * dt);
        sse += r * r;
    }
    double se = sqrt(sse / (double)(n - 2) / sxx);
    out->slope_per_s = b;
    /* A perfect line has no residual: its slope is as significant as a slope gets. */
    out->t = se > 0 ? b / se : (b > 0 ? INFINITY : b < 0 ? -INFINITY : 0);
    double rise10 = b * 10.0;
    out->growing = out->t > find_t_critical(n - 2) && rise10 > 0.05 * my && rise10 >= 1.0;
}

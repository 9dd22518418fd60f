/*
 * compare_find.c — capacities and same-rate steps of two find results
 * (see compare_find.h; docs/compare.md "Find results").
 */
#include "report/compare_find.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/fmt.h"

bool cmp_is_find(const json_t *doc)
{
    return json_is_array(json_object_get(doc, "steps"));
}

/* A positive number at v, or 0. */
static double positive(const json_t *v)
{
    double x = json_is_number(v) ? json_number_value(v) : 0;
    return x > 0 && isfinite(x) ? x : 0;
}

/*
 * The range a result allows its capacity: from the confirmed capacity (or,
 * unconfirmed, the highest pass) to the lowest failing rate. A search that
 * failed at its lowest rate, or whose every confirmation failed, only
 * bounds it from above.
 */
static void cap_range(const json_t *doc, struct cmp_cap_range *r)
{
    const json_t *bracket = json_object_get(doc, "bracket");
    double pass = positive(json_array_get(bracket, 0)), fail = positive(json_array_get(bracket, 1));
    r->stopped_by = json_string_value(json_object_get(doc, "stopped_by"));
    if (!r->stopped_by) r->stopped_by = "?";
    r->capacity = positive(json_object_get(doc, "capacity"));
    r->found = r->capacity > 0;
    bool only_upper =
        strcmp(r->stopped_by, "lowest_rate_fails") == 0 || strcmp(r->stopped_by, "confirmation_fails") == 0;
    r->lo = r->found ? r->capacity : only_upper ? 0 : pass;
    r->hi = fail > 0 ? fail : INFINITY;
    if (strcmp(r->stopped_by, "lowest_rate_fails") == 0 && !(fail > 0)) {
        double from = positive(json_object_get(doc, "from"));
        r->hi = from > 0 ? from : INFINITY;
    }
    if (r->hi < r->lo) r->hi = r->lo; /* a confirmed rate above a lowest fail (a flaky step): a point */
}

void cmp_capacity_judge(const json_t *base, const json_t *cand, struct cmp_capacity *out)
{
    memset(out, 0, sizeof(*out));
    cap_range(base, &out->base);
    cap_range(cand, &out->cand);
    const struct cmp_cap_range *b = &out->base, *c = &out->cand;
    out->diff = b->found && c->found ? 100 * (c->capacity / b->capacity - 1) : NAN;
    out->lo = b->hi < INFINITY ? 100 * (c->lo / b->hi - 1) : -100;
    out->hi = b->lo > 0 && c->hi < INFINITY ? 100 * (c->hi / b->lo - 1) : INFINITY;
    bool b_none = b->lo <= 0 && b->hi == INFINITY, c_none = c->lo <= 0 && c->hi == INFINITY;
    if (b_none || c_none) {
        out->verdict = CMP_INCONCLUSIVE;
        snprintf(out->why, sizeof(out->why), "the %s search bounds its capacity neither way (stopped by %s)",
                 b_none ? "baseline" : "candidate", b_none ? b->stopped_by : c->stopped_by);
    } else if (c->hi < b->lo) {
        out->verdict = CMP_REGRESSED;
    } else if (c->lo > b->hi) {
        out->verdict = CMP_IMPROVED;
    } else {
        out->verdict = CMP_NO_CHANGE;
        if (!b->found || !c->found)
            snprintf(out->why, sizeof(out->why), "the ranges overlap; the %s found no capacity (stopped by %s)",
                     !b->found ? "baseline" : "candidate", !b->found ? b->stopped_by : c->stopped_by);
    }
}

bool cmp_capacity_gate_fails(const struct cmp_failif *g, const struct cmp_capacity *c, bool *inconclusive)
{
    *inconclusive = c->verdict == CMP_INCONCLUSIVE;
    return c->verdict == CMP_REGRESSED && c->hi < g->value;
}

/* A step's rate and confirmation flag. */
static bool step_key(const json_t *step, double *rate, bool *confirm)
{
    const json_t *f = json_object_get(step, "find");
    *rate = positive(json_object_get(f, "rate"));
    *confirm = json_is_true(json_object_get(f, "confirm"));
    return *rate > 0;
}

size_t cmp_find_pairs(const json_t *base, const json_t *cand, size_t (*pairs)[2], size_t cap)
{
    const json_t *bs = json_object_get(base, "steps"), *cs = json_object_get(cand, "steps");
    size_t n = 0, nc = json_array_size(cs);
    bool used[256] = {false};
    for (size_t i = 0; i < json_array_size(bs) && n < cap; i++) {
        double rb, rc;
        bool fb, fc;
        if (!step_key(json_array_get(bs, i), &rb, &fb)) continue;
        for (size_t j = 0; j < nc && j < sizeof(used); j++) {
            if (used[j] || !step_key(json_array_get(cs, j), &rc, &fc) || fb != fc) continue;
            if (fabs(rb - rc) > 1e-9 * rb) continue;
            used[j] = true;
            pairs[n][0] = i;
            pairs[n][1] = j;
            n++;
            break;
        }
    }
    return n;
}

/* "[1903, 2000]/s", "[5000/s, unbounded)". */
static const char *fmt_range(char *buf, size_t cap, const struct cmp_cap_range *r)
{
    char lo[32], hi[32];
    report_fmt_rate(lo, sizeof(lo), r->lo);
    if (r->hi == INFINITY)
        snprintf(buf, cap, "[%s/s, no failure seen)", lo);
    else
        snprintf(buf, cap, "[%s, %s]/s", lo, report_fmt_rate(hi, sizeof(hi), r->hi));
    return buf;
}

void cmp_capacity_print(FILE *out, const struct cmp_capacity *c)
{
    char b[64], d[64], cb[32], cc[32];
    fprintf(out, "capacity   baseline %8s/s  range %-26s (%s)\n",
            c->base.found ? report_fmt_rate(cb, sizeof(cb), c->base.capacity) : "none",
            fmt_range(b, sizeof(b), &c->base), c->base.stopped_by);
    fprintf(out, "           candidate %7s/s  range %-26s (%s)\n",
            c->cand.found ? report_fmt_rate(cc, sizeof(cc), c->cand.capacity) : "none",
            fmt_range(d, sizeof(d), &c->cand), c->cand.stopped_by);
    if (isnan(c->diff))
        fprintf(out, "           change: -");
    else
        fprintf(out, "           change: %+.1f%%", c->diff);
    if (c->hi == INFINITY)
        fprintf(out, ", the ranges allow [%+.1f%%, unbounded)", c->lo);
    else
        fprintf(out, ", the ranges allow [%+.1f%%, %+.1f%%]", c->lo, c->hi);
    fprintf(out, ": %s%s%s%s\n", cmp_verdict_name(c->verdict), c->why[0] ? " (" : "", c->why, c->why[0] ? ")" : "");
}

char *cmp_capacity_text(const struct cmp_capacity *c)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m) return NULL;
    cmp_capacity_print(m, c);
    if (fclose(m) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

/* A finite number, or null. */
static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *range_json(const struct cmp_cap_range *r)
{
    return json_pack("{s:o, s:[o,o], s:s}", "capacity", r->found ? json_real(r->capacity) : json_null(), "range",
                     num(r->lo), num(r->hi), "stopped_by", r->stopped_by);
}

json_t *cmp_capacity_json(const struct cmp_capacity *c)
{
    return json_pack("{s:o, s:o, s:o, s:[o,o], s:s, s:o}", "baseline", range_json(&c->base), "candidate",
                     range_json(&c->cand), "change", num(c->diff), "change_range", num(c->lo), num(c->hi), "verdict",
                     cmp_verdict_name(c->verdict), "why", c->why[0] ? json_string(c->why) : json_null());
}

/*
 * compare_failif.c — the --fail-if gates of `salvo compare` (see compare.h).
 *
 * Grammar: FIGURE OP VALUE, spaces anywhere between the three. FIGURE is a
 * figure name of compare.h ("latency.p99", "latency.p99.9" too); OP is '>'
 * (fail when the candidate is higher: latencies, errors) or '<' (lower:
 * the achieved rate); VALUE is a signed decimal number followed by '%'
 * (relative; percentage points for errors.rate), by "us", "ms" or "s" (a
 * latency or service time only), or by nothing (the figure's own unit).
 * "capacity < -10%" gates two find results (compare_find.c): '<' and a
 * percentage only.
 * The input is untrusted (it comes from CI files): fuzzed by
 * tests/fuzz/fuzz_failif.c.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/compare.h"

/* Skips spaces. */
static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Parses a plain decimal number (digits, one optional '.', optional sign); no exponent, inf or nan. */
static const char *parse_number(const char *p, double *out)
{
    const char *start = p;
    if (*p == '+' || *p == '-') p++;
    size_t digits = 0;
    bool dot = false;
    for (; isdigit((unsigned char)*p) || (*p == '.' && !dot); p++) {
        if (*p == '.')
            dot = true;
        else
            digits++;
    }
    if (!digits || p - start > 32) return NULL;
    char buf[40];
    memcpy(buf, start, (size_t)(p - start));
    buf[p - start] = '\0';
    *out = strtod(buf, NULL);
    return isfinite(*out) ? p : NULL;
}

/* Reads the unit after the number: sets percent or scales value to µs. */
static int parse_unit(const char *p, struct cmp_failif *g, char *why, size_t cap)
{
    static const struct {
        const char *unit;
        double us;
    } times[] = {{"us", 1}, {"ms", 1e3}, {"s", 1e6}};
    p = skip_ws(p);
    if (*p == '%') {
        g->percent = true;
        p++;
    } else if (*p) {
        bool time_fig = g->fig <= CMP_SVC_P999;
        size_t i = 0;
        for (; i < 3; i++) {
            size_t n = strlen(times[i].unit);
            if (strncmp(p, times[i].unit, n) == 0 && (p[n] == '\0' || p[n] == ' ' || p[n] == '\t')) break;
        }
        if (i == 3 || !time_fig) {
            snprintf(why, cap, "expected '%%'%s after the number", time_fig ? ", 'us', 'ms' or 's'" : "");
            return -EINVAL;
        }
        g->value *= times[i].us;
        p += strlen(times[i].unit);
    }
    if (*skip_ws(p)) {
        snprintf(why, cap, "unexpected text after the value");
        return -EINVAL;
    }
    return 0;
}

int cmp_failif_parse(const char *s, struct cmp_failif *out, char *why, size_t cap)
{
    memset(out, 0, sizeof(*out));
    const char *p = skip_ws(s), *name = p;
    while (isalnum((unsigned char)*p) || *p == '.' || *p == '_')
        p++;
    size_t len = (size_t)(p - name);
    out->capacity = len == 8 && strncmp(name, "capacity", 8) == 0;
    int f = out->capacity ? 0 : cmp_fig_by_name(name, len);
    if (f < 0) {
        snprintf(why, cap,
                 "unknown figure (one of latency.p50|p90|p99|p99_9, service_time.*, errors.rate, "
                 "rate.achieved, capacity)");
        return -EINVAL;
    }
    out->fig = (enum cmp_fig)f;
    p = skip_ws(p);
    if (*p != '>' && *p != '<') {
        snprintf(why, cap, "expected '>' or '<' after the figure");
        return -EINVAL;
    }
    out->op = *p++;
    if (*p == '=') {
        snprintf(why, cap, "use '>' or '<' ('=' makes no difference to an interval)");
        return -EINVAL;
    }
    p = parse_number(skip_ws(p), &out->value);
    if (!p) {
        snprintf(why, cap, "expected a number such as +10%%");
        return -EINVAL;
    }
    int rc = parse_unit(p, out, why, cap);
    if (rc == 0 && out->capacity && (out->op != '<' || !out->percent)) {
        snprintf(why, cap, "capacity gates read 'capacity < -PCT%%' (a lower capacity is worse)");
        return -EINVAL;
    }
    return rc;
}

bool cmp_failif_fails(const struct cmp_failif *g, const struct cmp_result *r, bool *inconclusive)
{
    *inconclusive = g->capacity; /* not a figure of a run: judged on the capacities */
    if (g->capacity) return false;
    const struct cmp_row *row = cmp_result_row(r, g->fig);
    *inconclusive = !row || row->verdict == CMP_INCONCLUSIVE;
    if (*inconclusive) return false;
    double lo = g->percent ? row->lo : row->abs_lo, hi = g->percent ? row->hi : row->abs_hi;
    return g->op == '>' ? lo > g->value : hi < g->value;
}

/*
 * thresholds.h — CI gates evaluated on a results JSON.
 *
 * A threshold is `METRIC[{name=NAME}].AGGREGATE OP VALUE[UNIT]`, e.g.
 * `latency.p99 < 250ms`, `errors.rate < 0.1%`, `rate.achieved >= 99%`,
 * `latency{name=/api/route}.p99.9 < 1s`. It is evaluated on the results
 * JSON (not on run internals), so a merged result is judged exactly like a
 * single run. A threshold whose metric or name has no data fails: silence
 * is not a pass. The grammar and its k6 mapping are in docs/thresholds.md.
 */
#ifndef SALVO_THRESHOLDS_H
#define SALVO_THRESHOLDS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* One parsed threshold; owns no heap memory. */
struct threshold {
    char text[256];
    char metric[32];
    char name[128];           /* empty: all requests */
    char agg[32];             /* "p99.9", "mean", "rate", ... */
    int op;                   /* one of THR_LT ... THR_NE */
    double limit;             /* in the metric's unit (µs, ratio, req/s) */
    bool percent_of_intended; /* rate.achieved >= 99% */
};

enum { THR_LT, THR_LE, THR_GT, THR_GE, THR_EQ, THR_NE };

/*
 * Parses text. Returns 0 or -EINVAL with *why naming the problem (a unit
 * that does not fit the metric is one: `latency.p99 < 10%`). *why may
 * point to a static buffer that the next call overwrites.
 */
int threshold_parse(struct threshold *t, const char *text, const char **why);

/*
 * Evaluates t on result; sets *observed (NaN when there is no data) and
 * returns true when it passes. A latency figure that timed-out requests
 * make only a lower bound (latency_us.lower_bounds, at or above the
 * timeout) fails `<`, `<=`, `==` and `!=`: it cannot show the true value
 * is low. Timed-out requests are missing from ttfb, service_time and wait,
 * so a percentile of those is judged at the rank it has among all requests.
 * Writes to note (cap bytes, none when cap is 0) why the figure is censored
 * or how it was judged; "" when it is plainly the JSON's figure.
 */
bool threshold_judge(const struct threshold *t, json_t *result, double *observed, char *note, size_t cap);

/*
 * Evaluates all n thresholds, stores {"expr": {"pass", "observed",
 * "limit", "unit", "note"?}} under result["thresholds"] and returns the
 * number that failed.
 */
int thresholds_apply(const struct threshold *t, int n, json_t *result);

/*
 * Writes a threshold's observed value or limit with its unit ("250ms",
 * "0.5%", "99.5/s", "12"; "no data" for null) into buf.
 */
void threshold_format(char *buf, size_t cap, json_t *value, const char *unit);

/*
 * Prints one "threshold   ok|FAIL EXPR (observed V, limit L)[: note]" line per entry
 * of result["thresholds"] (what thresholds_apply wrote).
 */
void thresholds_print(FILE *out, json_t *result);

#endif

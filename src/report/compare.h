/*
 * compare.h — baseline against candidate: differences with confidence
 * intervals, a verdict per figure, and the --fail-if gates.
 *
 * A load test's p99 is one draw from a noisy process; "p99 went from 4.1
 * to 4.4 ms" means nothing until it is set against how much p99 moves by
 * itself. Each run keeps a latency and a service-time histogram per second
 * (results JSON, timeline[i].hdr_*), so the run can be resampled: a
 * circular block bootstrap over its seconds (blocks keep the seconds' correlation),
 * and, with several runs per side, over the runs too. Each resample yields
 * every figure; the spread of candidate-minus-baseline over the resamples
 * is the 95 % interval (percentile method). docs/compare.md has the math.
 *
 * For speed, each second's histogram is reduced to sparse counts on a log
 * grid of CMP_GRID_RATIO-wide bins (1 %: well below any noise floor), and
 * the blocks are pre-added once with percentile windows, so one resample
 * costs a binary search over (seconds / block length) blocks per
 * percentile (compare_boot.h).
 * Point values come from the exact HDR histograms of the results.
 *
 * Ownership: struct cmp_run is caller-owned (cmp_run_release frees what the
 * loader allocated). cmp_compute fills a caller-owned struct cmp_result.
 * Nothing here prints; the RNG is seeded by the options, so a comparison is
 * reproducible.
 */
#ifndef SALVO_COMPARE_H
#define SALVO_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/hist.h"
#include "report/compare_boot.h"

#define CMP_MAX_SCOPES 11 /* the run and its top 10 names */
#define CMP_MIN_TAIL 10   /* samples beyond a percentile needed on each side */
#define CMP_MIN_SECONDS 5 /* seconds a run needs to be resampled */

/* "latency.p99" etc.; NULL out of range. */
const char *cmp_fig_name(enum cmp_fig f);
/* The figure called name (also "latency.p99.9"), or -1. */
int cmp_fig_by_name(const char *name, size_t len);
/* True for the four latency figures (compared for every name; errors.rate
 * and rate.achieved too where the results carry per-name counts). */
bool cmp_fig_per_name(enum cmp_fig f);

/* One results file, reduced to what compare needs. */
struct cmp_run {
    const char *path; /* borrowed, for messages */
    struct cmp_scope scopes[CMP_MAX_SCOPES];
    size_t nscopes;
};

/* Frees what the loader or cmp_scope_add_second allocated; NULL is fine. */
void cmp_run_release(struct cmp_run *r);

/* Options of one comparison. */
struct cmp_options {
    unsigned resamples; /* >= 1000 */
    uint64_t seed;
    double noise[CMP_NFIG]; /* floors: % for relative figures, percentage points for errors.rate */
    bool full_resamples;    /* no percentile windows: every resample the full way (tests' reference) */
};

/* The defaults: 1000 resamples, seed 1, floors as in docs/compare.md. */
void cmp_options_default(struct cmp_options *o);

enum cmp_verdict { CMP_NO_CHANGE, CMP_REGRESSED, CMP_IMPROVED, CMP_INCONCLUSIVE };

/* "regressed", "improved", "no significant change", "inconclusive". */
const char *cmp_verdict_name(enum cmp_verdict v);

/* One figure of one scope, compared. */
struct cmp_row {
    char scope[128]; /* "" for the whole run */
    enum cmp_fig fig;
    double base, cand;               /* µs, a rate in [0, 1], or /s */
    double diff, lo, hi;             /* relative % (errors.rate: percentage points) */
    double abs_diff, abs_lo, abs_hi; /* the same in the figure's unit */
    enum cmp_verdict verdict;
    char why[192]; /* what made it inconclusive (it may name a file), or "" */
};

/* Every row of a comparison. */
struct cmp_result {
    struct cmp_row rows[CMP_MAX_SCOPES * CMP_NFIG];
    size_t nrows;
    unsigned resamples;
    bool within_run_only;         /* one run per side: the intervals see within-run noise only */
    unsigned long full_resamples; /* resample percentile groups computed the full way (compare_boot.h) */
};

/*
 * Compares nb baseline runs with nc candidate runs (each >= 1; the scope
 * names are matched by name, the whole run always). Returns 0, or -EINVAL
 * when a side is empty.
 */
int cmp_compute(const struct cmp_run *const *base, size_t nb, const struct cmp_run *const *cand, size_t nc,
                const struct cmp_options *opt, struct cmp_result *out);

/* The row of figure f for the whole run, or NULL. */
const struct cmp_row *cmp_result_row(const struct cmp_result *r, enum cmp_fig f);

/*
 * A --fail-if gate: "FIGURE > +10%", "FIGURE > 2ms", "rate.achieved < -5%".
 * percent: the threshold is relative (errors.rate: percentage points);
 * else in the figure's unit (µs for latencies, a share for errors.rate, /s).
 */
struct cmp_failif {
    enum cmp_fig fig;
    char op; /* '>' or '<' */
    double value;
    bool percent;
    bool capacity; /* "capacity < -10%": find results only (compare_find.h), fig unused */
};

/*
 * Parses a gate. Keeps no pointer into s and does not allocate. Returns 0,
 * or -EINVAL with why (cap bytes) saying what is wrong.
 */
int cmp_failif_parse(const char *s, struct cmp_failif *out, char *why, size_t cap);

/*
 * Whether the gate fails on r: the whole interval lies beyond the threshold
 * (so the candidate is significantly worse than that). An inconclusive
 * figure never fails a gate; *inconclusive says it was one.
 */
bool cmp_failif_fails(const struct cmp_failif *g, const struct cmp_result *r, bool *inconclusive);

#endif

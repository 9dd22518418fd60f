/*
 * compare.c — the statistics of `salvo compare` (see compare.h).
 *
 * Method (docs/compare.md): each side's runs are resampled R times. One
 * resample of a side draws as many runs as it has, with replacement (one
 * run: always that run); of each drawn run it draws circular blocks of L
 * consecutive seconds (L = ceil(cbrt(n)), n its seconds) with replacement,
 * n seconds in all, and adds their histograms and counters. Every figure
 * is computed on that sum, then widened for the number of blocks (widen).
 * The interval of a difference is the 2.5th and
 * 97.5th percentile of (candidate resample − baseline resample) over the R
 * pairs; the point difference comes from the exact totals.
 */
#include "report/compare.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/compare_boot.h"

enum kind { K_LAT, K_SVC, K_ERR, K_RATE };

/* One row per figure: its name, what it measures and its default noise floor. */
static const struct fig_def {
    const char *name;
    enum kind kind;
    double pct;   /* the percentile, for K_LAT and K_SVC */
    double noise; /* default floor: % (errors.rate: percentage points) */
} figs[CMP_NFIG] = {
    {"latency.p50", K_LAT, 50, 5},       {"latency.p90", K_LAT, 90, 7.5},         {"latency.p99", K_LAT, 99, 10},
    {"latency.p99_9", K_LAT, 99.9, 20},  {"service_time.p50", K_SVC, 50, 5},      {"service_time.p90", K_SVC, 90, 7.5},
    {"service_time.p99", K_SVC, 99, 10}, {"service_time.p99_9", K_SVC, 99.9, 20}, {"errors.rate", K_ERR, 0, 0.5},
    {"rate.achieved", K_RATE, 0, 2},
};

const char *cmp_fig_name(enum cmp_fig f)
{
    return (unsigned)f < CMP_NFIG ? figs[f].name : NULL;
}

int cmp_fig_by_name(const char *name, size_t len)
{
    char buf[32];
    if (len >= sizeof(buf)) return -1;
    memcpy(buf, name, len);
    buf[len] = '\0';
    char *dot = strstr(buf, ".p99.9"); /* the spelling people type */
    if (dot && !dot[6]) dot[4] = '_';
    for (int f = 0; f < CMP_NFIG; f++)
        if (strcmp(buf, figs[f].name) == 0) return f;
    return -1;
}

bool cmp_fig_per_name(enum cmp_fig f)
{
    return (unsigned)f < CMP_NFIG && figs[f].kind == K_LAT;
}

const char *cmp_verdict_name(enum cmp_verdict v)
{
    static const char *const names[] = {"no significant change", "regressed", "improved", "inconclusive"};
    return (unsigned)v < 4 ? names[v] : "?";
}

void cmp_options_default(struct cmp_options *o)
{
    o->resamples = 1000;
    o->seed = 1;
    o->full_resamples = false;
    for (int f = 0; f < CMP_NFIG; f++)
        o->noise[f] = figs[f].noise;
}

/* ----------------------------------------------------------- runs */

void cmp_run_release(struct cmp_run *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->nscopes; i++) {
        struct cmp_scope *s = &r->scopes[i];
        for (size_t k = 0; k < s->nsec; k++) {
            cmp_sparse_release(&s->sec[k].lat);
            cmp_sparse_release(&s->sec[k].svc);
        }
        free(s->sec);
        hist_release(&s->lat);
        hist_release(&s->svc);
    }
    r->nscopes = 0;
}

/* ----------------------------------------------------------- one scope */

/* A scope across one side's runs: blocks, exact totals, sums. */
struct side {
    struct cmp_blocks *bl[64];
    struct cmp_blocks store[64];
    struct cmp_windows win;
    size_t nruns, min_secs;
    struct hist lat, svc;
    bool has_svc, has_counts;
    bool present;           /* some run of the side keeps this scope's seconds */
    const char *lack_scope; /* the first run without the scope's seconds (a name outside its top 10), or NULL */
    const char *lack_svc;   /* the first run whose scope has no service time per second, or NULL */
    uint64_t done, errors, rate_done, rate_secs;
    double *stat;              /* resamples × CMP_NFIG */
    double grid_all[CMP_NFIG]; /* every figure on the grid, from all seconds once */
    unsigned long full;        /* percentile groups that needed the full way */
    double blocks_drawn;       /* k: independent blocks in a resample, sum of seconds / L over the runs */
};

/* The scope called name in r, or NULL ("" is the whole run). */
static const struct cmp_scope *find_scope(const struct cmp_run *r, const char *name)
{
    for (size_t i = 0; i < r->nscopes; i++)
        if (strcmp(r->scopes[i].name, name) == 0) return &r->scopes[i];
    return NULL;
}

/* The exact point value of figure f on a side. */
static double side_point(const struct side *sd, enum cmp_fig f)
{
    switch (figs[f].kind) {
    case K_LAT: return (double)hist_value_at_percentile(&sd->lat, figs[f].pct);
    case K_SVC: return (double)hist_value_at_percentile(&sd->svc, figs[f].pct);
    case K_ERR: return sd->done ? (double)sd->errors / (double)sd->done : 0;
    case K_RATE: return sd->rate_secs ? (double)sd->rate_done / (double)sd->rate_secs : 0;
    }
    return 0;
}

/*
 * A bootstrap of k blocks underestimates the variance of a statistic by
 * the factor (k - 1) / k, as the plain n-divisor variance does (Künsch
 * 1989; Lahiri 2003, ch. 3): 10 seconds in blocks of 3 are 3.3 blocks, so
 * the spread is 16 % too narrow, and two runs of one service then differ
 * "significantly" far more often than 5 % of the time (measured: 17 % for
 * p50 at 10 s, 7 % at 60 s). Each resample's figure is therefore moved
 * away from the side's own figure by sqrt(k / (k - 1)): 1.20 at 10 s,
 * 1.01 at 10 minutes. Run-to-run resampling (several runs a side) is not
 * corrected.
 */
static void widen(struct side *sd, unsigned resamples)
{
    double k = sd->blocks_drawn;
    if (k <= 1) return;
    double c = sqrt(k / (k - 1)), center[CMP_NFIG];
    for (int f = 0; f < CMP_NFIG; f++)
        center[f] = figs[f].kind == K_LAT || figs[f].kind == K_SVC ? sd->grid_all[f] : side_point(sd, f);
    for (unsigned r = 0; r < resamples; r++)
        for (int f = 0; f < CMP_NFIG; f++) {
            double *v = &sd->stat[(size_t)r * CMP_NFIG + f];
            *v = center[f] + (*v - center[f]) * c;
            if (*v < 0) *v = 0;
        }
}

static void side_init(struct side *sd, const struct cmp_run *const *runs, size_t n, const char *name,
                      const struct cmp_options *opt, uint64_t *rng)
{
    memset(sd, 0, sizeof(*sd));
    hist_init(&sd->lat, HIST_STD_LOWEST, HIST_STD_HIGHEST, HIST_STD_SIGFIG);
    hist_init(&sd->svc, HIST_STD_LOWEST, HIST_STD_HIGHEST, HIST_STD_SIGFIG);
    sd->nruns = n < 64 ? n : 64;
    sd->min_secs = SIZE_MAX;
    sd->has_svc = true;
    sd->has_counts = true;
    const struct cmp_scope *scopes[64];
    for (size_t i = 0; i < sd->nruns; i++)
        scopes[i] = find_scope(runs[i], name);
    struct cmp_acc *a = cmp_acc_new(0);
    cmp_grid_all(a, scopes, sd->nruns, sd->grid_all, &sd->win);
    cmp_acc_free(a);
    sd->win.off = opt->full_resamples;
    size_t max_draws = 0;
    for (size_t i = 0; i < sd->nruns; i++) {
        const struct cmp_scope *s = scopes[i];
        if (!s) {
            if (!sd->lack_scope) sd->lack_scope = runs[i]->path ? runs[i]->path : "?";
            continue;
        }
        sd->present = true;
        if (!s->has_svc && !sd->lack_svc) sd->lack_svc = runs[i]->path ? runs[i]->path : "?";
        cmp_blocks_init(&sd->store[i], s, &sd->win);
        sd->bl[i] = &sd->store[i];
        size_t draws = sd->store[i].draws + (sd->store[i].tail != NULL);
        if (draws > max_draws) max_draws = draws;
        sd->blocks_drawn += (double)s->nsec / (double)sd->store[i].len;
        if (s->nsec < sd->min_secs) sd->min_secs = s->nsec;
        hist_add(&sd->lat, &s->lat);
        hist_add(&sd->svc, &s->svc);
        sd->has_svc &= s->has_svc;
        sd->has_counts &= s->has_counts;
        for (size_t k = 0; k < s->nsec; k++) {
            sd->done += s->sec[k].done;
            sd->errors += s->sec[k].errors;
            sd->rate_done += s->sec[k].in_rate ? s->sec[k].done : 0;
            sd->rate_secs += s->sec[k].in_rate;
        }
    }
    if (sd->min_secs == SIZE_MAX) sd->min_secs = 0;
    if (!sd->present) { /* nothing of this name on this side: no figure of it either */
        sd->has_svc = false;
        sd->has_counts = false;
    }
    sd->stat = malloc((size_t)opt->resamples * CMP_NFIG * sizeof(double));
    a = cmp_acc_new(sd->nruns * max_draws);
    if (!sd->stat) abort();
    for (unsigned r = 0; r < opt->resamples; r++)
        sd->full += cmp_resample(sd->bl, sd->nruns, &sd->win, rng, a, &sd->stat[(size_t)r * CMP_NFIG]);
    widen(sd, opt->resamples);
    cmp_acc_free(a);
}

static void side_release(struct side *sd)
{
    for (size_t i = 0; i < sd->nruns; i++)
        if (sd->bl[i]) cmp_blocks_release(sd->bl[i]);
    hist_release(&sd->lat);
    hist_release(&sd->svc);
    free(sd->stat);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile (0..1) of sorted v[n], interpolated. */
static double quantile(const double *v, size_t n, double q)
{
    double pos = q * (double)(n - 1);
    size_t i = (size_t)pos;
    if (i + 1 >= n) return v[n - 1];
    return v[i] + (pos - (double)i) * (v[i + 1] - v[i]);
}

/*
 * Of a name (name_scope) on one side: its per-second histograms are missing
 * altogether (the name outside that side's top 10), or only its service
 * time (an older salvo). The reason names the side and its file.
 */
/* Whether side s lacks figure f of a name: none of its seconds, or (service time) none of that. */
static bool side_lacks(const struct side *s, enum cmp_fig f)
{
    return !s->present || (figs[f].kind == K_SVC && !s->has_svc);
}

static const char *missing_why(const struct side *b, const struct side *c, enum cmp_fig f, char *buf, size_t n)
{
    const struct side *s[2] = {b, c};
    for (int k = 0; k < 2; k++)
        if (!s[k]->present) {
            snprintf(buf, n, "no per-second histograms for this name in the %s %s", k ? "candidate" : "baseline",
                     s[k]->lack_scope ? s[k]->lack_scope : "?");
            return buf;
        }
    if (figs[f].kind != K_SVC) return NULL;
    for (int k = 0; k < 2; k++)
        if (!s[k]->has_svc) {
            snprintf(buf, n, "no service time per name in the %s %s", k ? "candidate" : "baseline",
                     s[k]->lack_svc ? s[k]->lack_svc : "?");
            return buf;
        }
    return NULL;
}

/* Why figure f cannot be judged on these sides, or NULL. */
static const char *inconclusive_why(const struct side *b, const struct side *c, enum cmp_fig f, bool name_scope,
                                    char *buf, size_t n)
{
    const char *gone = name_scope ? missing_why(b, c, f, buf, n) : NULL;
    if (gone) return gone;
    if (b->min_secs < CMP_MIN_SECONDS || c->min_secs < CMP_MIN_SECONDS) {
        snprintf(buf, n, "a run has fewer than %d seconds", CMP_MIN_SECONDS);
        return buf;
    }
    if (figs[f].kind == K_SVC && (!b->has_svc || !c->has_svc)) {
        snprintf(buf, n, "no service time per second in %s",
                 !b->has_svc && !c->has_svc ? "either run"
                 : !b->has_svc              ? "the baseline"
                                            : "the candidate");
        return buf;
    }
    if (figs[f].kind != K_LAT && figs[f].kind != K_SVC) return b->done && c->done ? NULL : "no responses";
    const struct side *s[2] = {b, c};
    for (int k = 0; k < 2; k++) {
        int64_t total = figs[f].kind == K_LAT ? s[k]->lat.total_count : s[k]->svc.total_count;
        double tail = floor((double)total * (100 - figs[f].pct) / 100 + 1e-6); /* 3000 at p99.9: 3, not 2.9999 */
        if (tail < CMP_MIN_TAIL) {
            snprintf(buf, n, "%s has %.0f samples beyond p%g (needs %d)", k ? "candidate" : "baseline", tail,
                     figs[f].pct, CMP_MIN_TAIL);
            return buf;
        }
    }
    return NULL;
}

/* The verdict on a row whose interval is computed. */
static enum cmp_verdict judge(const struct cmp_row *row, double noise)
{
    double dir = figs[row->fig].kind == K_RATE ? -1 : 1; /* +1: higher is worse */
    double worse = dir * row->diff;
    double worse_lo = dir > 0 ? row->lo : -row->hi, worse_hi = dir > 0 ? row->hi : -row->lo;
    if (worse_lo > 0 && worse > noise) return CMP_REGRESSED;
    if (worse_hi < 0 && worse < -noise) return CMP_IMPROVED;
    return CMP_NO_CHANGE;
}

/* Fills row for figure f from the two sides' points and resamples. */
static void row_fill(struct cmp_row *row, const struct side *b, const struct side *c, enum cmp_fig f, bool name_scope,
                     const struct cmp_options *opt, double *rel, double *abs_d)
{
    row->fig = f;
    row->base = side_point(b, f);
    row->cand = side_point(c, f);
    bool pp = figs[f].kind == K_ERR;
    row->abs_diff = row->cand - row->base;
    row->diff = pp ? 100 * row->abs_diff : (row->base > 0 ? 100 * (row->cand / row->base - 1) : 0);
    unsigned n = opt->resamples;
    for (unsigned r = 0; r < n; r++) {
        double bs = b->stat[(size_t)r * CMP_NFIG + f], cs = c->stat[(size_t)r * CMP_NFIG + f];
        abs_d[r] = cs - bs;
        rel[r] = pp ? 100 * (cs - bs) : (bs > 0 ? 100 * (cs / bs - 1) : 0);
    }
    qsort(rel, n, sizeof(double), cmp_double);
    qsort(abs_d, n, sizeof(double), cmp_double);
    /*
     * The resamples live on the 1 % grid; the point values are exact. The
     * interval is moved by the grid's own error on the full sample, so
     * that it is about the exact difference (for percentiles only: counts
     * are exact on both).
     */
    double shift = 0, abs_shift = 0;
    if (figs[f].kind == K_LAT || figs[f].kind == K_SVC) {
        double gb = b->grid_all[f], gc = c->grid_all[f];
        abs_shift = row->abs_diff - (gc - gb);
        shift = gb > 0 && row->base > 0 ? row->diff - 100 * (gc / gb - 1) : 0;
    }
    row->lo = quantile(rel, n, 0.025) + shift;
    row->hi = quantile(rel, n, 0.975) + shift;
    row->abs_lo = quantile(abs_d, n, 0.025) + abs_shift;
    row->abs_hi = quantile(abs_d, n, 0.975) + abs_shift;
    char buf[sizeof(row->why)];
    const char *why = inconclusive_why(b, c, f, name_scope, buf, sizeof(buf));
    if (name_scope && (side_lacks(b, f) || side_lacks(c, f))) {
        /*
         * A side without this name's seconds has no figure of it: its value
         * is NAN (printed "-", null in JSON), and no change is claimed.
         */
        if (side_lacks(b, f)) row->base = NAN;
        if (side_lacks(c, f)) row->cand = NAN;
        row->diff = row->lo = row->hi = row->abs_diff = row->abs_lo = row->abs_hi = 0;
    }
    if (!why && row->base <= 0 && !pp) why = "baseline is 0";
    row->verdict = why ? CMP_INCONCLUSIVE : judge(row, opt->noise[f]);
    snprintf(row->why, sizeof(row->why), "%s", why ? why : "");
}

/*
 * Whether a name gets a row for figure f (latency: always). Service time
 * needs one side to carry it: the other side missing it (an older JSON, a
 * name outside that run's top 10) is an inconclusive row that says so.
 */
static bool name_has(const struct side *b, const struct side *c, enum cmp_fig f)
{
    switch (figs[f].kind) {
    case K_LAT: return true;
    case K_SVC: return b->has_svc || c->has_svc;
    case K_ERR:
    case K_RATE: return b->has_counts && c->has_counts;
    }
    return false;
}

/* Compares one scope; appends its rows to out. */
static void compare_scope(const struct cmp_run *const *base, size_t nb, const struct cmp_run *const *cand, size_t nc,
                          const char *name, const struct cmp_options *opt, uint64_t *rng, struct cmp_result *out)
{
    double *rel = malloc(opt->resamples * sizeof(double)), *abs_d = malloc(opt->resamples * sizeof(double));
    if (!rel || !abs_d) abort();
    struct side *b = malloc(sizeof(*b)), *c = malloc(sizeof(*c));
    if (!b || !c) abort();
    side_init(b, base, nb, name, opt, rng);
    side_init(c, cand, nc, name, opt, rng);
    out->full_resamples += b->full + c->full;
    for (int f = 0; f < CMP_NFIG; f++) {
        if (name[0] && !cmp_fig_per_name(f) && !name_has(b, c, f)) continue;
        struct cmp_row *row = &out->rows[out->nrows++];
        snprintf(row->scope, sizeof(row->scope), "%s", name);
        row_fill(row, b, c, f, name[0] != 0, opt, rel, abs_d);
    }
    side_release(b);
    side_release(c);
    free(b);
    free(c);
    free(rel);
    free(abs_d);
}

int cmp_compute(const struct cmp_run *const *base, size_t nb, const struct cmp_run *const *cand, size_t nc,
                const struct cmp_options *opt, struct cmp_result *out)
{
    if (!nb || !nc || opt->resamples < 1) return -EINVAL;
    memset(out, 0, sizeof(*out));
    out->resamples = opt->resamples;
    out->within_run_only = nb == 1 && nc == 1;
    uint64_t rng = opt->seed;
    compare_scope(base, nb, cand, nc, "", opt, &rng, out);
    /*
     * Names: those of the first baseline run, then those only the first
     * candidate run keeps. A name whose seconds one side does not keep (it
     * was outside that run's top 10) gets inconclusive rows saying so.
     */
    for (size_t side = 0; side < 2; side++) {
        const struct cmp_run *r = side ? cand[0] : base[0];
        for (size_t i = 0; i < r->nscopes; i++) {
            const char *name = r->scopes[i].name;
            if (!name[0] || (side && find_scope(base[0], name))) continue;
            if (out->nrows + CMP_NFIG > sizeof(out->rows) / sizeof(out->rows[0])) break;
            compare_scope(base, nb, cand, nc, name, opt, &rng, out);
        }
    }
    return 0;
}

const struct cmp_row *cmp_result_row(const struct cmp_result *r, enum cmp_fig f)
{
    for (size_t i = 0; i < r->nrows; i++)
        if (!r->rows[i].scope[0] && r->rows[i].fig == f) return &r->rows[i];
    return NULL;
}

/*
 * compare.c — the statistics of `salvo compare` (see compare.h).
 *
 * Method (docs/compare.md): each side's runs are resampled R times. One
 * resample of a side draws as many runs as it has, with replacement (one
 * run: always that run); of each drawn run it draws ceil(n / L) moving
 * blocks of L consecutive seconds (L = ceil(cbrt(n)), n its seconds), with
 * replacement, and adds their histograms and counters. Every figure is
 * computed on that sum. The interval of a difference is the 2.5th and
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

/* Bins of the grid: 1 µs .. 1 h at CMP_GRID_RATIO (2200 bins), plus bin 0 for values below 1 µs. */
#define GRID_BINS 2300

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
    for (int f = 0; f < CMP_NFIG; f++)
        o->noise[f] = figs[f].noise;
}

/* ----------------------------------------------------------- the grid */

/* The grid bin of a value in µs. */
static uint16_t grid_bin(double v)
{
    if (v < 1) return 0;
    double b = 1 + floor(log(v) / log(CMP_GRID_RATIO));
    return b >= GRID_BINS - 1 ? GRID_BINS - 1 : (uint16_t)b;
}

/* Appends (bin, n) to s, which the caller sized; merges with the last entry. */
static void sparse_push(struct cmp_sparse *s, uint16_t bin, uint64_t n)
{
    if (s->n && s->bin[s->n - 1] == bin) {
        s->count[s->n - 1] += n;
        return;
    }
    s->bin[s->n] = bin;
    s->count[s->n++] = n;
}

/* Allocates room for cap entries. */
static void sparse_alloc(struct cmp_sparse *s, uint32_t cap)
{
    s->n = 0;
    s->bin = malloc((cap ? cap : 1) * sizeof(*s->bin));
    s->count = malloc((cap ? cap : 1) * sizeof(*s->count));
    if (!s->bin || !s->count) abort();
}

static void sparse_release(struct cmp_sparse *s)
{
    free(s->bin);
    free(s->count);
    s->bin = NULL;
    s->count = NULL;
    s->n = 0;
}

/* h reduced to the grid (h may be NULL: empty), in one walk of its buckets. */
static void sparse_from_hist(struct cmp_sparse *s, const struct hist *h)
{
    uint16_t bins[GRID_BINS];
    uint64_t counts[GRID_BINS];
    struct cmp_sparse tmp = {0, bins, counts};
    struct hist_iter it;
    if (h && h->total_count)
        for (hist_iter_init(&it, h); hist_iter_next(&it);)
            sparse_push(&tmp, grid_bin(((double)it.value_lo + (double)it.value) / 2), (uint64_t)it.count);
    sparse_alloc(s, tmp.n);
    memcpy(s->bin, bins, tmp.n * sizeof(*bins));
    memcpy(s->count, counts, tmp.n * sizeof(*counts));
    s->n = tmp.n;
}

int cmp_scope_add_second(struct cmp_scope *s, const struct hist *lat, const struct hist *svc, uint64_t done,
                         uint64_t errors, bool in_rate)
{
    struct cmp_second *n = realloc(s->sec, (s->nsec + 1) * sizeof(*s->sec));
    if (!n) abort();
    s->sec = n;
    struct cmp_second *sec = &s->sec[s->nsec++];
    sparse_from_hist(&sec->lat, lat);
    sparse_from_hist(&sec->svc, svc);
    sec->done = done;
    sec->errors = errors;
    sec->in_rate = in_rate;
    return 0;
}

void cmp_run_release(struct cmp_run *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->nscopes; i++) {
        struct cmp_scope *s = &r->scopes[i];
        for (size_t k = 0; k < s->nsec; k++) {
            sparse_release(&s->sec[k].lat);
            sparse_release(&s->sec[k].svc);
        }
        free(s->sec);
        hist_release(&s->lat);
        hist_release(&s->svc);
    }
    r->nscopes = 0;
}

/* ----------------------------------------------------------- blocks */

/* The moving blocks of one scope of one run, pre-added. */
struct blocks {
    size_t len, n, draws; /* block length, number of blocks, blocks per resample */
    struct cmp_second *b; /* n blocks; done/errors summed; in_rate unused */
    uint64_t *rate_done;  /* per block: responses in sending-phase seconds */
    uint32_t *rate_secs;  /* per block: sending-phase seconds */
};

/* Adds the sparse arrays of seconds [from, from + len) into one, through dense. */
static void block_sum(struct cmp_sparse *out, const struct cmp_second *sec, size_t len, bool svc, uint64_t *dense)
{
    uint16_t lo = GRID_BINS - 1, hi = 0;
    for (size_t k = 0; k < len; k++) {
        const struct cmp_sparse *s = svc ? &sec[k].svc : &sec[k].lat;
        for (uint32_t i = 0; i < s->n; i++) {
            dense[s->bin[i]] += s->count[i];
            if (s->bin[i] < lo) lo = s->bin[i];
            if (s->bin[i] > hi) hi = s->bin[i];
        }
    }
    uint32_t cap = 0;
    for (uint32_t b = lo; b <= hi; b++)
        cap += dense[b] != 0;
    sparse_alloc(out, cap);
    for (uint32_t b = lo; b <= hi; b++)
        if (dense[b]) {
            sparse_push(out, (uint16_t)b, dense[b]);
            dense[b] = 0;
        }
}

static void blocks_init(struct blocks *bl, const struct cmp_scope *s, uint64_t *dense)
{
    bl->len = (size_t)ceil(cbrt((double)s->nsec));
    if (bl->len < 1) bl->len = 1;
    bl->n = s->nsec >= bl->len ? s->nsec - bl->len + 1 : 0;
    bl->draws = (s->nsec + bl->len - 1) / bl->len;
    bl->b = calloc(bl->n ? bl->n : 1, sizeof(*bl->b));
    bl->rate_done = calloc(bl->n ? bl->n : 1, sizeof(*bl->rate_done));
    bl->rate_secs = calloc(bl->n ? bl->n : 1, sizeof(*bl->rate_secs));
    if (!bl->b || !bl->rate_done || !bl->rate_secs) abort();
    for (size_t i = 0; i < bl->n; i++) {
        const struct cmp_second *sec = &s->sec[i];
        block_sum(&bl->b[i].lat, sec, bl->len, false, dense);
        block_sum(&bl->b[i].svc, sec, bl->len, true, dense);
        for (size_t k = 0; k < bl->len; k++) {
            bl->b[i].done += sec[k].done;
            bl->b[i].errors += sec[k].errors;
            if (!sec[k].in_rate) continue;
            bl->rate_done[i] += sec[k].done;
            bl->rate_secs[i]++;
        }
    }
}

static void blocks_release(struct blocks *bl)
{
    for (size_t i = 0; i < bl->n; i++) {
        sparse_release(&bl->b[i].lat);
        sparse_release(&bl->b[i].svc);
    }
    free(bl->b);
    free(bl->rate_done);
    free(bl->rate_secs);
}

/* ----------------------------------------------------------- resampling */

/* splitmix64: small, fast, and the same stream on every machine. */
static uint64_t rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n), n >= 1 (the modulo bias is below 2^-40 for our n). */
static size_t rng_below(uint64_t *state, size_t n)
{
    return (size_t)(rng_next(state) % n);
}

/* What one resample adds up. */
struct acc {
    uint64_t lat[GRID_BINS], svc[GRID_BINS];
    uint64_t lat_total, svc_total, done, errors, rate_done, rate_secs;
    uint16_t lat_hi, svc_hi; /* highest bin touched: the percentile walk stops there */
};

static void acc_add_sparse(uint64_t *dense, uint64_t *total, uint16_t *hi, const struct cmp_sparse *s)
{
    for (uint32_t i = 0; i < s->n; i++) {
        dense[s->bin[i]] += s->count[i];
        *total += s->count[i];
    }
    if (s->n && s->bin[s->n - 1] > *hi) *hi = s->bin[s->n - 1];
}

/* The value at pct of a dense grid histogram; zeroes it on the way (the walk is the reset). */
static void acc_percentiles(uint64_t *dense, uint64_t total, uint16_t hi, double *out /* 4: p50 p90 p99 p99.9 */)
{
    static const double pcts[4] = {50, 90, 99, 99.9};
    uint64_t rank[4];
    for (int k = 0; k < 4; k++) {
        double r = ceil(pcts[k] / 100 * (double)total * (1 - 1e-12));
        rank[k] = r < 1 ? 1 : (uint64_t)r;
        out[k] = 0;
    }
    uint64_t cum = 0;
    int k = 0;
    for (uint32_t b = 0; b <= hi && total; b++) {
        if (!dense[b]) continue;
        uint64_t before = cum;
        cum += dense[b];
        /* Log-linear within the bin, by rank: a resample's percentile moves smoothly, not in 1 % steps. */
        while (k < 4 && cum >= rank[k]) {
            double frac = (double)(rank[k] - before) / (double)dense[b];
            out[k++] = b == 0 ? 0 : pow(CMP_GRID_RATIO, (double)b - 1 + frac);
        }
        dense[b] = 0;
    }
}

/* One resample of a side: fills stat[CMP_NFIG]. */
static void resample(struct blocks *const *bl, size_t nruns, uint64_t *rng, struct acc *a, double *stat)
{
    a->lat_total = a->svc_total = a->done = a->errors = a->rate_done = a->rate_secs = 0;
    a->lat_hi = a->svc_hi = 0;
    for (size_t k = 0; k < nruns; k++) {
        const struct blocks *b = bl[nruns > 1 ? rng_below(rng, nruns) : 0];
        if (!b || !b->n) continue;
        for (size_t d = 0; d < b->draws; d++) {
            size_t i = rng_below(rng, b->n);
            acc_add_sparse(a->lat, &a->lat_total, &a->lat_hi, &b->b[i].lat);
            acc_add_sparse(a->svc, &a->svc_total, &a->svc_hi, &b->b[i].svc);
            a->done += b->b[i].done;
            a->errors += b->b[i].errors;
            a->rate_done += b->rate_done[i];
            a->rate_secs += b->rate_secs[i];
        }
    }
    acc_percentiles(a->lat, a->lat_total, a->lat_hi, &stat[CMP_LAT_P50]);
    acc_percentiles(a->svc, a->svc_total, a->svc_hi, &stat[CMP_SVC_P50]);
    stat[CMP_ERR_RATE] = a->done ? (double)a->errors / (double)a->done : 0;
    stat[CMP_RATE] = a->rate_secs ? (double)a->rate_done / (double)a->rate_secs : 0;
}

/* ----------------------------------------------------------- one scope */

/* A scope across one side's runs: blocks, exact totals, sums. */
struct side {
    struct blocks *bl[64];
    struct blocks store[64];
    size_t nruns, min_secs;
    struct hist lat, svc;
    bool has_svc;
    uint64_t done, errors, rate_done, rate_secs;
    double *stat;              /* resamples × CMP_NFIG */
    double grid_all[CMP_NFIG]; /* every figure on the grid, from all seconds once */
};

/* The scope called name in r, or NULL ("" is the whole run). */
static const struct cmp_scope *find_scope(const struct cmp_run *r, const char *name)
{
    for (size_t i = 0; i < r->nscopes; i++)
        if (strcmp(r->scopes[i].name, name) == 0) return &r->scopes[i];
    return NULL;
}

/* The figures of all seconds of all runs on the grid (what the resamples scatter around). */
static void grid_all(struct side *sd, const struct cmp_run *const *runs, const char *name, struct acc *a)
{
    a->lat_total = a->svc_total = 0;
    a->lat_hi = a->svc_hi = 0;
    for (size_t i = 0; i < sd->nruns; i++) {
        const struct cmp_scope *s = find_scope(runs[i], name);
        for (size_t k = 0; s && k < s->nsec; k++) {
            acc_add_sparse(a->lat, &a->lat_total, &a->lat_hi, &s->sec[k].lat);
            acc_add_sparse(a->svc, &a->svc_total, &a->svc_hi, &s->sec[k].svc);
        }
    }
    acc_percentiles(a->lat, a->lat_total, a->lat_hi, &sd->grid_all[CMP_LAT_P50]);
    acc_percentiles(a->svc, a->svc_total, a->svc_hi, &sd->grid_all[CMP_SVC_P50]);
}

static void side_init(struct side *sd, const struct cmp_run *const *runs, size_t n, const char *name,
                      const struct cmp_options *opt, uint64_t *rng, uint64_t *dense, struct acc *a)
{
    memset(sd, 0, sizeof(*sd));
    hist_init(&sd->lat, HIST_STD_LOWEST, HIST_STD_HIGHEST, HIST_STD_SIGFIG);
    hist_init(&sd->svc, HIST_STD_LOWEST, HIST_STD_HIGHEST, HIST_STD_SIGFIG);
    sd->nruns = n < 64 ? n : 64;
    sd->min_secs = SIZE_MAX;
    sd->has_svc = true;
    for (size_t i = 0; i < sd->nruns; i++) {
        const struct cmp_scope *s = find_scope(runs[i], name);
        if (!s) continue;
        blocks_init(&sd->store[i], s, dense);
        sd->bl[i] = &sd->store[i];
        if (s->nsec < sd->min_secs) sd->min_secs = s->nsec;
        hist_add(&sd->lat, &s->lat);
        hist_add(&sd->svc, &s->svc);
        sd->has_svc &= s->has_svc;
        for (size_t k = 0; k < s->nsec; k++) {
            sd->done += s->sec[k].done;
            sd->errors += s->sec[k].errors;
            sd->rate_done += s->sec[k].in_rate ? s->sec[k].done : 0;
            sd->rate_secs += s->sec[k].in_rate;
        }
    }
    if (sd->min_secs == SIZE_MAX) sd->min_secs = 0;
    grid_all(sd, runs, name, a);
    sd->stat = malloc((size_t)opt->resamples * CMP_NFIG * sizeof(double));
    if (!sd->stat) abort();
    for (unsigned r = 0; r < opt->resamples; r++)
        resample(sd->bl, sd->nruns, rng, a, &sd->stat[(size_t)r * CMP_NFIG]);
}

static void side_release(struct side *sd)
{
    for (size_t i = 0; i < sd->nruns; i++)
        if (sd->bl[i]) blocks_release(sd->bl[i]);
    hist_release(&sd->lat);
    hist_release(&sd->svc);
    free(sd->stat);
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

/* Why figure f cannot be judged on these sides, or NULL. */
static const char *inconclusive_why(const struct side *b, const struct side *c, enum cmp_fig f, char *buf, size_t n)
{
    if (b->min_secs < CMP_MIN_SECONDS || c->min_secs < CMP_MIN_SECONDS) {
        snprintf(buf, n, "a run has fewer than %d seconds", CMP_MIN_SECONDS);
        return buf;
    }
    if (figs[f].kind == K_SVC && (!b->has_svc || !c->has_svc)) return "no service time per second";
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
static void row_fill(struct cmp_row *row, const struct side *b, const struct side *c, enum cmp_fig f,
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
    char buf[96];
    const char *why = inconclusive_why(b, c, f, buf, sizeof(buf));
    if (!why && row->base <= 0 && !pp) why = "baseline is 0";
    row->verdict = why ? CMP_INCONCLUSIVE : judge(row, opt->noise[f]);
    snprintf(row->why, sizeof(row->why), "%s", why ? why : "");
}

/* Compares one scope; appends its rows to out. */
static void compare_scope(const struct cmp_run *const *base, size_t nb, const struct cmp_run *const *cand, size_t nc,
                          const char *name, const struct cmp_options *opt, uint64_t *rng, struct cmp_result *out)
{
    static _Thread_local uint64_t dense[GRID_BINS];
    struct acc *a = calloc(1, sizeof(*a));
    double *rel = malloc(opt->resamples * sizeof(double)), *abs_d = malloc(opt->resamples * sizeof(double));
    if (!a || !rel || !abs_d) abort();
    struct side *b = malloc(sizeof(*b)), *c = malloc(sizeof(*c));
    if (!b || !c) abort();
    side_init(b, base, nb, name, opt, rng, dense, a);
    side_init(c, cand, nc, name, opt, rng, dense, a);
    for (int f = 0; f < CMP_NFIG; f++) {
        if (name[0] && !cmp_fig_per_name(f)) continue;
        struct cmp_row *row = &out->rows[out->nrows++];
        snprintf(row->scope, sizeof(row->scope), "%s", name);
        row_fill(row, b, c, f, opt, rel, abs_d);
    }
    side_release(b);
    side_release(c);
    free(b);
    free(c);
    free(a);
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
    /* Names: those of the first baseline run that the first candidate run has too. */
    for (size_t i = 0; i < base[0]->nscopes; i++) {
        const char *name = base[0]->scopes[i].name;
        if (!name[0] || !find_scope(cand[0], name)) continue;
        if (out->nrows + CMP_NFIG > sizeof(out->rows) / sizeof(out->rows[0])) break;
        compare_scope(base, nb, cand, nc, name, opt, &rng, out);
    }
    return 0;
}

const struct cmp_row *cmp_result_row(const struct cmp_result *r, enum cmp_fig f)
{
    for (size_t i = 0; i < r->nrows; i++)
        if (!r->rows[i].scope[0] && r->rows[i].fig == f) return &r->rows[i];
    return NULL;
}

/*
 * compare_boot.c — grid, moving blocks and resamples of `salvo compare`
 * (see compare_boot.h; the method is docs/compare.md's).
 *
 * A resample's percentile is read the fast way from the blocks' windows:
 * each block keeps, per kind and percentile, the cumulative counts of the
 * CMP_WIN grid bins of the window and the count below it. The resample's
 * cumulative count at window bin j is the sum over the drawn blocks, so a
 * binary search over j finds the first bin reaching the rank in
 * log2(CMP_WIN) passes over the drawn blocks. The full way (every bin of
 * every drawn block added into a dense grid, then walked) is the fallback
 * and the reference; both interpolate the same way inside the same bin.
 */
#include "report/compare_boot.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/hist_codec.h"

static const double pcts[CMP_NPCT] = {50, 90, 99, 99.9};

/* ----------------------------------------------------------- the grid */

/* The grid bin of a value in µs. */
static uint16_t grid_bin(double v)
{
    if (v < 1) return 0;
    double b = 1 + floor(log(v) / log(CMP_GRID_RATIO));
    return b >= CMP_GRID_BINS - 1 ? CMP_GRID_BINS - 1 : (uint16_t)b;
}

/* The value a percentile inside bin b takes at fraction frac of its count. */
static double grid_value(uint32_t b, double frac)
{
    return b == 0 ? 0 : pow(CMP_GRID_RATIO, (double)b - 1 + frac);
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

/* s becomes a copy of the first n entries of tmp. */
static void sparse_copy(struct cmp_sparse *s, const struct cmp_sparse *tmp)
{
    sparse_alloc(s, tmp->n);
    memcpy(s->bin, tmp->bin, tmp->n * sizeof(*tmp->bin));
    memcpy(s->count, tmp->count, tmp->n * sizeof(*tmp->count));
    s->n = tmp->n;
}

void cmp_sparse_release(struct cmp_sparse *s)
{
    free(s->bin);
    free(s->count);
    s->bin = NULL;
    s->count = NULL;
    s->n = 0;
}

void cmp_sparse_from_hist(struct cmp_sparse *s, const struct hist *h)
{
    uint16_t bins[CMP_GRID_BINS];
    uint64_t counts[CMP_GRID_BINS];
    struct cmp_sparse tmp = {0, bins, counts};
    struct hist_iter it;
    if (h && h->total_count)
        for (hist_iter_init(&it, h); hist_iter_next(&it);)
            sparse_push(&tmp, grid_bin(((double)it.value_lo + (double)it.value) / 2), (uint64_t)it.count);
    sparse_copy(s, &tmp);
}

/* The grid bin of the counter at index of layout h (its midpoint's bin). */
static uint16_t index_bin(const struct hist *h, int32_t index)
{
    int64_t lo = hist_value_at_index(h, index);
    return grid_bin(((double)lo + (double)hist_highest_equivalent(h, lo)) / 2);
}

#define STD_COUNTERS 32768 /* at least the standard layout's 23 552 */

/*
 * The bin of a counter. For the standard layout (every salvo histogram) a
 * table of all its counters, built once per thread, saves the log per count
 * that was most of decoding a results file.
 */
static uint16_t counter_bin(const struct hist *h, int32_t index)
{
    static _Thread_local uint16_t std_bin[STD_COUNTERS];
    static _Thread_local bool std_ready;
    if (h->lowest_trackable != HIST_STD_LOWEST || h->highest_trackable != HIST_STD_HIGHEST ||
        h->significant_figures != HIST_STD_SIGFIG || h->counts_len > STD_COUNTERS)
        return index_bin(h, index);
    if (!std_ready) {
        for (int32_t i = 0; i < h->counts_len; i++)
            std_bin[i] = index_bin(h, i);
        std_ready = true;
    }
    return std_bin[index];
}

static void push_count(void *arg, const struct hist *layout, int32_t index, int64_t count)
{
    sparse_push(arg, counter_bin(layout, index), (uint64_t)count);
}

int cmp_sparse_from_b64(struct cmp_sparse *s, const char *b64)
{
    uint16_t bins[CMP_GRID_BINS];
    uint64_t counts[CMP_GRID_BINS];
    struct cmp_sparse tmp = {0, bins, counts}; /* values come in increasing order: at most one entry a bin */
    int rc = b64 ? hist_decode_base64_each(b64, push_count, &tmp, NULL) : 0;
    if (rc < 0) tmp.n = 0;
    sparse_copy(s, &tmp);
    return rc < 0 ? -EINVAL : 0;
}

/* ----------------------------------------------------------- scopes */

/* One more second in s, its histograms still empty. */
static struct cmp_second *second_push(struct cmp_scope *s, uint64_t done, uint64_t errors, bool in_rate)
{
    if (s->nsec == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        struct cmp_second *n = realloc(s->sec, cap * sizeof(*s->sec));
        if (!n) abort();
        s->sec = n;
        s->cap = cap;
    }
    struct cmp_second *sec = &s->sec[s->nsec++];
    memset(sec, 0, sizeof(*sec));
    sec->done = done;
    sec->errors = errors;
    sec->in_rate = in_rate;
    return sec;
}

int cmp_scope_add_second(struct cmp_scope *s, const struct hist *lat, const struct hist *svc, uint64_t done,
                         uint64_t errors, bool in_rate)
{
    struct cmp_second *sec = second_push(s, done, errors, in_rate);
    cmp_sparse_from_hist(&sec->lat, lat);
    cmp_sparse_from_hist(&sec->svc, svc);
    return 0;
}

int cmp_scope_add_second_b64(struct cmp_scope *s, const char *lat, const char *svc, uint64_t done, uint64_t errors,
                             bool in_rate)
{
    struct cmp_second *sec = second_push(s, done, errors, in_rate);
    int rl = cmp_sparse_from_b64(&sec->lat, lat), rs = cmp_sparse_from_b64(&sec->svc, svc);
    return rl < 0 || rs < 0 ? -EINVAL : 0;
}

/* ----------------------------------------------------------- blocks */

/* Adds the sparse arrays of the circular block's seconds (from, len of them, wrapping at nsec) into one. */
static void block_sum(struct cmp_sparse *out, const struct cmp_scope *scope, size_t from, size_t len, int kind,
                      uint64_t *dense)
{
    uint16_t lo = CMP_GRID_BINS - 1, hi = 0;
    for (size_t k = 0; k < len; k++) {
        const struct cmp_second *sec = &scope->sec[(from + k) % scope->nsec];
        const struct cmp_sparse *s = kind ? &sec->svc : &sec->lat;
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

/* Block i's window rows of one kind: below-counts and cumulative window counts. */
static void block_windows(struct cmp_blocks *bl, size_t i, int kind, const struct cmp_windows *w)
{
    const struct cmp_sparse *s = kind ? &bl->b[i].svc : &bl->b[i].lat;
    uint64_t *below = &bl->below[kind][i * CMP_NPCT];
    uint32_t *win = &bl->win[kind][i * CMP_NPCT * CMP_WIN];
    uint64_t prefix[CMP_GRID_BINS + 1]; /* prefix[e]: the count of the entries before e */
    prefix[0] = 0;
    for (uint32_t e = 0; e < s->n; e++)
        prefix[e + 1] = prefix[e] + s->count[e];
    for (int k = 0; k < CMP_NPCT; k++) {
        uint32_t *row = &win[k * CMP_WIN], lo = w->lo[kind][k];
        uint32_t first = 0, last = s->n; /* the first entry at or above the window: bins are sorted */
        while (first < last) {
            uint32_t mid = (first + last) / 2;
            if (s->bin[mid] < lo)
                first = mid + 1;
            else
                last = mid;
        }
        below[k] = prefix[first];
        for (uint32_t e = first; e < s->n && s->bin[e] < lo + CMP_WIN; e++)
            row[s->bin[e] - lo] = (uint32_t)s->count[e];
        for (int j = 1; j < CMP_WIN; j++)
            row[j] += row[j - 1];
    }
}

/* The nsec circular blocks of len seconds of s, pre-added, with their windows. */
static void block_set_init(struct cmp_blocks *bl, const struct cmp_scope *s, size_t len, const struct cmp_windows *w)
{
    static _Thread_local uint64_t dense[CMP_GRID_BINS];
    bl->len = len;
    bl->n = s->nsec;
    size_t n = bl->n ? bl->n : 1;
    bl->b = calloc(n, sizeof(*bl->b));
    bl->rate_done = calloc(n, sizeof(*bl->rate_done));
    bl->rate_secs = calloc(n, sizeof(*bl->rate_secs));
    if (!bl->b || !bl->rate_done || !bl->rate_secs) abort();
    uint64_t most[CMP_NKIND] = {0, 0};
    for (int kind = 0; kind < CMP_NKIND; kind++) {
        bl->total[kind] = calloc(n, sizeof(uint64_t));
        if (!bl->total[kind]) abort();
    }
    for (size_t i = 0; i < bl->n; i++) {
        for (int kind = 0; kind < CMP_NKIND; kind++) {
            struct cmp_sparse *sum = kind ? &bl->b[i].svc : &bl->b[i].lat;
            block_sum(sum, s, i, bl->len, kind, dense);
            for (uint32_t e = 0; e < sum->n; e++)
                bl->total[kind][i] += sum->count[e];
            if (bl->total[kind][i] > most[kind]) most[kind] = bl->total[kind][i];
        }
        for (size_t k = 0; k < bl->len; k++) {
            const struct cmp_second *sec = &s->sec[(i + k) % s->nsec];
            bl->b[i].done += sec->done;
            bl->b[i].errors += sec->errors;
            if (!sec->in_rate) continue;
            bl->rate_done[i] += sec->done;
            bl->rate_secs[i]++;
        }
    }
    for (int kind = 0; kind < CMP_NKIND; kind++) {
        /* Window counts are 32-bit: a block of more than 4 G requests (never seen) goes the full way. */
        if (w->off || most[kind] > UINT32_MAX) continue;
        bl->below[kind] = calloc(n * CMP_NPCT, sizeof(uint64_t));
        bl->win[kind] = calloc(n * CMP_NPCT * CMP_WIN, sizeof(uint32_t));
        if (!bl->below[kind] || !bl->win[kind]) abort();
        for (size_t i = 0; i < bl->n; i++)
            block_windows(bl, i, kind, w);
    }
}

void cmp_blocks_init(struct cmp_blocks *bl, const struct cmp_scope *s, const struct cmp_windows *w)
{
    memset(bl, 0, sizeof(*bl));
    size_t len = (size_t)ceil(cbrt((double)s->nsec));
    if (len < 1) len = 1;
    block_set_init(bl, s, len, w);
    /* A resample is exactly nsec seconds long: floor(n / L) whole blocks and one of the rest. */
    bl->draws = s->nsec / len;
    if (s->nsec % len == 0) return;
    bl->tail = calloc(1, sizeof(*bl->tail));
    if (!bl->tail) abort();
    block_set_init(bl->tail, s, s->nsec % len, w);
    bl->tail->draws = 1;
}

void cmp_blocks_release(struct cmp_blocks *bl)
{
    if (!bl) return;
    if (bl->tail) {
        cmp_blocks_release(bl->tail);
        free(bl->tail);
    }
    for (size_t i = 0; i < bl->n; i++) {
        cmp_sparse_release(&bl->b[i].lat);
        cmp_sparse_release(&bl->b[i].svc);
    }
    free(bl->b);
    free(bl->rate_done);
    free(bl->rate_secs);
    for (int kind = 0; kind < CMP_NKIND; kind++) {
        free(bl->total[kind]);
        free(bl->below[kind]);
        free(bl->win[kind]);
    }
    memset(bl, 0, sizeof(*bl));
}

/* ----------------------------------------------------------- resampling */

/* One drawn block. */
struct pick {
    const struct cmp_blocks *b;
    size_t i;
};

struct cmp_acc {
    uint64_t dense[CMP_GRID_BINS];
    size_t cap, npicks;
    struct pick *pick;    /* cap: the blocks drawn */
    const uint32_t **row; /* cap: their window rows of the percentile at hand */
};

struct cmp_acc *cmp_acc_new(size_t max_picks)
{
    struct cmp_acc *a = calloc(1, sizeof(*a));
    if (!a) abort();
    a->cap = max_picks ? max_picks : 1;
    a->pick = malloc(a->cap * sizeof(*a->pick));
    a->row = malloc(a->cap * sizeof(*a->row));
    if (!a->pick || !a->row) abort();
    return a;
}

void cmp_acc_free(struct cmp_acc *a)
{
    if (!a) return;
    free(a->pick);
    free(a->row);
    free(a);
}

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

/* The rank of each percentile among total values. */
static void ranks(uint64_t total, uint64_t *rank)
{
    for (int k = 0; k < CMP_NPCT; k++) {
        double r = ceil(pcts[k] / 100 * (double)total * (1 - 1e-12));
        rank[k] = r < 1 ? 1 : (uint64_t)r;
    }
}

/* The four percentiles of a dense grid histogram; zeroes it on the way (the walk is the reset). */
static void dense_percentiles(uint64_t *dense, uint64_t total, uint32_t hi, double *out, uint16_t *bin_out)
{
    uint64_t rank[CMP_NPCT];
    ranks(total, rank);
    for (int k = 0; k < CMP_NPCT; k++) {
        out[k] = 0;
        if (bin_out) bin_out[k] = 0;
    }
    uint64_t cum = 0;
    int k = 0;
    for (uint32_t b = 0; b <= hi && total; b++) {
        if (!dense[b]) continue;
        uint64_t before = cum;
        cum += dense[b];
        /* Log-linear within the bin, by rank: a resample's percentile moves smoothly, not in 1 % steps. */
        for (; k < CMP_NPCT && cum >= rank[k]; k++) {
            out[k] = grid_value(b, (double)(rank[k] - before) / (double)dense[b]);
            if (bin_out) bin_out[k] = (uint16_t)b;
        }
        dense[b] = 0;
    }
}

/* Adds s into the dense grid; returns the highest bin (or hi, if higher). */
static uint32_t dense_add(uint64_t *dense, uint64_t *total, uint32_t hi, const struct cmp_sparse *s)
{
    for (uint32_t i = 0; i < s->n; i++) {
        dense[s->bin[i]] += s->count[i];
        *total += s->count[i];
    }
    return s->n && s->bin[s->n - 1] > hi ? s->bin[s->n - 1] : hi;
}

/* The four percentiles of kind over the picks, the full way. */
static void picks_full(struct cmp_acc *a, int kind, double *out)
{
    uint64_t total = 0;
    uint32_t hi = 0;
    for (size_t p = 0; p < a->npicks; p++) {
        const struct cmp_second *blk = &a->pick[p].b->b[a->pick[p].i];
        hi = dense_add(a->dense, &total, hi, kind ? &blk->svc : &blk->lat);
    }
    dense_percentiles(a->dense, total, hi, out, NULL);
}

/* The resample's cumulative count at window bin j: below plus the drawn blocks' rows at j. */
static uint64_t rows_cum(const uint32_t *const *row, size_t n, uint64_t below, int j)
{
    uint64_t sum = below;
    for (size_t p = 0; p < n; p++)
        sum += row[p][j];
    return sum;
}

/* The four percentiles of kind over the picks from the windows; false when one lies outside its window. */
static bool picks_windowed(struct cmp_acc *a, int kind, const struct cmp_windows *w, double *out)
{
    uint64_t total = 0, rank[CMP_NPCT];
    for (size_t p = 0; p < a->npicks; p++) {
        if (!a->pick[p].b->win[kind]) return false;
        total += a->pick[p].b->total[kind][a->pick[p].i];
    }
    if (!total) {
        memset(out, 0, CMP_NPCT * sizeof(*out));
        return true;
    }
    ranks(total, rank);
    for (int k = 0; k < CMP_NPCT; k++) {
        uint64_t below = 0;
        for (size_t p = 0; p < a->npicks; p++) {
            const struct cmp_blocks *b = a->pick[p].b;
            size_t at = a->pick[p].i * CMP_NPCT + (size_t)k;
            below += b->below[kind][at];
            a->row[p] = &b->win[kind][at * CMP_WIN];
        }
        /* Invariant: cum(lo - 1) = before < rank <= cum(hi) = at_hi (cum(-1) is below). */
        uint64_t before = below, at_hi = rows_cum(a->row, a->npicks, below, CMP_WIN - 1);
        if (below >= rank[k] || at_hi < rank[k]) return false;
        int lo = 0, hi = CMP_WIN - 1;
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            uint64_t c = rows_cum(a->row, a->npicks, below, mid);
            if (c >= rank[k]) {
                hi = mid;
                at_hi = c;
            } else {
                lo = mid + 1;
                before = c;
            }
        }
        out[k] = grid_value(w->lo[kind][k] + (uint32_t)lo, (double)(rank[k] - before) / (double)(at_hi - before));
    }
    return true;
}

unsigned cmp_resample(struct cmp_blocks *const *bl, size_t nruns, const struct cmp_windows *w, uint64_t *rng,
                      struct cmp_acc *a, double *stat)
{
    uint64_t done = 0, errors = 0, rate_done = 0, rate_secs = 0;
    a->npicks = 0;
    for (size_t k = 0; k < nruns; k++) {
        const struct cmp_blocks *run = bl[nruns > 1 ? rng_below(rng, nruns) : 0];
        if (!run || !run->n) continue;
        for (size_t d = 0; d < run->draws + (run->tail != NULL) && a->npicks < a->cap; d++) {
            const struct cmp_blocks *b = d < run->draws ? run : run->tail;
            size_t i = rng_below(rng, b->n);
            a->pick[a->npicks++] = (struct pick){b, i};
            done += b->b[i].done;
            errors += b->b[i].errors;
            rate_done += b->rate_done[i];
            rate_secs += b->rate_secs[i];
        }
    }
    unsigned full = 0;
    for (int kind = 0; kind < CMP_NKIND; kind++) {
        double *out = &stat[kind ? CMP_SVC_P50 : CMP_LAT_P50];
        if (w->off || !picks_windowed(a, kind, w, out)) {
            picks_full(a, kind, out);
            full++;
        }
    }
    stat[CMP_ERR_RATE] = done ? (double)errors / (double)done : 0;
    stat[CMP_RATE] = rate_secs ? (double)rate_done / (double)rate_secs : 0;
    return full;
}

void cmp_grid_all(struct cmp_acc *a, const struct cmp_scope *const *scopes, size_t n, double *stat,
                  struct cmp_windows *w)
{
    for (int kind = 0; kind < CMP_NKIND; kind++) {
        uint64_t total = 0;
        uint32_t hi = 0;
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; scopes[i] && k < scopes[i]->nsec; k++)
                hi = dense_add(a->dense, &total, hi, kind ? &scopes[i]->sec[k].svc : &scopes[i]->sec[k].lat);
        uint16_t bins[CMP_NPCT];
        dense_percentiles(a->dense, total, hi, &stat[kind ? CMP_SVC_P50 : CMP_LAT_P50], bins);
        for (int k = 0; k < CMP_NPCT; k++) {
            int lo = (int)bins[k] - CMP_WIN / 2;
            if (lo < 0) lo = 0;
            if (lo > CMP_GRID_BINS - CMP_WIN) lo = CMP_GRID_BINS - CMP_WIN;
            w->lo[kind][k] = (uint16_t)lo;
        }
    }
}

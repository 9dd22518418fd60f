/*
 * compare_boot.h — the resampling engine under `salvo compare`: per-second
 * histograms on a log grid, circular blocks of seconds, and one bootstrap
 * resample of a side (compare.c turns the resamples into intervals).
 *
 * Why a grid: a resample adds ~n/L blocks of histograms and reads four
 * percentiles off the sum, 1000 times per side and scope; HDR's 23 552
 * counters would make that far too slow, CMP_GRID_RATIO-wide log bins
 * (1 %) keep it cheap and far finer than any noise floor.
 *
 * Why windows: adding every bin of every drawn block (a block of 9 seconds
 * of a spread-out service holds a few hundred bins) was still most of the
 * time of a ten-name comparison. A resample's percentile lies near the
 * percentile of the whole side, so each block also keeps its counts in a
 * window of CMP_WIN bins around each of the side's four grid percentiles,
 * plus the count below the window: a resample then adds CMP_WIN counts per
 * block and percentile (contiguous, vectorised) instead of every bin. When
 * a resample's rank falls outside its window (a heavy tail, a bimodal
 * service), that resample is recomputed the full way. Both ways give the
 * same figure, bit for bit: the windows only skip bins that cannot matter.
 *
 * The per-second data of a run (struct cmp_scope) is defined here, below
 * compare.h, which adds the runs, options and results.
 *
 * Ownership: cmp_blocks_init allocates, cmp_blocks_release frees; a
 * struct cmp_acc (cmp_acc_new/cmp_acc_free) is the scratch of resamples.
 * Nothing here prints or keeps global state; the RNG state is the caller's.
 */
#ifndef SALVO_COMPARE_BOOT_H
#define SALVO_COMPARE_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/hist.h"

#define CMP_GRID_RATIO 1.01 /* width of a bootstrap grid bin */
/* Bins of the grid: 1 µs .. 1 h at CMP_GRID_RATIO (2200 bins), plus bin 0 for values below 1 µs. */
#define CMP_GRID_BINS 2300
#define CMP_WIN 64  /* bins of a percentile window: ±32 bins, ×/÷ 1.37 around the side's percentile */
#define CMP_NPCT 4  /* p50, p90, p99, p99.9 */
#define CMP_NKIND 2 /* latency, service time */

/* The figures compared, in table order. */
enum cmp_fig {
    CMP_LAT_P50,
    CMP_LAT_P90,
    CMP_LAT_P99,
    CMP_LAT_P999,
    CMP_SVC_P50,
    CMP_SVC_P90,
    CMP_SVC_P99,
    CMP_SVC_P999,
    CMP_ERR_RATE,
    CMP_RATE,
    CMP_NFIG
};

/* Sparse counts on the bootstrap grid. */
struct cmp_sparse {
    uint32_t n;
    uint16_t *bin;
    uint64_t *count;
};

/* One second of one scope. */
struct cmp_second {
    struct cmp_sparse lat, svc;
    uint64_t done, errors;
    bool in_rate; /* within the sending phase: counts towards the achieved rate */
};

/* The run as a whole (scope 0) or one request name, in one run. */
struct cmp_scope {
    char name[128];
    size_t nsec, cap;
    struct cmp_second *sec;
    struct hist lat, svc; /* exact totals, for the point values */
    bool has_svc;         /* service time per second (the whole run only) */
    bool has_counts;      /* responses and errors per second (the whole run; names of newer results) */
};

/*
 * Adds one second to scope s from its histograms (svc may be NULL).
 * Returns 0. Used by the JSON loader and by tests.
 */
int cmp_scope_add_second(struct cmp_scope *s, const struct hist *lat, const struct hist *svc, uint64_t done,
                         uint64_t errors, bool in_rate);
/*
 * The same from base64 HdrHistogram V2 text (either may be NULL: none),
 * decoded straight onto the grid without building the histograms. Returns
 * 0, or -EINVAL when one does not decode (the second is added, empty there).
 */
int cmp_scope_add_second_b64(struct cmp_scope *s, const char *lat, const char *svc, uint64_t done, uint64_t errors,
                             bool in_rate);
/* h reduced to the grid (h may be NULL: empty), in one walk of its buckets. */
void cmp_sparse_from_hist(struct cmp_sparse *s, const struct hist *h);
/* A base64 HdrHistogram V2 text onto the grid, without building the
 * histogram (NULL: empty). Returns 0, or -EINVAL (s then empty). */
int cmp_sparse_from_b64(struct cmp_sparse *s, const char *b64);
/* Frees what the two above allocated; an empty or released one is fine. */
void cmp_sparse_release(struct cmp_sparse *s);

/* Where a side's percentile windows start, per kind and percentile. */
struct cmp_windows {
    uint16_t lo[CMP_NKIND][CMP_NPCT];
    bool off; /* no windows: every resample the full way (the tests' reference) */
};

/*
 * The circular blocks of one scope of one run, pre-added: one starting at
 * every second, wrapping from the last second to the first (Politis and
 * Romano's circular block bootstrap: every second is in L blocks, the
 * first and last too). A resample draws `draws` blocks of len seconds and
 * one of the tail set (len: the remaining nsec mod L seconds), so it is
 * exactly as long as the run.
 */
struct cmp_blocks {
    size_t len, n, draws;       /* block length, number of blocks (= seconds), blocks drawn per resample */
    struct cmp_blocks *tail;    /* the shorter blocks of the rest, or NULL when L divides the seconds */
    struct cmp_second *b;       /* n blocks; done/errors summed; in_rate unused */
    uint64_t *rate_done;        /* per block: responses in sending-phase seconds */
    uint32_t *rate_secs;        /* per block: sending-phase seconds */
    uint64_t *total[CMP_NKIND]; /* per block: its count */
    uint64_t *below[CMP_NKIND]; /* per block and percentile: count below the window */
    uint32_t *win[CMP_NKIND];   /* per block and percentile: CMP_WIN counts; NULL: no windows */
};

/* The blocks of s (L = ceil(cbrt(seconds))), with their windows at w; the tail set too. */
void cmp_blocks_init(struct cmp_blocks *bl, const struct cmp_scope *s, const struct cmp_windows *w);
void cmp_blocks_release(struct cmp_blocks *bl);

/* Scratch of one resample: dense grid sums and the blocks drawn. */
struct cmp_acc;

/* For resamples drawing at most max_picks blocks in all. */
struct cmp_acc *cmp_acc_new(size_t max_picks);
void cmp_acc_free(struct cmp_acc *a);

/*
 * The grid percentiles of every second of the n scopes (NULL entries are
 * skipped): values (µs) into stat[CMP_LAT_P50..], stat[CMP_SVC_P50..], and
 * the windows centred on them into w.
 */
void cmp_grid_all(struct cmp_acc *a, const struct cmp_scope *const *scopes, size_t n, double *stat,
                  struct cmp_windows *w);

/*
 * One resample of a side of nruns runs (bl[i] NULL: the run lacks the
 * scope): draws nruns runs with replacement (one run: always it), from
 * each its blocks with replacement, and fills stat[CMP_NFIG]. Returns how
 * many of the side's percentile groups (kinds) needed the full way.
 */
unsigned cmp_resample(struct cmp_blocks *const *bl, size_t nruns, const struct cmp_windows *w, uint64_t *rng,
                      struct cmp_acc *a, double *stat);

#endif

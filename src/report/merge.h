/*
 * merge.h — the results of the shards of one run, added into one result.
 *
 * A run split with `--shard K/N` leaves N results JSON, one per process or
 * pod. Percentiles of different shards cannot be averaged (the p99 of two
 * halves says nothing exact about the p99 of the whole), but the embedded
 * HdrHistograms can be added bucket by bucket, and every count simply adds.
 * So the merged result is written in the same results contract as a single
 * run and every other consumer (thresholds, the HTML report, CI scripts)
 * reads it unchanged. docs/distributed.md lists what is exact and what is
 * not (per-second percentiles, kernel counters of shards sharing a host).
 *
 * Results are checked as they are added: they must be salvo results of the
 * same run (same run_id, same config.shards and the same schedule-defining
 * configuration) and no shard index may come twice. A shard that was never
 * added is not an error: the merged result names it in "missing_shards".
 *
 * Ownership: struct merge is caller-owned (merge_init / merge_release); it
 * keeps a reference to every added result until merge_release. Nothing here
 * prints or exits. Meant for report time, not for the hot path: every
 * histogram is decoded once to be checked and once more to be added.
 */
#ifndef SALVO_MERGE_H
#define SALVO_MERGE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "report/thresholds.h"

/* The shard results added so far, ordered by shard index. */
struct merge {
    json_t **results;   /* one reference each, sorted by shard index */
    const char **names; /* the caller's names, borrowed, parallel to results */
    uint32_t *index;    /* config.shard of each result */
    size_t n, cap;
    uint32_t nshards; /* config.shards shared by all; 0 before the first add */
    uint8_t *seen;    /* nshards flags: which indices were added */
};

/* Sets up an empty merge. */
void merge_init(struct merge *m);

/* Drops the references to the added results and frees m's memory; m may be NULL. */
void merge_release(struct merge *m);

/*
 * Adds one shard result. name (borrowed; must outlive m) names it in
 * messages, e.g. its file name. The result is refused with -EINVAL, and
 * why[0..why_cap) says why in salvo's message style, when it is not a salvo
 * result, its embedded histograms do not decode, its run_id, config.shards
 * or run-defining configuration differ from those added before, or its
 * shard index was added already. Returns 0 and takes a reference otherwise.
 */
int merge_add(struct merge *m, json_t *result, const char *name, char *why, size_t why_cap);

/*
 * Builds the merged result (new reference; NULL when nothing was added).
 * Counts are summed, percentiles recomputed from the summed histograms
 * (null where a shard carries no histogram for them), timelines aligned on
 * wall-clock seconds; "shards_merged" and "missing_shards" list indices,
 * config.shard is null and "thresholds" is empty.
 */
json_t *merge_result(const struct merge *m);

/*
 * thresholds_apply on a merged result, except that a threshold reading a
 * percentile the merge could not recompute (null) fails with a note instead
 * of reading the null as 0. Returns the number of failed thresholds.
 */
int merge_apply_thresholds(json_t *merged, const struct threshold *t, int n);

#endif

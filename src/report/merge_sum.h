/*
 * merge_sum.h — the shards' figures added into the merged ones: counters,
 * trends recomputed from summed histograms, timelines on wall-clock
 * seconds. Private to src/report/: only merge.c includes it, to assemble
 * the merged document (merge.h is the public side).
 *
 * Every function reads shard results that merge_add has checked (same
 * run, histograms that decode), handed over as a plain array so that this
 * file needs nothing of merge.c, and returns a new reference,
 * or fills objects the caller owns. A value copied from a shard as it is
 * (a timeline row's maximum) is shared by reference count, so what is
 * returned stays valid after merge_release. Nothing here prints or fails:
 * a section missing from a shard counts as empty.
 */
#ifndef SALVO_MERGE_SUM_H
#define SALVO_MERGE_SUM_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* The shard results to add, borrowed from the struct merge that checked them; n >= 1. */
struct merge_shards {
    json_t *const *results; /* sorted by shard index */
    size_t n;
};

/* How merge_over_shards combines the shards' values. */
enum merge_fold { FOLD_SUM, FOLD_MAX, FOLD_MIN };

/*
 * A new object with every number of the shards' result[key] added under
 * its own key (integers stay integers); with deep, nested objects are
 * added the same way, else skipped.
 */
json_t *merge_sum_member(const struct merge_shards *m, const char *key, bool deep);

/* The sum, max or min over the shards of the number result[parent][key]; parent NULL is the top level. */
double merge_over_shards(const struct merge_shards *m, const char *parent, const char *key, enum merge_fold fold);

/*
 * v as an integer, saturated to json_int_t's range (NaN is 0); and a + b,
 * saturated. Shards are untrusted JSON: a huge count or time must give a
 * huge figure, not undefined behaviour.
 */
json_int_t merge_int(double v);
json_int_t merge_int_add(json_int_t a, json_int_t b);

/*
 * Sets the top-level trends (latency_us, service_time_us, wait_us, ttfb_us,
 * connect_us) in o, each one only if some shard has it, and their summed
 * histograms (base64) in hdr where every such shard carries one; without,
 * the trend's percentiles are null.
 */
void merge_trends(const struct merge_shards *m, json_t *o, json_t *hdr);

/* A new "groups" object: every request name of any shard, counters added, latency from the summed histograms. */
json_t *merge_groups(const struct merge_shards *m);

/* A new "generator" object; the summed send-lag histogram goes into hdr when every shard carries one. */
json_t *merge_generator(const struct merge_shards *m, json_t *hdr);

/*
 * A new "timeline" array whose row t is the second starting start_ms + t
 * seconds (Unix ms); with several names, also each name's per-second
 * arrays (timeline_hdr_latency_us, timeline_done, timeline_errors) into
 * the merged groups (from merge_groups).
 */
json_t *merge_timeline(const struct merge_shards *m, json_int_t start_ms, json_t *groups);

#endif

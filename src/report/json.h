/*
 * json.h — the results JSON, the contract other verbs and tests read.
 *
 * Keys are those of architecture.md ("Results JSON"); latencies are in
 * microseconds. Full histograms are embedded as HdrHistogram V2 base64
 * ("hdr") so that sharded results can be added exactly later.
 */
#ifndef SALVO_JSON_H
#define SALVO_JSON_H

#include "core/hist.h"
#include "load/config.h"
#include "load/run.h"

#include <jansson.h>

/* Builds the result document (new reference; json_decref it). */
json_t *report_json_build(const struct run_config *cfg, const struct run_result *r);
/* Writes doc to path ("-" for stdout). Returns 0 or -EIO. */
int report_json_save(json_t *doc, const char *path);

/*
 * The summary of h as every trend in the results is written: {min, mean,
 * p50, p90, p99, p99_9, p99_99, max, count} in h's unit (µs throughout the
 * results). New reference. merge uses it for the merged trends, so that
 * they read exactly like a single run's.
 */
json_t *report_json_percentiles(const struct hist *h);

#endif

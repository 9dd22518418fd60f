/*
 * json.h — the results JSON, the contract other verbs and tests read.
 *
 * Keys are those of architecture.md ("Results JSON"); latencies are in
 * microseconds. Full histograms are embedded as HdrHistogram V2 base64
 * ("hdr") so that sharded results can be added exactly later.
 */
#ifndef SALVO_JSON_H
#define SALVO_JSON_H

#include "load/config.h"
#include "load/run.h"

/* Writes the result of cfg to path ("-" for stdout). Returns 0 or -errno. */
int report_json_write(const struct run_config *cfg, const struct run_result *r, const char *path);

#endif

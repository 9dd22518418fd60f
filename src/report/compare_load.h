/*
 * compare_load.h — what `salvo compare` reads from a results JSON.
 *
 * The loader turns one results document (salvo run or merge) into a struct
 * cmp_run: the whole run's per-second latency and service-time histograms
 * and counts (timeline[i]), and the per-second latency of each name that
 * has them (groups[name].timeline_hdr_latency_us, the 10 busiest names).
 * cmp_comparable says whether two results measured the same experiment.
 *
 * Ownership: the document is borrowed for the call only; the run's memory
 * is freed by cmp_run_release. Nothing prints.
 */
#ifndef SALVO_COMPARE_LOAD_H
#define SALVO_COMPARE_LOAD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "report/compare.h"

/*
 * Loads doc (read from path, kept for messages) into out. Returns 0, or
 * -EINVAL with why saying what is missing: not a salvo result, no timeline,
 * no per-second histograms, a histogram that does not decode.
 */
int cmp_run_from_json(const json_t *doc, const char *path, struct cmp_run *out, char *why, size_t cap);

/*
 * Whether results a and b may be compared: the same path, names, method,
 * rate, arrival, model, duration, threads, connections, data file, body,
 * stages (and protocol, script, checks where the results have them).
 * Returns 0 (*host_differs says whether the hosts differ, which is only a
 * warning), or -EINVAL with diff naming the first difference.
 */
int cmp_comparable(const json_t *a, const json_t *b, bool *host_differs, char *diff, size_t cap);

#endif

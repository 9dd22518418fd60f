/*
 * analysis.h — the figures derived from a judged run, and the verdict of a
 * result.
 *
 * A derived figure (a chaos window's baseline and recovery, the hints) is
 * computed once, here, right after the run is judged, and stored in the
 * run_result; the JSON writer only serializes it and every renderer (the
 * text summary, the HTML page, merge) reads it from the results JSON. A
 * serializer that computes would be a second source of truth.
 *
 * The verdict (PASS, FAIL, INVALID, ERROR, INTERRUPTED) and its exit code
 * follow the one table of architecture.md ("Outcomes, verdicts and exit
 * codes") and are read from a results JSON, so that run, merge and report
 * agree on the same result.
 */
#ifndef SALVO_ANALYSIS_H
#define SALVO_ANALYSIS_H

#include <jansson.h>
#include <stdbool.h>

#include "load/config.h"
#include "load/run.h"

/*
 * Fills r->windows and r->hints from r (timeline, chaos windows, recorder,
 * machine shares) and cfg. Call once, after run_execute; allocates nothing
 * that outlives the call.
 */
void run_analyse(const struct run_config *cfg, struct run_result *r);

/*
 * The baseline of a window starting at at_s, over the timeline rows: the
 * seconds that ended before it, had responses and were not inside any of
 * the nspans [start, end) spans in seconds. Exposed for the unit tests.
 */
struct window_figures analysis_window(const struct timeline_row *rows, size_t nrows, const double (*spans)[2],
                                      size_t nspans, size_t index);

/* A result's verdict word and the exit code that goes with it. */
struct verdict {
    const char *word; /* "PASS", "FAIL", "INVALID", "ERROR" or "INTERRUPTED" (static) */
    int exit_code;    /* 0, 99, 98, 1, 130 or 143 */
};

/*
 * The verdict of a results JSON, first rule that applies (architecture.md):
 * "interrupted" true: INTERRUPTED, 143 when "interrupted_by" is "SIGTERM",
 * else 130; a non-empty "runtime_error" string or a run that got no
 * response at all (ok + http_error + check_failed == 0 with requests
 * scheduled): ERROR 1; "valid" false without config.allow_invalid: INVALID
 * 98; a threshold with "pass" false: FAIL 99; else PASS 0. Never fails: a
 * document with missing keys reads as zeros and falses.
 */
struct verdict verdict_of(const json_t *result);

/* The verdict word that goes with an exit code (ERROR for unknown non-zero codes). */
const char *verdict_word(int exit_code);

/*
 * The arrivals this process's schedule meant to send in second t (a shard
 * its share; 0 in the closed model): the timeline's `intended`, also for the
 * live dashboard before the run is analysed.
 */
double analysis_intended_in(const struct run_config *cfg, uint32_t t);

#endif

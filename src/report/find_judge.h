/*
 * find_judge.h — whether one step of `salvo find` was sustainable.
 *
 * A step of S seconds skips its first quarter (warm-up: connections open,
 * caches fill, a queue left by nothing settles) and judges the rest, the
 * judged window, from the per-second intervals the run hands its hook:
 *   1. the generator was valid (else the step is an upper bound only),
 *      or its only faults were late sends and late reads (validity rules 1
 *      and 3), which only add to every latency: such a step that passes
 *      2-4 anyway passed with its lateness counted against it, and is a
 *      pass ("despite"); one that fails them is still an upper bound;
 *   2. every SLO holds over the judged window;
 *   3. every SLO holds over the second half of the judged window alone
 *      (a step that is fine on average but getting worse is not);
 *   4. in-flight is not growing (find_trend on the judged window's
 *      end-of-second in-flight counts).
 * SLOs on latency, errors, requests and rate without a {name=} filter are
 * judged on the window; any other figure (service_time, a per-name
 * figure) on the whole step's results, since the intervals do not carry it.
 */
#ifndef SALVO_REPORT_FIND_JUDGE_H
#define SALVO_REPORT_FIND_JUDGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/hist.h"
#include "load/find.h"
#include "load/recorder.h"
#include "report/thresholds.h"

#define FIND_WARMUP_SHARE 0.25 /* of each step, not judged */

/* What the judged window of one step saw, accumulated second by second. */
struct find_window {
    uint32_t warm_s, half_s, end_s; /* judged: [warm_s, end_s); second half: [half_s, end_s) */
    struct hist latency[2];         /* 0: judged window, 1: its second half */
    uint64_t sent[2], done[2], errors[2];
    double inflight[4096]; /* end-of-second in-flight over the judged window */
    size_t ninflight;
};

/* Prepares w for a step of step_s seconds. Returns 0 or -ENOMEM. */
int find_window_init(struct find_window *w, uint32_t step_s);
/* Adds second t (0-based since the step started); seconds outside the window are ignored. */
void find_window_second(struct find_window *w, uint32_t t, const struct interval *iv);
void find_window_release(struct find_window *w);

/*
 * Judges a step: writes why it failed (or "") into why and the judged
 * figures under step["find"]; returns the verdict.
 */
enum find_verdict find_judge(const struct threshold *slo, int nslo, json_t *step, const struct find_window *w,
                             double rate, char *why, size_t cap);

#endif

/*
 * summary.h — the text summary of a result, rendered from its results JSON.
 *
 * One renderer for every verb (run, merge, report; later find and compare),
 * so that the same result reads the same wherever it is printed. It reads
 * only the results JSON (architecture.md, "Results JSON"): keys that are
 * missing or null read as "n/a" or are left out, never as a crash.
 *
 * Layout: the one-line verdict first (PASS|FAIL|INVALID|ERROR|INTERRUPTED,
 * rate × duration, p50, p99, error share, thresholds passed/total), then
 * the detail: what was run, the percentile table (rows that only repeat
 * another are left out of a closed-model run), one row per request name,
 * outcomes, bytes, rate, pool, generator and kernel health, chaos windows,
 * hints, validity and thresholds. A closed-model run says, first and last,
 * that its latency is subject to coordinated omission.
 */
#ifndef SALVO_SUMMARY_H
#define SALVO_SUMMARY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

/* Flags of summary_print and summary_print_verdict. */
enum {
    SUMMARY_COLOR = 1 << 0, /* ANSI colour on the verdict word */
};

/* Prints the whole summary of result (verdict line first) to out. */
void summary_print(FILE *out, const json_t *result, unsigned flags);
/*
 * Prints the one-line verdict of result to out. word overrides the verdict
 * word (the exit code may say more than the result, e.g. an unwritable
 * output); NULL takes verdict_of(result).
 */
void summary_print_verdict(FILE *out, const json_t *result, const char *word, unsigned flags);
/* SUMMARY_COLOR when out is a terminal and NO_COLOR is unset or empty, else 0. */
unsigned summary_color_flags(FILE *out);

#endif

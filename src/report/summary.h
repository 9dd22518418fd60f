/*
 * summary.h — the terminal summary of a run.
 *
 * Latency measured from the intended send time is the headline; service
 * time, wait, TTFB and connect follow, then the outcome counts (which add
 * up), the rates, pool and generator health, kernel counter deltas and the
 * verdict. A closed-model run says, first and last, that its latency is
 * subject to coordinated omission.
 */
#ifndef SALVO_SUMMARY_H
#define SALVO_SUMMARY_H

#include <stdio.h>

#include "load/config.h"
#include "load/run.h"

/* Prints the summary of r to out. */
void report_summary(FILE *out, const struct run_config *cfg, const struct run_result *r);
/* Formats a duration given in µs as "850us", "12.3ms" or "1.94s". */
const char *report_fmt_us(char *buf, size_t cap, double us);

#endif

/*
 * fmt.h — how the text outputs (summary, thresholds, progress, demo) write
 * a duration and a rate, so that one figure reads the same everywhere.
 * Caller-owned buffers; nothing allocates.
 */
#ifndef SALVO_REPORT_FMT_H
#define SALVO_REPORT_FMT_H

#include <stddef.h>

/* Formats a duration given in µs as "850us", "12.30ms" or "1.940s". */
const char *report_fmt_us(char *buf, size_t cap, double us);
/* A rate with the digits it needs: "300", "2.5", "0.0001". */
const char *report_fmt_rate(char *buf, size_t cap, double r);

#endif

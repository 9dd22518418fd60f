/*
 * hlog.h — HdrHistogram interval log writer (log format version 1.3).
 *
 * One line per second per request name (as the tag), each a V2 compressed
 * histogram of the latencies (µs) completed in that second, so any
 * HdrHistogram reader (Java, JS, Go, Python) can replay the run. Interval
 * start times are seconds relative to the StartTime header.
 */
#ifndef SALVO_HLOG_H
#define SALVO_HLOG_H

#include <stdint.h>
#include <stdio.h>

#include "core/hist.h"

/* An open log; owns f. */
struct hlog {
    FILE *f;
    struct hist empty; /* encoded for a tag without data in an interval */
};

/* Creates path and writes the header. Returns 0 or -errno. */
int hlog_open(struct hlog *l, const char *path, uint64_t start_wall_ns);
/*
 * Appends one interval (start and length in seconds, relative to
 * StartTime) tagged tag (separators become '_'); h NULL is an empty one.
 */
int hlog_interval(struct hlog *l, const char *tag, double start_s, double len_s, const struct hist *h);
/* Flushes and closes; NULL or unopened is fine. Returns 0 or -EIO. */
int hlog_close(struct hlog *l);

#endif

/*
 * series.h — the one table of the series salvo exports while it runs.
 *
 * `--metrics` (report/prom.c, Prometheus text) and `--remote-write`
 * (report/rw_series.c, protobuf) publish the same series; both walk this
 * table for the gauges' names, help texts and values, and take the family
 * names of the per-name counters and latency from here, so a series added
 * or renamed here changes both at once and the two cannot drift.
 *
 * A gauge's value comes from the second just merged (its timeline row)
 * and the validity the caller decided for it (rw_second_valid during the
 * run, the verdict in the final push). NAN means "no value this second":
 * the gauge is left out of the text and gets no sample.
 */
#ifndef SALVO_SERIES_H
#define SALVO_SERIES_H

#include "load/run.h"

#define SERIES_REQUESTS "salvo_requests_total"
#define SERIES_REQUESTS_HELP "Requests by name and outcome since the start of the run."
#define SERIES_LATENCY "salvo_latency_seconds"
#define SERIES_LATENCY_HELP "Latency from the intended send time, by name."

/* One gauge: its name, its HELP text and how to read it from a second. */
struct series_gauge {
    const char *name;
    const char *help;
    double (*value)(const struct timeline_row *row, double valid);
};

#define SERIES_NGAUGES 7

/* The gauges, in the order remote write lays them out in a snapshot. */
extern const struct series_gauge SERIES_GAUGES[SERIES_NGAUGES];

#endif

/*
 * series.c — the gauges salvo exports, one row each (see series.h). To add
 * a gauge: one row here and SERIES_NGAUGES one up; --metrics, remote
 * write and their docs (docs/report.md, docs/remote-write.md) follow.
 */
#include "report/series.h"

#include <math.h>

static double inflight(const struct timeline_row *row, double valid)
{
    (void)valid;
    return (double)row->inflight;
}

static double conns(const struct timeline_row *row, double valid)
{
    (void)valid;
    return (double)row->conns;
}

static double backlog(const struct timeline_row *row, double valid)
{
    (void)valid;
    return (double)row->backlog;
}

static double lag_max(const struct timeline_row *row, double valid)
{
    (void)valid;
    return (double)row->lag_max_us / 1e6;
}

/* A second without arrivals has no send-lag distribution: no value. */
static double lag_p99(const struct timeline_row *row, double valid)
{
    (void)valid;
    return row->arrivals ? (double)row->lag_p99_us / 1e6 : NAN;
}

static double elapsed(const struct timeline_row *row, double valid)
{
    (void)valid;
    return (double)(row->t + 1);
}

static double validity(const struct timeline_row *row, double valid)
{
    (void)row;
    return valid;
}

const struct series_gauge SERIES_GAUGES[SERIES_NGAUGES] = {
    {"salvo_inflight", "Requests sent and not yet answered.", inflight},
    {"salvo_connections", "Open connections to the target.", conns},
    {"salvo_backlog", "Due requests waiting for a connection.", backlog},
    {"salvo_send_lag_max_seconds", "The generator's worst lateness in the last second.", lag_max},
    {"salvo_send_lag_p99_seconds", "p99 send lag of the last second's arrivals.", lag_p99},
    {"salvo_elapsed_seconds", "Seconds of the run published so far.", elapsed},
    {"salvo_valid", "1 while the last second's send-lag p99 stayed within --max-lag.", validity},
};

/*
 * hold.h — `salvo target --service-time D`: a service whose capacity is
 * known, so that `salvo find` can be tested against the truth.
 *
 * Every request except /health and /metrics (any path, any method) takes
 * one of the N workers for D ± J — an absolute-deadline sleep, then a
 * short spin to the deadline, no route computation — through the same
 * bounded queue and admission as a route miss: at most workers + queue
 * outstanding, one more is answered 503 at once. Its capacity is N / D.
 * /health and /metrics are answered on the event thread, so they never
 * queue behind the workers. The hold each worker actually measured is
 * exported in /metrics (salvo_target_hold_seconds_{sum,count,max}), so a
 * test computes the capacity from what happened rather than from D.
 *
 * The state (struct target_hold, hold_state.h) lives in target_service
 * (event thread only); the workers see nothing but the duration written
 * into each job.
 */
#ifndef SALVO_TARGET_HOLD_H
#define SALVO_TARGET_HOLD_H

#include <stddef.h>
#include <stdint.h>

#include <stdbool.h>

#include "target/jobq.h"
#include "target/service.h"

/* Admits one held request: true when it was queued for a worker, false when answered 503 at once. */
bool hold_admit(struct target_service *svc, struct tconn *c);
/* On a worker: holds it until start_ns + job->hold_ns. */
void hold_run(const struct route_job *job, uint64_t start_ns);
/* On the event thread: counts the finished hold and answers its connection if it still exists. */
void hold_finish(struct target_service *svc, const struct route_job *job);
/* Appends the hold metrics to a Prometheus page; returns the bytes written or -1 when n is too small. */
int hold_render(const struct target_service *svc, char *buf, size_t n);

#endif

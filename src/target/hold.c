/*
 * hold.c — the held requests of `salvo target --service-time` (see hold.h).
 */
#include "target/hold.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "core/clock.h"
#include "target/service.h"
#include "target/tconn.h"

/* The hold of the next request: D, or uniform in [D - J, D + J]. */
static uint64_t next_hold_ns(struct target_service *svc)
{
    uint64_t d = svc->cfg.hold_ns, j = svc->cfg.hold_jitter_ns;
    if (!j) return d;
    double v = rng_range(&svc->hold.rng, (double)d - (double)j, (double)d + (double)j);
    return v < 1 ? 1 : (uint64_t)v;
}

bool hold_admit(struct target_service *svc, struct tconn *c)
{
    struct route_job job = {
        .slot = c->slot, .gen = svc->slots[c->slot].gen, .queued_ns = clock_now_ns(), .hold_ns = next_hold_ns(svc)};
    if (svc->inflight >= svc->cfg.workers + svc->cfg.queue || jobq_push(&svc->jobs, &job) < 0) {
        int n = snprintf(svc->scratch, sizeof(svc->scratch), "{\"error\":\"overloaded: %u requests outstanding\"}",
                         svc->inflight);
        tconn_respond(c, 503, NULL, "Retry-After: 1\r\n", svc->scratch, (size_t)n);
        return false;
    }
    svc->inflight++;
    return true;
}

void hold_run(const struct route_job *job, uint64_t start_ns)
{
    uint64_t deadline = start_ns + job->hold_ns;
    /* An absolute deadline: a late wake-up does not add to the next one. */
    if (job->hold_ns > HOLD_SPIN_NS) {
        struct timespec ts = clock_ns_to_timespec(deadline - HOLD_SPIN_NS);
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
            continue;
    }
    while (clock_now_ns() < deadline)
        continue;
}

void hold_finish(struct target_service *svc, const struct route_job *job)
{
    svc->inflight--;
    svc->hold.count++;
    svc->hold.sum_ns += job->compute_ns;
    if (job->compute_ns > svc->hold.max_ns) svc->hold.max_ns = job->compute_ns;
    struct tconn *c = target_service_lookup(svc, job->slot, job->gen);
    if (!c) return; /* the client went away while it was held */
    int n = snprintf(svc->scratch, sizeof(svc->scratch), "{\"held_us\":%.1f}", (double)job->compute_ns / 1e3);
    tconn_respond(c, 200, NULL, NULL, svc->scratch, (size_t)n);
    tconn_resume(c);
}

int hold_render(const struct target_service *svc, char *buf, size_t n)
{
    if (!svc->cfg.hold_ns) return 0;
    const struct target_hold *h = &svc->hold;
    double mean_s = h->count ? (double)h->sum_ns / (double)h->count / 1e9 : (double)svc->cfg.hold_ns / 1e9;
    int len = snprintf(buf, n,
                       "# HELP salvo_target_hold_seconds Time a worker actually held each request (--service-time).\n"
                       "# TYPE salvo_target_hold_seconds summary\n"
                       "salvo_target_hold_seconds_sum %.9f\n"
                       "salvo_target_hold_seconds_count %llu\n"
                       "salvo_target_hold_seconds_max %.9f\n"
                       "# HELP salvo_target_hold_configured_seconds The --service-time asked for.\n"
                       "# TYPE salvo_target_hold_configured_seconds gauge\n"
                       "salvo_target_hold_configured_seconds %.9f\n"
                       "# HELP salvo_target_hold_capacity_per_second Workers divided by the mean measured hold.\n"
                       "# TYPE salvo_target_hold_capacity_per_second gauge\n"
                       "salvo_target_hold_capacity_per_second %.3f\n",
                       (double)h->sum_ns / 1e9, (unsigned long long)h->count, (double)h->max_ns / 1e9,
                       (double)svc->cfg.hold_ns / 1e9, mean_s > 0 ? svc->cfg.workers / mean_s : 0.0);
    return len < 0 || (size_t)len >= n ? -1 : len;
}

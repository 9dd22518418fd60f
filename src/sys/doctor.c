/*
 * doctor.c — the doctor report: the plan's derived numbers, running the
 * groups of checks, and reading the report back (see doctor.h).
 *
 * The groups live in doctor_net.c (listen queues, ports, TIME_WAIT,
 * conntrack, buffers), doctor_host.c (file descriptors, CPUs, timer slack)
 * and doctor_target.c (the target's real listener). This file owns the
 * numbers they share, so a change of rule ("headroom for file descriptors")
 * is made once.
 */
#include "sys/doctor.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/endpoint.h"
#include "sys/doctor_checks.h"

/* The listen queue must absorb the connections that arrive while the
 * server does not accept for this long (a GC pause, a slow worker). */
#define LISTEN_STALL_S 0.1
/* Below the historical SOMAXCONN a backlog is a toy default (Python's 5). */
#define LISTEN_MIN 128

void doctor_plan_init(struct doctor_plan *plan)
{
    memset(plan, 0, sizeof(*plan));
    plan->keepalive = true;
}

const char *doctor_status_name(enum doctor_status s)
{
    static const char *const names[DOCTOR_NSTATUS] = {"ok", "warn", "fail"};
    return (unsigned)s < DOCTOR_NSTATUS ? names[s] : "unknown";
}

/* Derives the numbers every check judges against. */
static void plan_numbers(struct doctor_ctx *ctx, const struct doctor_plan *plan)
{
    ctx->plan = plan;
    ctx->rate = plan->rate > 0 ? plan->rate : 0;
    ctx->new_conn_rate = plan->keepalive ? 0 : ctx->rate;
    ctx->connections = plan->connections ? plan->connections : DOCTOR_DEFAULT_CONNECTIONS;
    /* Like salvo run: one thread per online CPU, never more than connections. */
    ctx->threads = plan->threads ? plan->threads : ctx->online_cpus;
    if (ctx->threads > ctx->connections) ctx->threads = ctx->connections;
    if (ctx->threads == 0) ctx->threads = 1;
    /* A closing connection and its replacement coexist for a moment, and
     * epoll, stdio and the results file need a few more. */
    ctx->fds_needed = (int64_t)ctx->connections + ctx->connections / 10 + 64;
    double burst = ceil(ctx->rate * LISTEN_STALL_S);
    if (plan->keepalive && burst > ctx->connections) burst = ctx->connections;
    ctx->listen_needed = burst > LISTEN_MIN ? (int64_t)burst : LISTEN_MIN;
    ctx->somaxconn = -1;
}

int doctor_check_all(const struct doctor_plan *plan, struct doctor_report *out)
{
    struct doctor_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    int rc = sysctl_init(&ctx.sys, plan->root);
    if (rc < 0) return rc;
    memset(out, 0, sizeof(*out));
    doctor_count_cpus(&ctx);
    plan_numbers(&ctx, plan);
    doctor_resolve_target(&ctx);

    doctor_check_listen(&ctx, out);
    doctor_check_ports(&ctx, out);
    doctor_check_files(&ctx, out);
    doctor_check_buffers(&ctx, out);
    doctor_check_cpu(&ctx, out);
    doctor_check_target(&ctx, out);

    for (size_t i = 0; i < out->n; i++)
        out->count[out->checks[i].status]++;
    return 0;
}

size_t doctor_findings(const struct doctor_report *r, enum doctor_status min, const struct doctor_check **found,
                       size_t max)
{
    size_t n = 0;
    for (int s = DOCTOR_NSTATUS - 1; s >= (int)min; s--)
        for (size_t i = 0; i < r->n; i++) {
            if ((int)r->checks[i].status != s) continue;
            if (n < max) found[n] = &r->checks[i];
            n++;
        }
    return n;
}

int doctor_format_line(const struct doctor_check *c, char *buf, size_t cap)
{
    return snprintf(buf, cap, "%s %s = %s (recommended %s): %s%s%s", doctor_status_name(c->status), c->name, c->value,
                    c->recommended[0] ? c->recommended : "as is", c->symptom, c->fix[0] ? "; fix: " : "", c->fix);
}

int doctor_parse_target(const char *text, char *host, size_t host_cap, uint16_t *port)
{
    struct hostport hp;
    const char *why;
    if (hostport_parse(&hp, text, strlen(text), 0, &why) < 0) return -EINVAL;
    size_t hlen = strlen(hp.host);
    if (hlen >= host_cap) return -EINVAL;
    memcpy(host, hp.host, hlen + 1);
    *port = hp.port;
    return 0;
}

/*
 * doctor_checks.h — internal to the doctor module: the context the checks
 * share, the helpers they share (doctor_checks.c) and the groups of checks,
 * split by what they are about so that each file stays readable (doctor.c
 * runs them; see doctor.h). The checks never call back into doctor.c.
 *
 * The context is computed once from the plan before any check runs, so
 * every check judges the same numbers: the new-connection rate, the file
 * descriptors needed, the connection burst a listener must absorb, and
 * what is known about the target.
 */
#ifndef SALVO_DOCTOR_CHECKS_H
#define SALVO_DOCTOR_CHECKS_H

#include <stdbool.h>
#include <stdint.h>

#include "sys/doctor_report.h"
#include "sys/sysctl.h"

/* What the checks share; filled by doctor_check_all(). */
struct doctor_ctx {
    struct sysctl sys;
    const struct doctor_plan *plan;
    double rate;           /* planned requests/s, 0 when unknown */
    double new_conn_rate;  /* connections opened per second: the rate without keep-alive, else 0 */
    uint32_t connections;  /* planned concurrent connections */
    uint32_t threads;      /* generator threads (the plan's, or one per usable CPU) */
    uint32_t online_cpus;  /* what salvo run starts one thread per; 0 when unknown */
    uint32_t allowed_cpus; /* in this process's affinity mask; 0 when unknown */
    double cpu_quota;      /* cgroup CPU quota in CPUs; 0 when none */
    double usable_cpus;    /* CPUs this process may run on, after affinity and cgroup quota */
    int64_t fds_needed;    /* connections plus headroom */
    int64_t listen_needed; /* accept-queue slots for 100 ms of new connections, at least 128 */
    int64_t somaxconn;     /* -1 when unreadable */
    bool target_given;     /* plan names a target */
    bool target_resolved;  /* and its name resolved */
    bool target_loopback;  /* 127.0.0.0/8 or ::1: tcp_tw_reuse=2 applies */
    bool target_local;     /* an address of this machine: its listener is visible */
    char target_text[96];  /* "127.0.0.1:8080" or "[::1]:8080" */
    char target_error[96]; /* why the name did not resolve */
    int target_family;
    uint8_t target_addr[16];
};

/*
 * Reads the sysctl name into vals; when it cannot be read, adds a warn
 * check saying so and returns false.
 */
bool doctor_read(struct doctor_ctx *ctx, struct doctor_report *r, const char *name, int64_t *vals, int n);

/* Smallest power of two >= v (v >= 1). */
int64_t doctor_pow2(int64_t v);

/* The checks, by group, in the order they are reported. */
void doctor_check_listen(struct doctor_ctx *ctx, struct doctor_report *r);
void doctor_check_ports(struct doctor_ctx *ctx, struct doctor_report *r);
void doctor_check_files(struct doctor_ctx *ctx, struct doctor_report *r);
void doctor_check_buffers(struct doctor_ctx *ctx, struct doctor_report *r);
void doctor_check_cpu(struct doctor_ctx *ctx, struct doctor_report *r);
void doctor_check_target(struct doctor_ctx *ctx, struct doctor_report *r);

/* Fills ctx->online_cpus and ctx->usable_cpus from the CPU lists and the cgroup quota. */
void doctor_count_cpus(struct doctor_ctx *ctx);
/* Resolves the plan's target into ctx (name lookup and a bind probe). */
void doctor_resolve_target(struct doctor_ctx *ctx);

#endif

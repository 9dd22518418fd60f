/*
 * doctor_report.h — the doctor's plan and report, and how a check is added
 * to a report.
 *
 * These are the types doctor.h's callers read and the checks
 * (doctor_checks.h) write. They live below both, so that doctor.c, which
 * runs the checks, and the checks, which fill the report, need nothing
 * from each other but the list of checks to run.
 */
#ifndef SALVO_DOCTOR_REPORT_H
#define SALVO_DOCTOR_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* salvo run's cap on open connections when --connections is not given. */
#define DOCTOR_DEFAULT_CONNECTIONS 10000u
#define DOCTOR_MAX_CHECKS 40

enum doctor_status { DOCTOR_OK, DOCTOR_WARN, DOCTOR_FAIL, DOCTOR_NSTATUS };

/* The run being planned. Pointers are borrowed for the call only. */
struct doctor_plan {
    double rate;             /* requests/s; 0 when not planned (rate checks then only inform) */
    uint32_t connections;    /* concurrent connections; 0 means DOCTOR_DEFAULT_CONNECTIONS */
    uint32_t threads;        /* generator threads; 0 means one per usable CPU */
    bool keepalive;          /* false: a new connection per request, salvo closes first */
    const char *target_host; /* NULL: no target; name or address, IPv6 without brackets */
    uint16_t target_port;
    const char *root;   /* NULL or "/": this machine; else a recorded tree */
    uint32_t sample_ms; /* > 0: sample machine-wide CPU (steal) this long; 0 skips it */
};

/* One judgement. Strings are NUL-terminated and never NULL. */
struct doctor_check {
    char name[48]; /* "net.core.somaxconn", "RLIMIT_NOFILE", "target 127.0.0.1:8080" */
    enum doctor_status status;
    char value[160]; /* the current value, with what it means for the plan */
    char recommended[128];
    char symptom[192]; /* what a run shows when the value is too low */
    char fix[256];     /* a shell command, or what to change; "" when nothing to do */
};

/* All judgements, in a fixed order. Caller-owned. */
struct doctor_report {
    struct doctor_check checks[DOCTOR_MAX_CHECKS];
    size_t n;
    unsigned count[DOCTOR_NSTATUS]; /* checks per status */
};

/* Appends a check named name with status ok and empty strings. */
struct doctor_check *doctor_add(struct doctor_report *r, const char *name);

/* snprintf into a fixed field, truncating quietly: check text is advisory. */
void doctor_set(char *field, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#define DOCTOR_SET(field, ...) doctor_set((field), sizeof(field), __VA_ARGS__)

#endif

/*
 * cpustat.h — where this machine's CPU time went during a run.
 *
 * A generator on a virtual machine can be late for reasons no process on
 * it can see: the hypervisor runs another guest on the same core ("steal").
 * The per-thread figures (CPU, run-queue wait) stay innocent while every
 * send is late. Reading the machine-wide "cpu" line of /proc/stat before
 * and after a run gives the shares of busy, idle, softirq and steal time
 * over all CPUs, which the report shows and the verdict cites.
 */
#ifndef SALVO_CPUSTAT_H
#define SALVO_CPUSTAT_H

#include <stdbool.h>
#include <stdint.h>

/* Cumulative CPU time of the whole machine, in clock ticks. */
struct cpu_times {
    bool ok; /* false when /proc/stat could not be read */
    uint64_t user, nice, system, idle, iowait, irq, softirq, steal;
};

/* Shares of the machine's CPU time between two readings, in percent. */
struct cpu_share {
    bool ok;            /* false when either reading failed or no time passed */
    double busy_pct;    /* user + nice + system + irq + softirq */
    double softirq_pct; /* packet processing, part of busy */
    double iowait_pct;
    double steal_pct; /* taken by the hypervisor for other guests */
};

/* Parses the "cpu " line of a /proc/stat text. Returns 0 or -EINVAL. */
int cpu_times_parse(const char *text, struct cpu_times *t);
/* Reads /proc/stat now. Returns 0 or -errno (t->ok says the same). */
int cpu_times_read(struct cpu_times *t);
/* The shares between two readings. */
struct cpu_share cpu_times_share(const struct cpu_times *before, const struct cpu_times *after);

#endif

/*
 * cpustat.h — where this machine's CPU time went during a run.
 *
 * A generator on a virtual machine can be late for reasons no process on
 * it can see: the hypervisor runs another guest on the same core ("steal").
 * The per-thread figures (CPU, run-queue wait) stay innocent while every
 * send is late. Reading the machine-wide "cpu" line of /proc/stat before
 * and after a run gives the shares of busy, idle, softirq and steal time
 * over all CPUs, which the report shows and the verdict cites.
 *
 * /proc/stat is tick-sampled: a CPU's tick charges the whole tick to
 * whatever runs at that instant, so a generator that wakes for 20 us
 * bursts between ticks is barely seen, and "machine busy 0 %" could be
 * printed under the generator's own 12 % of a core. salvo's own share is
 * therefore taken from its precise CPU time (getrusage, the scheduler's
 * nanosecond runtime) and swapped for its tick-sampled share
 * (/proc/self/stat); the rest of the machine stays tick-sampled.
 */
#ifndef SALVO_CPUSTAT_H
#define SALVO_CPUSTAT_H

#include <stdbool.h>
#include <stdint.h>

/* Cumulative CPU time of the whole machine, in clock ticks. */
struct cpu_times {
    bool ok; /* false when /proc/stat could not be read */
    uint64_t user, nice, system, idle, iowait, irq, softirq, steal;
    /* This process: its tick-sampled user+system (as counted in the line
     * above) and its precise CPU time; both 0 when not read. */
    uint64_t self_ticks, self_cpu_ns;
    uint64_t ticks_per_s; /* USER_HZ; 0 when self_* were not read */
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
/* Reads /proc/stat and this process's CPU times now. Returns 0 or -errno
 * (t->ok says the same; the self_* fields stay 0 if they cannot be read). */
int cpu_times_read(struct cpu_times *t);
/* The shares between two readings. */
struct cpu_share cpu_times_share(const struct cpu_times *before, const struct cpu_times *after);

#endif

/*
 * kernel.h — TCP counters of this machine's kernel, read around a run.
 *
 * A load test whose kernel dropped SYNs or overflowed a listen queue has
 * numbers that describe the kernel, not the server. Reading
 * /proc/net/netstat and /proc/net/snmp before and after a run and keeping
 * the deltas of the counters that reveal drops, overflows and resets makes
 * that visible in every result. Counters are machine-wide (they include
 * other traffic) and per network namespace, which the report says.
 */
#ifndef SALVO_KERNEL_H
#define SALVO_KERNEL_H

#include <stdbool.h>
#include <stdint.h>

#define KERNEL_NCOUNTERS 21 /* the last is softnet drops, summed over CPUs */

/* A snapshot of the watched counters. */
struct kernel_counters {
    bool ok;                         /* false when /proc/net could not be read */
    int64_t value[KERNEL_NCOUNTERS]; /* -1 when the kernel lacks the counter */
};

/* The name of watched counter i (e.g. "TcpExt.ListenOverflows"). */
const char *kernel_counter_name(int i);
/* One line on what a rise of counter i means. */
const char *kernel_counter_meaning(int i);
/* Reads the counters now. Returns 0 or -errno. */
int kernel_counters_read(struct kernel_counters *k);
/* after - before for counter i, or 0 when either is missing. */
int64_t kernel_counter_delta(const struct kernel_counters *before, const struct kernel_counters *after, int i);

#endif

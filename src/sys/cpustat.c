/*
 * cpustat.c — machine-wide CPU shares from /proc/stat (see cpustat.h).
 *
 * The first line of /proc/stat is "cpu  user nice system idle iowait irq
 * softirq steal guest guest_nice" in clock ticks, summed over CPUs. Guest
 * time is already counted in user and nice, so it is left out of the total.
 */
#include "sys/cpustat.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

int cpu_times_parse(const char *text, struct cpu_times *t)
{
    *t = (struct cpu_times){0};
    if (strncmp(text, "cpu ", 4) != 0) return -EINVAL;
    int n =
        sscanf(text + 4, "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64,
               &t->user, &t->nice, &t->system, &t->idle, &t->iowait, &t->irq, &t->softirq, &t->steal);
    if (n < 4) {
        *t = (struct cpu_times){0};
        return -EINVAL;
    }
    t->ok = true; /* fields a very old kernel lacks stay 0 */
    return 0;
}

/* This process's tick-sampled user + system time from /proc/self/stat (fields 14 and 15). */
static int self_ticks_read(uint64_t *ticks)
{
    FILE *f = fopen("/proc/self/stat", "re");
    if (!f) return -errno;
    char line[1024];
    int rc = -EINVAL;
    /* The command name (field 2) may hold spaces and parentheses: skip to its last ')'. */
    char *p = fgets(line, sizeof line, f) ? strrchr(line, ')') : NULL;
    uint64_t utime, stime;
    if (p && sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %" SCNu64 " %" SCNu64, &utime, &stime) == 2) {
        *ticks = utime + stime;
        rc = 0;
    }
    fclose(f);
    return rc;
}

/* This process's precise CPU time (all threads, user + system). */
static uint64_t self_cpu_ns(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ull +
           (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ull;
}

int cpu_times_read(struct cpu_times *t)
{
    *t = (struct cpu_times){0};
    FILE *f = fopen("/proc/stat", "re");
    if (!f) return -errno;
    char line[512];
    int rc = fgets(line, sizeof line, f) ? cpu_times_parse(line, t) : -EINVAL;
    fclose(f);
    long hz = sysconf(_SC_CLK_TCK);
    if (rc == 0 && hz > 0 && self_ticks_read(&t->self_ticks) == 0) {
        t->self_cpu_ns = self_cpu_ns();
        t->ticks_per_s = (uint64_t)hz;
    }
    return rc;
}

static uint64_t since(uint64_t before, uint64_t after)
{
    return after > before ? after - before : 0; /* counters can step back on some kernels */
}

struct cpu_share cpu_times_share(const struct cpu_times *b, const struct cpu_times *a)
{
    struct cpu_share s = {0};
    if (!b->ok || !a->ok) return s;
    uint64_t busy = since(b->user, a->user) + since(b->nice, a->nice) + since(b->system, a->system) +
                    since(b->irq, a->irq) + since(b->softirq, a->softirq);
    uint64_t idle = since(b->idle, a->idle), iowait = since(b->iowait, a->iowait);
    uint64_t steal = since(b->steal, a->steal);
    uint64_t total = busy + idle + iowait + steal;
    if (total == 0) return s;
    s.ok = true;
    double busy_ticks = (double)busy;
    if (b->ticks_per_s && a->ticks_per_s == b->ticks_per_s) {
        /* Swap this process's tick-sampled share for its precise one (see cpustat.h). */
        double own_precise = (double)since(b->self_cpu_ns, a->self_cpu_ns) * (double)a->ticks_per_s / 1e9;
        busy_ticks += own_precise - (double)since(b->self_ticks, a->self_ticks);
        if (busy_ticks < own_precise) busy_ticks = own_precise;
        if (busy_ticks > (double)(busy + idle + iowait)) busy_ticks = (double)(busy + idle + iowait);
    }
    s.busy_pct = 100.0 * busy_ticks / (double)total;
    s.softirq_pct = 100.0 * (double)since(b->softirq, a->softirq) / (double)total;
    s.iowait_pct = 100.0 * (double)iowait / (double)total;
    s.steal_pct = 100.0 * (double)steal / (double)total;
    return s;
}

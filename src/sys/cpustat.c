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

int cpu_times_read(struct cpu_times *t)
{
    *t = (struct cpu_times){0};
    FILE *f = fopen("/proc/stat", "re");
    if (!f) return -errno;
    char line[512];
    int rc = fgets(line, sizeof line, f) ? cpu_times_parse(line, t) : -EINVAL;
    fclose(f);
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
    s.busy_pct = 100.0 * (double)busy / (double)total;
    s.softirq_pct = 100.0 * (double)since(b->softirq, a->softirq) / (double)total;
    s.iowait_pct = 100.0 * (double)iowait / (double)total;
    s.steal_pct = 100.0 * (double)steal / (double)total;
    return s;
}

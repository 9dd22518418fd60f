/*
 * doctor_host.c — the host checks of the doctor: file descriptors, CPUs,
 * frequency governor, timer slack (see doctor.h).
 *
 * Every connection is a file descriptor, limited three times: per process
 * (RLIMIT_NOFILE, read from /proc/self/limits so tests can record it),
 * by the ceiling that limit may be raised to (fs.nr_open) and machine-wide
 * (fs.file-max, against what is already open per fs.file-nr). salvo run
 * raises its soft limit to the hard one at start, so only the hard limit
 * fails a plan. A server on this machine needs as many descriptors again.
 *
 * salvo run starts one thread per online CPU, but a process may be allowed
 * fewer (its affinity mask) or be throttled to fewer by a cgroup quota,
 * which is the usual case in containers; threads beyond the usable CPUs
 * wait for a CPU and send late. On a virtual machine the hypervisor may
 * also take CPU time away from all of them (steal), sampled by `salvo doctor`.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sys/cpustat.h"
#include "sys/doctor_checks.h"

#define FD_ROUND 1048576 /* a round limit that leaves room for any plan below it */
#define DOCTOR_STEAL_WARN_PCT 5

/* Writes a limit value, "unlimited" for INT64_MAX. */
static const char *limit_text(int64_t v, char *buf, size_t cap)
{
    if (v == INT64_MAX)
        snprintf(buf, cap, "unlimited");
    else
        snprintf(buf, cap, "%lld", (long long)v);
    return buf;
}

/* RLIMIT_NOFILE: the hard limit must hold the planned connections. */
static void check_nofile(struct doctor_ctx *ctx, struct doctor_report *r, int64_t nr_open)
{
    char text[4096], soft_s[24], hard_s[24];
    int64_t soft, hard, need = ctx->fds_needed;
    struct doctor_check *c = doctor_add(r, "RLIMIT_NOFILE");
    DOCTOR_SET(c->recommended, ">= %lld (connections + 10 %% + 64)", (long long)need);
    DOCTOR_SET(c->symptom, "opening a connection fails with EMFILE (fd_exhausted errors): the run never reaches "
                           "its connections");
    int rc = sysctl_read_file(&ctx->sys, "proc/self/limits", text, sizeof(text));
    if (rc >= 0) rc = sysctl_parse_limits(text, "Max open files", &soft, &hard);
    if (rc < 0) {
        c->status = DOCTOR_WARN;
        DOCTOR_SET(c->value, "unknown: cannot read /proc/self/limits (%s)", strerror(-rc));
        return;
    }
    DOCTOR_SET(c->value, "soft %s, hard %s%s", limit_text(soft, soft_s, sizeof(soft_s)),
               limit_text(hard, hard_s, sizeof(hard_s)),
               soft < need && hard >= need ? " (salvo run raises soft to hard)" : "");
    if (soft >= need) return;
    int64_t want = need <= FD_ROUND ? FD_ROUND : doctor_pow2(need);
    if (nr_open > 0 && want > nr_open && need <= nr_open) want = nr_open;
    if (nr_open > 0 && want > nr_open)
        DOCTOR_SET(c->fix, "sysctl -w fs.nr_open=%lld && ulimit -n %lld", (long long)want, (long long)want);
    else
        DOCTOR_SET(c->fix, "ulimit -n %lld", (long long)want);
    if (hard < need) c->status = DOCTOR_FAIL;
}

/* fs.file-max against what is open now plus what the plan opens. */
static void check_file_max(struct doctor_ctx *ctx, struct doctor_report *r)
{
    int64_t max, nr[3];
    if (!doctor_read(ctx, r, "fs.file-max", &max, 1)) return;
    bool have_nr = sysctl_get(&ctx->sys, "fs.file-nr", nr, 3) == 3;
    int64_t open_now = have_nr ? nr[0] : 0;
    struct doctor_check *c = doctor_add(r, "fs.file-max");
    /* A server on this machine holds one descriptor per connection too. */
    int64_t need = ctx->fds_needed * (ctx->target_local ? 2 : 1);
    if (have_nr)
        DOCTOR_SET(c->value, "%lld (%lld open now)", (long long)max, (long long)open_now);
    else
        DOCTOR_SET(c->value, "%lld", (long long)max);
    DOCTOR_SET(c->recommended, ">= %lld (open now + %lld)", (long long)(open_now + need), (long long)need);
    DOCTOR_SET(c->symptom, "opening any file fails with ENFILE machine-wide (\"VFS: file-max limit reached\")");
    double room = (double)max - (double)open_now;
    if ((double)need > room * 0.8)
        DOCTOR_SET(c->fix, "sysctl -w fs.file-max=%lld", (long long)doctor_pow2((open_now + need) * 2));
    if ((double)need > room)
        c->status = DOCTOR_FAIL;
    else if ((double)need > room * 0.8)
        c->status = DOCTOR_WARN;
}

/* fs.nr_open: the ceiling of RLIMIT_NOFILE. */
static void check_nr_open(struct doctor_ctx *ctx, struct doctor_report *r, int64_t nr_open)
{
    if (nr_open < 0) {
        doctor_read(ctx, r, "fs.nr_open", &nr_open, 1); /* reports why it is unknown */
        return;
    }
    struct doctor_check *c = doctor_add(r, "fs.nr_open");
    DOCTOR_SET(c->value, "%lld", (long long)nr_open);
    DOCTOR_SET(c->recommended, ">= %lld", (long long)ctx->fds_needed);
    DOCTOR_SET(c->symptom,
               "the ceiling of RLIMIT_NOFILE: ulimit -n cannot be raised far enough, EMFILE as for RLIMIT_NOFILE");
    if (nr_open < ctx->fds_needed) {
        c->status = DOCTOR_FAIL;
        DOCTOR_SET(c->fix, "sysctl -w fs.nr_open=%lld", (long long)doctor_pow2(ctx->fds_needed));
    }
}

void doctor_check_files(struct doctor_ctx *ctx, struct doctor_report *r)
{
    int64_t nr_open = -1;
    if (sysctl_get_one(&ctx->sys, "fs.nr_open", &nr_open) < 0) nr_open = -1;
    check_nofile(ctx, r, nr_open);
    check_file_max(ctx, r);
    check_nr_open(ctx, r, nr_open);
}

/* Reads the cgroup CPU quota (v2, else v1) in CPUs; 0 when none. */
static double read_cpu_quota(const struct sysctl *sys)
{
    char text[128];
    double cpus = 0;
    if (sysctl_read_file(sys, "sys/fs/cgroup/cpu.max", text, sizeof(text)) >= 0) {
        if (sysctl_parse_cpu_max(text, &cpus) == 0) return cpus;
        return 0;
    }
    int64_t quota, period;
    if (sysctl_read_file(sys, "sys/fs/cgroup/cpu/cpu.cfs_quota_us", text, sizeof(text)) < 0 ||
        sysctl_parse_ints(text, &quota, 1) != 1 || quota <= 0)
        return 0;
    if (sysctl_read_file(sys, "sys/fs/cgroup/cpu/cpu.cfs_period_us", text, sizeof(text)) < 0 ||
        sysctl_parse_ints(text, &period, 1) != 1 || period <= 0)
        return 0;
    return (double)quota / (double)period;
}

void doctor_count_cpus(struct doctor_ctx *ctx)
{
    char text[4096], list[2048];
    int64_t n;
    if (sysctl_read_file(&ctx->sys, "sys/devices/system/cpu/online", text, sizeof(text)) >= 0 &&
        sysctl_parse_ranges(text, 0, INT64_MAX, &n) == 0 && n > 0)
        ctx->online_cpus = (uint32_t)n;
    else if (ctx->sys.root[0] == '\0' && sysconf(_SC_NPROCESSORS_ONLN) > 0)
        ctx->online_cpus = (uint32_t)sysconf(_SC_NPROCESSORS_ONLN);
    if (sysctl_read_file(&ctx->sys, "proc/self/status", text, sizeof(text)) >= 0 &&
        sysctl_parse_field(text, "Cpus_allowed_list", list, sizeof(list)) == 0 &&
        sysctl_parse_ranges(list, 0, INT64_MAX, &n) == 0 && n > 0)
        ctx->allowed_cpus = (uint32_t)n;
    ctx->cpu_quota = read_cpu_quota(&ctx->sys);
    double usable = ctx->online_cpus ? ctx->online_cpus : 1;
    if (ctx->allowed_cpus && ctx->allowed_cpus < usable) usable = ctx->allowed_cpus;
    if (ctx->cpu_quota > 0 && ctx->cpu_quota < usable) usable = ctx->cpu_quota;
    ctx->usable_cpus = usable;
}

/* Threads against the CPUs this process may actually use. */
static void check_cpus(struct doctor_ctx *ctx, struct doctor_report *r)
{
    struct doctor_check *c = doctor_add(r, "cpus");
    char quota[48] = "no quota", online[16] = "?", allowed[16] = "?";
    if (ctx->cpu_quota > 0) snprintf(quota, sizeof(quota), "cgroup quota %.2f", ctx->cpu_quota);
    if (ctx->online_cpus) snprintf(online, sizeof(online), "%u", ctx->online_cpus);
    if (ctx->allowed_cpus) snprintf(allowed, sizeof(allowed), "%u", ctx->allowed_cpus);
    DOCTOR_SET(c->value, "%s online, %s allowed, %s: %.3g usable for %u thread%s%s", online, allowed, quota,
               ctx->usable_cpus, ctx->threads, ctx->threads == 1 ? "" : "s",
               ctx->target_local ? " (the local target needs CPU too)" : "");
    uint32_t fit = ctx->usable_cpus >= 1 ? (uint32_t)ctx->usable_cpus : 1;
    DOCTOR_SET(c->recommended, "threads <= %u", fit);
    DOCTOR_SET(c->symptom, "generator threads wait for a CPU: requests are sent late (send lag) and the run "
                           "may be invalid");
    if ((double)ctx->threads > ctx->usable_cpus) {
        c->status = DOCTOR_WARN;
        DOCTOR_SET(c->fix, "salvo run --threads %u (or give the machine or container more CPUs)", fit);
    }
}

/* The scaling governor of every CPU that has cpufreq. */
static void check_governor(struct doctor_ctx *ctx, struct doctor_report *r)
{
    char dir_path[SYSCTL_ROOT_MAX + 32], rel[128], gov[64], other[64] = "";
    int total = 0, performance = 0;
    snprintf(dir_path, sizeof(dir_path), "%s/sys/devices/system/cpu", ctx->sys.root);
    DIR *dir = opendir(dir_path);
    for (struct dirent *e; dir && (e = readdir(dir));) {
        unsigned cpu;
        char tail;
        if (sscanf(e->d_name, "cpu%u%c", &cpu, &tail) != 1) continue;
        snprintf(rel, sizeof(rel), "sys/devices/system/cpu/cpu%u/cpufreq/scaling_governor", cpu);
        if (sysctl_read_file(&ctx->sys, rel, gov, sizeof(gov)) < 0) continue;
        gov[strcspn(gov, " \t\n")] = '\0';
        total++;
        if (strcmp(gov, "performance") == 0)
            performance++;
        else
            snprintf(other, sizeof(other), "%s", gov);
    }
    if (dir) closedir(dir);
    struct doctor_check *c = doctor_add(r, "cpufreq governor");
    DOCTOR_SET(c->recommended, "performance");
    DOCTOR_SET(c->symptom, "the clock follows the load: run-to-run variance, slow first requests after idle");
    if (total == 0) {
        DOCTOR_SET(c->value, "unknown (no cpufreq: VM, container or fixed clock)");
        return;
    }
    if (performance == total) {
        DOCTOR_SET(c->value, "performance (%d CPUs)", total);
        return;
    }
    DOCTOR_SET(c->value, "%s on %d of %d CPUs", other, total - performance, total);
    DOCTOR_SET(c->fix, "echo performance | tee /sys/devices/system/cpu/cpu*/cpufreq/scaling_governor");
    c->status = DOCTOR_WARN;
}

/* Timer slack: how late the kernel may fire a timer to batch wake-ups. */
static void check_timer_slack(struct doctor_ctx *ctx, struct doctor_report *r)
{
    char text[64];
    int64_t ns;
    struct doctor_check *c = doctor_add(r, "timer slack");
    DOCTOR_SET(c->recommended, "1 ns");
    DOCTOR_SET(c->symptom, "timers fire up to this late: late sends and inflated latency in programs that keep "
                           "the default 50 us");
    if (sysctl_read_file(&ctx->sys, "proc/self/timerslack_ns", text, sizeof(text)) < 0 ||
        sysctl_parse_ints(text, &ns, 1) != 1) {
        DOCTOR_SET(c->value, "unknown (no /proc/self/timerslack_ns before Linux 4.6)");
        return;
    }
    /* salvo run sets 1 ns on its workers, so the inherited value only
     * matters to other programs, such as a server started from this shell. */
    DOCTOR_SET(c->value, "%lld ns (salvo run uses 1 ns)", (long long)ns);
    if (ns > 1) DOCTOR_SET(c->fix, "echo 1 > /proc/$$/timerslack_ns (programs started from this shell inherit it)");
}

/* Hypervisor steal over a short sample (salvo doctor only: a run measures its own). */
static void check_steal(struct doctor_ctx *ctx, struct doctor_report *r)
{
    char text[1024];
    struct cpu_times before, after;
    if (ctx->plan->sample_ms == 0) return;
    if (sysctl_read_file(&ctx->sys, "proc/stat", text, sizeof(text)) < 0 || cpu_times_parse(text, &before) < 0) return;
    struct timespec pause = {.tv_sec = ctx->plan->sample_ms / 1000,
                             .tv_nsec = (long)(ctx->plan->sample_ms % 1000) * 1000000L};
    while (nanosleep(&pause, &pause) < 0 && errno == EINTR) {
    }
    if (sysctl_read_file(&ctx->sys, "proc/stat", text, sizeof(text)) < 0 || cpu_times_parse(text, &after) < 0) return;
    struct cpu_share s = cpu_times_share(&before, &after);
    if (!s.ok) return; /* a recorded tree does not move */
    struct doctor_check *c = doctor_add(r, "cpu steal");
    DOCTOR_SET(c->value, "%.1f%% of the machine's CPU time over %u ms (busy %.0f%%)", s.steal_pct, ctx->plan->sample_ms,
               s.busy_pct);
    DOCTOR_SET(c->recommended, "< %d%%", DOCTOR_STEAL_WARN_PCT);
    DOCTOR_SET(c->symptom, "the hypervisor runs other guests on these cores: everything here runs late, and "
                           "runs show send lag and latency the server did not cause");
    if (s.steal_pct >= DOCTOR_STEAL_WARN_PCT) {
        c->status = DOCTOR_WARN;
        DOCTOR_SET(c->fix, "use dedicated cores (or a quieter host); compare runs only at similar steal, which "
                           "salvo run reports under generator.machine_cpu");
    }
}

void doctor_check_cpu(struct doctor_ctx *ctx, struct doctor_report *r)
{
    check_cpus(ctx, r);
    check_steal(ctx, r);
    check_governor(ctx, r);
    check_timer_slack(ctx, r);
}

/*
 * kernel.c — read TcpExt/Tcp counters from /proc (see kernel.h).
 *
 * Both files hold pairs of lines: "Prefix: Name1 Name2 ..." followed by
 * "Prefix: v1 v2 ...". The parser walks each pair and picks the watched
 * names; anything it does not know is ignored, so newer kernels are fine.
 */
#include "sys/kernel.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const watched[KERNEL_NCOUNTERS] = {
    "TcpExt.ListenOverflows",
    "TcpExt.ListenDrops",
    "TcpExt.TCPReqQFullDrop",
    "TcpExt.TCPReqQFullDoCookies",
    "TcpExt.SyncookiesSent",
    "TcpExt.TCPTimeWaitOverflow",
    "TcpExt.TW",
    "TcpExt.TWRecycled",
    "TcpExt.TCPAbortOnMemory",
    "TcpExt.TCPAbortOnTimeout",
    "TcpExt.TCPSynRetrans",
    "TcpExt.TCPTimeouts",
    "TcpExt.TCPBacklogDrop",
    "TcpExt.TCPRcvQDrop",
    "Tcp.RetransSegs",
    "Tcp.AttemptFails",
    "Tcp.EstabResets",
    "Tcp.OutRsts",
    "Tcp.InErrs",
    "TcpExt.TCPAbortOnData",
    "softnet.dropped",
};

static const char *const meanings[KERNEL_NCOUNTERS] = {
    "a listen queue was full: connections were refused or their SYNs ignored (raise somaxconn / the server's backlog)",
    "SYNs dropped at a listening socket (queue full or no memory)",
    "SYNs dropped because the SYN queue was full (tcp_max_syn_backlog)",
    "SYN cookies sent because the SYN queue was full",
    "SYN cookies sent (SYN flood protection kicked in)",
    "TIME_WAIT sockets were not created: tcp_max_tw_buckets reached",
    "connections that entered TIME_WAIT (each holds a port for 60 s when the client closes first)",
    "TIME_WAIT sockets recycled",
    "connections aborted for lack of memory",
    "connections aborted after too many retransmission timeouts",
    "SYNs retransmitted: a connect took 1 s, 3 s, ... longer (dropped SYN)",
    "retransmission timeouts fired",
    "segments dropped because a socket backlog was full",
    "segments dropped because a receive queue was full",
    "TCP segments retransmitted",
    "connection attempts that failed (refused, reset or timed out)",
    "established connections reset",
    "resets sent",
    "TCP segments received with errors",
    "connections aborted with unread data",
    "packets dropped by the network stack before TCP (netdev_max_backlog full)",
};

const char *kernel_counter_meaning(int i)
{
    return i >= 0 && i < KERNEL_NCOUNTERS ? meanings[i] : "";
}

/* Sums column 2 (dropped, hex) of /proc/net/softnet_stat over CPUs. */
static int read_softnet(struct kernel_counters *k)
{
    FILE *f = fopen("/proc/net/softnet_stat", "r");
    if (!f) return -errno;
    unsigned long long total = 0, processed, dropped;
    char line[512];
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "%llx %llx", &processed, &dropped) == 2) total += dropped;
    fclose(f);
    k->value[KERNEL_NCOUNTERS - 1] = (int64_t)total;
    return 0;
}

const char *kernel_counter_name(int i)
{
    return i >= 0 && i < KERNEL_NCOUNTERS ? watched[i] : "";
}

/* Stores the value of prefix.name if it is watched. */
static void pick(struct kernel_counters *k, const char *prefix, const char *name, const char *val)
{
    char full[128];
    snprintf(full, sizeof(full), "%s.%s", prefix, name);
    for (int i = 0; i < KERNEL_NCOUNTERS; i++)
        if (strcmp(full, watched[i]) == 0) k->value[i] = strtoll(val, NULL, 10);
}

/* Parses one "names" line and its "values" line. */
static void parse_pair(struct kernel_counters *k, char *names, char *values)
{
    char *sn, *sv;
    char *prefix = strtok_r(names, ": \n", &sn);
    strtok_r(values, ": \n", &sv);
    if (!prefix) return;
    for (;;) {
        char *name = strtok_r(NULL, " \n", &sn);
        char *val = strtok_r(NULL, " \n", &sv);
        if (!name || !val) break;
        pick(k, prefix, name, val);
    }
}

/* Reads one /proc/net file of line pairs. */
static int read_file(struct kernel_counters *k, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return -errno;
    char names[8192], values[8192];
    while (fgets(names, sizeof(names), f) && fgets(values, sizeof(values), f))
        parse_pair(k, names, values);
    fclose(f);
    return 0;
}

int kernel_counters_read(struct kernel_counters *k)
{
    for (int i = 0; i < KERNEL_NCOUNTERS; i++)
        k->value[i] = -1;
    int a = read_file(k, "/proc/net/netstat");
    int b = read_file(k, "/proc/net/snmp");
    read_softnet(k);
    k->ok = a == 0 && b == 0;
    return a < 0 ? a : b;
}

int64_t kernel_counter_delta(const struct kernel_counters *before, const struct kernel_counters *after, int i)
{
    if (!before->ok || !after->ok || before->value[i] < 0 || after->value[i] < 0) return 0;
    return after->value[i] - before->value[i];
}

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
    "TcpExt.ListenOverflows",   "TcpExt.ListenDrops",       "TcpExt.TCPReqQFullDrop",
    "TcpExt.TCPReqQFullDoCookies", "TcpExt.SyncookiesSent", "TcpExt.TCPTimeWaitOverflow",
    "TcpExt.TW",                "TcpExt.TWRecycled",        "TcpExt.TCPAbortOnMemory",
    "TcpExt.TCPAbortOnTimeout", "TcpExt.TCPSynRetrans",     "TcpExt.TCPTimeouts",
    "TcpExt.TCPBacklogDrop",    "TcpExt.TCPRcvQDrop",       "Tcp.RetransSegs",
    "Tcp.AttemptFails",         "Tcp.EstabResets",          "Tcp.OutRsts",
    "Tcp.InErrs",               "TcpExt.TCPAbortOnData",
};

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
    while (fgets(names, sizeof(names), f) && fgets(values, sizeof(values), f)) parse_pair(k, names, values);
    fclose(f);
    return 0;
}

int kernel_counters_read(struct kernel_counters *k)
{
    for (int i = 0; i < KERNEL_NCOUNTERS; i++) k->value[i] = -1;
    int a = read_file(k, "/proc/net/netstat");
    int b = read_file(k, "/proc/net/snmp");
    k->ok = a == 0 && b == 0;
    return a < 0 ? a : b;
}

int64_t kernel_counter_delta(const struct kernel_counters *before, const struct kernel_counters *after, int i)
{
    if (!before->ok || !after->ok || before->value[i] < 0 || after->value[i] < 0) return 0;
    return after->value[i] - before->value[i];
}

/*
 * test_doctor.c — the /proc parsers of src/sys/sysctl.c, the sock_diag
 * reply parser of src/sys/sockdiag.c and the judgements of src/sys/doctor.c.
 *
 * Judgements run against recorded trees under tests/unit/data/doctor/:
 * "live" (copied from a stock 6.x kernel with conntrack loaded), "tuned"
 * (a load-generation box), "odd" (an old, small, half-readable machine:
 * garbage, missing files, a 10-column softnet_stat, cgroup v1 quota) and
 * "empty" (nothing readable at all). Only the listener tests touch the live
 * kernel, with a socket they open themselves.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "sys/doctor.h"
#include "sys/sockdiag.h"
#include "sys/sysctl.h"

/* ------------------------------------------------------------ helpers */

/* The path of a recorded tree; __FILE__ locates the data next to this file. */
static const char *data_root(const char *name)
{
    static char path[1024];
    const char *here = __FILE__, *cut = strstr(here, "test_doctor.c");
    snprintf(path, sizeof(path), "%.*sdata/doctor/%s", cut ? (int)(cut - here) : 0, here, name);
    return path;
}

/* The check called name, or NULL. */
static const struct doctor_check *find(const struct doctor_report *r, const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->checks[i].name, name) == 0) return &r->checks[i];
    return NULL;
}

/* Asserts the status of the check called name. */
static void expect(const struct doctor_report *r, const char *name, enum doctor_status want)
{
    const struct doctor_check *c = find(r, name);
    if (!c) fail_msg("no check '%s'", name);
    if (c->status != want)
        fail_msg("'%s' is %s, want %s (value: %s; fix: %s)", name, doctor_status_name(c->status),
                 doctor_status_name(want), c->value, c->fix);
}

/* Runs every check of a recorded tree with the given plan. */
static void check_tree(struct doctor_report *r, const char *tree, double rate, uint32_t conns, bool keepalive)
{
    struct doctor_plan plan;
    doctor_plan_init(&plan);
    plan.root = data_root(tree);
    plan.rate = rate;
    plan.connections = conns;
    plan.keepalive = keepalive;
    assert_int_equal(doctor_check_all(&plan, r), 0);
}

static struct doctor_report report; /* too big for a test's stack under ASan */

/* ------------------------------------------------------------ parsers */

struct ints_case {
    const char *text;
    int rc;
    int64_t v0, v1, v2;
};

static void test_parse_ints(void **state)
{
    static const struct ints_case cases[] = {
        {"4096\n", 1, 4096, 0, 0},
        {"32768\t60999\n", 2, 32768, 60999, 0},
        {"4096\t131072\t33554432\n", 3, 4096, 131072, 33554432},
        {"  7  ", 1, 7, 0, 0},
        {"9223372036854775807\n", 1, INT64_MAX, 0, 0},
        {"-1\n", 1, -1, 0, 0},
        {"1 2 3 4\n", 3, 1, 2, 3}, /* more than asked: the first ones */
        {"", -EINVAL, 0, 0, 0},
        {"\n", -EINVAL, 0, 0, 0},
        {"abc\n", -EINVAL, 0, 0, 0},
        {"12abc\n", -EINVAL, 0, 0, 0},
        {"1 x\n", -EINVAL, 0, 0, 0},
        {"99999999999999999999\n", -EINVAL, 0, 0, 0},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t v[3] = {0, 0, 0};
        int rc = sysctl_parse_ints(cases[i].text, v, 3);
        if (rc != cases[i].rc) fail_msg("'%s': rc %d, want %d", cases[i].text, rc, cases[i].rc);
        if (rc > 0 && (v[0] != cases[i].v0 || v[1] != cases[i].v1 || v[2] != cases[i].v2))
            fail_msg("'%s': %lld %lld %lld", cases[i].text, (long long)v[0], (long long)v[1], (long long)v[2]);
    }
}

struct ranges_case {
    const char *text;
    int64_t lo, hi;
    int rc;
    int64_t count;
};

static void test_parse_ranges(void **state)
{
    static const struct ranges_case cases[] = {
        {"0-1\n", 0, INT64_MAX, 0, 2},
        {"0-3,8,10-11\n", 0, INT64_MAX, 0, 7},
        {"5\n", 0, INT64_MAX, 0, 1},
        {"", 0, INT64_MAX, 0, 0},
        {"\n", 0, INT64_MAX, 0, 0},
        {"8080,9000-9009\n", 1024, 65535, 0, 11},
        {"60000-60099,70000\n", 60000, 60999, 0, 100}, /* 70000 lies outside the range */
        {"100-200\n", 150, 160, 0, 11},                /* clipped to [lo, hi] */
        {"3-1\n", 0, INT64_MAX, -EINVAL, 0},
        {"1-\n", 0, INT64_MAX, -EINVAL, 0},
        {"3,\n", 0, INT64_MAX, -EINVAL, 0},
        {",3\n", 0, INT64_MAX, -EINVAL, 0},
        {"a-b\n", 0, INT64_MAX, -EINVAL, 0},
        {"1 2\n", 0, INT64_MAX, -EINVAL, 0},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t count = -7;
        int rc = sysctl_parse_ranges(cases[i].text, cases[i].lo, cases[i].hi, &count);
        if (rc != cases[i].rc) fail_msg("'%s': rc %d, want %d", cases[i].text, rc, cases[i].rc);
        if (rc == 0 && count != cases[i].count)
            fail_msg("'%s': count %lld, want %lld", cases[i].text, (long long)count, (long long)cases[i].count);
    }
}

static void test_parse_limits(void **state)
{
    char text[4096];
    int64_t soft, hard;
    struct sysctl s;
    (void)state;
    assert_int_equal(sysctl_init(&s, data_root("live")), 0);
    assert_true(sysctl_read_file(&s, "proc/self/limits", text, sizeof(text)) > 0);
    assert_int_equal(sysctl_parse_limits(text, "Max open files", &soft, &hard), 0);
    assert_int_equal(soft, 20000);
    assert_int_equal(hard, 20000);
    assert_int_equal(sysctl_parse_limits(text, "Max cpu time", &soft, &hard), 0);
    assert_true(soft == INT64_MAX && hard == INT64_MAX); /* "unlimited" */
    assert_int_equal(sysctl_parse_limits(text, "Max stack size", &soft, &hard), 0);
    assert_true(soft == 8388608 && hard == INT64_MAX);
    assert_int_equal(sysctl_parse_limits(text, "Max teleports", &soft, &hard), -ENOENT);
    assert_int_equal(sysctl_parse_limits("Max open files  lots  1024 files\n", "Max open files", &soft, &hard),
                     -EINVAL);
    assert_int_equal(sysctl_parse_limits("Max open files  1024\n", "Max open files", &soft, &hard), -EINVAL);
    assert_int_equal(sysctl_parse_limits("", "Max open files", &soft, &hard), -ENOENT);
}

static void test_parse_field(void **state)
{
    char out[64];
    const char *status = "Name:\tsalvo\nCpus_allowed:\t3\nCpus_allowed_list:\t0-1\n";
    (void)state;
    assert_int_equal(sysctl_parse_field(status, "Cpus_allowed_list", out, sizeof(out)), 0);
    assert_string_equal(out, "0-1");
    assert_int_equal(sysctl_parse_field(status, "Cpus_allowed", out, sizeof(out)), 0);
    assert_string_equal(out, "3"); /* the key ends at its colon, so no prefix match */
    assert_int_equal(sysctl_parse_field(status, "Name", out, 3), 0);
    assert_string_equal(out, "sa"); /* truncated to the buffer */
    assert_int_equal(sysctl_parse_field(status, "Mems_allowed_list", out, sizeof(out)), -ENOENT);
    assert_int_equal(sysctl_parse_field("Cpus_allowed_list:\n", "Cpus_allowed_list", out, sizeof(out)), 0);
    assert_string_equal(out, "");
}

static void test_parse_softnet(void **state)
{
    char text[8192];
    uint64_t drops = 99;
    struct sysctl s;
    (void)state;
    assert_int_equal(sysctl_init(&s, data_root("live")), 0);
    assert_true(sysctl_read_file(&s, "proc/net/softnet_stat", text, sizeof(text)) > 0);
    assert_int_equal(sysctl_parse_softnet_drops(text, &drops), 2);
    assert_int_equal(drops, 0);
    assert_int_equal(sysctl_init(&s, data_root("odd")), 0); /* 10 columns, hex drops 0x12 and 0xa */
    assert_true(sysctl_read_file(&s, "proc/net/softnet_stat", text, sizeof(text)) > 0);
    assert_int_equal(sysctl_parse_softnet_drops(text, &drops), 2);
    assert_int_equal(drops, 28);
    assert_int_equal(sysctl_parse_softnet_drops("", &drops), -EINVAL);
    assert_int_equal(sysctl_parse_softnet_drops("00000001\n", &drops), -EINVAL);
    assert_int_equal(sysctl_parse_softnet_drops("zz 00000001\n", &drops), -EINVAL);
    assert_int_equal(sysctl_parse_softnet_drops("0000ffff 00000001", &drops), 1); /* no final newline */
    assert_int_equal(drops, 1);
}

static void test_parse_cpu_max(void **state)
{
    double cpus = -1;
    (void)state;
    assert_int_equal(sysctl_parse_cpu_max("max 100000\n", &cpus), 0);
    assert_true(cpus == 0);
    assert_int_equal(sysctl_parse_cpu_max("50000 100000\n", &cpus), 0);
    assert_true(cpus == 0.5);
    assert_int_equal(sysctl_parse_cpu_max("250000 100000\n", &cpus), 0);
    assert_true(cpus == 2.5);
    assert_int_equal(sysctl_parse_cpu_max("max\n", &cpus), -EINVAL);
    assert_int_equal(sysctl_parse_cpu_max("-5 100000\n", &cpus), -EINVAL);
    assert_int_equal(sysctl_parse_cpu_max("5 0\n", &cpus), -EINVAL);
    assert_int_equal(sysctl_parse_cpu_max("", &cpus), -EINVAL);
}

static void test_sysctl_read(void **state)
{
    struct sysctl s;
    int64_t v[2];
    char root[1100], small[4];
    (void)state;
    snprintf(root, sizeof(root), "%s//", data_root("live")); /* trailing slashes are dropped */
    assert_int_equal(sysctl_init(&s, root), 0);
    assert_int_equal(sysctl_get(&s, "net.ipv4.ip_local_port_range", v, 2), 2);
    assert_true(v[0] == 32768 && v[1] == 60999);
    assert_int_equal(sysctl_get_one(&s, "net.core.somaxconn", v), 0);
    assert_int_equal(v[0], 4096);
    assert_int_equal(sysctl_get_one(&s, "net.core.no_such_thing", v), -ENOENT);
    assert_int_equal(sysctl_read_file(&s, "proc/sys/net/core/somaxconn", small, sizeof(small)), 3);
    assert_string_equal(small, "409"); /* truncated, still terminated */
    assert_int_equal(sysctl_init(&s, data_root("odd")), 0);
    assert_int_equal(sysctl_get_one(&s, "net.core.somaxconn", v), -EINVAL);
    char huge[SYSCTL_ROOT_MAX + 10];
    memset(huge, 'a', sizeof(huge) - 1);
    huge[sizeof(huge) - 1] = '\0';
    assert_int_equal(sysctl_init(&s, huge), -ENAMETOOLONG);
    assert_int_equal(sysctl_init(&s, NULL), 0);
    assert_string_equal(s.root, "");
    assert_int_equal(sysctl_init(&s, "/"), 0);
    assert_string_equal(s.root, "");
}

struct target_case {
    const char *text;
    int rc;
    const char *host;
    uint16_t port;
};

static void test_parse_target(void **state)
{
    static const struct target_case cases[] = {
        {"127.0.0.1:8080", 0, "127.0.0.1", 8080},
        {"localhost:1", 0, "localhost", 1},
        {"[::1]:65535", 0, "::1", 65535},
        {"example.com:443", 0, "example.com", 443},
        {"127.0.0.1", -EINVAL, NULL, 0},
        {"127.0.0.1:", -EINVAL, NULL, 0},
        {":8080", -EINVAL, NULL, 0},
        {"127.0.0.1:0", -EINVAL, NULL, 0},
        {"127.0.0.1:65536", -EINVAL, NULL, 0},
        {"127.0.0.1:80x", -EINVAL, NULL, 0},
        {"127.0.0.1:-80", -EINVAL, NULL, 0},
        {"127.0.0.1:+80", -EINVAL, NULL, 0},
        {"::1:8080", -EINVAL, NULL, 0},
        {"[::1]8080", -EINVAL, NULL, 0},
        {"[::1:8080", -EINVAL, NULL, 0},
        {"[]:8080", -EINVAL, NULL, 0},
        {"", -EINVAL, NULL, 0},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char host[64] = "";
        uint16_t port = 0;
        int rc = doctor_parse_target(cases[i].text, host, sizeof(host), &port);
        if (rc != cases[i].rc) fail_msg("'%s': rc %d, want %d", cases[i].text, rc, cases[i].rc);
        if (rc == 0 && (strcmp(host, cases[i].host) != 0 || port != cases[i].port))
            fail_msg("'%s': host '%s' port %u", cases[i].text, host, port);
    }
    char tiny[4];
    uint16_t port;
    assert_int_equal(doctor_parse_target("localhost:80", tiny, sizeof(tiny), &port), -EINVAL);
}

/* ------------------------------------------------------------ judgements */

static void test_tuned_all_ok(void **state)
{
    (void)state;
    check_tree(&report, "tuned", 50000, 20000, false);
    for (size_t i = 0; i < report.n; i++)
        if (report.checks[i].status != DOCTOR_OK)
            fail_msg("'%s' is %s: %s", report.checks[i].name, doctor_status_name(report.checks[i].status),
                     report.checks[i].value);
    assert_null(find(&report, "net.netfilter.nf_conntrack_max")); /* no module, no check */
    assert_int_equal(report.count[DOCTOR_OK], report.n);
    /* 1024-65535 less the 11 reserved ports, reusable after 1 s. */
    assert_non_null(strstr(find(&report, "net.ipv4.ip_local_port_range")->value, "64501 ports / 1 s"));
    assert_non_null(strstr(find(&report, "cpufreq governor")->value, "performance (4 CPUs)"));
    assert_non_null(strstr(find(&report, "cpus")->value, "4 usable for 4 threads"));
}

/* The port budget of the live sample: 28232 ports / 60 s = 470 new connections/s. */
struct budget_case {
    double rate;
    uint32_t conns;
    bool keepalive;
    enum doctor_status want;
};

static void test_port_budget(void **state)
{
    static const struct budget_case cases[] = {
        {300, 0, false, DOCTOR_OK},   /* below 80 % of 470 */
        {400, 0, false, DOCTOR_WARN}, /* above 376 */
        {470, 0, false, DOCTOR_WARN},     {471, 0, false, DOCTOR_FAIL},
        {5000, 0, false, DOCTOR_FAIL},    {0, 0, false, DOCTOR_OK}, /* no rate: nothing to judge */
        {5000, 10000, true, DOCTOR_OK},                             /* keep-alive: connections against 28232 ports */
        {5000, 25000, true, DOCTOR_WARN}, {5000, 28233, true, DOCTOR_FAIL},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        check_tree(&report, "live", cases[i].rate, cases[i].conns, cases[i].keepalive);
        const struct doctor_check *c = find(&report, "net.ipv4.ip_local_port_range");
        assert_non_null(c);
        if (c->status != cases[i].want)
            fail_msg("case %zu: rate %g conns %u: %s, want %s (%s)", i, cases[i].rate, cases[i].conns,
                     doctor_status_name(c->status), doctor_status_name(cases[i].want), c->value);
    }
    check_tree(&report, "live", 5000, 0, false);
    assert_non_null(strstr(find(&report, "net.ipv4.ip_local_port_range")->value, "= 470 new conn/s"));
    /* Reuse alone is enough for 5000/s on 28232 ports; no wider range is needed. */
    assert_string_equal(find(&report, "net.ipv4.ip_local_port_range")->fix, "sysctl -w net.ipv4.tcp_tw_reuse=1");
    expect(&report, "net.ipv4.tcp_tw_reuse", DOCTOR_WARN);
}

static void test_tw_reuse_loopback_target(void **state)
{
    struct doctor_plan plan;
    (void)state;
    doctor_plan_init(&plan);
    plan.root = data_root("live");
    plan.rate = 5000;
    plan.keepalive = false;
    plan.target_host = "127.0.0.1";
    plan.target_port = 9; /* whether anything listens does not matter here */
    assert_int_equal(doctor_check_all(&plan, &report), 0);
    /* tcp_tw_reuse=2 covers loopback: 28232 ports reusable after 1 s. */
    expect(&report, "net.ipv4.ip_local_port_range", DOCTOR_OK);
    expect(&report, "net.ipv4.tcp_tw_reuse", DOCTOR_OK);
    assert_non_null(strstr(find(&report, "net.ipv4.tcp_tw_reuse")->value, "in effect"));
    assert_non_null(find(&report, "target listen backlog"));
    /* conntrack: 10000 connections + at most 28232 TIME_WAIT tuples fit in 262144. */
    expect(&report, "net.netfilter.nf_conntrack_max", DOCTOR_OK);
}

struct status_case {
    const char *name;
    enum doctor_status want;
};

static void test_odd_machine(void **state)
{
    static const struct status_case cases[] = {
        {"net.core.somaxconn", DOCTOR_WARN},           /* "abc" */
        {"net.ipv4.tcp_max_syn_backlog", DOCTOR_WARN}, /* 128 with syncookies off */
        {"net.ipv4.tcp_syncookies", DOCTOR_WARN},
        {"net.ipv4.ip_local_port_range", DOCTOR_FAIL}, /* 900 ports / 60 s = 15/s */
        {"net.ipv4.tcp_tw_reuse", DOCTOR_WARN},        /* on, but no timestamps */
        {"net.ipv4.tcp_fin_timeout", DOCTOR_WARN},
        {"net.ipv4.tcp_max_tw_buckets", DOCTOR_WARN},
        {"net.netfilter.nf_conntrack_max", DOCTOR_FAIL}, /* 60000 of 65536 in use */
        {"RLIMIT_NOFILE", DOCTOR_FAIL},                  /* hard 4096 */
        {"fs.file-max", DOCTOR_OK},                      /* no file-nr: judged on the max alone */
        {"fs.nr_open", DOCTOR_FAIL},
        {"net.core.netdev_max_backlog", DOCTOR_OK},
        {"net.ipv4.tcp_rmem", DOCTOR_WARN},
        {"net.ipv4.tcp_wmem", DOCTOR_WARN}, /* two values */
        {"net.core.rmem_max", DOCTOR_OK},
        {"net.core.wmem_max", DOCTOR_WARN}, /* missing */
        {"cpus", DOCTOR_WARN},              /* 8 threads on a 1.5-CPU quota */
        {"cpufreq governor", DOCTOR_WARN},
        {"timer slack", DOCTOR_OK}, /* missing: unknown */
    };
    (void)state;
    check_tree(&report, "odd", 2000, 5000, false);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect(&report, cases[i].name, cases[i].want);
    assert_non_null(strstr(find(&report, "net.ipv4.ip_local_port_range")->value, "900 ports"));
    assert_non_null(strstr(find(&report, "net.ipv4.ip_local_port_range")->fix, "tcp_timestamps=1"));
    assert_non_null(strstr(find(&report, "net.core.netdev_max_backlog")->value, "28 packets dropped"));
    assert_non_null(strstr(find(&report, "cpus")->value, "cgroup quota 1.50"));
    assert_non_null(strstr(find(&report, "cpufreq governor")->value, "powersave on 2 of 3 CPUs"));
    assert_string_equal(find(&report, "RLIMIT_NOFILE")->fix, "sysctl -w fs.nr_open=1048576 && ulimit -n 1048576");
    assert_string_equal(find(&report, "net.core.somaxconn")->value, "unknown: not a number");
    assert_int_equal(report.count[DOCTOR_FAIL], 4);
}

static void test_empty_tree(void **state)
{
    (void)state;
    check_tree(&report, "empty", 1000, 0, false);
    assert_int_equal(report.count[DOCTOR_FAIL], 0); /* nothing known, nothing failed */
    expect(&report, "net.ipv4.ip_local_port_range", DOCTOR_WARN);
    expect(&report, "net.ipv4.tcp_tw_reuse", DOCTOR_WARN);
    expect(&report, "RLIMIT_NOFILE", DOCTOR_WARN);
    expect(&report, "cpufreq governor", DOCTOR_OK);
    assert_null(find(&report, "net.netfilter.nf_conntrack_max"));
    for (size_t i = 0; i < report.n; i++)
        assert_true(report.checks[i].value[0] != '\0');
    unsigned total = report.count[DOCTOR_OK] + report.count[DOCTOR_WARN] + report.count[DOCTOR_FAIL];
    assert_int_equal(total, report.n);
}

static void test_findings(void **state)
{
    const struct doctor_check *found[40];
    char line[1024];
    (void)state;
    check_tree(&report, "odd", 2000, 5000, false);
    size_t n = doctor_findings(&report, DOCTOR_WARN, found, 40);
    assert_int_equal(n, report.count[DOCTOR_WARN] + report.count[DOCTOR_FAIL]);
    for (size_t i = 0; i < n; i++) {
        assert_true(found[i]->status != DOCTOR_OK);
        if (i > 0) assert_true(found[i - 1]->status >= found[i]->status); /* fails first */
    }
    assert_int_equal(doctor_findings(&report, DOCTOR_FAIL, found, 2), 4); /* counts past max */
    assert_int_equal(found[0]->status, DOCTOR_FAIL);
    assert_string_equal(found[0]->name, "net.ipv4.ip_local_port_range"); /* report order within a status */
    doctor_format_line(found[0], line, sizeof(line));
    assert_non_null(strstr(line, "fail net.ipv4.ip_local_port_range = 60000 60999"));
    assert_non_null(strstr(line, "EADDRNOTAVAIL"));
    assert_non_null(strstr(line, "; fix: sysctl -w"));
    check_tree(&report, "tuned", 1000, 100, true);
    assert_int_equal(doctor_findings(&report, DOCTOR_WARN, found, 40), 0);
    assert_string_equal(doctor_status_name(DOCTOR_NSTATUS), "unknown");
}

/* ------------------------------------------------------------ sock_diag */

/* Appends one netlink message of type with payload to buf at *off. */
static void put_msg(char *buf, size_t *off, uint16_t type, const void *payload, size_t len)
{
    struct nlmsghdr h = {.nlmsg_len = (uint32_t)NLMSG_LENGTH(len), .nlmsg_type = type};
    memcpy(buf + *off, &h, sizeof(h));
    memcpy(buf + *off + NLMSG_HDRLEN, payload, len);
    *off += NLMSG_ALIGN(h.nlmsg_len);
}

/* A diag message for a socket in state on port with the given queues. */
static struct inet_diag_msg diag(uint8_t state, uint16_t port, uint32_t backlog, uint32_t queued)
{
    struct inet_diag_msg m;
    memset(&m, 0, sizeof(m));
    m.idiag_family = AF_INET;
    m.idiag_state = state;
    m.id.idiag_sport = htons(port);
    m.id.idiag_src[0] = htonl(INADDR_LOOPBACK);
    m.idiag_wqueue = backlog;
    m.idiag_rqueue = queued;
    m.idiag_inode = 42;
    return m;
}

static void test_sockdiag_parse(void **state)
{
    long aligned[1024];
    char *buf = (char *)aligned;
    size_t off = 0, found = 0;
    struct sockdiag_listener out[1];
    (void)state;
    struct inet_diag_msg a = diag(TCP_LISTEN, 8080, 511, 3), b = diag(TCP_LISTEN, 9090, 5, 0),
                         c = diag(TCP_ESTABLISHED, 8080, 0, 0), d = diag(TCP_LISTEN, 8080, 128, 0);
    put_msg(buf, &off, SOCK_DIAG_BY_FAMILY, &a, sizeof(a));
    put_msg(buf, &off, SOCK_DIAG_BY_FAMILY, &b, sizeof(b));
    put_msg(buf, &off, SOCK_DIAG_BY_FAMILY, &c, sizeof(c));
    assert_int_equal(sockdiag_parse(buf, off, 8080, out, 1, &found), 0); /* no DONE yet */
    assert_int_equal(found, 1);
    assert_int_equal(out[0].backlog, 511);
    assert_int_equal(out[0].queued, 3);
    assert_int_equal(out[0].port, 8080);
    assert_int_equal(out[0].family, AF_INET);
    assert_memory_equal(out[0].addr, "\x7f\0\0\x01", 4);
    off = 0;
    int done = 0;
    put_msg(buf, &off, SOCK_DIAG_BY_FAMILY, &d, sizeof(d));
    put_msg(buf, &off, NLMSG_DONE, &done, sizeof(done));
    assert_int_equal(sockdiag_parse(buf, off, 8080, out, 1, &found), 1);
    assert_int_equal(found, 2);            /* counted past max */
    assert_int_equal(out[0].backlog, 511); /* out[0] untouched */

    struct nlmsgerr err;
    memset(&err, 0, sizeof(err));
    err.error = -ENOENT;
    off = 0;
    put_msg(buf, &off, NLMSG_ERROR, &err, sizeof(err));
    assert_int_equal(sockdiag_parse(buf, off, 8080, out, 1, &found), -ENOENT);

    off = 0;
    put_msg(buf, &off, SOCK_DIAG_BY_FAMILY, &a, 8); /* shorter than inet_diag_msg */
    assert_int_equal(sockdiag_parse(buf, off, 8080, out, 1, &found), -EBADMSG);
    off = 0;
    put_msg(buf, &off, SOCK_DIAG_BY_FAMILY, &a, sizeof(a));
    assert_int_equal(sockdiag_parse(buf, off - 4, 8080, out, 1, &found), -EBADMSG); /* cut short */
    assert_int_equal(sockdiag_parse(buf, 0, 8080, out, 1, &found), 0);
}

/* Opens a loopback listener with backlog on an ephemeral port. */
static int listen_on_loopback(int backlog, uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, backlog), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

static void test_sockdiag_live(void **state)
{
    uint16_t port;
    struct sockdiag_listener out[4];
    size_t found = 0;
    (void)state;
    int fd = listen_on_loopback(7, &port);
    int rc = sockdiag_listeners(port, out, 4, &found);
    if (rc == -EPROTONOSUPPORT || rc == -ENOENT) {
        close(fd);
        skip(); /* a kernel without tcp_diag */
    }
    assert_int_equal(rc, 0);
    assert_int_equal(found, 1);
    assert_int_equal(out[0].backlog, 7);
    assert_int_equal(out[0].queued, 0);
    assert_int_equal(out[0].port, port);
    close(fd);
    assert_int_equal(sockdiag_listeners(port, out, 4, &found), 0);
    assert_int_equal(found, 0);
}

static void test_target_backlog_live(void **state)
{
    uint16_t port;
    struct doctor_plan plan;
    (void)state;
    int fd = listen_on_loopback(7, &port);
    doctor_plan_init(&plan);
    plan.rate = 1000;
    plan.target_host = "127.0.0.1";
    plan.target_port = port;
    assert_int_equal(doctor_check_all(&plan, &report), 0);
    close(fd);
    const struct doctor_check *c = find(&report, "target listen backlog");
    assert_non_null(c);
    if (strstr(c->value, "sock_diag")) skip();
    if (!strstr(c->value, "listens with backlog 7")) fail_msg("value: %s", c->value);
    assert_int_equal(c->status, DOCTOR_WARN); /* 7 < 128 */
    assert_non_null(strstr(c->fix, "backlog"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_ints),
        cmocka_unit_test(test_parse_ranges),
        cmocka_unit_test(test_parse_limits),
        cmocka_unit_test(test_parse_field),
        cmocka_unit_test(test_parse_softnet),
        cmocka_unit_test(test_parse_cpu_max),
        cmocka_unit_test(test_sysctl_read),
        cmocka_unit_test(test_parse_target),
        cmocka_unit_test(test_tuned_all_ok),
        cmocka_unit_test(test_port_budget),
        cmocka_unit_test(test_tw_reuse_loopback_target),
        cmocka_unit_test(test_odd_machine),
        cmocka_unit_test(test_empty_tree),
        cmocka_unit_test(test_findings),
        cmocka_unit_test(test_sockdiag_parse),
        cmocka_unit_test(test_sockdiag_live),
        cmocka_unit_test(test_target_backlog_live),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * doctor_net.c — the network checks of the doctor: listen queues, local
 * ports and TIME_WAIT, conntrack, buffers (see doctor.h).
 *
 * The rules, and why:
 *   - A listener's queue must absorb the connections that arrive while the
 *     server is not accepting; net.core.somaxconn caps every backlog.
 *     Since Linux 4.4 tcp_max_syn_backlog only matters with syncookies off.
 *   - The client that closes first keeps the port in TIME_WAIT for 60 s
 *     (TCP_TIMEWAIT_LEN, not tunable; tcp_fin_timeout is a different
 *     state). So without keep-alive one destination ip:port gets at most
 *     ports / 60 new connections per second, unless tcp_tw_reuse lets
 *     connect() take over a TIME_WAIT port after tcp_tw_reuse_delay (1 s
 *     by default) — which needs TCP timestamps, and which the default
 *     value 2 allows only for loopback. With keep-alive the limit is that
 *     many concurrent connections instead.
 *   - conntrack keeps TIME_WAIT entries 120 s, so it needs room for
 *     rate x 120 s plus the open connections; but entries are per
 *     address/port tuple and a new SYN reopens a TIME_WAIT entry, so one
 *     destination never needs more than its port range.
 *   - Packets on loopback pass through the per-CPU input backlog twice
 *     (once per direction), so netdev_max_backlog must hold a few
 *     milliseconds of the planned packet rate per CPU.
 *   - salvo sets no SO_RCVBUF/SO_SNDBUF, so its buffers are autotuned up
 *     to tcp_rmem/tcp_wmem[2]; rmem_max/wmem_max only cap servers that set
 *     their buffers explicitly, and are reported, never judged.
 * Warnings start at 80 % of a budget: near the end of the port range,
 * connect() spends its time searching for a free port.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "sys/doctor_checks.h"

#define TIME_WAIT_S 60.0
#define NEAR_LIMIT 0.8
/* What 1024-65535 gives: the widest range that leaves privileged ports alone. */
#define WIDEST_PORTS 64512.0

/* Whether settings here matter: not when the target is known to be elsewhere. */
static bool server_may_be_here(const struct doctor_ctx *ctx)
{
    return !(ctx->target_given && ctx->target_resolved && !ctx->target_local);
}

/* Judges a setting that must be >= rec for servers on this machine. */
static void judge_listen_setting(struct doctor_ctx *ctx, struct doctor_check *c, int64_t v, int64_t rec, bool consulted)
{
    DOCTOR_SET(c->recommended, ">= %lld", (long long)rec);
    if (v < rec) DOCTOR_SET(c->fix, "sysctl -w %s=%lld", c->name, (long long)rec);
    if (!server_may_be_here(ctx)) {
        DOCTOR_SET(c->value, "%lld (matters to servers on this machine; the target is not)", (long long)v);
        return;
    }
    DOCTOR_SET(c->value, "%lld%s", (long long)v, consulted ? "" : " (unused while syncookies are on)");
    if (consulted && v < rec) c->status = DOCTOR_WARN;
}

void doctor_check_listen(struct doctor_ctx *ctx, struct doctor_report *r)
{
    int64_t rec = doctor_pow2(ctx->listen_needed);
    if (rec < 4096) rec = 4096; /* the default since Linux 5.4 */
    int64_t somaxconn, backlog, cookies = -1;
    bool cookies_known = sysctl_get_one(&ctx->sys, "net.ipv4.tcp_syncookies", &cookies) == 0;

    if (doctor_read(ctx, r, "net.core.somaxconn", &somaxconn, 1)) {
        ctx->somaxconn = somaxconn;
        struct doctor_check *c = doctor_add(r, "net.core.somaxconn");
        judge_listen_setting(ctx, c, somaxconn, rec, true);
        DOCTOR_SET(c->symptom, "caps every listen() backlog: a full accept queue drops SYNs (ListenOverflows, "
                               "ListenDrops) and connects take 1 s, then 3 s longer");
    }
    if (doctor_read(ctx, r, "net.ipv4.tcp_max_syn_backlog", &backlog, 1)) {
        struct doctor_check *c = doctor_add(r, "net.ipv4.tcp_max_syn_backlog");
        judge_listen_setting(ctx, c, backlog, rec, !cookies_known || cookies == 0);
        DOCTOR_SET(c->symptom, "with tcp_syncookies=0, SYNs beyond 3/4 of it are dropped (TCPReqQFullDrop) and "
                               "connects take 1 s, then 3 s longer");
    }
    if (doctor_read(ctx, r, "net.ipv4.tcp_syncookies", &cookies, 1)) {
        struct doctor_check *c = doctor_add(r, "net.ipv4.tcp_syncookies");
        static const char *const meaning[] = {"off", "when the SYN queue is full", "always"};
        DOCTOR_SET(c->value, "%lld (%s)", (long long)cookies,
                   cookies >= 0 && cookies <= 2 ? meaning[cookies] : "unknown value");
        DOCTOR_SET(c->recommended, "1");
        DOCTOR_SET(c->symptom, "0: a full SYN queue drops SYNs, connects take 1 s, then 3 s longer; 2: every "
                               "connection is made by cookie (SyncookiesSent) and may lose TCP options");
        if (cookies != 1) {
            DOCTOR_SET(c->fix, "sysctl -w net.ipv4.tcp_syncookies=1");
            if (server_may_be_here(ctx)) c->status = DOCTOR_WARN;
        }
    }
}

/* What the port range allows for one destination ip:port. */
struct port_budget {
    int64_t lo, hi, ports; /* ports is -1 when the range is unreadable */
    int64_t tw_reuse;      /* -1 when unreadable */
    int64_t timestamps;    /* -1 when unreadable */
    double reuse_delay_s;  /* how old a TIME_WAIT port must be before reuse */
    bool reuse_usable;     /* connect() may take over TIME_WAIT ports to this target */
    double window_s;       /* how long one new connection holds its port */
    double per_s;          /* new connections per second per destination */
};

/* Reads the range, reserved ports and reuse settings; an unreadable range
 * is reported here and leaves ports at -1. */
static void read_port_budget(struct doctor_ctx *ctx, struct doctor_report *r, struct port_budget *b)
{
    int64_t range[2], delay_ms = 1000, reserved = 0;
    char text[4096];
    b->ports = -1;
    if (doctor_read(ctx, r, "net.ipv4.ip_local_port_range", range, 2)) {
        b->lo = range[0];
        b->hi = range[1];
        if (sysctl_read_file(&ctx->sys, "proc/sys/net/ipv4/ip_local_reserved_ports", text, sizeof(text)) >= 0)
            sysctl_parse_ranges(text, b->lo, b->hi, &reserved);
        b->ports = b->hi >= b->lo ? b->hi - b->lo + 1 - reserved : 0;
        if (b->ports < 0) b->ports = 0;
    }
    if (sysctl_get_one(&ctx->sys, "net.ipv4.tcp_tw_reuse", &b->tw_reuse) < 0) b->tw_reuse = -1;
    if (sysctl_get_one(&ctx->sys, "net.ipv4.tcp_timestamps", &b->timestamps) < 0) b->timestamps = -1;
    sysctl_get_one(&ctx->sys, "net.ipv4.tcp_tw_reuse_delay", &delay_ms); /* Linux >= 6.14 */
    b->reuse_delay_s = delay_ms > 0 ? (double)delay_ms / 1000 : 1;
    b->reuse_usable = b->timestamps != 0 && (b->tw_reuse == 1 || (b->tw_reuse == 2 && ctx->target_loopback));
    b->window_s = b->reuse_usable ? b->reuse_delay_s : TIME_WAIT_S;
    b->per_s = floor((double)b->ports / b->window_s);
}

/* The command that makes rate new connections/s fit, or advice when none
 * does. A wider range is preferred to reuse: it changes no TCP semantics. */
static void port_fix(const struct port_budget *b, double rate, char *fix, size_t cap)
{
    const char *widen = "sysctl -w net.ipv4.ip_local_port_range=\"1024 65535\"";
    const char *stamps = b->timestamps == 0 ? " && sysctl -w net.ipv4.tcp_timestamps=1" : "";
    double reuse_ports = rate * b->reuse_delay_s;
    if (rate * b->window_s <= WIDEST_PORTS * NEAR_LIMIT) {
        doctor_set(fix, cap, "%s", widen);
    } else if (!b->reuse_usable && reuse_ports <= (double)b->ports * NEAR_LIMIT) {
        doctor_set(fix, cap, "sysctl -w net.ipv4.tcp_tw_reuse=1%s", stamps);
    } else if (!b->reuse_usable && reuse_ports <= WIDEST_PORTS * NEAR_LIMIT) {
        doctor_set(fix, cap, "%s && sysctl -w net.ipv4.tcp_tw_reuse=1%s", widen, stamps);
    } else {
        doctor_set(fix, cap,
                   "no port range is enough: keep connections alive, or spread the load over several "
                   "target addresses");
    }
}

/* net.ipv4.ip_local_port_range against connections (keep-alive) or the new-connection rate. */
static void check_port_range(struct doctor_ctx *ctx, struct doctor_report *r, const struct port_budget *b)
{
    struct doctor_check *c = doctor_add(r, "net.ipv4.ip_local_port_range");
    DOCTOR_SET(c->symptom, "connect fails with EADDRNOTAVAIL (addr_not_avail errors) once every port to the "
                           "target is open or in TIME_WAIT; connect() burns CPU searching");
    double need, have;
    if (ctx->plan->keepalive) {
        need = ctx->connections;
        have = (double)b->ports;
        DOCTOR_SET(c->value, "%lld %lld (%lld ports)", (long long)b->lo, (long long)b->hi, (long long)b->ports);
        DOCTOR_SET(c->recommended, ">= %u ports (one per connection)", ctx->connections);
        if (need > have * NEAR_LIMIT)
            DOCTOR_SET(c->fix, "%s",
                       need <= WIDEST_PORTS * NEAR_LIMIT ? "sysctl -w net.ipv4.ip_local_port_range=\"1024 65535\""
                                                         : "fewer connections per target address");
    } else {
        need = ctx->new_conn_rate;
        have = b->per_s;
        DOCTOR_SET(c->value, "%lld %lld (%lld ports / %g s %s = %.0f new conn/s)", (long long)b->lo, (long long)b->hi,
                   (long long)b->ports, b->window_s, b->reuse_usable ? "to reuse" : "TIME_WAIT", b->per_s);
        if (need > 0)
            DOCTOR_SET(c->recommended, ">= %.0f ports (%.0f/s x %g s)", need * b->window_s, need, b->window_s);
        else
            DOCTOR_SET(c->recommended, "1024 65535 (give --rate to judge)");
        if (need > have * NEAR_LIMIT) port_fix(b, need, c->fix, sizeof(c->fix));
    }
    if (need > have)
        c->status = DOCTOR_FAIL;
    else if (need > have * NEAR_LIMIT)
        c->status = DOCTOR_WARN;
}

/* net.ipv4.tcp_tw_reuse: 0 off, 1 on, 2 loopback only. */
static void check_tw_reuse(struct doctor_ctx *ctx, struct doctor_report *r, const struct port_budget *b)
{
    if (b->tw_reuse < 0) {
        int64_t unread;
        doctor_read(ctx, r, "net.ipv4.tcp_tw_reuse", &unread, 1); /* reports why it is unknown */
        return;
    }
    struct doctor_check *c = doctor_add(r, "net.ipv4.tcp_tw_reuse");
    static const char *const meaning[] = {"off", "on", "loopback only"};
    const char *effect = b->timestamps == 0   ? "tcp_timestamps=0 disables it"
                         : b->reuse_usable    ? "in effect"
                         : b->tw_reuse == 0   ? "not in effect"
                         : !ctx->target_given ? "no target given: not counted on"
                                              : "the target is not loopback: not in effect";
    DOCTOR_SET(c->value, "%lld (%s; %s)", (long long)b->tw_reuse, b->tw_reuse <= 2 ? meaning[b->tw_reuse] : "unknown",
               effect);
    DOCTOR_SET(c->recommended, "%s", ctx->plan->keepalive ? "2 (default)" : "1, or 2 for a loopback target");
    DOCTOR_SET(c->symptom, "without reuse a port stays in TIME_WAIT for 60 s after salvo closes: at most "
                           "ports / 60 new connections/s per destination");
    bool needed = b->ports >= 0 && ctx->new_conn_rate > (double)b->ports / TIME_WAIT_S * NEAR_LIMIT;
    if (!b->reuse_usable && !ctx->plan->keepalive) {
        DOCTOR_SET(c->fix, "sysctl -w net.ipv4.tcp_tw_reuse=1%s",
                   b->timestamps == 0 ? " && sysctl -w net.ipv4.tcp_timestamps=1" : "");
        if (needed) c->status = DOCTOR_WARN;
    }
}

/* net.ipv4.tcp_fin_timeout: FIN_WAIT_2, often mistaken for TIME_WAIT. */
static void check_fin_timeout(struct doctor_ctx *ctx, struct doctor_report *r)
{
    int64_t v;
    if (!doctor_read(ctx, r, "net.ipv4.tcp_fin_timeout", &v, 1)) return;
    struct doctor_check *c = doctor_add(r, "net.ipv4.tcp_fin_timeout");
    DOCTOR_SET(c->value, "%lld s", (long long)v);
    DOCTOR_SET(c->recommended, "<= 60 s");
    DOCTOR_SET(c->symptom, "orphaned FIN_WAIT_2 connections hold their port this long; it does not shorten "
                           "TIME_WAIT (fixed at 60 s)");
    if (v > 60) {
        DOCTOR_SET(c->fix, "sysctl -w net.ipv4.tcp_fin_timeout=60");
        if (!ctx->plan->keepalive) c->status = DOCTOR_WARN;
    }
}

/* net.ipv4.tcp_max_tw_buckets against the TIME_WAIT sockets the plan leaves. */
static void check_tw_buckets(struct doctor_ctx *ctx, struct doctor_report *r, const struct port_budget *b)
{
    int64_t v;
    if (!doctor_read(ctx, r, "net.ipv4.tcp_max_tw_buckets", &v, 1)) return;
    struct doctor_check *c = doctor_add(r, "net.ipv4.tcp_max_tw_buckets");
    /* One destination cannot hold more TIME_WAIT sockets than ports. */
    double need = ctx->new_conn_rate * TIME_WAIT_S;
    if (b->ports >= 0 && need > (double)b->ports) need = (double)b->ports;
    DOCTOR_SET(c->value, "%lld (machine-wide)", (long long)v);
    DOCTOR_SET(c->symptom, "TIME_WAIT sockets are destroyed early (TCPTimeWaitOverflow, \"time wait bucket "
                           "table overflow\"); late segments of old connections can hit new ones");
    if (need <= 0) {
        if (b->ports >= 0) DOCTOR_SET(c->recommended, ">= %lld (the port range)", (long long)b->ports);
        return;
    }
    DOCTOR_SET(c->recommended, ">= %.0f (TIME_WAIT sockets: %.0f/s x 60 s, at most the ports)", need,
               ctx->new_conn_rate);
    if ((double)v < need) {
        c->status = DOCTOR_WARN;
        DOCTOR_SET(c->fix, "sysctl -w net.ipv4.tcp_max_tw_buckets=%lld", (long long)doctor_pow2((int64_t)need * 2));
    }
}

/* net.netfilter.nf_conntrack_max, only when the conntrack module is loaded. */
static void check_conntrack(struct doctor_ctx *ctx, struct doctor_report *r, int64_t ports)
{
    int64_t max, count = 0, tw_timeout = 120;
    if (sysctl_get_one(&ctx->sys, "net.netfilter.nf_conntrack_max", &max) == -ENOENT) return;
    if (!doctor_read(ctx, r, "net.netfilter.nf_conntrack_max", &max, 1)) return;
    sysctl_get_one(&ctx->sys, "net.netfilter.nf_conntrack_count", &count);
    sysctl_get_one(&ctx->sys, "net.netfilter.nf_conntrack_tcp_timeout_time_wait", &tw_timeout);
    struct doctor_check *c = doctor_add(r, "net.netfilter.nf_conntrack_max");
    double closed = ctx->new_conn_rate * (double)tw_timeout;
    if (ports > 0 && closed > (double)ports) closed = (double)ports;
    double need = ctx->connections + closed;
    double room = (double)(max - count);
    DOCTOR_SET(c->value, "%lld (%lld in use)", (long long)max, (long long)count);
    if (ctx->new_conn_rate > 0)
        DOCTOR_SET(c->recommended, ">= %.0f (in use + connections + %.0f TIME_WAIT entries)", need + (double)count,
                   closed);
    else
        DOCTOR_SET(c->recommended, ">= %.0f (connections + in use)", need + (double)count);
    DOCTOR_SET(c->symptom, "\"nf_conntrack: table full, dropping packet\" in dmesg; new connections time out");
    if (need > room * NEAR_LIMIT)
        DOCTOR_SET(c->fix, "sysctl -w net.netfilter.nf_conntrack_max=%lld",
                   (long long)doctor_pow2((int64_t)(need + (double)count) * 2));
    if (need > room)
        c->status = DOCTOR_FAIL;
    else if (need > room * NEAR_LIMIT)
        c->status = DOCTOR_WARN;
}

void doctor_check_ports(struct doctor_ctx *ctx, struct doctor_report *r)
{
    struct port_budget b;
    memset(&b, 0, sizeof(b));
    read_port_budget(ctx, r, &b);
    if (b.ports >= 0) check_port_range(ctx, r, &b);
    check_tw_reuse(ctx, r, &b);
    check_fin_timeout(ctx, r);
    check_tw_buckets(ctx, r, &b);
    check_conntrack(ctx, r, b.ports);
}

/* Packets per request in both directions: request, response and ACKs with
 * keep-alive; the handshake and both FINs on top without it. */
#define PACKETS_KEEPALIVE 4
#define PACKETS_NEW_CONN 10
/* How long a CPU's input backlog must bridge when softirq processing lags. */
#define BACKLOG_BRIDGE_S 0.01

/* net.core.netdev_max_backlog against the planned packet rate per CPU. */
static void check_netdev_backlog(struct doctor_ctx *ctx, struct doctor_report *r)
{
    int64_t v;
    if (!doctor_read(ctx, r, "net.core.netdev_max_backlog", &v, 1)) return;
    struct doctor_check *c = doctor_add(r, "net.core.netdev_max_backlog");
    char text[8192];
    uint64_t drops = 0;
    int rows = sysctl_read_file(&ctx->sys, "proc/net/softnet_stat", text, sizeof(text)) >= 0
                   ? sysctl_parse_softnet_drops(text, &drops)
                   : -1;
    if (rows > 0)
        DOCTOR_SET(c->value, "%lld (%llu packets dropped since boot)", (long long)v, (unsigned long long)drops);
    else
        DOCTOR_SET(c->value, "%lld", (long long)v);
    DOCTOR_SET(c->symptom, "packets are dropped before TCP sees them (column 2 of /proc/net/softnet_stat); "
                           "retransmissions add 200 ms or more");
    double cpus = ctx->usable_cpus >= 1 ? ctx->usable_cpus : 1;
    double pps = ctx->rate * (ctx->plan->keepalive ? PACKETS_KEEPALIVE : PACKETS_NEW_CONN);
    double need = pps / cpus * BACKLOG_BRIDGE_S;
    if (need <= (double)v) {
        DOCTOR_SET(c->recommended, ">= %lld", (long long)(v > 1000 ? v : 1000));
        return;
    }
    int64_t rec = doctor_pow2((int64_t)need);
    DOCTOR_SET(c->recommended, ">= %lld (%.0f packets/s per CPU x 10 ms)", (long long)rec, pps / cpus);
    DOCTOR_SET(c->fix, "sysctl -w net.core.netdev_max_backlog=%lld", (long long)rec);
    c->status = DOCTOR_WARN;
}

/* tcp_rmem / tcp_wmem: the autotuning ceiling is the third value. */
static void check_tcp_mem(struct doctor_ctx *ctx, struct doctor_report *r, const char *name, int64_t rec_max)
{
    int64_t v[3];
    if (!doctor_read(ctx, r, name, v, 3)) return;
    struct doctor_check *c = doctor_add(r, name);
    DOCTOR_SET(c->value, "%lld %lld %lld", (long long)v[0], (long long)v[1], (long long)v[2]);
    DOCTOR_SET(c->recommended, "max >= %lld", (long long)rec_max);
    DOCTOR_SET(c->symptom, "autotuning stops at the max: throughput per connection is capped near max / RTT "
                           "(large responses, distant targets)");
    if (v[2] < rec_max) {
        c->status = DOCTOR_WARN;
        DOCTOR_SET(c->fix, "sysctl -w %s=\"%lld %lld %lld\"", name, (long long)v[0], (long long)v[1],
                   (long long)rec_max);
    }
}

/* rmem_max / wmem_max: caps on explicit SO_RCVBUF/SO_SNDBUF only. */
static void check_core_mem(struct doctor_ctx *ctx, struct doctor_report *r, const char *name, const char *opt)
{
    int64_t v, rec = 4194304;
    if (!doctor_read(ctx, r, name, &v, 1)) return;
    struct doctor_check *c = doctor_add(r, name);
    DOCTOR_SET(c->value, "%lld (caps explicit %s only)", (long long)v, opt);
    DOCTOR_SET(c->recommended, ">= %lld for servers that set %s", (long long)rec, opt);
    DOCTOR_SET(c->symptom,
               "a server that sets %s (nginx rcvbuf=/sndbuf=) silently gets at most this; "
               "throughput capped near buffer / RTT",
               opt);
    if (v < rec) DOCTOR_SET(c->fix, "sysctl -w %s=%lld", name, (long long)rec);
}

/* tcp_slow_start_after_idle: matters to idle keep-alive connections. */
static void check_slow_start(struct doctor_ctx *ctx, struct doctor_report *r)
{
    int64_t v;
    if (!doctor_read(ctx, r, "net.ipv4.tcp_slow_start_after_idle", &v, 1)) return;
    struct doctor_check *c = doctor_add(r, "net.ipv4.tcp_slow_start_after_idle");
    DOCTOR_SET(c->value, "%lld%s", (long long)v,
               ctx->plan->keepalive ? "" : " (no keep-alive: every connection starts slow anyway)");
    DOCTOR_SET(c->recommended, "0");
    DOCTOR_SET(c->symptom, "a keep-alive connection idle longer than its RTO restarts from the initial "
                           "congestion window: responses above ~14 KB take extra round trips");
    if (v != 0) {
        DOCTOR_SET(c->fix, "sysctl -w net.ipv4.tcp_slow_start_after_idle=0");
        if (ctx->plan->keepalive) c->status = DOCTOR_WARN;
    }
}

void doctor_check_buffers(struct doctor_ctx *ctx, struct doctor_report *r)
{
    check_netdev_backlog(ctx, r);
    check_tcp_mem(ctx, r, "net.ipv4.tcp_rmem", 6291456); /* the kernel's default max */
    check_tcp_mem(ctx, r, "net.ipv4.tcp_wmem", 4194304);
    check_core_mem(ctx, r, "net.core.rmem_max", "SO_RCVBUF");
    check_core_mem(ctx, r, "net.core.wmem_max", "SO_SNDBUF");
    check_slow_start(ctx, r);
}

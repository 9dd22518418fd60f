/*
 * doctor_target.c — the doctor's look at the target: where it is, and the
 * accept queue its listener really has (see doctor.h, sockdiag.h).
 *
 * The target is resolved once and probed with a bind() of a UDP socket to
 * its address, which succeeds exactly when the address belongs to this
 * machine; only then can its listener be seen, and only in this network
 * namespace. A listener matches when it is bound to the target's address
 * or to a wildcard address (an IPv6 "::" listener usually takes IPv4 too).
 * With SO_REUSEPORT several sockets share the port; the smallest backlog
 * is the one a new connection may hit.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sys/doctor.h"
#include "sys/doctor_checks.h"
#include "sys/sockdiag.h"

#define MAX_LISTENERS 64

static const uint8_t zeros[16];
static const uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* True for 127.0.0.0/8, ::1 and ::ffff:127.x.y.z. */
static bool is_loopback(int family, const uint8_t *addr)
{
    static const uint8_t v6_loopback[16] = {[15] = 1};
    if (family == AF_INET) return addr[0] == 127;
    if (memcmp(addr, v6_loopback, 16) == 0) return true;
    return memcmp(addr, v4_mapped_prefix, 12) == 0 && addr[12] == 127;
}

/* True when addr is one of this machine's addresses. */
static bool is_local(const struct sockaddr *sa, socklen_t len)
{
    int fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    struct sockaddr_storage probe;
    memcpy(&probe, sa, len);
    if (probe.ss_family == AF_INET)
        ((struct sockaddr_in *)&probe)->sin_port = 0;
    else
        ((struct sockaddr_in6 *)&probe)->sin6_port = 0;
    bool local = bind(fd, (struct sockaddr *)&probe, len) == 0;
    close(fd);
    return local;
}

void doctor_resolve_target(struct doctor_ctx *ctx)
{
    const struct doctor_plan *plan = ctx->plan;
    if (!plan->target_host) return;
    ctx->target_given = true;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int rc = getaddrinfo(plan->target_host, NULL, &hints, &res);
    if (rc != 0 || !res) {
        DOCTOR_SET(ctx->target_error, "%s", rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
        DOCTOR_SET(ctx->target_text, "%s:%u", plan->target_host, plan->target_port);
        return;
    }
    char ip[INET6_ADDRSTRLEN] = "";
    ctx->target_family = res->ai_family;
    if (res->ai_family == AF_INET) {
        memcpy(ctx->target_addr, &((struct sockaddr_in *)res->ai_addr)->sin_addr, 4);
        inet_ntop(AF_INET, ctx->target_addr, ip, sizeof(ip));
        DOCTOR_SET(ctx->target_text, "%s:%u", ip, plan->target_port);
    } else {
        memcpy(ctx->target_addr, &((struct sockaddr_in6 *)res->ai_addr)->sin6_addr, 16);
        inet_ntop(AF_INET6, ctx->target_addr, ip, sizeof(ip));
        DOCTOR_SET(ctx->target_text, "[%s]:%u", ip, plan->target_port);
    }
    ctx->target_resolved = true;
    ctx->target_loopback = is_loopback(ctx->target_family, ctx->target_addr);
    ctx->target_local = ctx->target_loopback || is_local(res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
}

/* Whether listener l accepts connections to the target address. */
static bool listener_matches(const struct doctor_ctx *ctx, const struct sockdiag_listener *l)
{
    size_t len = l->family == AF_INET6 ? 16 : 4;
    if (memcmp(l->addr, zeros, len) == 0) return true;
    if (l->family == ctx->target_family) return memcmp(l->addr, ctx->target_addr, len) == 0;
    /* An IPv4 target reached through an IPv6 socket bound to ::ffff:a.b.c.d. */
    return l->family == AF_INET6 && ctx->target_family == AF_INET && memcmp(l->addr, v4_mapped_prefix, 12) == 0 &&
           memcmp(l->addr + 12, ctx->target_addr, 4) == 0;
}

/* Fills the check from the listeners found on the target's port. */
static void judge_listeners(struct doctor_ctx *ctx, struct doctor_check *c, const struct sockdiag_listener *list,
                            size_t n)
{
    uint32_t backlog = UINT32_MAX, queued = 0;
    size_t matched = 0;
    for (size_t i = 0; i < n; i++) {
        if (!listener_matches(ctx, &list[i])) continue;
        matched++;
        if (list[i].backlog < backlog) backlog = list[i].backlog;
        if (list[i].queued > queued) queued = list[i].queued;
    }
    if (matched == 0) {
        c->status = DOCTOR_WARN;
        DOCTOR_SET(c->value, "nothing listens on %s in this network namespace", ctx->target_text);
        DOCTOR_SET(c->symptom, "every connect fails with ECONNREFUSED (connect_refused errors)");
        DOCTOR_SET(c->fix, "start the server, or run salvo doctor in the server's network namespace");
        return;
    }
    char shared[64] = "", cap[48] = "";
    if (matched > 1) snprintf(shared, sizeof(shared), " (%zu sockets share the port; smallest)", matched);
    if (ctx->somaxconn > (int64_t)backlog)
        snprintf(cap, sizeof(cap), " though somaxconn is %lld", (long long)ctx->somaxconn);
    DOCTOR_SET(c->value, "%s listens with backlog %u%s%s; %u waiting to be accepted", ctx->target_text, backlog, shared,
               cap, queued);
    bool small = (int64_t)backlog < ctx->listen_needed, full = queued >= backlog;
    if (!small && !full) return;
    c->status = DOCTOR_WARN;
    if (full) DOCTOR_SET(c->symptom, "its accept queue is full now: the server is not accepting, so SYNs are dropped");
    char raise[80] = "";
    if (ctx->somaxconn >= 0 && ctx->somaxconn < ctx->listen_needed)
        snprintf(raise, sizeof(raise), "sysctl -w net.core.somaxconn=%lld, then ",
                 (long long)doctor_pow2(ctx->listen_needed));
    DOCTOR_SET(c->fix, "%srestart the server with a listen backlog >= %lld (nginx: listen %u backlog=%lld;)", raise,
               (long long)ctx->listen_needed, ctx->plan->target_port, (long long)doctor_pow2(ctx->listen_needed));
}

void doctor_check_target(struct doctor_ctx *ctx, struct doctor_report *r)
{
    if (!ctx->target_given) return;
    struct doctor_check *c = doctor_add(r, "target listen backlog");
    DOCTOR_SET(c->recommended, ">= %lld (100 ms of new connections, at least 128)", (long long)ctx->listen_needed);
    DOCTOR_SET(c->symptom, "a full accept queue drops SYNs (ListenOverflows): connects take 1 s, then 3 s longer, "
                           "counted as server latency");
    if (!ctx->target_resolved) {
        c->status = DOCTOR_FAIL;
        DOCTOR_SET(c->value, "cannot resolve '%s': %s", ctx->plan->target_host, ctx->target_error);
        DOCTOR_SET(c->symptom, "the run cannot connect at all");
        DOCTOR_SET(c->fix, "check the host name of --target");
        return;
    }
    if (!ctx->target_local) {
        DOCTOR_SET(c->value, "%s is not on this machine: its listener cannot be seen from here", ctx->target_text);
        return;
    }
    struct sockdiag_listener list[MAX_LISTENERS];
    size_t found = 0;
    int rc = sockdiag_listeners(ctx->plan->target_port, list, MAX_LISTENERS, &found);
    if (rc < 0) {
        c->status = DOCTOR_WARN;
        DOCTOR_SET(c->value, "unknown: cannot list listeners with sock_diag (%s)", strerror(-rc));
        return;
    }
    judge_listeners(ctx, c, list, found < MAX_LISTENERS ? found : MAX_LISTENERS);
}

int doctor_probe_connect(const struct sockaddr *sa, unsigned len, int timeout_ms)
{
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    int rc = connect(fd, sa, (socklen_t)len) == 0 ? 0 : -errno;
    if (rc == -EINPROGRESS) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int n = poll(&p, 1, timeout_ms);
        int err = 0;
        socklen_t el = sizeof(err);
        if (n < 0)
            rc = -errno;
        else if (n == 0)
            rc = -ETIMEDOUT;
        else
            rc = getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 ? -errno : -err;
    }
    close(fd);
    return rc;
}

/*
 * sockdiag.h — the real accept queues of TCP listeners on this machine.
 *
 * A server's listen() backlog is silently capped by net.core.somaxconn and
 * is often far below it (nginx's 511, Python's 5, a framework's 128); when
 * it fills, the kernel drops SYNs and clients wait 1 s, then 3 s, for the
 * retransmission, which a load test then reports as server latency. The
 * only way to see the size the kernel actually uses is to ask it: a
 * NETLINK_SOCK_DIAG dump of TCP sockets in LISTEN state, where idiag_wqueue
 * is the backlog in force and idiag_rqueue the connections waiting to be
 * accepted right now.
 *
 * The dump sees the caller's network namespace only: a server inside a
 * container with its own namespace is invisible from outside it. It needs
 * no privileges.
 */
#ifndef SALVO_SOCKDIAG_H
#define SALVO_SOCKDIAG_H

#include <stddef.h>
#include <stdint.h>

/* One listening TCP socket. */
struct sockdiag_listener {
    int family;       /* AF_INET or AF_INET6 */
    uint8_t addr[16]; /* bound address in network order (4 bytes for AF_INET) */
    uint16_t port;    /* host order */
    uint32_t backlog; /* accept-queue size in force (after the somaxconn cap) */
    uint32_t queued;  /* connections completed but not yet accepted */
    uint32_t inode;   /* socket inode, to tell SO_REUSEPORT siblings apart */
};

/*
 * Lists the TCP listeners of both address families on port (host order)
 * into out[0 .. max-1] and sets *found to how many exist (which may exceed
 * max). Returns 0 or -errno from the netlink socket.
 */
int sockdiag_listeners(uint16_t port, struct sockdiag_listener *out, size_t max, size_t *found);

/*
 * Parses one buffer of netlink dump replies, appending listeners on port to
 * out (as sockdiag_listeners). Returns 1 when the dump is complete
 * (NLMSG_DONE), 0 when more buffers follow, -errno for an NLMSG_ERROR
 * reply, -EBADMSG for a malformed buffer. Exposed for tests.
 */
int sockdiag_parse(const void *buf, size_t len, uint16_t port, struct sockdiag_listener *out, size_t max,
                   size_t *found);

#endif

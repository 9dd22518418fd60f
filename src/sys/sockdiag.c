/*
 * sockdiag.c — dump TCP listeners with NETLINK_SOCK_DIAG (see sockdiag.h).
 *
 * One dump request per address family asks for every socket in LISTEN
 * state; the port is matched here rather than with a bytecode filter
 * because a machine has few listeners and the filter language would be
 * more code than the loop. Replies come in buffers of several messages;
 * the dump ends with NLMSG_DONE. A receive timeout bounds the wait in case
 * a kernel never answers (it always does today, synchronously).
 */
#include "sys/sockdiag.h"

#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

int sockdiag_parse(const void *buf, size_t len, uint16_t port, struct sockdiag_listener *out, size_t max, size_t *found)
{
    const struct nlmsghdr *h = buf;
    if (len > INT32_MAX) return -EBADMSG;
    int left = (int)len;
    for (; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
        if (h->nlmsg_type == NLMSG_DONE) return 1;
        if (h->nlmsg_type == NLMSG_ERROR) {
            if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr))) return -EBADMSG;
            const struct nlmsgerr *e = NLMSG_DATA(h);
            if (e->error) return e->error < 0 ? e->error : -e->error;
            continue; /* an acknowledgement */
        }
        if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY) continue;
        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg))) return -EBADMSG;
        const struct inet_diag_msg *m = NLMSG_DATA(h);
        if (m->idiag_state != TCP_LISTEN || ntohs(m->id.idiag_sport) != port) continue;
        if (*found < max) {
            struct sockdiag_listener *l = &out[*found];
            memset(l, 0, sizeof(*l));
            l->family = m->idiag_family;
            memcpy(l->addr, m->id.idiag_src, m->idiag_family == AF_INET6 ? 16 : 4);
            l->port = port;
            l->backlog = m->idiag_wqueue;
            l->queued = m->idiag_rqueue;
            l->inode = m->idiag_inode;
        }
        (*found)++;
    }
    return left == 0 ? 0 : -EBADMSG;
}

/* Sends the dump request for one address family. */
static int send_request(int fd, int family)
{
    struct {
        struct nlmsghdr nlh;
        struct inet_diag_req_v2 req;
    } msg;
    memset(&msg, 0, sizeof(msg));
    msg.nlh.nlmsg_len = sizeof(msg);
    msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    msg.nlh.nlmsg_seq = 1;
    msg.req.sdiag_family = (uint8_t)family;
    msg.req.sdiag_protocol = IPPROTO_TCP;
    msg.req.idiag_states = 1u << TCP_LISTEN;
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    ssize_t n = sendto(fd, &msg, sizeof(msg), 0, (struct sockaddr *)&kernel, sizeof(kernel));
    if (n < 0) return -errno;
    return n == (ssize_t)sizeof(msg) ? 0 : -EIO;
}

/* Dumps the listeners of one family on port. */
static int dump_family(int family, uint16_t port, struct sockdiag_listener *out, size_t max, size_t *found)
{
    int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0) return -errno;
    struct timeval tv = {.tv_sec = 2};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    int rc = send_request(fd, family);
    /* long-aligned for the nlmsghdr casts; larger than NLMSG_GOODSIZE. */
    long buf[32768 / sizeof(long)];
    while (rc == 0) {
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0)
            rc = errno == EAGAIN ? -ETIMEDOUT : -errno;
        else if (n == 0)
            rc = -EBADMSG;
        else
            rc = sockdiag_parse(buf, (size_t)n, port, out, max, found);
    }
    close(fd);
    return rc < 0 ? rc : 0;
}

int sockdiag_listeners(uint16_t port, struct sockdiag_listener *out, size_t max, size_t *found)
{
    *found = 0;
    int rc = dump_family(AF_INET, port, out, max, found);
    if (rc < 0) return rc;
    return dump_family(AF_INET6, port, out, max, found);
}

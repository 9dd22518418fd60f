/*
 * floor-forwarder.c — the least an epoll TCP proxy can do, as a yardstick.
 *
 * bench/chaos-overhead.sh builds and runs this next to `salvo chaos` so the
 * proxy's cost can be read against two references measured in the same run:
 * the direct rate (no proxy at all) and this floor (a proxy with no toxics,
 * no timers, no queues: one read and one write per chunk). What separates
 * `salvo chaos` from the floor is salvo's own doing; what separates the
 * floor from the direct rate is the kernel's price of a second TCP hop.
 *
 *   floor-forwarder LISTEN_PORT UPSTREAM_PORT    (both on 127.0.0.1)
 *
 * Not part of salvo: it parses nothing, falls back to waiting when a peer's
 * buffer is full, and runs until it is killed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FD 65536

static int peer_of[MAX_FD];

static struct sockaddr_in loopback(int port)
{
    return (struct sockaddr_in){
        .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
}

/* Writes all n bytes, waiting for room when the peer is slow. */
static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
        } else if (w < 0 && errno == EAGAIN) {
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            poll(&pfd, 1, 1000);
        } else if (w < 0 && errno != EINTR) {
            return -1;
        }
    }
    return 0;
}

static void drop(int fd)
{
    int other = peer_of[fd];
    close(fd);
    close(other);
    peer_of[fd] = peer_of[other] = -1;
}

/* Accepts one client and connects it upstream; both watched edge-triggered. */
static void admit(int ep, int listener, int upstream_port)
{
    int one = 1;
    int c = accept4(listener, NULL, NULL, SOCK_NONBLOCK);
    if (c < 0) return;
    int u = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in ua = loopback(upstream_port);
    if (u < 0 || c >= MAX_FD || u >= MAX_FD || connect(u, (struct sockaddr *)&ua, sizeof ua) < 0 ||
        fcntl(u, F_SETFL, O_NONBLOCK) < 0) {
        close(c);
        if (u >= 0) close(u);
        return;
    }
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(u, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    peer_of[c] = u;
    peer_of[u] = c;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.fd = c};
    epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
    ev.data.fd = u;
    epoll_ctl(ep, EPOLL_CTL_ADD, u, &ev);
}

/* Moves what fd has to its peer; a short read means the socket is drained. */
static void forward(int fd)
{
    static char buf[65536];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EAGAIN) return;
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0 || write_all(peer_of[fd], buf, (size_t)n) < 0) {
            drop(fd);
            return;
        }
        if ((size_t)n < sizeof buf) return;
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: floor-forwarder LISTEN_PORT UPSTREAM_PORT\n");
        return 2;
    }
    int one = 1;
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in la = loopback(atoi(argv[1]));
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (listener < 0 || bind(listener, (struct sockaddr *)&la, sizeof la) < 0 || listen(listener, 4096) < 0) {
        perror("floor-forwarder: listen");
        return 1;
    }
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = listener};
    epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
    struct epoll_event events[256];
    for (;;) {
        int n = epoll_wait(ep, events, 256, -1);
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == listener)
                admit(ep, listener, atoi(argv[2]));
            else if (peer_of[fd] >= 0)
                forward(fd);
        }
    }
}

/*
 * endpoint.h — a "host:port" salvo listens on or connects to: the chaos
 * proxy and its API, the --metrics endpoint, a run's chaos windows.
 *
 * Names are resolved once, when the endpoint is parsed (a proxy created
 * through the API resolves its upstream then, not per connection; see
 * docs/chaos.md). ":PORT" means 127.0.0.1:PORT, because a fault proxy that
 * listens on every interface by accident is a fault of its own. "[v6]:PORT"
 * is accepted. Port 0 asks the kernel for a port; endpoint_bound() then
 * tells which one it gave.
 */
#ifndef SALVO_ENDPOINT_H
#define SALVO_ENDPOINT_H

#include <sys/socket.h>

#define ENDPOINT_TEXT_MAX 128

/* A resolved address and the text it was written as. */
struct endpoint {
    char text[ENDPOINT_TEXT_MAX];
    struct sockaddr_storage addr;
    socklen_t len;
};

/*
 * Parses and resolves text. Returns 0, -EINVAL when it is not host:port,
 * or -EHOSTUNREACH when the host does not resolve (not -ENOENT, which the
 * API answers with 404 for a missing proxy or toxic).
 */
int endpoint_parse(struct endpoint *ep, const char *text);

/*
 * endpoint_parse for a local control address (a --metrics port, a chaos
 * API a client calls): a bare "PORT" and "localhost:PORT" both mean
 * 127.0.0.1:PORT, where toxiproxy's default localhost:8474 listens, even
 * when the resolver would answer ::1 first.
 */
int endpoint_parse_local(struct endpoint *ep, const char *text);

/* Opens a non-blocking listening socket on ep. Returns the fd or -errno. */
int endpoint_listen(const struct endpoint *ep);

/*
 * Starts a non-blocking connect to ep. Returns the fd (the connect may
 * still be in progress: wait for EPOLLOUT, then check SO_ERROR) or -errno.
 */
int endpoint_connect(const struct endpoint *ep);

/* Rewrites ep->text and ep->addr from the address fd is bound to (after port 0). */
int endpoint_bound(struct endpoint *ep, int fd);

#endif

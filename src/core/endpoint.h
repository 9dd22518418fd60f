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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define ENDPOINT_TEXT_MAX 128
/* Room for a host name (253 bytes at most in DNS) and its NUL. */
#define HOSTPORT_HOST_MAX 256

/*
 * What a host:port text may leave out, by caller. Without flags the text
 * is "HOST:PORT" or "[V6ADDR]:PORT" with a port from 1 to 65535.
 */
enum hostport_flags {
    HOSTPORT_PORT_OPTIONAL = 1 << 0, /* "HOST" and "[V6ADDR]" alone (a URL's authority) */
    HOSTPORT_HOST_OPTIONAL = 1 << 1, /* ":PORT" (the host is then "": the caller picks) */
    HOSTPORT_BARE_PORT = 1 << 2,     /* "PORT" alone, host "" (a local control port) */
    HOSTPORT_PORT_ZERO = 1 << 3,     /* port 0: "ask the kernel" for a listener */
};

/* A host:port split into its parts; no name is resolved. */
struct hostport {
    char host[HOSTPORT_HOST_MAX]; /* without IPv6 brackets; "" when left out */
    uint16_t port;                /* 0 when left out (or 0 given, with HOSTPORT_PORT_ZERO) */
    bool has_port;
};

/*
 * The one host:port syntax of salvo, for every caller: splits the len bytes
 * of text (no NUL needed) into hp. An IPv6 address needs its brackets
 * (a bare "::1:8080" is ambiguous); the port is 1 to 5 decimal digits,
 * no sign or blank. Returns 0, or -EINVAL with *why set to a static
 * description ("bad port", "missing host", ...).
 */
int hostport_parse(struct hostport *hp, const char *text, size_t len, unsigned flags, const char **why);

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

/*
 * A local side server's listener (--metrics, --dashboard): parses text with
 * endpoint_parse_local, listens and fills ep with the bound address.
 * Returns the fd or a negative errno.
 */
int endpoint_listen_local(struct endpoint *ep, const char *text);

#endif

/*
 * endpoint.c — parsing, resolving and opening "host:port"; see endpoint.h.
 */
#include "core/endpoint.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Parses the port digits [p, p+n): 1 to 5 of them, at most 65535 (0 only when allowed). */
static bool parse_port(const char *p, size_t n, bool zero_ok, uint16_t *port)
{
    if (n == 0 || n > 5) return false;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return false;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    if (v > 65535 || (v == 0 && !zero_ok)) return false;
    *port = (uint16_t)v;
    return true;
}

/* Finds the host part of text: [*host, *host + *hlen), and where the port part starts (or NULL). */
static int split_host(const char *text, size_t len, const char **host, size_t *hlen, const char **port_at,
                      const char **why)
{
    const char *end = text + len;
    *port_at = NULL;
    if (len > 0 && text[0] == '[') {
        const char *close = memchr(text, ']', len);
        if (!close) return *why = "unterminated IPv6 literal", -EINVAL;
        *host = text + 1;
        *hlen = (size_t)(close - text - 1);
        if (close + 1 < end) {
            if (close[1] != ':') return *why = "bad port", -EINVAL;
            *port_at = close + 2;
        }
        return 0;
    }
    const char *colon = memchr(text, ':', len);
    if (colon && memchr(colon + 1, ':', (size_t)(end - colon - 1)))
        return *why = "an IPv6 address needs brackets, e.g. [::1]:8080", -EINVAL;
    *host = text;
    *hlen = colon ? (size_t)(colon - text) : len;
    if (colon) *port_at = colon + 1;
    return 0;
}

int hostport_parse(struct hostport *hp, const char *text, size_t len, unsigned flags, const char **why)
{
    memset(hp, 0, sizeof(*hp));
    if ((flags & HOSTPORT_BARE_PORT) && len > 0 && strspn(text, "0123456789") >= len) {
        if (!parse_port(text, len, flags & HOSTPORT_PORT_ZERO, &hp->port)) return *why = "bad port", -EINVAL;
        hp->has_port = true;
        return 0;
    }
    const char *host, *port_at;
    size_t hlen;
    int rc = split_host(text, len, &host, &hlen, &port_at, why);
    if (rc < 0) return rc;
    if (hlen >= sizeof(hp->host)) return *why = "host too long", -EINVAL;
    if (hlen == 0 && !(flags & HOSTPORT_HOST_OPTIONAL)) return *why = "missing host", -EINVAL;
    memcpy(hp->host, host, hlen);
    hp->host[hlen] = '\0';
    if (!port_at) {
        if (!(flags & HOSTPORT_PORT_OPTIONAL)) return *why = "missing port", -EINVAL;
        return 0;
    }
    if (!parse_port(port_at, (size_t)(text + len - port_at), flags & HOSTPORT_PORT_ZERO, &hp->port))
        return *why = "bad port", -EINVAL;
    hp->has_port = true;
    return 0;
}

int endpoint_parse(struct endpoint *ep, const char *text)
{
    struct hostport hp;
    const char *why;
    size_t len = strlen(text);
    if (len >= ENDPOINT_TEXT_MAX ||
        hostport_parse(&hp, text, len, HOSTPORT_HOST_OPTIONAL | HOSTPORT_PORT_ZERO, &why) < 0)
        return -EINVAL;
    /* ":PORT" is loopback: a fault proxy must not listen everywhere by accident. */
    if (!hp.host[0]) snprintf(hp.host, sizeof(hp.host), "127.0.0.1");
    char port[8];
    snprintf(port, sizeof(port), "%u", hp.port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    if (getaddrinfo(hp.host, port, &hints, &res) != 0 || !res) return -EHOSTUNREACH;
    memcpy(&ep->addr, res->ai_addr, res->ai_addrlen);
    ep->len = res->ai_addrlen;
    freeaddrinfo(res);
    snprintf(ep->text, sizeof ep->text, "%s", text);
    return 0;
}

int endpoint_parse_local(struct endpoint *ep, const char *text)
{
    struct hostport hp;
    const char *why;
    size_t len = strlen(text);
    unsigned flags = HOSTPORT_BARE_PORT | HOSTPORT_HOST_OPTIONAL | HOSTPORT_PORT_ZERO;
    if (len >= ENDPOINT_TEXT_MAX || hostport_parse(&hp, text, len, flags, &why) < 0) return -EINVAL;
    bool bare = !memchr(text, ':', len);
    if (bare || strcmp(hp.host, "localhost") == 0) {
        char full[ENDPOINT_TEXT_MAX];
        snprintf(full, sizeof(full), "127.0.0.1:%u", hp.port);
        return endpoint_parse(ep, full);
    }
    return endpoint_parse(ep, text);
}

int endpoint_listen(const struct endpoint *ep)
{
    int fd = socket(ep->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (const struct sockaddr *)&ep->addr, ep->len) < 0 || listen(fd, 4096) < 0) {
        int err = errno;
        close(fd);
        return -err;
    }
    return fd;
}

int endpoint_connect(const struct endpoint *ep)
{
    int fd = socket(ep->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (const struct sockaddr *)&ep->addr, ep->len) < 0 && errno != EINPROGRESS) {
        int err = errno;
        close(fd);
        return -err;
    }
    return fd;
}

int endpoint_bound(struct endpoint *ep, int fd)
{
    socklen_t len = sizeof ep->addr;
    if (getsockname(fd, (struct sockaddr *)&ep->addr, &len) < 0) return -errno;
    ep->len = len;
    char host[INET6_ADDRSTRLEN];
    if (ep->addr.ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ep->addr;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
        snprintf(ep->text, sizeof ep->text, "[%s]:%u", host, ntohs(a->sin6_port));
    } else {
        const struct sockaddr_in *a = (const struct sockaddr_in *)&ep->addr;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        snprintf(ep->text, sizeof ep->text, "%s:%u", host, ntohs(a->sin_port));
    }
    return 0;
}

int endpoint_listen_local(struct endpoint *ep, const char *text)
{
    int rc = endpoint_parse_local(ep, text);
    if (rc < 0) return rc;
    int fd = endpoint_listen(ep);
    if (fd < 0) return fd;
    endpoint_bound(ep, fd);
    return fd;
}

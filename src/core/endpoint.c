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

/* Splits text into host and port; 0 or -EINVAL. */
static int split(const char *text, char *host, size_t hostlen, char *port, size_t portlen)
{
    const char *colon;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':') return -EINVAL;
        snprintf(host, hostlen, "%.*s", (int)(close - text - 1), text + 1);
        colon = close + 1;
    } else {
        colon = strrchr(text, ':');
        if (!colon) return -EINVAL;
        snprintf(host, hostlen, "%.*s", (int)(colon - text), text);
        if (strchr(host, ':')) return -EINVAL; /* a bare v6 address needs brackets */
    }
    if (host[0] == '\0') snprintf(host, hostlen, "127.0.0.1");
    const char *p = colon + 1;
    if (*p == '\0' || strlen(p) > 5) return -EINVAL;
    for (const char *q = p; *q; q++)
        if (*q < '0' || *q > '9') return -EINVAL;
    if (atoi(p) > 65535) return -EINVAL;
    snprintf(port, portlen, "%s", p);
    return 0;
}

int endpoint_parse(struct endpoint *ep, const char *text)
{
    char host[ENDPOINT_TEXT_MAX], port[8];
    if (strlen(text) >= ENDPOINT_TEXT_MAX || split(text, host, sizeof host, port, sizeof port) != 0) return -EINVAL;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    if (getaddrinfo(host, port, &hints, &res) != 0 || !res) return -EHOSTUNREACH;
    memcpy(&ep->addr, res->ai_addr, res->ai_addrlen);
    ep->len = res->ai_addrlen;
    freeaddrinfo(res);
    snprintf(ep->text, sizeof ep->text, "%s", text);
    return 0;
}

int endpoint_parse_local(struct endpoint *ep, const char *text)
{
    char full[ENDPOINT_TEXT_MAX + 16];
    if (!*text) return -EINVAL;
    if (strspn(text, "0123456789") == strlen(text))
        snprintf(full, sizeof(full), "127.0.0.1:%s", text);
    else if (!strncmp(text, "localhost:", 10))
        snprintf(full, sizeof(full), "127.0.0.1%s", text + 9);
    else
        snprintf(full, sizeof(full), "%s", text);
    return endpoint_parse(ep, full);
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

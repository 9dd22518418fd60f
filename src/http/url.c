/*
 * url.c — parse and resolve the target URL (see url.h).
 */
#include "http/url.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/endpoint.h"

/* Copies [s, s+n) into dst (size cap) as a string; false if it does not fit. */
static bool copy_span(char *dst, size_t cap, const char *s, size_t n)
{
    if (n >= cap) return false;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return true;
}

/* Parses the "host[:port]" part (core/endpoint.h's syntax, the port optional). */
static int parse_authority(struct url *u, const char *s, size_t n, const char **why)
{
    struct hostport hp;
    int rc = hostport_parse(&hp, s, n, HOSTPORT_PORT_OPTIONAL, why);
    if (rc < 0) return rc;
    _Static_assert(sizeof(u->host) >= sizeof(hp.host), "url host shorter than a hostport host");
    memcpy(u->host, hp.host, sizeof(hp.host));
    u->port = hp.has_port ? hp.port : u->tls ? 443 : 80;
    bool v6 = strchr(u->host, ':') != NULL;
    bool default_port = u->port == (u->tls ? 443u : 80u);
    if (default_port)
        snprintf(u->host_header, sizeof(u->host_header), v6 ? "[%s]" : "%s", u->host);
    else
        snprintf(u->host_header, sizeof(u->host_header), v6 ? "[%s]:%u" : "%s:%u", u->host, u->port);
    return 0;
}

int url_parse(struct url *u, const char *text, const char **why)
{
    memset(u, 0, sizeof(*u));
    const char *rest;
    if (strncasecmp(text, "http://", 7) == 0)
        rest = text + 7;
    else if (strncasecmp(text, "https://", 8) == 0)
        rest = text + 8, u->tls = true;
    else
        return *why = "scheme must be http:// or https://", -EINVAL;
    size_t auth_len = strcspn(rest, "/?#");
    /* user:pass@ would otherwise read as a bad IPv6 literal or a host that does not resolve */
    if (memchr(rest, '@', auth_len))
        return *why = "credentials in the URL (user:pass@) are not supported: send them in a header", -EINVAL;
    int rc = parse_authority(u, rest, auth_len, why);
    if (rc < 0) return rc;
    const char *path = rest + auth_len;
    size_t path_len = strcspn(path, "#");
    for (size_t i = 0; i < path_len; i++)
        if ((unsigned char)path[i] <= ' ' || path[i] == 0x7f)
            return *why = "space or control character in path", -EINVAL;
    if (path_len == 0)
        strcpy(u->path, "/");
    else if (path[0] == '?') {
        if (path_len + 1 >= sizeof(u->path)) return *why = "path too long", -EINVAL;
        u->path[0] = '/';
        memcpy(u->path + 1, path, path_len);
        u->path[path_len + 1] = '\0';
    } else if (!copy_span(u->path, sizeof(u->path), path, path_len))
        return *why = "path too long", -EINVAL;
    return 0;
}

int url_resolve(struct url *u, const char **why)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    char port[8];
    snprintf(port, sizeof(port), "%u", u->port);
    int rc = getaddrinfo(u->host, port, &hints, &res);
    if (rc != 0 || !res) {
        *why = rc == 0 ? "no address" : gai_strerror(rc);
        return -EHOSTUNREACH;
    }
    memcpy(&u->addr, res->ai_addr, res->ai_addrlen);
    u->addr_len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

void url_mask_password(char *out, size_t outlen, const char *text)
{
    if (!outlen) return;
    const char *scheme_end = strstr(text, "://");
    const char *auth = scheme_end ? scheme_end + 3 : NULL;
    size_t auth_len = auth ? strcspn(auth, "/?#") : 0;
    const char *at = NULL;
    for (size_t i = 0; i < auth_len; i++) /* the userinfo ends at the last '@' of the authority */
        if (auth[i] == '@') at = auth + i;
    const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    if (!colon) {
        snprintf(out, outlen, "%s", text);
        return;
    }
    snprintf(out, outlen, "%.*s:***%s", (int)(colon - text), text, at);
}

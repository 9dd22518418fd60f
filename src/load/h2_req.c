/*
 * h2_req.c — a rendered HTTP/1.1 request as HTTP/2 header fields (see h2_req.h).
 */
#include "load/h2_req.h"

#include <string.h>
#include <strings.h>

/* Adds one header to r (its name lower-cased into r->names, as HTTP/2 wants it). */
static bool add_nv(struct h2_req *r, const char *name, size_t nlen, const char *value, size_t vlen)
{
    if (r->n >= H2_REQ_MAX_NV || r->used + nlen > sizeof(r->names)) return false;
    char *lower = r->names + r->used;
    for (size_t i = 0; i < nlen; i++)
        lower[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
    r->used += nlen;
    r->nv[r->n++] = (nghttp2_nv){(uint8_t *)lower, (uint8_t *)value, nlen, vlen, NGHTTP2_NV_FLAG_NONE};
    return true;
}

/* True for the HTTP/1.1 headers HTTP/2 forbids (RFC 9113 §8.2.2) or carries as a pseudo-header. */
static bool skipped_header(const char *name, size_t len)
{
    static const char *const drop[] = {"host",   "connection", "keep-alive", "proxy-connection", "transfer-encoding",
                                       "upgrade"};
    for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
        if (strlen(drop[i]) == len && strncasecmp(name, drop[i], len) == 0) return true;
    return false;
}

int h2_req_from_http1(struct h2_req *r, const char *bytes, size_t len, bool tls)
{
    const char *p = bytes, *end = bytes + len;
    const char *sp1 = memchr(p, ' ', (size_t)(end - p));
    const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1)) : NULL;
    const char *eol = sp2 ? memchr(sp2, '\n', (size_t)(end - sp2)) : NULL;
    if (!eol) return -1;
    r->n = r->used = 0;
    const char *scheme = tls ? "https" : "http";
    add_nv(r, ":method", 7, p, (size_t)(sp1 - p));
    add_nv(r, ":scheme", 7, scheme, strlen(scheme));
    add_nv(r, ":path", 5, sp1 + 1, (size_t)(sp2 - sp1 - 1));
    for (p = eol + 1; p < end;) {
        const char *le = memchr(p, '\n', (size_t)(end - p));
        if (!le) return -1;
        const char *line = p;
        size_t llen = (size_t)(le - p);
        if (llen && line[llen - 1] == '\r') llen--;
        p = le + 1;
        if (llen == 0) break; /* the blank line: the body follows */
        const char *colon = memchr(line, ':', llen);
        if (!colon) return -1;
        const char *v = colon + 1, *vend = line + llen;
        while (v < vend && (*v == ' ' || *v == '\t'))
            v++;
        size_t nlen = (size_t)(colon - line);
        bool ok;
        if (nlen == 4 && strncasecmp(line, "host", 4) == 0)
            ok = add_nv(r, ":authority", 10, v, (size_t)(vend - v));
        else
            ok = skipped_header(line, nlen) || add_nv(r, line, nlen, v, (size_t)(vend - v));
        if (!ok) return -1;
    }
    r->body_off = (size_t)(p - bytes);
    return 0;
}

/*
 * client.c — one blocking HTTP/1.1 exchange under a deadline (see client.h).
 *
 * The socket is non-blocking and every wait is a poll() bounded by what is
 * left of the deadline, so neither a silent server nor a slow TLS handshake
 * outlives it. The response is framed by the load generator's own parser
 * (http/parser.c): its head is fed one head at a time (an interim 1xx is
 * skipped), its body bytes are kept raw and, when chunked, decoded in place
 * once the parser has found the end.
 */
#include "http/client.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/version.h"
#include "http/parser.h"

/* The connection of one exchange: a socket, TLS on it or not. */
struct cl_conn {
    int fd;
    SSL *ssl;
    uint64_t deadline_ns;
};

/* Waits until fd is ready for events or the deadline passes: 0 or -ETIMEDOUT. */
static int cl_wait(const struct cl_conn *c, short events)
{
    for (;;) {
        uint64_t now = clock_now_ns();
        if (now >= c->deadline_ns) return -ETIMEDOUT;
        uint64_t left_ms = (c->deadline_ns - now + 999999) / 1000000;
        struct pollfd p = {.fd = c->fd, .events = events};
        int n = poll(&p, 1, left_ms > 60000 ? 60000 : (int)left_ms);
        if (n > 0) return 0;
        if (n < 0 && errno != EINTR) return -errno;
    }
}

/* The wait an SSL call asks for after returning rc; -EPROTO on a TLS error. */
static int cl_ssl_wait(const struct cl_conn *c, int rc)
{
    switch (SSL_get_error(c->ssl, rc)) {
    case SSL_ERROR_WANT_READ: return cl_wait(c, POLLIN);
    case SSL_ERROR_WANT_WRITE: return cl_wait(c, POLLOUT);
    case SSL_ERROR_ZERO_RETURN: return -EPIPE;
    default: return -EPROTO;
    }
}

static int cl_connect(struct cl_conn *c, const struct http_client_req *req, char *err, size_t errlen)
{
    const struct url *u = req->url;
    c->fd = socket(u->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        int e = errno;
        snprintf(err, errlen, "socket: %s", strerror(e));
        return -e;
    }
    if (connect(c->fd, (const struct sockaddr *)&u->addr, u->addr_len) < 0 && errno != EINPROGRESS) {
        int e = errno;
        snprintf(err, errlen, "connect to %s: %s", u->host_header, strerror(e));
        return -e;
    }
    int rc = cl_wait(c, POLLOUT);
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (rc == 0 && getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr) rc = -soerr;
    if (rc < 0) {
        snprintf(err, errlen, "connect to %s: %s", u->host_header, strerror(-rc));
        return rc;
    }
    if (!u->tls) return 0;
    c->ssl = tls_session_new(req->tls, c->fd, u->host);
    if (!c->ssl) {
        snprintf(err, errlen, "TLS session for %s could not be made", u->host_header);
        return -EPROTO;
    }
    for (;;) {
        int r = SSL_connect(c->ssl);
        if (r == 1) return 0;
        rc = cl_ssl_wait(c, r);
        if (rc < 0) {
            char why[200] = "handshake failed";
            if (rc != -ETIMEDOUT) tls_describe_failure(c->ssl, why, sizeof why);
            snprintf(err, errlen, "TLS with %s: %s", u->host_header, rc == -ETIMEDOUT ? "timed out" : why);
            return rc;
        }
    }
}

static int cl_send(struct cl_conn *c, const char *p, size_t len)
{
    while (len) {
        ssize_t n;
        if (c->ssl) {
            int r = SSL_write(c->ssl, p, len > 1 << 30 ? 1 << 30 : (int)len);
            if (r <= 0) {
                int rc = cl_ssl_wait(c, r);
                if (rc < 0) return rc;
                continue;
            }
            n = r;
        } else {
            n = send(c->fd, p, len, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR) continue;
                if (errno != EAGAIN) return -errno;
                int rc = cl_wait(c, POLLOUT);
                if (rc < 0) return rc;
                continue;
            }
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads what is there into buf (waiting for some): bytes read, 0 at EOF, -errno. */
static ssize_t cl_recv(struct cl_conn *c, char *buf, size_t cap)
{
    for (;;) {
        if (c->ssl) {
            int r = SSL_read(c->ssl, buf, cap > 1 << 30 ? 1 << 30 : (int)cap);
            if (r > 0) return r;
            int rc = cl_ssl_wait(c, r);
            if (rc == -EPIPE) return 0;
            if (rc < 0) {
                /* A peer that closes without close_notify ends the body too. */
                if (rc == -EPROTO && ERR_peek_error() == 0) return 0;
                return rc;
            }
            continue;
        }
        ssize_t n = recv(c->fd, buf, cap, 0);
        if (n >= 0) return n;
        if (errno == EINTR) continue;
        if (errno != EAGAIN) return -errno;
        int rc = cl_wait(c, POLLIN);
        if (rc < 0) return rc;
    }
}

/* The growing buffer of a response's raw bytes. */
struct cl_buf {
    char *p;
    size_t len, cap, limit;
};

/* Reads more into b: bytes read, 0 at EOF, -EFBIG at the limit, -errno. */
static ssize_t cl_read_more(struct cl_conn *c, struct cl_buf *b)
{
    if (b->cap - b->len < 4096) {
        if (b->cap >= b->limit) return -EFBIG;
        size_t ncap = b->cap ? b->cap * 2 : 16384;
        if (ncap > b->limit) ncap = b->limit;
        char *np = realloc(b->p, ncap + 1);
        if (!np) return -ENOMEM;
        b->p = np;
        b->cap = ncap;
    }
    ssize_t n = cl_recv(c, b->p + b->len, b->cap - b->len);
    if (n > 0) b->len += (size_t)n;
    return n;
}

/* Offset just past the first empty line at or after from, or 0 when none yet. */
static size_t cl_head_end(const struct cl_buf *b, size_t from)
{
    for (size_t i = from; i < b->len; i++) {
        if (b->p[i] != '\n') continue;
        if (i + 1 < b->len && b->p[i + 1] == '\n') return i + 2;
        if (i + 2 < b->len && b->p[i + 1] == '\r' && b->p[i + 2] == '\n') return i + 3;
    }
    return 0;
}

/* The value of header name in the head h[0..len), trimmed, into out. */
static void cl_header(const char *h, size_t len, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    out[0] = '\0';
    for (size_t i = 0; i < len;) {
        const char *eol = memchr(h + i, '\n', len - i);
        size_t end = eol ? (size_t)(eol - h) : len;
        if (end - i > nl && h[i + nl] == ':' && strncasecmp(h + i, name, nl) == 0) {
            size_t s = i + nl + 1, e = end;
            while (s < e && (h[s] == ' ' || h[s] == '\t'))
                s++;
            while (e > s && (h[e - 1] == '\r' || h[e - 1] == ' ' || h[e - 1] == '\t'))
                e--;
            size_t n = e - s < cap - 1 ? e - s : cap - 1;
            memcpy(out, h + s, n);
            out[n] = '\0';
            return;
        }
        i = end + 1;
    }
}

long http_client_dechunk(char *in, size_t len)
{
    size_t r = 0, w = 0;
    for (;;) {
        size_t size = 0;
        int digits = 0;
        while (r < len) {
            char ch = in[r];
            int v = ch >= '0' && ch <= '9'   ? ch - '0'
                    : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                    : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                             : -1;
            if (v < 0) break;
            if (size > (SIZE_MAX >> 4)) return -1;
            size = size * 16 + (size_t)v;
            digits++;
            r++;
        }
        if (!digits) return -1;
        const char *eol = memchr(in + r, '\n', len - r); /* extensions end at the LF */
        if (!eol) return -1;
        r = (size_t)(eol - in) + 1;
        if (size == 0) return (long)w; /* trailers follow; the parser checked them */
        if (size > len - r) return -1;
        memmove(in + w, in + r, size);
        w += size;
        r += size;
        if (r < len && in[r] == '\r') r++;
        if (r >= len || in[r] != '\n') return -1;
        r++;
    }
}

/* Reads and frames the response into resp; returns 0 or -errno with err set. */
static int cl_response(struct cl_conn *c, const struct http_client_req *req, struct http_client_resp *resp, char *err,
                       size_t errlen)
{
    size_t max_body = req->max_body;
    struct cl_buf b = {.limit = max_body > (SIZE_MAX - HTTP_MAX_HEAD) / 8 ? SIZE_MAX / 2
                                                                          : HTTP_MAX_HEAD * 2 + max_body * 8 + 65536};
    struct http_resp r;
    http_resp_init(&r, strcasecmp(req->method, "HEAD") == 0);
    size_t pos = 0, body_start = 0;
    bool eof = false;
    int rc = 0;

    /* The head, one head at a time so that an interim 1xx is skipped whole. */
    while (!r.head_done) {
        size_t end = cl_head_end(&b, pos);
        if (end) {
            ssize_t n = http_resp_feed(&r, b.p + pos, end - pos);
            if (n < 0) {
                snprintf(err, errlen, "bad response: %s", r.error);
                rc = -EPROTO;
                goto out;
            }
            pos += (size_t)n;
            if (r.head_done) {
                cl_header(b.p + pos - r.head_len, r.head_len, "Content-Type", resp->content_type,
                          sizeof resp->content_type);
                body_start = pos;
                break;
            }
            if (n > 0) continue;
        }
        if (b.len - pos > HTTP_MAX_HEAD) {
            snprintf(err, errlen, "bad response: headers too large");
            rc = -EPROTO;
            goto out;
        }
        ssize_t got = cl_read_more(c, &b);
        if (got <= 0) {
            rc = got == 0 ? -EPROTO : (int)got;
            snprintf(err, errlen, "%s", got == 0 ? "closed before a response" : strerror(-rc));
            goto out;
        }
    }
    if (r.content_length >= 0 && !r.chunked && (uint64_t)r.content_length > max_body) {
        snprintf(err, errlen, "body of %lld bytes is over the limit of %zu", (long long)r.content_length, max_body);
        rc = -EFBIG;
        goto out;
    }
    /* The body: kept raw in b, framed by the parser. */
    while (!r.done) {
        ssize_t n = http_resp_feed(&r, b.p + pos, b.len - pos);
        if (n < 0) {
            snprintf(err, errlen, "bad response: %s", r.error);
            rc = -EPROTO;
            goto out;
        }
        pos += (size_t)n;
        if (r.body_bytes > max_body) {
            snprintf(err, errlen, "body is over the limit of %zu bytes", max_body);
            rc = -EFBIG;
            goto out;
        }
        if (r.done) break;
        if (eof) {
            if (http_resp_eof(&r) < 0) {
                snprintf(err, errlen, "bad response: %s", r.error);
                rc = -EPROTO;
                goto out;
            }
            break;
        }
        ssize_t got = cl_read_more(c, &b);
        if (got < 0) {
            rc = (int)got;
            snprintf(err, errlen, "%s", rc == -EFBIG ? "body is over the limit" : strerror(-rc));
            goto out;
        }
        eof = got == 0;
    }
    size_t blen = pos - body_start;
    if (r.chunked) {
        long d = http_client_dechunk(b.p + body_start, blen);
        if (d < 0) {
            snprintf(err, errlen, "bad response: chunked body");
            rc = -EPROTO;
            goto out;
        }
        blen = (size_t)d;
    }
    resp->status = r.status;
    resp->body = malloc(blen + 1);
    if (!resp->body) {
        rc = -ENOMEM;
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (blen) memcpy(resp->body, b.p + body_start, blen);
    resp->body[blen] = '\0';
    resp->body_len = blen;
out:
    free(b.p);
    return rc;
}

int http_client_do(const struct http_client_req *req, struct http_client_resp *resp, char *err, size_t errlen)
{
    memset(resp, 0, sizeof *resp);
    err[0] = '\0';
    if (req->url->tls && !req->tls) {
        snprintf(err, errlen, "https needs a TLS context");
        return -EINVAL;
    }
    char head[8192];
    bool has_body = strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0;
    int hl = snprintf(head, sizeof head,
                      "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: salvo/%s\r\n"
                      "Connection: close\r\n",
                      req->method, req->url->path, req->url->host_header, SALVO_VERSION);
    if (hl > 0 && has_body && (size_t)hl < sizeof head)
        hl += snprintf(head + hl, sizeof head - (size_t)hl, "Content-Length: %zu\r\n", req->body_len);
    if (hl > 0 && (size_t)hl < sizeof head)
        hl += snprintf(head + hl, sizeof head - (size_t)hl, "%s\r\n", req->headers ? req->headers : "");
    if (hl <= 0 || (size_t)hl >= sizeof head) {
        snprintf(err, errlen, "request head over %zu bytes", sizeof head);
        return -EINVAL;
    }
    struct cl_conn c = {.fd = -1, .deadline_ns = req->deadline_ns};
    int rc = cl_connect(&c, req, err, errlen);
    if (rc == 0) {
        rc = cl_send(&c, head, (size_t)hl);
        if (rc == 0 && has_body && req->body_len) rc = cl_send(&c, req->body, req->body_len);
        if (rc < 0)
            snprintf(err, errlen, "sending to %s: %s", req->url->host_header,
                     rc == -ETIMEDOUT ? "timed out" : strerror(-rc));
    }
    if (rc == 0) {
        rc = cl_response(&c, req, resp, err, errlen);
        if (rc == -ETIMEDOUT) snprintf(err, errlen, "response from %s: timed out", req->url->host_header);
    }
    if (c.ssl) SSL_free(c.ssl);
    if (c.fd >= 0) close(c.fd);
    if (rc < 0) http_client_resp_free(resp);
    return rc;
}

void http_client_resp_free(struct http_client_resp *resp)
{
    free(resp->body);
    resp->body = NULL;
    resp->body_len = 0;
}

/*
 * http_req.c — strict request-head parsing; see http_req.h for the contract.
 *
 * The parser walks a cursor over the buffer once per call. Every step
 * returns 0 (went on), HTTP_REQ_INCOMPLETE (ran out of bytes while
 * everything so far was valid) or HTTP_REQ_MALFORMED, so "need more" and
 * "garbage" are decided byte by byte and never confused. Re-parsing from
 * the start on each read is quadratic only in the head size, which the
 * server caps at 8 KiB.
 */
#include "target/http_req.h"

#include <limits.h>
#include <string.h>
#include <strings.h>

/* A read position in the buffer. */
struct cursor {
    const char *p, *end;
};

/* RFC 9110 tchar: the characters of a method or a header name. */
static bool is_tchar(unsigned char ch)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";
    if ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')) return true;
    return ch != 0 && strchr(extra, ch) != NULL;
}

/* A field-value character: visible, space, tab or obs-text. */
static bool is_value_char(unsigned char ch)
{
    return ch == '\t' || (ch >= 0x20 && ch != 0x7f);
}

/* Consumes CRLF or LF. */
static int take_eol(struct cursor *c)
{
    if (c->p == c->end) return HTTP_REQ_INCOMPLETE;
    if (*c->p == '\r') {
        if (c->p + 1 == c->end) return HTTP_REQ_INCOMPLETE;
        if (c->p[1] != '\n') return HTTP_REQ_MALFORMED;
        c->p += 2;
        return 0;
    }
    if (*c->p != '\n') return HTTP_REQ_MALFORMED;
    c->p++;
    return 0;
}

/* Consumes a non-empty token followed by `sep`; the token is [*start, *start + *len). */
static int take_token(struct cursor *c, char sep, const char **start, size_t *len)
{
    *start = c->p;
    while (c->p < c->end && is_tchar((unsigned char)*c->p))
        c->p++;
    if (c->p == c->end) return HTTP_REQ_INCOMPLETE;
    if (c->p == *start || *c->p != sep) return HTTP_REQ_MALFORMED;
    *len = (size_t)(c->p - *start);
    c->p++;
    return 0;
}

/* Consumes "HTTP/1.x" and the line end. */
static int take_version(struct cursor *c, int *minor)
{
    static const char prefix[] = "HTTP/1.";
    for (size_t i = 0; i < sizeof(prefix) - 1; i++, c->p++) {
        if (c->p == c->end) return HTTP_REQ_INCOMPLETE;
        if (*c->p != prefix[i]) return HTTP_REQ_MALFORMED;
    }
    if (c->p == c->end) return HTTP_REQ_INCOMPLETE;
    if (*c->p != '0' && *c->p != '1') return HTTP_REQ_MALFORMED;
    *minor = *c->p++ - '0';
    return take_eol(c);
}

/* Consumes the request line: METHOD SP TARGET SP HTTP/1.x EOL. */
static int take_request_line(struct cursor *c, struct http_req *req)
{
    int rc = take_token(c, ' ', &req->method, &req->method_len);
    if (rc < 0) return rc;
    req->target = c->p;
    while (c->p < c->end && (unsigned char)*c->p > 0x20 && (unsigned char)*c->p < 0x7f)
        c->p++;
    if (c->p == c->end) return HTTP_REQ_INCOMPLETE;
    if (c->p == req->target || *c->p != ' ') return HTTP_REQ_MALFORMED;
    req->target_len = (size_t)(c->p - req->target);
    c->p++;
    return take_version(c, &req->minor_version);
}

/* True if header name [name, name + len) equals `want` ignoring case. */
static bool name_is(const char *name, size_t len, const char *want)
{
    return len == strlen(want) && strncasecmp(name, want, len) == 0;
}

/* Applies a Content-Length value; duplicates must agree. */
static int apply_content_length(struct http_req *req, const char *v, size_t len)
{
    if (len == 0 || len > 15) return HTTP_REQ_MALFORMED;
    int64_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9') return HTTP_REQ_MALFORMED;
        n = n * 10 + (v[i] - '0');
    }
    if (req->content_length >= 0 && req->content_length != n) return HTTP_REQ_MALFORMED;
    req->content_length = n;
    return 0;
}

/* Applies the comma-separated options of a Connection header. */
static void apply_connection(struct http_req *req, const char *v, size_t len)
{
    size_t i = 0;
    while (i < len) {
        while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t start = i;
        while (i < len && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
            i++;
        if (name_is(v + start, i - start, "close")) req->conn_close = true;
        if (name_is(v + start, i - start, "keep-alive")) req->conn_keep_alive = true;
    }
}

/* Consumes one header line, or the empty line that ends the head (returns 1). */
static int take_header(struct cursor *c, struct http_req *req)
{
    if (c->p == c->end) return HTTP_REQ_INCOMPLETE;
    int rc;
    if (*c->p == '\r' || *c->p == '\n') return (rc = take_eol(c)) < 0 ? rc : 1;
    const char *name;
    size_t name_len;
    rc = take_token(c, ':', &name, &name_len);
    if (rc < 0) return rc;
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
        c->p++;
    const char *value = c->p;
    while (c->p < c->end && is_value_char((unsigned char)*c->p))
        c->p++;
    const char *value_end = c->p;
    if ((rc = take_eol(c)) < 0) return rc;
    while (value_end > value && (value_end[-1] == ' ' || value_end[-1] == '\t'))
        value_end--;
    size_t len = (size_t)(value_end - value);
    if (name_is(name, name_len, "content-length")) return apply_content_length(req, value, len);
    if (name_is(name, name_len, "transfer-encoding")) req->transfer_encoding = true;
    if (name_is(name, name_len, "connection")) apply_connection(req, value, len);
    if (name_is(name, name_len, "authorization")) {
        req->authorization = value, req->authorization_len = len;
        req->authorization_count++;
    }
    return 0;
}

int http_req_parse(struct http_req *req, const char *buf, size_t len)
{
    if (len > INT_MAX) len = INT_MAX;
    struct cursor c = {buf, buf + len};
    *req = (struct http_req){.content_length = -1};
    while (c.p < c.end && (*c.p == '\r' || *c.p == '\n')) {
        int rc = take_eol(&c);
        if (rc < 0) return rc;
    }
    int rc = take_request_line(&c, req);
    if (rc < 0) return rc;
    while ((rc = take_header(&c, req)) == 0) {
    }
    if (rc < 0) return rc;
    if (req->transfer_encoding && req->content_length >= 0) return HTTP_REQ_MALFORMED;
    return (int)(c.p - buf);
}

bool http_req_keep_alive(const struct http_req *req)
{
    if (req->conn_close) return false;
    return req->minor_version >= 1 || req->conn_keep_alive;
}

/*
 * reqscan.c — the end of one HTTP/1.1 request in raw bytes (see reqscan.h).
 *
 * RFC 9112 framing only, as strictly as a server would read it: CRLF line
 * ends, a token method, a target without spaces or controls, HTTP/1.0 or
 * HTTP/1.1, header names that are tokens, one Content-Length or a
 * chunked Transfer-Encoding (not both).
 */
#include "http/reqscan.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

/* True for RFC 9110 tchar. */
static bool is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* The offset of the CRLF ending the line at p[from..len), or -1. */
static ssize_t line_end(const char *p, size_t from, size_t len)
{
    for (size_t i = from; i + 1 < len; i++)
        if (p[i] == '\r' && p[i + 1] == '\n') return (ssize_t)i;
    return -1;
}

/* Checks the request line p[0..n). */
static int scan_request_line(const char *p, size_t n, const char **why)
{
    size_t i = 0;
    while (i < n && is_tchar((unsigned char)p[i]))
        i++;
    if (i == 0 || i >= n || p[i] != ' ') return *why = "the request line does not start with a method", -1;
    size_t t = ++i;
    while (i < n && (unsigned char)p[i] > ' ' && p[i] != 0x7f)
        i++;
    if (i == t || i >= n || p[i] != ' ') return *why = "the request line has no target after its method", -1;
    i++;
    if (n - i != 8 || (memcmp(p + i, "HTTP/1.1", 8) && memcmp(p + i, "HTTP/1.0", 8)))
        return *why = "the request line does not end in HTTP/1.1", -1;
    return 0;
}

/* Parses a Content-Length value v[0..n) (digits, optional spaces around). */
static int parse_length(const char *v, size_t n, uint64_t *out)
{
    while (n && (*v == ' ' || *v == '\t'))
        v++, n--;
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    if (!n || n > 15) return -1;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9') return -1;
        x = x * 10 + (uint64_t)(v[i] - '0');
    }
    *out = x;
    return 0;
}

/* True when the value v[0..n) names chunked (as the last coding). */
static bool says_chunked(const char *v, size_t n)
{
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    return n >= 7 && strncasecmp(v + n - 7, "chunked", 7) == 0;
}

/* Scans a chunked body from p[at..len); returns its end or -1. */
static ssize_t scan_chunked(const char *p, size_t at, size_t len, const char **why)
{
    for (;;) {
        ssize_t e = line_end(p, at, len);
        if (e < 0) return *why = "a chunked body ends before its last chunk", -1;
        uint64_t size = 0;
        size_t i = at, digits = 0;
        for (; i < (size_t)e; i++, digits++) {
            char c = p[i];
            int d = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
            if (d < 0) break;
            if (digits >= 15) return *why = "a chunk size is too large", -1;
            size = size * 16 + (uint64_t)d;
        }
        if (!digits || (i < (size_t)e && p[i] != ';')) return *why = "a chunk size is not hexadecimal", -1;
        at = (size_t)e + 2;
        if (size == 0) {
            /* Trailer lines, then the empty line. */
            for (;;) {
                ssize_t t = line_end(p, at, len);
                if (t < 0) return *why = "a chunked body ends before its last chunk", -1;
                bool empty = (size_t)t == at;
                at = (size_t)t + 2;
                if (empty) break;
            }
            return (ssize_t)at;
        }
        if (size > len - at || len - at - size < 2) return *why = "a chunked body ends inside a chunk", -1;
        at += size;
        if (p[at] != '\r' || p[at + 1] != '\n') return *why = "a chunk does not end in CRLF", -1;
        at += 2;
    }
}

ssize_t reqscan_one(const char *p, size_t len, const char **why)
{
    ssize_t e = line_end(p, 0, len < REQSCAN_MAX_HEAD ? len : REQSCAN_MAX_HEAD);
    if (len == 0) return *why = "no request (empty bytes)", -1;
    if (e < 0) return *why = "no request line ending in CRLF", -1;
    if (scan_request_line(p, (size_t)e, why) < 0) return -1;
    size_t at = (size_t)e + 2;
    uint64_t clen = 0;
    bool has_len = false, chunked = false;
    for (;;) {
        e = line_end(p, at, len);
        if (e < 0 || (size_t)e > REQSCAN_MAX_HEAD)
            return *why = e < 0 ? "the head does not end in an empty line" : "the head is longer than 64 KiB", -1;
        if ((size_t)e == at) break;
        size_t n = 0;
        while (at + n < (size_t)e && is_tchar((unsigned char)p[at + n]))
            n++;
        if (n == 0 || at + n >= (size_t)e || p[at + n] != ':') return *why = "a header line is not 'Name: value'", -1;
        const char *v = p + at + n + 1;
        size_t vn = (size_t)e - (at + n + 1);
        for (size_t i = 0; i < vn; i++)
            if ((unsigned char)v[i] < ' ' && v[i] != '\t') return *why = "a header value holds a control byte", -1;
        if (n == 14 && !strncasecmp(p + at, "Content-Length", 14)) {
            uint64_t x;
            if (parse_length(v, vn, &x) < 0 || (has_len && x != clen)) return *why = "a bad Content-Length", -1;
            clen = x;
            has_len = true;
        } else if (n == 17 && !strncasecmp(p + at, "Transfer-Encoding", 17)) {
            chunked = says_chunked(v, vn);
            if (!chunked) return *why = "a Transfer-Encoding that is not chunked", -1;
        }
        at = (size_t)e + 2;
    }
    at += 2;
    if (chunked && has_len) return *why = "both Content-Length and chunked", -1;
    if (chunked) return scan_chunked(p, at, len, why);
    if (clen > len - at) return *why = "the body is shorter than its Content-Length", -1;
    return (ssize_t)(at + clen);
}

ssize_t reqscan_count(const char *p, size_t len, const char **why)
{
    ssize_t n = 0;
    size_t at = 0;
    do {
        ssize_t one = reqscan_one(p + at, len - at, why);
        if (one < 0) return -1;
        at += (size_t)one;
        n++;
    } while (at < len);
    return n;
}

/*
 * http_req.h — the HTTP/1.1 request-head parser of `salvo target`.
 *
 * The target must survive whatever a load generator (or a fuzzer) sends it,
 * so the parser is strict, stateless and zero-copy in the picohttpparser
 * style: it is handed every byte received so far, never allocates, and
 * answers "complete head of N bytes", "need more" or "malformed" — and it
 * says "malformed" as early as the first bad byte, so garbage is refused
 * before a whole head's worth of it has been buffered. Only what the server
 * acts on is extracted (method, target, version, body framing, connection
 * persistence, Authorization); other headers are checked for syntax and skipped.
 *
 * Accepted: HTTP/1.0 and 1.1, CRLF or bare LF line ends, empty lines before
 * the request line (RFC 9112 §2.2). Refused as malformed: obs-fold, control
 * characters, whitespace before a colon, a bad or conflicting Content-Length,
 * Content-Length together with Transfer-Encoding (a smuggling vector).
 *
 * Ownership: the pointers in struct http_req point into the caller's buffer
 * and are valid while it is unchanged.
 */
#ifndef SALVO_TARGET_HTTP_REQ_H
#define SALVO_TARGET_HTTP_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_REQ_INCOMPLETE (-2)
#define HTTP_REQ_MALFORMED (-1)

/* A parsed request head. */
struct http_req {
    const char *method, *target;
    size_t method_len, target_len;
    int minor_version;         /* 0 or 1 */
    int64_t content_length;    /* -1 when absent */
    bool transfer_encoding;    /* a Transfer-Encoding header was present (any coding) */
    bool conn_close;           /* Connection: close */
    bool conn_keep_alive;      /* Connection: keep-alive */
    const char *authorization; /* the Authorization value, blanks trimmed (NULL: absent; the last one wins) */
    size_t authorization_len;
    unsigned authorization_count; /* Authorization headers seen: more than 1 is ambiguous, api.c refuses it */
    const char *body;             /* set by the connection, not the parser: the complete body (content_length bytes) */
};

/*
 * Parses the head at buf[0..len). Returns its length in bytes (including the
 * empty line) when complete, HTTP_REQ_INCOMPLETE when every byte so far is
 * valid but the head has not ended, HTTP_REQ_MALFORMED otherwise. *req is
 * meaningful only after a positive return.
 */
int http_req_parse(struct http_req *req, const char *buf, size_t len);

/* True if the connection stays open after this request (version and Connection header). */
bool http_req_keep_alive(const struct http_req *req);

#endif

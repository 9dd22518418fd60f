/*
 * parser.h — the incremental HTTP/1.1 response parser of the load generator.
 *
 * Each connection owns one struct http_resp per response in flight. The
 * parser reads the head (status line and headers) into a handful of numbers
 * and then counts the body without storing it: a load generator needs the
 * status, the framing and the byte counts, never the payload. It never
 * allocates, never copies and keeps no pointer into the caller's buffer
 * between calls, so the caller may move or reuse its buffer freely.
 *
 * Caller contract for http_resp_feed(r, buf, len):
 *   - buf holds the bytes of the connection not yet consumed, oldest first.
 *     Until the head is complete the parser consumes nothing (returns 0), and
 *     the caller presents the same bytes again, followed by whatever it has
 *     read since. The parser remembers how far it has already parsed, so a
 *     head arriving in many small reads is still parsed once, in O(n).
 *   - The caller's buffer must hold at least HTTP_MAX_HEAD bytes, otherwise
 *     a legal head close to the limit can never complete.
 *   - An interim 1xx response (any 1xx but 101) is consumed as soon as its
 *     head is complete and parsing goes on with the next head, so the return
 *     value can be positive before head_done. head_len, like every result
 *     field, describes the final response only.
 *   - Once the head is complete, the head and then body bytes are consumed;
 *     body bytes are counted and may be discarded by the caller.
 *     With stop_after_head, the call that completes the final head consumes
 *     nothing after it; the next call goes on with the body.
 *   - When the response ends, done is set and the bytes after it are left
 *     unconsumed: they belong to the next response, which needs a fresh
 *     http_resp_init(). Feeding a done response consumes nothing.
 *   - -1 means malformed input; r->error then names the problem, and every
 *     later call returns -1 again. The connection cannot be reused.
 *   - Calling with len == 0 is allowed and consumes nothing.
 *
 * r->error is one of these static strings (compare by pointer or by text):
 *   "bad status line", "bad header", "headers too large",
 *   "bad content-length", "bad transfer-encoding", "bad chunk size",
 *   "missing chunk crlf", "chunk extension too long", "bad trailer",
 *   "trailers too large", "input shrank between calls",
 *   and, from http_resp_eof(), "closed before response", "truncated head",
 *   "truncated body".
 *
 * Lines may end in CRLF or in a bare LF, in the head, in chunk-size lines,
 * after chunk data and in trailers alike; a CR anywhere else is an error
 * where it matters for framing and ignored elsewhere.
 */
#ifndef SALVO_HTTP_PARSER_H
#define SALVO_HTTP_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HTTP_MAX_HEAD 16384 /* status line + headers larger than this is an error */

/* One HTTP/1.x response being parsed; caller-owned, set up by http_resp_init. */
struct http_resp {
    /* Results, valid once head_done. */
    int status;             /* 100..999, e.g. 200 */
    int minor_version;      /* the x of "HTTP/1.x": 0 or 1 in practice */
    int64_t content_length; /* -1 when absent; kept even when chunked wins */
    bool chunked;           /* the final transfer coding is chunked */
    bool close;             /* the connection cannot carry another response: see
                               parser.c for the cases */
    bool head_done, done;
    size_t head_len;     /* bytes of the final head (status line + headers + CRLFCRLF) */
    uint64_t body_bytes; /* body bytes seen (decoded payload bytes for chunked) */
    const char *error;   /* static string naming the problem when a call returned -1 */
    /* Set by the caller after http_resp_init: the call that completes the final head returns right after it,
       so the caller can decide before any body byte is consumed (the kept-body budget does). */
    bool stop_after_head;

    /* Private parse state: callers read only the fields above. */
    int state;            /* where the parser is: an enum in parser.c */
    size_t scan;          /* head: offset from the head's start of the first unparsed line */
    size_t seen;          /* head: bytes presented by the last call, to name an EOF */
    uint64_t remaining;   /* body bytes left (length body, current chunk); the chunk
                             size while its line is read */
    size_t line_bytes;    /* chunk-extension or trailer bytes so far, against their cap */
    bool head_request;    /* the request was HEAD: no body whatever the headers say */
    bool status_seen;     /* the status line of the current head has been parsed */
    bool got_interim;     /* an interim 1xx head was consumed */
    bool cl_seen;         /* a Content-Length header was seen in the current head */
    bool te_seen;         /* a Transfer-Encoding header was seen in the current head */
    bool te_chunked_seen; /* "chunked" appeared among the transfer codings */
    bool conn_close;      /* Connection held "close" */
    bool conn_keep_alive; /* Connection held "keep-alive" */
    bool fold_forbidden;  /* a continuation line here would change framing */
    bool size_digits;     /* the chunk-size line has at least one hex digit */
    bool size_ws;         /* whitespace followed the chunk size's digits */
};

/*
 * Prepares r for one response. head_request: the request was HEAD, so the
 * response has no body whatever its headers say. Never fails.
 */
void http_resp_init(struct http_resp *r, bool head_request);

/*
 * Parses the bytes buf[0..len) as described above. Returns the number of
 * bytes consumed (0 <= n <= len) or -1 on malformed input with r->error set.
 * Never reads outside [buf, buf + len).
 */
ssize_t http_resp_feed(struct http_resp *r, const char *buf, size_t len);

/*
 * Tells the parser the server closed the connection after everything fed so
 * far. Returns 0 when the response is complete (a close-delimited body ends
 * here, and done is set), -1 with r->error set when it is truncated, or when
 * an error was already reported.
 */
int http_resp_eof(struct http_resp *r);

#endif

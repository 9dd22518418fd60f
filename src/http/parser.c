/*
 * parser.c — the incremental HTTP/1.1 response parser (see parser.h).
 *
 * The head is parsed one line at a time as its lines complete, and
 * r->scan remembers where the first unparsed line starts: the caller
 * presents the same prefix again on every call until the head is complete,
 * so each line of a head is parsed once however the head is split, and a
 * head arriving byte by byte costs O(n), not O(n^2). Each header line updates the
 * few results the load generator needs (framing, Connection) as it goes;
 * nothing else is kept.
 *
 * After the head, the body is a byte stream run through a small state
 * machine (length, close-delimited or chunked) that never needs bytes to be
 * presented twice, so the caller can throw body bytes away.
 *
 * Invariants: reads stay inside [buf, buf + len); nothing allocates; an error
 * is sticky; a done response consumes nothing more.
 *
 * Performance: ~100k responses/s/core are parsed next to the network work.
 * Lines are found with memchr; header names are checked through a table
 * and compared only when their length matches a framing header; body
 * payload is skipped in bulk. Per-byte loops run only over short things:
 * names, the status line, framing values and chunk-size lines.
 *
 * r->close is set when the server will close the connection or the
 * connection cannot carry another HTTP response: "Connection: close",
 * HTTP/1.0 without "Connection: keep-alive", a body delimited by the close
 * itself, or 101 Switching Protocols (the connection then speaks something
 * else).
 */
#include "http/parser.h"

#include <string.h>

/* Larger Content-Length or chunk sizes are rejected: no server sends them,
 * and the limit keeps every sum of sizes far from overflowing. */
#define LENGTH_LIMIT ((uint64_t)1 << 62)

/* Where the parser is; r->state holds one of these. */
enum {
    ST_HEAD,          /* reading a head, interim or final */
    ST_BODY_LENGTH,   /* Content-Length body: r->remaining bytes left */
    ST_BODY_EOF,      /* body delimited by the connection's close */
    ST_CHUNK_SIZE,    /* hex digits of a chunk size, then optional whitespace */
    ST_CHUNK_EXT,     /* chunk extensions up to the end of the size line */
    ST_CHUNK_SIZE_LF, /* a CR ended the size line; the LF must follow */
    ST_CHUNK_DATA,    /* chunk payload: r->remaining bytes left */
    ST_CHUNK_DATA_CR, /* the CRLF after a chunk's payload */
    ST_CHUNK_DATA_LF, /* a CR followed the payload; the LF must follow */
    ST_TRAILER_START, /* start of a trailer line, or the final empty line */
    ST_TRAILER_LINE,  /* inside a trailer line */
    ST_TRAILER_LF,    /* a CR began the final line; the LF must follow */
    ST_DONE,
    ST_ERROR,
};

/* The error strings; their addresses are the identities callers count by. */
static const char err_status[] = "bad status line";
static const char err_header[] = "bad header";
static const char err_too_large[] = "headers too large";
static const char err_length[] = "bad content-length";
static const char err_te[] = "bad transfer-encoding";
static const char err_chunk_size[] = "bad chunk size";
static const char err_chunk_crlf[] = "missing chunk crlf";
static const char err_chunk_ext[] = "chunk extension too long";
static const char err_trailer[] = "bad trailer";
static const char err_trailers_large[] = "trailers too large";
static const char err_shrank[] = "input shrank between calls";
static const char err_eof_before[] = "closed before response";
static const char err_eof_head[] = "truncated head";
static const char err_eof_body[] = "truncated body";

/* RFC 9110 token characters, the only ones allowed in a header name. */
static const unsigned char tchar[256] = {
    ['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1, ['!'] = 1, ['#'] = 1, ['$'] = 1,
    ['%'] = 1,         ['&'] = 1,         ['\''] = 1,        ['*'] = 1, ['+'] = 1, ['-'] = 1,
    ['.'] = 1,         ['^'] = 1,         ['_'] = 1,         ['`'] = 1, ['|'] = 1, ['~'] = 1,
};

/* Records the error, makes it sticky and returns -1 for the caller to pass on. */
static int fail(struct http_resp *r, const char *why)
{
    r->error = why;
    r->state = ST_ERROR;
    return -1;
}

/* The character tests take char, not int: no <ctype.h> locale lookups here. */
static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Optional whitespace (RFC 9110 OWS): space or tab. */
static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* ASCII lower case, whatever the locale. */
static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
}

/* Whether s[0..n) equals the lower-case word, ignoring ASCII case. */
static bool equals_nocase(const char *s, size_t n, const char *word, size_t word_len)
{
    if (n != word_len) return false;
    for (size_t i = 0; i < n; i++)
        if (lower(s[i]) != word[i]) return false;
    return true;
}

/*
 * Takes the next element of a comma-separated header value from *p (up to
 * end), trimmed of surrounding whitespace, and advances *p past it. Returns
 * false when the value is used up. Elements may be empty ("a, , b").
 */
static bool next_element(const char **p, const char *end, const char **elem, size_t *elem_len)
{
    if (*p > end) return false;
    const char *start = *p;
    const char *comma = memchr(start, ',', (size_t)(end - start));
    const char *stop = comma ? comma : end;
    *p = stop + 1;
    while (start < stop && is_ows(*start))
        start++;
    while (stop > start && is_ows(stop[-1]))
        stop--;
    *elem = start;
    *elem_len = (size_t)(stop - start);
    return true;
}

/* Clears what one head has said, before the first head or after an interim one. */
static void reset_head(struct http_resp *r)
{
    r->status = 0;
    r->minor_version = 0;
    r->content_length = -1;
    r->chunked = false;
    r->close = false;
    r->head_len = 0;
    r->scan = 0;
    r->status_seen = false;
    r->cl_seen = r->te_seen = r->te_chunked_seen = false;
    r->conn_close = r->conn_keep_alive = false;
}

/* Starts a response from scratch; see parser.h. */
void http_resp_init(struct http_resp *r, bool head_request)
{
    memset(r, 0, sizeof(*r));
    r->state = ST_HEAD;
    r->head_request = head_request;
    reset_head(r);
}

/* ---- head ---------------------------------------------------------------- */

/*
 * Parses "HTTP/1.x SSS reason" (CR already stripped). The reason may be
 * empty, with or without the space before it, and holds no control
 * characters other than tab.
 */
static int parse_status_line(struct http_resp *r, const char *p, size_t n)
{
    if (n < 12 || memcmp(p, "HTTP/1.", 7) != 0 || !is_digit(p[7]) || p[8] != ' ') return fail(r, err_status);
    if (p[9] < '1' || p[9] > '9' || !is_digit(p[10]) || !is_digit(p[11])) return fail(r, err_status);
    if (n > 12 && p[12] != ' ') return fail(r, err_status);
    for (size_t i = 13; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) return fail(r, err_status);
    }
    r->minor_version = p[7] - '0';
    r->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    r->status_seen = true;
    r->fold_forbidden = true; /* a continuation line cannot follow the status line */
    return 0;
}

/*
 * Content-Length: one or more identical decimal values ("5" or "5, 5");
 * repeated headers must agree too. Anything else is an error rather than a
 * guess, since a wrong length desynchronises every later response.
 */
static int parse_content_length(struct http_resp *r, const char *v, const char *end)
{
    const char *elem;
    size_t elem_len;
    while (next_element(&v, end, &elem, &elem_len)) {
        uint64_t value = 0;
        if (elem_len == 0) return fail(r, err_length);
        for (size_t i = 0; i < elem_len; i++) {
            if (!is_digit(elem[i])) return fail(r, err_length);
            unsigned digit = (unsigned)(elem[i] - '0');
            if (value > (LENGTH_LIMIT - digit) / 10) return fail(r, err_length);
            value = value * 10 + digit;
        }
        if (r->cl_seen && (uint64_t)r->content_length != value) return fail(r, err_length);
        r->content_length = (int64_t)value;
        r->cl_seen = true;
    }
    return 0;
}

/*
 * Transfer-Encoding: only whether the final coding is chunked matters. A
 * response whose final coding is something else runs until the close
 * (RFC 9112 section 6.3); chunked applied twice is an error.
 */
static int parse_transfer_encoding(struct http_resp *r, const char *v, const char *end)
{
    const char *elem;
    size_t elem_len;
    bool any = false;
    while (next_element(&v, end, &elem, &elem_len)) {
        if (elem_len == 0) continue;
        any = true;
        bool is_chunked = equals_nocase(elem, elem_len, "chunked", 7);
        if (is_chunked && r->te_chunked_seen) return fail(r, err_te);
        r->te_chunked_seen |= is_chunked;
        r->chunked = is_chunked;
    }
    if (!any) return fail(r, err_te);
    r->te_seen = true;
    return 0;
}

/* Connection: a token list in which only "close" and "keep-alive" matter. */
static void parse_connection(struct http_resp *r, const char *v, const char *end)
{
    const char *elem;
    size_t elem_len;
    while (next_element(&v, end, &elem, &elem_len)) {
        if (equals_nocase(elem, elem_len, "close", 5))
            r->conn_close = true;
        else if (equals_nocase(elem, elem_len, "keep-alive", 10))
            r->conn_keep_alive = true;
    }
}

/*
 * Parses one header line (CR already stripped, not empty). A continuation
 * line (obsolete folding) is tolerated after headers we ignore and rejected
 * after framing headers, whose meaning it would change.
 */
static int parse_header(struct http_resp *r, const char *p, size_t n)
{
    if (is_ows(p[0])) return r->fold_forbidden ? fail(r, err_header) : 0;
    size_t name_len = 0;
    while (name_len < n && tchar[(unsigned char)p[name_len]])
        name_len++;
    if (name_len == 0 || name_len == n || p[name_len] != ':') return fail(r, err_header);

    const char *v = p + name_len + 1, *end = p + n;
    while (v < end && is_ows(*v))
        v++;
    while (end > v && is_ows(end[-1]))
        end--;

    r->fold_forbidden = false;
    switch (name_len) {
    case 10:
        if (!equals_nocase(p, name_len, "connection", 10)) return 0;
        r->fold_forbidden = true;
        parse_connection(r, v, end);
        return 0;
    case 14:
        if (!equals_nocase(p, name_len, "content-length", 14)) return 0;
        r->fold_forbidden = true;
        return parse_content_length(r, v, end);
    case 17:
        if (!equals_nocase(p, name_len, "transfer-encoding", 17)) return 0;
        r->fold_forbidden = true;
        return parse_transfer_encoding(r, v, end);
    default: return 0;
    }
}

/*
 * Before the status line is complete, rejects at once a start that can
 * never become "HTTP/1.": a server speaking another protocol (TLS on a
 * plain port, say) may never send a newline at all.
 */
static int check_status_prefix(struct http_resp *r, const char *head, size_t avail)
{
    size_t n = avail < 7 ? avail : 7;
    return memcmp(head, "HTTP/1.", n) == 0 ? 0 : fail(r, err_status);
}

/*
 * Parses the complete lines of one head from r->scan on. Returns 1 when the
 * head is complete (r->head_len set), 0 when more bytes are needed, -1 on
 * error.
 */
static int scan_head(struct http_resp *r, const char *head, size_t avail)
{
    size_t limit = avail < HTTP_MAX_HEAD ? avail : HTTP_MAX_HEAD;
    while (r->scan < limit) {
        const char *line = head + r->scan;
        const char *lf = memchr(line, '\n', limit - r->scan);
        if (!lf) break;
        size_t n = (size_t)(lf - line);
        r->scan += n + 1;
        if (n > 0 && line[n - 1] == '\r') n--;
        if (!r->status_seen) {
            if (parse_status_line(r, line, n) < 0) return -1;
        } else if (n == 0) {
            r->head_len = r->scan;
            return 1;
        } else if (parse_header(r, line, n) < 0) {
            return -1;
        }
    }
    if (!r->status_seen && check_status_prefix(r, head, avail) < 0) return -1;
    if (avail >= HTTP_MAX_HEAD) return fail(r, err_too_large);
    return 0;
}

/* Decides how the body of the final response is delimited. */
static void finish_head(struct http_resp *r)
{
    int s = r->status;
    r->head_done = true;
    r->close = s == 101 || r->conn_close || (r->minor_version == 0 && !r->conn_keep_alive);
    if (r->head_request || s == 101 || s == 204 || s == 304) {
        r->state = ST_DONE;
    } else if (r->te_seen) {
        r->state = r->chunked ? ST_CHUNK_SIZE : ST_BODY_EOF;
    } else if (r->cl_seen) {
        r->remaining = (uint64_t)r->content_length;
        r->state = r->remaining ? ST_BODY_LENGTH : ST_DONE;
    } else {
        r->state = ST_BODY_EOF;
    }
    if (r->state == ST_BODY_EOF) r->close = true;
    r->done = r->state == ST_DONE;
}

/*
 * Parses heads until the final one is complete. Interim 1xx heads are
 * consumed and forgotten. Returns the bytes consumed, or -1.
 */
static ssize_t feed_head(struct http_resp *r, const char *buf, size_t len)
{
    size_t base = 0;
    for (;;) {
        size_t avail = len - base;
        if (avail < r->scan) return fail(r, err_shrank);
        r->seen = avail;
        int rc = scan_head(r, buf + base, avail);
        if (rc < 0) return -1;
        if (rc == 0) return (ssize_t)base;
        base += r->head_len;
        if (r->status >= 200 || r->status == 101) {
            finish_head(r);
            return (ssize_t)base;
        }
        r->got_interim = true;
        reset_head(r);
    }
}

/* ---- body ---------------------------------------------------------------- */

/* A chunk-size line ended: on to the payload, or to the trailers after "0". */
static void end_size_line(struct http_resp *r)
{
    r->size_digits = r->size_ws = false;
    r->line_bytes = 0;
    r->state = r->remaining ? ST_CHUNK_DATA : ST_TRAILER_START;
}

/* The value of a hex digit, or -1. */
static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* One byte of a chunk-size line: digits, optional whitespace, then ';' or the end. */
static ssize_t chunk_size_byte(struct http_resp *r, unsigned char c)
{
    int digit = hex_value(c);
    if (digit >= 0 && !r->size_ws) {
        if (r->remaining > (LENGTH_LIMIT - (unsigned)digit) / 16) return fail(r, err_chunk_size);
        r->remaining = r->remaining * 16 + (unsigned)digit;
        r->size_digits = true;
        return 1;
    }
    if (!r->size_digits) return fail(r, err_chunk_size);
    if (is_ows((char)c))
        r->size_ws = true;
    else if (c == ';')
        r->state = ST_CHUNK_EXT;
    else if (c == '\r')
        r->state = ST_CHUNK_SIZE_LF;
    else if (c == '\n')
        end_size_line(r);
    else
        return fail(r, err_chunk_size);
    return 1;
}

/*
 * One byte in the states that look at single bytes: the chunk size, the
 * line ends around chunks and the starts of trailer lines. Returns the bytes
 * consumed (0 when only the state changed) or -1.
 */
static ssize_t chunk_byte(struct http_resp *r, unsigned char c)
{
    switch (r->state) {
    case ST_CHUNK_SIZE: return chunk_size_byte(r, c);
    case ST_CHUNK_SIZE_LF:
        if (c != '\n') return fail(r, err_chunk_size);
        end_size_line(r);
        return 1;
    case ST_CHUNK_DATA_CR:
        if (c == '\r')
            r->state = ST_CHUNK_DATA_LF;
        else if (c == '\n')
            r->state = ST_CHUNK_SIZE;
        else
            return fail(r, err_chunk_crlf);
        return 1;
    case ST_CHUNK_DATA_LF:
        if (c != '\n') return fail(r, err_chunk_crlf);
        r->state = ST_CHUNK_SIZE;
        return 1;
    case ST_TRAILER_START:
        if (c == '\r')
            r->state = ST_TRAILER_LF;
        else if (c == '\n')
            r->state = ST_DONE;
        else
            r->state = ST_TRAILER_LINE;
        return c == '\r' || c == '\n';
    default: /* ST_TRAILER_LF */
        if (c != '\n') return fail(r, err_trailer);
        r->state = ST_DONE;
        return 1;
    }
}

/*
 * Skips to the end of a chunk-extension or trailer line, counting the bytes
 * against their cap: a server streaming an endless extension or trailer
 * section is treated as broken rather than followed forever.
 */
static ssize_t skip_line(struct http_resp *r, const char *p, size_t n)
{
    const char *lf = memchr(p, '\n', n);
    size_t used = lf ? (size_t)(lf - p) + 1 : n;
    r->line_bytes += used;
    if (r->line_bytes > HTTP_MAX_HEAD) return fail(r, r->state == ST_CHUNK_EXT ? err_chunk_ext : err_trailers_large);
    if (lf && r->state == ST_CHUNK_EXT)
        end_size_line(r);
    else if (lf)
        r->state = ST_TRAILER_START;
    return (ssize_t)used;
}

/* Runs the chunked-body state machine over buf[0..len); returns bytes consumed or -1. */
static ssize_t feed_chunked(struct http_resp *r, const char *buf, size_t len)
{
    size_t i = 0;
    while (i < len && r->state != ST_DONE) {
        ssize_t used;
        if (r->state == ST_CHUNK_DATA) {
            uint64_t left = len - i;
            used = (ssize_t)(r->remaining < left ? r->remaining : left);
            r->remaining -= (uint64_t)used;
            r->body_bytes += (uint64_t)used;
            if (r->remaining == 0) r->state = ST_CHUNK_DATA_CR;
        } else if (r->state == ST_CHUNK_EXT || r->state == ST_TRAILER_LINE) {
            used = skip_line(r, buf + i, len - i);
        } else {
            used = chunk_byte(r, (unsigned char)buf[i]);
        }
        if (used < 0) return -1;
        i += (size_t)used;
    }
    r->done = r->state == ST_DONE;
    return (ssize_t)i;
}

/* Consumes body bytes of buf[0..len) according to the framing chosen by finish_head. */
static ssize_t feed_body(struct http_resp *r, const char *buf, size_t len)
{
    switch (r->state) {
    case ST_DONE: return 0;
    case ST_BODY_EOF: r->body_bytes += len; return (ssize_t)len;
    case ST_BODY_LENGTH: {
        size_t used = r->remaining < len ? (size_t)r->remaining : len;
        r->remaining -= used;
        r->body_bytes += used;
        if (r->remaining == 0) {
            r->state = ST_DONE;
            r->done = true;
        }
        return (ssize_t)used;
    }
    default: return feed_chunked(r, buf, len);
    }
}

/* Head first (consuming nothing until it completes), then body; see parser.h. */
ssize_t http_resp_feed(struct http_resp *r, const char *buf, size_t len)
{
    if (r->state == ST_ERROR) return -1;
    if (len == 0) return 0;
    size_t used = 0;
    if (r->state == ST_HEAD) {
        ssize_t n = feed_head(r, buf, len);
        if (n < 0 || r->state == ST_HEAD) return n;
        used = (size_t)n;
        if (used == len || r->stop_after_head) return (ssize_t)used;
    }
    ssize_t n = feed_body(r, buf + used, len - used);
    return n < 0 ? -1 : (ssize_t)used + n;
}

/* The close ends a close-delimited body and truncates anything else. */
int http_resp_eof(struct http_resp *r)
{
    switch (r->state) {
    case ST_ERROR: return -1;
    case ST_DONE: return 0;
    case ST_BODY_EOF:
        r->state = ST_DONE;
        r->done = true;
        return 0;
    case ST_HEAD: return fail(r, r->seen == 0 && !r->got_interim ? err_eof_before : err_eof_head);
    default: return fail(r, err_eof_body);
    }
}

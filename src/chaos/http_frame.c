/*
 * http_frame.c — the streaming HTTP/1.x framer; see http_frame.h.
 *
 * A byte-at-a-time state machine for heads, chunk-size lines and trailers,
 * and bulk skipping for body bytes. Lines may end in CRLF or a bare LF.
 * Invariant: every call with len > 0 consumes at least one byte, so the
 * caller's loop always progresses.
 */
#include "chaos/http_frame.h"

#include <ctype.h>
#include <string.h>

enum {
    S_START,      /* between messages */
    S_LINE1,      /* request line or status line */
    S_LINE_START, /* start of a header line, or the blank line */
    S_NAME,       /* header name */
    S_VALUE,      /* header value */
    S_HEAD_LF,    /* CR of the blank line seen */
    S_BODY,       /* Content-Length body */
    S_CHUNK_SIZE, /* hex digits of a chunk-size line */
    S_CHUNK_EXT,  /* rest of a chunk-size line */
    S_CHUNK_DATA,
    S_CHUNK_CR, /* CRLF after chunk data */
    S_CHUNK_LF,
    S_TRAILER_START,
    S_TRAILER_LINE,
    S_TRAILER_LF,
    S_BODY_EOF, /* response delimited by the end of the stream */
    S_TUNNEL,   /* after CONNECT / 101: not HTTP any more */
    S_ERROR,
};

#define MAX_LINE_EXTRA 4096 /* chunk extensions and one trailer line */

/* The headers framing needs; every other header is skipped with memchr. */
enum { H_OTHER, H_CONTENT_LENGTH, H_TRANSFER_ENCODING, H_CONNECTION, H_UPGRADE };

/* ASCII lower case without the locale lookup of tolower(). */
static inline char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

void http_frame_init(struct http_frame *f, bool is_response)
{
    memset(f, 0, sizeof *f);
    f->is_response = is_response;
    f->content_length = -1;
    f->state = S_START;
}

bool http_frame_idle(const struct http_frame *f)
{
    return f->state == S_START;
}

void http_frame_expect(struct http_frame *f, bool head_request)
{
    f->expect_no_body = head_request;
}

/* Clears the per-head results (a new message, or the head after a 1xx). */
static void head_reset(struct http_frame *f)
{
    f->method_head = f->upgrade = f->keep_alive = false;
    f->status = 0;
    f->content_length = -1;
    f->chunked = false;
    f->http10 = f->conn_close = f->conn_keep_alive = f->has_upgrade = false;
    f->line1_len = 0;
    f->tail_pos = 0;
    memset(f->tail, 0, sizeof f->tail);
}

static int fail(struct http_frame *f, const char *why)
{
    f->error = why;
    f->state = S_ERROR;
    return -1;
}

/* True when the comma-separated list `value` holds token `tok`. */
static bool has_token(const char *value, const char *tok)
{
    size_t n = strlen(tok);
    for (const char *p = value; (p = strstr(p, tok)) != NULL; p += n) {
        bool start = p == value || p[-1] == ',' || p[-1] == ' ' || p[-1] == '\t';
        char after = p[n];
        if (start && (after == '\0' || after == ',' || after == ' ' || after == '\t')) return true;
    }
    return false;
}

/* Parses the first line of the head. 0 or -1. */
static int parse_line1(struct http_frame *f)
{
    const char *l = f->line1;
    if (f->is_response) {
        if (f->line1_len < 12 || memcmp(l, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)l[7]) || l[8] != ' ' ||
            !isdigit((unsigned char)l[9]) || !isdigit((unsigned char)l[10]) || !isdigit((unsigned char)l[11]))
            return fail(f, "bad status line");
        f->http10 = l[7] == '0';
        f->status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
        if (f->status < 100) return fail(f, "bad status line");
        return 0;
    }
    size_t m = 0;
    while (m < f->line1_len && l[m] != ' ') {
        unsigned char c = (unsigned char)l[m];
        if (!isalpha(c) && c != '-' && c != '_') return fail(f, "bad request line");
        m++;
    }
    if (m == 0 || m >= f->line1_len) return fail(f, "bad request line");
    f->method_head = m == 4 && memcmp(l, "HEAD", 4) == 0;
    f->upgrade = m == 7 && memcmp(l, "CONNECT", 7) == 0;
    char tail[8];
    for (int i = 0; i < 8; i++)
        tail[i] = f->tail[(f->tail_pos + i) & 7];
    if (memcmp(tail, "HTTP/1.", 7) != 0) return fail(f, "bad request line");
    f->http10 = tail[7] == '0';
    return 0;
}

/* Applies the header in name/value (both lower-cased, value trimmed). */
static int header_done(struct http_frame *f)
{
    char *v = f->value;
    size_t n = f->value_len;
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r'))
        n--;
    v[n] = '\0';
    if (f->header == H_CONTENT_LENGTH) {
        if (f->value_long || n == 0 || n > 18) return fail(f, "bad content-length");
        int64_t cl = 0;
        for (size_t i = 0; i < n; i++) {
            if (!isdigit((unsigned char)v[i])) return fail(f, "bad content-length");
            cl = cl * 10 + (v[i] - '0');
        }
        if (f->content_length >= 0 && f->content_length != cl) return fail(f, "bad content-length");
        f->content_length = cl;
    } else if (f->header == H_TRANSFER_ENCODING) {
        if (f->value_long) return fail(f, "bad transfer-encoding");
        size_t k = strlen("chunked");
        f->chunked = n >= k && strcmp(v + n - k, "chunked") == 0;
        if (!f->chunked && !f->is_response) return fail(f, "bad transfer-encoding");
    } else if (f->header == H_CONNECTION) {
        f->conn_close |= has_token(v, "close");
        f->conn_keep_alive |= has_token(v, "keep-alive");
    } else if (f->header == H_UPGRADE) {
        f->has_upgrade = true;
    }
    return 0;
}

/* The blank line ended a head: decide how the body is delimited. */
static void head_end(struct http_frame *f)
{
    if (f->is_response) {
        if (f->status < 200 && f->status != 101) { /* interim: the final head follows */
            head_reset(f);
            f->state = S_LINE1;
            return;
        }
        f->events = HTTP_FRAME_HEAD;
        if (f->status == 101) {
            f->upgrade = true;
            f->events |= HTTP_FRAME_DONE;
            f->state = S_TUNNEL;
            return;
        }
        bool no_body = f->expect_no_body || f->status == 204 || f->status == 304;
        if (no_body || (!f->chunked && f->content_length == 0))
            f->state = S_START;
        else if (f->chunked)
            f->state = S_CHUNK_SIZE;
        else if (f->content_length > 0)
            f->state = S_BODY;
        else
            f->state = S_BODY_EOF;
    } else {
        f->upgrade |= f->has_upgrade;
        f->keep_alive = f->http10 ? f->conn_keep_alive && !f->conn_close : !f->conn_close;
        f->events = HTTP_FRAME_HEAD;
        if (f->chunked)
            f->state = S_CHUNK_SIZE;
        else if (f->content_length > 0)
            f->state = S_BODY;
        else
            f->state = S_START;
    }
    f->remaining = f->state == S_BODY ? (uint64_t)f->content_length : 0;
    if (f->state == S_START) f->events |= HTTP_FRAME_DONE;
}

/* Which header the name just read is. */
static uint8_t header_kind(struct http_frame *f)
{
    if (f->name_long) return H_OTHER;
    f->name[f->name_len] = '\0';
    if (strcmp(f->name, "content-length") == 0) return H_CONTENT_LENGTH;
    if (strcmp(f->name, "transfer-encoding") == 0) return H_TRANSFER_ENCODING;
    if (strcmp(f->name, "connection") == 0) return H_CONNECTION;
    if (strcmp(f->name, "upgrade") == 0) return H_UPGRADE;
    return H_OTHER;
}

/* Adds a byte of the first line to line1 (its start) and tail (its end). */
static void line1_byte(struct http_frame *f, char c)
{
    if (c == '\r') return;
    if (f->line1_len < sizeof f->line1 - 1) f->line1[f->line1_len++] = c;
    f->tail[f->tail_pos++ & 7] = c;
}

/* One byte of the head. Returns 0 or -1. */
static int head_byte(struct http_frame *f, char c)
{
    if (++f->head_bytes > HTTP_FRAME_MAX_HEAD) return fail(f, "headers too large");
    switch (f->state) {
    case S_LINE1:
        if (c == '\n' && f->line1_len == 0 && !f->is_response) return 0; /* stray CRLF between requests */
        if (c != '\n')
            line1_byte(f, c);
        else if (parse_line1(f) == 0)
            f->state = S_LINE_START;
        else
            return -1;
        return 0;
    case S_LINE_START:
        if (c == '\r')
            f->state = S_HEAD_LF;
        else if (c == '\n')
            head_end(f);
        else if (c == ' ' || c == '\t')
            return fail(f, "bad header"); /* obsolete folding */
        else {
            f->name_len = 0;
            f->name_long = false;
            f->name[f->name_len++] = lower(c);
            f->state = S_NAME;
        }
        return 0;
    case S_NAME:
        if (c == ':') {
            f->value_len = 0;
            f->value_long = false;
            f->header = header_kind(f);
            f->state = S_VALUE;
        } else if (c == '\n') {
            return fail(f, "bad header");
        } else if (f->name_len < sizeof f->name - 1) {
            f->name[f->name_len++] = lower(c);
        } else {
            f->name_long = true;
        }
        return 0;
    case S_VALUE:
        if (c == '\n') {
            f->state = S_LINE_START;
            return header_done(f);
        }
        if (f->value_len == 0 && (c == ' ' || c == '\t')) return 0;
        if (f->value_len < sizeof f->value - 1)
            f->value[f->value_len++] = lower(c);
        else
            f->value_long = true;
        return 0;
    case S_HEAD_LF:
        if (c != '\n') return fail(f, "bad header");
        head_end(f);
        return 0;
    }
    return fail(f, "internal state");
}

/* One byte of a chunk-size line, the CRLF after chunk data, or a trailer. */
static int chunk_byte(struct http_frame *f, char c)
{
    switch (f->state) {
    case S_CHUNK_SIZE:
        if (isxdigit((unsigned char)c)) {
            if (++f->line_len > 15) return fail(f, "bad chunk size");
            int d = isdigit((unsigned char)c) ? c - '0' : (lower(c) - 'a' + 10);
            f->remaining = f->remaining * 16 + (uint64_t)d;
            return 0;
        }
        if (f->line_len == 0) return fail(f, "bad chunk size");
        if (c != '\n') {
            f->state = S_CHUNK_EXT;
            f->line_len = 0;
            return 0;
        }
        break;
    case S_CHUNK_EXT:
        if (c != '\n') return ++f->line_len > MAX_LINE_EXTRA ? fail(f, "chunk extension too long") : 0;
        break;
    case S_CHUNK_CR:
        if (c == '\r')
            f->state = S_CHUNK_LF;
        else if (c == '\n')
            f->state = S_CHUNK_SIZE;
        else
            return fail(f, "missing chunk crlf");
        f->line_len = 0;
        f->remaining = 0;
        return 0;
    case S_CHUNK_LF:
        if (c != '\n') return fail(f, "missing chunk crlf");
        f->state = S_CHUNK_SIZE;
        return 0;
    case S_TRAILER_START:
        if (c == '\r')
            f->state = S_TRAILER_LF;
        else if (c == '\n')
            f->events = HTTP_FRAME_DONE, f->state = S_START;
        else
            f->state = S_TRAILER_LINE, f->line_len = 1;
        return 0;
    case S_TRAILER_LINE:
        if (c == '\n')
            f->state = S_TRAILER_START;
        else if (++f->line_len > MAX_LINE_EXTRA)
            return fail(f, "trailers too large");
        return 0;
    case S_TRAILER_LF:
        if (c != '\n') return fail(f, "bad trailer");
        f->events = HTTP_FRAME_DONE;
        f->state = S_START;
        return 0;
    default: return fail(f, "internal state");
    }
    /* The end of a chunk-size line. */
    f->line_len = 0;
    f->state = f->remaining == 0 ? S_TRAILER_START : S_CHUNK_DATA;
    return 0;
}

/* Starts a new message at its first byte. */
static void message_start(struct http_frame *f)
{
    head_reset(f);
    f->head_bytes = 0;
    f->remaining = 0;
    f->line_len = 0;
    f->state = S_LINE1;
}

ssize_t http_frame_feed(struct http_frame *f, const char *buf, size_t len)
{
    size_t i = 0;
    f->events = 0;
    if (f->state == S_ERROR) return -1;
    while (i < len && f->events == 0) {
        int st = f->state;
        if (st == S_START) {
            message_start(f);
            st = f->state;
        }
        if (st == S_BODY || st == S_CHUNK_DATA) {
            size_t n = len - i;
            if (n > f->remaining) n = (size_t)f->remaining;
            f->remaining -= n;
            i += n;
            if (f->remaining > 0) break;
            if (st == S_BODY)
                f->events = HTTP_FRAME_DONE, f->state = S_START;
            else
                f->state = S_CHUNK_CR;
            continue;
        }
        if (st == S_BODY_EOF || st == S_TUNNEL) return (ssize_t)len;
        if (st == S_NAME) { /* a tight loop to the colon: names are most of a head */
            size_t j = i;
            for (; j < len && buf[j] != ':' && buf[j] != '\n'; j++) {
                if (f->name_len < sizeof f->name - 1)
                    f->name[f->name_len++] = lower(buf[j]);
                else
                    f->name_long = true;
            }
            f->head_bytes += j - i;
            if (f->head_bytes > HTTP_FRAME_MAX_HEAD) return fail(f, "headers too large");
            i = j;
            if (j == len) break;
        }
        if (st == S_VALUE && f->header == H_OTHER) { /* skip to the end of the line */
            const char *nl = memchr(buf + i, '\n', len - i);
            size_t skip = nl ? (size_t)(nl - (buf + i)) : len - i;
            f->head_bytes += skip;
            if (f->head_bytes > HTTP_FRAME_MAX_HEAD) return fail(f, "headers too large");
            i += skip;
            if (!nl) break;
        }
        int rc = st <= S_HEAD_LF ? head_byte(f, buf[i]) : chunk_byte(f, buf[i]);
        if (rc < 0) return -1;
        i++;
    }
    return (ssize_t)i;
}

int http_frame_eof(struct http_frame *f)
{
    if (f->state == S_START) return 0;
    if (f->state == S_BODY_EOF || f->state == S_TUNNEL) {
        f->state = S_START;
        f->events = HTTP_FRAME_DONE;
        return 1;
    }
    fail(f, "truncated message");
    return -1;
}

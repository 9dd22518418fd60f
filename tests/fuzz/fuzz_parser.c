/*
 * fuzz_parser.c — libFuzzer target for src/http/parser.c.
 *
 * The first input byte chooses how the rest is cut into reads: bits 0-5 give
 * the (largest) read size, 1..64; bit 6 picks random read sizes instead of
 * fixed ones; bit 7 makes every other request a HEAD. The rest is one
 * connection's bytes, fed by a caller that behaves like the engine: it keeps
 * the unconsumed bytes, appends each read, starts a fresh response after each
 * done one and reports the close with http_resp_eof at the end.
 *
 * Every call gets an exactly sized heap copy of the unconsumed bytes, so ASan
 * catches any read past the end. Besides the parser's own contract (bytes
 * consumed within bounds, errors sticky and named, done responses take
 * nothing more, fields in range), the same bytes are parsed a second time
 * in a single read, and both runs must describe the connection identically:
 * how the input arrives must never change what the parser says. The
 * single-read run sets stop_after_head (the kept-body budget's mode), so
 * stopping after each final head must not change it either.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                                    \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "fuzz_parser: check failed: %s (line %d)\n", #cond, __LINE__);                             \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

/* The simulated connection: what it has read but not yet had consumed. */
struct conn {
    char *pending;
    size_t pending_len;
    uint64_t trace; /* hash of everything the parser reported */
};

static void mix(struct conn *c, uint64_t value)
{
    c->trace = (c->trace ^ value) * 0x100000001b3u;
}

/* Feeds the pending bytes through an exactly sized copy and checks the contract. */
static ssize_t feed(struct conn *c, struct http_resp *r)
{
    char *copy = malloc(c->pending_len ? c->pending_len : 1);
    CHECK(copy);
    memcpy(copy, c->pending, c->pending_len);
    ssize_t n = http_resp_feed(r, copy, c->pending_len);
    if (n < 0) {
        CHECK(n == -1 && r->error && !r->done);
        CHECK(http_resp_feed(r, copy, c->pending_len) == -1);
    } else {
        CHECK((size_t)n <= c->pending_len && !r->error);
    }
    free(copy);
    return n;
}

/* Checks the fields of a finished response and folds them into the trace. */
static void finished(struct conn *c, const struct http_resp *r, size_t consumed)
{
    int s = r->status;
    CHECK(r->head_done && r->done && !r->error);
    CHECK(s >= 100 && s <= 999 && (s >= 200 || s == 101));
    CHECK(r->minor_version >= 0 && r->minor_version <= 9);
    CHECK(r->head_len >= 14 && r->head_len <= HTTP_MAX_HEAD && r->head_len <= consumed);
    CHECK(r->content_length >= -1 && r->content_length <= (int64_t)1 << 62);
    if (r->head_request || s == 101 || s == 204 || s == 304)
        CHECK(r->body_bytes == 0);
    else if (!r->te_seen && r->content_length >= 0)
        CHECK(r->body_bytes == (uint64_t)r->content_length);
    CHECK(consumed >= r->head_len + r->body_bytes);
    uint64_t fields[] = {(uint64_t)s,
                         (uint64_t)r->minor_version,
                         (uint64_t)r->content_length,
                         r->chunked,
                         r->close,
                         r->head_len,
                         r->body_bytes,
                         consumed};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        mix(c, fields[i]);
}

static size_t next_read(uint8_t mode, uint64_t *rng)
{
    size_t largest = (size_t)(mode & 0x3f) + 1;
    if (!(mode & 0x40)) return largest;
    *rng ^= *rng << 13;
    *rng ^= *rng >> 7;
    *rng ^= *rng << 17;
    return 1 + *rng % largest;
}

/* Runs the connection in[0..len), read in pieces of `mode` (or whole); returns its trace. */
static uint64_t run(const uint8_t *in, size_t len, uint8_t mode, bool whole)
{
    struct conn c = {.pending = malloc(len ? len : 1), .trace = 0xcbf29ce484222325u};
    struct http_resp r;
    uint64_t rng = mode | 0x100u;
    size_t off = 0, consumed = 0, total = 0, index = 0;
    bool started = false;
    CHECK(c.pending);
    http_resp_init(&r, (mode & 0x80) && index % 2 == 0);
    r.stop_after_head = whole;
    for (;;) {
        ssize_t n = feed(&c, &r);
        if (n < 0) {
            mix(&c, (uintptr_t)r.error);
            break;
        }
        memmove(c.pending, c.pending + n, c.pending_len - (size_t)n);
        c.pending_len -= (size_t)n;
        consumed += (size_t)n;
        total += (size_t)n;
        if (r.done) {
            CHECK(feed(&c, &r) == 0);
            finished(&c, &r, consumed);
            consumed = 0;
            started = c.pending_len > 0;
            http_resp_init(&r, (mode & 0x80) && ++index % 2 == 0);
            r.stop_after_head = whole;
            continue;
        }
        if (n > 0 && c.pending_len > 0) continue; /* stopped after a head: the body bytes are there */
        if (off == len) {
            if (!started && index > 0) break;
            int rc = http_resp_eof(&r);
            CHECK(rc == 0 ? r.done && !r.error : rc == -1 && r.error && !r.done);
            CHECK(http_resp_eof(&r) == rc);
            if (rc == 0)
                finished(&c, &r, consumed);
            else
                mix(&c, (uintptr_t)r.error);
            break;
        }
        size_t piece = whole ? len - off : next_read(mode, &rng);
        piece = piece < len - off ? piece : len - off;
        memcpy(c.pending + c.pending_len, in + off, piece);
        c.pending_len += piece;
        off += piece;
        started = true;
    }
    CHECK(total <= len);
    free(c.pending);
    return c.trace;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    uint64_t in_pieces = run(data + 1, size - 1, data[0], false);
    uint64_t in_one_read = run(data + 1, size - 1, data[0], true);
    CHECK(in_pieces == in_one_read);
    return 0;
}

/*
 * fuzz_http_frame.c — the chaos proxy's streaming HTTP framer
 * (src/chaos/http_frame.c), requests and responses, chunked and pipelined.
 *
 * The first input byte sets the direction and how the rest is cut into
 * reads: bit 7 frames responses (else requests), bits 0-5 give the
 * (largest) read size 1..64, bit 6 picks random read sizes. The second
 * byte says, bit by bit, which of the first 8 responses answer a HEAD
 * request. The rest is one connection's bytes, fed the way the proxy feeds
 * them: whatever arrived, from an exactly sized heap copy, http_frame_eof
 * at the end.
 *
 * Checked: every feed of len > 0 consumes 1..len bytes or fails with a
 * named, sticky error; a DONE message is idle after it; a HEAD event
 * carries a status in 100..999 for responses and a sane Content-Length;
 * and the same bytes fed in one read give exactly the same events at the
 * same offsets with the same results, and the same error if any: how
 * bytes arrive never changes the framing.
 */
#include <string.h>
#include <sys/types.h>

#include "chaos/http_frame.h"
#include "common.h"

static void mix(uint64_t *trace, uint64_t v)
{
    *trace = (*trace ^ v) * 0x100000001b3u;
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

/* Feeds one read; returns false once the framer failed. */
static bool feed_read(struct http_frame *f, const uint8_t *p, size_t len, size_t base, uint8_t heads, size_t *msgs,
                      uint64_t *trace)
{
    char *copy = malloc(len);
    CHECK(copy);
    memcpy(copy, p, len);
    size_t off = 0;
    bool ok = true;
    while (off < len) {
        if (f->is_response && http_frame_idle(f)) http_frame_expect(f, *msgs < 8 && (heads >> *msgs & 1));
        ssize_t n = http_frame_feed(f, copy + off, len - off);
        if (n < 0) {
            CHECK(n == -1 && f->error && *f->error);
            CHECK(http_frame_feed(f, copy + off, len - off) == -1);
            /* Not the offset: a failed call does not say where its bad byte was. */
            mix(trace, (uintptr_t)f->error);
            ok = false;
            break;
        }
        CHECK(n >= 1 && (size_t)n <= len - off);
        off += (size_t)n;
        if (f->events) {
            mix(trace, base + off);
            mix(trace, f->events);
        }
        if (f->events & HTTP_FRAME_HEAD) {
            CHECK(!f->is_response || (f->status >= 100 && f->status <= 999));
            CHECK(f->content_length >= -1);
            uint64_t fields[] = {
                (uint64_t)f->status, (uint64_t)f->content_length, f->chunked, f->keep_alive, f->upgrade, f->method_head,
                f->head_bytes};
            for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
                mix(trace, fields[i]);
        }
        if (f->events & HTTP_FRAME_DONE) {
            CHECK(http_frame_idle(f) || f->upgrade);
            ++*msgs;
        }
    }
    free(copy);
    return ok;
}

static uint64_t run(const uint8_t *in, size_t len, uint8_t mode, uint8_t heads, bool whole)
{
    struct http_frame f;
    http_frame_init(&f, mode & 0x80);
    uint64_t trace = 0xcbf29ce484222325u, rng = mode | 0x100u;
    size_t off = 0, msgs = 0;
    bool ok = true;
    while (ok && off < len) {
        size_t piece = whole ? len - off : next_read(mode, &rng);
        piece = piece < len - off ? piece : len - off;
        ok = feed_read(&f, in + off, piece, off, heads, &msgs, &trace);
        off += piece;
    }
    if (ok) {
        int rc = http_frame_eof(&f);
        CHECK(rc >= -1 && rc <= 1);
        mix(&trace, (uint64_t)(rc + 1));
    }
    return trace;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    uint64_t pieces = run(data + 2, size - 2, data[0], data[1], false);
    uint64_t one = run(data + 2, size - 2, data[0], data[1], true);
    CHECK(pieces == one);
    return 0;
}

/*
 * fuzz_hlog.c — the HdrHistogram decoder behind hlog files and the
 * histograms embedded in results JSON (src/core/hist_codec.c).
 *
 * The first byte picks the form, by its value mod 3: 0, the rest is
 * compressed V2 bytes (hist_decode); 1, it is base64 text
 * (hist_decode_base64, what merge, report and thresholds read from
 * results); 2, it is the uncompressed V2 payload, which this target
 * compresses and wraps in the outer header, so mutations reach the
 * payload decoder instead of dying in zlib. A histogram that decodes is
 * usable and round-trips: encoded again and decoded, it has the same
 * count, min, max and percentiles. The callback decoder
 * (hist_decode_base64_each, what compare reads with) is fed the same bytes
 * as base64 and must agree: the same verdict, the same counts.
 */
#include <string.h>

#include <zlib.h>

#include "common.h"
#include "core/hist.h"
#include "core/hist_codec.h"

static void same(const struct hist *a, const struct hist *b)
{
    CHECK(hist_value_at_percentile(a, 50) == hist_value_at_percentile(b, 50));
    CHECK(hist_value_at_percentile(a, 99.9) == hist_value_at_percentile(b, 99.9));
    CHECK(hist_value_at_percentile(a, 100) == hist_value_at_percentile(b, 100));
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16), p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* data[0..size) compressed behind the outer V2 header (cookie, length). */
static unsigned char *wrap(const uint8_t *data, size_t size, size_t *out_len)
{
    uLongf zlen = compressBound(size);
    unsigned char *buf = malloc(8 + zlen);
    CHECK(buf);
    CHECK(compress2(buf + 8, &zlen, data, size, Z_BEST_SPEED) == Z_OK);
    put_be32(buf, 0x1c849314u);
    put_be32(buf + 4, (uint32_t)zlen);
    *out_len = 8 + zlen;
    return buf;
}

/* Padded standard base64 of p[0..n), NUL-terminated, malloc'd. */
static char *to_b64(const unsigned char *p, size_t n)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = malloc((n + 2) / 3 * 4 + 1), *w = out;
    CHECK(out);
    for (size_t i = 0; i < n; i += 3) {
        uint32_t g = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        *w++ = abc[g >> 18 & 63];
        *w++ = abc[g >> 12 & 63];
        *w++ = i + 1 < n ? abc[g >> 6 & 63] : '=';
        *w++ = i + 2 < n ? abc[g & 63] : '=';
    }
    *w = '\0';
    return out;
}

/* Counts handed to the callback, checked against the full decode. */
struct each {
    const struct hist *full; /* NULL when the full decode failed */
    int32_t last;
    int64_t sum;
};

static void each_count(void *arg, const struct hist *layout, int32_t index, int64_t count)
{
    struct each *e = arg;
    CHECK(index > e->last && index < layout->counts_len && count > 0);
    e->last = index;
    e->sum += count;
    if (e->full) CHECK(e->full->counts[index] == count);
}

/* The callback decoder on text agrees with the full decoder's rc and h. */
static void agree(const char *text, int rc, const struct hist *h)
{
    struct each e = {rc == 0 ? h : NULL, -1, 0};
    int64_t total = -1;
    int rc_each = hist_decode_base64_each(text, each_count, &e, &total);
    CHECK((rc_each == 0) == (rc == 0));
    if (rc == 0) CHECK(total == h->total_count && e.sum == h->total_count);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    struct hist h;
    int rc;
    if (data[0] % 3 == 0) {
        unsigned char *copy = malloc(size - 1 ? size - 1 : 1);
        CHECK(copy);
        memcpy(copy, data + 1, size - 1);
        rc = hist_decode(copy, size - 1, &h);
        char *text = size > 1 ? to_b64(copy, size - 1) : NULL;
        if (text) agree(text, rc, &h);
        free(text);
        free(copy);
    } else if (data[0] % 3 == 2) {
        size_t len;
        unsigned char *buf = wrap(data + 1, size - 1, &len);
        rc = hist_decode(buf, len, &h);
        char *text = to_b64(buf, len);
        agree(text, rc, &h);
        free(text);
        free(buf);
    } else {
        char *text = fuzz_strndup(data + 1, size - 1);
        rc = hist_decode_base64(text, &h);
        agree(text, rc, &h);
        free(text);
    }
    if (rc < 0) return 0;
    (void)hist_mean(&h);
    (void)hist_stddev(&h);
    char *b64 = hist_encode_base64(&h);
    CHECK(b64);
    struct hist again;
    CHECK(hist_decode_base64(b64, &again) == 0);
    same(&h, &again);
    hist_release(&again);
    free(b64);
    hist_release(&h);
    return 0;
}

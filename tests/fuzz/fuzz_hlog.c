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
 * count, min, max and percentiles.
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
        free(copy);
    } else if (data[0] % 3 == 2) {
        size_t len;
        unsigned char *buf = wrap(data + 1, size - 1, &len);
        rc = hist_decode(buf, len, &h);
        free(buf);
    } else {
        char *text = fuzz_strndup(data + 1, size - 1);
        rc = hist_decode_base64(text, &h);
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

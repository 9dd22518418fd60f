/*
 * fuzz_hlog.c — the HdrHistogram decoder behind hlog files and the
 * histograms embedded in results JSON (src/core/hist_codec.c).
 *
 * The first byte picks the form: even, the rest is compressed V2 bytes
 * (hist_decode); odd, it is base64 text (hist_decode_base64, what merge,
 * report and thresholds read from results). A histogram that decodes is
 * usable and round-trips: encoded again and decoded, it has the same
 * count, min, max and percentiles.
 */
#include <string.h>

#include "common.h"
#include "core/hist.h"
#include "core/hist_codec.h"

static void same(const struct hist *a, const struct hist *b)
{
    CHECK(hist_value_at_percentile(a, 50) == hist_value_at_percentile(b, 50));
    CHECK(hist_value_at_percentile(a, 99.9) == hist_value_at_percentile(b, 99.9));
    CHECK(hist_value_at_percentile(a, 100) == hist_value_at_percentile(b, 100));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    struct hist h;
    int rc;
    if (data[0] % 2 == 0) {
        unsigned char *copy = malloc(size - 1 ? size - 1 : 1);
        CHECK(copy);
        memcpy(copy, data + 1, size - 1);
        rc = hist_decode(copy, size - 1, &h);
        free(copy);
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

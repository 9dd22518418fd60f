/*
 * hist_compat_gen.c — salvo's side of the HdrHistogram (Java) compatibility check.
 *
 * "gen NAME" records a fixed, deterministic data set into a standard salvo
 * histogram and prints its base64 encoding, then the statistics salvo reports
 * for it in HistCompat.java's format. "check REFERENCE OURS" decodes the
 * base64 HdrHistogram wrote (REFERENCE) and the one salvo wrote (OURS),
 * requires identical counts, and reports whether the inflated payloads (and
 * the whole compressed bytes) are byte-identical. Run by run.sh; not part of
 * the unit build.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/hist.h"
#include "core/hist_codec.h"

/* Deterministic latency-like values, so both runs see the same histogram. */
static void fill(struct hist *h, const char *name)
{
    uint64_t x = 88172645463325252ull;
    int n = strcmp(name, "empty") == 0 ? 0 : strcmp(name, "sparse") == 0 ? 7 : 200000;

    for (int i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        if (strcmp(name, "sparse") == 0)
            hist_record(h, (int64_t)(x % 3600000000ull));
        else if (strcmp(name, "dense") == 0)
            hist_record(h, 100 + (int64_t)(x % 5000));
        else /* "mixed": mostly fast, some slow, a few huge */
            hist_record_clamped(h, (int64_t)(x % 1000 == 0 ? x % 3600000000ull
                                             : x % 10 == 0 ? 50000 + x % 200000
                                                           : 200 + x % 300));
    }
}

static void print_stats(const struct hist *h)
{
    printf("total=%lld min=%lld max=%lld p50=%lld p90=%lld p99=%lld p99.9=%lld\n", (long long)h->total_count,
           (long long)hist_min(h), (long long)hist_max(h), (long long)hist_value_at_percentile(h, 50.0),
           (long long)hist_value_at_percentile(h, 90.0), (long long)hist_value_at_percentile(h, 99.0),
           (long long)hist_value_at_percentile(h, 99.9));
    printf("mean=%.6e\n", hist_mean(h));
}

/* Inflates the zlib part of a compressed V2 histogram into buf. */
static size_t inflate_payload(const char *b64, unsigned char *buf, size_t cap)
{
    size_t n = strlen(b64) / 4 * 3, used = 0;
    unsigned char *bin = malloc(n);
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned bits = 0, nbits = 0;

    for (const char *p = b64; *p && *p != '='; p++) {
        bits = bits << 6 | (unsigned)(strchr(alphabet, *p) - alphabet);
        nbits += 6;
        if (nbits >= 8) {
            nbits -= 8;
            bin[used++] = (unsigned char)(bits >> nbits);
        }
    }
    uLongf out_len = cap;
    if (used < 8 || uncompress(buf, &out_len, bin + 8, used - 8) != Z_OK) out_len = 0;
    free(bin);
    return out_len;
}

static int check(const char *reference, const char *ours)
{
    struct hist theirs, mine;
    static unsigned char a[1 << 20], b[1 << 20];

    if (hist_decode_base64(reference, &theirs) != 0 || hist_decode_base64(ours, &mine) != 0) {
        printf("salvo cannot decode HdrHistogram's encoding\n");
        return 1;
    }
    int same_counts = theirs.counts_len == mine.counts_len &&
                      memcmp(theirs.counts, mine.counts, sizeof(int64_t) * (size_t)mine.counts_len) == 0;
    size_t la = inflate_payload(reference, a, sizeof(a)), lb = inflate_payload(ours, b, sizeof(b));
    printf("counts %s; payload %s; compressed bytes %s\n", same_counts ? "identical" : "DIFFER",
           la == lb && la > 0 && memcmp(a, b, la) == 0 ? "byte-identical" : "DIFFERS",
           strcmp(reference, ours) == 0 ? "identical" : "differ (zlib versions may)");
    hist_release(&theirs);
    hist_release(&mine);
    return same_counts && la == lb && memcmp(a, b, la) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "gen") == 0) {
        struct hist h;
        hist_init(&h, HIST_STD_LOWEST, HIST_STD_HIGHEST, HIST_STD_SIGFIG);
        fill(&h, argv[2]);
        char *b64 = hist_encode_base64(&h);
        printf("%s\n", b64);
        print_stats(&h);
        free(b64);
        hist_release(&h);
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "check") == 0) return check(argv[2], argv[3]);
    fprintf(stderr, "usage: hist_compat_gen gen NAME | check REFERENCE OURS\n");
    return 2;
}

/*
 * hist_codec.c — HdrHistogram compressed V2 encoding and its base64 form.
 *
 * The encoder mirrors HdrHistogram (Java) byte for byte up to zlib's output:
 * counts run from index 0 to the last non-zero one (index 0 alone when the
 * histogram is empty), a lone zero count is written as 0 and a run of N > 1
 * zeros as -N. The decoder accepts any V2 word-size-1 encoding of that shape
 * (including the C library's habit of writing a lone zero as -1).
 *
 * Invariants of the decoder: every read is bounds-checked against the bytes
 * actually inflated, the inflated size must equal the header's payload length
 * exactly, the zlib stream must end (its checksum verified) exactly at the end
 * of the input, and the counts index never passes counts_len.
 *
 * Performance: one allocation for the raw payload (at most 9 bytes per
 * counter) and one for zlib's output; both are report-time costs.
 */
#include "core/hist_codec.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define COMPRESSED_COOKIE UINT32_C(0x1c849314)
#define ENCODING_COOKIE UINT32_C(0x1c849313)
#define OUTER_HEADER_LEN 8
#define INNER_HEADER_LEN 40
#define LEB128_MAX_BYTES 9
#define RATIO_ONE_BITS UINT64_C(0x3ff0000000000000) /* 1.0 as an IEEE double */

/* --------------------------------------------------------- byte helpers */

static void put_be32(unsigned char *p, uint32_t v)
{
    for (int i = 3; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)v;
}

static void put_be64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)v;
}

static uint32_t get_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get_be64(const unsigned char *p)
{
    return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

/* Writes v ZigZag-then-LEB128 encoded; the 9th byte, if reached, carries the
 * top 8 bits whole. Returns the number of bytes written (1..9). */
static size_t put_zigzag(unsigned char *p, int64_t v)
{
    uint64_t u = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    size_t n = 0;

    while (n < LEB128_MAX_BYTES - 1 && u >= 0x80) {
        p[n++] = (unsigned char)(u | 0x80);
        u >>= 7;
    }
    p[n++] = (unsigned char)u;
    return n;
}

/* Reads one ZigZag LEB128 value from p[0..len); returns the bytes consumed,
 * or 0 if the value runs past the end. */
static size_t get_zigzag(const unsigned char *p, size_t len, int64_t *v)
{
    uint64_t u = 0;
    size_t n = 0;

    for (;;) {
        if (n == len) return 0;
        unsigned char byte = p[n];
        if (n == LEB128_MAX_BYTES - 1) {
            u |= (uint64_t)byte << 56;
            n++;
            break;
        }
        u |= (uint64_t)(byte & 0x7f) << (7 * n);
        n++;
        if (!(byte & 0x80)) break;
    }
    *v = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
    return n;
}

/* ------------------------------------------------------------- encoding */

/* Writes the inner header and counts into raw (sized for the worst case);
 * returns the total inner length. */
static size_t encode_raw(const struct hist *h, unsigned char *raw, int32_t counts_limit)
{
    size_t pos = INNER_HEADER_LEN;

    for (int32_t i = 0; i < counts_limit;) {
        int64_t count = h->counts[i++];
        int64_t zeros = 0;
        if (count == 0) {
            zeros = 1;
            while (i < counts_limit && h->counts[i] == 0) {
                zeros++;
                i++;
            }
        }
        pos += put_zigzag(raw + pos, zeros > 1 ? -zeros : count);
    }

    put_be32(raw, ENCODING_COOKIE);
    put_be32(raw + 4, (uint32_t)(pos - INNER_HEADER_LEN));
    put_be32(raw + 8, 0); /* normalizing index offset */
    put_be32(raw + 12, (uint32_t)h->significant_figures);
    put_be64(raw + 16, (uint64_t)h->lowest_trackable);
    put_be64(raw + 24, (uint64_t)h->highest_trackable);
    put_be64(raw + 32, RATIO_ONE_BITS);
    return pos;
}

int hist_encode(const struct hist *h, unsigned char **out, size_t *out_len)
{
    /* Up to the last non-zero count, as HdrHistogram writes up to the index
     * of its max value; an empty histogram still writes index 0. */
    int32_t counts_limit = h->counts_len;
    while (counts_limit > 1 && h->counts[counts_limit - 1] == 0)
        counts_limit--;

    unsigned char *raw = malloc(INNER_HEADER_LEN + (size_t)counts_limit * LEB128_MAX_BYTES);
    if (!raw) abort();
    size_t raw_len = encode_raw(h, raw, counts_limit);

    uLongf zlen = compressBound(raw_len);
    unsigned char *buf = malloc(OUTER_HEADER_LEN + zlen);
    if (!buf) abort();
    int rc = compress2(buf + OUTER_HEADER_LEN, &zlen, raw, raw_len, Z_DEFAULT_COMPRESSION);
    free(raw);
    if (rc != Z_OK || zlen > INT32_MAX) {
        free(buf);
        return -EIO;
    }
    put_be32(buf, COMPRESSED_COOKIE);
    put_be32(buf + 4, (uint32_t)zlen);
    /* Hand back exactly what was written, not zlib's worst-case bound. */
    unsigned char *exact = realloc(buf, OUTER_HEADER_LEN + zlen);
    if (exact) buf = exact;
    *out = buf;
    *out_len = OUTER_HEADER_LEN + zlen;
    return 0;
}

/* ------------------------------------------------------------- decoding */

/* Inflates into dst until it is full or the stream ends (*ended). Returns
 * the bytes produced, or -1 if the stream is corrupt or stops short. */
static long inflate_into(z_stream *zs, unsigned char *dst, size_t cap, bool *ended)
{
    zs->next_out = dst;
    zs->avail_out = (uInt)cap;
    while (!*ended && zs->avail_out > 0) {
        int rc = inflate(zs, Z_NO_FLUSH);
        if (rc == Z_STREAM_END)
            *ended = true;
        else if (rc != Z_OK) /* Z_BUF_ERROR here means the input ran out */
            return -1;
    }
    return (long)(cap - zs->avail_out);
}

/* Where decoded counts go: into out's counts array, or, when fn is set,
 * to fn (out then holds the layout only). */
struct sink {
    hist_count_fn fn;
    void *arg;
};

/* Checks the inner header and sets out up from it (with a counts array
 * unless the counts go to a callback); returns the payload length, or
 * -EINVAL. */
static long parse_inner_header(const unsigned char *hdr, struct hist *out, const struct sink *sink)
{
    int32_t payload_len = (int32_t)get_be32(hdr + 4);
    int32_t normalizing_offset = (int32_t)get_be32(hdr + 8);
    int32_t sigfig = (int32_t)get_be32(hdr + 12);
    int64_t lowest = (int64_t)get_be64(hdr + 16);
    int64_t highest = (int64_t)get_be64(hdr + 24);

    if (get_be32(hdr) != ENCODING_COOKIE || payload_len < 0 || normalizing_offset != 0 ||
        get_be64(hdr + 32) != RATIO_ONE_BITS)
        return -EINVAL;
    if ((sink->fn ? hist_layout : hist_init)(out, lowest, highest, sigfig) != 0) return -EINVAL;
    /* No valid payload needs more than the worst case of 9 bytes a counter;
     * refusing larger ones also bounds the allocation a liar can cause. */
    if ((int64_t)payload_len > (int64_t)out->counts_len * LEB128_MAX_BYTES) return -EINVAL;
    return payload_len;
}

/* Applies the ZigZag LEB128 counts to out (or hands them to the sink); 0 or -EINVAL. */
static int apply_counts(struct hist *out, const unsigned char *p, size_t len, const struct sink *sink)
{
    int64_t index = 0, total = 0;
    size_t pos = 0;

    while (pos < len) {
        int64_t v;
        size_t used = get_zigzag(p + pos, len - pos, &v);
        if (used == 0) return -EINVAL;
        pos += used;
        if (v < 0) {
            /* Compare before negating: -INT64_MIN would overflow. */
            if (v < index - out->counts_len) return -EINVAL;
            index -= v;
            continue;
        }
        if (index >= out->counts_len || __builtin_add_overflow(total, v, &total)) return -EINVAL;
        if (!sink->fn) {
            out->counts[index++] = v;
            continue;
        }
        if (v > 0) sink->fn(sink->arg, out, (int32_t)index, v);
        index++;
    }
    out->total_count = total;
    return 0;
}

/* Derives min/max from the counts, as the exact values are not encoded. */
static void derive_min_max(struct hist *h)
{
    int32_t first = -1, last = -1;

    for (int32_t i = 0; i < h->counts_len; i++) {
        if (h->counts[i] != 0) {
            if (first < 0) first = i;
            last = i;
        }
    }
    h->min_value = first < 0 ? INT64_MAX : hist_value_at_index(h, first);
    h->max_value = last < 0 ? 0 : hist_highest_equivalent(h, hist_value_at_index(h, last));
}

/* Inflates and applies everything after the outer header; 0 or -EINVAL. */
static int decode_stream(z_stream *zs, struct hist *out, const struct sink *sink)
{
    unsigned char hdr[INNER_HEADER_LEN];
    bool ended = false;

    if (inflate_into(zs, hdr, sizeof(hdr), &ended) != INNER_HEADER_LEN) return -EINVAL;
    long payload_len = parse_inner_header(hdr, out, sink);
    if (payload_len < 0) return -EINVAL;

    /* One spare byte: filling it means the stream is longer than declared. */
    unsigned char *payload = malloc((size_t)payload_len + 1);
    if (!payload) abort();
    long got = inflate_into(zs, payload, (size_t)payload_len + 1, &ended);
    int rc = -EINVAL;
    if (got == payload_len && ended && zs->avail_in == 0) rc = apply_counts(out, payload, (size_t)payload_len, sink);
    free(payload);
    return rc;
}

/* hist_decode, with the counts going where sink says. */
static int decode(const unsigned char *buf, size_t len, struct hist *out, const struct sink *sink)
{
    memset(out, 0, sizeof(*out));
    if (len < OUTER_HEADER_LEN || get_be32(buf) != COMPRESSED_COOKIE) return -EINVAL;
    uint32_t zlen = get_be32(buf + 4);
    if (zlen > INT32_MAX || (size_t)zlen != len - OUTER_HEADER_LEN) return -EINVAL;

    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit(&zs) != Z_OK) return -EINVAL;
    /* zlib's API is not const-correct; it never writes through next_in. */
    zs.next_in = (Bytef *)(uintptr_t)(buf + OUTER_HEADER_LEN);
    zs.avail_in = zlen;
    int rc = decode_stream(&zs, out, sink);
    inflateEnd(&zs);

    if (rc != 0) {
        hist_release(out);
        return rc;
    }
    if (!sink->fn) derive_min_max(out);
    return 0;
}

int hist_decode(const unsigned char *buf, size_t len, struct hist *out)
{
    const struct sink sink = {NULL, NULL};
    return decode(buf, len, out, &sink);
}

/* --------------------------------------------------------------- base64 */

static const char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Value + 1 of each base64 character; 0 for anything outside the alphabet. */
static const unsigned char b64_plus1[256] = {
    ['A'] = 1,  ['B'] = 2,  ['C'] = 3,  ['D'] = 4,  ['E'] = 5,  ['F'] = 6,  ['G'] = 7,  ['H'] = 8,
    ['I'] = 9,  ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16,
    ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
    ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32,
    ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40,
    ['o'] = 41, ['p'] = 42, ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
    ['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
    ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64,
};

/* Value of a base64 character, or -1 for anything outside the alphabet. */
static int b64_value(unsigned char c)
{
    return (int)b64_plus1[c] - 1;
}

char *hist_encode_base64(const struct hist *h)
{
    unsigned char *bin;
    size_t len;

    if (hist_encode(h, &bin, &len) != 0) return NULL;
    char *text = malloc((len + 2) / 3 * 4 + 1);
    if (!text) abort();
    char *w = text;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t group = (uint32_t)bin[i] << 16;
        if (i + 1 < len) group |= (uint32_t)bin[i + 1] << 8;
        if (i + 2 < len) group |= bin[i + 2];
        *w++ = b64_alphabet[group >> 18 & 63];
        *w++ = b64_alphabet[group >> 12 & 63];
        *w++ = i + 1 < len ? b64_alphabet[group >> 6 & 63] : '=';
        *w++ = i + 2 < len ? b64_alphabet[group & 63] : '=';
    }
    *w = '\0';
    free(bin);
    return text;
}

/* Decodes padded base64 into a malloc'd buffer; -EINVAL on any stray
 * character, misplaced padding or non-zero padding bits. */
static int b64_decode(const char *text, unsigned char **out, size_t *out_len)
{
    size_t len = strlen(text);
    if (len == 0 || len % 4 != 0) return -EINVAL;
    size_t pad = (text[len - 1] == '=') + (text[len - 1] == '=' && text[len - 2] == '=');
    unsigned char *bin = malloc(len / 4 * 3);
    if (!bin) abort();

    size_t n = 0;
    for (size_t i = 0; i < len; i += 4) {
        uint32_t group = 0;
        for (size_t k = 0; k < 4; k++) {
            bool padding = i + k >= len - pad;
            int v = padding ? 0 : b64_value((unsigned char)text[i + k]);
            if (v < 0) {
                free(bin);
                return -EINVAL;
            }
            group = group << 6 | (uint32_t)v;
        }
        bin[n++] = (unsigned char)(group >> 16);
        bin[n++] = (unsigned char)(group >> 8);
        bin[n++] = (unsigned char)group;
    }
    /* The bytes that padding stands for must be zero, or the text is not the
     * canonical encoding of anything. */
    for (size_t k = 0; k < pad; k++) {
        if (bin[n - 1 - k] != 0) {
            free(bin);
            return -EINVAL;
        }
    }
    *out = bin;
    *out_len = n - pad;
    return 0;
}

int hist_decode_base64(const char *b64, struct hist *out)
{
    unsigned char *bin;
    size_t len;

    memset(out, 0, sizeof(*out));
    if (b64_decode(b64, &bin, &len) != 0) return -EINVAL;
    int rc = hist_decode(bin, len, out);
    free(bin);
    return rc;
}

int hist_decode_base64_each(const char *b64, hist_count_fn fn, void *arg, int64_t *total)
{
    unsigned char *bin;
    size_t len;
    struct hist layout;
    const struct sink sink = {fn, arg};

    if (b64_decode(b64, &bin, &len) != 0) return -EINVAL;
    int rc = decode(bin, len, &layout, &sink);
    free(bin);
    if (rc == 0 && total) *total = layout.total_count;
    return rc;
}

/*
 * hist_codec.h — histograms to and from HdrHistogram's compressed V2 form.
 *
 * salvo writes its latency histograms in the encoding HdrHistogram's own
 * tools read (HistogramLogReader, HdrHistogram's plotters, hdr-histogram-js),
 * so a run's results can be merged, replotted or compared by anything in
 * that ecosystem, and shards ship their histograms to the merger this way.
 *
 * Format (all integers big-endian): int32 cookie 0x1c849314, int32 length of
 * the zlib stream that follows, the zlib stream. Inflated: int32 cookie
 * 0x1c849313, int32 payload length, int32 normalizing index offset (0), int32
 * significant figures, int64 lowest, int64 highest, float64 conversion ratio
 * (1.0), then the counts from index 0 to the last non-zero one, each ZigZag
 * LEB128 encoded (at most 9 bytes); a value -N stands for N zero counts. The
 * encoder emits exactly what HdrHistogram (Java) emits for the same counts.
 *
 * The decoder treats its input as hostile: any malformation, truncation,
 * trailing byte or inconsistency (bad cookie, checksum, counts past the end
 * of the histogram, count totals that overflow, a normalizing offset other
 * than 0 or a conversion ratio other than 1.0, which salvo cannot represent)
 * yields -EINVAL, never a crash or an out-of-bounds access.
 *
 * Performance: encoding and decoding are O(counts_len) plus zlib (decoding
 * into a callback, O(encoded counts) plus zlib); meant for report time and
 * shard merging, never for the hot path.
 */
#ifndef SALVO_HIST_CODEC_H
#define SALVO_HIST_CODEC_H

#include <stddef.h>

#include "core/hist.h"

/*
 * Encodes h as compressed V2 bytes into a malloc'd buffer the caller frees.
 * Returns 0, or -EIO if zlib fails.
 */
int hist_encode(const struct hist *h, unsigned char **out, size_t *out_len);

/*
 * Decodes exactly len bytes of compressed V2. On success out has been
 * hist_init'ed from the encoded configuration and filled (the caller
 * hist_release's it); min/max are the lowest/highest equivalent values of the
 * first/last non-empty buckets. Returns 0, or -EINVAL on any malformed input,
 * in which case out is left zeroed (hist_release on it is harmless).
 */
int hist_decode(const unsigned char *buf, size_t len, struct hist *out);

/* Encodes h as padded standard base64 of its compressed V2 bytes, in a
 * malloc'd NUL-terminated string the caller frees; NULL if zlib fails.
 * The string always starts with "HISTF" (the base64 of the cookie). */
char *hist_encode_base64(const struct hist *h);

/* Decodes a string made by hist_encode_base64 (or by HdrHistogram); the whole
 * string must be padded standard base64 with no whitespace. Same contract as
 * hist_decode. */
int hist_decode_base64(const char *b64, struct hist *out);

/* Called for every non-zero count of a decoded histogram, in index (so
 * value) order: layout is the encoded configuration (counts NULL, for
 * hist_value_at_index and friends), index the counter's, count > 0. */
typedef void (*hist_count_fn)(void *arg, const struct hist *layout, int32_t index, int64_t count);

/*
 * hist_decode_base64 without building the histogram: no counts array is
 * allocated, cleared or walked, so decoding costs what the encoded counts
 * cost (a per-second histogram is a few hundred bytes of a 184 KB array).
 * Validates exactly as hist_decode_base64; on -EINVAL fn may already have
 * seen a prefix of the counts, which the caller must discard. *total (may
 * be NULL) receives the sum of the counts on success.
 */
int hist_decode_base64_each(const char *b64, hist_count_fn fn, void *arg, int64_t *total);

#endif

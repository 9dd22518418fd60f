/*
 * rw_decode.h — a test-only reader of remote-write bodies (snappy block,
 * then prometheus.WriteRequest), written from the protobuf spec, not from
 * the encoder, so that a unit test can check what a receiver would read.
 * Strict: any unknown field, wrong wire type or overrun fails the decode.
 */
#ifndef SALVO_TEST_RW_DECODE_H
#define SALVO_TEST_RW_DECODE_H

#include <snappy-c.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DEC_MAX_SERIES 512
#define DEC_MAX_LABELS 16
#define DEC_MAX_SAMPLES 256

struct dec_series {
    char names[DEC_MAX_LABELS][64], values[DEC_MAX_LABELS][64];
    int nlabels;
    double v[DEC_MAX_SAMPLES];
    int64_t ts[DEC_MAX_SAMPLES];
    int nsamples;
};

struct dec_request {
    struct dec_series series[DEC_MAX_SERIES];
    int nseries;
};

/* A varint at *p (< end); -1 on overrun. */
static int dec_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*p >= end) return -1;
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) return *out = v, 0;
    }
    return -1;
}

/* A length-delimited field's bytes after its key. */
static int dec_len(const uint8_t **p, const uint8_t *end, const uint8_t **start, size_t *n)
{
    uint64_t len;
    if (dec_varint(p, end, &len) < 0 || len > (uint64_t)(end - *p)) return -1;
    *start = *p;
    *n = (size_t)len;
    *p += len;
    return 0;
}

static int dec_label(const uint8_t *p, const uint8_t *end, struct dec_series *s)
{
    if (s->nlabels == DEC_MAX_LABELS) return -1;
    int i = s->nlabels++;
    while (p < end) {
        uint64_t key;
        const uint8_t *str;
        size_t n;
        if (dec_varint(&p, end, &key) < 0 || (key & 7) != 2 || dec_len(&p, end, &str, &n) < 0 || n >= 64) return -1;
        if (key >> 3 == 1)
            memcpy(s->names[i], str, n), s->names[i][n] = 0;
        else if (key >> 3 == 2)
            memcpy(s->values[i], str, n), s->values[i][n] = 0;
        else
            return -1;
    }
    return 0;
}

static int dec_sample(const uint8_t *p, const uint8_t *end, struct dec_series *s)
{
    if (s->nsamples == DEC_MAX_SAMPLES) return -1;
    int i = s->nsamples++;
    while (p < end) {
        uint64_t key, v;
        if (dec_varint(&p, end, &key) < 0) return -1;
        if (key == (1 << 3 | 1)) {
            if (end - p < 8) return -1;
            uint64_t bits = 0;
            for (int b = 0; b < 8; b++)
                bits |= (uint64_t)p[b] << (8 * b);
            memcpy(&s->v[i], &bits, 8);
            p += 8;
        } else if (key == (2 << 3 | 0)) {
            if (dec_varint(&p, end, &v) < 0) return -1;
            s->ts[i] = (int64_t)v;
        } else {
            return -1;
        }
    }
    return 0;
}

/* Decodes a WriteRequest's bytes into r; 0 or -1. */
static int dec_request(const uint8_t *p, size_t len, struct dec_request *r)
{
    const uint8_t *end = p + len;
    memset(r, 0, sizeof(*r));
    while (p < end) {
        uint64_t key;
        const uint8_t *ts;
        size_t n;
        if (dec_varint(&p, end, &key) < 0 || key != (1 << 3 | 2) || dec_len(&p, end, &ts, &n) < 0) return -1;
        if (r->nseries == DEC_MAX_SERIES) return -1;
        struct dec_series *s = &r->series[r->nseries++];
        const uint8_t *q = ts, *qend = ts + n;
        while (q < qend) {
            uint64_t k;
            const uint8_t *f;
            size_t fn;
            if (dec_varint(&q, qend, &k) < 0 || (k & 7) != 2 || dec_len(&q, qend, &f, &fn) < 0) return -1;
            int rc = k >> 3 == 1 ? dec_label(f, f + fn, s) : k >> 3 == 2 ? dec_sample(f, f + fn, s) : -1;
            if (rc < 0) return -1;
        }
    }
    return 0;
}

/* Uncompresses a snappy block and decodes it; 0 or -1. */
static int dec_body(const char *body, size_t len, struct dec_request *r)
{
    size_t n;
    if (snappy_uncompressed_length(body, len, &n) != SNAPPY_OK) return -1;
    char *raw = malloc(n ? n : 1);
    if (!raw) abort();
    int rc = snappy_uncompress(body, len, raw, &n) == SNAPPY_OK ? dec_request((const uint8_t *)raw, n, r) : -1;
    free(raw);
    return rc;
}

/* The value of label name in s, or NULL. */
static const char *dec_label_value(const struct dec_series *s, const char *name)
{
    for (int i = 0; i < s->nlabels; i++)
        if (!strcmp(s->names[i], name)) return s->values[i];
    return NULL;
}

/* The series whose __name__ and (when given) one other label match, or NULL. */
static const struct dec_series *dec_find(const struct dec_request *r, const char *metric, const char *label,
                                         const char *value)
{
    for (int i = 0; i < r->nseries; i++) {
        const char *m = dec_label_value(&r->series[i], "__name__");
        const char *v = label ? dec_label_value(&r->series[i], label) : NULL;
        if (m && !strcmp(m, metric) && (!label || (v && !strcmp(v, value)))) return &r->series[i];
    }
    return NULL;
}

#endif

/*
 * rw_encode.c — protobuf and snappy for remote write (see rw_encode.h).
 *
 * Protobuf wire format in brief: a field is a varint key (number << 3 |
 * wire type) then its value; wire type 0 is a varint (int64), 1 a
 * little-endian 64-bit value (double), 2 a varint length then that many
 * bytes (strings, embedded messages). An embedded message's length comes
 * first, so each one is sized before it is written.
 */
#include "report/rw_encode.h"

#include <errno.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>

enum { WIRE_VARINT = 0, WIRE_FIXED64 = 1, WIRE_LEN = 2 };

void rw_request_init(struct rw_request *r)
{
    memset(r, 0, sizeof(*r));
}

void rw_request_reset(struct rw_request *r)
{
    r->len = r->nseries = r->nsamples = 0;
}

void rw_request_release(struct rw_request *r)
{
    if (!r) return;
    free(r->data);
    rw_request_init(r);
}

/* Bytes of v as a varint. */
static size_t varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80)
        v >>= 7, n++;
    return n;
}

/* Makes room for n more bytes. */
static void reserve(struct rw_request *r, size_t n)
{
    if (r->len + n <= r->cap) return;
    size_t cap = r->cap ? r->cap : 4096;
    while (cap < r->len + n)
        cap *= 2;
    r->data = realloc(r->data, cap);
    if (!r->data) abort();
    r->cap = cap;
}

static void put_varint(struct rw_request *r, uint64_t v)
{
    while (v >= 0x80) {
        r->data[r->len++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    r->data[r->len++] = (uint8_t)v;
}

static void put_key(struct rw_request *r, unsigned field, unsigned wire)
{
    put_varint(r, (uint64_t)field << 3 | wire);
}

/* A length-delimited field holding bytes s[0..n). */
static void put_bytes(struct rw_request *r, unsigned field, const char *s, size_t n)
{
    put_key(r, field, WIRE_LEN);
    put_varint(r, n);
    memcpy(r->data + r->len, s, n);
    r->len += n;
}

/* Size of a Label message's body. */
static size_t label_size(const struct rw_label *l)
{
    size_t n = strlen(l->name), v = strlen(l->value);
    return 1 + varint_size(n) + n + 1 + varint_size(v) + v;
}

/* Size of a Sample message's body: key + 8 bytes, key + varint. */
static size_t sample_size(const struct rw_sample *s)
{
    return 1 + 8 + 1 + varint_size((uint64_t)s->timestamp_ms);
}

/* Orders labels by name (insertion sort: a series has a handful). */
static void sort_labels(const struct rw_label **l, size_t n)
{
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(l[j - 1]->name, l[j]->name) > 0; j--) {
            const struct rw_label *t = l[j];
            l[j] = l[j - 1];
            l[j - 1] = t;
        }
}

int rw_request_add(struct rw_request *r, const struct rw_label *labels, size_t nlabels, const struct rw_sample *samples,
                   size_t nsamples)
{
    if (nlabels > RW_MAX_LABELS || nsamples == 0) return -EINVAL;
    const struct rw_label *sorted[RW_MAX_LABELS];
    for (size_t i = 0; i < nlabels; i++)
        sorted[i] = &labels[i];
    sort_labels(sorted, nlabels);
    size_t body = 0;
    for (size_t i = 0; i < nlabels; i++) {
        size_t n = label_size(sorted[i]);
        body += 1 + varint_size(n) + n;
    }
    for (size_t i = 0; i < nsamples; i++) {
        size_t n = sample_size(&samples[i]);
        body += 1 + varint_size(n) + n;
    }
    reserve(r, 1 + varint_size(body) + body);
    put_key(r, 1, WIRE_LEN); /* WriteRequest.timeseries */
    put_varint(r, body);
    for (size_t i = 0; i < nlabels; i++) {
        put_key(r, 1, WIRE_LEN); /* TimeSeries.labels */
        put_varint(r, label_size(sorted[i]));
        put_bytes(r, 1, sorted[i]->name, strlen(sorted[i]->name));
        put_bytes(r, 2, sorted[i]->value, strlen(sorted[i]->value));
    }
    for (size_t i = 0; i < nsamples; i++) {
        put_key(r, 2, WIRE_LEN); /* TimeSeries.samples */
        put_varint(r, sample_size(&samples[i]));
        put_key(r, 1, WIRE_FIXED64);
        uint64_t bits;
        memcpy(&bits, &samples[i].value, 8);
        for (int b = 0; b < 8; b++)
            r->data[r->len++] = (uint8_t)(bits >> (8 * b));
        put_key(r, 2, WIRE_VARINT);
        put_varint(r, (uint64_t)samples[i].timestamp_ms);
    }
    r->nseries++;
    r->nsamples += nsamples;
    return 0;
}

int rw_request_compress(const struct rw_request *r, char **out, size_t *outlen)
{
    size_t cap = snappy_max_compressed_length(r->len);
    char *buf = malloc(cap ? cap : 1);
    if (!buf) abort();
    if (snappy_compress((const char *)r->data, r->len, buf, &cap) != SNAPPY_OK) {
        free(buf);
        return -ENOMEM;
    }
    *out = buf;
    *outlen = cap;
    return 0;
}

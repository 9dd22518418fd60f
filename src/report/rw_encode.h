/*
 * rw_encode.h — the bytes of one Prometheus remote-write 1.0 push: a
 * `prometheus.WriteRequest` protobuf, snappy block-compressed.
 *
 * The schema (prometheus/prompb types.proto, remote.proto) is small enough
 * that a hand-written encoder is shorter than a generated one plus its
 * runtime: WriteRequest { repeated TimeSeries timeseries = 1; },
 * TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; },
 * Label { string name = 1; string value = 2; },
 * Sample { double value = 1; int64 timestamp = 2; } (milliseconds).
 * Every field is written, zeros included (proto3 readers accept them).
 * Receivers want each series' labels sorted by name and its samples in
 * time order: the encoder sorts the labels, the caller orders the samples.
 *
 * Ownership: struct rw_request is caller-owned; its buffer grows on the
 * heap (abort on out of memory) and rw_request_release frees it.
 */
#ifndef SALVO_RW_ENCODE_H
#define SALVO_RW_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#define RW_MAX_LABELS 16 /* labels of one series, __name__ included */

/* One label; both strings are borrowed for the duration of the call. */
struct rw_label {
    const char *name, *value;
};

/* One sample: a value at a wall-clock instant in milliseconds since the epoch. */
struct rw_sample {
    double value;
    int64_t timestamp_ms;
};

/* A WriteRequest being built: the concatenated encoded TimeSeries fields. */
struct rw_request {
    uint8_t *data;
    size_t len, cap;
    size_t nseries, nsamples;
};

void rw_request_init(struct rw_request *r);
/* Forgets the series, keeps the buffer. */
void rw_request_reset(struct rw_request *r);
/* Frees the buffer; NULL is fine. */
void rw_request_release(struct rw_request *r);

/*
 * Appends one TimeSeries with nlabels labels (sorted here by name, byte
 * order, so __name__ comes before lower-case names) and nsamples samples in
 * the order given. Returns 0, or -EINVAL for more than RW_MAX_LABELS labels
 * or no sample.
 */
int rw_request_add(struct rw_request *r, const struct rw_label *labels, size_t nlabels, const struct rw_sample *samples,
                   size_t nsamples);

/*
 * The request as a snappy block (the body of the POST): *out is malloc'd,
 * the caller frees it. Returns 0 or -ENOMEM.
 */
int rw_request_compress(const struct rw_request *r, char **out, size_t *outlen);

#endif

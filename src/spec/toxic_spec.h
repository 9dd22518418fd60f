/*
 * toxic_spec.h — one fault of the chaos proxy as plain data: its type,
 * direction, share and attributes, the table of types, and the parsers of
 * the command-line spec. Shared by the proxy (chaos/) and the run's chaos
 * windows (load/), so it depends on core/ only; the arithmetic that
 * applies a toxic to bytes is chaos/toxic.h.
 *
 * Names, attributes and units are toxiproxy's, so that a toxic written for
 * toxiproxy (by hand, by a client library, in JSON) means the same here:
 * times in ms (slicer delay in µs), rates in KB/s with KB = 1000 bytes,
 * sizes in bytes. Attributes are stored as integers in those API units so a
 * toxic read back from the API is exactly what was sent. The spec parser
 * (`'latency latency=100ms jitter=10ms'`) accepts units and converts them,
 * and refuses a value that does not land on a whole API unit rather than
 * rounding it silently.
 *
 * Dice: whether a toxic hits a connection (or, for HTTP toxics, a request)
 * is a pure function of (process seed, toxic id, connection id, request
 * number). So a connection draws once per toxic, as in toxiproxy, without
 * storing the draw, and a toxicity changed through the API moves the
 * threshold without re-rolling everyone's dice.
 *
 * Nothing here allocates, prints, reads the clock or does I/O.
 */
#ifndef SALVO_SPEC_TOXIC_SPEC_H
#define SALVO_SPEC_TOXIC_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The kinds of fault; the order is the order of toxic_type_name. */
enum toxic_type {
    TOXIC_LATENCY,          /* latency, jitter (ms): delay every chunk */
    TOXIC_BANDWIDTH,        /* rate (KB/s): pace one connection */
    TOXIC_SLOW_CLOSE,       /* delay (ms): hold the FIN back */
    TOXIC_TIMEOUT,          /* timeout (ms): swallow data, close after timeout (0: never) */
    TOXIC_RESET_PEER,       /* timeout (ms): on data, reset after timeout */
    TOXIC_SLICER,           /* average_size, size_variation (bytes), delay (µs) */
    TOXIC_LIMIT_DATA,       /* bytes: close once this many bytes went through */
    TOXIC_HTTP_STATUS,      /* status: answer a share of requests without upstream */
    TOXIC_HTTP_LATENCY,     /* latency, jitter (ms): delay a share of responses */
    TOXIC_HTTP_CUT,         /* bytes: cut a share of responses after the head + bytes */
    TOXIC_HANDSHAKE,        /* delay (ms): accept a share of connections late */
    TOXIC_BANDWIDTH_SHARED, /* rate (KB/s): pace all connections of the proxy together */
    TOXIC_PACKET_LOSS,      /* loss_rate, correlation (0..1): drop a share of chunks */
    TOXIC_TYPE_COUNT
};

/* toxiproxy's directions: upstream = client to server, downstream = back. */
enum toxic_stream { STREAM_UPSTREAM = 0, STREAM_DOWNSTREAM = 1 };

#define TOXIC_NAME_MAX 64
#define TOXIC_MAX_ATTRS 3

/* One toxic; caller-owned, plain data (copy it freely). */
struct toxic {
    char name[TOXIC_NAME_MAX];
    enum toxic_type type;
    enum toxic_stream stream;
    double toxicity;               /* 0..1: share of connections (HTTP toxics: requests) */
    int64_t attr[TOXIC_MAX_ATTRS]; /* in API units, in the order of toxic_attr_name */
    uint64_t id;                   /* set by the owner: keys the dice */
    uint64_t added_ns;             /* set by the owner: when the toxic took effect */
};

/* Attribute slots by name, for readable code in the data path. */
enum {
    ATTR_LATENCY = 0,
    ATTR_JITTER = 1,  /* latency, http_latency */
    ATTR_RATE = 0,    /* bandwidth */
    ATTR_DELAY = 0,   /* slow_close, handshake */
    ATTR_TIMEOUT = 0, /* timeout, reset_peer */
    ATTR_AVG = 0,
    ATTR_VARIATION = 1,
    ATTR_SLICE_DELAY = 2, /* slicer */
    ATTR_BYTES = 0,       /* limit_data, http_cut */
    ATTR_STATUS = 0,      /* http_status */
    ATTR_LOSS_RATE = 0,
    ATTR_CORRELATION = 1, /* packet_loss */
};

/*
 * Fractions (packet_loss's loss_rate and correlation, 0..1 in the API) are
 * stored as integer parts per million, so they round-trip exactly enough
 * and the struct stays integers; the JSON shows them as numbers 0..1.
 */
#define TOXIC_PPM 1000000

/* The toxiproxy name of a type ("latency"), or NULL when out of range. */
const char *toxic_type_name(enum toxic_type type);
/* Looks a type up by name. Returns 0 or -EINVAL. */
int toxic_type_from_name(const char *name, enum toxic_type *out);
/* "upstream" or "downstream". */
const char *toxic_stream_name(enum toxic_stream stream);
/* Looks a stream up by name. Returns 0 or -EINVAL. */
int toxic_stream_from_name(const char *name, enum toxic_stream *out);
/* True for the types that act on HTTP requests rather than on bytes. */
bool toxic_type_is_http(enum toxic_type type);

/* Number of attributes of a type, and the name of attribute i (NULL past the end). */
int toxic_attr_count(enum toxic_type type);
const char *toxic_attr_name(enum toxic_type type, int i);
/* True when attribute i is a fraction stored in TOXIC_PPM (shown 0..1). */
bool toxic_attr_is_fraction(enum toxic_type type, int i);

/*
 * Sets up t as a toxic of this type with toxiproxy's defaults: stream
 * downstream, toxicity 1, every attribute at its default, name
 * "<type>_<stream>" (toxic_default_name again after changing the stream).
 */
void toxic_init(struct toxic *t, enum toxic_type type);
/* Writes "<type>_<stream>" into t->name. */
void toxic_default_name(struct toxic *t);

/*
 * Sets attribute `key` from an integer in API units, after range checks.
 * Returns 0, -ENOENT for a key the type does not have, -ERANGE when out of
 * range. err (may be NULL) receives a one-line reason without "salvo:".
 */
int toxic_set_attr(struct toxic *t, const char *key, int64_t value, char *err, size_t errlen);

/*
 * Sets attribute `key` from text with optional units ("100ms", "1.5s",
 * "512KB", "64KiB", "500us"); a bare number is in API units. Same returns
 * as toxic_set_attr, plus -EINVAL for text that is not a value.
 */
int toxic_set_attr_text(struct toxic *t, const char *key, const char *text, char *err, size_t errlen);

/*
 * True for a usable toxic or proxy name: 1..63 characters out of
 * [A-Za-z0-9_.-], so it can stand in a URL path without escaping.
 */
bool toxic_name_valid(const char *name);

/* Parses a toxicity: "0.2", "1", "20%". Returns 0 or -EINVAL (outside 0..1 too). */
int toxic_parse_toxicity(const char *text, double *out);

/*
 * Parses a command-line spec 'TYPE key=value …' into t. Keys are the
 * type's attributes plus stream, toxicity and name. Returns 0 or -EINVAL
 * with err naming the culprit (the type, the key or the value).
 */
int toxic_parse_spec(struct toxic *t, const char *spec, char *err, size_t errlen);

/* Checks cross-attribute rules (slicer: variation < average). 0 or -EINVAL with err. */
int toxic_validate(const struct toxic *t, char *err, size_t errlen);

#endif

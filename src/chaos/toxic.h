/*
 * toxic.h — one fault of the chaos proxy: its type, direction, share and
 * attributes, and the small pieces of arithmetic every toxic needs.
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
 * Nothing here allocates, prints or reads the clock.
 */
#ifndef SALVO_CHAOS_TOXIC_H
#define SALVO_CHAOS_TOXIC_H

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

/* ---------------------------------------------------------------- arithmetic */

/* A uniform draw in [0, 1) fixed by its three inputs (splitmix64 mixing). */
double toxic_dice(uint64_t seed, uint64_t a, uint64_t b);

/*
 * True when t hits connection conn_id (and request seq for HTTP toxics; 0
 * otherwise): the connection's die for this toxic is below t->toxicity.
 */
bool toxic_hits(const struct toxic *t, uint64_t seed, uint64_t conn_id, uint64_t seq);

/* latency ± jitter for a die u in [0, 1), in ns, never negative. */
uint64_t toxic_latency_ns(int64_t latency_ms, int64_t jitter_ms, double u);

/* Time to send `bytes` at rate_kbs KB/s (KB = 1000 bytes), in ns; 0 when rate <= 0. */
uint64_t toxic_bandwidth_ns(int64_t rate_kbs, size_t bytes);

/* Bytes per write that keep a paced stream smooth: 10 ms of rate, at least 1. */
size_t toxic_bandwidth_quantum(int64_t rate_kbs);

/*
 * A token bucket kept as a virtual clock: the time at which the bytes
 * already granted will have drained at the rate. A writer may start when
 * that time has come (toxic_pace_due <= now); each write then pushes it on
 * by the write's duration at the rate. A clock that fell behind by more
 * than `slack_ns` (the bucket's depth: an idle stream may burst this much
 * time's worth) restarts from now. One per paced stream: a connection's
 * direction (bandwidth), or a proxy's direction shared by all its
 * connections (bandwidth_shared). Caller-owned; zero is an empty bucket.
 */
struct toxic_pace {
    uint64_t next_ns;
};

/* When the next write may start. */
static inline uint64_t toxic_pace_due(const struct toxic_pace *p)
{
    return p->next_ns;
}

/* Accounts for `bytes` written at `now_ns` at rate_kbs (no-op when rate <= 0). */
void toxic_pace_charge(struct toxic_pace *p, int64_t rate_kbs, size_t bytes, uint64_t now_ns, uint64_t slack_ns);

/*
 * packet_loss's decision for one chunk, given whether the previous chunk
 * of the same stream was dropped and a die u in [0, 1). A two-state
 * Markov chain whose long-run drop share is exactly loss and whose
 * lag-one correlation is corr: after a drop the next drops with
 * loss + corr·(1 − loss), after a pass with loss·(1 − corr). (toxiproxy
 * adds corr to the rate after a drop, which raises the share above
 * loss_rate; here loss_rate means the share, whatever the burstiness.)
 */
bool toxic_loss_drops(int64_t loss_ppm, int64_t corr_ppm, bool prev_dropped, double u);

/* A slice length average ± variation for a die u in [0, 1), at least 1. */
size_t toxic_slice_len(int64_t average, int64_t variation, double u);

#endif

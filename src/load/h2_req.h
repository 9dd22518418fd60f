/*
 * h2_req.h — a rendered HTTP/1.1 request as HTTP/2 header fields.
 *
 * salvo renders every request as HTTP/1.1 bytes (reqgen.h); an HTTP/2
 * connection (h2.c) submits the same request as header fields: the
 * request line becomes :method and :path, Host becomes :authority, the
 * other headers follow lower-cased, and the headers HTTP/2 forbids
 * (RFC 9113 §8.2.2) are dropped. The field values point into the
 * rendered bytes; the lower-cased names into the struct's own buffer.
 */
#ifndef SALVO_H2_REQ_H
#define SALVO_H2_REQ_H

#include <nghttp2/nghttp2.h>
#include <stdbool.h>
#include <stddef.h>

#include "load/reqgen.h"

#define H2_REQ_MAX_NV (REQGEN_MAX_HEADERS + 8)

/* One request's header fields; caller-owned, valid while the rendered bytes are. */
struct h2_req {
    nghttp2_nv nv[H2_REQ_MAX_NV];
    size_t n;
    char names[4096]; /* the lower-cased names */
    size_t used;
    size_t body_off; /* where the body starts in the rendered bytes (== their length: none) */
};

/* Maps the rendered request bytes[0..len) (tls: :scheme https) into r. Returns 0, or -1 for bytes HTTP/2 cannot carry.
 */
int h2_req_from_http1(struct h2_req *r, const char *bytes, size_t len, bool tls);

#endif

/*
 * client.h — salvo's one internal HTTP client, for the side jobs of a run:
 * scraping a server's Prometheus text, fetching a profile, pushing by
 * Prometheus remote write. Never the load's hot path (that is load/).
 *
 * One blocking HTTP/1.1 exchange per call on a fresh connection
 * ("Connection: close"), plain or TLS, bounded by one absolute deadline for
 * the whole exchange (connect, send, response): a server that hangs costs
 * the caller at most the time it allowed. Bodies are decoded (chunked or
 * length-delimited or close-delimited) into one heap buffer, at most
 * max_body bytes. Each call is independent: callers on several threads may
 * use it at once (a shared struct tls is read-only).
 */
#ifndef SALVO_HTTP_CLIENT_H
#define SALVO_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "http/tls.h"
#include "http/url.h"

/* One request. url must be parsed and resolved (url_parse + url_resolve). */
struct http_client_req {
    const char *method;    /* "GET", "POST", ... */
    const struct url *url; /* where to; its path is the request target */
    const char *headers;   /* extra header lines, each ending in "\r\n"; NULL for none */
    const void *body;      /* request body (Content-Length is sent when method is not GET) */
    size_t body_len;
    uint64_t deadline_ns;  /* clock_now_ns() value by which the exchange must end */
    size_t max_body;       /* response body bytes kept; more is an error (-EFBIG) */
    const struct tls *tls; /* required for https URLs; NULL otherwise */
};

/* The response: owned by the caller, released with http_client_resp_free. */
struct http_client_resp {
    int status;
    char content_type[128]; /* the Content-Type header's value, "" when absent */
    char *body;             /* decoded body, NUL-terminated; NULL before a response */
    size_t body_len;
};

/*
 * Performs the exchange. Returns 0 with *resp filled (any status), or a
 * negative errno with err set to one line naming what failed:
 * -ETIMEDOUT (the deadline passed), -ECONNREFUSED and other connect errors,
 * -EPROTO (a malformed response), -EFBIG (a body over max_body),
 * -EINVAL (a bad request: an https URL without tls, a head too large).
 * On error *resp holds no memory.
 */
int http_client_do(const struct http_client_req *req, struct http_client_resp *resp, char *err, size_t errlen);

/* Frees resp's body; resp may be reused afterwards. */
void http_client_resp_free(struct http_client_resp *resp);

/*
 * Decodes a complete chunked body in place: in[0..len) holds chunk-size
 * lines, chunk data and the last chunk (trailers allowed), already checked
 * by the response parser. Returns the decoded length, or -1 when in is not
 * a complete chunked body. Exposed for tests and fuzzing.
 */
long http_client_dechunk(char *in, size_t len);

#endif

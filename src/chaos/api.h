/*
 * api.h — the control API's transport: a small HTTP/1.1 server on the
 * chaos server's loop that hands each request to routes_handle.
 *
 * It serves a few requests per test, from toxiproxy clients and scripts,
 * so it is simple rather than fast: a request (head plus Content-Length
 * body, at most API_MAX_REQUEST bytes) is buffered whole, answered with a
 * Content-Length response, and the connection is kept alive unless the
 * client asks otherwise. Chunked request bodies are refused (411): the
 * known toxiproxy clients send Content-Length. Loopback by default.
 *
 * Ownership: caller-owned struct api (api_init / api_release); it owns its
 * listener and its connections. Single-threaded.
 */
#ifndef SALVO_CHAOS_API_H
#define SALVO_CHAOS_API_H

#include <stdbool.h>
#include <stddef.h>

#include "core/endpoint.h"
#include "core/listener.h"
#include "core/loop.h"

#define API_MAX_REQUEST (1024 * 1024)

struct chaos;
struct api_conn;

/* The API server. */
struct api {
    struct chaos *chaos;
    struct endpoint ep;
    struct listener listener;
    struct api_conn *conns;
};

/*
 * Listens on addr ("127.0.0.1:8474"). Returns 0, -EINVAL / -ENOENT for a
 * bad address, or -errno from bind/listen (e.g. -EADDRINUSE).
 */
int api_init(struct api *api, struct chaos *chaos, const char *addr);
/* Closes the listener and every connection. NULL is fine. */
void api_release(struct api *api);

/* A parsed request head (api_parse_head). */
struct api_req {
    char method[16];
    char path[512];
    size_t head_len;
    size_t body_len;
    bool close;
    bool chunked;
};

/*
 * Parses the request head at the start of buf[0..len). Returns 1 when it
 * is complete (r filled), 0 when more is needed, -1 when malformed (also
 * as soon as the first bytes cannot start a request, so garbage is
 * answered at once), -2 when the head is larger than API_MAX_HEAD.
 * Exposed for tests/fuzz/fuzz_chaos_api.c.
 */
int api_parse_head(const char *buf, size_t len, struct api_req *r);

#endif

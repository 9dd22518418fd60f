/*
 * request.h — the bytes of one HTTP/1.1 request, rendered before the run.
 *
 * A fixed request is rendered once and written from the same buffer by
 * every connection, so the hot path copies nothing.
 */
#ifndef SALVO_REQUEST_H
#define SALVO_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

/* A rendered request; owns bytes (malloc'd by request_render). */
struct request {
    char *bytes;
    size_t len;
    bool head;   /* HEAD: the response has no body */
};

/*
 * Renders METHOD path HTTP/1.1 with Host (unless given), User-Agent (unless
 * given), the nheaders "Name: value" lines and, when body is not NULL, a
 * Content-Length. Returns 0 or -EINVAL (*why set) for a malformed header.
 */
int request_render(struct request *r, const char *method, const char *path, const char *host_header,
                   const char *const *headers, size_t nheaders, const char *body, size_t body_len,
                   const char **why);
/* Frees the bytes; NULL is fine. */
void request_release(struct request *r);

#endif

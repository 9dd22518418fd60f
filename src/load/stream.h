/*
 * stream.h — one request in flight on a connection.
 *
 * A stream is what the schedule handed a connection: the pending request
 * with its intended time, the stamps of its send and of its first response
 * byte, its response state and the bytes being written. A connection owns
 * a small ring of them (conn.h): HTTP/1.1 carries one, or up to
 * --pipeline N answered in order. Streams are preallocated with their
 * connection and reused, so starting one allocates nothing (the render
 * buffer of a non-static request is allocated on its first use and kept).
 */
#ifndef SALVO_STREAM_H
#define SALVO_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/parser.h"
#include "load/backlog.h"

/* One request in flight; owned by its connection's ring. */
struct stream {
    struct pending req;    /* the arrival, its intended time and retries */
    uint64_t t_send_ns;    /* its first byte went to the transport */
    uint64_t t_first_ns;   /* the first byte of its response came back (0: not yet) */
    struct http_resp resp; /* its response, parsed as it arrives */
    const char *wbytes;    /* the request's bytes: wbuf or shared static bytes */
    size_t wlen;
    char *wbuf; /* this stream's render buffer (gen->max_len), on demand */
    /* HTTP/2 only (h2.c); conn_push clears them. */
    int32_t h2_id;                    /* its stream id (0: not submitted yet) */
    int h2_status;                    /* the final :status (0: none yet) */
    uint32_t h2_code;                 /* the error code it closed with */
    bool h2_closed, h2_end;           /* nghttp2 closed it (outcome pending); the response's END_STREAM came */
    size_t h2_body_off, h2_body_sent; /* the body inside wbytes, and how much of it went out */
    uint64_t h2_fc_since, h2_fc_ns;   /* its body waits for window since (0: not waiting); waited so far */
    char *kept;                       /* with --check: the response's bytes as read (check_stream.h) */
    size_t kept_len, kept_cap;
    bool kept_over;   /* bytes past the cap were dropped */
    bool kept_head;   /* h2: the final response head is kept, DATA goes to the body */
    size_t kept_held; /* h2: kept-body budget this stream holds (HTTP/1.1 holds it on the conn) */
    size_t kept_body_at; /* kept_len when the final head ended (0: not yet): --max-body counts from here */
};

#endif

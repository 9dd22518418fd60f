/*
 * h2_int.h — the insides of HTTP/2 on a connection, shared by h2.c (the
 * session, its output and the outcomes) and h2_cb.c (nghttp2's callbacks,
 * which only note what happened to a stream). Not for other modules: they
 * see h2.h.
 */
#ifndef SALVO_H2_INT_H
#define SALVO_H2_INT_H

#include <nghttp2/nghttp2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "load/config.h"

struct conn;   /* conn.h: including it (or h2.h) here would join h2 to the engine's include ring */
struct stream; /* stream.h */

/* A stream whose HEADERS are in the output buffer, up to byte end. */
struct h2_stamp {
    int32_t id;
    size_t end;
};

/* One connection's HTTP/2 state. */
struct h2_conn {
    nghttp2_session *session; /* NULL: no h2 on this socket yet */
    bool settings_seen;       /* the server's first SETTINGS came */
    bool goaway;              /* the server is going away: no new streams */
    bool draining;            /* counted in the worker's h2_backoff.draining until the socket closes */
    bool unsettled;           /* counted in h2_backoff.unsettled until the first SETTINGS or the close */
    bool dead;                /* a session error: the connection is being failed */
    bool retiring;            /* h2_retire: no new stream, close when empty; counted in h2_backoff.retiring */
    bool has_body;            /* a request body may wait for window: flow_scan looks */
    uint32_t nclosed;         /* streams closed by nghttp2, outcome not recorded yet */
    char *obuf;               /* serialized frames not written yet: [ooff, olen) */
    size_t olen, ooff, ocap;
    struct h2_stamp *stamps; /* nstamps_cap (the ring's depth) entries, ordered by end */
    uint32_t nstamps, nstamps_cap;
};

/* True when the run keeps response bytes for --check or a script's response() (check_stream.h). */
static inline bool h2_keeps(const struct run_config *cfg)
{
    return cfg->nchecks || cfg->keep_resp;
}

/* The stream of c with this id, or NULL (ended already, or never ours). */
struct stream *h2_find(const struct conn *c, int32_t id);

/* Sets every nghttp2 callback of a session whose user data is its struct conn. */
void h2_callbacks_set(nghttp2_session_callbacks *cb);

/* nghttp2's data source for a request body: the rendered request's bytes past its head. */
ssize_t h2_read_body(nghttp2_session *session, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                     nghttp2_data_source *source, void *user);

#endif

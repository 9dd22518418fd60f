/*
 * h2.c — HTTP/2 on a connection (see h2.h).
 *
 * nghttp2's callbacks (h2_cb.c) only note what happened to a stream (its
 * :status, its first frame, END_STREAM, its close and error code); the
 * outcomes are recorded here after nghttp2 has consumed what was read
 * (settle), never inside a callback, because recording may hand requests
 * to other connections, or to this one, and submitting from inside
 * nghttp2's receive path is where re-entrancy bugs live.
 *
 * The ring of streams stays in submission order, which is stream id
 * order, so a stream is found by binary search on its id (h2_find); an
 * out-of-order end moves it to the front (conn_stream_done_at) and the
 * rest keep their order, so the oldest stream always owns the
 * connection's deadline.
 *
 * Output: nghttp2 serializes frames into this connection's buffer
 * (nghttp2_session_mem_send), which goes to the transport in as few
 * writes as it takes. A stream is stamped sent when the bytes of its
 * HEADERS frame have been written to the socket, not when it was
 * submitted: a request waiting for a stream slot or a full socket buffer
 * is waiting, and that wait is in its latency.
 */
#include "load/h2_int.h"

#include <errno.h>
#include <nghttp2/nghttp2.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "load/check_stream.h"
#include "load/conn.h"
#include "load/engine.h"
#include "load/h2_req.h"
#include "load/pool.h"

#define H2_OBUF_HIGH 65536 /* stop serializing once this much waits for the socket */

void h2_conn_free(struct h2_conn *h)
{
    if (!h) return;
    if (h->session) nghttp2_session_del(h->session);
    free(h->obuf);
    free(h->stamps);
    free(h);
}

uint32_t h2_stream_cap(uint32_t streams)
{
    return streams ? streams : H2_DEFAULT_STREAMS;
}

/* The error kind of an HTTP/2 error code. */
static enum salvo_err err_of_code(uint32_t code)
{
    return code <= NGHTTP2_HTTP_1_1_REQUIRED ? (enum salvo_err)(ERR_H2_NO_ERROR + code) : ERR_H2_OTHER;
}

/* Folds the flow-control wait of stream s, which ends now, into the worker's figures. */
static void fc_fold(struct conn *c, struct stream *s)
{
    if (s->h2_fc_since) s->h2_fc_ns += clock_now_ns() - s->h2_fc_since;
    s->h2_fc_since = 0;
    if (!s->h2_fc_ns) return;
    struct h2_stats *st = &c->w->h2;
    st->flow_waits++;
    st->flow_wait_ns += s->h2_fc_ns;
    if (s->h2_fc_ns > st->flow_wait_max_ns) st->flow_wait_max_ns = s->h2_fc_ns;
    s->h2_fc_ns = 0;
}

/* conn_stream_end_at and conn_stream_done_at, with the stream's flow-control wait counted first. */
static void end_at(struct conn *c, uint32_t i, enum salvo_err err, bool retry)
{
    fc_fold(c, conn_stream(c, i));
    conn_stream_end_at(c, i, err, retry);
}

static void done_at(struct conn *c, uint32_t i, int status)
{
    fc_fold(c, conn_stream(c, i));
    conn_stream_done_at(c, i, status);
}

/*
 * Request bodies waiting for the server's flow-control window: a written
 * stream with body bytes left and no window (its own or the connection's)
 * starts waiting; one with window again, or whose body is all out, stops.
 * Looked at after each flush, only while some stream carries a body.
 */
static void flow_scan(struct conn *c)
{
    struct h2_conn *h = c->h2;
    if (!h->has_body) return;
    bool any = false;
    uint64_t now = 0;
    int32_t conn_win = nghttp2_session_get_remote_window_size(h->session);
    for (uint32_t i = 0; i < c->nstreams; i++) {
        struct stream *s = conn_stream(c, i);
        bool left = s->h2_id > 0 && !s->h2_closed && s->h2_body_off + s->h2_body_sent < s->wlen;
        any |= left;
        bool blocked = left && s->t_send_ns &&
                       (conn_win <= 0 || nghttp2_session_get_stream_remote_window_size(h->session, s->h2_id) <= 0);
        if (blocked == (s->h2_fc_since != 0)) continue;
        if (!now) now = clock_now_ns();
        if (blocked) {
            s->h2_fc_since = now;
        } else {
            s->h2_fc_ns += now - s->h2_fc_since;
            s->h2_fc_since = 0;
        }
    }
    h->has_body = any;
}

/* ---- the session ---- */

/* Starts an h2 session on c's socket: the client preface and SETTINGS (no push) are queued. */
static int session_open(struct conn *c)
{
    pool_grow_ring(c, h2_stream_cap(c->w->cfg->streams));
    if (c->h2 && c->h2->nstamps_cap < c->depth) {
        free(c->h2->stamps);
        if (!(c->h2->stamps = calloc(c->depth, sizeof(*c->h2->stamps)))) abort();
        c->h2->nstamps_cap = c->depth;
    }
    if (!c->h2) {
        if (!(c->h2 = calloc(1, sizeof(*c->h2)))) abort();
        if (!(c->h2->stamps = calloc(c->depth, sizeof(*c->h2->stamps)))) abort();
        c->h2->nstamps_cap = c->depth;
    }
    struct h2_conn *h = c->h2;
    nghttp2_session_callbacks *cb;
    if (nghttp2_session_callbacks_new(&cb) != 0) abort();
    h2_callbacks_set(cb);
    int rc = nghttp2_session_client_new(&h->session, cb, c);
    nghttp2_session_callbacks_del(cb);
    if (rc != 0) return -ENOMEM;
    h->settings_seen = h->goaway = h->dead = h->retiring = false;
    h->nclosed = h->nstamps = 0;
    h->olen = h->ooff = 0;
    const struct run_config *cfg = c->w->cfg;
    nghttp2_settings_entry iv[3] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0}};
    size_t niv = 1;
    if (cfg->h2_window) iv[niv++] = (nghttp2_settings_entry){NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, cfg->h2_window};
    if (cfg->h2_header_table_set)
        iv[niv++] = (nghttp2_settings_entry){NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, cfg->h2_header_table};
    nghttp2_submit_settings(h->session, NGHTTP2_FLAG_NONE, iv, niv);
    /* The connection window is no setting: a WINDOW_UPDATE on stream 0 moves it from 65 535. */
    if (cfg->h2_conn_window &&
        nghttp2_session_set_local_window_size(h->session, NGHTTP2_FLAG_NONE, 0, (int32_t)cfg->h2_conn_window) != 0)
        return -EINVAL;
    h->has_body = false;
    h->unsettled = true;
    c->w->h2_backoff.unsettled++;
    c->w->h2.conns++;
    return 0;
}

/* Stamps the streams whose HEADERS bytes are all written (up to ooff). */
static void stamp_written(struct conn *c)
{
    struct h2_conn *h = c->h2;
    uint32_t k = 0;
    while (k < h->nstamps && h->stamps[k].end <= h->ooff) {
        struct stream *s = h2_find(c, h->stamps[k].id);
        if (s && !s->t_send_ns) conn_stamp_send(c, s);
        k++;
    }
    if (c->nstreams > c->w->h2.streams_max) c->w->h2.streams_max = c->nstreams;
    memmove(h->stamps, h->stamps + k, (h->nstamps - k) * sizeof(*h->stamps));
    h->nstamps -= k;
    for (uint32_t i = 0; i < h->nstamps; i++)
        h->stamps[i].end -= h->ooff;
}

/* Serializes what nghttp2 wants to send into the output buffer. Returns 0 or -1 (session error). */
static int fill(struct conn *c)
{
    struct h2_conn *h = c->h2;
    while (h->olen < H2_OBUF_HIGH) {
        const uint8_t *data;
        ssize_t n = nghttp2_session_mem_send(h->session, &data);
        if (n < 0) return -1;
        if (n == 0) break;
        if (h->olen + (size_t)n > h->ocap) {
            h->ocap = h->olen + (size_t)n > 2 * H2_OBUF_HIGH ? h->olen + (size_t)n : 2 * H2_OBUF_HIGH;
            if (!(h->obuf = realloc(h->obuf, h->ocap))) abort();
        }
        memcpy(h->obuf + h->olen, data, (size_t)n);
        h->olen += (size_t)n;
        for (uint32_t i = h->nstamps; i-- > 0 && h->stamps[i].end == SIZE_MAX;)
            h->stamps[i].end = h->olen;
    }
    /* A HEADERS noted after its bytes were returned (not nghttp2's habit today) is in what is buffered. */
    for (uint32_t i = h->nstamps; i-- > 0 && h->stamps[i].end == SIZE_MAX;)
        h->stamps[i].end = h->olen;
    return 0;
}

static void lost(struct conn *c, enum salvo_err err);

/* Writes queued frames until nghttp2 has nothing more or the socket is full. Returns 0, or -1 when c was failed. */
static int flush(struct conn *c)
{
    struct worker *w = c->w;
    struct h2_conn *h = c->h2;
    for (;;) {
        while (h->ooff < h->olen) {
            ssize_t n = w->transport->write(c, h->obuf + h->ooff, h->olen - h->ooff);
            if (n == CONN_AGAIN) {
                stamp_written(c);
                memmove(h->obuf, h->obuf + h->ooff, h->olen - h->ooff);
                h->olen -= h->ooff;
                h->ooff = 0;
                flow_scan(c);
                return 0;
            }
            if (n <= 0) {
                lost(c, n == -ECONNRESET || n == -EPIPE ? ERR_CONN_RESET : ERR_WRITE);
                return -1;
            }
            h->ooff += (size_t)n;
            w->rec.bytes_out += (uint64_t)n;
        }
        stamp_written(c);
        h->olen = h->ooff = 0;
        if (fill(c) < 0) {
            lost(c, ERR_H2_PROTOCOL_ERROR);
            return -1;
        }
        if (h->olen == 0) {
            flow_scan(c);
            return 0;
        }
    }
}

/* Records the outcome of every stream nghttp2 closed, newest first so the positions below stay valid. */
static void record_closed(struct conn *c)
{
    struct h2_conn *h = c->h2;
    for (uint32_t i = c->nstreams; i-- > 0 && h->nclosed;) {
        struct stream *s = conn_stream(c, i);
        if (!s->h2_closed) continue;
        h->nclosed--;
        if (s->h2_end && s->h2_status)
            done_at(c, i, s->h2_status);
        else if (s->h2_code == NGHTTP2_REFUSED_STREAM)
            end_at(c, i, ERR_H2_REFUSED, true); /* not processed: once more */
        else
            end_at(c, i, s->h2_end ? ERR_PARSE : err_of_code(s->h2_code), false);
    }
    h->nclosed = 0;
}

/*
 * The connection ended under its streams (EOF, reset, a session error):
 * what nghttp2 had closed gets its outcome, streams never written go back
 * once, the rest fail with err; then c closes and the engine moves on.
 */
static void lost(struct conn *c, enum salvo_err err)
{
    struct h2_conn *h = c->h2;
    h->dead = true;
    record_closed(c);
    for (uint32_t i = c->nstreams; i-- > 0;)
        end_at(c, i, err, conn_stream(c, i)->t_send_ns == 0);
    conn_after_response(c, true, err == ERR_EOF_EARLY ? BY_SERVER : BY_ERROR);
}

/* After nghttp2 consumed a read (or a timeout): record outcomes, then keep or close c. */
static void settle(struct conn *c)
{
    struct h2_conn *h = c->h2;
    record_closed(c);
    if (h->retiring && c->nstreams == 0) {
        conn_after_response(c, true, BY_US); /* off the --conn-stages ramp, now empty */
        return;
    }
    bool done = !nghttp2_session_want_read(h->session) && !nghttp2_session_want_write(h->session);
    if ((h->goaway && c->nstreams == 0) || done) {
        for (uint32_t i = c->nstreams; i-- > 0;)
            end_at(c, i, ERR_EOF_EARLY, conn_stream(c, i)->t_send_ns == 0);
        conn_after_response(c, true, BY_SERVER);
        return;
    }
    if (c->nstreams == 0) c->state = CONN_IDLE;
    conn_after_response(c, false, BY_SERVER);
}

/* ---- the protocol table ---- */

/* Reads and feeds nghttp2 until the socket is drained, then records what ended. */
static void h2_readable(struct conn *c)
{
    struct worker *w = c->w;
    struct h2_conn *h = c->h2;
    if (!h || !h->session) return;
    for (;;) {
        ssize_t n = w->transport->read(c, w->scratch, WORKER_SCRATCH_SIZE);
        if (n == CONN_AGAIN) break;
        if (n <= 0) {
            lost(c, n == 0 ? ERR_EOF_EARLY : n == -ECONNRESET ? ERR_CONN_RESET : n == -EPROTO ? ERR_TLS : ERR_READ);
            return;
        }
        w->rec.bytes_in += (uint64_t)n;
        if (nghttp2_session_mem_recv(h->session, (const uint8_t *)w->scratch, (size_t)n) < 0) {
            lost(c, ERR_H2_PROTOCOL_ERROR);
            return;
        }
        if ((size_t)n < WORKER_SCRATCH_SIZE && !c->ssl && !c->peer_hup) break;
    }
    if (flush(c) < 0) return; /* SETTINGS ACK, WINDOW_UPDATE, PING ACK */
    settle(c);
}

static void h2_writable(struct conn *c)
{
    if (c->h2 && c->h2->session) flush(c);
}

/* Submits the rendered HTTP/1.1 request of s as HTTP/2 (h2_req.h); its body goes as DATA. Returns the stream id or < 0.
 */
static int32_t submit(struct conn *c, struct stream *s)
{
    struct h2_req r;
    if (h2_req_from_http1(&r, s->wbytes, s->wlen, c->w->cfg->url.tls) < 0) return -1;
    s->h2_body_off = r.body_off;
    s->h2_body_sent = 0;
    if (s->h2_body_off < s->wlen) c->h2->has_body = true;
    nghttp2_data_provider body = {.read_callback = h2_read_body};
    return nghttp2_submit_request(c->h2->session, NULL, r.nv, r.n, s->h2_body_off < s->wlen ? &body : NULL, NULL);
}

/* Renders and submits s, the newest stream on c, then writes what can go now. */
static void h2_start(struct conn *c, struct stream *s)
{
    bool head;
    if (!c->h2 || !c->h2->session) {
        if (session_open(c) < 0) {
            conn_fail(c, ERR_H2_INTERNAL_ERROR);
            return;
        }
        s = conn_stream(c, c->nstreams - 1); /* the ring may have grown */
    }
    int32_t id = -1;
    if (conn_render(c, s, &head) == 0) id = submit(c, s);
    if (id <= 0) {
        /* Stream ids used up or a request HTTP/2 cannot carry: it fails, the connection takes no more. */
        c->h2->goaway = true;
        conn_stream_end_at(c, c->nstreams - 1, ERR_H2_INTERNAL_ERROR, false);
        settle(c);
        return;
    }
    s->h2_id = id;
    if (h2_keeps(c->w->cfg)) {
        check_stream_reset(s);
        s->resp.chunked = false;
        s->resp.content_length = -1;
    }
    c->state = CONN_BUSY;
    if (s == conn_stream(c, 0)) conn_arm_deadline(c);
    flush(c);
}

bool h2_takes_retry(const struct conn *c)
{
    const struct h2_conn *h = c->h2;
    int32_t low = c->w->h2_backoff.goaway_last_id;
    if (!h || !h->session || low == 0) return true;
    return !h->goaway && nghttp2_session_get_next_stream_id(h->session) <= (uint32_t)low;
}

void h2_retire(struct conn *c)
{
    struct h2_conn *h = c->h2;
    if (!h || !h->session || h->retiring) return;
    h->retiring = true;
    c->w->h2_backoff.retiring++;
    pool_unlist(&c->w->pool, c); /* off the room list: it takes no more */
}

/* Room while the server's limit, --streams and the ring allow; one stream until the first SETTINGS. */
static uint32_t h2_free_slots(const struct conn *c)
{
    const struct h2_conn *h = c->h2;
    const struct run_config *cfg = c->w->cfg;
    if (c->state != CONN_BUSY && c->state != CONN_IDLE) return 0;
    if (c->state == CONN_BUSY && c->peer_hup) return 0;
    uint32_t limit = 1;
    if (h && h->session && (h->goaway || h->dead || h->retiring)) return 0;
    if (h && h->session && h->settings_seen && !cfg->no_keepalive) {
        uint32_t server = nghttp2_session_get_remote_settings(h->session, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
        limit = h2_stream_cap(cfg->streams);
        if (server < limit) limit = server;
        if (c->depth < limit) limit = c->depth;
    }
    return limit > c->nstreams ? limit - c->nstreams : 0;
}

/* Streams past their deadline are reset with CANCEL and time out; the connection stays. */
static void h2_expire(struct conn *c, uint64_t now)
{
    struct h2_conn *h = c->h2;
    for (uint32_t i = c->nstreams; i-- > 0;) {
        struct stream *s = conn_stream(c, i);
        if (conn_stream_deadline(c, s) > now) continue;
        if (s->h2_id > 0 && !s->h2_closed) {
            nghttp2_submit_rst_stream(h->session, NGHTTP2_FLAG_NONE, s->h2_id, NGHTTP2_CANCEL);
            c->w->h2.cancels++;
        }
        if (s->h2_closed) h->nclosed--;
        end_at(c, i, ERR_TIMEOUT, false);
    }
    if (flush(c) < 0) return;
    settle(c);
}

/* The socket is closing: the session goes with it (no callbacks: nghttp2_session_del calls none). */
static void h2_close(struct conn *c)
{
    struct h2_conn *h = c->h2;
    if (!h) return;
    if (h->session) nghttp2_session_del(h->session);
    h->session = NULL;
    if (h->draining) c->w->h2_backoff.draining--;
    if (h->unsettled) c->w->h2_backoff.unsettled--;
    if (h->retiring) c->w->h2_backoff.retiring--;
    h->draining = h->unsettled = h->retiring = false;
    h->olen = h->ooff = 0;
    h->nstamps = h->nclosed = 0;
}

const struct proto_ops h2_proto = {
    .name = "h2",
    .start = h2_start,
    .readable = h2_readable,
    .writable = h2_writable,
    .free_slots = h2_free_slots,
    .close = h2_close,
    .expire = h2_expire,
    .multiplexed = true,
};

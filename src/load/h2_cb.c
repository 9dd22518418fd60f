/*
 * h2_cb.c — nghttp2's callbacks for a salvo connection (see h2_int.h).
 *
 * They only note what happened to a stream: its first frame, its :status,
 * END_STREAM, its close and error code, the bytes --check keeps
 * (check_stream.h), and the server's SETTINGS, GOAWAY and RST_STREAM in
 * the worker's figures. Outcomes are recorded by h2.c once nghttp2 has
 * consumed what was read, never in here: recording may hand requests to
 * other connections, or to this one, and submitting from inside nghttp2's
 * receive path is where re-entrancy bugs live.
 */
#include <string.h>

#include "core/clock.h"
#include "load/check_stream.h"
#include "load/conn.h"
#include "load/engine.h"
#include "load/h2_int.h"

/*
 * A server's SETTINGS_MAX_CONCURRENT_STREAMS: the lowest is kept; a 0
 * starts (or doubles) the worker's back-off from opening connections, a
 * limit above 0 ends it.
 */
static void note_stream_limit(struct worker *w, uint64_t v)
{
    struct h2_stats *st = &w->h2;
    if (!st->settings_seen || v < st->settings_min_streams) st->settings_min_streams = v;
    st->settings_seen++;
    struct h2_backoff *b = &w->h2_backoff;
    if (v > 0) {
        b->delay_ns = b->until_ns = 0;
        return;
    }
    st->zero_limit++;
    b->delay_ns = b->delay_ns ? b->delay_ns * 2 : H2_BACKOFF_MIN_NS;
    if (b->delay_ns > H2_BACKOFF_MAX_NS) b->delay_ns = H2_BACKOFF_MAX_NS;
    b->until_ns = clock_now_ns() + b->delay_ns;
}

/* The position in c's ring of the stream with this id, or -1. Ids grow along the ring; 0 (not submitted) is last. */
static int find_pos(const struct conn *c, int32_t id)
{
    uint32_t lo = 0, hi = c->nstreams;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int32_t at = conn_stream(c, mid)->h2_id;
        if (at == id) return (int)mid;
        if (at != 0 && at < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

struct stream *h2_find(const struct conn *c, int32_t id)
{
    int pos = find_pos(c, id);
    return pos < 0 ? NULL : conn_stream(c, (uint32_t)pos);
}

static int on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *user)
{
    (void)session;
    struct stream *s = h2_find(user, frame->hd.stream_id);
    if (s && !s->t_first_ns) s->t_first_ns = clock_now_ns();
    return 0;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
                     const uint8_t *value, size_t valuelen, uint8_t flags, void *user)
{
    (void)session;
    (void)flags;
    struct conn *c = user;
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    bool status = namelen == 7 && memcmp(name, ":status", 7) == 0;
    const struct run_config *cfg = c->w->cfg;
    if (!status && !h2_keeps(cfg)) return 0;
    struct stream *s = h2_find(c, frame->hd.stream_id);
    if (!s) return 0;
    if (h2_keeps(cfg)) check_stream_h2_field(cfg, s, name, namelen, value, valuelen);
    if (!status || valuelen != 3) return 0;
    s->h2_status = (value[0] - '0') * 100 + (value[1] - '0') * 10 + (value[2] - '0');
    return 0;
}

static int on_data_chunk(nghttp2_session *session, uint8_t flags, int32_t id, const uint8_t *data, size_t len,
                         void *user)
{
    (void)session;
    (void)flags;
    struct conn *c = user;
    struct stream *s = h2_find(c, id);
    if (!s) return 0;
    if (!s->t_first_ns) s->t_first_ns = clock_now_ns();
    if (c->w->cfg->check_body) check_stream_h2_data(c->w->cfg, s, data, len);
    return 0;
}

/* Notes the SETTINGS, GOAWAY and RST_STREAM of the server, and the END_STREAM of a response. */
static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *user)
{
    struct conn *c = user;
    struct h2_stats *st = &c->w->h2;
    switch (frame->hd.type) {
    case NGHTTP2_SETTINGS:
        if (frame->hd.flags & NGHTTP2_FLAG_ACK) break;
        c->h2->settings_seen = true;
        if (c->h2->unsettled) c->w->h2_backoff.unsettled--;
        c->h2->unsettled = false;
        for (size_t i = 0; i < frame->settings.niv; i++) {
            const nghttp2_settings_entry *e = &frame->settings.iv[i];
            h2_setting_note(st, (uint32_t)e->settings_id, e->value, 1);
            if (e->settings_id == NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS) note_stream_limit(c->w, e->value);
        }
        break;
    case NGHTTP2_GOAWAY: {
        c->h2->goaway = true;
        if (!c->h2->draining) c->w->h2_backoff.draining++;
        c->h2->draining = true;
        st->goaways++;
        int32_t last = frame->goaway.last_stream_id, *low = &c->w->h2_backoff.goaway_last_id;
        if (last > 0 && (*low == 0 || last < *low)) *low = last;
        break;
    }
    case NGHTTP2_RST_STREAM:
        st->resets[frame->rst_stream.error_code < H2_CODES - 1 ? frame->rst_stream.error_code : H2_CODES - 1]++;
        break;
    case NGHTTP2_HEADERS:
        if (h2_keeps(c->w->cfg)) {
            struct stream *s = h2_find(c, frame->hd.stream_id);
            if (s) check_stream_h2_head_end(c->w->cfg, &c->w->budget, s, s->h2_status);
        }
        /* fall through */
    case NGHTTP2_DATA:
        if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) {
            struct stream *s = h2_find(c, frame->hd.stream_id);
            if (s) s->h2_end = true;
        }
        break;
    default: break;
    }
    (void)session;
    return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t id, uint32_t code, void *user)
{
    (void)session;
    struct conn *c = user;
    struct stream *s = h2_find(c, id);
    if (!s || s->h2_closed) return 0; /* salvo ended it already (a timeout) */
    s->h2_closed = true;
    s->h2_code = code;
    c->h2->nclosed++;
    return 0;
}

/* A request's HEADERS was serialized: it is sent once those bytes are written. */
static int on_frame_send(nghttp2_session *session, const nghttp2_frame *frame, void *user)
{
    (void)session;
    struct conn *c = user;
    struct h2_conn *h = c->h2;
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST && h->nstamps < h->nstamps_cap)
        h->stamps[h->nstamps++] = (struct h2_stamp){.id = frame->hd.stream_id, .end = SIZE_MAX};
    return 0;
}

/* A request's HEADERS could not be sent (GOAWAY, stream limit): it was never sent, so it may go elsewhere. */
static int on_frame_not_send(nghttp2_session *session, const nghttp2_frame *frame, int lib_error_code, void *user)
{
    (void)session;
    (void)lib_error_code;
    struct conn *c = user;
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    struct stream *s = h2_find(c, frame->hd.stream_id);
    if (!s || s->h2_closed) return 0;
    s->h2_closed = true;
    s->h2_code = NGHTTP2_REFUSED_STREAM;
    c->h2->nclosed++;
    return 0;
}

ssize_t h2_read_body(nghttp2_session *session, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                     nghttp2_data_source *source, void *user)
{
    (void)session;
    (void)source;
    struct stream *s = h2_find(user, id);
    if (!s) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    size_t left = s->wlen - s->h2_body_off - s->h2_body_sent;
    size_t n = left < len ? left : len;
    memcpy(buf, s->wbytes + s->h2_body_off + s->h2_body_sent, n);
    s->h2_body_sent += n;
    if (s->h2_body_sent == s->wlen - s->h2_body_off) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

void h2_callbacks_set(nghttp2_session_callbacks *cb)
{
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    nghttp2_session_callbacks_set_on_frame_send_callback(cb, on_frame_send);
    nghttp2_session_callbacks_set_on_frame_not_send_callback(cb, on_frame_not_send);
}

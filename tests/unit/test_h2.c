/*
 * test_h2.c — tests of src/load/h2.c through the connection state machine
 * (conn.c) and the pool, against an in-memory nghttp2 *server* session:
 * no sockets.
 *
 * A real worker is set up with worker_init (h2c, its loop, recorder, pool
 * and backlog; no thread, no connect) and its transport is replaced by a
 * fake one per connection: what the client writes is fed to that
 * connection's server session, what the server session serializes is what
 * the client reads. The test plays the server (SETTINGS, responses in any
 * order, RST_STREAM, GOAWAY) and delivers its bytes by calling the epoll
 * callback, exactly as the loop would. Covered: one stream before the
 * first SETTINGS, several streams answered out of order, a GOAWAY whose
 * last-stream-id is below some streams (those go back once, intended
 * times kept), REFUSED_STREAM (back once; refused again it fails),
 * INTERNAL_ERROR (failed with its kind), a lowered MAX_CONCURRENT_STREAMS,
 * a limit of 0 (the idle connection is handed out no more), and a stream
 * reaching --timeout (reset with CANCEL, the connection
 * stays), and --check over h2: header, body and json checks judged on
 * HEADERS and DATA (a 1xx head and trailers skipped), a body over
 * --max-body body_too_large, and a stream with no kept-body room not kept.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <nghttp2/nghttp2.h>
#include <string.h>
#include <sys/epoll.h>

#include "core/clock.h"
#include "load/conn.h"
#include "load/engine.h"
#include "load/h2.h"

#define NSERVERS 2
#define MAX_REQS 64

/* One connection's peer: an nghttp2 server session and the bytes it sent. */
struct server {
    nghttp2_session *s;
    int32_t got[MAX_REQS]; /* request stream ids, in arrival order */
    int ngot;
    uint32_t rst_code[MAX_REQS]; /* RST_STREAM codes the client sent */
    int nrst;
    char path[64]; /* :path of the last request */
    char out[1 << 16];
    size_t out_len, out_pos;
};

static struct server srv[NSERVERS];
static struct conn *srv_conns; /* the pool's array: a connection's index names its server */

static struct server *server_of(const struct conn *c)
{
    return &srv[c - srv_conns];
}

static int srv_on_frame_recv(nghttp2_session *s, const nghttp2_frame *f, void *user)
{
    (void)s;
    struct server *sv = user;
    if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST && sv->ngot < MAX_REQS)
        sv->got[sv->ngot++] = f->hd.stream_id;
    if (f->hd.type == NGHTTP2_RST_STREAM && sv->nrst < MAX_REQS) sv->rst_code[sv->nrst++] = f->rst_stream.error_code;
    return 0;
}

static int srv_on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t namelen,
                         const uint8_t *value, size_t valuelen, uint8_t flags, void *user)
{
    (void)s;
    (void)f;
    (void)flags;
    struct server *sv = user;
    if (namelen == 5 && memcmp(name, ":path", 5) == 0 && valuelen < sizeof(sv->path)) {
        memcpy(sv->path, value, valuelen);
        sv->path[valuelen] = 0;
    }
    return 0;
}

static void server_init(struct server *sv)
{
    memset(sv, 0, sizeof(*sv));
    nghttp2_session_callbacks *cb;
    assert_int_equal(nghttp2_session_callbacks_new(&cb), 0);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, srv_on_frame_recv);
    nghttp2_session_callbacks_set_on_header_callback(cb, srv_on_header);
    assert_int_equal(nghttp2_session_server_new(&sv->s, cb, sv), 0);
    nghttp2_session_callbacks_del(cb);
    /* The server's preface must be its first frame, ahead of the ACK of the client's; the limits follow. */
    assert_int_equal(nghttp2_submit_settings(sv->s, NGHTTP2_FLAG_NONE, NULL, 0), 0);
}

/* Serializes what the server queued into the bytes the client will read. */
static void server_flush(struct server *sv)
{
    const uint8_t *data;
    ssize_t n;
    while ((n = nghttp2_session_mem_send(sv->s, &data)) > 0) {
        assert_true(sv->out_len + (size_t)n <= sizeof(sv->out));
        memcpy(sv->out + sv->out_len, data, (size_t)n);
        sv->out_len += (size_t)n;
    }
    assert_true(n == 0);
}

static ssize_t fake_read(struct conn *c, char *buf, size_t len)
{
    struct server *sv = server_of(c);
    if (sv->out_pos == sv->out_len) return CONN_AGAIN;
    size_t n = sv->out_len - sv->out_pos < len ? sv->out_len - sv->out_pos : len;
    memcpy(buf, sv->out + sv->out_pos, n);
    sv->out_pos += n;
    if (sv->out_pos == sv->out_len) sv->out_pos = sv->out_len = 0;
    return (ssize_t)n;
}

static ssize_t fake_write(struct conn *c, const char *buf, size_t len)
{
    struct server *sv = server_of(c);
    assert_int_equal(nghttp2_session_mem_recv(sv->s, (const uint8_t *)buf, len), (ssize_t)len);
    return (ssize_t)len;
}

static const struct transport fake_transport = {fake_read, fake_write};

/* One h2c worker around the fake transport. */
struct fixture {
    struct reqgen gen;
    struct run_config cfg;
    struct worker w;
};

/* A worker with NSERVERS connection slots and --streams streams; tune (may be NULL) edits the config first. */
static struct fixture *fixture_tuned(uint32_t streams, void (*tune)(struct run_config *))
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    char why[200];
    struct reqgen_spec spec = {.method = "GET", .path = "/x?a=1", .weight = 1};
    assert_int_equal(reqgen_init(&f->gen, &spec, 1, NULL, PICK_SEQ, 1, 1, "127.0.0.1:9", 10, why, sizeof(why)), 0);
    const char *uwhy = NULL;
    assert_int_equal(url_parse(&f->cfg.url, "http://127.0.0.1:9/x", &uwhy), 0);
    f->cfg.gen = &f->gen;
    f->cfg.rate = 1;
    f->cfg.duration_ns = NS_PER_S;
    f->cfg.timeout_ns = 10 * NS_PER_S;
    f->cfg.max_lag_ns = NS_PER_MS;
    f->cfg.connections = NSERVERS;
    f->cfg.threads = 1;
    f->cfg.nshards = 1;
    f->cfg.pipeline = 1;
    f->cfg.http_mode = HTTP_2C;
    f->cfg.streams = streams;
    if (tune) tune(&f->cfg);
    assert_int_equal(worker_init(&f->w, &f->cfg, 0, clock_now_ns()), 0);
    f->w.transport = &fake_transport;
    srv_conns = f->w.pool.conns;
    for (int i = 0; i < NSERVERS; i++)
        server_init(&srv[i]);
    return f;
}

static struct fixture *fixture_new(uint32_t streams)
{
    return fixture_tuned(streams, NULL);
}

static void fixture_free(struct fixture *f)
{
    for (uint32_t i = 0; i < f->w.pool.cap; i++) {
        struct conn *c = &f->w.pool.conns[i];
        while (c->nstreams)
            conn_drop_stream(c);
        if (c->proto) c->proto->close(c);
    }
    worker_release(&f->w);
    reqgen_release(&f->gen);
    for (int i = 0; i < NSERVERS; i++)
        nghttp2_session_del(srv[i].s);
    free(f);
}

/* A slot, connected and idle, as conn_ready leaves it (no socket). */
static struct conn *connected(struct fixture *f)
{
    struct conn *c = pool_take_free(&f->w.pool);
    assert_non_null(c);
    assert_ptr_equal(c->proto, &h2_proto);
    c->established = true;
    c->served = 0;
    pool_give_back(&f->w.pool, c);
    assert_int_equal(c->state, CONN_IDLE);
    return c;
}

/* Starts arrival index on c with this intended time, as the pump does. */
static void start(struct fixture *f, struct conn *c, uint64_t index, uint64_t t_intended_ns)
{
    struct pending p = {.t_intended_ns = t_intended_ns, .t_ready_ns = t_intended_ns, .index = index};
    pool_unlist(&f->w.pool, c);
    conn_push(c, &p);
    conn_send(c);
    if (c->state == CONN_BUSY && conn_room(c) > 0) pool_give_back(&f->w.pool, c);
}

/* The server's queued frames reach c, and c reads them. */
static void deliver(struct conn *c)
{
    server_flush(server_of(c));
    c->io.on_event(&c->io, EPOLLIN | EPOLLOUT);
}

/* The server announces its stream limit. */
static void server_settings(struct conn *c, uint32_t max_streams)
{
    nghttp2_settings_entry iv = {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, max_streams};
    assert_int_equal(nghttp2_submit_settings(server_of(c)->s, NGHTTP2_FLAG_NONE, &iv, 1), 0);
    deliver(c);
}

/* The server answers stream id with status (no body). */
static void respond(struct conn *c, int32_t id, int status)
{
    char code[4];
    snprintf(code, sizeof(code), "%d", status);
    nghttp2_nv nv = {(uint8_t *)":status", (uint8_t *)code, 7, 3, NGHTTP2_NV_FLAG_NONE};
    assert_int_equal(nghttp2_submit_response(server_of(c)->s, id, &nv, 1, NULL), 0);
}

/* A response body for nghttp2's data provider: source.ptr is a NUL-terminated string. */
static ssize_t body_read(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                         nghttp2_data_source *src, void *user)
{
    (void)user;
    const char **p = src->ptr;
    size_t n = strlen(*p) < len ? strlen(*p) : len;
    memcpy(buf, *p, n);
    *p += n;
    if (**p) return (ssize_t)n;
    *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
    nghttp2_nv trailer = {(uint8_t *)"x-trailer", (uint8_t *)"json", 9, 4, 0};
    assert_int_equal(nghttp2_submit_trailer(s, id, &trailer, 1), 0);
    return (ssize_t)n;
}

/* The server answers stream id: a 103 first, then 200 with a content-type, body *body, and a trailer (body_read). */
static void respond_body(struct conn *c, int32_t id, const char **body)
{
    nghttp2_session *s = server_of(c)->s;
    nghttp2_nv early[] = {{(uint8_t *)":status", (uint8_t *)"103", 7, 3, 0},
                          {(uint8_t *)"link", (uint8_t *)"x", 4, 1, 0}};
    assert_int_equal(nghttp2_submit_headers(s, NGHTTP2_FLAG_NONE, id, NULL, early, 2, NULL), 0);
    nghttp2_nv nv[] = {{(uint8_t *)":status", (uint8_t *)"200", 7, 3, 0},
                       {(uint8_t *)"content-type", (uint8_t *)"application/json", 12, 16, 0}};
    nghttp2_data_provider dp = {.source.ptr = body, .read_callback = body_read};
    assert_int_equal(nghttp2_submit_response(s, id, nv, 2, &dp), 0);
}

/* c with SETTINGS done and one request answered, idle: a warm connection. */
static struct conn *warm(struct fixture *f, uint32_t max_streams)
{
    struct conn *c = connected(f);
    start(f, c, 99, clock_now_ns());
    server_settings(c, max_streams);
    respond(c, server_of(c)->got[server_of(c)->ngot - 1], 200);
    deliver(c);
    assert_int_equal(c->state, CONN_IDLE);
    return c;
}

/* One stream until the server's SETTINGS; then four, answered out of order, each with its own outcome. */
static void test_streams_interleaved(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(4);
    struct conn *c = connected(f);
    uint64_t t0 = clock_now_ns();
    start(f, c, 0, t0);
    assert_int_equal(c->state, CONN_BUSY);
    assert_int_equal(conn_room(c), 0); /* no SETTINGS yet: one stream */
    assert_int_not_equal(conn_stream(c, 0)->t_send_ns, 0);
    assert_int_equal(f->w.sent, 1);
    server_settings(c, 100);
    assert_int_equal(conn_room(c), 3); /* --streams 4 is below the server's 100 */
    for (uint64_t i = 1; i < 4; i++)
        start(f, c, i, t0 + i);
    assert_int_equal(conn_room(c), 0);
    struct server *sv = server_of(c);
    assert_int_equal(sv->ngot, 4);
    assert_string_equal(sv->path, "/x?a=1");
    /* Answers in the order 3rd, 1st, 4th (404), 2nd. */
    respond(c, sv->got[2], 200);
    deliver(c);
    assert_int_equal(f->w.rec.ok, 1);
    assert_int_equal(c->nstreams, 3);
    assert_int_equal(conn_stream(c, 0)->req.t_intended_ns, t0); /* the oldest still owns the deadline */
    respond(c, sv->got[0], 201);
    respond(c, sv->got[3], 404);
    deliver(c);
    assert_int_equal(c->nstreams, 1);
    assert_int_equal(conn_stream(c, 0)->req.t_intended_ns, t0 + 1);
    respond(c, sv->got[1], 202);
    deliver(c);
    assert_int_equal(f->w.rec.ok, 3);
    assert_int_equal(f->w.rec.http_error, 1);
    assert_int_equal(f->w.rec.status[201], 1);
    assert_int_equal(f->w.rec.status[202], 1);
    assert_int_equal(f->w.rec.status[404], 1);
    assert_int_equal(f->w.rec.failed + f->w.rec.timeout, 0);
    assert_int_equal(c->state, CONN_IDLE);
    assert_int_equal(f->w.pool.nbusy, 0);
    assert_int_equal(f->w.h2.streams_max, 4);
    assert_int_equal(f->w.h2.conns, 1);
    fixture_free(f);
}

/*
 * GOAWAY below two streams: they go back once (intended times kept) to
 * another connection whose next stream ids the GOAWAY's last-stream-id
 * covers; the rest finish.
 */
static void test_goaway_retries_above_last_stream(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(0);
    struct conn *other = warm(f, 100);
    struct conn *c = connected(f);
    uint64_t t0 = clock_now_ns();
    start(f, c, 0, t0);
    server_settings(c, 100);
    for (uint64_t i = 1; i < 6; i++)
        start(f, c, i, t0 + i);
    struct server *sv = server_of(c);
    assert_int_equal(sv->ngot, 6);
    respond(c, sv->got[0], 200);
    assert_int_equal(nghttp2_submit_goaway(sv->s, NGHTTP2_FLAG_NONE, sv->got[3], NGHTTP2_NO_ERROR, NULL, 0), 0);
    deliver(c);
    /* Stream 1 answered, streams 2 to 4 still processed, 5 and 6 were not: retried on the other connection. */
    assert_int_equal(f->w.rec.ok, 2); /* the warm-up and stream 1 */
    assert_int_equal(c->nstreams, 3);
    assert_int_equal(conn_room(c), 0);
    assert_int_equal(f->w.h2.goaways, 1);
    assert_int_equal(f->w.h2_backoff.goaway_last_id, sv->got[3]);
    assert_int_equal(f->w.pool.stats.retries, 2);
    assert_int_equal(other->nstreams, 2);
    for (uint32_t i = 0; i < 2; i++) {
        assert_int_equal(conn_stream(other, i)->req.retries, 1);
        assert_int_equal(conn_stream(other, i)->req.t_intended_ns, t0 + 4 + i);
    }
    /* The other connection's next id (7) is what the GOAWAY covered; after one more stream no retry goes there. */
    assert_true(conn_takes_retry(other));
    start(f, other, 9, t0 + 9);
    assert_false(conn_takes_retry(other));
    /* The last processed streams complete; the connection closes as the server asked. */
    for (int k = 1; k <= 3; k++)
        respond(c, sv->got[k], 200);
    deliver(c);
    assert_int_equal(c->state, CONN_FREE);
    assert_int_equal(f->w.pool.stats.closed_by_server, 1);
    /* The retries are answered on the other connection: every request has one outcome. */
    struct server *so = server_of(other);
    for (uint32_t k = 1; k <= 3; k++)
        respond(other, so->got[so->ngot - k], 200);
    deliver(other);
    assert_int_equal(f->w.rec.ok, 8);
    assert_int_equal(f->w.rec.failed + f->w.rec.timeout, 0);
    fixture_free(f);
}

/* REFUSED_STREAM: retried once on another connection; refused again it fails with h2_refused. */
static void test_refused_retried_once(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(0);
    struct conn *other = warm(f, 100);
    struct conn *c = connected(f);
    uint64_t t0 = clock_now_ns();
    start(f, c, 0, t0);
    server_settings(c, 100);
    start(f, c, 1, t0 + 1);
    struct server *sv = server_of(c);
    assert_int_equal(nghttp2_submit_rst_stream(sv->s, NGHTTP2_FLAG_NONE, sv->got[0], NGHTTP2_REFUSED_STREAM), 0);
    deliver(c);
    assert_int_equal(f->w.pool.stats.retries, 1);
    assert_int_equal(f->w.h2.resets[NGHTTP2_REFUSED_STREAM], 1);
    assert_int_equal(c->nstreams, 1); /* the other stream is unaffected */
    /* The retry went to the other connection's free stream, not back to c? Either may take it: find it. */
    struct conn *r = other->nstreams ? other : c;
    struct stream *s = conn_stream(r, r->nstreams - 1);
    assert_int_equal(s->req.retries, 1);
    assert_int_equal(s->req.t_intended_ns, t0);
    struct server *sr = server_of(r);
    assert_int_equal(nghttp2_submit_rst_stream(sr->s, NGHTTP2_FLAG_NONE, sr->got[sr->ngot - 1], NGHTTP2_REFUSED_STREAM),
                     0);
    deliver(r);
    assert_int_equal(f->w.pool.stats.retries, 1); /* once */
    assert_int_equal(f->w.rec.failed, 1);
    assert_int_equal(f->w.rec.errors[ERR_H2_REFUSED], 1);
    respond(c, sv->got[1], 200);
    deliver(c);
    assert_int_equal(f->w.rec.ok, 2);
    assert_int_equal(f->w.pool.nbusy, 0);
    fixture_free(f);
}

/* INTERNAL_ERROR: the stream fails with its kind, never retried; the connection goes on. */
static void test_internal_error_fails(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(0);
    struct conn *c = connected(f);
    start(f, c, 0, clock_now_ns());
    server_settings(c, 100);
    start(f, c, 1, clock_now_ns());
    struct server *sv = server_of(c);
    assert_int_equal(nghttp2_submit_rst_stream(sv->s, NGHTTP2_FLAG_NONE, sv->got[1], NGHTTP2_INTERNAL_ERROR), 0);
    respond(c, sv->got[0], 200);
    deliver(c);
    assert_int_equal(f->w.rec.failed, 1);
    assert_int_equal(f->w.rec.errors[ERR_H2_INTERNAL_ERROR], 1);
    assert_int_equal(f->w.rec.ok, 1);
    assert_int_equal(f->w.pool.stats.retries, 0);
    assert_int_equal(c->state, CONN_IDLE);
    assert_int_equal(f->w.h2.resets[NGHTTP2_INTERNAL_ERROR], 1);
    fixture_free(f);
}

/* A limit lowered mid-connection: no new stream until fewer than the new limit are in flight. */
static void test_lowered_limit_honoured(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(0);
    struct conn *c = connected(f);
    start(f, c, 0, clock_now_ns());
    server_settings(c, 4);
    assert_int_equal(conn_room(c), 3);
    for (uint64_t i = 1; i < 4; i++)
        start(f, c, i, clock_now_ns());
    assert_int_equal(conn_room(c), 0);
    server_settings(c, 2);
    assert_int_equal(conn_room(c), 0);
    struct server *sv = server_of(c);
    respond(c, sv->got[0], 200);
    deliver(c);
    assert_int_equal(c->nstreams, 3);
    assert_int_equal(conn_room(c), 0);
    respond(c, sv->got[1], 200);
    respond(c, sv->got[2], 200);
    deliver(c);
    assert_int_equal(conn_room(c), 1);
    assert_int_equal(f->w.h2.settings_min_streams, 2);
    fixture_free(f);
}

/* A server limit of 0: the idle connection takes no request until a SETTINGS allows one again. */
static void test_zero_limit_takes_none(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(0);
    struct conn *c = warm(f, 100);
    assert_ptr_equal(f->w.pool.idle_head, c);
    server_settings(c, 0);
    assert_int_equal(c->state, CONN_IDLE);
    assert_int_equal(conn_room(c), 0);
    assert_null(f->w.pool.idle_head); /* not handed out, so no request waits on it */
    server_settings(c, 8);
    assert_ptr_equal(f->w.pool.idle_head, c);
    assert_int_equal(conn_room(c), 8);
    fixture_free(f);
}

/* A stream reaching --timeout is reset with CANCEL and times out; the others and the connection stay. */
static void test_timeout_cancels(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(0);
    struct conn *c = connected(f);
    uint64_t t0 = clock_now_ns();
    start(f, c, 0, t0);
    server_settings(c, 100);
    start(f, c, 1, t0 + 5 * NS_PER_S);
    c->timer.on_fire(&c->timer, t0 + f->cfg.timeout_ns);
    assert_int_equal(f->w.rec.timeout, 1);
    assert_int_equal(f->w.h2.cancels, 1);
    assert_int_equal(c->nstreams, 1);
    assert_int_equal(c->state, CONN_BUSY);
    struct server *sv = server_of(c);
    assert_int_equal(sv->nrst, 1);
    assert_int_equal(sv->rst_code[0], NGHTTP2_CANCEL);
    /* A late answer to the cancelled stream is ignored; the other is answered. */
    respond(c, sv->got[1], 200);
    deliver(c);
    assert_int_equal(f->w.rec.ok, 1);
    assert_int_equal(f->w.rec.timeout, 1);
    assert_int_equal(c->state, CONN_IDLE);
    fixture_free(f);
}

/* A limit of 0 starts the back-off (counted), doubling per such SETTINGS up to 1 s; a limit above 0 ends it. */
static void test_zero_limit_backs_off(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(0);
    struct conn *c = warm(f, 100);
    assert_int_equal(f->w.h2_backoff.delay_ns, 0);
    server_settings(c, 0);
    assert_int_equal(f->w.h2.zero_limit, 1);
    assert_int_equal(f->w.h2_backoff.delay_ns, H2_BACKOFF_MIN_NS);
    assert_true(f->w.h2_backoff.until_ns > clock_now_ns());
    for (int i = 0; i < 10; i++)
        server_settings(c, 0);
    assert_int_equal(f->w.h2.zero_limit, 11);
    assert_int_equal(f->w.h2_backoff.delay_ns, H2_BACKOFF_MAX_NS);
    server_settings(c, 4);
    assert_int_equal(f->w.h2_backoff.delay_ns, 0);
    assert_int_equal(f->w.h2.settings_min_streams, 0);
    /* The histogram of the values sent: 0 eleven times, 4 once (plus warm's 100). */
    const struct h2_setting_hist *hs = &f->w.h2.settings[NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS - 1];
    uint64_t zeros = 0, fours = 0;
    for (uint32_t k = 0; k < hs->n; k++) {
        if (hs->value[k] == 0) zeros = hs->count[k];
        if (hs->value[k] == 4) fours = hs->count[k];
    }
    assert_int_equal(zeros, 11);
    assert_int_equal(fours, 1);
    fixture_free(f);
}

/* The SETTINGS histograms stay bounded: past H2_SETTING_VALUES distinct values, entries count as other; adding merges
 * by value. */
static void test_settings_histogram_bounded(void **state)
{
    (void)state;
    struct h2_stats a = {0}, b = {0};
    for (uint32_t v = 0; v < H2_SETTING_VALUES + 3; v++)
        h2_setting_note(&a, NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1000 + v, 2);
    h2_setting_note(&a, 42, 1, 1);
    const struct h2_setting_hist *ha = &a.settings[NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE - 1];
    assert_int_equal(ha->n, H2_SETTING_VALUES);
    assert_int_equal(ha->other, 6);
    assert_int_equal(a.settings_unknown, 1);
    h2_setting_note(&b, NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1000, 5);
    b.flow_waits = 2, b.flow_wait_ns = 30, b.flow_wait_max_ns = 20;
    a.flow_waits = 1, a.flow_wait_ns = 10, a.flow_wait_max_ns = 10;
    h2_stats_add(&a, &b);
    assert_int_equal(ha->count[0], 7);
    assert_int_equal(ha->n, H2_SETTING_VALUES);
    assert_int_equal(a.flow_waits, 3);
    assert_int_equal(a.flow_wait_ns, 40);
    assert_int_equal(a.flow_wait_max_ns, 20);
    assert_string_equal(h2_setting_name(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS), "max_concurrent_streams");
    assert_null(h2_setting_name(7));
    assert_null(h2_setting_name(10));
}

/*
 * Checks over h2: the head comes from HEADERS (the 103 skipped, the trailer
 * not read), the body from DATA; an error body fails its checks
 * (check_failed), a body over --max-body is body_too_large, and one with no
 * kept-body room is read and not kept (body_budget.not_kept).
 */
static struct check h2_checks[4];

static void with_checks(struct run_config *cfg)
{
    const char *texts[] = {"json.error absent", "header 'Content-Type' contains 'json'", "body contains 'leg'",
                           "header 'x-trailer' absent"};
    const char *why;
    for (int i = 0; i < 4; i++)
        assert_int_equal(check_parse(&h2_checks[i], texts[i], &why), 0);
    cfg->checks = h2_checks;
    cfg->nchecks = 4;
    cfg->check_body = true;
    cfg->max_body = 64;
    cfg->body_budget = 100; /* room for one --max-body 64 of unknown length at a time, not two */
}

static void test_checks_read_headers_and_data(void **state)
{
    (void)state;
    struct fixture *f = fixture_tuned(4, with_checks);
    struct conn *c = warm(f, 100);
    /* Forget the warm-up answer's verdicts (it had no body and no content-type). */
    memset(f->w.rec.check_pass, 0, sizeof(f->w.rec.check_pass));
    memset(f->w.rec.check_fail, 0, sizeof(f->w.rec.check_fail));
    memset(f->w.rec.check_too_large, 0, sizeof(f->w.rec.check_too_large));
    f->w.rec.ok = f->w.rec.check_failed = 0;
    uint64_t t0 = clock_now_ns();
    struct server *sv = server_of(c);
    const char *good = "{\"legs\": [1, 2]}", *bad = "{\"error\": \"no leg\"}";
    start(f, c, 0, t0);
    respond_body(c, sv->got[sv->ngot - 1], &good);
    deliver(c);
    assert_int_equal(f->w.rec.ok, 1);
    for (int i = 0; i < 4; i++)
        assert_int_equal(f->w.rec.check_pass[i], 1);
    start(f, c, 1, t0);
    respond_body(c, sv->got[sv->ngot - 1], &bad);
    deliver(c);
    assert_int_equal(f->w.rec.check_failed, 1);
    assert_int_equal(f->w.rec.check_fail[0], 1);
    assert_int_equal(f->w.rec.check_pass[1], 2);
    assert_int_equal(f->w.rec.check_pass[2], 2); /* "no leg" has 'leg' too */
    /* Over --max-body 64 (the body alone: a short head does not lend it its 32 KiB, as over HTTP/1.1). */
    static char big_text[2 * HTTP_MAX_HEAD + 100];
    memset(big_text, 'x', sizeof(big_text) - 1);
    memcpy(big_text, "{\"legs\": \"", 10);
    memcpy(big_text + sizeof(big_text) - 3, "\"}", 2);
    const char *big = big_text;
    start(f, c, 2, t0);
    respond_body(c, sv->got[sv->ngot - 1], &big);
    deliver(c);
    assert_int_equal(f->w.rec.check_too_large[0], 1);
    assert_int_equal(f->w.rec.check_too_large[2], 1);
    assert_int_equal(f->w.rec.check_pass[1], 3); /* the header check is still judged */
    /* Two at once, no content-length: the first takes all the room, the second is not kept. */
    const char *g1 = "{\"legs\": [3]}", *g2 = g1; /* good was read to its end */
    start(f, c, 3, t0);
    start(f, c, 4, t0);
    respond_body(c, sv->got[sv->ngot - 2], &g1);
    respond_body(c, sv->got[sv->ngot - 1], &g2);
    deliver(c);
    assert_int_equal(f->w.budget.not_kept, 1);
    assert_int_equal(f->w.rec.check_pass[0], 2);
    assert_int_equal(f->w.rec.check_too_large[0], 2);
    assert_int_equal(f->w.budget.used, 0); /* all given back */
    assert_true(f->w.budget.peak <= f->w.budget.cap);
    fixture_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_streams_interleaved),
        cmocka_unit_test(test_goaway_retries_above_last_stream),
        cmocka_unit_test(test_refused_retried_once),
        cmocka_unit_test(test_internal_error_fails),
        cmocka_unit_test(test_lowered_limit_honoured),
        cmocka_unit_test(test_zero_limit_takes_none),
        cmocka_unit_test(test_timeout_cancels),
        cmocka_unit_test(test_zero_limit_backs_off),
        cmocka_unit_test(test_settings_histogram_bounded),
        cmocka_unit_test(test_checks_read_headers_and_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_http1.c — tests of src/load/http1.c through the connection state
 * machine (conn.c) and the pool, with a fake byte transport: no sockets.
 *
 * A real worker is set up with worker_init (its loop, recorder, pool and
 * backlog; no thread, no connect) and its transport table is replaced by
 * a script of reads and a capture of writes. A connection is put in the
 * state the connect would leave it in, its requests are started with
 * conn_send and the responses are delivered by calling the epoll callback,
 * exactly as the loop would. Covered: every split point of a response,
 * keep-alive reuse, close-delimited bodies, the keep-alive race (the
 * request goes back once, its intended time kept), pipelined responses
 * answered in order (also split at every byte), a server that closes with
 * pipelined requests outstanding, and a reset in mid-response.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>

#include "core/clock.h"
#include "load/conn.h"
#include "load/engine.h"
#include "load/http1.h"

#define STEP_AGAIN ((size_t)-1) /* the read says EAGAIN */
#define STEP_RESET ((size_t)-2) /* the read says ECONNRESET */
#define STEP_EOF ((size_t)0)    /* the read says EOF */
#define MAX_STEPS 64

/* The fake transport: reads come from a script, writes are captured. */
static struct {
    const char *data[MAX_STEPS];
    size_t len[MAX_STEPS];
    int n, pos;
    char out[16384];
    size_t out_len;
} fake;

/* Queues one read of len bytes of data (or a STEP_ marker). */
static void script(const char *data, size_t len)
{
    assert_true(fake.n < MAX_STEPS);
    fake.data[fake.n] = data;
    fake.len[fake.n++] = len;
}

/* Queues the bytes of s as one read. */
static void script_str(const char *s)
{
    script(s, strlen(s));
}

static ssize_t fake_read(struct conn *c, char *buf, size_t len)
{
    (void)c;
    if (fake.pos >= fake.n) return CONN_AGAIN;
    size_t n = fake.len[fake.pos];
    if (n == STEP_AGAIN) return fake.pos++, CONN_AGAIN;
    if (n == STEP_RESET) return fake.pos++, -ECONNRESET;
    if (n == STEP_EOF) return fake.pos++, 0;
    assert_true(n <= len);
    memcpy(buf, fake.data[fake.pos++], n);
    return (ssize_t)n;
}

static ssize_t fake_write(struct conn *c, const char *buf, size_t len)
{
    (void)c;
    assert_true(fake.out_len + len <= sizeof(fake.out));
    memcpy(fake.out + fake.out_len, buf, len);
    fake.out_len += len;
    return (ssize_t)len;
}

static const struct transport fake_transport = {fake_read, fake_write};

/* One worker around the fake transport. */
struct fixture {
    struct reqgen gen;
    struct run_config cfg;
    struct worker w;
};

/* A worker with one connection slot of the given pipeline depth. */
static struct fixture *fixture_new(uint32_t depth)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    memset(&fake, 0, sizeof(fake));
    char why[200];
    struct reqgen_spec spec = {.method = "GET", .path = "/x", .weight = 1};
    assert_int_equal(reqgen_init(&f->gen, &spec, 1, NULL, PICK_SEQ, 1, 1, "127.0.0.1:9", 10, why, sizeof(why)), 0);
    const char *uwhy = NULL;
    assert_int_equal(url_parse(&f->cfg.url, "http://127.0.0.1:9/x", &uwhy), 0);
    f->cfg.gen = &f->gen;
    f->cfg.rate = 1;
    f->cfg.duration_ns = NS_PER_S;
    f->cfg.timeout_ns = 10 * NS_PER_S;
    f->cfg.max_lag_ns = NS_PER_MS;
    f->cfg.connections = 1;
    f->cfg.threads = 1;
    f->cfg.nshards = 1;
    f->cfg.pipeline = depth;
    assert_int_equal(worker_init(&f->w, &f->cfg, 0, clock_now_ns()), 0);
    f->w.transport = &fake_transport;
    return f;
}

static void fixture_free(struct fixture *f)
{
    worker_release(&f->w);
    reqgen_release(&f->gen);
    free(f);
}

/* The slot, connected and idle, as conn_ready leaves it (no socket). */
static struct conn *connected(struct fixture *f)
{
    struct conn *c = pool_take_free(&f->w.pool);
    assert_non_null(c);
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
}

/* The loop saw c readable. */
static void readable(struct conn *c)
{
    c->io.on_event(&c->io, EPOLLIN);
}

static const char RESP_OK[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

/* A response split at every byte arrives in two reads: one ok, the connection idle again. */
static void test_split_points(void **state)
{
    (void)state;
    size_t n = strlen(RESP_OK);
    for (size_t cut = 1; cut < n; cut++) {
        struct fixture *f = fixture_new(1);
        struct conn *c = connected(f);
        start(f, c, 0, clock_now_ns());
        assert_int_equal(c->state, CONN_BUSY);
        assert_string_equal(fake.out + fake.out_len - 4, "\r\n\r\n");
        script(RESP_OK, cut);
        readable(c);
        assert_int_equal(f->w.rec.ok, 0);
        script(RESP_OK + cut, n - cut);
        readable(c);
        assert_int_equal(f->w.rec.ok, 1);
        assert_int_equal(f->w.rec.failed, 0);
        assert_int_equal(c->state, CONN_IDLE);
        assert_int_equal(f->w.pool.nbusy, 0);
        assert_ptr_equal(f->w.pool.idle_head, c);
        fixture_free(f);
    }
}

/* Two requests in turn reuse one connection. */
static void test_keepalive_reuse(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(1);
    struct conn *c = connected(f);
    for (int i = 0; i < 2; i++) {
        start(f, c, (uint64_t)i, clock_now_ns());
        script_str(RESP_OK);
        readable(c);
        assert_int_equal(c->state, CONN_IDLE);
    }
    assert_int_equal(f->w.rec.ok, 2);
    assert_int_equal(c->served, 2);
    assert_int_equal(f->w.pool.stats.closed_by_server + f->w.pool.stats.closed_by_us, 0);
    /* Both requests went out on it, one after the other. */
    const char *second = strstr(fake.out + 1, "GET /x");
    assert_non_null(second);
    assert_null(strstr(second + 1, "GET /x"));
    fixture_free(f);
}

/* A body without framing ends at EOF: ok, and the server closed. */
static void test_close_delimited(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(1);
    struct conn *c = connected(f);
    start(f, c, 0, clock_now_ns());
    script_str("HTTP/1.1 200 OK\r\n\r\nuntil the end");
    script(NULL, STEP_EOF);
    c->peer_hup = true; /* the FIN came with the data, in the same edge */
    readable(c);
    assert_int_equal(f->w.rec.ok, 1);
    assert_int_equal(f->w.rec.failed, 0);
    assert_int_equal(c->state, CONN_FREE);
    assert_int_equal(f->w.pool.stats.closed_by_server, 1);
    assert_int_equal(f->w.pool.nfree, 1);
    fixture_free(f);
}

/* The server closes a reused connection before answering: the request goes back once. */
static void test_keepalive_race(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(1);
    struct conn *c = connected(f);
    start(f, c, 0, clock_now_ns());
    script_str(RESP_OK);
    readable(c);
    uint64_t intended = clock_now_ns() - 5 * NS_PER_MS;
    start(f, c, 1, intended);
    /* Stopping keeps the retry in the backlog instead of connecting a socket. */
    atomic_store(&f->w.stop, true);
    script(NULL, STEP_EOF);
    readable(c);
    assert_int_equal(f->w.rec.failed, 0);
    assert_int_equal(f->w.pool.stats.retries, 1);
    assert_int_equal(f->w.pool.stats.closed_by_server, 1);
    assert_int_equal(f->w.backlog.len, 1);
    const struct pending *p = backlog_peek(&f->w.backlog);
    assert_int_equal(p->index, 1);
    assert_int_equal(p->retries, 1);
    assert_int_equal(p->t_intended_ns, intended);
    fixture_free(f);
}

/* The first request on a connection is never retried: a server that closes at once fails it. */
static void test_first_request_not_retried(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(1);
    struct conn *c = connected(f);
    start(f, c, 0, clock_now_ns());
    script(NULL, STEP_EOF);
    readable(c);
    assert_int_equal(f->w.rec.failed, 1);
    assert_int_equal(f->w.rec.errors[ERR_EOF_EARLY], 1);
    assert_int_equal(f->w.pool.stats.retries, 0);
    fixture_free(f);
}

static const char RESP3[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                            "HTTP/1.1 503 Busy\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nbad\r\n0\r\n\r\n"
                            "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";

/* Three pipelined requests, three responses in order in one read, split at every byte. */
static void test_pipelined_in_order(void **state)
{
    (void)state;
    size_t n = strlen(RESP3);
    for (size_t cut = 0; cut < n; cut++) {
        struct fixture *f = fixture_new(3);
        struct conn *c = connected(f);
        for (int i = 0; i < 3; i++)
            start(f, c, (uint64_t)i, clock_now_ns());
        assert_int_equal(c->nstreams, 3);
        assert_int_equal(c->nwritten, 3);
        assert_int_equal(conn_room(c), 0);
        assert_int_equal(f->w.rec.bytes_out, fake.out_len);
        if (cut) {
            script(RESP3, cut);
            readable(c); /* a short read drained the socket: the rest comes with the next edge */
        }
        script(RESP3 + cut, n - cut);
        readable(c);
        assert_int_equal(f->w.rec.status[200], 1);
        assert_int_equal(f->w.rec.status[503], 1);
        assert_int_equal(f->w.rec.status[201], 1);
        assert_int_equal(f->w.rec.ok, 2);
        assert_int_equal(f->w.rec.http_error, 1);
        assert_int_equal(f->w.rec.failed, 0);
        assert_int_equal(c->state, CONN_IDLE);
        assert_int_equal(c->served, 3);
        fixture_free(f);
    }
}

/* Each response completes the oldest request only: one at a time, in order. */
static void test_pipelined_one_by_one(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(2);
    struct conn *c = connected(f);
    start(f, c, 0, clock_now_ns());
    /* The pool offers the busy connection's free slot while its answer is due. */
    assert_int_equal(conn_room(c), 1);
    pool_give_back(&f->w.pool, c);
    assert_ptr_equal(pool_take_room(&f->w.pool), c);
    start(f, c, 1, clock_now_ns());
    assert_int_equal(conn_room(c), 0);
    script_str("HTTP/1.1 503 No\r\nContent-Length: 0\r\n\r\n");
    readable(c);
    assert_int_equal(f->w.rec.http_error, 1);
    assert_int_equal(f->w.rec.ok, 0);
    assert_int_equal(c->nstreams, 1);
    assert_int_equal(c->state, CONN_BUSY);
    assert_int_equal(f->w.pool.nbusy, 1);
    script_str(RESP_OK);
    readable(c);
    assert_int_equal(f->w.rec.ok, 1);
    assert_int_equal(c->state, CONN_IDLE);
    fixture_free(f);
}

/* Connection: close after the first of three pipelined: the two unanswered go back once, times kept. */
static void test_close_with_pipelined_outstanding(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(3);
    struct conn *c = connected(f);
    uint64_t t0 = clock_now_ns();
    for (int i = 0; i < 3; i++)
        start(f, c, (uint64_t)i, t0 + (uint64_t)i);
    atomic_store(&f->w.stop, true); /* the retries stay in the backlog: no socket is opened */
    script_str("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
    readable(c);
    assert_int_equal(f->w.rec.ok, 1);
    assert_int_equal(f->w.rec.failed, 0);
    assert_int_equal(f->w.pool.stats.closed_by_server, 1);
    assert_int_equal(f->w.pool.stats.retries, 2);
    assert_int_equal(f->w.pool.nbusy, 0);
    assert_int_equal(f->w.backlog.len, 2);
    struct pending p;
    for (uint64_t i = 1; i <= 2; i++) {
        assert_true(backlog_pop(&f->w.backlog, &p));
        assert_int_equal(p.index, i);
        assert_int_equal(p.t_intended_ns, t0 + i);
        assert_int_equal(p.retries, 1);
    }
    fixture_free(f);
}

/* A request already retried once is not sent a third time: it fails. */
static void test_retry_only_once(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(2);
    struct conn *c = connected(f);
    start(f, c, 0, clock_now_ns());
    struct pending p = {.t_intended_ns = clock_now_ns(), .index = 1, .retries = 1};
    conn_push(c, &p);
    conn_send(c);
    atomic_store(&f->w.stop, true);
    script_str("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    readable(c);
    assert_int_equal(f->w.rec.ok, 1);
    assert_int_equal(f->w.rec.failed, 1);
    assert_int_equal(f->w.rec.errors[ERR_EOF_EARLY], 1);
    assert_int_equal(f->w.backlog.len, 0);
    fixture_free(f);
}

/* A reset in mid-response fails that request (it had bytes: no retry); the pipelined one goes back. */
static void test_reset_mid_response(void **state)
{
    (void)state;
    for (uint32_t depth = 1; depth <= 2; depth++) {
        struct fixture *f = fixture_new(depth);
        struct conn *c = connected(f);
        c->served = 1; /* a reused connection: only the bytes seen rule the retry out */
        for (uint32_t i = 0; i < depth; i++)
            start(f, c, i, clock_now_ns());
        atomic_store(&f->w.stop, true);
        script_str("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nsome");
        script(NULL, STEP_RESET);
        c->peer_hup = true; /* the RST came in the same edge as the data */
        readable(c);
        assert_int_equal(f->w.rec.ok, 0);
        assert_int_equal(f->w.rec.failed, 1);
        assert_int_equal(f->w.rec.errors[ERR_CONN_RESET], 1);
        assert_int_equal(f->w.pool.stats.closed_by_error, 1);
        assert_int_equal(f->w.pool.stats.retries, depth - 1);
        assert_int_equal(f->w.backlog.len, depth - 1);
        assert_int_equal(c->state, CONN_FREE);
        fixture_free(f);
    }
}

/* Bytes after a response that nobody asked for end the connection (salvo closes it). */
static void test_leftover_closes(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(1);
    struct conn *c = connected(f);
    start(f, c, 0, clock_now_ns());
    script_str("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n");
    readable(c);
    assert_int_equal(f->w.rec.ok, 1);
    assert_int_equal(f->w.pool.stats.closed_by_us, 1);
    assert_int_equal(c->state, CONN_FREE);
    fixture_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_points),
        cmocka_unit_test(test_keepalive_reuse),
        cmocka_unit_test(test_close_delimited),
        cmocka_unit_test(test_keepalive_race),
        cmocka_unit_test(test_first_request_not_retried),
        cmocka_unit_test(test_pipelined_in_order),
        cmocka_unit_test(test_pipelined_one_by_one),
        cmocka_unit_test(test_close_with_pipelined_outstanding),
        cmocka_unit_test(test_retry_only_once),
        cmocka_unit_test(test_reset_mid_response),
        cmocka_unit_test(test_leftover_closes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

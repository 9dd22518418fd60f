/*
 * test_chaos_exchange.c — the HTTP exchange of the chaos proxy: which
 * requests the HTTP toxics pick, that synthesized answers keep the order of
 * responses on a keep-alive connection, and what happens to the bytes.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "chaos/exchange.h"
#include "core/clock.h"

/* What feeding a whole buffer through the exchange gave. */
struct outcome {
    size_t forwarded, dropped;
    uint64_t max_delay_ns;
    bool close_after;
    char fwd[4096]; /* the forwarded bytes */
};

/* Feeds buf through the exchange in pieces of `piece` bytes (0: whole). */
static void feed(struct exchange *ex, int dir, const char *buf, const struct exchange_dice *d, size_t piece,
                 struct outcome *o)
{
    memset(o, 0, sizeof *o);
    size_t len = strlen(buf), off = 0;
    while (off < len) {
        size_t n = len - off;
        if (piece && n > piece) n = piece;
        size_t end = off + n;
        while (off < end) {
            struct exchange_step st;
            exchange_step(ex, dir, buf + off, end - off, d, &st);
            assert_true(st.len > 0 && st.len <= end - off);
            if (st.forward) {
                if (o->forwarded + st.len < sizeof o->fwd) memcpy(o->fwd + o->forwarded, buf + off, st.len);
                o->forwarded += st.len;
            } else {
                o->dropped += st.len;
            }
            if (st.delay_ns > o->max_delay_ns) o->max_delay_ns = st.delay_ns;
            o->close_after |= st.close_after;
            off += st.len;
        }
    }
}

static struct toxic make(enum toxic_type type, double toxicity, int64_t attr0)
{
    struct toxic t;
    toxic_init(&t, type);
    t.toxicity = toxicity;
    t.attr[0] = attr0;
    t.id = 99;
    return t;
}

static const char GET[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
static const char OK[] = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nhello\n";

static void test_status_answers_without_upstream(void **state)
{
    (void)state;
    for (size_t piece = 0; piece <= 3; piece++) {
        struct toxic t = make(TOXIC_HTTP_STATUS, 1, 503);
        struct exchange_dice d = {&t, 1, 1, 1};
        struct exchange ex;
        exchange_init(&ex);
        struct outcome o;
        feed(&ex, STREAM_UPSTREAM, GET, &d, piece, &o);
        assert_int_equal(o.forwarded, 0);
        assert_int_equal(o.dropped, strlen(GET));
        char buf[EXCHANGE_SYNTH_MAX];
        bool close = true;
        size_t n = exchange_next_synth(&ex, buf, &close);
        assert_true(n > 0);
        assert_false(close);
        assert_memory_equal(buf, "HTTP/1.1 503 Service Unavailable\r\n", 34);
        assert_non_null(strstr(buf, "content-length: 24\r\n"));
        assert_int_equal(exchange_next_synth(&ex, buf, &close), 0);
        exchange_release(&ex);
        t = make(TOXIC_HTTP_STATUS, 1, 204); /* no body, and no content-length either */
        exchange_init(&ex);
        feed(&ex, STREAM_UPSTREAM, GET, &d, piece, &o);
        n = exchange_next_synth(&ex, buf, &close);
        assert_memory_equal(buf, "HTTP/1.1 204 ", 13);
        assert_null(strstr(buf, "content-length"));
        assert_memory_equal(buf + n - 4, "\r\n\r\n", 4);
        exchange_release(&ex);
    }
}

/* Request 0 goes upstream, request 1 is answered by us: our answer waits for response 0. */
static void test_synth_keeps_response_order(void **state)
{
    (void)state;
    struct toxic t = make(TOXIC_HTTP_STATUS, 1, 500);
    struct exchange_dice none = {NULL, 0, 1, 1}, some = {&t, 1, 1, 1};
    struct exchange ex;
    exchange_init(&ex);
    struct outcome o;
    char buf[EXCHANGE_SYNTH_MAX];
    bool close;
    feed(&ex, STREAM_UPSTREAM, GET, &none, 0, &o);
    assert_int_equal(o.forwarded, strlen(GET));
    const char post[] = "POST /x HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody";
    feed(&ex, STREAM_UPSTREAM, post, &some, 0, &o);
    assert_int_equal(o.dropped, strlen(post));
    assert_int_equal(exchange_next_synth(&ex, buf, &close), 0); /* response 0 is still owed */
    feed(&ex, STREAM_DOWNSTREAM, "HTTP/1.1 200 OK\r\nContent-", &some, 0, &o);
    assert_int_equal(exchange_next_synth(&ex, buf, &close), 0);
    feed(&ex, STREAM_DOWNSTREAM, "Length: 6\r\n\r\nhello\n", &some, 0, &o);
    assert_true(exchange_next_synth(&ex, buf, &close) > 0);
    assert_memory_equal(buf, "HTTP/1.1 500 ", 13);
    /* The connection goes on: request 2 is forwarded and its response framed. */
    feed(&ex, STREAM_UPSTREAM, GET, &none, 0, &o);
    assert_int_equal(o.forwarded, strlen(GET));
    feed(&ex, STREAM_DOWNSTREAM, OK, &none, 0, &o);
    assert_int_equal(o.forwarded, strlen(OK));
    assert_false(ex.opaque);
    assert_int_equal(ex.len, 0);
    exchange_release(&ex);
}

/* A body arriving in pieces is swallowed whole before the answer leaves. */
static void test_synth_waits_for_body(void **state)
{
    (void)state;
    struct toxic t = make(TOXIC_HTTP_STATUS, 1, 503);
    struct exchange_dice d = {&t, 1, 1, 1};
    struct exchange ex;
    exchange_init(&ex);
    struct outcome o;
    char buf[EXCHANGE_SYNTH_MAX];
    bool close;
    feed(&ex, STREAM_UPSTREAM, "PUT / HTTP/1.1\r\nContent-Length: 10\r\n\r\n12345", &d, 0, &o);
    assert_int_equal(exchange_next_synth(&ex, buf, &close), 0);
    feed(&ex, STREAM_UPSTREAM, "67890", &d, 0, &o);
    assert_int_equal(o.dropped, 5);
    assert_true(exchange_next_synth(&ex, buf, &close) > 0);
    /* Connection: close is honoured: the answer says so and the rest is swallowed. */
    feed(&ex, STREAM_UPSTREAM, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n", &d, 0, &o);
    assert_true(exchange_next_synth(&ex, buf, &close) > 0);
    assert_true(close);
    assert_non_null(strstr(buf, "connection: close\r\n"));
    feed(&ex, STREAM_UPSTREAM, GET, &d, 0, &o);
    assert_int_equal(o.dropped, strlen(GET));
    assert_int_equal(exchange_next_synth(&ex, buf, &close), 0);
    exchange_release(&ex);
}

/* HEAD responses have no body; the exchange must know which request they answer. */
static void test_head_pipelined(void **state)
{
    (void)state;
    struct exchange_dice none = {NULL, 0, 1, 1};
    struct exchange ex;
    exchange_init(&ex);
    struct outcome o;
    feed(&ex, STREAM_UPSTREAM, "HEAD / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n", &none, 0, &o);
    feed(&ex, STREAM_DOWNSTREAM, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n", &none, 0, &o);
    assert_int_equal(ex.len, 1);
    feed(&ex, STREAM_DOWNSTREAM, OK, &none, 1, &o);
    assert_int_equal(ex.len, 0);
    assert_false(ex.opaque);
    exchange_release(&ex);
}

static void test_cut_and_latency(void **state)
{
    (void)state;
    struct toxic tox[2] = {make(TOXIC_HTTP_LATENCY, 1, 300), make(TOXIC_HTTP_CUT, 1, -1)};
    struct exchange_dice lat = {&tox[0], 1, 1, 1}, cut = {&tox[1], 1, 1, 1};
    struct exchange ex;
    exchange_init(&ex);
    struct outcome o;
    feed(&ex, STREAM_UPSTREAM, GET, &lat, 0, &o);
    feed(&ex, STREAM_DOWNSTREAM, OK, &lat, 0, &o);
    assert_int_equal(o.max_delay_ns, 300 * NS_PER_MS);
    assert_int_equal(o.forwarded, strlen(OK));
    for (size_t piece = 0; piece <= 2; piece++) {
        exchange_release(&ex);
        exchange_init(&ex);
        feed(&ex, STREAM_UPSTREAM, GET, &cut, 0, &o);
        const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789";
        feed(&ex, STREAM_DOWNSTREAM, resp, &cut, piece, &o);
        assert_int_equal(o.forwarded, strlen(resp) - 5); /* the head and half of the body */
        assert_true(o.close_after);
        assert_memory_equal(o.fwd + o.forwarded - 5, "01234", 5);
    }
    exchange_release(&ex);
}

/* A full pipeline takes no more request bytes until a response completes; owed answers still leave. */
static void test_full_pipeline_waits(void **state)
{
    (void)state;
    struct toxic t = make(TOXIC_HTTP_STATUS, 0.5, 503);
    struct exchange_dice d = {&t, 1, 1, 1};
    struct exchange ex;
    exchange_init(&ex);
    struct outcome o;
    for (int i = 0; i < EXCHANGE_MAX_PIPELINE; i++)
        feed(&ex, STREAM_UPSTREAM, GET, &d, 0, &o);
    struct exchange_step st;
    exchange_step(&ex, STREAM_UPSTREAM, GET, strlen(GET), &d, &st);
    assert_int_equal(st.len, 0); /* full: nothing consumed */
    assert_false(ex.opaque);     /* and still framing, so the owed 503s are not lost */
    char buf[EXCHANGE_SYNTH_MAX];
    bool close;
    size_t answered = 0, forwarded = 0;
    while (ex.len > 0) { /* the server answers what was forwarded, the proxy the rest, in order */
        if (exchange_next_synth(&ex, buf, &close) > 0) {
            answered++;
            continue;
        }
        feed(&ex, STREAM_DOWNSTREAM, OK, &d, 0, &o);
        assert_int_equal(o.forwarded, strlen(OK));
        forwarded++;
    }
    assert_int_equal(answered + forwarded, EXCHANGE_MAX_PIPELINE);
    assert_true(answered > EXCHANGE_MAX_PIPELINE / 3 && forwarded > EXCHANGE_MAX_PIPELINE / 3);
    exchange_step(&ex, STREAM_UPSTREAM, GET, strlen(GET), &d, &st);
    assert_int_equal(st.len, strlen(GET)); /* room again */
    exchange_release(&ex);
}

static void test_opaque(void **state)
{
    (void)state;
    struct toxic t = make(TOXIC_HTTP_STATUS, 1, 503);
    struct exchange_dice d = {&t, 1, 1, 1};
    struct exchange ex;
    exchange_init(&ex);
    struct outcome o;
    feed(&ex, STREAM_UPSTREAM, "\x16\x03\x01 not http at all\r\n\r\n", &d, 0, &o);
    assert_true(ex.opaque);
    assert_int_equal(o.dropped, 0);
    feed(&ex, STREAM_UPSTREAM, GET, &d, 0, &o); /* once opaque, always opaque */
    assert_int_equal(o.forwarded, strlen(GET));
    exchange_release(&ex);
    /* A response nobody asked for turns the exchange opaque too. */
    exchange_init(&ex);
    feed(&ex, STREAM_DOWNSTREAM, OK, &d, 0, &o);
    assert_true(ex.opaque);
    exchange_release(&ex);
}

/* Toxicity is the share of requests, on one keep-alive connection. */
static void test_share_of_requests(void **state)
{
    (void)state;
    struct toxic t = make(TOXIC_HTTP_STATUS, 0.2, 503);
    struct exchange_dice d = {&t, 1, 12345, 7};
    struct exchange ex;
    exchange_init(&ex);
    struct outcome o;
    char buf[EXCHANGE_SYNTH_MAX];
    bool close;
    int synth = 0, n = 5000;
    for (int i = 0; i < n; i++) {
        feed(&ex, STREAM_UPSTREAM, GET, &d, 0, &o);
        if (o.forwarded)
            feed(&ex, STREAM_DOWNSTREAM, OK, &d, 0, &o);
        else
            synth += exchange_next_synth(&ex, buf, &close) > 0;
    }
    assert_int_equal(ex.len, 0);
    double share = (double)synth / n;
    if (fabs(share - 0.2) > 0.02) fail_msg("share %.3f, want 0.2", share);
    exchange_release(&ex);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_answers_without_upstream),
        cmocka_unit_test(test_synth_keeps_response_order),
        cmocka_unit_test(test_synth_waits_for_body),
        cmocka_unit_test(test_head_pipelined),
        cmocka_unit_test(test_cut_and_latency),
        cmocka_unit_test(test_full_pipeline_waits),
        cmocka_unit_test(test_opaque),
        cmocka_unit_test(test_share_of_requests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

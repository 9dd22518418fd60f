/*
 * test_chaos_frame.c — the streaming HTTP framer of the chaos proxy and its
 * byte queue. Every stream is fed whole, split at every byte into two
 * pieces, and one byte at a time; the message boundaries must not move.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chaos/http_frame.h"
#include "chaos/queue.h"

#define MAX_MSGS 8

/* A stream and where its messages end. */
struct frame_case {
    const char *name;
    bool response;
    const char *bytes;
    int nmsgs;
    size_t ends[MAX_MSGS];       /* offset just past each message */
    bool head_request[MAX_MSGS]; /* responses: the request was HEAD */
    bool eof_completes;          /* the last message ends at EOF */
};

#define REQ(n, b, k, ...)                                                                                              \
    {                                                                                                                  \
        .name = n, .response = false, .bytes = b, .nmsgs = k, .ends = { __VA_ARGS__ }                                  \
    }
#define RESP(n, b, k, ...)                                                                                             \
    {                                                                                                                  \
        .name = n, .response = true, .bytes = b, .nmsgs = k, .ends = { __VA_ARGS__ }                                   \
    }

static const struct frame_case cases[] = {
    REQ("get", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 1, 27),
    REQ("two pipelined", "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n", 2, 19, 38),
    REQ("post with body", "POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\n\r\n", 2, 44, 62),
    REQ("chunked request",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-T: 1\r\n\r\n"
        "GET / HTTP/1.1\r\n\r\n",
        2, 76, 94),
    REQ("bare lf", "GET / HTTP/1.1\nContent-Length: 2\n\nokGET / HTTP/1.0\n\n", 2, 36, 52),
    RESP("response cl", "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nhello\nHTTP/1.1 204 No Content\r\n\r\n", 2, 44,
         71),
    RESP("response chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 1, 60),
    {.name = "head response",
     .response = true,
     .bytes = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx",
     .nmsgs = 2,
     .ends = {40, 79},
     .head_request = {true, false}},
    RESP("interim 100", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 1, 65),
    RESP("304", "HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n", 1, 49),
    {.name = "close delimited",
     .response = true,
     .bytes = "HTTP/1.0 200 OK\r\n\r\nall the rest",
     .nmsgs = 1,
     .ends = {31},
     .eof_completes = true},
};

/* Feeds c->bytes in pieces of at most `piece` bytes (split at `cut` first when cut > 0). */
static void run_case(const struct frame_case *c, size_t cut, size_t piece)
{
    struct http_frame f;
    http_frame_init(&f, c->response);
    size_t len = strlen(c->bytes), off = 0;
    int done = 0;
    while (off < len) {
        size_t n = len - off;
        if (cut > off && n > cut - off) n = cut - off;
        if (piece && n > piece) n = piece;
        size_t end = off + n;
        while (off < end) {
            if (http_frame_idle(&f) && c->response) http_frame_expect(&f, c->head_request[done]);
            ssize_t k = http_frame_feed(&f, c->bytes + off, end - off);
            if (k <= 0)
                fail_msg("%s (cut %zu piece %zu): feed returned %zd at %zu (%s)", c->name, cut, piece, k, off,
                         f.error ? f.error : "");
            off += (size_t)k;
            if (f.events & HTTP_FRAME_DONE) {
                if (done >= c->nmsgs || c->ends[done] != off)
                    fail_msg("%s (cut %zu piece %zu): message %d ended at %zu", c->name, cut, piece, done, off);
                done++;
            }
        }
    }
    if (c->eof_completes) {
        assert_int_equal(http_frame_eof(&f), 1);
        done++;
    } else {
        assert_int_equal(http_frame_eof(&f), 0);
    }
    if (done != c->nmsgs) fail_msg("%s (cut %zu piece %zu): %d messages, want %d", c->name, cut, piece, done, c->nmsgs);
}

static void test_frame_boundaries(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = strlen(cases[i].bytes);
        run_case(&cases[i], 0, 0);
        run_case(&cases[i], 0, 1);
        for (size_t cut = 1; cut < len; cut++)
            run_case(&cases[i], cut, 0);
    }
}

static void test_frame_results(void **state)
{
    (void)state;
    struct http_frame f;
    http_frame_init(&f, false);
    const char *req = "HEAD /x HTTP/1.1\r\nConnection: close\r\n\r\n";
    assert_int_equal(http_frame_feed(&f, req, strlen(req)), (ssize_t)strlen(req));
    assert_true(f.events & HTTP_FRAME_HEAD);
    assert_true(f.events & HTTP_FRAME_DONE);
    assert_true(f.method_head);
    assert_false(f.keep_alive);
    const char *req10 = "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n";
    http_frame_feed(&f, req10, strlen(req10));
    assert_true(f.keep_alive);
    const char *up = "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
    http_frame_feed(&f, up, strlen(up));
    assert_true(f.upgrade);

    http_frame_init(&f, true);
    const char *resp = "HTTP/1.1 503 Busy\r\nContent-Length: 10\r\n\r\n";
    assert_int_equal(http_frame_feed(&f, resp, strlen(resp)), (ssize_t)strlen(resp));
    assert_int_equal(f.events, HTTP_FRAME_HEAD);
    assert_int_equal(f.status, 503);
    assert_int_equal(f.content_length, 10);
    assert_int_equal(http_frame_eof(&f), -1); /* cut inside the body */
}

static void test_frame_errors(void **state)
{
    (void)state;
    static const char *const bad_requests[] = {
        "\x16\x03\x01\x02\x01\x01\xfc\x03\x03\n", /* a TLS ClientHello is not HTTP */
        "GET / SPDY/3\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "GET / HTTP/1.1\r\nno colon here\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad_requests / sizeof bad_requests[0]; i++) {
        struct http_frame f;
        http_frame_init(&f, false);
        const char *p = bad_requests[i];
        size_t left = strlen(p);
        ssize_t n = 0;
        while (left > 0 && (n = http_frame_feed(&f, p, left)) > 0)
            p += n, left -= (size_t)n;
        if (n != -1) fail_msg("request %zu accepted", i);
        assert_non_null(f.error);
        assert_int_equal(http_frame_feed(&f, "x", 1), -1);
    }
    struct http_frame f;
    http_frame_init(&f, true);
    assert_int_equal(http_frame_feed(&f, "SSH-2.0-OpenSSH\r\n", 17), -1);
    /* A head larger than the limit is an error, not an endless buffer. */
    http_frame_init(&f, false);
    char *big = malloc(HTTP_FRAME_MAX_HEAD + 100);
    memset(big, 'a', HTTP_FRAME_MAX_HEAD + 100);
    memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
    assert_int_equal(http_frame_feed(&f, big, HTTP_FRAME_MAX_HEAD + 100), -1);
    free(big);
}

static void test_queue(void **state)
{
    (void)state;
    struct chaos_queue q;
    chaos_queue_init(&q);
    char big[40000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)(i * 7);
    chaos_queue_push(&q, "abc", 3, 10);
    chaos_queue_push(&q, "def", 3, 10); /* same release: shares the segment */
    chaos_queue_push(&q, big, sizeof big, 20);
    assert_int_equal(q.bytes, 6 + sizeof big);
    assert_int_equal(chaos_queue_last_release(&q), 20);
    const char *p;
    uint64_t rel;
    assert_int_equal(chaos_queue_peek(&q, &p, &rel), 6);
    assert_int_equal(rel, 10);
    assert_memory_equal(p, "abcdef", 6);
    chaos_queue_consume(&q, 4);
    assert_int_equal(chaos_queue_peek(&q, &p, &rel), 2);
    chaos_queue_consume(&q, 2);
    size_t got = 0;
    while (q.bytes > 0) {
        size_t n = chaos_queue_peek(&q, &p, &rel);
        assert_int_equal(rel, 20);
        size_t take = n > 1000 ? 1000 : n;
        assert_memory_equal(p, big + got, take);
        got += take;
        chaos_queue_consume(&q, take);
    }
    assert_int_equal(got, sizeof big);
    assert_int_equal(chaos_queue_peek(&q, &p, &rel), 0);
    chaos_queue_push(&q, "x", 1, 1);
    chaos_queue_release(&q); /* frees what is left */
    assert_int_equal(q.bytes, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame_boundaries),
        cmocka_unit_test(test_frame_results),
        cmocka_unit_test(test_frame_errors),
        cmocka_unit_test(test_queue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_client.c — the internal HTTP client against a canned server on a
 * loopback socket (a thread that sends one scripted answer per connection):
 * length, chunked and close-delimited bodies, an interim 1xx, the request
 * it sends, a body over the limit, a server that never answers (the
 * deadline holds), a refused connection; and the chunked decoder on tables.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "http/client.h"

/* One canned exchange: what the server answers, what it saw. */
struct canned {
    int lfd;
    const char *answer; /* NULL: read the request and never answer */
    char seen[4096];    /* the request bytes it read */
    uint64_t hold_ns;   /* with answer NULL: how long to hold the connection */
};

static void *serve_one(void *arg)
{
    struct canned *c = arg;
    int fd = accept(c->lfd, NULL, NULL);
    if (fd < 0) return NULL;
    size_t n = 0;
    /* The request: up to its empty line, then any body that arrived with it. */
    while (n < sizeof c->seen - 1) {
        ssize_t r = recv(fd, c->seen + n, sizeof c->seen - 1 - n, 0);
        if (r <= 0) break;
        n += (size_t)r;
        c->seen[n] = '\0';
        char *end = strstr(c->seen, "\r\n\r\n");
        if (end) {
            const char *cl = strstr(c->seen, "Content-Length: ");
            size_t want = cl ? (size_t)atoi(cl + 16) : 0;
            if (n >= (size_t)(end + 4 - c->seen) + want) break;
        }
    }
    if (c->answer)
        send(fd, c->answer, strlen(c->answer), MSG_NOSIGNAL);
    else
        usleep((useconds_t)(c->hold_ns / 1000));
    close(fd);
    return NULL;
}

/* Starts the canned server; fills u with its URL and path. */
static pthread_t start(struct canned *c, struct url *u, const char *path)
{
    c->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(c->lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(c->lfd, 4), 0);
    socklen_t l = sizeof a;
    getsockname(c->lfd, (struct sockaddr *)&a, &l);
    char text[128];
    snprintf(text, sizeof text, "http://127.0.0.1:%u%s", ntohs(a.sin_port), path);
    const char *why;
    assert_int_equal(url_parse(u, text, &why), 0);
    assert_int_equal(url_resolve(u, &why), 0);
    pthread_t t;
    pthread_create(&t, NULL, serve_one, c);
    return t;
}

/* One GET of answer with a 2 s deadline; returns the client's result. */
static int fetch(const char *answer, size_t max_body, struct http_client_resp *resp, struct canned *c)
{
    struct url u;
    memset(c, 0, sizeof *c);
    c->answer = answer;
    pthread_t t = start(c, &u, "/metrics?x=1");
    char err[256];
    struct http_client_req req = {.method = "GET",
                                  .url = &u,
                                  .headers = "Accept: text/plain;version=0.0.4\r\n",
                                  .deadline_ns = clock_now_ns() + 2000000000ull,
                                  .max_body = max_body};
    int rc = http_client_do(&req, resp, err, sizeof err);
    pthread_join(t, NULL);
    close(c->lfd);
    return rc;
}

static void test_length_body_and_request(void **state)
{
    (void)state;
    struct canned c;
    struct http_client_resp r;
    int rc = fetch("HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
                   "Content-Length: 5\r\n\r\nhello",
                   1024, &r, &c);
    assert_int_equal(rc, 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "hello");
    assert_int_equal(r.body_len, 5);
    assert_string_equal(r.content_type, "text/plain; version=0.0.4");
    assert_non_null(strstr(c.seen, "GET /metrics?x=1 HTTP/1.1\r\n"));
    assert_non_null(strstr(c.seen, "\r\nHost: 127.0.0.1:"));
    assert_non_null(strstr(c.seen, "\r\nConnection: close\r\n"));
    assert_non_null(strstr(c.seen, "\r\nAccept: text/plain;version=0.0.4\r\n\r\n"));
    assert_null(strstr(c.seen, "Content-Length"));
    http_client_resp_free(&r);
}

static void test_chunked_interim_and_close_delimited(void **state)
{
    (void)state;
    struct canned c;
    struct http_client_resp r;
    assert_int_equal(fetch("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"
                           "Transfer-Encoding: chunked\r\n\r\n"
                           "3;ext=1\r\nabc\r\n1\r\nd\r\n0\r\nX-T: 1\r\n\r\n",
                           1024, &r, &c),
                     0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "abcd");
    http_client_resp_free(&r);

    assert_int_equal(fetch("HTTP/1.0 503 Busy\r\n\r\nuntil close", 1024, &r, &c), 0);
    assert_int_equal(r.status, 503);
    assert_string_equal(r.body, "until close");
    http_client_resp_free(&r);
}

static void test_limits_and_failures(void **state)
{
    (void)state;
    struct canned c;
    struct http_client_resp r;
    assert_int_equal(fetch("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", 10, &r, &c), -EFBIG);
    assert_null(r.body);
    assert_int_equal(fetch("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                           "20\r\n01234567890123456789012345678901\r\n0\r\n\r\n",
                           10, &r, &c),
                     -EFBIG);
    assert_int_equal(fetch("NOT HTTP\r\n\r\n", 10, &r, &c), -EPROTO);
    assert_int_equal(fetch("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort", 100, &r, &c), -EPROTO);

    /* A server that holds the connection silent: the deadline ends it. */
    struct url u;
    memset(&c, 0, sizeof c);
    c.hold_ns = 1500000000ull;
    pthread_t t = start(&c, &u, "/");
    char err[256];
    const char *body = "payload";
    struct http_client_req req = {.method = "POST",
                                  .url = &u,
                                  .body = body,
                                  .body_len = 7,
                                  .deadline_ns = clock_now_ns() + 300000000ull,
                                  .max_body = 100};
    uint64_t t0 = clock_now_ns();
    assert_int_equal(http_client_do(&req, &r, err, sizeof err), -ETIMEDOUT);
    uint64_t took = clock_now_ns() - t0;
    assert_true(took >= 290000000ull && took < 1200000000ull);
    assert_non_null(strstr(err, "timed out"));
    pthread_join(t, NULL);
    assert_non_null(strstr(c.seen, "POST / HTTP/1.1\r\n"));
    assert_non_null(strstr(c.seen, "Content-Length: 7\r\n\r\npayload"));

    /* Nobody listening: refused, named. */
    req.url = &u;
    req.deadline_ns = clock_now_ns() + 1000000000ull;
    close(c.lfd);
    int rc = http_client_do(&req, &r, err, sizeof err);
    assert_int_equal(rc, -ECONNREFUSED);
    assert_non_null(strstr(err, "connect to 127.0.0.1:"));
}

static void test_dechunk_table(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        long want;
        const char *out;
    } cases[] = {
        {"0\r\n\r\n", 0, ""},
        {"5\r\nhello\r\n0\r\n\r\n", 5, "hello"},
        {"A\nabcdefghij\n0\n\n", 10, "abcdefghij"},
        {"2;a=b\r\nhi\r\n2\r\n!!\r\n0\r\nT: v\r\n\r\n", 4, "hi!!"},
        {"", -1, NULL},
        {"x\r\n", -1, NULL},
        {"5\r\nhi\r\n", -1, NULL},
        {"2\r\nhiX0\r\n\r\n", -1, NULL},
        {"2\r\nhi\r\n", -1, NULL},
        {"ffffffffffffffffff\r\n", -1, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[128];
        size_t n = strlen(cases[i].in);
        memcpy(buf, cases[i].in, n);
        long got = http_client_dechunk(buf, n);
        assert_int_equal(got, cases[i].want);
        if (got >= 0) assert_memory_equal(buf, cases[i].out, (size_t)got);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_length_body_and_request),
        cmocka_unit_test(test_chunked_interim_and_close_delimited),
        cmocka_unit_test(test_limits_and_failures),
        cmocka_unit_test(test_dechunk_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

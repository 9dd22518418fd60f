/*
 * test_target_http.c — the request-head parser of `salvo target`
 * (src/target/http_req.c).
 *
 * Every input is parsed whole and at every prefix, each time copied to the
 * very end of a mapping whose next page is PROT_NONE, so a read past the
 * end crashes with or without ASan. A valid head must be "incomplete" at
 * every shorter prefix and never "malformed"; a malformed one must turn
 * "malformed" at some prefix and stay so. Random garbage and random
 * mutations of valid heads must never crash and never claim more bytes
 * than were given.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "target/http_req.h"
#include "target/rng.h"

#define GUARD_CAP (16 * 1024)

static char *guarded; /* GUARD_CAP readable bytes, then a PROT_NONE page */

static int setup(void **state)
{
    (void)state;
    long page = sysconf(_SC_PAGESIZE);
    char *m = mmap(NULL, GUARD_CAP + (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(m != MAP_FAILED);
    assert_int_equal(mprotect(m + GUARD_CAP, (size_t)page, PROT_NONE), 0);
    guarded = m;
    return 0;
}

/* Parses buf[0..len) placed right before the guard page. */
static int parse_guarded(struct http_req *req, const char *buf, size_t len)
{
    assert_true(len <= GUARD_CAP);
    char *at = guarded + GUARD_CAP - len;
    memcpy(at, buf, len);
    return http_req_parse(req, at, len);
}

/* One valid case and what must be extracted. */
struct valid_case {
    const char *text;
    const char *method, *target;
    int minor;
    int64_t content_length;
    bool keep_alive, transfer_encoding;
    size_t trailing; /* bytes after the head (body or pipelined) */
};

static const struct valid_case valid[] = {
    {"GET / HTTP/1.1\r\n\r\n", "GET", "/", 1, -1, true, false, 0},
    {"GET /health HTTP/1.1\r\nHost: x\r\n\r\n", "GET", "/health", 1, -1, true, false, 0},
    {"GET /a?b=c&d=%2C HTTP/1.0\r\n\r\n", "GET", "/a?b=c&d=%2C", 0, -1, false, false, 0},
    {"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", "GET", "/", 0, -1, true, false, 0},
    {"GET / HTTP/1.1\r\nconnection: foo, close\r\n\r\n", "GET", "/", 1, -1, false, false, 0},
    {"POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", "POST", "/x", 1, 5, true, false, 5},
    {"POST /x HTTP/1.1\r\nContent-Length: 3\r\ncontent-length:3\r\n\r\nabc", "POST", "/x", 1, 3, true, false, 3},
    {"PUT /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", "PUT", "/x", 1, -1, true, true, 0},
    {"\r\n\r\nGET / HTTP/1.1\r\n\r\n", "GET", "/", 1, -1, true, false, 0},
    {"GET / HTTP/1.1\nHost: bare-lf\n\n", "GET", "/", 1, -1, true, false, 0},
    {"GET / HTTP/1.1\r\nX-Empty:\r\nX-Tabs:\t v \t\r\nX-Utf8: \xc3\xa9\r\n\r\n", "GET", "/", 1, -1, true, false, 0},
    {"GET / HTTP/1.1\r\n\r\nGET /next HTTP/1.1\r\n\r\n", "GET", "/", 1, -1, true, false, 22},
    {"M-SEARCH * HTTP/1.1\r\n\r\n", "M-SEARCH", "*", 1, -1, true, false, 0},
};

/* A malformed case; the length is explicit because one embeds a NUL. */
struct bad_case {
    const char *text;
    size_t len;
};

#define BAD(s)                                                                                                         \
    {                                                                                                                  \
        s, sizeof(s) - 1                                                                                               \
    }

static const struct bad_case malformed[] = {
    BAD("GET  / HTTP/1.1\r\n\r\n"),             /* two spaces */
    BAD(" GET / HTTP/1.1\r\n\r\n"),             /* leading space */
    BAD("GET / HTTP/2.0\r\n\r\n"),              /* not HTTP/1.x */
    BAD("GET / HTTP/1.2\r\n\r\n"),              /* unknown minor */
    BAD("GET / http/1.1\r\n\r\n"),              /* lower-case version */
    BAD("GET /\x01 HTTP/1.1\r\n\r\n"),          /* control in the target */
    BAD("GET / HTTP/1.1 \r\n\r\n"),             /* space after version */
    BAD("GET / HTTP/1.1\r\rX\r\n\r\n"),         /* CR without LF */
    BAD("GET / HTTP/1.1\r\nHost : x\r\n\r\n"),  /* space before colon */
    BAD("GET / HTTP/1.1\r\nHost\r\n\r\n"),      /* no colon */
    BAD("GET / HTTP/1.1\r\n folded\r\n\r\n"),   /* obs-fold */
    BAD("GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n"),  /* DEL in a value */
    BAD("GET / HTTP/1.1\r\nX: a\x00z\r\n\r\n"), /* NUL in a value */
    BAD("GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"),
    BAD("GET / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n"),
    BAD("GET / HTTP/1.1\r\nContent-Length:\r\n\r\n"),
    BAD("GET / HTTP/1.1\r\nContent-Length: 1234567890123456\r\n\r\n"),
    BAD("GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
    BAD("GET / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"),
    BAD("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), /* a TLS ClientHello */
    BAD("GET\r\n\r\n"),
};

static void test_valid_heads(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
        const struct valid_case *v = &valid[i];
        size_t len = strlen(v->text), head = len - v->trailing;
        struct http_req req;
        assert_int_equal(parse_guarded(&req, v->text, len), (int)head);
        assert_int_equal(req.method_len, strlen(v->method));
        assert_memory_equal(req.method, v->method, req.method_len);
        assert_int_equal(req.target_len, strlen(v->target));
        assert_memory_equal(req.target, v->target, req.target_len);
        assert_int_equal(req.minor_version, v->minor);
        assert_int_equal(req.content_length, v->content_length);
        assert_int_equal(req.transfer_encoding, v->transfer_encoding);
        assert_int_equal(http_req_keep_alive(&req), v->keep_alive);
        for (size_t cut = 0; cut < head; cut++)
            assert_int_equal(parse_guarded(&req, v->text, cut), HTTP_REQ_INCOMPLETE);
        for (size_t cut = head; cut <= len; cut++)
            assert_int_equal(parse_guarded(&req, v->text, cut), (int)head);
    }
}

static void test_malformed_heads(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
        size_t len = malformed[i].len;
        struct http_req req;
        bool seen_malformed = false;
        for (size_t cut = 0; cut <= len; cut++) {
            int rc = parse_guarded(&req, malformed[i].text, cut);
            if (seen_malformed)
                assert_int_equal(rc, HTTP_REQ_MALFORMED);
            else
                assert_true(rc == HTTP_REQ_INCOMPLETE || rc == HTTP_REQ_MALFORMED);
            seen_malformed = rc == HTTP_REQ_MALFORMED;
        }
        if (!seen_malformed) print_error("case %zu was not refused\n", i);
        assert_true(seen_malformed);
    }
}

static void test_random_input_is_safe(void **state)
{
    (void)state;
    struct rng rng;
    char buf[512];
    rng_init(&rng, 99);
    static const char alphabet[] = "GET /HTP1.0\r\n:; \tContent-Length0123456789,closeTransfer-Encoding\x01\x7f\xff";
    for (int round = 0; round < 50000; round++) {
        size_t len = rng_next(&rng) % sizeof(buf);
        if (round % 2) {
            for (size_t i = 0; i < len; i++)
                buf[i] = alphabet[rng_next(&rng) % (sizeof(alphabet) - 1)];
        } else {
            /* A valid head with a few bytes flipped. */
            const char *base = valid[rng_next(&rng) % (sizeof(valid) / sizeof(valid[0]))].text;
            len = strlen(base);
            memcpy(buf, base, len);
            for (int k = 0; k < 3; k++)
                buf[rng_next(&rng) % len] = (char)rng_next(&rng);
        }
        struct http_req req;
        int rc = parse_guarded(&req, buf, len);
        assert_true(rc == HTTP_REQ_INCOMPLETE || rc == HTTP_REQ_MALFORMED || (rc > 0 && (size_t)rc <= len));
    }
}

/* Authorization is extracted with blanks trimmed; the last one wins, and the headers are counted; absent is NULL. */
static void test_authorization(void **state)
{
    (void)state;
    static const struct {
        const char *text, *want;
        unsigned count;
    } cases[] = {
        {"GET / HTTP/1.1\r\n\r\n", NULL, 0},
        {"GET / HTTP/1.1\r\nAuthorization: Bearer a.0123\r\n\r\n", "Bearer a.0123", 1},
        {"GET / HTTP/1.1\r\nauthorization:\t Bearer x \t\r\nHost: h\r\n\r\n", "Bearer x", 1},
        {"GET / HTTP/1.1\r\nAuthorization: one\r\nAUTHORIZATION: two\r\n\r\n", "two", 2},
        {"GET / HTTP/1.1\r\nAuthorization:\r\n\r\n", "", 1},
        {"GET / HTTP/1.1\r\nAuthorization: a\r\nX: y\r\nAuthorization:\r\nAuthorization: c\r\n\r\n", "c", 3},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct http_req req;
        size_t len = strlen(cases[i].text);
        assert_int_equal(parse_guarded(&req, cases[i].text, len), (int)len);
        assert_int_equal(req.authorization_count, cases[i].count);
        if (!cases[i].want) {
            assert_null(req.authorization);
            continue;
        }
        assert_non_null(req.authorization);
        assert_int_equal(req.authorization_len, strlen(cases[i].want));
        assert_memory_equal(req.authorization, cases[i].want, req.authorization_len);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_heads),
        cmocka_unit_test(test_malformed_heads),
        cmocka_unit_test(test_random_input_is_safe),
        cmocka_unit_test(test_authorization),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}

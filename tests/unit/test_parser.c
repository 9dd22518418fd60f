/*
 * test_parser.c — tests of src/http/parser.c, the HTTP/1.1 response parser.
 *
 * Every input goes through a simulated connection (simulate) that behaves
 * like the engine: it keeps the bytes the parser did not consume, appends
 * newly "read" bytes, starts a fresh response after each done one, and
 * reports the server's close with http_resp_eof at the end. Before every
 * call the unconsumed bytes are copied to the very end of a mapping whose
 * next page is PROT_NONE, so a read past the end crashes, with or without
 * ASan. Each input is run whole, split at every byte boundary, in fixed
 * strides (byte by byte first) and in random pieces, and every run must give
 * the same outcome as the whole-buffer run, which is itself checked against
 * the table. A generator of random pipelined responses serves as the
 * reference model for a differential test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "http/parser.h"

#define MAX_RESP 64           /* responses one simulated connection may carry */
#define GUARD_CAP (64 * 1024) /* largest input the harness takes */

/* The guarded mapping and the simulated connection's buffer. */
struct harness {
    char *guarded; /* GUARD_CAP readable bytes, then a PROT_NONE page */
    char *pending; /* bytes read but not consumed, oldest first */
    size_t pending_len;
};

/* What the parser said about one response. */
struct got {
    int status, minor_version;
    int64_t content_length;
    bool chunked, close;
    size_t head_len;
    uint64_t body_bytes;
    size_t consumed; /* bytes consumed for it, interim heads included */
};

/* Everything one simulated connection produced. */
struct outcome {
    int count;
    struct got resp[MAX_RESP];
    const char *error; /* NULL when every response parsed */
    size_t leftover;   /* bytes never consumed */
};

/* How the input is cut into reads. */
enum split_kind { SPLIT_AT, SPLIT_STRIDE, SPLIT_RANDOM };
struct splitter {
    enum split_kind kind;
    size_t arg; /* SPLIT_AT: end of the first read; else the (largest) read size */
    uint64_t rng;
};

/* xorshift64: reproducible randomness for splits and generated responses. */
static uint64_t next_random(uint64_t *rng)
{
    *rng ^= *rng << 13;
    *rng ^= *rng >> 7;
    *rng ^= *rng << 17;
    return *rng;
}

/* The size of the next read, at most rem. */
static size_t next_piece(struct splitter *sp, size_t off, size_t rem)
{
    size_t n;
    if (sp->kind == SPLIT_AT)
        n = off < sp->arg ? sp->arg - off : rem;
    else if (sp->kind == SPLIT_STRIDE)
        n = sp->arg;
    else
        n = 1 + next_random(&sp->rng) % sp->arg;
    return n < rem ? n : rem;
}

/* Maps the guarded region once for all tests. */
static int harness_setup(void **state)
{
    static struct harness h;
    long page = sysconf(_SC_PAGESIZE);
    char *map = mmap(NULL, GUARD_CAP + (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED || mprotect(map + GUARD_CAP, (size_t)page, PROT_NONE) != 0) return -1;
    h.guarded = map;
    h.pending = malloc(GUARD_CAP);
    *state = &h;
    return h.pending ? 0 : -1;
}

/* Feeds the pending bytes, placed right before the guard page. */
static ssize_t feed_guarded(struct harness *h, struct http_resp *r)
{
    char *at = h->guarded + GUARD_CAP - h->pending_len;
    memcpy(at, h->pending, h->pending_len);
    ssize_t n = http_resp_feed(r, at, h->pending_len);
    if (n < 0) {
        assert_non_null(r->error);
        assert_int_equal(http_resp_feed(r, at, h->pending_len), -1); /* sticky */
        assert_int_equal(http_resp_eof(r), -1);
    } else {
        assert_true((size_t)n <= h->pending_len);
        assert_null(r->error);
    }
    return n;
}

/* Appends what the parser said about a done response to the outcome. */
static void record(struct outcome *out, const struct http_resp *r, size_t consumed)
{
    assert_true(r->head_done && r->done);
    out->resp[out->count++] = (struct got){
        .status = r->status,
        .minor_version = r->minor_version,
        .content_length = r->content_length,
        .chunked = r->chunked,
        .close = r->close,
        .head_len = r->head_len,
        .body_bytes = r->body_bytes,
        .consumed = consumed,
    };
}

/*
 * Runs one connection carrying in[0..len) read in the pieces sp gives, for
 * up to `want` responses; head_req[i] says whether request i was HEAD.
 */
static void simulate(struct harness *h, const char *in, size_t len, const bool *head_req, int want, struct splitter *sp,
                     struct outcome *out)
{
    struct http_resp r;
    size_t off = 0, consumed = 0;
    bool started = false;
    memset(out, 0, sizeof(*out));
    h->pending_len = 0;
    http_resp_init(&r, head_req[0]);
    for (;;) {
        ssize_t n = feed_guarded(h, &r);
        if (n < 0) {
            out->error = r.error;
            break;
        }
        memmove(h->pending, h->pending + n, h->pending_len - (size_t)n);
        h->pending_len -= (size_t)n;
        consumed += (size_t)n;
        if (r.done) {
            assert_int_equal(feed_guarded(h, &r), 0); /* a done response takes no more */
            record(out, &r, consumed);
            if (out->count == want) break;
            consumed = 0;
            started = h->pending_len > 0;
            http_resp_init(&r, head_req[out->count]);
            continue;
        }
        if (off == len) { /* the server closes; a response not yet begun is no loss */
            if (started || out->count == 0) {
                if (http_resp_eof(&r) < 0)
                    out->error = r.error;
                else
                    record(out, &r, consumed);
            }
            break;
        }
        size_t piece = next_piece(sp, off, len - off);
        memcpy(h->pending + h->pending_len, in + off, piece);
        h->pending_len += piece;
        off += piece;
        started = true;
    }
    out->leftover = h->pending_len + (len - off);
}

/* Whether two runs described the connection identically. */
static bool same_outcome(const struct outcome *a, const struct outcome *b)
{
    /* What was consumed before an error depends on the reads, so leftover is
     * compared only for connections that parsed cleanly. */
    if (a->count != b->count || (!a->error && a->leftover != b->leftover)) return false;
    if ((a->error == NULL) != (b->error == NULL) || (a->error && strcmp(a->error, b->error))) return false;
    for (int i = 0; i < a->count; i++) {
        const struct got *x = &a->resp[i], *y = &b->resp[i];
        if (x->status != y->status || x->minor_version != y->minor_version || x->content_length != y->content_length ||
            x->chunked != y->chunked || x->close != y->close || x->head_len != y->head_len ||
            x->body_bytes != y->body_bytes || x->consumed != y->consumed)
            return false;
    }
    return true;
}

/* Runs one split and checks it against the whole-buffer outcome. */
static void check_split(struct harness *h, const char *name, const char *in, size_t len, const bool *head_req, int want,
                        struct splitter sp, const struct outcome *ref)
{
    struct outcome out;
    simulate(h, in, len, head_req, want, &sp, &out);
    if (!same_outcome(ref, &out)) {
        print_error("%s: split kind %d arg %zu differs from the whole-buffer run "
                    "(%d vs %d responses, error %s vs %s)\n",
                    name, (int)sp.kind, sp.arg, out.count, ref->count, out.error ? out.error : "none",
                    ref->error ? ref->error : "none");
        fail();
    }
}

/*
 * Parses in[0..len) whole into *ref, then in every other way of splitting
 * it, each of which must agree with *ref.
 */
static void run_all_splits(struct harness *h, const char *name, const char *in, size_t len, const bool *head_req,
                           int want, struct outcome *ref)
{
    struct splitter whole = {SPLIT_AT, len, 0};
    simulate(h, in, len, head_req, want, &whole, ref);
    for (size_t stride = 1; stride <= 9; stride++)
        check_split(h, name, in, len, head_req, want, (struct splitter){SPLIT_STRIDE, stride, 0}, ref);
    size_t step = len > 4096 ? 53 : 1; /* huge inputs: a sample of the cut points */
    for (size_t at = 1; at < len; at += step)
        check_split(h, name, in, len, head_req, want, (struct splitter){SPLIT_AT, at, 0}, ref);
    for (uint64_t seed = 1; seed <= 20; seed++)
        check_split(h, name, in, len, head_req, want,
                    (struct splitter){SPLIT_RANDOM, 1 + seed * 3, seed * 0x9e3779b97f4a7c15u}, ref);
}

/* ---- valid responses ------------------------------------------------------ */

/* One expected response: minor version, status, content_length, chunked, close, head,
 * body bytes, all bytes consumed. */
#define RESP(v, st, cl, ch, cls, head, body, all)                                                                      \
    {                                                                                                                  \
        .status = (st), .minor_version = (v), .content_length = (cl), .chunked = (ch), .close = (cls),                 \
        .head_len = sizeof(head) - 1, .body_bytes = (body), .consumed = sizeof(all) - 1                                \
    }

#define CL5 "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
#define CL0 "HTTP/1.1 200 OK\r\nServer: t\r\nContent-Length: 0\r\n\r\n"
#define CHK "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 100\r\n\r\n"
#define CHK_BODY                                                                                                       \
    "5;name=val\r\nhello\r\n1A ; x=\"y\"\r\nabcdefghijklmnopqrstuvwxyz\r\n"                                            \
    "000\r\nX-Trailer: 1\r\nOther: two\r\n\r\n"
#define HEADR "HTTP/1.1 200 OK\r\nContent-Length: 4611686018427387904\r\n\r\n"
#define NC204 "HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n"
#define NM304 "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n"
#define CONT "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\nX: y\r\n\r\n"
#define OK3 "HTTP/1.1 200 OK\r\ncontent-LENGTH: 3\r\n\r\n"
#define V10 "HTTP/1.0 200 OK\r\nServer: t\r\n\r\n"
#define V11EOF "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"
#define CLOSE "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: Keep-Alive, CLOSE\r\n\r\n"
#define KA10 "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n"
#define LF "HTTP/1.1 200 OK\nTransfer-Encoding: gzip , Chunked\n\n"
#define NOREASON "HTTP/1.1 404\r\nContent-Length: 4, 4\r\ncontent-length: 004\r\n\r\n"
#define EMPTYREASON "HTTP/1.1 999 \r\nX-Folded: a\r\n  b\r\nContent-Length: 1\r\n\r\n"
#define SWITCH "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"

struct valid_case {
    const char *name, *input;
    bool head_request;
    int count; /* responses expected */
    struct got resp[3];
    size_t leftover;
};

static const struct valid_case valid_cases[] = {
    {"content-length", CL5 "hello", false, 1, {RESP(1, 200, 5, 0, 0, CL5, 5, CL5 "hello")}, 0},
    {"zero length", CL0, false, 1, {RESP(1, 200, 0, 0, 0, CL0, 0, CL0)}, 0},
    {"chunked with extensions and trailers",
     CHK CHK_BODY,
     false,
     1,
     {RESP(1, 200, 100, 1, 0, CHK, 31, CHK CHK_BODY)},
     0},
    {"head request", HEADR, true, 1, {RESP(1, 200, (int64_t)1 << 62, 0, 0, HEADR, 0, HEADR)}, 0},
    {"204", NC204, false, 1, {RESP(1, 204, 9, 0, 0, NC204, 0, NC204)}, 0},
    {"304", NM304, false, 1, {RESP(1, 304, -1, 1, 0, NM304, 0, NM304)}, 0},
    {"interim then 200", CONT OK3 "abc", false, 1, {RESP(1, 200, 3, 0, 0, OK3, 3, CONT OK3 "abc")}, 0},
    {"http/1.0 close-delimited", V10 "body to eof", false, 1, {RESP(0, 200, -1, 0, 1, V10, 11, V10 "body to eof")}, 0},
    {"final coding not chunked",
     V11EOF "3\r\nabc\r\n",
     false,
     1,
     {RESP(1, 200, -1, 0, 1, V11EOF, 8, V11EOF "3\r\nabc\r\n")},
     0},
    {"connection close", CLOSE "hi", false, 1, {RESP(1, 200, 2, 0, 1, CLOSE, 2, CLOSE "hi")}, 0},
    {"http/1.0 keep-alive", KA10 "hi", false, 1, {RESP(0, 200, 2, 0, 0, KA10, 2, KA10 "hi")}, 0},
    {"lf-only lines", LF "3\nabc\n0\n\n", false, 1, {RESP(1, 200, -1, 1, 0, LF, 3, LF "3\nabc\n0\n\n")}, 0},
    {"no reason, equal lengths", NOREASON "gone", false, 1, {RESP(1, 404, 4, 0, 0, NOREASON, 4, NOREASON "gone")}, 0},
    {"empty reason, folded header",
     EMPTYREASON "x",
     false,
     1,
     {RESP(1, 999, 1, 0, 0, EMPTYREASON, 1, EMPTYREASON "x")},
     0},
    {"101 leaves the rest", SWITCH "\x81\x05", false, 1, {RESP(1, 101, -1, 0, 1, SWITCH, 0, SWITCH)}, 2},
    {"pipelined",
     CL5 "hello" CHK CHK_BODY,
     false,
     2,
     {RESP(1, 200, 5, 0, 0, CL5, 5, CL5 "hello"), RESP(1, 200, 100, 1, 0, CHK, 31, CHK CHK_BODY)},
     0},
    {"pipelined then eof",
     NC204 CONT OK3 "abc" V10 "x",
     false,
     3,
     {RESP(1, 204, 9, 0, 0, NC204, 0, NC204), RESP(1, 200, 3, 0, 0, OK3, 3, CONT OK3 "abc"),
      RESP(0, 200, -1, 0, 1, V10, 1, V10 "x")},
     0},
};

/* Every valid case, however it is split, parses to its table row. */
static void test_valid_responses(void **state)
{
    struct harness *h = *state;
    static struct outcome ref;
    for (size_t i = 0; i < sizeof(valid_cases) / sizeof(valid_cases[0]); i++) {
        const struct valid_case *c = &valid_cases[i];
        bool head_req[MAX_RESP] = {c->head_request, c->head_request, c->head_request};
        struct outcome want = {.count = c->count, .leftover = c->leftover};
        memcpy(want.resp, c->resp, sizeof(c->resp));
        run_all_splits(h, c->name, c->input, strlen(c->input), head_req, c->count, &ref);
        if (!same_outcome(&want, &ref)) {
            print_error("%s: unexpected outcome (error %s, %d responses)\n", c->name, ref.error ? ref.error : "none",
                        ref.count);
            fail();
        }
    }
}

/* ---- malformed and truncated responses ----------------------------------- */

struct bad_case {
    const char *name, *input;
    const char *error; /* from feed, or from eof for truncations */
};

#define HD "HTTP/1.1 200 OK\r\n"
#define CHUNKED HD "Transfer-Encoding: chunked\r\n\r\n"
#define LENGTH HD "Content-Length: "

static const struct bad_case bad_cases[] = {
    {"http/2", "HTTP/2 200 OK\r\n\r\n", "bad status line"},
    {"two-digit status", "HTTP/1.1 20 OK\r\n\r\n", "bad status line"},
    {"four-digit status", "HTTP/1.1 2000 OK\r\n\r\n", "bad status line"},
    {"status below 100", "HTTP/1.1 099 OK\r\n\r\n", "bad status line"},
    {"lower-case name", "http/1.1 200 OK\r\n\r\n", "bad status line"},
    {"letters for status", "HTTP/1.1 abc OK\r\n\r\n", "bad status line"},
    {"two spaces", "HTTP/1.1  200 OK\r\n\r\n", "bad status line"},
    {"no space after status", "HTTP/1.1 200OK\r\n\r\n", "bad status line"},
    {"no space after version", "HTTP/1.1200 OK\r\n\r\n", "bad status line"},
    {"bad minor version", "HTTP/1.x 200 OK\r\n\r\n", "bad status line"},
    {"control in reason", "HTTP/1.1 200 O\x01K\r\n\r\n", "bad status line"},
    {"empty line first", "\r\nHTTP/1.1 200 OK\r\n\r\n", "bad status line"},
    {"other protocol", "SSH-2.0-OpenSSH_9.2\r\n", "bad status line"},
    {"tls alert, no newline", "\x15\x03\x01\x00\x02\x02\x28", "bad status line"},
    {"header without colon", HD "No-Colon\r\n\r\n", "bad header"},
    {"empty header name", HD ": x\r\n\r\n", "bad header"},
    {"space before colon", HD "Content-Length : 1\r\n\r\nx", "bad header"},
    {"fold after status line", HD " x\r\n\r\n", "bad header"},
    {"fold after content-length", LENGTH "1\r\n 2\r\n\r\n", "bad header"},
    {"bare cr as end of head", HD "\r\r\n", "bad header"},
    {"negative length", LENGTH "-1\r\n\r\n", "bad content-length"},
    {"plus sign length", LENGTH "+5\r\n\r\n", "bad content-length"},
    {"non-numeric length", LENGTH "abc\r\n\r\n", "bad content-length"},
    {"trailing junk length", LENGTH "12a\r\n\r\n", "bad content-length"},
    {"empty length", HD "Content-Length:\r\n\r\n", "bad content-length"},
    {"length over 2^62", LENGTH "4611686018427387905\r\n\r\n", "bad content-length"},
    {"length over 2^64", LENGTH "99999999999999999999999\r\n\r\n", "bad content-length"},
    {"conflicting lengths", LENGTH "5\r\nContent-Length: 6\r\n\r\n", "bad content-length"},
    {"conflicting list", LENGTH "5, 6\r\n\r\n", "bad content-length"},
    {"spaced digits", LENGTH "1 2\r\n\r\n", "bad content-length"},
    {"chunked twice", HD "Transfer-Encoding: chunked, chunked\r\n\r\n", "bad transfer-encoding"},
    {"empty transfer-encoding", HD "Transfer-Encoding: ,\r\n\r\n", "bad transfer-encoding"},
    {"non-hex chunk size", CHUNKED "zz\r\n", "bad chunk size"},
    {"empty chunk size", CHUNKED "\r\n", "bad chunk size"},
    {"extension without size", CHUNKED ";ext\r\n", "bad chunk size"},
    {"digit after space", CHUNKED "5 5\r\nhello\r\n", "bad chunk size"},
    {"chunk over 2^62", CHUNKED "4000000000000001\r\n", "bad chunk size"},
    {"chunk over 2^64", CHUNKED "fffffffffffffffffffff\r\n", "bad chunk size"},
    {"cr without lf in size", CHUNKED "5\rhello", "bad chunk size"},
    {"no crlf after data", CHUNKED "5\r\nhelloXX", "missing chunk crlf"},
    {"cr without lf after data", CHUNKED "5\r\nhello\rX", "missing chunk crlf"},
    {"cr without lf at end", CHUNKED "0\r\n\rX", "bad trailer"},
    {"nothing", "", "closed before response"},
    {"eof in status line", "HTTP/1.1 2", "truncated head"},
    {"eof in headers", HD "Content-Len", "truncated head"},
    {"eof after interim", "HTTP/1.1 100 Continue\r\n\r\n", "truncated head"},
    {"eof in length body", LENGTH "10\r\n\r\nshort", "truncated body"},
    {"eof in chunk", CHUNKED "a\r\nabc", "truncated body"},
    {"eof before last chunk", CHUNKED "3\r\nabc\r\n", "truncated body"},
    {"eof in trailers", CHUNKED "0\r\nX: 1\r\n", "truncated body"},
    {"chunk of 2^62", CHUNKED "4000000000000000\r\n", "truncated body"},
};

/* Every malformed or truncated case fails with its error, however it is split. */
static void test_bad_responses(void **state)
{
    struct harness *h = *state;
    static struct outcome ref;
    bool head_req[MAX_RESP] = {false};
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const struct bad_case *c = &bad_cases[i];
        run_all_splits(h, c->name, c->input, strlen(c->input), head_req, 1, &ref);
        if (!ref.error || strcmp(ref.error, c->error) != 0) {
            print_error("%s: expected '%s', got '%s'\n", c->name, c->error, ref.error ? ref.error : "no error");
            fail();
        }
    }
}

/* Builds "HTTP/1.1 200 OK\r\n" plus padding headers into a head of exactly head_len bytes. */
static size_t build_head(char *buf, size_t head_len)
{
    size_t len = (size_t)sprintf(buf, HD);
    while (head_len - len > 2) {
        size_t line = head_len - len - 2 > 200 ? 100 : head_len - len - 2;
        assert_true(line >= 4); /* "X:" plus CRLF is the shortest header line */
        memcpy(buf + len, "X:", 2);
        memset(buf + len + 2, 'a', line - 4);
        memcpy(buf + len + line - 2, "\r\n", 2);
        len += line;
    }
    memcpy(buf + len, "\r\n", 2);
    return len + 2;
}

/* A head of exactly HTTP_MAX_HEAD bytes parses; one byte more does not. */
static void test_head_size_limit(void **state)
{
    struct harness *h = *state;
    static char buf[HTTP_MAX_HEAD + 4096];
    static struct outcome ref;
    bool head_req[MAX_RESP] = {true};
    size_t len = build_head(buf, HTTP_MAX_HEAD);
    run_all_splits(h, "head at the limit", buf, len, head_req, 1, &ref);
    assert_null(ref.error);
    assert_int_equal(ref.resp[0].head_len, HTTP_MAX_HEAD);
    len = build_head(buf, HTTP_MAX_HEAD + 1);
    run_all_splits(h, "head over the limit", buf, len, head_req, 1, &ref);
    assert_string_equal(ref.error, "headers too large");
    len = (size_t)sprintf(buf, HD "X-Endless: ");
    memset(buf + len, 'a', sizeof(buf) - len);
    run_all_splits(h, "endless header", buf, sizeof(buf), head_req, 1, &ref);
    assert_string_equal(ref.error, "headers too large");
}

/* Endless chunk extensions and trailers are cut off at their cap. */
static void test_chunk_line_limits(void **state)
{
    struct harness *h = *state;
    static char buf[HTTP_MAX_HEAD + 4096];
    static struct outcome ref;
    bool head_req[MAX_RESP] = {false};
    size_t len = (size_t)sprintf(buf, CHUNKED "1;");
    memset(buf + len, 'e', sizeof(buf) - len);
    run_all_splits(h, "endless extension", buf, sizeof(buf), head_req, 1, &ref);
    assert_string_equal(ref.error, "chunk extension too long");
    len = (size_t)sprintf(buf, CHUNKED "0\r\n");
    while (len + 8 < sizeof(buf))
        len += (size_t)sprintf(buf + len, "T: abc\r\n");
    run_all_splits(h, "endless trailers", buf, len, head_req, 1, &ref);
    assert_string_equal(ref.error, "trailers too large");
}

/* Presenting fewer bytes than were already parsed is caught, not trusted. */
static void test_caller_misuse(void **state)
{
    (void)state;
    struct http_resp r;
    http_resp_init(&r, false);
    assert_int_equal(http_resp_feed(&r, HD, strlen(HD)), 0);
    assert_int_equal(http_resp_feed(&r, "HTTP", 4), -1);
    assert_string_equal(r.error, "input shrank between calls");
}

/* ---- differential test against a generator of random responses ----------- */

/* Appends printf output to the generated connection. */
static void emit(char *buf, size_t *len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    *len += (size_t)vsnprintf(buf + *len, GUARD_CAP - *len, fmt, ap);
    va_end(ap);
}

/* A random line end: CRLF mostly, LF alone sometimes. */
static const char *eol(uint64_t *rng)
{
    return next_random(rng) % 5 ? "\r\n" : "\n";
}

/* Writes a header name with random letter case. */
static void emit_name(char *buf, size_t *len, const char *name, uint64_t *rng)
{
    for (; *name; name++)
        buf[(*len)++] = next_random(rng) % 2 && *name >= 'a' ? (char)(*name - 'a' + 'A') : *name;
    buf[*len] = '\0';
}

/* A random chunked body of the given payload size; returns its payload bytes. */
static uint64_t emit_chunks(char *buf, size_t *len, uint64_t *rng)
{
    uint64_t payload = 0;
    for (int chunks = (int)(next_random(rng) % 4); chunks > 0; chunks--) {
        unsigned size = 1 + (unsigned)(next_random(rng) % 80);
        emit(buf, len, next_random(rng) % 2 ? "%x" : "00%X", size);
        emit(buf, len, "%s%s", next_random(rng) % 3 ? "" : ";ext=1", eol(rng));
        for (unsigned i = 0; i < size; i++)
            buf[(*len)++] = "ab\r\n0;"[next_random(rng) % 6];
        emit(buf, len, "%s", eol(rng));
        payload += size;
    }
    emit(buf, len, "0%s%s%s", eol(rng), next_random(rng) % 2 ? "Trailer: x\r\n" : "", eol(rng));
    return payload;
}

/* Appends one random response (with an interim head now and then) and its expectation. */
static void emit_response(char *buf, size_t *len, struct got *e, bool *head_req, bool last, uint64_t *rng)
{
    static const int statuses[] = {200, 201, 204, 206, 304, 404, 500, 503};
    size_t start = *len;
    if (next_random(rng) % 5 == 0) emit(buf, len, "HTTP/1.1 100 Continue%sX: 1%s%s", eol(rng), eol(rng), eol(rng));
    size_t head_start = *len;
    int minor = next_random(rng) % 4 ? 1 : 0, framing = (int)(next_random(rng) % (last ? 3 : 2));
    int conn = (int)(next_random(rng) % 4);
    *e = (struct got){.status = statuses[next_random(rng) % 8],
                      .minor_version = minor,
                      .content_length = -1,
                      .chunked = framing == 1};
    *head_req = next_random(rng) % 8 == 0;
    emit(buf, len, "HTTP/1.%d %d Whatever%s", minor, e->status, eol(rng));
    if (next_random(rng) % 2) emit(buf, len, "Server: gen%s", eol(rng));
    if (conn) {
        emit_name(buf, len, "connection", rng);
        emit(buf, len, ": %s%s", conn == 1 ? "close" : conn == 2 ? "keep-alive" : "x, keep-alive", eol(rng));
    }
    if (framing == 0) {
        e->content_length = (int64_t)(next_random(rng) % 200);
        emit_name(buf, len, "content-length", rng);
        emit(buf, len, ":%" PRId64 "%s", e->content_length, eol(rng));
    } else if (framing == 1) {
        emit_name(buf, len, "transfer-encoding", rng);
        emit(buf, len, ": chunked%s", eol(rng));
    }
    emit(buf, len, "%s", eol(rng));
    e->head_len = *len - head_start;
    bool no_body = *head_req || e->status == 204 || e->status == 304;
    if (!no_body && framing == 1) {
        e->body_bytes = emit_chunks(buf, len, rng);
    } else if (!no_body) {
        e->body_bytes = framing == 0 ? (uint64_t)e->content_length : next_random(rng) % 300;
        memset(buf + *len, 'b', e->body_bytes);
        *len += e->body_bytes;
    }
    e->close = conn == 1 || (minor == 0 && conn < 2) || (!no_body && framing == 2);
    e->consumed = *len - start;
}

/* Random pipelined connections parse as their generator says, in any reads. */
static void test_generated_pipelines(void **state)
{
    struct harness *h = *state;
    static char buf[GUARD_CAP];
    static struct outcome want, got;
    for (uint64_t seed = 1; seed <= 300; seed++) {
        uint64_t rng = seed * 0x2545f4914f6cdd1du;
        bool head_req[MAX_RESP];
        size_t len = 0;
        int count = 1 + (int)(next_random(&rng) % 40);
        memset(&want, 0, sizeof(want));
        want.count = count;
        for (int i = 0; i < count; i++)
            emit_response(buf, &len, &want.resp[i], &head_req[i], i == count - 1, &rng);
        for (int round = 0; round < 4; round++) {
            struct splitter sp = {round ? SPLIT_RANDOM : SPLIT_AT, round ? (size_t)round * 40 : len,
                                  rng + (uint64_t)round};
            simulate(h, buf, len, head_req, count, &sp, &got);
            if (!same_outcome(&want, &got)) {
                print_error("seed %" PRIu64 " round %d: error %s, %d of %d responses\n", seed, round,
                            got.error ? got.error : "none", got.count, count);
                fail();
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_responses), cmocka_unit_test(test_bad_responses),
        cmocka_unit_test(test_head_size_limit), cmocka_unit_test(test_chunk_line_limits),
        cmocka_unit_test(test_caller_misuse),   cmocka_unit_test(test_generated_pipelines),
    };
    return cmocka_run_group_tests(tests, harness_setup, NULL);
}

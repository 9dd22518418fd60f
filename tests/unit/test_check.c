/*
 * test_check.c — the --check grammar and its judge: every form parses to
 * what it says, bad input names its problem, and each check is judged on
 * captured responses (plain, chunked, with an interim 1xx head, truncated).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdbool.h>
#include <string.h>

#include "load/check.h"

static const char *const good[] = {
    "status == 200",
    "ok: status in 200..299",
    "body contains 'route'",
    "header 'X-Foo' exists",
    "json.distance_m > 0",
    "no error: json.error absent",
    "json.legs[0].name == \"a\"",
    "json.ok == true",
    "header 'content-type' contains 'json'",
    "body !contains 'error'",
};

static const char *const bad[] = {
    "",           "status",          "status = 200",        "status in 300..200", "body == 'x'",
    "header X",   "json. > 0",       "json.a..b exists",    "json.a[x] exists",   "status == 'x'",
    "name: ",     ": status == 200", "status == 200 extra", "json.a < 'x'",       "body contains 'open",
    "color == 1", "json.a[0 exists", "header '' exists",
};

static void test_parse(void **state)
{
    (void)state;
    struct check c;
    const char *why = NULL;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int rc = check_parse(&c, good[i], &why);
        if (rc) fail_msg("'%s' refused: %s", good[i], why);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why = NULL;
        if (check_parse(&c, bad[i], &why) == 0) fail_msg("'%s' accepted", bad[i]);
        assert_non_null(why);
    }
    assert_int_equal(check_parse(&c, "ok: status in 200..299", &why), 0);
    assert_string_equal(c.name, "ok");
    assert_int_equal(c.op, CHECK_IN);
    assert_true(c.lo == 200 && c.hi == 299);
    assert_false(check_needs_head(&c));
    assert_int_equal(check_parse(&c, "json.error absent", &why), 0);
    assert_string_equal(c.name, "json.error absent");
    assert_string_equal(c.key, "error");
    assert_true(check_needs_body(&c));
    assert_int_equal(check_parse(&c, "header 'X-Foo' exists", &why), 0);
    assert_true(check_needs_head(&c) && !check_needs_body(&c));
    assert_string_equal(c.key, "X-Foo");
}

/* Judges one check text on a response. */
static enum check_result judge(const char *text, int status, const char *raw, bool chunked, bool truncated)
{
    struct check c;
    const char *why;
    if (check_parse(&c, text, &why)) fail_msg("'%s': %s", text, why);
    struct check_view v = {status, raw, strlen(raw), chunked, truncated};
    enum check_result r;
    check_run(&c, 1, &v, &r);
    return r;
}

#define PLAIN                                                                                                          \
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Foo:  bar \r\nContent-Length: 52\r\n\r\n"                  \
    "{\"distance_m\": 1200, \"legs\": [{\"name\": \"a\"}], \"error\": null}"

static const struct {
    const char *check;
    int status;
    const char *raw;
    bool chunked;
    enum check_result want;
} cases[] = {
    {"status == 200", 200, "", false, CHECK_PASS},
    {"status == 200", 500, "", false, CHECK_FAIL},
    {"status in 200..299", 299, "", false, CHECK_PASS},
    {"status in 200..299", 300, "", false, CHECK_FAIL},
    {"status < 400", 304, "", false, CHECK_PASS},
    {"header 'x-foo' exists", 200, PLAIN, false, CHECK_PASS},
    {"header 'X-Foo' == 'bar'", 200, PLAIN, false, CHECK_PASS},
    {"header 'X-Bar' exists", 200, PLAIN, false, CHECK_FAIL},
    {"header 'X-Bar' absent", 200, PLAIN, false, CHECK_PASS},
    {"body contains 'legs'", 200, PLAIN, false, CHECK_PASS},
    {"body contains 'Content-Type'", 200, PLAIN, false, CHECK_FAIL}, /* the head is not the body */
    {"json.distance_m > 0", 200, PLAIN, false, CHECK_PASS},
    {"json.distance_m in 0..1000", 200, PLAIN, false, CHECK_FAIL},
    {"json.legs[0].name == 'a'", 200, PLAIN, false, CHECK_PASS},
    {"json.legs[1].name exists", 200, PLAIN, false, CHECK_FAIL},
    {"json.error absent", 200, PLAIN, false, CHECK_PASS},
    {"json.error absent", 200, "HTTP/1.1 200 OK\r\n\r\n{\"error\": \"no route\"}", false, CHECK_FAIL},
    {"json.error absent", 200, "HTTP/1.1 200 OK\r\n\r\nnot json", false, CHECK_FAIL},
    {"json.distance_m > 0", 200, "HTTP/1.1 200 OK\r\n\r\n{\"distance_m\": \"far\"}", false, CHECK_FAIL},
    /* interim 100 Continue before the final head; LF-only lines */
    {"header 'X-Final' exists", 200, "HTTP/1.1 100 Continue\n\nHTTP/1.1 200 OK\nX-Final: 1\n\nbody", false, CHECK_PASS},
    {"body contains 'hello world'", 200,
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello \r\n5;ext=1\r\nworld\r\n0\r\n\r\n", true,
     CHECK_PASS},
    {"json.n == 5", 200, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{\"n\r\n5\r\n\": 5}\r\n0\r\n\r\n",
     true, CHECK_PASS},
};

static void test_judge(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum check_result r = judge(cases[i].check, cases[i].status, cases[i].raw, cases[i].chunked, false);
        if (r != cases[i].want) fail_msg("case %zu '%s': got %d want %d", i, cases[i].check, r, cases[i].want);
    }
}

static void test_truncated(void **state)
{
    (void)state;
    assert_int_equal(judge("json.error absent", 200, PLAIN, false, true), CHECK_BODY_TOO_LARGE);
    assert_int_equal(judge("body contains 'x'", 200, PLAIN, false, true), CHECK_BODY_TOO_LARGE);
    /* The head and status are whole even when the body was cut. */
    assert_int_equal(judge("header 'X-Foo' exists", 200, PLAIN, false, true), CHECK_PASS);
    assert_int_equal(judge("status == 200", 200, PLAIN, false, true), CHECK_PASS);
}

static void test_run_counts(void **state)
{
    (void)state;
    struct check cs[3];
    const char *why;
    assert_int_equal(check_parse(&cs[0], "status == 200", &why), 0);
    assert_int_equal(check_parse(&cs[1], "json.error absent", &why), 0);
    assert_int_equal(check_parse(&cs[2], "json.distance_m > 0", &why), 0);
    const char *raw = "HTTP/1.1 200 OK\r\n\r\n{\"error\": \"x\", \"distance_m\": 3}";
    struct check_view v = {200, raw, strlen(raw), false, false};
    enum check_result out[3];
    assert_int_equal(check_run(cs, 3, &v, out), 1);
    assert_int_equal(out[0], CHECK_PASS);
    assert_int_equal(out[1], CHECK_FAIL);
    assert_int_equal(out[2], CHECK_PASS);
    /* No bytes captured (status-only run): body checks see an empty body. */
    struct check_view none = {200, NULL, 0, false, false};
    assert_int_equal(check_run(cs, 3, &none, out), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_judge),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_run_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

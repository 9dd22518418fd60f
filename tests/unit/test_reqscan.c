/*
 * test_reqscan.c — table tests of reqscan_one / reqscan_count: requests
 * that are accepted (and where they end), each refusal with its reason,
 * and every strict prefix of a good request refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "http/reqscan.h"

struct good_case {
    const char *bytes;
    size_t first; /* length of the first request */
    ssize_t count;
};

static void test_good(void **state)
{
    (void)state;
    static const struct good_case cases[] = {
        {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", 27, 1},
        {"GET /x?y=1 HTTP/1.0\r\n\r\n", 23, 1},
        {"POST /p HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", 42, 1},
        {"POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 61, 1},
        {"GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n", 19, 3},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *why = NULL;
        size_t len = strlen(cases[i].bytes);
        assert_int_equal(reqscan_one(cases[i].bytes, len, &why), cases[i].first);
        assert_int_equal(reqscan_count(cases[i].bytes, len, &why), cases[i].count);
        /* Every strict prefix of the first request is refused (a request is complete or wrong). */
        for (size_t cut = 0; cut < cases[i].first; cut++) {
            char *p = malloc(cut ? cut : 1);
            memcpy(p, cases[i].bytes, cut);
            why = NULL;
            assert_int_equal(reqscan_one(p, cut, &why), -1);
            assert_non_null(why);
            free(p);
        }
    }
}

struct bad_case {
    const char *bytes;
    const char *why;
};

static void test_bad(void **state)
{
    (void)state;
    static const struct bad_case cases[] = {
        {"", "no request (empty bytes)"},
        {"hello", "no request line ending in CRLF"},
        {" / HTTP/1.1\r\n\r\n", "the request line does not start with a method"},
        {"GET  HTTP/1.1\r\n\r\n", "the request line has no target after its method"},
        {"GET / HTTP/2\r\n\r\n", "the request line does not end in HTTP/1.1"},
        {"GET / HTTP/1.1\r\nHost a\r\n\r\n", "a header line is not 'Name: value'"},
        {"GET / HTTP/1.1\r\nHost: a\r\n", "the head does not end in an empty line"},
        {"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab", "the body is shorter than its Content-Length"},
        {"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n", "a bad Content-Length"},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", "a Transfer-Encoding that is not chunked"},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "a chunk size is not hexadecimal"},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n0\r\n\r\n",
         "both Content-Length and chunked"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *why = NULL;
        assert_int_equal(reqscan_one(cases[i].bytes, strlen(cases[i].bytes), &why), -1);
        assert_string_equal(why, cases[i].why);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_good), cmocka_unit_test(test_bad)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_set_cookie.c — set_cookie_next: the pairs a session's jar keeps
 * from a response head, in order, with attributes, blanks, bad lines and
 * the body left out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "http/set_cookie.h"

/* All pairs of head as "n=v;" joined. */
static void pairs(const char *head, char *out, size_t cap)
{
    size_t pos = 0, nlen, vlen, used = 0;
    const char *n, *v;
    out[0] = 0;
    while (set_cookie_next(head, strlen(head), &pos, &n, &nlen, &v, &vlen))
        used += (size_t)snprintf(out + used, cap - used, "%.*s=%.*s;", (int)nlen, n, (int)vlen, v);
}

static void test_pairs(void **state)
{
    (void)state;
    static const char *cases[][2] = {
        {"HTTP/1.1 200 OK\r\nSet-Cookie: sid=abc; Path=/; HttpOnly\r\nContent-Length: 0\r\n\r\n", "sid=abc;"},
        {"HTTP/1.1 200 OK\r\nset-cookie:  a = 1 \r\nSET-COOKIE: b=\r\n\r\n", "a=1;b=;"},
        {"HTTP/1.1 200 OK\nSet-Cookie: a=1\nSet-Cookie: b=2;x\n\nSet-Cookie: body=1\n", "a=1;b=2;"},
        {"HTTP/1.1 200 OK\r\nSet-Cookie: =x\r\nSet-Cookie: noeq\r\nSet-Cookie: c=\x01\r\nSet-Cookie: d=4\r\n\r\n",
         "d=4;"},
        {"HTTP/1.1 200 OK\r\nSet-Cookie2: a=1\r\nX-Set-Cookie: b=2\r\n\r\n", ""},
        {"Set-Cookie: a=1\r\n\r\n", ""}, /* the first line is the status line */
        {"", ""},
    };
    char got[256];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        pairs(cases[i][0], got, sizeof(got));
        assert_string_equal(got, cases[i][1]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_pairs)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * fuzz_set_cookie.c — the Set-Cookie pairs a session's jar keeps
 * (src/http/set_cookie.c), from a server's response head.
 *
 * Every pair lies inside the input, its name is non-empty and holds no
 * '=', ';' or control byte, neither span starts or ends with a blank, the
 * value holds no ';' or control byte (it goes out in a Cookie header);
 * the position only moves forward and the walk ends.
 */
#include <string.h>

#include "common.h"
#include "http/set_cookie.h"

static int bad_char(char c, int is_name)
{
    return c == ';' || (unsigned char)c < 0x20 || c == 0x7f || (is_name && c == '=');
}

static void check_span(const char *head, size_t len, const char *p, size_t n, int is_name)
{
    CHECK(p >= head && p + n <= head + len);
    if (is_name) CHECK(n > 0);
    if (!n) return;
    CHECK(p[0] != ' ' && p[0] != '\t' && p[n - 1] != ' ' && p[n - 1] != '\t');
    for (size_t i = 0; i < n; i++)
        CHECK(!bad_char(p[i], is_name));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *p = malloc(size ? size : 1);
    CHECK(p);
    if (size) memcpy(p, data, size);
    size_t pos = 0, nlen, vlen, last = 0, rounds = 0;
    const char *name, *val;
    while (set_cookie_next(p, size, &pos, &name, &nlen, &val, &vlen)) {
        CHECK(pos > last && pos <= size);
        last = pos;
        check_span(p, size, name, nlen, 1);
        check_span(p, size, val, vlen, 0);
        CHECK(++rounds <= size);
    }
    CHECK(pos == size);
    free(p);
    return 0;
}

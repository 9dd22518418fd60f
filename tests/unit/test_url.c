/*
 * test_url.c — table tests of url_parse (scheme, host, port, Host header,
 * path) and url_resolve on loopback literals.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "http/url.h"

/* A URL that must parse, and what it must parse to. */
struct good_case {
    const char *text;
    bool tls;
    const char *host, *host_header;
    unsigned port;
    const char *path;
};

static void test_parse_valid(void **state)
{
    static const struct good_case cases[] = {
        {"http://127.0.0.1/", false, "127.0.0.1", "127.0.0.1", 80, "/"},
        {"http://127.0.0.1", false, "127.0.0.1", "127.0.0.1", 80, "/"},
        {"https://example.test", true, "example.test", "example.test", 443, "/"},
        {"HTTP://h:8080/a/b?c=1&d=2", false, "h", "h:8080", 8080, "/a/b?c=1&d=2"},
        {"HtTpS://h:443/x", true, "h", "h", 443, "/x"},
        {"https://h:80/", true, "h", "h:80", 80, "/"},
        {"http://h:443/", false, "h", "h:443", 443, "/"},
        {"http://h?q=1", false, "h", "h", 80, "/?q=1"},
        {"http://h/p#frag", false, "h", "h", 80, "/p"},
        {"http://h#frag", false, "h", "h", 80, "/"},
        {"http://h:1/", false, "h", "h:1", 1, "/"},
        {"http://h:65535/", false, "h", "h:65535", 65535, "/"},
        {"http://[::1]/", false, "::1", "[::1]", 80, "/"},
        {"http://[::1]:8443/v?x", false, "::1", "[::1]:8443", 8443, "/v?x"},
        {"https://[fe80::1%25lo]:9/", true, "fe80::1%25lo", "[fe80::1%25lo]:9", 9, "/"},
        {"http://h/%20encoded", false, "h", "h", 80, "/%20encoded"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct good_case *c = &cases[i];
        struct url u;
        const char *why = NULL;
        int rc = url_parse(&u, c->text, &why);
        if (rc != 0) fail_msg("'%s' should parse: %s", c->text, why);
        if (u.tls != c->tls || strcmp(u.host, c->host) || strcmp(u.host_header, c->host_header) || u.port != c->port ||
            strcmp(u.path, c->path))
            fail_msg("'%s': tls %d host '%s' header '%s' port %u path '%s'", c->text, u.tls, u.host, u.host_header,
                     u.port, u.path);
    }
}

/* A URL that must be refused, with the reason. */
struct bad_case {
    const char *text, *why;
};

static void test_parse_invalid(void **state)
{
    static const struct bad_case cases[] = {
        {"", "scheme must be http:// or https://"},
        {"ftp://h/", "scheme must be http:// or https://"},
        {"http:/h/", "scheme must be http:// or https://"},
        {"127.0.0.1:8080", "scheme must be http:// or https://"},
        {"http://", "missing host"},
        {"http:///p", "missing host"},
        {"http://:80/", "missing host"},
        {"http://[]/", "missing host"},
        {"http://[::1/", "unterminated IPv6 literal"},
        {"http://[::1]x/", "bad port"},
        {"http://[::1]:/", "bad port"},
        {"http://h:/", "bad port"},
        {"http://h:0/", "bad port"},
        {"http://h:65536/", "bad port"},
        {"http://h:123456/", "bad port"},
        {"http://h:80x/", "bad port"},
        {"http://h:-1/", "bad port"},
        {"http://h:+80/", "bad port"},
        {"http://h: 80/", "bad port"},
        {"http://h:0x50/", "bad port"},
        {"http://h/a b", "space or control character in path"},
        {"http://h/a\tb", "space or control character in path"},
        {"http://h/a\x7f", "space or control character in path"},
        {"http://h/?\x01", "space or control character in path"},
        /* credentials in the URL: refused by name, not as a bad IPv6 literal or an unknown host */
        {"http://u:p@127.0.0.1:1/w", "credentials in the URL (user:pass@) are not supported: send them in a header"},
        {"http://alice@127.0.0.1/", "credentials in the URL (user:pass@) are not supported: send them in a header"},
        {"https://@h/", "credentials in the URL (user:pass@) are not supported: send them in a header"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct url u;
        const char *why = NULL;
        int rc = url_parse(&u, cases[i].text, &why);
        if (rc != -EINVAL) fail_msg("'%s' should be refused, got %d (port %u)", cases[i].text, rc, u.port);
        if (!why || strcmp(why, cases[i].why)) fail_msg("'%s': why '%s', want '%s'", cases[i].text, why, cases[i].why);
    }
}

/* url_mask_password hides the password of a typed URL and nothing else. */
static void test_mask_password(void **state)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"http://u:secret@host/", "http://u:***@host/"},
        {"https://u:s3cr:et@127.0.0.1:8443/a?b=c", "https://u:***@127.0.0.1:8443/a?b=c"},
        {"http://u:p@ss@h/x@y", "http://u:***@h/x@y"}, /* the last '@' of the authority ends the password */
        {"http://:pw@h/", "http://:***@h/"},
        {"ftp://u:pw@h", "ftp://u:***@h"},
        {"http://alice@h/", "http://alice@h/"},
        {"http://h:8080/a:b@c", "http://h:8080/a:b@c"},
        {"http://h/?u=a:b@c", "http://h/?u=a:b@c"},
        {"u:secret@host", "u:secret@host"},
        {"", ""},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[128];
        url_mask_password(out, sizeof out, cases[i].text);
        if (strcmp(out, cases[i].want)) fail_msg("'%s' masked to '%s', want '%s'", cases[i].text, out, cases[i].want);
    }
    char small[12];
    url_mask_password(small, sizeof small, "http://u:secret@host/");
    assert_string_equal(small, "http://u:**"); /* cut, never the password */
}

/* Lengths at and past the buffers: the host (255) and the path (4095). */
static void test_lengths(void **state)
{
    static char text[8192];
    struct url u;
    const char *why;
    (void)state;
    for (size_t n = 254; n <= 257; n++) {
        int len = snprintf(text, sizeof text, "http://");
        memset(text + len, 'a', n);
        strcpy(text + len + n, "/");
        int rc = url_parse(&u, text, &why);
        if (n < sizeof u.host)
            assert_int_equal(rc, 0);
        else {
            assert_int_equal(rc, -EINVAL);
            assert_string_equal(why, "host too long");
        }
    }
    for (size_t n = 4094; n <= 4097; n++) {
        for (int query = 0; query < 2; query++) {
            int len = snprintf(text, sizeof text, "http://h");
            memset(text + len, 'p', n);
            text[len] = query ? '?' : '/';
            text[len + n] = '\0';
            int rc = url_parse(&u, text, &why);
            size_t stored = n + (size_t)query; /* a bare query gains a leading '/' */
            if (stored < sizeof u.path) {
                if (rc != 0) fail_msg("path of %zu (query %d) should fit: %s", n, query, why);
                assert_int_equal(strlen(u.path), stored);
            } else {
                if (rc != -EINVAL) fail_msg("path of %zu (query %d) should not fit", n, query);
                assert_string_equal(why, "path too long");
            }
        }
    }
}

/* Resolution of literals needs no DNS: the address and port must come out as written. */
static void test_resolve(void **state)
{
    struct url u;
    const char *why = NULL;
    (void)state;
    assert_int_equal(url_parse(&u, "http://127.0.0.1:8080/", &why), 0);
    assert_int_equal(url_resolve(&u, &why), 0);
    const struct sockaddr_in *in = (const struct sockaddr_in *)&u.addr;
    assert_int_equal(in->sin_family, AF_INET);
    assert_int_equal(ntohs(in->sin_port), 8080);
    assert_int_equal(ntohl(in->sin_addr.s_addr), INADDR_LOOPBACK);
    assert_int_equal(u.addr_len, sizeof(struct sockaddr_in));

    assert_int_equal(url_parse(&u, "https://[::1]/", &why), 0);
    assert_int_equal(url_resolve(&u, &why), 0);
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&u.addr;
    assert_int_equal(in6->sin6_family, AF_INET6);
    assert_int_equal(ntohs(in6->sin6_port), 443);
    assert_memory_equal(&in6->sin6_addr, &in6addr_loopback, sizeof(in6addr_loopback));

    /* .invalid never resolves (RFC 6761) */
    assert_int_equal(url_parse(&u, "http://no-such-host.invalid/", &why), 0);
    why = NULL;
    assert_int_equal(url_resolve(&u, &why), -EHOSTUNREACH);
    assert_non_null(why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_valid),
        cmocka_unit_test(test_parse_invalid),
        cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_mask_password),
        cmocka_unit_test(test_resolve),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

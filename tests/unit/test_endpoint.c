/*
 * test_endpoint.c — table tests of the one host:port syntax (core/endpoint.c)
 * and of the callers that used to carry their own parser: the URL, the
 * doctor's --target and the chaos endpoints.
 *
 * Each row is one text under one set of flags, so a rule that differs
 * between callers shows up as two rows that differ only in their flags.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/endpoint.h"
#include "http/url.h"
#include "sys/doctor.h"

#define PORT_OPT HOSTPORT_PORT_OPTIONAL
#define HOST_OPT HOSTPORT_HOST_OPTIONAL
#define BARE HOSTPORT_BARE_PORT
#define ZERO HOSTPORT_PORT_ZERO

/* One input, the flags it is parsed with and what must come out. */
struct hostport_case {
    const char *text;
    unsigned flags;
    int rc;
    const char *host; /* when rc == 0 */
    uint16_t port;
    int has_port;
};

static void test_hostport_table(void **state)
{
    static const struct hostport_case cases[] = {
        /* The form every caller accepts. */
        {"127.0.0.1:8080", 0, 0, "127.0.0.1", 8080, 1},
        {"localhost:1", 0, 0, "localhost", 1, 1},
        {"example.com:65535", 0, 0, "example.com", 65535, 1},
        {"[::1]:8080", 0, 0, "::1", 8080, 1},
        {"[fe80::1%lo]:80", 0, 0, "fe80::1%lo", 80, 1},
        {"[127.0.0.1]:80", 0, 0, "127.0.0.1", 80, 1},
        /* Ports: 1 to 5 digits, no sign, no blank, no overflow. */
        {"h:65536", 0, -EINVAL, NULL, 0, 0},
        {"h:99999", 0, -EINVAL, NULL, 0, 0},
        {"h:123456", 0, -EINVAL, NULL, 0, 0},
        {"h:+80", 0, -EINVAL, NULL, 0, 0},
        {"h:-1", 0, -EINVAL, NULL, 0, 0},
        {"h: 80", 0, -EINVAL, NULL, 0, 0},
        {"h:80x", 0, -EINVAL, NULL, 0, 0},
        {"h:", 0, -EINVAL, NULL, 0, 0},
        {"h:00080", 0, 0, "h", 80, 1},
        /* Port 0 only for listeners that ask the kernel. */
        {"h:0", 0, -EINVAL, NULL, 0, 0},
        {"h:0", ZERO, 0, "h", 0, 1},
        {"[::]:0", ZERO, 0, "::", 0, 1},
        /* IPv6 needs its brackets, and they must close. */
        {"::1:8080", 0, -EINVAL, NULL, 0, 0},
        {"::1", PORT_OPT, -EINVAL, NULL, 0, 0},
        {"[::1", 0, -EINVAL, NULL, 0, 0},
        {"[::1]8080", 0, -EINVAL, NULL, 0, 0},
        {"[::1]:", 0, -EINVAL, NULL, 0, 0},
        /* The host. */
        {":8080", 0, -EINVAL, NULL, 0, 0},
        {"[]:8080", 0, -EINVAL, NULL, 0, 0},
        {":8080", HOST_OPT, 0, "", 8080, 1},
        {"", 0, -EINVAL, NULL, 0, 0},
        /* The port, optional in a URL. */
        {"h", 0, -EINVAL, NULL, 0, 0},
        {"h", PORT_OPT, 0, "h", 0, 0},
        {"[::1]", PORT_OPT, 0, "::1", 0, 0},
        {"h:81", PORT_OPT, 0, "h", 81, 1},
        {"", PORT_OPT, -EINVAL, NULL, 0, 0},
        /* A bare port, for a local control address. */
        {"8474", 0, -EINVAL, NULL, 0, 0},
        {"8474", BARE, 0, "", 8474, 1},
        {"0", BARE, -EINVAL, NULL, 0, 0},
        {"0", BARE | ZERO, 0, "", 0, 1},
        {"70000", BARE, -EINVAL, NULL, 0, 0},
        {"h:8474", BARE, 0, "h", 8474, 1},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct hostport_case *c = &cases[i];
        struct hostport hp;
        const char *why = NULL;
        int rc = hostport_parse(&hp, c->text, strlen(c->text), c->flags, &why);
        if (rc != c->rc) fail_msg("'%s' flags %u: rc %d, want %d (%s)", c->text, c->flags, rc, c->rc, why);
        if (rc < 0 && (!why || !*why)) fail_msg("'%s': no reason given", c->text);
        if (rc == 0 && (strcmp(hp.host, c->host) != 0 || hp.port != c->port || hp.has_port != (c->has_port != 0)))
            fail_msg("'%s' flags %u: host '%s' port %u has_port %d", c->text, c->flags, hp.host, hp.port, hp.has_port);
    }
}

/* The parser reads only the len bytes it is given (a URL's authority is not NUL-terminated). */
static void test_hostport_length(void **state)
{
    struct hostport hp;
    const char *why;
    (void)state;
    assert_int_equal(hostport_parse(&hp, "h:80/path", 4, 0, &why), 0);
    assert_string_equal(hp.host, "h");
    assert_int_equal(hp.port, 80);
    assert_int_equal(hostport_parse(&hp, "[::1]:443?q", 9, 0, &why), 0);
    assert_string_equal(hp.host, "::1");
    assert_int_equal(hp.port, 443);

    char longest[HOSTPORT_HOST_MAX + 8];
    memset(longest, 'a', HOSTPORT_HOST_MAX - 1);
    strcpy(longest + HOSTPORT_HOST_MAX - 1, ":80");
    assert_int_equal(hostport_parse(&hp, longest, strlen(longest), 0, &why), 0);
    assert_int_equal(strlen(hp.host), HOSTPORT_HOST_MAX - 1);
    memset(longest, 'a', HOSTPORT_HOST_MAX);
    strcpy(longest + HOSTPORT_HOST_MAX, ":80");
    assert_int_equal(hostport_parse(&hp, longest, strlen(longest), 0, &why), -EINVAL);
    assert_string_equal(why, "host too long");
}

/* The callers keep the forms they documented. */
static void test_callers(void **state)
{
    (void)state;
    struct url u;
    const char *why;
    assert_int_equal(url_parse(&u, "http://[::1]:8080/x", &why), 0);
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 8080);
    assert_string_equal(u.host_header, "[::1]:8080");
    assert_int_equal(url_parse(&u, "https://example.com/", &why), 0);
    assert_int_equal(u.port, 443);
    assert_string_equal(u.host_header, "example.com");
    assert_int_equal(url_parse(&u, "http://h:0/", &why), -EINVAL);
    assert_int_equal(url_parse(&u, "http://:80/", &why), -EINVAL);
    assert_string_equal(why, "missing host");

    char host[64];
    uint16_t port;
    assert_int_equal(doctor_parse_target("[::1]:80", host, sizeof(host), &port), 0);
    assert_string_equal(host, "::1");
    assert_int_equal(doctor_parse_target("h:0", host, sizeof(host), &port), -EINVAL);

    struct endpoint ep;
    assert_int_equal(endpoint_parse(&ep, ":0"), 0); /* ":PORT" is loopback */
    assert_int_equal(ep.addr.ss_family, AF_INET);
    assert_int_equal(endpoint_parse(&ep, "[::1]:9"), 0);
    assert_int_equal(ep.addr.ss_family, AF_INET6);
    assert_int_equal(endpoint_parse(&ep, "::1:9"), -EINVAL);
    assert_int_equal(endpoint_parse(&ep, "127.0.0.1"), -EINVAL);
    assert_int_equal(endpoint_parse_local(&ep, "8474"), 0);
    assert_int_equal(ep.addr.ss_family, AF_INET);
    assert_int_equal(endpoint_parse_local(&ep, "localhost:8474"), 0);
    assert_int_equal(ep.addr.ss_family, AF_INET);
    assert_int_equal(endpoint_parse_local(&ep, ""), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hostport_table),
        cmocka_unit_test(test_hostport_length),
        cmocka_unit_test(test_callers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

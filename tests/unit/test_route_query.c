/*
 * test_route_query.c — the /api/route parameter parser
 * (src/target/route_query.c), table-driven: what is accepted with which
 * values, and for what is refused, which parameter is named and why.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <string.h>

#include "target/route_query.h"

static const struct geo_bounds box = {.lat_min = 52.44, .lat_max = 52.61, .lng_min = 13.24, .lng_max = 13.51};

/* An accepted query and its four numbers. */
struct good_case {
    const char *query;
    double from_lat, from_lng, to_lat, to_lng;
};

static const struct good_case good[] = {
    {"from=52.5,13.4&to=52.51,13.41", 52.5, 13.4, 52.51, 13.41},
    {"to=52.51,13.41&from=52.5,13.4", 52.5, 13.4, 52.51, 13.41},
    {"from=52.5%2C13.4&to=52.51%2c13.41", 52.5, 13.4, 52.51, 13.41},
    {"from=+52.5,+13.4&to=52.51,13.41", 52.5, 13.4, 52.51, 13.41},  /* '+' is a space */
    {"from=%2B52.5,13.4&to=52.51,13.41", 52.5, 13.4, 52.51, 13.41}, /* an encoded '+' is a sign */
    {"from=52.5, 13.4&to=52.51 ,13.41", 52.5, 13.4, 52.51, 13.41},
    {"x=1&from=52.50000000,13.25&&to=52.6,13.5&y", 52.5, 13.25, 52.6, 13.5},
    {"from=52.44,13.24&to=52.61,13.51", 52.44, 13.24, 52.61, 13.51}, /* the box's corners */
};

/* A refused query: the parameter named and a word of the reason. */
struct bad_case {
    const char *query;
    const char *parameter, *reason_word;
    bool outside;
};

static const struct bad_case bad[] = {
    {"", "from", "missing", false},
    {"to=52.5,13.4", "from", "missing", false},
    {"from=52.5,13.4", "to", "missing", false},
    {"from=52.5,13.4&to=", "to", "empty", false},
    {"from&to=52.5,13.4", "from", "empty", false},
    {"from=52.5,13.4&from=52.5,13.4&to=52.5,13.4", "from", "more than once", false},
    {"from=52.5;13.4&to=52.5,13.4", "from", "malformed", false},
    {"from=52.5,13.4,1&to=52.5,13.4", "from", "malformed", false},
    {"from=52.5&to=52.5,13.4", "from", "malformed", false},
    {"from=abc&to=52.5,13.4", "from", "malformed", false},
    {"from=1e1,13.4&to=52.5,13.4", "from", "malformed", false},
    {"from=nan,13.4&to=52.5,13.4", "from", "malformed", false},
    {"from=inf,13.4&to=52.5,13.4", "from", "malformed", false},
    {"from=0x1p4,13.4&to=52.5,13.4", "from", "malformed", false},
    {"from=.,13.4&to=52.5,13.4", "from", "malformed", false},
    {"from=--52.5,13.4&to=52.5,13.4", "from", "malformed", false},
    {"from=52.5%2,13.4&to=52.5,13.4", "from", "malformed", false},
    {"from=52.5%zz13.4&to=52.5,13.4", "from", "malformed", false},
    {"from=52.5,13.4%00&to=52.5,13.4", "from", "malformed", false},
    {"from=52.5,13.400000000000000000000001&to=52.5,13.4", "from", "malformed", false},
    {"from=52.5,13.4&to=52.5,13.4xyz", "to", "malformed", false},
    {"from=91,13.4&to=52.5,13.4", "from", "out of range", false},
    {"from=52.5,-181&to=52.5,13.4", "from", "out of range", false},
    {"from=52.5,13.4&to=48.85,2.35", "to", "outside the map", true},
    {"from=52.43,13.4&to=52.5,13.4", "from", "outside the map", true},
    {"from=52.5,13.52&to=52.5,13.4", "from", "outside the map", true},
    {"from=abc&to=xyz", "from", "malformed", false}, /* both wrong: from is named */
};

static void test_accepted(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct route_query q;
        struct route_query_error err;
        const struct good_case *g = &good[i];
        int rc = route_query_parse(&q, g->query, strlen(g->query), &box, &err);
        if (rc != 0) print_error("refused '%s': %s %s\n", g->query, err.parameter, err.reason);
        assert_int_equal(rc, 0);
        assert_true(fabs(q.from_lat - g->from_lat) < 1e-12 && fabs(q.from_lng - g->from_lng) < 1e-12);
        assert_true(fabs(q.to_lat - g->to_lat) < 1e-12 && fabs(q.to_lng - g->to_lng) < 1e-12);
    }
}

static void test_refused(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct route_query q;
        struct route_query_error err;
        const struct bad_case *b = &bad[i];
        int rc = route_query_parse(&q, b->query, strlen(b->query), &box, &err);
        if (rc != -EINVAL) print_error("accepted '%s'\n", b->query);
        assert_int_equal(rc, -EINVAL);
        assert_string_equal(err.parameter, b->parameter);
        if (!strstr(err.reason, b->reason_word)) print_error("'%s': reason '%s'\n", b->query, err.reason);
        assert_non_null(strstr(err.reason, b->reason_word));
        assert_int_equal(err.outside, b->outside);
    }
}

static void test_trailing_dot_and_bounds(void **state)
{
    (void)state;
    struct route_query q;
    struct route_query_error err;
    const char *s = "from=52.,13.3&to=52.5,13.3"; /* "52." is a valid number, outside the box */
    assert_int_equal(route_query_parse(&q, s, strlen(s), &box, &err), -EINVAL);
    assert_true(err.outside);
    /* The query is a slice of a larger buffer: bytes past len are not read. */
    const char *t = "from=52.5,13.4&to=52.5,13.4garbage";
    assert_int_equal(route_query_parse(&q, t, strlen(t) - 7, &box, &err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_trailing_dot_and_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

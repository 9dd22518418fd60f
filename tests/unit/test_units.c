/*
 * test_units.c — table tests of the duration and rate parsers.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/clock.h"
#include "core/units.h"

/* A duration that must parse to ns. */
struct duration_case {
    const char *text;
    uint64_t ns;
};

static void test_duration_valid(void **state)
{
    static const struct duration_case cases[] = {
        {"250ms", 250 * NS_PER_MS},
        {"10s", 10 * NS_PER_S},
        {"1.5m", 90 * NS_PER_S},
        {"2h", 7200 * NS_PER_S},
        {"500us", 500 * NS_PER_US},
        {"500\xc2\xb5s", 500 * NS_PER_US},
        {"1ns", 1},
        {"0s", 0},
        {"10", 10 * NS_PER_S},
        {"0.25", 250 * NS_PER_MS},
        {"1.1s", 1100 * NS_PER_MS},
        {"0.1m", 6 * NS_PER_S},
        {".5s", 500 * NS_PER_MS},
        {"5.s", 5 * NS_PER_S},
        {"1m30s", 90 * NS_PER_S},
        {"1h2.5m", 3750 * NS_PER_S},
        {"1s500ms", 1500 * NS_PER_MS},
        {"0.000000001s", 1},
        {"0.0000000015s", 2}, /* rounded to the nearest ns */
        {"0.4ns", 0},
        {"1.0000000000000000009s", NS_PER_S}, /* digits past 18 are ignored */
        {"007s", 7 * NS_PER_S},
        {"18446744073.709551615s", UINT64_MAX},
        {"5124095h", 5124095ull * 3600 * NS_PER_S},
    };

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t ns = 12345;
        int rc = parse_duration_ns(cases[i].text, &ns);
        if (rc != 0 || ns != cases[i].ns)
            fail_msg("'%s': rc %d, %lu ns, want %lu", cases[i].text, rc, (unsigned long)ns, (unsigned long)cases[i].ns);
    }
}

static void test_duration_invalid(void **state)
{
    static const char *const cases[] = {
        "",
        "-1s",
        "+1s",
        "s",
        "ms",
        "1x",
        "1 s",
        " 1s",
        "1s ",
        "1e3s",
        "1e3",
        "abc",
        "1.5.5s",
        "1m30",
        "10sec",
        "1..s",
        ".",
        ".s",
        "nan",
        "inf",
        "1S",
        "1M",
        "1,5s",
        "1s,",
        "99999999999999999999s",
        "18446744073.709551616s",
        "18446744074s",
        "5124096h",
        "5124095h1h",
    };

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t ns = 777;
        int rc = parse_duration_ns(cases[i], &ns);
        if (rc != -EINVAL || ns != 777) fail_msg("'%s': rc %d, %lu ns, want -EINVAL", cases[i], rc, (unsigned long)ns);
    }
    assert_int_equal(parse_duration_ns(NULL, &(uint64_t){0}), -EINVAL);
}

/* A rate text, whether it parses, and to what. */
struct rate_case {
    const char *text;
    int rc;
    double rate;
};

static void check_rates(const struct rate_case *cases, size_t n, int (*parse)(const char *, double *))
{
    for (size_t i = 0; i < n; i++) {
        double rate = -1;
        int rc = parse(cases[i].text, &rate);
        double want = cases[i].rc == 0 ? cases[i].rate : -1;
        if (rc != cases[i].rc || rate != want)
            fail_msg("'%s': rc %d, rate %g, want rc %d rate %g", cases[i].text, rc, rate, cases[i].rc, want);
    }
}

static void test_rate(void **state)
{
    static const struct rate_case cases[] = {
        {"1000", 0, 1000},     {"2.5", 0, 2.5},        {"1e4", 0, 1e4},     {"1E-3", 0, 1e-3},    {"100/s", 0, 100},
        {"0.5/s", 0, 0.5},     {".5", 0, 0.5},         {"5.", 0, 5},        {"333.3", 0, 333.3},  {"0", -EINVAL, 0},
        {"0/s", -EINVAL, 0},   {"0.0", -EINVAL, 0},    {"-5", -EINVAL, 0},  {"+5", -EINVAL, 0},   {"", -EINVAL, 0},
        {"/s", -EINVAL, 0},    {"abc", -EINVAL, 0},    {"inf", -EINVAL, 0}, {"nan", -EINVAL, 0},  {"0x10", -EINVAL, 0},
        {"1e999", -EINVAL, 0}, {"1e-400", -EINVAL, 0}, {" 5", -EINVAL, 0},  {"5 ", -EINVAL, 0},   {"5/m", -EINVAL, 0},
        {"5/s/s", -EINVAL, 0}, {"1e", -EINVAL, 0},     {"1e+", -EINVAL, 0}, {"5rps", -EINVAL, 0}, {".", -EINVAL, 0},
        {"1.2.3", -EINVAL, 0},
    };

    (void)state;
    check_rates(cases, sizeof cases / sizeof cases[0], parse_rate);
    assert_int_equal(parse_rate(NULL, &(double){0}), -EINVAL);
}

static void test_rate_or_zero(void **state)
{
    static const struct rate_case cases[] = {
        {"0", 0, 0},        {"0/s", 0, 0},      {"0.0", 0, 0},    {"250", 0, 250},
        {"-0", -EINVAL, 0}, {"-1", -EINVAL, 0}, {"", -EINVAL, 0}, {"x", -EINVAL, 0},
    };

    (void)state;
    check_rates(cases, sizeof cases / sizeof cases[0], parse_rate_or_zero);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration_valid),
        cmocka_unit_test(test_duration_invalid),
        cmocka_unit_test(test_rate),
        cmocka_unit_test(test_rate_or_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

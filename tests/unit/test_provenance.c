/*
 * test_provenance.c — shell-quoted command lines and redacted headers
 * (src/cli/provenance.c), on tables of inputs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cli/provenance.h"

static void test_secret_names(void **state)
{
    (void)state;
    static const char *const extra[] = {"X-Api-Key"};
    struct redactions r = {extra, 1};
    static const struct {
        const char *line;
        int secret;
    } rows[] = {
        {"Authorization: Bearer x", 1}, {"authorization:x", 1}, {"COOKIE: a=b", 1},
        {"Proxy-Authorization: b", 1},  {"x-api-key: k", 1},    {"X-Api-Key : k", 1},
        {"X-Api-Keys: k", 0},           {"Author: me", 0},      {"Accept: */*", 0},
        {"no colon here", 0},           {": empty name", 0},    {"Cookies: a", 0},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        if (provenance_secret(rows[i].line, &r) != (bool)rows[i].secret) fail_msg("%s", rows[i].line);
    }
    assert_false(provenance_secret("X-Api-Key: k", NULL));
}

static void test_header_redacted(void **state)
{
    (void)state;
    char out[64];
    assert_string_equal(provenance_header(out, sizeof(out), "Authorization: Bearer s3cret", NULL),
                        "Authorization: <redacted>");
    assert_string_equal(provenance_header(out, sizeof(out), "Accept: text/html", NULL), "Accept: text/html");
    assert_string_equal(provenance_header(out, 8, "Accept: text/html", NULL), "Accept:");
}

static void test_command_quoting(void **state)
{
    (void)state;
    static const struct {
        const char *argv[6];
        const char *want;
    } rows[] = {
        {{"run", "http://h:1/a?b=1&c=2", NULL}, "salvo run 'http://h:1/a?b=1&c=2'"},
        {{"run", "-r", "200", "-d", "5s", NULL}, "salvo run -r 200 -d 5s"},
        {{"run", "--threshold", "latency.p99 < 250ms", NULL}, "salvo run --threshold 'latency.p99 < 250ms'"},
        {{"run", "--body", "it's", NULL}, "salvo run --body 'it'\\''s'"},
        {{"run", "--body", "", NULL}, "salvo run --body ''"},
        {{"run", "-H", "Authorization: Bearer x", NULL}, "salvo run -H 'Authorization: <redacted>'"},
        {{"run", "--header=Cookie: a=b", NULL}, "salvo run '--header=Cookie: <redacted>'"},
        {{"run", "-HCookie: a=b", NULL}, "salvo run '-HCookie: <redacted>'"},
        {{"run", "--header", "Accept: */*", NULL}, "salvo run --header 'Accept: */*'"},
        {{"run", "-H", NULL}, "salvo run -H"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int argc = 0;
        while (rows[i].argv[argc])
            argc++;
        char out[256];
        size_t n = provenance_command(out, sizeof(out), argc, (char *const *)rows[i].argv, NULL);
        if (strcmp(out, rows[i].want) != 0) fail_msg("row %zu: got [%s], want [%s]", i, out, rows[i].want);
        assert_int_equal(n, strlen(rows[i].want));
    }
}

static void test_command_truncates_safely(void **state)
{
    (void)state;
    const char *argv[] = {"run", "http://example.invalid/a-long-path"};
    char out[12];
    size_t n = provenance_command(out, sizeof(out), 2, (char *const *)argv, NULL);
    assert_int_equal(strlen(out), sizeof(out) - 1);
    assert_true(n > sizeof(out));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_secret_names),
        cmocka_unit_test(test_header_redacted),
        cmocka_unit_test(test_command_quoting),
        cmocka_unit_test(test_command_truncates_safely),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

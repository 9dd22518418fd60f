/*
 * test_junit.c — the JUnit renderer: escaping (table), hostile strings in a
 * whole document, the counts, and the case rules for checks and health.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "report/junit.h"

/* junit_escape(in) into a fresh string. */
static char *escaped(const char *in)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    junit_escape(f, in);
    fclose(f);
    return buf;
}

static void test_escape_table(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"plain", "plain"},
        {"", ""},
        {"a<b>c", "a&lt;b&gt;c"},
        {"&amp;", "&amp;amp;"},
        {"\"q\" 'a'", "&quot;q&quot; &apos;a&apos;"},
        {"]]>", "]]&gt;"},
        {"line\nnext\ttab\rcr", "line&#10;next&#9;tab&#13;cr"},
        {"bell\x07!", "bell\xEF\xBF\xBD!"},
        {"esc\x1b[31m", "esc\xEF\xBF\xBD[31m"},
        {"\xc3\xa9t\xc3\xa9 \xc2\xb5s \xe2\x82\xac \xf0\x9f\x98\x80",
         "\xc3\xa9t\xc3\xa9 \xc2\xb5s \xe2\x82\xac \xf0\x9f\x98\x80"},
        {"bad \xff byte", "bad \xEF\xBF\xBD byte"},
        {"cut \xc3", "cut \xEF\xBF\xBD"},
        {"overlong \xc0\xaf", "overlong \xEF\xBF\xBD\xEF\xBF\xBD"},
        {"surrogate \xed\xa0\x80", "surrogate \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
        {"nonchar \xef\xbf\xbe", "nonchar \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *out = escaped(cases[i][0]);
        if (strcmp(out, cases[i][1])) fail_msg("case %zu: escaped '%s', want '%s'", i, out, cases[i][1]);
        free(out);
    }
    char *null_out = escaped(NULL);
    assert_string_equal(null_out, "");
    free(null_out);
}

/* The document of j as a string. */
static char *render(const struct junit *j)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(junit_write(j, f), 0);
    fclose(f);
    return buf;
}

/* Every '<' of doc opens one of the renderer's own tags, and no raw control byte is left. */
static void assert_inert(const char *doc)
{
    static const char *const tags[] = {"<?xml ",    "<testsuites", "</testsuites>", "<testsuite",    "</testsuite>",
                                       "<testcase", "</testcase>", "<failure",      "</failure>",    "<error",
                                       "</error>",  "<skipped",    "<properties>",  "</properties>", "<property "};
    for (const char *p = doc; (p = strchr(p, '<')); p++) {
        bool known = false;
        for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]) && !known; i++)
            known = !strncmp(p, tags[i], strlen(tags[i]));
        if (!known) fail_msg("stray '<' at: %.40s", p);
    }
    for (const char *p = doc; *p; p++)
        if ((unsigned char)*p < 0x20 && *p != '\n') fail_msg("raw control byte 0x%02x", (unsigned char)*p);
}

static void test_hostile_document(void **state)
{
    (void)state;
    const char *evil = "</testcase><testcase name=\"x\"> & \x01 \xfe ]]> '\"";
    struct junit j;
    junit_init(&j, evil);
    junit_property(&j, evil, evil);
    junit_case(&j, evil, evil, JUNIT_FAILURE, evil, evil, evil);
    junit_case(&j, evil, evil, JUNIT_ERROR, evil, evil, NULL);
    junit_case(&j, evil, evil, JUNIT_SKIPPED, NULL, evil, NULL);
    junit_case(&j, NULL, NULL, JUNIT_PASS, NULL, NULL, NULL);
    char *doc = render(&j);
    assert_inert(doc);
    assert_non_null(strstr(doc, "tests=\"4\" failures=\"1\" errors=\"1\" skipped=\"1\""));
    free(doc);
    junit_release(&j);
    junit_release(&j); /* idempotent */
}

/* A result with two checks, one of them judged by a threshold. */
static json_t *result_with_checks(bool valid, bool allow_invalid)
{
    return json_pack("{s:b, s:{s:b}, s:f, s:{s:i, s:i, s:i, s:i}, s:{s:{s:i, s:i}, s:{s:i, s:i}, s:{s:i, s:i}},"
                     " s:{s:{s:b, s:f, s:f, s:s}, s:{s:b, s:f, s:f, s:s}}, s:[s]}",
                     "valid", valid, "config", "allow_invalid", allow_invalid, "duration_s", 2.5, "requests",
                     "scheduled", 100, "ok", 90, "http_error", 0, "check_failed", 10, "checks", "all", "pass", 100,
                     "fail", 0, "some", "pass", 90, "fail", 10, "judged", "pass", 95, "fail", 5, "thresholds",
                     "checks{name=judged}.rate > 90%", "pass", 1, "observed", 0.95, "limit", 0.9, "unit", "ratio",
                     "latency.p99 < 1ms", "pass", 0, "observed", 2500.0, "limit", 1000.0, "unit", "us",
                     "invalid_reasons", "generator fell behind");
}

/* The kind of the case called name. */
static enum junit_kind kind_of(const struct junit *j, const char *name)
{
    for (size_t i = 0; i < j->ncases; i++)
        if (!strcmp(j->cases[i].name, name)) return j->cases[i].kind;
    fail_msg("no case '%s'", name);
    return JUNIT_PASS;
}

static void test_result_cases(void **state)
{
    (void)state;
    json_t *r = result_with_checks(true, false);
    struct junit j;
    junit_init(&j, "salvo run");
    junit_add_result(&j, "salvo.run", r);
    assert_int_equal(kind_of(&j, "valid measurement"), JUNIT_PASS);
    assert_int_equal(kind_of(&j, "not interrupted"), JUNIT_PASS);
    assert_int_equal(kind_of(&j, "got responses"), JUNIT_PASS);
    assert_int_equal(kind_of(&j, "check all"), JUNIT_PASS);
    assert_int_equal(kind_of(&j, "check some"), JUNIT_FAILURE); /* 90 %, no threshold on it */
    assert_int_equal(kind_of(&j, "check judged"), JUNIT_PASS);  /* 95 %, its threshold says > 90 % */
    assert_int_equal(kind_of(&j, "latency.p99 < 1ms"), JUNIT_FAILURE);
    assert_int_equal(junit_count(&j, JUNIT_ERROR), 0);
    for (size_t i = 0; i < j.ncases; i++)
        if (!strcmp(j.cases[i].name, "latency.p99 < 1ms"))
            assert_non_null(strstr(j.cases[i].message, "observed 2.50ms"));
    junit_release(&j);
    json_decref(r);

    r = result_with_checks(false, false);
    junit_init(&j, "salvo run");
    junit_add_result(&j, "salvo.run", r);
    assert_int_equal(kind_of(&j, "valid measurement"), JUNIT_ERROR);
    junit_release(&j);
    json_decref(r);

    r = result_with_checks(false, true);
    junit_init(&j, "salvo run");
    junit_add_result(&j, "salvo.run", r);
    assert_int_equal(kind_of(&j, "valid measurement"), JUNIT_SKIPPED);
    junit_release(&j);
    json_decref(r);

    /* Every response failed a check: those are responses, not "no response". */
    r = json_pack("{s:b, s:{s:i, s:i, s:i, s:i}}", "valid", 1, "requests", "scheduled", 10, "ok", 0, "http_error", 0,
                  "check_failed", 10);
    junit_init(&j, "salvo run");
    junit_add_result(&j, "salvo.run", r);
    assert_int_equal(kind_of(&j, "got responses"), JUNIT_PASS);
    junit_release(&j);
    json_decref(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_table),
        cmocka_unit_test(test_hostile_document),
        cmocka_unit_test(test_result_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_prom_text.c — the Prometheus text reader (src/http/prom_text.c):
 * TYPE and HELP lines, samples with labels, escapes, timestamps, the
 * special values, every kind; malformed lines skipped with their reason
 * while the lines around them still read; and every split of a valid body
 * at a line boundary reading the same samples.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/prom_text.h"

static const char *body = "# HELP http_requests_total The total number of HTTP requests.\n"
                          "# TYPE http_requests_total counter\n"
                          "http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\n"
                          "http_requests_total{method=\"post\",code=\"400\"}    3 1395066363000\n"
                          "\n"
                          "msdos_file_access_time_seconds{path=\"C:\\\\DIR\\\\FILE.TXT\",error=\"Cannot find "
                          "file:\\n\\\"FILE.TXT\\\"\"} 1.458255915e9\n"
                          "# A normal comment.\n"
                          "metric_without_timestamp_and_labels 12.47\n"
                          "something_weird{problem=\"division by zero\"} +Inf -3982045\n"
                          "# TYPE rpc_duration_seconds summary\n"
                          "rpc_duration_seconds{quantile=\"0.99\"} NaN\n"
                          "# TYPE h histogram\n"
                          "h_bucket{le=\"+Inf\",} 144320\r\n"
                          "neg -Inf";

static void test_reference_example(void **state)
{
    (void)state;
    struct prom_text_line l;
    const char *why;
    size_t pos = 0, len = strlen(body);
    assert_int_equal(prom_text_next(body, len, &pos, &l, &why), 1);
    assert_int_equal(l.type, PROM_LINE_HELP);
    assert_true(prom_text_str_eq(l.name, "http_requests_total"));
    assert_true(prom_text_str_eq(l.help, "The total number of HTTP requests."));
    assert_int_equal(prom_text_next(body, len, &pos, &l, &why), 1);
    assert_int_equal(l.type, PROM_LINE_TYPE);
    assert_int_equal(l.kind, PROM_COUNTER);
    assert_int_equal(prom_text_next(body, len, &pos, &l, &why), 1);
    assert_int_equal(l.type, PROM_LINE_SAMPLE);
    assert_int_equal(l.nlabels, 2);
    assert_true(prom_text_str_eq(l.labels[1].name, "code") && prom_text_str_eq(l.labels[1].value, "200"));
    assert_true(l.value == 1027 && l.has_timestamp && l.timestamp_ms == 1395066363000);
    assert_int_equal(prom_text_next(body, len, &pos, &l, &why), 1);
    assert_true(l.value == 3);
    assert_int_equal(prom_text_next(body, len, &pos, &l, &why), 1);
    char v[128];
    assert_int_equal(prom_text_unescape(prom_text_label(&l, "path")->value, v, sizeof(v)), strlen("C:\\DIR\\FILE.TXT"));
    assert_string_equal(v, "C:\\DIR\\FILE.TXT");
    prom_text_unescape(prom_text_label(&l, "error")->value, v, sizeof(v));
    assert_string_equal(v, "Cannot find file:\n\"FILE.TXT\"");
    assert_true(l.value == 1.458255915e9 && !l.has_timestamp);
    assert_int_equal(prom_text_next(body, len, &pos, &l, &why), 1);
    assert_true(prom_text_str_eq(l.name, "metric_without_timestamp_and_labels") && l.nlabels == 0 && l.value == 12.47);
    assert_int_equal(prom_text_next(body, len, &pos, &l, &why), 1);
    assert_true(isinf(l.value) && l.value > 0 && l.timestamp_ms == -3982045);
    assert_int_equal(prom_text_next(body, len, &pos, &l, &why), 1);
    assert_int_equal(l.kind, PROM_SUMMARY);
    assert_int_equal(prom_text_next(body, len, &pos, &l, &why), 1);
    assert_true(isnan(l.value));
    assert_int_equal(prom_text_next(body, len, &pos, &l, &why), 1);
    assert_int_equal(l.kind, PROM_HISTOGRAM);
    assert_int_equal(prom_text_next(body, len, &pos, &l, &why), 1);
    assert_true(prom_text_str_eq(prom_text_label(&l, "le")->value, "+Inf") && l.value == 144320);
    assert_int_equal(prom_text_next(body, len, &pos, &l, &why), 1); /* the last line has no newline */
    assert_true(isinf(l.value) && l.value < 0);
    assert_int_equal(prom_text_next(body, len, &pos, &l, &why), 0);
    assert_int_equal(pos, len);
}

static void test_malformed_lines_are_skipped(void **state)
{
    (void)state;
    static const struct {
        const char *line, *why;
    } cases[] = {
        {"1abc 2", "bad metric name"},
        {"{a=\"b\"} 2", "bad metric name"},
        {"x{a=b} 2", "bad label"},
        {"x{a=\"b\" c=\"d\"} 2", "bad label"},
        {"x{a=\"b} 2", "unterminated label value"},
        {"x{=\"b\"} 2", "bad label"},
        {"x", "bad value"},
        {"x 0x10", "bad value"},
        {"x infinity", "bad value"},
        {"x 1 2 3", "bad timestamp"},
        {"x 1 1.5", "bad timestamp"},
        {"# TYPE x wat", "unknown type"},
        {"# TYPE 9x counter", "bad metric name"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[256];
        snprintf(buf, sizeof(buf), "ok 1\n%s\nok 2\n", cases[i].line);
        struct prom_text_line l;
        const char *why = NULL;
        size_t pos = 0, len = strlen(buf);
        assert_int_equal(prom_text_next(buf, len, &pos, &l, &why), 1);
        assert_int_equal(prom_text_next(buf, len, &pos, &l, &why), -1);
        assert_string_equal(why, cases[i].why);
        assert_int_equal(prom_text_next(buf, len, &pos, &l, &why), 1);
        assert_true(l.value == 2);
        assert_int_equal(prom_text_next(buf, len, &pos, &l, &why), 0);
    }
    char many[2048] = "x{";
    for (int i = 0; i <= PROM_TEXT_MAX_LABELS; i++)
        snprintf(many + strlen(many), sizeof(many) - strlen(many), "l%d=\"v\",", i);
    strcat(many, "} 1\n");
    struct prom_text_line l;
    const char *why;
    size_t pos = 0;
    assert_int_equal(prom_text_next(many, strlen(many), &pos, &l, &why), -1);
    assert_string_equal(why, "too many labels");
    const char nul[] = "a 1\nb\0 2\nc 3\n";
    pos = 0;
    assert_int_equal(prom_text_next(nul, sizeof(nul) - 1, &pos, &l, &why), 1);
    assert_int_equal(prom_text_next(nul, sizeof(nul) - 1, &pos, &l, &why), -1);
    assert_string_equal(why, "NUL byte");
    assert_int_equal(prom_text_next(nul, sizeof(nul) - 1, &pos, &l, &why), 1);
    assert_true(l.value == 3);
}

/* A body cut at any byte never reads past the cut, and a cut at a line boundary reads the lines before it. */
static void test_every_cut(void **state)
{
    (void)state;
    size_t len = strlen(body);
    for (size_t cut = 0; cut <= len; cut++) {
        char *copy = malloc(cut ? cut : 1);
        memcpy(copy, body, cut);
        struct prom_text_line l;
        const char *why;
        size_t pos = 0;
        int n = 0;
        for (int rc; (rc = prom_text_next(copy, cut, &pos, &l, &why)) != 0 && n < 100; n++) {
            assert_true(pos <= cut);
            if (rc == 1) assert_true(l.name.p >= copy && l.name.p + l.name.len <= copy + cut);
        }
        assert_int_equal(pos, cut);
        free(copy);
    }
}

static void test_unescape_truncates(void **state)
{
    (void)state;
    struct prom_text_str s = {"ab\\\"cd", 6};
    char out[4];
    assert_int_equal(prom_text_unescape(s, out, sizeof(out)), 5);
    assert_string_equal(out, "ab\"");
    assert_string_equal(prom_text_kind_name(PROM_GAUGE), "gauge");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_example),
        cmocka_unit_test(test_malformed_lines_are_skipped),
        cmocka_unit_test(test_every_cut),
        cmocka_unit_test(test_unescape_truncates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

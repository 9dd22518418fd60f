/*
 * test_html.c — tests for the HTML report (src/report/html.c and the files
 * it is split into: html_fmt.c, html_charts.c, html_tables.c, svg.c).
 *
 * The page is rendered into a memory stream and searched: the two sample
 * results recorded from real runs (an open and a closed model against a
 * frozen server) must give charts, the right verdict and warning; hostile
 * strings in every place a result carries text must come out escaped;
 * degenerate results (empty, zero counts, an empty timeline, a corrupt
 * histogram) must render without crashing and without NaN coordinates.
 * Run it under ASan/UBSan too: the renderer walks untrusted JSON.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report/html.h"
#include "report/html_fmt.h"

/* ------------------------------------------------------------ helpers */

/* The sample results live next to the e2e tests; __FILE__ locates them. */
static json_t *load_sample(const char *name)
{
    char path[1024];
    const char *here = __FILE__, *cut = strstr(here, "unit/test_html.c");
    snprintf(path, sizeof(path), "%.*se2e/data/%s", cut ? (int)(cut - here) : 0, here, name);
    json_error_t err;
    json_t *doc = json_load_file(path, 0, &err);
    if (!doc) fail_msg("cannot load %s: %s", path, err.text);
    return doc;
}

/* Renders results into a malloc'd NUL-terminated string; *rc gets the return code. */
static char *render(json_t *const *results, const char *const *titles, size_t n, int *rc)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_non_null(out);
    *rc = report_html_write(out, results, titles, n);
    fclose(out);
    return buf;
}

/* Number of times needle occurs in hay. */
static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* Fails unless every '<' in html opens or closes a tag the renderer itself
 * writes: then no string from a result can have become markup. */
static void assert_only_known_tags(const char *html)
{
    static const char *const tags[] = {
        "!DOCTYPE", "html", "head", "meta",   "title",      "style",   "body",    "main",  "header",
        "footer",   "h1",   "h2",   "h3",     "p",          "section", "div",     "span",  "strong",
        "b",        "i",    "a",    "ul",     "li",         "table",   "caption", "thead", "tbody",
        "tr",       "th",   "td",   "figure", "figcaption", "dl",      "dt",      "dd",    "pre",
        "code",     "svg",  "rect", "line",   "text",       "g",       "path",    "circle"};
    for (const char *lt = strchr(html, '<'); lt; lt = strchr(lt + 1, '<')) {
        const char *name = lt[1] == '/' ? lt + 2 : lt + 1;
        size_t len = strcspn(name, " >/\n");
        bool known = false;
        for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]) && !known; i++)
            known = strlen(tags[i]) == len && strncmp(name, tags[i], len) == 0;
        if (!known) fail_msg("unexpected markup: %.40s", lt);
    }
}

/* Structural checks every rendered page must pass. */
static void assert_sane_page(const char *html)
{
    assert_non_null(strstr(html, "<!DOCTYPE html>"));
    assert_non_null(strstr(html, "</html>\n"));
    assert_int_equal(count_of(html, "<svg"), count_of(html, "</svg>"));
    assert_int_equal(count_of(html, "<table"), count_of(html, "</table>"));
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "nan"));
    assert_null(strstr(html, "inf "));
    assert_null(strstr(html, " src=\""));
    assert_null(strstr(html, " href=\"http"));
    assert_null(strstr(html, "url("));
    assert_only_known_tags(html);
}

/* ------------------------------------------------------------ tests */

static void test_open_sample(void **state)
{
    (void)state;
    json_t *r = load_sample("sample-open-freeze.json");
    const char *title = "open model & freeze";
    int rc;
    char *html = render(&r, &title, 1, &rc);
    assert_int_equal(rc, 0);
    assert_sane_page(html);
    assert_true(count_of(html, "<svg") >= 4);
    assert_non_null(strstr(html, "Invalid measurement"));
    assert_non_null(strstr(html, "generator fell behind its schedule"));
    assert_non_null(strstr(html, "open model &amp; freeze"));
    assert_non_null(strstr(html, "Percentile spectrum of latency and service time"));
    assert_non_null(strstr(html, ">99.99%<"));
    assert_non_null(strstr(html, ">50%<"));
    assert_non_null(strstr(html, "1.91\xc2\xa0s"));  /* latency p99 */
    assert_non_null(strstr(html, "TcpExt.TW<"));     /* a non-zero kernel delta */
    assert_null(strstr(html, "TcpExt.ListenDrops")); /* a zero one */
    assert_null(strstr(html, "Coordinated omission"));
    assert_null(strstr(html, "(summary)")); /* the histograms decoded */
    free(html);
    json_decref(r);
}

static void test_closed_sample(void **state)
{
    (void)state;
    json_t *r = load_sample("sample-closed-freeze.json");
    int rc;
    char *html = render(&r, NULL, 1, &rc);
    assert_int_equal(rc, 0);
    assert_sane_page(html);
    assert_non_null(strstr(html, "Valid measurement"));
    assert_non_null(strstr(html, "Coordinated omission"));
    assert_non_null(strstr(html, "subject to coordinated omission"));
    assert_non_null(strstr(html, "latency*"));
    free(html);
    json_decref(r);
}

static void test_several_results(void **state)
{
    (void)state;
    json_t *r[3] = {load_sample("sample-closed-freeze.json"), load_sample("sample-closed-freeze.json"),
                    load_sample("sample-open-freeze.json")};
    const char *titles[3] = {"naive", NULL, "honest"};
    int rc;
    char *html = render(r, titles, 3, &rc);
    assert_int_equal(rc, 0);
    assert_sane_page(html);
    assert_non_null(strstr(html, "Side by side"));
    assert_non_null(strstr(html, "Latency percentile spectrum of every result"));
    assert_int_equal(count_of(html, "<section class=\"result\""), 3);
    assert_non_null(strstr(html, "id=\"result-3\""));
    assert_non_null(strstr(html, ">3. honest<"));
    assert_non_null(strstr(html, ">2. /<")); /* no title: the request name */
    free(html);
    for (int i = 0; i < 3; i++)
        json_decref(r[i]);
}

/* The drain row after the send phase (t = 10 of a 10 s run) is not a second
 * of load: count charts stop before it, latency charts keep its responses. */
static void test_drain_row_is_not_a_second_of_load(void **state)
{
    (void)state;
    json_t *r = load_sample("sample-closed-freeze.json");
    int rc;
    char *html = render(&r, NULL, 1, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(html, "<title>9–10s  ·  sent "));
    assert_null(strstr(html, "<title>10–11s  ·  sent "));
    assert_non_null(strstr(html, "<title>10–11s  ·  p50 "));
    free(html);
    json_decref(r);
}

/* Validity is the generator's: a valid run whose requests failed, or that
 * was interrupted, leads with its own health, and the not-ok card is red. */
static void test_a_sick_valid_run_is_not_green(void **state)
{
    (void)state;
    json_t *r = load_sample("sample-closed-freeze.json");
    json_t *requests = json_object_get(r, "requests");
    json_object_set_new(requests, "ok", json_integer(303251));
    json_object_set_new(requests, "failed", json_integer(142706));
    json_object_set_new(r, "interrupted", json_true());
    json_object_set_new(r, "duration_s", json_real(2.0));
    json_object_set_new(json_object_get(r, "config"), "duration_s", json_real(5.0));
    int rc;
    char *html = render(&r, NULL, 1, &rc);
    assert_int_equal(rc, 0);
    assert_sane_page(html);
    assert_null(strstr(html, "class=\"verdict valid\""));
    const char *box = strstr(html, "<div class=\"verdict unhealthy\"><strong>✗ Interrupted after 2.0 s of the "
                                   "planned 5.0 s · 32.00 % of requests not ok</strong> — 142\xe2\x80\xaf"
                                   "706 failed");
    assert_non_null(box);
    const char *valid = strstr(box, "<b class=\"ok\">✓ Valid measurement</b>");
    const char *end = strstr(box, "<div class=\"cards\">");
    assert_true(valid && end && valid < end);
    assert_non_null(strstr(html, "<div class=\"card bad\"><span>not ok</span><b>32.00%</b>"));
    free(html);
    json_decref(r);
}

/* Adds thresholds to r as thresholds_apply writes them: two failed, one passed. */
static void add_thresholds(json_t *r)
{
    json_t *th = json_object();
    json_object_set_new(th, "latency.p99 < 1s",
                        json_pack("{s:b,s:f,s:f,s:s,s:s}", "pass", 0, "observed", 500223.0, "limit", 1e6, "unit", "us",
                                  "note", "p99 >= 500.22ms: requests timed out, so the true value is unknown"));
    json_object_set_new(th, "errors.rate < 1%",
                        json_pack("{s:b,s:f,s:f,s:s}", "pass", 0, "observed", 0.3, "limit", 0.01, "unit", "ratio"));
    json_object_set_new(th, "requests.count > 10",
                        json_pack("{s:b,s:f,s:f,s:s}", "pass", 1, "observed", 800.0, "limit", 10.0, "unit", "count"));
    json_object_set_new(r, "thresholds", th);
}

/* A valid run that failed thresholds: validity stays "valid", but the
 * failures lead the verdict box and the comparison has a thresholds row. */
static void test_failed_thresholds_lead_the_verdict(void **state)
{
    (void)state;
    json_t *r[2] = {load_sample("sample-closed-freeze.json"), load_sample("sample-closed-freeze.json")};
    assert_true(json_is_true(json_object_get(r[0], "valid")));
    int rc;
    char *html = render(r, NULL, 1, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(html, "<div class=\"verdict valid\"><strong>✓ Valid measurement</strong>"));
    assert_null(strstr(html, "thresholds failed"));
    assert_null(strstr(html, "<th>thresholds</th>"));
    free(html);

    add_thresholds(r[0]);
    html = render(r, NULL, 1, &rc);
    assert_int_equal(rc, 0);
    assert_sane_page(html);
    const char *box = strstr(html, "<div class=\"verdict failed\"><strong>✗ 2 thresholds failed</strong>");
    assert_non_null(box);
    const char *end = strstr(box, "<div class=\"cards\">"); /* the box ends before the headline figures */
    assert_non_null(end);
    const char *p99 = strstr(box, "<code>latency.p99 &lt; 1s</code> — p99 &gt;= 500.22ms: requests timed out");
    const char *rate = strstr(box, "<code>errors.rate &lt; 1%</code>");
    assert_true(p99 && p99 < end && rate && rate < end);
    const char *passed = strstr(box, "requests.count");
    assert_true(!passed || passed > end);                                       /* only the failed ones in the box */
    const char *valid = strstr(box, "<b class=\"ok\">✓ Valid measurement</b>"); /* still valid, as a second verdict */
    assert_true(valid && valid < end);
    assert_null(strstr(html, "<strong>✓ Valid measurement</strong>"));
    free(html);

    html = render(r, NULL, 2, &rc);
    assert_int_equal(rc, 0);
    assert_sane_page(html);
    const char *row = strstr(html, "<tr><th>thresholds</th><td class=\"num bad\">✗ 2 of 3 failed</td>"
                                   "<td class=\"num muted\">—</td></tr>");
    assert_non_null(row);
    assert_non_null(strstr(html, "<tr><th>verdict</th><td class=\"num ok\">valid</td>"));
    free(html);
    json_decref(r[0]);
    json_decref(r[1]);
}

/* A result with a hostile string everywhere the contract carries text. */
static const char hostile_json[] =
    "{\"tool\":\"<zb>t</zb>\",\"version\":\"\\\"v\",\"model\":\"open<zi>\",\"valid\":false,"
    "\"invalid_reasons\":[\"<script>alert(1)</script>\"],\"warning\":\"<script>w</script>\","
    "\"config\":{\"url\":\"http://x/<script>alert('u')</script>?a=1&b=2\",\"name\":\"<img src=x onerror=alert(1)>\","
    "\"method\":\"GET\\\" onload=\\\"x\",\"command\":\"salvo run '<script>'\",\"<zk>\":\"<zv>\"},"
    "\"requests\":{\"scheduled\":10,\"ok\":5,\"http_error\":5},\"status\":{\"<zs>\":5,\"500\":5},"
    "\"errors\":{\"<ze>\":1},\"connect_errors\":{\"<zE>\":1},\"first_error\":\"<script>f</script>\","
    "\"groups\":{\"<script>g</script>\":{\"requests\":10,\"status\":{\"<zc>\":1}}},"
    "\"checks\":{\"<zh>body contains '<'\":{\"pass\":1,\"fail\":1}},"
    "\"kernel\":{\"<script>k</script>\":3},\"pool\":{\"<zp>\":{\"<zq>\":\"<zr>\"}},"
    "\"thresholds\":{\"latency{name=<script>}.p99 < 1ms\":{\"pass\":false,\"limit\":1000,\"unit\":\"us\","
    "\"note\":\"<script>n</script>\"}},"
    "\"chaos\":[{\"start_s\":1,\"end_s\":2,\"action\":\"<script>c</script>\",\"<zx>\":\"<zy>\"}],"
    "\"timeline\":[{\"t\":0,\"sent\":5,\"done\":5,\"p50_us\":100,\"p99_us\":200,\"max_us\":300},"
    "{\"t\":1,\"sent\":5,\"done\":5,\"p50_us\":100,\"p99_us\":200,\"max_us\":300}]}";

static void test_hostile_strings_are_escaped(void **state)
{
    (void)state;
    json_error_t err;
    json_t *r = json_loads(hostile_json, 0, &err);
    if (!r) fail_msg("bad test JSON: %s", err.text);
    const char *title = "<script>title</script>\"'&";
    int rc;
    char *html = render(&r, &title, 1, &rc);
    assert_int_equal(rc, 0);
    assert_sane_page(html);
    /* No tag but ours: every '<' from the JSON became &lt;. */
    static const char *const raw[] = {"<zb>", "<zi>", "<img", "<zk>", "<zv>", "<zs>",      "<ze>",       "<zE>", "<zc>",
                                      "<zp>", "<zq>", "<zr>", "<zx>", "<zy>", "onload=\"", "alert('u')", "<zh>"};
    for (size_t i = 0; i < sizeof(raw) / sizeof(raw[0]); i++)
        if (strstr(html, raw[i])) fail_msg("unescaped '%s' in the page", raw[i]);
    assert_non_null(strstr(html, "&lt;script&gt;title&lt;/script&gt;&quot;&#39;&amp;"));
    assert_non_null(strstr(html, "?a=1&amp;b=2"));
    assert_non_null(strstr(html, "&lt;img src=x onerror=alert(1)&gt;"));
    assert_non_null(strstr(html, "GET&quot; onload=&quot;x"));
    assert_non_null(strstr(html, "&lt;script&gt;c&lt;/script&gt;")); /* chaos action, table and chart */
    assert_non_null(strstr(html, "latency{name=&lt;script&gt;}.p99 &lt; 1ms"));
    free(html);
    json_decref(r);
}

static void test_degenerate_results(void **state)
{
    (void)state;
    static const char *const docs[] = {
        "{}",
        "{\"config\":{},\"timeline\":[],\"requests\":{\"scheduled\":0},\"latency_us\":{\"count\":0},"
        "\"groups\":{},\"status\":{},\"kernel\":{},\"thresholds\":{},\"chaos\":[]}",
        /* A second with no completions, a corrupt histogram, odd types everywhere. */
        "{\"model\":\"closed\",\"valid\":true,\"timeline\":[{\"t\":0,\"sent\":0,\"done\":0,\"p50_us\":0,"
        "\"p99_us\":0,\"max_us\":0,\"inflight\":0,\"conns\":0}],\"latency_us\":{\"count\":3,\"min\":1,\"p50\":2,"
        "\"p90\":3,\"p99\":4,\"max\":5},\"hdr\":{\"latency_us\":\"HISTFAAAAbad!!\",\"service_time_us\":7},"
        "\"requests\":\"x\",\"status\":[1],\"groups\":{\"a\":3},\"pool\":[],\"generator\":{\"cpu_pct_per_thread\":"
        "[\"x\",null]},\"kernel\":{\"a\":\"b\"},\"thresholds\":{\"rate.achieved >= 99%\":true},"
        "\"chaos\":[{\"start_s\":5,\"end_s\":3},7],\"config\":{\"rate\":\"fast\",\"threads\":[1,2]},"
        "\"checks\":{\"a\":7,\"b\":{\"pass\":\"x\",\"fail\":null},\"c\":{\"pass\":0,\"fail\":0}}}",
        /* Rows without t, huge and negative numbers. */
        "{\"timeline\":[{},{\"t\":-5,\"sent\":-1,\"p50_us\":1e300},{\"t\":1e9,\"done\":1}],\"duration_s\":-1,"
        "\"latency_us\":{\"count\":-1,\"max\":-3,\"timeout_us\":-1,\"lower_bounds\":true}}",
    };
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        json_error_t err;
        json_t *r = json_loads(docs[i], 0, &err);
        if (!r) fail_msg("bad test JSON %zu: %s", i, err.text);
        int rc;
        char *html = render(&r, NULL, 1, &rc);
        assert_int_equal(rc, 0);
        assert_sane_page(html);
        if (i < 2) {
            assert_non_null(strstr(html, "No per-second data"));
            assert_non_null(strstr(html, "No latency recorded"));
        }
        if (i == 2) assert_non_null(strstr(html, "(summary)")); /* the corrupt hdr was not used */
        free(html);
        json_decref(r);
    }
}

/* The per-check table: one row per check with its counts and pass rate, none without checks. */
static void test_checks_table(void **state)
{
    (void)state;
    json_t *r = load_sample("sample-closed-freeze.json");
    int rc;
    char *html = render(&r, NULL, 1, &rc);
    assert_int_equal(rc, 0);
    assert_null(strstr(html, "<caption>Checks"));
    free(html);
    json_error_t err;
    json_t *checks = json_loads("{\"routed: json.error absent\":{\"pass\":900,\"fail\":100,\"body_too_large\":3},"
                                "\"status == 200\":{\"pass\":1000,\"fail\":0,\"body_too_large\":0}}",
                                0, &err);
    assert_non_null(checks);
    json_object_set_new(r, "checks", checks);
    html = render(&r, NULL, 1, &rc);
    assert_int_equal(rc, 0);
    assert_sane_page(html);
    const char *table = strstr(html, "<caption>Checks");
    assert_non_null(table);
    assert_non_null(strstr(table, "<th class=\"num\">pass</th><th class=\"num\">fail</th><th class=\"num\">rate</th>"
                                  "<th class=\"num\">body_too_large</th>"));
    assert_non_null(strstr(table, "<tr><th class=\"name\"><code>routed: json.error absent</code></th>"
                                  "<td class=\"num\">900</td><td class=\"num\">100</td>"
                                  "<td class=\"num bad\">90.00%</td><td class=\"num\">3</td></tr>"));
    assert_non_null(strstr(table, "<tr><th class=\"name\"><code>status == 200</code></th>"
                                  "<td class=\"num\">1000</td><td class=\"num\">0</td>"
                                  "<td class=\"num ok\">100.00%</td><td class=\"num\">0</td></tr>"));
    assert_true(strstr(html, "<h3>Per name</h3>") > table); /* under Outcomes, before the names */
    assert_null(strstr(html, "kept-body budget"));
    free(html);
    json_object_set_new(r, "body_budget",
                        json_pack("{s:i,s:i,s:i,s:i}", "budget_bytes", 98304, "waits", 21, "wait_us_total", 6307269,
                                  "wait_us_max", 300799));
    html = render(&r, NULL, 1, &rc);
    assert_int_equal(rc, 0);
    assert_sane_page(html);
    assert_non_null(strstr(html, "21 responses waited for room in the kept-body budget (total 6.31\xc2\xa0s, longest "
                                 "301\xc2\xa0ms)"));
    assert_null(strstr(html, "were not kept"));
    free(html);
    json_object_set_new(json_object_get(r, "body_budget"), "not_kept", json_integer(7));
    html = render(&r, NULL, 1, &rc);
    assert_int_equal(rc, 0);
    assert_sane_page(html);
    assert_non_null(strstr(html, "7 h2 response bodies found no room in the kept-body budget and were not kept"));
    free(html);
    json_decref(r);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    json_t *arr = json_array(), *obj = json_object();
    json_t *mixed[2] = {obj, arr};
    int rc;
    char *html = render(mixed, NULL, 0, &rc);
    assert_int_equal(rc, -EINVAL);
    assert_string_equal(html, "");
    free(html);
    html = render(mixed, NULL, 2, &rc);
    assert_int_equal(rc, -EINVAL);
    assert_string_equal(html, "");
    free(html);
    assert_int_equal(report_html_file("/nonexistent-dir/x.html", &obj, NULL, 1), -ENOENT);
    char path[] = "/tmp/test_html_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(report_html_file(path, &obj, NULL, 1), 0);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char head[16] = {0};
    assert_true(fread(head, 1, 15, f) == 15);
    fclose(f);
    unlink(path);
    assert_string_equal(head, "<!DOCTYPE html>");
    json_decref(arr);
    json_decref(obj);
}

static void test_formatting(void **state)
{
    (void)state;
    char b[HTML_FMT_MAX];
    assert_string_equal(html_fmt_us(b, sizeof(b), 850), "850\xc2\xa0µs");
    assert_string_equal(html_fmt_us(b, sizeof(b), 5383), "5.38\xc2\xa0ms");
    assert_string_equal(html_fmt_us(b, sizeof(b), 207411.5), "207\xc2\xa0ms");
    assert_string_equal(html_fmt_us(b, sizeof(b), 999700), "1.00\xc2\xa0s");
    assert_string_equal(html_fmt_us(b, sizeof(b), 1910783), "1.91\xc2\xa0s");
    assert_string_equal(html_fmt_us_short(b, sizeof(b), 1e5), "100ms");
    assert_string_equal(html_fmt_count(b, sizeof(b), 1000), "1000");
    assert_string_equal(html_fmt_count(b, sizeof(b), 445957), "445\xe2\x80\xaf"
                                                              "957");
    assert_string_equal(html_fmt_count(b, sizeof(b), -1234567), "-1\xe2\x80\xaf"
                                                                "234\xe2\x80\xaf"
                                                                "567");
    assert_string_equal(html_fmt_rate(b, sizeof(b), 44595.7), "44\xe2\x80\xaf"
                                                              "596");
    assert_string_equal(html_fmt_rate(b, sizeof(b), 2.5), "2.5");
    assert_string_equal(html_fmt_si(b, sizeof(b), 45000), "45k");
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    html_esc(f, "<a href=\"x\">'&'</a>");
    html_esc(f, NULL);
    fclose(f);
    assert_string_equal(out, "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_sample),
        cmocka_unit_test(test_closed_sample),
        cmocka_unit_test(test_several_results),
        cmocka_unit_test(test_failed_thresholds_lead_the_verdict),
        cmocka_unit_test(test_drain_row_is_not_a_second_of_load),
        cmocka_unit_test(test_a_sick_valid_run_is_not_green),
        cmocka_unit_test(test_hostile_strings_are_escaped),
        cmocka_unit_test(test_degenerate_results),
        cmocka_unit_test(test_checks_table),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_formatting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

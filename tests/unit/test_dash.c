/*
 * test_dash.c — the dashboard: the request parser (table), and a server
 * started on a kernel-chosen port that is fed seconds and finished, read
 * back over a real socket (rows, the long poll's from, the final state),
 * then stopped with a client still connected.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "report/dash.h"

static void test_parse_table(void **state)
{
    (void)state;
    static const struct {
        const char *head;
        enum dash_route route;
        uint32_t from;
        bool wait;
    } cases[] = {
        {"GET / HTTP/1.1\r\n\r\n", DASH_PAGE, 0, false},
        {"GET /index.html HTTP/1.1\r\n\r\n", DASH_PAGE, 0, false},
        {"GET /data HTTP/1.1\r\n\r\n", DASH_DATA, 0, false},
        {"GET /data?from=42&wait=1 HTTP/1.1\r\n\r\n", DASH_DATA, 42, true},
        {"GET /data?wait=1&from=7 HTTP/1.0\n\n", DASH_DATA, 7, true},
        {"GET /data?from=99999999999999999 HTTP/1.1\r\n\r\n", DASH_DATA, 100000000, false},
        {"GET /data?xfrom=5&wait=2 HTTP/1.1\r\n\r\n", DASH_DATA, 0, false},
        {"GET /datax HTTP/1.1\r\n\r\n", DASH_NOT_FOUND, 0, false},
        {"GET /../etc/passwd HTTP/1.1\r\n\r\n", DASH_NOT_FOUND, 0, false},
        {"POST /data HTTP/1.1\r\n\r\n", DASH_BAD_METHOD, 0, false},
        {"get / HTTP/1.1\r\n\r\n", DASH_BAD_METHOD, 0, false},
        {"GET /data\r\n\r\n", DASH_BAD_REQUEST, 0, false},
        {"\r\n\r\n", DASH_BAD_REQUEST, 0, false},
        {"GET / HTTP/1.1\r\nHost: 127.0.0.1:8089\r\n\r\n", DASH_PAGE, 0, false},
        {"GET /data HTTP/1.1\r\nhost: [::1]:8089\r\n\r\n", DASH_DATA, 0, false},
        {"GET / HTTP/1.1\r\nHost: LocalHost:1\r\n\r\n", DASH_PAGE, 0, false},
        {"GET / HTTP/1.1\r\nUser-Agent: x\r\nHost:  localhost \r\n\r\n", DASH_PAGE, 0, false},
        {"GET /data HTTP/1.1\r\nHost: evil.example:8089\r\n\r\n", DASH_BAD_HOST, 0, false},
        {"GET / HTTP/1.1\r\nHost: localhost.evil.example\r\n\r\n", DASH_BAD_HOST, 0, false},
        {"GET / HTTP/1.1\r\nHost: 127.0.0.1.nip.io\r\n\r\n", DASH_BAD_HOST, 0, false},
        {"GET / HTTP/1.1\r\nHost: \r\n\r\n", DASH_BAD_HOST, 0, false},
        {"", DASH_BAD_REQUEST, 0, false},
        {"GET /data?from=abc HTTP/1.1\r\n\r\n", DASH_BAD_REQUEST, 0, false},
        {"GET /data?from=-1&wait=1 HTTP/1.1\r\n\r\n", DASH_BAD_REQUEST, 0, false},
        {"GET /data?wait=1&from= HTTP/1.1\r\n\r\n", DASH_BAD_REQUEST, 0, false},
        {"GET /data?from=12x HTTP/1.1\r\n\r\n", DASH_BAD_REQUEST, 0, false},
        {"GET /data?from=1e3 HTTP/1.1\r\n\r\n", DASH_BAD_REQUEST, 0, false},
        {"GET /data?from=0&wait=yes HTTP/1.1\r\n\r\n", DASH_DATA, 0, false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct dash_request rq;
        dash_parse_request(cases[i].head, strlen(cases[i].head), &rq);
        if (rq.route != cases[i].route || rq.from != cases[i].from || rq.wait != cases[i].wait)
            fail_msg("case %zu '%s': route %d from %u wait %d", i, cases[i].head, rq.route, rq.from, rq.wait);
        bool bad_from = strstr(cases[i].head, "/data?") && rq.route == DASH_BAD_REQUEST;
        if (bad_from != (rq.reason != NULL))
            fail_msg("case %zu '%s': reason %s", i, cases[i].head, rq.reason ? rq.reason : "(none)");
    }
}

/* The port of a "http://127.0.0.1:PORT/" URL. */
static int port_of(const char *url)
{
    const char *colon = strrchr(url, ':');
    return colon ? atoi(colon + 1) : -1;
}

/* One request on a fresh connection; returns the whole answer (malloc'd). */
static char *http_get(int port, const char *path)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    char req[256];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);
    assert_int_equal(write(fd, req, (size_t)n), n);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    ssize_t r;
    while ((r = read(fd, buf + len, cap - 1 - len)) > 0)
        len += (size_t)r;
    buf[len] = '\0';
    close(fd);
    return buf;
}

/* A merged second with n latencies of us each. */
static void fake_second(struct interval *iv, uint64_t n, int64_t us)
{
    memset(iv, 0, sizeof(*iv));
    assert_int_equal(hist_init(&iv->latency, HIST_STD_LOWEST, HIST_STD_HIGHEST, HIST_STD_SIGFIG), 0);
    for (uint64_t i = 0; i < n; i++)
        hist_record(&iv->latency, us);
    iv->sent = iv->done = n;
}

static void test_server_feed(void **state)
{
    (void)state;
    struct run_config cfg = {.url_text = "http://127.0.0.1:1/<x>",
                             .method = "GET",
                             .rate = 10,
                             .duration_ns = 3000000000ull,
                             .threads = 1,
                             .connections = 4,
                             .timeout_ns = 1000000000ull,
                             .max_lag_ns = 1000000};
    struct threshold thr;
    const char *why;
    assert_int_equal(threshold_parse(&thr, "latency.p99 < 1s", &why), 0);
    const double spans[1][2] = {{1, 2}};
    const char *actions[1] = {"pause"};
    struct dash_info info = {
        .cfg = &cfg, .thresholds = &thr, .nthresholds = 1, .chaos = spans, .chaos_action = actions, .nchaos = 1};
    static struct dash d;
    assert_int_equal(dash_start(&d, "127.0.0.1:0", &info), 0);
    int port = port_of(d.url);
    assert_true(port > 0);
    for (uint32_t t = 0; t < 3; t++) {
        struct interval iv;
        fake_second(&iv, 10, 1000 + t);
        struct timeline_row row = {
            .t = t, .sent = 10, .done = 10, .p50_us = 1000, .p99_us = 1000, .max_us = 1000, .arrivals = 10};
        dash_second(&d, &cfg, &row, &iv);
        hist_release(&iv.latency);
    }
    char *all = http_get(port, "/data");
    assert_non_null(strstr(all, "HTTP/1.1 200"));
    assert_non_null(strstr(all, "\"nrows\":3"));
    assert_non_null(strstr(all, "\"t\":2,"));
    assert_non_null(strstr(all, "\"verdict\":\"RUNNING\""));
    assert_non_null(strstr(all, "\"pass\":true"));
    assert_non_null(strstr(all, "\"action\":\"pause\""));
    assert_non_null(strstr(all, "http://127.0.0.1:1/<x>")); /* JSON: the page escapes it, not the feed */
    assert_null(strstr(all, "\"scrape\""));
    free(all);
    /* The hook for scraped series: present in the feed once published. */
    dash_scrape(&d, "[{\"name\":\"queue\",\"points\":[[0,1],[1,null]]}]");
    char *scraped = http_get(port, "/data?from=3");
    assert_non_null(strstr(scraped, "\"scrape\":[{\"name\":\"queue\""));
    free(scraped);
    char *tail = http_get(port, "/data?from=2");
    assert_non_null(strstr(tail, "\"from\":2"));
    assert_null(strstr(tail, "\"t\":1,"));
    assert_non_null(strstr(tail, "\"t\":2,"));
    free(tail);
    char *page = http_get(port, "/");
    assert_non_null(strstr(page, "text/html"));
    assert_non_null(strstr(page, "<svg id=\"ch-lat\""));
    free(page);
    char *nf = http_get(port, "/nope");
    assert_non_null(strstr(nf, "HTTP/1.1 404"));
    free(nf);
    json_t *result = json_pack("{s:f, s:{s:i, s:i}, s:{s:{s:b, s:f, s:f, s:s}}}", "duration_s", 3.0, "requests",
                               "scheduled", 30, "ok", 30, "thresholds", "latency.p99 < 1s", "pass", 1, "observed",
                               1000.0, "limit", 1e6, "unit", "us");
    dash_finish(&d, result, 0);
    char *fin = http_get(port, "/data?from=3&wait=1"); /* the run ended: answered at once */
    assert_non_null(strstr(fin, "\"ended\":true"));
    assert_non_null(strstr(fin, "\"verdict\":\"PASS\""));
    free(fin);
    json_decref(result);
    /* A client that connects and says nothing does not hold the stop. */
    int idle = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(idle, (struct sockaddr *)&a, sizeof(a)), 0);
    dash_stop(&d);
    dash_stop(&d); /* idempotent */
    char c;
    assert_true(read(idle, &c, 1) <= 0);
    close(idle);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_server_feed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

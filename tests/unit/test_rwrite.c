/*
 * test_rwrite.c — the remote-write pusher against a loopback receiver that
 * refuses every first attempt with a 500 and accepts the retry: each retry
 * carries the failed push's bytes exactly, and across the accepted pushes
 * every series' samples are in strictly increasing time with none lost
 * (what Prometheus requires). Also the checks of --remote-write-header.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "report/rwrite.h"
#include "rw_decode.h"

#define MAX_POSTS 64

/* The receiver: every request's body, answered 500 then 204 in turn (or always 400). */
struct receiver {
    int lfd;
    bool always_400;
    bool hold_first; /* answer the first push only once release is set, then 204 to every push */
    volatile int release;
    char *bodies[MAX_POSTS];
    size_t lens[MAX_POSTS];
    int nposts;
    volatile int stop;
};

/* Reads one request (head, then Content-Length bytes); returns its body or NULL. */
static char *read_request(int fd, size_t *blen)
{
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        ssize_t r = recv(fd, buf + n, cap - n - 1, 0);
        if (r <= 0) break;
        n += (size_t)r;
        buf[n] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        const char *cl = strstr(buf, "Content-Length: ");
        if (!end || !cl) continue;
        size_t want = (size_t)atol(cl + 16), head = (size_t)(end + 4 - buf);
        if (n >= head + want) {
            assert_non_null(strstr(buf, "Content-Encoding: snappy\r\n"));
            assert_non_null(strstr(buf, "Content-Type: application/x-protobuf\r\n"));
            assert_non_null(strstr(buf, "X-Prometheus-Remote-Write-Version: 0.1.0\r\n"));
            assert_non_null(strstr(buf, "X-Scope-OrgID: tenant-1\r\n"));
            char *body = malloc(want ? want : 1);
            memcpy(body, buf + head, want);
            *blen = want;
            free(buf);
            return body;
        }
    }
    free(buf);
    return NULL;
}

static void *serve(void *arg)
{
    struct receiver *rc = arg;
    while (!rc->stop && rc->nposts < MAX_POSTS) {
        int fd = accept(rc->lfd, NULL, NULL);
        if (fd < 0) break;
        size_t len;
        char *body = read_request(fd, &len);
        if (body) {
            bool fail = !rc->hold_first && rc->nposts % 2 == 0;
            rc->bodies[rc->nposts] = body;
            rc->lens[rc->nposts++] = len;
            for (int i = 0; rc->hold_first && rc->nposts == 1 && !rc->release && i < 1500; i++)
                usleep(1000); /* bounded: under the push's 2 s deadline */
            const char *answer = rc->always_400 ? "HTTP/1.1 400 Bad Request\r\nContent-Length: 12\r\n\r\nout of order"
                                 : fail ? "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 5\r\n\r\nbusy\n"
                                        : "HTTP/1.1 204 No Content\r\n\r\n";
            send(fd, answer, strlen(answer), MSG_NOSIGNAL);
        }
        close(fd);
    }
    return NULL;
}

static int listen_loopback(unsigned *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 8), 0);
    socklen_t l = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &l);
    *port = ntohs(a.sin_port);
    return fd;
}

/* A pusher on shard 1/2 of run 'run42' against a receiver thread; what rwrite borrows lives here. */
struct rig {
    struct receiver *rc;
    pthread_t t;
    struct rwrite_opts o;
    char *names[1];
    struct reqgen gen;
    struct run_config cfg;
    struct rwrite w;
};

static void rig_start(struct rig *g, struct receiver *rc)
{
    unsigned port;
    g->rc = rc;
    rc->lfd = listen_loopback(&port);
    pthread_create(&g->t, NULL, serve, rc);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/api/v1/write", port);
    const char *why;
    g->o = (struct rwrite_opts){0};
    assert_int_equal(rwrite_opts_url(&g->o, url, &why), 0);
    assert_int_equal(rwrite_opts_header(&g->o, "X-Scope-OrgID:   tenant-1", &why), 0);
    g->names[0] = "alpha";
    g->gen = (struct reqgen){.names = g->names, .nnames = 1};
    g->cfg = (struct run_config){.gen = &g->gen, .shard = 1, .nshards = 2, .max_lag_ns = 1000000};
    snprintf(g->cfg.run_id, sizeof g->cfg.run_id, "run42");
    assert_int_equal(rwrite_start(&g->w, &g->o, &g->cfg, &why), 0);
}

/* After rwrite_finish: releases the pusher and stops the receiver. */
static void rig_stop(struct rig *g)
{
    rwrite_release(&g->w);
    g->rc->stop = 1;
    shutdown(g->rc->lfd, SHUT_RDWR);
    pthread_join(g->t, NULL);
    close(g->rc->lfd);
}

enum { SECONDS = 6 };

/* Runs a pusher against rc for SECONDS seconds of one name, then its final push; fills st. */
static void push_run(struct receiver *rc, struct rwrite_stats *st, char *warning, size_t wlen)
{
    static struct rig g;
    rig_start(&g, rc);
    struct rwrite *w = &g.w;
    for (uint32_t s = 0; s < SECONDS; s++) {
        struct interval iv;
        assert_int_equal(interval_init(&iv, 1), 0);
        for (int i = 0; i < 10; i++) {
            interval_sent(&iv, 0);
            interval_done(&iv, 0, 1000 + i, false);
        }
        iv.inflight = s;
        struct timeline_row row = {.t = s, .inflight = s, .arrivals = 10, .lag_p99_us = 5};
        rwrite_second(w, &row, &iv);
        interval_release(&iv);
        usleep(s % 2 ? 150000 : 10000); /* some seconds alone in a push, some together */
    }
    rwrite_finish(w, true);
    rwrite_stats(w, st);
    assert_true(rwrite_take_warning(w, warning, wlen));
    assert_false(rwrite_take_warning(w, warning, wlen)); /* once */
    rig_stop(&g);
}

static void retry_keeps_bytes_and_order(void **state)
{
    (void)state;
    struct receiver rc = {0};
    struct rwrite_stats st;
    char warning[512];
    push_run(&rc, &st, warning, sizeof warning);
    assert_non_null(strstr(warning, "HTTP 500: busy"));

    assert_int_equal(rc.nposts % 2, 0);
    assert_int_equal(st.pushes, (uint64_t)rc.nposts);
    assert_int_equal(st.pushes_ok, (uint64_t)rc.nposts / 2);
    assert_int_equal(st.pushes_failed, (uint64_t)rc.nposts / 2);
    assert_int_equal(st.pushes_dropped, 0);
    assert_int_equal(st.seconds_sent, SECONDS + 1); /* and the final snapshot */
    assert_int_equal(st.seconds_dropped, 0);
    int64_t last_ts = 0;
    double last_sent = 0;
    int samples = 0;
    struct dec_request *d = calloc(1, sizeof(*d));
    for (int p = 0; p < rc.nposts; p += 2) {
        assert_int_equal(rc.lens[p], rc.lens[p + 1]);
        assert_memory_equal(rc.bodies[p], rc.bodies[p + 1], rc.lens[p]); /* the retry is the same push */
        assert_int_equal(dec_body(rc.bodies[p + 1], rc.lens[p + 1], d), 0);
        const struct dec_series *s = dec_find(d, "salvo_requests_total", "outcome", "sent");
        assert_non_null(s);
        assert_string_equal(dec_label_value(s, "shard"), "1/2");
        assert_string_equal(dec_label_value(s, "run_id"), "run42");
        assert_string_equal(dec_label_value(s, "name"), "alpha");
        for (int k = 0; k < s->nsamples; k++, samples++) {
            assert_true(s->ts[k] > last_ts);
            assert_true(s->v[k] >= last_sent);
            last_ts = s->ts[k];
            last_sent = s->v[k];
        }
        const struct dec_series *valid = dec_find(d, "salvo_valid", NULL, NULL);
        assert_non_null(valid);
    }
    assert_int_equal(samples, SECONDS + 1);
    assert_true(last_sent == 10.0 * SECONDS);
    free(d);
    for (int p = 0; p < rc.nposts; p++)
        free(rc.bodies[p]);
}

/* A 4xx (but 429) is the receiver refusing the data: dropped at once, never retried. */
static void refused_data_is_not_retried(void **state)
{
    (void)state;
    struct receiver rc = {.always_400 = true};
    struct rwrite_stats st;
    char warning[512];
    push_run(&rc, &st, warning, sizeof warning);
    assert_non_null(strstr(warning, "HTTP 400: out of order"));
    assert_true(rc.nposts >= 2);
    assert_int_equal(st.pushes, (uint64_t)rc.nposts);
    assert_int_equal(st.pushes_dropped, st.pushes);
    assert_int_equal(st.pushes_failed, st.pushes);
    assert_int_equal(st.pushes_ok, 0);
    assert_int_equal(st.seconds_dropped, SECONDS + 1);
    for (int p = 1; p < rc.nposts; p++) /* each post is new data, not a retry */
        assert_false(rc.lens[p] == rc.lens[p - 1] && !memcmp(rc.bodies[p], rc.bodies[p - 1], rc.lens[p]));
    for (int p = 0; p < rc.nposts; p++)
        free(rc.bodies[p]);
}

/* Waits (bounded, 2 s) until the receiver has n posts. */
static void wait_posts(struct receiver *rc, int n)
{
    for (int i = 0; i < 2000 && __atomic_load_n(&rc->nposts, __ATOMIC_SEQ_CST) < n; i++)
        usleep(1000);
    assert_true(__atomic_load_n(&rc->nposts, __ATOMIC_SEQ_CST) >= n);
}

/* One second of one name into w: 10 sent and done. */
static void one_second(struct rwrite *w, uint32_t s)
{
    struct interval iv;
    assert_int_equal(interval_init(&iv, 1), 0);
    for (int i = 0; i < 10; i++) {
        interval_sent(&iv, 0);
        interval_done(&iv, 0, 1000 + i, false);
    }
    struct timeline_row row = {.t = s, .arrivals = 10};
    rwrite_second(w, &row, &iv);
    interval_release(&iv);
}

/*
 * A receiver slower than RW_QUEUE_MAX seconds: while the first push hangs,
 * 200 more seconds are queued; the queue keeps the newest RW_QUEUE_MAX and
 * counts the rest as dropped, and the next push carries exactly those, in
 * time order. Deterministic: the seconds are queued in a burst, not in real time.
 */
static void queue_cap_keeps_the_newest(void **state)
{
    (void)state;
    enum { MORE = 200 };
    struct receiver rc = {.hold_first = true};
    static struct rig g;
    rig_start(&g, &rc);
    struct rwrite *w = &g.w;
    one_second(w, 0);
    wait_posts(&rc, 1); /* second 0 is in flight alone, and held */
    for (uint32_t s = 1; s <= MORE; s++)
        one_second(w, s);
    struct rwrite_stats st;
    rwrite_stats(w, &st);
    assert_int_equal(st.seconds_dropped, MORE - RW_QUEUE_MAX);
    assert_string_equal(st.first_error, "queue full");
    rc.release = 1;
    wait_posts(&rc, 2); /* the queued batch is taken before the final snapshot joins */
    rwrite_finish(w, true);
    rwrite_stats(w, &st);
    assert_int_equal(rc.nposts, 3);
    assert_int_equal(st.pushes, 3);
    assert_int_equal(st.pushes_ok, 3);
    assert_int_equal(st.seconds_sent, 1 + RW_QUEUE_MAX + 1);
    assert_int_equal(st.seconds_dropped, MORE - RW_QUEUE_MAX);
    struct dec_request *d = calloc(1, sizeof(*d));
    assert_int_equal(dec_body(rc.bodies[1], rc.lens[1], d), 0);
    const struct dec_series *sent = dec_find(d, "salvo_requests_total", "outcome", "sent");
    assert_non_null(sent);
    assert_int_equal(sent->nsamples, RW_QUEUE_MAX);
    for (int k = 0; k < sent->nsamples; k++) { /* seconds MORE-RW_QUEUE_MAX+1 .. MORE, cumulative */
        assert_true(sent->v[k] == 10.0 * (MORE - RW_QUEUE_MAX + 2 + k));
        if (k) assert_true(sent->ts[k] > sent->ts[k - 1]);
    }
    free(d);
    rig_stop(&g);
    for (int p = 0; p < rc.nposts; p++)
        free(rc.bodies[p]);
}

/* --remote-write and --remote-write-header: what is refused, and why. */
static void options_checked(void **state)
{
    (void)state;
    static const struct {
        const char *header;
        int rc;
    } cases[] = {
        {"Authorization: Bearer abc", 0},
        {"X-Scope-OrgID: t1", 0},
        {"X-Empty:", 0},
        {"no colon", -EINVAL},
        {": value", -EINVAL},
        {"Bad Name: x", -EINVAL},
        {"X-A: line\r\nInjected: 1", -EINVAL},
        {"content-type: text/plain", -EINVAL},
        {"Content-Encoding: gzip", -EINVAL},
        {"Host: elsewhere", -EINVAL},
        {"X-Prometheus-Remote-Write-Version: 2.0.0", -EINVAL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct rwrite_opts o = {0};
        const char *why = NULL;
        int rc = rwrite_opts_header(&o, cases[i].header, &why);
        if (rc != cases[i].rc) fail_msg("'%s': %d, expected %d (%s)", cases[i].header, rc, cases[i].rc, why);
        if (rc < 0) assert_non_null(why);
    }
    struct rwrite_opts o = {0};
    const char *why;
    for (int i = 0; i < RW_MAX_HEADERS; i++)
        assert_int_equal(rwrite_opts_header(&o, "X-A: b", &why), 0);
    assert_int_equal(rwrite_opts_header(&o, "X-A: b", &why), -E2BIG);
    assert_int_equal(rwrite_opts_url(&o, "ftp://127.0.0.1/x", &why), -EINVAL);
    assert_int_equal(rwrite_opts_url(&o, "127.0.0.1:9090/api/v1/write", &why), -EINVAL);
    assert_int_equal(rwrite_opts_url(&o, "http://127.0.0.1:9090/api/v1/write", &why), 0);
    assert_string_equal(o.url.path, "/api/v1/write");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(retry_keeps_bytes_and_order),
        cmocka_unit_test(refused_data_is_not_retried),
        cmocka_unit_test(queue_cap_keeps_the_newest),
        cmocka_unit_test(options_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

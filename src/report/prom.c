/*
 * prom.c — Prometheus text exposition during a run (see prom.h).
 */
#include "report/prom.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/endpoint.h"
#include "load/recorder.h"
#include "report/rw_series.h"
#include "report/series.h"

int prom_check_addr(const char *addr)
{
    struct endpoint ep;
    return endpoint_parse_local(&ep, addr); /* PORT, HOST:PORT, [v6]:PORT; localhost = 127.0.0.1 */
}

/* Answers one connection with the current body. */
static void serve_one(struct prom *p, int c)
{
    char req[2048];
    struct pollfd pfd = {.fd = c, .events = POLLIN};
    if (poll(&pfd, 1, 1000) <= 0 || read(c, req, sizeof(req)) <= 0) return;
    pthread_mutex_lock(&p->mu);
    char *body = strdup(p->body ? p->body : "");
    pthread_mutex_unlock(&p->mu);
    if (!body) abort();
    char head[256];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n",
                     strlen(body));
    if (write(c, head, (size_t)n) == n) {
        ssize_t w = write(c, body, strlen(body));
        (void)w;
    }
    free(body);
}

/* The server thread: accept until stopped. */
static void *prom_main(void *arg)
{
    struct prom *p = arg;
    for (;;) {
        struct pollfd pfd = {.fd = p->fd, .events = POLLIN};
        int rc = poll(&pfd, 1, 100);
        pthread_mutex_lock(&p->mu);
        bool running = p->running;
        pthread_mutex_unlock(&p->mu);
        if (!running) break;
        if (rc <= 0) continue;
        int c = accept4(p->fd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0) continue;
        serve_one(p, c);
        close(c);
    }
    return NULL;
}

int prom_start(struct prom *p, const char *addr)
{
    memset(p, 0, sizeof(*p));
    p->fd = -1;
    rw_totals_init(&p->totals);
    struct endpoint ep;
    int fd = endpoint_listen_local(&ep, addr);
    if (fd < 0) return fd;
    snprintf(p->url, sizeof(p->url), "http://%s/metrics", ep.text);
    p->fd = fd;
    pthread_mutex_init(&p->mu, NULL);
    p->running = true;
    int rc = pthread_create(&p->thread, NULL, prom_main, p);
    if (rc) {
        p->running = false;
        return -rc;
    }
    return 0;
}

/* Copies a label value with \\, \" and newlines escaped (Prometheus text format). */
static void escape_label(char *out, size_t cap, const char *in)
{
    size_t o = 0;
    for (; *in && o + 3 < cap; in++) {
        if (*in == '\\' || *in == '"')
            out[o++] = '\\', out[o++] = *in;
        else if (*in == '\n')
            out[o++] = '\\', out[o++] = 'n';
        else
            out[o++] = *in;
    }
    out[o] = '\0';
}

/* The request counters of one name (family salvo_requests_total). */
static void render_counts(FILE *f, const struct rw_totals *t, uint32_t g, const char *name)
{
    const char *outcome[3] = {"sent", "done", "error"};
    const uint64_t count[3] = {t->sent[g], t->done[g], t->errors[g]};
    for (int i = 0; i < 3; i++)
        fprintf(f, SERIES_REQUESTS "{name=\"%s\",outcome=\"%s\"} %llu\n", name, outcome[i],
                (unsigned long long)count[i]);
}

/* The latency summary of one name (family salvo_latency_seconds). */
static void render_latency(FILE *f, const struct rw_totals *t, uint32_t g, const char *name)
{
    if (!t->has_hist[g]) return;
    const struct hist *h = &t->latency[g];
    static const double qs[] = {0.5, 0.9, 0.99, 0.999};
    for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
        fprintf(f, SERIES_LATENCY "{name=\"%s\",quantile=\"%g\"} %.6f\n", name, qs[i],
                (double)hist_value_at_percentile(h, qs[i] * 100) / 1e6);
    fprintf(f, SERIES_LATENCY "_sum{name=\"%s\"} %.6f\n", name,
            h->total_count ? hist_mean(h) * (double)h->total_count / 1e6 : 0.0);
    fprintf(f, SERIES_LATENCY "_count{name=\"%s\"} %lld\n", name, (long long)h->total_count);
}

/* One gauge family: its HELP, its TYPE and its one sample, together; none without a value. */
static void render_gauge(FILE *f, const char *metric, const char *help, double value)
{
    if (isnan(value)) return;
    fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n%s %.6g\n", metric, help, metric, metric, value);
}

/*
 * Renders the exposition text from the totals and the last second. The text
 * format wants each family's HELP and TYPE right before its own samples and
 * every sample of a family in one block (promtool check metrics), so the
 * groups are walked once per family.
 */
static char *render(struct prom *p, const struct run_config *cfg, const struct timeline_row *row)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) abort();
    char(*names)[512] = calloc(p->totals.ngroups ? p->totals.ngroups : 1, sizeof(*names));
    if (!names) abort();
    for (uint32_t g = 0; g < p->totals.ngroups; g++)
        escape_label(names[g], sizeof(names[g]), cfg->gen->names[g]);
    fprintf(f, "# HELP " SERIES_REQUESTS " " SERIES_REQUESTS_HELP "\n# TYPE " SERIES_REQUESTS " counter\n");
    for (uint32_t g = 0; g < p->totals.ngroups; g++)
        render_counts(f, &p->totals, g, names[g]);
    fprintf(f, "# HELP " SERIES_LATENCY " " SERIES_LATENCY_HELP "\n# TYPE " SERIES_LATENCY " summary\n");
    for (uint32_t g = 0; g < p->totals.ngroups; g++)
        render_latency(f, &p->totals, g, names[g]);
    free(names);
    double valid = rw_second_valid(row, cfg->max_lag_ns);
    for (size_t i = 0; i < SERIES_NGAUGES; i++)
        render_gauge(f, SERIES_GAUGES[i].name, SERIES_GAUGES[i].help, SERIES_GAUGES[i].value(row, valid));
    fclose(f);
    return buf;
}

void prom_second(struct prom *p, const struct run_config *cfg, const struct timeline_row *row,
                 const struct interval *merged)
{
    if (p->fd < 0) return;
    rw_totals_add(&p->totals, merged);
    char *body = render(p, cfg, row);
    pthread_mutex_lock(&p->mu);
    free(p->body);
    p->body = body;
    pthread_mutex_unlock(&p->mu);
}

void prom_stop(struct prom *p)
{
    if (!p || p->fd < 0) return;
    pthread_mutex_lock(&p->mu);
    bool was = p->running;
    p->running = false;
    pthread_mutex_unlock(&p->mu);
    if (was) pthread_join(p->thread, NULL);
    close(p->fd);
    p->fd = -1;
    free(p->body);
    p->body = NULL;
    rw_totals_release(&p->totals);
    pthread_mutex_destroy(&p->mu);
}

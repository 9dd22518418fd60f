/*
 * dash.c — the dashboard's HTTP server (see dash.h for the contract).
 *
 * One thread, one event loop (core/loop), one listener (core/listener:
 * batched accepts, the EMFILE pause). Each connection carries one request
 * and is closed after its answer (Connection: close): the page polls once
 * a second, so keep-alive would buy nothing and cost a state per client.
 * A connection lives in a fixed pool of DASH_MAX_CONNS slots (never freed
 * while the loop runs: an event later in the same batch may still point at
 * a closed one, and the loop's generation check needs its memory) and always
 * has exactly one timer armed: the request deadline, the long-poll hold or
 * the write deadline, so a client that stops reading or never sends is
 * closed on time. The main thread talks to this thread only through the
 * mutex-guarded feed and an eventfd that wakes the loop.
 */
#include "report/dash.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/container.h"
#include "core/endpoint.h"

/* One client connection. */
struct dash_conn {
    struct dash *d;
    int slot;
    struct loop_io io;
    struct timer timer;
    char *out;
    size_t outlen, outoff;
    bool writing, held;
    uint32_t from; /* the first row a held /data request wants */
    size_t inlen;
    char in[DASH_MAX_REQUEST]; /* last: on_accept clears what comes before it */
};

int dash_check_addr(const char *addr)
{
    struct endpoint ep;
    return endpoint_parse_local(&ep, addr);
}

/* Closes c and frees its slot. */
static void conn_close(struct dash_conn *c)
{
    struct dash *d = c->d;
    timer_disarm(&d->loop, &c->timer);
    loop_del(&d->loop, &c->io);
    close(c->io.fd);
    d->conns[c->slot] = NULL; /* the struct stays in d->pool: an event later in this batch may still name it */
    d->nconns--;
    free(c->out);
    c->out = NULL;
}

/* Writes what is left of c's answer; closes c when it is all out (or the peer is gone). */
static void conn_flush(struct dash_conn *c)
{
    while (c->outoff < c->outlen) {
        ssize_t n = write(c->io.fd, c->out + c->outoff, c->outlen - c->outoff);
        if (n > 0) {
            c->outoff += (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
        break;
    }
    c->d->served++;
    conn_close(c);
}

/* Sends status with body (copied) and closes after it. */
static void conn_answer(struct dash_conn *c, const char *status, const char *ctype, const char *body, size_t len)
{
    struct dash *d = c->d;
    char head[512];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nCache-Control: no-store\r\n"
                     "X-Content-Type-Options: nosniff\r\n"
                     "Content-Security-Policy: default-src 'none'; script-src 'unsafe-inline'; style-src "
                     "'unsafe-inline'; connect-src 'self'; img-src data:\r\n"
                     "Connection: close\r\n\r\n",
                     status, ctype, len);
    c->out = malloc((size_t)n + len);
    if (!c->out) abort();
    memcpy(c->out, head, (size_t)n);
    if (len) memcpy(c->out + n, body, len);
    c->outlen = (size_t)n + len;
    c->outoff = 0;
    c->writing = true;
    c->held = false;
    loop_del(&d->loop, &c->io);
    if (loop_add(&d->loop, &c->io, EPOLLOUT) < 0) {
        conn_close(c);
        return;
    }
    timer_arm(&d->loop, &c->timer, clock_now_ns() + DASH_WRITE_NS);
    conn_flush(c);
}

/* A plain-text error answer: the status, and the reason when there is one, on one line. */
static void conn_error(struct dash_conn *c, const char *status, const char *reason)
{
    char body[192];
    int n = snprintf(body, sizeof(body), "%s%s%s\n", status, reason ? ": " : "", reason ? reason : "");
    conn_answer(c, status, "text/plain; charset=utf-8", body, (size_t)n);
}

/* The feed from row c->from on: {"run", "state", "from", "nrows", "rows", "scrape"?}. */
static void answer_data(struct dash_conn *c)
{
    struct dash *d = c->d;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) abort();
    pthread_mutex_lock(&d->mu);
    uint32_t from = c->from < d->nrows ? c->from : d->nrows;
    size_t start = from ? d->row_end[from - 1] : 0;
    size_t end = d->nrows > from ? d->rows_len - 1 : start; /* without the last row's comma */
    fprintf(f, "{\"run\":%s,\"state\":%s,\"from\":%u,\"nrows\":%u,\"ended\":%s,\"rows\":[", d->run_json, d->state_json,
            from, d->nrows, d->ended ? "true" : "false");
    if (end > start) fwrite(d->rows + start, 1, end - start, f);
    fputc(']', f);
    if (d->scrape_json) fprintf(f, ",\"scrape\":%s", d->scrape_json);
    fputs("}\n", f);
    d->sent_ended |= d->ended;
    pthread_mutex_unlock(&d->mu);
    d->last_poll_ns = clock_now_ns();
    fclose(f);
    conn_answer(c, "200 OK", "application/json", buf, len);
    free(buf);
}

/*
 * The decimal value of key in a query string ("from=12&wait=1") in *v,
 * larger than 10^8 clamped to it: 1 when key is there with digits up to the
 * next '&', 0 when key is absent (*v untouched), -1 when its value is empty
 * or holds anything but digits ("abc", "-1", "1e3").
 */
static int query_num(const char *q, size_t qlen, const char *key, unsigned long *v)
{
    size_t klen = strlen(key);
    for (size_t i = 0; i + klen < qlen; i++) {
        if ((i == 0 || q[i - 1] == '&') && !strncmp(q + i, key, klen) && q[i + klen] == '=') {
            unsigned long n = 0;
            size_t k = i + klen + 1, start = k;
            for (; k < qlen && q[k] >= '0' && q[k] <= '9'; k++)
                if (n < 100000000) n = n * 10 + (unsigned long)(q[k] - '0');
            if (k == start || (k < qlen && q[k] != '&')) return -1;
            *v = n < 100000000 ? n : 100000000;
            return 1;
        }
    }
    return 0;
}

/* True when h[0..n) (a Host value, port included) is an IP literal or localhost. */
static bool host_is_local(const char *h, size_t n)
{
    while (n && (h[n - 1] == ' ' || h[n - 1] == '\t' || h[n - 1] == '\r'))
        n--;
    while (n && (h[0] == ' ' || h[0] == '\t'))
        h++, n--;
    if (n && h[0] == '[') return memchr(h, ']', n) != NULL; /* [v6]:port: a literal by syntax */
    const char *colon = memchr(h, ':', n);
    size_t hl = colon ? (size_t)(colon - h) : n;
    if (hl == 9 && !strncasecmp(h, "localhost", 9)) return true;
    if (!hl) return false;
    for (size_t i = 0; i < hl; i++)
        if (!(h[i] == '.' || (h[i] >= '0' && h[i] <= '9'))) return false;
    return true;
}

/* The Host header of head[0..len) is acceptable (absent, or local: host_is_local). */
static bool host_ok(const char *head, size_t len)
{
    for (const char *p = head; p < head + len;) {
        const char *nl = memchr(p, '\n', (size_t)(head + len - p));
        const char *end = nl ? nl : head + len;
        if (end - p >= 5 && !strncasecmp(p, "host:", 5)) return host_is_local(p + 5, (size_t)(end - p - 5));
        if (!nl) break;
        p = nl + 1;
    }
    return true;
}

void dash_parse_request(const char *head, size_t len, struct dash_request *out)
{
    *out = (struct dash_request){.route = DASH_BAD_REQUEST};
    const char *sp = memchr(head, ' ', len);
    if (!sp) return;
    if ((size_t)(sp - head) != 3 || memcmp(head, "GET", 3)) {
        out->route = DASH_BAD_METHOD;
        return;
    }
    const char *target = sp + 1;
    size_t rest = len - (size_t)(target - head);
    const char *line_end = memchr(target, '\n', rest);
    const char *tend = line_end ? memchr(target, ' ', (size_t)(line_end - target)) : NULL;
    if (!tend) return;
    size_t tlen = (size_t)(tend - target);
    const char *q = memchr(target, '?', tlen);
    size_t plen = q ? (size_t)(q - target) : tlen, qlen = q ? tlen - plen - 1 : 0;
    if (!host_ok(line_end + 1, len - (size_t)(line_end + 1 - head))) {
        out->route = DASH_BAD_HOST;
    } else if ((plen == 1 && target[0] == '/') || (plen == 11 && !memcmp(target, "/index.html", 11))) {
        out->route = DASH_PAGE;
    } else if (plen == 5 && !memcmp(target, "/data", 5)) {
        unsigned long from = 0, wait = 0;
        if (query_num(q ? q + 1 : "", qlen, "from", &from) < 0) {
            out->reason = "'from' must be a row number (digits only)"; /* not every row, as before */
            return;
        }
        out->route = DASH_DATA;
        out->from = (uint32_t)from;
        out->wait = query_num(q ? q + 1 : "", qlen, "wait", &wait) > 0 && wait == 1; /* anything else: no hold */
    } else {
        out->route = DASH_NOT_FOUND;
    }
}

/* A complete request head is in c->in: route it. */
static void conn_request(struct dash_conn *c)
{
    struct dash *d = c->d;
    struct dash_request rq;
    dash_parse_request(c->in, c->inlen, &rq);
    switch (rq.route) {
    case DASH_PAGE: conn_answer(c, "200 OK", "text/html; charset=utf-8", d->page, strlen(d->page)); return;
    case DASH_BAD_METHOD: conn_error(c, "405 Method Not Allowed", NULL); return;
    case DASH_BAD_HOST: conn_error(c, "403 Forbidden", NULL); return;
    case DASH_BAD_REQUEST: conn_error(c, "400 Bad Request", rq.reason); return;
    case DASH_NOT_FOUND: conn_error(c, "404 Not Found", NULL); return;
    case DASH_DATA: break;
    }
    c->from = rq.from;
    pthread_mutex_lock(&d->mu);
    bool news = d->nrows > c->from || d->ended || d->stopping;
    pthread_mutex_unlock(&d->mu);
    if (news || !rq.wait) {
        answer_data(c);
        return;
    }
    c->held = true; /* a long poll: answered by on_wake, or by the timer */
    timer_arm(&d->loop, &c->timer, clock_now_ns() + DASH_HOLD_NS);
}

/* Readable (or writable while answering). */
static void conn_event(struct loop_io *io, uint32_t events)
{
    struct dash_conn *c = container_of(io, struct dash_conn, io);
    if (c->writing) {
        conn_flush(c);
        return;
    }
    char sink[512];
    char *dst = c->held ? sink : c->in + c->inlen;
    size_t room = c->held ? sizeof(sink) : sizeof(c->in) - 1 - c->inlen;
    ssize_t n = read(io->fd, dst, room);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0 || (events & (EPOLLERR | EPOLLHUP))) {
        conn_close(c); /* the client went away (a held poll too) */
        return;
    }
    if (c->held) return; /* a pipelined request after a held one is ignored: one request per connection */
    c->inlen += (size_t)n;
    c->in[c->inlen] = '\0';
    if (memmem(c->in, c->inlen, "\r\n\r\n", 4) || memmem(c->in, c->inlen, "\n\n", 2))
        conn_request(c);
    else if (c->inlen == sizeof(c->in) - 1)
        conn_error(c, "431 Request Header Fields Too Large", NULL);
}

/* The connection's one timer: request deadline, long-poll hold or write deadline. */
static void conn_timeout(struct timer *t, uint64_t now_ns)
{
    (void)now_ns;
    struct dash_conn *c = container_of(t, struct dash_conn, timer);
    if (c->held)
        answer_data(c); /* nothing new in DASH_HOLD_NS: the page gets the same state and asks again */
    else
        conn_close(c);
}

/* A new client: a slot, or closed at once when the table is full. */
static void on_accept(struct listener *ls, int fd)
{
    struct dash *d = container_of(ls, struct dash, listener);
    int slot = -1;
    for (int i = 0; i < DASH_MAX_CONNS && slot < 0; i++)
        if (!d->conns[i]) slot = i;
    if (slot < 0) {
        d->refused++;
        close(fd);
        return;
    }
    struct dash_conn *c = &d->pool[slot];
    uint16_t gen = c->io.gen; /* keeps counting across reuses, so a stale event never matches */
    memset(c, 0, offsetof(struct dash_conn, in));
    c->inlen = 0;
    c->d = d;
    c->slot = slot;
    c->io = (struct loop_io){.fd = fd, .gen = gen, .on_event = conn_event};
    timer_init(&c->timer, conn_timeout);
    if (loop_add(&d->loop, &c->io, EPOLLIN) < 0) {
        close(fd);
        return;
    }
    d->conns[slot] = c;
    d->nconns++;
    timer_arm(&d->loop, &c->timer, clock_now_ns() + DASH_REQUEST_NS);
}

/* Answers every held poll that has news (all of them once the run ended). */
static void release_held(struct dash *d)
{
    pthread_mutex_lock(&d->mu);
    uint32_t nrows = d->nrows;
    bool all = d->ended || d->stopping;
    pthread_mutex_unlock(&d->mu);
    for (int i = 0; i < DASH_MAX_CONNS; i++) {
        struct dash_conn *c = d->conns[i];
        if (c && c->held && (all || nrows > c->from)) answer_data(c);
    }
}

/* The main thread published or asks to stop. */
static void on_wake(struct loop_io *io, uint32_t events)
{
    (void)events;
    uint64_t n;
    if (read(io->fd, &n, sizeof(n)) < 0) {
        /* EAGAIN: another wake took it */
    }
    release_held(container_of(io, struct dash, wake_io));
}

/* Whether a connection is still writing its answer. */
static bool any_writing(const struct dash *d)
{
    for (int i = 0; i < DASH_MAX_CONNS; i++)
        if (d->conns[i] && d->conns[i]->writing) return true;
    return false;
}

/* The server thread. */
static void *dash_main(void *arg)
{
    struct dash *d = arg;
    uint64_t stop_by = 0;
    for (;;) {
        pthread_mutex_lock(&d->mu);
        bool stopping = d->stopping;
        pthread_mutex_unlock(&d->mu);
        uint64_t now = clock_now_ns();
        if (stopping && !stop_by) {
            stop_by = now + DASH_FLUSH_NS;
            release_held(d);
        }
        /*
         * A page that polled lately but is between two polls now would miss
         * the final state: wait (up to DASH_FLUSH_NS) until it got it. With
         * no page watching, as in CI, the server stops at once.
         */
        bool watched = d->last_poll_ns && now - d->last_poll_ns < DASH_HOLD_NS + NS_PER_S;
        if (stopping && ((!any_writing(d) && (d->sent_ended || !watched)) || now >= stop_by)) break;
        loop_run_once(&d->loop, now + (stopping ? 20 : 1000) * NS_PER_MS);
    }
    for (int i = 0; i < DASH_MAX_CONNS; i++)
        if (d->conns[i]) conn_close(d->conns[i]);
    return NULL;
}

int dash_start(struct dash *d, const char *addr, const struct dash_info *info)
{
    memset(d, 0, sizeof(*d));
    d->listen_fd = -1;
    d->wake_io.fd = -1;
    struct endpoint ep;
    int fd = endpoint_listen_local(&ep, addr);
    if (fd < 0) return fd;
    snprintf(d->url, sizeof(d->url), "http://%s/", ep.text);
    int rc;
    if ((rc = loop_init(&d->loop, 0)) < 0) {
        close(fd);
        return rc;
    }
    int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (efd < 0) {
        rc = -errno;
        close(fd);
        loop_release(&d->loop);
        return rc;
    }
    d->wake_io = (struct loop_io){.fd = efd, .on_event = on_wake};
    if ((rc = listener_init(&d->listener, &d->loop, fd, 8, on_accept)) < 0 ||
        (rc = loop_add(&d->loop, &d->wake_io, EPOLLIN)) < 0 || (rc = dash_feed_init(d, info)) < 0) {
        listener_release(&d->listener);
        close(efd);
        loop_release(&d->loop);
        dash_feed_release(d);
        return rc;
    }
    d->listen_fd = listener_fd(&d->listener);
    d->pool = calloc(DASH_MAX_CONNS, sizeof(*d->pool));
    if (!d->pool) abort();
    d->page = dash_page();
    pthread_mutex_init(&d->mu, NULL);
    if ((rc = pthread_create(&d->thread, NULL, dash_main, d)) != 0) {
        listener_release(&d->listener);
        close(efd);
        loop_release(&d->loop);
        dash_feed_release(d);
        pthread_mutex_destroy(&d->mu);
        free(d->page);
        free(d->pool);
        return -rc;
    }
    d->started = true;
    return 0;
}

void dash_stop(struct dash *d)
{
    if (!d || !d->started) return;
    pthread_mutex_lock(&d->mu);
    d->stopping = true;
    pthread_mutex_unlock(&d->mu);
    uint64_t one = 1;
    if (write(d->wake_io.fd, &one, sizeof(one)) < 0) {
        /* the thread also polls the flag every second */
    }
    pthread_join(d->thread, NULL);
    listener_release(&d->listener);
    loop_del(&d->loop, &d->wake_io);
    close(d->wake_io.fd);
    d->wake_io.fd = -1;
    loop_release(&d->loop);
    dash_feed_release(d);
    pthread_mutex_destroy(&d->mu);
    free(d->page);
    free(d->pool);
    d->page = NULL;
    d->pool = NULL;
    d->started = false;
}

/*
 * api.c — the control API's HTTP/1.1 transport; see api.h.
 *
 * A connection has one fd, so closing it inside its own event handler is
 * safe (epoll reports an fd at most once per batch); connections are freed
 * at once, unlike proxied links.
 */
#include "chaos/api.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/container.h"
#include "chaos/chaos.h"
#include "chaos/routes.h"
#include "core/clock.h"

#define API_ACCEPT_BATCH 16
#define API_MAX_HEAD 65536               /* a longer request head is answered 431 */
#define API_IDLE_NS (4 * NS_PER_S)       /* a begun request must be whole within this, else 408 */
#define API_KEEPALIVE_NS (60 * NS_PER_S) /* an idle connection is closed after this */

/* One API client connection. */
struct api_conn {
    struct api *api;
    struct api_conn *prev, *next;
    struct loop_io io;
    struct timer idle; /* a request that does not complete in time is answered 408 */
    char *in;
    size_t in_len, in_cap;
    char *out;
    size_t out_len, out_off;
    bool close_after; /* close once out is written */
};

static void conn_free(struct api_conn *k)
{
    struct api *api = k->api;
    timer_disarm(&api->chaos->loop, &k->idle);
    loop_del(&api->chaos->loop, &k->io);
    close(k->io.fd);
    if (k->prev)
        k->prev->next = k->next;
    else
        api->conns = k->next;
    if (k->next) k->next->prev = k->prev;
    free(k->in);
    free(k->out);
    free(k);
}

/* Appends bytes to the output buffer. */
static void out_append(struct api_conn *k, const char *p, size_t n)
{
    k->out = realloc(k->out, k->out_len + n);
    if (!k->out) abort();
    memcpy(k->out + k->out_len, p, n);
    k->out_len += n;
}

static const char *status_text(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 431: return "Request Header Fields Too Large";
    default: return "Internal Server Error";
    }
}

/* Queues a response with body (may be NULL). */
static void respond(struct api_conn *k, int status, const char *body, bool close)
{
    char head[256];
    size_t blen = body ? strlen(body) : 0;
    int n =
        snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\n%scontent-length: %zu\r\n%s\r\n", status, status_text(status),
                 body ? "content-type: application/json\r\n" : "", blen, close ? "connection: close\r\n" : "");
    out_append(k, head, (size_t)n);
    if (blen) out_append(k, body, blen);
    if (close) k->close_after = true;
}

/* Parses one header line into r. */
static void header_line(const char *line, size_t len, struct api_req *r)
{
    const char *colon = memchr(line, ':', len);
    if (!colon) return;
    size_t nlen = (size_t)(colon - line);
    const char *v = colon + 1;
    while (v < line + len && (*v == ' ' || *v == '\t'))
        v++;
    size_t vlen = (size_t)(line + len - v);
    if (nlen == 14 && strncasecmp(line, "content-length", 14) == 0)
        r->body_len = strtoul(v, NULL, 10);
    else if (nlen == 10 && strncasecmp(line, "connection", 10) == 0 && vlen >= 5 && strncasecmp(v, "close", 5) == 0)
        r->close = true;
    else if (nlen == 17 && strncasecmp(line, "transfer-encoding", 17) == 0)
        r->chunked = true;
}

/*
 * True while buf can still become a request: an upper-case method of at
 * most 15 letters, a space, and a first line that fits. Lets garbage get
 * its 400 on the first read instead of after 64 KiB or never.
 */
static bool plausible_start(const char *buf, size_t len)
{
    size_t i = 0;
    while (i < len && i < 16 && buf[i] >= 'A' && buf[i] <= 'Z')
        i++;
    if (i == len) return i < 16;
    if (i == 0 || buf[i] != ' ') return false;
    const char *eol = memmem(buf, len, "\r\n", 2);
    return eol ? (size_t)(eol - buf) < 600 : len < 600;
}

int api_parse_head(const char *buf, size_t len, struct api_req *r)
{
    if (!plausible_start(buf, len)) return -1; /* garbage is answered at once, not waited on */
    const char *end = memmem(buf, len, "\r\n\r\n", 4);
    if ((end ? (size_t)(end - buf) : len) > API_MAX_HEAD) return -2;
    if (!end) return 0;
    *r = (struct api_req){.head_len = (size_t)(end - buf) + 4};
    const char *eol = memmem(buf, len, "\r\n", 2);
    char version[16];
    char line[600];
    size_t l1 = (size_t)(eol - buf);
    if (l1 >= sizeof line) return -1;
    memcpy(line, buf, l1);
    line[l1] = '\0';
    if (sscanf(line, "%15s %511s %15s", r->method, r->path, version) != 3 || strncmp(version, "HTTP/1.", 7) != 0)
        return -1;
    if (version[7] == '0') r->close = true;
    for (const char *p = eol + 2; p < end;) {
        const char *next = memmem(p, (size_t)(end + 2 - p), "\r\n", 2);
        header_line(p, (size_t)(next - p), r);
        p = next + 2;
    }
    return 1;
}

/* Answers every complete request in the input buffer. */
static void handle_input(struct api_conn *k)
{
    while (!k->close_after && k->in_len > 0) {
        struct api_req r;
        int rc = api_parse_head(k->in, k->in_len, &r);
        if (rc == 0) return;
        if (rc == -2) return respond(k, 431, "{\"error\":\"request head too large\",\"status\":431}", true);
        if (rc < 0) return respond(k, 400, "{\"error\":\"bad request\",\"status\":400}", true);
        if (r.chunked) return respond(k, 411, "{\"error\":\"send a content-length body\",\"status\":411}", true);
        if (r.body_len > API_MAX_REQUEST) return respond(k, 413, "{\"error\":\"too large\",\"status\":413}", true);
        if (k->in_len < r.head_len + r.body_len) return;
        struct api_reply reply;
        routes_handle(k->api->chaos, r.method, r.path, k->in + r.head_len, r.body_len, &reply);
        respond(k, reply.status, reply.body, r.close);
        free(reply.body);
        size_t used = r.head_len + r.body_len;
        memmove(k->in, k->in + used, k->in_len - used);
        k->in_len -= used;
    }
}

/* Writes pending output. Returns false when the connection was freed. */
static bool flush_out(struct api_conn *k)
{
    while (k->out_off < k->out_len) {
        ssize_t w = send(k->io.fd, k->out + k->out_off, k->out_len - k->out_off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && errno == EAGAIN) return true;
        if (w < 0) {
            conn_free(k);
            return false;
        }
        k->out_off += (size_t)w;
    }
    k->out_len = k->out_off = 0;
    if (k->close_after) {
        conn_free(k);
        return false;
    }
    return true;
}

/* The client took too long to send a whole request (slowloris, a stalled upload). */
static void on_idle(struct timer *t, uint64_t now_ns)
{
    (void)now_ns;
    struct api_conn *k = (struct api_conn *)((char *)t - offsetof(struct api_conn, idle));
    if (k->in_len == 0 || k->close_after) { /* an idle keep-alive, or a client that does not read its answer */
        conn_free(k);
        return;
    }
    respond(k, 408, "{\"error\":\"request timeout\",\"status\":408}", true);
    flush_out(k);
}

static void on_conn(struct loop_io *io, uint32_t events)
{
    struct api_conn *k = container_of(io, struct api_conn, io);
    (void)events;
    bool eof = false;
    size_t before = k->in_len; /* 0: this read begins a request */
    for (;;) {
        if (k->in_cap - k->in_len < 4096) {
            k->in_cap = k->in_cap ? k->in_cap * 2 : 8192;
            k->in = realloc(k->in, k->in_cap);
            if (!k->in) abort();
        }
        ssize_t n = read(io->fd, k->in + k->in_len, k->in_cap - k->in_len);
        if (n > 0) {
            k->in_len += (size_t)n;
            if (k->in_len > API_MAX_REQUEST + 65536) break;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        eof = n == 0 || errno != EAGAIN;
        break;
    }
    handle_input(k);
    if (k->in_len > API_MAX_REQUEST + 65536) respond(k, 413, "{\"error\":\"too large\",\"status\":413}", true);
    if (!flush_out(k)) return;
    if (eof) {
        conn_free(k);
        return;
    }
    /* An idle keep-alive may wait API_KEEPALIVE_NS; a request that has begun must be whole within API_IDLE_NS. */
    if (k->in_len == 0)
        timer_arm(&k->api->chaos->loop, &k->idle, clock_now_ns() + API_KEEPALIVE_NS);
    else if (before == 0 || k->in_len < before)
        timer_arm(&k->api->chaos->loop, &k->idle, clock_now_ns() + API_IDLE_NS);
}

/* One accepted API client; the listener (core/listener.h) pauses on EMFILE. */
static void on_accept(struct listener *ls, int fd)
{
    struct api *api = container_of(ls, struct api, listener);
    struct api_conn *k = calloc(1, sizeof *k);
    if (!k) abort();
    k->api = api;
    k->io = (struct loop_io){.fd = fd, .on_event = on_conn};
    timer_init(&k->idle, on_idle);
    timer_arm(&api->chaos->loop, &k->idle, clock_now_ns() + API_KEEPALIVE_NS);
    if (loop_add(&api->chaos->loop, &k->io, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET) < 0) {
        close(fd);
        free(k);
        return;
    }
    k->next = api->conns;
    if (api->conns) api->conns->prev = k;
    api->conns = k;
}

int api_init(struct api *api, struct chaos *chaos, const char *addr)
{
    memset(api, 0, sizeof *api);
    api->chaos = chaos;
    api->listener.io.fd = -1;
    int rc = endpoint_parse(&api->ep, addr);
    if (rc < 0) return rc;
    int fd = endpoint_listen(&api->ep);
    if (fd < 0) return fd;
    endpoint_bound(&api->ep, fd);
    return listener_init(&api->listener, &chaos->loop, fd, API_ACCEPT_BATCH, on_accept);
}

void api_release(struct api *api)
{
    if (!api || !api->chaos) return;
    while (api->conns)
        conn_free(api->conns);
    listener_release(&api->listener);
}

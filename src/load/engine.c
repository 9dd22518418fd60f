/*
 * engine.c — a worker thread of `salvo run` (see engine.h).
 *
 * Open model: arrivals come off this worker's schedule share at their due
 * time whatever the server does. A due request takes an idle keep-alive
 * connection, else opens a new one (up to this worker's share of the cap),
 * else waits in the FIFO backlog with its intended time intact. Every
 * request ends in exactly one outcome: a response (ok / http_error), a
 * failure, a timeout (no complete response within --timeout of its
 * intended time) or, when the run is interrupted before it was sent,
 * unsent.
 *
 * Closed model (for comparison only): each connection sends its next
 * request when the previous one completes; the intended time is the send
 * time, so its latency hides coordinated omission. With --rate the sends
 * are paced by the same schedule, like wrk2's -R.
 *
 * Hot path: timer → pump → write → read → parse → record; no malloc, no
 * locks, no syscalls beyond epoll/read/write/clock.
 */
#include "load/engine.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "core/clock.h"

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))
#define CLOSED_BACKOFF_NS (10 * NS_PER_MS)

enum close_reason { BY_SERVER, BY_US, BY_ERROR };

static void pump(struct worker *w, uint64_t now);
static void closed_next(struct worker *w, struct conn *c);
static void conn_send(struct conn *c);
static void conn_fail(struct conn *c, enum salvo_err err);

/* The interval slot of the current second. */
static struct interval *cur_interval(struct worker *w) { return &w->slots[w->cur_sec % WORKER_SLOTS]; }

/* Deadline of the request on c: from its intended time (open) or send/connect start (closed). */
static uint64_t req_deadline(const struct conn *c)
{
    const struct run_config *cfg = c->w->cfg;
    uint64_t from = cfg->closed ? (c->state == CONN_BUSY ? c->t_send_ns : c->t_open_ns) : c->req.t_intended_ns;
    return from + cfg->timeout_ns;
}

/* Remembers the first failure description for the summary. */
static void note_error(struct worker *w, const char *what)
{
    if (!w->first_error[0]) snprintf(w->first_error, sizeof(w->first_error), "%s", what);
}

/* Takes c's request off it (the caller records its outcome). */
static void drop_req(struct conn *c)
{
    if (!c->has_req) return;
    c->has_req = false;
    c->w->nbusy--;
}

/* Puts c at the head of the idle list (LIFO keeps few connections warm). */
static void idle_push(struct worker *w, struct conn *c)
{
    c->state = CONN_IDLE;
    c->prev = NULL;
    c->next = w->idle_head;
    if (w->idle_head) w->idle_head->prev = c;
    w->idle_head = c;
}

/* Unlinks c from the idle list. */
static void idle_unlink(struct worker *w, struct conn *c)
{
    if (c->prev) c->prev->next = c->next;
    else w->idle_head = c->next;
    if (c->next) c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

/* Closes c's socket; the slot goes back to the free stack unless keep_slot. */
static void conn_close(struct conn *c, enum close_reason why, bool keep_slot)
{
    struct worker *w = c->w;
    if (c->state == CONN_IDLE) idle_unlink(w, c);
    timer_disarm(&w->loop, &c->timer);
    if (c->io.fd >= 0) {
        loop_del(&w->loop, &c->io);
        conn_close_fd(c);
        w->nopen--;
    }
    if (c->established) {
        if (why == BY_SERVER) w->pool.closed_by_server++;
        else if (why == BY_US) w->pool.closed_by_us++;
        else w->pool.closed_by_error++;
        c->established = false;
    }
    c->state = CONN_FREE;
    if (!keep_slot) w->free_stack[w->nfree++] = c;
}

/* What to do after c's request ended: next arrival (closed) or backlog (open). */
static void after_request(struct worker *w, struct conn *c)
{
    if (w->cfg->closed) closed_next(w, c && c->state == CONN_IDLE ? c : NULL);
    else pump(w, clock_now_ns());
}

/* Counts a failed connect by its errno, then fails c's request. */
static void conn_fail_connect(struct conn *c, int err)
{
    if (err > 0 && err < REC_MAX_ERRNO) c->w->rec.connect_errno[err]++;
    conn_fail(c, salvo_err_from_connect(err));
}

/* Records a failure for c's request, closes c and moves on. */
static void conn_fail(struct conn *c, enum salvo_err err)
{
    struct worker *w = c->w;
    bool connecting = c->state == CONN_CONNECTING || c->state == CONN_HANDSHAKE;
    if (c->has_req) {
        recorder_failure(&w->rec, c->req.group, err, c->req.t_intended_ns);
        cur_interval(w)->done++;
        cur_interval(w)->errors++;
        drop_req(c);
    }
    note_error(w, salvo_err_name(err));
    if (connecting) w->pool.connect_errors++;
    if (w->cfg->closed && connecting && !atomic_load_explicit(&w->stop, memory_order_relaxed)) {
        /* Back off briefly so a dead server is not hammered in a tight loop. */
        conn_close(c, BY_ERROR, true);
        c->state = CONN_BACKOFF;
        timer_arm(&w->loop, &c->timer, clock_now_ns() + CLOSED_BACKOFF_NS);
        return;
    }
    conn_close(c, BY_ERROR, false);
    after_request(w, NULL);
}

/* Retries c's request once after a keep-alive race (server closed a reused connection). */
static bool try_retry(struct conn *c)
{
    struct worker *w = c->w;
    if (!c->has_req || c->served == 0 || c->t_first_ns || c->req.retries > 0) return false;
    struct pending p = c->req;
    p.retries++;
    w->pool.retries++;
    drop_req(c);
    conn_close(c, BY_SERVER, false);
    if (w->cfg->closed) {
        /* Reopen a connection for the same request. */
        struct conn *n = w->free_stack[--w->nfree];
        n->req = p;
        n->has_req = true;
        w->nbusy++;
        closed_next(w, n); /* n is FREE with a request: it connects */
    } else {
        backlog_push_front(&w->backlog, &p);
        pump(w, clock_now_ns());
    }
    return true;
}

/* The response on c is complete: record it and reuse or close c (always when bytes followed it). */
static void conn_complete(struct conn *c, bool leftover)
{
    struct worker *w = c->w;
    uint64_t now = clock_now_ns();
    int status = c->resp.status;
    recorder_response(&w->rec, c->req.group, status, c->req.t_intended_ns, c->t_send_ns, c->t_first_ns, now);
    struct interval *iv = cur_interval(w);
    iv->done++;
    if (status >= 400) iv->errors++;
    hist_record_clamped(&iv->latency, ns_to_us(now - c->req.t_intended_ns));
    c->served++;
    drop_req(c);
    timer_disarm(&w->loop, &c->timer);
    if (c->resp.close || leftover || w->cfg->no_keepalive || atomic_load_explicit(&w->stop, memory_order_relaxed)) {
        conn_close(c, c->resp.close ? BY_SERVER : BY_US, false);
        after_request(w, NULL);
    } else {
        idle_push(w, c);
        after_request(w, c);
    }
}

/*
 * Keeps the unconsumed tail of data (a head that is not complete yet) in c's
 * own carry buffer, allocated the first time a connection needs one: most
 * responses arrive whole, so idle connections cost no buffer at all.
 */
static bool conn_carry(struct conn *c, const char *data, size_t left)
{
    if (left >= CONN_RBUF_SIZE) return false;
    if (!c->rbuf && !(c->rbuf = malloc(CONN_RBUF_SIZE))) abort();
    memmove(c->rbuf, data, left);
    c->rlen = left;
    return true;
}

/* Reads and parses until the socket is drained or the response is complete. */
static void conn_read(struct conn *c)
{
    struct worker *w = c->w;
    for (;;) {
        /* Read after the carried bytes, or into the worker's shared scratch. */
        bool carried = c->rlen > 0;
        char *buf = carried ? c->rbuf + c->rlen : w->scratch;
        size_t cap = carried ? CONN_RBUF_SIZE - c->rlen : WORKER_SCRATCH_SIZE;
        ssize_t n = w->transport->read(c, buf, cap);
        if (n == CONN_AGAIN) return;
        if (n < 0) {
            if (!try_retry(c)) conn_fail(c, n == -ECONNRESET ? ERR_CONN_RESET : ERR_READ);
            return;
        }
        if (n == 0) {
            if (c->resp.head_done && http_resp_eof(&c->resp) == 0) {
                c->resp.close = true;
                conn_complete(c, false);
            } else if (!try_retry(c)) {
                conn_fail(c, ERR_EOF_EARLY);
            }
            return;
        }
        if (!c->t_first_ns) c->t_first_ns = clock_now_ns();
        const char *data = carried ? c->rbuf : w->scratch;
        size_t len = carried ? c->rlen + (size_t)n : (size_t)n;
        ssize_t used = http_resp_feed(&c->resp, data, len);
        if (used < 0) {
            conn_fail(c, ERR_PARSE);
            return;
        }
        size_t left = len - (size_t)used;
        c->rlen = 0;
        if (c->resp.done) {
            conn_complete(c, left > 0);
            return;
        }
        if (left && !conn_carry(c, data + used, left)) {
            conn_fail(c, ERR_PARSE);
            return;
        }
    }
}

/* Writes what is left of the request; reads once it is all out. */
static void conn_write(struct conn *c)
{
    struct worker *w = c->w;
    while (c->written < c->wlen) {
        ssize_t n = w->transport->write(c, c->wbytes + c->written, c->wlen - c->written);
        if (n == CONN_AGAIN) return;
        if (n <= 0) {
            if (!try_retry(c)) conn_fail(c, n == -ECONNRESET || n == -EPIPE ? ERR_CONN_RESET : ERR_WRITE);
            return;
        }
        c->written += (size_t)n;
    }
}

/* Sends c's request now (c is connected and c->req is set). */
static void conn_send(struct conn *c)
{
    struct worker *w = c->w;
    const struct reqgen *gen = w->cfg->gen;
    bool head;
    if (!reqgen_is_static(gen) && !c->wbuf && !(c->wbuf = malloc(gen->max_len))) abort();
    if (reqgen_render(gen, c->req.index, c->wbuf, gen->max_len, &c->wbytes, &c->wlen, &head) < 0) {
        /* Cannot happen: exhaustion is checked at dispatch, buffers are sized to max_len. */
        conn_fail(c, ERR_WRITE);
        return;
    }
    c->t_send_ns = clock_now_ns();
    if (w->cfg->closed) c->req.t_intended_ns = c->t_send_ns;
    c->t_first_ns = 0;
    c->written = 0;
    c->rlen = 0;
    http_resp_init(&c->resp, head);
    c->state = CONN_BUSY;
    cur_interval(w)->sent++;
    w->sent++;
    w->last_send_ns = c->t_send_ns;
    timer_arm(&w->loop, &c->timer, req_deadline(c));
    conn_write(c);
    if (c->state == CONN_BUSY && c->written == c->wlen) conn_read(c);
}

/* Connected (and TLS done): record connect time and send or go idle. */
static void conn_ready(struct conn *c)
{
    struct worker *w = c->w;
    uint64_t now = clock_now_ns();
    hist_record_clamped(&w->rec.connect, ns_to_us(now - c->t_open_ns));
    w->pool.opened++;
    c->established = true;
    timer_disarm(&w->loop, &c->timer);
    if (!c->has_req) {
        idle_push(w, c);
        after_request(w, c);
    } else if (w->cfg->closed && w->cfg->rate > 0 && c->req.t_intended_ns > now) {
        c->state = CONN_PACING;
        timer_arm(&w->loop, &c->timer, c->req.t_intended_ns);
    } else {
        conn_send(c);
    }
}

/* Advances the TLS handshake of c. */
static void conn_handshake_step(struct conn *c)
{
    struct worker *w = c->w;
    char why[200];
    bool verify;
    int rc = conn_handshake(c, &w->cfg->tls, w->cfg->url.host, why, sizeof(why), &verify);
    if (rc == 0) return;
    if (rc > 0) {
        conn_ready(c);
        return;
    }
    note_error(w, why);
    conn_fail(c, verify ? ERR_TLS_VERIFY : ERR_TLS);
}

/* Drains an idle connection: anything but "no data" means it is closed. */
static void conn_idle_event(struct conn *c)
{
    char buf[512];
    ssize_t n = c->w->transport->read(c, buf, sizeof(buf));
    if (n == CONN_AGAIN) return;
    struct worker *w = c->w;
    conn_close(c, n > 0 ? BY_ERROR : BY_SERVER, false);
    if (w->cfg->closed) closed_next(w, NULL);
}

/* epoll callback of every connection. */
static void on_conn_event(struct loop_io *io, uint32_t events)
{
    struct conn *c = container_of(io, struct conn, io);
    switch (c->state) {
    case CONN_CONNECTING: {
        if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
        int rc = conn_connect_result(c);
        if (rc < 0) {
            conn_fail_connect(c, -rc);
            return;
        }
        if (c->w->cfg->url.tls) {
            c->state = CONN_HANDSHAKE;
            conn_handshake_step(c);
        } else {
            conn_ready(c);
        }
        return;
    }
    case CONN_HANDSHAKE: conn_handshake_step(c); return;
    case CONN_BUSY:
        if (c->written < c->wlen) conn_write(c);
        if (c->state == CONN_BUSY && c->written == c->wlen) conn_read(c);
        return;
    case CONN_IDLE:
    case CONN_PACING:
        if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) conn_idle_event(c);
        return;
    default: return;
    }
}

/* A connection's timer: request deadline, pacing or backoff. */
static void on_conn_timer(struct timer *t, uint64_t now)
{
    struct conn *c = container_of(t, struct conn, timer);
    struct worker *w = c->w;
    (void)now;
    if (c->state == CONN_PACING) {
        conn_send(c);
        return;
    }
    if (c->state == CONN_BACKOFF) {
        c->state = CONN_FREE;
        if (c->has_req) closed_next(w, c);
        else {
            w->free_stack[w->nfree++] = c;
            closed_next(w, NULL);
        }
        return;
    }
    if (!c->has_req) return;
    recorder_timeout(&w->rec, c->req.group, w->cfg->timeout_ns, c->req.t_intended_ns);
    struct interval *iv = cur_interval(w);
    iv->done++;
    iv->errors++;
    hist_record_clamped(&iv->latency, ns_to_us(w->cfg->timeout_ns));
    drop_req(c);
    conn_close(c, BY_US, false);
    after_request(w, NULL);
}

/* Opens connection slot c for its request (or none). False if it failed at once. */
static bool conn_start(struct worker *w, struct conn *c)
{
    int rc = conn_socket_open(c, &w->cfg->url);
    c->t_open_ns = clock_now_ns();
    if (rc == 0 && (rc = loop_add(&w->loop, &c->io, EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP)) < 0)
        conn_close_fd(c);
    if (rc < 0) {
        c->state = CONN_CONNECTING; /* so conn_fail counts a connect error */
        c->io.fd = -1;
        conn_fail_connect(c, -rc);
        return false;
    }
    c->state = CONN_CONNECTING;
    c->served = 0;
    w->nopen++;
    if (w->nopen > w->pool.max_open) w->pool.max_open = w->nopen;
    timer_arm(&w->loop, &c->timer, req_deadline(c));
    return true;
}

/* Counts the time p waited for a connection, if it had to. */
static void note_wait(struct worker *w, const struct pending *p, uint64_t now)
{
    if (now <= p->t_ready_ns) return;
    w->pool.wait_count++;
    w->pool.wait_ns += now - p->t_ready_ns;
}

/* Turns backlog entries older than the timeout into timeouts. */
static void backlog_expire(struct worker *w, uint64_t now)
{
    const struct pending *head;
    while ((head = backlog_peek(&w->backlog)) && head->t_intended_ns + w->cfg->timeout_ns <= now) {
        struct pending p;
        backlog_pop(&w->backlog, &p);
        recorder_timeout(&w->rec, p.group, w->cfg->timeout_ns, p.t_intended_ns);
        struct interval *iv = cur_interval(w);
        iv->done++;
        iv->errors++;
        hist_record_clamped(&iv->latency, ns_to_us(w->cfg->timeout_ns));
    }
}

/* Open model: hands backlog entries to idle or new connections. */
static void pump(struct worker *w, uint64_t now)
{
    if (w->in_pump) {
        w->pump_again = true;
        return;
    }
    w->in_pump = true;
    do {
        w->pump_again = false;
        backlog_expire(w, now);
        struct pending p;
        while (w->backlog.len) {
            struct conn *c = w->idle_head;
            if (c) {
                idle_unlink(w, c);
            } else if (w->nfree > 0 && !atomic_load_explicit(&w->stop, memory_order_relaxed)) {
                c = w->free_stack[--w->nfree];
            } else {
                break;
            }
            backlog_pop(&w->backlog, &p);
            note_wait(w, &p, now);
            c->req = p;
            c->has_req = true;
            w->nbusy++;
            if (c->state == CONN_IDLE) conn_send(c);
            else conn_start(w, c);
        }
    } while (w->pump_again);
    w->in_pump = false;
    const struct pending *head = backlog_peek(&w->backlog);
    if (head) timer_arm(&w->loop, &w->backlog_timer, head->t_intended_ns + w->cfg->timeout_ns);
    else timer_disarm(&w->loop, &w->backlog_timer);
}

/* Takes the next arrival of this worker's share, or marks the schedule done. */
static void schedule_advance(struct worker *w)
{
    uint64_t due, index;
    if (!schedule_next(&w->sched, &due, &index)) {
        w->sched_done = true;
        return;
    }
    w->next_due_ns = w->start_ns + due;
    w->next_index = index;
}

/* Open model: every arrival due by now enters the backlog, then pump. */
static void on_sched_timer(struct timer *t, uint64_t now)
{
    struct worker *w = container_of(t, struct worker, sched_timer);
    while (!w->sched_done && w->next_due_ns <= now) {
        if (reqgen_exhausted(w->cfg->gen, w->next_index)) {
            /* --pick once used every row: this arrival and the rest are not sent. */
            w->rec.scheduled++;
            w->rec.unsent++;
            w->data_exhausted = true;
            w->sched_done = true;
            break;
        }
        struct pending p = {.t_intended_ns = w->next_due_ns, .t_ready_ns = now, .index = w->next_index,
                            .group = reqgen_group(w->cfg->gen, w->next_index)};
        int64_t lag_us = ns_to_us(now - p.t_intended_ns);
        hist_record_clamped(&w->rec.send_lag, lag_us);
        struct interval *iv = cur_interval(w);
        if ((uint64_t)lag_us > iv->lag_max_us) iv->lag_max_us = (uint64_t)lag_us;
        if ((uint64_t)lag_us * 1000 > w->cfg->max_lag_ns) iv->late++;
        w->rec.scheduled++;
        backlog_push(&w->backlog, &p);
        schedule_advance(w);
    }
    pump(w, now);
    if (!w->sched_done) timer_arm(&w->loop, &w->sched_timer, w->next_due_ns);
}

/* The backlog head timed out. */
static void on_backlog_timer(struct timer *t, uint64_t now)
{
    pump(container_of(t, struct worker, backlog_timer), now);
}

/*
 * Closed model: gives connection c (idle, or a FREE slot holding a request,
 * or NULL for any free slot) its next request.
 */
static void closed_next(struct worker *w, struct conn *c)
{
    if (atomic_load_explicit(&w->stop, memory_order_relaxed)) return;
    uint64_t now = clock_now_ns();
    if (!c || !c->has_req) {
        struct pending p = {.t_ready_ns = now};
        if (w->sched_done) return;
        if (w->cfg->rate > 0) {
            uint64_t due;
            if (!schedule_next(&w->sched, &due, &p.index)) {
                w->sched_done = true;
                return;
            }
            p.t_intended_ns = w->start_ns + due;
        } else {
            if (now >= w->end_ns) {
                w->sched_done = true;
                return;
            }
            p.index = w->next_index++;
            p.t_intended_ns = now;
        }
        if (reqgen_exhausted(w->cfg->gen, p.index)) {
            w->data_exhausted = true;
            w->sched_done = true;
            return;
        }
        p.group = reqgen_group(w->cfg->gen, p.index);
        if (!c) {
            if (w->nfree == 0) return;
            c = w->free_stack[--w->nfree];
        } else {
            idle_unlink(w, c);
        }
        w->rec.scheduled++;
        c->req = p;
        c->has_req = true;
        w->nbusy++;
    }
    if (c->state == CONN_FREE) {
        conn_start(w, c);
    } else if (w->cfg->rate > 0 && c->req.t_intended_ns > now) {
        c->state = CONN_PACING;
        timer_arm(&w->loop, &c->timer, c->req.t_intended_ns);
    } else {
        conn_send(c);
    }
}

/* Publishes the finished second to the main thread and starts the next. */
static void on_second_timer(struct timer *t, uint64_t now)
{
    struct worker *w = container_of(t, struct worker, second_timer);
    (void)now;
    struct interval *iv = cur_interval(w);
    iv->inflight = w->nbusy;
    iv->conns = w->nopen;
    iv->backlog = w->backlog.len;
    w->cur_sec++;
    atomic_store_explicit(&w->seconds_published, w->cur_sec, memory_order_release);
    /* Pairs with the main thread's release after it reset a slot. */
    (void)atomic_load_explicit(&w->seconds_consumed, memory_order_acquire);
    timer_arm(&w->loop, &w->second_timer, w->start_ns + (w->cur_sec + 1) * NS_PER_S);
}

/* The stop eventfd became readable. */
static void on_wake(struct loop_io *io, uint32_t events)
{
    uint64_t v;
    (void)events;
    if (read(io->fd, &v, sizeof(v)) < 0) return;
}

int worker_init(struct worker *w, const struct run_config *cfg, uint32_t id, uint64_t start_ns)
{
    memset(w, 0, sizeof(*w));
    w->id = id;
    w->cfg = cfg;
    w->transport = cfg->url.tls ? &transport_tls : &transport_plain;
    w->start_ns = start_ns;
    w->end_ns = start_ns + cfg->duration_ns;
    w->hard_end_ns = w->end_ns + cfg->timeout_ns + 2 * NS_PER_S;
    int rc = loop_init(&w->loop, cfg->spin_ns);
    if (rc < 0) return rc;
    if (!cfg->closed || cfg->rate > 0) {
        struct schedule_cfg sc = {.arrival = cfg->arrival, .rate = cfg->rate, .duration_ns = cfg->duration_ns,
                                  .start_rate = cfg->start_rate, .stages = cfg->nstages ? cfg->stages : NULL,
                                  .nstages = cfg->nstages, .seed = cfg->seed, .shard = cfg->shard,
                                  .nshards = cfg->nshards, .thread = id, .nthreads = cfg->threads};
        if ((rc = schedule_init(&w->sched, &sc)) < 0) return rc;
    }
    w->conn_cap = cfg->connections / cfg->threads + (id < cfg->connections % cfg->threads);
    w->conns = calloc(w->conn_cap ? w->conn_cap : 1, sizeof(*w->conns));
    w->free_stack = calloc(w->conn_cap ? w->conn_cap : 1, sizeof(*w->free_stack));
    if (!w->conns || !w->free_stack) abort();
    for (uint32_t i = w->conn_cap; i-- > 0;) {
        struct conn *c = &w->conns[i];
        c->w = w;
        c->io.fd = -1;
        c->io.on_event = on_conn_event;
        timer_init(&c->timer, on_conn_timer);
        w->free_stack[w->nfree++] = c;
    }
    backlog_init(&w->backlog, 1024);
    if (!(w->scratch = malloc(WORKER_SCRATCH_SIZE))) abort();
    recorder_init(&w->rec, cfg->gen->nnames);
    recorder_windows(&w->rec, start_ns, cfg->chaos_spans, cfg->nchaos_spans);
    for (int i = 0; i < WORKER_SLOTS; i++) interval_init(&w->slots[i]);
    timer_init(&w->sched_timer, on_sched_timer);
    timer_init(&w->backlog_timer, on_backlog_timer);
    timer_init(&w->second_timer, on_second_timer);
    w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->wake_fd < 0) return -errno;
    w->wake_io = (struct loop_io){.fd = w->wake_fd, .on_event = on_wake};
    return loop_add(&w->loop, &w->wake_io, EPOLLIN);
}

/* True once every arrival has an outcome. */
static bool worker_finished(const struct worker *w)
{
    return w->sched_done && w->backlog.len == 0 && w->nbusy == 0;
}

/* Ends the run of w: what is still pending gets its outcome, sockets close. */
static void worker_finish(struct worker *w)
{
    bool interrupted = atomic_load(&w->stop);
    struct pending p;
    while (backlog_pop(&w->backlog, &p)) {
        if (interrupted) w->rec.unsent++;
        else recorder_timeout(&w->rec, p.group, w->cfg->timeout_ns, p.t_intended_ns);
    }
    for (uint32_t i = 0; i < w->conn_cap; i++) {
        struct conn *c = &w->conns[i];
        if (c->has_req) {
            if (c->state == CONN_PACING || c->state == CONN_BACKOFF) w->rec.unsent++;
            else if (interrupted) recorder_failure(&w->rec, c->req.group, ERR_INTERRUPTED, c->req.t_intended_ns);
            else recorder_timeout(&w->rec, c->req.group, w->cfg->timeout_ns, c->req.t_intended_ns);
            drop_req(c);
        }
        if (c->state == CONN_IDLE) w->pool.idle++;
        if (c->state != CONN_FREE) conn_close(c, BY_US, true);
    }
    w->interrupted = interrupted;
    w->pool.backlog_max = w->backlog.max_len;
}

/*
 * Nanoseconds this thread has waited on a run queue for a CPU (field 2 of
 * /proc/thread-self/schedstat); 0 when the kernel does not say.
 */
static uint64_t runq_wait_ns(void)
{
    FILE *f = fopen("/proc/thread-self/schedstat", "r");
    unsigned long long run = 0, wait = 0;
    if (!f) return 0;
    if (fscanf(f, "%llu %llu", &run, &wait) != 2) wait = 0;
    fclose(f);
    return wait;
}

/* The thread body: run the loop until every arrival has an outcome. */
static void *worker_main(void *arg)
{
    struct worker *w = arg;
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0); /* wake-ups within ~µs, not 50 µs */
    uint64_t cpu0 = clock_thread_cpu_ns(), wait0 = runq_wait_ns();
    while (clock_now_ns() < w->start_ns && !atomic_load(&w->stop)) loop_run_once(&w->loop, w->start_ns);
    if (!w->cfg->closed) {
        schedule_advance(w);
        if (!w->sched_done) timer_arm(&w->loop, &w->sched_timer, w->next_due_ns);
    } else {
        for (uint32_t i = 0; i < w->conn_cap; i++) closed_next(w, NULL);
    }
    timer_arm(&w->loop, &w->second_timer, w->start_ns + NS_PER_S);
    while (!atomic_load_explicit(&w->stop, memory_order_relaxed) && !worker_finished(w)) {
        if (clock_now_ns() >= w->hard_end_ns) break;
        int rc = loop_run_once(&w->loop, w->hard_end_ns);
        if (rc < 0) {
            w->rc = rc;
            break;
        }
    }
    worker_finish(w);
    w->wall_ns = clock_now_ns() - w->start_ns;
    w->cpu_ns = clock_thread_cpu_ns() - cpu0;
    w->spin_ns = w->loop.spin_total_ns;
    w->runq_wait_ns = runq_wait_ns() - wait0;
    struct interval *iv = cur_interval(w);
    iv->inflight = 0;
    iv->conns = 0;
    atomic_store_explicit(&w->seconds_published, w->cur_sec + 1, memory_order_release);
    atomic_store_explicit(&w->finished, true, memory_order_release);
    return NULL;
}

int worker_start(struct worker *w)
{
    int rc = pthread_create(&w->thread, NULL, worker_main, w);
    return rc ? -rc : 0;
}

void worker_stop(struct worker *w)
{
    atomic_store(&w->stop, true);
    uint64_t one = 1;
    if (write(w->wake_fd, &one, sizeof(one)) < 0) return;
}

void worker_join(struct worker *w) { pthread_join(w->thread, NULL); }

void worker_release(struct worker *w)
{
    if (!w) return;
    for (uint32_t i = 0; w->conns && i < w->conn_cap; i++) {
        free(w->conns[i].rbuf);
        free(w->conns[i].wbuf);
    }
    free(w->conns);
    free(w->free_stack);
    free(w->scratch);
    backlog_release(&w->backlog);
    recorder_release(&w->rec);
    for (int i = 0; i < WORKER_SLOTS; i++) interval_release(&w->slots[i]);
    schedule_release(&w->sched);
    if (w->wake_fd >= 0) close(w->wake_fd);
    loop_release(&w->loop);
}

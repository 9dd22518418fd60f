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
 * request when the previous one completes (engine_closed.c).
 *
 * Hot path: timer → pump → write → read → parse → record; no malloc, no
 * locks, no syscalls beyond epoll/read/write/clock. The connections
 * belong to the pool (pool.c); what happens on one connection (connect,
 * TLS, deadlines, outcome) is the state machine in conn.c, and what its
 * bytes mean is the protocol's (http1.c).
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
#include "load/script.h"
#include "load/http1.h"

/* Counts the time p waited for a connection, if it had to. */
static void note_wait(struct worker *w, const struct pending *p, uint64_t now)
{
    if (now <= p->t_ready_ns) return;
    w->pool.stats.wait_count++;
    w->pool.stats.wait_ns += now - p->t_ready_ns;
}

/* Turns backlog entries older than the timeout into timeouts. */
static void backlog_expire(struct worker *w, uint64_t now)
{
    const struct pending *head;
    while ((head = backlog_peek(&w->backlog)) && head->t_intended_ns + w->cfg->timeout_ns <= now) {
        struct pending p;
        backlog_pop(&w->backlog, &p);
        engine_record_lost(w, &p, ERR_TIMEOUT);
    }
}

/* Hands p to c: a free slot connects, a live connection sends (and is listed again while it has room). */
void engine_hand(struct worker *w, struct conn *c, const struct pending *p)
{
    conn_push(c, p);
    if (c->state == CONN_FREE) {
        conn_start(w, c);
    } else {
        conn_send(c);
        if (c->state == CONN_BUSY && conn_room(c) > 0) pool_give_back(&w->pool, c);
    }
}

/* Open model: hands backlog entries to idle or new connections. */
void engine_pump(struct worker *w, uint64_t now)
{
    if (w->in_pump) {
        w->pump_again = true;
        return;
    }
    w->in_pump = true;
    bool held = false;
    do {
        w->pump_again = false;
        backlog_expire(w, now);
        struct pending p;
        while (w->backlog.len) {
            struct conn *c = engine_pick_open(w, backlog_peek(&w->backlog), now, &held);
            if (!c) break; /* a retry waits for a connection where it will be answered */
            backlog_pop(&w->backlog, &p);
            note_wait(w, &p, now);
            engine_hand(w, c, &p);
        }
    } while (w->pump_again);
    w->in_pump = false;
    const struct pending *head = backlog_peek(&w->backlog);
    uint64_t expiry = head ? head->t_intended_ns + w->cfg->timeout_ns : 0;
    if (head)
        timer_arm(&w->loop, &w->backlog_timer,
                  held && w->h2_backoff.until_ns < expiry ? w->h2_backoff.until_ns : expiry);
    else
        timer_disarm(&w->loop, &w->backlog_timer);
}

/*
 * --pick once has used every row by the arrival at hand: the run ends for
 * this worker. With a schedule, that arrival and the rest of this worker's
 * share count as scheduled and unsent, so the outcomes still describe the
 * whole run that was asked for (docs/data.md).
 */
void engine_data_used_up(struct worker *w)
{
    w->data_exhausted = true;
    w->sched_done = true;
    if (!engine_uses_schedule(w->cfg)) return;
    uint64_t rest = 1 + schedule_rest(&w->sched, &w->stop);
    w->rec.scheduled += rest;
    w->rec.unsent += rest;
}

/*
 * Arrival p found BACKLOG_LIMIT requests already waiting for a connection:
 * the schedule is far ahead of what the pool or the server completes, and
 * keeping every such arrival would take memory without bound. It fails now,
 * never sent, so the outcomes still add up (docs/measurement.md).
 */
static void backlog_overflow(struct worker *w, const struct pending *p)
{
    engine_record_lost(w, p, ERR_BACKLOG_FULL);
    if (!w->first_error[0])
        snprintf(w->first_error, sizeof(w->first_error),
                 "backlog_full: %zu requests per thread were waiting for a connection, later arrivals were never sent",
                 BACKLOG_LIMIT);
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

/* Open model: every arrival due by now enters the backlog, then engine_pump. */
static void on_sched_timer(struct timer *t, uint64_t now)
{
    struct worker *w = container_of(t, struct worker, sched_timer);
    while (!w->sched_done && w->next_due_ns <= now) {
        if (w->script && script_thread_stopped(w->script)) {
            engine_script_stop(w);
            break;
        }
        if (reqgen_exhausted(w->cfg->gen, w->next_index)) {
            engine_data_used_up(w);
            break;
        }
        struct pending p = {.t_intended_ns = w->next_due_ns,
                            .t_ready_ns = now,
                            .index = w->next_index,
                            .group = reqgen_group(w->cfg->gen, w->next_index)};
        int64_t lag_us = ns_to_us(now - p.t_intended_ns);
        hist_record_clamped(&w->rec.send_lag, lag_us);
        struct interval *iv = cur_interval(w);
        hist_record_clamped(&iv->send_lag, lag_us);
        if ((uint64_t)lag_us > iv->lag_max_us) iv->lag_max_us = (uint64_t)lag_us;
        if (lag_us > ns_to_us(w->cfg->max_lag_ns)) iv->late++; /* as validity_figures counts */
        if (w->cfg->script_sessions) {
            engine_session_arrival(w, &p);
            schedule_advance(w);
            continue;
        }
        if (!w->script)
            w->rec.scheduled++;
        else if (!engine_script_arrival(w, &p)) {
            schedule_advance(w);
            continue;
        }
        if (!backlog_push(&w->backlog, &p)) backlog_overflow(w, &p);
        schedule_advance(w);
    }
    engine_pump(w, now);
    if (!w->sched_done) timer_arm(&w->loop, &w->sched_timer, w->next_due_ns);
}

/* The backlog head timed out. */
/* Connections whose responses waited for kept-body room go on, once room came back. */
static void on_budget_timer(struct timer *t, uint64_t now)
{
    http1_budget_grant(container_of(t, struct worker, budget_timer), now);
}

static void on_backlog_timer(struct timer *t, uint64_t now)
{
    struct worker *w = container_of(t, struct worker, backlog_timer);
    if (w->cfg->closed)
        engine_closed_next(w, NULL); /* a paced HTTP/2 arrival is due (closed_paced) */
    else
        engine_pump(w, now);
}

/* Publishes the finished second to the main thread and starts the next. */
static void on_second_timer(struct timer *t, uint64_t now)
{
    struct worker *w = container_of(t, struct worker, second_timer);
    (void)now;
    struct interval *iv = cur_interval(w);
    iv->inflight = w->pool.nbusy;
    iv->conns = w->pool.nopen;
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

/* A session added a step to the backlog. */
static void on_session_kick(struct timer *t, uint64_t now)
{
    engine_pump(container_of(t, struct worker, session_kick), now);
}

/* end_timer: nothing to do but wake the loop, which then sees worker_finished. */
static void on_end_timer(struct timer *t, uint64_t now)
{
    (void)t;
    (void)now;
}

int worker_init(struct worker *w, const struct run_config *cfg, uint32_t id, uint64_t start_ns)
{
    memset(w, 0, sizeof(*w));
    w->wake_fd = -1; /* worker_release after an early failure must not close fd 0 (stdin) */
    w->id = id;
    w->cfg = cfg;
    w->transport = cfg->url.tls ? &transport_tls : &transport_plain;
    w->proto = cfg->http_mode == HTTP_2C ? &h2_proto : &http1_proto;
    w->start_ns = start_ns;
    w->end_ns = start_ns + cfg->duration_ns;
    w->url = &cfg->url;
    w->script = script_thread_of(cfg->script, id);
    socklen_t alen;
    const struct sockaddr_storage *addr = script_thread_addr(w->script, &alen);
    if (addr) {
        /* setup() chose this thread's address (thread.addr): same Host and path, another peer. */
        w->url_own = cfg->url;
        memcpy(&w->url_own.addr, addr, sizeof(*addr));
        w->url_own.addr_len = alen;
        w->url = &w->url_own;
    }
    w->hard_end_ns = w->end_ns + cfg->timeout_ns + 2 * NS_PER_S;
    int rc = loop_init(&w->loop, cfg->spin_ns);
    if (rc < 0) return rc;
    if (cfg->spin_auto) loop_spin_auto(&w->loop, cfg->spin_budget > 0 ? cfg->spin_budget : RUN_SPIN_BUDGET);
    if (engine_uses_schedule(cfg)) {
        struct schedule_cfg sc = {.arrival = cfg->arrival,
                                  .rate = cfg->rate,
                                  .duration_ns = cfg->duration_ns,
                                  .start_rate = cfg->start_rate,
                                  /* with conn_ramp the stages count connections; -r is a flat cap */
                                  .stages = cfg->nstages && !cfg->conn_ramp ? cfg->stages : NULL,
                                  .nstages = cfg->conn_ramp ? 0 : cfg->nstages,
                                  .seed = cfg->seed,
                                  .shard = cfg->shard,
                                  .nshards = cfg->nshards,
                                  .thread = id,
                                  .nthreads = cfg->threads};
        if ((rc = schedule_init(&w->sched, &sc)) < 0) return rc;
    }
    uint32_t cap = cfg->connections / cfg->threads + (id < cfg->connections % cfg->threads);
    pool_init(&w->pool, &w->loop, cap, cfg->pipeline ? cfg->pipeline : 1); /* h2 grows a ring when it speaks */
    for (uint32_t i = 0; i < cap; i++)
        conn_setup(&w->pool.conns[i], w);
    backlog_init(&w->backlog, 1024);
    if (!(w->scratch = malloc(WORKER_SCRATCH_SIZE))) abort();
    recorder_init(&w->rec, cfg->gen->nnames);
    recorder_windows(&w->rec, start_ns, cfg->chaos_spans, cfg->nchaos_spans);
    for (int i = 0; i < WORKER_SLOTS; i++)
        interval_init(&w->slots[i], cfg->gen->nnames);
    timer_init(&w->sched_timer, on_sched_timer);
    timer_init(&w->backlog_timer, on_backlog_timer);
    timer_init(&w->budget_timer, on_budget_timer);
    /* Equal shares add up to at most the budget; run_cli made sure a share holds the largest body. */
    body_budget_init(&w->budget, cfg->check_body ? cfg->body_budget / cfg->threads : 0);
    timer_init(&w->second_timer, on_second_timer);
    timer_init(&w->end_timer, on_end_timer);
    timer_init(&w->ramp_timer, engine_closed_ramp);
    timer_init(&w->session_kick, on_session_kick);
    hist_init(&w->session_us, HIST_STD_LOWEST, HIST_STD_HIGHEST, HIST_STD_SIGFIG);
    w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->wake_fd < 0) return -errno;
    w->wake_io = (struct loop_io){.fd = w->wake_fd, .on_event = on_wake};
    return loop_add(&w->loop, &w->wake_io, EPOLLIN);
}

/*
 * True once every arrival has an outcome and the run's duration is over. A
 * schedule can end well before its duration (0.5/s for 2 s is one arrival
 * at 0 s), and a run that stopped then would report a 2 s run that lasted
 * 0.05 s: its seconds, rates and CPU shares would describe a run that did
 * not happen. Only used-up data (--pick once) ends a run early, and says so.
 */
static bool worker_finished(const struct worker *w)
{
    if (!w->sched_done || w->backlog.len != 0 || w->pool.nbusy != 0 || w->sessions_live != 0) return false;
    return w->cfg->closed || w->data_exhausted || w->script_stopped || clock_now_ns() >= w->end_ns;
}

/* Ends the run of w: what is still pending gets its outcome, sockets close. */
static void worker_finish(struct worker *w)
{
    bool interrupted = atomic_load(&w->stop);
    struct pending p;
    while (backlog_pop(&w->backlog, &p)) {
        for (uint32_t k = 0; k < pending_nreq(&p); k++)
            if (interrupted)
                w->rec.unsent++;
            else
                recorder_timeout(&w->rec, p.group, w->cfg->timeout_ns, p.t_intended_ns);
    }
    for (uint32_t i = 0; i < w->pool.cap; i++) {
        struct conn *c = &w->pool.conns[i];
        while (c->nstreams) {
            const struct pending *q = &conn_stream(c, 0)->req;
            for (uint32_t k = 0; k < pending_nreq(q); k++)
                if (c->state == CONN_PACING || c->state == CONN_BACKOFF)
                    w->rec.unsent++;
                else if (interrupted)
                    recorder_failure(&w->rec, q->group, ERR_INTERRUPTED, q->t_intended_ns);
                else
                    recorder_timeout(&w->rec, q->group, w->cfg->timeout_ns, q->t_intended_ns);
            conn_drop_stream(c);
        }
        if (c->state == CONN_IDLE) w->pool.stats.idle++;
        if (c->state != CONN_FREE) pool_close(&w->pool, c, BY_US, true);
    }
    engine_session_finish(w);
    w->interrupted = interrupted;
    w->pool.stats.backlog_max = w->backlog.max_len;
    w->rec.body_waits = w->budget.waits;
    w->rec.body_not_kept = w->budget.not_kept;
    w->rec.body_wait_ns_total = w->budget.wait_ns_total;
    w->rec.body_wait_ns_max = w->budget.wait_ns_max;
    w->rec.body_kept_peak = w->budget.peak;
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
    while (clock_now_ns() < w->start_ns && !atomic_load(&w->stop))
        loop_run_once(&w->loop, w->start_ns);
    /* CPU and run-queue time are counted from the common start, like wall time. */
    uint64_t cpu0 = clock_thread_cpu_ns(), wait0 = runq_wait_ns();
    if (w->script) script_thread_bind(w->script, &w->rec);
    if (!w->cfg->closed) {
        schedule_advance(w);
        if (!w->sched_done) timer_arm(&w->loop, &w->sched_timer, w->next_due_ns);
        timer_arm(&w->loop, &w->end_timer, w->end_ns);
    } else if (w->cfg->conn_ramp) {
        timer_arm(&w->loop, &w->ramp_timer, w->start_ns);
    } else {
        for (uint32_t i = 0; i < w->pool.cap; i++)
            engine_closed_next(w, NULL);
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

void worker_abandon(struct worker *w)
{
    atomic_store(&w->stop, true);
    worker_finish(w);
    w->interrupted = false;
    atomic_store_explicit(&w->seconds_published, w->cur_sec + 1, memory_order_release);
    atomic_store_explicit(&w->finished, true, memory_order_release);
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

void worker_join(struct worker *w)
{
    pthread_join(w->thread, NULL);
}

void worker_release(struct worker *w)
{
    if (!w) return;
    pool_release(&w->pool);
    free(w->scratch);
    backlog_release(&w->backlog);
    recorder_release(&w->rec);
    hist_release(&w->session_us);
    for (int i = 0; i < WORKER_SLOTS; i++)
        interval_release(&w->slots[i]);
    if (w->wake_fd >= 0) close(w->wake_fd);
    loop_release(&w->loop);
}

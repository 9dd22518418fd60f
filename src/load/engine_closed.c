/*
 * engine_closed.c — a worker's closed model (`--closed`, for comparison
 * only): each connection sends its next request when the previous one
 * completes; the intended time is the send time, so its latency hides
 * coordinated omission. With --rate the sends are paced by the same
 * schedule, like wrk2's -R; with --conn-stages the number of connections
 * ramps. The open model and the worker's loop are engine.c's.
 */
#include <stdio.h>

#include "core/clock.h"
#include "core/container.h"
#include "load/engine.h"
#include "load/reqgen.h"
#include "load/script.h"

/*
 * Closed model with --stages: the stages give the number of connections
 * over time (k6's ramping VUs); this worker's share of the target now.
 */
static uint32_t ramp_share(const struct worker *w, uint64_t now)
{
    const struct run_config *cfg = w->cfg;
    struct schedule_cfg sc = {
        .stages = cfg->stages, .nstages = cfg->nstages, .start_rate = cfg->start_rate, .nshards = 1, .nthreads = 1};
    uint64_t t = now > w->start_ns ? now - w->start_ns : 0;
    uint32_t total = (uint32_t)(schedule_rate_at(&sc, t) + 0.5);
    return total / cfg->threads + (w->id < total % cfg->threads);
}

/*
 * Closed ramp: the connections counting against its target, c aside (it
 * is the one asking whether it stays): the slots in use, less the HTTP/2
 * ones retiring (h2_retire). Not the streams in flight, which an HTTP/2
 * connection has many of.
 */
static uint32_t ramp_conns(const struct worker *w, const struct conn *c)
{
    uint32_t n = w->pool.cap - w->pool.nfree - w->h2_backoff.retiring;
    return c && n > 0 ? n - 1 : n;
}

/* Closed ramp: c (handed back, above the target) retires: closes if idle, over HTTP/2 once its streams end. */
static void ramp_retire(struct worker *w, struct conn *c)
{
    if (c->state == CONN_IDLE)
        pool_close(&w->pool, c, BY_US, false);
    else if (c->proto && c->proto->multiplexed)
        h2_retire(c);
}

/*
 * Closed ramp paced by --rate over HTTP/2: the due arrival p opens a new
 * connection while fewer than the target are open (so the connections
 * follow the stages as over HTTP/1.1, whatever the rate), else takes an
 * idle one, else a free stream of a busy one. NULL: it waits for a stream
 * to end, or for the ramp to rise (the 100 ms ramp tick calls again).
 */
static struct conn *ramp_pick(struct worker *w, const struct pending *p, uint64_t now, bool *held)
{
    if (p->retries > 0) return engine_pick_closed(w, p, now, held);
    struct conn *c = NULL;
    if (ramp_conns(w, NULL) < ramp_share(w, now)) c = pool_take_free(&w->pool);
    if (!c) c = pool_take_idle(&w->pool);
    if (!c) c = pool_take_room(&w->pool);
    return c;
}

/* Closed ramp: every 100 ms, open connections up to this worker's share. */
void engine_closed_ramp(struct timer *t, uint64_t now)
{
    struct worker *w = container_of(t, struct worker, ramp_timer);
    if (now >= w->end_ns) {
        w->sched_done = true;
        return;
    }
    uint32_t target = ramp_share(w, now);
    while (!w->sched_done && ramp_conns(w, NULL) < target && w->pool.nfree > 0) {
        uint32_t before = w->pool.nfree;
        engine_closed_next(w, NULL);
        if (w->pool.nfree == before) break;
    }
    if (!w->sched_done && now < w->end_ns) timer_arm(&w->loop, &w->ramp_timer, now + 100 * NS_PER_MS);
}

/*
 * Closed model without --rate: the next arrival's global index. No schedule
 * numbers these arrivals, so all threads draw from one counter (rows and
 * targets then follow one sequence, and --pick once sends each row once),
 * and shard s of S takes i ≡ s (mod S) as in the open model.
 */
static uint64_t closed_index(const struct worker *w)
{
    return w->cfg->shard + reqgen_claim(w->cfg->gen) * w->cfg->nshards;
}

/*
 * Closed model: the next request for c (NULL: a free slot), into *p. A
 * request the server closed on without answering (resubmitted to the
 * backlog, pipelining only) goes first where c may take it
 * (conn_takes_retry); otherwise the next arrival
 * of the loop or of the --rate schedule. False when there is none.
 */
static bool closed_request(struct worker *w, struct conn *c, struct pending *p, uint64_t now)
{
    if (w->backlog.len && (!c || conn_takes_retry(c)) && backlog_pop(&w->backlog, p)) return true;
    *p = (struct pending){.t_ready_ns = now};
    if (w->sched_done) return false;
    if (w->cfg->rate > 0) {
        uint64_t due;
        if (!schedule_next(&w->sched, &due, &p->index)) {
            w->sched_done = true;
            return false;
        }
        p->t_intended_ns = w->start_ns + due;
    } else {
        if (now >= w->end_ns) {
            w->sched_done = true;
            return false;
        }
        p->index = closed_index(w);
        p->t_intended_ns = now;
    }
    if (reqgen_exhausted(w->cfg->gen, p->index)) {
        engine_data_used_up(w);
        return false;
    }
    p->group = reqgen_group(w->cfg->gen, p->index);
    if (!w->script) {
        w->rec.scheduled++;
        return true;
    }
    if (engine_script_arrival(w, p) && !script_thread_stopped(w->script)) {
        w->script_fails = 0;
        return true;
    }
    /* A request() that fails every time would spin here: after 64 in a row this worker stops. */
    if (script_thread_stopped(w->script) || ++w->script_fails >= 64) {
        if (!script_thread_stopped(w->script) && !w->first_error[0])
            snprintf(w->first_error, sizeof(w->first_error), "request() failed 64 times in a row: the worker stopped");
        if (p->nreq) { /* thread:stop() in request(): this one is never sent */
            w->rec.unsent += pending_nreq(p);
            script_forget(w->script, p->index);
        }
        engine_script_stop(w);
        return false;
    }
    return closed_request(w, c, p, now);
}

/*
 * Closed model paced by --rate over HTTP/2 (docs/http2.md): no connection
 * waits on a paced request, since an h2 connection carries others and
 * reads frames meanwhile. The next arrival waits in the backlog (behind
 * any retry) on the backlog timer until it is due, then takes an idle
 * connection, else a new one (up to -c), else a free stream of a busy
 * one; with none free it is sent as the next stream ends. As with
 * HTTP/1.1, its latency counts from its send (conn_stamp_send).
 */
static void closed_paced(struct worker *w)
{
    while (!atomic_load_explicit(&w->stop, memory_order_relaxed)) {
        uint64_t now = clock_now_ns();
        struct pending p;
        if (!w->backlog.len) {
            if (!closed_request(w, NULL, &p, now)) return;
            backlog_push(&w->backlog, &p);
        }
        const struct pending *head = backlog_peek(&w->backlog);
        if (head->t_intended_ns > now) {
            timer_arm(&w->loop, &w->backlog_timer, head->t_intended_ns);
            return;
        }
        bool held = false;
        struct conn *c = w->cfg->conn_ramp ? ramp_pick(w, head, now, &held) : engine_pick_closed(w, head, now, &held);
        if (!c) return; /* every stream is busy: the next one to end takes it */
        backlog_pop(&w->backlog, &p);
        engine_hand(w, c, &p);
    }
}

/*
 * Closed model: gives connection c (idle, or busy with a free pipelined
 * stream slot, or a FREE slot holding a request, or NULL for any free
 * slot) its next request; with --pipeline it fills c up to its depth.
 */
void engine_closed_next(struct worker *w, struct conn *c)
{
    if (w->cfg->rate > 0 && w->cfg->http_mode != HTTP_1 && !(c && c->state == CONN_FREE && c->nstreams > 0)) {
        if (c && w->cfg->conn_ramp && ramp_conns(w, c) >= ramp_share(w, clock_now_ns())) ramp_retire(w, c);
        closed_paced(w);
        return;
    }
    for (;;) {
        bool holding = c && c->state == CONN_FREE && c->nstreams > 0;
        if (w->cfg->conn_ramp && !holding && ramp_conns(w, c) >= ramp_share(w, clock_now_ns())) {
            if (c) ramp_retire(w, c); /* above the ramp's target */
            return;
        }
        if (atomic_load_explicit(&w->stop, memory_order_relaxed)) return;
        uint64_t now = clock_now_ns();
        int64_t delay;
        if (!holding) {
            struct pending p;
            if (!c && w->pool.nfree == 0) return; /* no slot: the arrival stays for the next one */
            if (!closed_request(w, c, &p, now)) return;
            if (!c) {
                if (!(c = pool_take_free(&w->pool))) return;
            } else {
                pool_unlist(&w->pool, c);
            }
            conn_push(c, &p);
        }
        struct stream *s = conn_stream(c, c->nstreams - 1);
        if (c->state == CONN_FREE) {
            conn_start(w, c);
        } else if (w->cfg->rate > 0 && s->req.t_intended_ns > now) {
            c->state = CONN_PACING;
            timer_arm(&w->loop, &c->timer, s->req.t_intended_ns);
        } else if (w->cfg->script_delay && (delay = script_delay_ns(w->script)) > 0) {
            /* wrk's delay(): this connection waits before it sends (its latency counts from the send). */
            c->state = CONN_PACING;
            timer_arm(&w->loop, &c->timer, now + (uint64_t)delay);
        } else {
            conn_send(c);
        }
        if (c->state != CONN_BUSY || conn_room(c) == 0) return;
    }
}

/*
 * engine_script.c — what a worker does for --script (load/script.h): the
 * arrival's request() call, response() on a complete response,
 * thread:stop(), and the one place a lost request's outcome is recorded
 * (a script's arrival may stand for several pipelined requests, and its
 * bytes are let go with its outcome).
 */
#include <stdio.h>
#include <stdlib.h>

#include "load/check_stream.h"
#include "load/engine.h"
#include "load/script.h"

void engine_record_lost(struct worker *w, const struct pending *p, enum salvo_err err)
{
    for (uint32_t i = 0; i < pending_nreq(p); i++) {
        if (err == ERR_TIMEOUT) {
            recorder_timeout(&w->rec, p->group, w->cfg->timeout_ns, p->t_intended_ns);
            interval_done(cur_interval(w), p->group, ns_to_us(w->cfg->timeout_ns), true);
        } else {
            recorder_failure(&w->rec, p->group, err, p->t_intended_ns);
            interval_done(cur_interval(w), p->group, -1, true);
        }
    }
    if (w->script) script_forget(w->script, p->index);
    if (w->cfg->script_sessions && script_is_step(p->index)) engine_session_lost(w, p, err);
}

void engine_script_stop(struct worker *w)
{
    if (w->script_stopped) return;
    w->script_stopped = true;
    bool pre_advanced = !w->cfg->closed; /* the open model has taken its next arrival off the schedule */
    if (!w->sched_done && engine_uses_schedule(w->cfg)) {
        uint64_t rest = (pre_advanced ? 1 : 0) + schedule_rest(&w->sched, &w->stop);
        rest *= script_requests_per_call(w->cfg->script);
        w->rec.scheduled += rest;
        w->rec.unsent += rest;
    }
    w->sched_done = true;
}

bool engine_script_arrival(struct worker *w, struct pending *p)
{
    uint32_t n = 1;
    bool h2 = w->cfg->http_mode == HTTP_2 || w->cfg->http_mode == HTTP_2C;
    int rc = script_request(w->script, p->index, &n);
    if (rc == 0 && n > 1 && h2) {
        script_forget(w->script, p->index);
        script_thread_fail(w->script, "request() returned several requests: over HTTP/2 each call must return one");
        rc = -1;
    }
    if (rc < 0) {
        w->rec.scheduled++;
        recorder_failure(&w->rec, p->group, ERR_SCRIPT, p->t_intended_ns);
        interval_done(cur_interval(w), p->group, -1, true);
        return false;
    }
    p->nreq = (uint16_t)(n > UINT16_MAX ? UINT16_MAX : n);
    w->rec.scheduled += n;
    return true;
}

bool engine_script_response(struct worker *w, struct stream *s, int status, bool *check_failed)
{
    bool failed = script_response(w->script, status, s->kept, s->kept_len, s->resp.chunked, check_failed) < 0;
    if (!w->cfg->nchecks) {
        /* check_stream_judge resets the kept bytes otherwise. */
        if (s->kept_cap > CHECK_KEEP_REUSE) {
            free(s->kept);
            s->kept = NULL;
            s->kept_cap = 0;
        }
        check_stream_reset(s);
    }
    if (script_thread_stopped(w->script)) engine_script_stop(w);
    return failed;
}

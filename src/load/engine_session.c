/*
 * engine_session.c — a worker's sessions (`session(s)`, docs/scripting.md):
 * each arrival starts one on time; each step it asks for is a request
 * whose intended time is when it asked; its outcome resumes the session;
 * a sleep is a timer of the worker's loop. The session's duration
 * (session_us) runs from its *scheduled* start to the end of its last
 * step, so a server that froze shows there even when each step after the
 * freeze was fast.
 *
 * A session's outcome is the worst of its steps: completed (every step
 * answered, whatever the status), failed (a step failed, or the script
 * raised an error), timeout (a step timed out, or the run ended under it).
 */
#include <stdlib.h>

#include "core/clock.h"
#include "core/container.h"
#include "load/check_stream.h"
#include "load/engine.h"
#include "load/feeder.h"
#include "load/reqgen.h"
#include "load/script.h"

/* One running session; owned by its worker's list until it ends. */
struct session_rec {
    struct worker *w;
    uint64_t key, start_ns;
    uint32_t group;
    int worst; /* 0 completed, 1 failed, 2 timeout */
    struct timer sleep;
    struct timer deadline; /* --session-timeout */
    struct session_rec *prev, *next;
};

static void on_wake(struct timer *t, uint64_t now);
static void on_deadline(struct timer *t, uint64_t now);

static void rec_unlink(struct worker *w, struct session_rec *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        w->sessions_head = r->next;
    if (r->next) r->next->prev = r->prev;
    w->sessions_live--;
}

/* Carries out what session r wants next. */
static void handle(struct worker *w, struct session_rec *r, const struct script_step *st, uint64_t now)
{
    switch (st->what) {
    case SCRIPT_SESSION_STEP: {
        struct pending p = {
            .t_intended_ns = now, .t_ready_ns = now, .index = st->step, .group = st->group ? st->group - 1 : r->group};
        w->rec.scheduled++;
        if (!backlog_push(&w->backlog, &p)) {
            engine_record_lost(w, &p, ERR_BACKLOG_FULL);
            return;
        }
        timer_arm(&w->loop, &w->session_kick, now); /* the pump takes it from the backlog */
        return;
    }
    case SCRIPT_SESSION_SLEEP: timer_arm(&w->loop, &r->sleep, now + st->sleep_ns); return;
    case SCRIPT_SESSION_DONE:
    case SCRIPT_SESSION_ERROR:
        if (st->what == SCRIPT_SESSION_ERROR && r->worst == 0) r->worst = 1;
        if (r->worst == 0) {
            w->sessions.completed++;
            hist_record_clamped(&w->session_us, ns_to_us(now - r->start_ns));
        } else if (r->worst == 1) {
            w->sessions.failed++;
        } else {
            w->sessions.timeout++;
        }
        timer_disarm(&w->loop, &r->deadline);
        rec_unlink(w, r);
        free(r);
        return;
    }
}

void engine_session_arrival(struct worker *w, const struct pending *p)
{
    struct session_rec *r = calloc(1, sizeof(*r));
    if (!r) abort();
    r->w = w;
    r->key = p->index;
    r->start_ns = p->t_intended_ns;
    r->group = p->group;
    timer_init(&r->sleep, on_wake);
    timer_init(&r->deadline, on_deadline);
    if (w->cfg->session_timeout_ns) timer_arm(&w->loop, &r->deadline, r->start_ns + w->cfg->session_timeout_ns);
    r->next = w->sessions_head;
    if (r->next) r->next->prev = r;
    w->sessions_head = r;
    w->sessions_live++;
    w->sessions.scheduled++;
    struct script_step st;
    const struct reqgen *g = w->cfg->gen;
    uint64_t row = g && g->data ? picker_row(&g->picker, p->index) : PICK_NONE;
    script_session_start(w->script, p->index, r, g ? g->data : NULL, row, &st);
    handle(w, r, &st, clock_now_ns());
}

bool engine_session_answered(struct worker *w, struct stream *s, int status, bool failed)
{
    struct script_step st;
    const char *err = failed ? "script_error" : NULL;
    if (script_session_resume(w->script, s->req.index, status, s->kept, s->kept_len, s->resp.chunked, err, &st) < 0 ||
        !st.user)
        return false;
    struct session_rec *r = st.user;
    if (failed && r->worst < 1) r->worst = 1;
    bool check_failed = st.check_failed;
    handle(w, r, &st, clock_now_ns());
    return check_failed;
}

void engine_session_lost(struct worker *w, const struct pending *p, enum salvo_err err)
{
    struct script_step st;
    if (script_session_resume(w->script, p->index, 0, NULL, 0, false, salvo_err_name(err), &st) < 0 || !st.user) return;
    struct session_rec *r = st.user;
    int bad = err == ERR_TIMEOUT ? 2 : 1;
    if (bad > r->worst) r->worst = bad;
    handle(w, r, &st, clock_now_ns());
}

/* A sleep is over. */
static void on_wake(struct timer *t, uint64_t now)
{
    struct session_rec *r = container_of(t, struct session_rec, sleep);
    struct script_step st;
    if (script_session_wake(r->w->script, r->key, &st) < 0) st.what = SCRIPT_SESSION_ERROR;
    handle(r->w, r, &st, now);
}

/*
 * --session-timeout: the session ends now as a timeout. Its coroutine is
 * let go; a step still in flight keeps its own outcome, and finds no
 * session to resume.
 */
static void on_deadline(struct timer *t, uint64_t now)
{
    (void)now;
    struct session_rec *r = container_of(t, struct session_rec, deadline);
    struct worker *w = r->w;
    timer_disarm(&w->loop, &r->sleep);
    script_session_drop(w->script, r->key);
    w->sessions.timeout++;
    rec_unlink(w, r);
    free(r);
}

void engine_session_finish(struct worker *w)
{
    while (w->sessions_head) {
        struct session_rec *r = w->sessions_head;
        timer_disarm(&w->loop, &r->sleep);
        timer_disarm(&w->loop, &r->deadline);
        w->sessions.timeout++; /* the run ended under it */
        rec_unlink(w, r);
        free(r);
    }
}
